//! Research bundles: a wave's (or several waves' pooled) consented, submitted responses,
//! pseudonymous, with everything SPSS, Stata, R and Python need to read them with labels.
//!
//! Written into a directory:
//! - `long.csv`: one row per answer (wave, service, panel, response, role, variable,
//!   value, missing code);
//! - `wide.csv`: one row per response, one column per variable;
//! - `long.parquet`, `wide.parquet`: the same two tables as Parquet (values as doubles);
//! - `scores.csv`: phase scores, maturity levels and the index per response;
//! - `codebook.csv`: variable, label, type, values with labels, missing codes, phase,
//!   instrument version;
//! - `datapackage.json`: a Frictionless data package (Table Schema with categories and
//!   missing values);
//! - `samskap.sps`, `samskap.do`, `samskap.R`: read `wide.csv` and apply variable labels,
//!   value labels and missing values in SPSS/PSPP, Stata and R;
//! - the survey file of every instrument version in the bundle, and `README.md`.
//!
//! Values in the CSV files are numbers: scale points as they are, choices as 1, 2, … in
//! the order of the survey file, yes/no as 1/0; a missing code becomes a negative number
//! (-2 don't know, -3 not applicable / did not take place, -4 and below other codes such
//! as "never"), declared as user-missing in every script; an item nobody answered is
//! empty. Variable names are the item codes in lower case, the same in every wave and
//! instrument version. Service, panel and response pseudonyms are keyed hashes under a
//! research project's key: stable within the project, unlinkable across projects, and
//! meaningless without the server's secret.
//!
//! Answers are streamed in response order: memory holds the responses' metadata and one
//! response's answers at a time, never the answers of the wave.

pub mod safe_csv;

mod bundle;
mod codebook;
mod ddi;
mod dictionary;
mod dta;
mod native;
mod redcap;
mod sav;
mod syntax;
mod tables;
mod variables;

pub use bundle::{
    GROWING, MAX_PROJECT_NAME, NoneHeld, Progressing, Request, Step, Summary, TEMP_PREFIX, bundle,
    project_name, remove_stale_bundles, research_export, write_zip,
};
use codebook::{write_codebook, write_datapackage, write_readme};
pub use dictionary::Dictionary;
use dictionary::ID_COLUMNS;
pub use redcap::REDCAP_COLUMNS;
use syntax::{write_r, write_spss, write_stata};
pub use tables::{Table, download, psychometrics_csv, regions_csv, service_csv};
pub use variables::{LANGUAGES, MissingValue, Pseudonyms, Variable, tidy_number, variables};

/// The waves `access` may export, newest first, each with its number of submitted
/// responses: the exports page offers them and ticks the newest with answers, so that a
/// wave just opened does not stand in for the one with data.
///
/// # Errors
/// When the database cannot be read.
pub fn exportable_waves(
    conn: &mut crate::infra::db::DbConn,
    access: &crate::app::accounts::Access,
) -> anyhow::Result<Vec<(crate::infra::models::Wave, i64)>> {
    let waves: Vec<crate::infra::models::Wave> =
        crate::infra::models::Wave::opened_newest_first(conn)?
            .into_iter()
            .filter(|w| access.can_export_wave(&w.id))
            .collect();
    let ids: Vec<&crate::core::domain::WaveId> = waves.iter().map(|w| &w.id).collect();
    let counts = crate::app::waves::submitted_per_wave(conn, &ids)?;
    Ok(waves
        .into_iter()
        .map(|w| {
            let n = counts.get(&w.id).copied().unwrap_or(0);
            (w, n)
        })
        .collect())
}
