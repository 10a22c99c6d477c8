//! A service's dashboard and benchmark report: where the service stands per phase in the
//! eyes of each group of respondents the survey file declares (managers, peer workers,
//! other staff), the perception gaps between any two, the index and
//! weakest link, the trend across waves, its place among peer services, the response
//! rate, and the recommended next step for its weakest phase. Every number comes from
//! the analytics results, which have passed the suppression gate; a hidden cell becomes
//! a notice here, never a number.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use diesel::prelude::*;
use serde::Serialize;

use super::charts::{self, Chart, DataTable, Series};
use super::{Cell, fmt, signed};
use crate::app::analytics::results::{
    Benchmark, Count, EvidenceWithheld, FunnelBand, MIN_PEER_GROUP, PeerGroup, ServiceResult,
};
use crate::app::analytics::stats::{FunnelLimits, funnel_limits_at};
use crate::app::analytics::{Publication, Publications};
use crate::core::domain::{RespondentRole, WaveId};
use crate::core::instrument::format::SurveyFile;
use crate::infra::db::DbConn;
use crate::infra::db::schema::wave_services;
use crate::infra::i18n::fill;
use crate::infra::models::{Service, Wave};

/// Everything a service's dashboard and report show.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceDashboard {
    pub service: ServiceInfo,
    /// Waves this service took part in (opened ones), newest first.
    pub waves: Vec<WaveChoice>,
    pub wave: Option<WaveInfo>,
    pub min_cell: u32,
    /// When the numbers were computed (UTC, `YYYY-MM-DD HH:MM`).
    pub computed_at: String,
    /// Who answered, for the methods note: "6 managers and fewer than 5 peer workers".
    pub respondents: String,
    pub participation: Vec<Participation>,
    pub phases: Vec<PhaseRow>,
    pub index: Vec<IndexRow>,
    pub profile_chart: Option<Chart>,
    pub gaps: Vec<GapRow>,
    /// Evidence of action per phase, for the roles asked for it.
    pub evidence: Vec<EvidenceRow>,
    /// What the evidence section's rule is, in the survey's words.
    pub evidence_intro: String,
    /// Per phase, the roles' means at the corners of a polygon and the gaps on its sides
    /// (with three roles, a triangle), when the service asked two roles or more.
    pub perspectives: Vec<Chart>,
    pub trend_chart: Option<Chart>,
    pub changes: Vec<ChangeRow>,
    pub benchmarks: Vec<BenchmarkRow>,
    pub funnel_charts: Vec<Chart>,
    pub next_step: Option<NextStepView>,
    /// Some number on the page was withheld by the gate.
    pub has_hidden: bool,
    /// The wave's first publication is still being computed.
    pub pending: bool,
    /// The newer wave not shown because it has too few answers yet.
    pub passed_over: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServiceInfo {
    pub code: String,
    pub name: String,
    pub type_label: String,
    pub municipality: String,
    pub county: String,
    pub health_region: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct WaveChoice {
    pub id: String,
    pub name: String,
    pub selected: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct WaveInfo {
    pub id: String,
    pub name: String,
    pub status: String,
    pub previous: Option<String>,
    /// Survey id and version, e.g. `peer-involvement@1.0.0`.
    pub instrument: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Participation {
    pub role: String,
    /// A count, or "fewer than k".
    pub invited: String,
    pub submitted: String,
    pub rate: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PhaseRow {
    pub code: String,
    pub title: String,
    /// One cell per role of the publication, in its order.
    pub cells: Vec<RoleCell>,
}

/// One role's cell in a row.
#[derive(Debug, Clone, Serialize)]
pub struct RoleCell {
    pub role: RespondentRole,
    /// The role's name in the page's language.
    pub label: String,
    pub cell: Cell,
    /// Rated high, with too few occasions named to back it (see [`EvidenceRow`]).
    pub stated_not_shown: bool,
    /// The role's colour on the charts ([`charts::role_colour`]).
    #[serde(skip)]
    pub colour: &'static str,
}

/// Evidence of action for one phase and role: of the high ratings, how many were backed
/// by a concrete occasion (docs/analytics.md).
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceRow {
    pub phase: String,
    pub role: String,
    pub shown: bool,
    /// Respondents who rated the phase high.
    pub high: String,
    /// Of them, those who named an occasion.
    pub backed: String,
    /// The share, or a dash when nobody rated the phase high.
    pub share: String,
    pub stated_not_shown: bool,
    /// Why there is no number, when the cell is hidden.
    pub notice: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct IndexRow {
    pub role: String,
    pub cell: Cell,
    pub weakest_level: String,
}

/// The perception gaps of one phase: one per pair of roles.
#[derive(Debug, Clone, Serialize)]
pub struct GapRow {
    pub phase: String,
    pub pairs: Vec<PairGap>,
    /// The pairs shown, for the page's list (the hidden ones are summed up in `hidden`).
    pub shown: Vec<PairGap>,
    /// One line for the pairs not shown, when there are any.
    pub hidden: Option<String>,
    /// Any pair's gap is flagged.
    pub flagged: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct PairGap {
    pub first: RespondentRole,
    pub second: RespondentRole,
    /// "Managers − peer workers".
    pub label: String,
    pub shown: bool,
    pub gap: String,
    /// The gap's size without its sign, for a picture whose sides have no direction.
    pub size: String,
    pub flagged: bool,
    /// A sentence: who rates the phase higher, and by how much; or why it is not shown.
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChangeRow {
    pub role: String,
    pub measure: String,
    pub shown: bool,
    pub previous: String,
    pub current: String,
    pub change: String,
    pub ci: String,
    pub notice: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct BenchmarkRow {
    pub role: String,
    pub group: String,
    pub group_size: usize,
    pub shown: bool,
    pub score: String,
    /// The group's own index over all its respondents of the role (the region table's
    /// cell, already published there), or why it is not shown.
    pub group_mean: String,
    /// In words: "higher than 16 % of the services in the group".
    pub percentile_rank: String,
    /// The funnel band, and what it means for this service.
    pub funnel: String,
    pub funnel_meaning: String,
    pub notice: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct NextStepView {
    pub phase: String,
    pub level: String,
    pub text: String,
    /// Whose answers point at this phase.
    pub basis: String,
}

/// The waves `service` took part in that have been opened, newest first.
pub fn waves_of(conn: &mut DbConn, service: &Service) -> QueryResult<Vec<Wave>> {
    use crate::infra::db::schema::waves;
    // One round trip (every service page asks): the service's waves, drafts left out.
    let mut found: Vec<Wave> = wave_services::table
        .inner_join(waves::table)
        .filter(wave_services::service_id.eq(&service.id))
        .filter(waves::status.ne(crate::core::domain::WaveStatus::Draft))
        .select(Wave::as_select())
        .load(conn)?;
    found.sort_by_key(|w| std::cmp::Reverse(w.opens_at.unwrap_or(w.created_at)));
    Ok(found)
}

fn level_label(survey: &SurveyFile, level: Option<u64>, lang: &str) -> String {
    level
        .and_then(|l| {
            survey
                .scoring
                .bands
                .iter()
                .find(|b| u64::from(b.level) == l)
        })
        .map(|b| crate::core::instrument::format::in_lang(&b.label, lang).to_owned())
        .unwrap_or_default()
}

/// Lookups over one wave's publication that every dashboard needs, built once per
/// publication instead of scanning thousands of services on every request: each
/// service's place in it, and the shown units of every service-type peer group (the
/// funnel plot's points).
struct WaveIndex {
    by_code: HashMap<String, usize>,
    /// (group key, role) → (service code, n, index) of the units shown.
    funnel: HashMap<(String, RespondentRole), Vec<FunnelUnit>>,
}

/// A service shown in a funnel plot: its code, number of respondents and index.
type FunnelUnit = (String, f64, f64);

type IndexKey = (WaveId, u32, i64, chrono::NaiveDateTime);
static INDEXES: LazyLock<Mutex<HashMap<IndexKey, Arc<WaveIndex>>>> =
    LazyLock::new(Default::default);

/// Builds the lookups the dashboards of `p` use, so that no request has to (the server's
/// publisher calls this before serving a new publication).
pub fn prepare(p: &Publication) {
    index_of(p);
}

fn index_of(p: &Publication) -> Arc<WaveIndex> {
    let key = (p.wave_id.clone(), p.min_cell, p.data_version, p.computed_at);
    if let Some(found) = INDEXES.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return found;
    }
    let mut by_code = HashMap::new();
    let mut funnel: HashMap<(String, RespondentRole), Vec<FunnelUnit>> = HashMap::new();
    for (i, s) in p.services.iter().enumerate() {
        for b in &s.benchmarks {
            if b.group == PeerGroup::ServiceType
                && let (Some(pos), Some(n)) = (b.position.shown(), b.position.n())
            {
                #[expect(clippy::cast_precision_loss, reason = "respondents per service")]
                let n = n as f64;
                funnel
                    .entry((b.group_key.clone(), b.role.clone()))
                    .or_default()
                    .push((s.code.clone(), n, pos.score));
            }
        }
        by_code.insert(s.code.clone(), i);
    }
    for units in funnel.values_mut() {
        units.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.2.total_cmp(&b.2)));
    }
    let index = Arc::new(WaveIndex { by_code, funnel });
    if let Ok(mut m) = INDEXES.lock() {
        // A handful of waves and versions at a time; older versions are never asked again.
        if m.len() >= 16 {
            m.clear();
        }
        m.insert(key, index.clone());
    }
    index
}

/// The service's entry in a wave's publication.
/// Whether the service has any number to show in `p`: a shown phase or index cell.
pub fn has_results(p: &Publication, code: &str) -> bool {
    entry(p, code).is_some_and(|s| {
        s.roles.iter().any(|r| {
            r.index.shown().is_some() || r.phases.iter().any(|c| c.stats.shown().is_some())
        })
    })
}

fn entry<'a>(p: &'a Publication, code: &str) -> Option<&'a ServiceResult> {
    let i = *index_of(p).by_code.get(code)?;
    p.services.get(i)
}

/// What the sections of one dashboard share: the wave's survey (for phase titles, role
/// names, level labels and next steps), its phases and roles in order, and the language.
pub(crate) struct Page<'a> {
    pub survey: &'a SurveyFile,
    pub phases: &'a [String],
    /// The roles the publication holds, in its order.
    pub roles: Vec<RespondentRole>,
    pub lang: &'a str,
    /// The threshold the numbers were published under.
    pub min_cell: u32,
}

impl Page<'_> {
    /// The name of a group of `role` ("Peer workers").
    pub fn role(&self, role: &RespondentRole) -> String {
        self.survey.role_label(role.as_str(), self.lang)
    }

    /// The colour of `role` on every chart: by its place among the survey's roles, not
    /// among those this service asked.
    pub fn colour(&self, role: &RespondentRole) -> &'static str {
        let at = self
            .survey
            .roles
            .iter()
            .filter(|(_, def)| def.scored)
            .position(|(code, _)| code == role.as_str())
            .unwrap_or(0);
        charts::role_colour(at)
    }

    fn phase_title(&self, code: &str) -> String {
        self.survey
            .phases
            .iter()
            .find(|p| p.code == code)
            .map_or_else(
                || code.to_owned(),
                |p| crate::core::instrument::format::in_lang(&p.title, self.lang).to_owned(),
            )
    }

    fn level(&self, level: Option<u64>) -> String {
        level_label(self.survey, level, self.lang)
    }
}

/// Builds the dashboard of `service` for `wave` (the newest it took part in when
/// `None`), in `lang`.
pub fn dashboard(
    conn: &mut DbConn,
    service: &Service,
    wave: Option<&WaveId>,
    src: &dyn Publications,
    lang: &str,
) -> anyhow::Result<ServiceDashboard> {
    let detail = crate::app::catalogue::ServiceDetail::load(conn, service)?;
    dashboard_of(conn, service, &detail, wave, src, lang)
}

/// [`dashboard`] of a service whose place in the hierarchy is already read: the wave and
/// the service's entry in its publication, then one function per section, in page order.
pub fn dashboard_of(
    conn: &mut DbConn,
    service: &Service,
    detail: &crate::app::catalogue::ServiceDetail,
    wave: Option<&WaveId>,
    src: &dyn Publications,
    lang: &str,
) -> anyhow::Result<ServiceDashboard> {
    let k = src.min_cell();
    let info = ServiceInfo {
        code: detail.code.clone(),
        name: detail.name.clone(),
        type_label: fill(lang, &format!("service_type.{}", detail.service_type), &[]),
        municipality: detail.municipality.clone(),
        county: detail.county.clone(),
        health_region: detail.health_region.clone(),
    };
    let waves = waves_of(conn, service)?;
    let shown = super::shown_wave(conn, &waves, wave.map(WaveId::as_str), src, |p| {
        has_results(p, &service.code)
    })?;
    let selected = shown.map(|s| s.wave.clone());
    let passed_over = shown.and_then(|s| s.passed_over).map(|w| w.name.clone());
    let mut out = ServiceDashboard {
        service: info,
        waves: waves
            .iter()
            .map(|w| WaveChoice {
                id: w.id.to_string(),
                name: w.name.clone(),
                selected: selected.as_ref().is_some_and(|s| s.id == w.id),
            })
            .collect(),
        wave: None,
        min_cell: k.get(),
        computed_at: String::new(),
        respondents: String::new(),
        participation: Vec::new(),
        phases: Vec::new(),
        index: Vec::new(),
        profile_chart: None,
        gaps: Vec::new(),
        evidence: Vec::new(),
        evidence_intro: String::new(),
        perspectives: Vec::new(),
        trend_chart: None,
        changes: Vec::new(),
        benchmarks: Vec::new(),
        funnel_charts: Vec::new(),
        next_step: None,
        has_hidden: false,
        pending: false,
        passed_over,
    };
    let Some(wave) = selected else {
        return Ok(out);
    };
    let survey = crate::app::waves::instrument_of(conn, &wave)?;
    let results = src.get(conn, &wave.id)?;
    let previous = results
        .as_ref()
        .and_then(|r| r.previous_wave.as_ref())
        .and_then(|p| waves.iter().find(|w| &w.id == p).map(|w| w.name.clone()));
    out.wave = Some(WaveInfo {
        id: wave.id.to_string(),
        name: wave.name.clone(),
        status: fill(lang, &format!("wave_status.{}", wave.status.as_str()), &[]),
        previous,
        instrument: format!("{}@{}", survey.id, survey.version),
    });
    let Some(results) = results else {
        out.pending = true;
        return Ok(out);
    };
    out.computed_at = crate::infra::time::shown(results.computed_at);
    let Some(mine) = entry(&results, &service.code) else {
        return Ok(out);
    };
    let page = Page {
        survey: &survey,
        phases: &results.phases,
        // The roles this service asked: a role the survey file declares but nobody at
        // the service was invited in (or answered as) gets no column.
        roles: mine
            .participation
            .iter()
            .filter(|p| p.invited != Count::Exact(0) || p.answered != Count::Exact(0))
            .map(|p| p.role.clone())
            .collect(),
        lang,
        min_cell: k.get(),
    };
    out.participation = participation_rows(mine, &page);
    out.respondents = respondents_line(mine, &page);
    out.phases = phase_rows(mine, &page);
    out.profile_chart = profile_chart(&out.phases, lang)?;
    out.index = index_rows(mine, &page);
    out.gaps = gap_rows(mine, &page);
    out.perspectives = perspective_charts(&out.phases, &out.gaps, &page);
    out.evidence = evidence_rows(mine, &page);
    out.evidence_intro = evidence_intro(&page);
    out.trend_chart = trend_chart(conn, src, &waves, &results, &service.code, &page)?;
    out.changes = change_rows(mine, &page);
    out.benchmarks = benchmark_rows(mine, &out.service.type_label, &page);
    for b in &mine.benchmarks {
        if b.group == PeerGroup::ServiceType
            && let Some(chart) = funnel_chart(&results, b, &out.service, &page)?
        {
            out.funnel_charts.push(chart);
        }
    }
    out.next_step = next_step(&out.phases, &page);
    out.has_hidden = out
        .phases
        .iter()
        .any(|p| p.cells.iter().any(|c| !c.cell.shown))
        || out.index.iter().any(|i| !i.cell.shown);
    Ok(out)
}

/// Invited, answered and the response rate per role.
fn participation_rows(mine: &ServiceResult, page: &Page) -> Vec<Participation> {
    let lang = page.lang;
    mine.participation
        .iter()
        .filter(|p| page.roles.contains(&p.role))
        .map(|p| Participation {
            role: page.role(&p.role),
            invited: super::count(p.invited, lang),
            submitted: super::count(p.answered, lang),
            rate: p.response_rate.map_or_else(
                || "–".to_owned(),
                |r| format!("{} %", fmt(lang, 100.0 * r, 0)),
            ),
        })
        .collect()
}

/// Who answered, for the methods note: "6 managers and fewer than 5 peer workers".
fn respondents_line(mine: &ServiceResult, page: &Page) -> String {
    let lang = page.lang;
    let parts: Vec<String> = mine
        .participation
        .iter()
        .filter(|p| page.roles.contains(&p.role))
        .map(|p| {
            format!(
                "{} {}",
                super::count(p.answered, lang),
                page.role(&p.role).to_lowercase()
            )
        })
        .collect();
    super::listing(lang, &parts)
}

/// The phase profile: each phase's cell per role.
fn phase_rows(mine: &ServiceResult, page: &Page) -> Vec<PhaseRow> {
    page.phases
        .iter()
        .enumerate()
        .map(|(p, code)| {
            let cells = page
                .roles
                .iter()
                .map(|role| {
                    let stats = mine.role(role).and_then(|r| r.phases.get(p));
                    RoleCell {
                        colour: page.colour(role),
                        role: role.clone(),
                        label: page.role(role),
                        cell: stats
                            .map(|c| Cell::phase(&c.stats, page.lang, |l| page.level(l)))
                            .unwrap_or_default(),
                        stated_not_shown: stats
                            .and_then(|c| c.stats.shown())
                            .and_then(|v| v.evidence)
                            .is_some_and(|e| e.stated_not_shown),
                    }
                })
                .collect();
            PhaseRow {
                code: code.clone(),
                title: page.phase_title(code),
                cells,
            }
        })
        .collect()
}

/// The profile's bar chart with its table, when any cell is shown.
fn profile_chart(phases: &[PhaseRow], lang: &str) -> anyhow::Result<Option<Chart>> {
    if !phases.iter().any(|p| p.cells.iter().any(|c| c.cell.shown)) {
        return Ok(None);
    }
    let titles: Vec<String> = phases.iter().map(|p| p.title.clone()).collect();
    let roles = phases.first().map_or(0, |p| p.cells.len());
    let series: Vec<Series> = (0..roles)
        .map(|r| Series {
            name: phases[0].cells[r].label.clone(),
            values: phases.iter().map(|p| p.cells[r].cell.value).collect(),
            bounds: Some(phases.iter().map(|p| p.cells[r].cell.bounds).collect()),
            colour: Some(phases[0].cells[r].colour),
        })
        .collect();
    let mut table = DataTable {
        headers: vec![
            fill(lang, "dashboard.phase", &[]),
            fill(lang, "dashboard.role", &[]),
            "n".into(),
            fill(lang, "dashboard.mean", &[]),
            fill(lang, "dashboard.ci", &[]),
            fill(lang, "dashboard.level", &[]),
        ],
        rows: Vec::new(),
    };
    for p in phases {
        for RoleCell { label, cell: c, .. } in &p.cells {
            table.rows.push(vec![
                p.title.clone(),
                label.clone(),
                c.n.map_or_else(|| "–".into(), |n| n.to_string()),
                if c.shown {
                    c.mean.clone()
                } else {
                    c.notice.clone()
                },
                c.ci.clone(),
                c.level.clone(),
            ]);
        }
    }
    Ok(Some(
        charts::bars(
            "profile",
            &fill(lang, "dashboard.profile_title", &[]),
            &profile_description(phases, lang),
            &titles,
            &series,
            4.0,
            table,
        )?
        .in_lang(lang),
    ))
}

/// The index and weakest link per role.
fn index_rows(mine: &ServiceResult, page: &Page) -> Vec<IndexRow> {
    page.roles
        .iter()
        .filter_map(|role| {
            let r = mine.role(role)?;
            let weakest = r.index.shown().and_then(|v| v.weakest_level).map(u64::from);
            Some(IndexRow {
                role: page.role(role),
                cell: Cell::index(&r.index, page.lang),
                weakest_level: page.level(weakest),
            })
        })
        .collect()
}

/// The perception gaps per phase, one sentence per pair of roles: who rates it higher
/// and by how much.
fn gap_rows(mine: &ServiceResult, page: &Page) -> Vec<GapRow> {
    let lang = page.lang;
    page.phases
        .iter()
        .map(|code| {
            let pairs: Vec<PairGap> = mine
                .gaps
                .iter()
                .filter(|g| {
                    g.phase == *code
                        && page.roles.contains(&g.first)
                        && page.roles.contains(&g.second)
                })
                .map(|g| {
                    let (first, second) = (page.role(&g.first), page.role(&g.second));
                    let label = format!("{first} − {}", second.to_lowercase());
                    match g.gap.shown() {
                        Some(v) => PairGap {
                            first: g.first.clone(),
                            second: g.second.clone(),
                            label,
                            shown: true,
                            gap: fmt(lang, v.gap, 2),
                            size: fmt(lang, v.gap.abs(), 2),
                            flagged: v.flagged,
                            text: super::gap_sentence(lang, (&first, &second), v.gap, 2),
                        },
                        None => PairGap {
                            first: g.first.clone(),
                            second: g.second.clone(),
                            label,
                            shown: false,
                            gap: String::new(),
                            size: String::new(),
                            flagged: false,
                            text: fill(
                                lang,
                                "dashboard.gap_hidden",
                                &[("first", &first), ("second", &second.to_lowercase())],
                            ),
                        },
                    }
                })
                .collect();
            let shown: Vec<PairGap> = pairs.iter().filter(|p| p.shown).cloned().collect();
            let hidden = (shown.len() < pairs.len()).then(|| {
                fill(
                    lang,
                    if shown.is_empty() {
                        "dashboard.gaps_none_shown"
                    } else {
                        "dashboard.gaps_some_hidden"
                    },
                    &[],
                )
            });
            GapRow {
                phase: page.phase_title(code),
                flagged: pairs.iter().any(|p| p.flagged),
                pairs,
                shown,
                hidden,
            }
        })
        .collect()
}

/// Evidence of action: per phase and role asked for it, the high ratings and how many of
/// them an occasion backs, shown with the role's cell (hidden with it).
fn evidence_rows(mine: &ServiceResult, page: &Page) -> Vec<EvidenceRow> {
    let lang = page.lang;
    let mut out = Vec::new();
    for (p, code) in page.phases.iter().enumerate() {
        for role in &page.roles {
            let Some(cell) = mine.role(role).and_then(|r| r.phases.get(p)) else {
                continue;
            };
            let row =
                |shown, high: String, backed: String, share: String, flag, notice| EvidenceRow {
                    phase: page.phase_title(code),
                    role: page.role(role),
                    shown,
                    high,
                    backed,
                    share,
                    stated_not_shown: flag,
                    notice,
                };
            match cell.stats.shown() {
                Some(v) => {
                    let Some(e) = v.evidence else {
                        continue;
                    };
                    match (e.high.zip(e.backed), e.withheld) {
                        (Some((high, backed)), None) => out.push(row(
                            true,
                            high.to_string(),
                            backed.to_string(),
                            e.share().map_or_else(
                                || fill(lang, "dashboard.evidence_no_high", &[]),
                                |x| format!("{} %", fmt(lang, 100.0 * x, 0)),
                            ),
                            e.stated_not_shown,
                            String::new(),
                        )),
                        (_, why) => out.push(row(
                            false,
                            String::new(),
                            String::new(),
                            String::new(),
                            false,
                            fill(
                                lang,
                                match why {
                                    Some(EvidenceWithheld::Uniform) => "dashboard.evidence_uniform",
                                    _ => "dashboard.evidence_few_high",
                                },
                                &[("k", &page.min_cell.to_string())],
                            ),
                        )),
                    }
                }
                // A hidden cell hides its evidence too; say so where the role is asked.
                None if asks_evidence(page.survey, code, role) => out.push(row(
                    false,
                    String::new(),
                    String::new(),
                    String::new(),
                    false,
                    super::notice(&cell.stats, lang),
                )),
                None => {}
            }
        }
    }
    out
}

/// Whether `role` is asked phase `code`'s evidence question.
fn asks_evidence(survey: &SurveyFile, code: &str, role: &RespondentRole) -> bool {
    survey
        .evidence_question(code)
        .is_some_and(|c| c.roles.iter().any(|r| r == role.as_str()))
}

/// The evidence rule in words, with the survey's band names and share.
fn evidence_intro(page: &Page) -> String {
    let Some(e) = &page.survey.evidence else {
        return String::new();
    };
    let levels: Vec<String> = page
        .survey
        .scoring
        .bands
        .iter()
        .filter(|b| b.level >= e.high_level)
        .map(|b| crate::core::instrument::format::in_lang(&b.label, page.lang).to_owned())
        .collect();
    fill(
        page.lang,
        "dashboard.evidence_intro",
        &[
            ("levels", &super::listing_or(page.lang, &levels)),
            (
                "share",
                &format!("{} %", fmt(page.lang, 100.0 * e.min_backed_share, 0)),
            ),
        ],
    )
}

/// Per phase, the polygon of perspectives: each role's mean at a corner, each pair's
/// gap on the side between them. Drawn when the service asked two roles or more.
fn perspective_charts(phases: &[PhaseRow], gaps: &[GapRow], page: &Page) -> Vec<Chart> {
    let lang = page.lang;
    if page.roles.len() < 2 {
        return Vec::new();
    }
    phases
        .iter()
        .zip(gaps)
        .map(|(p, g)| {
            let corners: Vec<charts::Corner> = p
                .cells
                .iter()
                .map(|c| charts::Corner {
                    colour: c.colour,
                    name: c.label.clone(),
                    text: if c.cell.shown {
                        c.cell.mean.clone()
                    } else {
                        fill(lang, "dashboard.hidden_short", &[])
                    },
                    shown: c.cell.shown,
                })
                .collect();
            let position = |role: &RespondentRole| p.cells.iter().position(|c| c.role == *role);
            let sides: Vec<charts::Side> = g
                .pairs
                .iter()
                .filter_map(|pair| {
                    Some(charts::Side {
                        from: position(&pair.first)?,
                        to: position(&pair.second)?,
                        gap: pair.shown.then(|| pair.size.clone()),
                        flagged: pair.flagged,
                    })
                })
                .collect();
            let table = DataTable {
                headers: vec![
                    fill(lang, "sheet.gap_pair", &[]),
                    fill(lang, "sheet.gap", &[]),
                    String::new(),
                ],
                rows: g
                    .pairs
                    .iter()
                    .map(|pair| {
                        vec![
                            pair.label.clone(),
                            if pair.shown {
                                pair.gap.clone()
                            } else {
                                "–".into()
                            },
                            pair.text.clone(),
                        ]
                    })
                    .collect(),
            };
            // The means; the gaps are said in the list below the pictures.
            let description = fill(
                lang,
                "dashboard.perspectives_description",
                &[(
                    "means",
                    &corners
                        .iter()
                        .map(|c| format!("{} {}", c.name, c.text))
                        .collect::<Vec<_>>()
                        .join(", "),
                )],
            );
            charts::perspectives(
                &format!("perspectives-{}", p.code.to_lowercase()),
                &fill(lang, "dashboard.perspectives_title", &[("phase", &p.title)]),
                &description,
                &corners,
                &sides,
                table,
            )
            .in_lang(lang)
        })
        .collect()
}

/// The index per role across the service's waves, oldest first, each wave read from its
/// own publication; drawn when there are two waves or more with a shown value.
fn trend_chart(
    conn: &mut DbConn,
    src: &dyn Publications,
    waves: &[Wave],
    current: &Arc<Publication>,
    code: &str,
    page: &Page,
) -> anyhow::Result<Option<Chart>> {
    let (names, series) =
        super::index_over_waves(conn, src, waves, current, &page.roles, |p, role| {
            let e = entry(p, code)?;
            Some(
                e.role(role)
                    .and_then(|x| x.index.shown())
                    .map(|v| v.estimate.mean),
            )
        })?;
    if names.len() < 2 || !series.iter().flatten().any(Option::is_some) {
        return Ok(None);
    }
    let labels: Vec<(String, &'static str)> = page
        .roles
        .iter()
        .map(|r| (page.role(r), page.colour(r)))
        .collect();
    super::index_trend_chart(
        "trend",
        &fill(page.lang, "dashboard.trend_title", &[]),
        &names,
        (&labels, &series),
        page.lang,
    )
    .map(Some)
}

/// The change since the previous wave per role and measure, with its CI.
fn change_rows(mine: &ServiceResult, page: &Page) -> Vec<ChangeRow> {
    let lang = page.lang;
    mine.trends
        .iter()
        .filter(|t| page.roles.contains(&t.role))
        .map(|t| {
            let measure = t.measure.as_str();
            let digits = if measure == "index" { 1 } else { 2 };
            let v = t.change.shown();
            let num = |x: Option<f64>| x.map(|x| fmt(lang, x, digits)).unwrap_or_default();
            ChangeRow {
                role: page.role(&t.role),
                measure: if measure == "index" {
                    fill(lang, "dashboard.index", &[])
                } else {
                    page.phase_title(measure)
                },
                shown: v.is_some(),
                previous: num(v.map(|v| v.previous)),
                current: num(v.map(|v| v.current)),
                change: v
                    .map(|v| signed(lang, v.change, digits))
                    .unwrap_or_default(),
                ci: match v.and_then(|v| v.ci_low.zip(v.ci_high)) {
                    Some((l, h)) => {
                        format!("{} – {}", signed(lang, l, digits), signed(lang, h, digits))
                    }
                    None => String::new(),
                },
                notice: super::notice(&t.change, lang),
            }
        })
        .collect()
}

/// The service's place in each peer group: score, percentile rank and funnel band.
fn benchmark_rows(mine: &ServiceResult, type_label: &str, page: &Page) -> Vec<BenchmarkRow> {
    let lang = page.lang;
    mine.benchmarks
        .iter()
        .filter(|b| page.roles.contains(&b.role))
        .map(|b| {
            let v = b.position.shown();
            BenchmarkRow {
                role: page.role(&b.role),
                group: fill(
                    lang,
                    &format!("dashboard.group_{}", b.group.as_str()),
                    &[("type", type_label)],
                ),
                group_size: b.group_size,
                shown: v.is_some(),
                score: v.map(|v| fmt(lang, v.score, 1)).unwrap_or_default(),
                group_mean: b.group_stats.shown().map_or_else(
                    || super::notice(&b.group_stats, lang),
                    |g| fmt(lang, g.mean, 1),
                ),
                percentile_rank: v.and_then(|v| v.percentile_rank).map_or_else(
                    || fill(lang, "dashboard.rank_small_group", &[]),
                    |x| fill(lang, "dashboard.rank_words", &[("p", &fmt(lang, x, 0))]),
                ),
                // No verdict: a group under MIN_PEER_GROUP services, or a group whose
                // own cell is hidden (or has no spread) says so.
                funnel: match v.and_then(|v| v.funnel) {
                    Some(f) => band_label(lang, f.band),
                    None if b.group_size < MIN_PEER_GROUP => {
                        fill(lang, "dashboard.rank_small_group", &[])
                    }
                    None if b.group_stats.shown().is_none() => super::notice(&b.group_stats, lang),
                    None => "–".to_owned(),
                },
                funnel_meaning: v
                    .and_then(|v| v.funnel)
                    .map(|f| fill(lang, &format!("dashboard.meaning_{}", f.band.key()), &[]))
                    .unwrap_or_default(),
                notice: super::notice(&b.position, lang),
            }
        })
        .collect()
}

fn band_label(lang: &str, band: FunnelBand) -> String {
    fill(lang, &format!("dashboard.funnel_{}", band.key()), &[])
}

/// The next step for the weakest phase in anyone's eyes: the lowest shown mean of any
/// role in any phase (managers may describe intentions more than practice, so the most
/// critical view present decides), and whose view that is.
fn next_step(phases: &[PhaseRow], page: &Page) -> Option<NextStepView> {
    let mut seen: Vec<(f64, &PhaseRow, &RoleCell, u64)> = phases
        .iter()
        .flat_map(|p| {
            p.cells
                .iter()
                .filter_map(move |c| Some((c.cell.value?, p, c, c.cell.level_number?)))
        })
        .collect();
    seen.sort_by(|a, b| a.0.total_cmp(&b.0));
    seen.into_iter().find_map(|(_, p, c, level)| {
        let step = page
            .survey
            .next_steps
            .iter()
            .find(|s| s.phase == p.code && u64::from(s.level) == level)?;
        Some(NextStepView {
            phase: p.title.clone(),
            level: page.level(Some(level)),
            text: crate::core::instrument::format::in_lang(&step.text, page.lang).to_owned(),
            basis: fill(
                page.lang,
                "dashboard.next_step_basis",
                &[("role", &c.label.to_lowercase())],
            ),
        })
    })
}

/// A sentence describing the profile for screen readers and print.
fn profile_description(phases: &[PhaseRow], lang: &str) -> String {
    let mut parts = Vec::new();
    for p in phases {
        let values: Vec<String> = p
            .cells
            .iter()
            .map(|c| {
                let value = if c.cell.shown {
                    c.cell.mean.clone()
                } else {
                    fill(lang, "dashboard.hidden_short", &[])
                };
                format!("{} {value}", c.label.to_lowercase())
            })
            .collect();
        parts.push(fill(
            lang,
            "dashboard.profile_part",
            &[("phase", &p.title), ("values", &values.join(", "))],
        ));
    }
    format!(
        "{} {}",
        fill(lang, "dashboard.profile_description", &[]),
        parts.join("; ")
    )
}

/// At most this many peer services are drawn on a funnel plot, evenly through the group
/// sorted by size: enough to show its shape, while the table beside the plot counts
/// every service. Drawing is most of a dashboard's cost under load (measured with
/// `perf record` during `perf/live.sh`: the two funnel plots took a third of the server's
/// CPU at 200 points each), so more points would cost every page without telling more.
const MAX_POINTS: usize = 100;

/// The funnel plot of the service's peer group of the same service type, for one role:
/// drawn only when the service's position and the group's own cell are both shown.
fn funnel_chart(
    results: &Publication,
    benchmark: &Benchmark,
    service: &ServiceInfo,
    page: &Page,
) -> anyhow::Result<Option<Chart>> {
    let lang = page.lang;
    let role = &benchmark.role;
    let (Some(pos), Some(own_n), Some(group)) = (
        benchmark.position.shown(),
        benchmark.position.n(),
        benchmark.group_stats.shown(),
    ) else {
        return Ok(None);
    };
    let (Some(sd), Some(_)) = (group.sd, pos.funnel) else {
        return Ok(None);
    };
    #[expect(clippy::cast_precision_loss, reason = "respondents per service")]
    let own_n = own_n as f64;
    let (own_score, mean) = (pos.score, group.mean);
    let index = index_of(results);
    let group: &[FunnelUnit] = index
        .funnel
        .get(&(benchmark.group_key.clone(), role.clone()))
        .map_or(&[], Vec::as_slice);
    // Drawn: the other services, at most MAX_POINTS of them, evenly through the group
    // (sorted by size and score once per results version), so a national group of
    // thousands stays a readable and light picture.
    let step = group.len().div_ceil(MAX_POINTS).max(1);
    let peers: Vec<(f64, f64)> = group
        .iter()
        .step_by(step)
        .filter(|(code, _, _)| code != &service.code)
        .map(|(_, n, score)| (*n, *score))
        .collect();
    let others = group.len().saturating_sub(1);
    let max_n = peers
        .iter()
        .map(|p| p.0)
        .chain(std::iter::once(own_n))
        .fold(0.0_f64, f64::max);
    let min_n = peers
        .iter()
        .map(|p| p.0)
        .chain(std::iter::once(own_n))
        .fold(f64::INFINITY, f64::min);
    let steps = 12;
    let line = |limit: fn(&FunnelLimits) -> f64| -> Vec<(f64, f64)> {
        (0..=steps)
            .map(|i| {
                let n = min_n + (max_n - min_n) * f64::from(i) / f64::from(steps);
                (n, limit(&funnel_limits_at(mean, sd, n)).clamp(0.0, 100.0))
            })
            .collect()
    };
    let limits = vec![
        (
            fill(lang, "dashboard.limit95_low", &[]),
            line(|l| l.lower95),
        ),
        (
            fill(lang, "dashboard.limit95_high", &[]),
            line(|l| l.upper95),
        ),
        (
            fill(lang, "dashboard.limit998_low", &[]),
            line(|l| l.lower998),
        ),
        (
            fill(lang, "dashboard.limit998_high", &[]),
            line(|l| l.upper998),
        ),
    ];
    let role_text = page.role(role);
    let title = fill(lang, "dashboard.funnel_title", &[("role", &role_text)]);
    let description = fill(
        lang,
        "dashboard.funnel_description",
        &[
            ("services", &group.len().to_string()),
            ("type", &service.type_label),
            ("score", &fmt(lang, own_score, 1)),
            ("n", &fmt(lang, own_n, 0)),
            ("mean", &fmt(lang, mean, 1)),
        ],
    );
    // The table: where the group's services fall against the limits (the same rule the
    // publication's own band follows), and this service.
    let band = |n: f64, score: f64| FunnelBand::of(score, &funnel_limits_at(mean, sd, n));
    let mut table = DataTable {
        headers: vec![
            fill(lang, "dashboard.funnel", &[]),
            fill(lang, "dashboard.group_size", &[]),
        ],
        rows: Vec::new(),
    };
    // The group holds this service too. One pass over a group of thousands.
    let mut counts: HashMap<FunnelBand, usize> = HashMap::new();
    for (_, n, s) in group {
        *counts.entry(band(*n, *s)).or_default() += 1;
    }
    let own_band = band(own_n, own_score);
    for b in FunnelBand::ALL {
        let count = counts.get(&b).copied().unwrap_or(0);
        let mut label = band_label(lang, b);
        if b == own_band {
            label = format!("{label} ({})", service.name);
        }
        table.rows.push(vec![label, count.to_string()]);
    }
    let description = if peers.len() < others {
        format!(
            "{description} {}",
            fill(
                lang,
                "dashboard.funnel_sampled",
                &[("shown", &peers.len().to_string())]
            )
        )
    } else {
        description
    };
    Ok(Some(
        charts::funnel(
            &format!("funnel-{}", role.as_str()),
            &title,
            &description,
            &peers,
            (own_n, own_score),
            &limits,
            (
                &fill(lang, "dashboard.peer_services", &[]),
                &service.name,
                &fill(lang, "dashboard.respondents_axis", &[]),
            ),
            100.0,
            table,
        )?
        .in_lang(lang),
    ))
}

/// Per-role counts of a wave's invitations for the admin overview, by service code.
pub fn participation_by_code(
    conn: &mut DbConn,
    wave: &WaveId,
) -> anyhow::Result<HashMap<(String, RespondentRole), (i64, i64)>> {
    let codes: HashMap<_, _> = crate::infra::models::WaveService::for_wave(conn, wave)?
        .into_iter()
        .map(|s| (s.service_id, s.service_code))
        .collect();
    Ok(crate::app::waves::participation(conn, wave, None)?
        .into_iter()
        .filter_map(|((s, r), v)| codes.get(&s).map(|c| ((c.clone(), r), v)))
        .collect())
}
