//! The respondent's side: what a link leads to, the pages of a questionnaire, checking
//! and saving answers page by page, submitting once, and withdrawing.
//!
//! Answers are stored as they are saved, so closing the browser loses nothing. A response
//! counts in analyses only once submitted; submitting is idempotent. In anonymous waves
//! the response keeps no link to the invitation: it is found again through a keyed hash
//! of the link's token, and its timestamps are kept to the day.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::core::domain::{Anonymity, InvitationStatus, ResponseId, WaveStatus};
use crate::core::instrument::format::{ContextItem, ContextKind, Item, SurveyFile, Text};
use crate::infra::crypto::DerivedKeys;
use crate::infra::db::{self, DbConn, schema};
use crate::infra::models::{
    Answer, Invitation, InvitationChanges, NewAnswer, NewResponse, Response, ResponseChanges, Wave,
};

/// Where a link stands.
#[derive(Debug)]
pub enum LinkState {
    Unknown,
    NotOpen(Box<Link>),
    Closed(Box<Link>),
    Expired(Box<Link>),
    Withdrawn(Box<Link>),
    Submitted(Box<Link>),
    Active(Box<Link>),
}

/// Everything a questionnaire page needs.
#[derive(Debug, Clone)]
pub struct Link {
    pub invitation: Invitation,
    pub wave: Wave,
    pub survey: std::sync::Arc<SurveyFile>,
    pub response: Option<Response>,
}

impl Link {
    pub fn role(&self) -> &str {
        self.invitation.role.as_str()
    }

    /// The language to show: the response's, else the invitation's.
    pub fn language(&self) -> &str {
        self.response
            .as_ref()
            .map_or(self.invitation.language.as_str(), |r| r.language.as_str())
    }
}

fn stamp(wave: &Wave, t: NaiveDateTime) -> NaiveDateTime {
    if wave.anonymity == Anonymity::Anonymous {
        t.date().and_hms_opt(0, 0, 0).unwrap_or(t)
    } else {
        t
    }
}

fn find_response(
    conn: &mut DbConn,
    keys: &DerivedKeys,
    wave: &Wave,
    inv: &Invitation,
    token: &str,
) -> QueryResult<Option<Response>> {
    match wave.anonymity {
        Anonymity::Linked => Response::for_invitation(conn, &inv.id),
        Anonymity::Anonymous => schema::responses::table
            .filter(schema::responses::resume_key_hash.eq(keys.resume_key_hash(token)))
            .select(Response::as_select())
            .first(conn)
            .optional(),
    }
}

/// Resolves a token.
pub fn open_link(conn: &mut DbConn, keys: &DerivedKeys, token: &str) -> anyhow::Result<LinkState> {
    let Some(invitation) = crate::app::waves::invitation_for_token(conn, token)? else {
        return Ok(LinkState::Unknown);
    };
    let wave = Wave::find(conn, &invitation.wave_id)?;
    let survey = crate::app::waves::instrument_of(conn, &wave)?;
    let response = find_response(conn, keys, &wave, &invitation, token)?;
    let now = db::now();
    let expired = invitation
        .expires_at
        .or(wave.closes_at)
        .is_some_and(|e| e <= now);
    let status = invitation.status;
    let submitted = response.as_ref().is_some_and(|r| r.submitted_at.is_some())
        || status == InvitationStatus::Submitted;
    let link = Box::new(Link {
        invitation,
        wave,
        survey,
        response,
    });
    Ok(match () {
        () if status == InvitationStatus::Withdrawn => LinkState::Withdrawn(link),
        () if submitted => LinkState::Submitted(link),
        () if link.wave.status == WaveStatus::Draft => LinkState::NotOpen(link),
        () if link.wave.status == WaveStatus::Closed => LinkState::Closed(link),
        () if expired => LinkState::Expired(link),
        () => LinkState::Active(link),
    })
}

/// The pages of a role's questionnaire: consent, one per phase, context (if any), review.
pub fn pages(survey: &SurveyFile, role: &str) -> Vec<String> {
    let mut out = vec!["consent".to_owned()];
    out.extend(
        survey
            .phases
            .iter()
            .filter(|p| {
                survey
                    .items
                    .iter()
                    .any(|i| i.phase == p.code && i.text.contains_key(role))
            })
            .map(|p| p.code.clone()),
    );
    if survey
        .context
        .iter()
        .any(|c| c.roles.iter().any(|r| r == role))
    {
        out.push("context".to_owned());
    }
    out.push("review".to_owned());
    out
}

/// An item on a page.
#[derive(Debug, Clone, Copy)]
pub enum PageItem<'a> {
    Scored(&'a Item),
    Context(&'a ContextItem),
}

impl PageItem<'_> {
    pub fn code(&self) -> &str {
        match self {
            Self::Scored(i) => &i.code,
            Self::Context(c) => &c.code,
        }
    }
}

/// The items of page `page` for `role`.
pub fn items_on<'a>(survey: &'a SurveyFile, role: &str, page: &str) -> Vec<PageItem<'a>> {
    if page == "context" {
        survey
            .context
            .iter()
            .filter(|c| c.roles.iter().any(|r| r == role))
            .map(PageItem::Context)
            .collect()
    } else {
        survey
            .items
            .iter()
            .filter(|i| i.phase == page && i.text.contains_key(role))
            .map(PageItem::Scored)
            .collect()
    }
}

/// Every item the role answers, in page order.
pub fn all_items<'a>(survey: &'a SurveyFile, role: &str) -> Vec<PageItem<'a>> {
    pages(survey, role)
        .iter()
        .flat_map(|p| items_on(survey, role, p))
        .collect()
}

/// One answer as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stored {
    pub value: Option<f64>,
    pub text: Option<String>,
    pub missing: Option<String>,
}

impl Stored {
    /// The form value that shows this answer again.
    pub fn raw(&self) -> String {
        match (&self.value, &self.text, &self.missing) {
            (_, _, Some(m)) => m.clone(),
            (_, Some(t), _) => t.clone(),
            (Some(v), _, _) if v.fract() == 0.0 => format!("{v:.0}"),
            (Some(v), _, _) => v.to_string(),
            _ => String::new(),
        }
    }

    /// The row that stores this answer to `code`.
    pub fn row(
        &self,
        response: &ResponseId,
        wave: &crate::core::domain::WaveId,
        code: &str,
        at: NaiveDateTime,
    ) -> NewAnswer {
        NewAnswer {
            response_id: response.clone(),
            wave_id: wave.clone(),
            item_code: code.to_owned(),
            value: self.value,
            text_value: self.text.clone(),
            missing_code: self.missing.clone(),
            updated_at: at,
        }
    }

    /// The answer as scoring sees it; `None` for a text or choice answer.
    pub fn answer_value(&self) -> Option<crate::core::scoring::AnswerValue<'_>> {
        match (&self.value, &self.missing) {
            (Some(v), _) => Some(crate::core::scoring::AnswerValue::Value(*v)),
            (None, Some(code)) => Some(crate::core::scoring::AnswerValue::Code(code)),
            (None, None) => None,
        }
    }

    pub fn from_answer(a: &Answer) -> Self {
        Self {
            value: a.value,
            text: a.text_value.clone(),
            missing: a.missing_code.clone(),
        }
    }
}

/// Messages in the respondent's language (`respondent.answer_*` in the i18n catalogue;
/// English for anything but bokmål).
fn message(lang: &str, key: &str) -> String {
    let lang = if lang == "nb" { "nb" } else { "en" };
    let key = match key {
        "choose" | "whole" | "number" | "year" => key,
        _ => "unusable",
    };
    crate::infra::i18n::fill(lang, &format!("respondent.answer_{key}"), &[])
}

fn range_message(lang: &str, min: Option<f64>, max: Option<f64>) -> String {
    let f = |v: f64| {
        let text = if v.fract() == 0.0 {
            format!("{v:.0}")
        } else {
            v.to_string()
        };
        if lang == "nb" {
            text.replace('.', ",")
        } else {
            text
        }
    };
    let lang = if lang == "nb" { "nb" } else { "en" };
    let (key, min, max) = match (min, max) {
        (Some(a), Some(b)) => ("between", f(a), f(b)),
        (Some(a), None) => ("at_least", f(a), String::new()),
        (None, Some(b)) => ("at_most", String::new(), f(b)),
        (None, None) => return String::new(),
    };
    crate::infra::i18n::fill(
        lang,
        &format!("respondent.answer_{key}"),
        &[("min", &min), ("max", &max)],
    )
}

/// Checks one raw answer. `Ok(None)` means "no answer" (an empty field).
pub fn parse_answer(
    survey: &SurveyFile,
    item: PageItem<'_>,
    raw: &str,
    lang: &str,
) -> Result<Option<Stored>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let missing = |code: &str| Stored {
        value: None,
        text: None,
        missing: Some(code.to_owned()),
    };
    match item {
        PageItem::Scored(i) => {
            let scale = survey
                .scales
                .get(&i.scale)
                .ok_or_else(|| message(lang, "choose"))?;
            if scale.missing.iter().any(|m| m.code == raw) {
                return Ok(Some(missing(raw)));
            }
            #[expect(
                clippy::cast_precision_loss,
                reason = "scale points are small integers"
            )]
            let point = raw
                .parse::<i64>()
                .ok()
                .filter(|v| scale.points.iter().any(|p| p.value == *v))
                .map(|v| v as f64);
            point
                .map(|v| {
                    Some(Stored {
                        value: Some(v),
                        text: None,
                        missing: None,
                    })
                })
                .ok_or_else(|| message(lang, "choose"))
        }
        PageItem::Context(c) => {
            if c.extra_codes.iter().any(|e| e.code == raw) {
                return Ok(Some(missing(raw)));
            }
            let value = |v: f64| {
                Ok(Some(Stored {
                    value: Some(v),
                    text: None,
                    missing: None,
                }))
            };
            let in_range = |v: f64, min: Option<f64>, max: Option<f64>| -> Result<f64, String> {
                if min.is_some_and(|m| v < m) || max.is_some_and(|m| v > m) {
                    Err(range_message(lang, min, max))
                } else {
                    Ok(v)
                }
            };
            match c.kind {
                ContextKind::Integer | ContextKind::Year => {
                    let key = if c.kind == ContextKind::Year {
                        "year"
                    } else {
                        "whole"
                    };
                    let n: i64 = raw.parse().map_err(|_| message(lang, key))?;
                    #[expect(clippy::cast_precision_loss, reason = "small whole numbers")]
                    let n = n as f64;
                    let (min, max) = if c.kind == ContextKind::Year {
                        (c.min.or(Some(1900.0)), c.max.or(Some(2100.0)))
                    } else {
                        (c.min, c.max)
                    };
                    value(in_range(n, min, max)?)
                }
                ContextKind::Number | ContextKind::Percentage => {
                    let n: f64 = raw
                        .replace(',', ".")
                        .parse()
                        .ok()
                        .filter(|v: &f64| v.is_finite())
                        .ok_or_else(|| message(lang, "number"))?;
                    let (min, max) = if c.kind == ContextKind::Percentage {
                        (Some(c.min.unwrap_or(0.0)), Some(c.max.unwrap_or(100.0)))
                    } else {
                        (c.min, c.max)
                    };
                    value(in_range(n, min, max)?)
                }
                ContextKind::Rating => match raw.parse::<u8>() {
                    Ok(n @ 1..=5) => value(f64::from(n)),
                    _ => Err(message(lang, "choose")),
                },
                ContextKind::YesNo => match raw {
                    "yes" => value(1.0),
                    "no" => value(0.0),
                    _ => Err(message(lang, "choose")),
                },
                ContextKind::SingleChoice => {
                    if c.options.iter().any(|o| o.code == raw) {
                        Ok(Some(Stored {
                            value: None,
                            text: Some(raw.to_owned()),
                            missing: None,
                        }))
                    } else {
                        Err(message(lang, "choose"))
                    }
                }
            }
        }
    }
}

/// A rejected field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// A new response behind `link`, consented at `now`; `submitted` for a whole response
/// stored in one go. Anonymous waves keep no link to the invitation or the panel.
fn new_response(
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
        role: link.invitation.role,
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

/// Localised label of an item's question.
pub fn question_text<'a>(item: PageItem<'a>, role: &str, lang: &str) -> &'a str {
    match item {
        PageItem::Scored(i) => i
            .text
            .get(role)
            .map_or("", |t| crate::core::instrument::format::in_lang(t, lang)),
        PageItem::Context(c) => crate::core::instrument::format::in_lang(&c.text, lang),
    }
}

/// Localised text helper for templates and the API.
pub fn text<'a>(text: &'a Text, lang: &str) -> &'a str {
    crate::core::instrument::format::in_lang(text, lang)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn survey() -> SurveyFile {
        crate::core::instrument::built_in().0.remove(0).definition
    }

    #[test]
    fn answers_are_checked_by_item_type() {
        let s = survey();
        let item = |code: &str| {
            all_items(&s, "manager")
                .into_iter()
                .chain(all_items(&s, "peer_worker"))
                .find(|i| i.code() == code)
                .expect(code)
        };
        assert_eq!(
            parse_answer(&s, item("A1"), "3", "en"),
            Ok(Some(Stored {
                value: Some(3.0),
                text: None,
                missing: None
            }))
        );
        assert_eq!(
            parse_answer(&s, item("A1"), "NA", "en")
                .expect("ok")
                .expect("some")
                .missing
                .as_deref(),
            Some("NA")
        );
        assert!(parse_answer(&s, item("A1"), "7", "en").is_err());
        assert_eq!(parse_answer(&s, item("A1"), " ", "en"), Ok(None));
        assert_eq!(
            parse_answer(&s, item("M_PEER_FTE"), "1,5", "nb")
                .expect("ok")
                .expect("some")
                .value,
            Some(1.5)
        );
        assert!(
            parse_answer(&s, item("M_FIRST_YEAR"), "1800", "en")
                .expect_err("range")
                .contains("between")
        );
        assert_eq!(
            parse_answer(&s, item("M_FIRST_YEAR"), "NEVER", "en")
                .expect("ok")
                .expect("some")
                .missing
                .as_deref(),
            Some("NEVER")
        );
        assert_eq!(
            parse_answer(&s, item("M_POLICY_PLAN"), "yes", "en")
                .expect("ok")
                .expect("some")
                .value,
            Some(1.0)
        );
        assert!(
            parse_answer(&s, item("M_EMPLOYMENT"), "forever", "nb")
                .expect_err("choice")
                .starts_with("Velg")
        );
        assert!(parse_answer(&s, item("P_POSITION_PERCENT"), "150", "en").is_err());
    }

    #[test]
    fn each_role_has_consent_phases_context_and_review() {
        let s = survey();
        assert_eq!(
            pages(&s, "peer_worker"),
            ["consent", "A", "B", "C", "D", "context", "review"]
        );
        assert_eq!(items_on(&s, "manager", "B").len(), 5);
    }
}
