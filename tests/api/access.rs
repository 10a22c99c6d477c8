//! The authorisation matrix: every registered route, every role and anonymous, against
//! the table below. A route without an entry here fails the test, and so does an entry
//! for a route that no longer exists.

use std::collections::HashMap;

use samskap::core::domain::{ScopeKind, UserRole};
use samskap::infra::models::{Region, Service};
use samskap::tools::demo::{self, DemoOptions};
use samskap::web::routes::ROUTES;

use crate::auth_helpers::{browser, create_user, csrf, signed_in};
use crate::helpers::{TestApp, spawn_app};

/// What a caller gets from a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Past access control: any answer but 401, 403 or a redirect to sign-in.
    Allowed,
    /// Sent to sign in (303 to /login, or 401 on the API).
    SignIn,
    /// 403.
    Denied,
}
use Expect::{Allowed as A, Denied as D, SignIn as S};

/// Callers, in the order of the table's columns.
const CALLERS: [&str; 5] = ["anonymous", "admin", "manager", "policymaker", "researcher"];

/// The expected table: method, path → [anonymous, admin, manager, policymaker, researcher].
/// Path parameters are filled in by `fill` below: the manager's own service, the
/// policymaker's own region, a spare user for admin changes, the admin's own token.
fn expected() -> HashMap<(&'static str, &'static str), [Expect; 5]> {
    HashMap::from([
        (("GET", "/"), [A, A, A, A, A]),
        (("GET", "/healthz"), [A, A, A, A, A]),
        (("GET", "/static/{path:.*}"), [A, A, A, A, A]),
        (("GET", "/login"), [A, A, A, A, A]),
        (("POST", "/login"), [A, A, A, A, A]),
        (("POST", "/logout"), [S, A, A, A, A]),
        (("GET", "/me"), [S, A, A, A, A]),
        (("GET", "/mine"), [S, A, A, A, A]),
        (("POST", "/me/password"), [S, A, A, A, A]),
        (("POST", "/me/tokens"), [S, A, A, A, A]),
        // The token is the admin's own: everyone else is refused by the handler.
        (("POST", "/me/tokens/{id}/revoke"), [S, A, D, D, D]),
        (("GET", "/services/{code}"), [S, A, A, A, D]),
        (("GET", "/regions/{id}"), [S, A, D, A, D]),
        (("GET", "/exports"), [S, A, D, D, A]),
        (("GET", "/services/{code}/results.csv"), [S, A, A, A, D]),
        (("GET", "/regions/{id}/results.csv"), [S, A, D, A, D]),
        // The researcher has no grant for the wave: a wave's psychometrics are theirs to
        // read only with one (see `researchers_read_psychometrics_of_granted_waves_only`).
        (("GET", "/waves/{wave}/psychometrics"), [S, A, D, A, D]),
        (("GET", "/waves/{wave}/psychometrics.csv"), [S, A, D, A, D]),
        (("GET", "/exports/bundle"), [S, A, D, D, A]),
        (("GET", "/reports/{wave}/services/{code}"), [S, A, A, A, D]),
        (("GET", "/admin/users"), [S, A, D, D, D]),
        (("POST", "/admin/users"), [S, A, D, D, D]),
        (("GET", "/admin/users/{id}"), [S, A, D, D, D]),
        (("POST", "/admin/users/{id}"), [S, A, D, D, D]),
        (("POST", "/admin/users/{id}/password"), [S, A, D, D, D]),
        (("POST", "/admin/users/{id}/scopes"), [S, A, D, D, D]),
        (
            ("POST", "/admin/users/{id}/scopes/{scope}/delete"),
            [S, A, D, D, D],
        ),
        (("GET", "/admin/audit"), [S, A, D, D, D]),
        (("GET", "/s/{token}"), [A, A, A, A, A]),
        (("POST", "/s/{token}"), [A, A, A, A, A]),
        (("GET", "/s/{token}/withdraw"), [A, A, A, A, A]),
        (("POST", "/s/{token}/withdraw"), [A, A, A, A, A]),
        (("GET", "/admin/waves"), [S, A, D, D, D]),
        (("POST", "/admin/waves"), [S, A, D, D, D]),
        (("GET", "/admin/waves/{id}"), [S, A, D, D, D]),
        (("POST", "/admin/waves/{id}/open"), [S, A, D, D, D]),
        (("POST", "/admin/waves/{id}/close"), [S, A, D, D, D]),
        (("POST", "/admin/waves/{id}/invite"), [S, A, D, D, D]),
        (("POST", "/admin/waves/{id}/remind"), [S, A, D, D, D]),
        (("POST", "/admin/waves/{id}/mail-reports"), [S, A, D, D, D]),
        (("POST", "/admin/waves/{id}/schedule"), [S, A, D, D, D]),
        (("POST", "/admin/waves/{id}/reopen"), [S, A, D, D, D]),
        (("POST", "/admin/waves/{id}/reminders"), [S, A, D, D, D]),
        (("GET", "/admin/waves/{id}/invitations"), [S, A, D, D, D]),
        (("GET", "/admin/catalogue"), [S, A, D, D, D]),
        (("POST", "/admin/catalogue/services"), [S, A, D, D, D]),
        (("POST", "/admin/catalogue/surveys"), [S, A, D, D, D]),
        (
            ("GET", "/admin/surveys/{id}/preview/{role}"),
            [S, A, D, D, D],
        ),
        (("GET", "/api/v1/openapi.json"), [A, A, A, A, A]),
        (("GET", "/api/v1/respondent/{token}"), [A, A, A, A, A]),
        (
            ("POST", "/api/v1/respondent/{token}/consent"),
            [A, A, A, A, A],
        ),
        (
            ("PUT", "/api/v1/respondent/{token}/answers"),
            [A, A, A, A, A],
        ),
        (
            ("POST", "/api/v1/respondent/{token}/submit"),
            [A, A, A, A, A],
        ),
        (("GET", "/api/v1/me"), [S, A, A, A, A]),
        (("GET", "/api/v1/services/{code}"), [S, A, A, A, D]),
        (("GET", "/api/v1/waves"), [S, A, A, A, A]),
        (
            ("GET", "/api/v1/waves/{wave}/services/{code}/results"),
            [S, A, A, A, D],
        ),
        (
            ("GET", "/api/v1/waves/{wave}/services/{code}/benchmarks"),
            [S, A, A, A, D],
        ),
        (("GET", "/api/v1/waves/{wave}/regions"), [S, A, D, A, D]),
        (
            ("GET", "/api/v1/waves/{wave}/psychometrics"),
            [S, A, D, A, D],
        ),
    ])
}

struct Fixture {
    wave_id: String,
    service_code: String,
    region_id: String,
    spare_user: String,
    spare_scope: String,
    admin_token: String,
}

fn fill(path: &str, f: &Fixture) -> String {
    let id = if path.starts_with("/regions/") {
        &f.region_id
    } else if path.starts_with("/admin/waves/") {
        &f.wave_id
    } else if path.starts_with("/me/tokens/") {
        &f.admin_token
    } else {
        &f.spare_user
    };
    path.replace("{path:.*}", "samskap.css")
        .replace("{code}", &f.service_code)
        .replace("{wave}", &f.wave_id)
        .replace("{id}", id)
        .replace("{scope}", &f.spare_scope)
        .replace("{token}", &"0".repeat(40))
}

fn classify(status: u16, location: Option<&str>) -> Expect {
    match status {
        401 => Expect::SignIn,
        303 if location.is_some_and(|l| l.starts_with("/login")) => Expect::SignIn,
        403 => Expect::Denied,
        _ => Expect::Allowed,
    }
}

async fn setup() -> (TestApp, Fixture) {
    let app = spawn_app().await;
    let (service_code, region_id) = {
        let conn = &mut app.db.connect();
        demo::load(
            conn,
            DemoOptions {
                services: 40,
                seed: 11,
            },
        )
        .expect("demo");
        let vest = Region::all(conn)
            .expect("regions")
            .into_iter()
            .find(|r| r.name == "Helse Vest")
            .expect("Helse Vest");
        let service = Service::all(conn)
            .expect("services")
            .into_iter()
            .find(|s| s.health_region_id == vest.id)
            .expect("a service in Helse Vest");
        (service.code, vest.id.to_string())
    };
    create_user(&app, "admin@test.no", UserRole::Admin, &[]);
    create_user(
        &app,
        "manager@test.no",
        UserRole::Manager,
        &[(ScopeKind::Service, &service_code)],
    );
    create_user(
        &app,
        "policymaker@test.no",
        UserRole::Policymaker,
        &[(ScopeKind::Region, "Helse Vest")],
    );
    create_user(&app, "researcher@test.no", UserRole::Researcher, &[]);
    let spare = create_user(
        &app,
        "spare@test.no",
        UserRole::Manager,
        &[(ScopeKind::Service, &service_code)],
    );
    let (spare_scope, admin_token) = {
        let conn = &mut app.db.connect();
        let scope = samskap::infra::models::UserScope::for_user(conn, &spare.id).expect("scopes")
            [0]
        .id
        .to_string();
        let admin = samskap::infra::models::User::find_by_email(conn, "admin@test.no")
            .expect("q")
            .expect("admin");
        let (token_id, _) = samskap::app::accounts::create_token(
            conn,
            &samskap::app::audit::Actor::cli(),
            &admin.id,
            "matrix",
        )
        .expect("token");
        (scope, token_id.to_string())
    };
    let wave_id = {
        let conn = &mut app.db.connect();
        let instrument = samskap::infra::models::InstrumentRow::all(conn)
            .expect("instruments")
            .remove(0)
            .id;
        let spec = samskap::app::waves::WaveSpec {
            name: "Matrix".into(),
            instrument,
            anonymity: samskap::core::domain::Anonymity::Linked,
            opens_at: None,
            closes_at: None,
            reminder_max: 2,
            reminder_interval_days: 7,
            email_retention_days: 90,
            service_types: vec![],
        };
        samskap::app::waves::create(conn, &spec, &samskap::app::audit::Actor::cli())
            .expect("wave")
            .id
            .to_string()
    };
    (
        app,
        Fixture {
            wave_id,
            service_code,
            region_id,
            spare_user: spare.id.to_string(),
            spare_scope,
            admin_token,
        },
    )
}

#[actix_web::test]
async fn every_route_answers_every_role_as_the_table_says() {
    let (app, fixture) = setup().await;
    let table = expected();

    // The table and the registered routes are the same set.
    for route in ROUTES {
        assert!(
            table.contains_key(&(route.method, route.path)),
            "route {} {} has no entry in the matrix",
            route.method,
            route.path
        );
    }
    for (method, path) in table.keys() {
        assert!(
            ROUTES
                .iter()
                .any(|r| r.method == *method && r.path == *path),
            "matrix entry {method} {path} is not a route"
        );
    }

    let mut clients = vec![browser()];
    for email in [
        "admin@test.no",
        "manager@test.no",
        "policymaker@test.no",
        "researcher@test.no",
    ] {
        clients.push(signed_in(&app, email).await);
    }
    // Sign-out last, so each session lasts the whole walk.
    let mut routes: Vec<_> = ROUTES.iter().collect();
    routes.sort_by_key(|r| r.path == "/logout");

    let mut failures = Vec::new();
    for route in routes {
        let path = fill(route.path, &fixture);
        for (i, client) in clients.iter().enumerate() {
            let url = format!("{}{path}", app.address);
            let method = reqwest::Method::from_bytes(route.method.as_bytes()).expect("method");
            let response = if route.method == "GET" {
                client.get(&url).send().await.expect("request")
            } else if path.starts_with("/api/") {
                // The API takes no cookies for state changes: no CSRF token to check.
                client
                    .request(method, &url)
                    .json(&serde_json::json!({}))
                    .send()
                    .await
                    .expect("request")
            } else {
                // Every state-changing route refuses a form without the CSRF token…
                let without = client
                    .post(&url)
                    .form(&[("x", "1")])
                    .send()
                    .await
                    .expect("request");
                let loc = without
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let got = classify(without.status().as_u16(), loc.as_deref());
                if table[&(route.method, route.path)][i] != Expect::SignIn && got != Expect::Denied
                {
                    failures.push(format!(
                        "{} {path} as {}: without CSRF token got {}",
                        route.method,
                        CALLERS[i],
                        without.status()
                    ));
                }
                // …and is judged with it.
                let token = csrf(&app, client, "/login").await;
                client
                    .post(&url)
                    .form(&[("_csrf", token.as_str())])
                    .send()
                    .await
                    .expect("request")
            };
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let got = classify(response.status().as_u16(), location.as_deref());
            let want = table[&(route.method, route.path)][i];
            if got != want {
                failures.push(format!(
                    "{} {path} as {}: expected {want:?}, got {got:?} ({})",
                    route.method,
                    CALLERS[i],
                    response.status()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "authorisation matrix:\n{}",
        failures.join("\n")
    );
}

/// A researcher reads a wave's psychometrics (page, CSV, API) only with a grant for that
/// wave, as for its export.
#[actix_web::test]
async fn researchers_read_psychometrics_of_granted_waves_only() {
    let (app, fixture) = setup().await;
    create_user(
        &app,
        "granted@test.no",
        UserRole::Researcher,
        &[(ScopeKind::Wave, &fixture.wave_id)],
    );
    let granted = signed_in(&app, "granted@test.no").await;
    let ungranted = signed_in(&app, "researcher@test.no").await;
    for path in [
        format!("/waves/{}/psychometrics", fixture.wave_id),
        format!("/waves/{}/psychometrics.csv", fixture.wave_id),
        format!("/api/v1/waves/{}/psychometrics", fixture.wave_id),
    ] {
        let url = format!("{}{path}", app.address);
        let denied = ungranted.get(&url).send().await.expect("request");
        assert_eq!(denied.status(), 403, "{path} without a grant");
        let allowed = granted.get(&url).send().await.expect("request");
        assert_ne!(allowed.status(), 403, "{path} with a grant");
        // Past access control: the draft wave has no results yet (404), or they are
        // being computed (503).
        assert!(
            [200, 404, 503].contains(&allowed.status().as_u16()),
            "{path} with a grant: {}",
            allowed.status()
        );
    }
}

/// The scope dimension of the matrix: every route that names a service, a region or a
/// wave, asked by each role for one inside their scope and one outside it (the manager's
/// own service and another health region's; the policymaker's health region and another;
/// a wave granted to a researcher and one that is not). Outside the scope is 403 for
/// everyone but admins, on pages, CSV downloads and the API alike.
#[actix_web::test]
async fn every_scoped_route_keeps_to_the_callers_scope() {
    let (app, fixture) = setup().await;
    let (other_service, other_region) = {
        let conn = &mut app.db.connect();
        let all = Region::all(conn).expect("regions");
        let other = all
            .iter()
            .find(|r| r.name == "Helse Nord")
            .expect("Helse Nord");
        let service = Service::all(conn)
            .expect("services")
            .into_iter()
            .find(|s| s.health_region_id == other.id)
            .expect("a service in Helse Nord");
        (service.code, other.id.to_string())
    };
    create_user(
        &app,
        "granted@test.no",
        UserRole::Researcher,
        &[(ScopeKind::Wave, &fixture.wave_id)],
    );
    let callers = ["admin", "manager", "policymaker", "researcher", "granted"];
    let mut clients = Vec::new();
    for who in callers {
        clients.push(signed_in(&app, &format!("{who}@test.no")).await);
    }
    let base = expected();
    let mut checked = 0;
    let mut failures = Vec::new();
    for route in ROUTES.iter().filter(|r| r.method == "GET") {
        let names_service = route.path.contains("{code}");
        let names_region = route.path.starts_with("/regions/{id}");
        let names_wave = route.path.contains("{wave}") && !names_service;
        if !(names_service || names_region || names_wave) {
            continue;
        }
        for outside in [false, true] {
            let mut path = fill(route.path, &fixture);
            if outside && names_service {
                path = path.replace(&fixture.service_code, &other_service);
            }
            if outside && names_region {
                path = path.replace(&fixture.region_id, &other_region);
            }
            for (i, client) in clients.iter().enumerate() {
                // The base table's verdict for the role (the granted researcher is a
                // researcher), then the scope's.
                let role_column = if i == 4 { 4 } else { i + 1 };
                let by_role = base[&(route.method, route.path)][role_column];
                let psychometrics = route.path.contains("psychometrics");
                let want = match callers[i] {
                    // The base table's researcher has no grant: its verdict on
                    // psychometrics is the scope's, not the role's.
                    "granted" if psychometrics => Expect::Allowed,
                    _ if by_role != Expect::Allowed => by_role,
                    "admin" => Expect::Allowed,
                    // A researcher's scope is their waves: granted or not, whatever
                    // `outside` changed (services and regions are not theirs to see).
                    "researcher" if psychometrics => Expect::Denied,
                    _ if outside && (names_service || names_region) => Expect::Denied,
                    _ => Expect::Allowed,
                };
                let response = client
                    .get(format!("{}{path}", app.address))
                    .send()
                    .await
                    .expect("request");
                let location = response
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let got = classify(response.status().as_u16(), location.as_deref());
                checked += 1;
                if got != want {
                    failures.push(format!(
                        "GET {path} as {}: expected {want:?}, got {got:?} ({})",
                        callers[i],
                        response.status()
                    ));
                }
            }
        }
    }
    assert!(
        checked >= 100,
        "only {checked} checks: did the routes change?"
    );
    assert!(
        failures.is_empty(),
        "scope matrix:\n{}",
        failures.join("\n")
    );
}
