//! Words of the questionnaire pages: the `respondent.*` texts of the i18n catalogue
//! (`templates/i18n/{nb,en}.toml`), in bokmål and English.

use serde_json::{Map, Value};

/// The keys of the words the questionnaire templates use.
const WORDS: &[&str] = &[
    "lang_name",
    "other_lang",
    "other_lang_name",
    "step",
    "of",
    "consent_title",
    "consent_who",
    "consent_withdraw",
    "consent_time",
    "consent_check",
    "consent_required",
    "start",
    "continue",
    "back",
    "save_note",
    "review_title",
    "review_intro",
    "unanswered",
    "legend",
    "change",
    "submit",
    "context_title",
    "yes",
    "no",
    "error_title",
    "withdraw_link",
    "withdraw_title",
    "withdraw_body",
    "withdraw_button",
    "thanks_title",
    "thanks_body",
    "submitted_title",
    "submitted_body",
    "withdrawn_title",
    "withdrawn_body",
    "unknown_title",
    "unknown_body",
    "closed_title",
    "closed_body",
    "expired_title",
    "expired_body",
    "notopen_title",
    "notopen_body",
    "question",
    "answer",
    "fte_hint",
];

/// The words in `lang` (English for anything but `nb`), as a JSON object for templates.
pub fn words(lang: &str) -> Value {
    let lang = if lang == "nb" { "nb" } else { "en" };
    Value::Object(
        WORDS
            .iter()
            .map(|k| {
                let text = crate::infra::i18n::fill(lang, &format!("respondent.{k}"), &[]);
                ((*k).to_owned(), Value::String(text))
            })
            .collect::<Map<_, _>>(),
    )
}
