//! HTML templates (Handlebars, embedded in the binary, registered once in strict mode so
//! a missing variable is an error caught by tests instead of a blank on a page) and the
//! site's stylesheet. Infrastructure shared by the web pages and the printable reports
//! written to files: neither owns it, so neither depends on the other for it.

use std::sync::LazyLock;

use anyhow::Context as _;
use handlebars::Handlebars;
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "templates/"]
#[include = "*.hbs"]
#[exclude = "mail/*"]
struct TemplateFiles;

static REGISTRY: LazyLock<Result<Handlebars<'static>, String>> = LazyLock::new(|| {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.set_dev_mode(false);
    hb.register_helper("t", Box::new(crate::infra::i18n::helper));
    hb.register_embed_templates_with_extension::<TemplateFiles>(".hbs")
        .map_err(|e| format!("a template does not compile: {e}"))?;
    Ok(hb)
});

/// Renders template `name` (file `templates/{name}.hbs`) with `data`.
pub fn render(name: &str, data: &impl serde::Serialize) -> anyhow::Result<String> {
    let hb = REGISTRY.as_ref().map_err(|e| anyhow::anyhow!("{e}"))?;
    hb.render(name, data)
        .with_context(|| format!("rendering template {name} failed"))
}

/// The site's stylesheet, for documents that must stand alone (printed reports written
/// to files).
pub fn stylesheet() -> &'static str {
    include_str!("../../static/samskap.css")
}

#[cfg(test)]
mod tests {
    #[test]
    fn all_templates_compile() {
        assert!(
            super::REGISTRY.is_ok(),
            "{:?}",
            super::REGISTRY.as_ref().err()
        );
    }

    #[test]
    fn strict_mode_refuses_missing_variables() {
        let err = super::render("error", &serde_json::json!({"title": "x"}));
        assert!(err.is_err());
    }
}
