//! What every fuzz target checks, for the parsers of files people hand to samskap: none
//! may panic, every error names a line (and column) inside the input, and what parses is
//! sound. tests/api/fuzz_regressions.rs includes this file, so the committed corpus and
//! every crash found are replayed by `cargo test` with the same checks.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::LazyLock;

use samskap::app::import::RowError;
use samskap::app::waves::respondents::Roster;
use samskap::core::domain::ServiceId;
use samskap::core::instrument::format::SurveyFile;
use samskap::infra::config::{Secret, Settings};
use samskap::infra::crypto::DerivedKeys;

/// Survey files: `samskap survey check` and the server's loader.
pub fn survey_file(data: &[u8]) {
    // The loader reads files with `read_to_string`: text that is not UTF-8 never
    // reaches the parser.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match samskap::core::instrument::parse("fuzz.toml", text) {
        Ok(instrument) => {
            // The stored form is the canonical JSON, read back by `store::load_stored`.
            let json = instrument.canonical_json();
            let stored: SurveyFile = serde_json::from_str(&json).unwrap_or_else(|e| {
                panic!(
                    "an accepted survey file does not read back from its stored JSON: {e}\n{json}"
                )
            });
            assert_eq!(
                stored, instrument.definition,
                "the stored JSON changes the definition"
            );
            assert_eq!(
                samskap::core::instrument::content_hash(&stored),
                instrument.content_hash,
                "the content hash changes once stored"
            );
        }
        Err(diagnostics) => {
            assert!(!diagnostics.is_empty(), "rejected without a diagnostic");
            for d in &diagnostics {
                assert_eq!(d.file, "fuzz.toml", "{d}");
                assert!(
                    !d.message.trim().is_empty(),
                    "a diagnostic without a message: {d}"
                );
                assert_position(text, d.line, d.column, &d.to_string());
            }
        }
    }
}

/// The service catalogue: `samskap import services FILE.csv`.
pub fn services_csv(data: &[u8]) {
    match samskap::app::import::parse_services_csv(data) {
        Ok(records) => {
            assert!(!records.is_empty(), "accepted a catalogue without services");
            assert_rows_ascend(data, records.iter().map(|(line, _)| *line));
            for (line, r) in &records {
                for (name, value) in [
                    ("health_region", &r.health_region),
                    ("county", &r.county),
                    ("municipality", &r.municipality),
                    ("organisation", &r.organisation),
                    ("service_code", &r.service_code),
                    ("service_name", &r.service_name),
                ] {
                    assert!(
                        !value.is_empty() && value.trim() == value,
                        "line {line}: accepted {name} {value:?}"
                    );
                }
            }
        }
        Err(errors) => assert_row_errors(data, &errors),
    }
}

/// A wave's two-language roster: the built-in instrument's roles and languages, two
/// services and one address already invited.
static ROSTER: LazyLock<(Roster, DerivedKeys)> = LazyLock::new(|| {
    let keys = DerivedKeys::new(&Secret::new("fuzz-secret-key-fuzz-secret-key-fuzz"));
    let (built_in, _) = samskap::core::instrument::built_in();
    let survey = &built_in[0].definition;
    let roster = Roster {
        services: ["S1", "HB-DPS-1"]
            .into_iter()
            .map(|code| {
                (
                    code.to_owned(),
                    ServiceId::from_string(format!("id-{code}")),
                )
            })
            .collect(),
        roles: survey.roles.keys().cloned().collect(),
        languages: survey.languages.clone(),
        invited: std::iter::once(keys.panel_pseudonym("invited@example.no")).collect(),
    };
    (roster, keys)
});

/// Respondent lists: `samskap wave invite` and the admin's upload form.
pub fn respondents_csv(data: &[u8]) {
    let (roster, keys) = &*ROSTER;
    match samskap::app::waves::respondents::check(roster, keys, data, "en") {
        Ok(rows) => {
            assert!(!rows.is_empty(), "accepted a list without respondents");
            assert_rows_ascend(data, rows.iter().map(|(line, _)| *line));
            for (line, r) in &rows {
                assert_eq!(
                    samskap::app::accounts::normalise_email(&r.email).as_deref(),
                    Ok(r.email.as_str()),
                    "line {line}: accepted e-mail {:?}",
                    r.email
                );
                assert!(
                    roster.languages.contains(&r.language),
                    "line {line}: accepted language {:?}",
                    r.language
                );
                assert!(
                    roster.services.values().any(|s| *s == r.service),
                    "line {line}: accepted a service outside the wave"
                );
            }
        }
        Err(errors) => assert_row_errors(data, &errors),
    }
}

/// The settings file (`samskap.toml`). Problems in it are reported as
/// `FILE:LINE:COLUMN: message`.
pub fn config_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Err(problems) =
        Settings::from_sources(&BTreeMap::new(), Some((Path::new("fuzz.toml"), text)))
    else {
        return;
    };
    assert!(!problems.0.is_empty(), "rejected without a problem");
    for problem in &problems.0 {
        let Some(located) = problem.strip_prefix("fuzz.toml:") else {
            continue;
        };
        let mut parts = located.splitn(3, ':');
        let number = |part: Option<&str>| {
            part.and_then(|p| p.parse::<usize>().ok())
                .unwrap_or_else(|| panic!("not FILE:LINE:COLUMN: {problem}"))
        };
        let (line, column) = (number(parts.next()), number(parts.next()));
        assert_position(text, line, column, problem);
    }
}

/// A 1-based line and column (in characters) that exists in `text`, or is just past the
/// end of a line.
fn assert_position(text: &str, line: usize, column: usize, what: &str) {
    let lines: Vec<&str> = text.split('\n').collect();
    assert!(
        (1..=lines.len()).contains(&line),
        "line {line} outside a text of {} lines: {what}",
        lines.len()
    );
    let width = lines[line - 1].chars().count();
    assert!(
        (1..=width + 1).contains(&column),
        "column {column} outside line {line} of {width} characters: {what}"
    );
}

/// The last line a CSV error may name: lines end with LF, CRLF or CR, as in an editor,
/// and an error about the end of the file may name the line after the last.
fn last_line(data: &[u8]) -> u64 {
    let ends = data
        .iter()
        .enumerate()
        .filter(|&(i, b)| *b == b'\n' || (*b == b'\r' && data.get(i + 1) != Some(&b'\n')))
        .count();
    u64::try_from(ends).unwrap_or(u64::MAX).saturating_add(2)
}

fn assert_row_errors(data: &[u8], errors: &[RowError]) {
    assert!(!errors.is_empty(), "rejected without an error");
    let last = last_line(data);
    for e in errors {
        assert!(
            (1..=last).contains(&e.line),
            "line {} outside a file whose last line is {}: {}",
            e.line,
            last - 1,
            e.message
        );
        assert!(
            !e.message.trim().is_empty(),
            "an error without a message on line {}",
            e.line
        );
    }
}

/// Accepted rows come after the header, inside the file, each on its own line.
fn assert_rows_ascend(data: &[u8], lines: impl Iterator<Item = u64>) {
    let last = last_line(data) - 1;
    let mut previous = 1;
    for line in lines {
        assert!(
            line > previous && line <= last,
            "row on line {line} after line {previous}, in a file of {last} lines"
        );
        previous = line;
    }
}
