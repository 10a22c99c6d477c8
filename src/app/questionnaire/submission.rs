//! Submitting a response (once: submitting again changes nothing; only submitted
//! responses count in analyses) and withdrawing one.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::core::domain::{InvitationStatus, ResponseId};
use crate::infra::crypto::DerivedKeys;
use crate::infra::db::{self, DbConn, schema};
use crate::infra::models::{
    Answer, Invitation, InvitationChanges, NewAnswer, Response, ResponseChanges, Wave,
};

use super::answers::Stored;
use super::link::{Link, find_response, stamp};
use super::responses::{answer_slots, answers_of, new_response, save};

/// What [`submit`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submitted {
    Now(NaiveDateTime),
    Already(NaiveDateTime),
}

/// Submits (once: a second call changes nothing) and marks the wave's data as changed.
pub fn submit(conn: &mut DbConn, link: &Link, response: &ResponseId) -> QueryResult<Submitted> {
    crate::infra::db::write_transaction(conn, |conn| {
        let current = Response::find(conn, response)?;
        if let Some(at) = current.submitted_at {
            return Ok(Submitted::Already(at));
        }
        let invitation = Invitation::find(conn, &link.invitation.id)?;
        if invitation.status == InvitationStatus::Submitted {
            // Another link of the same invitation (anonymous wave, reminder) already submitted.
            return Ok(Submitted::Already(current.updated_at));
        }
        let now = stamp(&link.wave, db::now());
        let stored = answers_of(conn, response)?;
        let slots = answer_slots(
            &link.wave,
            &link.survey,
            stored.iter().map(|(c, s)| (c.as_str(), s)),
        );
        Response::update(
            conn,
            response,
            &ResponseChanges {
                submitted_at: Some(Some(now)),
                updated_at: Some(now),
                answer_slots: Some(Some(slots)),
                ..Default::default()
            },
        )?;
        Invitation::update(
            conn,
            &invitation.id,
            &InvitationChanges {
                status: Some(InvitationStatus::Submitted),
                updated_at: Some(stamp(&link.wave, db::now())),
                ..Default::default()
            },
        )?;
        Wave::bump_data_version(conn, &link.wave.id)?;
        Ok(Submitted::Now(now))
    })
}

/// A whole response in one go (the API's one-request submission): consent, answers and
/// submit in a single transaction with as few statements as possible, since on SQLite
/// they run while holding the one write lock, grouped with other submissions into one
/// commit. Answers must already be checked.
pub fn submit_complete(
    conn: &mut DbConn,
    group: &db::GroupCommit,
    keys: &DerivedKeys,
    link: &Link,
    token: &str,
    lang: &str,
    answers: &[(String, Option<Stored>)],
) -> QueryResult<Submitted> {
    if let Some(r) = &link.response {
        if let Some(at) = r.submitted_at {
            return Ok(Submitted::Already(at));
        }
        // Started earlier page by page: the general path.
        let id = r.id.clone();
        return db::write_transaction(conn, |conn| {
            save(conn, &link.wave, &id, answers, Some("review"), lang)?;
            submit(conn, link, &id)
        });
    }
    let now = stamp(&link.wave, db::now());
    let id = ResponseId::generate();
    // Everything is built before the write, which runs in a group commit.
    let mut response = new_response(keys, link, token, lang, &id, now, true);
    response.answer_slots = Some(answer_slots(
        &link.wave,
        &link.survey,
        answers
            .iter()
            .filter_map(|(c, s)| Some((c.as_str(), s.as_ref()?))),
    ));
    let rows: Vec<NewAnswer> = answers
        .iter()
        .filter_map(|(code, s)| s.as_ref().map(|s| s.row(&id, &link.wave.id, code, now)))
        .collect();
    let invitation = link.invitation.id.clone();
    let wave = link.wave.id.clone();
    let outcome = group.run(conn, move |conn| -> QueryResult<Submitted> {
        Response::insert(conn, &response)?;
        Answer::insert_all(conn, &rows)?;
        // Only an invitation not yet submitted moves: a concurrent submission through
        // another link of the same invitation makes this one roll back.
        let moved = diesel::update(
            schema::invitations::table
                .find(&invitation)
                .filter(schema::invitations::status.ne(InvitationStatus::Submitted))
                .filter(schema::invitations::status.ne(InvitationStatus::Withdrawn)),
        )
        .set((
            schema::invitations::status.eq(InvitationStatus::Submitted),
            schema::invitations::updated_at.eq(now),
        ))
        .execute(conn)?;
        if moved == 0 {
            return Err(diesel::result::Error::RollbackTransaction);
        }
        Wave::bump_data_version(conn, &wave)?;
        Ok(Submitted::Now(now))
    });
    match outcome {
        Ok(s) => Ok(s),
        // Someone submitted first (same link twice at once, or another link): nothing was
        // stored by this call.
        Err(
            diesel::result::Error::RollbackTransaction
            | diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ),
        ) => Ok(Submitted::Already(now)),
        Err(e) => Err(e),
    }
}

/// Deletes this person's answers and closes the link for good.
pub fn withdraw(
    conn: &mut DbConn,
    keys: &DerivedKeys,
    link: &Link,
    token: &str,
) -> QueryResult<bool> {
    crate::infra::db::write_transaction(conn, |conn| {
        let response = find_response(conn, keys, &link.wave, &link.invitation, token)?;
        let had = response.is_some();
        if let Some(r) = response {
            Response::delete(conn, &r.id)?;
            // Sums kept of the wave's responses must be read again without it.
            Wave::bump_removals(conn, &link.wave.id)?;
        }
        // Answers or at least the invited count change: both are published.
        Wave::bump_data_version(conn, &link.wave.id)?;
        Invitation::update(
            conn,
            &link.invitation.id,
            &InvitationChanges {
                status: Some(InvitationStatus::Withdrawn),
                updated_at: Some(db::now()),
                ..Default::default()
            },
        )?;
        crate::app::audit::record(
            conn,
            &crate::app::audit::Actor {
                user_id: None,
                label: "respondent".into(),
                ip: None,
            },
            "response.withdraw",
            Some(("invitation", link.invitation.id.as_str())),
            Some(serde_json::json!({"answers_deleted": had})),
        )?;
        Ok(had)
    })
}
