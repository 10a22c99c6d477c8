//! axe-core in the page: WCAG 2.0 and 2.1, levels A and AA.

use std::fmt::Write as _;
use std::sync::LazyLock;

use serde_json::{Value, json};

use crate::driver::Browser;

/// The rule sets checked.
const TAGS: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

static AXE_SOURCE: LazyLock<String> = LazyLock::new(|| {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}\nThe accessibility checks need axe-core: run `npm ci` in the repository \
             (package.json pins it; .ci/run does this; needs Debian's `nodejs` and `npm`)",
            path.display()
        )
    })
});

/// Runs axe on the page the browser shows and returns its violations. Every `<details>`
/// is opened first, so what a person would see on expanding it is checked too.
pub async fn violations(browser: &Browser) -> Vec<Value> {
    let client = browser.client();
    client
        .execute(
            "document.querySelectorAll('details').forEach(d => { d.open = true; });",
            vec![],
        )
        .await
        .expect("open every <details>");
    let loaded = client
        .execute(
            &format!("{}\nreturn typeof window.axe;", *AXE_SOURCE),
            vec![],
        )
        .await
        .expect("inject axe-core");
    assert_eq!(loaded, json!("object"), "axe-core loaded into the page");
    let result = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})
               .then(r => done({violations: r.violations.map(v => ({
                   id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                   nodes: v.nodes.map(n => ({target: n.target, html: n.html,
                                             summary: n.failureSummary}))}))}),
                     e => done({error: String(e)}));",
            vec![json!(TAGS)],
        )
        .await
        .expect("run axe-core");
    if let Some(error) = result.get("error") {
        panic!("axe-core failed on {}: {error}", browser.path().await);
    }
    result["violations"]
        .as_array()
        .cloned()
        .expect("axe-core returns violations")
}

/// Every violation, readably: rule, impact, help and each failing node.
pub fn describe(violations: &[Value]) -> String {
    let mut out = String::new();
    for v in violations {
        let _ = writeln!(
            out,
            "- {} ({}): {}\n  {}",
            v["id"].as_str().unwrap_or("?"),
            v["impact"].as_str().unwrap_or("?"),
            v["help"].as_str().unwrap_or("?"),
            v["helpUrl"].as_str().unwrap_or(""),
        );
        for node in v["nodes"].as_array().into_iter().flatten() {
            let _ = writeln!(
                out,
                "    at {}\n       {}\n       {}",
                node["target"],
                node["html"].as_str().unwrap_or(""),
                node["summary"]
                    .as_str()
                    .unwrap_or("")
                    .replace('\n', "\n       "),
            );
        }
    }
    out
}

/// Fails the test if axe finds any WCAG 2.1 A/AA violation on the page shown; `label`
/// names the page in the message.
pub async fn assert_accessible(browser: &Browser, label: &str) {
    let found = violations(browser).await;
    assert!(
        found.is_empty(),
        "{label} ({}) has {} accessibility violation(s):\n{}",
        browser.path().await,
        found.len(),
        describe(&found)
    );
}
