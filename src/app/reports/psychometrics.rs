//! A wave's psychometrics as a researcher reads them: per phase, the reliability of the
//! scale (Cronbach's α), how much of the variance lies between services (ICC(1)) and how
//! reliably a service's mean tells services apart (ICC(2)), each rounded, with what it
//! means and its conventional threshold; per item, its question, n, mean, SD and how the
//! answers spread over the scale points. Every number is the publication's, after the
//! gate; the CSV download keeps full precision.

use serde::Serialize;

use super::fmt;
use crate::app::analytics::Publication;
use crate::core::instrument::format::{MissingMeaning, SurveyFile, in_lang};
use crate::infra::i18n::fill;

#[derive(Debug, Clone, Serialize)]
pub struct PsychometricsView {
    /// The scale points' labels, the item table's distribution columns.
    pub points: Vec<String>,
    /// The missing codes' labels ("Don't know", "Did not take place").
    pub missing: Vec<String>,
    /// Columns of an item row after the question: n, mean, SD, the points, the codes
    /// (a hidden item's notice spans them all).
    pub span: usize,
    pub phases: Vec<PhaseView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PhaseView {
    pub code: String,
    pub title: String,
    pub reliability: Vec<StatRow>,
    pub items: Vec<ItemRow>,
}

/// One phase-level statistic: its value, what it says here, and the convention.
#[derive(Debug, Clone, Serialize)]
pub struct StatRow {
    pub name: String,
    pub value: String,
    /// The conventional band the value falls in ("good", "medium"), or why no value.
    pub verdict: String,
    pub meaning: String,
    pub threshold: String,
    pub n: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemRow {
    pub code: String,
    pub text: String,
    pub shown: bool,
    pub notice: String,
    pub n: String,
    pub mean: String,
    pub sd: String,
    pub counts: Vec<String>,
    pub missing: Vec<String>,
}

/// Bands read the value as shown, at two decimals: 0.695 is shown as 0.70 and is
/// acceptable.
fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The conventional band of Cronbach's α (George & Mallery): below 0.60 poor,
/// questionable to 0.70, acceptable to 0.80, good to 0.90, excellent above.
fn alpha_band(a: f64) -> &'static str {
    match round2(a) {
        x if x >= 0.9 => "excellent",
        x if x >= 0.8 => "good",
        x if x >= 0.7 => "acceptable",
        x if x >= 0.6 => "questionable",
        _ => "poor",
    }
}

/// The conventional size of ICC(1) (LeBreton & Senter 2008): 0.01 small, 0.10 medium,
/// 0.25 large.
fn icc1_band(x: f64) -> &'static str {
    match round2(x) {
        v if v >= 0.25 => "large",
        v if v >= 0.10 => "medium",
        v if v >= 0.01 => "small",
        _ => "none",
    }
}

/// ICC(2), the reliability of group means: 0.70 is the usual floor for comparing groups
/// by their means.
fn icc2_band(x: f64) -> &'static str {
    if round2(x) >= 0.7 {
        "reliable"
    } else {
        "unreliable"
    }
}

/// Builds the view of `publication`'s psychometrics, labelled from `survey` in `lang`.
pub fn view(publication: &Publication, survey: &SurveyFile, lang: &str) -> PsychometricsView {
    let t = |key: &str| fill(lang, key, &[]);
    let scale = survey
        .items
        .first()
        .and_then(|i| survey.scales.get(&i.scale));
    let points: Vec<String> = scale
        .map(|s| {
            s.points
                .iter()
                .map(|p| format!("{} {}", p.value, in_lang(&p.label, lang)))
                .collect()
        })
        .unwrap_or_default();
    // Don't know, then not applicable: the order of the published counts.
    let missing: Vec<String> = [MissingMeaning::Missing, MissingMeaning::NotApplicable]
        .iter()
        .map(|meaning| {
            scale
                .and_then(|s| s.missing.iter().find(|m| m.meaning == *meaning))
                .map_or_else(
                    || t(&format!("psychometrics.missing_{meaning:?}")),
                    |m| in_lang(&m.label, lang).to_owned(),
                )
        })
        .collect();
    let phases = publication
        .psychometrics
        .iter()
        .map(|p| {
            let title = survey
                .phases
                .iter()
                .find(|x| x.code == p.phase)
                .map_or_else(|| p.phase.clone(), |x| in_lang(&x.title, lang).to_owned());
            let withheld = |suppressed: bool| {
                if suppressed {
                    t("dashboard.too_few")
                } else {
                    t("psychometrics.not_estimable")
                }
            };
            let n = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_default();
            let alpha = p.alpha.shown().copied();
            let icc = p.icc.shown();
            let reliability = vec![
                StatRow {
                    name: t("psychometrics.alpha"),
                    value: alpha.map(|a| fmt(lang, a, 2)).unwrap_or_default(),
                    verdict: alpha.map_or_else(
                        || withheld(p.alpha.is_suppressed()),
                        |a| t(&format!("psychometrics.alpha_{}", alpha_band(a))),
                    ),
                    meaning: t("psychometrics.alpha_meaning"),
                    threshold: t("psychometrics.alpha_threshold"),
                    n: n(p.alpha.n()),
                },
                StatRow {
                    name: t("psychometrics.icc1"),
                    value: icc.map(|v| fmt(lang, v.icc1, 2)).unwrap_or_default(),
                    verdict: icc.map_or_else(
                        || withheld(p.icc.is_suppressed()),
                        |v| t(&format!("psychometrics.icc1_{}", icc1_band(v.icc1))),
                    ),
                    meaning: t("psychometrics.icc1_meaning"),
                    threshold: t("psychometrics.icc1_threshold"),
                    n: icc.map_or_else(
                        || n(p.icc.n()),
                        |v| {
                            fill(
                                lang,
                                "psychometrics.in_services",
                                &[
                                    ("n", &v.respondents.to_string()),
                                    ("groups", &v.groups.to_string()),
                                ],
                            )
                        },
                    ),
                },
                StatRow {
                    name: t("psychometrics.icc2"),
                    value: icc.map(|v| fmt(lang, v.icc2, 2)).unwrap_or_default(),
                    verdict: icc.map_or_else(
                        || withheld(p.icc.is_suppressed()),
                        |v| t(&format!("psychometrics.icc2_{}", icc2_band(v.icc2))),
                    ),
                    meaning: t("psychometrics.icc2_meaning"),
                    threshold: t("psychometrics.icc2_threshold"),
                    n: String::new(),
                },
            ];
            let items = item_rows(p, survey, lang);
            PhaseView {
                code: p.phase.clone(),
                title,
                reliability,
                items,
            }
        })
        .collect();
    PsychometricsView {
        span: 3 + points.len() + missing.len(),
        points,
        missing,
        phases,
    }
}

/// One phase's items: the question, and the numbers when the gate shows them.
fn item_rows(
    p: &crate::app::analytics::results::PhasePsychometrics,
    survey: &SurveyFile,
    lang: &str,
) -> Vec<ItemRow> {
    let n = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_default();
    p.items
        .iter()
        .map(|i| {
            let text = survey
                .items
                .iter()
                .find(|x| x.code == i.item)
                .and_then(|x| x.text.values().next())
                .map(|x| in_lang(x, lang).to_owned())
                .unwrap_or_default();
            match i.stats.shown() {
                Some(s) => ItemRow {
                    code: i.item.clone(),
                    text,
                    shown: true,
                    notice: String::new(),
                    n: n(i.stats.n()),
                    mean: s.mean.map(|m| fmt(lang, m, 2)).unwrap_or_default(),
                    sd: s.sd.map(|m| fmt(lang, m, 2)).unwrap_or_default(),
                    counts: s.distribution.iter().map(u64::to_string).collect(),
                    missing: vec![s.dont_know.to_string(), s.not_applicable.to_string()],
                },
                None => ItemRow {
                    code: i.item.clone(),
                    text,
                    shown: false,
                    notice: super::notice(&i.stats, lang),
                    n: String::new(),
                    mean: String::new(),
                    sd: String::new(),
                    counts: Vec::new(),
                    missing: Vec::new(),
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_fall_in_their_conventional_bands() {
        assert_eq!(alpha_band(0.95), "excellent");
        assert_eq!(alpha_band(0.80), "good");
        assert_eq!(alpha_band(0.74), "acceptable");
        assert_eq!(alpha_band(0.65), "questionable");
        assert_eq!(alpha_band(0.2), "poor");
        assert_eq!(icc1_band(0.30), "large");
        assert_eq!(icc1_band(0.12), "medium");
        assert_eq!(icc1_band(0.05), "small");
        assert_eq!(icc1_band(0.0), "none");
        assert_eq!(icc2_band(0.71), "reliable");
        assert_eq!(icc2_band(0.4), "unreliable");
        // As shown: 0.695 reads 0.70.
        assert_eq!(alpha_band(0.695), "acceptable");
        assert_eq!(icc2_band(0.695), "reliable");
        assert_eq!(crate::app::reports::agreement_band(0.705), "strong");
    }
}
