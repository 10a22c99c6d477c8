//! samskap measures how far mental-health and substance-use services involve peer
//! workers across co-define, co-design, co-deliver and co-assess, and reports it without
//! ever letting anyone infer one person's answers.
//!
//! Data moves forward only: survey files → waves → invitations → answers → scoring →
//! analytics → dashboards, reports, API and exports. See `docs/architecture.md`; the
//! `architecture` test below keeps the dependencies between the parts pointing one way.

pub mod app;
pub mod cli;
pub mod core;
pub mod infra;
pub mod tools;
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
            &["crate::web", "crate::cli"],
            "only the front doors (web/, cli/, main.rs) may use the front doors",
        ),
        (
            &["core"],
            &[
                "crate::app",
                "crate::infra",
                "crate::tools",
                "diesel::r2d2",
                "DbConn",
            ],
            "the core describes and computes: no application, infrastructure or connection",
        ),
        (
            &["infra"],
            &["crate::app", "crate::tools"],
            "infrastructure knows nothing of waves, questionnaires or results",
        ),
        (
            &["app"],
            &["crate::tools"],
            "the application does not depend on the demo or the benchmarks",
        ),
        (
            &["infra/crypto"],
            &["crate::infra::config"],
            "settings use keys, keys do not read settings",
        ),
        (
            &[
                "core/scoring.rs",
                "core/instrument/format.rs",
                "core/instrument/validate.rs",
                "app/analytics/stats.rs",
                "app/analytics/suppress.rs",
            ],
            &["crate::infra", "crate::app::", "diesel::", "std::fs"],
            "the pure computations touch no database, no mail and no files",
        ),
    ];

    const FRONT_DOORS: &[&str] = &["web", "cli", "main.rs"];

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
