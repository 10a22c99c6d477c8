//! A response as it is filled in: consent, then answers saved page by page, so closing
//! the browser loses nothing.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::core::domain::{Anonymity, InvitationStatus, ResponseId};
use crate::core::instrument::format::SurveyFile;
use crate::infra::crypto::DerivedKeys;
use crate::infra::db::{self, DbConn, schema};
use crate::infra::models::{
    Answer, Invitation, InvitationChanges, NewAnswer, NewResponse, Response, ResponseChanges, Wave,
};

use super::answers::Stored;
use super::link::{Link, find_response, stamp};

/// A new response behind `link`, consented at `now`; `submitted` for a whole response
/// stored in one go. Anonymous waves keep no link to the invitation or the panel.
pub(super) fn new_response(
    keys: &DerivedKeys,
    link: &Link,
    token: &str,
    lang: &str,
    id: &ResponseId,
    now: NaiveDateTime,
    submitted: bool,
) -> NewResponse {
    let anonymous = link.wave.anonymity == Anonymity::Anonymous;
    NewResponse {
        id: id.clone(),
        wave_id: link.wave.id.clone(),
        service_id: link.invitation.service_id.clone(),
        role: link.invitation.role.clone(),
        invitation_id: (!anonymous).then(|| link.invitation.id.clone()),
        resume_key_hash: anonymous.then(|| keys.resume_key_hash(token)),
        panel_pseudonym: (!anonymous).then(|| link.invitation.panel_pseudonym.clone()),
        language: lang.to_owned(),
        consent_at: Some(now),
        current_page: submitted.then(|| "review".to_owned()),
        started_at: now,
        updated_at: now,
        submitted_at: submitted.then_some(now),
        answer_slots: None,
    }
}

/// A response's answers as the compact slots stored with it on submission.
pub fn answer_slots<'a>(
    wave: &Wave,
    survey: &SurveyFile,
    answers: impl IntoIterator<Item = (&'a str, &'a Stored)>,
) -> Vec<u8> {
    crate::app::waves::rules_of(wave, survey).encode_response(
        answers
            .into_iter()
            .filter_map(|(code, s)| Some((code, s.answer_value()?))),
    )
}

/// Gives consent and starts the response (idempotent). Returns the response.
pub fn consent(
    conn: &mut DbConn,
    keys: &DerivedKeys,
    link: &Link,
    token: &str,
    lang: &str,
) -> anyhow::Result<Response> {
    crate::infra::db::write_transaction(conn, |conn| {
        if let Some(existing) = find_response(conn, keys, &link.wave, &link.invitation, token)? {
            return Ok(existing);
        }
        let now = stamp(&link.wave, db::now());
        let id = ResponseId::generate();
        Response::insert(
            conn,
            &new_response(keys, link, token, lang, &id, now, false),
        )?;
        if matches!(
            link.invitation.status,
            InvitationStatus::Pending | InvitationStatus::Sent | InvitationStatus::Failed
        ) {
            Invitation::update(
                conn,
                &link.invitation.id,
                &InvitationChanges {
                    status: Some(InvitationStatus::Started),
                    ..Default::default()
                },
            )?;
        }
        Ok(Response::find(conn, &id)?)
    })
}

/// Writes answers (replacing earlier ones; `None` clears) and remembers the page.
pub fn save(
    conn: &mut DbConn,
    wave: &Wave,
    response: &ResponseId,
    answers: &[(String, Option<Stored>)],
    page: Option<&str>,
    lang: &str,
) -> QueryResult<()> {
    use schema::answers as a;
    crate::infra::db::write_transaction(conn, |conn| {
        let now = stamp(wave, db::now());
        let codes: Vec<&str> = answers.iter().map(|(c, _)| c.as_str()).collect();
        diesel::delete(
            a::table
                .filter(a::response_id.eq(response))
                .filter(a::item_code.eq_any(&codes)),
        )
        .execute(conn)?;
        let rows: Vec<NewAnswer> = answers
            .iter()
            .filter_map(|(code, s)| s.as_ref().map(|s| s.row(response, &wave.id, code, now)))
            .collect();
        Answer::insert_all(conn, &rows)?;
        Response::update(
            conn,
            response,
            &ResponseChanges {
                updated_at: Some(now),
                current_page: page.map(|p| Some(p.to_owned())),
                language: Some(lang.to_owned()),
                ..Default::default()
            },
        )
    })
}

/// The stored answers of a response by item code.
pub fn answers_of(
    conn: &mut DbConn,
    response: &ResponseId,
) -> QueryResult<BTreeMap<String, Stored>> {
    Ok(Answer::for_response(conn, response)?
        .iter()
        .map(|a| (a.item_code.clone(), Stored::from_answer(a)))
        .collect())
}
