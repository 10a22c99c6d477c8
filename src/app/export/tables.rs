//! The aggregate tables people download from pages: a service's results, a region's
//! table and the psychometrics, every number as published.

use std::collections::HashMap;

use crate::app::analytics::Publication;
use crate::app::analytics::results::PhasePsychometrics;
use crate::app::analytics::stats::Estimate;
use crate::app::analytics::suppress::Cell;

use super::safe_csv;
use crate::app::audit::{self, Actor};
use crate::infra::db::DbConn;

/// A table a reader downloads from a page.
#[derive(Debug, Clone, Copy)]
pub enum Table<'a> {
    /// One service's results ([`service_csv`]).
    Service { code: &'a str },
    /// The region table behind `region`'s page ([`regions_csv`]): the regions to list by
    /// id with their names, and the national cells' label when the reader may see them.
    Regions {
        region: &'a str,
        names: &'a HashMap<String, String>,
        national: Option<&'a str>,
    },
    /// The wave's psychometrics ([`psychometrics_csv`]).
    Psychometrics,
    /// A page's tables as the reader's spreadsheet ([`crate::app::reports::sheet`]):
    /// `target` is what the page is about (`("service", code)`, `("region", id)`).
    Sheet {
        target: (&'a str, &'a str),
        lang: &'a str,
        sections: &'a [crate::app::reports::sheet::Section],
    },
}

/// `table` of `publication` as CSV, with its audit record (`download.results_csv` or
/// `download.psychometrics_csv`): the one way a page's numbers leave as a file.
pub fn download(
    conn: &mut DbConn,
    actor: &Actor,
    publication: &Publication,
    table: Table<'_>,
) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    let wave = serde_json::json!({ "wave": publication.wave_id });
    match table {
        Table::Service { code } => {
            service_csv(publication, code, &mut out)?;
            let target = Some(("service", code));
            audit::record(conn, actor, "download.results_csv", target, Some(wave))?;
        }
        Table::Regions {
            region,
            names,
            national,
        } => {
            regions_csv(publication, names, national, &mut out)?;
            let target = Some(("region", region));
            audit::record(conn, actor, "download.results_csv", target, Some(wave))?;
        }
        Table::Sheet {
            target,
            lang,
            sections,
        } => {
            out = crate::app::reports::sheet::to_csv(lang, sections)?;
            let detail =
                serde_json::json!({ "wave": publication.wave_id, "format": "spreadsheet" });
            audit::record(
                conn,
                actor,
                "download.results_csv",
                Some(target),
                Some(detail),
            )?;
        }
        Table::Psychometrics => {
            psychometrics_csv(&publication.wave_name, &publication.psychometrics, &mut out)?;
            let target = Some(("wave", publication.wave_id.as_str()));
            audit::record(conn, actor, "download.psychometrics_csv", target, None)?;
        }
    }
    Ok(out)
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

/// `status, n, mean, sd, ci_low, ci_high` of a published estimate.
pub(super) fn stat_cells(cell: &Cell<Estimate>) -> [String; 6] {
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
/// number for a hidden cell), with the evidence of action of a shown phase cell whose
/// role is asked for it (`high_ratings`, `backed`, `stated_not_shown`; empty otherwise).
pub fn service_csv(
    publication: &Publication,
    code: &str,
    out: impl std::io::Write,
) -> anyhow::Result<()> {
    let mut w = safe_csv::Writer::from_writer(out);
    w.write_record([
        "wave",
        "service",
        "role",
        "measure",
        "status",
        "n",
        "mean",
        "sd",
        "ci_low",
        "ci_high",
        "level",
        "high_ratings",
        "backed",
        "stated_not_shown",
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
                    p.stats.shown().and_then(|v| v.evidence),
                )
            })
            .chain(std::iter::once((
                "index",
                role.index.clone().map(|v| v.estimate),
                None,
                None,
            )));
        for (measure, cell, level, evidence) in rows {
            let [status, n, mean, sd, lo, hi] = stat_cells(&cell);
            let level = level.map(|l| l.to_string()).unwrap_or_default();
            // Withheld counts stay empty, like a hidden cell's numbers.
            let [high, backed, flag] =
                evidence
                    .filter(|e| e.withheld.is_none())
                    .map_or_else(Default::default, |e| {
                        [
                            e.high.map(|x| x.to_string()).unwrap_or_default(),
                            e.backed.map(|x| x.to_string()).unwrap_or_default(),
                            u8::from(e.stated_not_shown).to_string(),
                        ]
                    });
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
                &high,
                &backed,
                &flag,
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
