//! Loading a wave: every submitted response, scored, as a polars frame, plus the compact
//! answer slots the item statistics need. Each response carries its slots (one byte per
//! scored item, stored on submission), so a wave loads as one row per respondent, not
//! ~35 answer rows; only responses stored before slots existed are read from answers.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context as _;
use diesel::prelude::*;
use polars::prelude::{Column as FrameColumn, DataFrame};

use crate::db::DbConn;
use crate::db::schema::{answers, responses};
use crate::domain::{RespondentRole, ServiceId, WaveId};
use crate::instrument::format::SurveyFile;
use crate::models::{Wave, WaveService};
use crate::scoring::{AnswerValue, SLOT_UNANSWERED, ScoringRules};

/// Roles in a fixed order: index 0 and 1 in frames and results.
pub const ROLES: [RespondentRole; 2] = [RespondentRole::Manager, RespondentRole::PeerWorker];

/// A wave's scored respondents.
pub struct WaveData {
    pub wave: Wave,
    pub survey: Arc<SurveyFile>,
    pub rules: ScoringRules,
    /// The services frozen with the wave; respondents refer to them by index.
    pub services: Vec<WaveService>,
    /// Scored item codes in phase order.
    pub items: Vec<String>,
    /// Phase codes, each with its items' range in `items`.
    pub phases: Vec<(String, std::ops::Range<usize>)>,
    /// One row per submitted response: `service` (u32 index), `role` (u32, see
    /// [`ROLES`]), one f64 column per phase score (null when unscored, named by the phase
    /// code), `index` (null unless every phase is scored).
    pub frame: DataFrame,
    /// Row-major answer slots, `items.len()` per respondent, in frame order.
    pub slots: Vec<i8>,
}

impl std::fmt::Debug for WaveData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WaveData")
            .field("wave", &self.wave.id)
            .field("respondents", &self.frame.height())
            .finish_non_exhaustive()
    }
}

impl WaveData {
    pub fn respondents(&self) -> usize {
        self.frame.height()
    }

    /// The answer slots of respondent `row`.
    pub fn slots_of(&self, row: usize) -> &[i8] {
        let width = self.items.len();
        &self.slots[row * width..(row + 1) * width]
    }
}

/// A wave's submitted responses as read and scored, kept by the publisher between
/// computations so that a live wave only reads what was submitted since.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    service: Vec<u32>,
    role: Vec<u32>,
    slots: Vec<i8>,
    phases: Vec<Vec<Option<f64>>>,
    index: Vec<Option<f64>>,
    /// The latest submission time read.
    last: Option<chrono::NaiveDateTime>,
}

impl Rows {
    fn len(&self) -> usize {
        self.service.len()
    }
}

/// What a wave is scored with: its row, instrument, rules, services and item layout.
struct Setup {
    wave: Wave,
    survey: Arc<SurveyFile>,
    rules: ScoringRules,
    items: Vec<String>,
    layout: Vec<(String, std::ops::Range<usize>, u32)>,
    services: Vec<WaveService>,
}

fn setup(conn: &mut DbConn, wave: &WaveId) -> anyhow::Result<Setup> {
    let wave = Wave::find(conn, wave).context("the wave does not exist")?;
    let survey = crate::waves::instrument_of(conn, &wave)?;
    let rules = ScoringRules::new(&survey);
    let items: Vec<String> = rules.item_codes().into_iter().map(str::to_owned).collect();
    let layout: Vec<(String, std::ops::Range<usize>, u32)> = rules
        .layout()
        .into_iter()
        .map(|(c, r, m)| (c.to_owned(), r, m))
        .collect();
    let services = WaveService::for_wave(conn, &wave.id)?;
    Ok(Setup {
        wave,
        survey,
        rules,
        items,
        layout,
        services,
    })
}

/// Loads and scores every submitted response of `wave`.
pub fn load(conn: &mut DbConn, wave: &WaveId) -> anyhow::Result<WaveData> {
    load_since(conn, wave, &mut Rows::default())
}

/// [`load`], reading only what was submitted since `rows` were read (and keeping them
/// up to date for the next call). Answers never change after submission, so only a
/// withdrawal, or a submission that committed after a later one was read, can make the
/// rows differ from the database: the count of responses submitted up to the latest
/// time read tells, and then everything is read again.
pub fn load_since(conn: &mut DbConn, wave: &WaveId, rows: &mut Rows) -> anyhow::Result<WaveData> {
    use diesel::dsl::count_star;
    let setup = setup(conn, wave)?;
    let before = rows.len();
    let appended = before > 0 && read(conn, &setup, rows, false)?;
    // Everything submitted up to the last time read must be what was read: a response
    // submitted later and still arriving does not count yet (it is read next time).
    let total: i64 = match rows.last {
        Some(last) if appended => responses::table
            .filter(responses::wave_id.eq(&setup.wave.id))
            .filter(responses::submitted_at.le(last))
            .select(count_star())
            .first(conn)?,
        _ => -1,
    };
    if !appended || usize::try_from(total).ok() != Some(rows.len()) {
        *rows = Rows::default();
        read(conn, &setup, rows, true)?;
    }
    build(setup, rows)
}

/// Reads and scores submitted responses into `rows`: all of them, or (`all` false) those
/// submitted after `rows.last`. Returns false when an appended response has no stored
/// slots (the caller reads everything instead).
fn read(conn: &mut DbConn, setup: &Setup, rows: &mut Rows, all: bool) -> anyhow::Result<bool> {
    let Setup {
        wave,
        rules,
        items,
        layout,
        services,
        ..
    } = setup;
    let item_index: HashMap<&str, usize> = items
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let service_index: polars::prelude::PlHashMap<&ServiceId, u32> = services
        .iter()
        .enumerate()
        .map(|(i, s)| (&s.service_id, u32::try_from(i).unwrap_or(u32::MAX)))
        .collect();

    // One row per respondent: the slots were stored on submission. Responses without them
    // (submitted before slots existed) are scored from their answer rows below.
    let first = rows.len();
    let mut unslotted: HashMap<String, usize> = HashMap::new();
    let width = items.len();
    // The id only where it is needed (no usable slots): a million fewer strings.
    let id_if_unslotted = diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Text>>(
        &format!("CASE WHEN answer_slots IS NULL OR length(answer_slots) <> {width} THEN id END"),
    );
    let mut query = responses::table
        .filter(responses::wave_id.eq(&wave.id))
        .filter(responses::submitted_at.is_not_null())
        .select((
            id_if_unslotted,
            responses::service_id,
            responses::role,
            responses::answer_slots,
            responses::submitted_at,
        ))
        .into_boxed();
    if !all && let Some(last) = rows.last {
        query = query.filter(responses::submitted_at.gt(last));
    }
    let loaded = query.load_iter::<(
        Option<String>,
        ServiceId,
        RespondentRole,
        Option<Vec<u8>>,
        Option<chrono::NaiveDateTime>,
    ), diesel::connection::DefaultLoadingMode>(conn)?;
    for row in loaded {
        let (id, service, role, stored, submitted) = row?;
        rows.last = rows.last.max(submitted);
        rows.service
            .push(service_index.get(&service).copied().unwrap_or(u32::MAX));
        rows.role
            .push(u32::from(role == RespondentRole::PeerWorker));
        if let Some(decoded) = stored.as_deref().and_then(|b| rules.decode_response(b)) {
            rows.slots.extend(decoded);
        } else {
            unslotted.insert(id.unwrap_or_default(), rows.service.len() - 1);
            rows.slots
                .extend(std::iter::repeat_n(SLOT_UNANSWERED, width));
        }
    }
    drop(service_index);
    if !unslotted.is_empty() {
        if !all {
            return Ok(false);
        }
        slots_from_answers(
            conn,
            &wave.id,
            rules,
            &item_index,
            &unslotted,
            &mut rows.slots,
        )?;
    }

    rows.phases.resize(layout.len(), Vec::new());
    let mut scores = vec![None; layout.len()];
    for r in first..rows.len() {
        let row = &rows.slots[r * width..(r + 1) * width];
        for (p, (_, range, min)) in layout.iter().enumerate() {
            scores[p] = ScoringRules::phase_score(&row[range.clone()], *min);
            rows.phases[p].push(scores[p]);
        }
        rows.index.push(rules.index(&scores));
    }
    Ok(true)
}

/// The frame of `rows`.
fn build(setup: Setup, rows: &Rows) -> anyhow::Result<WaveData> {
    let Setup {
        wave,
        survey,
        rules,
        items,
        layout,
        services,
    } = setup;
    let n = rows.len();
    let mut columns = vec![
        FrameColumn::new("service".into(), rows.service.clone()),
        FrameColumn::new("role".into(), rows.role.clone()),
    ];
    for ((code, _, _), values) in layout.iter().zip(&rows.phases) {
        columns.push(FrameColumn::new(code.as_str().into(), values.clone()));
    }
    columns.push(FrameColumn::new("index".into(), rows.index.clone()));
    let frame = DataFrame::new(n, columns)?;
    Ok(WaveData {
        wave,
        survey,
        rules,
        services,
        items,
        phases: layout.into_iter().map(|(c, r, _)| (c, r)).collect(),
        frame,
        slots: rows.slots.clone(),
    })
}

/// Fills the slots of responses stored without them (`row` by response id) from their
/// answer rows, streamed in response order.
fn slots_from_answers(
    conn: &mut DbConn,
    wave: &WaveId,
    rules: &ScoringRules,
    item_index: &HashMap<&str, usize>,
    row_of: &HashMap<String, usize>,
    slots: &mut [i8],
) -> anyhow::Result<()> {
    let width = item_index.len();
    let rows = answers::table
        .filter(answers::wave_id.eq(wave))
        .filter(answers::value.is_not_null().or(answers::missing_code.is_not_null()))
        .order((answers::response_id, answers::item_code))
        .select((
            answers::response_id,
            answers::item_code,
            answers::value,
            answers::missing_code,
        ))
        .load_iter::<(String, String, Option<f64>, Option<String>), diesel::connection::DefaultLoadingMode>(conn)?;
    let mut current: (String, Option<usize>) = (String::new(), None);
    for row in rows {
        let (response, item, value, missing) = row?;
        if response != current.0 {
            let found = row_of.get(response.as_str()).copied();
            current = (response, found);
        }
        let (Some(r), Some(&i)) = (current.1, item_index.get(item.as_str())) else {
            continue;
        };
        let answer = match (&value, &missing) {
            (Some(v), _) => AnswerValue::Value(*v),
            (None, Some(code)) => AnswerValue::Code(code),
            (None, None) => continue,
        };
        slots[r * width + i] = rules.encode(&item, answer);
    }
    Ok(())
}
