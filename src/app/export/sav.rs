//! Streaming writer of SPSS system files (`.sav`).
//!
//! The layout follows the GNU PSPP Developers Guide, chapter "System File Format"
//! (<https://www.gnu.org/software/pspp/pspp-dev/html_node/System-File-Format.html>):
//! the file header, one variable record (type 2) per 8-byte segment, value label
//! records (types 3 and 4), extension records (type 7) in ascending subtype order
//! (3, 4, 11, 13, 20), the dictionary termination record (999), then the cases,
//! bytecode-compressed with bias 100. Numbers are little-endian (layout code 2) and all
//! text is UTF-8. Rows go straight to the output through fixed-size buffers, so memory
//! does not grow with the number of rows, and the output never needs `Seek`.
//!
//! Why by hand: no maintained crate passed. `ambers` 0.4 writes `.sav` only from one Arrow
//! `RecordBatch` holding every row (a national wave whole in memory, and a second Arrow
//! implementation beside polars'); binding Debian's ReadStat would make a C library a
//! build requirement, so `cargo run` on a fresh machine would fail. The tests read what
//! this writes with three independent readers: GNU PSPP, pyreadstat and R's haven.

use super::native::{Column, Kind, Measure, Value};
use std::collections::HashSet;
use std::io::{self, BufWriter, Write};
use std::time::{SystemTime, UNIX_EPOCH};

/// The system-missing value (`-DBL_MAX`).
const SYSMIS: f64 = -f64::MAX;
/// Compression bias: whole numbers from `1 - BIAS` to `251 - BIAS` fit in one code byte.
const BIAS: f64 = 100.0;
const PRODUCT: &str = "@(#) SPSS DATA FILE samskap";
/// Longest variable label SPSS documents (the manual: "from 120 to 255").
const VAR_LABEL_MAX: usize = 255;
/// Longest value label SPSS documents (the manual: "from 60 to 120").
const VALUE_LABEL_MAX: usize = 120;
/// Keywords that may not be used as variable names.
const RESERVED: [&str; 13] = [
    "ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR", "TO", "WITH",
];

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

/// `n` as an `int32` field, or an error naming `what`.
fn int(n: usize, what: &str) -> io::Result<i32> {
    i32::try_from(n).map_err(|_| invalid(format!("{what} ({n}) is too large for a .sav file")))
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `s` truncated on a character boundary to `len` bytes, then right-padded with spaces.
fn padded(s: &str, len: usize) -> Vec<u8> {
    let mut bytes = truncate(s, len).as_bytes().to_vec();
    bytes.resize(len, b' ');
    bytes
}

/// Appends little-endian `int32` fields.
fn ints(d: &mut Vec<u8>, values: &[i32]) {
    d.extend(values.iter().flat_map(|v| v.to_le_bytes()));
}

/// Appends the header of an extension record (type 7): subtype, element size, count.
fn extension(d: &mut Vec<u8>, subtype: i32, size: i32, count: usize) -> io::Result<()> {
    ints(d, &[7, subtype, size, int(count, "record length")?]);
    Ok(())
}

/// Number of 8-byte data elements (and variable records) a column takes.
fn segments(kind: Kind) -> usize {
    match kind {
        Kind::Text { width } => width.div_ceil(8),
        Kind::Number { .. } => 1,
    }
}

/// Print and write format: `type << 16 | width << 8 | decimals`, type 1 = A, 5 = F.
fn format(kind: Kind) -> io::Result<i32> {
    Ok(match kind {
        Kind::Text { width } => 1 << 16 | int(width, "text width")? << 8,
        Kind::Number { decimals } => {
            let d = decimals.min(16);
            5 << 16 | i32::from((d + 3).max(8)) << 8 | i32::from(d)
        }
    })
}

/// Missing-value declaration of a numeric variable: `n_missing_values` and its values.
/// Up to three codes are discrete; more are a range (-2) when they are one run of whole
/// numbers, else a range plus one discrete value (-3): the odd code out at either end,
/// or failing that the range up to the second-highest code plus the highest code.
fn missing_spec(codes: &[(f64, String)]) -> (i32, Vec<f64>) {
    let mut c: Vec<f64> = codes
        .iter()
        .map(|(v, _)| *v)
        .filter(|v| !v.is_nan())
        .collect();
    c.sort_by(f64::total_cmp);
    c.dedup();
    let n = c.len();
    let run = |s: &[f64]| {
        s.windows(2)
            .all(|w| w[0].fract() == 0.0 && (w[1] - w[0] - 1.0).abs() < f64::EPSILON)
    };
    if n <= 3 {
        (i32::try_from(n).unwrap_or(0), c)
    } else if run(&c) {
        (-2, vec![c[0], c[n - 1]])
    } else if run(&c[1..]) {
        (-3, vec![c[1], c[n - 1], c[0]])
    } else {
        (-3, vec![c[0], c[n - 2], c[n - 1]])
    }
}

/// Short names for the variable records: the long name uppercased and cut to 8 bytes,
/// made unique (and not a reserved word) by replacing its tail with a number.
fn short_names(columns: &[Column]) -> Vec<String> {
    let mut used = HashSet::new();
    let mut names = Vec::with_capacity(columns.len());
    for col in columns {
        let base: String = col.name.to_ascii_uppercase().chars().take(8).collect();
        let (mut name, mut k) = (base.clone(), 1u32);
        while used.contains(&name) || RESERVED.contains(&name.as_str()) {
            let suffix = k.to_string();
            name = format!("{}{suffix}", &base[..base.len().min(8 - suffix.len())]);
            k += 1;
        }
        used.insert(name.clone());
        names.push(name);
    }
    names
}

/// UTC `secs` after the epoch as the header's ("dd Mon yy", "hh:mm:ss").
fn date_time(secs: u64) -> (String, String) {
    const MONTHS: &str = "JanFebMarAprMayJunJulAugSepOctNovDec";
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01, counting 400-year eras of 146 097 days
    // from 0000-03-01 so that the leap day ends each year.
    let z = days + 719_468;
    let (era, doe) = (z / 146_097, z % 146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = era * 400 + yoe + u64::from(month <= 2);
    let m = usize::try_from(month - 1).map_or("Jan", |i| &MONTHS[3 * i..3 * i + 3]);
    let time = format!("{:02}:{:02}:{:02}", rem / 3600, rem / 60 % 60, rem % 60);
    (format!("{day:02} {m} {:02}", year % 100), time)
}

/// File header record: product, layout code 2, case size, bytecode compression (1),
/// no weight, the case count or -1, bias, creation date and time, file label.
fn header(d: &mut Vec<u8>, label: &str, cols: &[Column], cases: Option<u64>) -> io::Result<()> {
    let case_size = cols.iter().map(|c| segments(c.kind)).sum();
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |t| t.as_secs());
    let (date, time) = date_time(secs);
    d.extend_from_slice(b"$FL2");
    d.extend(padded(PRODUCT, 60));
    let ncases = cases.and_then(|n| i32::try_from(n).ok()).unwrap_or(-1);
    ints(d, &[2, int(case_size, "case size")?, 1, 0, ncases]);
    d.extend(BIAS.to_le_bytes());
    d.extend(date.bytes().chain(time.bytes()));
    d.extend(padded(label, 64));
    d.extend([0; 3]);
    Ok(())
}

/// Variable record (type 2): width, label, missing values, formats, short name; a text
/// column wider than 8 bytes is followed by a continuation record (type -1) per extra 8 bytes.
fn variable(d: &mut Vec<u8>, col: &Column, short: &str) -> io::Result<()> {
    let (width, (n_missing, missing)) = match col.kind {
        Kind::Number { .. } => (0, missing_spec(&col.missing)),
        Kind::Text { width } => (int(width, "text width")?, (0, Vec::new())),
    };
    let label = truncate(&col.label, VAR_LABEL_MAX);
    let fmt = format(col.kind)?;
    ints(
        d,
        &[2, width, i32::from(!label.is_empty()), n_missing, fmt, fmt],
    );
    d.extend(padded(short, 8));
    if !label.is_empty() {
        ints(d, &[int(label.len(), "label length")?]);
        d.extend(padded(label, label.len().next_multiple_of(4)));
    }
    d.extend(missing.iter().flat_map(|v| v.to_le_bytes()));
    for _ in 1..segments(col.kind) {
        ints(d, &[2, -1, 0, 0, 0, 0]);
        d.extend(b"        ");
    }
    Ok(())
}

/// Value label record (type 3) for a numeric column, valid values and missing codes
/// alike, then the value label variables record (type 4) naming its dictionary index.
fn value_labels(d: &mut Vec<u8>, col: &Column, index: usize) -> io::Result<()> {
    let mut seen = HashSet::new();
    let labels: Vec<_> = col
        .values
        .iter()
        .chain(&col.missing)
        .filter(|(v, _)| seen.insert(v.to_bits()))
        .collect();
    if matches!(col.kind, Kind::Text { .. }) || labels.is_empty() {
        return Ok(());
    }
    ints(d, &[3, int(labels.len(), "value label count")?]);
    for (value, text) in labels {
        let text = truncate(text, VALUE_LABEL_MAX);
        d.extend(value.to_le_bytes());
        d.push(u8::try_from(text.len()).map_err(|_| invalid("value label too long".into()))?);
        d.extend(padded(text, (text.len() + 1).next_multiple_of(8) - 1));
    }
    ints(d, &[4, 1, int(index, "dictionary index")?]);
    Ok(())
}

/// The extension records, then the dictionary termination record (999).
fn extensions(d: &mut Vec<u8>, columns: &[Column], shorts: &[String]) -> io::Result<()> {
    // Machine integer info (subtype 3): version 1.0.0, machine -1, IEEE 754,
    // compression code 1, little-endian, character code 65001 (UTF-8).
    extension(d, 3, 4, 8)?;
    ints(d, &[1, 0, 0, -1, 1, 1, 2, 65001]);
    // Machine floating-point info (subtype 4): SYSMIS, HIGHEST, LOWEST (as SPSS 21+ does).
    extension(d, 4, 8, 3)?;
    d.extend(
        [SYSMIS, f64::MAX, -f64::MAX]
            .iter()
            .flat_map(|v| v.to_le_bytes()),
    );
    // Variable display parameters (subtype 11): measure, display width, alignment.
    extension(d, 11, 4, 3 * columns.len())?;
    for col in columns {
        let measure = match col.measure {
            Measure::Nominal => 1,
            Measure::Ordinal => 2,
            Measure::Scale => 3,
        };
        let (width, align) = match col.kind {
            Kind::Text { width } => (int(width.min(40), "display width")?, 0),
            Kind::Number { .. } => (8, 1),
        };
        ints(d, &[measure, width, align]);
    }
    // Long variable names (subtype 13): SHORT=long pairs separated by tabs.
    let pairs: Vec<_> = shorts
        .iter()
        .zip(columns)
        .map(|(s, c)| format!("{s}={}", c.name))
        .collect();
    let pairs = pairs.join("\t");
    extension(d, 13, 1, pairs.len())?;
    d.extend(pairs.bytes());
    // Character encoding (subtype 20).
    extension(d, 20, 1, 5)?;
    d.extend(b"UTF-8");
    ints(d, &[999, 0]);
    Ok(())
}

/// Rejects dictionaries a reader would refuse: bad or duplicate names, bad text widths.
fn validate(columns: &[Column]) -> io::Result<()> {
    if columns.is_empty() {
        return Err(invalid("a .sav file needs at least one column".into()));
    }
    let mut seen = HashSet::new();
    for Column { name, kind, .. } in columns {
        let problem = if name.len() > 64
            || !name.starts_with(|c: char| c.is_ascii_alphabetic())
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            "is not a valid SPSS variable name"
        } else if !seen.insert(name.to_ascii_uppercase()) {
            "is used twice (names ignore case)"
        } else if matches!(kind, Kind::Text { width } if !(1..=255).contains(width)) {
            "has a text width outside 1..=255"
        } else {
            continue;
        };
        return Err(invalid(format!("column `{name}` {problem}")));
    }
    Ok(())
}

/// Bytecode compressor: a block of 8 command bytes, then the 8-byte raw values that its
/// code 253 entries refer to. `block` never holds more than 72 bytes.
struct Encoder<W: Write> {
    out: BufWriter<W>,
    block: Vec<u8>,
    n: usize,
}

impl<W: Write> Encoder<W> {
    fn push(&mut self, code: u8, raw: Option<[u8; 8]>) -> io::Result<()> {
        self.block[self.n] = code;
        self.block.extend(raw.iter().flatten());
        self.n += 1;
        if self.n == 8 {
            self.flush_block()
        } else {
            Ok(())
        }
    }

    /// Writes the pending block, padding unused command bytes with code 0 (ignored).
    fn flush_block(&mut self) -> io::Result<()> {
        if self.n > 0 {
            self.block[self.n..8].fill(0);
            self.out.write_all(&self.block)?;
            self.block.truncate(8);
            self.n = 0;
        }
        Ok(())
    }

    /// A number: code 255 for system-missing, `value + BIAS` for small whole numbers,
    /// else code 253 and the raw `flt64`.
    fn number(&mut self, x: f64) -> io::Result<()> {
        if x.is_nan() || x == SYSMIS {
            self.push(255, None)
        } else if x.fract() == 0.0 && (1.0 - BIAS..=251.0 - BIAS).contains(&x) {
            // Whole and in 1.0..=251.0, so the cast is exact.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let code = (x + BIAS) as u8;
            self.push(code, None)
        } else {
            self.push(253, Some(x.to_le_bytes()))
        }
    }

    /// A string of `width` bytes: each 8-byte segment is code 254 (all spaces) or raw.
    fn text(&mut self, s: &str, width: usize) -> io::Result<()> {
        let bytes = truncate(s, width).as_bytes();
        for i in 0..width.div_ceil(8) {
            let mut seg = [b' '; 8];
            let part = bytes.get(8 * i..).unwrap_or_default();
            seg[..part.len().min(8)].copy_from_slice(&part[..part.len().min(8)]);
            let (code, raw) = if seg == [b' '; 8] {
                (254, None)
            } else {
                (253, Some(seg))
            };
            self.push(code, raw)?;
        }
        Ok(())
    }
}

/// Writes an SPSS system file: the dictionary up front, then one case per `write_row`.
pub struct SavWriter<W: Write> {
    enc: Encoder<W>,
    cols: Vec<(String, Kind)>,
    rows: u64,
    cases: Option<u64>,
}

impl<W: Write> SavWriter<W> {
    /// Writes the dictionary. `cases`: the number of rows when known (else the header says -1).
    ///
    /// # Errors
    /// `InvalidInput` for an unusable dictionary (no columns, a name that is not an SPSS
    /// identifier or is used twice, a text width outside 1..=255); any error of `out`.
    pub fn new(
        out: W,
        file_label: &str,
        columns: &[Column],
        cases: Option<u64>,
    ) -> io::Result<Self> {
        validate(columns)?;
        let shorts = short_names(columns);
        let mut d = Vec::with_capacity(4096);
        header(&mut d, file_label, columns, cases)?;
        for (col, short) in columns.iter().zip(&shorts) {
            variable(&mut d, col, short)?;
        }
        let mut index = 1; // dictionary index (1-based, counting continuation records)
        for col in columns {
            value_labels(&mut d, col, index)?;
            index += segments(col.kind);
        }
        extensions(&mut d, columns, &shorts)?;
        let mut out = BufWriter::new(out);
        out.write_all(&d)?;
        let enc = Encoder {
            out,
            block: vec![0; 8],
            n: 0,
        };
        let cols = columns.iter().map(|c| (c.name.clone(), c.kind)).collect();
        Ok(Self {
            enc,
            cols,
            rows: 0,
            cases,
        })
    }

    /// One row, a value per column in order.
    ///
    /// # Errors
    /// Wrong arity, text in a numeric column or a number in a text column is an
    /// `InvalidInput` error naming the column (and nothing of the row is written);
    /// any error of the output.
    pub fn write_row(&mut self, row: &[Value<'_>]) -> io::Result<()> {
        if row.len() != self.cols.len() {
            let (got, want) = (row.len(), self.cols.len());
            return Err(invalid(format!("row has {got} values, expected {want}")));
        }
        for ((name, kind), value) in self.cols.iter().zip(row) {
            let problem = match (kind, value) {
                (Kind::Number { .. }, Value::Text(_)) => "is numeric but got text",
                (Kind::Text { .. }, Value::Number(_)) => "is text but got a number",
                _ => continue,
            };
            return Err(invalid(format!("column `{name}` {problem}")));
        }
        for ((_, kind), value) in self.cols.iter().zip(row) {
            match (*kind, *value) {
                (Kind::Number { .. }, Value::Number(x)) => self.enc.number(x)?,
                (Kind::Number { .. }, _) => self.enc.push(255, None)?,
                (Kind::Text { width }, Value::Text(s)) => self.enc.text(s, width)?,
                (Kind::Text { width }, _) => self.enc.text("", width)?,
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// Flushes and returns the writer.
    ///
    /// # Errors
    /// `InvalidData` if `new` was given a case count that differs from the rows written;
    /// any error of the output.
    pub fn finish(mut self) -> io::Result<W> {
        if let Some(n) = self.cases
            && n != self.rows
        {
            let msg = format!("header says {n} cases but {} were written", self.rows);
            return Err(io::Error::new(io::ErrorKind::InvalidData, msg));
        }
        self.enc.flush_block()?;
        let mut out = self
            .enc
            .out
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        out.flush()?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(name: &str, missing: &[f64]) -> Column {
        let missing = missing.iter().map(|v| (*v, format!("m{v}"))).collect();
        let (label, kind, measure) = ("Sør".into(), Kind::Number { decimals: 2 }, Measure::Scale);
        Column {
            name: name.into(),
            label,
            kind,
            measure,
            values: vec![(1.0, "one".into())],
            missing,
        }
    }

    /// Decodes bytecode-compressed data into 8-byte elements (`None` = system-missing).
    fn decode(data: &[u8]) -> Vec<Option<[u8; 8]>> {
        let (mut out, mut at) = (Vec::new(), 0);
        while at + 8 <= data.len() {
            let codes = &data[at..at + 8];
            at += 8;
            for &c in codes.iter().filter(|&&c| c != 0) {
                out.push(match c {
                    1..=251 => Some((f64::from(c) - BIAS).to_le_bytes()),
                    253 => {
                        at += 8;
                        data[at - 8..at].try_into().ok()
                    }
                    254 => Some(*b"        "),
                    _ => None,
                });
            }
        }
        out
    }

    #[test]
    fn helpers() {
        assert_eq!(
            (truncate("Sør-Øst", 2), truncate("Sør-Øst", 3)),
            ("S", "Sø")
        );
        assert_eq!(padded("Sø", 5), b"S\xc3\xb8  ");
        let cols =
            ["m_peer_count", "m_peer_count2", "m_first_year", "to", "x"].map(|n| num(n, &[]));
        assert_eq!(
            short_names(&cols),
            ["M_PEER_C", "M_PEER_1", "M_FIRST_", "TO1", "X"]
        );
        let m = |v: &[f64]| missing_spec(&num("a", v).missing);
        assert_eq!(m(&[-2.0, -3.0]), (2, vec![-3.0, -2.0]));
        assert_eq!(
            m(&[-2.0, -3.0, -4.0, -5.0, -6.0, -7.0, -8.0]),
            (-2, vec![-8.0, -2.0])
        );
        assert_eq!(m(&[-2.0, -3.0, -4.0, -9.0]), (-3, vec![-4.0, -2.0, -9.0]));
        assert_eq!(m(&[-1.0, -5.0, -6.0, -7.0]), (-3, vec![-7.0, -5.0, -1.0]));
        assert_eq!(m(&[-1.0, -3.0, -5.0, -7.0]), (-3, vec![-7.0, -3.0, -1.0]));
        assert_eq!(date_time(0), ("01 Jan 70".into(), "00:00:00".into()));
        assert_eq!(
            date_time(951_827_696),
            ("29 Feb 00".into(), "12:34:56".into())
        );
        assert_eq!(
            date_time(1_798_761_599),
            ("31 Dec 26".into(), "23:59:59".into())
        );
        assert!(validate(&[num("a", &[]), num("A", &[])]).is_err());
        assert!(validate(&[num("9a", &[])]).is_err());
    }

    #[test]
    fn rows_are_checked_and_streamed() {
        let mut text = num("name", &[]);
        text.kind = Kind::Text { width: 13 };
        let cols = [text, num("m_score", &[-2.0])];
        let dict = SavWriter::new(Vec::new(), "t", &cols, None)
            .unwrap()
            .finish()
            .unwrap();
        let field = |f: &[u8], at: usize| i32::from_le_bytes(f[at..at + 4].try_into().unwrap());
        assert_eq!(
            (&dict[..4], field(&dict, 68), field(&dict, 80)),
            (&b"$FL2"[..], 3, -1)
        );
        let mut w = SavWriter::new(Vec::new(), "t", &cols, Some(2)).unwrap();
        let err = |r: io::Result<()>| r.unwrap_err().to_string();
        assert!(err(w.write_row(&[Value::Number(1.0), Value::Empty])).contains("`name`"));
        assert!(err(w.write_row(&[Value::Empty, Value::Text("x")])).contains("`m_score`"));
        assert!(err(w.write_row(&[Value::Empty])).contains("expected 2"));
        w.write_row(&[Value::Text("Helse Sør-Øst AS"), Value::Number(5.6)])
            .unwrap();
        w.write_row(&[Value::Empty, Value::Number(-2.0)]).unwrap();
        let file = w.finish().unwrap();
        assert_eq!(field(&file, 80), 2);
        let (n, sp) = (|x: f64| Some(x.to_le_bytes()), Some(*b"        "));
        let cells = [
            Some(*b"Helse S\xc3"),
            Some(*b"\xb8r-\xc3\x98   "),
            n(5.6),
            sp,
            sp,
            n(-2.0),
        ];
        assert_eq!(decode(&file[dict.len()..]), cells);
        let mut short = SavWriter::new(Vec::new(), "t", &cols, Some(3)).unwrap();
        short.write_row(&[Value::Empty, Value::Empty]).unwrap();
        assert!(short.finish().is_err());
    }
}
