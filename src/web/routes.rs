//! The route table: every path the app answers, in one place, with no logic.

use actix_web::{guard, web};

use super::{assets, handlers};

/// GET, and HEAD for the same handler (actix answers HEAD without a body).
fn get_or_head() -> actix_web::Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", get_or_head().to(handlers::home::index))
        .route("/healthz", get_or_head().to(handlers::health::check))
        .route("/static/{path:.*}", get_or_head().to(assets::serve));
}
