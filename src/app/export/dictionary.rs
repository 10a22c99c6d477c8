//! What every file of a bundle describes the same way: the identifying columns, the
//! roles, and the variables, labelled in the language the researcher chose.

use super::Variable;

/// The identifying columns that open `wide.csv`, with their labels (en, nb).
pub(super) const ID_COLUMNS: [(&str, &str, &str); 6] = [
    ("wave", "Survey wave", "Undersøkelsesrunde"),
    ("service", "Service (pseudonym)", "Tjeneste (pseudonym)"),
    (
        "panel",
        "Respondent across waves (pseudonym; empty in anonymous waves)",
        "Respondent på tvers av runder (pseudonym; tom i anonyme runder)",
    ),
    ("response", "Response (pseudonym)", "Besvarelse (pseudonym)"),
    ("role", "Role of the respondent", "Respondentens rolle"),
    (
        "language",
        "Language the questionnaire was answered in",
        "Språket skjemaet ble besvart på",
    ),
];

/// A bundle's variables and roles in one language.
#[derive(Debug, Clone)]
pub struct Dictionary {
    /// `en` or `nb`: the language of every label.
    pub lang: String,
    pub vars: Vec<Variable>,
    /// Role codes with their labels, in survey-file order.
    pub roles: Vec<(String, String)>,
    /// Phase codes of the scores.
    pub phases: Vec<String>,
}

impl Dictionary {
    /// The label of an identifying column in the bundle's language.
    pub fn id_label(&self, name: &str) -> &'static str {
        ID_COLUMNS
            .iter()
            .find(|(n, _, _)| *n == name)
            .map_or("", |(_, en, nb)| if self.lang == "nb" { nb } else { en })
    }

    /// `en`/`nb` word pairs used by the scripts' own texts.
    pub fn word(&self, en: &'static str, nb: &'static str) -> &'static str {
        if self.lang == "nb" { nb } else { en }
    }
}
