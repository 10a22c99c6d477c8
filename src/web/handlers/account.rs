//! The signed-in user's own page: who am I, what may I see, password, API tokens.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use crate::app::accounts;
use crate::core::domain::ApiTokenId;
use crate::infra::i18n::fill;
use crate::infra::models::ApiToken;
use crate::web::errors::{AppError, AppResult};
use crate::web::security::{CsrfForm, Ctx, SessionData};
use crate::web::{AppState, templates, with_conn};

async fn render(
    state: &web::Data<AppState>,
    ctx: &Ctx,
    status: StatusCode,
    extra: serde_json::Value,
) -> AppResult<HttpResponse> {
    let access = ctx.access()?.clone();
    let lang = ctx.lang();
    let (scopes, tokens) = with_conn(state, move |conn| {
        let scopes: Vec<String> = access
            .scopes
            .iter()
            .map(|s| accounts::describe_scope_in(conn, s, lang))
            .collect::<Result<_, _>>()?;
        let tokens = ApiToken::for_user(conn, &access.user.id)?;
        Ok((scopes, tokens))
    })
    .await?;
    let user = ctx.user().ok_or(AppError::Unauthorized)?;
    let tokens: Vec<_> = tokens
        .iter()
        .map(|t| {
            json!({
                "id": t.id, "name": t.name,
                "created": crate::infra::time::shown(t.created_at),
                "last_used": t.last_used_at.map(crate::infra::time::shown),
                "revoked": t.revoked_at.map(crate::infra::time::shown),
                "expires": t.expires_at.map(|d| d.format("%Y-%m-%d").to_string()),
                "expired": t.expires_at.is_some_and(|d| d <= crate::infra::db::now()),
            })
        })
        .collect();
    let mut data = json!({
        "page_title": format!("{} · samskap", fill(lang, "account.title", &[])),
        "email": user.email, "display_name": user.display_name,
        "role": fill(lang, &format!("user_role.{}", user.role.as_str()), &[]),
        "scopes": scopes, "tokens": tokens, "new_token": null, "message": null, "error": null,
        "token_lifetime_days": accounts::TOKEN_LIFETIME_DAYS,
    });
    if let (Some(d), Some(e)) = (data.as_object_mut(), extra.as_object()) {
        d.extend(e.clone());
    }
    templates::page_with_status(status, "account", ctx, data)
}

/// `GET /me`
pub async fn show(state: web::Data<AppState>, ctx: Ctx) -> AppResult<HttpResponse> {
    render(&state, &ctx, StatusCode::OK, json!({})).await
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    current: String,
    new: String,
}

/// `POST /me/password`: needs the current password; keeps this browser signed in.
pub async fn change_password(
    state: web::Data<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> AppResult<HttpResponse> {
    let user = ctx.access()?.user.clone();
    if let Err(e) = accounts::check_password(&form.new) {
        let error = if form.new.chars().count() < accounts::MIN_PASSWORD_LEN {
            fill(
                ctx.lang(),
                "account.password_too_short",
                &[("n", &accounts::MIN_PASSWORD_LEN.to_string())],
            )
        } else {
            format!("{}: {e}.", fill(ctx.lang(), "account.new_password", &[]))
        };
        return render(
            &state,
            &ctx,
            StatusCode::BAD_REQUEST,
            json!({"error": error}),
        )
        .await;
    }
    let actor = ctx.actor();
    let changed = with_conn(&state, move |conn| {
        Ok(accounts::change_own_password(
            conn,
            &actor,
            &user,
            &form.current,
            &form.new,
        )?)
    })
    .await?;
    match changed {
        accounts::OwnChange::Throttled => Ok(crate::web::security::too_many_requests(
            false,
            accounts::THROTTLE_WINDOW,
        )),
        accounts::OwnChange::WrongCurrent => {
            render(
                &state,
                &ctx,
                StatusCode::BAD_REQUEST,
                json!({"error": fill(ctx.lang(), "account.wrong_current", &[])}),
            )
            .await
        }
        accounts::OwnChange::Changed(updated) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/me"))
            .cookie(SessionData::new(&updated).cookie(&state.cookie_keys))
            .finish()),
    }
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    name: String,
}

/// `POST /me/tokens`: shows the new token once.
pub async fn create_token(
    state: web::Data<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> AppResult<HttpResponse> {
    let user = ctx.access()?.user.clone();
    let actor = ctx.actor();
    let created = with_conn(&state, move |conn| {
        match accounts::create_token(conn, &actor, &user.id, &form.name) {
            Ok((_, token)) => Ok(Ok(token)),
            Err(e) => Ok(Err(e.to_string())),
        }
    })
    .await?;
    match created {
        Ok(token) => render(&state, &ctx, StatusCode::OK, json!({"new_token": token})).await,
        Err(e) => render(&state, &ctx, StatusCode::BAD_REQUEST, json!({"error": e})).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

/// `POST /me/tokens/{id}/revoke`: only your own tokens (403 otherwise).
pub async fn revoke_token(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<String>,
    _form: CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let user = ctx.access()?.user.clone();
    let actor = ctx.actor();
    let id = ApiTokenId::from_string(path.into_inner());
    with_conn(&state, move |conn| {
        if accounts::revoke_token(conn, &actor, &user.id, &id)? {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    })
    .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/me"))
        .finish())
}
