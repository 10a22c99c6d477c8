//! Signing in with an e-mail and a password, and the per-account throttle that sign-ins
//! and password changes share: failures are counted in the audit log, which every
//! instance of the server shares, so guessing cannot be spread over instances.

use crate::app::audit::{self, Actor};
use crate::infra::db::{self, DbConn};
use crate::infra::models::{User, UserChanges};

use super::passwords::{verify_dummy, verify_password};

/// Failed password checks per account within [`THROTTLE_WINDOW`] before further attempts
/// are refused.
pub const MAX_FAILED_LOGINS: i64 = 5;
/// How far back failed attempts count.
pub const THROTTLE_WINDOW: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// What became of a sign-in.
#[derive(Debug)]
pub enum SignIn {
    Success(Box<User>),
    /// Unknown account, disabled account or wrong password: the caller cannot tell which.
    Failure,
    /// Too many failures for this account lately.
    Throttled,
}

/// The start of the throttle window.
pub fn window_start() -> chrono::NaiveDateTime {
    db::now() - chrono::Duration::from_std(THROTTLE_WINDOW).unwrap_or_default()
}

/// Signs `user` out everywhere: every session of the account that began before `now_ms`
/// (Unix milliseconds, the sessions' own clock) stops working on every instance, so a
/// copied cookie dies with the one signed out. Records `logout`.
pub fn sign_out(
    conn: &mut DbConn,
    actor: &Actor,
    user: Option<&crate::core::domain::UserId>,
    now_ms: i64,
) -> anyhow::Result<()> {
    db::write_transaction(conn, |conn| {
        if let Some(id) = user {
            User::update(
                conn,
                id,
                &UserChanges {
                    sessions_ended_at: Some(Some(now_ms)),
                    ..Default::default()
                },
            )?;
        }
        audit::record(conn, actor, "logout", None, None)?;
        Ok(())
    })
}

/// Checks `password` for `email`, records the outcome (`login.success`, `login.failure`
/// with its reason, `login.throttled`) and the time of a successful sign-in. An unknown
/// e-mail costs the same time as a wrong password.
pub fn sign_in(
    conn: &mut DbConn,
    anonymous: &Actor,
    email: &str,
    password: &str,
) -> anyhow::Result<SignIn> {
    let email = email.trim().to_lowercase();
    let target = Some(("user", email.as_str()));
    if audit::failed_logins_since(conn, &email, window_start())? >= MAX_FAILED_LOGINS {
        audit::record(conn, anonymous, "login.throttled", target, None)?;
        return Ok(SignIn::Throttled);
    }
    let user = User::find_by_email(conn, &email)?;
    let verified = if let Some(u) = &user {
        verify_password(password, &u.password_hash)
    } else {
        verify_dummy(password);
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
            Ok(SignIn::Success(Box::new(u)))
        }
        other => {
            let reason = match other {
                None => "unknown account",
                Some(u) if !u.active => "account disabled",
                Some(_) => "wrong password",
            };
            audit::record(
                conn,
                anonymous,
                "login.failure",
                target,
                Some(serde_json::json!({"reason": reason})),
            )?;
            Ok(SignIn::Failure)
        }
    }
}
