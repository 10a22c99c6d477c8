//! The API keeps to its OpenAPI document where input is odd: what schemathesis
//! (`perf/schemathesis.sh`) found, one test each. Every refusal is the documented JSON error
//! with a status the document lists for the operation.

use reqwest::Method;
use samskap::crypto::DerivedKeys;
use samskap::demo::{self, DemoOptions};
use samskap::domain::{RespondentRole, UserRole};
use samskap::models::{Service, Wave};
use serde_json::{Value, json};

use crate::auth_helpers::{create_user, signed_in};
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// Demo services, an open wave and one manager invitation; returns the wave and the token.
fn invitation(app: &TestApp) -> (Wave, String) {
    let conn = &mut app.db.connect();
    demo::load(
        conn,
        DemoOptions {
            services: 4,
            seed: 3,
        },
    )
    .expect("demo");
    let wave = crate::fixtures::open_wave(conn, "Contract");
    let service = Service::all(conn).expect("services").remove(0);
    let keys = DerivedKeys::new(&app.db.settings().secret_key().expect("secret"));
    let (_, token) = samskap::waves::create_invitation(
        conn,
        &keys,
        &wave,
        &service.id,
        RespondentRole::Manager,
        "contract@example.no",
        "nb",
    )
    .expect("invitation");
    (wave, token)
}

async fn openapi(app: &TestApp) -> Value {
    app.get("/api/v1/openapi.json")
        .await
        .json()
        .await
        .expect("json")
}

/// Asserts that `res` is the API's JSON error with `code`, and that the document lists its
/// status for `method path`; returns the body.
async fn assert_documented_error(
    doc: &Value,
    method: &str,
    path: &str,
    res: reqwest::Response,
    code: &str,
) -> Value {
    let status = res.status().as_u16();
    let content_type = res.headers()[reqwest::header::CONTENT_TYPE]
        .to_str()
        .expect("ascii")
        .to_owned();
    let body = res.text().await.expect("body");
    assert_eq!(
        content_type, "application/json",
        "{method} {path} {status}: {body}"
    );
    let body: Value = serde_json::from_str(&body).expect("JSON error body");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    let documented = &doc["paths"][path][method.to_lowercase()]["responses"][status.to_string()];
    assert!(
        documented.is_object(),
        "{method} {path} answered {status}, which the document does not list"
    );
    body
}

#[actix_web::test]
async fn a_method_a_path_does_not_take_is_405_with_allow() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    for (method, path, allow) in [
        ("TRACE", "/api/v1/waves", "GET, HEAD"),
        ("DELETE", "/api/v1/me", "GET, HEAD"),
        ("PUT", "/api/v1/respondent/0123/submit", "POST"),
        ("GET", "/api/v1/respondent/0123/answers", "PUT"),
    ] {
        let res = client
            .request(
                Method::from_bytes(method.as_bytes()).expect("method"),
                format!("{}{path}", app.address),
            )
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 405, "{method} {path}");
        assert_eq!(res.headers()["allow"], allow, "{method} {path}");
        assert_eq!(res.headers()["content-type"], "application/json");
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["error"]["code"], "method_not_allowed");
    }
    // Pages too, as a page; a path no route has is still 404.
    let res = client
        .delete(format!("{}/login", app.address))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "GET, HEAD, POST");
    assert!(res.text().await.expect("body").contains("<html"));
    let res = client
        .delete(format!("{}/no/such/page", app.address))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 404);
}

#[actix_web::test]
async fn bodies_and_query_strings_the_api_cannot_read_get_its_json_error() {
    let app = spawn_app().await;
    let (_, token) = invitation(&app);
    let doc = openapi(&app).await;
    let client = reqwest::Client::new();
    let answers = format!("{}/api/v1/respondent/{token}/answers", app.address);
    for req in [
        client.put(&answers),
        client.put(&answers).body("{\"answers\": {}}"),
        client
            .put(&answers)
            .header("content-type", "application/json")
            .body("{\"answers\": "),
        client.put(&answers).json(&json!({"answers": [1, 2]})),
    ] {
        let res = req.send().await.expect("put");
        assert_eq!(res.status(), 400);
        assert_documented_error(
            &doc,
            "PUT",
            "/api/v1/respondent/{token}/answers",
            res,
            "bad_request",
        )
        .await;
    }
    let res = client
        .get(format!(
            "{}/api/v1/respondent/{token}?lang=nb&lang=en",
            app.address
        ))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 400);
    assert_documented_error(
        &doc,
        "GET",
        "/api/v1/respondent/{token}",
        res,
        "bad_request",
    )
    .await;
}

#[actix_web::test]
async fn an_optional_body_that_cannot_be_used_is_refused_not_ignored() {
    let app = spawn_app().await;
    let (_, token) = invitation(&app);
    let doc = openapi(&app).await;
    let client = reqwest::Client::new();
    let base = format!("{}/api/v1/respondent/{token}", app.address);
    // Before: `"consent": "yes"` was dropped with the rest of the body, and the answer 409
    // (no consent) hid that the answers had not been looked at.
    let res = client
        .post(format!("{base}/submit"))
        .json(&json!({"consent": "yes", "answers": {"A1": 3}}))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 400);
    let body = assert_documented_error(
        &doc,
        "POST",
        "/api/v1/respondent/{token}/submit",
        res,
        "bad_request",
    )
    .await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("expected a boolean"),
        "{body}"
    );
    for bad in [json!({"language": 5}), json!([]), json!(["nb"])] {
        let res = client
            .post(format!("{base}/consent"))
            .json(&bad)
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 400, "{bad}");
        assert_documented_error(
            &doc,
            "POST",
            "/api/v1/respondent/{token}/consent",
            res,
            "bad_request",
        )
        .await;
    }
    // No body at all, and a null where the document allows one, are still fine.
    let res = client
        .post(format!("{base}/consent"))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 200);
    let res = client
        .post(format!("{base}/submit"))
        .json(&json!({"language": null, "answers": null}))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
}

#[actix_web::test]
async fn a_throttled_respondent_api_call_gets_the_json_error() {
    let app = spawn_app_with(|s| s.respondent_rate_limit = 1).await;
    let doc = openapi(&app).await;
    let path = "/api/v1/respondent/0000000000000000000000000000000000000000";
    assert_eq!(app.get(path).await.status(), 404);
    let res = app.get(path).await;
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "60");
    assert_documented_error(
        &doc,
        "GET",
        "/api/v1/respondent/{token}",
        res,
        "rate_limited",
    )
    .await;
}

#[actix_web::test]
async fn the_region_levels_in_the_document_are_the_ones_the_api_takes() {
    let app = spawn_app().await;
    let (wave, _) = invitation(&app);
    let doc = openapi(&app).await;
    create_user(&app, "admin@test.no", UserRole::Admin, &[]);
    let admin = signed_in(&app, "admin@test.no").await;
    let path = "/api/v1/waves/{wave}/regions";
    let level = doc["paths"][path]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "level")
        .expect("a level parameter")
        .clone();
    let levels = level["schema"]["enum"]
        .as_array()
        .expect("levels are listed");
    for l in levels {
        let l = l.as_str().expect("string");
        let res = admin
            .get(format!(
                "{}/api/v1/waves/{}/regions?level={l}",
                app.address, wave.id
            ))
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), 200, "{l}");
    }
    let res = admin
        .get(format!(
            "{}/api/v1/waves/{}/regions?level=",
            app.address, wave.id
        ))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 400);
    assert_documented_error(&doc, "GET", path, res, "bad_request").await;
}

#[actix_web::test]
async fn an_address_holding_a_nul_is_refused_before_any_lookup() {
    // On PostgreSQL these lookups failed with 500: its text cannot hold a NUL.
    let app = spawn_app().await;
    let (wave, _) = invitation(&app);
    let doc = openapi(&app).await;
    create_user(&app, "admin@test.no", UserRole::Admin, &[]);
    let admin = signed_in(&app, "admin@test.no").await;
    let get = |path: String| admin.get(format!("{}{path}", app.address)).send();
    for (template, path) in [
        (
            "/api/v1/services/{code}",
            "/api/v1/services/a%00b".to_owned(),
        ),
        (
            "/api/v1/waves/{wave}/psychometrics",
            "/api/v1/waves/a%00b/psychometrics".to_owned(),
        ),
        (
            "/api/v1/waves/{wave}/services/{code}/results",
            format!("/api/v1/waves/{}/services/a%00b/results", wave.id),
        ),
    ] {
        let res = get(path.clone()).await.expect("get");
        assert_eq!(res.status(), 404, "{path}");
        assert_documented_error(&doc, "GET", template, res, "not_found").await;
    }
    // A query value on the API is only compared in memory, and may hold any character.
    let res = get(format!(
        "/api/v1/waves/{}/regions?level=national&role=a%00",
        wave.id
    ))
    .await
    .expect("get");
    assert_eq!(res.status(), 200);
    // The staff pages alike.
    for path in [
        "/admin/users/a%00b",
        "/admin/waves/a%00b",
        "/services/a%00b",
    ] {
        assert_eq!(
            get(path.to_owned()).await.expect("get").status(),
            404,
            "{path}"
        );
    }
    let res = get("/admin/audit?actor=a%00b".to_owned())
        .await
        .expect("get");
    assert_eq!(res.status(), 400);
}
