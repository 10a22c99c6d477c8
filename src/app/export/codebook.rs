//! What describes a bundle's variables: `codebook.csv`, `datapackage.json` (Frictionless)
//! and `README.md`.

use serde_json::json;

use crate::infra::models::Wave;

use super::{Dictionary, ID_COLUMNS, Summary, Variable, safe_csv, tidy_number};

pub(super) fn value_labels(v: &Variable) -> String {
    v.values
        .iter()
        .map(|(n, l)| format!("{n}={l}"))
        .collect::<Vec<_>>()
        .join("; ")
}

pub(super) fn missing_labels(v: &Variable) -> String {
    v.missing
        .iter()
        .map(|m| format!("{}={} ({})", m.value, m.code, m.label))
        .collect::<Vec<_>>()
        .join("; ")
}

pub(super) fn write_codebook(dict: &Dictionary, out: impl std::io::Write) -> anyhow::Result<()> {
    let mut w = safe_csv::Writer::from_writer(out);
    w.write_record([
        "variable",
        "label",
        "label_en",
        "label_nb",
        "type",
        "values",
        "missing",
        "valid_min",
        "valid_max",
        "phase",
        "roles",
        "instrument",
    ])?;
    let roles = dict
        .roles
        .iter()
        .map(|(c, l)| format!("{c}={l}"))
        .collect::<Vec<_>>()
        .join("; ");
    for (name, en, nb) in ID_COLUMNS {
        w.write_record([
            name,
            dict.id_label(name),
            en,
            nb,
            "string",
            if name == "role" { roles.as_str() } else { "" },
            "",
            "",
            "",
            "",
            "",
            "",
        ])?;
    }
    let bound = |b: Option<f64>| b.map(tidy_number).unwrap_or_default();
    for v in &dict.vars {
        w.write_record([
            v.name.as_str(),
            v.label.as_str(),
            v.label_en.as_str(),
            v.label_nb.as_str(),
            "numeric",
            value_labels(v).as_str(),
            missing_labels(v).as_str(),
            bound(v.range.0).as_str(),
            bound(v.range.1).as_str(),
            v.phase.as_deref().unwrap_or(""),
            v.roles.join("; ").as_str(),
            v.instrument.as_str(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// Every missing code of `vars` as the text a CSV cell holds, after the empty cell.
fn missing_texts<'a>(vars: impl Iterator<Item = &'a Variable>) -> Vec<String> {
    let mut codes: Vec<i64> = vars
        .flat_map(|v| v.missing.iter().map(|m| m.value))
        .collect();
    codes.sort_unstable_by(|a, b| b.cmp(a));
    codes.dedup();
    std::iter::once(String::new())
        .chain(codes.into_iter().map(|c| c.to_string()))
        .collect()
}

/// `datapackage.json`: a Frictionless (Data Package v2, readable as v1) description of
/// the CSV files. Missing codes are missing values: every field lists its own codes
/// (`missingValues` on the field, v2) and each schema the union of its fields' codes
/// (v1 has only schema-level missing values); they are also categories with labels.
pub(super) fn write_datapackage(
    dict: &Dictionary,
    mut out: impl std::io::Write,
) -> anyhow::Result<()> {
    let role_codes: Vec<&str> = dict.roles.iter().map(|(c, _)| c.as_str()).collect();
    let role_categories: Vec<serde_json::Value> = dict
        .roles
        .iter()
        .map(|(c, l)| json!({"value": c, "label": l}))
        .collect();
    let mut wide_fields: Vec<serde_json::Value> = ID_COLUMNS
        .iter()
        .map(|(name, _, _)| {
            let mut f = json!({"name": name, "type": "string", "title": dict.id_label(name)});
            if *name == "role" {
                f["constraints"] = json!({"enum": role_codes});
                f["categories"] = json!(role_categories);
            }
            f
        })
        .collect();
    for v in &dict.vars {
        let mut categories: Vec<serde_json::Value> = v
            .values
            .iter()
            .map(|(n, l)| json!({"value": n, "label": l}))
            .collect();
        categories.extend(
            v.missing
                .iter()
                .map(|m| json!({"value": m.value, "label": format!("{}: {}", m.code, m.label)})),
        );
        let mut field = json!({
            "name": v.name, "title": v.label, "description": v.label,
            "type": if v.kind == "number" { "number" } else { "integer" },
            "missingValues": missing_texts(std::iter::once(v)),
        });
        if !categories.is_empty() && v.kind != "integer" && v.kind != "year" {
            field["categories"] = json!(categories);
            if v.kind == "scored" || v.kind == "rating" {
                field["categoriesOrdered"] = json!(true);
            }
        }
        if !v.missing.is_empty() {
            field["x-samskap-missing-codes"] = json!(
                v.missing
                    .iter()
                    .map(|m| json!({"value": m.value, "code": m.code, "stored": m.stored, "label": m.label}))
                    .collect::<Vec<_>>()
            );
        }
        if let Some(p) = &v.phase {
            field["x-samskap-phase"] = json!(p);
        }
        wide_fields.push(field);
    }
    let string = |name: &str| json!({"name": name, "type": "string"});
    let mut score_fields = vec![
        string("wave"),
        string("service"),
        string("response"),
        json!({"name": "role", "type": "string", "constraints": {"enum": role_codes}}),
    ];
    for p in &dict.phases {
        score_fields.push(json!({"name": format!("score_{}", p.to_lowercase()), "type": "number"}));
    }
    for p in &dict.phases {
        score_fields
            .push(json!({"name": format!("level_{}", p.to_lowercase()), "type": "integer"}));
    }
    score_fields.push(json!({"name": "index", "type": "number"}));
    let mut long_missing: Vec<serde_json::Value> = dict
        .vars
        .iter()
        .flat_map(|v| v.missing.iter())
        .map(|m| json!({"value": m.code, "label": m.label}))
        .collect();
    long_missing.dedup();
    let package = json!({
        "name": "samskap-research-bundle",
        "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
        "resources": [
            {"name": "wide", "path": "wide.csv", "type": "table", "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
             "schema": {"fields": wide_fields, "missingValues": missing_texts(dict.vars.iter())}},
            {"name": "long", "path": "long.csv", "type": "table", "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
             "schema": {"fields": [
                string("wave"), string("service"), string("panel"), string("response"),
                {"name": "role", "type": "string", "constraints": {"enum": role_codes}},
                string("variable"),
                {"name": "value", "type": "number", "description": "The answer as in wide.csv; a missing code (negative) when missing_code is set",
                 "missingValues": missing_texts(dict.vars.iter())},
                {"name": "missing_code", "type": "string", "description": "Why the value is missing (see the codebook); empty for an answer",
                 "x-samskap-codes": long_missing}], "missingValues": missing_texts(dict.vars.iter())}},
            {"name": "scores", "path": "scores.csv", "type": "table", "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
             "schema": {"fields": score_fields, "missingValues": [""]}},
        ],
    });
    serde_json::to_writer_pretty(&mut out, &package)?;
    out.flush()?;
    Ok(())
}

pub(super) fn write_readme<'a>(
    waves: &[Wave],
    project: &str,
    summary: &Summary,
    instruments: impl Iterator<Item = &'a String>,
    mut out: impl std::io::Write,
) -> anyhow::Result<()> {
    writeln!(out, "# samskap research bundle\n")?;
    writeln!(
        out,
        "Waves: {}.",
        waves
            .iter()
            .map(|w| w.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    writeln!(out, "Research project (pseudonym key): `{project}`.")?;
    writeln!(
        out,
        "{} consented, submitted responses; {} answers; {} variables.\n",
        summary.responses, summary.answers, summary.variables
    )?;
    writeln!(out, "## Files\n")?;
    for (f, what) in [
        (
            "wide.csv",
            "one row per response, one column per variable (codebook.csv)",
        ),
        (
            "long.csv",
            "one row per answer: wave, service, panel, response, role, variable, value, missing_code",
        ),
        (
            "scores.csv",
            "phase scores (mean of valid answers, 0-4), maturity levels and the index (0-100) per response",
        ),
        (
            "codebook.csv",
            "variable, label (English and bokmål), type, values with labels, missing codes, phase, roles, instrument version",
        ),
        (
            "datapackage.json",
            "Frictionless data package: Table Schema of every file, with categories and missing values",
        ),
        (
            "samskap.sps",
            "SPSS / GNU PSPP syntax: reads wide.csv, variable labels, value labels, missing values",
        ),
        (
            "samskap.do",
            "Stata do-file: reads wide.csv, labels, missing codes as .a, .b, …",
        ),
        (
            "samskap.R",
            "R script: reads wide.csv into `samskap`, labelled factors, missing codes as NA",
        ),
        (
            "samskap.sav",
            "SPSS data file: wide.csv with variable and value labels, every missing code user-missing, measure levels",
        ),
        (
            "codebook.xml",
            "DDI Codebook 2.5 (for data archives): the study, wide.csv and every variable with its question texts, categories, missing codes and, for one wave, the published item statistics",
        ),
        (
            "samskap.dta",
            "Stata data file (format 118, Stata 14 and later): wide.csv with labels; missing codes are .a, .b, … in the codebook's order, labelled",
        ),
    ] {
        writeln!(out, "- `{f}`: {what}.")?;
    }
    for i in instruments {
        writeln!(
            out,
            "- `{i}`: the survey definition (instrument version) the answers were given to."
        )?;
        if let Some(version) = i
            .strip_prefix("survey-")
            .and_then(|v| v.strip_suffix(".toml"))
        {
            writeln!(
                out,
                "- `redcap-{version}.csv`: the same questionnaire as a REDCap data dictionary (one form per role; field `a1_manager` is variable `a1` asked of managers), with the same codes."
            )?;
        }
    }
    writeln!(out, "\n## Values\n")?;
    writeln!(
        out,
        "Scale points are their values (0-4). Choices are 1, 2, … in the order of the codebook; yes/no is 1/0."
    )?;
    writeln!(
        out,
        "Missing codes are negative and below every valid value: -2 don't know, -3 not applicable / did not take place, -4 and below other codes such as \"never\" (see the codebook's `missing` column; a question whose answers can be negative has its codes below its lowest answer). Every script and data file declares every code missing. In long.csv, `missing_code` names the code; a code R or pandas would read as empty (`NA`) is named by what it means (`not_applicable`). An empty cell was not answered."
    )?;
    writeln!(out, "\n## Privacy\n")?;
    writeln!(
        out,
        "Only responses whose respondent consented and submitted are included. `service`, `panel` and `response` are keyed pseudonyms: stable within this research project across waves, different in every other project, and meaningless without the server's secret key. No names, e-mail addresses or free text are included."
    )?;
    out.flush()?;
    Ok(())
}
