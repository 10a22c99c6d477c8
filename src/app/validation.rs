//! Checking what people type, with `validator`: a form, an API body or a CSV row derives
//! `Validate`, and [`check`] turns what it finds into [`Problems`], every problem of the
//! input at once, each naming its field. The words come from the i18n catalogue
//! (`validation.*` for the problem, `field.*` for the field's name), so a page shows them
//! in the reader's language and the command line in English.
//!
//! The rules shared by several inputs are here: [`email`], [`not_blank`], [`choice`],
//! [`code`], [`digits`], [`new_password`], [`whole_number`], [`date`].

use std::borrow::Cow;
use std::fmt;

pub use validator::{Validate, ValidationError, ValidationErrors};

/// One problem with one field.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The field, as the input names it (`email`, `reminders`).
    pub field: String,
    /// What is wrong: a `validation.*` key (`length`, `range`, `email`, …).
    pub code: String,
    /// The values the message names (`min`, `max`, `value`).
    pub params: Vec<(String, String)>,
}

impl Problem {
    /// A problem with `field` of kind `code`.
    pub fn new(field: &str, code: &str) -> Self {
        Self {
            field: field.to_owned(),
            code: code.to_owned(),
            params: Vec::new(),
        }
    }

    #[must_use]
    pub fn with(mut self, name: &str, value: impl ToString) -> Self {
        self.params.push((name.to_owned(), value.to_string()));
        self
    }

    /// The problem in `lang`: "Reminders at most: between 0 and 10".
    pub fn message(&self, lang: &str) -> String {
        let field = crate::infra::i18n::fill(lang, &format!("field.{}", self.field), &[]);
        let mut params: Vec<(&str, &str)> = self
            .params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        params.push(("field", &field));
        crate::infra::i18n::fill(lang, &format!("validation.{}", self.code), &params)
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message("en"))
    }
}

/// Every problem an input has; empty never leaves this module.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    /// The problems in `lang`, one message each.
    pub fn messages(&self, lang: &str) -> Vec<String> {
        self.0.iter().map(|p| p.message(lang)).collect()
    }

    /// Whether `field` has a problem.
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|p| p.field == field)
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.messages("en").join("; "))
    }
}

/// Checks `input`; the problems come in the order of `fields` (the form's order on the
/// page), problems of the whole input (`__all__`) last.
pub fn check(input: &impl Validate, fields: &[&str]) -> Result<(), Problems> {
    match input.validate() {
        Ok(()) => Ok(()),
        Err(errors) => Err(problems(&errors, fields)),
    }
}

/// `errors` as [`Problems`], in the order of `fields`.
pub fn problems(errors: &ValidationErrors, fields: &[&str]) -> Problems {
    let mut found: Vec<(usize, Problem)> = errors
        .field_errors()
        .into_iter()
        .flat_map(|(field, errs)| {
            let rank = fields
                .iter()
                .position(|f| *f == field.as_ref())
                .unwrap_or(fields.len());
            errs.iter()
                .map(move |e| (rank, from_error(field.as_ref(), e)))
        })
        .collect();
    found.sort_by(|a, b| (a.0, &a.1.field).cmp(&(b.0, &b.1.field)));
    Problems(found.into_iter().map(|(_, p)| p).collect())
}

fn from_error(field: &str, e: &ValidationError) -> Problem {
    // A length or range with one bound has its own message ("at most 200 characters").
    let code = match (e.code.as_ref(), e.params.get("min"), e.params.get("max")) {
        (c @ ("length" | "range"), None, Some(_)) => format!("{c}_max"),
        (c @ ("length" | "range"), Some(_), None) => format!("{c}_min"),
        (c, _, _) => c.to_owned(),
    };
    let mut params: Vec<(String, String)> = e
        .params
        .iter()
        .map(|(k, v)| {
            let text = v.as_str().map_or_else(|| v.to_string(), ToOwned::to_owned);
            (k.to_string(), text)
        })
        .collect();
    params.sort();
    Problem {
        field: field.to_owned(),
        code,
        params,
    }
}

fn error(code: &'static str, value: &str) -> ValidationError {
    let mut e = ValidationError::new(code);
    e.add_param(Cow::Borrowed("value"), &value);
    e
}

/// An e-mail address as the mail transport will take it (`lettre::Address`): `a@@b.c`
/// is refused here, not when the message fails to send.
pub fn email(value: &str) -> Result<(), ValidationError> {
    value
        .trim()
        .parse::<lettre::Address>()
        .map(|_| ())
        .map_err(|_| error("email", value.trim()))
}

/// One of `codes` (a text enum's `CODES`); the message lists them. Blank is "required".
pub fn choice(value: &str, codes: &[&str]) -> Result<(), ValidationError> {
    if codes.contains(&value) {
        Ok(())
    } else if value.trim().is_empty() {
        Err(ValidationError::new("required"))
    } else {
        let mut e = error("choice", value);
        e.add_param(Cow::Borrowed("choices"), &codes.join(", "));
        Err(e)
    }
}

/// Empty, or exactly `len` digits (an official number: county 2, municipality 4,
/// organisation 9).
pub fn digits(value: &str, len: usize) -> Result<(), ValidationError> {
    if value.is_empty() || (value.len() == len && value.bytes().all(|b| b.is_ascii_digit())) {
        Ok(())
    } else {
        let mut e = error("digits", value);
        e.add_param(Cow::Borrowed("len"), &len);
        Err(e)
    }
}

/// A code that goes into file names and URLs: letters A-Z, digits, '-', '_' and '.',
/// at most 64 characters. Blank is "required".
pub fn code(value: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        Err(ValidationError::new("required"))
    } else if value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        Ok(())
    } else {
        Err(error("code", value))
    }
}

/// Something other than spaces.
pub fn not_blank(value: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        Err(ValidationError::new("required"))
    } else {
        Ok(())
    }
}

/// A new password as [`crate::app::accounts::check_password`] takes it.
pub fn new_password(value: &str) -> Result<(), ValidationError> {
    crate::app::accounts::check_password(value).map_err(|problem| {
        let mut e = ValidationError::new(problem.code());
        e.add_param(
            Cow::Borrowed("min"),
            &crate::app::accounts::MIN_PASSWORD_LEN,
        );
        if let crate::app::accounts::PasswordProblem::Common(word) = &problem {
            e.add_param(Cow::Borrowed("value"), word);
        }
        e
    })
}

/// Empty (a password is generated) or a new password ([`new_password`]).
pub fn new_password_or_empty(value: &str) -> Result<(), ValidationError> {
    if value.is_empty() {
        Ok(())
    } else {
        new_password(value)
    }
}

/// A whole number, as typed.
pub fn whole_number(value: &str) -> Result<(), ValidationError> {
    value
        .trim()
        .parse::<i32>()
        .map(|_| ())
        .map_err(|_| error("whole_number", value.trim()))
}

/// Empty, or a date as YYYY-MM-DD.
pub fn date(value: &str) -> Result<(), ValidationError> {
    let value = value.trim();
    if value.is_empty() || chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok() {
        Ok(())
    } else {
        Err(error("date", value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Validate)]
    struct Form {
        #[validate(custom(function = "email"))]
        email: String,
        #[validate(custom(function = "not_blank"), length(max = 5))]
        name: String,
        #[validate(range(min = 0, max = 10))]
        reminders: i32,
    }

    /// Every problem at once, in the form's order, in either language.
    #[test]
    fn every_problem_at_once_in_the_forms_order() {
        let form = Form {
            email: "a@@b.c".into(),
            name: "   ".into(),
            reminders: 11,
        };
        let problems = check(&form, &["email", "name", "reminders"]).expect_err("problems");
        let fields: Vec<&str> = problems.0.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["email", "name", "reminders"]);
        let en = problems.messages("en");
        assert!(
            en[0].contains("\"a@@b.c\" is not an e-mail address"),
            "{en:?}"
        );
        assert!(en[2].contains("between 0 and 10"), "{en:?}");
        let nb = problems.messages("nb");
        assert_ne!(en, nb);
        assert!(nb.iter().all(|m| !m.contains("validation.")), "{nb:?}");
        let long = Form {
            email: "kari@example.no".into(),
            name: "Kari Nordmann".into(),
            reminders: 3,
        };
        let problems = check(&long, &["email", "name", "reminders"]).expect_err("too long");
        assert_eq!(problems.messages("en"), ["Name: at most 5 characters"]);
    }
}
