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
        // A short wait: a load balancer asking wants a quick answer, and requests wait
        // longer (the pool's 5 s) before they are answered 503.
        let mut conn = pool.get_timeout(std::time::Duration::from_secs(2))?;
        diesel::sql_query("SELECT 1").execute(&mut conn)?;
        Ok(())
    })
    .await;
    match ok {
        Ok(Ok(())) => HttpResponse::Ok().json(json!({ "status": "ok", "database": backend })),
        Ok(Err(e)) => {
            // Returned connections are checked for a while (see `db::Manager::has_broken`).
            crate::infra::db::note_trouble();
            tracing::warn!(
                error = format!("{e:#}"),
                "health check: database unavailable"
            );
            unavailable(backend)
        }
        Err(_) => unavailable(backend),
    }
}

fn unavailable(backend: &str) -> HttpResponse {
    HttpResponse::ServiceUnavailable()
        .insert_header((actix_web::http::header::RETRY_AFTER, "5"))
        .json(json!({
            "status": "error",
            "database": backend,
            "message": "the database does not answer",
        }))
}
