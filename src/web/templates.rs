//! Handlebars templates, embedded in the binary and registered once, in strict mode so a
//! missing variable is an error (caught by tests) instead of a blank on a page.

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
    hb.register_helper("t", Box::new(crate::i18n::helper));
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

/// Renders a page: `data` (a JSON object) plus `page` (user and CSRF token) from `ctx`.
pub fn page(
    name: &str,
    ctx: &super::security::Ctx,
    mut data: serde_json::Value,
) -> Result<actix_web::HttpResponse, super::errors::AppError> {
    page_with_status(actix_web::http::StatusCode::OK, name, ctx, data.take())
}

/// [`page`] with another status (a form shown again with errors, say).
pub fn page_with_status(
    status: actix_web::http::StatusCode,
    name: &str,
    ctx: &super::security::Ctx,
    mut data: serde_json::Value,
) -> Result<actix_web::HttpResponse, super::errors::AppError> {
    if let Some(map) = data.as_object_mut() {
        map.insert("page".into(), ctx.page());
        map.entry("page_title").or_insert_with(|| "samskap".into());
        map.entry("page_lang").or_insert_with(|| ctx.lang().into());
        map.entry("respondent")
            .or_insert(serde_json::Value::Bool(false));
    }
    let html = render(name, &data)?;
    Ok(actix_web::HttpResponse::build(status)
        .content_type(actix_web::http::header::ContentType::html())
        .body(html))
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
