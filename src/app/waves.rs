//! Waves, one use case per file: [`lifecycle`] (create, open, close), [`respondents`]
//! (checking a respondent list and inviting it), [`invitations`] (one-time links and
//! their e-mails), [`reminders`], [`status`] and [`retention`] (erasing e-mail addresses
//! after a wave). What they share is here: finding a wave, its instrument and answer
//! rules, and which wave a page shows.

pub mod invitations;
pub mod lifecycle;
pub mod reminders;
pub mod respondents;
pub mod retention;
pub mod status;

pub use invitations::{add_token, create_invitation, invitation_for_token, link, queue_message};
pub use lifecycle::{
    SCHEDULE_FIELDS, SPEC_FIELDS, Schedule, WaveSpec, close, create, open, reopen, reopen_refusal,
    reschedule,
};
pub use reminders::{automatic, next_due, pause_reminders, remind, send_due_reminders};
pub use retention::{erase_due_emails, erase_emails};
pub use status::{StatusReport, invited, participation, status, submitted_per_wave};

use diesel::prelude::*;

use crate::core::domain::{InstrumentId, WaveId};
use crate::core::instrument::format::SurveyFile;
use crate::infra::db::DbConn;
use crate::infra::models::{InstrumentRow, Wave};

/// A problem with a request, naming the field.
#[derive(Debug, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> anyhow::Error {
    Invalid {
        field,
        message: message.into(),
    }
    .into()
}

/// The wave a page or download shows: the one asked for, else the newest of `waves`
/// (given newest first); `None` when the one asked for is not among them. The one rule
/// for the service and region dashboards and their downloads.
pub fn asked_or_newest<'a>(waves: &'a [Wave], asked: Option<&str>) -> Option<&'a Wave> {
    match asked {
        Some(id) => waves.iter().find(|w| w.id.as_str() == id),
        None => waves.first(),
    }
}

/// Finds a wave by id or by exact name.
pub fn find(conn: &mut DbConn, reference: &str) -> anyhow::Result<Wave> {
    if let Some(w) = Wave::find(conn, &WaveId::from_string(reference)).optional()? {
        return Ok(w);
    }
    let mut named: Vec<Wave> = Wave::all(conn)?
        .into_iter()
        .filter(|w| w.name == reference)
        .collect();
    match named.len() {
        1 => Ok(named.remove(0)),
        0 => Err(invalid(
            "wave",
            format!("no wave with id or name {reference:?}"),
        )),
        _ => Err(invalid(
            "wave",
            format!("several waves are called {reference:?}; use the id"),
        )),
    }
}

/// The wave's instrument as pinned at creation.
pub fn instrument_of(conn: &mut DbConn, wave: &Wave) -> anyhow::Result<std::sync::Arc<SurveyFile>> {
    use std::collections::HashMap;
    use std::sync::{Arc, LazyLock, RwLock};
    // Stored instrument versions never change, so a parsed copy can be kept for the life of
    // the process, on every instance, without ever going stale.
    static PARSED: LazyLock<RwLock<HashMap<InstrumentId, Arc<SurveyFile>>>> =
        LazyLock::new(Default::default);
    if let Some(found) = PARSED
        .read()
        .ok()
        .and_then(|m| m.get(&wave.instrument_id).cloned())
    {
        return Ok(found);
    }
    let row = InstrumentRow::find(conn, &wave.instrument_id)?;
    let parsed = Arc::new(crate::app::surveys::load_stored(&row)?);
    if let Ok(mut m) = PARSED.write() {
        m.insert(wave.instrument_id.clone(), parsed.clone());
    }
    Ok(parsed)
}

/// The scoring rules of a wave's instrument, prepared once per instrument version for the
/// life of the process (versions never change).
pub fn rules_of(
    wave: &Wave,
    survey: &SurveyFile,
) -> std::sync::Arc<crate::core::scoring::ScoringRules> {
    use std::collections::HashMap;
    use std::sync::{Arc, LazyLock, RwLock};
    type Prepared = HashMap<InstrumentId, Arc<crate::core::scoring::ScoringRules>>;
    static PREPARED: LazyLock<RwLock<Prepared>> = LazyLock::new(Default::default);
    if let Some(found) = PREPARED
        .read()
        .ok()
        .and_then(|m| m.get(&wave.instrument_id).cloned())
    {
        return found;
    }
    let rules = Arc::new(crate::core::scoring::ScoringRules::new(survey));
    if let Ok(mut m) = PREPARED.write() {
        m.insert(wave.instrument_id.clone(), rules.clone());
    }
    rules
}
