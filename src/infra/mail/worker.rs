//! The outbox worker: claim due messages atomically, send, record the outcome.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text, Timestamp};

use super::{CLAIM_TTL, MAX_ATTEMPTS, SCRUBBED, Transport};
use crate::core::domain::{InvitationStatus, OutboxStatus};
use crate::infra::db::{self, DbConn, Pool, schema::invitations, schema::outbox};
use crate::infra::models::{OutboxChanges, OutboxMessage};

/// How often, at most, the worker thread runs its housekeeping (erasing e-mail addresses
/// past their retention period, queueing due reminders)...
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(60);
/// ...and at least every this many outbox rounds, so a short outbox interval (tests, a
/// demo) also runs it sooner.
const HOUSEKEEPING_ROUNDS: u32 = 30;

/// Messages claimed per round.
const BATCH: i32 = 20;

#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Sends outbox messages.
#[derive(Debug, Clone)]
pub struct Worker {
    pool: Pool,
    transport: Transport,
    from: String,
    first_retry: Duration,
    /// Identifies this instance's claims.
    instance: String,
    /// Run now and then on the worker's thread (see [`Worker::spawn`]): the
    /// application's e-mail retention and reminder schedule. Mail knows how to send, not
    /// what a wave keeps or when it reminds.
    housekeeping: Option<Housekeeping>,
}

/// A periodic task the outbox thread runs between rounds; returns how much it did.
#[derive(Clone)]
pub struct Housekeeping(Arc<HousekeepingTask>);

type HousekeepingTask =
    dyn Fn(&mut crate::infra::db::DbConn) -> anyhow::Result<usize> + Send + Sync;

impl std::fmt::Debug for Housekeeping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Housekeeping")
    }
}

/// Delay before retry `attempt` (1-based): `first`, then twice as long each time, capped
/// at 1 hour (with the default `first` of 30 s: 30 s, 1 min, 2 min, …).
pub fn backoff(attempt: i32, first: Duration) -> Duration {
    let exp = u32::try_from(attempt.clamp(1, 12) - 1).unwrap_or(0);
    first
        .saturating_mul(1 << exp)
        .min(Duration::from_secs(3600))
}

impl Worker {
    /// Runs `task` now and then on the worker's thread (see [`Housekeeping`]).
    #[must_use]
    pub fn with_housekeeping(
        mut self,
        task: impl Fn(&mut crate::infra::db::DbConn) -> anyhow::Result<usize> + Send + Sync + 'static,
    ) -> Self {
        self.housekeeping = Some(Housekeeping(Arc::new(task)));
        self
    }

    pub fn new(pool: Pool, transport: Transport, from: String) -> Self {
        Self {
            pool,
            transport,
            from,
            first_retry: Duration::from_secs(30),
            housekeeping: None,
            instance: format!(
                "{}-{}",
                std::process::id(),
                crate::infra::crypto::hex(&crate::infra::crypto::random_bytes::<4>())
            ),
        }
    }

    /// Waits `first` before the first retry of a failed message (see [`backoff`]).
    #[must_use]
    pub const fn with_first_retry(mut self, first: Duration) -> Self {
        self.first_retry = first;
        self
    }

    /// Claims due messages (pending and due, or claimed by someone whose claim expired)
    /// in one statement, so exactly one worker gets each.
    fn claim(&self, conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<Vec<i64>> {
        let until = now + chrono::Duration::from_std(CLAIM_TTL).unwrap_or_default();
        let rows: Vec<Claimed> = db::on_backend!(conn, |c| {
            let sql = if matches!(db::backend_of_inner(c), db::Backend::Postgres) {
                "UPDATE outbox SET status = 'sending', claimed_by = $1, claimed_until = $2, attempts = attempts + 1 \
                 WHERE id IN (SELECT id FROM outbox WHERE (status = 'pending' AND next_attempt_at <= $3) \
                 OR (status = 'sending' AND claimed_until < $3) ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING id"
            } else {
                "UPDATE outbox SET status = 'sending', claimed_by = ?, claimed_until = ?, attempts = attempts + 1 \
                 WHERE id IN (SELECT id FROM outbox WHERE (status = 'pending' AND next_attempt_at <= ?) \
                 OR (status = 'sending' AND claimed_until < ?) ORDER BY id LIMIT ?) RETURNING id"
            };
            let q = diesel::sql_query(sql)
                .bind::<Text, _>(&self.instance)
                .bind::<Timestamp, _>(until)
                .bind::<Timestamp, _>(now);
            if matches!(db::backend_of_inner(c), db::Backend::Postgres) {
                q.bind::<Integer, _>(BATCH).load(c)
            } else {
                q.bind::<Timestamp, _>(now)
                    .bind::<Integer, _>(BATCH)
                    .load(c)
            }
        })?;
        let mut ids: Vec<i64> = rows.into_iter().map(|r| r.id).collect();
        ids.sort_unstable();
        Ok(ids)
    }

    /// One round: claim, send, record. Returns how many messages were sent.
    pub fn run_once(&self) -> anyhow::Result<usize> {
        let mut conn = self.pool.get()?;
        let now = db::now();
        let ids = self.claim(&mut conn, now)?;
        let mut sent = 0;
        for id in ids {
            let message = OutboxMessage::find(&mut conn, id)?;
            if message.claimed_by.as_deref() != Some(self.instance.as_str()) {
                continue;
            }
            match self.transport.send(&self.from, &message) {
                Ok(()) => {
                    self.mark_sent(&mut conn, &message)?;
                    sent += 1;
                }
                Err(failure) => {
                    // A permanent refusal (a bounce: 550 no such mailbox) fails at once;
                    // anything else is retried up to MAX_ATTEMPTS times.
                    let failed = failure.permanent || message.attempts >= MAX_ATTEMPTS;
                    let error = failure.message;
                    tracing::warn!(
                        outbox.id = id,
                        attempts = message.attempts,
                        failed,
                        permanent = failure.permanent,
                        error,
                        "sending an e-mail failed"
                    );
                    let retry = db::now()
                        + chrono::Duration::from_std(backoff(message.attempts, self.first_retry))
                            .unwrap_or_default();
                    OutboxMessage::update(
                        &mut conn,
                        id,
                        &OutboxChanges {
                            status: Some(if failed {
                                OutboxStatus::Failed
                            } else {
                                OutboxStatus::Pending
                            }),
                            next_attempt_at: Some(retry),
                            claimed_by: Some(None),
                            claimed_until: Some(None),
                            last_error: Some(Some(error)),
                            ..Default::default()
                        },
                    )?;
                    // The invitation is marked failed when its first message never went,
                    // or when a reminder bounced before the person started: the address
                    // is wrong and the wave page lists it to correct.
                    let stuck = match message.kind.as_str() {
                        "invitation" if failed => vec![InvitationStatus::Pending],
                        "reminder" if failure.permanent => vec![InvitationStatus::Sent],
                        _ => Vec::new(),
                    };
                    if let (false, Some(inv)) = (stuck.is_empty(), &message.invitation_id) {
                        diesel::update(
                            invitations::table
                                .find(inv)
                                .filter(invitations::status.eq_any(stuck)),
                        )
                        .set(invitations::status.eq(InvitationStatus::Failed))
                        .execute(&mut conn)?;
                    }
                }
            }
        }
        Ok(sent)
    }

    fn mark_sent(&self, conn: &mut DbConn, message: &OutboxMessage) -> QueryResult<()> {
        let now = db::now();
        crate::infra::db::write_transaction(conn, |conn| {
            diesel::update(
                outbox::table
                    .find(message.id)
                    .filter(outbox::claimed_by.eq(&self.instance)),
            )
            .set((
                outbox::status.eq(OutboxStatus::Sent),
                outbox::sent_at.eq(Some(now)),
                outbox::claimed_by.eq(None::<String>),
                outbox::claimed_until.eq(None::<NaiveDateTime>),
                outbox::last_error.eq(None::<String>),
                outbox::body_text.eq(SCRUBBED),
                outbox::body_html.eq(SCRUBBED),
            ))
            .execute(conn)?;
            if message.kind == "invitation"
                && let Some(inv) = &message.invitation_id
            {
                diesel::update(invitations::table.find(inv))
                    .set(invitations::sent_at.eq(Some(now)))
                    .execute(conn)?;
                diesel::update(
                    invitations::table.find(inv).filter(
                        invitations::status
                            .eq_any([InvitationStatus::Pending, InvitationStatus::Failed]),
                    ),
                )
                .set(invitations::status.eq(InvitationStatus::Sent))
                .execute(conn)?;
            }
            Ok(())
        })
    }

    /// Sends until nothing is due (for the CLI and tests).
    pub fn drain(&self) -> anyhow::Result<usize> {
        let mut total = 0;
        loop {
            let n = self.run_once()?;
            total += n;
            if n == 0 {
                return Ok(total);
            }
        }
    }

    /// Runs rounds every `interval` on its own thread until `stop` is set. Errors (the
    /// database or the mail server away) are logged and the loop carries on. The
    /// housekeeping task runs at the start, then every [`HOUSEKEEPING_ROUNDS`] rounds or
    /// [`HOUSEKEEPING_EVERY`], whichever comes first.
    pub fn spawn(self, interval: Duration, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
        let every = HOUSEKEEPING_EVERY.min(interval.saturating_mul(HOUSEKEEPING_ROUNDS));
        std::thread::Builder::new()
            .name("samskap-outbox".into())
            .spawn(move || {
                let mut last_housekeeping: Option<std::time::Instant> = None;
                while !stop.load(Ordering::Relaxed) {
                    if let Some(task) = &self.housekeeping
                        && last_housekeeping.is_none_or(|t| t.elapsed() >= every)
                    {
                        last_housekeeping = Some(std::time::Instant::now());
                        match self
                            .pool
                            .get()
                            .map_err(anyhow::Error::from)
                            .and_then(|mut c| (task.0)(&mut c))
                        {
                            Ok(n) if n > 0 => tracing::info!(done = n, "housekeeping round"),
                            Ok(_) => {}
                            Err(e) => tracing::warn!(
                                error = format!("{e:#}"),
                                "housekeeping round failed; will retry"
                            ),
                        }
                    }
                    match self.run_once() {
                        Ok(n) if n > 0 => tracing::info!(sent = n, "outbox: sent e-mails"),
                        Ok(_) => {}
                        Err(e) => tracing::warn!(
                            error = format!("{e:#}"),
                            database_unavailable = crate::infra::db::is_unavailable(&e),
                            "outbox round failed; will retry"
                        ),
                    }
                    std::thread::sleep(interval);
                }
            })
            .unwrap_or_else(|e| panic!("could not start the outbox thread: {e}"))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_and_caps() {
        let first = std::time::Duration::from_secs(30);
        assert_eq!(super::backoff(1, first).as_secs(), 30);
        assert_eq!(super::backoff(2, first).as_secs(), 60);
        assert_eq!(super::backoff(5, first).as_secs(), 480);
        assert_eq!(super::backoff(20, first).as_secs(), 3600);
        let short = std::time::Duration::from_secs(1);
        assert_eq!(super::backoff(1, short).as_secs(), 1);
        assert_eq!(super::backoff(3, short).as_secs(), 4);
    }
}
