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

use crate::db::{DbConn, schema::outbox};
use crate::domain::{InvitationId, OutboxStatus, WaveId};
use crate::models::{NewOutboxMessage, OutboxMessage};

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

/// Counts by status, for status pages.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct OutboxCounts {
    pub pending: i64,
    pub sending: i64,
    pub sent: i64,
    pub failed: i64,
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
    Ok(out)
}
