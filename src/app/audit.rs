//! The audit log: who did what, when, from where. Logins (success and failure), user and
//! scope changes, token changes, wave changes, exports and erasures all go through
//! [`record`].

use diesel::prelude::*;

use crate::core::domain::UserId;
use crate::infra::db::{self, DbConn, schema::audit_log};
use crate::infra::models::{AuditEntry, NewAuditEntry};

/// Who acted.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<UserId>,
    /// E-mail, `cli`, or `anonymous`.
    pub label: String,
    pub ip: Option<String>,
}

impl Actor {
    pub fn cli() -> Self {
        let who = std::env::var("USER").map_or_else(|_| "cli".to_owned(), |u| format!("cli:{u}"));
        Self {
            user_id: None,
            label: who,
            ip: None,
        }
    }
}

/// Appends one entry. `target` is (kind, id); `details` a JSON object.
pub fn record(
    conn: &mut DbConn,
    actor: &Actor,
    action: &str,
    target: Option<(&str, &str)>,
    details: Option<serde_json::Value>,
) -> QueryResult<()> {
    AuditEntry::append(
        conn,
        &NewAuditEntry {
            occurred_at: db::now(),
            actor_user_id: actor.user_id.clone(),
            actor: actor.label.clone(),
            action: action.to_owned(),
            target_kind: target.map(|(k, _)| k.to_owned()),
            target_id: target.map(|(_, i)| i.to_owned()),
            details: details.map(|d| d.to_string()),
            ip: actor.ip.clone(),
        },
    )
}

/// Filters of the admin audit page.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Substring of the actor label.
    pub actor: Option<String>,
    /// Action, or action prefix ending in `.` (`login.` matches every login action).
    pub action: Option<String>,
    pub from: Option<chrono::NaiveDateTime>,
    pub until: Option<chrono::NaiveDateTime>,
    /// Only entries about this wave (its id).
    pub wave: Option<String>,
}

/// Newest first, at most `limit`.
pub fn search(conn: &mut DbConn, filter: &Filter, limit: i64) -> QueryResult<Vec<AuditEntry>> {
    let mut q = audit_log::table
        .select(AuditEntry::as_select())
        .into_boxed();
    if let Some(actor) = filter.actor.as_deref().filter(|a| !a.is_empty()) {
        q = q.filter(audit_log::actor.like(format!("%{}%", actor.replace(['%', '_'], ""))));
    }
    if let Some(action) = filter.action.as_deref().filter(|a| !a.is_empty()) {
        q = if action.ends_with('.') {
            q.filter(audit_log::action.like(format!("{}%", action.replace(['%', '_'], ""))))
        } else {
            q.filter(audit_log::action.eq(action.to_owned()))
        };
    }
    if let Some(from) = filter.from {
        q = q.filter(audit_log::occurred_at.ge(from));
    }
    if let Some(until) = filter.until {
        q = q.filter(audit_log::occurred_at.lt(until));
    }
    if let Some(wave) = filter.wave.as_deref().filter(|w| !w.is_empty()) {
        q = q
            .filter(audit_log::target_kind.eq("wave"))
            .filter(audit_log::target_id.eq(wave.to_owned()));
    }
    q.order(audit_log::id.desc()).limit(limit).load(conn)
}

/// Failed logins for this account since `since` (drives login throttling; shared by
/// every instance because it lives in the database).
pub fn failed_logins_since(
    conn: &mut DbConn,
    email: &str,
    since: chrono::NaiveDateTime,
) -> QueryResult<i64> {
    entries_since(conn, "login.failure", email, since)
}

/// Entries of `action` about `target_id` since `since` (throttling shared by every
/// instance: failed sign-ins, wrong current passwords).
pub fn entries_since(
    conn: &mut DbConn,
    action: &str,
    target_id: &str,
    since: chrono::NaiveDateTime,
) -> QueryResult<i64> {
    audit_log::table
        .filter(audit_log::action.eq(action))
        .filter(audit_log::target_id.eq(target_id))
        .filter(audit_log::occurred_at.ge(since))
        .count()
        .get_result(conn)
}
