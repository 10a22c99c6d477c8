//! What a native data file (SPSS .sav, Stata .dta) is written from: columns described
//! once, then rows streamed one at a time.

/// One column (variable) of a data file.
#[derive(Debug, Clone)]
pub struct Column {
    /// ASCII `[a-z][a-z0-9_]*`, at most 32 characters, unique in the file.
    pub name: String,
    /// Variable label, UTF-8 (may be long; writers truncate on a character boundary to
    /// what their format holds).
    pub label: String,
    pub kind: Kind,
    /// SPSS measure level; Stata has none and ignores it.
    pub measure: Measure,
    /// Labels of valid values (numeric columns only), in order.
    pub values: Vec<(f64, String)>,
    /// User-missing codes (numeric columns only): negative whole numbers, each with its
    /// label, in order (for example -2 "Don't know", -3 "Not applicable", -4 "Never", ...).
    /// There may be more than three, and up to 26.
    pub missing: Vec<(f64, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string of at most `width` bytes (1 to 255).
    Text { width: usize },
    /// A number shown with `decimals` decimals.
    Number { decimals: u8 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    Nominal,
    Ordinal,
    Scale,
}

/// One cell of a row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Text(&'a str),
    /// A valid value, or one of the column's missing codes.
    Number(f64),
    /// Not answered: system missing (SPSS sysmis, Stata `.`); an empty string in a text column.
    Empty,
}

/// Writes `samskap.sav` (SPSS) and `samskap.dta` (Stata 118) in `dir` from the bundle's
/// `wide.csv`: the same rows and columns, with `dict`'s labels, value labels, missing
/// codes (SPSS user-missing values; Stata extended missing values `.a`, `.b`, … in the
/// codebook's order) and measure levels. Two passes over the CSV file (the widths of the
/// text columns and the number of rows, then the rows), so memory does not grow with the
/// wave.
pub(super) fn write_native(
    dir: &std::path::Path,
    dict: &super::Dictionary,
    file_label: &str,
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let wide = dir.join("wide.csv");
    let open =
        || csv::Reader::from_path(&wide).with_context(|| format!("cannot read {}", wide.display()));
    let ids = super::ID_COLUMNS.len();
    let mut widths = vec![1_usize; ids];
    let mut rows: u64 = 0;
    let mut reader = open()?;
    for record in reader.records() {
        let record = record?;
        for (w, field) in widths.iter_mut().zip(record.iter()) {
            *w = (*w).max(super::safe_csv::restore(field).len()).min(255);
        }
        rows += 1;
    }
    let mut columns: Vec<Column> = super::ID_COLUMNS
        .iter()
        .zip(&widths)
        .map(|((name, _, _), width)| Column {
            name: (*name).to_owned(),
            label: dict.id_label(name).to_owned(),
            kind: Kind::Text { width: *width },
            measure: Measure::Nominal,
            values: Vec::new(),
            missing: Vec::new(),
        })
        .collect();
    #[expect(
        clippy::cast_precision_loss,
        reason = "value labels and missing codes are small whole numbers"
    )]
    columns.extend(dict.vars.iter().map(|v| {
        Column {
            name: v.name.clone(),
            label: v.label.clone(),
            kind: Kind::Number {
                // Display only (the value is kept whole): numbers and percentages may
                // have decimals (12.5 %), the rest are whole.
                decimals: if matches!(v.kind.as_str(), "number" | "percentage") {
                    2
                } else {
                    0
                },
            },
            measure: match v.kind.as_str() {
                "integer" | "number" | "year" | "percentage" => Measure::Scale,
                "scored" | "rating" => Measure::Ordinal,
                _ => Measure::Nominal,
            },
            values: v
                .values
                .iter()
                .map(|(n, l)| (*n as f64, l.clone()))
                .collect(),
            missing: v
                .missing
                .iter()
                .map(|m| (m.value as f64, format!("{}: {}", m.code, m.label)))
                .collect(),
        }
    }));
    let create = |name: &str| -> anyhow::Result<std::io::BufWriter<std::fs::File>> {
        let path = dir.join(name);
        Ok(std::io::BufWriter::new(
            std::fs::File::create(&path)
                .with_context(|| format!("cannot write {}", path.display()))?,
        ))
    };
    let mut sav =
        super::sav::SavWriter::new(create("samskap.sav")?, file_label, &columns, Some(rows))
            .context("samskap.sav")?;
    let mut dta = super::dta::DtaWriter::new(create("samskap.dta")?, file_label, &columns, rows)
        .context("samskap.dta")?;
    let mut reader = open()?;
    let mut record = csv::StringRecord::new();
    let mut line = 1;
    while reader.read_record(&mut record)? {
        line += 1;
        let mut row: Vec<Value<'_>> = Vec::with_capacity(columns.len());
        for (i, field) in record.iter().enumerate() {
            row.push(if i < ids {
                // The CSV guards a formula-like text for spreadsheets; a data file keeps
                // the text itself.
                Value::Text(super::safe_csv::restore(field))
            } else if field.is_empty() {
                Value::Empty
            } else {
                Value::Number(
                    field.parse().with_context(|| {
                        format!("wide.csv line {line}: {field:?} is not a number")
                    })?,
                )
            });
        }
        sav.write_row(&row)
            .with_context(|| format!("samskap.sav, wide.csv line {line}"))?;
        dta.write_row(&row)
            .with_context(|| format!("samskap.dta, wide.csv line {line}"))?;
    }
    std::io::Write::flush(&mut sav.finish()?)?;
    std::io::Write::flush(&mut dta.finish()?)?;
    Ok(())
}
