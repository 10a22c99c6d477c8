//! The API keeps to its OpenAPI document where input is odd: what schemathesis
//! (`perf/schemathesis.sh`) found, one test each. Every refusal is the documented JSON error
//! with a status the document lists for the operation.

use reqwest::Method;
use samskap::core::domain::{RespondentRole, UserRole};
use samskap::infra::crypto::DerivedKeys;
use samskap::infra::models::{Service, Wave};
use samskap::tools::demo::{self, DemoOptions};
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
    let (_, token) = samskap::app::waves::create_invitation(
        conn,
        &keys,
        &wave,
        &service.id,
        &RespondentRole::parse("manager").expect("role"),
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

/// Every API route of the route table is in the document, once, with an operationId, and
/// the document lists no operation the server does not have. Signed-in routes name both
/// ways in (token and session cookie); public ones need neither.
#[actix_web::test]
async fn the_document_lists_exactly_the_api_routes() {
    let app = spawn_app().await;
    let doc = openapi(&app).await;
    let mut documented = Vec::new();
    let mut ids = std::collections::BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        for (method, op) in ops.as_object().expect("operations") {
            let id = op["operationId"].as_str().expect("an operationId");
            assert!(ids.insert(id.to_owned()), "operationId {id} twice");
            documented.push((method.to_uppercase(), path.clone(), op.clone()));
        }
    }
    let routes: Vec<_> = samskap::web::routes::ROUTES
        .iter()
        .filter(|r| r.path.starts_with("/api/"))
        .collect();
    for r in &routes {
        let (_, _, op) = documented
            .iter()
            .find(|(m, p, _)| m == r.method && p == r.path)
            .unwrap_or_else(|| panic!("{} {} is not in the document", r.method, r.path));
        let security = op["security"].as_array().expect("security");
        match r.access {
            samskap::web::routes::Access::Public => assert!(security.is_empty(), "{}", r.path),
            samskap::web::routes::Access::SignedIn(_) => {
                assert_eq!(
                    security,
                    &vec![json!({"bearer": []}), json!({"session": []})],
                    "{}",
                    r.path
                );
            }
        }
        let ok = &op["responses"]["200"]["content"]["application/json"]["schema"];
        assert!(ok.is_object(), "{} {} has no 200 schema", r.method, r.path);
    }
    for (m, p, _) in &documented {
        assert!(
            routes.iter().any(|r| r.method == m && r.path == p),
            "the document lists {m} {p}, which the server does not have"
        );
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["session"]["in"], "cookie");
    assert_eq!(schemes["session"]["name"], "samskap_session");
}

/// Checks `value` against `schema` (the OpenAPI 3.0 subset the document uses) and lists
/// every difference. Strict about objects: a property the schema does not declare is a
/// difference, so a field a handler adds without its type changing is caught.
fn differences(doc: &Value, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    if let Some(r) = schema["$ref"].as_str() {
        let target = r
            .strip_prefix("#/")
            .expect("a local $ref")
            .split('/')
            .fold(doc, |v, part| &v[part]);
        assert!(!target.is_null(), "{r} does not resolve");
        return differences(doc, target, value, at, out);
    }
    if value.is_null() && schema["nullable"] == true {
        return;
    }
    let matches = |s: &Value| {
        let mut found = Vec::new();
        differences(doc, s, value, at, &mut found);
        found.is_empty()
    };
    if let Some(all) = schema["allOf"].as_array() {
        for s in all {
            differences(doc, s, value, at, out);
        }
    }
    if let Some(any) = schema["anyOf"].as_array()
        && !any.iter().any(matches)
    {
        out.push(format!("{at}: {value} matches none of anyOf"));
    }
    if let Some(one) = schema["oneOf"].as_array() {
        let n = one.iter().filter(|s| matches(s)).count();
        if n != 1 {
            out.push(format!("{at}: {value} matches {n} of oneOf, not one"));
        }
    }
    if let Some(choices) = schema["enum"].as_array()
        && !choices.contains(value)
    {
        out.push(format!("{at}: {value} is not one of {choices:?}"));
    }
    let Some(ty) = schema["type"].as_str() else {
        return;
    };
    let fits = match ty {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        other => panic!("type {other} is not in the subset"),
    };
    if !fits {
        out.push(format!("{at}: {value} is not a {ty}"));
        return;
    }
    if let Some(items) = schema.get("items") {
        for (i, v) in value.as_array().into_iter().flatten().enumerate() {
            differences(doc, items, v, &format!("{at}[{i}]"), out);
        }
    }
    if ty == "object" {
        let object = value.as_object().expect("object");
        let declared = schema["properties"].as_object();
        for name in schema["required"].as_array().into_iter().flatten() {
            let name = name.as_str().expect("name");
            if !object.contains_key(name) {
                out.push(format!("{at}: `{name}` is required but missing"));
            }
        }
        for (name, v) in object {
            let here = format!("{at}.{name}");
            match declared.and_then(|d| d.get(name)) {
                Some(s) => differences(doc, s, v, &here, out),
                None => match schema.get("additionalProperties") {
                    Some(extra) if extra.is_object() => differences(doc, extra, v, &here, out),
                    Some(Value::Bool(true)) => {}
                    _ if declared.is_none() && schema.get("additionalProperties").is_none() => {}
                    _ => out.push(format!("{here} is not in the schema")),
                },
            }
        }
    }
}

/// The schema the document gives for `method path` answering `status`.
fn response_schema(doc: &Value, method: &str, path: &str, status: u16) -> Value {
    let mut response =
        doc["paths"][path][method.to_lowercase()]["responses"][status.to_string()].clone();
    if let Some(r) = response["$ref"].as_str() {
        let name = r.rsplit('/').next().expect("name");
        response = doc["components"]["responses"][name].clone();
    }
    let schema = response["content"]["application/json"]["schema"].clone();
    assert!(
        schema.is_object(),
        "{method} {path} does not document {status}"
    );
    schema
}

/// Asserts `res` has the status and the body the document gives for `method path`.
async fn assert_conforms(
    doc: &Value,
    method: &str,
    path: &str,
    res: reqwest::Response,
    status: u16,
) -> Value {
    assert_eq!(res.status(), status, "{method} {path}");
    let body: Value = res.json().await.expect("JSON");
    let schema = response_schema(doc, method, path, status);
    let mut found = Vec::new();
    differences(doc, &schema, &body, "body", &mut found);
    assert!(
        found.is_empty(),
        "{method} {path} {status} differs from the document:\n{}",
        found.join("\n")
    );
    body
}

/// The `status` of every cell in `value`.
fn cell_statuses(value: &Value, out: &mut std::collections::BTreeSet<String>) {
    match value {
        Value::Object(o) => {
            if let Some(Value::String(s)) = o.get("status") {
                out.insert(s.clone());
            }
            o.values().for_each(|v| cell_statuses(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| cell_statuses(v, out)),
        _ => {}
    }
}

/// Real answers of every API operation, with shown, suppressed and empty cells, trends
/// and benchmarks (the demo's three waves), keep to the schemas the document gives; so do
/// the errors. And the check itself can fail: a body with a field taken out or one added
/// is caught.
#[actix_web::test]
async fn every_answer_keeps_to_its_schema() {
    let app = spawn_app().await;
    let (services, open_wave) = {
        let conn = &mut app.db.connect();
        let keys = DerivedKeys::new(&app.db.settings().secret_key().expect("secret"));
        demo::load_full(
            conn,
            &keys,
            DemoOptions {
                services: 30,
                seed: 7,
            },
            None,
            |_| {},
        )
        .expect("demo");
        let open = Wave::all(conn)
            .expect("waves")
            .into_iter()
            .find(|w| w.status == samskap::core::domain::WaveStatus::Open)
            .expect("the demo's open wave");
        (Service::all(conn).expect("services"), open)
    };
    create_user(&app, "schema-admin@test.no", UserRole::Admin, &[]);
    let admin = signed_in(&app, "schema-admin@test.no").await;
    let doc = openapi(&app).await;
    let get = |path: String| {
        let admin = admin.clone();
        let url = format!("{}{path}", app.address);
        async move { admin.get(url).send().await.expect("get") }
    };
    let w = &open_wave.id;
    assert_conforms(
        &doc,
        "GET",
        "/api/v1/me",
        get("/api/v1/me".into()).await,
        200,
    )
    .await;
    let waves = assert_conforms(
        &doc,
        "GET",
        "/api/v1/waves",
        get("/api/v1/waves".into()).await,
        200,
    )
    .await;
    assert!(waves["waves"].as_array().expect("waves").len() >= 3);
    let mut statuses = std::collections::BTreeSet::new();
    let mut trends = 0;
    let wave_ids: Vec<String> = waves["waves"]
        .as_array()
        .expect("waves")
        .iter()
        .map(|w| w["id"].as_str().expect("id").to_owned())
        .collect();
    for (w, s) in wave_ids
        .iter()
        .flat_map(|w| services.iter().take(10).map(move |s| (w, s)))
    {
        assert_conforms(
            &doc,
            "GET",
            "/api/v1/services/{code}",
            get(format!("/api/v1/services/{}", s.code)).await,
            200,
        )
        .await;
        let results = assert_conforms(
            &doc,
            "GET",
            "/api/v1/waves/{wave}/services/{code}/results",
            get(format!("/api/v1/waves/{w}/services/{}/results", s.code)).await,
            200,
        )
        .await;
        cell_statuses(&results, &mut statuses);
        trends += results["service"]["trends"]
            .as_array()
            .expect("trends")
            .len();
        assert_conforms(
            &doc,
            "GET",
            "/api/v1/waves/{wave}/services/{code}/benchmarks",
            get(format!("/api/v1/waves/{w}/services/{}/benchmarks", s.code)).await,
            200,
        )
        .await;
    }
    assert!(
        statuses.contains("shown") && statuses.contains("suppressed"),
        "the check saw shown and suppressed cells: {statuses:?}"
    );
    assert!(trends > 0, "the check saw trends");
    let regions = assert_conforms(
        &doc,
        "GET",
        "/api/v1/waves/{wave}/regions",
        get(format!("/api/v1/waves/{w}/regions")).await,
        200,
    )
    .await;
    cell_statuses(&regions, &mut statuses);
    let psychometrics = assert_conforms(
        &doc,
        "GET",
        "/api/v1/waves/{wave}/psychometrics",
        get(format!("/api/v1/waves/{w}/psychometrics")).await,
        200,
    )
    .await;
    // Errors keep to the error schema.
    assert_conforms(
        &doc,
        "GET",
        "/api/v1/services/{code}",
        get("/api/v1/services/no-such-service".into()).await,
        404,
    )
    .await;
    let anonymous = reqwest::Client::new();
    assert_conforms(
        &doc,
        "GET",
        "/api/v1/me",
        anonymous
            .get(format!("{}/api/v1/me", app.address))
            .send()
            .await
            .expect("get"),
        401,
    )
    .await;

    // The respondent's side, from a new invitation to submission.
    let (_, token) = {
        let conn = &mut app.db.connect();
        let keys = DerivedKeys::new(&app.db.settings().secret_key().expect("secret"));
        samskap::app::waves::create_invitation(
            conn,
            &keys,
            &open_wave,
            &services[0].id,
            &RespondentRole::parse("manager").expect("role"),
            "schema@example.no",
            "nb",
        )
        .expect("invitation")
    };
    let link = format!("{}/api/v1/respondent/{token}", app.address);
    let questionnaire = assert_conforms(
        &doc,
        "GET",
        "/api/v1/respondent/{token}",
        anonymous.get(&link).send().await.expect("get"),
        200,
    )
    .await;
    let consent = anonymous
        .post(format!("{link}/consent"))
        .json(&json!({"language": "nb"}))
        .send()
        .await
        .expect("post");
    assert_conforms(
        &doc,
        "POST",
        "/api/v1/respondent/{token}/consent",
        consent,
        200,
    )
    .await;
    let first_item = questionnaire["pages"][0]["items"][0]["code"]
        .as_str()
        .expect("an item")
        .to_owned();
    let bad = anonymous
        .put(format!("{link}/answers"))
        .json(&json!({"answers": {first_item.clone(): 99, "NOPE": 1}}))
        .send()
        .await
        .expect("put");
    let refused =
        assert_conforms(&doc, "PUT", "/api/v1/respondent/{token}/answers", bad, 422).await;
    assert_eq!(refused["error"]["fields"].as_array().map(Vec::len), Some(2));
    let saved = anonymous
        .put(format!("{link}/answers"))
        .json(&json!({"answers": {first_item: 3}}))
        .send()
        .await
        .expect("put");
    assert_conforms(
        &doc,
        "PUT",
        "/api/v1/respondent/{token}/answers",
        saved,
        200,
    )
    .await;
    let again = assert_conforms(
        &doc,
        "GET",
        "/api/v1/respondent/{token}",
        anonymous.get(&link).send().await.expect("get"),
        200,
    )
    .await;
    assert_eq!(
        again["answers"].as_object().map(serde_json::Map::len),
        Some(1)
    );
    let submitted = anonymous
        .post(format!("{link}/submit"))
        .send()
        .await
        .expect("post");
    assert_conforms(
        &doc,
        "POST",
        "/api/v1/respondent/{token}/submit",
        submitted,
        200,
    )
    .await;

    // The check can fail: a required field taken out, or a field the schema lacks.
    let schema = response_schema(&doc, "GET", "/api/v1/waves/{wave}/psychometrics", 200);
    let mut missing = psychometrics.clone();
    missing.as_object_mut().expect("object").remove("min_cell");
    let mut extra = psychometrics;
    extra["psychometrics"][0]["undocumented"] = json!(1);
    for (body, what) in [(missing, "`min_cell` is required"), (extra, "undocumented")] {
        let mut found = Vec::new();
        differences(&doc, &schema, &body, "body", &mut found);
        assert!(found.iter().any(|f| f.contains(what)), "{what}: {found:?}");
    }
}

/// A body the API can read but whose fields break their rules is refused with 422 and
/// every such field named, as the document says; the rules are in the document's schema.
#[actix_web::test]
async fn a_body_breaking_its_rules_gets_every_field_named() {
    let app = spawn_app().await;
    let (_, token) = invitation(&app);
    let doc = openapi(&app).await;
    let path = "/api/v1/respondent/{token}/consent";
    let language = &doc["components"]["schemas"]["ConsentBody"]["properties"]["language"];
    assert_eq!(language["minLength"], 2, "{language}");
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/respondent/{token}/consent", app.address))
        .json(&json!({"language": "x"}))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 422);
    let body = assert_documented_error(&doc, "POST", path, res, "validation").await;
    assert_eq!(body["error"]["fields"][0]["field"], "language", "{body}");
    assert_eq!(
        body["error"]["fields"][0]["message"],
        "Language: between 2 and 16 characters"
    );
}
