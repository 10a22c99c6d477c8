//! Storing instrument versions. A version, once stored, never changes: loading a file
//! whose content differs under the same id and version is refused, and waves pin the
//! stored row, so editing a file can never change a running or finished wave.

pub mod outline;

use crate::core::domain::InstrumentId;
use crate::core::instrument::Instrument;
use crate::infra::db::{self, DbConn};
use crate::infra::models::{InstrumentRow, NewInstrument};

/// The instruments of the survey folder `dir`, or the built-in ones when it does not
/// exist; every problem of every file at once.
pub fn configured(dir: &std::path::Path) -> anyhow::Result<Vec<Instrument>> {
    let (loaded, problems) = if dir.is_dir() {
        let files = crate::core::instrument::survey_files(std::slice::from_ref(&dir.to_path_buf()))
            .map_err(|d| anyhow::anyhow!("{d}"))?;
        crate::core::instrument::load_all(&files)
    } else {
        crate::core::instrument::built_in()
    };
    anyhow::ensure!(
        problems.is_empty(),
        "the survey files have problems:\n{}",
        problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
    Ok(loaded)
}

/// Stores every version of `instruments` (refusing changed content under an existing
/// version) and returns one line per instrument.
pub fn store_all(conn: &mut DbConn, instruments: &[Instrument]) -> anyhow::Result<Vec<String>> {
    let mut lines = Vec::new();
    for inst in instruments {
        let what = match store(conn, inst)? {
            Stored::New(_) => "stored",
            Stored::Unchanged(_) => "already stored",
        };
        lines.push(format!(
            "{} {} ({}): {what}",
            inst.id(),
            inst.version(),
            inst.content_hash
        ));
    }
    Ok(lines)
}

/// `samskap survey load`: stores `instruments` as [`store_all`] does, with one audit
/// record (`survey.load`) listing what was stored, in one transaction.
pub fn load(
    conn: &mut DbConn,
    actor: &crate::app::audit::Actor,
    instruments: &[Instrument],
) -> anyhow::Result<Vec<String>> {
    crate::infra::db::write_transaction(conn, |conn| {
        let lines = store_all(conn, instruments)?;
        crate::app::audit::record(
            conn,
            actor,
            "survey.load",
            None,
            Some(serde_json::json!({ "stored": lines })),
        )?;
        Ok(lines)
    })
}

/// What [`store`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// A new version was stored.
    New(InstrumentId),
    /// The same content was already stored.
    Unchanged(InstrumentId),
}

impl Stored {
    pub fn id(&self) -> &InstrumentId {
        match self {
            Self::New(id) | Self::Unchanged(id) => id,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "{origin}: `{survey_id}` version {version} is already stored with different content \
         ({stored_hash}, the file now has {file_hash}). Stored versions never change, so that \
         running and finished waves keep their questionnaire: bump `version` in the file to store the change."
    )]
    VersionConflict {
        origin: String,
        survey_id: String,
        version: String,
        stored_hash: String,
        file_hash: String,
    },
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// Stores an instrument version, or confirms the identical version is already stored.
pub fn store(conn: &mut DbConn, instrument: &Instrument) -> Result<Stored, StoreError> {
    crate::infra::db::write_transaction(conn, |conn| {
        if let Some(existing) =
            InstrumentRow::find_version(conn, instrument.id(), instrument.version())?
        {
            return if existing.content_hash == instrument.content_hash {
                Ok(Stored::Unchanged(existing.id))
            } else {
                Err(StoreError::VersionConflict {
                    origin: instrument.origin.clone(),
                    survey_id: instrument.id().to_owned(),
                    version: instrument.version().to_owned(),
                    stored_hash: existing.content_hash,
                    file_hash: instrument.content_hash.clone(),
                })
            };
        }
        let id = InstrumentId::generate();
        let title = instrument
            .definition
            .title
            .get("en")
            .or_else(|| instrument.definition.title.values().next())
            .cloned()
            .unwrap_or_default();
        InstrumentRow::insert(
            conn,
            &NewInstrument {
                id: id.clone(),
                survey_id: instrument.id().to_owned(),
                version: instrument.version().to_owned(),
                content_hash: instrument.content_hash.clone(),
                title,
                definition: instrument.canonical_json(),
                source: instrument.source.clone(),
                loaded_at: db::now(),
            },
        )?;
        Ok(Stored::New(id))
    })
}

/// The stored definition of a version, as the typed survey file.
pub fn load_stored(
    row: &InstrumentRow,
) -> anyhow::Result<crate::core::instrument::format::SurveyFile> {
    serde_json::from_str(&row.definition).map_err(|e| {
        anyhow::anyhow!(
            "stored instrument {} {} is unreadable: {e}",
            row.survey_id,
            row.version
        )
    })
}
