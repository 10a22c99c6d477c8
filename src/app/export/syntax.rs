//! The scripts that read `wide.csv` with labels and missing values: SPSS/PSPP, Stata, R.

use super::Variable;

/// A string literal for SPSS syntax and Stata: double quotes doubled.
pub(super) fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "''").replace('\n', " "))
}

pub(super) fn write_spss(vars: &[Variable], mut out: impl std::io::Write) -> anyhow::Result<()> {
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
        "GET DATA /TYPE=TXT /FILE='wide.csv' /ENCODING='UTF8' /DELIMITERS=',' /QUALIFIER='\"' /ARRANGEMENT=DELIMITED /FIRSTCASE=2"
    )?;
    writeln!(
        out,
        "  /VARIABLES=wave A60 service A20 panel A20 response A20 role A12 language A4"
    )?;
    for v in vars {
        writeln!(out, "  {} F8.2", v.name)?;
    }
    writeln!(out, ".")?;
    writeln!(out, "VARIABLE LABELS")?;
    writeln!(
        out,
        "  wave 'Survey wave' /service 'Service (pseudonym)' /panel 'Respondent across waves (pseudonym)'"
    )?;
    writeln!(
        out,
        "  /response 'Response (pseudonym)' /role 'Role' /language 'Language'"
    )?;
    for v in vars {
        writeln!(out, "  /{} {}", v.name, quoted(&v.label_en))?;
    }
    writeln!(out, ".")?;
    for v in vars
        .iter()
        .filter(|v| !v.values.is_empty() || !v.missing.is_empty())
    {
        write!(out, "VALUE LABELS {}", v.name)?;
        for (n, l) in &v.values {
            write!(out, " {n} {}", quoted(l))?;
        }
        for (n, c, l) in &v.missing {
            write!(out, " {n} {}", quoted(&format!("{c}: {l}")))?;
        }
        writeln!(out, ".")?;
    }
    for v in vars.iter().filter(|v| !v.missing.is_empty()) {
        let codes: Vec<String> = v
            .missing
            .iter()
            .take(3)
            .map(|(n, _, _)| n.to_string())
            .collect();
        writeln!(out, "MISSING VALUES {} ({}).", v.name, codes.join(", "))?;
    }
    writeln!(out, "EXECUTE.")?;
    out.flush()?;
    Ok(())
}

pub(super) fn write_stata(vars: &[Variable], mut out: impl std::io::Write) -> anyhow::Result<()> {
    writeln!(
        out,
        "* samskap research bundle: reads wide.csv and applies labels and missing values."
    )?;
    writeln!(out, "* Run from the bundle's directory: do samskap.do")?;
    writeln!(
        out,
        "import delimited using \"wide.csv\", clear varnames(1) encoding(\"utf-8\") stringcols(1/6)"
    )?;
    writeln!(out, "label variable wave \"Survey wave\"")?;
    writeln!(out, "label variable service \"Service (pseudonym)\"")?;
    writeln!(
        out,
        "label variable panel \"Respondent across waves (pseudonym)\""
    )?;
    writeln!(out, "label variable response \"Response (pseudonym)\"")?;
    for v in vars {
        // Stata variable labels hold at most 80 characters.
        let label: String = v.label_en.chars().take(80).collect();
        writeln!(out, "label variable {} {}", v.name, quoted(&label))?;
    }
    for v in vars {
        // Missing codes become Stata's extended missing values: -2 → .a, -3 → .b, …
        for (i, (n, _, _)) in v.missing.iter().enumerate() {
            let letter = char::from(b'a' + u8::try_from(i).unwrap_or(0).min(25));
            writeln!(out, "replace {} = .{letter} if {} == {n}", v.name, v.name)?;
        }
        if v.values.is_empty() && v.missing.is_empty() {
            continue;
        }
        write!(out, "label define {}_lbl", v.name)?;
        for (n, l) in &v.values {
            write!(out, " {n} {}", quoted(l))?;
        }
        for (i, (_, c, l)) in v.missing.iter().enumerate() {
            let letter = char::from(b'a' + u8::try_from(i).unwrap_or(0).min(25));
            write!(out, " .{letter} {}", quoted(&format!("{c}: {l}")))?;
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

pub(super) fn write_r(vars: &[Variable], mut out: impl std::io::Write) -> anyhow::Result<()> {
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
        "samskap <- read.csv(\"wide.csv\", stringsAsFactors = FALSE, na.strings = \"\", encoding = \"UTF-8\","
    )?;
    writeln!(
        out,
        "                    colClasses = c(wave = \"character\", service = \"character\", panel = \"character\", response = \"character\"))"
    )?;
    writeln!(
        out,
        "samskap$role <- factor(samskap$role, levels = c(\"manager\", \"peer_worker\"), labels = c(\"Manager\", \"Peer worker\"))"
    )?;
    writeln!(out, "samskap_missing <- list()")?;
    for v in vars {
        if !v.missing.is_empty() {
            let codes: Vec<String> = v.missing.iter().map(|(n, _, _)| n.to_string()).collect();
            writeln!(
                out,
                "samskap_missing[[{}]] <- c({})",
                r_string(&v.name),
                codes.join(", ")
            )?;
            // Missing codes are kept as information in the attribute, the values become NA.
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
            r_string(&v.label_en)
        )?;
    }
    out.flush()?;
    Ok(())
}
