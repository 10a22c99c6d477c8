//! Sign-in and sign-out.

use std::time::Duration;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use crate::app::accounts;
use crate::app::audit::{self, Actor};
use crate::infra::db;
use crate::infra::i18n::fill;
use crate::infra::models::{User, UserChanges};
use crate::web::errors::AppResult;
use crate::web::security::{self, CSRF_COOKIE, CsrfForm, Ctx, SESSION_COOKIE, SessionData};
use crate::web::{AppState, templates, with_conn};

/// Failed sign-ins per account within [`THROTTLE_WINDOW`] before further attempts get 429.
pub const MAX_FAILED_LOGINS: i64 = 5;
/// Failed sign-ins per client address within [`THROTTLE_WINDOW`] before further
/// attempts from it get 429. Successful sign-ins do not count: the staff of a hospital
/// behind one address sign in every morning.
pub const MAX_FAILED_LOGINS_PER_ADDRESS: usize = 20;
pub const THROTTLE_WINDOW: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

fn page_title(ctx: &Ctx) -> String {
    format!("{} · samskap", fill(ctx.lang(), "login.title", &[]))
}

/// `GET /login`
pub async fn login_form(ctx: Ctx, query: web::Query<NextQuery>) -> AppResult<HttpResponse> {
    templates::page(
        "login",
        &ctx,
        json!({"page_title": page_title(&ctx), "next": security::safe_next(query.next.as_deref()), "error": null, "email": ""}),
    )
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

enum Outcome {
    Success(Box<User>),
    Failure,
    Throttled,
}

/// `POST /login`: failures are throttled per client address (in memory) and per account
/// (in the shared audit log); successes count against neither. An unknown e-mail costs
/// the same time as a wrong password.
pub async fn login(
    state: web::Data<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> AppResult<HttpResponse> {
    let ip = ctx.0.ip.clone().unwrap_or_default();
    let address_key = format!("login-failure:{ip}");
    if state
        .limiter
        .exhausted(&address_key, MAX_FAILED_LOGINS_PER_ADDRESS, THROTTLE_WINDOW)
    {
        return Ok(security::too_many_requests(false, THROTTLE_WINDOW));
    }
    let email = form.email.trim().to_lowercase();
    let password = form.password;
    let anonymous = ctx.actor();
    let email_for_db = email.clone();
    let outcome = with_conn(&state, move |conn| {
        let email = email_for_db;
        let window = chrono::Duration::from_std(THROTTLE_WINDOW).unwrap_or_default();
        let target = Some(("user", email.as_str()));
        if audit::failed_logins_since(conn, &email, db::now() - window)? >= MAX_FAILED_LOGINS {
            audit::record(conn, &anonymous, "login.throttled", target, None)?;
            return Ok(Outcome::Throttled);
        }
        let user = User::find_by_email(conn, &email)?;
        let verified = if let Some(u) = &user {
            accounts::verify_password(&password, &u.password_hash)
        } else {
            accounts::verify_dummy(&password);
            false
        };
        match user {
            Some(u) if verified && u.active => {
                User::update(
                    conn,
                    &u.id,
                    &UserChanges {
                        last_login_at: Some(Some(db::now())),
                        ..Default::default()
                    },
                )?;
                let actor = Actor {
                    user_id: Some(u.id.clone()),
                    label: u.email.clone(),
                    ip: anonymous.ip.clone(),
                };
                audit::record(conn, &actor, "login.success", target, None)?;
                Ok(Outcome::Success(Box::new(u)))
            }
            other => {
                let reason = match other {
                    None => "unknown account",
                    Some(u) if !u.active => "account disabled",
                    Some(_) => "wrong password",
                };
                audit::record(
                    conn,
                    &anonymous,
                    "login.failure",
                    target,
                    Some(json!({"reason": reason})),
                )?;
                Ok(Outcome::Failure)
            }
        }
    })
    .await?;

    if matches!(outcome, Outcome::Failure) {
        state.limiter.hit(&address_key, THROTTLE_WINDOW);
    }
    match outcome {
        Outcome::Throttled => Ok(security::too_many_requests(false, THROTTLE_WINDOW)),
        Outcome::Failure => templates::page_with_status(
            StatusCode::UNAUTHORIZED,
            "login",
            &ctx,
            json!({
                "page_title": page_title(&ctx),
                "next": security::safe_next(form.next.as_deref()),
                "error": fill(ctx.lang(), "login.wrong", &[]),
                "email": email,
            }),
        ),
        Outcome::Success(user) => {
            let keys = &state.cookie_keys;
            let target =
                security::safe_next(form.next.as_deref()).unwrap_or_else(|| "/".to_owned());
            // A new session, and a new CSRF token: nothing from before sign-in carries over.
            let fresh_csrf = crate::infra::crypto::hex(&crate::infra::crypto::random_bytes::<32>());
            Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, target))
                .cookie(SessionData::new(&user).cookie(keys))
                .cookie(keys.make(CSRF_COOKIE, fresh_csrf, None))
                .finish())
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

/// `POST /logout`
pub async fn logout(
    state: web::Data<AppState>,
    ctx: Ctx,
    _form: CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let actor = ctx.actor();
    let user = ctx.user().map(|u| u.id.clone());
    with_conn(&state, move |conn| {
        // The cookie alone is not enough: a copy of it must stop working too. Every
        // session of the account signed in until now ends (on every instance).
        if let Some(id) = &user {
            User::update(
                conn,
                id,
                &UserChanges {
                    sessions_ended_at: Some(Some(security::unix_millis())),
                    ..Default::default()
                },
            )?;
        }
        Ok(audit::record(conn, &actor, "logout", None, None)?)
    })
    .await?;
    let keys = &state.cookie_keys;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/"))
        .cookie(keys.removal(SESSION_COOKIE))
        .cookie(keys.make(
            CSRF_COOKIE,
            crate::infra::crypto::hex(&crate::infra::crypto::random_bytes::<32>()),
            None,
        ))
        .finish())
}
