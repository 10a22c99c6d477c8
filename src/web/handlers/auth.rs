//! Sign-in and sign-out.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use crate::app::accounts::{self, SignIn, THROTTLE_WINDOW};
use crate::infra::i18n::fill;
use crate::web::errors::AppResult;
use crate::web::security::{self, CSRF_COOKIE, CsrfForm, Ctx, SESSION_COOKIE, SessionData};
use crate::web::{AppState, templates, with_conn};

/// Failed sign-ins per client address within [`THROTTLE_WINDOW`] before further
/// attempts from it get 429. Successful sign-ins do not count: the staff of a hospital
/// behind one address sign in every morning.
pub const MAX_FAILED_LOGINS_PER_ADDRESS: usize = 20;

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
    let next = security::safe_next(form.next.as_deref());
    let going_somewhere = next.is_some();
    let outcome = with_conn(&state, move |conn| {
        let outcome = accounts::sign_in(conn, &anonymous, &email_for_db, &password)?;
        // Where the user starts, unless they were on their way somewhere.
        let landing = match &outcome {
            SignIn::Success(user) if !going_somewhere => {
                Some(accounts::Access::load(conn, (**user).clone())?.landing(conn)?)
            }
            SignIn::Success(_) | SignIn::Failure | SignIn::Throttled => None,
        };
        Ok((outcome, landing))
    })
    .await?;
    let (outcome, landing) = outcome;

    if matches!(outcome, SignIn::Failure) {
        state.limiter.hit(&address_key, THROTTLE_WINDOW);
    }
    match outcome {
        SignIn::Throttled => Ok(security::too_many_requests(false, THROTTLE_WINDOW)),
        SignIn::Failure => templates::page_with_status(
            StatusCode::UNAUTHORIZED,
            "login",
            &ctx,
            json!({
                "page_title": page_title(&ctx),
                "next": next,
                "error": fill(ctx.lang(), "login.wrong", &[]),
                "email": email,
            }),
        ),
        SignIn::Success(user) => {
            let keys = &state.cookie_keys;
            let target = next.or(landing).unwrap_or_else(|| "/".to_owned());
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
        // The cookie alone is not enough: a copy of it must stop working too.
        let now = security::unix_millis();
        Ok(accounts::sign_out(conn, &actor, user.as_ref(), now)?)
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
