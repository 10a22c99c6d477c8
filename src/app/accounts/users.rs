//! Accounts: making one (with its scopes) and changing one, each in one transaction
//! with its audit records; the e-mail rule accounts are looked up by.

use crate::app::audit::{self, Actor};
use crate::core::domain::{UserId, UserRole};
use crate::infra::db::{self, DbConn};
use crate::infra::models::{NewUser, User, UserChanges};

use super::passwords::{check_password, hash_password};
use super::scopes::{ScopeSpec, grant_scope};

/// Normalises an e-mail for storage and lookup. The address must be one the mail
/// transport can send to (`lettre::Address`, which follows RFC 5321's grammar: `a@@b.c`
/// and `ola@exa mple.no` are refused here, not when the message fails to go out), with a
/// dot in the domain (no intranet host names as recipients).
pub fn normalise_email(email: &str) -> Result<String, String> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.parse::<lettre::Address>().is_ok_and(|a| {
            let domain = a.domain();
            domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        })
        && !email.chars().any(char::is_whitespace);
    if valid {
        Ok(email)
    } else {
        Err(format!("{email:?} is not a valid e-mail address"))
    }
}

/// Refused: an account with this (normalised) e-mail already exists.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("email: an account for {0} already exists")]
pub struct EmailTaken(pub String);

/// Creates a user. The e-mail must be new ([`EmailTaken`] otherwise).
pub fn create_user(
    conn: &mut DbConn,
    email: &str,
    display_name: &str,
    role: UserRole,
    password: &str,
) -> anyhow::Result<User> {
    let email = normalise_email(email).map_err(|e| anyhow::anyhow!("email: {e}"))?;
    check_password(password).map_err(|e| anyhow::anyhow!("password: {e}"))?;
    if User::find_by_email(conn, &email)?.is_some() {
        return Err(EmailTaken(email).into());
    }
    let now = db::now();
    let id = UserId::generate();
    User::insert(
        conn,
        &NewUser {
            id: id.clone(),
            email: email.clone(),
            display_name: if display_name.trim().is_empty() {
                email.clone()
            } else {
                display_name.trim().to_owned()
            },
            role,
            password_hash: hash_password(password)?,
            active: true,
            created_at: now,
            updated_at: now,
        },
    )?;
    Ok(User::find(conn, &id)?)
}

/// A new account, as the admin page and `samskap user add` describe it.
#[derive(Debug, Clone, Copy)]
pub struct NewAccount<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub role: UserRole,
    pub password: &'a str,
    pub scopes: &'a [ScopeSpec],
}

/// Creates an account and its scopes in one transaction, with their audit records
/// (`user.create`, a `scope.add` per scope): the one way accounts are made, from the
/// admin page and from the command line. Nothing is written when any part fails.
pub fn add_account(conn: &mut DbConn, actor: &Actor, new: &NewAccount<'_>) -> anyhow::Result<User> {
    db::write_transaction(conn, |conn| {
        let user = create_user(conn, new.email, new.display_name, new.role, new.password)?;
        audit::record(
            conn,
            actor,
            "user.create",
            Some(("user", user.id.as_str())),
            Some(serde_json::json!({"email": user.email, "role": new.role})),
        )?;
        for spec in new.scopes {
            grant_scope(conn, actor, &user, spec)?;
        }
        Ok(user)
    })
}

/// What an admin may change of an account.
#[derive(Debug, Clone)]
pub struct AccountChanges {
    /// Empty: keep the name.
    pub display_name: String,
    pub role: UserRole,
    pub active: bool,
}

/// Why an account change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChangeRefusal {
    /// Admins cannot disable themselves or give up their own admin role: the last admin
    /// would lock everyone out.
    #[error("you cannot disable yourself or remove your own admin role")]
    NotSelf,
}

/// Changes an account's name, role and whether it may sign in, with its audit record
/// (`user.update`), in one transaction. `by` is the admin asking.
pub fn update_account(
    conn: &mut DbConn,
    actor: &Actor,
    by: &UserId,
    target: &UserId,
    changes: &AccountChanges,
) -> anyhow::Result<Result<(), ChangeRefusal>> {
    if by == target && (!changes.active || changes.role != UserRole::Admin) {
        return Ok(Err(ChangeRefusal::NotSelf));
    }
    db::write_transaction(conn, |conn| {
        let before = User::find(conn, target)?;
        let name = changes.display_name.trim();
        User::update(
            conn,
            target,
            &UserChanges {
                display_name: Some(name.to_owned()).filter(|n| !n.is_empty()),
                role: Some(changes.role),
                active: Some(changes.active),
                updated_at: Some(db::now()),
                ..Default::default()
            },
        )?;
        audit::record(
            conn,
            actor,
            "user.update",
            Some(("user", target.as_str())),
            Some(serde_json::json!({
                "role": {"from": before.role, "to": changes.role},
                "active": {"from": before.active, "to": changes.active},
            })),
        )?;
        Ok(Ok(()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalise_email(" Ola@Example.NO ").expect("valid"),
            "ola@example.no"
        );
        for good in [
            "kari.nordmann+samskap@helse-vest.no",
            "o'neil@example.co.uk",
        ] {
            assert_eq!(normalise_email(good).as_deref(), Ok(good));
        }
        for bad in [
            "",
            "ola",
            "ola@",
            "@example.no",
            "ola@example",
            "o la@example.no",
            "a@@b.c",
            "ola@exa..mple.no",
            "ola@example.no@x.no",
            "ola..nordmann@example.no",
        ] {
            assert!(normalise_email(bad).is_err(), "{bad}");
        }
    }
}
