//! CSV that a spreadsheet will not run: every CSV samskap writes goes through [`Writer`].
//!
//! A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a
//! formula by Excel, LibreOffice and Google Sheets (OWASP's "CSV injection"): a free-text
//! answer, a wave name or a municipality name such as `=HYPERLINK("https://evil…")` would
//! run on the researcher's or policymaker's machine. Such a cell gets a leading apostrophe,
//! which spreadsheets hide and treat as "this is text". A cell that is a plain number
//! (`-9`, `-0.25`, `-0,25`, `+1e3`) is left alone: a number is not a formula, and researchers'
//! missing codes are negative. [`restore`] undoes the apostrophe for samskap's own readers.

use std::borrow::Cow;

/// `cell`, neutralised if a spreadsheet would run it.
pub fn cell(cell: &str) -> Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    // A decimal comma (bokmål spreadsheets) is a number too: `-1,5`.
    let number = cell.parse::<f64>().is_ok() || cell.replacen(',', ".", 1).parse::<f64>().is_ok();
    if risky && !number {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A cell read back from a CSV samskap wrote (the catalogue import): the apostrophe
/// [`cell`] added is dropped.
pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => cell,
    }
}

/// A `csv::Writer` whose every cell passes through [`cell`].
#[derive(Debug)]
pub struct Writer<W: std::io::Write>(csv::Writer<W>);

impl<W: std::io::Write> Writer<W> {
    pub fn from_writer(out: W) -> Self {
        Self(csv::Writer::from_writer(out))
    }

    /// A writer that separates cells with `delimiter` (`;` for Norwegian spreadsheets).
    pub fn with_delimiter(out: W, delimiter: u8) -> Self {
        Self(
            csv::WriterBuilder::new()
                .delimiter(delimiter)
                .flexible(true)
                .from_writer(out),
        )
    }

    /// Writes one record, each cell neutralised.
    pub fn write_record<I, T>(&mut self, record: I) -> csv::Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        self.0
            .write_record(record.into_iter().map(|c| cell(c.as_ref()).into_owned()))
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_become_text_and_numbers_stay_numbers() {
        for risky in [
            "=1+1",
            "+cmd|' /C calc'!A0",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\r=x",
        ] {
            assert_eq!(cell(risky), format!("'{risky}"), "{risky:?}");
            assert_eq!(restore(&cell(risky)), risky);
        }
        for plain in ["-9", "-0.25", "+1e3", "Bodø", "'quoted", "a=b", ""] {
            assert_eq!(cell(plain), plain, "{plain:?}");
            assert_eq!(restore(plain), plain);
        }
    }

    #[test]
    fn the_writer_neutralises_every_cell() {
        let mut w = Writer::from_writer(Vec::new());
        w.write_record(["=HYPERLINK(\"x\")", "-9", "ok"]).unwrap();
        w.flush().unwrap();
        let text = String::from_utf8(w.0.into_inner().unwrap()).unwrap();
        assert_eq!(text, "\"'=HYPERLINK(\"\"x\"\")\",-9,ok\n");
    }
}
