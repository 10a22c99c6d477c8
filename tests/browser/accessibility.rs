//! axe-core on the staff pages, signed in as the role that has each. The questionnaire's
//! pages are checked as they are answered (`respondent.rs`).

use samskap::core::domain::UserRole;

use crate::axe;
use crate::demo_app::DemoApp;
use crate::driver::Browser;
use crate::staff::{sign_in, sign_out};

/// Pages checked, one a line: who is signed in (`None`: nobody) and the path. In paths,
/// `{service}` is the demo manager's service code, `{other_service}` one they may not
/// see, `{region}` the demo policymaker's region id, `{wave}` the demo's open wave and
/// `{user}` the demo manager's user id.
/// Lines with the same role should stand together: each change of role signs in anew.
/// The browser keeps a `?lang=` choice in a cookie, so the pages after the first
/// `lang=nb` are in bokmål too; the administrator's pages come again at the end in bokmål.
const PAGES: &[(Option<UserRole>, &str)] = &[
    (None, "/login"),
    (None, "/"),
    (Some(UserRole::Admin), "/"),
    (Some(UserRole::Admin), "/admin/waves"),
    (Some(UserRole::Admin), "/admin/waves/{wave}"),
    (Some(UserRole::Admin), "/waves/{wave}/psychometrics"),
    (Some(UserRole::Admin), "/admin/users"),
    (Some(UserRole::Admin), "/admin/users/{user}"),
    (Some(UserRole::Admin), "/admin/audit"),
    (Some(UserRole::Admin), "/me"),
    (Some(UserRole::Manager), "/"),
    (Some(UserRole::Manager), "/services/{service}"),
    (Some(UserRole::Manager), "/services/{service}?lang=nb"),
    (
        Some(UserRole::Manager),
        "/reports/{wave}/services/{service}",
    ),
    (Some(UserRole::Manager), "/services/{other_service}"),
    (Some(UserRole::Policymaker), "/"),
    (Some(UserRole::Policymaker), "/regions/{region}"),
    (
        Some(UserRole::Policymaker),
        "/regions/{region}?role=manager&lang=nb",
    ),
    (Some(UserRole::Researcher), "/me"),
    (Some(UserRole::Researcher), "/exports"),
    (Some(UserRole::Admin), "/admin/waves?lang=nb"),
    (Some(UserRole::Admin), "/admin/waves/{wave}?lang=nb"),
    (Some(UserRole::Admin), "/admin/users?lang=nb"),
    (Some(UserRole::Admin), "/admin/users/{user}?lang=nb"),
    (Some(UserRole::Admin), "/admin/audit?lang=nb"),
    (Some(UserRole::Admin), "/me?lang=nb"),
];

#[actix_web::test]
async fn staff_pages_have_no_wcag_violations() {
    let demo = DemoApp::spawn().await;
    let browser = Browser::start("a11y", demo.address()).await;
    let fill = |path: &str| {
        path.replace("{service}", &demo.manager_service.code)
            .replace("{other_service}", &demo.other_service.code)
            .replace("{region}", &demo.region.0)
            .replace("{wave}", demo.open_wave.id.as_str())
            .replace("{user}", &demo.manager_id)
    };

    // The check itself can fail: a field without a label is reported.
    browser.goto("/login").await;
    browser
        .client()
        .execute(
            "document.querySelector('main').insertAdjacentHTML('beforeend', \
             '<input id=\"unlabelled\">');",
            vec![],
        )
        .await
        .expect("add a field");
    let found = axe::violations(&browser).await;
    assert!(
        found.iter().any(|v| v["id"] == "label"),
        "axe-core reports a field without a label: {}",
        axe::describe(&found)
    );

    let mut signed_in: Option<UserRole> = None;
    let mut failures = Vec::new();
    for (n, (role, path)) in PAGES.iter().enumerate() {
        if signed_in != *role {
            if signed_in.is_some() {
                sign_out(&browser).await;
            }
            if let Some(role) = role {
                sign_in(&browser, &demo, *role).await;
            }
            signed_in = *role;
        }
        let who = role.map_or("anonymous", |r| r.as_str());
        // Named after the line, not the ids filled in, so each run replaces the last.
        let slug: String = path
            .trim_matches('/')
            .chars()
            .filter(|c| !matches!(c, '{' | '}'))
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let slug = if slug.is_empty() { "home" } else { &slug };
        let path = fill(path);
        browser.goto(&path).await;
        browser.screenshot(&format!("{n:02}-{who}-{slug}")).await;
        // Styled: the site's stylesheet applied (a style the page's Content-Security-
        // Policy blocked would leave the browser's default serif font).
        let font = browser
            .client()
            .execute(
                "return getComputedStyle(document.body).fontFamily",
                Vec::new(),
            )
            .await
            .expect("the body's font");
        if !font.as_str().is_some_and(|f| f.contains("system-ui")) {
            failures.push(format!("{path} as {who}: unstyled (body font {font})"));
        }
        let found = axe::violations(&browser).await;
        if !found.is_empty() {
            failures.push(format!(
                "{path} as {who}: {} violation(s)\n{}",
                found.len(),
                axe::describe(&found)
            ));
        }
    }
    browser.close().await;
    assert!(
        failures.is_empty(),
        "accessibility violations (WCAG 2.1 A/AA, axe-core):\n\n{}",
        failures.join("\n")
    );
}
