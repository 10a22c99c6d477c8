//! What a one-time link leads to: the invitation, its wave and its response, and whether
//! the link may still be used. In anonymous waves the response keeps no link to the
//! invitation: it is found again through a keyed hash of the link's token, and its
//! timestamps are kept to the day.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::core::domain::{Anonymity, InvitationStatus, WaveStatus};
use crate::core::instrument::format::SurveyFile;
use crate::infra::crypto::DerivedKeys;
use crate::infra::db::{self, DbConn, schema};
use crate::infra::models::{Invitation, Response, Wave};

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

pub(super) fn stamp(wave: &Wave, t: NaiveDateTime) -> NaiveDateTime {
    if wave.anonymity == Anonymity::Anonymous {
        t.date().and_hms_opt(0, 0, 0).unwrap_or(t)
    } else {
        t
    }
}

pub(super) fn find_response(
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
