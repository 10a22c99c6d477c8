//! Loading a wave as sufficient statistics: every submitted response is read once,
//! scored from the compact answer slots stored with it, and added to running sums per
//! service × role (n, Σx, Σx² of each phase score and the index; per item n, Σx, Σx²;
//! don't know / not applicable counts) and per phase over the whole wave (for α and the
//! item descriptives). Everything a publication shows derives from these sums, so a live
//! wave only adds what was submitted since the last computation, and no respondent-level
//! row is held in memory.
//!
//! The sums are exact: item answers are small integers, and a phase score (the mean of
//! its valid items) is kept as an integer multiple of 1 / lcm(1..=items in the phase).
//! The sums therefore do not depend on the order responses are added in: reading only
//! new responses gives, to the last bit, what reading all of them gives.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use anyhow::Context as _;
use diesel::prelude::*;

use super::stats::Moments;
use crate::core::domain::{RespondentRole, ServiceId, WaveId};
use crate::core::instrument::format::SurveyFile;
use crate::core::scoring::{
    AnswerValue, MAX_PHASE_ITEMS, SLOT_DONT_KNOW, SLOT_NOT_APPLICABLE, SLOT_UNANSWERED,
    ScoringRules,
};
use crate::infra::db::DbConn;
use crate::infra::db::schema::{answers, responses};
use crate::infra::models::{Wave, WaveService};

/// n, Σx and Σx² of values that are integer multiples of `1 / scale`, kept as integers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Exact {
    n: u64,
    sum: u128,
    sum_sq: u128,
}

impl Exact {
    fn add(&mut self, scaled: u64) {
        self.n += 1;
        self.sum += u128::from(scaled);
        self.sum_sq += u128::from(scaled) * u128::from(scaled);
    }

    /// The moments of the values (`scaled / scale`).
    #[expect(
        clippy::cast_precision_loss,
        reason = "exact sums, rounded once to the nearest f64"
    )]
    pub fn moments(&self, scale: f64) -> Moments {
        Moments {
            n: self.n,
            sum: self.sum as f64 / scale,
            sum_sq: self.sum_sq as f64 / (scale * scale),
        }
    }
}

/// n, Σx and Σx² of integers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counts {
    n: u64,
    sum: u64,
    sum_sq: u64,
}

impl Counts {
    fn add(&mut self, x: u64) {
        self.n += 1;
        self.sum += x;
        self.sum_sq += x * x;
    }

    #[expect(clippy::cast_precision_loss, reason = "exact below 2^53")]
    fn moments(self) -> Moments {
        Moments {
            n: self.n,
            sum: self.sum as f64,
            sum_sq: self.sum_sq as f64,
        }
    }
}

/// One service × role, as [`Sums::cell`] gives it.
#[derive(Debug, Clone, Copy)]
pub struct CellSums<'a> {
    /// Submitted responses, scored or not.
    pub respondents: u64,
    phases: &'a [Exact],
    index: Exact,
    items: &'a [Counts],
    missing: &'a [(u64, u64)],
    evidence: &'a [(u64, u64)],
}

impl CellSums<'_> {
    /// Phase `p`'s high ratings, and of them those backed by an occasion (zero for a
    /// phase without an evidence question).
    pub fn evidence(&self, p: usize) -> (u64, u64) {
        self.evidence.get(p).copied().unwrap_or_default()
    }

    /// The moments of each item in `range` over its valid answers.
    pub fn items(&self, range: Range<usize>) -> Vec<Moments> {
        self.items[range].iter().map(|c| c.moments()).collect()
    }

    /// Phase `p`'s answers "don't know" and "not applicable".
    pub fn missing(&self, p: usize) -> (u64, u64) {
        self.missing[p]
    }
}

/// One phase over the whole wave, both roles: item sums over the complete cases (for α)
/// and each item's descriptives over all answers.
#[derive(Debug, Clone, PartialEq)]
struct PhaseSums {
    complete_items: Vec<Counts>,
    complete_totals: Counts,
    /// Per item: valid answers, how many gave each scale value, "don't know", "not applicable".
    items: Vec<(Counts, Vec<u64>, u64, u64)>,
}

/// Phase `p` over the whole wave, as [`Sums::phase`] gives it.
#[derive(Debug, Clone)]
pub struct PhaseView {
    /// Respondents who gave a valid answer to every item of the phase: per item, and of
    /// the item total.
    pub complete_items: Vec<Moments>,
    pub complete_totals: Moments,
    /// Per item: valid answers, how many gave each scale value, "don't know", "not applicable".
    pub items: Vec<(Moments, Vec<u64>, u64, u64)>,
}

/// The sufficient statistics of a wave's submitted responses. Each service × role
/// (service × roles + role, roles in [`WaveData::roles`] order) has a fixed stretch of three flat tables, so adding a respondent
/// touches a few neighbouring cache lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Sums {
    /// Each phase's items' range in the slots and its minimum of valid answers.
    layout: Vec<(Range<usize>, u32)>,
    width: usize,
    /// Phase scores are kept × `scale` (an integer: lcm of 1..=the widest phase's items).
    scale: u64,
    /// `scale / valid` for each count of valid answers (no division per respondent).
    factor: Vec<u64>,
    index_multiplier: f64,
    /// The scored roles of the wave's instrument, in order.
    role_codes: Vec<RespondentRole>,
    /// Per cell: its respondents.
    respondents_of: Vec<u64>,
    /// Per cell: each phase score, then the index (`layout.len() + 1`).
    scores: Vec<Exact>,
    /// Per cell: each item (`width`).
    items: Vec<Counts>,
    /// Per cell: each phase's "don't know" and "not applicable" answers.
    missing: Vec<(u64, u64)>,
    /// Per phase, the slot of its evidence question.
    evidence_slots: Vec<Option<usize>>,
    /// The lowest high rating (see [`ScoringRules::high_from`]).
    high_from: Option<f64>,
    /// Per cell: each phase's high ratings, and of them those backed by an occasion.
    evidence: Vec<(u64, u64)>,
    phases: Vec<PhaseSums>,
    respondents: u64,
}

fn lcm_up_to(n: usize) -> u64 {
    fn gcd(a: u64, b: u64) -> u64 {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    (1..=n as u64).fold(1, |acc, k| acc / gcd(acc, k) * k)
}

impl Sums {
    fn new(
        rules: &ScoringRules,
        role_codes: &[RespondentRole],
        services: usize,
    ) -> anyhow::Result<Self> {
        let role_count = role_codes.len();
        let layout: Vec<(Range<usize>, u32)> =
            rules.layout().into_iter().map(|(_, r, m)| (r, m)).collect();
        let widest = layout.iter().map(|(r, _)| r.len()).max().unwrap_or(1);
        anyhow::ensure!(
            widest <= MAX_PHASE_ITEMS,
            "a phase has {widest} scored items; at most {MAX_PHASE_ITEMS} can be summed exactly"
        );
        let width = layout.last().map_or(0, |(r, _)| r.end);
        let cells = services * role_count;
        Ok(Self {
            role_codes: role_codes.to_vec(),
            phases: layout
                .iter()
                .map(|(r, _)| PhaseSums {
                    complete_items: vec![Counts::default(); r.len()],
                    complete_totals: Counts::default(),
                    items: vec![(Counts::default(), vec![0; 5], 0, 0); r.len()],
                })
                .collect(),
            width,
            scale: lcm_up_to(widest),
            factor: (0..=widest as u64)
                .map(|v| lcm_up_to(widest).checked_div(v).unwrap_or(0))
                .collect(),
            index_multiplier: rules.index_multiplier(),
            respondents_of: vec![0; cells],
            scores: vec![Exact::default(); cells * (layout.len() + 1)],
            items: vec![Counts::default(); cells * width],
            missing: vec![(0, 0); cells * layout.len()],
            evidence: vec![(0, 0); cells * layout.len()],
            evidence_slots: rules.evidence_slots(),
            high_from: rules.high_from(),
            layout,
            respondents: 0,
        })
    }

    /// Whether these sums were made for the same scoring layout and services.
    fn fits(&self, rules: &ScoringRules, role_codes: &[RespondentRole], services: usize) -> bool {
        self.role_codes == role_codes
            && self.respondents_of.len() == services * role_codes.len()
            && self
                .layout
                .iter()
                .map(|(r, m)| (r.clone(), *m))
                .eq(rules.layout().into_iter().map(|(_, r, m)| (r, m)))
            && self.index_multiplier.to_bits() == rules.index_multiplier().to_bits()
            && self.evidence_slots == rules.evidence_slots()
            && self.high_from.map(f64::to_bits) == rules.high_from().map(f64::to_bits)
    }

    /// Adds one respondent of service `service` (its index in the wave) and role `role`
    /// (index in [`WaveData::roles`]) with answer slots `slots`.
    fn add(&mut self, service: usize, role: usize, slots: &[i8]) {
        self.respondents += 1;
        let phases = self.layout.len();
        if role >= self.role_codes.len() {
            // A role that is not scored (or not declared) counts in no cell.
            return;
        }
        let c = service
            .saturating_mul(self.role_codes.len())
            .saturating_add(role);
        let Some(respondents) = self.respondents_of.get_mut(c) else {
            // A response of a service the wave does not list counts in no cell.
            return;
        };
        *respondents += 1;
        let scores = &mut self.scores[c * (phases + 1)..(c + 1) * (phases + 1)];
        let items = &mut self.items[c * self.width..(c + 1) * self.width];
        let missing = &mut self.missing[c * phases..(c + 1) * phases];
        let evidence = &mut self.evidence[c * phases..(c + 1) * phases];
        let mut index = Some(0u64);
        for (p, (range, min_valid)) in self.layout.iter().enumerate() {
            let answers = &slots[range.clone()];
            let psy = &mut self.phases[p];
            let (mut valid, mut sum) = (0u64, 0u64);
            for (i, slot) in answers.iter().enumerate() {
                let d = &mut psy.items[i];
                if let Ok(v) = u8::try_from(*slot) {
                    let x = u64::from(v);
                    items[range.start + i].add(x);
                    d.0.add(x);
                    let v = usize::from(v);
                    if d.1.len() <= v {
                        d.1.resize(v + 1, 0);
                    }
                    d.1[v] += 1;
                    valid += 1;
                    sum += x;
                } else if *slot == SLOT_DONT_KNOW {
                    missing[p].0 += 1;
                    d.2 += 1;
                } else if *slot == SLOT_NOT_APPLICABLE {
                    missing[p].1 += 1;
                    d.3 += 1;
                }
            }
            if valid == range.len() as u64 {
                for (i, slot) in answers.iter().enumerate() {
                    psy.complete_items[i].add(u64::from(slot.unsigned_abs()));
                }
                psy.complete_totals.add(sum);
            }
            // The same rule as `ScoringRules::phase_score`, scaled to an integer.
            if valid > 0 && valid >= u64::from(*min_valid) {
                let scaled = sum * self.factor[usize::try_from(valid).unwrap_or(0)];
                scores[p].add(scaled);
                index = index.map(|t| t + scaled);
                // A high rating (mean of the valid answers at or above the high band's
                // start: sum ≥ from × valid, exact for these small integers), and whether
                // the respondent named an occasion for the phase.
                #[expect(clippy::cast_precision_loss, reason = "small integer counts")]
                let high = self
                    .high_from
                    .is_some_and(|from| sum as f64 >= from * valid as f64);
                if let Some(slot) = self.evidence_slots[p]
                    && high
                {
                    evidence[p].0 += 1;
                    if slots.get(slot) == Some(&crate::core::scoring::SLOT_OCCASION) {
                        evidence[p].1 += 1;
                    }
                }
            } else {
                index = None;
            }
        }
        if let Some(t) = index.filter(|_| phases > 0) {
            scores[phases].add(t);
        }
    }

    /// Every submitted response, scored or not.
    pub fn respondents(&self) -> u64 {
        self.respondents
    }

    /// The sums of service `service` × role `role`, `None` when nobody answered there.
    pub fn cell(&self, service: usize, role: usize) -> Option<CellSums<'_>> {
        if role >= self.role_codes.len() {
            return None;
        }
        let c = service
            .checked_mul(self.role_codes.len())?
            .checked_add(role)?;
        let respondents = *self.respondents_of.get(c).filter(|n| **n > 0)?;
        let phases = self.layout.len();
        let scores = &self.scores[c * (phases + 1)..(c + 1) * (phases + 1)];
        Some(CellSums {
            respondents,
            phases: &scores[..phases],
            index: scores[phases],
            items: &self.items[c * self.width..(c + 1) * self.width],
            missing: &self.missing[c * phases..(c + 1) * phases],
            evidence: &self.evidence[c * phases..(c + 1) * phases],
        })
    }

    /// Every answered service × role: (service, role, sums).
    pub fn cells(&self) -> impl Iterator<Item = (usize, usize, CellSums<'_>)> {
        (0..self.respondents_of.len()).filter_map(|c| {
            let (s, r) = (c / self.role_codes.len(), c % self.role_codes.len());
            self.cell(s, r).map(|cell| (s, r, cell))
        })
    }

    /// The moments of phase `p`'s scores in `cell`.
    pub fn phase_moments(&self, cell: &CellSums<'_>, p: usize) -> Moments {
        #[expect(clippy::cast_precision_loss, reason = "lcm of 1..=24 at most")]
        cell.phases[p].moments(self.scale as f64)
    }

    /// The moments of the index in `cell` (the mean of the phase scores × the multiplier).
    pub fn index_moments(&self, cell: &CellSums<'_>) -> Moments {
        #[expect(clippy::cast_precision_loss, reason = "a handful of phases")]
        let phases = self.layout.len() as f64;
        #[expect(clippy::cast_precision_loss, reason = "lcm of 1..=24 at most")]
        let scale = self.scale as f64 * phases / self.index_multiplier;
        cell.index.moments(scale)
    }

    /// Phase `p`'s items over the whole wave.
    pub fn phase(&self, p: usize) -> PhaseView {
        let sums = &self.phases[p];
        PhaseView {
            complete_items: sums.complete_items.iter().map(|c| c.moments()).collect(),
            complete_totals: sums.complete_totals.moments(),
            items: sums
                .items
                .iter()
                .map(|(c, dist, dk, na)| (c.moments(), dist.clone(), *dk, *na))
                .collect(),
        }
    }
}

/// A wave's scored respondents, as sums.
pub struct WaveData {
    pub wave: Wave,
    pub survey: Arc<SurveyFile>,
    pub rules: ScoringRules,
    /// The instrument's scored roles, in the order of their codes; sums and results refer
    /// to them by index.
    pub roles: Vec<RespondentRole>,
    /// The services frozen with the wave; sums refer to them by index.
    pub services: Vec<WaveService>,
    /// Scored item codes in phase order.
    pub items: Vec<String>,
    /// Phase codes, each with its items' range in `items`.
    pub phases: Vec<(String, Range<usize>)>,
    pub sums: Sums,
}

impl std::fmt::Debug for WaveData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WaveData")
            .field("wave", &self.wave.id)
            .field("respondents", &self.sums.respondents)
            .finish_non_exhaustive()
    }
}

impl WaveData {
    pub fn respondents(&self) -> u64 {
        self.sums.respondents
    }
}

/// A wave's sums as read so far, kept by the publisher between computations so that a
/// live wave only reads what was submitted since.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    sums: Option<Sums>,
    /// The latest submission time read.
    last: Option<chrono::NaiveDateTime>,
    /// The submission times read within [`RECENT`] of `last`, to check that nothing
    /// committed late in that window was missed.
    recent: Vec<chrono::NaiveDateTime>,
    /// The wave's removal count when the sums were read ([`Wave::removals`]).
    removals: i64,
    /// When every response up to `last` was last counted.
    counted_at: Option<std::time::Instant>,
}

/// How far before the latest submission read a response may still arrive (its
/// transaction committing after a later one was read, or an instance's clock behind
/// another's) and be caught by counting only that window.
const RECENT: chrono::TimeDelta = chrono::TimeDelta::seconds(60);
/// How often the whole wave's responses are counted anyway: a safety net behind the
/// window and the removal count (on PostgreSQL the count scans the table: about 0.5 s of
/// its processor time on a national wave, which every recomputation paid before).
const COUNT_ALL_EVERY: std::time::Duration = std::time::Duration::from_secs(300);

impl Rows {
    /// Takes back the sums [`load_since`] lent out with the wave's data.
    pub fn keep(&mut self, data: WaveData) {
        self.sums = Some(data.sums);
    }

    /// Whether anything was read yet: later reads cost what the new responses cost.
    pub fn is_warm(&self) -> bool {
        self.sums.is_some()
    }
}

/// What a wave is scored with: its row, instrument, rules, services and item layout.
struct Setup {
    wave: Wave,
    survey: Arc<SurveyFile>,
    rules: ScoringRules,
    roles: Vec<RespondentRole>,
    items: Vec<String>,
    services: Vec<WaveService>,
}

fn setup(conn: &mut DbConn, wave: &WaveId) -> anyhow::Result<Setup> {
    let wave = Wave::find(conn, wave).context("the wave does not exist")?;
    let survey = crate::app::waves::instrument_of(conn, &wave)?;
    let rules = ScoringRules::new(&survey);
    let items: Vec<String> = rules.item_codes().into_iter().map(str::to_owned).collect();
    let services = WaveService::for_wave(conn, &wave.id)?;
    Ok(Setup {
        roles: survey.scored_roles(),
        wave,
        survey,
        rules,
        items,
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
/// sums differ from the database. A withdrawal changes the wave's removal count; a late
/// commit shows in the count of the responses submitted in the last [`RECENT`] before the
/// latest time read; every [`COUNT_ALL_EVERY`] all of them are counted. When a count
/// differs from what was read, everything is read again.
pub fn load_since(conn: &mut DbConn, wave: &WaveId, rows: &mut Rows) -> anyhow::Result<WaveData> {
    use diesel::dsl::count_star;
    let setup = setup(conn, wave)?;
    // Read before the responses: a removal after this is seen by the next call.
    let removals = Wave::removals(conn, wave)?;
    let usable = rows.removals == removals
        && rows
            .sums
            .as_ref()
            .is_some_and(|s| s.fits(&setup.rules, &setup.roles, setup.services.len()));
    let appended = usable && read(conn, &setup, rows, false)?;
    // Everything submitted up to the last time read must be what was read: a response
    // submitted later and still arriving does not count yet (it is read next time).
    let consistent = match rows.last {
        Some(last) if appended => {
            let all = rows
                .counted_at
                .is_none_or(|t| t.elapsed() >= COUNT_ALL_EVERY);
            let mut counted = responses::table
                .filter(responses::wave_id.eq(&setup.wave.id))
                .filter(responses::submitted_at.le(last))
                .select(count_star())
                .into_boxed();
            let expected = if all {
                rows.sums.as_ref().map_or(0, Sums::respondents)
            } else {
                counted = counted.filter(responses::submitted_at.gt(last - RECENT));
                u64::try_from(rows.recent.len()).unwrap_or(u64::MAX)
            };
            let total: i64 = counted.first(conn)?;
            if all {
                rows.counted_at = Some(std::time::Instant::now());
            }
            u64::try_from(total).ok() == Some(expected)
        }
        _ => false,
    };
    if !consistent {
        *rows = Rows::default();
        read(conn, &setup, rows, true)?;
        rows.counted_at = Some(std::time::Instant::now());
    }
    rows.removals = removals;
    // Lent to the caller, who gives them back with `Rows::keep` (without, the next call
    // reads everything again).
    let sums = match rows.sums.take() {
        Some(s) => s,
        None => Sums::new(&setup.rules, &setup.roles, setup.services.len())?,
    };
    let Setup {
        wave,
        survey,
        rules,
        roles,
        items,
        services,
    } = setup;
    let phases = rules
        .layout()
        .into_iter()
        .map(|(c, r, _)| (c.to_owned(), r))
        .collect();
    Ok(WaveData {
        wave,
        survey,
        rules,
        roles,
        services,
        items,
        phases,
        sums,
    })
}

/// Reads and scores submitted responses into `rows`: all of them, or (`all` false) those
/// submitted after `rows.last`. Returns false when an appended response has no stored
/// slots (the caller reads everything instead).
fn read(conn: &mut DbConn, setup: &Setup, rows: &mut Rows, all: bool) -> anyhow::Result<bool> {
    let Setup {
        wave,
        rules,
        roles,
        services,
        ..
    } = setup;
    let sums = match &mut rows.sums {
        Some(s) => s,
        empty => empty.insert(Sums::new(rules, roles, services.len())?),
    };
    let role_index: HashMap<&str, usize> = roles
        .iter()
        .enumerate()
        .map(|(i, r)| (r.as_str(), i))
        .collect();
    let service_index: polars::prelude::PlHashMap<&ServiceId, usize> = services
        .iter()
        .enumerate()
        .map(|(i, s)| (&s.service_id, i))
        .collect();

    // One row per respondent: the slots were stored on submission. Responses without them
    // (submitted before slots existed) are scored from their answer rows below.
    let width = rules.slot_width();
    let mut unslotted: Vec<(String, usize, usize)> = Vec::new();
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
    // This thread decodes rows while a second one adds them to the sums, a batch at a time.
    let mut last = rows.last;
    let recent = &mut rows.recent;
    let adding = &mut *sums;
    let complete = std::thread::scope(|scope| -> anyhow::Result<bool> {
        let (batches, arriving) = std::sync::mpsc::sync_channel::<Batch>(4);
        scope.spawn(move || {
            for batch in arriving {
                for (i, (s, r)) in batch.cells.iter().enumerate() {
                    adding.add(*s, *r, &batch.slots[i * width..(i + 1) * width]);
                }
            }
        });
        let mut batch = Batch::default();
        for row in loaded {
            let (id, service, role, stored, submitted) = row?;
            last = last.max(submitted);
            // Kept when it may fall in the window before the latest time read (pruned
            // below, once that is known).
            if let Some(t) = submitted
                && last.is_none_or(|l| t > l - RECENT)
            {
                recent.push(t);
            }
            let s = service_index.get(&service).copied().unwrap_or(usize::MAX);
            // Not a scored role: counted as a respondent, in no cell.
            let r = role_index.get(role.as_str()).copied().unwrap_or(usize::MAX);
            if let Some(decoded) = stored.as_deref().and_then(|b| rules.decode_response(b)) {
                batch.slots.extend(decoded);
                batch.cells.push((s, r));
                if batch.cells.len() == BATCH {
                    // The adder stopped only if it panicked; the scope reports that.
                    batches.send(std::mem::take(&mut batch)).ok();
                }
            } else {
                if !all {
                    return Ok(false);
                }
                unslotted.push((id.unwrap_or_default(), s, r));
            }
        }
        batches.send(batch).ok();
        Ok(true)
    })?;
    if !complete {
        return Ok(false);
    }
    rows.last = last;
    if let Some(l) = last {
        rows.recent.retain(|t| *t > l - RECENT);
    }
    if !unslotted.is_empty() {
        let row_of: HashMap<&str, usize> = unslotted
            .iter()
            .enumerate()
            .map(|(i, (id, _, _))| (id.as_str(), i))
            .collect();
        let mut filled = vec![SLOT_UNANSWERED; unslotted.len() * width];
        slots_from_answers(conn, &wave.id, rules, &row_of, &mut filled)?;
        for (i, (_, s, r)) in unslotted.iter().enumerate() {
            sums.add(*s, *r, &filled[i * width..(i + 1) * width]);
        }
    }
    Ok(true)
}

/// Respondents handed from the reading thread to the adding one.
const BATCH: usize = 4096;

#[derive(Default)]
struct Batch {
    /// (service, role) of each respondent.
    cells: Vec<(usize, usize)>,
    /// Their answer slots, row after row.
    slots: Vec<i8>,
}

/// Fills the slots of responses stored without them (`row` by response id) from their
/// answer rows, streamed in response order.
fn slots_from_answers(
    conn: &mut DbConn,
    wave: &WaveId,
    rules: &ScoringRules,
    row_of: &HashMap<&str, usize>,
    slots: &mut [i8],
) -> anyhow::Result<()> {
    // Scored items and evidence questions, as `encode_response` writes them on submission.
    let width = rules.slot_width();
    let rows = answers::table
        .filter(answers::wave_id.eq(wave))
        .filter(
            answers::value
                .is_not_null()
                .or(answers::missing_code.is_not_null())
                .or(answers::text_value.is_not_null()),
        )
        .order((answers::response_id, answers::item_code))
        .select((
            answers::response_id,
            answers::item_code,
            answers::value,
            answers::missing_code,
            answers::text_value,
        ))
        .load_iter::<(String, String, Option<f64>, Option<String>, Option<String>), diesel::connection::DefaultLoadingMode>(conn)?;
    let mut current: (String, Option<usize>) = (String::new(), None);
    for row in rows {
        let (response, item, value, missing, text) = row?;
        if response != current.0 {
            let found = row_of.get(response.as_str()).copied();
            current = (response, found);
        }
        let Some(r) = current.1 else {
            continue;
        };
        let answer = match (&value, &missing, &text) {
            (Some(v), _, _) => AnswerValue::Value(*v),
            (None, Some(code), _) => AnswerValue::Code(code),
            (None, None, Some(choice)) => AnswerValue::Choice(choice),
            (None, None, None) => continue,
        };
        if let Some((i, slot)) = rules.slot_of(&item, answer) {
            slots[r * width + i] = slot;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn rules() -> ScoringRules {
        let inst =
            crate::core::instrument::parse("built-in", crate::core::instrument::BUILT_IN[0].1)
                .expect("shipped instrument is valid");
        ScoringRules::new(&inst.definition)
    }

    fn slot() -> impl Strategy<Value = i8> {
        prop_oneof![
            4 => 1i8..=5,
            1 => Just(SLOT_UNANSWERED),
            1 => Just(SLOT_DONT_KNOW),
            1 => Just(SLOT_NOT_APPLICABLE),
        ]
    }

    proptest! {
        /// The sums give the moments of the scores `ScoringRules` gives each respondent
        /// (three scored roles, and respondents of a fourth that is not scored), and the
        /// same sums in any order of adding.
        #[test]
        fn sums_are_the_moments_of_each_respondents_scores(
            people in prop::collection::vec(
                (0usize..3, 0usize..4, prop::collection::vec(slot(), 20)),
                0..60,
            )
        ) {
            let rules = rules();
            let layout = rules.layout();
            let roles: Vec<RespondentRole> = ["manager", "peer_worker", "staff"]
                .into_iter()
                .map(|r| RespondentRole::parse(r).expect("role"))
                .collect();
            let mut sums = Sums::new(&rules, &roles, 3).expect("sums");
            let mut reversed = Sums::new(&rules, &roles, 3).expect("sums");
            let mut expected: HashMap<(usize, usize), (Vec<Moments>, Moments, u64)> =
                HashMap::new();
            for (s, r, slots) in &people {
                sums.add(*s, *r, slots);
                if *r >= 3 {
                    // Role 3 is not scored: a respondent, in no cell.
                    continue;
                }
                let e = expected
                    .entry((*s, *r))
                    .or_insert_with(|| (vec![Moments::default(); layout.len()], Moments::default(), 0));
                e.2 += 1;
                let scores: Vec<Option<f64>> = layout
                    .iter()
                    .map(|(_, range, min)| ScoringRules::phase_score(&slots[range.clone()], *min))
                    .collect();
                for (p, score) in scores.iter().enumerate() {
                    if let Some(x) = score {
                        e.0[p].add(*x);
                    }
                }
                if let Some(x) = rules.index(&scores) {
                    e.1.add(x);
                }
            }
            for (s, r, slots) in people.iter().rev() {
                reversed.add(*s, *r, slots);
            }
            prop_assert_eq!(&sums, &reversed);
            prop_assert_eq!(sums.respondents(), people.len() as u64);
            prop_assert_eq!(sums.cells().count(), expected.len());
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * (1.0 + b.abs());
            for ((s, r), (phases, index, n)) in &expected {
                let cell = sums.cell(*s, *r).expect("an answered cell");
                prop_assert_eq!(cell.respondents, *n);
                for (p, want) in phases.iter().enumerate() {
                    let got = sums.phase_moments(&cell, p);
                    prop_assert_eq!(got.n, want.n);
                    prop_assert!(close(got.sum, want.sum) && close(got.sum_sq, want.sum_sq),
                        "phase {p}: {got:?} vs {want:?}");
                }
                let got = sums.index_moments(&cell);
                prop_assert_eq!(got.n, index.n);
                prop_assert!(close(got.sum, index.sum) && close(got.sum_sq, index.sum_sq),
                    "index: {got:?} vs {index:?}");
            }
        }
    }

    #[test]
    fn phase_scores_are_summed_exactly_whatever_the_order() {
        // Scores 1/3, 2/3, 5/7… in floating point depend on the order of addition; the
        // scaled integers do not.
        let scale = lcm_up_to(7);
        assert_eq!(scale, 420);
        let values: Vec<(u64, u64)> = (1..200).map(|i| (i % 97, 1 + i % 7)).collect();
        let mut forward = Exact::default();
        let mut backward = Exact::default();
        for (sum, valid) in &values {
            forward.add(sum * (scale / valid));
        }
        for (sum, valid) in values.iter().rev() {
            backward.add(sum * (scale / valid));
        }
        assert_eq!(forward, backward);
        #[expect(clippy::cast_precision_loss, reason = "small test values")]
        let direct: f64 = values
            .iter()
            .map(|(s, v)| *s as f64 / *v as f64)
            .sum::<f64>();
        #[expect(clippy::cast_precision_loss, reason = "small test values")]
        let m = forward.moments(scale as f64);
        assert!((m.sum - direct).abs() < 1e-9, "{} vs {direct}", m.sum);
    }
}
