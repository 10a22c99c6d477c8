//! Message templates: `templates/mail/{kind}_{lang}.{subject,txt,html}.hbs`, embedded.
//! HTML parts are escaped; subject and text parts are not (they are not HTML).

use std::sync::LazyLock;

use anyhow::Context as _;
use handlebars::Handlebars;
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "templates/mail/"]
#[include = "*.hbs"]
struct MailFiles;

struct Registries {
    html: Handlebars<'static>,
    plain: Handlebars<'static>,
}

static REGISTRIES: LazyLock<Result<Registries, String>> = LazyLock::new(|| {
    let mut html = Handlebars::new();
    html.set_strict_mode(true);
    let mut plain = Handlebars::new();
    plain.set_strict_mode(true);
    plain.register_escape_fn(handlebars::no_escape);
    for name in MailFiles::iter() {
        let file = MailFiles::get(&name).ok_or_else(|| format!("{name} vanished"))?;
        let text = std::str::from_utf8(&file.data)
            .map_err(|e| format!("{name}: {e}"))?
            .to_owned();
        let key = name.trim_end_matches(".hbs").to_owned();
        let target = if std::path::Path::new(&key)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("html"))
        {
            &mut html
        } else {
            &mut plain
        };
        target
            .register_template_string(&key, text)
            .map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(Registries { html, plain })
});

/// Subject, plain text and HTML of message `kind` in `lang`.
pub fn render(
    kind: &str,
    lang: &str,
    data: &serde_json::Value,
) -> anyhow::Result<(String, String, String)> {
    let r = REGISTRIES
        .as_ref()
        .map_err(|e| anyhow::anyhow!("mail templates: {e}"))?;
    let base = format!("{kind}_{lang}");
    let subject = r
        .plain
        .render(&format!("{base}.subject"), data)
        .with_context(|| format!("{base}.subject"))?;
    let text = r
        .plain
        .render(&format!("{base}.txt"), data)
        .with_context(|| format!("{base}.txt"))?;
    let html = r
        .html
        .render(&format!("{base}.html"), data)
        .with_context(|| format!("{base}.html"))?;
    Ok((subject.trim().to_owned(), text, html))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_kind_renders_in_both_languages() {
        let data = serde_json::json!({
            "title": "Survey <1>", "service": "DPS & co", "role": "Peer worker", "link": "https://x/s/abc",
            "closes": "2026-12-01", "reminder_number": 1,
        });
        for kind in ["invitation", "reminder"] {
            for lang in ["nb", "en"] {
                let (subject, text, html) = super::render(kind, lang, &data).expect("renders");
                assert!(!subject.is_empty() && !subject.contains('\n'));
                assert!(text.contains("https://x/s/abc") && html.contains("https://x/s/abc"));
                assert!(text.contains("DPS & co"), "text is not escaped");
                assert!(html.contains("DPS &amp; co"), "HTML is escaped");
                // A real button, and the fallback address says so.
                let button = html.split("<a href=").nth(1).expect("a link");
                assert!(
                    button.contains("display: inline-block") && button.contains("padding:"),
                    "{kind} {lang}: the link is drawn as a button"
                );
                assert!(
                    html.contains("If the button does not work")
                        || html.contains("Virker ikke knappen"),
                    "{kind} {lang}: the fallback names the button"
                );
            }
        }
    }
}
