use actix_web::{HttpResponse, web};
use diesel::RunQueryDsl as _;
use serde_json::json;

use crate::web::AppState;

/// `GET /healthz`: 200 when the database answers, 503 when it does not. Used by load
/// balancers and the Docker HEALTHCHECK.
pub async fn check(state: web::Data<AppState>) -> HttpResponse {
    let backend = state.backend.as_str();
    let pool = state.pool.clone();
    let ok = web::block(move || -> anyhow::Result<()> {
        let mut conn = pool.get()?;
        diesel::sql_query("SELECT 1").execute(&mut conn)?;
        Ok(())
    })
    .await;
    match ok {
        Ok(Ok(())) => HttpResponse::Ok().json(json!({ "status": "ok", "database": backend })),
        Ok(Err(e)) => {
            tracing::warn!(
                error = format!("{e:#}"),
                "health check: database unavailable"
            );
            HttpResponse::ServiceUnavailable()
                .json(json!({ "status": "error", "database": backend }))
        }
        Err(_) => HttpResponse::ServiceUnavailable()
            .json(json!({ "status": "error", "database": backend })),
    }
}
