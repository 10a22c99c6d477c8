//! Meaning checks on a parsed survey file. Every problem carries the path of the value
//! it is about, so the loader can report `FILE:LINE:COLUMN`. All problems are collected;
//! nothing stops at the first.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::format::{ContextKind, SurveyFile, Text};
use super::spans::{DataPath, Target};
use crate::core::domain::RespondentRole;

/// One problem in a survey file.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub path: DataPath,
    pub target: Target,
    pub message: String,
}

struct Checker<'a> {
    file: &'a SurveyFile,
    locate: &'a dyn Fn(&DataPath) -> (usize, usize),
    languages: BTreeSet<&'a str>,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn at(&mut self, path: DataPath, message: impl Into<String>) {
        self.problems.push(Problem {
            path,
            target: Target::Value,
            message: message.into(),
        });
    }

    fn at_key(&mut self, path: DataPath, message: impl Into<String>) {
        self.problems.push(Problem {
            path,
            target: Target::Key,
            message: message.into(),
        });
    }

    /// Every declared language present, no others, none empty.
    fn text(&mut self, path: &DataPath, text: &Text) {
        for lang in self.languages.clone() {
            match text.get(lang) {
                None => self.at(path.clone(), format!("missing `{lang}` translation")),
                Some(t) if t.trim().is_empty() => {
                    self.at(path.key(lang), format!("the `{lang}` text is empty"));
                }
                Some(_) => {}
            }
        }
        for lang in text.keys() {
            if !self.languages.contains(lang.as_str()) {
                self.at_key(
                    path.key(lang),
                    format!(
                        "`{lang}` is not among the survey's languages ({})",
                        self.language_list()
                    ),
                );
            }
        }
    }

    fn language_list(&self) -> String {
        self.languages
            .iter()
            .copied()
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// An item's code, scored or context: its form, and a name the research exports can
    /// give its variable.
    fn item_code(&mut self, path: &DataPath, code: &str) {
        if !is_code(code) {
            self.at(
                path.key("code"),
                format!(
                    "item code `{code}` must start with a letter and hold only letters, digits and '_'"
                ),
            );
        }
        if let Some(why) = reserved_name(code) {
            self.at(
                path.key("code"),
                format!(
                    "item code `{code}` is {why}, so the research exports could not name its variable"
                ),
            );
        }
    }

    /// Reports codes used twice within one list.
    fn unique<'c>(&mut self, what: &str, codes: impl Iterator<Item = (DataPath, &'c str)>) {
        let mut seen: HashMap<&str, DataPath> = HashMap::new();
        for (path, code) in codes {
            if let Some(first) = seen.get(code) {
                let (line, column) = (self.locate)(first);
                self.at(
                    path,
                    format!(
                        "duplicate {what} `{code}` (first defined at line {line}, column {column})"
                    ),
                );
            } else {
                seen.insert(code, path);
            }
        }
    }
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Words SPSS or Stata reserve, which the exports' variable names (an item's code in lower
/// case) may not be; nor may Stata's `str1` … `str2045`.
const RESERVED_NAMES: [&str; 21] = [
    "all", "and", "by", "byte", "double", "eq", "float", "ge", "gt", "if", "in", "int", "le",
    "long", "lt", "ne", "not", "or", "to", "using", "with",
];

/// Why `code` cannot name a variable in SPSS or Stata, if it cannot.
fn reserved_name(code: &str) -> Option<&'static str> {
    let lower = code.to_ascii_lowercase();
    if RESERVED_NAMES.contains(&lower.as_str()) {
        Some("a word SPSS or Stata reserves")
    } else if lower
        .strip_prefix("str")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    {
        Some("a Stata string type")
    } else {
        None
    }
}

/// Stata marks missing codes with `.a` to `.z`: at most this many per question.
const MAX_MISSING_CODES: usize = 26;

fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Checks everything the type system cannot. `locate` turns a path into a line and
/// column, for messages that refer to another place in the file.
#[expect(clippy::too_many_lines, reason = "one flat list of rules reads best")]
pub fn check(file: &SurveyFile, locate: &dyn Fn(&DataPath) -> (usize, usize)) -> Vec<Problem> {
    let root = DataPath::root();
    let mut c = Checker {
        file,
        locate,
        languages: file.languages.iter().map(String::as_str).collect(),
        problems: Vec::new(),
    };

    if !is_slug(&file.id) {
        c.at(
            root.key("id"),
            "`id` may only hold lower-case letters, digits and '-'",
        );
    }
    if file.version.trim().is_empty() {
        c.at(root.key("version"), "`version` is empty");
    }
    if file.languages.is_empty() {
        c.at(root.key("languages"), "declare at least one language");
    }
    c.unique(
        "language",
        file.languages
            .iter()
            .enumerate()
            .map(|(i, l)| (root.key("languages").index(i), l.as_str())),
    );
    c.text(&root.key("title"), &file.title);
    if !file.description.is_empty() {
        c.text(&root.key("description"), &file.description);
    }

    // Roles.
    for (name, role) in &file.roles {
        let path = root.key("roles").key(name);
        if let Err(e) = RespondentRole::parse(name) {
            c.at_key(path.clone(), e);
        }
        c.text(&path.key("label"), &role.label);
        if !role.plural.is_empty() {
            c.text(&path.key("plural"), &role.plural);
        }
        if !role.intro.is_empty() {
            c.text(&path.key("intro"), &role.intro);
        }
    }
    if file.roles.is_empty() {
        c.at(root.key("roles"), "declare at least one role");
    }

    // Scales.
    for (name, scale) in &file.scales {
        let path = root.key("scales").key(name);
        if scale.points.len() < 2 {
            c.at(path.key("points"), "a scale needs at least two points");
        }
        for (i, pair) in scale.points.windows(2).enumerate() {
            if pair[1].value <= pair[0].value {
                c.at(
                    path.key("points").index(i + 1).key("value"),
                    format!(
                        "scale points must ascend: {} follows {}",
                        pair[1].value, pair[0].value
                    ),
                );
            }
        }
        for (i, point) in scale.points.iter().enumerate() {
            let p = path.key("points").index(i);
            c.text(&p.key("label"), &point.label);
            if !point.description.is_empty() {
                c.text(&p.key("description"), &point.description);
            }
        }
        c.unique(
            "missing code",
            scale
                .missing
                .iter()
                .enumerate()
                .map(|(i, m)| (path.key("missing").index(i).key("code"), m.code.as_str())),
        );
        if scale.missing.len() > MAX_MISSING_CODES {
            c.at(
                path.key("missing"),
                format!(
                    "{} missing codes: at most {MAX_MISSING_CODES} (Stata marks them .a to .z)",
                    scale.missing.len()
                ),
            );
        }
        for (i, missing) in scale.missing.iter().enumerate() {
            let p = path.key("missing").index(i);
            if !(is_code(&missing.code)
                && missing
                    .code
                    .chars()
                    .all(|ch| ch.is_ascii_uppercase() || ch == '_'))
            {
                c.at(
                    p.key("code"),
                    format!(
                        "missing code `{}` must be upper-case letters, e.g. DK",
                        missing.code
                    ),
                );
            }
            c.text(&p.key("label"), &missing.label);
        }
    }

    // Phases.
    c.unique(
        "phase code",
        file.phases
            .iter()
            .enumerate()
            .map(|(i, p)| (root.key("phases").index(i).key("code"), p.code.as_str())),
    );
    c.unique(
        "phase key",
        file.phases
            .iter()
            .enumerate()
            .map(|(i, p)| (root.key("phases").index(i).key("key"), p.key.as_str())),
    );
    for (i, phase) in file.phases.iter().enumerate() {
        let path = root.key("phases").index(i);
        if !is_code(&phase.code) {
            c.at(
                path.key("code"),
                format!("phase code `{}` must be letters, digits or '_'", phase.code),
            );
        }
        c.text(&path.key("title"), &phase.title);
        if !phase.description.is_empty() {
            c.text(&path.key("description"), &phase.description);
        }
    }
    if file.phases.is_empty() {
        c.at(root.key("phases"), "declare at least one phase");
    }

    // Items: codes are unique across scored and context items.
    let all_codes = file
        .items
        .iter()
        .enumerate()
        .map(|(i, it)| (root.key("items").index(i).key("code"), it.code.as_str()))
        .chain(
            file.context
                .iter()
                .enumerate()
                .map(|(i, it)| (root.key("context").index(i).key("code"), it.code.as_str())),
        );
    c.unique("item code", all_codes);
    let phase_codes: BTreeSet<&str> = file.phases.iter().map(|p| p.code.as_str()).collect();
    for (i, item) in file.items.iter().enumerate() {
        let path = root.key("items").index(i);
        c.item_code(&path, &item.code);
        if !phase_codes.contains(item.phase.as_str()) {
            c.at(
                path.key("phase"),
                format!(
                    "item `{}` points at undefined phase `{}`",
                    item.code, item.phase
                ),
            );
        }
        if !file.scales.contains_key(&item.scale) {
            c.at(
                path.key("scale"),
                format!(
                    "item `{}` points at undefined scale `{}`",
                    item.code, item.scale
                ),
            );
        }
        if item.text.is_empty() {
            c.at(
                path.key("text"),
                format!("item `{}` has no text for any role", item.code),
            );
        }
        for (role, text) in &item.text {
            if file.roles.contains_key(role) {
                c.text(&path.key("text").key(role), text);
            } else {
                c.at_key(
                    path.key("text").key(role),
                    format!("`{role}` is not a declared role"),
                );
            }
        }
    }

    // Context items.
    for (i, item) in file.context.iter().enumerate() {
        let path = root.key("context").index(i);
        c.item_code(&path, &item.code);
        if item.extra_codes.len() > MAX_MISSING_CODES {
            c.at(
                path.key("extra_codes"),
                format!(
                    "{} codes: at most {MAX_MISSING_CODES} (Stata marks them .a to .z)",
                    item.extra_codes.len()
                ),
            );
        }
        if item.roles.is_empty() {
            c.at(path.key("roles"), "list at least one role");
        }
        if let Some(phase) = &item.phase
            && !file.phases.iter().any(|p| &p.code == phase)
        {
            c.at(
                path.key("phase"),
                format!(
                    "context question `{}` points at undefined phase `{phase}`",
                    item.code
                ),
            );
        }
        for (r, role) in item.roles.iter().enumerate() {
            if !file.roles.contains_key(role) {
                c.at(
                    path.key("roles").index(r),
                    format!("`{role}` is not a declared role"),
                );
            }
        }
        c.text(&path.key("text"), &item.text);
        if !item.help.is_empty() {
            c.text(&path.key("help"), &item.help);
        }
        let numeric = matches!(
            item.kind,
            ContextKind::Integer
                | ContextKind::Number
                | ContextKind::Year
                | ContextKind::Percentage
        );
        if !numeric && (item.min.is_some() || item.max.is_some()) {
            c.at(
                path.key(if item.min.is_some() { "min" } else { "max" }),
                "`min` and `max` apply only to integer, number, year and percentage",
            );
        }
        // JSON, the stored form, has no NaN or infinity: such a bound would come back as
        // no bound at all.
        for (key, bound) in [("min", item.min), ("max", item.max)] {
            if bound.is_some_and(|b| !b.is_finite()) {
                c.at(path.key(key), format!("`{key}` must be a finite number"));
            }
        }
        if let (Some(min), Some(max)) = (item.min, item.max)
            && min > max
        {
            c.at(
                path.key("min"),
                format!("`min` {min} is larger than `max` {max}"),
            );
        }
        if item.kind == ContextKind::SingleChoice {
            if item.options.len() < 2 {
                c.at(
                    path.key("options"),
                    "a single_choice question needs at least two options",
                );
            }
        } else if !item.options.is_empty() {
            c.at(path.key("options"), "`options` apply only to single_choice");
        }
        c.unique(
            "option code",
            item.options
                .iter()
                .chain(&item.extra_codes)
                .enumerate()
                .map(|(o, opt)| {
                    let key = if o < item.options.len() {
                        ("options", o)
                    } else {
                        ("extra_codes", o - item.options.len())
                    };
                    (path.key(key.0).index(key.1).key("code"), opt.code.as_str())
                }),
        );
        for (list, entries) in [
            ("options", &item.options),
            ("extra_codes", &item.extra_codes),
        ] {
            for (o, opt) in entries.iter().enumerate() {
                if !is_code(&opt.code) {
                    c.at(
                        path.key(list).index(o).key("code"),
                        format!("code `{}` must be letters, digits or '_'", opt.code),
                    );
                }
                c.text(&path.key(list).index(o).key("label"), &opt.label);
            }
        }
        match (item.kind, &item.low_label, &item.high_label) {
            (ContextKind::Rating, Some(low), Some(high)) => {
                c.text(&path.key("low_label"), low);
                c.text(&path.key("high_label"), high);
            }
            (ContextKind::Rating, _, _) => {
                c.at(path.clone(), "a rating needs `low_label` and `high_label`");
            }
            (_, None, None) => {}
            _ => c.at(
                path.key(if item.low_label.is_some() {
                    "low_label"
                } else {
                    "high_label"
                }),
                "`low_label` and `high_label` apply only to rating",
            ),
        }
    }

    // Every role must have something to answer.
    for role in file.roles.keys() {
        let scored = file.items.iter().any(|it| it.text.contains_key(role));
        let context = file.context.iter().any(|it| it.roles.contains(role));
        if !scored && !context {
            c.at_key(
                root.key("roles").key(role),
                format!("role `{role}` has no items"),
            );
        }
    }
    // A scored role answers every scored item: its phase scores, gaps and benchmarks
    // compare like with like.
    for (role, def) in &file.roles {
        if !def.scored {
            continue;
        }
        let missing: Vec<&str> = file
            .items
            .iter()
            .filter(|it| !it.text.contains_key(role))
            .map(|it| it.code.as_str())
            .collect();
        if !missing.is_empty() && missing.len() < file.items.len() {
            c.at_key(
                root.key("roles").key(role),
                format!(
                    "role `{role}` is scored but has no text for item{} {}: give every scored item a `text.{role}`, or set `scored = false`",
                    if missing.len() == 1 { "" } else { "s" },
                    missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
                ),
            );
        } else if missing.len() == file.items.len()
            && !file.items.is_empty()
            && file.context.iter().any(|it| it.roles.contains(role))
        {
            // (A role with no items at all is reported above.)
            c.at_key(
                root.key("roles").key(role),
                format!(
                    "role `{role}` answers no scored item, so it has nothing to score: set `scored = false` for it"
                ),
            );
        }
    }

    check_scoring(&mut c);
    check_next_steps(&mut c);
    check_evidence(&mut c);
    c.problems
}

/// The scale (min, max) the scored items are answered on, if they agree.
fn item_range(file: &SurveyFile) -> Option<(f64, f64)> {
    let mut ranges = file
        .items
        .iter()
        .filter_map(|it| file.scales.get(&it.scale))
        .filter_map(|s| {
            #[expect(clippy::cast_precision_loss, reason = "scale values are small")]
            Some((
                s.points.first()?.value as f64,
                s.points.last()?.value as f64,
            ))
        });
    let first = ranges.next()?;
    ranges.all(|r| r == first).then_some(first)
}

/// The evidence section: a band level, a share, and per phase a single-choice question of
/// that phase, asked of scored roles, with the "none" option and at least one kind.
fn check_evidence(c: &mut Checker<'_>) {
    let file = c.file;
    let Some(evidence) = &file.evidence else {
        return;
    };
    let path = DataPath::root().key("evidence");
    if !file
        .scoring
        .bands
        .iter()
        .any(|b| b.level == evidence.high_level)
    {
        c.at(
            path.key("high_level"),
            format!(
                "`high_level` {} is not the level of any band in `scoring.bands`",
                evidence.high_level
            ),
        );
    }
    if !(0.0..=1.0).contains(&evidence.min_backed_share) {
        c.at(
            path.key("min_backed_share"),
            format!(
                "`min_backed_share` is {}; a share is between 0 and 1",
                evidence.min_backed_share
            ),
        );
    }
    if evidence.questions.is_empty() {
        c.at(path.key("questions"), "name at least one phase's question");
    }
    for (phase, code) in &evidence.questions {
        let at = path.key("questions").key(phase);
        if !file.phases.iter().any(|p| &p.code == phase) {
            c.at_key(at.clone(), format!("`{phase}` is not a phase code"));
            continue;
        }
        let Some(item) = file.evidence_question(phase) else {
            c.at(at, format!("`{code}` is not a context question"));
            continue;
        };
        let problem = if item.kind != ContextKind::SingleChoice {
            Some(format!("`{code}` must be a single_choice question"))
        } else if item.phase.as_deref() != Some(phase.as_str()) {
            Some(format!(
                "`{code}` must be asked on phase `{phase}`'s page: give it `phase = \"{phase}\"`"
            ))
        } else if !item.options.iter().any(|o| o.code == evidence.none) {
            Some(format!(
                "`{code}` has no option `{}` (`evidence.none`)",
                evidence.none
            ))
        } else if item.options.len() < 2 {
            Some(format!(
                "`{code}` needs at least one kind of occasion besides `{}`",
                evidence.none
            ))
        } else {
            item.roles
                .iter()
                .find(|r| !file.roles.get(*r).is_some_and(|d| d.scored))
                .map(|r| format!("`{code}` is asked of `{r}`, which is not a scored role: its high ratings cannot be checked"))
        };
        if let Some(message) = problem {
            c.at(at, message);
        }
    }
}

fn check_scoring(c: &mut Checker<'_>) {
    let file = c.file;
    let path = DataPath::root().key("scoring");
    let mut per_phase: BTreeMap<&str, u32> = BTreeMap::new();
    for item in &file.items {
        *per_phase.entry(item.phase.as_str()).or_default() += 1;
    }
    if file.scoring.min_valid_items == 0 {
        c.at(
            path.key("min_valid_items"),
            "`min_valid_items` must be at least 1",
        );
    }
    for (i, phase) in file.phases.iter().enumerate() {
        let count = per_phase.get(phase.code.as_str()).copied().unwrap_or(0);
        if count == 0 {
            c.at(
                DataPath::root().key("phases").index(i),
                format!("phase `{}` has no items", phase.code),
            );
            continue;
        }
        if count as usize > crate::core::scoring::MAX_PHASE_ITEMS {
            c.at(
                DataPath::root().key("phases").index(i),
                format!(
                    "phase `{}` has {count} items; a phase can have at most {} (split it in two)",
                    phase.code,
                    crate::core::scoring::MAX_PHASE_ITEMS
                ),
            );
        }
        let (threshold, at) = match phase.min_valid_items {
            Some(t) => (
                t,
                DataPath::root()
                    .key("phases")
                    .index(i)
                    .key("min_valid_items"),
            ),
            None => (file.scoring.min_valid_items, path.key("min_valid_items")),
        };
        if threshold > count {
            c.at(
                at,
                format!(
                    "`min_valid_items` is {threshold} but phase `{}` has only {count} item{}",
                    phase.code,
                    if count == 1 { "" } else { "s" }
                ),
            );
        }
    }
    if !(file.scoring.index_multiplier.is_finite() && file.scoring.index_multiplier > 0.0) {
        c.at(
            path.key("index_multiplier"),
            "`index_multiplier` must be a positive number",
        );
    }

    let bands = &file.scoring.bands;
    let bands_path = path.key("bands");
    if bands.is_empty() {
        c.at(bands_path, "declare at least one maturity band");
        return;
    }
    for (i, band) in bands.iter().enumerate() {
        let p = bands_path.index(i);
        c.text(&p.key("label"), &band.label);
        // NaN compares false with everything, so the checks below would let it pass; and
        // JSON, the stored form, holds neither NaN nor infinity.
        for (key, bound) in [("from", band.from), ("to", band.to)] {
            if !bound.is_finite() {
                c.at(
                    p.key(key),
                    format!("band {}: `{key}` must be a finite number", band.level),
                );
            }
        }
        if band.to <= band.from {
            c.at(
                p.key("to"),
                format!(
                    "band {}: `to` ({}) must be larger than `from` ({})",
                    band.level, band.to, band.from
                ),
            );
        }
        if u32::try_from(i).ok() != Some(band.level) {
            c.at(
                p.key("level"),
                format!(
                    "bands must be listed by level 0, 1, 2, …; expected level {i}, found {}",
                    band.level
                ),
            );
        }
        if i > 0 {
            let prev = &bands[i - 1];
            if band.from < prev.to {
                c.at(
                    p.key("from"),
                    format!(
                        "band {} overlaps band {}: it starts at {} but band {} ends at {}",
                        band.level, prev.level, band.from, prev.level, prev.to
                    ),
                );
            } else if band.from > prev.to {
                c.at(
                    p.key("from"),
                    format!(
                        "bands leave {}–{} uncovered: band {} ends at {} and band {} starts at {}",
                        prev.to, band.from, prev.level, prev.to, band.level, band.from
                    ),
                );
            }
        }
    }
    match item_range(file) {
        Some((min, max)) => {
            if bands[0].from > min {
                c.at(bands_path.index(0).key("from"), format!("bands do not cover the scale: they start at {} but the scale starts at {min}", bands[0].from));
            }
            let last = bands.len() - 1;
            if bands[last].to < max {
                c.at(
                    bands_path.index(last).key("to"),
                    format!(
                        "bands do not cover the scale: they end at {} but the scale ends at {max}",
                        bands[last].to
                    ),
                );
            }
        }
        None if !file.items.is_empty() => c.at(
            DataPath::root().key("items"),
            "scored items must share one scale range for the bands to apply",
        ),
        None => {}
    }
}

fn check_next_steps(c: &mut Checker<'_>) {
    let file = c.file;
    let root = DataPath::root();
    let mut seen: HashMap<(&str, u32), usize> = HashMap::new();
    let levels: BTreeSet<u32> = file.scoring.bands.iter().map(|b| b.level).collect();
    let phase_codes: BTreeSet<&str> = file.phases.iter().map(|p| p.code.as_str()).collect();
    for (i, step) in file.next_steps.iter().enumerate() {
        let path = root.key("next_steps").index(i);
        if !phase_codes.contains(step.phase.as_str()) {
            c.at(
                path.key("phase"),
                format!("next step points at undefined phase `{}`", step.phase),
            );
        }
        if !levels.contains(&step.level) {
            c.at(
                path.key("level"),
                format!("next step points at undefined level {}", step.level),
            );
        }
        if let Some(first) = seen.insert((step.phase.as_str(), step.level), i) {
            let (line, _) = (c.locate)(&root.key("next_steps").index(first));
            c.at(
                path.clone(),
                format!(
                    "duplicate next step for phase `{}` level {} (first on line {line})",
                    step.phase, step.level
                ),
            );
        }
        c.text(&path.key("text"), &step.text);
    }
    for phase in &file.phases {
        for level in &levels {
            if !seen.contains_key(&(phase.code.as_str(), *level)) {
                c.at(
                    root.key("next_steps"),
                    format!("no next step for phase `{}` at level {level}", phase.code),
                );
            }
        }
    }
}
