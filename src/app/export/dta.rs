//! Streaming writer of Stata `.dta` files, format 118 (Stata 14 and later), little-endian.
//!
//! Written from Stata's own description of the format, `help dta` ("Description of .dta
//! file format", release 118): `<stata_dta>`, then the sections header, map, variable_types,
//! varnames, sortlist, formats, value_label_names, variable_labels, characteristics, data,
//! strls and value_labels, each in its own tags. The map holds the byte offset of every
//! section, so the number of rows is given up front: everything before the data and the
//! value labels after it depend only on the columns and are built in memory, and the rows
//! are streamed in between.
//!
//! Why by hand: the `dta` crate (0.6) writes data, but its `ValueLabelSet` has no public
//! constructor, so it cannot write the value labels and labelled missing codes the
//! bundle needs. The tests read what this writes with pyreadstat and R's haven.

use super::native::{Column, Kind, Value};

use std::collections::HashSet;
use std::io::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

/// `Err` of kind `InvalidInput` with a formatted message.
macro_rules! invalid {
    ($($arg:tt)*) => { Err(io::Error::new(io::ErrorKind::InvalidInput, format!($($arg)*))) };
}

/// Type code of `double` in `<variable_types>` (for `str#` the code is the width).
const TYPE_DOUBLE: u16 = 65526;
/// System missing `.` as a double; `.a` is this plus `1 << 40`, `.b` plus `2 << 40`, … `.z`.
const DOUBLE_MISSING: u64 = 0x7fe0_0000_0000_0000;
/// `.a` as a `long` (`.` is 2147483621, `.b` is `.a` + 1, … `.z` is 2147483647); value-label
/// tables hold extended missing values so.
const LONG_MISSING_A: i32 = 2_147_483_622;
/// Valid (nonmissing) `long` values, the values a value-label table can label.
const LONG_VALID: std::ops::RangeInclusive<f64> = -2_147_483_647.0..=2_147_483_620.0;
/// Size of a `<varnames>` or `<value_label_names>` field (32 characters of UTF-8 + NUL).
const NAME_FIELD: usize = 129;
/// Size of a `<formats>` field.
const FORMAT_FIELD: usize = 57;
/// Size of a `<variable_labels>` field (80 characters of UTF-8 + NUL).
const LABEL_FIELD: usize = 321;
/// Longest value-label text kept, in bytes (Stata allows 32000).
const VALUE_LABEL_BYTES: usize = 320;
/// Words Stata reserves, which cannot be variable names (nor can `str1` … `str2045`).
const RESERVED: [&str; 20] = [
    "_all", "_b", "byte", "_coef", "_cons", "double", "float", "if", "in", "int", "long", "_n",
    "_N", "_pi", "_pred", "_rc", "_skip", "strL", "using", "with",
];
const MONTHS: &str = "JanFebMarAprMayJunJulAugSepOctNovDec";

/// How one column's cells are written.
enum Slot {
    /// `str#` of this width.
    Text(u8),
    /// `double`; each missing code with the bits of the extended missing value it becomes.
    Number(Vec<(f64, u64)>),
}

impl Slot {
    /// Bytes of one cell.
    fn width(&self) -> usize {
        match self {
            Slot::Text(width) => usize::from(*width),
            Slot::Number(_) => 8,
        }
    }

    /// Appends one cell of column `name`.
    fn write(&self, name: &str, value: Value<'_>, buf: &mut Vec<u8>) -> io::Result<()> {
        let bits = match (self, value) {
            (Slot::Text(_), Value::Text(_) | Value::Empty) => {
                let text = if let Value::Text(text) = value {
                    text
                } else {
                    ""
                };
                fixed(buf, text, self.width());
                return Ok(());
            }
            (Slot::Text(_), Value::Number(x)) => {
                return invalid!("column {name}: number {x} in a text column");
            }
            (Slot::Number(_), Value::Text(t)) => {
                return invalid!("column {name}: text {t:?} in a numeric column");
            }
            (Slot::Number(_), Value::Empty) => DOUBLE_MISSING,
            (Slot::Number(codes), Value::Number(x)) => {
                match codes.iter().find(|c| c.0.total_cmp(&x).is_eq()) {
                    Some(&(_, missing)) => missing,
                    None if x.is_finite() && x < f64::from_bits(DOUBLE_MISSING) => x.to_bits(),
                    // Above Stata's largest double (about 8.99e307; a number question
                    // without a `max` takes any answer): Stata's system missing `.`, so one
                    // absurd answer cannot stop the export. The CSV files and the .sav
                    // keep the number.
                    None if x.is_finite() => DOUBLE_MISSING,
                    None => return invalid!("column {name}: Stata cannot store {x}"),
                }
            }
        };
        buf.extend_from_slice(&bits.to_le_bytes());
        Ok(())
    }
}

/// Writes a `.dta` (118) file row by row; memory does not grow with the number of rows.
/// Give it a buffered writer (`BufWriter<File>`): each row is one `write_all`.
pub struct DtaWriter<W: Write> {
    out: W,
    names: Vec<String>,
    slots: Vec<Slot>,
    /// Reused buffer of one row.
    row: Vec<u8>,
    cases: u64,
    written: u64,
    /// `</data>`, the empty strls, the value labels and `</stata_dta>`.
    tail: Vec<u8>,
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn truncate_bytes(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The first `max` characters of `s`.
fn truncate_chars(s: &str, max: usize) -> &str {
    s.char_indices().nth(max).map_or(s, |(end, _)| &s[..end])
}

/// Appends `s` NUL-padded to exactly `len` bytes (cut on a character boundary to fit).
fn fixed(buf: &mut Vec<u8>, s: &str, len: usize) {
    let s = truncate_bytes(s, len);
    buf.extend_from_slice(s.as_bytes());
    buf.resize(buf.len() + len - s.len(), 0);
}

/// Appends `<name>`, what `body` writes and `</name>`, noting in `map` where it starts.
fn section(buf: &mut Vec<u8>, map: &mut Vec<usize>, name: &str, body: impl FnOnce(&mut Vec<u8>)) {
    map.push(buf.len());
    buf.extend_from_slice(format!("<{name}>").as_bytes());
    body(buf);
    buf.extend_from_slice(format!("</{name}>").as_bytes());
}

fn to_u32(n: usize) -> io::Result<u32> {
    let error = || io::Error::new(io::ErrorKind::InvalidInput, "value labels too large");
    u32::try_from(n).map_err(|_| error())
}

fn to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX) // usize fits u64 on every supported target
}

/// How a column's cells are written, and its value-label table if it has one.
type Plan = (Slot, Option<Vec<u8>>);

/// Checks one column and plans it.
fn plan(column: &Column) -> io::Result<Plan> {
    let name = column.name.as_str();
    let ok = |(i, c): (usize, char)| {
        c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())
    };
    let well_formed = (1..=32).contains(&name.len()) && name.char_indices().all(ok);
    let str_type = name
        .strip_prefix("str")
        .is_some_and(|n| n.parse::<u16>().is_ok());
    if !well_formed || RESERVED.contains(&name) || str_type {
        return invalid!("{name:?} is not a valid Stata variable name");
    }
    match column.kind {
        Kind::Text { width } => match u8::try_from(width) {
            _ if !column.values.is_empty() || !column.missing.is_empty() => {
                invalid!("{name}: a text column has no value labels or missing codes")
            }
            Ok(width) if width > 0 => Ok((Slot::Text(width), None)),
            _ => invalid!("{name}: text width {width} is not 1 to 255"),
        },
        Kind::Number { .. } => {
            if column.missing.len() > 26 {
                return invalid!("{name}: more than 26 missing codes (.a to .z)");
            }
            let mut codes: Vec<(f64, u64)> = Vec::new();
            for (&(code, _), letter) in column.missing.iter().zip(1u64..) {
                if !code.is_finite() || codes.iter().any(|c| c.0.total_cmp(&code).is_eq()) {
                    return invalid!("{name}: missing code {code} is not finite or repeated");
                }
                codes.push((code, DOUBLE_MISSING + (letter << 40)));
            }
            Ok((Slot::Number(codes), label_table(column)?))
        }
    }
}

/// The value-label table of a numeric column (`n`, `txtlen`, `off[]`, `val[]`, `txt[]`), or
/// `None` if it labels nothing. Missing codes are labelled as `.a`, `.b`, … (long encoding).
fn label_table(column: &Column) -> io::Result<Option<Vec<u8>>> {
    let name = &column.name;
    let mut entries: Vec<(i32, &str)> = Vec::new();
    for (value, label) in &column.values {
        if value.fract() != 0.0 || !LONG_VALID.contains(value) {
            return invalid!("{name}: labelled value {value} is not a whole number in i32");
        }
        #[allow(clippy::cast_possible_truncation)] // whole and within i32, checked above
        entries.push((*value as i32, label));
    }
    let missing = column.missing.iter().zip(LONG_MISSING_A..);
    entries.extend(missing.map(|((_, label), tag)| (tag, label.as_str())));
    if entries.is_empty() {
        return Ok(None);
    }
    entries.sort_by_key(|&(value, _)| value);
    if let Some(pair) = entries.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        return invalid!("{name}: value {} is labelled twice", pair[0].0);
    }
    let (mut offsets, mut values, mut text) = (Vec::new(), Vec::new(), Vec::new());
    for &(value, label) in &entries {
        offsets.extend_from_slice(&to_u32(text.len())?.to_le_bytes());
        values.extend_from_slice(&value.to_le_bytes());
        text.extend_from_slice(truncate_bytes(label, VALUE_LABEL_BYTES).as_bytes());
        text.push(0);
    }
    let mut table = to_u32(entries.len())?.to_le_bytes().to_vec();
    table.extend_from_slice(&to_u32(text.len())?.to_le_bytes());
    for part in [offsets, values, text] {
        table.extend_from_slice(&part);
    }
    Ok(Some(table))
}

/// Days since 1970-01-01 → (year, month 1-12, day), proleptic Gregorian calendar.
fn civil_date(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468; // days since 0000-03-01
    let (era, day_of_era) = (z / 146_097, z % 146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153; // month counted from March
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (era * 400 + year_of_era + u64::from(month <= 2), month, day)
}

/// `dd Mon yyyy hh:mm` (UTC) for `secs` seconds since the Unix epoch; empty after 9999.
fn timestamp(secs: u64) -> String {
    let (year, month, day) = civil_date(secs / 86_400);
    if year > 9999 {
        return String::new();
    }
    let month = usize::try_from(month * 3)
        .ok()
        .and_then(|m| MONTHS.get(m - 3..m));
    let (hour, minute) = (secs % 86_400 / 3600, secs % 3600 / 60);
    let month = month.unwrap_or("Jan");
    format!("{day:02} {month} {year:04} {hour:02}:{minute:02}")
}

/// Display format: left-aligned `%-#s` for text, `%9.0g` for whole numbers, `%9.#f` else.
fn display_format(kind: Kind) -> String {
    match kind {
        Kind::Text { width } => format!("%-{width}s"),
        Kind::Number { decimals: 0 } => "%9.0g".to_owned(),
        Kind::Number { decimals } => {
            let d = decimals.min(16);
            format!("%{}.{d}f", (d + 3).max(9))
        }
    }
}

/// Everything from `<stata_dta>` to `<data>` with the map left zero, and the offsets of the
/// map's first ten entries (`<stata_dta>`, `<map>`, …, `<characteristics>`, `<data>`).
fn head(label: &str, columns: &[Column], plans: &[Plan], n: u64) -> (Vec<u8>, Vec<usize>) {
    let (mut buf, mut map) = (b"<stata_dta>".to_vec(), Vec::new());
    section(&mut buf, &mut map, "header", |b| {
        b.extend_from_slice(b"<release>118</release><byteorder>LSF</byteorder><K>");
        let k = u16::try_from(columns.len()).unwrap_or(u16::MAX); // checked by `new`
        b.extend_from_slice(&k.to_le_bytes());
        b.extend_from_slice(b"</K><N>");
        b.extend_from_slice(&n.to_le_bytes());
        b.extend_from_slice(b"</N><label>");
        let label = truncate_chars(label, 80); // at most 320 bytes
        b.extend_from_slice(&u16::try_from(label.len()).unwrap_or(0).to_le_bytes());
        b.extend_from_slice(label.as_bytes());
        b.extend_from_slice(b"</label><timestamp>");
        let now = SystemTime::now().duration_since(UNIX_EPOCH);
        let stamp = timestamp(now.map_or(0, |d| d.as_secs()));
        b.push(u8::try_from(stamp.len()).unwrap_or(0));
        b.extend_from_slice(stamp.as_bytes());
        b.extend_from_slice(b"</timestamp>");
    });
    map[0] = 0; // the map's first entry is `<stata_dta>`, not `<header>`
    section(&mut buf, &mut map, "map", |b| b.resize(b.len() + 14 * 8, 0));
    section(&mut buf, &mut map, "variable_types", |b| {
        for (slot, _) in plans {
            let code = match slot {
                Slot::Text(width) => u16::from(*width),
                Slot::Number(_) => TYPE_DOUBLE,
            };
            b.extend_from_slice(&code.to_le_bytes());
        }
    });
    section(&mut buf, &mut map, "varnames", |b| {
        for column in columns {
            fixed(b, &column.name, NAME_FIELD);
        }
    });
    // K + 1 zeros: not sorted.
    section(&mut buf, &mut map, "sortlist", |b| {
        b.resize(b.len() + 2 * (columns.len() + 1), 0);
    });
    section(&mut buf, &mut map, "formats", |b| {
        for column in columns {
            fixed(b, &display_format(column.kind), FORMAT_FIELD);
        }
    });
    // Each labelled column's value-label set is named after the column.
    section(&mut buf, &mut map, "value_label_names", |b| {
        for (column, (_, table)) in columns.iter().zip(plans) {
            fixed(
                b,
                if table.is_some() { &column.name } else { "" },
                NAME_FIELD,
            );
        }
    });
    section(&mut buf, &mut map, "variable_labels", |b| {
        for column in columns {
            fixed(b, truncate_chars(&column.label, 80), LABEL_FIELD);
        }
    });
    section(&mut buf, &mut map, "characteristics", |_| {});
    map.push(buf.len());
    buf.extend_from_slice(b"<data>");
    (buf, map)
}

/// Everything after the rows: `</data>`, empty strls, the value-label sets, `</stata_dta>`;
/// and the offsets (from its start) of `<strls>`, `<value_labels>`, `</stata_dta>`, the end.
fn tail(columns: &[Column], plans: &[Plan]) -> io::Result<(Vec<u8>, Vec<usize>)> {
    let (mut buf, mut map) = (b"</data>".to_vec(), Vec::new());
    section(&mut buf, &mut map, "strls", |_| {});
    map.push(buf.len());
    buf.extend_from_slice(b"<value_labels>");
    for (column, (_, table)) in columns.iter().zip(plans) {
        if let Some(table) = table {
            buf.extend_from_slice(b"<lbl>");
            buf.extend_from_slice(&to_u32(table.len())?.to_le_bytes());
            fixed(&mut buf, &column.name, NAME_FIELD + 3); // name, then 3 bytes of padding
            buf.extend_from_slice(table);
            buf.extend_from_slice(b"</lbl>");
        }
    }
    buf.extend_from_slice(b"</value_labels>");
    map.push(buf.len());
    buf.extend_from_slice(b"</stata_dta>");
    map.push(buf.len());
    Ok((buf, map))
}

impl<W: Write> DtaWriter<W> {
    /// Writes everything before the data. `cases` is the exact number of rows that will follow.
    ///
    /// # Errors
    /// `InvalidInput` for a bad column (name, width, labels, more than 26 missing codes),
    /// or the error of writing to `out`.
    pub fn new(mut out: W, data_label: &str, columns: &[Column], cases: u64) -> io::Result<Self> {
        if columns.len() > usize::from(u16::MAX) {
            return invalid!("{} columns; a .dta 118 file holds 65535", columns.len());
        }
        let mut seen = HashSet::new();
        if let Some(twice) = columns.iter().find(|c| !seen.insert(c.name.as_str())) {
            return invalid!("column name {} is used twice", twice.name);
        }
        let plans = columns.iter().map(plan).collect::<io::Result<Vec<_>>>()?;
        let (tail, tail_map) = tail(columns, &plans)?;
        let (mut head, head_map) = head(data_label, columns, &plans, cases);
        let slots: Vec<Slot> = plans.into_iter().map(|(slot, _)| slot).collect();
        let row_width: usize = slots.iter().map(Slot::width).sum();
        let Some(data_end) = to_u64(row_width)
            .checked_mul(cases)
            .and_then(|bytes| bytes.checked_add(to_u64(head.len())))
        else {
            return invalid!("{cases} rows are too many for a .dta file");
        };
        // The 14 offsets of the map, after `<map>`.
        let offsets = head_map.iter().map(|&at| to_u64(at));
        let offsets = offsets.chain(tail_map.iter().map(|&at| data_end + to_u64(at)));
        let map_at = head_map[1] + b"<map>".len();
        for (chunk, offset) in head[map_at..map_at + 14 * 8].chunks_mut(8).zip(offsets) {
            chunk.copy_from_slice(&offset.to_le_bytes());
        }
        out.write_all(&head)?;
        let names = columns.iter().map(|c| c.name.clone()).collect();
        let row = Vec::with_capacity(row_width);
        Ok(Self {
            out,
            names,
            slots,
            row,
            cases,
            written: 0,
            tail,
        })
    }

    /// Writes one row, a value per column in order.
    ///
    /// # Errors
    /// `InvalidInput` for a wrong number of values, text in a numeric column, a number in a
    /// text column, a number Stata cannot hold, or more rows than announced (a rejected row
    /// writes nothing); else the write error.
    pub fn write_row(&mut self, row: &[Value<'_>]) -> io::Result<()> {
        let (got, want) = (row.len(), self.slots.len());
        if self.written >= self.cases {
            return invalid!("more rows than the {} announced", self.cases);
        } else if got != want {
            return invalid!(
                "row {} has {got} values for {want} columns",
                self.written + 1
            );
        }
        self.row.clear();
        for ((slot, name), value) in self.slots.iter().zip(&self.names).zip(row) {
            slot.write(name, *value, &mut self.row)?;
        }
        self.out.write_all(&self.row)?;
        self.written += 1;
        Ok(())
    }

    /// Writes the (empty) strls and the value labels, and returns the writer.
    ///
    /// # Errors
    /// `InvalidInput` if fewer rows than announced were written; else the write error.
    pub fn finish(mut self) -> io::Result<W> {
        if self.written != self.cases {
            return invalid!(
                "{} rows written of the {} announced",
                self.written,
                self.cases
            );
        }
        self.out.write_all(&self.tail)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::native::Measure;
    use super::*;

    fn col(name: &str, kind: Kind, values: &[f64], missing: &[f64]) -> Column {
        let own = |v: &[f64]| v.iter().map(|&x| (x, format!("label {x}"))).collect();
        let (values, missing) = (own(values), own(missing));
        let (name, label, measure) = (name.to_owned(), "Spørsmål".to_owned(), Measure::Scale);
        Column {
            name,
            label,
            kind,
            measure,
            values,
            missing,
        }
    }

    fn columns() -> Vec<Column> {
        let number = Kind::Number { decimals: 0 };
        vec![
            col("t", Kind::Text { width: 4 }, &[], &[]),
            col("q", number, &[1.0], &[-2.0, -3.0]),
        ]
    }

    #[test]
    fn dates_and_truncation() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(11_017), (2000, 3, 1));
        assert_eq!(civil_date(20_818), (2026, 12, 31));
        assert_eq!(
            timestamp(19_782 * 86_400 + 13 * 3600 + 7 * 60 + 59),
            "29 Feb 2024 13:07"
        );
        assert_eq!(truncate_bytes("Sør", 2), "S");
        assert_eq!(truncate_chars("Østre", 2), "Øs");
        assert_eq!(display_format(Kind::Number { decimals: 2 }), "%9.2f");
    }

    #[test]
    fn layout_missing_values_and_labels() {
        let mut w = DtaWriter::new(Vec::new(), "Ø", &columns(), 3).unwrap();
        w.write_row(&[Value::Text("Søø"), Value::Number(-3.0)])
            .unwrap();
        w.write_row(&[Value::Empty, Value::Number(1.5)]).unwrap();
        w.write_row(&[Value::Text("ab"), Value::Empty]).unwrap();
        let file = w.finish().unwrap();
        let at = file.windows(5).position(|w| w == b"<map>").unwrap() + 5;
        let map: Vec<usize> = (0..14)
            .map(|i| u64::from_le_bytes(file[at + 8 * i..at + 8 * i + 8].try_into().unwrap()))
            .map(|o| usize::try_from(o).unwrap())
            .collect();
        assert_eq!(map[13], file.len());
        assert!(file[map[12]..].starts_with(b"</stata_dta>"));
        assert!(file[map[10]..].starts_with(b"<strls></strls><value_labels><lbl>"));
        let data = &file[map[9] + 6..map[10] - 7];
        let double = |bits: u64| bits.to_le_bytes().to_vec();
        let rows = [b"S\xc3\xb8\0".to_vec(), double(0x7fe0_0200_0000_0000)]
            .into_iter()
            .chain([vec![0; 4], double(1.5f64.to_bits()), b"ab\0\0".to_vec()])
            .chain([double(0x7fe0_0000_0000_0000)]);
        assert_eq!(data, rows.collect::<Vec<_>>().concat());
        // One set, named `q`: 3 entries (1, .a, .b), values as longs.
        let table = &file[map[11] + 14 + 5 + 4 + 132..];
        assert_eq!(&table[..8], &[3, 0, 0, 0, 26, 0, 0, 0]);
        let values: Vec<i32> = (0..3)
            .map(|i| i32::from_le_bytes(table[20 + 4 * i..24 + 4 * i].try_into().unwrap()))
            .collect();
        assert_eq!(values, [1, 2_147_483_622, 2_147_483_623]);
        assert_eq!(&table[32..42], b"label 1\0la");
    }

    fn message<T>(result: io::Result<T>) -> String {
        let error = result.err().expect("an error");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        error.to_string()
    }

    #[test]
    fn errors_name_the_problem() {
        use Value::{Empty as E, Number as N, Text as T};
        let mut w = DtaWriter::new(Vec::new(), "", &columns(), 1).unwrap();
        for (row, problem) in [
            (vec![E], "row 1 has 1 values for 2 columns"),
            (vec![N(1.0), E], "column t: number 1 in a text column"),
            (vec![E, T("1")], "column q: text \"1\" in a numeric column"),
            (vec![E, N(f64::NAN)], "column q: Stata cannot store NaN"),
        ] {
            assert_eq!(message(w.write_row(&row)), problem);
        }
        w.write_row(&[E, E]).unwrap();
        // A number above Stata's largest double is written as `.`, not refused.
        let mut huge = DtaWriter::new(Vec::new(), "", &columns(), 1).unwrap();
        huge.write_row(&[E, N(1e308)]).unwrap();
        let file = huge.finish().unwrap();
        let at = file.windows(6).position(|w| w == b"<data>").unwrap() + 6;
        assert_eq!(
            file[at + 4..at + 12],
            0x7fe0_0000_0000_0000u64.to_le_bytes()
        );
        assert_eq!(
            message(w.write_row(&[E, E])),
            "more rows than the 1 announced"
        );
        let w = DtaWriter::new(Vec::new(), "", &columns(), 2).unwrap();
        assert_eq!(message(w.finish()), "0 rows written of the 2 announced");
        let number = Kind::Number { decimals: 0 };
        let codes: Vec<f64> = (1..=27).map(|i| -f64::from(i)).collect();
        for (bad, problem) in [
            (
                vec![col("x", number, &[], &codes)],
                "more than 26 missing codes",
            ),
            (
                vec![col("x", number, &[0.5], &[])],
                "value 0.5 is not a whole number",
            ),
            (
                vec![col("x", number, &[3e9], &[])],
                "value 3000000000 is not a whole",
            ),
            (
                vec![col("x", number, &[1.0, 1.0], &[])],
                "value 1 is labelled twice",
            ),
            (vec![col("in", number, &[], &[])], "\"in\" is not a valid"),
            (
                vec![col("str12", number, &[], &[])],
                "\"str12\" is not a valid",
            ),
            (vec![col("1x", number, &[], &[])], "\"1x\" is not a valid"),
            (
                vec![col("x", number, &[], &[]), col("x", number, &[], &[])],
                "x is used twice",
            ),
            (
                vec![col("x", Kind::Text { width: 256 }, &[], &[])],
                "width 256 is not 1 to 255",
            ),
            (
                vec![col("x", Kind::Text { width: 3 }, &[1.0], &[])],
                "no value labels",
            ),
        ] {
            let got = message(DtaWriter::new(Vec::new(), "", &bad, 0));
            assert!(got.contains(problem), "{got}");
        }
    }
}
