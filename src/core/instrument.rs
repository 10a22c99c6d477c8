//! Instruments as code: survey files in `surveys/` are parsed, checked and identified by
//! a content hash. Problems are reported all at once as `FILE:LINE:COLUMN: message`.
//! A stored version is immutable (see [`store`]).

pub mod format;
pub mod spans;
pub mod validate;

use std::fmt;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};
use toml::de::DeTable;

use format::SurveyFile;
use spans::{DataPath, Seg, SourceMap, Target};

/// Survey files compiled into the binary, used when no surveys directory exists so that
/// the binary works from any directory.
pub const BUILT_IN: &[(&str, &str)] = &[(
    "surveys/peer-involvement.toml",
    include_str!("../../surveys/peer-involvement.toml"),
)];

/// One located problem.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// A checked instrument version.
#[derive(Debug, Clone, PartialEq)]
pub struct Instrument {
    pub definition: SurveyFile,
    /// `sha256:` + hex of the canonical JSON of `definition`: independent of comments,
    /// whitespace and key order in the file.
    pub content_hash: String,
    /// The file text as loaded.
    pub source: String,
    /// Where it came from (a path, or a built-in name).
    pub origin: String,
}

impl Instrument {
    pub fn id(&self) -> &str {
        &self.definition.id
    }

    pub fn version(&self) -> &str {
        &self.definition.version
    }

    /// The definition as canonical JSON (object keys sorted), as stored and hashed.
    pub fn canonical_json(&self) -> String {
        canonical_json(&self.definition)
    }
}

/// Parses and checks one survey file's text. `origin` names the file in diagnostics.
pub fn parse(origin: &str, text: &str) -> Result<Instrument, Vec<Diagnostic>> {
    let diag = |(line, column): (usize, usize), message: String| Diagnostic {
        file: origin.to_owned(),
        line,
        column,
        message,
    };
    let (root, syntax) = DeTable::parse_recoverable(text);
    if !syntax.is_empty() {
        let mut out: Vec<Diagnostic> = syntax
            .iter()
            .map(|e| {
                let at = e.span().map_or((1, 1), |s| spans::line_col(text, s.start));
                diag(at, format!("syntax error: {}", e.message().trim()))
            })
            .collect();
        out.sort();
        out.dedup();
        return Err(out);
    }

    let map = SourceMap::new(text, root.clone());
    let mut unknown: Vec<DataPath> = Vec::new();
    let parsed: Result<SurveyFile, toml::de::Error> =
        serde_ignored::deserialize(toml::de::Deserializer::from(root), |path| {
            unknown.push(to_data_path(&path));
        });

    let mut out: Vec<Diagnostic> = unknown
        .iter()
        .map(|path| {
            let key = match path.0.last() {
                Some(Seg::Key(k)) => k.clone(),
                _ => path.to_string(),
            };
            diag(
                map.locate(path, Target::Key),
                format!("unknown key `{key}`"),
            )
        })
        .collect();
    match parsed {
        Err(e) => {
            let at = e.span().map_or((1, 1), |s| spans::line_col(text, s.start));
            out.push(diag(at, e.message().trim().to_owned()));
        }
        Ok(definition) => {
            let locate = |path: &DataPath| map.locate(path, Target::Value);
            for problem in validate::check(&definition, &locate) {
                out.push(diag(
                    map.locate(&problem.path, problem.target),
                    problem.message,
                ));
            }
            if out.is_empty() {
                return Ok(Instrument {
                    content_hash: content_hash(&definition),
                    definition,
                    source: text.to_owned(),
                    origin: origin.to_owned(),
                });
            }
        }
    }
    out.sort();
    out.dedup();
    Err(out)
}

fn to_data_path(path: &serde_ignored::Path<'_>) -> DataPath {
    use serde_ignored::Path as P;
    let mut segs = Vec::new();
    let mut current = path;
    loop {
        match current {
            P::Root => break,
            P::Seq { parent, index } => {
                segs.push(Seg::Index(*index));
                current = parent;
            }
            P::Map { parent, key } => {
                segs.push(Seg::Key(key.clone()));
                current = parent;
            }
            P::Some { parent } | P::NewtypeStruct { parent } | P::NewtypeVariant { parent } => {
                current = parent;
            }
        }
    }
    segs.reverse();
    DataPath(segs)
}

/// Reads and checks a file.
pub fn load_file(path: &Path) -> Result<Instrument, Vec<Diagnostic>> {
    let origin = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&origin, &text),
        Err(e) => Err(vec![Diagnostic {
            file: origin,
            line: 0,
            column: 0,
            message: format!("cannot read the file: {e}"),
        }]),
    }
}

/// Every `*.toml` under the given files and directories (directories are searched
/// recursively), sorted.
pub fn survey_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Diagnostic> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            collect_toml(path, &mut out).map_err(|e| Diagnostic {
                file: path.display().to_string(),
                line: 0,
                column: 0,
                message: format!("cannot read the directory: {e}"),
            })?;
        } else {
            out.push(path.clone());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn collect_toml(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_toml(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
    Ok(())
}

/// Loads many files; also refuses the same id and version with different content in two
/// files.
pub fn load_all(files: &[PathBuf]) -> (Vec<Instrument>, Vec<Diagnostic>) {
    let mut loaded: Vec<Instrument> = Vec::new();
    let mut problems = Vec::new();
    for file in files {
        match load_file(file) {
            Ok(instrument) => loaded.push(instrument),
            Err(mut d) => problems.append(&mut d),
        }
    }
    check_duplicates(&loaded, &mut problems);
    (loaded, problems)
}

/// The built-in survey files, checked.
pub fn built_in() -> (Vec<Instrument>, Vec<Diagnostic>) {
    let mut loaded = Vec::new();
    let mut problems = Vec::new();
    for (name, text) in BUILT_IN {
        match parse(&format!("{name} (built in)"), text) {
            Ok(i) => loaded.push(i),
            Err(mut d) => problems.append(&mut d),
        }
    }
    (loaded, problems)
}

fn check_duplicates(loaded: &[Instrument], problems: &mut Vec<Diagnostic>) {
    for (i, a) in loaded.iter().enumerate() {
        for b in &loaded[..i] {
            if a.id() == b.id() && a.version() == b.version() && a.content_hash != b.content_hash {
                problems.push(Diagnostic {
                    file: a.origin.clone(),
                    line: 1,
                    column: 1,
                    message: format!(
                        "`{}` version {} is also defined, with different content, in {}; give one of them a new version",
                        a.id(),
                        a.version(),
                        b.origin
                    ),
                });
            }
        }
    }
}

/// JSON with object keys sorted at every level: the canonical form that is hashed and
/// stored.
pub fn canonical_json(value: &impl serde::Serialize) -> String {
    fn sort(v: serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(map) => {
                let mut entries: Vec<(String, serde_json::Value)> = map.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sort(v))).collect())
            }
            serde_json::Value::Array(items) => {
                serde_json::Value::Array(items.into_iter().map(sort).collect())
            }
            other => other,
        }
    }
    sort(serde_json::to_value(value).unwrap_or_default()).to_string()
}

/// `sha256:` + hex digest of the canonical JSON.
pub fn content_hash(definition: &SurveyFile) -> String {
    use std::fmt::Write as _;
    let digest = Sha256::digest(canonical_json(definition).as_bytes());
    let hex = digest.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    });
    format!("sha256:{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_instrument_is_valid() {
        let (loaded, problems) = built_in();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(loaded.len(), 1);
        let def = &loaded[0].definition;
        assert_eq!(def.phases.len(), 4);
        assert_eq!(def.items.len(), 20);
        for item in &def.items {
            assert!(
                item.text.contains_key("manager") && item.text.contains_key("peer_worker"),
                "{}",
                item.code
            );
        }
        assert_eq!(def.next_steps.len(), 20, "every phase × level");
    }

    #[test]
    fn the_hash_ignores_comments_layout_and_key_order_but_not_content() {
        let text = BUILT_IN[0].1;
        let original = parse("a", text).expect("valid");
        let reformatted = format!(
            "# a new comment\n\n{}",
            text.replacen("version = ", "version   =   ", 1)
        );
        let reordered = {
            // Move the `languages` line to after `title`.
            let lines: Vec<&str> = text.lines().collect();
            let lang = lines
                .iter()
                .position(|l| l.starts_with("languages"))
                .expect("languages line");
            let title = lines
                .iter()
                .position(|l| l.starts_with("title"))
                .expect("title line");
            let mut moved: Vec<&str> = lines.clone();
            let l = moved.remove(lang);
            moved.insert(title, l);
            moved.join("\n")
        };
        assert_eq!(
            parse("b", &reformatted).expect("valid").content_hash,
            original.content_hash
        );
        assert_eq!(
            parse("c", &reordered).expect("valid").content_hash,
            original.content_hash
        );
        let changed = text.replacen("Peer worker involvement", "Peer involvement", 1);
        assert_ne!(
            parse("d", &changed).expect("valid").content_hash,
            original.content_hash
        );
    }

    #[test]
    fn a_phase_with_more_items_than_can_be_summed_exactly_is_refused() {
        let text = BUILT_IN[0].1;
        let mut extra = String::new();
        for i in 0..crate::core::scoring::MAX_PHASE_ITEMS {
            use std::fmt::Write as _;
            write!(
                extra,
                "\n[[items]]\ncode = \"AX{i}\"\nphase = \"A\"\nscale = \"involvement\"\n\
                 text.manager = {{ nb = \"Spørsmål {i}\", en = \"Question {i}\" }}\n\
                 text.peer_worker = {{ nb = \"Spørsmål {i}\", en = \"Question {i}\" }}\n"
            )
            .expect("writing to a string");
        }
        let at = text.find("\n[[items]]").expect("items");
        let widened = format!("{}{extra}{}", &text[..at], &text[at..]);
        let errors = parse("wide.toml", &widened).expect_err("too many items in phase A");
        assert!(
            errors
                .iter()
                .any(|e| e.message.contains("phase `A` has 29 items")),
            "{errors:?}"
        );
    }

    #[test]
    fn codes_the_research_formats_cannot_hold_are_refused() {
        let text = BUILT_IN[0].1;
        // An item called `IN` (Stata's and SPSS's `in`), one called `str12`.
        let renamed = text.replacen("code = \"A1\"", "code = \"IN\"", 1).replacen(
            "code = \"A2\"",
            "code = \"str12\"",
            1,
        );
        let errors = parse("reserved.toml", &renamed).expect_err("reserved names");
        assert!(
            errors.iter().any(|e| e.message
                == "item code `IN` is a word SPSS or Stata reserves, so the research exports could not name its variable"),
            "{errors:?}"
        );
        assert!(
            errors.iter().any(|e| e
                .message
                .starts_with("item code `str12` is a Stata string type")),
            "{errors:?}"
        );
        // 27 extra codes on a context question: one more than Stata's .a to .z.
        let line = text
            .lines()
            .find(|l| l.starts_with("extra_codes"))
            .expect("the shipped extra code");
        let codes: Vec<String> = (1..=27)
            .map(|i| format!("{{ code = \"C{i}\", label = {{ nb = \"K{i}\", en = \"C{i}\" }} }}"))
            .collect();
        let many = text.replacen(line, &format!("extra_codes = [ {} ]", codes.join(", ")), 1);
        let errors = parse("codes.toml", &many).expect_err("too many codes");
        assert!(
            errors
                .iter()
                .any(|e| e.message == "27 codes: at most 26 (Stata marks them .a to .z)"),
            "{errors:?}"
        );
        let line_of = many
            .lines()
            .position(|l| l.starts_with("extra_codes = [ { code = \"C1\""))
            .expect("the line")
            + 1;
        assert!(
            errors.iter().any(|e| e.line == line_of),
            "located at line {line_of}: {errors:?}"
        );
    }

    #[test]
    fn syntax_errors_are_located() {
        let errors = parse("x.toml", "id = \"a\"\nversion = \n").expect_err("syntax");
        assert_eq!(errors[0].line, 2, "{errors:?}");
        assert!(
            errors[0].to_string().starts_with("x.toml:2:"),
            "{}",
            errors[0]
        );
        assert!(
            errors[0].message.starts_with("syntax error"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn a_wrong_type_is_located() {
        let text = BUILT_IN[0]
            .1
            .replacen("min_valid_items = 3", "min_valid_items = \"three\"", 1);
        let line = text
            .lines()
            .position(|l| l.starts_with("min_valid_items"))
            .expect("line")
            + 1;
        let errors = parse("x.toml", &text).expect_err("type");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].line, line, "{errors:?}");
        assert!(errors[0].message.contains("invalid type"), "{}", errors[0]);
    }
}
