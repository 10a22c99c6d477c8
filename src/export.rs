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

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::Context as _;
use diesel::prelude::*;
use serde_json::json;

use crate::analytics::Publication;
use crate::analytics::results::PhasePsychometrics;
use crate::analytics::stats::Estimate;
use crate::analytics::suppress::Cell;
use crate::crypto::DerivedKeys;
use crate::db::DbConn;
use crate::db::schema::{answers, responses};
use crate::domain::{RespondentRole, ServiceId, WaveId};
use crate::instrument::format::{ContextKind, MissingMeaning, SurveyFile};
use crate::models::Wave;

/// One exported variable.
#[derive(Debug, Clone)]
pub struct Variable {
    /// Column name: the item code in lower case.
    pub name: String,
    /// The item code answers are stored under.
    pub code: String,
    pub label_en: String,
    pub label_nb: String,
    /// `scored`, or the kind of context question.
    pub kind: String,
    /// Value labels (English), in order.
    pub values: Vec<(i64, String)>,
    /// Missing codes: numeric code, stored code, label (English).
    pub missing: Vec<(i64, String, String)>,
    /// Choice codes by their numeric value (single choice).
    pub choices: Vec<String>,
    pub phase: Option<String>,
    pub roles: Vec<String>,
    pub instrument: String,
}

/// The variables of an instrument, scored items first, in survey-file order.
pub fn variables(survey: &SurveyFile) -> Vec<Variable> {
    let instrument = format!("{}@{}", survey.id, survey.version);
    let mut out = Vec::new();
    for item in &survey.items {
        let scale = survey.scales.get(&item.scale);
        let text = item
            .text
            .get("manager")
            .or_else(|| item.text.values().next());
        let missing = scale.map(|s| missing_codes(&s.missing)).unwrap_or_default();
        out.push(Variable {
            name: item.code.to_lowercase(),
            code: item.code.clone(),
            label_en: text
                .map(|x| crate::instrument::format::in_lang(x, "en"))
                .unwrap_or_default()
                .to_owned(),
            label_nb: text
                .map(|x| crate::instrument::format::in_lang(x, "nb"))
                .unwrap_or_default()
                .to_owned(),
            kind: "scored".into(),
            values: scale
                .map(|s| {
                    s.points
                        .iter()
                        .map(|p| {
                            (
                                p.value,
                                crate::instrument::format::in_lang(&p.label, "en").to_owned(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
            missing,
            choices: Vec::new(),
            phase: Some(item.phase.clone()),
            roles: survey.roles.keys().cloned().collect(),
            instrument: instrument.clone(),
        });
    }
    for c in &survey.context {
        let (values, choices) = match c.kind {
            ContextKind::SingleChoice => (
                c.options
                    .iter()
                    .zip(1..)
                    .map(|(o, i)| {
                        (
                            i,
                            crate::instrument::format::in_lang(&o.label, "en").to_owned(),
                        )
                    })
                    .collect(),
                c.options.iter().map(|o| o.code.clone()).collect(),
            ),
            ContextKind::YesNo => (
                vec![(1, "Yes".to_owned()), (0, "No".to_owned())],
                Vec::new(),
            ),
            ContextKind::Rating => (
                vec![
                    (
                        1,
                        c.low_label
                            .as_ref()
                            .map_or("1", |l| crate::instrument::format::in_lang(l, "en"))
                            .to_owned(),
                    ),
                    (
                        5,
                        c.high_label
                            .as_ref()
                            .map_or("5", |l| crate::instrument::format::in_lang(l, "en"))
                            .to_owned(),
                    ),
                ],
                Vec::new(),
            ),
            _ => (Vec::new(), Vec::new()),
        };
        out.push(Variable {
            name: c.code.to_lowercase(),
            code: c.code.clone(),
            label_en: crate::instrument::format::in_lang(&c.text, "en").to_owned(),
            label_nb: crate::instrument::format::in_lang(&c.text, "nb").to_owned(),
            kind: serde_json::to_value(c.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            values,
            missing: c
                .extra_codes
                .iter()
                .zip((-9..=-4).rev())
                .map(|(e, v)| {
                    (
                        v,
                        e.code.clone(),
                        crate::instrument::format::in_lang(&e.label, "en").to_owned(),
                    )
                })
                .collect(),
            choices,
            phase: None,
            roles: c.roles.clone(),
            instrument: instrument.clone(),
        });
    }
    out
}

/// Numeric codes for a scale's missing codes: -2 "don't know", -3 "not applicable";
/// a second code with the same meaning, and any other, -4, -5, …
fn missing_codes(all: &[crate::instrument::format::MissingCode]) -> Vec<(i64, String, String)> {
    let mut out: Vec<(i64, String, String)> = Vec::new();
    let mut next = -4;
    for m in all {
        let wanted = match m.meaning {
            MissingMeaning::Missing => -2,
            MissingMeaning::NotApplicable => -3,
        };
        let v = if out.iter().any(|(n, _, _)| *n == wanted) {
            next -= 1;
            next + 1
        } else {
            wanted
        };
        out.push((
            v,
            m.code.clone(),
            crate::instrument::format::in_lang(&m.label, "en").to_owned(),
        ));
    }
    out
}

impl Variable {
    /// A stored answer as the number the CSV files carry; `None` when it cannot be
    /// written as one (it is then left empty).
    pub fn encode(
        &self,
        value: Option<f64>,
        text: Option<&str>,
        missing: Option<&str>,
    ) -> Option<String> {
        if let Some(code) = missing {
            return self
                .missing
                .iter()
                .find(|(_, c, _)| c == code)
                .map(|(v, _, _)| v.to_string());
        }
        if let Some(v) = value {
            return Some(if v.fract() == 0.0 && v.abs() < 1e15 {
                format!("{v:.0}")
            } else {
                v.to_string()
            });
        }
        let code = text?;
        self.choices
            .iter()
            .position(|c| c == code)
            .map(|i| (i + 1).to_string())
    }
}

/// Keyed pseudonyms for one research project.
pub struct Pseudonyms {
    key: [u8; 32],
}

impl std::fmt::Debug for Pseudonyms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonyms([redacted])")
    }
}

impl Pseudonyms {
    pub fn new(keys: &DerivedKeys, project: &str) -> Self {
        Self {
            key: crate::crypto::hmac_sha256(&keys.research, project.as_bytes()),
        }
    }

    /// `prefix` + 12 hex characters of a keyed hash of `kind:value`.
    pub fn of(&self, prefix: &str, kind: &str, value: &str) -> String {
        let mac = crate::crypto::hmac_sha256(&self.key, format!("{kind}:{value}").as_bytes());
        format!("{prefix}{}", &crate::crypto::hex(&mac)[..12])
    }
}

/// What an export wrote.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Summary {
    pub waves: usize,
    pub responses: usize,
    pub answers: usize,
    pub variables: usize,
    pub files: Vec<String>,
}

struct ResponseInfo {
    wave: String,
    service: String,
    panel: String,
    response: String,
    role: RespondentRole,
    language: String,
    wave_index: usize,
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
}

/// A research export: checks the request (a project name, at least one wave, no draft),
/// writes the bundle of `waves` into `dir` ([`bundle`]) and records `export.bundle`. The
/// one way researchers' data leaves samskap, for the download and the command line.
#[expect(
    clippy::too_many_arguments,
    reason = "the bundle's inputs and who asked"
)]
pub fn research_export(
    conn: &mut DbConn,
    keys: &DerivedKeys,
    waves: &[Wave],
    request: Request<'_>,
    k: crate::analytics::MinCell,
    dir: &Path,
    actor: &crate::audit::Actor,
    progress: &dyn Fn(usize, usize),
) -> anyhow::Result<Summary> {
    let project = project_name(request.project).map_err(anyhow::Error::msg)?;
    anyhow::ensure!(
        !waves.is_empty(),
        "choose at least one opened wave to export"
    );
    if let Some(draft) = waves
        .iter()
        .find(|w| w.status == crate::domain::WaveStatus::Draft)
    {
        anyhow::bail!("\"{}\" is a draft and has no responses", draft.name);
    }
    let summary = bundle(conn, keys, waves, project, k, dir, progress)?;
    crate::audit::record(
        conn,
        actor,
        "export.bundle",
        waves.first().map(|w| ("wave", w.id.as_str())),
        Some(json!({
            "waves": waves.iter().map(|w| w.id.to_string()).collect::<Vec<_>>(),
            "project": project, "format": request.format, "via": request.via,
            "responses": summary.responses, "answers": summary.answers,
        })),
    )?;
    Ok(summary)
}

/// Writes the research bundle of `waves` (pooled when more than one) into `dir`.
#[expect(
    clippy::too_many_lines,
    reason = "one pass writing the bundle's files in order"
)]
pub fn bundle(
    conn: &mut DbConn,
    keys: &DerivedKeys,
    waves: &[Wave],
    project: &str,
    k: crate::analytics::MinCell,
    dir: &Path,
    progress: &dyn Fn(usize, usize),
) -> anyhow::Result<Summary> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let pseudonyms = Pseudonyms::new(keys, project);
    // Variables: the union over the waves' instrument versions, by name, first seen first.
    let mut surveys = Vec::new();
    let mut vars: Vec<Variable> = Vec::new();
    for w in waves {
        let survey = crate::waves::instrument_of(conn, w)?;
        for v in variables(&survey) {
            if !vars.iter().any(|x| x.name == v.name) {
                vars.push(v);
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

    let rules: Vec<std::sync::Arc<crate::scoring::ScoringRules>> = waves
        .iter()
        .zip(&surveys)
        .map(|(w, s)| crate::waves::rules_of(w, s))
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
                    (Some(v), _) => crate::scoring::AnswerValue::Value(*v),
                    (None, Some(m)) => crate::scoring::AnswerValue::Code(m),
                    (None, None) => crate::scoring::AnswerValue::Code(""),
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
        progress(i * 2_000, ordered.len());
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
                    missing.as_deref().unwrap_or(""),
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
    progress(ordered.len(), ordered.len());
    long.flush()?;
    wide.flush()?;
    scores.flush()?;

    csv_to_parquet(&dir.join("long.csv"), &dir.join("long.parquet"), |c| {
        c == "value"
    })?;
    csv_to_parquet(&dir.join("wide.csv"), &dir.join("wide.parquet"), |c| {
        vars.iter().any(|v| v.name == c)
    })?;
    for (i, w) in waves.iter().enumerate() {
        // Only the psychometrics are needed: computed, not taken from the results cache,
        // so the wave's whole results (large at thousands of services) are never held as
        // JSON here.
        let computed = crate::analytics::compute(conn, &w.id, k)?;
        let name = if waves.len() == 1 {
            "psychometrics.csv".to_owned()
        } else {
            format!("psychometrics-{}.csv", i + 1)
        };
        psychometrics_csv(&computed.wave_name, &computed.psychometrics, create(&name)?)?;
    }
    write_codebook(&vars, create("codebook.csv")?)?;
    write_datapackage(&vars, &phase_codes, create("datapackage.json")?)?;
    write_spss(&vars, create("samskap.sps")?)?;
    write_stata(&vars, create("samskap.do")?)?;
    write_r(&vars, create("samskap.R")?)?;
    let mut instruments = BTreeMap::new();
    for (w, s) in waves.iter().zip(&surveys) {
        let row = crate::models::InstrumentRow::find(conn, &w.instrument_id)?;
        instruments.insert(format!("survey-{}-{}.toml", s.id, s.version), row);
    }
    for (name, row) in &instruments {
        // The survey file as it was loaded (its text is stored with the version).
        std::fs::write(dir.join(name), &row.source)
            .with_context(|| format!("cannot write {name}"))?;
    }
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
        "README.md",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .chain(instruments.keys().cloned())
    .collect();
    Ok(summary)
}

/// Rewrites a CSV file of the bundle as Parquet, 100,000 rows at a time (bounded
/// memory): columns for which `numeric` holds become nullable doubles, the rest strings.
fn csv_to_parquet(from: &Path, to: &Path, numeric: impl Fn(&str) -> bool) -> anyhow::Result<()> {
    use polars::prelude::{Column as FrameColumn, DataFrame};
    use polars_io::parquet::write::{BatchedWriter, ParquetWriter};
    const BATCH: usize = 100_000;
    let mut reader =
        csv::Reader::from_path(from).with_context(|| format!("cannot read {}", from.display()))?;
    let headers: Vec<String> = reader.headers()?.iter().map(str::to_owned).collect();
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
        if rows == BATCH {
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

fn value_labels(v: &Variable) -> String {
    v.values
        .iter()
        .map(|(n, l)| format!("{n}={l}"))
        .collect::<Vec<_>>()
        .join("; ")
}

fn missing_labels(v: &Variable) -> String {
    v.missing
        .iter()
        .map(|(n, c, l)| format!("{n}={c} ({l})"))
        .collect::<Vec<_>>()
        .join("; ")
}

fn write_codebook(vars: &[Variable], out: impl std::io::Write) -> anyhow::Result<()> {
    let mut w = safe_csv::Writer::from_writer(out);
    w.write_record([
        "variable",
        "label",
        "label_nb",
        "type",
        "values",
        "missing",
        "phase",
        "roles",
        "instrument",
    ])?;
    for (name, label) in [
        ("wave", "Survey wave"),
        ("service", "Service (pseudonym)"),
        (
            "panel",
            "Respondent across waves (pseudonym; empty in anonymous waves)",
        ),
        ("response", "Response (pseudonym)"),
        ("role", "Role of the respondent"),
        ("language", "Language the questionnaire was answered in"),
    ] {
        w.write_record([
            name,
            label,
            "",
            "string",
            if name == "role" {
                "manager; peer_worker"
            } else {
                ""
            },
            "",
            "",
            "",
            "",
        ])?;
    }
    for v in vars {
        w.write_record([
            v.name.as_str(),
            v.label_en.as_str(),
            v.label_nb.as_str(),
            "numeric",
            value_labels(v).as_str(),
            missing_labels(v).as_str(),
            v.phase.as_deref().unwrap_or(""),
            v.roles.join("; ").as_str(),
            v.instrument.as_str(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

fn write_datapackage(
    vars: &[Variable],
    phases: &[String],
    mut out: impl std::io::Write,
) -> anyhow::Result<()> {
    let ids = |desc: &str| json!({"type": "string", "description": desc});
    let mut wide_fields = vec![
        json!({"name": "wave", "type": "string", "description": "Survey wave"}),
        json!({"name": "service", "type": "string", "description": "Service (pseudonym)"}),
        json!({"name": "panel", "type": "string", "description": "Respondent across waves (pseudonym)"}),
        json!({"name": "response", "type": "string", "description": "Response (pseudonym)"}),
        json!({"name": "role", "type": "string", "constraints": {"enum": ["manager", "peer_worker"]}}),
        json!({"name": "language", "type": "string"}),
    ];
    for v in vars {
        let mut categories: Vec<serde_json::Value> = v
            .values
            .iter()
            .map(|(n, l)| json!({"value": n, "label": l}))
            .collect();
        categories.extend(
            v.missing
                .iter()
                .map(|(n, c, l)| json!({"value": n, "label": format!("{c}: {l}")})),
        );
        let mut field = json!({
            "name": v.name, "title": v.label_en, "description": v.label_en,
            "type": if v.kind == "number" { "number" } else { "integer" },
            "missingValues": [""],
        });
        if !categories.is_empty() && v.kind != "integer" && v.kind != "year" {
            field["categories"] = json!(categories);
        }
        if !v.missing.is_empty() {
            field["x-samskap-missing-codes"] = json!(
                v.missing
                    .iter()
                    .map(|(n, c, l)| json!({"value": n, "code": c, "label": l}))
                    .collect::<Vec<_>>()
            );
        }
        if let Some(p) = &v.phase {
            field["x-samskap-phase"] = json!(p);
        }
        wide_fields.push(field);
    }
    let mut score_fields = vec![ids("wave"), ids("service"), ids("response"), ids("role")];
    for (f, name) in score_fields
        .iter_mut()
        .zip(["wave", "service", "response", "role"])
    {
        f["name"] = json!(name);
    }
    for p in phases {
        score_fields.push(json!({"name": format!("score_{}", p.to_lowercase()), "type": "number", "missingValues": [""]}));
    }
    for p in phases {
        score_fields.push(json!({"name": format!("level_{}", p.to_lowercase()), "type": "integer", "missingValues": [""]}));
    }
    score_fields.push(json!({"name": "index", "type": "number", "missingValues": [""]}));
    let package = json!({
        "name": "samskap-research-bundle",
        "profile": "tabular-data-package",
        "resources": [
            {"name": "wide", "path": "wide.csv", "profile": "tabular-data-resource", "format": "csv", "encoding": "utf-8",
             "schema": {"fields": wide_fields, "missingValues": [""]}},
            {"name": "long", "path": "long.csv", "profile": "tabular-data-resource", "format": "csv", "encoding": "utf-8",
             "schema": {"fields": [
                {"name": "wave", "type": "string"}, {"name": "service", "type": "string"},
                {"name": "panel", "type": "string"}, {"name": "response", "type": "string"},
                {"name": "role", "type": "string", "constraints": {"enum": ["manager", "peer_worker"]}},
                {"name": "variable", "type": "string"}, {"name": "value", "type": "number"},
                {"name": "missing_code", "type": "string"}], "missingValues": [""]}},
            {"name": "scores", "path": "scores.csv", "profile": "tabular-data-resource", "format": "csv", "encoding": "utf-8",
             "schema": {"fields": score_fields, "missingValues": [""]}},
        ],
    });
    serde_json::to_writer_pretty(&mut out, &package)?;
    out.flush()?;
    Ok(())
}

/// A string literal for SPSS syntax and Stata: double quotes doubled.
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "''").replace('\n', " "))
}

fn write_spss(vars: &[Variable], mut out: impl std::io::Write) -> anyhow::Result<()> {
    writeln!(
        out,
        "* samskap research bundle: reads wide.csv and applies labels and missing values."
    )?;
    writeln!(
        out,
        "* Run from the bundle's directory, e.g. pspp samskap.sps or in SPSS with CD set there."
    )?;
    writeln!(
        out,
        "GET DATA /TYPE=TXT /FILE='wide.csv' /ENCODING='UTF8' /DELIMITERS=',' /QUALIFIER='\"' /ARRANGEMENT=DELIMITED /FIRSTCASE=2"
    )?;
    writeln!(
        out,
        "  /VARIABLES=wave A60 service A20 panel A20 response A20 role A12 language A4"
    )?;
    for v in vars {
        writeln!(out, "  {} F8.2", v.name)?;
    }
    writeln!(out, ".")?;
    writeln!(out, "VARIABLE LABELS")?;
    writeln!(
        out,
        "  wave 'Survey wave' /service 'Service (pseudonym)' /panel 'Respondent across waves (pseudonym)'"
    )?;
    writeln!(
        out,
        "  /response 'Response (pseudonym)' /role 'Role' /language 'Language'"
    )?;
    for v in vars {
        writeln!(out, "  /{} {}", v.name, quoted(&v.label_en))?;
    }
    writeln!(out, ".")?;
    for v in vars
        .iter()
        .filter(|v| !v.values.is_empty() || !v.missing.is_empty())
    {
        write!(out, "VALUE LABELS {}", v.name)?;
        for (n, l) in &v.values {
            write!(out, " {n} {}", quoted(l))?;
        }
        for (n, c, l) in &v.missing {
            write!(out, " {n} {}", quoted(&format!("{c}: {l}")))?;
        }
        writeln!(out, ".")?;
    }
    for v in vars.iter().filter(|v| !v.missing.is_empty()) {
        let codes: Vec<String> = v
            .missing
            .iter()
            .take(3)
            .map(|(n, _, _)| n.to_string())
            .collect();
        writeln!(out, "MISSING VALUES {} ({}).", v.name, codes.join(", "))?;
    }
    writeln!(out, "EXECUTE.")?;
    out.flush()?;
    Ok(())
}

fn write_stata(vars: &[Variable], mut out: impl std::io::Write) -> anyhow::Result<()> {
    writeln!(
        out,
        "* samskap research bundle: reads wide.csv and applies labels and missing values."
    )?;
    writeln!(out, "* Run from the bundle's directory: do samskap.do")?;
    writeln!(
        out,
        "import delimited using \"wide.csv\", clear varnames(1) encoding(\"utf-8\") stringcols(1/6)"
    )?;
    writeln!(out, "label variable wave \"Survey wave\"")?;
    writeln!(out, "label variable service \"Service (pseudonym)\"")?;
    writeln!(
        out,
        "label variable panel \"Respondent across waves (pseudonym)\""
    )?;
    writeln!(out, "label variable response \"Response (pseudonym)\"")?;
    for v in vars {
        // Stata variable labels hold at most 80 characters.
        let label: String = v.label_en.chars().take(80).collect();
        writeln!(out, "label variable {} {}", v.name, quoted(&label))?;
    }
    for v in vars {
        // Missing codes become Stata's extended missing values: -2 → .a, -3 → .b, …
        for (i, (n, _, _)) in v.missing.iter().enumerate() {
            let letter = char::from(b'a' + u8::try_from(i).unwrap_or(0).min(25));
            writeln!(out, "replace {} = .{letter} if {} == {n}", v.name, v.name)?;
        }
        if v.values.is_empty() && v.missing.is_empty() {
            continue;
        }
        write!(out, "label define {}_lbl", v.name)?;
        for (n, l) in &v.values {
            write!(out, " {n} {}", quoted(l))?;
        }
        for (i, (_, c, l)) in v.missing.iter().enumerate() {
            let letter = char::from(b'a' + u8::try_from(i).unwrap_or(0).min(25));
            write!(out, " .{letter} {}", quoted(&format!("{c}: {l}")))?;
        }
        writeln!(out, ", replace")?;
        writeln!(out, "label values {} {}_lbl", v.name, v.name)?;
    }
    out.flush()?;
    Ok(())
}

/// An R string literal.
fn r_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn write_r(vars: &[Variable], mut out: impl std::io::Write) -> anyhow::Result<()> {
    writeln!(
        out,
        "# samskap research bundle: reads wide.csv and applies labels and missing values."
    )?;
    writeln!(
        out,
        "# Run from the bundle's directory: source(\"samskap.R\") leaves the data in `samskap`."
    )?;
    writeln!(
        out,
        "samskap <- read.csv(\"wide.csv\", stringsAsFactors = FALSE, na.strings = \"\", encoding = \"UTF-8\","
    )?;
    writeln!(
        out,
        "                    colClasses = c(wave = \"character\", service = \"character\", panel = \"character\", response = \"character\"))"
    )?;
    writeln!(
        out,
        "samskap$role <- factor(samskap$role, levels = c(\"manager\", \"peer_worker\"), labels = c(\"Manager\", \"Peer worker\"))"
    )?;
    writeln!(out, "samskap_missing <- list()")?;
    for v in vars {
        if !v.missing.is_empty() {
            let codes: Vec<String> = v.missing.iter().map(|(n, _, _)| n.to_string()).collect();
            writeln!(
                out,
                "samskap_missing[[{}]] <- c({})",
                r_string(&v.name),
                codes.join(", ")
            )?;
            // Missing codes are kept as information in the attribute, the values become NA.
            writeln!(
                out,
                "samskap${0}[samskap${0} %in% c({1})] <- NA",
                v.name,
                codes.join(", ")
            )?;
        }
        if !v.values.is_empty() && v.kind != "rating" {
            let levels: Vec<String> = v.values.iter().map(|(n, _)| n.to_string()).collect();
            let labels: Vec<String> = v.values.iter().map(|(_, l)| r_string(l)).collect();
            writeln!(
                out,
                "samskap${0} <- factor(samskap${0}, levels = c({1}), labels = c({2}))",
                v.name,
                levels.join(", "),
                labels.join(", ")
            )?;
        }
        writeln!(
            out,
            "attr(samskap${}, \"label\") <- {}",
            v.name,
            r_string(&v.label_en)
        )?;
    }
    out.flush()?;
    Ok(())
}

fn write_readme<'a>(
    waves: &[Wave],
    project: &str,
    summary: &Summary,
    instruments: impl Iterator<Item = &'a String>,
    mut out: impl std::io::Write,
) -> anyhow::Result<()> {
    writeln!(out, "# samskap research bundle\n")?;
    writeln!(
        out,
        "Waves: {}.",
        waves
            .iter()
            .map(|w| w.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    writeln!(out, "Research project (pseudonym key): `{project}`.")?;
    writeln!(
        out,
        "{} consented, submitted responses; {} answers; {} variables.\n",
        summary.responses, summary.answers, summary.variables
    )?;
    writeln!(out, "## Files\n")?;
    for (f, what) in [
        (
            "wide.csv",
            "one row per response, one column per variable (codebook.csv)",
        ),
        (
            "long.csv",
            "one row per answer: wave, service, panel, response, role, variable, value, missing_code",
        ),
        (
            "scores.csv",
            "phase scores (mean of valid answers, 0-4), maturity levels and the index (0-100) per response",
        ),
        (
            "codebook.csv",
            "variable, label (English and bokmål), type, values with labels, missing codes, phase, roles, instrument version",
        ),
        (
            "datapackage.json",
            "Frictionless data package: Table Schema of every file, with categories and missing values",
        ),
        (
            "samskap.sps",
            "SPSS / GNU PSPP syntax: reads wide.csv, variable labels, value labels, missing values",
        ),
        (
            "samskap.do",
            "Stata do-file: reads wide.csv, labels, missing codes as .a, .b, …",
        ),
        (
            "samskap.R",
            "R script: reads wide.csv into `samskap`, labelled factors, missing codes as NA",
        ),
    ] {
        writeln!(out, "- `{f}`: {what}.")?;
    }
    for i in instruments {
        writeln!(
            out,
            "- `{i}`: the survey definition (instrument version) the answers were given to."
        )?;
    }
    writeln!(out, "\n## Values\n")?;
    writeln!(
        out,
        "Scale points are their values (0-4). Choices are 1, 2, … in the order of the codebook; yes/no is 1/0."
    )?;
    writeln!(
        out,
        "Missing codes are negative: -2 don't know, -3 not applicable / did not take place, -4 and below other codes (see the codebook). An empty cell was not answered."
    )?;
    writeln!(out, "\n## Privacy\n")?;
    writeln!(
        out,
        "Only responses whose respondent consented and submitted are included. `service`, `panel` and `response` are keyed pseudonyms: stable within this research project across waves, different in every other project, and meaningless without the server's secret key. No names, e-mail addresses or free text are included."
    )?;
    out.flush()?;
    Ok(())
}

/// A wave's psychometrics (per phase: Cronbach's α, ICC(1), ICC(2); per item: n, mean,
/// SD, the count of every scale point, don't know and not applicable) as a tidy CSV:
/// `wave, phase, item, statistic, value, n`. The numbers are the publication's, after the
/// suppression gate: a withheld statistic has the value `suppressed`.
pub fn psychometrics_csv(
    wave: &str,
    psychometrics: &[PhasePsychometrics],
    out: impl std::io::Write,
) -> anyhow::Result<()> {
    let mut w = safe_csv::Writer::from_writer(out);
    w.write_record(["wave", "phase", "item", "statistic", "value", "n"])?;
    for phase in psychometrics {
        let code = phase.phase.as_str();
        let mut row = |item: &str,
                       stat: &str,
                       shown: Option<u64>,
                       suppressed: bool,
                       value: Option<String>|
         -> anyhow::Result<()> {
            let (value, n) = match shown {
                Some(n) => (value.unwrap_or_default(), n.to_string()),
                None if suppressed => ("suppressed".to_owned(), String::new()),
                None => (String::new(), "0".to_owned()),
            };
            w.write_record([wave, code, item, stat, value.as_str(), n.as_str()])?;
            Ok(())
        };
        let num = |x: f64| x.to_string();
        let (alpha, icc) = (&phase.alpha, &phase.icc);
        row(
            "",
            "alpha",
            alpha.n(),
            alpha.is_suppressed(),
            alpha.shown().map(|a| num(*a)),
        )?;
        for (stat, value) in [
            ("icc1", icc.shown().map(|v| num(v.icc1))),
            ("icc2", icc.shown().map(|v| num(v.icc2))),
            ("groups", icc.shown().map(|v| v.groups.to_string())),
        ] {
            row("", stat, icc.n(), icc.is_suppressed(), value)?;
        }
        for item in &phase.items {
            let name = item.item.to_lowercase();
            let stats = &item.stats;
            let v = stats.shown();
            let (n, hidden) = (stats.n(), stats.is_suppressed());
            row(&name, "mean", n, hidden, v.and_then(|v| v.mean).map(num))?;
            row(&name, "sd", n, hidden, v.and_then(|v| v.sd).map(num))?;
            if let Some(v) = v {
                for (level, count) in v.distribution.iter().enumerate() {
                    row(
                        &name,
                        &format!("count_{level}"),
                        n,
                        hidden,
                        Some(count.to_string()),
                    )?;
                }
            }
            row(
                &name,
                "dont_know",
                n,
                hidden,
                v.map(|v| v.dont_know.to_string()),
            )?;
            row(
                &name,
                "not_applicable",
                n,
                hidden,
                v.map(|v| v.not_applicable.to_string()),
            )?;
        }
    }
    w.flush()?;
    Ok(())
}

/// Packs the files of a bundle directory into one zip (deflate), for downloads.
pub fn zip_dir(dir: &Path) -> anyhow::Result<Vec<u8>> {
    let mut names: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    names.sort();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
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

/// `status, n, mean, sd, ci_low, ci_high` of a published estimate.
fn stat_cells(cell: &Cell<Estimate>) -> [String; 6] {
    let num = |x: Option<f64>| x.map(|f| format!("{f:.6}")).unwrap_or_default();
    match (cell.shown(), cell.n()) {
        (Some(v), Some(n)) => [
            "shown".into(),
            n.to_string(),
            num(Some(v.mean)),
            num(v.sd),
            num(v.ci_low),
            num(v.ci_high),
        ],
        _ if cell.is_suppressed() => [
            "suppressed".into(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ],
        _ => [
            "empty".into(),
            "0".into(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ],
    }
}

/// One service's published results of a wave as CSV, for its managers: every phase and
/// the index per role, as the gate left them (`status` shown, suppressed or empty; no
/// number for a hidden cell).
pub fn service_csv(
    publication: &Publication,
    code: &str,
    out: impl std::io::Write,
) -> anyhow::Result<()> {
    let mut w = safe_csv::Writer::from_writer(out);
    w.write_record([
        "wave", "service", "role", "measure", "status", "n", "mean", "sd", "ci_low", "ci_high",
        "level",
    ])?;
    let wave = publication.wave_name.as_str();
    for role in publication
        .service(code)
        .map(|s| s.roles.as_slice())
        .unwrap_or_default()
    {
        let rows = role
            .phases
            .iter()
            .map(|p| {
                (
                    p.phase.as_str(),
                    p.stats.clone().map(|v| v.estimate),
                    p.stats.shown().and_then(|v| v.level),
                )
            })
            .chain(std::iter::once((
                "index",
                role.index.clone().map(|v| v.estimate),
                None,
            )));
        for (measure, cell, level) in rows {
            let [status, n, mean, sd, lo, hi] = stat_cells(&cell);
            let level = level.map(|l| l.to_string()).unwrap_or_default();
            w.write_record([
                wave,
                code,
                role.role.as_str(),
                measure,
                &status,
                &n,
                &mean,
                &sd,
                &lo,
                &hi,
                &level,
            ])?;
        }
    }
    w.flush()?;
    Ok(())
}

/// Region cells of a wave as CSV, for policymakers: the given regions (and the national
/// cells, named `national`, when given), every role, service type (empty: all types) and
/// measure, as the gate left them.
pub fn regions_csv<S: std::hash::BuildHasher>(
    publication: &Publication,
    regions: &HashMap<String, String, S>,
    national: Option<&str>,
    out: impl std::io::Write,
) -> anyhow::Result<()> {
    let mut w = safe_csv::Writer::from_writer(out);
    w.write_record([
        "wave",
        "level",
        "region",
        "role",
        "service_type",
        "measure",
        "status",
        "n",
        "mean",
        "sd",
        "ci_low",
        "ci_high",
    ])?;
    let wave = publication.wave_name.as_str();
    for cell in &publication.regions {
        let Some(name) = (match &cell.region_id {
            Some(id) => regions.get(id.as_str()).map(String::as_str),
            None => national,
        }) else {
            continue;
        };
        let [status, n, mean, sd, lo, hi] = stat_cells(&cell.stats);
        w.write_record([
            wave,
            cell.level.as_str(),
            name,
            cell.role.as_str(),
            cell.service_type.map_or("", |t| t.as_str()),
            &cell.measure,
            &status,
            &n,
            &mean,
            &sd,
            &lo,
            &hi,
        ])?;
    }
    w.flush()?;
    Ok(())
}
