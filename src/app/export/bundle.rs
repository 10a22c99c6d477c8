//! Writing a bundle: one pass over the answers in response order into the CSV tables,
//! then Parquet, psychometrics, codebook, scripts and README; the research export that
//! checks a request and records it; the zip for downloads.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::Context as _;
use diesel::prelude::*;
use serde_json::json;

use crate::core::domain::{RespondentRole, ServiceId, WaveId};
use crate::infra::crypto::DerivedKeys;
use crate::infra::db::DbConn;
use crate::infra::db::schema::{answers, responses};
use crate::infra::models::Wave;

use super::{
    Dictionary, Pseudonyms, Variable, psychometrics_csv, safe_csv, variables, write_codebook,
    write_datapackage, write_r, write_readme, write_spss, write_stata,
};

/// What an export wrote.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Summary {
    pub waves: usize,
    pub responses: usize,
    pub answers: usize,
    pub variables: usize,
    pub files: Vec<String>,
}

pub(super) struct ResponseInfo {
    wave: String,
    service: String,
    panel: String,
    response: String,
    role: RespondentRole,
    language: String,
    wave_index: usize,
}

/// How far a bundle has come, for a progress display: the pass over the answers (by
/// responses), then each file written from it.
#[derive(Debug, Clone, Copy)]
pub enum Step<'a> {
    Answers { done: usize, total: usize },
    Writing(&'a str),
}

/// The publications of a command with no server: none is held, so an export computes
/// the psychometrics it needs itself and stores nothing ([`crate::app::analytics::Computed`]
/// would store the wave's whole publication, over 100 MB at national scale, as a side
/// effect of reading).
#[derive(Debug, Clone, Copy)]
pub struct NoneHeld(pub crate::app::analytics::MinCell);

impl crate::app::analytics::Publications for NoneHeld {
    fn min_cell(&self) -> crate::app::analytics::MinCell {
        self.0
    }

    fn get(
        &self,
        _conn: &mut DbConn,
        _wave: &crate::core::domain::WaveId,
    ) -> anyhow::Result<Option<std::sync::Arc<crate::app::analytics::Publication>>> {
        Ok(None)
    }
}

/// The longest research project name; the name keys the pseudonyms.
pub const MAX_PROJECT_NAME: usize = 100;

/// A research project's name as given, trimmed: 1 to [`MAX_PROJECT_NAME`] characters.
pub fn project_name(raw: &str) -> Result<&str, String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > MAX_PROJECT_NAME {
        Err(format!(
            "give the research project a name of 1 to {MAX_PROJECT_NAME} characters"
        ))
    } else {
        Ok(name)
    }
}

/// How a research export was asked for, for its audit record.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub project: &'a str,
    /// `bundle`, `csv` or `parquet`.
    pub format: &'a str,
    /// `web` or `cli`.
    pub via: &'a str,
    /// The language of the labels: `en` or `nb` ([`super::LANGUAGES`]).
    pub lang: &'a str,
}

/// A research export: checks the request (a project name, at least one wave, no draft),
/// records `export.bundle` (with the waves' submitted responses) and writes the bundle of
/// `waves` into `dir` ([`bundle`]). The one way researchers' data leaves samskap, for the
/// download and the command line.
#[expect(
    clippy::too_many_arguments,
    reason = "the bundle's inputs and who asked"
)]
pub fn research_export(
    conn: &mut DbConn,
    keys: &DerivedKeys,
    waves: &[Wave],
    request: Request<'_>,
    publications: &dyn crate::app::analytics::Publications,
    dir: &Path,
    actor: &crate::app::audit::Actor,
    progress: &dyn Fn(Step<'_>),
) -> anyhow::Result<Summary> {
    let project = project_name(request.project).map_err(anyhow::Error::msg)?;
    anyhow::ensure!(
        !waves.is_empty(),
        "choose at least one opened wave to export"
    );
    if let Some(draft) = waves
        .iter()
        .find(|w| w.status == crate::core::domain::WaveStatus::Draft)
    {
        anyhow::bail!("\"{}\" is a draft and has no responses", draft.name);
    }
    // Recorded before anything is written: a download sends data while the bundle is
    // still being written, so an export that fails half-way has still let data out.
    let ids: Vec<&crate::core::domain::WaveId> = waves.iter().map(|w| &w.id).collect();
    let submitted: i64 = crate::app::waves::submitted_per_wave(conn, &ids)?
        .values()
        .sum();
    crate::app::audit::record(
        conn,
        actor,
        "export.bundle",
        waves.first().map(|w| ("wave", w.id.as_str())),
        Some(json!({
            "waves": waves.iter().map(|w| w.id.to_string()).collect::<Vec<_>>(),
            "project": project, "format": request.format, "via": request.via, "lang": request.lang,
            "responses": submitted,
        })),
    )?;
    let summary = crate::infra::db::without_mmap(conn, |conn| {
        bundle(conn, keys, waves, request, publications, dir, progress)
    })?;
    Ok(summary)
}

/// Writes the research bundle of `waves` (pooled when more than one) into `dir`, with
/// the pseudonyms of `request.project` and labels in `request.lang`.
#[expect(
    clippy::too_many_lines,
    reason = "one pass writing the bundle's files in order"
)]
pub fn bundle(
    conn: &mut DbConn,
    keys: &DerivedKeys,
    waves: &[Wave],
    request: Request<'_>,
    publications: &dyn crate::app::analytics::Publications,
    dir: &Path,
    progress: &dyn Fn(Step<'_>),
) -> anyhow::Result<Summary> {
    let project = project_name(request.project).map_err(anyhow::Error::msg)?;
    let language = request.lang;
    anyhow::ensure!(
        super::LANGUAGES.contains(&language),
        "labels can be written in {}, not \"{language}\"",
        super::LANGUAGES.join(" or ")
    );
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let pseudonyms = Pseudonyms::new(keys, project);
    // Variables: the union over the waves' instrument versions, by name, first seen first.
    let mut surveys = Vec::new();
    let mut vars: Vec<Variable> = Vec::new();
    let mut role_labels: Vec<(String, String)> = Vec::new();
    for w in waves {
        let survey = crate::app::waves::instrument_of(conn, w)?;
        for v in variables(&survey, language) {
            if !vars.iter().any(|x| x.name == v.name) {
                vars.push(v);
            }
        }
        for (code, role) in &survey.roles {
            if !role_labels.iter().any(|(c, _)| c == code) {
                let label = crate::core::instrument::format::in_lang(&role.label, language);
                role_labels.push((code.clone(), label.to_owned()));
            }
        }
        surveys.push(survey);
    }
    let by_code: HashMap<&str, usize> = vars
        .iter()
        .enumerate()
        .map(|(i, v)| (v.code.as_str(), i))
        .collect();

    // Responses: consented and submitted only.
    let wave_ids: Vec<WaveId> = waves.iter().map(|w| w.id.clone()).collect();
    let rows: Vec<(
        String,
        WaveId,
        ServiceId,
        RespondentRole,
        Option<String>,
        String,
    )> = responses::table
        .filter(responses::wave_id.eq_any(&wave_ids))
        .filter(responses::submitted_at.is_not_null())
        .filter(responses::consent_at.is_not_null())
        .select((
            responses::id,
            responses::wave_id,
            responses::service_id,
            responses::role,
            responses::panel_pseudonym,
            responses::language,
        ))
        .load(conn)?;
    let mut info: HashMap<String, ResponseInfo> = HashMap::with_capacity(rows.len());
    for (id, wave, service, role, panel, language) in rows {
        let wave_index = waves.iter().position(|w| w.id == wave).unwrap_or(0);
        info.insert(
            id.clone(),
            ResponseInfo {
                wave: waves[wave_index].name.clone(),
                service: pseudonyms.of("s", "service", service.as_str()),
                panel: panel
                    .map(|p| pseudonyms.of("p", "panel", &p))
                    .unwrap_or_default(),
                response: pseudonyms.of("r", "response", &id),
                role,
                language,
                wave_index,
            },
        );
    }

    let create = |name: &str| -> anyhow::Result<std::io::BufWriter<std::fs::File>> {
        let path = dir.join(name);
        Ok(std::io::BufWriter::new(
            std::fs::File::create(&path)
                .with_context(|| format!("cannot write {}", path.display()))?,
        ))
    };
    let mut long = safe_csv::Writer::from_writer(create("long.csv")?);
    long.write_record([
        "wave",
        "service",
        "panel",
        "response",
        "role",
        "variable",
        "value",
        "missing_code",
    ])?;
    let mut wide = safe_csv::Writer::from_writer(create("wide.csv")?);
    let mut header = vec!["wave", "service", "panel", "response", "role", "language"];
    header.extend(vars.iter().map(|v| v.name.as_str()));
    wide.write_record(&header)?;
    let mut scores = safe_csv::Writer::from_writer(create("scores.csv")?);
    let phase_codes: Vec<String> = surveys
        .first()
        .map(|s| s.phases.iter().map(|p| p.code.clone()).collect())
        .unwrap_or_default();
    let mut score_header = vec![
        "wave".to_owned(),
        "service".into(),
        "response".into(),
        "role".into(),
    ];
    for p in &phase_codes {
        score_header.push(format!("score_{}", p.to_lowercase()));
    }
    for p in &phase_codes {
        score_header.push(format!("level_{}", p.to_lowercase()));
    }
    score_header.push("index".into());
    scores.write_record(&score_header)?;

    let rules: Vec<std::sync::Arc<crate::core::scoring::ScoringRules>> = waves
        .iter()
        .zip(&surveys)
        .map(|(w, s)| crate::app::waves::rules_of(w, s))
        .collect();
    let mut summary = Summary {
        waves: waves.len(),
        variables: vars.len(),
        ..Summary::default()
    };
    // Answers in response order, a slice of responses at a time: one ORDER BY over a
    // whole wave would make the database sort every answer at once (in memory).
    let mut ordered: Vec<&String> = info.keys().collect();
    ordered.sort();
    let ordered: Vec<String> = ordered.into_iter().cloned().collect();
    let mut current: Option<String> = None;
    let mut cells: Vec<String> = vec![String::new(); vars.len()];
    let mut phase_answers: Vec<(String, Option<f64>, Option<String>)> = Vec::new();
    let flush = |id: &str,
                 cells: &mut Vec<String>,
                 scored: &mut Vec<(String, Option<f64>, Option<String>)>,
                 wide: &mut safe_csv::Writer<_>,
                 scores: &mut safe_csv::Writer<_>|
     -> anyhow::Result<()> {
        let Some(r) = info.get(id) else {
            return Ok(());
        };
        let mut record = vec![
            r.wave.clone(),
            r.service.clone(),
            r.panel.clone(),
            r.response.clone(),
            r.role.as_str().to_owned(),
            r.language.clone(),
        ];
        record.append(cells);
        wide.write_record(&record)?;
        *cells = vec![String::new(); record.len() - 6];
        let answers = scored.iter().map(|(code, value, missing)| {
            (
                code.as_str(),
                match (value, missing) {
                    (Some(v), _) => crate::core::scoring::AnswerValue::Value(*v),
                    (None, Some(m)) => crate::core::scoring::AnswerValue::Code(m),
                    (None, None) => crate::core::scoring::AnswerValue::Code(""),
                },
            )
        });
        let score = rules[r.wave_index].score(answers);
        let mut row = vec![
            r.wave.clone(),
            r.service.clone(),
            r.response.clone(),
            r.role.as_str().to_owned(),
        ];
        for p in &score.phases {
            row.push(p.score.map(|s| format!("{s:.6}")).unwrap_or_default());
        }
        for p in &score.phases {
            row.push(p.level.map(|l| l.to_string()).unwrap_or_default());
        }
        row.push(score.index.map(|s| format!("{s:.6}")).unwrap_or_default());
        scores.write_record(&row)?;
        scored.clear();
        Ok(())
    };
    for (i, slice) in ordered.chunks(2_000).enumerate() {
        progress(Step::Answers {
            done: i * 2_000,
            total: ordered.len(),
        });
        let stream = answers::table
            .filter(answers::response_id.eq_any(slice))
            .order((answers::response_id, answers::item_code))
            .select((
                answers::response_id,
                answers::item_code,
                answers::value,
                answers::text_value,
                answers::missing_code,
            ))
            .load_iter::<(String, String, Option<f64>, Option<String>, Option<String>), diesel::connection::DefaultLoadingMode>(conn)?;
        for row in stream {
            let (response, code, value, text, missing) = row?;
            if !info.contains_key(&response) {
                continue;
            }
            if current.as_deref() != Some(response.as_str()) {
                if let Some(previous) = current.take() {
                    flush(
                        &previous,
                        &mut cells,
                        &mut phase_answers,
                        &mut wide,
                        &mut scores,
                    )?;
                    summary.responses += 1;
                }
                current = Some(response.clone());
            }
            let Some(&vi) = by_code.get(code.as_str()) else {
                continue;
            };
            let var = &vars[vi];
            let encoded = var
                .encode(value, text.as_deref(), missing.as_deref())
                .unwrap_or_default();
            if let Some(r) = info.get(&response) {
                long.write_record([
                    r.wave.as_str(),
                    r.service.as_str(),
                    r.panel.as_str(),
                    r.response.as_str(),
                    r.role.as_str(),
                    var.name.as_str(),
                    encoded.as_str(),
                    missing
                        .as_deref()
                        .map_or("", |m| var.missing_name(m).unwrap_or(m)),
                ])?;
            }
            cells[vi] = encoded;
            if var.phase.is_some() {
                phase_answers.push((code, value, missing));
            }
            summary.answers += 1;
        }
    }
    if let Some(previous) = current.take() {
        flush(
            &previous,
            &mut cells,
            &mut phase_answers,
            &mut wide,
            &mut scores,
        )?;
        summary.responses += 1;
    }
    progress(Step::Answers {
        done: ordered.len(),
        total: ordered.len(),
    });
    long.flush()?;
    wide.flush()?;
    scores.flush()?;

    progress(Step::Writing("Parquet tables"));
    csv_to_parquet(&dir.join("long.csv"), &dir.join("long.parquet"), |c| {
        c == "value"
    })?;
    csv_to_parquet(&dir.join("wide.csv"), &dir.join("wide.parquet"), |c| {
        vars.iter().any(|v| v.name == c)
    })?;
    progress(Step::Writing("psychometrics"));
    let mut single_wave_psychometrics = None;
    for (i, w) in waves.iter().enumerate() {
        // The wave's publication, as every page reads it: on a server the one it serves
        // (held already, so the export adds no computation of its own, which took some
        // 100 MiB for 100,000 responses), computed when there is none yet.
        let computed = match publications.get(conn, &w.id)? {
            Some(published) => published,
            None => std::sync::Arc::new(crate::app::analytics::compute(
                conn,
                &w.id,
                publications.min_cell(),
            )?),
        };
        let name = if waves.len() == 1 {
            "psychometrics.csv".to_owned()
        } else {
            format!("psychometrics-{}.csv", i + 1)
        };
        psychometrics_csv(&computed.wave_name, &computed.psychometrics, create(&name)?)?;
        if waves.len() == 1 {
            single_wave_psychometrics = Some(computed);
        }
    }
    let dict = Dictionary {
        lang: language.to_owned(),
        vars,
        roles: role_labels,
        phases: phase_codes,
    };
    write_codebook(&dict, create("codebook.csv")?)?;
    write_datapackage(&dict, create("datapackage.json")?)?;
    write_spss(&dict, create("samskap.sps")?)?;
    write_stata(&dict, create("samskap.do")?)?;
    write_r(&dict, create("samskap.R")?)?;
    let label: String = format!(
        "samskap: {}",
        waves
            .iter()
            .map(|w| w.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    progress(Step::Writing("SPSS and Stata files"));
    super::native::write_native(dir, &dict, &label)?;
    let mut instruments = BTreeMap::new();
    for (w, s) in waves.iter().zip(&surveys) {
        let row = crate::infra::models::InstrumentRow::find(conn, &w.instrument_id)?;
        instruments.insert(format!("survey-{}-{}.toml", s.id, s.version), row);
    }
    for (name, row) in &instruments {
        // The survey file as it was loaded (its text is stored with the version).
        std::fs::write(dir.join(name), &row.source)
            .with_context(|| format!("cannot write {name}"))?;
    }
    progress(Step::Writing("codebooks and dictionaries"));
    // A REDCap data dictionary beside each survey file.
    let mut dictionaries = Vec::new();
    for name in instruments.keys() {
        let Some(s) = surveys
            .iter()
            .find(|s| format!("survey-{}-{}.toml", s.id, s.version) == *name)
        else {
            continue;
        };
        let dictionary = format!("redcap-{}-{}.csv", s.id, s.version);
        super::redcap::write_redcap(s, language, create(&dictionary)?)?;
        dictionaries.push(dictionary);
    }
    super::ddi::write_ddi(
        &dict,
        &super::ddi::Study {
            waves,
            surveys: &surveys,
            summary: &summary,
            psychometrics: single_wave_psychometrics
                .as_deref()
                .map(|p| p.psychometrics.as_slice()),
        },
        create("codebook.xml")?,
    )?;
    write_readme(
        waves,
        project,
        &summary,
        instruments.keys(),
        create("README.md")?,
    )?;
    summary.files = [
        "long.csv",
        "wide.csv",
        "scores.csv",
        "codebook.csv",
        "datapackage.json",
        "samskap.sps",
        "samskap.do",
        "samskap.R",
        "samskap.sav",
        "samskap.dta",
        "codebook.xml",
        "README.md",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .chain(instruments.keys().cloned())
    .chain(dictionaries)
    .collect();
    Ok(summary)
}

/// Rewrites a CSV file of the bundle as Parquet, about half a million cells at a time
/// (bounded memory whatever the width: a cell held as a `String` and then copied into
/// Arrow costs some 60 bytes, and 100,000 rows of a 100,000-response wave's tables held
/// over 110 MiB, `perf/export.sh`):
/// columns for which `numeric` holds become nullable doubles, the rest strings.
pub(super) fn csv_to_parquet(
    from: &Path,
    to: &Path,
    numeric: impl Fn(&str) -> bool,
) -> anyhow::Result<()> {
    use polars::prelude::{Column as FrameColumn, DataFrame};
    use polars_io::parquet::write::{BatchedWriter, ParquetWriter};
    const BATCH_CELLS: usize = 500_000;
    let mut reader =
        csv::Reader::from_path(from).with_context(|| format!("cannot read {}", from.display()))?;
    let headers: Vec<String> = reader.headers()?.iter().map(str::to_owned).collect();
    let batch = (BATCH_CELLS / headers.len().max(1)).clamp(1_000, 100_000);
    let is_number: Vec<bool> = headers.iter().map(|h| numeric(h)).collect();
    let mut strings: Vec<Vec<String>> = vec![Vec::new(); headers.len()];
    let mut numbers: Vec<Vec<Option<f64>>> = vec![Vec::new(); headers.len()];
    let mut writer: Option<BatchedWriter<std::fs::File>> = None;
    let mut rows = 0;
    let write = |strings: &mut Vec<Vec<String>>,
                 numbers: &mut Vec<Vec<Option<f64>>>,
                 rows: usize,
                 writer: &mut Option<BatchedWriter<std::fs::File>>|
     -> anyhow::Result<()> {
        let columns: Vec<FrameColumn> = headers
            .iter()
            .enumerate()
            .map(|(i, h)| {
                if is_number[i] {
                    FrameColumn::new(h.as_str().into(), std::mem::take(&mut numbers[i]))
                } else {
                    FrameColumn::new(h.as_str().into(), std::mem::take(&mut strings[i]))
                }
            })
            .collect();
        let df = DataFrame::new(rows, columns)?;
        if writer.is_none() {
            let file = std::fs::File::create(to)
                .with_context(|| format!("cannot write {}", to.display()))?;
            *writer = Some(ParquetWriter::new(file).batched(df.schema())?);
        }
        if let Some(w) = writer.as_mut() {
            w.write_batch(&df)?;
        }
        Ok(())
    };
    for record in reader.records() {
        let record = record?;
        for (i, field) in record.iter().enumerate().take(headers.len()) {
            if is_number[i] {
                numbers[i].push(field.parse::<f64>().ok());
            } else {
                strings[i].push(field.to_owned());
            }
        }
        rows += 1;
        if rows == batch {
            write(&mut strings, &mut numbers, rows, &mut writer)?;
            rows = 0;
        }
    }
    if rows > 0 || writer.is_none() {
        write(&mut strings, &mut numbers, rows, &mut writer)?;
    }
    if let Some(w) = writer {
        w.finish()?;
    }
    Ok(())
}

/// How a download's temporary bundle directory is named: this, then random hex.
pub const TEMP_PREFIX: &str = "samskap-export-";

/// Removes the download bundles (pseudonymous microdata) that a server stopped mid-export
/// left in `tmp`: the directories named [`TEMP_PREFIX`]… last changed more than `age`
/// ago (younger ones may be another instance's download in progress). Returns how many
/// went; one that cannot be removed is logged and left.
pub fn remove_stale_bundles(tmp: &Path, age: std::time::Duration) -> usize {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return 0;
    };
    let now = std::time::SystemTime::now();
    let mut removed = 0;
    for entry in entries.filter_map(Result::ok) {
        let stale = entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX)
            && entry.metadata().is_ok_and(|m| {
                m.is_dir()
                    && m.modified()
                        .is_ok_and(|t| now.duration_since(t).is_ok_and(|d| d > age))
            });
        if stale {
            match std::fs::remove_dir_all(entry.path()) {
                Ok(()) => removed += 1,
                Err(e) => {
                    tracing::warn!(path = %entry.path().display(), error = %e, "cannot remove an old export bundle");
                }
            }
        }
    }
    removed
}

/// The bundle's largest file, written from the first answer read to the last: a download
/// can send it while the rest of the bundle is still being written ([`write_zip`]).
pub const GROWING: &str = "long.csv";

/// How [`write_zip`] learns how far the bundle has come.
pub trait Progressing {
    /// Whether [`GROWING`] is complete (or the bundle has failed): answers at once.
    fn growing_done(&self) -> bool;
    /// Waits until the whole bundle is written; its error if it failed.
    fn finished(&self) -> anyhow::Result<()>;
}

/// Packs a bundle directory into one zip (deflate) written to `out` as it goes: nothing is
/// held in memory but one file's compression window and a read buffer, so a download can
/// stream however large the bundle. [`GROWING`] comes first and is sent while it is being
/// written, so the first bytes leave at once and keep flowing through the pass over the
/// answers (at a million responses that pass takes most of a minute, longer than a
/// proxy's usual read timeout); the other files follow when `progress` says the bundle is
/// written. Returns `out`.
pub fn write_zip<W: std::io::Write>(
    dir: &Path,
    out: W,
    progress: &dyn Progressing,
) -> anyhow::Result<W> {
    use std::io::{Read as _, Write as _};
    const POLL: std::time::Duration = std::time::Duration::from_millis(50);
    let mut zip = zip::ZipWriter::new_stream(out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    let growing = dir.join(GROWING);
    let mut file = loop {
        match std::fs::File::open(&growing) {
            Ok(f) => break Some(f),
            Err(_) if !progress.growing_done() => std::thread::sleep(POLL),
            Err(_) => break None,
        }
    };
    if let Some(file) = file.as_mut() {
        zip.start_file(format!("samskap-bundle/{GROWING}"), options)?;
        let mut buf = vec![0_u8; 256 * 1024];
        loop {
            // Asked before reading: once it is complete, this read goes to its end.
            let complete = progress.growing_done();
            loop {
                let n = file.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                zip.write_all(&buf[..n])?;
            }
            if complete {
                break;
            }
            std::thread::sleep(POLL);
        }
    }
    if file.is_some() {
        // What is compressed so far goes out now, not after the rest of the bundle.
        zip.flush()?;
    }
    progress.finished()?;
    let mut names: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && !(file.is_some() && *p == growing))
        .collect();
    names.sort();
    for path in names {
        let name = path
            .file_name()
            .map(|n| format!("samskap-bundle/{}", n.to_string_lossy()))
            .unwrap_or_default();
        zip.start_file(name, options)?;
        let mut file = std::fs::File::open(&path)?;
        std::io::copy(&mut file, &mut zip)?;
    }
    Ok(zip.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_old_download_bundles_are_removed() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let hours =
            |h: u64| std::time::SystemTime::now() - std::time::Duration::from_secs(h * 3600);
        for (name, when) in [
            ("samskap-export-old", hours(7)),
            ("samskap-export-young", hours(1)),
            ("someone-else-old", hours(7)),
        ] {
            let dir = tmp.path().join(name);
            std::fs::create_dir(&dir).expect("mkdir");
            std::fs::write(dir.join("wide.csv"), "a\n").expect("file");
            std::fs::File::open(&dir)
                .and_then(|d| d.set_modified(when))
                .expect("set the time");
        }
        let removed = remove_stale_bundles(tmp.path(), std::time::Duration::from_secs(6 * 3600));
        assert_eq!(removed, 1);
        let mut left: Vec<String> = std::fs::read_dir(tmp.path())
            .expect("read")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["samskap-export-young", "someone-else-old"]);
    }
}
