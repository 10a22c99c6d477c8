//! A wave's results: service × role statistics, perception gaps, benchmarks, region
//! comparisons, psychometrics and trends. Raw sufficient statistics are computed first
//! (polars for the respondent-level aggregation); every number then leaves through
//! [`suppress::gate`], the only place a [`Cell`] can be made.

#![expect(
    clippy::many_single_char_names,
    reason = "statistics notation: s service, r role, p phase, k threshold, m moments"
)]

use std::collections::{BTreeMap, HashMap};

use polars::prelude::*;
use serde::Serialize;

use super::frame::{ROLES, WaveData};
use super::stats::{self, Change, Estimate, FunnelLimits, Icc, Moments};
use super::suppress::{self, Cell, MinCell, Relation};
use crate::domain::{RegionId, RespondentRole, ServiceId, WaveId};
use crate::scoring::{SLOT_DONT_KNOW, SLOT_NOT_APPLICABLE};

/// |manager − peer-worker| at or above this is flagged.
pub const GAP_FLAG: f64 = 1.0;
/// Percentile ranks only within peer groups of at least this many units.
pub const MIN_PEER_GROUP: usize = 10;
/// The uniform null variance for rwg(J) on a 5-point scale: (5² − 1)/12.
pub const RWG_NULL_VARIANCE: f64 = 2.0;

/// Everything computed for one wave, ready to serve.
#[derive(Debug, Clone, Serialize)]
pub struct WaveResults {
    pub wave_id: WaveId,
    pub wave_name: String,
    pub instrument: String,
    pub min_cell: u32,
    pub data_version: i64,
    pub previous_wave: Option<WaveId>,
    pub phases: Vec<String>,
    /// Submitted responses per role over the whole wave.
    pub respondents: Vec<RoleCount>,
    pub services: Vec<ServiceResult>,
    pub psychometrics: Vec<PhasePsychometrics>,
    pub regions: Vec<RegionCell>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RoleCount {
    pub role: RespondentRole,
    pub count: Cell<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServiceResult {
    pub service_id: ServiceId,
    pub code: String,
    pub name: String,
    pub service_type: String,
    pub municipality_id: RegionId,
    pub county_id: RegionId,
    pub health_region_id: RegionId,
    pub roles: Vec<RoleResult>,
    pub gaps: Vec<GapResult>,
    pub benchmarks: Vec<Benchmark>,
    pub trends: Vec<TrendResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RoleResult {
    pub role: RespondentRole,
    pub phases: Vec<PhaseCell>,
    pub index: Cell<IndexStats>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PhaseCell {
    pub phase: String,
    pub stats: Cell<PhaseStats>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PhaseStats {
    #[serde(flatten)]
    pub estimate: Estimate,
    /// Maturity level of the mean.
    pub level: Option<u32>,
    /// Share of this group's answers to the phase's items that were "did not take place".
    pub not_applicable_share: f64,
    /// Share that were "don't know".
    pub dont_know_share: f64,
    /// rwg(J) agreement within the group (none below two respondents).
    pub rwg: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct IndexStats {
    #[serde(flatten)]
    pub estimate: Estimate,
    /// Weakest link: the lowest maturity level among the phase means.
    pub weakest_level: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GapResult {
    pub phase: String,
    pub gap: Cell<Gap>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Gap {
    pub manager: f64,
    pub peer_worker: f64,
    /// Manager mean − peer-worker mean; either sign.
    pub gap: f64,
    pub flagged: bool,
}

/// Where a service's index stands in one peer group, for one role.
#[derive(Debug, Clone, Serialize)]
pub struct Benchmark {
    pub role: RespondentRole,
    /// `service_type`, `health_region`, `county` or `national`.
    pub group: &'static str,
    pub group_key: String,
    /// Services in the group whose cell for this role is shown.
    pub group_size: usize,
    pub position: Cell<Position>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Position {
    pub score: f64,
    /// None when the group has fewer than [`MIN_PEER_GROUP`] services.
    pub percentile_rank: Option<f64>,
    /// The group's mean over all its respondents of this role.
    pub group_mean: f64,
    pub group_sd: f64,
    /// Funnel-plot limits at this service's number of respondents.
    pub limits: FunnelLimits,
    /// `below99.8`, `below95`, `within`, `above95`, `above99.8`.
    pub funnel: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrendResult {
    pub role: RespondentRole,
    /// A phase code, or `index`.
    pub measure: String,
    pub change: Cell<Change>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PhasePsychometrics {
    pub phase: String,
    /// ICC(1) and ICC(2), service as group, all respondents.
    pub icc: Cell<Icc>,
    /// Cronbach's α on complete cases.
    pub alpha: Cell<f64>,
    pub items: Vec<ItemCell>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemCell {
    pub item: String,
    pub stats: Cell<ItemStats>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemStats {
    pub mean: Option<f64>,
    pub sd: Option<f64>,
    /// How many chose each scale value (index = value).
    pub distribution: Vec<u64>,
    pub dont_know: u64,
    pub not_applicable: u64,
}

/// One region × role × service type (or all types) × phase aggregate.
#[derive(Debug, Clone, Serialize)]
pub struct RegionCell {
    /// `national`, `health_region`, `county` or `municipality`.
    pub level: &'static str,
    /// None for the national level.
    pub region_id: Option<RegionId>,
    pub role: RespondentRole,
    /// None: all service types.
    pub service_type: Option<String>,
    /// A phase code, or `index`.
    pub measure: String,
    pub stats: Cell<Estimate>,
}

/// Moments of each phase score and the index for one group of respondents.
#[derive(Debug, Clone, Default)]
struct GroupMoments {
    phases: Vec<Moments>,
    index: Moments,
}

/// Respondent-level aggregation by (service, role) in polars: n, Σx and Σx² of every
/// phase score and the index. Everything above service level rolls up from these.
fn service_role_moments(data: &WaveData) -> anyhow::Result<HashMap<(u32, u32), GroupMoments>> {
    let measures: Vec<&str> = data
        .phases
        .iter()
        .map(|(c, _)| c.as_str())
        .chain(std::iter::once("index"))
        .collect();
    let mut aggs = Vec::new();
    for m in &measures {
        aggs.push(
            col(*m)
                .count()
                .cast(DataType::Float64)
                .alias(format!("{m}_n")),
        );
        aggs.push(col(*m).sum().alias(format!("{m}_sum")));
        aggs.push((col(*m) * col(*m)).sum().alias(format!("{m}_sq")));
    }
    let grouped = data
        .frame
        .clone()
        .lazy()
        .group_by([col("service"), col("role")])
        .agg(aggs)
        .collect()?;
    let services = grouped.column("service")?.u32()?;
    let roles = grouped.column("role")?.u32()?;
    let mut out = HashMap::new();
    for row in 0..grouped.height() {
        let (Some(s), Some(r)) = (services.get(row), roles.get(row)) else {
            continue;
        };
        let mut g = GroupMoments::default();
        for m in &measures {
            let get = |suffix: &str| -> anyhow::Result<f64> {
                Ok(grouped
                    .column(&format!("{m}_{suffix}"))?
                    .f64()?
                    .get(row)
                    .unwrap_or(0.0))
            };
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "a count, carried as f64 by the frame"
            )]
            let moments = Moments {
                n: get("n")? as u64,
                sum: get("sum")?,
                sum_sq: get("sq")?,
            };
            if *m == "index" {
                g.index = moments;
            } else {
                g.phases.push(moments);
            }
        }
        out.insert((s, r), g);
    }
    Ok(out)
}

/// Per (service, role) and phase: the moments of each item over valid answers, and
/// the DK / NA / answered counts, for rwg(J) and the missing shares.
struct ItemTallies {
    items: Vec<Moments>,
    dont_know: u64,
    not_applicable: u64,
    total: u64,
}

/// [`ItemTallies`] of every (service, role, phase), in one dense table: a wave has a
/// few cells per service, and a million respondents × phases of hash lookups cost more
/// than the tallying itself.
struct Tallies {
    phases: usize,
    cells: Vec<ItemTallies>,
}

impl Tallies {
    fn slot(&self, s: u32, r: u32, p: usize) -> Option<usize> {
        let s = usize::try_from(s).ok()?;
        let r = usize::try_from(r).ok()?;
        Some((s * ROLES.len() + r) * self.phases + p)
    }

    /// The tallies of a cell, `None` when nobody in it answered.
    fn get(&self, s: u32, r: u32, p: usize) -> Option<&ItemTallies> {
        self.slot(s, r, p)
            .and_then(|i| self.cells.get(i))
            .filter(|t| t.total > 0)
    }
}

fn item_tallies(data: &WaveData) -> Tallies {
    let phases = data.phases.len();
    let mut tallies = Tallies {
        phases,
        cells: Vec::new(),
    };
    let services = data
        .frame
        .column("service")
        .ok()
        .and_then(|c| c.u32().ok().cloned());
    let roles = data
        .frame
        .column("role")
        .ok()
        .and_then(|c| c.u32().ok().cloned());
    let (Some(services), Some(roles)) = (services, roles) else {
        return tallies;
    };
    tallies.cells = (0..data.services.len() * ROLES.len())
        .flat_map(|_| data.phases.iter())
        .map(|(_, range)| ItemTallies {
            items: vec![Moments::default(); range.len()],
            dont_know: 0,
            not_applicable: 0,
            total: 0,
        })
        .collect();
    for row in 0..data.respondents() {
        let (Some(s), Some(r)) = (services.get(row), roles.get(row)) else {
            continue;
        };
        let Some(first) = tallies.slot(s, r, 0) else {
            continue;
        };
        let slots = data.slots_of(row);
        for (p, (_, range)) in data.phases.iter().enumerate() {
            let Some(t) = tallies.cells.get_mut(first + p) else {
                continue;
            };
            for (i, slot) in slots[range.clone()].iter().enumerate() {
                t.total += 1;
                match *slot {
                    v if v >= 0 => t.items[i].add(f64::from(v)),
                    SLOT_DONT_KNOW => t.dont_know += 1,
                    SLOT_NOT_APPLICABLE => t.not_applicable += 1,
                    _ => {}
                }
            }
        }
    }
    tallies
}

#[expect(clippy::cast_precision_loss, reason = "counts of answers")]
fn share(part: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        part as f64 / total as f64
    }
}

/// Computes the results of `data`, with trends against `previous` when given.
#[expect(
    clippy::too_many_lines,
    reason = "one pass over the result sections, in order"
)]
pub fn compute(
    data: &WaveData,
    previous: Option<&WaveData>,
    data_version: i64,
    k: MinCell,
) -> anyhow::Result<WaveResults> {
    let moments = service_role_moments(data)?;
    let previous_moments = previous.map(service_role_moments).transpose()?;
    let phase_codes: Vec<String> = data.phases.iter().map(|(c, _)| c.clone()).collect();
    // The region tables (their suppression gate is the costliest part) on a second core,
    // while this one tallies items and computes the psychometrics.
    let (tallies, regions, psychometrics) = std::thread::scope(|scope| {
        let regions = scope.spawn(|| region_cells(data, &moments, &phase_codes, k));
        let tallies = item_tallies(data);
        let psychometrics = psychometrics(data, &moments, k);
        let regions = regions
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (tallies, regions, psychometrics)
    });
    let empty = GroupMoments {
        phases: vec![Moments::default(); phase_codes.len()],
        index: Moments::default(),
    };

    // Service × role cells. They stand alone (no total of both roles is published), so
    // each passes the gate without relations.
    let decisions = service_decisions(data, &moments, phase_codes.len(), k);
    let previous_position: HashMap<&crate::domain::ServiceId, usize> = previous
        .map(|p| {
            p.services
                .iter()
                .enumerate()
                .map(|(i, x)| (&x.service_id, i))
                .collect()
        })
        .unwrap_or_default();
    let mut services = Vec::with_capacity(data.services.len());
    let mut index_cells: HashMap<(usize, usize), (u64, f64)> = HashMap::new();
    for (si, svc) in data.services.iter().enumerate() {
        let s = u32::try_from(si).unwrap_or(u32::MAX);
        let mut roles = Vec::new();
        for (ri, role) in ROLES.iter().enumerate() {
            let r = u32::try_from(ri).unwrap_or(u32::MAX);
            let g = moments.get(&(s, r)).unwrap_or(&empty);
            let mut phases = Vec::new();
            let mut levels = Vec::new();
            for (p, code) in phase_codes.iter().enumerate() {
                let m = &g.phases[p];
                let stats = stats::estimate(m).map(|estimate| {
                    let t = tallies.get(s, r, p);
                    let rwg = t.filter(|_| m.n >= 2).and_then(|t| {
                        let vars: Option<Vec<f64>> =
                            t.items.iter().map(Moments::variance).collect();
                        #[expect(clippy::cast_precision_loss, reason = "a handful of items")]
                        let mean_var = vars.map(|v| v.iter().sum::<f64>() / v.len() as f64);
                        mean_var.map(|v| stats::rwg_j(t.items.len(), v, RWG_NULL_VARIANCE))
                    });
                    let level = data.rules.level(estimate.mean);
                    levels.push(level);
                    PhaseStats {
                        estimate,
                        level,
                        not_applicable_share: t.map_or(0.0, |t| share(t.not_applicable, t.total)),
                        dont_know_share: t.map_or(0.0, |t| share(t.dont_know, t.total)),
                        rwg,
                    }
                });
                let cell = match (stats, decisions.get(&(si, ri, p))) {
                    (Some(v), Some(decision)) => decision.clone().map(|()| v),
                    (Some(v), None) => suppress::gate_one(m.n, v, k),
                    (None, _) => suppress::gate_one(0, placeholder_phase(), k),
                };
                phases.push(PhaseCell {
                    phase: code.clone(),
                    stats: cell,
                });
            }
            let weakest = levels
                .iter()
                .copied()
                .collect::<Option<Vec<u32>>>()
                .and_then(|l| l.into_iter().min());
            let index = stats::estimate(&g.index).map(|estimate| IndexStats {
                estimate,
                weakest_level: weakest,
            });
            let index_cell = match (index, decisions.get(&(si, ri, phase_codes.len()))) {
                (Some(v), Some(decision)) => decision.clone().map(|()| v),
                (Some(v), None) => suppress::gate_one(g.index.n, v, k),
                (None, _) => suppress::gate_one(0, placeholder_index(), k),
            };
            if let Some(v) = index_cell.shown() {
                index_cells.insert((si, ri), (g.index.n, v.estimate.mean));
            }
            roles.push(RoleResult {
                role: *role,
                phases,
                index: index_cell,
            });
        }
        let gaps = phase_codes
            .iter()
            .enumerate()
            .map(|(p, code)| GapResult {
                phase: code.clone(),
                gap: combine(
                    &roles[0].phases[p].stats,
                    &roles[1].phases[p].stats,
                    |m, w| {
                        let gap = m.estimate.mean - w.estimate.mean;
                        Gap {
                            manager: m.estimate.mean,
                            peer_worker: w.estimate.mean,
                            gap,
                            flagged: gap.abs() >= GAP_FLAG,
                        }
                    },
                ),
            })
            .collect();
        let mut trends = Vec::new();
        if let Some(prev) = &previous_moments {
            let prev_index = previous_position.get(&svc.service_id).copied();
            for (ri, role) in ROLES.iter().enumerate() {
                let r = u32::try_from(ri).unwrap_or(u32::MAX);
                let now = moments.get(&(s, r)).unwrap_or(&empty);
                let before = prev_index
                    .and_then(|pi| prev.get(&(u32::try_from(pi).unwrap_or(u32::MAX), r)))
                    .unwrap_or(&empty);
                let measures = phase_codes
                    .iter()
                    .enumerate()
                    .map(|(p, c)| (c.clone(), &before.phases[p], &now.phases[p]))
                    .chain(std::iter::once((
                        "index".to_owned(),
                        &before.index,
                        &now.index,
                    )));
                for (measure, b, c) in measures {
                    let change = match stats::change(b, c) {
                        Some(ch) => suppress::gate_one(b.n.min(c.n), ch, k),
                        None => suppress::gate_one(0, placeholder_change(), k),
                    };
                    trends.push(TrendResult {
                        role: *role,
                        measure,
                        change,
                    });
                }
            }
        }
        services.push(ServiceResult {
            service_id: svc.service_id.clone(),
            code: svc.service_code.clone(),
            name: svc.service_name.clone(),
            service_type: svc.service_type.to_string(),
            municipality_id: svc.municipality_id.clone(),
            county_id: svc.county_id.clone(),
            health_region_id: svc.health_region_id.clone(),
            roles,
            gaps,
            benchmarks: Vec::new(),
            trends,
        });
    }

    add_benchmarks(data, &moments, &index_cells, &mut services, k);

    let mut per_role = [0u64; 2];
    for ((_, r), g) in &moments {
        if let Some(slot) = per_role.get_mut(usize::try_from(*r).unwrap_or(usize::MAX)) {
            *slot += g
                .index
                .n
                .max(g.phases.iter().map(|m| m.n).max().unwrap_or(0));
        }
    }
    let respondents = ROLES
        .iter()
        .zip(per_role)
        .map(|(role, n)| RoleCount {
            role: *role,
            count: suppress::gate_one(n, n, k),
        })
        .collect();

    Ok(WaveResults {
        wave_id: data.wave.id.clone(),
        wave_name: data.wave.name.clone(),
        instrument: format!("{}@{}", data.survey.id, data.survey.version),
        min_cell: k.get(),
        data_version,
        previous_wave: previous.map(|p| p.wave.id.clone()),
        phases: phase_codes,
        respondents,
        services,
        psychometrics,
        regions,
    })
}

/// Which service × role cells may be shown, per measure (phases, then the index). A
/// service's cells add up, with the other services of its type in its municipality, to
/// that (municipality, type) region cell, which is published too: so each such group
/// passes the gate together, total first, and a lone hidden service beside visible ones
/// and a visible total gets a complementary neighbour. (Above that level the region
/// tables have their own gate; a service adds one unknown and one equation below its
/// group's cell, so it is recoverable only where that cell is, which the region gate
/// prevents.) Keyed by (service, role, measure).
fn service_decisions(
    data: &WaveData,
    moments: &HashMap<(u32, u32), GroupMoments>,
    phases: usize,
    k: MinCell,
) -> HashMap<(usize, usize, usize), Cell<()>> {
    let mut groups: HashMap<(&RegionId, String), Vec<usize>> = HashMap::new();
    for (si, s) in data.services.iter().enumerate() {
        groups
            .entry((&s.municipality_id, s.service_type.to_string()))
            .or_default()
            .push(si);
    }
    let mut out = HashMap::new();
    for ri in 0..ROLES.len() {
        let r = u32::try_from(ri).unwrap_or(u32::MAX);
        for p in 0..=phases {
            for members in groups.values() {
                let ns: Vec<u64> = members
                    .iter()
                    .map(|si| {
                        moments
                            .get(&(u32::try_from(*si).unwrap_or(u32::MAX), r))
                            .map_or(0, |g| if p < phases { g.phases[p].n } else { g.index.n })
                    })
                    .collect();
                let entries: Vec<(u64, ())> = std::iter::once((ns.iter().sum(), ()))
                    .chain(ns.iter().map(|n| (*n, ())))
                    .collect();
                let relation = Relation {
                    total: 0,
                    parts: (1..entries.len()).collect(),
                };
                let gated = suppress::gate(entries, &[relation], k);
                for (si, cell) in members.iter().zip(gated.into_iter().skip(1)) {
                    out.insert((*si, ri, p), cell);
                }
            }
        }
    }
    out
}

/// A number derived from two published cells: shown only when both are, hidden (with
/// the first hidden one's reason) or empty otherwise. Built with [`Cell::map`], so it
/// never shows more than its sources do.
fn combine<A: Clone, B: Clone, C>(
    a: &Cell<A>,
    b: &Cell<B>,
    f: impl FnOnce(&A, &B) -> C,
) -> Cell<C> {
    match (a.shown(), b.shown()) {
        (Some(x), Some(y)) => {
            let value = f(x, y);
            a.clone().map(|_| value)
        }
        (None, _) if a.is_suppressed() || !b.is_suppressed() => a
            .clone()
            .map(|_| unreachable!("a hidden cell carries no value")),
        _ => b
            .clone()
            .map(|_| unreachable!("a hidden cell carries no value")),
    }
}

fn placeholder_estimate() -> Estimate {
    Estimate {
        mean: 0.0,
        sd: None,
        ci_low: None,
        ci_high: None,
    }
}

fn placeholder_phase() -> PhaseStats {
    PhaseStats {
        estimate: placeholder_estimate(),
        level: None,
        not_applicable_share: 0.0,
        dont_know_share: 0.0,
        rwg: None,
    }
}

fn placeholder_index() -> IndexStats {
    IndexStats {
        estimate: placeholder_estimate(),
        weakest_level: None,
    }
}

fn placeholder_change() -> Change {
    Change {
        previous: 0.0,
        current: 0.0,
        change: 0.0,
        ci_low: None,
        ci_high: None,
    }
}

fn funnel_position(score: f64, l: &FunnelLimits) -> &'static str {
    if score < l.lower998 {
        "below99.8"
    } else if score < l.lower95 {
        "below95"
    } else if score > l.upper998 {
        "above99.8"
    } else if score > l.upper95 {
        "above95"
    } else {
        "within"
    }
}

/// Percentile ranks and funnel positions of each service's index per role, in each of
/// its four peer groups. Units are service × role cells that passed the gate; the
/// group's mean and SD roll up all its respondents, shown or not.
fn add_benchmarks(
    data: &WaveData,
    moments: &HashMap<(u32, u32), GroupMoments>,
    shown: &HashMap<(usize, usize), (u64, f64)>,
    services: &mut [ServiceResult],
    k: MinCell,
) {
    type KeyFn = fn(&crate::models::WaveService) -> String;
    let groups: [(&'static str, KeyFn); 4] = [
        ("service_type", |s| s.service_type.to_string()),
        ("health_region", |s| s.health_region_id.to_string()),
        ("county", |s| s.county_id.to_string()),
        ("national", |_| "NO".to_owned()),
    ];
    for (ri, role) in ROLES.iter().enumerate() {
        for (group, key_of) in &groups {
            let mut members: BTreeMap<String, Vec<usize>> = BTreeMap::new();
            for (si, s) in data.services.iter().enumerate() {
                members.entry(key_of(s)).or_default().push(si);
            }
            for (key, list) in members {
                let mut pooled = Moments::default();
                for si in &list {
                    let s = u32::try_from(*si).unwrap_or(u32::MAX);
                    let r = u32::try_from(ri).unwrap_or(u32::MAX);
                    if let Some(g) = moments.get(&(s, r)) {
                        pooled.merge(&g.index);
                    }
                }
                let scores: Vec<f64> = list
                    .iter()
                    .filter_map(|si| shown.get(&(*si, ri)).map(|(_, v)| *v))
                    .collect();
                let size = scores.len();
                let ranks = stats::PercentileRanks::new(scores);
                for si in &list {
                    let position = if let (Some((n, score)), Some(mean), Some(sd)) =
                        (shown.get(&(*si, ri)), pooled.mean(), pooled.sd())
                    {
                        {
                            let limits = stats::funnel_limits(mean, sd, *n);
                            suppress::gate_one(
                                *n,
                                Position {
                                    score: *score,
                                    percentile_rank: (size >= MIN_PEER_GROUP)
                                        .then(|| ranks.rank(*score)),
                                    group_mean: mean,
                                    group_sd: sd,
                                    limits,
                                    funnel: funnel_position(*score, &limits),
                                },
                                k,
                            )
                        }
                    } else {
                        {
                            // The service's own cell is hidden or empty: so is its position.
                            let own = &services[*si].roles[ri].index;
                            if own.shown().is_some() {
                                suppress::gate_one(0, placeholder_position(), k)
                            } else {
                                own.clone()
                                    .map(|_| unreachable!("a hidden cell carries no value"))
                            }
                        }
                    };
                    services[*si].benchmarks.push(Benchmark {
                        role: *role,
                        group,
                        group_key: key.clone(),
                        group_size: size,
                        position,
                    });
                }
            }
        }
    }
}

fn placeholder_position() -> Position {
    Position {
        score: 0.0,
        percentile_rank: None,
        group_mean: 0.0,
        group_sd: 0.0,
        limits: stats::funnel_limits(0.0, 0.0, 1),
        funnel: "within",
    }
}

/// Region × role × service type × measure, for every level of the hierarchy, with the
/// relations that tie totals to their parts so the gate can suppress complementary
/// cells: each (region, all types) is the sum of its (region, type) cells, and each
/// parent region's cell the sum of its child regions' cells, per type and in total.
fn region_cells(
    data: &WaveData,
    moments: &HashMap<(u32, u32), GroupMoments>,
    phase_codes: &[String],
    k: MinCell,
) -> Vec<RegionCell> {
    // (level, region) units, each with its parent; every service climbs from its
    // municipality to the nation. Units and types become small integers once, so the
    // roll-ups below are array additions.
    type Unit = (&'static str, Option<RegionId>);
    let mut parent_of: BTreeMap<Unit, Unit> = BTreeMap::new();
    for s in &data.services {
        let m: Unit = ("municipality", Some(s.municipality_id.clone()));
        let c: Unit = ("county", Some(s.county_id.clone()));
        let h: Unit = ("health_region", Some(s.health_region_id.clone()));
        parent_of.insert(m, c.clone());
        parent_of.insert(c, h.clone());
        parent_of.insert(h, ("national", None));
    }
    let mut units: Vec<Unit> = parent_of
        .keys()
        .cloned()
        .chain(std::iter::once(("national", None)))
        .collect();
    units.sort();
    let unit_index: HashMap<&Unit, usize> = units.iter().enumerate().map(|(i, u)| (u, i)).collect();
    let parent: Vec<Option<usize>> = units
        .iter()
        .map(|u| parent_of.get(u).and_then(|p| unit_index.get(p).copied()))
        .collect();
    let mut types: Vec<String> = data
        .services
        .iter()
        .map(|s| s.service_type.to_string())
        .collect();
    types.sort();
    types.dedup();
    let type_index: HashMap<&str, usize> = types
        .iter()
        .enumerate()
        .map(|(i, t)| (t.as_str(), i))
        .collect();
    // Column 0 of a unit is all types; column 1 + t is type t (the order of the
    // (unit, None < Some(type)) keys).
    let columns = types.len() + 1;
    let chains: Vec<(Vec<usize>, usize)> = data
        .services
        .iter()
        .map(|s| {
            let mut chain = Vec::with_capacity(4);
            let mut at = unit_index
                .get(&("municipality", Some(s.municipality_id.clone())))
                .copied();
            while let Some(u) = at {
                chain.push(u);
                at = parent[u];
            }
            let t = type_index
                .get(s.service_type.to_string().as_str())
                .copied()
                .unwrap_or(0);
            (chain, 1 + t)
        })
        .collect();
    // The relations are the same in every table: (unit, all) = Σ types, and
    // (parent, t) = Σ children (child, t).
    let mut relations = Vec::new();
    for u in 0..units.len() {
        relations.push(Relation {
            total: u * columns,
            parts: (1..columns).map(|t| u * columns + t).collect(),
        });
    }
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); units.len()];
    for (u, p) in parent.iter().enumerate() {
        if let Some(p) = p {
            children[*p].push(u);
        }
    }
    for (p, kids) in children.iter().enumerate() {
        if kids.is_empty() {
            continue;
        }
        for t in 0..columns {
            relations.push(Relation {
                total: p * columns + t,
                parts: kids.iter().map(|c| c * columns + t).collect(),
            });
        }
    }
    let mut out = Vec::new();
    for (ri, role) in ROLES.iter().enumerate() {
        let r = u32::try_from(ri).unwrap_or(u32::MAX);
        for (p, measure) in phase_codes
            .iter()
            .chain(std::iter::once(&"index".to_owned()))
            .enumerate()
        {
            let mut cells = vec![Moments::default(); units.len() * columns];
            for (si, (chain, t)) in chains.iter().enumerate() {
                let Some(g) = moments.get(&(u32::try_from(si).unwrap_or(u32::MAX), r)) else {
                    continue;
                };
                let m = if p < phase_codes.len() {
                    g.phases[p]
                } else {
                    g.index
                };
                for u in chain {
                    cells[u * columns].merge(&m);
                    cells[u * columns + t].merge(&m);
                }
            }
            let entries: Vec<(u64, Estimate)> = cells
                .iter()
                .map(|m| (m.n, stats::estimate(m).unwrap_or_else(placeholder_estimate)))
                .collect();
            let gated = suppress::gate(entries, &relations, k);
            for (i, stats) in gated.into_iter().enumerate() {
                let (level, region) = &units[i / columns];
                let t = i % columns;
                out.push(RegionCell {
                    level,
                    region_id: region.clone(),
                    role: *role,
                    service_type: (t > 0).then(|| types[t - 1].clone()),
                    measure: measure.clone(),
                    stats,
                });
            }
        }
    }
    out
}

/// ICC(1), ICC(2) and α per phase, and item descriptives, over the whole wave.
fn psychometrics(
    data: &WaveData,
    moments: &HashMap<(u32, u32), GroupMoments>,
    k: MinCell,
) -> Vec<PhasePsychometrics> {
    let mut out = Vec::new();
    for (p, (code, range)) in data.phases.iter().enumerate() {
        // Service as group, both roles together.
        let mut by_service: BTreeMap<u32, Moments> = BTreeMap::new();
        for ((s, _), g) in moments {
            by_service.entry(*s).or_default().merge(&g.phases[p]);
        }
        let groups: Vec<Moments> = by_service.into_values().collect();
        let icc = match stats::icc(&groups) {
            Some(v) => suppress::gate_one(v.respondents, v, k),
            None => suppress::gate_one(
                0,
                Icc {
                    icc1: 0.0,
                    icc2: 0.0,
                    groups: 0,
                    respondents: 0,
                },
                k,
            ),
        };
        // α on complete cases.
        let width = range.len();
        let mut items = vec![Moments::default(); width];
        let mut totals = Moments::default();
        let mut descriptives: Vec<(Moments, Vec<u64>, u64, u64)> =
            vec![(Moments::default(), vec![0; 5], 0, 0); width];
        for row in 0..data.respondents() {
            let slots = &data.slots_of(row)[range.clone()];
            if slots.iter().all(|s| *s >= 0) {
                let mut total = 0.0;
                for (i, s) in slots.iter().enumerate() {
                    items[i].add(f64::from(*s));
                    total += f64::from(*s);
                }
                totals.add(total);
            }
            for (i, s) in slots.iter().enumerate() {
                let d = &mut descriptives[i];
                match *s {
                    v if v >= 0 => {
                        d.0.add(f64::from(v));
                        let v = usize::try_from(v).unwrap_or(0);
                        if d.1.len() <= v {
                            d.1.resize(v + 1, 0);
                        }
                        d.1[v] += 1;
                    }
                    SLOT_DONT_KNOW => d.2 += 1,
                    SLOT_NOT_APPLICABLE => d.3 += 1,
                    _ => {}
                }
            }
        }
        let alpha = match stats::cronbach_alpha(&items, &totals) {
            Some(a) => suppress::gate_one(totals.n, a, k),
            None => suppress::gate_one(0, 0.0, k),
        };
        let item_cells = data.items[range.clone()]
            .iter()
            .zip(descriptives)
            .map(|(code, (m, distribution, dk, na))| ItemCell {
                item: code.clone(),
                stats: suppress::gate_one(
                    m.n + dk + na,
                    ItemStats {
                        mean: m.mean(),
                        sd: m.sd(),
                        distribution,
                        dont_know: dk,
                        not_applicable: na,
                    },
                    k,
                ),
            })
            .collect();
        out.push(PhasePsychometrics {
            phase: code.clone(),
            icc,
            alpha,
            items: item_cells,
        });
    }
    out
}
