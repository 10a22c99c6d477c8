//! E-mail through the outbox: messages are rows in `outbox`, rendered from templates
//! when they are queued; a worker claims due rows atomically (so several instances
//! sharing one PostgreSQL database never send a row twice), sends them with lettre, and
//! retries failures with exponential backoff.
//!
//! Delivery is at-least-once across crashes: a worker that dies after the SMTP server
//! accepted a message but before marking it sent leaves a claim that expires after
//! [`CLAIM_TTL`], and the message is sent again. Outside that window every message is sent
//! exactly once.

pub mod templates;
pub mod transport;
pub mod worker;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::core::domain::{InvitationId, OutboxStatus, WaveId};
use crate::infra::db::{DbConn, schema::outbox};
use crate::infra::models::{NewOutboxMessage, OutboxMessage};

pub use transport::Transport;
pub use worker::Worker;

/// How long a claimed message stays reserved for the worker that claimed it.
pub const CLAIM_TTL: std::time::Duration = std::time::Duration::from_secs(5 * 60);
/// Attempts before a message is marked failed.
pub const MAX_ATTEMPTS: i32 = 8;
/// What replaces a sent message's body: bodies hold personal links, kept no longer than needed.
pub const SCRUBBED: &str = "[removed after sending: the message held a personal link]";

/// A rendered message to queue.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub kind: &'static str,
    /// Unique per logical message: queueing the same key twice queues it once.
    pub dedupe_key: String,
    pub to: String,
    pub language: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub wave_id: Option<WaveId>,
    pub invitation_id: Option<InvitationId>,
}

/// Queues a message unless one with the same key exists. Returns whether it was queued.
pub fn enqueue(conn: &mut DbConn, message: &Outgoing, now: NaiveDateTime) -> QueryResult<bool> {
    let exists: i64 = outbox::table
        .filter(outbox::dedupe_key.eq(&message.dedupe_key))
        .count()
        .get_result(conn)?;
    if exists > 0 {
        return Ok(false);
    }
    OutboxMessage::insert(
        conn,
        &NewOutboxMessage {
            kind: message.kind.to_owned(),
            dedupe_key: message.dedupe_key.clone(),
            to_address: message.to.clone(),
            language: message.language.clone(),
            subject: message.subject.clone(),
            body_text: message.text.clone(),
            body_html: message.html.clone(),
            wave_id: message.wave_id.clone(),
            invitation_id: message.invitation_id.clone(),
            status: OutboxStatus::Pending,
            next_attempt_at: now,
            created_at: now,
        },
    )?;
    Ok(true)
}

/// Counts by status, for status pages, and what went wrong with messages waiting for a
/// retry: an SMTP server that is down shows here, with its error, while the worker keeps
/// trying by itself.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct OutboxCounts {
    pub pending: i64,
    pub sending: i64,
    pub sent: i64,
    pub failed: i64,
    /// Pending messages that have failed at least once and wait for a retry.
    pub retrying: i64,
    /// The error of the most recent failed attempt among them.
    pub last_error: Option<String>,
    /// When the next of them will be tried (UTC).
    #[serde(serialize_with = "readable_time")]
    pub next_attempt_at: Option<chrono::NaiveDateTime>,
}

/// `2026-11-27 09:30:05` rather than ISO with microseconds: this is read by people.
#[expect(
    clippy::ref_option,
    reason = "serde's serialize_with passes a reference to the field"
)]
fn readable_time<S: serde::Serializer>(
    t: &Option<chrono::NaiveDateTime>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&crate::infra::time::shown(*t)),
        None => s.serialize_none(),
    }
}

pub fn counts(conn: &mut DbConn, wave: Option<&WaveId>) -> QueryResult<OutboxCounts> {
    let mut out = OutboxCounts::default();
    for status in OutboxStatus::ALL {
        let mut q = outbox::table
            .filter(outbox::status.eq(*status))
            .count()
            .into_boxed();
        if let Some(w) = wave {
            q = q.filter(outbox::wave_id.eq(w.clone()));
        }
        let n: i64 = q.get_result(conn)?;
        match status {
            OutboxStatus::Pending => out.pending = n,
            OutboxStatus::Sending => out.sending = n,
            OutboxStatus::Sent => out.sent = n,
            OutboxStatus::Failed => out.failed = n,
        }
    }
    let mut q = outbox::table
        .filter(outbox::status.eq(OutboxStatus::Pending))
        .filter(outbox::last_error.is_not_null())
        .into_boxed();
    if let Some(w) = wave {
        q = q.filter(outbox::wave_id.eq(w.clone()));
    }
    let retrying: Vec<(Option<String>, chrono::NaiveDateTime)> = q
        .select((outbox::last_error, outbox::next_attempt_at))
        .load(conn)?;
    out.retrying = i64::try_from(retrying.len()).unwrap_or(i64::MAX);
    // The latest failure schedules the latest retry.
    out.last_error = retrying
        .iter()
        .max_by_key(|(_, next)| *next)
        .and_then(|(e, _)| e.clone());
    out.next_attempt_at = retrying.iter().map(|(_, next)| *next).min();
    Ok(out)
}
