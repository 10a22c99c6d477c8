//! A readable outline of a questionnaire in one language, for one role or all
//! (`samskap survey show`).

use std::fmt::Write as _;

use crate::core::instrument::format::{ContextKind, SurveyFile};

/// Words around the outline: `outline.*` in the i18n catalogue (English for languages
/// it does not have).
struct Words {
    form: String,
    language: String,
    scale: String,
    context: String,
    levels: String,
    valid: String,
}

fn word(lang: &str, key: &str) -> String {
    let lang = if lang == "nb" { "nb" } else { "en" };
    crate::infra::i18n::fill(lang, &format!("outline.{key}"), &[])
}

fn words(lang: &str) -> Words {
    Words {
        form: word(lang, "form"),
        language: word(lang, "language"),
        scale: word(lang, "scale"),
        context: word(lang, "context"),
        levels: word(lang, "levels"),
        valid: word(lang, "valid"),
    }
}

/// One context question with its choices or scale ends.
fn context_question(
    out: &mut String,
    c: &crate::core::instrument::format::ContextItem,
    lang: &str,
) {
    let _ = writeln!(
        out,
        "  {}  {} [{}]",
        c.code,
        crate::core::instrument::format::in_lang(&c.text, lang),
        kind_note(c.kind, lang)
    );
    for o in c.options.iter().chain(&c.extra_codes) {
        let _ = writeln!(
            out,
            "        - {}",
            crate::core::instrument::format::in_lang(&o.label, lang)
        );
    }
    if let (Some(low), Some(high)) = (&c.low_label, &c.high_label) {
        let _ = writeln!(
            out,
            "        1 = {}, 5 = {}",
            crate::core::instrument::format::in_lang(low, lang),
            crate::core::instrument::format::in_lang(high, lang)
        );
    }
}

fn kind_note(kind: ContextKind, lang: &str) -> String {
    match kind {
        ContextKind::Rating => "1-5".to_owned(),
        other => word(lang, &format!("kind_{}", kind_key(other))),
    }
}

fn kind_key(kind: ContextKind) -> &'static str {
    match kind {
        ContextKind::Integer => "integer",
        ContextKind::Number => "number",
        ContextKind::Year => "year",
        ContextKind::Percentage => "percentage",
        ContextKind::SingleChoice => "single_choice",
        ContextKind::YesNo => "yes_no",
        ContextKind::Rating => "rating",
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
        .map(|r| crate::core::instrument::format::in_lang(&file.roles[*r].label, lang))
        .collect();

    let _ = writeln!(
        out,
        "{} ({} {})",
        crate::core::instrument::format::in_lang(&file.title, lang),
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
            crate::core::instrument::format::in_lang(&file.description, lang)
        );
    }
    for r in &roles {
        let intro = &file.roles[*r].intro;
        if !intro.is_empty() {
            let _ = writeln!(
                out,
                "\n{}: {}",
                crate::core::instrument::format::in_lang(&file.roles[*r].label, lang),
                crate::core::instrument::format::in_lang(intro, lang)
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
                crate::core::instrument::format::in_lang(&p.label, lang)
            );
        }
        for m in &scale.missing {
            let _ = writeln!(
                out,
                "  {}  {}",
                m.code,
                crate::core::instrument::format::in_lang(&m.label, lang)
            );
        }
    }

    for phase in &file.phases {
        let _ = writeln!(
            out,
            "\n{}  {}",
            phase.code,
            crate::core::instrument::format::in_lang(&phase.title, lang)
        );
        for item in file.items.iter().filter(|i| i.phase == phase.code) {
            for r in &roles {
                if let Some(text) = item.text.get(r.as_str()) {
                    let who = if roles.len() > 1 {
                        format!(
                            "[{}] ",
                            crate::core::instrument::format::in_lang(&file.roles[*r].label, lang)
                        )
                    } else {
                        String::new()
                    };
                    let _ = writeln!(
                        out,
                        "  {:<4}{who}{}",
                        item.code,
                        crate::core::instrument::format::in_lang(text, lang)
                    );
                }
            }
        }
        // Questions asked on the phase's page after its items (the evidence question).
        for c in file.context.iter().filter(|c| {
            c.phase.as_ref() == Some(&phase.code) && c.roles.iter().any(|r| roles.contains(&r))
        }) {
            context_question(&mut out, c, lang);
        }
    }

    let context: Vec<_> = file
        .context
        .iter()
        .filter(|c| c.phase.is_none() && c.roles.iter().any(|r| roles.contains(&r)))
        .collect();
    if !context.is_empty() {
        let _ = writeln!(out, "\n{}", w.context);
        for c in context {
            context_question(&mut out, c, lang);
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
            crate::core::instrument::format::in_lang(&band.label, lang)
        );
    }
    out
}
