//! The variables of a bundle (one per item, named and labelled as the survey file has
//! them, in the language the researcher chose) and the research project's pseudonyms.

use crate::core::instrument::format::{ContextKind, MissingMeaning, SurveyFile, Text, in_lang};
use crate::infra::crypto::DerivedKeys;

/// The languages a bundle's labels can be written in.
pub const LANGUAGES: [&str; 2] = ["en", "nb"];

/// One exported variable.
#[derive(Debug, Clone)]
pub struct Variable {
    /// Column name: the item code in lower case.
    pub name: String,
    /// The item code answers are stored under.
    pub code: String,
    /// The question, in the bundle's language.
    pub label: String,
    pub label_en: String,
    pub label_nb: String,
    /// `scored`, or the kind of context question.
    pub kind: String,
    /// Value labels in the bundle's language, in order.
    pub values: Vec<(i64, String)>,
    /// Missing codes, highest first (-2, -3, …).
    pub missing: Vec<MissingValue>,
    /// Choice codes by their numeric value (single choice).
    pub choices: Vec<String>,
    pub phase: Option<String>,
    pub roles: Vec<String>,
    pub instrument: String,
    /// The lowest and highest valid value, when the survey file bounds them.
    pub range: (Option<f64>, Option<f64>),
}

/// One missing code of a variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingValue {
    /// The number the data files carry: negative, below every valid value.
    pub value: i64,
    /// The code answers are stored with (`DK`, `NA`, `NEVER`).
    pub stored: String,
    /// The code `long.csv` and the codebook name it by: the stored code, except where R,
    /// pandas or a spreadsheet would read that code as an empty cell (`NA`, `N/A`,
    /// `NULL`, …), which becomes what it means (`not_applicable`, `dont_know`).
    pub code: String,
    /// In the bundle's language.
    pub label: String,
    /// What a scale's code means; `None` for a context question's extra code.
    pub meaning: Option<MissingMeaning>,
}

/// Cell texts that R (`na.strings`), pandas (`read_csv`'s default `na_values`), Stata's
/// and SPSS's importers or a spreadsheet read as a missing value rather than as text.
const READ_AS_EMPTY: [&str; 15] = [
    "", "na", "n/a", "nan", "-nan", "null", "none", "nil", "#n/a", "#n/a n/a", "<na>", "-1.#ind",
    "1.#ind", "-1.#qnan", "1.#qnan",
];

/// The name a missing code goes by in the files (see [`MissingValue::code`]).
fn export_code(stored: &str, meaning: Option<MissingMeaning>) -> String {
    if READ_AS_EMPTY.contains(&stored.to_lowercase().as_str()) {
        match meaning {
            Some(MissingMeaning::Missing) => "dont_know".to_owned(),
            Some(MissingMeaning::NotApplicable) | None => "not_applicable".to_owned(),
        }
    } else {
        stored.to_owned()
    }
}

/// The first (highest) missing code of a variable whose valid values start at `floor`:
/// -2, or one below the lowest valid value when that is -2 or less, so that a code is
/// never a value someone could give. A numeric question without a `min` is taken to
/// start at 0 (give it a `min` when answers can be negative).
fn first_code(floor: Option<f64>) -> i64 {
    match floor {
        #[expect(
            clippy::cast_possible_truncation,
            reason = "a finite survey bound, floored: far inside i64"
        )]
        Some(f) if f.is_finite() && f < -1.0 => f.floor() as i64 - 1,
        _ => -2,
    }
}

/// Numeric codes for missing codes, from `top` down: the first code meaning "missing"
/// (don't know) gets `top`, the first meaning "not applicable" `top - 1`, any other the
/// next free number below, without limit.
fn number_codes(
    codes: &[(&str, Option<MissingMeaning>, &Text)],
    top: i64,
    lang: &str,
) -> Vec<MissingValue> {
    let mut out: Vec<MissingValue> = Vec::new();
    let mut next = top - 2;
    for (stored, meaning, label) in codes {
        let wanted = match meaning {
            Some(MissingMeaning::Missing) => Some(top),
            Some(MissingMeaning::NotApplicable) => Some(top - 1),
            None => None,
        };
        let value = match wanted {
            Some(v) if !out.iter().any(|m| m.value == v) => v,
            _ => {
                next -= 1;
                next + 1
            }
        };
        let mut code = export_code(stored, *meaning);
        if out.iter().any(|m| m.code == code) {
            code = format!("{code}_{}", -value);
        }
        out.push(MissingValue {
            value,
            stored: (*stored).to_owned(),
            code,
            label: in_lang(label, lang).to_owned(),
            meaning: *meaning,
        });
    }
    out.sort_by_key(|m| std::cmp::Reverse(m.value));
    out
}

/// The variables of an instrument, scored items first, in survey-file order, labelled in
/// `lang` (a text the survey file lacks in `lang` falls back to its first language).
pub fn variables(survey: &SurveyFile, lang: &str) -> Vec<Variable> {
    let instrument = format!("{}@{}", survey.id, survey.version);
    let mut out = Vec::new();
    for item in &survey.items {
        let scale = survey.scales.get(&item.scale);
        let empty = Text::new();
        // The first role's wording (in the order of the codes): the label names the
        // item; every role's own text is in the codebook and the DDI.
        let text = item.text.values().next().unwrap_or(&empty);
        let floor = scale.and_then(|s| s.points.iter().map(|p| p.value).min());
        let ceiling = scale.and_then(|s| s.points.iter().map(|p| p.value).max());
        #[expect(
            clippy::cast_precision_loss,
            reason = "scale points are small whole numbers"
        )]
        let (floor, ceiling) = (floor.map(|v| v as f64), ceiling.map(|v| v as f64));
        let codes: Vec<(&str, Option<MissingMeaning>, &Text)> = scale
            .map(|s| {
                s.missing
                    .iter()
                    .map(|m| (m.code.as_str(), Some(m.meaning), &m.label))
                    .collect()
            })
            .unwrap_or_default();
        out.push(Variable {
            name: item.code.to_lowercase(),
            code: item.code.clone(),
            label: in_lang(text, lang).to_owned(),
            label_en: in_lang(text, "en").to_owned(),
            label_nb: in_lang(text, "nb").to_owned(),
            kind: "scored".into(),
            values: scale
                .map(|s| {
                    s.points
                        .iter()
                        .map(|p| (p.value, in_lang(&p.label, lang).to_owned()))
                        .collect()
                })
                .unwrap_or_default(),
            missing: number_codes(&codes, first_code(floor), lang),
            choices: Vec::new(),
            phase: Some(item.phase.clone()),
            roles: survey.roles.keys().cloned().collect(),
            instrument: instrument.clone(),
            range: (floor, ceiling),
        });
    }
    for c in &survey.context {
        let (values, choices) = match c.kind {
            ContextKind::SingleChoice => (
                c.options
                    .iter()
                    .zip(1..)
                    .map(|(o, i)| (i, in_lang(&o.label, lang).to_owned()))
                    .collect(),
                c.options.iter().map(|o| o.code.clone()).collect(),
            ),
            ContextKind::YesNo => {
                let (yes, no) = if lang == "nb" {
                    ("Ja", "Nei")
                } else {
                    ("Yes", "No")
                };
                (vec![(1, yes.to_owned()), (0, no.to_owned())], Vec::new())
            }
            ContextKind::Rating => (
                vec![
                    (
                        1,
                        c.low_label
                            .as_ref()
                            .map_or("1", |l| in_lang(l, lang))
                            .to_owned(),
                    ),
                    (
                        5,
                        c.high_label
                            .as_ref()
                            .map_or("5", |l| in_lang(l, lang))
                            .to_owned(),
                    ),
                ],
                Vec::new(),
            ),
            _ => (Vec::new(), Vec::new()),
        };
        #[expect(
            clippy::cast_precision_loss,
            reason = "a question has a handful of options"
        )]
        let range = match c.kind {
            ContextKind::SingleChoice => (Some(1.0), Some(c.options.len() as f64)),
            ContextKind::YesNo => (Some(0.0), Some(1.0)),
            ContextKind::Rating => (Some(1.0), Some(5.0)),
            ContextKind::Year => (c.min.or(Some(1900.0)), c.max.or(Some(2100.0))),
            ContextKind::Percentage => (c.min.or(Some(0.0)), c.max.or(Some(100.0))),
            _ => (c.min, c.max),
        };
        let codes: Vec<(&str, Option<MissingMeaning>, &Text)> = c
            .extra_codes
            .iter()
            .map(|e| (e.code.as_str(), None, &e.label))
            .collect();
        out.push(Variable {
            name: c.code.to_lowercase(),
            code: c.code.clone(),
            label: in_lang(&c.text, lang).to_owned(),
            label_en: in_lang(&c.text, "en").to_owned(),
            label_nb: in_lang(&c.text, "nb").to_owned(),
            kind: serde_json::to_value(c.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            values,
            missing: number_codes(&codes, first_code(range.0), lang),
            choices,
            phase: None,
            roles: c.roles.clone(),
            instrument: instrument.clone(),
            range,
        });
    }
    out
}

/// A number as the data files write it: whole numbers without a decimal point, others
/// in the shortest form that reads back as the same value at 12 significant digits, so
/// that 5.6 stored as 5.6000000000000005 is written 5.6.
pub fn tidy_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{v:.0}");
    }
    format!("{v:.11e}")
        .parse::<f64>()
        .map_or_else(|_| v.to_string(), |r| r.to_string())
}

impl Variable {
    /// A stored answer as the number the data files carry; `None` when it cannot be
    /// written as one (it is then left empty).
    pub fn number(
        &self,
        value: Option<f64>,
        text: Option<&str>,
        missing: Option<&str>,
    ) -> Option<f64> {
        if let Some(code) = missing {
            #[expect(
                clippy::cast_precision_loss,
                reason = "missing codes are small negative numbers"
            )]
            return self
                .missing
                .iter()
                .find(|m| m.stored == code)
                .map(|m| m.value as f64);
        }
        if let Some(v) = value {
            return Some(v);
        }
        let code = text?;
        #[expect(
            clippy::cast_precision_loss,
            reason = "a question has a handful of options"
        )]
        self.choices
            .iter()
            .position(|c| c == code)
            .map(|i| (i + 1) as f64)
    }

    /// [`Variable::number`] as CSV text.
    pub fn encode(
        &self,
        value: Option<f64>,
        text: Option<&str>,
        missing: Option<&str>,
    ) -> Option<String> {
        self.number(value, text, missing).map(tidy_number)
    }

    /// The highest missing code (the codes run from it downwards), if any.
    pub fn top_code(&self) -> Option<i64> {
        self.missing.first().map(|m| m.value)
    }

    /// The name a stored missing code goes by in the files.
    pub fn missing_name(&self, stored: &str) -> Option<&str> {
        self.missing
            .iter()
            .find(|m| m.stored == stored)
            .map(|m| m.code.as_str())
    }
}

/// Keyed pseudonyms for one research project.
pub struct Pseudonyms {
    key: [u8; 32],
}

impl std::fmt::Debug for Pseudonyms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonyms([redacted])")
    }
}

impl Pseudonyms {
    pub fn new(keys: &DerivedKeys, project: &str) -> Self {
        Self {
            key: crate::infra::crypto::hmac_sha256(&keys.research, project.as_bytes()),
        }
    }

    /// `prefix` + 12 hex characters of a keyed hash of `kind:value`.
    pub fn of(&self, prefix: &str, kind: &str, value: &str) -> String {
        let mac =
            crate::infra::crypto::hmac_sha256(&self.key, format!("{kind}:{value}").as_bytes());
        format!("{prefix}{}", &crate::infra::crypto::hex(&mac)[..12])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(en: &str) -> Text {
        Text::from([
            ("en".to_owned(), en.to_owned()),
            ("nb".to_owned(), format!("nb {en}")),
        ])
    }

    #[test]
    fn every_code_gets_its_own_number_without_limit() {
        let (dk, na, never) = (label("Don't know"), label("Did not happen"), label("Never"));
        let mut codes: Vec<(&str, Option<MissingMeaning>, &Text)> = vec![
            ("NA", Some(MissingMeaning::NotApplicable), &na),
            ("DK", Some(MissingMeaning::Missing), &dk),
        ];
        let extra: Vec<String> = (1..=8).map(|i| format!("X{i}")).collect();
        codes.extend(extra.iter().map(|c| (c.as_str(), None, &never)));
        let got = number_codes(&codes, -2, "nb");
        let values: Vec<i64> = got.iter().map(|m| m.value).collect();
        assert_eq!(values, (2..=11).map(|v| -v).collect::<Vec<_>>());
        assert_eq!(got[0].stored, "DK");
        assert_eq!(got[0].label, "nb Don't know");
        // NA is what R and pandas read as an empty cell: it goes by what it means.
        assert_eq!(
            (got[1].stored.as_str(), got[1].code.as_str()),
            ("NA", "not_applicable")
        );
        assert_eq!(got[9].code, "X8");
    }

    #[test]
    fn codes_stay_below_valid_values_that_are_negative() {
        assert_eq!(first_code(None), -2);
        assert_eq!(first_code(Some(0.0)), -2);
        assert_eq!(first_code(Some(-1.0)), -2);
        assert_eq!(first_code(Some(-5.0)), -6);
        assert_eq!(first_code(Some(-2.5)), -4);
    }

    #[test]
    fn numbers_are_written_as_typed() {
        assert_eq!(tidy_number(5.600_000_000_000_000_5), "5.6");
        assert_eq!(tidy_number(0.1 + 0.2), "0.3");
        assert_eq!(tidy_number(2015.0), "2015");
        assert_eq!(tidy_number(-3.0), "-3");
        assert_eq!(tidy_number(1.234_567_890_123), "1.23456789012");
        assert_eq!(tidy_number(1e-7), "0.0000001");
    }
}
