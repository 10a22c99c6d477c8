//! Where things are in a survey file: every problem is found by a path into the parsed
//! data (`items[3].phase`) and located here in the source text as line and column.

use std::fmt;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One step of a path into the file's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A path such as `items[3].text.manager`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataPath(pub Vec<Seg>);

impl DataPath {
    pub fn root() -> Self {
        Self(Vec::new())
    }

    #[must_use]
    pub fn key(&self, key: &str) -> Self {
        let mut v = self.0.clone();
        v.push(Seg::Key(key.to_owned()));
        Self(v)
    }

    #[must_use]
    pub fn index(&self, i: usize) -> Self {
        let mut v = self.0.clone();
        v.push(Seg::Index(i));
        Self(v)
    }
}

impl fmt::Display for DataPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// Point at the key itself (unknown or duplicate keys) or at its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Key,
    Value,
}

/// The parsed document with spans, and the text to turn spans into positions.
#[derive(Debug)]
pub struct SourceMap<'a> {
    text: &'a str,
    root: Spanned<DeTable<'a>>,
}

impl<'a> SourceMap<'a> {
    pub fn new(text: &'a str, root: Spanned<DeTable<'a>>) -> Self {
        Self { text, root }
    }

    /// 1-based line and column of `path`. When the path does not exist (a missing key),
    /// the deepest existing ancestor is located instead.
    pub fn locate(&self, path: &DataPath, target: Target) -> (usize, usize) {
        let mut span = self.root.span();
        let mut current: Option<&DeValue<'a>> = None;
        let mut table: Option<&DeTable<'a>> = Some(self.root.get_ref());
        let last = path.0.len().saturating_sub(1);
        for (depth, seg) in path.0.iter().enumerate() {
            let next: Option<(&Spanned<DeValue<'a>>, std::ops::Range<usize>)> =
                match (seg, table, current) {
                    (Seg::Key(k), Some(t), _) => t
                        .iter()
                        .find(|(key, _)| key.get_ref().as_ref() == k.as_str())
                        .map(|(key, value)| {
                            let s = if depth == last && target == Target::Key {
                                key.span()
                            } else {
                                value.span()
                            };
                            (value, s)
                        }),
                    (Seg::Index(i), _, Some(DeValue::Array(a))) => a.get(*i).map(|v| (v, v.span())),
                    _ => None,
                };
            let Some((value, s)) = next else { break };
            span = s;
            current = Some(value.get_ref());
            table = match value.get_ref() {
                DeValue::Table(t) => Some(t),
                _ => None,
            };
        }
        // Tables from `[[items]]` headers span their body; an empty span means the header.
        line_col(self.text, span.start)
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}
