use samskap::core::domain::{ScopeKind, UserRole};
use samskap::infra::models::{Region, Service};
use samskap::tools::demo::{self, DemoOptions};

use crate::auth_helpers::{
    PASSWORD, browser, create_user, csrf, csrf_in, post_form, signed_in, try_login,
};
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

fn audit_actions(app: &TestApp) -> Vec<(String, String)> {
    let conn = &mut app.db.connect();
    samskap::infra::models::AuditEntry::recent(conn, 1000)
        .expect("audit")
        .into_iter()
        .rev()
        .map(|e| (e.action, e.actor))
        .collect()
}

#[actix_web::test]
async fn sign_in_and_out() {
    let app = spawn_app().await;
    create_user(&app, "ola@test.no", UserRole::Researcher, &[]);
    let client = browser();
    assert_eq!(
        client
            .get(format!("{}/me", app.address))
            .send()
            .await
            .expect("get")
            .status(),
        303,
        "anonymous is sent to sign in"
    );

    let wrong = try_login(&app, &client, "ola@test.no", "not the password").await;
    assert_eq!(wrong.status(), 401);
    assert!(
        wrong
            .text()
            .await
            .expect("body")
            .contains("The e-mail address or the password is wrong.")
    );

    let ok = try_login(&app, &client, "OLA@test.no ", PASSWORD).await;
    assert_eq!(ok.status(), 303);
    let me = client
        .get(format!("{}/me", app.address))
        .send()
        .await
        .expect("get");
    assert_eq!(me.status(), 200);
    let html = me.text().await.expect("body");
    assert!(html.contains("ola@test.no"));

    let out = client
        .post(format!("{}/logout", app.address))
        .form(&[("_csrf", csrf_in(&html))])
        .send()
        .await
        .expect("logout");
    assert_eq!(out.status(), 303);
    assert_eq!(
        client
            .get(format!("{}/me", app.address))
            .send()
            .await
            .expect("get")
            .status(),
        303
    );

    let actions = audit_actions(&app);
    let names: Vec<&str> = actions.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(names, ["login.failure", "login.success", "logout"]);
    assert_eq!(actions[1].1, "ola@test.no");
}

#[actix_web::test]
async fn repeated_wrong_passwords_get_429() {
    let app = spawn_app().await;
    create_user(&app, "kari@test.no", UserRole::Manager, &[]);
    let client = browser();
    for attempt in 1..=5 {
        let res = try_login(&app, &client, "kari@test.no", "wrong password!").await;
        assert_eq!(res.status(), 401, "attempt {attempt}");
    }
    let res = try_login(&app, &client, "kari@test.no", PASSWORD).await;
    assert_eq!(res.status(), 429, "locked even with the right password");
    assert!(res.headers().contains_key("retry-after"));
    // Another browser (same account) is throttled too: the count lives in the database.
    assert_eq!(
        try_login(&app, &browser(), "kari@test.no", PASSWORD)
            .await
            .status(),
        429
    );
    let actions: Vec<String> = audit_actions(&app).into_iter().map(|(a, _)| a).collect();
    assert_eq!(actions.iter().filter(|a| *a == "login.failure").count(), 5);
    assert_eq!(
        actions.iter().filter(|a| *a == "login.throttled").count(),
        2
    );
}

/// A browser whose requests a proxy forwarded from `client` (X-Forwarded-For).
fn forwarded_from(client: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "x-forwarded-for",
        reqwest::header::HeaderValue::from_str(client).expect("header"),
    );
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .expect("client")
}

/// Sign-in throttling per client address counts failures only (twenty-five colleagues
/// behind one hospital address all sign in), and behind a trusted proxy each forwarded
/// client has its own count and its own address in the audit log; an untrusted peer's
/// X-Forwarded-For is ignored.
#[actix_web::test]
async fn sign_in_throttling_counts_failures_per_forwarded_client() {
    let limit = samskap::web::handlers::auth::MAX_FAILED_LOGINS_PER_ADDRESS;
    let app = spawn_app_with(|s| {
        s.trusted_proxies = vec!["127.0.0.1".parse().expect("cidr")];
    })
    .await;
    create_user(&app, "staff@test.no", UserRole::Manager, &[]);
    for i in 0..limit + 5 {
        let res = try_login(
            &app,
            &forwarded_from("203.0.113.5"),
            "staff@test.no",
            PASSWORD,
        )
        .await;
        assert_eq!(
            res.status(),
            303,
            "sign-in {i}: successes are not throttled"
        );
    }
    let attacker = forwarded_from("203.0.113.66");
    for i in 0..limit {
        // A different account each time: the per-account limit stays out of it.
        let res = try_login(
            &app,
            &attacker,
            &format!("nobody{i}@test.no"),
            "wrong guess!",
        )
        .await;
        assert_eq!(res.status(), 401, "failure {i}");
    }
    let res = try_login(&app, &attacker, "staff@test.no", PASSWORD).await;
    assert_eq!(res.status(), 429, "the guessing address is throttled");
    let res = try_login(
        &app,
        &forwarded_from("203.0.113.5"),
        "staff@test.no",
        PASSWORD,
    )
    .await;
    assert_eq!(res.status(), 303, "the colleagues' address is not");
    {
        let conn = &mut app.db.connect();
        let entries = samskap::infra::models::AuditEntry::recent(conn, 1000).expect("audit");
        let failure = entries
            .iter()
            .find(|e| e.action == "login.failure")
            .expect("a failure");
        assert_eq!(failure.ip.as_deref(), Some("203.0.113.66"));
    }

    // Without a trusted proxy the header is the client's own claim: ignored.
    let direct = spawn_app().await;
    let spoofer = forwarded_from("198.51.100.1");
    let res = try_login(&direct, &spoofer, "nobody@test.no", "wrong guess!").await;
    assert_eq!(res.status(), 401);
    let conn = &mut direct.db.connect();
    let entries = samskap::infra::models::AuditEntry::recent(conn, 10).expect("audit");
    assert_eq!(entries[0].ip.as_deref(), Some("127.0.0.1"));
}

#[actix_web::test]
async fn a_post_without_csrf_token_is_refused() {
    let app = spawn_app().await;
    create_user(&app, "per@test.no", UserRole::Researcher, &[]);
    let client = browser();
    let res = client
        .post(format!("{}/login", app.address))
        .form(&[("email", "per@test.no"), ("password", PASSWORD)])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 403);
    let res = client
        .post(format!("{}/login", app.address))
        .form(&[
            ("_csrf", "0".repeat(64).as_str()),
            ("email", "per@test.no"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 403, "a made-up token is refused too");
    // Nothing happened, and both refusals are on record as CSRF refusals.
    let entries = refusals(&app);
    assert_eq!(entries.len(), 2, "{entries:?}");
    for (route, reason, actor) in &entries {
        assert_eq!(route, "POST /login");
        assert_eq!(reason, "csrf");
        assert_eq!(actor, "anonymous");
    }
    assert!(
        audit_actions(&app)
            .iter()
            .all(|(a, _)| a == "access.denied"),
        "nothing else happened"
    );
}

/// The `access.denied` entries of the audit log: route, reason, actor.
fn refusals(app: &TestApp) -> Vec<(String, String, String)> {
    let conn = &mut app.db.connect();
    samskap::infra::models::AuditEntry::recent(conn, 1000)
        .expect("audit")
        .into_iter()
        .rev()
        .filter(|e| e.action == "access.denied")
        .map(|e| {
            let details: serde_json::Value =
                serde_json::from_str(e.details.as_deref().unwrap_or("{}")).expect("json");
            (
                e.target_id.unwrap_or_default(),
                details["reason"].as_str().unwrap_or_default().to_owned(),
                e.actor,
            )
        })
        .collect()
}

fn set_cookie(res: &reqwest::Response, name: &str) -> String {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie"))
        .to_owned()
}

#[actix_web::test]
async fn session_cookies_are_private_httponly_and_lax() {
    let app = spawn_app().await;
    create_user(&app, "liv@test.no", UserRole::Admin, &[]);
    let res = try_login(&app, &browser(), "liv@test.no", PASSWORD).await;
    let cookie = set_cookie(&res, "samskap_session");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http in tests: {cookie}");
    assert!(
        !cookie.contains("liv@") && !cookie.contains("uid"),
        "encrypted: {cookie}"
    );

    let tls = spawn_app_with(|s| s.base_url = Some("https://samskap.example.org".into())).await;
    create_user(&tls, "liv@test.no", UserRole::Admin, &[]);
    let res = try_login(&tls, &browser(), "liv@test.no", PASSWORD).await;
    assert!(
        set_cookie(&res, "samskap_session").contains("Secure"),
        "Secure behind TLS"
    );
}

#[actix_web::test]
async fn a_tampered_session_cookie_is_ignored() {
    let app = spawn_app().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let res = client
        .get(format!("{}/me", app.address))
        .header("Cookie", "samskap_session=eyJ1aWQiOiJ4In0")
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 303);
}

#[actix_web::test]
async fn changing_the_password_ends_other_sessions() {
    let app = spawn_app().await;
    create_user(&app, "eva@test.no", UserRole::Policymaker, &[]);
    let first = signed_in(&app, "eva@test.no").await;
    let second = signed_in(&app, "eva@test.no").await;
    let res = post_form(
        &app,
        &first,
        "/me/password",
        &[("current", PASSWORD), ("new", "a brand new password")],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        first
            .get(format!("{}/me", app.address))
            .send()
            .await
            .expect("get")
            .status(),
        200,
        "this browser stays in"
    );
    assert_eq!(
        second
            .get(format!("{}/me", app.address))
            .send()
            .await
            .expect("get")
            .status(),
        303,
        "the other is out"
    );
}

/// The current password on /me/password is a password guess: each wrong one is audited,
/// and after as many as sign-in allows the account gets 429 for the window, the right
/// password included.
#[actix_web::test]
async fn wrong_current_passwords_are_audited_and_throttled() {
    let app = spawn_app().await;
    let user = create_user(&app, "guess@test.no", UserRole::Policymaker, &[]);
    let client = signed_in(&app, "guess@test.no").await;
    let limit = samskap::app::accounts::MAX_FAILED_LOGINS;
    let wrong = [
        ("current", "not my password at all"),
        ("new", "a brand new password"),
    ];
    for _ in 0..limit {
        let res = post_form(&app, &client, "/me/password", &wrong).await;
        assert_eq!(res.status(), 400);
    }
    let res = post_form(&app, &client, "/me/password", &wrong).await;
    assert_eq!(res.status(), 429);
    let right = [("current", PASSWORD), ("new", "a brand new password")];
    let res = post_form(&app, &client, "/me/password", &right).await;
    assert_eq!(res.status(), 429, "throttled, the right one too");
    let conn = &mut app.db.connect();
    let since = chrono::NaiveDateTime::default();
    let mut count = |action: &str| {
        samskap::app::audit::entries_since(conn, action, user.id.as_str(), since).expect("audit")
    };
    assert_eq!(count("user.password_failure"), limit);
    assert_eq!(count("user.password_throttled"), 2);
    assert_eq!(count("user.password"), 0, "nothing changed");
}

/// Signing out ends the session on the server: a copy of the session cookie taken
/// before stops working, and signing in again works.
#[actix_web::test]
async fn a_saved_session_cookie_stops_working_after_sign_out() {
    use reqwest::cookie::CookieStore as _;
    let app = spawn_app().await;
    create_user(&app, "out@test.no", UserRole::Policymaker, &[]);
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let res = try_login(&app, &client, "out@test.no", PASSWORD).await;
    assert_eq!(res.status(), 303);
    let url: reqwest::Url = app.address.parse().expect("url");
    let saved = jar
        .cookies(&url)
        .expect("cookies")
        .to_str()
        .expect("ascii")
        .to_owned();
    let replay = || async {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
            .get(format!("{}/me", app.address))
            .header(reqwest::header::COOKIE, &saved)
            .send()
            .await
            .expect("get")
            .status()
    };
    assert_eq!(
        replay().await,
        200,
        "the copied cookie works while signed in"
    );
    let res = post_form(&app, &client, "/logout", &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(replay().await, 303, "the copied cookie is sent to sign in");
    let res = try_login(&app, &client, "out@test.no", PASSWORD).await;
    assert_eq!(res.status(), 303);
    let me = client
        .get(format!("{}/me", app.address))
        .send()
        .await
        .expect("get");
    assert_eq!(me.status(), 200, "signing in again works");
}

/// A form value with NUL or another control character is refused with 400 naming the
/// field, and nothing is stored.
/// The CSRF token of a signed-in session comes from the session, not from the browser's
/// CSRF cookie: an attacker who plants their own CSRF cookie (say from a sibling domain)
/// and knows its token still cannot post as the victim, whose own page token works.
#[actix_web::test]
async fn a_planted_csrf_cookie_does_not_open_a_session() {
    use reqwest::cookie::CookieStore as _;
    let app = spawn_app().await;
    create_user(&app, "victim@test.no", UserRole::Policymaker, &[]);
    let plain = || {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
    };
    // The attacker's own visit: a CSRF cookie and the token that goes with it.
    let res = plain()
        .get(format!("{}/login", app.address))
        .send()
        .await
        .expect("login page");
    let planted = set_cookie(&res, "samskap_csrf");
    let planted = planted.split(';').next().expect("cookie").to_owned();
    let attacker_token = csrf_in(&res.text().await.expect("body"));
    // The victim signs in.
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let victim = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    assert_eq!(
        try_login(&app, &victim, "victim@test.no", PASSWORD)
            .await
            .status(),
        303
    );
    let url: reqwest::Url = app.address.parse().expect("url");
    let cookies = jar.cookies(&url).expect("cookies");
    let session = cookies
        .to_str()
        .expect("ascii")
        .split("; ")
        .find(|c| c.starts_with("samskap_session="))
        .expect("session cookie")
        .to_owned();
    let forged = plain()
        .post(format!("{}/me/tokens", app.address))
        .header(reqwest::header::COOKIE, format!("{session}; {planted}"))
        .form(&[("_csrf", attacker_token.as_str()), ("name", "forged")])
        .send()
        .await
        .expect("post");
    assert_eq!(forged.status(), 403, "the planted token is refused");
    let own = csrf(&app, &victim, "/me").await;
    assert_ne!(own, attacker_token);
    let res = victim
        .post(format!("{}/me/tokens", app.address))
        .form(&[("_csrf", own.as_str()), ("name", "mine")])
        .send()
        .await
        .expect("post");
    assert_ne!(res.status(), 403, "the session's own token works");
    let actions = audit_actions(&app);
    assert_eq!(
        actions.iter().filter(|(a, _)| a == "token.create").count(),
        1,
        "{actions:?}"
    );
}

#[actix_web::test]
async fn control_characters_in_a_form_are_refused() {
    let app = spawn_app().await;
    create_user(&app, "ctl@test.no", UserRole::Policymaker, &[]);
    let client = signed_in(&app, "ctl@test.no").await;
    for bad in ["a brand new\u{0}password", "a brand new\u{1b}[31mpassword"] {
        let res = post_form(
            &app,
            &client,
            "/me/password",
            &[("current", PASSWORD), ("new", bad)],
        )
        .await;
        assert_eq!(res.status(), 400, "{bad:?}");
        let body = res.text().await.expect("body");
        assert!(body.contains("control character"), "{body}");
    }
    // Unchanged: the old password still signs in.
    let again = try_login(&app, &browser(), "ctl@test.no", PASSWORD).await;
    assert_eq!(again.status(), 303);
}

async fn scoped_app() -> (TestApp, String, String) {
    let app = spawn_app().await;
    let (own, vest_other, elsewhere) = {
        let conn = &mut app.db.connect();
        demo::load(
            conn,
            DemoOptions {
                services: 60,
                seed: 5,
            },
        )
        .expect("demo");
        let vest = Region::all(conn)
            .expect("r")
            .into_iter()
            .find(|r| r.name == "Helse Vest")
            .expect("vest")
            .id;
        let services = Service::all(conn).expect("s");
        let in_vest: Vec<&Service> = services
            .iter()
            .filter(|s| s.health_region_id == vest)
            .collect();
        let elsewhere = services
            .iter()
            .find(|s| s.health_region_id != vest)
            .expect("elsewhere");
        (
            in_vest[0].code.clone(),
            in_vest[1].code.clone(),
            elsewhere.code.clone(),
        )
    };
    create_user(
        &app,
        "manager@test.no",
        UserRole::Manager,
        &[(ScopeKind::Service, &own)],
    );
    create_user(
        &app,
        "policy@test.no",
        UserRole::Policymaker,
        &[(ScopeKind::Region, "Helse Vest")],
    );
    create_user(&app, "admin@test.no", UserRole::Admin, &[]);
    let _ = vest_other;
    (app, own, elsewhere)
}

#[actix_web::test]
async fn a_manager_sees_only_their_own_service() {
    let (app, own, elsewhere) = scoped_app().await;
    let manager = signed_in(&app, "manager@test.no").await;
    let get = |path: String| {
        let client = manager.clone();
        let base = app.address.clone();
        async move {
            client
                .get(format!("{base}{path}"))
                .send()
                .await
                .expect("get")
                .status()
                .as_u16()
        }
    };
    assert_eq!(get(format!("/services/{own}")).await, 200);
    assert_eq!(get(format!("/services/{elsewhere}")).await, 403);
    assert_eq!(
        get("/services/NO-SUCH-SERVICE".into()).await,
        403,
        "no existence leak: same answer as out of scope"
    );
    assert_eq!(get(format!("/api/v1/services/{own}")).await, 200);
    let api = manager
        .get(format!("{}/api/v1/services/{elsewhere}", app.address))
        .send()
        .await
        .expect("get");
    assert_eq!(api.status(), 403);
    let body: serde_json::Value = api.json().await.expect("json");
    assert_eq!(body["error"]["code"], "forbidden");
    // Every refusal is audited, with who, what and why; a route of another role too.
    assert_eq!(get("/admin/users".into()).await, 403);
    let entries = refusals(&app);
    let expected = [
        (format!("GET /services/{elsewhere}"), "scope"),
        ("GET /services/NO-SUCH-SERVICE".to_owned(), "scope"),
        (format!("GET /api/v1/services/{elsewhere}"), "scope"),
        ("GET /admin/users".to_owned(), "role"),
    ];
    assert_eq!(entries.len(), expected.len(), "{entries:?}");
    for ((route, reason, actor), (want_route, want_reason)) in entries.iter().zip(&expected) {
        assert_eq!((route, reason.as_str()), (want_route, *want_reason));
        assert_eq!(actor, "manager@test.no");
    }

    let admin = signed_in(&app, "admin@test.no").await;
    let missing = admin
        .get(format!("{}/services/NO-SUCH-SERVICE", app.address))
        .send()
        .await
        .expect("get");
    assert_eq!(
        missing.status(),
        404,
        "admins see everything, so a missing service is simply missing"
    );

    let policy = signed_in(&app, "policy@test.no").await;
    assert_eq!(
        policy
            .get(format!("{}/services/{own}", app.address))
            .send()
            .await
            .expect("get")
            .status(),
        200
    );
    assert_eq!(
        policy
            .get(format!("{}/services/{elsewhere}", app.address))
            .send()
            .await
            .expect("get")
            .status(),
        403
    );
}

#[actix_web::test]
async fn api_tokens_work_until_revoked() {
    let app = spawn_app().await;
    create_user(&app, "forsker@test.no", UserRole::Researcher, &[]);
    let browser = signed_in(&app, "forsker@test.no").await;
    let page = post_form(&app, &browser, "/me/tokens", &[("name", "analysis laptop")]).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("body");
    let start = html.find("samskap_").expect("token shown once");
    let token: String = html[start..start + 8 + 64].to_owned();
    let again = browser
        .get(format!("{}/me", app.address))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    assert!(!again.contains(&token), "the token is shown only once");

    let api = reqwest::Client::new();
    let me = api
        .get(format!("{}/api/v1/me", app.address))
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");
    assert_eq!(me.status(), 200);
    let body: serde_json::Value = me.json().await.expect("json");
    assert_eq!(body["email"], "forsker@test.no");
    assert_eq!(body["via"], "token");

    let stored = {
        let conn = &mut app.db.connect();
        let user = samskap::infra::models::User::find_by_email(conn, "forsker@test.no")
            .expect("q")
            .expect("user");
        samskap::infra::models::ApiToken::for_user(conn, &user.id).expect("tokens")
    };
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0].token_hash, token, "only the hash is stored");
    assert!(stored[0].last_used_at.is_some());
    // It expires after 90 days, and the account page says when and when it was last used.
    let expires = stored[0].expires_at.expect("an expiry");
    let lifetime = expires - stored[0].created_at;
    assert_eq!(
        lifetime.num_days(),
        samskap::app::accounts::TOKEN_LIFETIME_DAYS
    );
    assert_eq!(lifetime.num_days(), 90);
    let page = browser
        .get(format!("{}/me", app.address))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    assert!(
        page.contains(&expires.format("%Y-%m-%d").to_string()),
        "expiry shown"
    );
    let used = stored[0].last_used_at.expect("used");
    assert!(
        page.contains(&samskap::infra::time::shown(used)),
        "last use shown in local time (Europe/Oslo): {page}"
    );
    // Past its expiry it no longer works.
    {
        use diesel::prelude::*;
        use samskap::infra::db::schema::api_tokens;
        let conn = &mut app.db.connect();
        diesel::update(api_tokens::table.find(&stored[0].id))
            .set(api_tokens::expires_at.eq(Some(
                samskap::infra::db::now() - chrono::Duration::minutes(1),
            )))
            .execute(conn)
            .expect("expire");
    }
    let me = api
        .get(format!("{}/api/v1/me", app.address))
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");
    assert_eq!(me.status(), 401, "an expired token");
    {
        use diesel::prelude::*;
        use samskap::infra::db::schema::api_tokens;
        let conn = &mut app.db.connect();
        diesel::update(api_tokens::table.find(&stored[0].id))
            .set(api_tokens::expires_at.eq(Some(expires)))
            .execute(conn)
            .expect("restore");
    }

    let res = post_form(
        &app,
        &browser,
        &format!("/me/tokens/{}/revoke", stored[0].id),
        &[],
    )
    .await;
    assert_eq!(res.status(), 303);
    let me = api
        .get(format!("{}/api/v1/me", app.address))
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");
    assert_eq!(me.status(), 401);
    let body: serde_json::Value = me.json().await.expect("json");
    assert_eq!(body["error"]["code"], "invalid_token");

    let garbage = api
        .get(format!("{}/api/v1/me", app.address))
        .bearer_auth("samskap_nonsense")
        .send()
        .await
        .expect("get");
    assert_eq!(garbage.status(), 401);
    let actions: Vec<String> = audit_actions(&app).into_iter().map(|(a, _)| a).collect();
    assert!(
        actions.contains(&"token.create".to_owned())
            && actions.contains(&"token.revoke".to_owned()),
        "{actions:?}"
    );
}

#[actix_web::test]
async fn respondent_routes_are_rate_limited() {
    let app = spawn_app().await;
    let mut statuses = Vec::new();
    for i in 0..=samskap::infra::config::DEFAULT_RESPONDENT_RATE_LIMIT {
        statuses.push(app.get(&format!("/s/guess-{i}")).await.status().as_u16());
    }
    assert!(
        statuses[..samskap::infra::config::DEFAULT_RESPONDENT_RATE_LIMIT]
            .iter()
            .all(|s| *s != 429)
    );
    assert_eq!(
        *statuses.last().expect("last"),
        429,
        "token guessing is slowed down"
    );
}

#[actix_web::test]
async fn admins_manage_users_and_scopes_and_every_change_is_audited() {
    let (app, own, _) = scoped_app().await;
    let admin = signed_in(&app, "admin@test.no").await;
    let created = post_form(
        &app,
        &admin,
        "/admin/users",
        &[
            ("email", "ny@test.no"),
            ("display_name", "Ny Leder"),
            ("role", "manager"),
            ("password", ""),
        ],
    )
    .await;
    assert_eq!(created.status(), 200);
    let html = created.text().await.expect("body");
    assert!(html.contains("Generated password (shown once)"), "{html}");
    let user = {
        let conn = &mut app.db.connect();
        samskap::infra::models::User::find_by_email(conn, "ny@test.no")
            .expect("q")
            .expect("created")
    };
    let duplicate = post_form(
        &app,
        &admin,
        "/admin/users",
        &[
            ("email", "ny@test.no"),
            ("role", "manager"),
            ("password", ""),
        ],
    )
    .await;
    assert_eq!(duplicate.status(), 400);
    assert!(
        duplicate
            .text()
            .await
            .expect("body")
            .contains("<li>E-mail: an account for &quot;ny@test.no&quot; already exists</li>")
    );
    // Several mistakes: every one listed at once, what was typed kept, nobody created.
    let mistakes = post_form(
        &app,
        &admin,
        "/admin/users",
        &[
            ("email", "kari@@example.no"),
            ("display_name", "Kari"),
            ("role", "superuser"),
            ("password", "123456789012"),
        ],
    )
    .await;
    assert_eq!(mistakes.status(), 400);
    let page = mistakes.text().await.expect("body");
    for problem in [
        "E-mail: &quot;kari@@example.no&quot; is not an e-mail address",
        "Role: &quot;superuser&quot; is not one of the choices (admin, manager, policymaker, researcher)",
        "Password: must not be a run of consecutive characters (like 123456789012)",
    ] {
        assert!(
            page.contains(&format!("<li>{problem}</li>")),
            "{problem}\n{page}"
        );
    }
    assert!(page.contains(r#"value="kari@@example.no""#), "{page}");
    // An unknown role comes back as the form's default, never as the first choice
    // (admin), so pressing the button again cannot make an admin by accident.
    assert!(
        page.contains(r#"<option value="manager" selected>"#)
            && !page.contains(r#"<option value="admin" selected>"#),
        "{page}"
    );
    assert!(
        samskap::infra::models::User::find_by_email(&mut app.db.connect(), "kari@@example.no")
            .expect("q")
            .is_none()
    );

    let wrong_kind = post_form(
        &app,
        &admin,
        &format!("/admin/users/{}/scopes", user.id),
        &[("kind", "region"), ("reference", "Helse Vest")],
    )
    .await;
    assert_eq!(
        wrong_kind.status(),
        400,
        "a manager cannot get region scopes"
    );
    let scope = post_form(
        &app,
        &admin,
        &format!("/admin/users/{}/scopes", user.id),
        &[("kind", "service"), ("reference", own.as_str())],
    )
    .await;
    assert_eq!(scope.status(), 303);
    let update = post_form(
        &app,
        &admin,
        &format!("/admin/users/{}", user.id),
        &[("display_name", "Ny"), ("role", "manager")],
    )
    .await;
    assert_eq!(
        update.status(),
        303,
        "unticked `active` disables the account"
    );
    let conn = &mut app.db.connect();
    let user = samskap::infra::models::User::find(conn, &user.id).expect("user");
    assert!(!user.active);
    let scopes = samskap::infra::models::UserScope::for_user(conn, &user.id).expect("scopes");
    assert_eq!(scopes.len(), 1);
    let removed = post_form(
        &app,
        &admin,
        &format!("/admin/users/{}/scopes/{}/delete", user.id, scopes[0].id),
        &[],
    )
    .await;
    assert_eq!(removed.status(), 303);

    let actions: Vec<String> = audit_actions(&app).into_iter().map(|(a, _)| a).collect();
    for action in [
        "login.success",
        "user.create",
        "scope.add",
        "user.update",
        "scope.remove",
    ] {
        assert!(
            actions.contains(&action.to_owned()),
            "{action} missing from {actions:?}"
        );
    }

    let page = admin
        .get(format!(
            "{}/admin/audit?action=scope.&actor=admin",
            app.address
        ))
        .send()
        .await
        .expect("get");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("body");
    assert!(
        html.contains("scope.add") && html.contains("scope.remove"),
        "{html}"
    );
    assert!(
        !html.contains(">login.success</code>") && html.contains(">scope.add</code>"),
        "filtered by action"
    );
    // Readable rows: what was done in words, the user by address (linked), the details
    // as fields rather than JSON.
    assert!(
        html.contains("Granted a scope") && html.contains("Removed a scope"),
        "{html}"
    );
    assert!(
        html.contains(&format!("<a href=\"/admin/users/{}\">", user.id)),
        "the user the scope belongs to, linked: {html}"
    );
    assert!(!html.contains("{&quot;"), "no raw JSON: {html}");
    let bad_date = admin
        .get(format!("{}/admin/audit?from=yesterday", app.address))
        .send()
        .await
        .expect("get");
    assert_eq!(bad_date.status(), 400);
    assert!(
        bad_date
            .text()
            .await
            .expect("body")
            .contains("from: &quot;yesterday&quot; is not a date")
    );
}

/// An admin cannot disable themselves or give up their own admin role (the last admin
/// would lock everyone out); the refusal changes nothing and records nothing.
#[actix_web::test]
async fn an_admin_cannot_demote_or_disable_themselves() {
    let (app, _, _) = scoped_app().await;
    let admin = signed_in(&app, "admin@test.no").await;
    let me = samskap::infra::models::User::find_by_email(&mut app.db.connect(), "admin@test.no")
        .expect("q")
        .expect("admin");
    for (role, active) in [("manager", Some("on")), ("admin", None)] {
        let mut form = vec![("display_name", "Admin"), ("role", role)];
        if let Some(a) = active {
            form.push(("active", a));
        }
        let res = post_form(&app, &admin, &format!("/admin/users/{}", me.id), &form).await;
        assert_eq!(res.status(), 400, "{role} {active:?}");
        assert!(
            res.text()
                .await
                .expect("page")
                .contains("You cannot disable yourself or remove your own admin role.")
        );
    }
    let conn = &mut app.db.connect();
    let after = samskap::infra::models::User::find(conn, &me.id).expect("admin");
    assert_eq!(after.role, UserRole::Admin);
    assert!(after.active);
    // Another account's role can change, with its audit record.
    let other = samskap::infra::models::User::find_by_email(conn, "policy@test.no")
        .expect("q")
        .expect("other");
    let res = post_form(
        &app,
        &admin,
        &format!("/admin/users/{}", other.id),
        &[
            ("display_name", ""),
            ("role", "researcher"),
            ("active", "on"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let changed = samskap::infra::models::User::find(conn, &other.id).expect("other");
    assert_eq!(changed.role, UserRole::Researcher);
    assert_eq!(
        changed.display_name, other.display_name,
        "an empty name keeps the name"
    );
}

/// After signing in each role starts at its own page: a manager at their service, a
/// policymaker at their area, a researcher at the exports, an admin at the waves; a
/// sign-in on the way to a page still goes there.
#[actix_web::test]
async fn each_role_lands_on_its_own_page_after_signing_in() {
    let (app, own, _) = scoped_app().await;
    create_user(&app, "research@test.no", UserRole::Researcher, &[]);
    let landing = |email: &'static str| {
        let app = &app;
        async move {
            let res = try_login(app, &browser(), email, PASSWORD).await;
            assert_eq!(res.status(), 303, "{email} signs in");
            res.headers()["location"]
                .to_str()
                .expect("location")
                .to_owned()
        }
    };
    assert_eq!(landing("manager@test.no").await, format!("/services/{own}"));
    let vest = {
        let conn = &mut app.db.connect();
        Region::all(conn)
            .expect("regions")
            .into_iter()
            .find(|r| r.id.as_str() == "Helse Vest" || r.name == "Helse Vest")
            .expect("Helse Vest")
    };
    assert_eq!(
        landing("policy@test.no").await,
        format!("/regions/{}", vest.id)
    );
    assert_eq!(landing("research@test.no").await, "/exports");
    assert_eq!(landing("admin@test.no").await, "/admin/waves");

    // On the way somewhere: there.
    let res = post_form(
        &app,
        &browser(),
        "/login",
        &[
            ("email", "manager@test.no"),
            ("password", PASSWORD),
            ("next", "/account"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/account");
}

#[actix_web::test]
async fn a_researcher_is_granted_a_wave_picked_by_name() {
    let app = spawn_app().await;
    let wave = {
        let conn = &mut app.db.connect();
        demo::load(
            conn,
            DemoOptions {
                services: 4,
                seed: 2,
            },
        )
        .expect("demo");
        crate::fixtures::open_wave(conn, "Oppfølging 2027")
    };
    create_user(&app, "admin@test.no", UserRole::Admin, &[]);
    let researcher = create_user(&app, "forsker@test.no", UserRole::Researcher, &[]);
    let admin = signed_in(&app, "admin@test.no").await;
    let page = admin
        .get(format!(
            "{}/admin/users/{}?lang=en",
            app.address, researcher.id
        ))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    assert!(
        page.contains(&format!(
            "<select id=\"reference\" name=\"reference\"><option value=\"{}\">Oppfølging 2027</option>",
            wave.id
        )),
        "the waves are offered by name: {page}"
    );
    // Typed by name (as the command line and older forms send it), not only by id.
    let granted = post_form(
        &app,
        &admin,
        &format!("/admin/users/{}/scopes", researcher.id),
        &[("kind", "wave"), ("reference", "Oppfølging 2027")],
    )
    .await;
    assert_eq!(granted.status(), 303);
    let conn = &mut app.db.connect();
    let scopes = samskap::infra::models::UserScope::for_user(conn, &researcher.id).expect("scopes");
    assert_eq!(scopes.len(), 1);
    assert_eq!(scopes[0].scope_id, wave.id.to_string());
}
