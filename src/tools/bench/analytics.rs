//! The analytics benchmark (`perf/analytics.sh`): one large wave of simulated responses,
//! the full analysis timed in process, and a Parquet export of the same answers for
//! DuckDB to compute the core aggregates from.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;
use diesel::prelude::*;
use polars::prelude::{Column as FrameColumn, DataFrame};

use crate::app::analytics::{self, MinCell, sums};
use crate::app::audit::Actor;
use crate::app::waves::{self, WaveSpec};
use crate::core::domain::{Anonymity, RespondentRole, ServiceId, WaveId};
use crate::infra::crypto::DerivedKeys;
use crate::infra::db::DbConn;
use crate::infra::db::schema::{answers, responses};
use crate::infra::models::{InstrumentRow, Service, Wave, WaveService};

/// The year the benchmark wave is dated in (the demo's current wave year: never closed).
const YEAR: i32 = 2026;

/// Creates one open wave on every service (the demo catalogue of `services` services
/// when the database has none) and stores `n` simulated complete responses through the
/// demo's bulk path, generated and written 20,000 at a time so memory stays flat.
pub fn large_wave(
    conn: &mut DbConn,
    keys: &DerivedKeys,
    n: usize,
    services: usize,
    seed: u64,
    mut progress: impl FnMut(usize),
) -> anyhow::Result<WaveId> {
    if Service::count(conn)? == 0 {
        crate::tools::demo::load(conn, crate::tools::demo::DemoOptions { services, seed })?;
    }
    let instrument = InstrumentRow::all(conn)?
        .into_iter()
        .find(|r| r.survey_id == "peer-involvement")
        .context("store the instrument first")?;
    let actor = Actor {
        user_id: None,
        label: "bench".into(),
        ip: None,
    };
    let spec = WaveSpec {
        name: format!("Benchmark {n} responses"),
        instrument: instrument.id,
        anonymity: Anonymity::Linked,
        opens_at: chrono::NaiveDate::from_ymd_opt(YEAR, 9, 1).and_then(|d| d.and_hms_opt(8, 0, 0)),
        closes_at: None,
        reminder_max: 0,
        reminder_interval_days: 0,
        email_retention_days: 90,
        service_types: Vec::new(),
    };
    let wave = waves::create(conn, &spec, &actor)?;
    let catalogue: Vec<(String, crate::core::domain::ServiceType)> = Service::all(conn)?
        .into_iter()
        .map(|s| (s.code, s.service_type))
        .collect();
    let waves_by_year = [(YEAR, wave.clone())];
    let mut sims =
        crate::tools::demo::responses::simulate_large_wave(&catalogue, seed, YEAR).take(n);
    let mut written = 0;
    loop {
        let chunk: Vec<_> = sims.by_ref().take(20_000).collect();
        if chunk.is_empty() {
            break;
        }
        let done = written;
        written += crate::tools::demo::responses::write_bulk(
            conn,
            keys,
            &waves_by_year,
            &chunk,
            5_000,
            |w| {
                progress(done + w);
            },
        )?;
    }
    Ok(wave.id)
}

/// What [`analyse`] measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Timing {
    pub respondents: usize,
    pub services: usize,
    /// Reading and scoring the wave (and the previous wave, for trends).
    pub load_seconds: f64,
    /// Every aggregate, benchmark, region table and the suppression gate.
    pub aggregate_seconds: f64,
    pub total_seconds: f64,
    /// Peak resident memory of the process so far (Linux `VmHWM`), in MiB.
    pub peak_rss_mib: f64,
    /// The publication as other instances read it from the database (MessagePack and
    /// zstd): its size, and the time to encode and to decode it.
    pub stored_mib: f64,
    pub stored_encode_seconds: f64,
    pub stored_decode_seconds: f64,
    /// Cells the gate hid, by reason (service × role and region × type × role cells).
    pub privacy: analytics::results::PrivacyCost,
}

/// Runs the full analysis of `wave` once, uncached, as [`analytics::compute`] does, timing
/// its parts. Writes the shown phase means per service × role to `means` (CSV) for the
/// DuckDB cross-check.
pub fn analyse(
    conn: &mut DbConn,
    wave: &WaveId,
    k: MinCell,
    means: Option<&Path>,
) -> anyhow::Result<Timing> {
    let started = Instant::now();
    let version = Wave::data_version(conn, wave)?;
    let data = sums::load(conn, wave)?;
    let previous = analytics::previous_wave(conn, &data.wave)?
        .map(|p| sums::load(conn, &p.id))
        .transpose()?;
    let invited = crate::app::waves::invited(conn, wave, None)?;
    let loaded = started.elapsed().as_secs_f64();
    let results = analytics::results::compute(&data, previous.as_ref(), &invited, version, k)?;
    let total = started.elapsed().as_secs_f64();
    let encoding = Instant::now();
    let stored = analytics::encode(&results)?;
    let encode_seconds = encoding.elapsed().as_secs_f64();
    let decoding = Instant::now();
    analytics::decode(&stored)?;
    let decode_seconds = decoding.elapsed().as_secs_f64();
    if let Some(path) = means {
        let mut out = std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?,
        );
        writeln!(out, "service,role,phase,n,mean")?;
        for s in &results.services {
            for r in &s.roles {
                for p in &r.phases {
                    if let (Some(stats), Some(n)) = (p.stats.shown(), p.stats.n()) {
                        writeln!(
                            out,
                            "{},{},{},{n},{:.17}",
                            s.code, r.role, p.phase, stats.estimate.mean
                        )?;
                    }
                }
            }
        }
        out.flush()?;
    }
    Ok(Timing {
        respondents: usize::try_from(data.respondents()).unwrap_or(usize::MAX),
        services: data.services.len(),
        load_seconds: loaded,
        aggregate_seconds: total - loaded,
        total_seconds: total,
        peak_rss_mib: peak_rss_mib(),
        #[expect(clippy::cast_precision_loss, reason = "a size in MiB")]
        stored_mib: stored.len() as f64 / 1_048_576.0,
        stored_encode_seconds: encode_seconds,
        stored_decode_seconds: decode_seconds,
        privacy: results.privacy,
    })
}

/// Peak resident set size of this process in MiB (0 where `/proc` is missing).
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Writes `answers.parquet` (one row per scored or coded answer of a submitted response:
/// response number, service code, role, item, value, missing code), `services.parquet`
/// (code, type, health region, county) and `items.parquet` (scored item, phase, the
/// phase's minimum of valid answers) to `dir`, streaming the answers in batches.
pub fn export_parquet(conn: &mut DbConn, wave: &WaveId, dir: &Path) -> anyhow::Result<usize> {
    use polars_io::parquet::write::ParquetWriter;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let create = |name: &str| {
        let path = dir.join(name);
        std::fs::File::create(&path).with_context(|| format!("cannot write {}", path.display()))
    };
    let wave_row = Wave::find(conn, wave)?;
    let survey = waves::instrument_of(conn, &wave_row)?;
    let rules = waves::rules_of(&wave_row, &survey);
    let codes = rules.item_codes();
    let layout = rules.layout();
    let mut item_phase = Vec::new();
    let mut item_min = Vec::new();
    for (phase, range, min) in &layout {
        for _ in range.clone() {
            item_phase.push(*phase);
            item_min.push(*min);
        }
    }
    let mut items = DataFrame::new(
        codes.len(),
        vec![
            FrameColumn::new("item".into(), codes.clone()),
            FrameColumn::new("phase".into(), item_phase),
            FrameColumn::new("min_valid".into(), item_min),
        ],
    )?;
    ParquetWriter::new(create("items.parquet")?).finish(&mut items)?;

    let services = WaveService::for_wave(conn, wave)?;
    let code_of: HashMap<ServiceId, String> = services
        .iter()
        .map(|s| (s.service_id.clone(), s.service_code.clone()))
        .collect();
    let mut table = DataFrame::new(
        services.len(),
        vec![
            FrameColumn::new(
                "service".into(),
                services
                    .iter()
                    .map(|s| s.service_code.clone())
                    .collect::<Vec<_>>(),
            ),
            FrameColumn::new(
                "service_type".into(),
                services
                    .iter()
                    .map(|s| s.service_type.to_string())
                    .collect::<Vec<_>>(),
            ),
            FrameColumn::new(
                "health_region".into(),
                services
                    .iter()
                    .map(|s| s.health_region_id.to_string())
                    .collect::<Vec<_>>(),
            ),
            FrameColumn::new(
                "county".into(),
                services
                    .iter()
                    .map(|s| s.county_id.to_string())
                    .collect::<Vec<_>>(),
            ),
        ],
    )?;
    ParquetWriter::new(create("services.parquet")?).finish(&mut table)?;

    write_scores(conn, wave, &rules, &code_of, &create("scores.parquet")?)?;

    let submitted: Vec<(String, ServiceId, RespondentRole)> = responses::table
        .filter(responses::wave_id.eq(wave))
        .filter(responses::submitted_at.is_not_null())
        .select((responses::id, responses::service_id, responses::role))
        .load(conn)?;
    let who: HashMap<String, (u32, String, &'static str)> = submitted
        .into_iter()
        .enumerate()
        .map(|(i, (id, service, role))| {
            let code = code_of.get(&service).cloned().unwrap_or_default();
            (
                id,
                (u32::try_from(i).unwrap_or(u32::MAX), code, interned(&role)),
            )
        })
        .collect();
    let rows = answers::table
        .filter(answers::wave_id.eq(wave))
        .filter(answers::value.is_not_null().or(answers::missing_code.is_not_null()))
        .select((
            answers::response_id,
            answers::item_code,
            answers::value,
            answers::missing_code,
        ))
        .load_iter::<(String, String, Option<f64>, Option<String>), diesel::connection::DefaultLoadingMode>(conn)?;
    let mut batch = AnswerBatch::default();
    let mut writer: Option<polars_io::parquet::write::BatchedWriter<std::fs::File>> = None;
    let mut total = 0;
    for row in rows {
        let (response, item, value, missing) = row?;
        let Some((number, service, role)) = who.get(&response) else {
            continue;
        };
        batch.push(*number, service, role, item, value, missing);
        if batch.len() == 1_000_000 {
            total += batch.write(&mut writer, dir)?;
        }
    }
    total += batch.write(&mut writer, dir)?;
    if let Some(w) = writer {
        w.finish()?;
    }
    Ok(total)
}

/// Writes each submitted response's scores as samskap stored them (its answer slots,
/// scored): service code, role, one column per phase score and the index, so DuckDB can
/// compute the core aggregates from the same per-respondent scores samskap reads.
fn write_scores(
    conn: &mut DbConn,
    wave: &WaveId,
    rules: &crate::core::scoring::ScoringRules,
    code_of: &HashMap<ServiceId, String>,
    out: &std::fs::File,
) -> anyhow::Result<()> {
    use polars_io::parquet::write::ParquetWriter;
    let layout = rules.layout();
    let rows = responses::table
        .filter(responses::wave_id.eq(wave))
        .filter(responses::submitted_at.is_not_null())
        .select((
            responses::service_id,
            responses::role,
            responses::answer_slots,
        ))
        .load_iter::<(ServiceId, RespondentRole, Option<Vec<u8>>), diesel::connection::DefaultLoadingMode>(conn)?;
    let mut service = Vec::new();
    let mut role = Vec::new();
    let mut phases: Vec<Vec<Option<f64>>> = vec![Vec::new(); layout.len()];
    let mut index = Vec::new();
    let mut scores = vec![None; layout.len()];
    for row in rows {
        let (s, r, stored) = row?;
        let slots: Vec<i8> = stored
            .as_deref()
            .and_then(|b| rules.decode_response(b))
            .context("a response without stored answer slots (export it with `samskap export`)")?
            .collect();
        service.push(code_of.get(&s).cloned().unwrap_or_default());
        role.push(interned(&r));
        for (p, (_, range, min)) in layout.iter().enumerate() {
            scores[p] =
                crate::core::scoring::ScoringRules::phase_score(&slots[range.clone()], *min);
            phases[p].push(scores[p]);
        }
        index.push(rules.index(&scores));
    }
    let mut columns = vec![
        FrameColumn::new("service".into(), service),
        FrameColumn::new("role".into(), role),
    ];
    for ((code, _, _), values) in layout.iter().zip(phases) {
        columns.push(FrameColumn::new((*code).into(), values));
    }
    columns.push(FrameColumn::new("index".into(), index));
    let mut frame = DataFrame::new(columns[0].len(), columns)?;
    ParquetWriter::new(out).finish(&mut frame)?;
    Ok(())
}

/// Answers gathered for one Parquet row group.
#[derive(Default)]
struct AnswerBatch {
    response: Vec<u32>,
    service: Vec<String>,
    role: Vec<&'static str>,
    item: Vec<String>,
    value: Vec<Option<f64>>,
    missing: Vec<Option<String>>,
}

impl AnswerBatch {
    fn len(&self) -> usize {
        self.response.len()
    }

    fn push(
        &mut self,
        response: u32,
        service: &str,
        role: &'static str,
        item: String,
        value: Option<f64>,
        missing: Option<String>,
    ) {
        self.response.push(response);
        self.service.push(service.to_owned());
        self.role.push(role);
        self.item.push(item);
        self.value.push(value);
        self.missing.push(missing);
    }

    /// Writes the batch (opening the file on the first one) and empties it.
    fn write(
        &mut self,
        writer: &mut Option<polars_io::parquet::write::BatchedWriter<std::fs::File>>,
        dir: &Path,
    ) -> anyhow::Result<usize> {
        let n = self.len();
        if n == 0 && writer.is_some() {
            return Ok(0);
        }
        let taken = std::mem::take(self);
        let df = DataFrame::new(
            n,
            vec![
                FrameColumn::new("response".into(), taken.response),
                FrameColumn::new("service".into(), taken.service),
                FrameColumn::new("role".into(), taken.role),
                FrameColumn::new("item".into(), taken.item),
                FrameColumn::new("value".into(), taken.value),
                FrameColumn::new("missing_code".into(), taken.missing),
            ],
        )?;
        if writer.is_none() {
            let path = dir.join("answers.parquet");
            let file = std::fs::File::create(&path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            *writer =
                Some(polars_io::parquet::write::ParquetWriter::new(file).batched(df.schema())?);
        }
        if let Some(w) = writer.as_mut() {
            w.write_batch(&df)?;
        }
        Ok(n)
    }
}

/// The role's code as a `&'static str` for the benchmark's frames (a column of a million
/// rows holds a handful of distinct roles): each distinct code is leaked once.
fn interned(role: &RespondentRole) -> &'static str {
    static SEEN: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    let mut seen = SEEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(found) = seen.iter().find(|s| **s == role.as_str()) {
        return found;
    }
    let leaked: &'static str = Box::leak(role.as_str().to_owned().into_boxed_str());
    seen.push(leaked);
    leaked
}
