//! Invitations: one per person and wave, with a one-time link, and the e-mail that
//! carries it.

use diesel::prelude::*;
use serde_json::json;

use crate::core::domain::{InvitationId, InvitationStatus, RespondentRole};
use crate::core::instrument::format::SurveyFile;
use crate::infra::crypto::DerivedKeys;
use crate::infra::db::{self, DbConn, schema};
use crate::infra::models::{Invitation, NewInvitation, Wave, WaveService};

/// Link to a questionnaire.
pub fn link(base_url: &str, token: &str) -> String {
    format!("{}/s/{token}", base_url.trim_end_matches('/'))
}

/// Renders and queues an invitation or reminder message for `token`.
#[expect(clippy::too_many_arguments, reason = "one message needs all of these")]
pub fn queue_message(
    conn: &mut DbConn,
    kind: &'static str,
    dedupe_key: String,
    wave: &Wave,
    survey: &SurveyFile,
    invitation: &Invitation,
    token: &str,
    base_url: &str,
) -> anyhow::Result<bool> {
    let Some(email) = &invitation.email else {
        return Ok(false);
    };
    let service = WaveService::find(conn, &wave.id, &invitation.service_id)?
        .map(|s| s.service_name)
        .unwrap_or_default();
    let lang = invitation.language.as_str();
    let role = survey
        .roles
        .get(invitation.role.as_str())
        .map(|r| crate::core::instrument::format::in_lang(&r.label, lang).to_lowercase())
        .unwrap_or_default();
    let data = json!({
        "title": crate::core::instrument::format::in_lang(&survey.title, lang),
        "service": service,
        "role": role,
        "link": link(base_url, token),
        "closes": wave.closes_at.map(|c| crate::infra::time::local_date(c).to_string()),
        "reminder_number": invitation.reminder_count,
    });
    let (subject, text, html) = crate::infra::mail::templates::render(kind, lang, &data)?;
    Ok(crate::infra::mail::enqueue(
        conn,
        &crate::infra::mail::Outgoing {
            kind,
            dedupe_key,
            to: email.clone(),
            language: lang.to_owned(),
            subject,
            text,
            html,
            wave_id: Some(wave.id.clone()),
            invitation_id: Some(invitation.id.clone()),
        },
        db::now(),
    )?)
}

/// Stores a new token for an invitation (every token sent stays valid).
pub fn add_token(conn: &mut DbConn, invitation: &InvitationId, token: &str) -> QueryResult<()> {
    diesel::insert_into(schema::invitation_tokens::table)
        .values((
            schema::invitation_tokens::token_hash.eq(crate::app::accounts::token_hash(token)),
            schema::invitation_tokens::invitation_id.eq(invitation),
            schema::invitation_tokens::created_at.eq(db::now()),
        ))
        .execute(conn)
        .map(drop)
}

/// The invitation a token belongs to.
pub fn invitation_for_token(conn: &mut DbConn, token: &str) -> QueryResult<Option<Invitation>> {
    use schema::{invitation_tokens as t, invitations as i};
    if token.len() != 40 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    t::table
        .inner_join(i::table)
        .filter(t::token_hash.eq(crate::app::accounts::token_hash(token)))
        .select(Invitation::as_select())
        .first(conn)
        .optional()
}

/// Creates one invitation with its first token; returns it and the token.
pub fn create_invitation(
    conn: &mut DbConn,
    keys: &DerivedKeys,
    wave: &Wave,
    service: &crate::core::domain::ServiceId,
    role: &RespondentRole,
    email: &str,
    language: &str,
) -> QueryResult<(Invitation, String)> {
    let token = crate::infra::crypto::respondent_token();
    let now = db::now();
    let id = InvitationId::generate();
    Invitation::insert(
        conn,
        &NewInvitation {
            id: id.clone(),
            wave_id: wave.id.clone(),
            service_id: service.clone(),
            role: role.clone(),
            email: Some(email.to_owned()),
            language: language.to_owned(),
            token_hash: crate::app::accounts::token_hash(&token),
            panel_pseudonym: keys.panel_pseudonym(email),
            status: InvitationStatus::Pending,
            expires_at: wave.closes_at,
            created_at: now,
            updated_at: now,
        },
    )?;
    add_token(conn, &id, &token)?;
    // Participation counts are part of the wave's publication.
    Wave::bump_data_version(conn, &wave.id)?;
    Ok((Invitation::find(conn, &id)?, token))
}
