//! chromedriver, started by the tests and shared by those running at the same time, and
//! one headless Chromium session per test with the few actions the tests need.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use base64::Engine as _;
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// Where screenshots (and chromedriver's log) go: `target/browser-artifacts/`.
pub fn artifacts_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .join("browser-artifacts");
    std::fs::create_dir_all(&dir).expect("create target/browser-artifacts");
    dir
}

/// A program the tests need: `$env` if set, else the first of `names` on the `PATH`.
/// Missing, the test fails and says which Debian package brings it.
fn program(env: &str, names: &[&str], package: &str) -> PathBuf {
    let found = if let Some(path) = std::env::var_os(env) {
        Some(PathBuf::from(path)).filter(|p| p.is_file())
    } else {
        let path = std::env::var_os("PATH").unwrap_or_default();
        names
            .iter()
            .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
            .find(|candidate| candidate.is_file())
    };
    found.unwrap_or_else(|| {
        panic!(
            "{} not found: the browser tests need Debian's `{package}` package \
             (apt-get install {package}; .ci/run installs it), or {env} naming the program",
            names[0]
        )
    })
}

/// A running chromedriver, ended when the last test using it drops it.
#[derive(Debug)]
pub struct Driver {
    child: Child,
    port: u16,
}

/// The chromedriver the running tests share; a test that finds none alive starts one.
static SHARED: Mutex<Weak<Driver>> = Mutex::new(Weak::new());

impl Driver {
    pub fn shared() -> Arc<Self> {
        let mut slot = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(driver) = slot.upgrade() {
            return driver;
        }
        let driver = Arc::new(Self::start());
        *slot = Arc::downgrade(&driver);
        driver
    }

    fn start() -> Self {
        let program = program("CHROMEDRIVER", &["chromedriver"], "chromium-driver");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = artifacts_dir().join("chromedriver.log");
        let mut child = Command::new(&program)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .arg("--append-log")
            .arg("--log-level=WARNING")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", program.display()));
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "chromedriver exited at start ({status}); its log, {}:\n{}",
                    log.display(),
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("chromedriver did not listen on port {port} within 20 s");
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        Self { child, port }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Asks chromedriver to quit, which also quits the browsers of sessions that a failed
    /// test left open.
    fn shutdown(&self) {
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = write!(
                stream,
                "GET /shutdown HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
                self.port
            );
            let _ = stream.read(&mut [0; 256]);
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.shutdown();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One headless Chromium session, for one test.
#[derive(Debug)]
pub struct Browser {
    client: Client,
    base: String,
    test: &'static str,
    driver: Arc<Driver>,
}

impl Browser {
    /// A new browser for the test `test` (names its screenshots), on the app at `base`.
    pub async fn start(test: &'static str, base: &str) -> Self {
        let chromium = program("CHROMIUM", &["chromium", "chromium-browser"], "chromium");
        let driver = Driver::shared();
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-dev-shm-usage",
                    "--window-size=1280,1000",
                    "--lang=en-US",
                    "--hide-scrollbars",
                    "--no-first-run",
                    "--disable-extensions",
                ],
                "prefs": {"intl.accept_languages": "en-US,en"},
            }),
        );
        // The browser's console, read by `console_errors` (CSP violations are logged
        // there as errors).
        caps.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&driver.url())
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "chromedriver could not start {}: {e}\n(needs Debian's `chromium` package \
                     of the same version as `chromium-driver`)",
                    chromium.display()
                )
            });
        Self {
            client,
            base: base.to_owned(),
            test,
            driver,
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Opens `path` on the app.
    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    /// The current path and query.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("current URL");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    pub async fn find(&self, css: &str) -> Element {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element,
            Err(e) => panic!("no `{css}` on {}: {e}", self.path().await),
        }
    }

    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find `{css}`: {e}"))
    }

    /// Clicks what `css` finds, as a person would (and waits for a page it loads).
    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("click `{css}`: {e}"));
    }

    /// Clicks what `css` finds and waits until the page it loads (a link followed, a form
    /// sent) is there. WebDriver's click alone may return before the new page replaces the
    /// old, and then the next look would still see the old one.
    pub async fn click_and_load(&self, css: &str) {
        self.client
            .execute("window.__samskapOldPage = true;", vec![])
            .await
            .expect("mark the page");
        self.click(css).await;
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let loaded = self
                .client
                .execute(
                    "return window.__samskapOldPage === undefined \
                     && document.readyState === 'complete';",
                    vec![],
                )
                .await;
            // A script may fail while the old page is being replaced: look again.
            if matches!(loaded, Ok(Value::Bool(true))) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "clicking `{css}` loaded no new page within 15 s (still {})",
                self.path().await
            );
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Types `text` into the field `css` finds, replacing what it held.
    pub async fn fill(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        element.clear().await.expect("clear field");
        element
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into `{css}`: {e}"));
    }

    /// The visible text of what `css` finds.
    pub async fn text(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .unwrap_or_else(|e| panic!("text of `{css}`: {e}"))
    }

    /// The page's main heading.
    pub async fn heading(&self) -> String {
        self.text("h1").await
    }

    /// All visible text of the page.
    pub async fn page_text(&self) -> String {
        self.text("body").await
    }

    /// Saves the whole page (not only the window) as
    /// `target/browser-artifacts/<test>-<step>.png`.
    pub async fn screenshot(&self, step: &str) -> PathBuf {
        let size = self
            .client
            .execute(
                "const e = document.documentElement; \
                 return [Math.max(e.scrollWidth, window.innerWidth), Math.max(e.scrollHeight, 1)];",
                vec![],
            )
            .await
            .expect("page size");
        let session = self
            .client
            .session_id()
            .await
            .expect("session id")
            .expect("a session");
        // WebDriver's own screenshot shows the window only; Chrome's DevTools command,
        // which chromedriver passes on, shows the whole page.
        let reply: Value = reqwest::Client::new()
            .post(format!(
                "{}/session/{session}/goog/cdp/execute",
                self.driver.url()
            ))
            .json(&json!({
                "cmd": "Page.captureScreenshot",
                "params": {
                    "format": "png",
                    "captureBeyondViewport": true,
                    "clip": {"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1},
                },
            }))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .expect("screenshot request")
            .json()
            .await
            .expect("screenshot reply is JSON");
        let data = reply["value"]["data"]
            .as_str()
            .unwrap_or_else(|| panic!("no screenshot in {reply}"));
        let png = base64::engine::general_purpose::STANDARD
            .decode(data)
            .expect("screenshot is base64");
        let path = artifacts_dir().join(format!("{}-{step}.png", self.test));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// The console's errors since the last call (chromedriver hands each entry out once):
    /// script errors, failed loads and Content-Security-Policy violations.
    pub async fn console_errors(&self) -> Vec<String> {
        let session = self
            .client
            .session_id()
            .await
            .expect("session id")
            .expect("a session");
        let reply: Value = reqwest::Client::new()
            .post(format!("{}/session/{session}/se/log", self.driver.url()))
            .json(&json!({"type": "browser"}))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .expect("console log request")
            .json()
            .await
            .expect("console log reply is JSON");
        reply["value"]
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .filter(|e| e["level"] == "SEVERE")
                    .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Ends the session and its browser.
    pub async fn close(self) {
        self.client.close().await.expect("close the browser");
    }
}
