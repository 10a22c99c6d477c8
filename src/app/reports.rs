//! View models and charts for the dashboards and benchmark reports ([`service`],
//! [`region`], [`charts`]), the printable report, and mailing it ([`mail`]). Reads analytics
//! results (already through the suppression gate) and the catalogue, and never computes a
//! statistic of its own from answers. Pages render these views through the web's
//! templates; the printable reports written to files render them here, through
//! [`crate::infra::render`] (the same templates).

pub mod charts;
pub mod mail;
pub mod psychometrics;
pub mod region;
pub mod service;
pub mod sheet;

pub use mail::{MailRefusal, mail_report, mail_reports, manager_accounts};

use serde::Serialize;
use serde_json::json;

use crate::app::analytics::results::{Count, IndexStats, PhaseStats};
use crate::app::analytics::stats::Estimate;
use crate::app::analytics::suppress::Cell as Published;
use crate::core::domain::RespondentRole;
use crate::infra::i18n::fill;

/// The wave a dashboard shows, and the newer one it passed over for having too few
/// answers yet (the page says so).
#[derive(Debug, Clone, Copy)]
pub struct ShownWave<'a> {
    pub wave: &'a crate::infra::models::Wave,
    pub passed_over: Option<&'a crate::infra::models::Wave>,
}

/// The one rule for which wave the service and region dashboards show (their downloads
/// and reports get it in their links): the one asked for (`None` when it is not among
/// `waves`); else the newest of `waves` (given
/// newest first) whose publication has results for this page (`has_results`), so that
/// opening a new wave does not blank every dashboard until its first answers arrive.
/// A wave whose first publication is still being computed is shown (as pending); when
/// no wave has results, the newest.
///
/// # Errors
/// When the database cannot be read.
pub fn shown_wave<'a>(
    conn: &mut crate::infra::db::DbConn,
    waves: &'a [crate::infra::models::Wave],
    asked: Option<&str>,
    src: &dyn crate::app::analytics::Publications,
    has_results: impl Fn(&crate::app::analytics::Publication) -> bool,
) -> anyhow::Result<Option<ShownWave<'a>>> {
    if asked.is_some() {
        return Ok(
            crate::app::waves::asked_or_newest(waves, asked).map(|wave| ShownWave {
                wave,
                passed_over: None,
            }),
        );
    }
    let Some(newest) = waves.first() else {
        return Ok(None);
    };
    for wave in waves {
        let with_results = match src.get(conn, &wave.id)? {
            None => true,
            Some(p) => has_results(&p),
        };
        if with_results {
            return Ok(Some(ShownWave {
                wave,
                passed_over: (wave.id != newest.id).then_some(newest),
            }));
        }
    }
    Ok(Some(ShownWave {
        wave: newest,
        passed_over: None,
    }))
}

/// A number as the page's language writes it: decimal comma in bokmål.
pub fn fmt(lang: &str, x: f64, digits: usize) -> String {
    let s = format!("{x:.digits$}");
    let s = if s.starts_with('-') && s.trim_start_matches(['-', '0', '.']).is_empty() {
        s.trim_start_matches('-').to_owned()
    } else {
        s
    };
    if lang == "nb" { s.replace('.', ",") } else { s }
}

/// A difference with its sign ("+0,40", "−1,20"); no sign when it rounds to zero.
pub fn signed(lang: &str, x: f64, digits: usize) -> String {
    let s = fmt(lang, x.abs(), digits);
    if s == fmt(lang, 0.0, digits) {
        s
    } else if x > 0.0 {
        format!("+{s}")
    } else {
        format!("−{s}")
    }
}

/// A perception gap (the first group's mean minus the second's, `names` of the two
/// groups) in words: who rates the phase higher and by how much, at the rounding of the
/// number beside it (a gap that rounds to zero is "the same").
pub fn gap_sentence(lang: &str, names: (&str, &str), gap: f64, digits: usize) -> String {
    let size = fmt(lang, gap.abs(), digits);
    let (higher, lower) = if gap >= 0.0 {
        names
    } else {
        (names.1, names.0)
    };
    let key = if size == fmt(lang, 0.0, digits) {
        "dashboard.gap_none"
    } else {
        "dashboard.gap_higher"
    };
    fill(
        lang,
        key,
        &[
            ("size", &size),
            ("higher", higher),
            ("lower", &lower.to_lowercase()),
        ],
    )
}

/// "a", "a and b", "a, b and c" in `lang`.
pub fn listing(lang: &str, parts: &[String]) -> String {
    joined(parts, &fill(lang, "home.and", &[]))
}

/// "a", "a or b", "a, b or c" in `lang`.
pub fn listing_or(lang: &str, parts: &[String]) -> String {
    joined(parts, &fill(lang, "common.or", &[]))
}

/// `parts` separated by commas, the last by `word`.
fn joined(parts: &[String], word: &str) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {word} {last}", init.join(", ")),
    }
}

/// One value per wave for each role (in the order given); `None` where the gate hid it.
pub(crate) type RoleSeries = Vec<Vec<Option<f64>>>;

/// The index of each of `roles` over `waves` (given newest first), oldest first, each
/// wave read from its own publication (`current` for the wave the page shows; a wave
/// whose publication is not there yet is left out). `index` gives a wave's value for a
/// role, or `None` for a wave the page had no part in (left out too). Returns the waves'
/// names and one series per role.
pub(crate) fn index_over_waves(
    conn: &mut crate::infra::db::DbConn,
    src: &dyn crate::app::analytics::Publications,
    waves: &[crate::infra::models::Wave],
    current: &std::sync::Arc<crate::app::analytics::Publication>,
    roles: &[RespondentRole],
    index: impl Fn(&crate::app::analytics::Publication, &RespondentRole) -> Option<Option<f64>>,
) -> anyhow::Result<(Vec<String>, RoleSeries)> {
    let mut names = Vec::new();
    let mut series: RoleSeries = vec![Vec::new(); roles.len()];
    for w in waves.iter().rev() {
        let p = if w.id == current.wave_id {
            current.clone()
        } else {
            match src.get(conn, &w.id)? {
                Some(p) => p,
                None => continue,
            }
        };
        let Some(values) = roles
            .iter()
            .map(|r| index(&p, r))
            .collect::<Option<Vec<Option<f64>>>>()
        else {
            continue;
        };
        names.push(w.name.clone());
        for (s, v) in series.iter_mut().zip(values) {
            s.push(v);
        }
    }
    Ok((names, series))
}

/// The line chart (with its table) of [`index_over_waves`]: one line per role (`roles`:
/// their names and colours, and their series), a wave's hidden value "not shown".
pub(crate) fn index_trend_chart(
    id: &str,
    title: &str,
    names: &[String],
    (roles, series): (&[(String, &'static str)], &RoleSeries),
    lang: &str,
) -> anyhow::Result<charts::Chart> {
    let table = charts::DataTable {
        headers: std::iter::once(fill(lang, "dashboard.wave", &[]))
            .chain(roles.iter().map(|(name, _)| name.clone()))
            .collect(),
        rows: names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                std::iter::once(name.clone())
                    .chain(series.iter().map(|v| {
                        v[i].map_or_else(
                            || fill(lang, "dashboard.hidden_short", &[]),
                            |x| fmt(lang, x, 1),
                        )
                    }))
                    .collect()
            })
            .collect(),
    };
    Ok(charts::lines(
        id,
        title,
        &fill(
            lang,
            "dashboard.trend_description",
            &[("waves", &names.len().to_string())],
        ),
        names,
        &roles
            .iter()
            .zip(series)
            .map(|((name, colour), values)| charts::Series {
                name: name.clone(),
                values: values.clone(),
                bounds: None,
                colour: Some(colour),
            })
            .collect::<Vec<_>>(),
        100.0,
        table,
    )?
    .in_lang(lang))
}

/// One published statistic as a page shows it: the numbers when the gate showed it,
/// otherwise a notice that says why there is no number.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Cell {
    pub shown: bool,
    pub n: Option<u64>,
    #[serde(skip)]
    pub value: Option<f64>,
    #[serde(skip)]
    pub bounds: Option<(f64, f64)>,
    #[serde(skip)]
    pub level_number: Option<u64>,
    pub mean: String,
    pub ci: String,
    pub level: String,
    pub rwg: String,
    /// The agreement in words, by the conventional bands of rwg (LeBreton & Senter 2008).
    pub agreement: String,
    pub na_share: String,
    pub dk_share: String,
    /// Why no number is shown ("too few responses to show", "no answers").
    pub notice: String,
}

impl Cell {
    fn hidden<T>(cell: &Published<T>, lang: &str) -> Self {
        Self {
            notice: notice(cell, lang),
            ..Self::default()
        }
    }

    fn estimate<T>(cell: &Published<T>, e: &Estimate, lang: &str, digits: usize) -> Self {
        let bounds = e.ci_low.zip(e.ci_high);
        Self {
            shown: true,
            n: cell.n(),
            value: Some(e.mean),
            bounds,
            mean: fmt(lang, e.mean, digits),
            ci: bounds.map_or_else(String::new, |(l, h)| {
                format!("{} – {}", fmt(lang, l, digits), fmt(lang, h, digits))
            }),
            ..Self::default()
        }
    }

    /// A phase cell (0–4 scale) with its maturity level, agreement and missing shares.
    pub fn phase(
        cell: &Published<PhaseStats>,
        lang: &str,
        level: impl Fn(Option<u64>) -> String,
    ) -> Self {
        let Some(s) = cell.shown() else {
            return Self::hidden(cell, lang);
        };
        let mut c = Self::estimate(cell, &s.estimate, lang, 2);
        c.level_number = s.level.map(u64::from);
        c.level = level(c.level_number);
        c.rwg = s.rwg.map(|x| fmt(lang, x, 2)).unwrap_or_default();
        c.agreement = s
            .rwg
            .map(|x| {
                fill(
                    lang,
                    &format!("dashboard.agreement_{}", agreement_band(x)),
                    &[],
                )
            })
            .unwrap_or_default();
        let pct = |x: f64| format!("{} %", fmt(lang, 100.0 * x, 0));
        c.na_share = pct(s.not_applicable_share);
        c.dk_share = pct(s.dont_know_share);
        c
    }

    /// An index cell (0–100 scale).
    pub fn index(cell: &Published<IndexStats>, lang: &str) -> Self {
        cell.shown().map_or_else(
            || Self::hidden(cell, lang),
            |s| Self::estimate(cell, &s.estimate, lang, 1),
        )
    }
}

/// The conventional band of an rwg value (LeBreton & Senter 2008): below 0.31 a lack of
/// agreement, then weak, moderate (from 0.51), strong (from 0.71), very strong (from 0.91).
pub fn agreement_band(rwg: f64) -> &'static str {
    // Banded as shown (two decimals): 0.705 reads 0.71, and is strong.
    match (rwg * 100.0).round() / 100.0 {
        x if x >= 0.91 => "very_strong",
        x if x >= 0.71 => "strong",
        x if x >= 0.51 => "moderate",
        x if x >= 0.31 => "weak",
        _ => "none",
    }
}

/// Why a hidden cell shows no number: "too few responses to show" (withheld by the
/// gate) or "no answers"; empty for a shown cell.
pub fn notice<T>(cell: &Published<T>, lang: &str) -> String {
    if cell.shown().is_some() {
        String::new()
    } else if cell.is_suppressed() {
        fill(lang, "dashboard.too_few", &[])
    } else {
        fill(lang, "dashboard.no_answers", &[])
    }
}

/// A published count of people: the number, or "fewer than k".
pub fn count(c: Count, lang: &str) -> String {
    match c {
        Count::Exact(n) => n.to_string(),
        Count::FewerThan(k) => fill(lang, "dashboard.fewer_than", &[("k", &k.to_string())]),
    }
}

/// Where a printable report's styles come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Styles {
    /// In the document: a report file opens styled from disk or an e-mail attachment.
    Inline,
    /// The site's stylesheet, linked: the page served under the site's
    /// Content-Security-Policy (`style-src 'self'`), which blocks inline styles.
    Linked,
}

/// A service's benchmark report for a wave as one printable HTML document (A4 print
/// stylesheet); `None` when the service took part in no opened wave (or not in `wave`).
pub fn service_report(
    conn: &mut crate::infra::db::DbConn,
    service: &crate::infra::models::Service,
    wave: Option<&crate::core::domain::WaveId>,
    src: &dyn crate::app::analytics::Publications,
    lang: &str,
    styles: Styles,
) -> anyhow::Result<Option<(service::ServiceDashboard, String)>> {
    let d = service::dashboard(conn, service, wave, src, lang)?;
    let Some(w) = &d.wave else {
        return Ok(None);
    };
    if wave.is_some_and(|id| id.as_str() != w.id) {
        return Ok(None);
    }
    let html = crate::infra::render::render(
        "report",
        &json!({
            "page_lang": lang,
            "printable": true,
            "d": d,
            "css": (styles == Styles::Inline).then(crate::infra::render::stylesheet),
            "printed": chrono::Utc::now().format("%Y-%m-%d").to_string(),
            "respondents": d.respondents,
            "instrument": w.instrument,
        }),
    )?;
    Ok(Some((d, html)))
}
