//! samskap measures how far mental-health and substance-use services involve peer
//! workers across co-define, co-design, co-deliver and co-assess, and reports it without
//! ever letting anyone infer one person's answers.
//!
//! Data moves forward only: survey files → waves → invitations → answers → scoring →
//! analytics → dashboards, reports, API and exports. See `docs/architecture.md`; the
//! `architecture` test below keeps the dependencies between the parts pointing one way.

pub mod accounts;
pub mod analytics;
pub mod audit;
#[cfg(feature = "bench")]
pub mod bench;
pub mod catalogue;
pub mod cli;
pub mod commands;
pub mod config;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod domain;
pub mod export;
pub mod i18n;
pub mod import;
pub mod instrument;
pub mod mail;
pub mod models;
pub mod questionnaire;
pub mod render;
pub mod reports;
pub mod scoring;
pub mod telemetry;
pub mod validation;
pub mod waves;
pub mod web;

/// The arrows between the parts point one way: a test fails when a file imports across
/// them (issue 17's layers, checked on the source text, so the rule holds before the
/// tree is reorganised around it).
#[cfg(test)]
mod architecture {
    use std::path::{Path, PathBuf};

    fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// (files whose path starts with one of these, what they must not mention, why)
    const RULES: &[(&[&str], &[&str], &str)] = &[
        (
            &[""],
            &["crate::web", "crate::cli", "crate::commands"],
            "only the front doors (web/, cli.rs, commands.rs, main.rs) may use the front doors",
        ),
        (
            &["mail"],
            &["crate::waves", "crate::questionnaire", "crate::reports"],
            "mail sends; what a wave keeps or says is the application's",
        ),
        (
            &["crypto"],
            &["crate::config"],
            "settings use keys, keys do not read settings",
        ),
        (
            &[
                "scoring.rs",
                "analytics/stats.rs",
                "analytics/suppress.rs",
                "instrument/format.rs",
                "instrument/validate.rs",
            ],
            &["crate::db", "crate::models", "crate::mail", "diesel::"],
            "the pure core touches no database and no mail",
        ),
    ];

    const FRONT_DOORS: &[&str] = &["web", "cli.rs", "commands.rs", "main.rs"];

    #[test]
    fn no_file_imports_against_the_layers() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&root, &mut files);
        assert!(files.len() > 50, "the source tree was found");
        let mut broken = Vec::new();
        for file in &files {
            let rel = file
                .strip_prefix(&root)
                .expect("under src")
                .to_string_lossy()
                .replace('\\', "/");
            if rel == "lib.rs" {
                continue; // these rules' own text
            }
            let text = std::fs::read_to_string(file).expect("source");
            for (scope, forbidden, why) in RULES {
                if !scope.iter().any(|s| rel.starts_with(s)) {
                    continue;
                }
                if scope == &[""] && FRONT_DOORS.iter().any(|d| rel.starts_with(d)) {
                    continue;
                }
                for word in *forbidden {
                    if let Some(line) = text.lines().position(|l| l.contains(word)) {
                        broken.push(format!("src/{rel}:{}: {word} ({why})", line + 1));
                    }
                }
            }
        }
        assert!(
            broken.is_empty(),
            "imports against the layers:\n{}",
            broken.join("\n")
        );
    }
}
