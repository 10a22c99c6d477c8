//! The route table: every path the app answers and who may use it, in one place, with no
//! logic. The access-control middleware refuses any matched route missing from this
//! table, and the authorisation-matrix test walks [`ROUTES`].

use actix_web::{guard, web};

use super::{assets, handlers};
use crate::core::domain::UserRole;

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Public,
    /// Signed-in users with one of these roles (session, or API token on `/api/`).
    /// Handlers additionally check scope (which service, which region).
    SignedIn(&'static [UserRole]),
}

const ANY: &[UserRole] = UserRole::ALL;
const ADMIN: &[UserRole] = &[UserRole::Admin];
const SERVICE_VIEWERS: &[UserRole] = &[UserRole::Admin, UserRole::Manager, UserRole::Policymaker];
const REGION_VIEWERS: &[UserRole] = &[UserRole::Admin, UserRole::Policymaker];
const ANALYSTS: &[UserRole] = &[UserRole::Admin, UserRole::Policymaker, UserRole::Researcher];
const RESEARCHERS: &[UserRole] = &[UserRole::Admin, UserRole::Researcher];

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct RouteDef {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
}

macro_rules! routes {
    ($( $method:ident $path:literal => $handler:path, $access:expr; )*) => {
        /// Every route, as registered.
        pub static ROUTES: &[RouteDef] = &[
            $( RouteDef { method: stringify!($method), path: $path, access: $access }, )*
        ];

        /// Registers every route. Each is its own resource with a method guard, so
        /// requests with another method fall through to the next resource.
        pub fn configure(cfg: &mut web::ServiceConfig) {
            $( cfg.service(web::resource($path).guard(method_guard(stringify!($method))).to($handler)); )*
        }
    };
}

fn method_guard(method: &str) -> impl guard::Guard + use<> {
    let get = method == "GET";
    let m = actix_web::http::Method::from_bytes(method.as_bytes())
        .unwrap_or(actix_web::http::Method::GET);
    guard::fn_guard(move |ctx| {
        let actual = ctx.head().method.clone();
        actual == m || (get && actual == actix_web::http::Method::HEAD)
    })
}

routes! {
    // Respondent routes first: the router tries resources in order, and these carry the
    // load of a wave.
    GET  "/s/{token}" => handlers::respondent::show, Access::Public;
    POST "/s/{token}" => handlers::respondent::post, Access::Public;
    GET  "/s/{token}/withdraw" => handlers::respondent::withdraw_form, Access::Public;
    POST "/s/{token}/withdraw" => handlers::respondent::withdraw, Access::Public;
    GET  "/api/v1/respondent/{token}" => handlers::respondent_api::show, Access::Public;
    POST "/api/v1/respondent/{token}/consent" => handlers::respondent_api::consent, Access::Public;
    PUT  "/api/v1/respondent/{token}/answers" => handlers::respondent_api::save, Access::Public;
    POST "/api/v1/respondent/{token}/submit" => handlers::respondent_api::submit, Access::Public;
    GET  "/" => handlers::home::index, Access::Public;
    GET  "/healthz" => handlers::health::check, Access::Public;
    GET  "/static/{path:.*}" => assets::serve, Access::Public;
    GET  "/login" => handlers::auth::login_form, Access::Public;
    POST "/login" => handlers::auth::login, Access::Public;
    POST "/logout" => handlers::auth::logout, Access::SignedIn(ANY);
    GET  "/me" => handlers::account::show, Access::SignedIn(ANY);
    GET  "/mine" => handlers::home::mine, Access::SignedIn(ANY);
    POST "/me/password" => handlers::account::change_password, Access::SignedIn(ANY);
    POST "/me/tokens" => handlers::account::create_token, Access::SignedIn(ANY);
    POST "/me/tokens/{id}/revoke" => handlers::account::revoke_token, Access::SignedIn(ANY);
    GET  "/services/{code}" => handlers::services::show, Access::SignedIn(SERVICE_VIEWERS);
    GET  "/reports/{wave}/services/{code}" => handlers::services::report, Access::SignedIn(SERVICE_VIEWERS);
    GET  "/services/{code}/results.csv" => handlers::services::results_csv, Access::SignedIn(SERVICE_VIEWERS);
    GET  "/regions/{id}/results.csv" => handlers::regions::results_csv, Access::SignedIn(REGION_VIEWERS);
    GET  "/waves/{wave}/psychometrics" => handlers::exports::psychometrics, Access::SignedIn(ANALYSTS);
    GET  "/waves/{wave}/psychometrics.csv" => handlers::exports::psychometrics_csv, Access::SignedIn(ANALYSTS);
    GET  "/exports" => handlers::exports::list, Access::SignedIn(RESEARCHERS);
    GET  "/exports/bundle" => handlers::exports::bundle, Access::SignedIn(RESEARCHERS);
    GET  "/regions/{id}" => handlers::regions::show, Access::SignedIn(REGION_VIEWERS);
    GET  "/admin/users" => handlers::admin::users::list, Access::SignedIn(ADMIN);
    POST "/admin/users" => handlers::admin::users::create, Access::SignedIn(ADMIN);
    GET  "/admin/users/{id}" => handlers::admin::users::show, Access::SignedIn(ADMIN);
    POST "/admin/users/{id}" => handlers::admin::users::update, Access::SignedIn(ADMIN);
    POST "/admin/users/{id}/password" => handlers::admin::users::reset_password, Access::SignedIn(ADMIN);
    POST "/admin/users/{id}/scopes" => handlers::admin::users::add_scope, Access::SignedIn(ADMIN);
    POST "/admin/users/{id}/scopes/{scope}/delete" => handlers::admin::users::remove_scope, Access::SignedIn(ADMIN);
    GET  "/admin/audit" => handlers::admin::audit::list, Access::SignedIn(ADMIN);
    GET  "/admin/waves" => handlers::admin::waves::list, Access::SignedIn(ADMIN);
    POST "/admin/waves" => handlers::admin::waves::create, Access::SignedIn(ADMIN);
    GET  "/admin/waves/{id}" => handlers::admin::waves::show, Access::SignedIn(ADMIN);
    POST "/admin/waves/{id}/open" => handlers::admin::waves::open, Access::SignedIn(ADMIN);
    POST "/admin/waves/{id}/close" => handlers::admin::waves::close, Access::SignedIn(ADMIN);
    POST "/admin/waves/{id}/invite" => handlers::admin::waves::invite, Access::SignedIn(ADMIN);
    POST "/admin/waves/{id}/remind" => handlers::admin::waves::remind, Access::SignedIn(ADMIN);
    POST "/admin/waves/{id}/mail-reports" => handlers::admin::waves::mail_reports, Access::SignedIn(ADMIN);
    POST "/admin/waves/{id}/schedule" => handlers::admin::waves::schedule, Access::SignedIn(ADMIN);
    POST "/admin/waves/{id}/reopen" => handlers::admin::waves::reopen, Access::SignedIn(ADMIN);
    POST "/admin/waves/{id}/reminders" => handlers::admin::waves::pause_reminders, Access::SignedIn(ADMIN);
    GET  "/admin/waves/{id}/invitations" => handlers::admin::waves::invitations, Access::SignedIn(ADMIN);
    GET  "/admin/catalogue" => handlers::admin::catalogue::show, Access::SignedIn(ADMIN);
    POST "/admin/catalogue/services" => handlers::admin::catalogue::import_services, Access::SignedIn(ADMIN);
    POST "/admin/catalogue/surveys" => handlers::admin::catalogue::load_survey, Access::SignedIn(ADMIN);
    GET  "/admin/surveys/{id}/preview/{role}" => handlers::respondent::preview, Access::SignedIn(ADMIN);
    GET  "/api/v1/openapi.json" => handlers::respondent_api::openapi, Access::Public;
    GET  "/api/v1/me" => handlers::api::me, Access::SignedIn(ANY);
    GET  "/api/v1/services/{code}" => handlers::api::service, Access::SignedIn(SERVICE_VIEWERS);
    GET  "/api/v1/waves" => handlers::api::waves, Access::SignedIn(ANY);
    GET  "/api/v1/waves/{wave}/services/{code}/results" => handlers::api::service_results, Access::SignedIn(SERVICE_VIEWERS);
    GET  "/api/v1/waves/{wave}/services/{code}/benchmarks" => handlers::api::service_benchmarks, Access::SignedIn(SERVICE_VIEWERS);
    GET  "/api/v1/waves/{wave}/regions" => handlers::api::regions, Access::SignedIn(REGION_VIEWERS);
    GET  "/api/v1/waves/{wave}/psychometrics" => handlers::api::psychometrics, Access::SignedIn(ANALYSTS);
}

/// The methods the table answers on a resource pattern, HEAD along with GET (for `Allow`).
pub fn methods(pattern: &str) -> Vec<&'static str> {
    ROUTES
        .iter()
        .filter(|r| r.path == pattern)
        .flat_map(|r| match r.method {
            "GET" => &["GET", "HEAD"][..],
            _ => std::slice::from_ref(&r.method),
        })
        .copied()
        .collect()
}

/// The table row for a matched resource pattern and method (HEAD counts as GET).
pub fn find(method: &str, pattern: &str) -> Option<&'static RouteDef> {
    let method = if method == "HEAD" { "GET" } else { method };
    ROUTES
        .iter()
        .find(|r| r.path == pattern && r.method == method)
}
