use std::io::{BufRead as _, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::helpers::{TestDb, expected_backend};

/// The README's first command, end to end: `samskap serve --demo` prints a URL whose home
/// page lists the health regions, counties and demo services, and /healthz names the backend.
#[actix_web::test]
async fn serve_demo_prints_a_url_that_shows_the_demo() {
    let db = TestDb::new();
    let mut child = db
        .command(&["serve", "--demo", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start samskap");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(240);
    let mut printed = Vec::new();
    let url = loop {
        let line = rx.recv_timeout(deadline.saturating_duration_since(Instant::now()));
        let Ok(line) = line else {
            let _ = child.kill();
            panic!("no URL printed; output so far: {printed:?}");
        };
        if let Some(rest) = line.strip_prefix("Open ") {
            break rest
                .split_whitespace()
                .next()
                .expect("url")
                .trim_end_matches('/')
                .to_owned();
        }
        printed.push(line);
    };
    assert!(
        printed
            .iter()
            .any(|l| l.contains("Demo: loaded 300 services")),
        "{printed:?}"
    );

    let client = reqwest::Client::new();
    let home = client
        .get(format!("{url}/"))
        .send()
        .await
        .expect("home")
        .text()
        .await
        .expect("body");
    let health: serde_json::Value = client
        .get(format!("{url}/healthz"))
        .send()
        .await
        .expect("health")
        .json()
        .await
        .expect("json");
    // The database and its WAL and SHM files hold e-mail addresses, answers and password
    // hashes: nobody but the server's user may read them.
    let files: Vec<(String, u32)> = std::fs::read_dir(db.dir.path())
        .expect("database folder")
        .filter_map(Result::ok)
        .map(|e| {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = e.metadata().expect("metadata").permissions().mode();
            (e.file_name().to_string_lossy().into_owned(), mode)
        })
        .collect();
    let _ = child.kill();
    let _ = child.wait();
    if expected_backend() == "sqlite" {
        assert!(
            files.iter().any(|(name, _)| name == "samskap.db"),
            "{files:?}"
        );
    }
    for (name, mode) in &files {
        assert_eq!(mode & 0o077, 0, "{name} is readable by others: {mode:o}");
    }

    assert!(
        home.contains("Helse Midt-Norge") && home.contains("Trøndelag"),
        "regions listed"
    );
    assert!(home.contains("DPS "), "demo services listed");
    assert!(home.contains("<dd>300</dd>"), "300 services");
    assert_eq!(health["database"], expected_backend());
}
