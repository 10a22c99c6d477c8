//! A dashboard's tables as one spreadsheet file for managers and policymakers: the
//! numbers the page shows, labelled as the page labels them (phase names, level labels,
//! roles, service types), in a CSV that Excel opens in columns in the reader's language.
//!
//! Why CSV and not `.xlsx`: a CSV written for the reader's locale opens directly in
//! Excel, LibreOffice and Numbers, and needs no further crate. Norwegian Excel splits on
//! `;` and reads `2,35` as a number; English Excel splits on `,` and reads `2.35`. Both
//! need a byte-order mark to read UTF-8 (`ø`, `å`) correctly. Every cell goes through the
//! export's formula guard (a service named `=HYPERLINK(..)` stays text).
//!
//! The numbers are the page's own view models, which render the publication after the
//! gate; nothing here computes a statistic. The machine-readable `results.csv` (codes,
//! decimal points, all cells) stays for scripts.

use super::charts::DataTable;
use super::region::{HeatCell, RegionDashboard};
use super::service::ServiceDashboard;
use crate::infra::i18n::fill;

/// One titled table of the sheet.
#[derive(Debug, Clone)]
pub struct Section {
    pub title: String,
    pub table: DataTable,
}

/// The file: a byte-order mark, then each section as its title, its header row and its
/// rows, a blank line between sections. `;` and decimal commas in bokmål, `,` and
/// decimal points otherwise.
///
/// # Errors
/// When a row cannot be written (not for in-memory output).
pub fn to_csv(lang: &str, sections: &[Section]) -> anyhow::Result<Vec<u8>> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    let delimiter = if lang == "nb" { b';' } else { b',' };
    for (i, s) in sections.iter().enumerate() {
        if i > 0 {
            // A blank line between sections (the CSV writer would write `""`).
            out.push(b'\n');
        }
        let mut w = crate::app::export::safe_csv::Writer::with_delimiter(&mut out, delimiter);
        w.write_record([s.title.as_str()])?;
        w.write_record(&s.table.headers)?;
        for row in &s.table.rows {
            w.write_record(row.iter().map(|c| as_number(c)))?;
        }
        w.flush()?;
    }
    Ok(out)
}

/// A cell that is a signed number on the page ("+0,40", "−1,2") written as a
/// spreadsheet reads numbers: an ASCII minus and no plus, so it sorts and sums.
fn as_number(cell: &str) -> String {
    let t = cell.trim();
    let (sign, digits) = match t.chars().next() {
        Some('−' | '-') => (
            "-",
            &t[t.char_indices().nth(1).map_or(t.len(), |(i, _)| i)..],
        ),
        Some('+') => ("", &t[1..]),
        _ => ("", t),
    };
    let numeric = !digits.is_empty()
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || c == ',' || c == '.')
        && digits.chars().next().is_some_and(|c| c.is_ascii_digit());
    if numeric {
        format!("{sign}{digits}")
    } else {
        cell.to_owned()
    }
}

/// A confidence interval "1,80 – 2,40" as its two ends.
fn ends(ci: &str) -> (String, String) {
    ci.split_once(" – ")
        .map(|(l, h)| (l.to_owned(), h.to_owned()))
        .unwrap_or_default()
}

/// The service dashboard's tables: who answered, the phase profile per role, the index,
/// the perception gaps, the change since the previous wave, the benchmarks.
pub fn service(d: &ServiceDashboard, lang: &str) -> Vec<Section> {
    let t = |key: &str| fill(lang, key, &[]);
    let mut out = Vec::new();
    out.push(Section {
        title: format!(
            "{} · {}",
            d.service.name,
            d.wave.as_ref().map_or("", |w| w.name.as_str())
        ),
        table: DataTable {
            headers: vec![
                t("dashboard.role"),
                t("dashboard.invited"),
                t("dashboard.submitted"),
                t("dashboard.rate"),
            ],
            rows: d
                .participation
                .iter()
                .map(|p| {
                    vec![
                        p.role.clone(),
                        p.invited.clone(),
                        p.submitted.clone(),
                        p.rate.clone(),
                    ]
                })
                .collect(),
        },
    });
    let mut profile = DataTable {
        headers: vec![
            t("dashboard.phase"),
            t("dashboard.role"),
            "n".into(),
            t("dashboard.mean"),
            t("sheet.ci_low"),
            t("sheet.ci_high"),
            t("dashboard.level"),
            t("sheet.agreement"),
        ],
        rows: Vec::new(),
    };
    for p in &d.phases {
        for cell in &p.cells {
            let (role, c) = (cell.label.clone(), &cell.cell);
            let (lo, hi) = ends(&c.ci);
            profile.rows.push(if c.shown {
                vec![
                    p.title.clone(),
                    role,
                    c.n.map(|n| n.to_string()).unwrap_or_default(),
                    c.mean.clone(),
                    lo,
                    hi,
                    c.level.clone(),
                    c.rwg.clone(),
                ]
            } else {
                vec![p.title.clone(), role, String::new(), c.notice.clone()]
            });
        }
    }
    out.push(Section {
        title: t("dashboard.profile_heading"),
        table: profile,
    });
    out.push(Section {
        title: t("dashboard.index_heading"),
        table: DataTable {
            headers: vec![
                t("dashboard.role"),
                "n".into(),
                t("dashboard.index"),
                t("sheet.ci_low"),
                t("sheet.ci_high"),
                t("dashboard.weakest"),
            ],
            rows: d
                .index
                .iter()
                .map(|r| {
                    let c = &r.cell;
                    let (lo, hi) = ends(&c.ci);
                    if c.shown {
                        vec![
                            r.role.clone(),
                            c.n.map(|n| n.to_string()).unwrap_or_default(),
                            c.mean.clone(),
                            lo,
                            hi,
                            r.weakest_level.clone(),
                        ]
                    } else {
                        vec![r.role.clone(), String::new(), c.notice.clone()]
                    }
                })
                .collect(),
        },
    });
    out.push(Section {
        title: t("dashboard.gap_heading"),
        table: DataTable {
            headers: vec![
                t("dashboard.phase"),
                t("sheet.gap_pair"),
                t("sheet.gap"),
                String::new(),
            ],
            rows: d
                .gaps
                .iter()
                .flat_map(|g| {
                    g.pairs.iter().map(|p| {
                        vec![
                            g.phase.clone(),
                            p.label.clone(),
                            p.gap.clone(),
                            p.text.clone(),
                        ]
                    })
                })
                .collect(),
        },
    });
    out.extend(evidence(d, lang));
    out.extend(changes(d, lang));
    out.push(benchmarks(d, lang));
    out
}

/// Evidence of action: high ratings and the occasions that back them, when asked.
fn evidence(d: &ServiceDashboard, lang: &str) -> Option<Section> {
    let t = |key: &str| fill(lang, key, &[]);
    (!d.evidence.is_empty()).then(|| Section {
        title: t("dashboard.evidence_heading"),
        table: DataTable {
            headers: vec![
                t("dashboard.phase"),
                t("dashboard.role"),
                t("dashboard.evidence_high"),
                t("dashboard.evidence_backed"),
                t("dashboard.evidence_share"),
                t("dashboard.evidence_flag"),
            ],
            rows: d
                .evidence
                .iter()
                .map(|e| {
                    if e.shown {
                        vec![
                            e.phase.clone(),
                            e.role.clone(),
                            e.high.clone(),
                            e.backed.clone(),
                            e.share.clone(),
                            if e.stated_not_shown {
                                t("dashboard.evidence_flag")
                            } else {
                                String::new()
                            },
                        ]
                    } else {
                        vec![e.phase.clone(), e.role.clone(), e.notice.clone()]
                    }
                })
                .collect(),
        },
    })
}

/// The change since the previous wave, when there was one.
fn changes(d: &ServiceDashboard, lang: &str) -> Option<Section> {
    let t = |key: &str| fill(lang, key, &[]);
    (!d.changes.is_empty()).then(|| Section {
        title: t("dashboard.changes_caption"),
        table: DataTable {
            headers: vec![
                t("dashboard.role"),
                t("dashboard.measure"),
                t("dashboard.before"),
                t("dashboard.now"),
                t("dashboard.change"),
                t("sheet.ci_low"),
                t("sheet.ci_high"),
            ],
            rows: d
                .changes
                .iter()
                .map(|c| {
                    if c.shown {
                        let (lo, hi) = ends(&c.ci);
                        vec![
                            c.role.clone(),
                            c.measure.clone(),
                            c.previous.clone(),
                            c.current.clone(),
                            c.change.clone(),
                            lo,
                            hi,
                        ]
                    } else {
                        vec![c.role.clone(), c.measure.clone(), c.notice.clone()]
                    }
                })
                .collect(),
        },
    })
}

/// The service beside its peer groups.
fn benchmarks(d: &ServiceDashboard, lang: &str) -> Section {
    let t = |key: &str| fill(lang, key, &[]);
    Section {
        title: t("dashboard.bench_heading"),
        table: DataTable {
            headers: vec![
                t("dashboard.role"),
                t("dashboard.group"),
                t("dashboard.group_size"),
                t("dashboard.group_mean"),
                t("dashboard.your_index"),
                t("dashboard.percentile"),
                t("dashboard.funnel"),
            ],
            rows: d
                .benchmarks
                .iter()
                .map(|b| {
                    let mut row = vec![
                        b.role.clone(),
                        b.group.clone(),
                        b.group_size.to_string(),
                        b.group_mean.clone(),
                    ];
                    if b.shown {
                        row.extend([b.score.clone(), b.percentile_rank.clone(), b.funnel.clone()]);
                    } else {
                        row.push(b.notice.clone());
                    }
                    row
                })
                .collect(),
        },
    }
}

/// The region dashboard's tables: the region and the areas in it, the comparison with
/// the country and the region's peers, managers beside peer workers, the spread of
/// services and the breakdown by service type.
pub fn region(d: &RegionDashboard, lang: &str) -> Vec<Section> {
    let t = |key: &str| fill(lang, key, &[]);
    let heat_headers = || -> Vec<String> {
        std::iter::once(t("region.region"))
            .chain(d.phases.iter().cloned())
            .chain([
                t("dashboard.index"),
                format!("n ({})", t("dashboard.index")),
            ])
            .collect()
    };
    let heat_rows = |rows: &[super::region::HeatRow]| -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| {
                std::iter::once(r.name.clone())
                    .chain(r.cells.iter().map(|c| c.text.clone()))
                    .chain([
                        r.index.text.clone(),
                        r.index.n.map(|n| n.to_string()).unwrap_or_default(),
                    ])
                    .collect()
            })
            .collect()
    };
    let wave = d.wave.clone().unwrap_or_default();
    let mut out = vec![Section {
        title: format!(
            "{} · {} · {} · {wave}",
            d.compare_heading, d.role, d.type_label
        ),
        table: DataTable {
            headers: heat_headers(),
            rows: heat_rows(&d.rows),
        },
    }];
    if !d.context.is_empty() {
        out.push(Section {
            title: t("region.context_heading"),
            table: DataTable {
                headers: heat_headers(),
                rows: heat_rows(&d.context),
            },
        });
    }
    let text = |c: &HeatCell| c.text.clone();
    out.push(Section {
        title: format!("{} · {}", t("region.gap_heading"), d.type_label),
        table: DataTable {
            headers: std::iter::once(t("dashboard.phase"))
                .chain(d.role_labels.iter().cloned())
                .chain([t("sheet.gap_pair"), t("sheet.gap"), String::new()])
                .collect(),
            // A row per measure and pair of roles, the roles' cells repeated beside each.
            rows: d
                .gap
                .iter()
                .flat_map(|g| {
                    g.pairs.iter().map(move |p| {
                        std::iter::once(g.measure.clone())
                            .chain(g.cells.iter().map(text))
                            .chain([p.label.clone(), p.difference.clone(), p.sentence.clone()])
                            .collect()
                    })
                })
                .collect(),
        },
    });
    if let Some(trend) = &d.trend {
        out.push(Section {
            title: trend.title.clone(),
            table: trend.table.clone(),
        });
    }
    if let Some(dist) = &d.distribution {
        out.push(Section {
            title: dist.title.clone(),
            table: dist.table.clone(),
        });
    }
    out.push(Section {
        title: t("region.breakdown_heading"),
        table: DataTable {
            headers: std::iter::once(t("service.type"))
                .chain(d.role_labels.iter().cloned())
                .collect(),
            rows: d
                .breakdown
                .iter()
                .map(|b| {
                    std::iter::once(b.service_type.clone())
                        .chain(b.cells.iter().map(text))
                        .collect()
                })
                .collect(),
        },
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_numbers_become_spreadsheet_numbers_and_words_stay() {
        assert_eq!(as_number("+0,40"), "0,40");
        assert_eq!(as_number("−1,2"), "-1,2");
        assert_eq!(as_number("2.35"), "2.35");
        assert_eq!(
            as_number("too few responses to show"),
            "too few responses to show"
        );
        assert_eq!(as_number("−"), "−");
        assert_eq!(as_number("+"), "+");
        assert_eq!(as_number("-x"), "-x");
    }

    #[test]
    fn bokmal_sheets_split_on_semicolons_with_a_bom_and_guard_formulas() {
        let next = Section {
            title: "Neste".into(),
            table: DataTable::default(),
        };
        let sections = [
            Section {
                title: "Fase for fase".into(),
                table: DataTable {
                    headers: vec!["Område".into(), "Indeks".into()],
                    rows: vec![
                        vec!["Bergen".into(), "52,3".into()],
                        vec!["=1+2".into(), "−1,5".into()],
                    ],
                },
            },
            next,
        ];
        let nb = String::from_utf8(to_csv("nb", &sections).expect("csv")).expect("utf-8");
        assert!(nb.starts_with('\u{feff}'), "a byte-order mark for Excel");
        assert!(nb.contains("Område;Indeks\n"), "{nb}");
        assert!(
            nb.contains("Bergen;52,3\n"),
            "decimal commas need no quoting: {nb}"
        );
        assert!(
            nb.contains(";-1,5\n\nNeste\n"),
            "an ASCII minus, a blank line: {nb}"
        );
        assert!(nb.contains("\n'=1+2;"), "formulas are neutralised: {nb}");
        let en = String::from_utf8(to_csv("en", &sections).expect("csv")).expect("utf-8");
        assert!(en.contains("Område,Indeks\n"), "{en}");
        assert!(en.contains("Bergen,\"52,3\"\n"), "{en}");
    }
}
