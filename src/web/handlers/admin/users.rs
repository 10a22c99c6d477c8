//! Managing users and their scopes.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use crate::app::accounts::{self, ScopeSpec};
use crate::app::validation::Validate;
use crate::core::domain::{ScopeKind, UserId, UserRole, UserScopeId};
use crate::infra::i18n::fill;
use crate::infra::models::{User, UserScope};
use crate::web::errors::{AppError, AppResult};
use crate::web::security::{CsrfForm, Ctx};
use crate::web::{AppState, templates, with_conn};

/// The name of a role in `lang`.
fn role_label(lang: &str, role: UserRole) -> String {
    fill(lang, &format!("user_role.{}", role.as_str()), &[])
}

fn role_options(lang: &str, selected: Option<UserRole>) -> Vec<serde_json::Value> {
    UserRole::ALL
        .iter()
        .map(|r| json!({"value": r.as_str(), "label": role_label(lang, *r), "selected": Some(*r) == selected}))
        .collect()
}

async fn render_list(
    state: &web::Data<AppState>,
    ctx: &Ctx,
    status: StatusCode,
    extra: serde_json::Value,
) -> AppResult<HttpResponse> {
    let lang = ctx.lang();
    let users = with_conn(state, move |conn| {
        User::all(conn)?
            .into_iter()
            .map(|u| {
                let scopes = UserScope::for_user(conn, &u.id)?.len();
                Ok(json!({
                    "id": u.id, "email": u.email, "display_name": u.display_name, "role": role_label(lang, u.role),
                    "active": u.active, "scopes": scopes,
                    "last_login": u.last_login_at.map(crate::infra::time::shown),
                }))
            })
            .collect::<AppResult<Vec<_>>>()
    })
    .await?;
    let mut data = json!({
        "page_title": format!("{} · samskap", fill(lang, "admin.users.title", &[])),
        "users": users, "roles": role_options(lang, Some(UserRole::Manager)),
        "created": null, "errors": [], "form": {"email": "", "display_name": ""},
    });
    if let (Some(d), Some(e)) = (data.as_object_mut(), extra.as_object()) {
        d.extend(e.clone());
    }
    templates::page_with_status(status, "admin_users", ctx, data)
}

/// `GET /admin/users`
pub async fn list(state: web::Data<AppState>, ctx: Ctx) -> AppResult<HttpResponse> {
    render_list(&state, &ctx, StatusCode::OK, json!({})).await
}

#[derive(Debug, Deserialize, Validate)]
pub struct NewUserForm {
    #[validate(custom(function = "crate::app::validation::email"))]
    email: String,
    #[serde(default)]
    #[validate(length(max = 200))]
    display_name: String,
    #[validate(custom(function = "user_role"))]
    role: String,
    /// Empty: generate one and show it once.
    #[serde(default)]
    #[validate(custom(function = "crate::app::validation::new_password_or_empty"))]
    password: String,
}

fn user_role(value: &str) -> Result<(), crate::app::validation::ValidationError> {
    crate::app::validation::choice(value, UserRole::CODES)
}

/// `POST /admin/users`
pub async fn create(
    state: web::Data<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<NewUserForm>,
) -> AppResult<HttpResponse> {
    let lang = ctx.lang();
    let typed = json!({"email": form.email, "display_name": form.display_name, "role": form.role});
    if let Err(problems) =
        crate::app::validation::check(&form, &["email", "display_name", "role", "password"])
    {
        return render_list(
            &state,
            &ctx,
            StatusCode::BAD_REQUEST,
            json!({"errors": problems.messages(lang), "form": typed,
                   "roles": role_options(lang, UserRole::parse(&form.role).ok().or(Some(UserRole::Manager)))}),
        )
        .await;
    }
    let role = UserRole::parse(&form.role).map_err(|e| AppError::BadRequest {
        field: Some("role".into()),
        message: e,
    })?;
    let generated = form.password.is_empty();
    let password = if generated {
        accounts::generate_password()
    } else {
        form.password.clone()
    };
    let actor = ctx.actor();
    let (email, name) = (form.email.clone(), form.display_name.clone());
    let result = with_conn(&state, move |conn| {
        let new = accounts::NewAccount {
            email: &email,
            display_name: &name,
            role,
            password: &password,
            scopes: &[],
        };
        match accounts::add_account(conn, &actor, &new) {
            Ok(user) => Ok(Ok((user, password))),
            Err(e) => Ok(Err(match e.downcast_ref::<accounts::EmailTaken>() {
                Some(taken) => crate::app::validation::Problem::new("email", "taken")
                    .with("value", &taken.0)
                    .message(lang),
                None => e.to_string(),
            })),
        }
    })
    .await?;
    match result {
        Ok((user, password)) => render_list(
            &state,
            &ctx,
            StatusCode::OK,
            json!({"created": {"id": user.id, "email": user.email, "password": if generated { Some(password) } else { None }}}),
        )
        .await,
        Err(e) => render_list(
            &state,
            &ctx,
            StatusCode::BAD_REQUEST,
            json!({"errors": [e], "form": typed,
                   "roles": role_options(lang, Some(role))}),
        )
        .await,
    }
}

async fn render_user(
    state: &web::Data<AppState>,
    ctx: &Ctx,
    id: UserId,
    status: StatusCode,
    extra: serde_json::Value,
) -> AppResult<HttpResponse> {
    let lang = ctx.lang();
    let (user, scopes, waves) = with_conn(state, move |conn| {
        let user = User::find(conn, &id)?;
        // A researcher is granted waves picked from a list, not typed.
        let waves: Vec<serde_json::Value> =
            if user.role == crate::core::domain::UserRole::Researcher {
                crate::infra::models::Wave::all(conn)?
                    .into_iter()
                    .map(|w| json!({"value": w.id, "label": w.name}))
                    .collect()
            } else {
                Vec::new()
            };
        let scopes = UserScope::for_user(conn, &user.id)?
            .iter()
            .map(|s| {
                Ok(json!({"id": s.id, "description": accounts::describe_scope_in(conn, s, lang)?}))
            })
            .collect::<AppResult<Vec<_>>>()?;
        Ok((user, scopes, waves))
    })
    .await?;
    let kinds: Vec<_> = accounts::scope_kinds_for(user.role)
        .iter()
        .map(|k| json!({"value": k.as_str(), "label": fill(lang, &format!("scope.{}", k.as_str()), &[])}))
        .collect();
    let mut data = json!({
        "page_title": format!("{} · samskap", user.email),
        "user": {"id": user.id, "email": user.email, "display_name": user.display_name, "role": user.role.as_str(), "active": user.active},
        "roles": role_options(lang, Some(user.role)), "scopes": scopes, "scope_kinds": kinds, "waves": waves,
        "generated_password": null, "error": null, "message": null,
    });
    if let (Some(d), Some(e)) = (data.as_object_mut(), extra.as_object()) {
        d.extend(e.clone());
    }
    templates::page_with_status(status, "admin_user", ctx, data)
}

/// `GET /admin/users/{id}`
pub async fn show(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    render_user(
        &state,
        &ctx,
        UserId::from_string(path.into_inner()),
        StatusCode::OK,
        json!({}),
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct UpdateForm {
    display_name: String,
    role: String,
    /// Checkbox: present when ticked.
    active: Option<String>,
}

/// `POST /admin/users/{id}`: name, role, active.
pub async fn update(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<UpdateForm>,
) -> AppResult<HttpResponse> {
    let id = UserId::from_string(path.into_inner());
    let role = match UserRole::parse(&form.role) {
        Ok(r) => r,
        Err(e) => {
            return render_user(
                &state,
                &ctx,
                id,
                StatusCode::BAD_REQUEST,
                json!({"error": format!("Role: {e}")}),
            )
            .await;
        }
    };
    let changes = accounts::AccountChanges {
        display_name: form.display_name.clone(),
        role,
        active: form.active.is_some(),
    };
    let me = ctx.access()?.user.id.clone();
    let actor = ctx.actor();
    let target = id.clone();
    let outcome = with_conn(&state, move |conn| {
        User::find(conn, &target)?; // 404 for an unknown account
        Ok(accounts::update_account(
            conn, &actor, &me, &target, &changes,
        )?)
    })
    .await?;
    if let Err(accounts::ChangeRefusal::NotSelf) = outcome {
        return render_user(
            &state,
            &ctx,
            id,
            StatusCode::BAD_REQUEST,
            json!({"error": fill(ctx.lang(), "admin.user.not_self", &[])}),
        )
        .await;
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/admin/users/{id}")))
        .finish())
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

/// `POST /admin/users/{id}/password`: a new generated password, shown once.
pub async fn reset_password(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<String>,
    _form: CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let id = UserId::from_string(path.into_inner());
    let actor = ctx.actor();
    let password = accounts::generate_password();
    let (target, pw) = (id.clone(), password.clone());
    with_conn(&state, move |conn| {
        User::find(conn, &target)?;
        Ok(accounts::replace_password(
            conn,
            &actor,
            &target,
            &pw,
            accounts::SetBy::Admin,
        )?)
    })
    .await?;
    render_user(
        &state,
        &ctx,
        id,
        StatusCode::OK,
        json!({"generated_password": password}),
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct ScopeForm {
    kind: String,
    reference: String,
}

/// `POST /admin/users/{id}/scopes`
pub async fn add_scope(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<ScopeForm>,
) -> AppResult<HttpResponse> {
    let id = UserId::from_string(path.into_inner());
    let spec = match ScopeKind::parse(&form.kind) {
        Ok(kind) if !form.reference.trim().is_empty() => ScopeSpec {
            kind,
            reference: form.reference.trim().to_owned(),
        },
        Ok(_) => {
            return render_user(
                &state,
                &ctx,
                id,
                StatusCode::BAD_REQUEST,
                json!({"error": fill(ctx.lang(), "admin.user.reference_missing", &[])}),
            )
            .await;
        }
        Err(e) => {
            return render_user(
                &state,
                &ctx,
                id,
                StatusCode::BAD_REQUEST,
                json!({"error": format!("Kind: {e}")}),
            )
            .await;
        }
    };
    let actor = ctx.actor();
    let target = id.clone();
    let result = with_conn(&state, move |conn| {
        let user = User::find(conn, &target)?;
        match accounts::grant_scope(conn, &actor, &user, &spec) {
            Ok(_) => Ok(Ok(())),
            Err(e) => Ok(Err(e.to_string())),
        }
    })
    .await?;
    match result {
        Ok(()) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/admin/users/{id}")))
            .finish()),
        Err(e) => {
            render_user(
                &state,
                &ctx,
                id,
                StatusCode::BAD_REQUEST,
                json!({"error": e}),
            )
            .await
        }
    }
}

/// `POST /admin/users/{id}/scopes/{scope}/delete`
pub async fn remove_scope(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<(String, String)>,
    _form: CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (user, scope) = path.into_inner();
    let (user, scope) = (UserId::from_string(user), UserScopeId::from_string(scope));
    let actor = ctx.actor();
    let target = user.clone();
    with_conn(&state, move |conn| {
        if accounts::revoke_scope(conn, &actor, &target, &scope)? {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    })
    .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/admin/users/{user}")))
        .finish())
}
