//! A region's dashboard for policymakers: the region and the regions inside it compared
//! phase by phase (a heatmap), the spread of service scores in each, and the breakdown by
//! service type and role, filtered by wave, role and service type. Every number is a
//! region cell or a service cell from the analytics results, after the suppression gate;
//! drill-down links are offered only where the next level has numbers to show.

use serde::Serialize;

use super::charts::{self, Chart, DataTable, Series};
use super::fmt;
use crate::app::analytics::Publications;
use crate::app::analytics::results::{GAP_FLAG, Level};
use crate::app::analytics::stats::Estimate;
use crate::app::analytics::suppress::Cell as Published;
use crate::core::domain::{RegionId, RegionKind, RespondentRole, ServiceType};
use crate::infra::db::DbConn;
use crate::infra::i18n::fill;
use crate::infra::models::{Region, Wave};

/// The filters a policymaker chose (all optional in the query).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Filters {
    pub wave: Option<String>,
    pub role: Option<String>,
    #[serde(rename = "type")]
    pub service_type: Option<String>,
    /// `spreadsheet` for the download of the page's tables (downloads only).
    pub format: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RegionDashboard {
    pub region: RegionInfo,
    pub waves: Vec<Choice>,
    pub roles: Vec<Choice>,
    pub types: Vec<Choice>,
    pub wave: Option<String>,
    pub wave_id: Option<String>,
    pub role: String,
    /// The filters as codes, for the download links.
    pub role_code: String,
    /// The names of the wave's roles, in order: the columns of the gap and breakdown
    /// tables.
    pub role_labels: Vec<String>,
    pub type_code: Option<&'static str>,
    pub type_label: String,
    pub min_cell: u32,
    /// When the numbers were computed (UTC, `YYYY-MM-DD HH:MM`).
    pub computed_at: String,
    /// Phase titles, the heatmap's columns.
    pub phases: Vec<String>,
    /// The region itself first, then the regions inside it.
    pub rows: Vec<HeatRow>,
    /// For comparison: the whole country, then the region beside the other regions of
    /// its level that share its parent (all health regions, a health region's counties,
    /// a county's municipalities), as far as the reader's scope shows them.
    pub context: Vec<HeatRow>,
    pub child_level: String,
    /// "Helse Vest and its counties, phase by phase": what the first table's rows are.
    pub compare_heading: String,
    pub heatmap: Option<Chart>,
    pub distribution: Option<Chart>,
    pub breakdown: Vec<BreakdownRow>,
    /// Every role beside the others in the region itself, phase by phase and the index:
    /// the perception gaps at region level (a pair's gap only where both cells are shown).
    pub gap: Vec<RegionGapRow>,
    pub gap_chart: Option<Chart>,
    /// The region's index per role over the waves, each from its own publication.
    pub trend: Option<Chart>,
    pub has_hidden: bool,
    /// The wave's first publication is still being computed.
    pub pending: bool,
    /// The newer wave not shown because it has too few answers yet.
    pub passed_over: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RegionInfo {
    pub id: String,
    pub name: String,
    pub level: String,
    pub parent: Option<(String, String)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct HeatRow {
    pub name: String,
    /// A link to this region's own dashboard, when it has numbers to show.
    pub href: Option<String>,
    pub is_total: bool,
    pub cells: Vec<HeatCell>,
    pub index: HeatCell,
}

#[derive(Debug, Clone, Serialize)]
pub struct HeatCell {
    pub shown: bool,
    pub text: String,
    pub n: Option<u64>,
    #[serde(skip)]
    pub value: Option<f64>,
}

/// One phase (or the index) of the region as each role sees it.
#[derive(Debug, Clone, Serialize)]
pub struct RegionGapRow {
    pub measure: String,
    pub is_index: bool,
    /// One per role, in the wave's order.
    pub cells: Vec<HeatCell>,
    /// One per pair of roles.
    pub pairs: Vec<RegionPairGap>,
    /// Any pair's |gap| at or above [`GAP_FLAG`] on the phase scale.
    pub flagged: bool,
}

/// The gap between two roles in one measure of the region.
#[derive(Debug, Clone, Serialize)]
pub struct RegionPairGap {
    /// "Managers − peer workers".
    pub label: String,
    /// The first minus the second, signed; empty when either side is hidden.
    pub difference: String,
    /// The gap in words ("managers rate this phase 0,40 points higher ..."), or why it
    /// is not shown.
    pub sentence: String,
    pub flagged: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct BreakdownRow {
    pub service_type: String,
    /// One per role, in the wave's order.
    pub cells: Vec<HeatCell>,
}

fn child_level(kind: RegionKind) -> Option<Level> {
    match kind {
        RegionKind::HealthRegion => Some(Level::County),
        RegionKind::County => Some(Level::Municipality),
        RegionKind::Municipality => None,
    }
}

fn heat(cell: Option<&Published<Estimate>>, lang: &str, digits: usize) -> HeatCell {
    match cell.map(|c| (c.shown(), c)) {
        Some((Some(v), c)) => HeatCell {
            shown: true,
            text: fmt(lang, v.mean, digits),
            n: c.n(),
            value: Some(v.mean),
        },
        Some((None, c)) if c.is_suppressed() => HeatCell {
            shown: false,
            text: fill(lang, "dashboard.too_few", &[]),
            n: None,
            value: None,
        },
        _ => HeatCell {
            shown: false,
            text: fill(lang, "dashboard.no_answers", &[]),
            n: None,
            value: None,
        },
    }
}

/// A measure of the region as each role sees it (`cells`: the roles' names and cells),
/// and the gap between every two of them where both are shown.
fn gap_row(
    measure: String,
    is_index: bool,
    cells: &[(String, Option<&Published<Estimate>>)],
    digits: usize,
    lang: &str,
) -> RegionGapRow {
    let mut pairs = Vec::new();
    for (i, (first, a)) in cells.iter().enumerate() {
        for (second, b) in &cells[i + 1..] {
            let gap = a
                .and_then(|c| c.shown())
                .zip(b.and_then(|c| c.shown()))
                .map(|(x, y)| x.mean - y.mean);
            let sentence = match gap {
                None => fill(
                    lang,
                    "dashboard.gap_hidden",
                    &[("first", first), ("second", &second.to_lowercase())],
                ),
                Some(_) if is_index => String::new(),
                Some(g) => super::gap_sentence(lang, (first, second), g, digits),
            };
            pairs.push(RegionPairGap {
                label: format!("{first} − {}", second.to_lowercase()),
                difference: gap.map_or_else(String::new, |g| super::signed(lang, g, digits)),
                sentence,
                flagged: !is_index && gap.is_some_and(|g| g.abs() >= GAP_FLAG),
            });
        }
    }
    RegionGapRow {
        measure,
        is_index,
        cells: cells.iter().map(|(_, c)| heat(*c, lang, digits)).collect(),
        flagged: pairs.iter().any(|p| p.flagged),
        pairs,
    }
}

/// The region's index per role across the opened waves, oldest first, each wave read
/// from its own publication (on the page's service-type filter); drawn when two waves or
/// more have a shown value.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site; the page's filters"
)]
fn region_trend(
    conn: &mut DbConn,
    src: &dyn Publications,
    waves: &[Wave],
    current: &std::sync::Arc<crate::app::analytics::Publication>,
    level: Level,
    region: &Region,
    service_type: Option<ServiceType>,
    (roles, labels): (&[RespondentRole], &[String]),
    lang: &str,
) -> anyhow::Result<Option<Chart>> {
    let (names, series) = super::index_over_waves(conn, src, waves, current, roles, |p, r| {
        Some(
            p.region_cell(level, Some(&region.id), r, service_type, "index")
                .and_then(|c| c.stats.shown())
                .map(|e| e.mean),
        )
    })?;
    let with_values = (0..names.len())
        .filter(|i| series.iter().any(|v| v[*i].is_some()))
        .count();
    if with_values < 2 {
        return Ok(None);
    }
    super::index_trend_chart(
        "region-trend",
        &fill(lang, "region.trend_title", &[("region", &region.name)]),
        &names,
        (
            &labels
                .iter()
                .enumerate()
                .map(|(i, l)| (l.clone(), charts::role_colour(i)))
                .collect::<Vec<_>>(),
            &series,
        ),
        lang,
    )
    .map(Some)
}

/// The five-number summary of each row's shown service values: `None` for a row whose
/// own cell is hidden (`values` is `None`) or that has no shown service, so no box is
/// drawn for a region the gate hid.
fn box_plots<R>(rows: &[(R, Option<Vec<f64>>)]) -> Vec<Option<[f64; 5]>> {
    rows.iter()
        .map(|(_, values)| {
            let mut values = values.clone()?;
            charts::five_numbers(&mut values)
        })
        .collect()
}

/// Builds the dashboard of `region` (which the caller has checked the user may see).
#[expect(
    clippy::too_many_lines,
    reason = "the dashboard's sections, in page order"
)]
pub fn dashboard(
    conn: &mut DbConn,
    region: &Region,
    all_regions: &[Region],
    view: &crate::app::accounts::RegionView,
    filters: &Filters,
    src: &dyn Publications,
    lang: &str,
) -> anyhow::Result<RegionDashboard> {
    let k = src.min_cell();
    let waves = Wave::opened_newest_first(conn)?;
    let level = Level::of(region.kind);
    let shown = super::shown_wave(conn, &waves, filters.wave.as_deref(), src, |p| {
        // Any number for the region itself, for any role.
        p.respondents.iter().any(|r| {
            p.region_cell(level, Some(&region.id), &r.role, None, "index")
                .is_some_and(|c| c.stats.shown().is_some())
        })
    })?;
    let wave = shown.map(|s| s.wave.clone());
    let passed_over = shown.and_then(|s| s.passed_over).map(|w| w.name.clone());
    // The roles of the wave shown (its survey file declares them), named in its words.
    let survey = match &wave {
        Some(w) => Some(crate::app::waves::instrument_of(conn, w)?),
        None => None,
    };
    let roles: Vec<RespondentRole> = survey
        .as_ref()
        .map(|s| s.scored_roles())
        .unwrap_or_default();
    let role_labels: Vec<String> = roles
        .iter()
        .filter_map(|r| Some(survey.as_ref()?.role_label(r.as_str(), lang)))
        .collect();
    // The role asked for, else the first.
    let role = filters
        .role
        .as_deref()
        .and_then(|code| roles.iter().find(|r| r.as_str() == code))
        .or_else(|| roles.first())
        .cloned();
    let role_label = |r: &RespondentRole| {
        survey
            .as_ref()
            .map_or_else(|| r.to_string(), |s| s.role_label(r.as_str(), lang))
    };
    let service_type = filters
        .service_type
        .as_deref()
        .and_then(|t| t.parse::<ServiceType>().ok());
    let parent = region.parent_id.as_ref().and_then(|p| {
        all_regions
            .iter()
            .find(|r| &r.id == p)
            .map(|r| (r.id.to_string(), r.name.clone()))
    });
    let mut out = RegionDashboard {
        region: RegionInfo {
            id: region.id.to_string(),
            name: region.name.clone(),
            level: fill(lang, &format!("region.level_{}", region.kind.as_str()), &[]),
            parent,
        },
        waves: waves
            .iter()
            .map(|w| Choice {
                value: w.id.to_string(),
                label: w.name.clone(),
                selected: wave.as_ref().is_some_and(|s| s.id == w.id),
            })
            .collect(),
        roles: roles
            .iter()
            .map(|r| Choice {
                value: r.as_str().to_owned(),
                label: role_label(r),
                selected: Some(r) == role.as_ref(),
            })
            .collect(),
        types: std::iter::once(Choice {
            value: String::new(),
            label: fill(lang, "region.all_types", &[]),
            selected: service_type.is_none(),
        })
        .chain(ServiceType::ALL.iter().map(|t| Choice {
            value: t.as_str().to_owned(),
            label: fill(lang, &format!("service_type.{}", t.as_str()), &[]),
            selected: service_type == Some(*t),
        }))
        .collect(),
        wave: wave.as_ref().map(|w| w.name.clone()),
        wave_id: wave.as_ref().map(|w| w.id.to_string()),
        role: role.as_ref().map(&role_label).unwrap_or_default(),
        role_code: role.as_ref().map(ToString::to_string).unwrap_or_default(),
        role_labels: role_labels.clone(),
        type_code: service_type.map(ServiceType::as_str),
        type_label: service_type.map_or_else(
            || fill(lang, "region.all_types", &[]),
            |t| fill(lang, &format!("service_type.{}", t.as_str()), &[]),
        ),
        min_cell: k.get(),
        computed_at: String::new(),
        phases: Vec::new(),
        rows: Vec::new(),
        context: Vec::new(),
        child_level: child_level(region.kind)
            .map(|l| fill(lang, &format!("region.children_{}", l.as_str()), &[]))
            .unwrap_or_default(),
        compare_heading: child_level(region.kind).map_or_else(
            || {
                fill(
                    lang,
                    "region.compare_heading_alone",
                    &[("region", &region.name)],
                )
            },
            |l| {
                fill(
                    lang,
                    "region.compare_heading_children",
                    &[
                        ("region", &region.name),
                        (
                            "children",
                            &fill(lang, &format!("region.children_{}", l.as_str()), &[]),
                        ),
                    ],
                )
            },
        ),
        heatmap: None,
        distribution: None,
        breakdown: Vec::new(),
        gap: Vec::new(),
        gap_chart: None,
        trend: None,
        has_hidden: false,
        pending: false,
        passed_over,
    };
    let (Some(wave), Some(survey), Some(role)) = (wave, survey, role) else {
        return Ok(out);
    };
    let Some(results) = src.get(conn, &wave.id)? else {
        out.pending = true;
        return Ok(out);
    };
    out.computed_at = crate::infra::time::shown(results.computed_at);
    let phase_codes = results.phases.clone();
    out.phases = phase_codes
        .iter()
        .map(|c| {
            survey.phases.iter().find(|p| &p.code == c).map_or_else(
                || c.clone(),
                |p| crate::core::instrument::format::in_lang(&p.title, lang).to_owned(),
            )
        })
        .collect();
    let find = |level: Level, id: &RegionId, role: &RespondentRole, measure: &str| {
        results
            .region_cell(level, Some(id), role, service_type, measure)
            .map(|c| &c.stats)
    };
    let role_str = role.as_str();
    let row = |level: Level, r: &Region, is_total: bool| -> HeatRow {
        let cells: Vec<HeatCell> = phase_codes
            .iter()
            .map(|m| heat(find(level, &r.id, &role, m), lang, 2))
            .collect();
        let index = heat(find(level, &r.id, &role, "index"), lang, 1);
        let any = cells.iter().any(|c| c.shown) || index.shown;
        HeatRow {
            name: r.name.clone(),
            href: (!is_total && any && view.in_detail(&r.id)).then(|| {
                let mut q = format!("/regions/{}?wave={}&role={}", r.id, wave.id, role_str);
                if let Some(t) = service_type {
                    q.push_str("&type=");
                    q.push_str(t.as_str());
                }
                q
            }),
            is_total,
            cells,
            index,
        }
    };
    out.rows.push(row(Level::of(region.kind), region, true));
    let mut children: Vec<&Region> = all_regions
        .iter()
        .filter(|r| r.parent_id.as_ref() == Some(&region.id))
        .collect();
    children.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(level) = child_level(region.kind) {
        for c in &children {
            out.rows.push(row(level, c, false));
        }
    }
    // The context: the country, and the region among its peers at its own level.
    let national = |m: &str| {
        results
            .region_cell(Level::National, None, &role, service_type, m)
            .map(|c| &c.stats)
    };
    if view.shows(None) {
        out.context.push(HeatRow {
            name: fill(lang, "region.national", &[]),
            href: None,
            is_total: false,
            cells: phase_codes
                .iter()
                .map(|m| heat(national(m), lang, 2))
                .collect(),
            index: heat(national("index"), lang, 1),
        });
    }
    let mut peers: Vec<&Region> = all_regions
        .iter()
        .filter(|r| r.kind == region.kind && r.parent_id == region.parent_id)
        .filter(|r| view.shows(Some(&r.id)))
        .collect();
    peers.sort_by(|a, b| a.name.cmp(&b.name));
    for p in peers {
        let mut r = row(Level::of(p.kind), p, p.id == region.id);
        if r.is_total {
            r.name = fill(lang, "region.this_region", &[("name", &r.name)]);
        }
        out.context.push(r);
    }
    out.has_hidden = out
        .rows
        .iter()
        .any(|r| r.cells.iter().any(|c| !c.shown) || !r.index.shown);

    // Heatmap of the rows × phases.
    if out.rows.iter().any(|r| r.cells.iter().any(|c| c.shown)) {
        let names: Vec<String> = out.rows.iter().map(|r| r.name.clone()).collect();
        let values: Vec<Vec<Option<f64>>> = out
            .rows
            .iter()
            .map(|r| r.cells.iter().map(|c| c.value).collect())
            .collect();
        let mut table = DataTable {
            headers: std::iter::once(fill(lang, "region.region", &[]))
                .chain(out.phases.iter().cloned())
                .collect(),
            rows: Vec::new(),
        };
        for r in &out.rows {
            table.rows.push(
                std::iter::once(r.name.clone())
                    .chain(r.cells.iter().map(|c| {
                        if c.shown {
                            format!("{} (n = {})", c.text, c.n.unwrap_or(0))
                        } else {
                            c.text.clone()
                        }
                    }))
                    .collect(),
            );
        }
        out.heatmap = Some(
            charts::heatmap(
                "heatmap",
                &fill(lang, "region.heatmap_title", &[("role", &out.role)]),
                &fill(
                    lang,
                    "region.heatmap_description",
                    &[("region", &region.name), ("type", &out.type_label)],
                ),
                &out.phases,
                &names,
                &values,
                4.0,
                table,
            )?
            .in_lang(lang),
        );
    }

    // Spread of service index values in each row's region: drawn only for rows whose
    // own index cell is shown, from the service cells shown in it.
    let mut categories = Vec::new();
    let mut boxes = Vec::new();
    let mut dist_table = DataTable {
        headers: vec![
            fill(lang, "region.region", &[]),
            fill(lang, "region.services_shown", &[]),
            fill(lang, "region.median", &[]),
            fill(lang, "region.quartiles", &[]),
        ],
        rows: Vec::new(),
    };
    let mut rows_for_boxes: Vec<(Level, &Region)> = vec![(Level::of(region.kind), region)];
    if let Some(level) = child_level(region.kind) {
        rows_for_boxes.extend(children.iter().map(|c| (level, *c)));
    }
    let spreads: Vec<(&Region, Option<Vec<f64>>)> = rows_for_boxes
        .into_iter()
        .map(|(level, r)| {
            let shown = find(level, &r.id, &role, "index").is_some_and(|c| c.shown().is_some());
            let values = shown.then(|| {
                results
                    .services
                    .iter()
                    .filter(|s| match level {
                        Level::HealthRegion => s.health_region_id == r.id,
                        Level::County => s.county_id == r.id,
                        Level::Municipality => s.municipality_id == r.id,
                        Level::National => true,
                    })
                    .filter(|s| service_type.is_none_or(|t| s.service_type == t))
                    .filter_map(|s| s.role(&role)?.index.shown().map(|v| v.estimate.mean))
                    .collect()
            });
            (r, values)
        })
        .collect();
    for (r, five) in spreads.iter().zip(box_plots(&spreads)) {
        let (r, values) = r;
        dist_table.rows.push(vec![
            r.name.clone(),
            values.as_ref().map_or(0, Vec::len).to_string(),
            five.map_or_else(|| "–".into(), |f| fmt(lang, f[2], 1)),
            five.map_or_else(
                || "–".into(),
                |f| format!("{} – {}", fmt(lang, f[1], 1), fmt(lang, f[3], 1)),
            ),
        ]);
        // The chart leaves out rows with nothing to draw, so each box sits under its
        // own region's name.
        if let Some(five) = five {
            categories.push(r.name.clone());
            boxes.push(Some(five));
        }
    }
    if !boxes.is_empty() {
        out.distribution = Some(
            charts::boxes(
                "distribution",
                &fill(lang, "region.distribution_title", &[("role", &out.role)]),
                &fill(
                    lang,
                    "region.distribution_description",
                    &[("k", &k.get().to_string())],
                ),
                &categories,
                &fill(lang, "dashboard.index", &[]),
                &boxes,
                100.0,
                dist_table,
            )?
            .in_lang(lang),
        );
    }

    // Every role beside the others in the region itself.
    let level = Level::of(region.kind);
    let all = |m: &str| -> Vec<(String, Option<&Published<Estimate>>)> {
        roles
            .iter()
            .zip(&role_labels)
            .map(|(r, label)| {
                (
                    label.clone(),
                    results
                        .region_cell(level, Some(&region.id), r, service_type, m)
                        .map(|c| &c.stats),
                )
            })
            .collect()
    };
    let measures = phase_codes
        .iter()
        .zip(&out.phases)
        .map(|(code, title)| (title.clone(), false, all(code), 2))
        .chain(std::iter::once((
            fill(lang, "dashboard.index", &[]),
            true,
            all("index"),
            1,
        )));
    let mut gap_series: Vec<Vec<Option<f64>>> = vec![Vec::new(); roles.len()];
    let mut gap_bounds: Vec<Vec<Option<(f64, f64)>>> = vec![Vec::new(); roles.len()];
    for (measure, is_index, cells, digits) in measures {
        out.gap
            .push(gap_row(measure, is_index, &cells, digits, lang));
        if !is_index {
            for (i, (_, c)) in cells.iter().enumerate() {
                let e = c.and_then(|c| c.shown());
                gap_series[i].push(e.map(|e| e.mean));
                gap_bounds[i].push(e.and_then(|e| e.ci_low.zip(e.ci_high)));
            }
        }
    }
    if gap_series.iter().flatten().any(Option::is_some) {
        let pair_labels: Vec<String> = out
            .gap
            .first()
            .map(|g| g.pairs.iter().map(|p| p.label.clone()).collect())
            .unwrap_or_default();
        let mut table = DataTable {
            headers: std::iter::once(fill(lang, "dashboard.phase", &[]))
                .chain(role_labels.iter().cloned())
                .chain(pair_labels)
                .collect(),
            rows: Vec::new(),
        };
        for g in out.gap.iter().filter(|g| !g.is_index) {
            table.rows.push(
                std::iter::once(g.measure.clone())
                    .chain(g.cells.iter().map(|c| c.text.clone()))
                    .chain(g.pairs.iter().map(|p| {
                        if p.difference.is_empty() {
                            "–".into()
                        } else {
                            p.difference.clone()
                        }
                    }))
                    .collect(),
            );
        }
        out.gap_chart = Some(
            charts::bars(
                "region-gap",
                &fill(lang, "region.gap_title", &[("region", &region.name)]),
                &fill(lang, "region.gap_description", &[("type", &out.type_label)]),
                &out.phases,
                &role_labels
                    .iter()
                    .enumerate()
                    .map(|(i, label)| Series {
                        name: label.clone(),
                        values: gap_series[i].clone(),
                        bounds: Some(gap_bounds[i].clone()),
                        // `roles` is the survey's whole list, so its index is the role's.
                        colour: Some(charts::role_colour(i)),
                    })
                    .collect::<Vec<_>>(),
                4.0,
                table,
            )?
            .in_lang(lang),
        );
    }
    out.trend = region_trend(
        conn,
        src,
        &waves,
        &results,
        level,
        region,
        service_type,
        (&roles, &role_labels),
        lang,
    )?;

    // Breakdown of the region by service type and role (the index).
    for t in ServiceType::ALL {
        let cells: Vec<HeatCell> = roles
            .iter()
            .map(|role| {
                heat(
                    results
                        .region_cell(level, Some(&region.id), role, Some(*t), "index")
                        .map(|c| &c.stats),
                    lang,
                    1,
                )
            })
            .collect();
        let none = fill(lang, "dashboard.no_answers", &[]);
        if cells.iter().all(|c| c.text == none) {
            continue;
        }
        out.breakdown.push(BreakdownRow {
            service_type: fill(lang, &format!("service_type.{}", t.as_str()), &[]),
            cells,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_box_for_a_hidden_region_and_each_box_in_its_row() {
        let rows = vec![
            ("shown", Some(vec![40.0, 50.0, 60.0])),
            ("hidden", None),
            ("none shown", Some(Vec::new())),
            ("one", Some(vec![70.0])),
        ];
        let boxes = box_plots(&rows);
        assert_eq!(boxes.len(), 4);
        assert_eq!(boxes[0], Some([40.0, 45.0, 50.0, 55.0, 60.0]));
        assert_eq!(boxes[1], None);
        assert_eq!(boxes[2], None);
        assert_eq!(boxes[3], Some([70.0; 5]));
    }
}
