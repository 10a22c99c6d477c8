//! View models and charts for the dashboards and benchmark reports. Reads analytics
//! results (already through the suppression gate) and the catalogue; never computes a
//! statistic of its own from answers, never renders HTML (templates do).

pub mod charts;
pub mod region;
pub mod service;

use serde::Serialize;
use serde_json::Value;

use crate::domain::RespondentRole;
use crate::i18n::fill;

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

/// "Managers" / "Peer workers" in `lang`.
pub fn role_label(lang: &str, role: RespondentRole) -> String {
    fill(lang, &format!("role.{}", role.as_str()), &[])
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
    pub na_share: String,
    pub dk_share: String,
    /// Why no number is shown ("too few responses to show", "no answers").
    pub notice: String,
}

impl Cell {
    fn hidden(v: &Value, lang: &str) -> Self {
        Self {
            notice: match v["status"].as_str() {
                Some("suppressed") => fill(lang, "dashboard.too_few", &[]),
                _ => fill(lang, "dashboard.no_answers", &[]),
            },
            ..Self::default()
        }
    }

    fn estimate(v: &Value, lang: &str, digits: usize) -> Option<Self> {
        if v["status"] != "shown" {
            return None;
        }
        let s = &v["value"];
        let mean = s["mean"].as_f64()?;
        let bounds = s["ci_low"].as_f64().zip(s["ci_high"].as_f64());
        Some(Self {
            shown: true,
            n: v["n"].as_u64(),
            value: Some(mean),
            bounds,
            mean: fmt(lang, mean, digits),
            ci: bounds.map_or_else(String::new, |(l, h)| {
                format!("{} – {}", fmt(lang, l, digits), fmt(lang, h, digits))
            }),
            ..Self::default()
        })
    }

    /// A phase cell (0–4 scale) with its maturity level, agreement and missing shares.
    pub fn phase(v: &Value, lang: &str, level: impl Fn(Option<u64>) -> String) -> Self {
        let Some(mut c) = Self::estimate(v, lang, 2) else {
            return Self::hidden(v, lang);
        };
        let s = &v["value"];
        c.level_number = s["level"].as_u64();
        c.level = level(c.level_number);
        c.rwg = s["rwg"]
            .as_f64()
            .map(|x| fmt(lang, x, 2))
            .unwrap_or_default();
        let pct = |x: Option<f64>| {
            x.map(|x| format!("{} %", fmt(lang, 100.0 * x, 0)))
                .unwrap_or_default()
        };
        c.na_share = pct(s["not_applicable_share"].as_f64());
        c.dk_share = pct(s["dont_know_share"].as_f64());
        c
    }

    /// An index cell (0–100 scale).
    pub fn index(v: &Value, lang: &str) -> Self {
        Self::estimate(v, lang, 1).unwrap_or_else(|| Self::hidden(v, lang))
    }
}
