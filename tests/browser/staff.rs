//! Each demo role signs in through the real form and opens the pages it has.

use samskap::core::domain::UserRole;
use samskap::tools::demo::DemoAccount;

use crate::axe;
use crate::demo_app::DemoApp;
use crate::driver::Browser;

/// Where each demo role starts after signing in: its own page.
fn landing(demo: &DemoApp, role: UserRole) -> String {
    match role {
        UserRole::Admin => "/admin/waves".to_owned(),
        UserRole::Manager => format!("/services/{}", demo.manager_service.code),
        UserRole::Policymaker => format!("/regions/{}", demo.region.0),
        UserRole::Researcher => "/exports".to_owned(),
    }
}

/// Signs in through the login form, checks where the account lands and that the header
/// names it.
pub async fn sign_in(browser: &Browser, demo: &DemoApp, role: UserRole) {
    let account = demo.account(role);
    browser.goto("/login").await;
    browser.fill("#email", &account.email).await;
    browser.fill("#password", &account.password).await;
    browser
        .click_and_load("form[action='/login'] button[type='submit']")
        .await;
    assert_eq!(
        browser.path().await,
        landing(demo, role),
        "{} lands on their own page",
        account.email
    );
    assert_eq!(
        browser.text("header a[href='/me']").await,
        account.email,
        "the header names the signed-in account"
    );
    // Managers and policymakers get back to their own page from the navigation.
    if matches!(role, UserRole::Manager | UserRole::Policymaker) {
        browser.goto("/").await;
        browser.click_and_load("header a[href='/mine']").await;
        assert_eq!(
            browser.path().await,
            landing(demo, role),
            "the navigation's own-page link"
        );
    }
}

/// Signs out with the header's button (on the home page: error pages have none).
pub async fn sign_out(browser: &Browser) {
    browser.goto("/").await;
    browser
        .click_and_load("header form[action='/logout'] button[type='submit']")
        .await;
    assert_eq!(browser.path().await, "/");
    assert_eq!(
        browser.find_all("header a[href='/login']").await.len(),
        1,
        "signed out: the header offers sign-in"
    );
}

/// The account page shows the account.
async fn account_page(browser: &Browser, account: &DemoAccount, step: &str) {
    browser.goto("/").await;
    browser.click_and_load("header a[href='/me']").await;
    assert_eq!(browser.path().await, "/me");
    let facts = browser.text("dl.facts").await;
    assert!(facts.contains(&account.email), "{facts}");
    assert!(facts.contains(account.role.as_str()), "{facts}");
    browser.screenshot(step).await;
}

/// A page the signed-in user may not open: the error page, and nothing of what is behind.
async fn refused(browser: &Browser, path: &str, secret: &str, step: &str) {
    browser.goto(path).await;
    let text = browser.page_text().await;
    assert!(text.contains("403"), "{path} is refused: {text}");
    assert!(!text.contains(secret), "{path} shows nothing of {secret}");
    browser.screenshot(step).await;
}

#[actix_web::test]
async fn each_demo_role_signs_in_and_sees_its_pages() {
    let demo = DemoApp::spawn().await;
    let browser = Browser::start("staff", demo.address()).await;

    // A wrong password: the form says so, and stays accessible.
    browser.goto("/login").await;
    browser.screenshot("login").await;
    browser
        .fill("#email", &demo.account(UserRole::Admin).email)
        .await;
    browser.fill("#password", "not the password").await;
    browser
        .click_and_load("form[action='/login'] button[type='submit']")
        .await;
    assert_eq!(browser.path().await, "/login");
    assert_eq!(
        browser.find_all(".error-summary").await.len(),
        1,
        "an error summary"
    );
    browser.screenshot("login-error").await;
    axe::assert_accessible(&browser, "the login page with an error").await;

    // Admin: waves, one wave, users, audit log, account.
    let admin = demo.account(UserRole::Admin);
    sign_in(&browser, &demo, UserRole::Admin).await;
    browser.screenshot("admin-home").await;
    browser
        .click_and_load("header a[href='/admin/waves']")
        .await;
    assert_eq!(browser.path().await, "/admin/waves");
    let waves = browser.text("main table").await;
    for year in ["2024", "2025", "2026"] {
        assert!(waves.contains(&format!("Kartlegging {year}")), "{waves}");
    }
    browser.screenshot("admin-waves").await;
    let wave = &demo.open_wave;
    browser
        .click_and_load(&format!("main a[href='/admin/waves/{}']", wave.id))
        .await;
    let heading = browser.heading().await;
    assert!(heading.contains(&wave.name), "{heading}");
    assert!(
        browser.text("dl.facts").await.contains("open"),
        "the open wave says so"
    );
    browser.screenshot("admin-wave").await;
    browser
        .click_and_load("header a[href='/admin/users']")
        .await;
    let users = browser.text("main").await;
    for account in &demo.accounts {
        assert!(users.contains(&account.email), "{users}");
    }
    browser.screenshot("admin-users").await;
    browser
        .click_and_load("header a[href='/admin/audit']")
        .await;
    assert_eq!(browser.path().await, "/admin/audit");
    browser.screenshot("admin-audit").await;
    account_page(&browser, admin, "admin-me").await;
    sign_out(&browser).await;

    // Manager: their own service from the home page; another service is refused.
    let manager = demo.account(UserRole::Manager);
    let service = &demo.manager_service;
    sign_in(&browser, &demo, UserRole::Manager).await;
    browser.goto("/").await;
    let mine = browser.find_all(".mine a").await;
    assert_eq!(mine.len(), 1, "the manager's home lists their service");
    assert_eq!(mine[0].text().await.expect("text"), service.name);
    browser.screenshot("manager-home").await;
    browser.click_and_load(".mine a").await;
    assert_eq!(browser.path().await, format!("/services/{}", service.code));
    let heading = browser.heading().await;
    assert!(heading.contains(&service.name), "{heading}");
    browser.screenshot("manager-service").await;
    refused(
        &browser,
        &format!("/services/{}", demo.other_service.code),
        &demo.other_service.name,
        "manager-other-service",
    )
    .await;
    refused(&browser, "/admin/waves", &wave.name, "manager-admin").await;
    account_page(&browser, manager, "manager-me").await;
    sign_out(&browser).await;

    // Policymaker: their region from the home page, and a service in it.
    let policymaker = demo.account(UserRole::Policymaker);
    let (region_id, region_name) = &demo.region;
    sign_in(&browser, &demo, UserRole::Policymaker).await;
    browser.goto("/").await;
    let mine = browser.find_all(".mine a").await;
    assert_eq!(mine.len(), 1, "the policymaker's home lists their region");
    assert_eq!(&mine[0].text().await.expect("text"), region_name);
    browser.screenshot("policymaker-home").await;
    browser.click_and_load(".mine a").await;
    assert_eq!(browser.path().await, format!("/regions/{region_id}"));
    let heading = browser.heading().await;
    assert!(heading.contains(region_name.as_str()), "{heading}");
    browser.screenshot("policymaker-region").await;
    // The services are listed by county, folded: open the first county, follow a service.
    browser
        .click("main details:has(a[href^='/services/']) > summary")
        .await;
    let link = "main details[open] a[href^='/services/']";
    let href = browser
        .find(link)
        .await
        .attr("href")
        .await
        .expect("href")
        .expect("a link");
    browser.click_and_load(link).await;
    assert_eq!(browser.path().await, href);
    assert!(
        browser.find_all(".error-page").await.is_empty(),
        "the policymaker may open a service in their region"
    );
    browser.screenshot("policymaker-service").await;
    account_page(&browser, policymaker, "policymaker-me").await;
    sign_out(&browser).await;

    // Researcher: no service pages; an API token from the account page.
    let researcher = demo.account(UserRole::Researcher);
    sign_in(&browser, &demo, UserRole::Researcher).await;
    browser.screenshot("researcher-home").await;
    refused(
        &browser,
        &format!("/services/{}", service.code),
        &service.name,
        "researcher-service",
    )
    .await;
    account_page(&browser, researcher, "researcher-me").await;
    browser.fill("#token-name", "analysis laptop").await;
    browser
        .click_and_load("form[action='/me/tokens'] button[type='submit']")
        .await;
    assert!(
        browser.text("code.token").await.starts_with("samskap_"),
        "the new token is shown once"
    );
    browser.screenshot("researcher-token").await;
    sign_out(&browser).await;

    browser.close().await;
}
