//! A wave's publication: service × role statistics, perception gaps, benchmarks, region
//! comparisons, participation, psychometrics and trends, all derived from the wave's
//! sufficient statistics ([`super::sums`]); every number leaves
//! through the gate ([`suppress::decide`] over the union of the wave's tables), the only
//! place a [`Cell`] can be made.

#![expect(
    clippy::many_single_char_names,
    reason = "statistics notation: s service, r role, p phase, k threshold, m moments"
)]

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::stats::{self, Change, Estimate, FunnelLimits, Icc, Moments};
use super::sums::WaveData;
use super::suppress::{self, Cell, Decision, HiddenCount, MinCell, Relation};
use crate::core::domain::{RegionId, RegionKind, RespondentRole, ServiceId, ServiceType, WaveId};

/// A perception gap (the difference between two roles' means) at or above this, either
/// way, is flagged.
pub const GAP_FLAG: f64 = 1.0;
/// Percentile ranks only within peer groups of at least this many units.
pub const MIN_PEER_GROUP: usize = 10;
/// The uniform null variance for rwg(J) on a 5-point scale: (5² − 1)/12.
pub const RWG_NULL_VARIANCE: f64 = 2.0;

/// Everything a wave publishes, for one minimum cell size: the one source of every
/// number that pages, reports, the API and downloads show. Every number in it passed the
/// gate jointly with every other (see [`compute`]); views render it and compute nothing.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Publication {
    pub wave_id: WaveId,
    pub wave_name: String,
    pub instrument: String,
    pub min_cell: u32,
    pub data_version: i64,
    /// When these numbers were computed (UTC).
    pub computed_at: chrono::NaiveDateTime,
    pub previous_wave: Option<WaveId>,
    pub phases: Vec<String>,
    /// Submitted responses per role over the whole wave.
    pub respondents: Vec<RoleCount>,
    pub services: Vec<ServiceResult>,
    pub psychometrics: Vec<PhasePsychometrics>,
    pub regions: Vec<RegionCell>,
    /// How many cells the gate hid, and why: what privacy costs in this wave.
    pub privacy: PrivacyCost,
}

impl Publication {
    /// The service with this code, if it took part in the wave.
    pub fn service(&self, code: &str) -> Option<&ServiceResult> {
        self.services.iter().find(|s| s.code == code)
    }

    /// One region cell: `region` is `None` at the national level, `service_type` `None`
    /// for all types together.
    pub fn region_cell(
        &self,
        level: Level,
        region: Option<&RegionId>,
        role: &RespondentRole,
        service_type: Option<ServiceType>,
        measure: &str,
    ) -> Option<&RegionCell> {
        self.regions.iter().find(|c| {
            c.level == level
                && c.region_id.as_ref() == region
                && c.role == *role
                && c.service_type == service_type
                && c.measure == measure
        })
    }
}

/// Cells hidden by the gate, per table, counted once per cell (all measures of a cell
/// share one decision) and per role.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct PrivacyCost {
    /// Service × role cells.
    pub services: HiddenCount,
    /// Region × service type (and all types) × role cells.
    pub regions: HiddenCount,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RoleCount {
    pub role: RespondentRole,
    pub count: Cell<u64>,
}

/// A count of people as published: exact from `k` up (and zero), "fewer than k" below.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Count {
    Exact(u64),
    FewerThan(u32),
}

impl Count {
    /// `n` as it may be published under threshold `k`.
    pub fn of(n: u64, k: MinCell) -> Self {
        if n == 0 || n >= u64::from(k.get()) {
            Self::Exact(n)
        } else {
            Self::FewerThan(k.get())
        }
    }

    /// The exact count, when it may be shown.
    pub fn exact(self) -> Option<u64> {
        match self {
            Self::Exact(n) => Some(n),
            Self::FewerThan(_) => None,
        }
    }
}

/// Who was invited and who answered, for one service and role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Participation {
    pub role: RespondentRole,
    pub invited: Count,
    /// Submitted responses.
    pub answered: Count,
    /// answered / invited, only when at least `k` answered.
    pub response_rate: Option<f64>,
}

impl Participation {
    /// Publishes raw counts under threshold `k`.
    pub fn of(role: RespondentRole, invited: u64, answered: u64, k: MinCell) -> Self {
        let response_rate = (answered >= u64::from(k.get()))
            .then(|| super::stats::response_rate(answered, invited))
            .flatten();
        Self {
            role,
            invited: Count::of(invited, k),
            answered: Count::of(answered, k),
            response_rate,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ServiceResult {
    pub service_id: ServiceId,
    pub code: String,
    pub name: String,
    pub service_type: ServiceType,
    pub municipality_id: RegionId,
    pub county_id: RegionId,
    pub health_region_id: RegionId,
    pub participation: Vec<Participation>,
    pub roles: Vec<RoleResult>,
    pub gaps: Vec<GapResult>,
    pub benchmarks: Vec<Benchmark>,
    pub trends: Vec<TrendResult>,
}

impl ServiceResult {
    /// The results of one role.
    pub fn role(&self, role: &RespondentRole) -> Option<&RoleResult> {
        self.roles.iter().find(|r| r.role == *role)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RoleResult {
    pub role: RespondentRole,
    pub phases: Vec<PhaseCell>,
    pub index: Cell<IndexStats>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PhaseCell {
    pub phase: String,
    pub stats: Cell<PhaseStats>,
}

/// In JSON the estimate's fields stand beside the others (`{"mean":…,"level":…}`); in the
/// binary copy for other instances it is a tuple (see [`packed_in_binary`]).
#[derive(Debug, Clone, Copy, PartialEq, schemars::JsonSchema)]
pub struct PhaseStats {
    #[schemars(flatten)]
    pub estimate: Estimate,
    /// Maturity level of the mean.
    pub level: Option<u32>,
    /// Share of this group's answers to the phase's items that were "did not take place".
    pub not_applicable_share: f64,
    /// Share that were "don't know".
    pub dont_know_share: f64,
    /// rwg(J) agreement within the group (none below two respondents).
    pub rwg: Option<f64>,
    /// Evidence of action, for a role asked the phase's evidence question.
    pub evidence: Option<EvidenceStats>,
}

/// High ratings of a phase checked against the occasions named (docs/analytics.md,
/// "Evidence of action"). Counts over the cell's respondents, published with the cell,
/// and only where they cannot tell what one person answered (`withheld` otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EvidenceStats {
    /// Respondents whose phase score is a high rating; none when withheld.
    pub high: Option<u64>,
    /// Of them, those who named a concrete occasion in the last 12 months; none when
    /// withheld.
    pub backed: Option<u64>,
    /// The group's mean is a high rating and fewer than the survey's `min_backed_share`
    /// of its high ratings are backed: "stated, not shown". False when withheld.
    pub stated_not_shown: bool,
    /// Why the counts are not shown, when they are not.
    pub withheld: Option<EvidenceWithheld>,
}

/// Why a cell's evidence counts are not shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceWithheld {
    /// Fewer than k respondents rated the phase high: the share would be about too few.
    FewHighRatings,
    /// Everyone in the cell rated the phase high and all or none of them named an
    /// occasion: the counts would tell each respondent's answer.
    Uniform,
}

impl EvidenceStats {
    /// `backed / high`, none when nobody rated the phase high or the counts are withheld.
    pub fn share(&self) -> Option<f64> {
        let (high, backed) = self.high.zip(self.backed)?;
        #[expect(clippy::cast_precision_loss, reason = "counts of people")]
        (high > 0).then(|| backed as f64 / high as f64)
    }
}

/// Serialised like [`PhaseStats`].
#[derive(Debug, Clone, Copy, PartialEq, schemars::JsonSchema)]
pub struct IndexStats {
    #[schemars(flatten)]
    pub estimate: Estimate,
    /// Weakest link: the lowest maturity level among the phase means.
    pub weakest_level: Option<u32>,
}

/// Serde for a statistics struct whose estimate is flattened in JSON: through `$json`
/// (the same fields with `#[serde(flatten)]`) for human-readable formats, and as a tuple
/// of its fields in binary ones. A flattened struct makes every reader buffer its fields
/// first, which with the cells' tags took most of the time of reading a national wave's
/// stored copy (`samskap bench analyse`: see docs/performance.md).
macro_rules! packed_in_binary {
    ($ty:ident, $json:ident { $($field:ident: $ft:ty),* }) => {
        #[derive(Serialize, Deserialize)]
        struct $json {
            #[serde(flatten)]
            estimate: Estimate,
            $($field: $ft),*
        }

        impl Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let Self { estimate, $($field),* } = *self;
                if s.is_human_readable() {
                    $json { estimate, $($field),* }.serialize(s)
                } else {
                    (estimate, $($field),*).serialize(s)
                }
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                if d.is_human_readable() {
                    let $json { estimate, $($field),* } = $json::deserialize(d)?;
                    Ok(Self { estimate, $($field),* })
                } else {
                    let (estimate, $($field),*) = <(Estimate, $($ft),*)>::deserialize(d)?;
                    Ok(Self { estimate, $($field),* })
                }
            }
        }
    };
}

packed_in_binary!(PhaseStats, PhaseStatsJson {
    level: Option<u32>,
    not_applicable_share: f64,
    dont_know_share: f64,
    rwg: Option<f64>,
    evidence: Option<EvidenceStats>
});
packed_in_binary!(IndexStats, IndexStatsJson { weakest_level: Option<u32> });

/// The perception gap between two roles in one phase: one per pair of scored roles,
/// `first` before `second` in the order of their codes.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GapResult {
    pub phase: String,
    pub first: RespondentRole,
    pub second: RespondentRole,
    /// Shown only when both roles' cells are.
    pub gap: Cell<Gap>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Gap {
    /// The first role's mean.
    pub first_mean: f64,
    /// The second role's mean.
    pub second_mean: f64,
    /// First − second; either sign.
    pub gap: f64,
    /// |gap| ≥ [`GAP_FLAG`].
    pub flagged: bool,
}

/// A level of the region hierarchy.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    National,
    HealthRegion,
    County,
    Municipality,
}

impl Level {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::National => "national",
            Self::HealthRegion => "health_region",
            Self::County => "county",
            Self::Municipality => "municipality",
        }
    }

    /// The level of a region of this kind.
    pub const fn of(kind: RegionKind) -> Self {
        match kind {
            RegionKind::HealthRegion => Self::HealthRegion,
            RegionKind::County => Self::County,
            RegionKind::Municipality => Self::Municipality,
        }
    }
}

/// The peer groups a service is compared within.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PeerGroup {
    ServiceType,
    HealthRegion,
    County,
    National,
}

impl PeerGroup {
    pub const ALL: [Self; 4] = [
        Self::ServiceType,
        Self::HealthRegion,
        Self::County,
        Self::National,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ServiceType => "service_type",
            Self::HealthRegion => "health_region",
            Self::County => "county",
            Self::National => "national",
        }
    }
}

/// Where a service's index stands in one peer group, for one role.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Benchmark {
    pub role: RespondentRole,
    pub group: PeerGroup,
    /// The service type, or the region id of the group (`NO` for the nation).
    pub group_key: String,
    /// Services in the group whose cell for this role is shown: the units ranked.
    pub group_size: usize,
    /// The group's index over all its respondents of this role: the region table's cell
    /// (national × type, or the region × all types), with that table's decision.
    pub group_stats: Cell<Estimate>,
    /// Shown with the service's own index cell.
    pub position: Cell<Position>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Position {
    pub score: f64,
    /// None when fewer than [`MIN_PEER_GROUP`] services of the group are shown.
    pub percentile_rank: Option<f64>,
    /// Funnel-plot limits at this service's number of respondents and where the service
    /// falls, when the group's own cell is shown and the group has at least
    /// [`MIN_PEER_GROUP`] services shown (as the percentile rank): a verdict such as
    /// "above the 99.8 % limit" against a handful of services says little and invites
    /// reading too much into it.
    pub funnel: Option<Funnel>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Funnel {
    pub limits: FunnelLimits,
    pub band: FunnelBand,
}

/// Where a unit falls against a funnel plot's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub enum FunnelBand {
    #[serde(rename = "below99.8")]
    Below998,
    #[serde(rename = "below95")]
    Below95,
    #[serde(rename = "within")]
    Within,
    #[serde(rename = "above95")]
    Above95,
    #[serde(rename = "above99.8")]
    Above998,
}

impl FunnelBand {
    pub const ALL: [Self; 5] = [
        Self::Above998,
        Self::Above95,
        Self::Within,
        Self::Below95,
        Self::Below998,
    ];

    /// The band of `score` against `limits`.
    pub fn of(score: f64, l: &FunnelLimits) -> Self {
        if score < l.lower998 {
            Self::Below998
        } else if score < l.lower95 {
            Self::Below95
        } else if score > l.upper998 {
            Self::Above998
        } else if score > l.upper95 {
            Self::Above95
        } else {
            Self::Within
        }
    }

    /// A key for labels: `below99_8`, `below95`, `within`, `above95`, `above99_8`.
    pub const fn key(self) -> &'static str {
        match self {
            Self::Below998 => "below99_8",
            Self::Below95 => "below95",
            Self::Within => "within",
            Self::Above95 => "above95",
            Self::Above998 => "above99_8",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TrendResult {
    pub role: RespondentRole,
    /// A phase code, or `index`.
    pub measure: String,
    /// Shown only where this wave's and the previous wave's cells are both shown; its
    /// `current` is this wave's cell, its `previous` the previous wave's.
    pub change: Cell<Change>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PhasePsychometrics {
    pub phase: String,
    /// ICC(1) and ICC(2), service as group, all respondents.
    pub icc: Cell<Icc>,
    /// Cronbach's α on complete cases.
    pub alpha: Cell<f64>,
    pub items: Vec<ItemCell>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ItemCell {
    pub item: String,
    pub stats: Cell<ItemStats>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ItemStats {
    pub mean: Option<f64>,
    pub sd: Option<f64>,
    /// How many chose each scale value (index = value).
    pub distribution: Vec<u64>,
    pub dont_know: u64,
    pub not_applicable: u64,
}

/// One region × role × service type (or all types) × phase aggregate.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RegionCell {
    pub level: Level,
    /// None for the national level.
    pub region_id: Option<RegionId>,
    pub role: RespondentRole,
    /// None: all service types.
    pub service_type: Option<ServiceType>,
    /// A phase code, or `index`.
    pub measure: String,
    pub stats: Cell<Estimate>,
}

/// Moments of each phase score and the index for one group of respondents.
#[derive(Debug, Clone, Default)]
struct GroupMoments {
    phases: Vec<Moments>,
    index: Moments,
    /// Submitted responses, scored or not.
    respondents: u64,
}

/// Moments of every answered (service, role): everything above service level rolls up
/// from these.
fn service_role_moments(data: &WaveData) -> HashMap<(u32, u32), GroupMoments> {
    let sums = &data.sums;
    sums.cells()
        .map(|(s, r, cell)| {
            let g = GroupMoments {
                phases: (0..data.phases.len())
                    .map(|p| sums.phase_moments(&cell, p))
                    .collect(),
                index: sums.index_moments(&cell),
                respondents: cell.respondents,
            };
            let key = (
                u32::try_from(s).unwrap_or(u32::MAX),
                u32::try_from(r).unwrap_or(u32::MAX),
            );
            (key, g)
        })
        .collect()
}

/// Per (service, role) and phase: the moments of each item over valid answers, and
/// the DK / NA / answered counts, for rwg(J) and the missing shares.
struct ItemTallies {
    items: Vec<Moments>,
    dont_know: u64,
    not_applicable: u64,
    total: u64,
}

/// The item tallies of a cell's phase, `None` when nobody in it answered.
fn tallies(data: &WaveData, s: u32, r: u32, p: usize) -> Option<ItemTallies> {
    let cell = data
        .sums
        .cell(usize::try_from(s).ok()?, usize::try_from(r).ok()?)?;
    let range = data.phases.get(p)?.1.clone();
    let (dont_know, not_applicable) = cell.missing(p);
    Some(ItemTallies {
        // Every respondent has a slot for every item of the phase.
        total: cell.respondents * range.len() as u64,
        items: cell.items(range),
        dont_know,
        not_applicable,
    })
}

#[expect(clippy::cast_precision_loss, reason = "counts of answers")]
fn share(part: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        part as f64 / total as f64
    }
}

/// Invitations per service and role (withdrawn ones left out).
pub type Invited = HashMap<(ServiceId, RespondentRole), i64>;

/// Every cell a wave publishes per role, as one table for the gate: the services first
/// (index = the service's position in the wave), then every region × (all types, each
/// type) cell, with every linear relation between them:
/// - each (municipality, type) cell is the sum of that municipality's services of the type;
/// - each (region, all types) cell is the sum of its (region, type) cells;
/// - each parent region's cell is the sum of its children's, per type and in total.
///
/// Benchmark groups are cells of this table too (national × type, a health region or
/// county × all types, the nation), and trends and gaps are made of its cells, so one
/// decision per cell covers everything the wave publishes.
struct Table {
    services: usize,
    units: Vec<(Level, Option<RegionId>)>,
    unit_index: HashMap<(Level, Option<RegionId>), usize>,
    types: Vec<ServiceType>,
    /// Column 0 of a unit is all types; column 1 + t is type t.
    columns: usize,
    /// Per service: the units it counts in, municipality first, and its type's column.
    chains: Vec<(Vec<usize>, usize)>,
    relations: Vec<Relation>,
}

impl Table {
    fn new(wave_services: &[crate::infra::models::WaveService]) -> Self {
        type Unit = (Level, Option<RegionId>);
        let mut parent_of: BTreeMap<Unit, Unit> = BTreeMap::new();
        for s in wave_services {
            let m: Unit = (Level::Municipality, Some(s.municipality_id.clone()));
            let c: Unit = (Level::County, Some(s.county_id.clone()));
            let h: Unit = (Level::HealthRegion, Some(s.health_region_id.clone()));
            parent_of.insert(m, c.clone());
            parent_of.insert(c, h.clone());
            parent_of.insert(h, (Level::National, None));
        }
        let mut units: Vec<Unit> = parent_of
            .keys()
            .cloned()
            .chain(std::iter::once((Level::National, None)))
            .collect();
        units.sort_by(|a, b| (a.0.as_str(), &a.1).cmp(&(b.0.as_str(), &b.1)));
        let unit_index: HashMap<Unit, usize> = units
            .iter()
            .enumerate()
            .map(|(i, u)| (u.clone(), i))
            .collect();
        let parent: Vec<Option<usize>> = units
            .iter()
            .map(|u| parent_of.get(u).and_then(|p| unit_index.get(p).copied()))
            .collect();
        let mut types: Vec<ServiceType> = wave_services.iter().map(|s| s.service_type).collect();
        types.sort_by_key(|t| t.as_str());
        types.dedup();
        let columns = types.len() + 1;
        let chains: Vec<(Vec<usize>, usize)> = wave_services
            .iter()
            .map(|s| {
                let mut chain = Vec::with_capacity(4);
                let mut at = unit_index
                    .get(&(Level::Municipality, Some(s.municipality_id.clone())))
                    .copied();
                while let Some(u) = at {
                    chain.push(u);
                    at = parent[u];
                }
                let t = types.iter().position(|t| *t == s.service_type).unwrap_or(0);
                (chain, 1 + t)
            })
            .collect();
        let services = wave_services.len();
        let cell = |u: usize, c: usize| services + u * columns + c;
        let mut relations = Vec::new();
        let mut groups: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
        for (si, (chain, t)) in chains.iter().enumerate() {
            if let Some(&m) = chain.first() {
                groups.entry((m, *t)).or_default().push(si);
            }
        }
        for ((m, t), parts) in groups {
            relations.push(Relation {
                total: cell(m, t),
                parts,
            });
        }
        for u in 0..units.len() {
            relations.push(Relation {
                total: cell(u, 0),
                parts: (1..columns).map(|t| cell(u, t)).collect(),
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
                    total: cell(p, t),
                    parts: kids.iter().map(|c| cell(*c, t)).collect(),
                });
            }
        }
        Self {
            services,
            units,
            unit_index,
            types,
            columns,
            chains,
            relations,
        }
    }

    fn region_cells(&self) -> usize {
        self.units.len() * self.columns
    }

    /// The region cell of `unit` in `column`, as an index among the region cells.
    fn region(&self, level: Level, id: Option<&RegionId>, column: usize) -> Option<usize> {
        self.unit_index
            .get(&(level, id.cloned()))
            .map(|u| u * self.columns + column)
    }
}

/// The gate's decisions for every cell of a wave's [`Table`], per role, and the region
/// cells' rolled-up moments (every respondent below a region counts in it, whether or
/// not their own service's cell is shown).
struct Joint {
    /// Role → region cell → measure (phases, then the index).
    region_moments: Vec<Vec<Vec<Moments>>>,
    /// Role → table cell (services, then region cells).
    decisions: Vec<Vec<Decision>>,
}

fn measure_of(g: &GroupMoments, m: usize) -> Moments {
    g.phases.get(m).copied().unwrap_or(g.index)
}

fn joint(
    moments: &HashMap<(u32, u32), GroupMoments>,
    table: &Table,
    roles: usize,
    measures: usize,
    k: MinCell,
) -> Joint {
    let mut out = Joint {
        region_moments: Vec::new(),
        decisions: Vec::new(),
    };
    for ri in 0..roles {
        let r = u32::try_from(ri).unwrap_or(u32::MAX);
        let mut cells = vec![vec![Moments::default(); measures]; table.region_cells()];
        let mut ns = vec![0u64; (table.services + table.region_cells()) * measures];
        for (si, (chain, t)) in table.chains.iter().enumerate() {
            let Some(g) = moments.get(&(u32::try_from(si).unwrap_or(u32::MAX), r)) else {
                continue;
            };
            for m in 0..measures {
                let x = measure_of(g, m);
                ns[si * measures + m] = x.n;
                for u in chain {
                    cells[u * table.columns][m].merge(&x);
                    cells[u * table.columns + t][m].merge(&x);
                }
            }
        }
        for (i, cell) in cells.iter().enumerate() {
            for (m, x) in cell.iter().enumerate() {
                ns[(table.services + i) * measures + m] = x.n;
            }
        }
        out.decisions
            .push(suppress::decide(&ns, measures, &table.relations, k));
        out.region_moments.push(cells);
    }
    out
}

/// Computes the publication of `data`, with trends against `previous` when given and
/// participation from `invited`.
///
/// Disclosure control runs once per role over the union of every table the wave
/// publishes ([`Table`]): the attacker this guards against sees every service and every
/// region cell at once, knows which are empty, and solves linear systems over counts and
/// sums (`docs/analytics.md`). Everything else is made of those cells: a gap or a trend
/// is shown only where both its cells are, a benchmark's group statistics are a region
/// cell with that cell's decision, a funnel plot draws shown cells only.
#[expect(
    clippy::too_many_lines,
    reason = "one pass over the result sections, in order"
)]
pub fn compute(
    data: &WaveData,
    previous: Option<&WaveData>,
    invited: &Invited,
    data_version: i64,
    k: MinCell,
) -> anyhow::Result<Publication> {
    let moments = service_role_moments(data);
    let phase_codes: Vec<String> = data.phases.iter().map(|(c, _)| c.clone()).collect();
    let measures = phase_codes.len() + 1;
    let table = Table::new(&data.services);
    // The joint gate and the psychometrics on a second core, while this one gates the
    // previous wave.
    let ((joint, psychometrics), previous) = std::thread::scope(|scope| {
        let current = scope.spawn(|| {
            (
                joint(&moments, &table, data.roles.len(), measures, k),
                psychometrics(data, &moments, k),
            )
        });
        let previous = previous
            .map(|p| -> anyhow::Result<_> {
                let m = service_role_moments(p);
                let t = Table::new(&p.services);
                let j = joint(&m, &t, p.roles.len(), p.phases.len() + 1, k);
                Ok((p, m, j))
            })
            .transpose();
        let current = current
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (current, previous)
    });
    let previous = previous?;
    let empty = GroupMoments {
        phases: vec![Moments::default(); phase_codes.len()],
        index: Moments::default(),
        respondents: 0,
    };

    // Region cells, role by role and measure by measure.
    let mut regions = Vec::with_capacity(data.roles.len() * measures * table.region_cells());
    // Role → region cell → the index cell, for the benchmarks' group statistics.
    let mut region_index: Vec<Vec<Cell<Estimate>>> = Vec::new();
    for (ri, role) in data.roles.iter().enumerate() {
        let mut index_cells = Vec::with_capacity(table.region_cells());
        for (m, measure) in phase_codes
            .iter()
            .chain(std::iter::once(&"index".to_owned()))
            .enumerate()
        {
            for (i, cell) in joint.region_moments[ri].iter().enumerate() {
                let x = &cell[m];
                let stats = joint.decisions[ri][table.services + i]
                    .publish(x.n, stats::estimate(x).unwrap_or_else(placeholder_estimate));
                if m + 1 == measures {
                    index_cells.push(stats.clone());
                }
                let (level, region) = &table.units[i / table.columns];
                let t = i % table.columns;
                regions.push(RegionCell {
                    level: *level,
                    region_id: region.clone(),
                    role: role.clone(),
                    service_type: (t > 0).then(|| table.types[t - 1]),
                    measure: measure.clone(),
                    stats,
                });
            }
        }
        region_index.push(index_cells);
    }

    // The psychometrics add every role of the wave together, while each role's national
    // cell is published on its own: where a role's national cell of a phase is hidden
    // (a role with a handful of respondents in the whole wave), the phase's
    // psychometrics would give it away by subtraction, so they are hidden with it.
    let psychometrics: Vec<PhasePsychometrics> = psychometrics
        .into_iter()
        .map(|ph| {
            let parts: Vec<&Cell<Estimate>> = regions
                .iter()
                .filter(|c| {
                    c.level == Level::National && c.service_type.is_none() && c.measure == ph.phase
                })
                .map(|c| &c.stats)
                .collect();
            PhasePsychometrics {
                icc: suppress::with_parts(ph.icc, &parts),
                alpha: suppress::with_parts(ph.alpha, &parts),
                items: ph
                    .items
                    .into_iter()
                    .map(|i| ItemCell {
                        stats: suppress::with_parts(i.stats, &parts),
                        item: i.item,
                    })
                    .collect(),
                phase: ph.phase,
            }
        })
        .collect();
    let previous_position: HashMap<&ServiceId, usize> = previous
        .as_ref()
        .map(|(p, _, _)| {
            p.services
                .iter()
                .enumerate()
                .map(|(i, x)| (&x.service_id, i))
                .collect()
        })
        .unwrap_or_default();
    let mut services = Vec::with_capacity(data.services.len());
    for (si, svc) in data.services.iter().enumerate() {
        let s = u32::try_from(si).unwrap_or(u32::MAX);
        let mut roles = Vec::new();
        for (ri, role) in data.roles.iter().enumerate() {
            let r = u32::try_from(ri).unwrap_or(u32::MAX);
            let decision = joint.decisions[ri][si];
            let g = moments.get(&(s, r)).unwrap_or(&empty);
            let mut phases = Vec::new();
            let mut levels = Vec::new();
            for (p, code) in phase_codes.iter().enumerate() {
                let m = &g.phases[p];
                let stats = stats::estimate(m).map(|estimate| {
                    let t = tallies(data, s, r, p);
                    let rwg = t.as_ref().filter(|_| m.n >= 2).and_then(|t| {
                        let vars: Option<Vec<f64>> =
                            t.items.iter().map(Moments::variance).collect();
                        #[expect(clippy::cast_precision_loss, reason = "a handful of items")]
                        let mean_var = vars.map(|v| v.iter().sum::<f64>() / v.len() as f64);
                        mean_var.map(|v| stats::rwg_j(t.items.len(), v, RWG_NULL_VARIANCE))
                    });
                    let level = data.rules.level(estimate.mean);
                    levels.push(level);
                    let evidence = data
                        .rules
                        .asks_evidence(p, role.as_str())
                        .then(|| evidence_of(data, (s, r), p, (m.n, estimate.mean), k));
                    PhaseStats {
                        evidence,
                        estimate,
                        level,
                        not_applicable_share: t
                            .as_ref()
                            .map_or(0.0, |t| share(t.not_applicable, t.total)),
                        dont_know_share: t.as_ref().map_or(0.0, |t| share(t.dont_know, t.total)),
                        rwg,
                    }
                });
                phases.push(PhaseCell {
                    phase: code.clone(),
                    stats: decision.publish(m.n, stats.unwrap_or_else(placeholder_phase)),
                });
            }
            let weakest = levels
                .iter()
                .copied()
                .collect::<Option<Vec<u32>>>()
                .and_then(|l| l.into_iter().min());
            let index =
                stats::estimate(&g.index).map_or_else(placeholder_index, |estimate| IndexStats {
                    estimate,
                    weakest_level: weakest,
                });
            roles.push(RoleResult {
                role: role.clone(),
                phases,
                index: decision.publish(g.index.n, index),
            });
        }
        let gaps = gaps(&phase_codes, &roles);
        let mut trends = Vec::new();
        if let Some((prev, prev_moments, prev_joint)) = &previous {
            let before_at = previous_position.get(&svc.service_id).copied();
            for (ri, role) in data.roles.iter().enumerate() {
                let r = u32::try_from(ri).unwrap_or(u32::MAX);
                let now = moments.get(&(s, r)).unwrap_or(&empty);
                // The same role in the previous wave, by its code: the two waves'
                // instruments may declare different roles.
                let before = before_at
                    .zip(prev.roles.iter().position(|x| x == role))
                    .and_then(|(pi, pr)| {
                        let key = (
                            u32::try_from(pi).unwrap_or(u32::MAX),
                            u32::try_from(pr).unwrap_or(u32::MAX),
                        );
                        let g = prev_moments.get(&key)?;
                        Some((g, prev_joint.decisions[pr][pi]))
                    });
                for m in 0..measures {
                    let (measure, current) = match phase_codes.get(m) {
                        Some(code) => (code.clone(), now.phases[m]),
                        None => ("index".to_owned(), now.index),
                    };
                    let current_cell = if m < phase_codes.len() {
                        roles[ri].phases[m].stats.clone().map(|_| ())
                    } else {
                        roles[ri].index.clone().map(|_| ())
                    };
                    // The previous wave's cell of the same measure, as that wave published it.
                    let then = before.and_then(|(g, decision)| {
                        let x = if measure == "index" {
                            g.index
                        } else {
                            let p = prev.phases.iter().position(|(c, _)| *c == measure)?;
                            g.phases[p]
                        };
                        Some((x, decision.publish(x.n, ())))
                    });
                    let change = match then {
                        Some((x, previous_cell)) => {
                            combine(&current_cell, &previous_cell, |(), ()| {
                                stats::change(&x, &current).unwrap_or_else(placeholder_change)
                            })
                        }
                        None => suppress::gate_one(0, placeholder_change(), k),
                    };
                    trends.push(TrendResult {
                        role: role.clone(),
                        measure,
                        change,
                    });
                }
            }
        }
        let participation = data
            .roles
            .iter()
            .enumerate()
            .map(|(ri, role)| {
                let r = u32::try_from(ri).unwrap_or(u32::MAX);
                let invited = invited
                    .get(&(svc.service_id.clone(), role.clone()))
                    .copied()
                    .unwrap_or(0);
                let answered = moments.get(&(s, r)).map_or(0, |g| g.respondents);
                Participation::of(
                    role.clone(),
                    u64::try_from(invited).unwrap_or(0),
                    answered,
                    k,
                )
            })
            .collect();
        services.push(ServiceResult {
            service_id: svc.service_id.clone(),
            code: svc.service_code.clone(),
            name: svc.service_name.clone(),
            service_type: svc.service_type,
            municipality_id: svc.municipality_id.clone(),
            county_id: svc.county_id.clone(),
            health_region_id: svc.health_region_id.clone(),
            participation,
            roles,
            gaps,
            benchmarks: Vec::new(),
            trends,
        });
    }

    add_benchmarks(data, &table, &region_index, &mut services, k);

    let mut per_role = vec![0u64; data.roles.len()];
    for ((_, r), g) in &moments {
        if let Some(slot) = per_role.get_mut(usize::try_from(*r).unwrap_or(usize::MAX)) {
            *slot += g.respondents;
        }
    }
    let respondents = data
        .roles
        .iter()
        .zip(per_role)
        .map(|(role, n)| RoleCount {
            role: role.clone(),
            count: suppress::gate_one(n, n, k),
        })
        .collect();
    let mut privacy = PrivacyCost::default();
    for decisions in &joint.decisions {
        privacy
            .services
            .add(HiddenCount::of(&decisions[..table.services]));
        privacy
            .regions
            .add(HiddenCount::of(&decisions[table.services..]));
    }

    Ok(Publication {
        wave_id: data.wave.id.clone(),
        wave_name: data.wave.name.clone(),
        instrument: format!("{}@{}", data.survey.id, data.survey.version),
        min_cell: k.get(),
        data_version,
        computed_at: crate::infra::db::now(),
        previous_wave: previous.as_ref().map(|(p, _, _)| p.wave.id.clone()),
        phases: phase_codes,
        respondents,
        services,
        psychometrics,
        regions,
        privacy,
    })
}

/// The perception gaps of one service: per phase, between every pair of its roles
/// (first before second in role order), each shown only where both roles' cells are.
fn gaps(phase_codes: &[String], roles: &[RoleResult]) -> Vec<GapResult> {
    let mut out = Vec::new();
    for (p, code) in phase_codes.iter().enumerate() {
        for (i, first) in roles.iter().enumerate() {
            for second in &roles[i + 1..] {
                out.push(GapResult {
                    phase: code.clone(),
                    first: first.role.clone(),
                    second: second.role.clone(),
                    gap: combine(&first.phases[p].stats, &second.phases[p].stats, |a, b| {
                        let gap = a.estimate.mean - b.estimate.mean;
                        Gap {
                            first_mean: a.estimate.mean,
                            second_mean: b.estimate.mean,
                            gap,
                            flagged: gap.abs() >= GAP_FLAG,
                        }
                    }),
                });
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

/// The evidence of phase `p` in cell `(s, r)`, whose phase score `n` respondents have
/// and whose mean is `mean`, under threshold `k`. The counts are 0/1 sums like the mean,
/// and more: where everyone rated the phase high and all or none named an occasion,
/// they would tell each person's answer, and the share of fewer than k high ratings is
/// about too few people; both are withheld (docs/analytics.md, "Evidence of action").
fn evidence_of(
    data: &WaveData,
    (s, r): (u32, u32),
    p: usize,
    (n, mean): (u64, f64),
    k: MinCell,
) -> EvidenceStats {
    let (high, backed) = usize::try_from(s)
        .ok()
        .zip(usize::try_from(r).ok())
        .and_then(|(s, r)| data.sums.cell(s, r))
        .map_or((0, 0), |c| c.evidence(p));
    let withheld = if high < u64::from(k.get()) {
        Some(EvidenceWithheld::FewHighRatings)
    } else if high == n && (backed == 0 || backed == high) {
        Some(EvidenceWithheld::Uniform)
    } else {
        None
    };
    if let Some(why) = withheld {
        return EvidenceStats {
            high: None,
            backed: None,
            stated_not_shown: false,
            withheld: Some(why),
        };
    }
    let stats = EvidenceStats {
        high: Some(high),
        backed: Some(backed),
        stated_not_shown: false,
        withheld: None,
    };
    let rated_high = data.rules.high_from().is_some_and(|from| mean >= from);
    EvidenceStats {
        stated_not_shown: rated_high
            && stats
                .share()
                .is_none_or(|x| x < data.rules.min_backed_share()),
        ..stats
    }
}

fn placeholder_phase() -> PhaseStats {
    PhaseStats {
        evidence: None,
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

/// Percentile ranks and funnel positions of each service's index per role, in each of
/// its four peer groups. Units are the service × role cells shown; the group's mean and
/// SD are its region cell (`region_index`: role → region cell), shown only where the
/// gate shows that cell.
fn add_benchmarks(
    data: &WaveData,
    table: &Table,
    region_index: &[Vec<Cell<Estimate>>],
    services: &mut [ServiceResult],
    k: MinCell,
) {
    let national = "NO".to_owned();
    for (ri, role) in data.roles.iter().enumerate() {
        for group in PeerGroup::ALL {
            let mut members: BTreeMap<(String, Option<usize>), Vec<usize>> = BTreeMap::new();
            for (si, s) in data.services.iter().enumerate() {
                let (key, cell) = match group {
                    PeerGroup::ServiceType => (
                        s.service_type.as_str().to_owned(),
                        table.region(Level::National, None, table.chains[si].1),
                    ),
                    PeerGroup::HealthRegion => (
                        s.health_region_id.to_string(),
                        table.region(Level::HealthRegion, Some(&s.health_region_id), 0),
                    ),
                    PeerGroup::County => (
                        s.county_id.to_string(),
                        table.region(Level::County, Some(&s.county_id), 0),
                    ),
                    PeerGroup::National => {
                        (national.clone(), table.region(Level::National, None, 0))
                    }
                };
                members.entry((key, cell)).or_default().push(si);
            }
            for ((key, cell), list) in members {
                let group_stats = cell
                    .and_then(|c| region_index[ri].get(c))
                    .cloned()
                    .unwrap_or_else(|| suppress::gate_one(0, placeholder_estimate(), k));
                let scores: Vec<f64> = list
                    .iter()
                    .filter_map(|si| {
                        services[*si].roles[ri]
                            .index
                            .shown()
                            .map(|v| v.estimate.mean)
                    })
                    .collect();
                let size = scores.len();
                let ranks = stats::PercentileRanks::new(scores);
                for si in &list {
                    let own = services[*si].roles[ri].index.clone();
                    let n = own.n();
                    let position = own.map(|v| {
                        let score = v.estimate.mean;
                        let big_enough = size >= MIN_PEER_GROUP;
                        let funnel = group_stats.shown().filter(|_| big_enough).and_then(|g| {
                            let limits = stats::funnel_limits(g.mean, g.sd?, n.unwrap_or(1));
                            Some(Funnel {
                                limits,
                                band: FunnelBand::of(score, &limits),
                            })
                        });
                        Position {
                            score,
                            percentile_rank: big_enough.then(|| ranks.rank(score)),
                            funnel,
                        }
                    });
                    services[*si].benchmarks.push(Benchmark {
                        role: role.clone(),
                        group,
                        group_key: key.clone(),
                        group_size: size,
                        group_stats: group_stats.clone(),
                        position,
                    });
                }
            }
        }
    }
}

/// ICC(1), ICC(2) and α per phase, and item descriptives, over the whole wave.
fn psychometrics(
    data: &WaveData,
    moments: &HashMap<(u32, u32), GroupMoments>,
    k: MinCell,
) -> Vec<PhasePsychometrics> {
    let mut out = Vec::new();
    for (p, (code, range)) in data.phases.iter().enumerate() {
        // Service as group, every scored role together.
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
        let sums = data.sums.phase(p);
        let (items, totals) = (&sums.complete_items, &sums.complete_totals);
        let descriptives = sums.items.iter().cloned();
        let alpha = match stats::cronbach_alpha(items, totals) {
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::core::domain::{OrganisationId, SizeBand};
    use crate::infra::models::WaveService;

    /// A service for generated hierarchies: health region `h`, county `c`, municipality
    /// `m`, one of three types.
    fn service(i: usize, h: usize, c: usize, m: usize, t: usize) -> WaveService {
        WaveService {
            wave_id: WaveId::from_string("w"),
            service_id: ServiceId::from_string(format!("s{i}")),
            service_code: format!("S{i}"),
            service_name: format!("Service {i}"),
            service_type: [ServiceType::Dps, ServiceType::Tsb, ServiceType::Municipal][t % 3],
            size_band: SizeBand::Small,
            organisation_id: OrganisationId::from_string("o"),
            municipality_id: RegionId::from_string(format!("m{h}.{c}.{m}")),
            county_id: RegionId::from_string(format!("c{h}.{c}")),
            health_region_id: RegionId::from_string(format!("h{h}")),
        }
    }

    /// Roles in the generated waves: the shipped instrument's manager, peer worker and
    /// staff (three roles make small cells more common).
    const TEST_ROLES: usize = 3;

    /// (services, role → service → n per measure) for `measures` measures.
    type Wave = (Vec<WaveService>, Vec<Vec<Vec<u64>>>);

    fn moments_of(ns: &[Vec<Vec<u64>>]) -> HashMap<(u32, u32), GroupMoments> {
        let mut out = HashMap::new();
        for (r, by_service) in ns.iter().enumerate() {
            for (s, n) in by_service.iter().enumerate() {
                let m = |n: u64| Moments {
                    n,
                    #[expect(clippy::cast_precision_loss, reason = "test counts")]
                    sum: 2.0 * n as f64,
                    #[expect(clippy::cast_precision_loss, reason = "test counts")]
                    sum_sq: 4.0 * n as f64,
                };
                let (index, phases) = n.split_last().expect("at least one measure");
                out.insert(
                    (
                        u32::try_from(s).expect("small"),
                        u32::try_from(r).expect("small"),
                    ),
                    GroupMoments {
                        phases: phases.iter().map(|&n| m(n)).collect(),
                        index: m(*index),
                        respondents: n.iter().copied().max().unwrap_or(0),
                    },
                );
            }
        }
        out
    }

    /// Every cell of the table as the set of services it sums over (an attacker's own
    /// reading of what a cell means, not the gate's relations).
    fn service_sets(services: &[WaveService], table: &Table) -> Vec<Vec<usize>> {
        let mut sets: Vec<Vec<usize>> = (0..services.len()).map(|s| vec![s]).collect();
        for (level, region) in &table.units {
            for column in 0..table.columns {
                sets.push(
                    services
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| match (level, region) {
                            (Level::National, _) => true,
                            (Level::HealthRegion, Some(r)) => &s.health_region_id == r,
                            (Level::County, Some(r)) => &s.county_id == r,
                            (Level::Municipality, Some(r)) => &s.municipality_id == r,
                            _ => false,
                        })
                        .filter(|(_, s)| column == 0 || table.types[column - 1] == s.service_type)
                        .map(|(i, _)| i)
                        .collect(),
                );
            }
        }
        sets
    }

    /// The attacker: sees every shown cell's sum (and n) at once and knows which cells
    /// are empty, so each shown cell is an equation over the services' unknown sums and
    /// an empty service is a known zero. Returns the hidden cells with respondents whose
    /// sum a linear combination of those equations gives (exact rational elimination).
    fn determined(
        sets: &[Vec<usize>],
        shown: &[bool],
        empty: &[bool],
        services: usize,
    ) -> Vec<usize> {
        let mut rows: Vec<Vec<i128>> = Vec::new();
        let indicator = |set: &[usize]| {
            let mut v = vec![0i128; services];
            for &s in set {
                v[s] = 1;
            }
            v
        };
        for (i, set) in sets.iter().enumerate() {
            if shown[i] || empty[i] {
                rows.push(indicator(set));
            }
        }
        let basis = echelon(rows, services);
        (0..sets.len())
            .filter(|&i| !shown[i] && !empty[i] && !sets[i].is_empty())
            .filter(|&i| in_span(&basis, indicator(&sets[i])))
            .collect()
    }

    fn gcd(a: i128, b: i128) -> i128 {
        let (mut a, mut b) = (a.abs(), b.abs());
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    }

    /// Fraction-free row echelon form, rows normalised by their gcd.
    fn echelon(mut rows: Vec<Vec<i128>>, width: usize) -> Vec<(usize, Vec<i128>)> {
        let mut basis: Vec<(usize, Vec<i128>)> = Vec::new();
        for col in 0..width {
            let Some(p) = rows.iter().position(|r| r[col] != 0) else {
                continue;
            };
            let pivot = rows.swap_remove(p);
            for r in &mut rows {
                let f = r[col];
                if f != 0 {
                    for (v, q) in r.iter_mut().zip(&pivot) {
                        *v = *v * pivot[col] - q * f;
                    }
                    let g = r.iter().fold(0, |g, &v| gcd(g, v));
                    if g > 1 {
                        for v in r.iter_mut() {
                            *v /= g;
                        }
                    }
                }
            }
            basis.push((col, pivot));
        }
        basis
    }

    fn in_span(basis: &[(usize, Vec<i128>)], mut v: Vec<i128>) -> bool {
        for (col, row) in basis {
            let f = v[*col];
            if f != 0 {
                for (x, q) in v.iter_mut().zip(row) {
                    *x = *x * row[*col] - q * f;
                }
                let g = v.iter().fold(0, |g, &x| gcd(g, x));
                if g > 1 {
                    for x in &mut v {
                        *x /= g;
                    }
                }
            }
        }
        v.iter().all(|&x| x == 0)
    }

    fn attack(
        wave: &Wave,
        decisions_of: impl Fn(&Table, usize) -> Vec<Decision>,
    ) -> Vec<(usize, usize)> {
        let (services, _) = wave;
        let table = Table::new(services);
        let sets = service_sets(services, &table);
        let mut leaks = Vec::new();
        for role in 0..wave.1.len() {
            let decisions = decisions_of(&table, role);
            let shown: Vec<bool> = decisions.iter().map(|d| d.is_shown()).collect();
            let empty: Vec<bool> = decisions
                .iter()
                .map(|d| d.publish(0, ()).is_empty() && !d.is_shown())
                .collect();
            leaks.extend(
                determined(&sets, &shown, &empty, services.len())
                    .into_iter()
                    .map(|c| (role, c)),
            );
        }
        leaks
    }

    fn joint_decisions(wave: &Wave, table: &Table, role: usize, k: MinCell) -> Vec<Decision> {
        joint(&moments_of(&wave.1), table, wave.1.len(), 2, k).decisions[role].clone()
    }

    /// Random waves: 1–2 health regions of 1–3 counties of 1–3 municipalities, each with
    /// 0–4 services of three types; per role and service 0–7 respondents in each of two
    /// measures (mostly equal, sometimes one fewer in the second), so many cells are small.
    fn waves() -> impl Strategy<Value = Wave> {
        let municipality = prop::collection::vec(0usize..3, 0..=4);
        let county = prop::collection::vec(municipality, 1..=3);
        let region = prop::collection::vec(county, 1..=3);
        (prop::collection::vec(region, 1..=2), any::<u64>()).prop_map(|(regions, seed)| {
            let mut services = Vec::new();
            for (h, counties) in regions.iter().enumerate() {
                for (c, municipalities) in counties.iter().enumerate() {
                    for (m, types) in municipalities.iter().enumerate() {
                        for t in types {
                            services.push(service(services.len(), h, c, m, *t));
                        }
                    }
                }
            }
            let mut state = seed | 1;
            let mut next = move |bound: u64| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state % bound
            };
            let ns = (0..TEST_ROLES)
                .map(|_| {
                    services
                        .iter()
                        .map(|_| {
                            let n = next(8);
                            let second = if next(4) == 0 { n.saturating_sub(1) } else { n };
                            vec![n, second]
                        })
                        .collect()
                })
                .collect();
            (services, ns)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// The whole publication's cells, solved together by an attacker who sees them
        /// all: no hidden cell with respondents is determined.
        #[test]
        fn no_combination_of_published_cells_determines_a_hidden_one(
            wave in waves(),
            k in 3u32..=5,
        ) {
            let k = MinCell::new(k);
            let leaks = attack(&wave, |table, role| joint_decisions(&wave, table, role, k));
            prop_assert!(leaks.is_empty(), "determined hidden cells (role, cell): {:?}", leaks);
        }

        /// Every shown cell has at least k respondents in every measure it shows.
        #[test]
        fn shown_cells_rest_on_k(wave in waves(), k in 3u32..=5) {
            let k = MinCell::new(k);
            let table = Table::new(&wave.0);
            let j = joint(&moments_of(&wave.1), &table, wave.1.len(), 2, k);
            for (role, by_service) in wave.1.iter().enumerate() {
                for (s, ns) in by_service.iter().enumerate() {
                    if j.decisions[role][s].is_shown() {
                        prop_assert!(ns.iter().all(|&n| n == 0 || n >= u64::from(k.get())));
                    }
                }
                for (i, cell) in j.region_moments[role].iter().enumerate() {
                    if j.decisions[role][table.services + i].is_shown() {
                        prop_assert!(cell.iter().all(|m| m.n == 0 || m.n >= u64::from(k.get())));
                    }
                }
            }
        }
    }

    /// The design before the joint gate: the region table gated on its own and each
    /// municipality's services of one type gated with their (municipality, type) total on
    /// their own. The attacker above finds what that leaks, which is why the gate now runs
    /// over the union of the tables (issue 15: DPS Alver's neighbour, recovered as
    /// 6 × 67.01 − 5 × 65.67).
    #[test]
    fn separate_gates_per_table_leak_and_the_joint_gate_does_not() {
        // One municipality: a DPS with 5 managers, a TSB with 1; a second municipality
        // in the same county with a DPS of 6, so the county is not the lone total.
        let services = vec![
            service(0, 0, 0, 0, 0),
            service(1, 0, 0, 0, 1),
            service(2, 0, 0, 1, 0),
        ];
        let ns = vec![
            vec![vec![5, 5], vec![1, 1], vec![6, 6]],
            vec![vec![0, 0], vec![0, 0], vec![0, 0]],
        ];
        let wave: Wave = (services, ns);
        let k = MinCell::new(5);
        let separate = |table: &Table, role: usize| -> Vec<Decision> {
            let all = joint_decisions(&wave, table, role, k);
            let moments = moments_of(&wave.1);
            // Region table alone.
            let offset = table.services;
            let region_relations: Vec<Relation> = table
                .relations
                .iter()
                .filter(|r| r.parts.iter().all(|&p| p >= offset))
                .map(|r| Relation {
                    total: r.total - offset,
                    parts: r.parts.iter().map(|p| p - offset).collect(),
                })
                .collect();
            let j = joint(&moments, table, wave.1.len(), 2, k);
            let region_ns: Vec<u64> = j.region_moments[role]
                .iter()
                .flat_map(|m| m.iter().map(|x| x.n))
                .collect();
            let regions = suppress::decide(&region_ns, 2, &region_relations, k);
            // Each service group with its total, alone.
            let mut services = vec![all[0]; table.services];
            for r in table
                .relations
                .iter()
                .filter(|r| r.parts.iter().all(|&p| p < offset))
            {
                let ns: Vec<u64> = std::iter::once(&r.total)
                    .chain(&r.parts)
                    .flat_map(|&i| {
                        if i < offset {
                            wave.1[role][i].clone()
                        } else {
                            j.region_moments[role][i - offset]
                                .iter()
                                .map(|x| x.n)
                                .collect()
                        }
                    })
                    .collect();
                let relation = Relation {
                    total: 0,
                    parts: (1..=r.parts.len()).collect(),
                };
                let d = suppress::decide(&ns, 2, &[relation], k);
                for (part, decision) in r.parts.iter().zip(&d[1..]) {
                    services[*part] = *decision;
                }
            }
            services.into_iter().chain(regions).collect()
        };
        let leaks = attack(&wave, separate);
        assert!(
            leaks.contains(&(0, 1)),
            "the TSB's lone manager is recovered from separate tables: {leaks:?}"
        );
        assert!(attack(&wave, |table, role| joint_decisions(&wave, table, role, k)).is_empty());
    }
}
