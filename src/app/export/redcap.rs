//! A REDCap data dictionary of an instrument version, so that a research team can run the
//! same questionnaire in REDCap: one instrument (form) per role, with the same answer
//! codes and missing codes as the bundle's data files.
//!
//! REDCap field names are unique across a project, and each role has its own wording of
//! the same items, so a field is named `<variable>_<role>` (`a1_manager`,
//! `a1_peer_worker`); its annotation names the samskap variable it corresponds to.

use crate::core::instrument::format::{ContextKind, SurveyFile, Text, in_lang};

use super::{safe_csv, tidy_number, variables};

/// REDCap's data dictionary columns, in the order its import expects.
pub const REDCAP_COLUMNS: [&str; 18] = [
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
];

/// One dictionary row; unnamed columns stay empty.
#[derive(Default)]
struct Field {
    name: String,
    form: String,
    section: String,
    kind: &'static str,
    label: String,
    choices: String,
    note: String,
    validation: &'static str,
    min: String,
    max: String,
    annotation: String,
}

impl Field {
    fn cells(&self) -> [&str; 18] {
        [
            &self.name,
            &self.form,
            &self.section,
            self.kind,
            &self.label,
            &self.choices,
            &self.note,
            self.validation,
            &self.min,
            &self.max,
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            &self.annotation,
        ]
    }
}

/// `code, label | code, label` as REDCap reads choices (a `|` in a label would start a
/// new choice, so it becomes `/`). A list that starts with a negative code (a scale from
/// -2) starts with a space: REDCap trims it, and the cell is then neither a formula to a
/// spreadsheet nor given the apostrophe that guards one, which REDCap would read as part
/// of the first code.
fn choices(values: &[(i64, String)], missing: &[variables::MissingValue]) -> String {
    let list = values
        .iter()
        .cloned()
        .chain(missing.iter().map(|m| (m.value, m.label.clone())))
        .map(|(n, l)| format!("{n}, {}", l.replace('|', "/")))
        .collect::<Vec<_>>()
        .join(" | ");
    if list.starts_with('-') {
        format!(" {list}")
    } else {
        list
    }
}

/// REDCap field name: lower-case letters, digits and `_`, starting with a letter.
fn field_name(variable: &str, role: &str) -> String {
    format!("{variable}_{role}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// Writes the data dictionary of `survey` with texts in `lang`.
pub(super) fn write_redcap(
    survey: &SurveyFile,
    lang: &str,
    out: impl std::io::Write,
) -> anyhow::Result<()> {
    let vars = variables(survey, lang);
    let var = |code: &str| vars.iter().find(|v| v.code == code);
    let mut w = safe_csv::Writer::from_writer(out);
    w.write_record(REDCAP_COLUMNS)?;
    let first_role = survey.roles.keys().next().cloned().unwrap_or_default();
    w.write_record(
        Field {
            name: "record_id".into(),
            form: first_role,
            kind: "text",
            label: if lang == "nb" { "Post-ID" } else { "Record ID" }.into(),
            ..Field::default()
        }
        .cells(),
    )?;
    let empty = Text::new();
    for role in survey.roles.keys() {
        let mut phase_shown: Option<&str> = None;
        for item in &survey.items {
            let (Some(text), Some(v)) = (item.text.get(role), var(&item.code)) else {
                continue;
            };
            let section = if phase_shown == Some(item.phase.as_str()) {
                String::new()
            } else {
                phase_shown = Some(item.phase.as_str());
                survey
                    .phases
                    .iter()
                    .find(|p| p.code == item.phase)
                    .map(|p| in_lang(&p.title, lang).to_owned())
                    .unwrap_or_default()
            };
            w.write_record(
                Field {
                    name: field_name(&v.name, role),
                    form: role.clone(),
                    section,
                    kind: "radio",
                    label: in_lang(text, lang).to_owned(),
                    choices: choices(&v.values, &v.missing),
                    annotation: format!("samskap: {} ({})", v.name, v.instrument),
                    ..Field::default()
                }
                .cells(),
            )?;
        }
        for c in survey.context.iter().filter(|c| c.roles.contains(role)) {
            let Some(v) = var(&c.code) else { continue };
            let mut field = Field {
                name: field_name(&v.name, role),
                form: role.clone(),
                label: in_lang(&c.text, lang).to_owned(),
                note: in_lang(if c.help.is_empty() { &empty } else { &c.help }, lang).to_owned(),
                annotation: format!("samskap: {} ({})", v.name, v.instrument),
                ..Field::default()
            };
            match c.kind {
                ContextKind::SingleChoice | ContextKind::Rating => {
                    let mut values = v.values.clone();
                    if c.kind == ContextKind::Rating {
                        // samskap labels the ends of a rating; REDCap lists every point.
                        values = (1..=5)
                            .map(|n| {
                                let label = v
                                    .values
                                    .iter()
                                    .find(|(m, _)| *m == n)
                                    .map_or_else(|| n.to_string(), |(_, l)| format!("{n} {l}"));
                                (n, label)
                            })
                            .collect();
                    }
                    field.kind = "radio";
                    field.choices = choices(&values, &v.missing);
                }
                ContextKind::YesNo if v.missing.is_empty() => field.kind = "yesno",
                ContextKind::YesNo => {
                    field.kind = "radio";
                    field.choices = choices(&v.values, &v.missing);
                }
                ContextKind::Integer
                | ContextKind::Year
                | ContextKind::Number
                | ContextKind::Percentage => {
                    field.kind = "text";
                    field.validation = if matches!(c.kind, ContextKind::Integer | ContextKind::Year)
                    {
                        "integer"
                    } else {
                        "number"
                    };
                    field.min = v.range.0.map(tidy_number).unwrap_or_default();
                    field.max = v.range.1.map(tidy_number).unwrap_or_default();
                    if !v.missing.is_empty() {
                        // A text field cannot offer the codes as choices: the note names
                        // them, and REDCap's project-wide missing data codes can hold them.
                        let codes: Vec<String> = v
                            .missing
                            .iter()
                            .map(|m| format!("{} = {}", m.value, m.label))
                            .collect();
                        let or = if lang == "nb" { "Eller" } else { "Or" };
                        let note = format!("{or}: {}", codes.join("; "));
                        field.note = if field.note.is_empty() {
                            note
                        } else {
                            format!("{} {note}", field.note)
                        };
                    }
                }
            }
            w.write_record(field.cells())?;
        }
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_from_a_negative_code_are_neither_a_formula_nor_guarded() {
        let points = |from: i64| -> Vec<(i64, String)> {
            (from..from + 3)
                .map(|n| (n, format!("point {n}")))
                .collect()
        };
        let dk = super::super::variables::MissingValue {
            value: -5,
            stored: "DK".into(),
            code: "DK".into(),
            label: "Don't know | unsure".into(),
            meaning: None,
        };
        assert_eq!(
            choices(&points(0), std::slice::from_ref(&dk)),
            "0, point 0 | 1, point 1 | 2, point 2 | -5, Don't know / unsure"
        );
        let negative = choices(&points(-2), &[dk]);
        assert_eq!(
            negative,
            " -2, point -2 | -1, point -1 | 0, point 0 | -5, Don't know / unsure"
        );
        assert_eq!(super::super::safe_csv::cell(&negative), negative.as_str());
    }
}
