//! `codebook.xml`: the bundle described in DDI Codebook 2.5, the metadata standard data
//! archives (such as Sikt in Norway) ingest: the study, the data file, and every variable
//! with its label, question texts (one per role), valid range, categories with labels,
//! missing codes marked as missing, and, for a single wave, the item statistics the
//! suppression gate published (a withheld statistic is left out, never computed here).
//!
//! Elements follow the order of the DDI Codebook 2.5 schema (`var`: `labl`, `qstn`,
//! `valrng`, `invalrng`, `sumStat`, `catgry`, `concept`, `varFormat`, `notes`).

use std::fmt::Write as _;

use crate::app::analytics::results::PhasePsychometrics;
use crate::core::instrument::format::{MissingMeaning, SurveyFile, in_lang};
use crate::infra::models::Wave;

use super::{Dictionary, ID_COLUMNS, Summary, tidy_number};

/// Text escaped for XML content and attributes.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 does not allow.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// What the DDI codebook is written from.
pub(super) struct Study<'a> {
    pub waves: &'a [Wave],
    pub surveys: &'a [std::sync::Arc<SurveyFile>],
    pub summary: &'a Summary,
    /// The published psychometrics when the bundle holds one wave.
    pub psychometrics: Option<&'a [PhasePsychometrics]>,
}

/// How many chose scale value `value`: the distribution is indexed by the value itself
/// (not from the scale's lowest point) and ends at the highest value anyone chose, so a
/// value past its end was chosen by nobody. `None` for a value no index can hold.
fn chosen(stats: &crate::app::analytics::results::ItemStats, value: i64) -> Option<u64> {
    let i = usize::try_from(value).ok()?;
    Some(stats.distribution.get(i).copied().unwrap_or(0))
}

#[expect(clippy::too_many_lines, reason = "one document, written top to bottom")]
pub(super) fn write_ddi(
    dict: &Dictionary,
    study: &Study<'_>,
    mut out: impl std::io::Write,
) -> anyhow::Result<()> {
    let lang = dict.lang.as_str();
    let mut x = String::new();
    let waves: Vec<&str> = study.waves.iter().map(|w| w.name.as_str()).collect();
    let title = study
        .surveys
        .first()
        .map(|s| in_lang(&s.title, lang).to_owned())
        .unwrap_or_default();
    let today = chrono::Utc::now().date_naive();
    writeln!(x, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        x,
        r#"<codeBook xmlns="ddi:codebook:2_5" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="ddi:codebook:2_5 https://ddialliance.org/Specification/DDI-Codebook/2.5/XMLSchema/codebook.xsd" version="2.5" xml:lang="{lang}">"#
    )?;
    writeln!(x, "  <docDscr><citation>")?;
    writeln!(
        x,
        "    <titlStmt><titl>{}</titl></titlStmt>",
        esc(&format!("samskap research bundle: {}", waves.join(", ")))
    )?;
    writeln!(
        x,
        r#"    <prodStmt><prodDate date="{today}">{today}</prodDate><software version="{}">samskap</software></prodStmt>"#,
        env!("CARGO_PKG_VERSION")
    )?;
    writeln!(x, "  </citation></docDscr>")?;
    writeln!(x, "  <stdyDscr>")?;
    writeln!(
        x,
        "    <citation><titlStmt><titl>{}</titl></titlStmt></citation>",
        esc(&title)
    )?;
    writeln!(x, "    <stdyInfo>")?;
    if let Some(s) = study.surveys.first() {
        writeln!(
            x,
            "      <abstract>{}</abstract>",
            esc(in_lang(&s.description, lang))
        )?;
    }
    writeln!(x, "      <sumDscr>")?;
    for w in study.waves {
        if let (Some(from), Some(to)) = (w.opens_at, w.closes_at) {
            writeln!(
                x,
                r#"        <collDate date="{}" event="start" cycle="{}">{}</collDate><collDate date="{}" event="end" cycle="{}">{}</collDate>"#,
                from.date(),
                esc(&w.name),
                from.date(),
                to.date(),
                esc(&w.name),
                to.date()
            )?;
        }
    }
    let roles: Vec<&str> = dict.roles.iter().map(|(_, l)| l.as_str()).collect();
    writeln!(
        x,
        "        <anlyUnit>{}</anlyUnit>",
        esc(&format!(
            "{}: {}",
            dict.word("Respondents, by role", "Respondenter, etter rolle"),
            roles.join(", ")
        ))
    )?;
    writeln!(
        x,
        "        <dataKind>{}</dataKind>",
        dict.word("Survey data", "Spørreundersøkelse")
    )?;
    writeln!(x, "      </sumDscr>")?;
    writeln!(x, "    </stdyInfo>")?;
    writeln!(
        x,
        "    <method><dataColl><collMode>{}</collMode></dataColl></method>",
        dict.word(
            "Self-completed web questionnaire, invited by e-mail with a personal link",
            "Selvutfylt nettskjema, invitasjon på e-post med personlig lenke",
        )
    )?;
    writeln!(
        x,
        "    <dataAccs><useStmt><conditions>{}</conditions></useStmt></dataAccs>",
        dict.word(
            "Pseudonymous: service, panel and response are keyed pseudonyms of one research project. Consented, submitted responses only.",
            "Pseudonymisert: tjeneste, panel og besvarelse er nøklede pseudonymer for ett forskningsprosjekt. Bare samtykkede, innsendte svar.",
        )
    )?;
    writeln!(x, "  </stdyDscr>")?;
    writeln!(
        x,
        r#"  <fileDscr ID="F1" URI="wide.csv"><fileTxt><fileName>wide.csv</fileName><dimensns><caseQnty>{}</caseQnty><varQnty>{}</varQnty></dimensns><fileType>text/csv</fileType></fileTxt></fileDscr>"#,
        study.summary.responses,
        ID_COLUMNS.len() + dict.vars.len()
    )?;
    writeln!(x, "  <dataDscr>")?;
    let mut id = 0;
    for (name, _, _) in ID_COLUMNS {
        id += 1;
        writeln!(
            x,
            r#"    <var ID="V{id}" name="{name}" files="F1" intrvl="discrete"><labl>{}</labl><varFormat type="character" schema="other"/></var>"#,
            esc(dict.id_label(name))
        )?;
    }
    let item_stats = |code: &str| {
        study.psychometrics.and_then(|phases| {
            phases
                .iter()
                .flat_map(|p| &p.items)
                .find(|i| i.item == code)
                .map(|i| &i.stats)
        })
    };
    for v in &dict.vars {
        id += 1;
        let interval = if matches!(
            v.kind.as_str(),
            "integer" | "number" | "year" | "percentage"
        ) {
            "contin"
        } else {
            "discrete"
        };
        writeln!(
            x,
            r#"    <var ID="V{id}" name="{}" files="F1" intrvl="{interval}">"#,
            esc(&v.name)
        )?;
        writeln!(x, "      <labl>{}</labl>", esc(&v.label))?;
        for survey in study.surveys.iter().take(1) {
            let texts: Vec<(String, String)> = match survey.items.iter().find(|i| i.code == v.code)
            {
                Some(item) => item
                    .text
                    .iter()
                    .map(|(role, t)| (role.clone(), in_lang(t, lang).to_owned()))
                    .collect(),
                None => survey
                    .context
                    .iter()
                    .find(|c| c.code == v.code)
                    .map(|c| {
                        c.roles
                            .iter()
                            .map(|r| (r.clone(), in_lang(&c.text, lang).to_owned()))
                            .collect()
                    })
                    .unwrap_or_default(),
            };
            for (role, text) in texts {
                writeln!(
                    x,
                    r#"      <qstn ID="Q{id}_{}" responseDomainType="{}"><qstnLit>{}</qstnLit><ivuInstr>{}</ivuInstr></qstn>"#,
                    esc(&role),
                    if v.values.is_empty() {
                        "numeric"
                    } else {
                        "category"
                    },
                    esc(&text),
                    esc(&format!("{}: {role}", dict.word("Asked of", "Spurt til")))
                )?;
            }
        }
        if v.range.0.is_some() || v.range.1.is_some() {
            let mut attrs = String::new();
            if let Some(lo) = v.range.0 {
                write!(attrs, r#" min="{}""#, tidy_number(lo))?;
            }
            if let Some(hi) = v.range.1 {
                write!(attrs, r#" max="{}""#, tidy_number(hi))?;
            }
            writeln!(x, r#"      <valrng><range UNITS="REAL"{attrs}/></valrng>"#)?;
        }
        if let Some(top) = v.top_code() {
            writeln!(
                x,
                r#"      <invalrng><range UNITS="INT" max="{top}"/></invalrng>"#
            )?;
        }
        let shown = item_stats(&v.code).and_then(|c| c.shown());
        if let Some(s) = shown {
            // DDI's valid cases are the answers on the scale; the gate's n also counts
            // "don't know" and "not applicable", which are the invalid cases here.
            let valid: u64 = s.distribution.iter().sum();
            writeln!(x, r#"      <sumStat type="vald">{valid}</sumStat>"#)?;
            writeln!(
                x,
                r#"      <sumStat type="invd">{}</sumStat>"#,
                s.dont_know + s.not_applicable
            )?;
            if let Some(mean) = s.mean {
                writeln!(
                    x,
                    r#"      <sumStat type="mean">{}</sumStat>"#,
                    tidy_number(mean)
                )?;
            }
            if let Some(sd) = s.sd {
                writeln!(
                    x,
                    r#"      <sumStat type="stdev">{}</sumStat>"#,
                    tidy_number(sd)
                )?;
            }
        }
        for (n, label) in &v.values {
            write!(
                x,
                "      <catgry><catValu>{n}</catValu><labl>{}</labl>",
                esc(label)
            )?;
            if let Some(s) = shown
                && let Some(count) = chosen(s, *n)
            {
                write!(x, r#"<catStat type="freq">{count}</catStat>"#)?;
            }
            writeln!(x, "</catgry>")?;
        }
        let mut counted = Vec::new();
        for m in &v.missing {
            write!(
                x,
                r#"      <catgry missing="Y" missType="{}"><catValu>{}</catValu><labl>{}</labl>"#,
                esc(&m.code),
                m.value,
                esc(&format!("{}: {}", m.code, m.label))
            )?;
            // The gate publishes how many said "don't know" and "not applicable" (the
            // first code of each meaning).
            if let (Some(s), Some(meaning)) = (shown, m.meaning)
                && !counted.contains(&meaning)
            {
                counted.push(meaning);
                let count = match meaning {
                    MissingMeaning::Missing => s.dont_know,
                    MissingMeaning::NotApplicable => s.not_applicable,
                };
                write!(x, r#"<catStat type="freq">{count}</catStat>"#)?;
            }
            writeln!(x, "</catgry>")?;
        }
        if let Some(phase) = &v.phase
            && let Some(p) = study
                .surveys
                .first()
                .and_then(|s| s.phases.iter().find(|p| &p.code == phase))
        {
            writeln!(
                x,
                r#"      <concept vocab="samskap phase">{}</concept>"#,
                esc(in_lang(&p.title, lang))
            )?;
        }
        writeln!(x, r#"      <varFormat type="numeric" schema="other"/>"#)?;
        if study.psychometrics.is_some() && v.phase.is_some() && shown.is_none() {
            writeln!(
                x,
                "      <notes>{}</notes>",
                dict.word(
                    "Summary statistics withheld: too few respondents (suppression rule).",
                    "Oppsummerende tall holdt tilbake: for få svar (skjermingsregelen).",
                )
            )?;
        }
        writeln!(x, "    </var>")?;
    }
    writeln!(x, "  </dataDscr>")?;
    writeln!(x, "</codeBook>")?;
    out.write_all(x.as_bytes())?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scale_from_one_counts_each_value_where_it_was_chosen() {
        // A 1-5 scale: ten chose 1, five chose 5.
        let stats = crate::app::analytics::results::ItemStats {
            mean: None,
            sd: None,
            distribution: vec![0, 10, 0, 0, 0, 5],
            dont_know: 0,
            not_applicable: 0,
        };
        let counts: Vec<Option<u64>> = (1..=5).map(|v| chosen(&stats, v)).collect();
        assert_eq!(counts, [Some(10), Some(0), Some(0), Some(0), Some(5)]);
        // A 0-4 scale nobody answered above 2 on: 3 and 4 were chosen by nobody.
        let stats = crate::app::analytics::results::ItemStats {
            distribution: vec![1, 2, 3],
            ..stats
        };
        assert_eq!(chosen(&stats, 4), Some(0));
        assert_eq!(chosen(&stats, -1), None);
    }
}
