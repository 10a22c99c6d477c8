//! The staff pages' texts in Norwegian bokmål and English: one catalogue per language
//! (`templates/i18n/{nb,en}.toml`, nested tables flattened to dotted keys), the `t`
//! template helper that reads them, and the choice of language for a request.
//!
//! A request's language: `?lang=nb|en` (remembered in a cookie), else that cookie, else
//! the browser's `Accept-Language` (nb, nn, no and se read as bokmål), else English.
//! Both catalogues must hold the same keys (a unit test checks), so a page never mixes
//! languages because one text is missing.

use std::collections::HashMap;
use std::sync::LazyLock;

/// Languages of the staff pages, the default first.
pub const LANGUAGES: [&str; 2] = ["en", "nb"];

/// The cookie that remembers a choice made with `?lang=`.
pub const LANG_COOKIE: &str = "samskap_lang";

type Catalogue = HashMap<String, String>;

static CATALOGUES: LazyLock<HashMap<&'static str, Catalogue>> = LazyLock::new(|| {
    [
        ("en", include_str!("../../templates/i18n/en.toml")),
        ("nb", include_str!("../../templates/i18n/nb.toml")),
    ]
    .into_iter()
    .map(|(lang, text)| (lang, flatten(text)))
    .collect()
});

fn flatten(text: &str) -> Catalogue {
    fn walk(prefix: &str, table: &toml::Table, out: &mut Catalogue) {
        for (k, v) in table {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                toml::Value::Table(t) => walk(&key, t, out),
                toml::Value::String(s) => {
                    out.insert(key, s.clone());
                }
                other => {
                    out.insert(key, other.to_string());
                }
            }
        }
    }
    let mut out = Catalogue::new();
    // A catalogue that does not parse is caught by the unit test below; at run time every
    // text would be missing, which strict templates report as errors.
    if let Ok(table) = text.parse::<toml::Table>() {
        walk("", &table, &mut out);
    }
    out
}

/// The text for `key` in `lang` (English when `lang` is unknown).
pub fn text(lang: &str, key: &str) -> Option<&'static str> {
    let lang = if LANGUAGES.contains(&lang) {
        lang
    } else {
        "en"
    };
    CATALOGUES
        .get(lang)
        .and_then(|c| c.get(key))
        .map(String::as_str)
}

/// [`text`] with `{name}` placeholders filled in; the key itself when missing, so a
/// forgotten text is visible rather than blank (templates fail on it instead: see the
/// `t` helper).
pub fn fill(lang: &str, key: &str, args: &[(&str, &str)]) -> String {
    let mut s = text(lang, key).unwrap_or(key).to_owned();
    for (name, value) in args {
        s = s.replace(&format!("{{{name}}}"), value);
    }
    s
}

/// A supported language from a `?lang=` value or cookie.
pub fn supported(value: &str) -> Option<&'static str> {
    LANGUAGES.iter().copied().find(|l| *l == value)
}

/// The language an `Accept-Language` header prefers among ours, by its q-values.
pub fn from_accept_language(header: &str) -> Option<&'static str> {
    let mut best: Option<(f32, &'static str)> = None;
    for part in header.split(',') {
        let mut pieces = part.trim().split(';');
        let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = pieces
            .find_map(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|v| v.parse::<f32>().ok())
            })
            .unwrap_or(1.0);
        let primary = tag.split('-').next().unwrap_or("");
        let lang = match primary {
            "nb" | "nn" | "no" | "se" => "nb",
            "en" => "en",
            _ => continue,
        };
        if best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, lang));
        }
    }
    best.map(|(_, l)| l)
}

/// The `t` template helper: `{{t "key"}}` or `{{t "key" name=value}}`, in the page's
/// language (`page_lang` at the root of the data). A missing key is a render error.
pub fn helper(
    h: &handlebars::Helper<'_>,
    _: &handlebars::Handlebars<'_>,
    ctx: &handlebars::Context,
    _: &mut handlebars::RenderContext<'_, '_>,
    out: &mut dyn handlebars::Output,
) -> handlebars::HelperResult {
    let key = h
        .param(0)
        .and_then(|p| p.value().as_str())
        .ok_or(handlebars::RenderErrorReason::ParamNotFoundForIndex("t", 0))?;
    let lang = ctx
        .data()
        .get("page_lang")
        .and_then(|v| v.as_str())
        .unwrap_or("en");
    let found = text(lang, key).ok_or_else(|| {
        handlebars::RenderErrorReason::Other(format!("no text for \"{key}\" in {lang}"))
    })?;
    let mut s = found.to_owned();
    for (name, value) in h.hash() {
        let v = match value.value() {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        s = s.replace(&format!("{{{name}}}"), &v);
    }
    out.write(&handlebars::html_escape(&s))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogues_parse_and_hold_the_same_keys() {
        for (lang, text) in [
            ("en", include_str!("../../templates/i18n/en.toml")),
            ("nb", include_str!("../../templates/i18n/nb.toml")),
        ] {
            text.parse::<toml::Table>()
                .unwrap_or_else(|e| panic!("templates/i18n/{lang}.toml: {e}"));
        }
        let en = &CATALOGUES["en"];
        let nb = &CATALOGUES["nb"];
        assert!(en.len() > 10);
        let only_en: Vec<_> = en.keys().filter(|k| !nb.contains_key(*k)).collect();
        let only_nb: Vec<_> = nb.keys().filter(|k| !en.contains_key(*k)).collect();
        assert!(only_en.is_empty(), "missing in nb.toml: {only_en:?}");
        assert!(only_nb.is_empty(), "missing in en.toml: {only_nb:?}");
    }

    #[test]
    fn accept_language_prefers_the_highest_q() {
        assert_eq!(from_accept_language("nb-NO,nb;q=0.9,en;q=0.8"), Some("nb"));
        assert_eq!(from_accept_language("en-GB,en;q=0.9,nn;q=0.5"), Some("en"));
        assert_eq!(from_accept_language("de, no;q=0.4"), Some("nb"));
        assert_eq!(from_accept_language("de, fr"), None);
        assert_eq!(from_accept_language("nn;q=0.2, en;q=0.3"), Some("en"));
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            fill("en", "report.respondents", &[("n", "7")]),
            "7 respondents"
        );
        assert_eq!(
            fill("nb", "report.respondents", &[("n", "7")]),
            "7 respondenter"
        );
    }
}
