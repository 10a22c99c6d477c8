//! The scripts that read `wide.csv` with labels and missing values: SPSS/PSPP, Stata, R.
//! Every missing code of a variable is declared missing in each of them.

use super::{Dictionary, ID_COLUMNS};

/// A string literal for SPSS syntax and Stata: double quotes doubled.
pub(super) fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "''").replace('\n', " "))
}

/// Stata's extended missing value for a variable's `i`-th missing code: `.a`, `.b`, …
/// (a variable has at most 26 codes; the survey format has no more).
pub(super) fn stata_missing(i: usize) -> String {
    let letter = u8::try_from(i).ok().filter(|i| *i < 26).unwrap_or(25);
    format!(".{}", char::from(b'a' + letter))
}

pub(super) fn write_spss(dict: &Dictionary, mut out: impl std::io::Write) -> anyhow::Result<()> {
    writeln!(
        out,
        "* samskap research bundle: reads wide.csv and applies labels and missing values."
    )?;
    writeln!(
        out,
        "* Run from the bundle's directory, e.g. pspp samskap.sps or in SPSS with CD set there."
    )?;
    writeln!(
        out,
        "* samskap.sav holds the same data with the same labels, ready to open."
    )?;
    writeln!(
        out,
        "GET DATA /TYPE=TXT /FILE='wide.csv' /ENCODING='UTF8' /DELIMITERS=',' /QUALIFIER='\"' /ARRANGEMENT=DELIMITED /FIRSTCASE=2"
    )?;
    writeln!(
        out,
        "  /VARIABLES=wave A60 service A20 panel A20 response A20 role A32 language A8"
    )?;
    for v in &dict.vars {
        writeln!(out, "  {} F8.2", v.name)?;
    }
    writeln!(out, ".")?;
    writeln!(out, "VARIABLE LABELS")?;
    for (i, (name, _, _)) in ID_COLUMNS.iter().enumerate() {
        let sep = if i == 0 { " " } else { " /" };
        writeln!(out, "{sep}{name} {}", quoted(dict.id_label(name)))?;
    }
    for v in &dict.vars {
        writeln!(out, "  /{} {}", v.name, quoted(&v.label))?;
    }
    writeln!(out, ".")?;
    for v in dict
        .vars
        .iter()
        .filter(|v| !v.values.is_empty() || !v.missing.is_empty())
    {
        write!(out, "VALUE LABELS {}", v.name)?;
        for (n, l) in &v.values {
            write!(out, " {n} {}", quoted(l))?;
        }
        for m in &v.missing {
            write!(
                out,
                " {} {}",
                m.value,
                quoted(&format!("{}: {}", m.code, m.label))
            )?;
        }
        writeln!(out, ".")?;
    }
    // Every code is at or below the variable's highest code and every valid value above
    // it, so one range declares them all (SPSS takes at most three single values).
    for v in &dict.vars {
        if let Some(top) = v.top_code() {
            writeln!(out, "MISSING VALUES {} (LO THRU {top}).", v.name)?;
        }
    }
    for v in &dict.vars {
        let level = match v.kind.as_str() {
            "integer" | "number" | "year" | "percentage" => "SCALE",
            "scored" | "rating" => "ORDINAL",
            _ => "NOMINAL",
        };
        writeln!(out, "VARIABLE LEVEL {} ({level}).", v.name)?;
    }
    writeln!(out, "EXECUTE.")?;
    out.flush()?;
    Ok(())
}

pub(super) fn write_stata(dict: &Dictionary, mut out: impl std::io::Write) -> anyhow::Result<()> {
    writeln!(
        out,
        "* samskap research bundle: reads wide.csv and applies labels and missing values."
    )?;
    writeln!(out, "* Run from the bundle's directory: do samskap.do")?;
    writeln!(
        out,
        "* samskap.dta holds the same data with the same labels, ready to open."
    )?;
    writeln!(
        out,
        "import delimited using \"wide.csv\", clear varnames(1) encoding(\"utf-8\") stringcols(1/6)"
    )?;
    for (name, _, _) in ID_COLUMNS {
        // Stata variable labels hold at most 80 characters.
        let label: String = dict.id_label(name).chars().take(80).collect();
        writeln!(out, "label variable {name} {}", quoted(&label))?;
    }
    for v in &dict.vars {
        let label: String = v.label.chars().take(80).collect();
        writeln!(out, "label variable {} {}", v.name, quoted(&label))?;
    }
    for v in &dict.vars {
        // Missing codes become Stata's extended missing values in order: .a, .b, …
        for (i, m) in v.missing.iter().enumerate() {
            writeln!(
                out,
                "replace {} = {} if {} == {}",
                v.name,
                stata_missing(i),
                v.name,
                m.value
            )?;
        }
        if v.values.is_empty() && v.missing.is_empty() {
            continue;
        }
        write!(out, "label define {}_lbl", v.name)?;
        for (n, l) in &v.values {
            write!(out, " {n} {}", quoted(l))?;
        }
        for (i, m) in v.missing.iter().enumerate() {
            write!(
                out,
                " {} {}",
                stata_missing(i),
                quoted(&format!("{}: {}", m.code, m.label))
            )?;
        }
        writeln!(out, ", replace")?;
        writeln!(out, "label values {} {}_lbl", v.name, v.name)?;
    }
    out.flush()?;
    Ok(())
}

/// An R string literal.
pub(super) fn r_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

pub(super) fn write_r(dict: &Dictionary, mut out: impl std::io::Write) -> anyhow::Result<()> {
    writeln!(
        out,
        "# samskap research bundle: reads wide.csv and applies labels and missing values."
    )?;
    writeln!(
        out,
        "# Run from the bundle's directory: source(\"samskap.R\") leaves the data in `samskap`."
    )?;
    writeln!(
        out,
        "# haven::read_sav(\"samskap.sav\", user_na = TRUE) or haven::read_dta(\"samskap.dta\") keep the missing codes apart instead."
    )?;
    writeln!(
        out,
        "samskap <- read.csv(\"wide.csv\", stringsAsFactors = FALSE, na.strings = \"\", encoding = \"UTF-8\","
    )?;
    writeln!(
        out,
        "                    colClasses = c(wave = \"character\", service = \"character\", panel = \"character\", response = \"character\"))"
    )?;
    let codes: Vec<String> = dict.roles.iter().map(|(c, _)| r_string(c)).collect();
    let labels: Vec<String> = dict.roles.iter().map(|(_, l)| r_string(l)).collect();
    writeln!(
        out,
        "samskap$role <- factor(samskap$role, levels = c({}), labels = c({}))",
        codes.join(", "),
        labels.join(", ")
    )?;
    for (name, _, _) in ID_COLUMNS {
        writeln!(
            out,
            "attr(samskap${name}, \"label\") <- {}",
            r_string(dict.id_label(name))
        )?;
    }
    writeln!(out, "samskap_missing <- list()")?;
    for v in &dict.vars {
        if !v.missing.is_empty() {
            let codes: Vec<String> = v.missing.iter().map(|m| m.value.to_string()).collect();
            let names: Vec<String> = v
                .missing
                .iter()
                .map(|m| format!("{} = {}", r_string(&m.code), m.value))
                .collect();
            writeln!(
                out,
                "samskap_missing[[{}]] <- c({})",
                r_string(&v.name),
                names.join(", ")
            )?;
            // The codes are kept in `samskap_missing`; the values become NA.
            writeln!(
                out,
                "samskap${0}[samskap${0} %in% c({1})] <- NA",
                v.name,
                codes.join(", ")
            )?;
        }
        if !v.values.is_empty() && v.kind != "rating" {
            let levels: Vec<String> = v.values.iter().map(|(n, _)| n.to_string()).collect();
            let labels: Vec<String> = v.values.iter().map(|(_, l)| r_string(l)).collect();
            writeln!(
                out,
                "samskap${0} <- factor(samskap${0}, levels = c({1}), labels = c({2}))",
                v.name,
                levels.join(", "),
                labels.join(", ")
            )?;
        }
        writeln!(
            out,
            "attr(samskap${}, \"label\") <- {}",
            v.name,
            r_string(&v.label)
        )?;
    }
    out.flush()?;
    Ok(())
}
