//! The variables of a bundle (one per item, named and labelled as the survey file has
//! them) and the research project's pseudonyms.

use crate::core::instrument::format::{ContextKind, MissingMeaning, SurveyFile};
use crate::infra::crypto::DerivedKeys;

/// One exported variable.
#[derive(Debug, Clone)]
pub struct Variable {
    /// Column name: the item code in lower case.
    pub name: String,
    /// The item code answers are stored under.
    pub code: String,
    pub label_en: String,
    pub label_nb: String,
    /// `scored`, or the kind of context question.
    pub kind: String,
    /// Value labels (English), in order.
    pub values: Vec<(i64, String)>,
    /// Missing codes: numeric code, stored code, label (English).
    pub missing: Vec<(i64, String, String)>,
    /// Choice codes by their numeric value (single choice).
    pub choices: Vec<String>,
    pub phase: Option<String>,
    pub roles: Vec<String>,
    pub instrument: String,
}

/// The variables of an instrument, scored items first, in survey-file order.
pub fn variables(survey: &SurveyFile) -> Vec<Variable> {
    let instrument = format!("{}@{}", survey.id, survey.version);
    let mut out = Vec::new();
    for item in &survey.items {
        let scale = survey.scales.get(&item.scale);
        let text = item
            .text
            .get("manager")
            .or_else(|| item.text.values().next());
        let missing = scale.map(|s| missing_codes(&s.missing)).unwrap_or_default();
        out.push(Variable {
            name: item.code.to_lowercase(),
            code: item.code.clone(),
            label_en: text
                .map(|x| crate::core::instrument::format::in_lang(x, "en"))
                .unwrap_or_default()
                .to_owned(),
            label_nb: text
                .map(|x| crate::core::instrument::format::in_lang(x, "nb"))
                .unwrap_or_default()
                .to_owned(),
            kind: "scored".into(),
            values: scale
                .map(|s| {
                    s.points
                        .iter()
                        .map(|p| {
                            (
                                p.value,
                                crate::core::instrument::format::in_lang(&p.label, "en").to_owned(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
            missing,
            choices: Vec::new(),
            phase: Some(item.phase.clone()),
            roles: survey.roles.keys().cloned().collect(),
            instrument: instrument.clone(),
        });
    }
    for c in &survey.context {
        let (values, choices) = match c.kind {
            ContextKind::SingleChoice => (
                c.options
                    .iter()
                    .zip(1..)
                    .map(|(o, i)| {
                        (
                            i,
                            crate::core::instrument::format::in_lang(&o.label, "en").to_owned(),
                        )
                    })
                    .collect(),
                c.options.iter().map(|o| o.code.clone()).collect(),
            ),
            ContextKind::YesNo => (
                vec![(1, "Yes".to_owned()), (0, "No".to_owned())],
                Vec::new(),
            ),
            ContextKind::Rating => (
                vec![
                    (
                        1,
                        c.low_label
                            .as_ref()
                            .map_or("1", |l| crate::core::instrument::format::in_lang(l, "en"))
                            .to_owned(),
                    ),
                    (
                        5,
                        c.high_label
                            .as_ref()
                            .map_or("5", |l| crate::core::instrument::format::in_lang(l, "en"))
                            .to_owned(),
                    ),
                ],
                Vec::new(),
            ),
            _ => (Vec::new(), Vec::new()),
        };
        out.push(Variable {
            name: c.code.to_lowercase(),
            code: c.code.clone(),
            label_en: crate::core::instrument::format::in_lang(&c.text, "en").to_owned(),
            label_nb: crate::core::instrument::format::in_lang(&c.text, "nb").to_owned(),
            kind: serde_json::to_value(c.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            values,
            missing: c
                .extra_codes
                .iter()
                .zip((-9..=-4).rev())
                .map(|(e, v)| {
                    (
                        v,
                        e.code.clone(),
                        crate::core::instrument::format::in_lang(&e.label, "en").to_owned(),
                    )
                })
                .collect(),
            choices,
            phase: None,
            roles: c.roles.clone(),
            instrument: instrument.clone(),
        });
    }
    out
}

/// Numeric codes for a scale's missing codes: -2 "don't know", -3 "not applicable";
/// a second code with the same meaning, and any other, -4, -5, …
pub(super) fn missing_codes(
    all: &[crate::core::instrument::format::MissingCode],
) -> Vec<(i64, String, String)> {
    let mut out: Vec<(i64, String, String)> = Vec::new();
    let mut next = -4;
    for m in all {
        let wanted = match m.meaning {
            MissingMeaning::Missing => -2,
            MissingMeaning::NotApplicable => -3,
        };
        let v = if out.iter().any(|(n, _, _)| *n == wanted) {
            next -= 1;
            next + 1
        } else {
            wanted
        };
        out.push((
            v,
            m.code.clone(),
            crate::core::instrument::format::in_lang(&m.label, "en").to_owned(),
        ));
    }
    out
}

impl Variable {
    /// A stored answer as the number the CSV files carry; `None` when it cannot be
    /// written as one (it is then left empty).
    pub fn encode(
        &self,
        value: Option<f64>,
        text: Option<&str>,
        missing: Option<&str>,
    ) -> Option<String> {
        if let Some(code) = missing {
            return self
                .missing
                .iter()
                .find(|(_, c, _)| c == code)
                .map(|(v, _, _)| v.to_string());
        }
        if let Some(v) = value {
            return Some(if v.fract() == 0.0 && v.abs() < 1e15 {
                format!("{v:.0}")
            } else {
                v.to_string()
            });
        }
        let code = text?;
        self.choices
            .iter()
            .position(|c| c == code)
            .map(|i| (i + 1).to_string())
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
