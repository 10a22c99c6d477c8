//! Replays the fuzzing corpus (fuzz/corpus) and every input that once crashed a parser
//! (fuzz/regressions) through the fuzz targets' own checks (fuzz/src/lib.rs): no parser
//! panics, and every error names a line and column inside the input. perf/fuzz.sh finds
//! new inputs; this keeps the old ones fixed without a fuzzer.

use std::path::{Path, PathBuf};

#[path = "../../fuzz/src/lib.rs"]
mod checks;

/// A fuzz target's check: panics when the parser mishandles the input.
type Check = fn(&[u8]);

/// Each fuzz target's check, by the name of its corpus directory.
const TARGETS: &[(&str, Check)] = &[
    ("config_file", checks::config_file),
    ("respondents_csv", checks::respondents_csv),
    ("services_csv", checks::services_csv),
    ("survey_file", checks::survey_file),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    entries.sort();
    entries
}

/// Runs every file under `fuzz/<kind>/<target>/` through its target's check and returns
/// how many ran, failing with the list of files that panicked.
fn replay(kind: &str) -> usize {
    let mut ran = 0;
    let mut failed = Vec::new();
    for dir in sorted_entries(&fuzz_dir().join(kind)) {
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let Some((_, check)) = TARGETS.iter().find(|(target, _)| *target == name) else {
            panic!(
                "{}: no fuzz target of that name is replayed here",
                dir.display()
            );
        };
        for file in sorted_entries(&dir) {
            let data = std::fs::read(&file).expect("read input");
            if std::panic::catch_unwind(|| check(&data)).is_err() {
                failed.push(file.display().to_string());
            }
            ran += 1;
        }
    }
    assert!(
        failed.is_empty(),
        "failed the fuzz checks:\n{}",
        failed.join("\n")
    );
    ran
}

#[test]
fn inputs_that_once_crashed_a_parser_are_handled() {
    assert!(replay("regressions") > 0, "no regression inputs found");
}

#[test]
fn the_fuzzing_corpus_passes_the_fuzz_checks() {
    // Every target has seeds, so a corpus that went missing is noticed.
    for (target, _) in TARGETS {
        assert!(
            fuzz_dir().join("corpus").join(target).read_dir().is_ok(),
            "fuzz/corpus/{target} is missing"
        );
    }
    assert!(replay("corpus") >= TARGETS.len(), "the corpus is empty");
}
