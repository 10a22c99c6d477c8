use crate::helpers::{expected_backend, spawn_app};

#[actix_web::test]
async fn health_reports_ok_and_the_backend_in_use() {
    let app = spawn_app().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(
        body,
        serde_json::json!({ "status": "ok", "database": expected_backend() })
    );
}

#[actix_web::test]
async fn head_is_answered_like_get() {
    let app = spawn_app().await;
    let response = app
        .client
        .head(format!("{}/healthz", app.address))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
}
