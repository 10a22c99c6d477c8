//! What describes a bundle's variables: `codebook.csv`, `datapackage.json` (Frictionless)
//! and `README.md`.

use serde_json::json;

use crate::infra::models::Wave;

use super::{Summary, Variable, safe_csv};

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
        .map(|(n, c, l)| format!("{n}={c} ({l})"))
        .collect::<Vec<_>>()
        .join("; ")
}

pub(super) fn write_codebook(vars: &[Variable], out: impl std::io::Write) -> anyhow::Result<()> {
    let mut w = safe_csv::Writer::from_writer(out);
    w.write_record([
        "variable",
        "label",
        "label_nb",
        "type",
        "values",
        "missing",
        "phase",
        "roles",
        "instrument",
    ])?;
    for (name, label) in [
        ("wave", "Survey wave"),
        ("service", "Service (pseudonym)"),
        (
            "panel",
            "Respondent across waves (pseudonym; empty in anonymous waves)",
        ),
        ("response", "Response (pseudonym)"),
        ("role", "Role of the respondent"),
        ("language", "Language the questionnaire was answered in"),
    ] {
        w.write_record([
            name,
            label,
            "",
            "string",
            if name == "role" {
                "manager; peer_worker"
            } else {
                ""
            },
            "",
            "",
            "",
            "",
        ])?;
    }
    for v in vars {
        w.write_record([
            v.name.as_str(),
            v.label_en.as_str(),
            v.label_nb.as_str(),
            "numeric",
            value_labels(v).as_str(),
            missing_labels(v).as_str(),
            v.phase.as_deref().unwrap_or(""),
            v.roles.join("; ").as_str(),
            v.instrument.as_str(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

pub(super) fn write_datapackage(
    vars: &[Variable],
    phases: &[String],
    mut out: impl std::io::Write,
) -> anyhow::Result<()> {
    let ids = |desc: &str| json!({"type": "string", "description": desc});
    let mut wide_fields = vec![
        json!({"name": "wave", "type": "string", "description": "Survey wave"}),
        json!({"name": "service", "type": "string", "description": "Service (pseudonym)"}),
        json!({"name": "panel", "type": "string", "description": "Respondent across waves (pseudonym)"}),
        json!({"name": "response", "type": "string", "description": "Response (pseudonym)"}),
        json!({"name": "role", "type": "string", "constraints": {"enum": ["manager", "peer_worker"]}}),
        json!({"name": "language", "type": "string"}),
    ];
    for v in vars {
        let mut categories: Vec<serde_json::Value> = v
            .values
            .iter()
            .map(|(n, l)| json!({"value": n, "label": l}))
            .collect();
        categories.extend(
            v.missing
                .iter()
                .map(|(n, c, l)| json!({"value": n, "label": format!("{c}: {l}")})),
        );
        let mut field = json!({
            "name": v.name, "title": v.label_en, "description": v.label_en,
            "type": if v.kind == "number" { "number" } else { "integer" },
            "missingValues": [""],
        });
        if !categories.is_empty() && v.kind != "integer" && v.kind != "year" {
            field["categories"] = json!(categories);
        }
        if !v.missing.is_empty() {
            field["x-samskap-missing-codes"] = json!(
                v.missing
                    .iter()
                    .map(|(n, c, l)| json!({"value": n, "code": c, "label": l}))
                    .collect::<Vec<_>>()
            );
        }
        if let Some(p) = &v.phase {
            field["x-samskap-phase"] = json!(p);
        }
        wide_fields.push(field);
    }
    let mut score_fields = vec![ids("wave"), ids("service"), ids("response"), ids("role")];
    for (f, name) in score_fields
        .iter_mut()
        .zip(["wave", "service", "response", "role"])
    {
        f["name"] = json!(name);
    }
    for p in phases {
        score_fields.push(json!({"name": format!("score_{}", p.to_lowercase()), "type": "number", "missingValues": [""]}));
    }
    for p in phases {
        score_fields.push(json!({"name": format!("level_{}", p.to_lowercase()), "type": "integer", "missingValues": [""]}));
    }
    score_fields.push(json!({"name": "index", "type": "number", "missingValues": [""]}));
    let package = json!({
        "name": "samskap-research-bundle",
        "profile": "tabular-data-package",
        "resources": [
            {"name": "wide", "path": "wide.csv", "profile": "tabular-data-resource", "format": "csv", "encoding": "utf-8",
             "schema": {"fields": wide_fields, "missingValues": [""]}},
            {"name": "long", "path": "long.csv", "profile": "tabular-data-resource", "format": "csv", "encoding": "utf-8",
             "schema": {"fields": [
                {"name": "wave", "type": "string"}, {"name": "service", "type": "string"},
                {"name": "panel", "type": "string"}, {"name": "response", "type": "string"},
                {"name": "role", "type": "string", "constraints": {"enum": ["manager", "peer_worker"]}},
                {"name": "variable", "type": "string"}, {"name": "value", "type": "number"},
                {"name": "missing_code", "type": "string"}], "missingValues": [""]}},
            {"name": "scores", "path": "scores.csv", "profile": "tabular-data-resource", "format": "csv", "encoding": "utf-8",
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
    ] {
        writeln!(out, "- `{f}`: {what}.")?;
    }
    for i in instruments {
        writeln!(
            out,
            "- `{i}`: the survey definition (instrument version) the answers were given to."
        )?;
    }
    writeln!(out, "\n## Values\n")?;
    writeln!(
        out,
        "Scale points are their values (0-4). Choices are 1, 2, … in the order of the codebook; yes/no is 1/0."
    )?;
    writeln!(
        out,
        "Missing codes are negative: -2 don't know, -3 not applicable / did not take place, -4 and below other codes (see the codebook). An empty cell was not answered."
    )?;
    writeln!(out, "\n## Privacy\n")?;
    writeln!(
        out,
        "Only responses whose respondent consented and submitted are included. `service`, `panel` and `response` are keyed pseudonyms: stable within this research project across waves, different in every other project, and meaningless without the server's secret key. No names, e-mail addresses or free text are included."
    )?;
    out.flush()?;
    Ok(())
}
