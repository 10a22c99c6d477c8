//! A readable outline of a questionnaire in one language, for one role or all
//! (`samskap survey show`).

use std::fmt::Write as _;

use super::format::{ContextKind, SurveyFile};

/// Words around the outline, per language (English for languages not listed).
struct Words {
    form: &'static str,
    language: &'static str,
    scale: &'static str,
    context: &'static str,
    levels: &'static str,
    valid: &'static str,
}

const fn words(lang: &str) -> Words {
    match lang.as_bytes() {
        b"nb" => Words {
            form: "Skjema",
            language: "Språk",
            scale: "Svarskala",
            context: "Bakgrunnsspørsmål",
            levels: "Modenhetsnivåer",
            valid: "gyldige svar som kreves per fase",
        },
        _ => Words {
            form: "Form",
            language: "Language",
            scale: "Response scale",
            context: "Context questions",
            levels: "Maturity levels",
            valid: "valid answers needed per phase",
        },
    }
}

fn kind_note(kind: ContextKind, lang: &str) -> &'static str {
    let nb = lang == "nb";
    match kind {
        ContextKind::Integer => {
            if nb {
                "heltall"
            } else {
                "whole number"
            }
        }
        ContextKind::Number => {
            if nb {
                "tall"
            } else {
                "number"
            }
        }
        ContextKind::Year => {
            if nb {
                "årstall"
            } else {
                "year"
            }
        }
        ContextKind::Percentage => {
            if nb {
                "prosent"
            } else {
                "percent"
            }
        }
        ContextKind::SingleChoice => {
            if nb {
                "velg ett"
            } else {
                "choose one"
            }
        }
        ContextKind::YesNo => {
            if nb {
                "ja/nei"
            } else {
                "yes/no"
            }
        }
        ContextKind::Rating => "1-5",
    }
}

/// Renders the outline. `role: None` shows every role's wording.
pub fn render(file: &SurveyFile, lang: &str, role: Option<&str>) -> String {
    let w = words(lang);
    let mut out = String::new();
    let roles: Vec<&String> = file
        .roles
        .keys()
        .filter(|r| role.is_none_or(|x| x == r.as_str()))
        .collect();
    let role_names: Vec<&str> = roles
        .iter()
        .map(|r| crate::instrument::format::in_lang(&file.roles[*r].label, lang))
        .collect();

    let _ = writeln!(
        out,
        "{} ({} {})",
        crate::instrument::format::in_lang(&file.title, lang),
        file.id,
        file.version
    );
    let _ = writeln!(
        out,
        "{}: {} · {}: {}",
        w.form,
        role_names.join(", "),
        w.language,
        lang
    );
    if !file.description.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            crate::instrument::format::in_lang(&file.description, lang)
        );
    }
    for r in &roles {
        let intro = &file.roles[*r].intro;
        if !intro.is_empty() {
            let _ = writeln!(
                out,
                "\n{}: {}",
                crate::instrument::format::in_lang(&file.roles[*r].label, lang),
                crate::instrument::format::in_lang(intro, lang)
            );
        }
    }

    for (name, scale) in &file.scales {
        let _ = writeln!(out, "\n{} ({name})", w.scale);
        for p in &scale.points {
            let _ = writeln!(
                out,
                "  {}  {}",
                p.value,
                crate::instrument::format::in_lang(&p.label, lang)
            );
        }
        for m in &scale.missing {
            let _ = writeln!(
                out,
                "  {}  {}",
                m.code,
                crate::instrument::format::in_lang(&m.label, lang)
            );
        }
    }

    for phase in &file.phases {
        let _ = writeln!(
            out,
            "\n{}  {}",
            phase.code,
            crate::instrument::format::in_lang(&phase.title, lang)
        );
        for item in file.items.iter().filter(|i| i.phase == phase.code) {
            for r in &roles {
                if let Some(text) = item.text.get(r.as_str()) {
                    let who = if roles.len() > 1 {
                        format!(
                            "[{}] ",
                            crate::instrument::format::in_lang(&file.roles[*r].label, lang)
                        )
                    } else {
                        String::new()
                    };
                    let _ = writeln!(
                        out,
                        "  {:<4}{who}{}",
                        item.code,
                        crate::instrument::format::in_lang(text, lang)
                    );
                }
            }
        }
    }

    let context: Vec<_> = file
        .context
        .iter()
        .filter(|c| c.roles.iter().any(|r| roles.contains(&r)))
        .collect();
    if !context.is_empty() {
        let _ = writeln!(out, "\n{}", w.context);
        for c in context {
            let _ = writeln!(
                out,
                "  {}  {} [{}]",
                c.code,
                crate::instrument::format::in_lang(&c.text, lang),
                kind_note(c.kind, lang)
            );
            for o in c.options.iter().chain(&c.extra_codes) {
                let _ = writeln!(
                    out,
                    "        - {}",
                    crate::instrument::format::in_lang(&o.label, lang)
                );
            }
            if let (Some(low), Some(high)) = (&c.low_label, &c.high_label) {
                let _ = writeln!(
                    out,
                    "        1 = {}, 5 = {}",
                    crate::instrument::format::in_lang(low, lang),
                    crate::instrument::format::in_lang(high, lang)
                );
            }
        }
    }

    let _ = writeln!(
        out,
        "\n{} ({} {})",
        w.levels, file.scoring.min_valid_items, w.valid
    );
    for band in &file.scoring.bands {
        let _ = writeln!(
            out,
            "  {}  {:.1}–{:.1}  {}",
            band.level,
            band.from,
            band.to,
            crate::instrument::format::in_lang(&band.label, lang)
        );
    }
    out
}
