//! A real SMTP server on loopback for tests: Debian's python3-aiosmtpd, storing messages
//! in a Maildir.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct SmtpServer {
    pub port: u16,
    pub maildir: PathBuf,
    child: Option<Child>,
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

impl SmtpServer {
    pub fn start(maildir: &Path) -> Self {
        Self::start_on(free_port(), maildir)
    }

    /// Starts aiosmtpd on `port`, keeping mail in `maildir`, and waits until it listens.
    pub fn start_on(port: u16, maildir: &Path) -> Self {
        // aiosmtpd creates the Maildir (tmp/new/cur) itself when the folder does not exist.
        if let Some(parent) = maildir.parent() {
            std::fs::create_dir_all(parent).expect("maildir parent");
        }
        // aiosmtpd's Maildir handler, except that it refuses for good (550) every
        // recipient whose address starts with `bounce`, as a real server refuses a
        // mailbox that does not exist.
        let module = maildir
            .parent()
            .unwrap_or(maildir)
            .join("samskap_test_smtp");
        std::fs::create_dir_all(&module).expect("handler folder");
        std::fs::write(
            module.join("bouncing.py"),
            "from aiosmtpd.handlers import Mailbox\n\n\
             class Bouncing(Mailbox):\n\
             \x20   async def handle_RCPT(self, server, session, envelope, address, rcpt_options):\n\
             \x20       if address.startswith('bounce'):\n\
             \x20           return '550 5.1.1 No such user here'\n\
             \x20       envelope.rcpt_tos.append(address)\n\
             \x20       return '250 OK'\n",
        )
        .expect("handler module");
        let child = Command::new("/usr/bin/python3")
            .env("PYTHONPATH", &module)
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "bouncing.Bouncing",
            ])
            .arg(maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd (Debian package python3-aiosmtpd; .ci/run installs it)");
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            port,
            maildir: maildir.to_path_buf(),
            child: Some(child),
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Every message received so far: (recipient, subject, plain text).
    pub fn messages(&self) -> Vec<Mail> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(self.maildir.join(sub)) else {
                continue;
            };
            for entry in entries.flatten() {
                let raw = std::fs::read(entry.path()).expect("read message");
                let parsed = mailparse::parse_mail(&raw).expect("parse message");
                let header = |name: &str| {
                    parsed
                        .headers
                        .iter()
                        .find(|h| h.get_key().eq_ignore_ascii_case(name))
                        .map(mailparse::MailHeader::get_value)
                        .unwrap_or_default()
                };
                let text = parsed
                    .subparts
                    .iter()
                    .find(|p| p.ctype.mimetype == "text/plain")
                    .map_or_else(
                        || parsed.get_body().unwrap_or_default(),
                        |p| p.get_body().unwrap_or_default(),
                    );
                out.push(Mail {
                    to: header("To"),
                    subject: header("Subject"),
                    text,
                    message_id: header("Message-ID"),
                });
            }
        }
        out
    }

    /// Waits until at least `n` messages have arrived.
    pub fn wait_for(&self, n: usize) -> Vec<Mail> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} messages, got {}: {got:?}",
                got.len()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub message_id: String,
}

impl Mail {
    /// The questionnaire link in the message.
    pub fn link(&self) -> String {
        let start = self.text.find("http://").expect("a link in the message");
        self.text[start..]
            .split_whitespace()
            .next()
            .expect("link")
            .to_owned()
    }
}
