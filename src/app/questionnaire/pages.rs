//! The pages of a questionnaire for one role and what each page asks, in the
//! respondent's language.

use crate::core::instrument::format::{ContextItem, Item, SurveyFile, Text};

/// The pages of a role's questionnaire: consent, one per phase, context (if any), review.
pub fn pages(survey: &SurveyFile, role: &str) -> Vec<String> {
    let mut out = vec!["consent".to_owned()];
    out.extend(
        survey
            .phases
            .iter()
            .filter(|p| {
                survey
                    .items
                    .iter()
                    .any(|i| i.phase == p.code && i.text.contains_key(role))
                    || survey.context.iter().any(|c| {
                        c.phase.as_ref() == Some(&p.code) && c.roles.iter().any(|r| r == role)
                    })
            })
            .map(|p| p.code.clone()),
    );
    if survey
        .context
        .iter()
        .any(|c| c.phase.is_none() && c.roles.iter().any(|r| r == role))
    {
        out.push("context".to_owned());
    }
    out.push("review".to_owned());
    out
}

/// An item on a page.
#[derive(Debug, Clone, Copy)]
pub enum PageItem<'a> {
    Scored(&'a Item),
    Context(&'a ContextItem),
}

impl PageItem<'_> {
    pub fn code(&self) -> &str {
        match self {
            Self::Scored(i) => &i.code,
            Self::Context(c) => &c.code,
        }
    }
}

/// The items of page `page` for `role`: a phase's scored items, then the context
/// questions asked on its page (the evidence question); or the context questions of no
/// phase.
pub fn items_on<'a>(survey: &'a SurveyFile, role: &str, page: &str) -> Vec<PageItem<'a>> {
    let context = |phase: Option<&str>| -> Vec<PageItem<'a>> {
        survey
            .context
            .iter()
            .filter(|c| c.phase.as_deref() == phase && c.roles.iter().any(|r| r == role))
            .map(PageItem::Context)
            .collect()
    };
    if page == "context" {
        context(None)
    } else {
        survey
            .items
            .iter()
            .filter(|i| i.phase == page && i.text.contains_key(role))
            .map(PageItem::Scored)
            .chain(context(Some(page)))
            .collect()
    }
}

/// Every item the role answers, in page order.
pub fn all_items<'a>(survey: &'a SurveyFile, role: &str) -> Vec<PageItem<'a>> {
    pages(survey, role)
        .iter()
        .flat_map(|p| items_on(survey, role, p))
        .collect()
}

/// Localised label of an item's question.
pub fn question_text<'a>(item: PageItem<'a>, role: &str, lang: &str) -> &'a str {
    match item {
        PageItem::Scored(i) => i
            .text
            .get(role)
            .map_or("", |t| crate::core::instrument::format::in_lang(t, lang)),
        PageItem::Context(c) => crate::core::instrument::format::in_lang(&c.text, lang),
    }
}

/// Localised text helper for templates and the API.
pub fn text<'a>(text: &'a Text, lang: &str) -> &'a str {
    crate::core::instrument::format::in_lang(text, lang)
}
