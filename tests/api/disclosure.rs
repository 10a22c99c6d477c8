//! Disclosure crawl: on the demo data, a manager and a policymaker follow every link they
//! can reach (dashboards, reports, CSV downloads, other waves, drill-downs) and call the
//! results API for what they may see. No number on any of them rests on fewer than k
//! respondents: every "n = N" on a page, every shown cell in a JSON response and every
//! shown row of a CSV download has N ≥ k, and a hidden cell never carries a value.

use std::collections::{BTreeSet, VecDeque};

use samskap::demo::{self, DemoOptions};
use samskap::domain::{ScopeKind, UserRole};
use serde_json::Value;

use crate::auth_helpers::{create_user, signed_in};
use crate::helpers::spawn_app;

/// The threshold the app runs with here (the default).
const K: u64 = 5;
/// Enough for everything a manager or a policymaker of one health region can reach.
const MAX_PAGES: usize = 400;

fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|l| l.replace("&amp;", "&"))
        .filter(|l| l.starts_with('/') && !l.starts_with("//"))
        .filter(|l| !l.starts_with("/static/") && !l.starts_with("/s/") && !l.contains("lang="))
        .collect()
}

fn check_page(url: &str, html: &str) -> usize {
    let mut seen = 0;
    for piece in html.split("n = ").skip(1) {
        let digits: String = piece.chars().take_while(char::is_ascii_digit).collect();
        if let Ok(n) = digits.parse::<u64>() {
            assert!(n >= K, "{url}: a number on n = {n} < {K}");
            seen += 1;
        }
    }
    seen
}

/// Every `{"status": …}` object: shown ones have n ≥ k, hidden ones have no value or n.
fn check_json(url: &str, v: &Value) -> usize {
    let mut seen = 0;
    match v {
        Value::Object(map) => {
            match map.get("status").and_then(Value::as_str) {
                Some("shown") => {
                    let n = map.get("n").and_then(Value::as_u64).unwrap_or(0);
                    assert!(n >= K, "{url}: a shown cell on n = {n}: {v}");
                    seen += 1;
                }
                Some("suppressed" | "empty") => {
                    assert!(
                        !map.contains_key("value") && !map.contains_key("n"),
                        "{url}: a hidden cell carries numbers: {v}"
                    );
                }
                _ => {}
            }
            for child in map.values() {
                seen += check_json(url, child);
            }
        }
        Value::Array(items) => {
            for child in items {
                seen += check_json(url, child);
            }
        }
        _ => {}
    }
    seen
}

fn check_csv(url: &str, text: &str) -> usize {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let status = header.iter().position(|h| *h == "status");
    let n = header.iter().position(|h| *h == "n");
    let mean = header.iter().position(|h| *h == "mean");
    let (Some(status), Some(n), Some(mean)) = (status, n, mean) else {
        return 0;
    };
    let mut seen = 0;
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        match fields.get(status).copied() {
            Some("shown") => {
                let count: u64 = fields[n].parse().unwrap_or(0);
                assert!(count >= K, "{url}: a shown row on n = {count}: {line}");
                seen += 1;
            }
            Some(_) => assert!(
                fields[mean].is_empty(),
                "{url}: a hidden row with a mean: {line}"
            ),
            None => {}
        }
    }
    seen
}

async fn crawl(client: &reqwest::Client, base: &str, start: &[String]) -> (usize, usize) {
    let mut queue: VecDeque<String> = start.iter().cloned().collect();
    let mut visited = BTreeSet::new();
    let mut cells = 0;
    while let Some(path) = queue.pop_front() {
        if !visited.insert(path.clone()) || visited.len() > MAX_PAGES {
            continue;
        }
        let res = client
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("get");
        let status = res.status().as_u16();
        assert!(
            status == 200 || status == 403 || status == 404,
            "{path}: {status}"
        );
        if status != 200 {
            continue;
        }
        let kind = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = res.text().await.expect("body");
        if kind.starts_with("application/json") {
            let v: Value = serde_json::from_str(&body).expect("json");
            cells += check_json(&path, &v);
        } else if kind.starts_with("text/csv") {
            cells += check_csv(&path, &body);
        } else if kind.starts_with("text/html") {
            cells += check_page(&path, &body);
            for link in links(&body) {
                if !visited.contains(&link) {
                    queue.push_back(link);
                }
            }
        }
    }
    assert!(
        visited.len() <= MAX_PAGES + 1,
        "the crawl did not finish: raise MAX_PAGES"
    );
    (visited.len(), cells)
}

#[actix_web::test]
async fn no_output_a_manager_or_policymaker_reaches_rests_on_fewer_than_k() {
    let app = spawn_app().await;
    let (manager_service, waves) = {
        let conn = &mut app.db.connect();
        let keys =
            samskap::crypto::DerivedKeys::new(&app.db.settings().secret_key().expect("secret"));
        demo::load_full(conn, &keys, DemoOptions::default(), None, |_| {}).expect("demo");
        let accounts = demo::ensure_accounts(conn).expect("accounts");
        let manager = accounts
            .iter()
            .find(|a| a.role == UserRole::Manager)
            .and_then(|a| a.sees.clone())
            .expect("the demo manager's service");
        let service = samskap::models::Service::all(conn)
            .expect("services")
            .into_iter()
            .find(|s| s.name == manager)
            .expect("service");
        let waves: Vec<String> = samskap::models::Wave::all(conn)
            .expect("waves")
            .into_iter()
            .map(|w| w.id.to_string())
            .collect();
        (service, waves)
    };
    create_user(
        &app,
        "crawl-manager@test.no",
        UserRole::Manager,
        &[(ScopeKind::Service, &manager_service.code)],
    );
    create_user(
        &app,
        "crawl-policymaker@test.no",
        UserRole::Policymaker,
        &[(ScopeKind::Region, "Helse Vest")],
    );
    let base = app.address.clone();

    let manager = signed_in(&app, "crawl-manager@test.no").await;
    let mut start = vec!["/".to_owned(), "/api/v1/waves".to_owned()];
    for w in &waves {
        start.push(format!(
            "/api/v1/waves/{w}/services/{}/results",
            manager_service.code
        ));
        start.push(format!(
            "/api/v1/waves/{w}/services/{}/benchmarks",
            manager_service.code
        ));
    }
    let (pages, cells) = crawl(&manager, &base, &start).await;
    assert!(
        pages > 10 && cells > 20,
        "the manager's crawl saw {pages} pages, {cells} cells"
    );

    let policymaker = signed_in(&app, "crawl-policymaker@test.no").await;
    let mut start = vec!["/".to_owned()];
    for w in &waves {
        start.push(format!("/api/v1/waves/{w}/regions"));
        start.push(format!("/api/v1/waves/{w}/psychometrics"));
    }
    let (pages, cells) = crawl(&policymaker, &base, &start).await;
    assert!(
        pages > 50 && cells > 100,
        "the policymaker's crawl saw {pages} pages, {cells} cells"
    );
}
