//! Checking one answer as typed (a scale point, don't know, not applicable, a number in
//! range with a decimal comma or point, a choice) and the messages that explain a
//! refusal, in the respondent's language.

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::core::domain::ResponseId;
use crate::core::instrument::format::{ContextKind, SurveyFile};
use crate::infra::models::{Answer, NewAnswer};

use super::pages::PageItem;

/// One answer as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stored {
    pub value: Option<f64>,
    pub text: Option<String>,
    pub missing: Option<String>,
}

impl Stored {
    /// The form value that shows this answer again.
    pub fn raw(&self) -> String {
        match (&self.value, &self.text, &self.missing) {
            (_, _, Some(m)) => m.clone(),
            (_, Some(t), _) => t.clone(),
            (Some(v), _, _) if v.fract() == 0.0 => format!("{v:.0}"),
            (Some(v), _, _) => v.to_string(),
            _ => String::new(),
        }
    }

    /// The row that stores this answer to `code`.
    pub fn row(
        &self,
        response: &ResponseId,
        wave: &crate::core::domain::WaveId,
        code: &str,
        at: NaiveDateTime,
    ) -> NewAnswer {
        NewAnswer {
            response_id: response.clone(),
            wave_id: wave.clone(),
            item_code: code.to_owned(),
            value: self.value,
            text_value: self.text.clone(),
            missing_code: self.missing.clone(),
            updated_at: at,
        }
    }

    /// The answer as scoring sees it: a value, a missing code, or a choice (scoring reads
    /// only the evidence questions' choices).
    pub fn answer_value(&self) -> Option<crate::core::scoring::AnswerValue<'_>> {
        match (&self.value, &self.missing, &self.text) {
            (Some(v), _, _) => Some(crate::core::scoring::AnswerValue::Value(*v)),
            (None, Some(code), _) => Some(crate::core::scoring::AnswerValue::Code(code)),
            (None, None, Some(choice)) => Some(crate::core::scoring::AnswerValue::Choice(choice)),
            (None, None, None) => None,
        }
    }

    pub fn from_answer(a: &Answer) -> Self {
        Self {
            value: a.value,
            text: a.text_value.clone(),
            missing: a.missing_code.clone(),
        }
    }
}

/// Messages in the respondent's language (`respondent.answer_*` in the i18n catalogue;
/// English for anything but bokmål).
fn message(lang: &str, key: &str) -> String {
    let lang = if lang == "nb" { "nb" } else { "en" };
    let key = match key {
        "choose" | "whole" | "number" | "year" => key,
        _ => "unusable",
    };
    crate::infra::i18n::fill(lang, &format!("respondent.answer_{key}"), &[])
}

fn range_message(lang: &str, min: Option<f64>, max: Option<f64>) -> String {
    let f = |v: f64| {
        let text = if v.fract() == 0.0 {
            format!("{v:.0}")
        } else {
            v.to_string()
        };
        if lang == "nb" {
            text.replace('.', ",")
        } else {
            text
        }
    };
    let lang = if lang == "nb" { "nb" } else { "en" };
    let (key, min, max) = match (min, max) {
        (Some(a), Some(b)) => ("between", f(a), f(b)),
        (Some(a), None) => ("at_least", f(a), String::new()),
        (None, Some(b)) => ("at_most", String::new(), f(b)),
        (None, None) => return String::new(),
    };
    crate::infra::i18n::fill(
        lang,
        &format!("respondent.answer_{key}"),
        &[("min", &min), ("max", &max)],
    )
}

/// Checks one raw answer. `Ok(None)` means "no answer" (an empty field).
pub fn parse_answer(
    survey: &SurveyFile,
    item: PageItem<'_>,
    raw: &str,
    lang: &str,
) -> Result<Option<Stored>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let missing = |code: &str| Stored {
        value: None,
        text: None,
        missing: Some(code.to_owned()),
    };
    match item {
        PageItem::Scored(i) => {
            let scale = survey
                .scales
                .get(&i.scale)
                .ok_or_else(|| message(lang, "choose"))?;
            if scale.missing.iter().any(|m| m.code == raw) {
                return Ok(Some(missing(raw)));
            }
            #[expect(
                clippy::cast_precision_loss,
                reason = "scale points are small integers"
            )]
            let point = raw
                .parse::<i64>()
                .ok()
                .filter(|v| scale.points.iter().any(|p| p.value == *v))
                .map(|v| v as f64);
            point
                .map(|v| {
                    Some(Stored {
                        value: Some(v),
                        text: None,
                        missing: None,
                    })
                })
                .ok_or_else(|| message(lang, "choose"))
        }
        PageItem::Context(c) => {
            if c.extra_codes.iter().any(|e| e.code == raw) {
                return Ok(Some(missing(raw)));
            }
            let value = |v: f64| {
                Ok(Some(Stored {
                    value: Some(v),
                    text: None,
                    missing: None,
                }))
            };
            let in_range = |v: f64, min: Option<f64>, max: Option<f64>| -> Result<f64, String> {
                if min.is_some_and(|m| v < m) || max.is_some_and(|m| v > m) {
                    Err(range_message(lang, min, max))
                } else {
                    Ok(v)
                }
            };
            match c.kind {
                ContextKind::Integer | ContextKind::Year => {
                    let key = if c.kind == ContextKind::Year {
                        "year"
                    } else {
                        "whole"
                    };
                    let n: i64 = raw.parse().map_err(|_| message(lang, key))?;
                    #[expect(clippy::cast_precision_loss, reason = "small whole numbers")]
                    let n = n as f64;
                    let (min, max) = if c.kind == ContextKind::Year {
                        (c.min.or(Some(1900.0)), c.max.or(Some(2100.0)))
                    } else {
                        (c.min, c.max)
                    };
                    value(in_range(n, min, max)?)
                }
                ContextKind::Number | ContextKind::Percentage => {
                    let n: f64 = raw
                        .replace(',', ".")
                        .parse()
                        .ok()
                        .filter(|v: &f64| v.is_finite())
                        .ok_or_else(|| message(lang, "number"))?;
                    let (min, max) = if c.kind == ContextKind::Percentage {
                        (Some(c.min.unwrap_or(0.0)), Some(c.max.unwrap_or(100.0)))
                    } else {
                        (c.min, c.max)
                    };
                    value(in_range(n, min, max)?)
                }
                ContextKind::Rating => match raw.parse::<u8>() {
                    Ok(n @ 1..=5) => value(f64::from(n)),
                    _ => Err(message(lang, "choose")),
                },
                ContextKind::YesNo => match raw {
                    "yes" => value(1.0),
                    "no" => value(0.0),
                    _ => Err(message(lang, "choose")),
                },
                ContextKind::SingleChoice => {
                    if c.options.iter().any(|o| o.code == raw) {
                        Ok(Some(Stored {
                            value: None,
                            text: Some(raw.to_owned()),
                            missing: None,
                        }))
                    } else {
                        Err(message(lang, "choose"))
                    }
                }
            }
        }
    }
}

/// A rejected field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}
