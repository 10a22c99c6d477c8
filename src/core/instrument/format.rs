//! The survey file format: one instrument per TOML file. These types are the single
//! source of truth: the loader deserialises into them, the JSON Schema for editors is
//! generated from them (`samskap survey schema`), and the stored definition is their
//! canonical JSON.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::core::domain::RespondentRole;

/// Text in every language the survey offers: `{ nb = "…", en = "…" }`.
pub type Text = BTreeMap<String, String>;

/// `text` in `lang`, else in the first language it has (a survey file need not translate
/// every text), else empty. The one way a survey text is read in a language.
pub fn in_lang<'a>(text: &'a Text, lang: &str) -> &'a str {
    text.get(lang)
        .or_else(|| text.values().next())
        .map_or("", String::as_str)
}

/// A whole survey file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct SurveyFile {
    /// Stable identifier, lower-case letters, digits and '-', e.g. `peer-involvement`.
    pub id: String,
    /// Version of this content. Bump it whenever anything in the file changes: a stored
    /// version is immutable, and waves pin the version they were launched with.
    pub version: String,
    /// Language codes offered, e.g. `["nb", "en"]`. Every text must exist in each.
    pub languages: Vec<String>,
    /// Title of the questionnaire.
    pub title: Text,
    /// Introduction shown before the first question: what the survey is about.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub description: Text,
    /// Respondent roles by code (`manager`, `peer_worker`, `staff`, …), each with its own
    /// form. Any number; listed everywhere in the order of their codes.
    pub roles: BTreeMap<String, RoleDef>,
    /// Response scales by name.
    pub scales: BTreeMap<String, Scale>,
    /// Phases of the service cycle, in the order they are asked and reported.
    pub phases: Vec<Phase>,
    /// Scored items. Item codes are shared between the roles' forms.
    pub items: Vec<Item>,
    /// Context questions: asked, stored and exported, never scored.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<ContextItem>,
    /// How answers become phase scores, maturity levels and the index.
    pub scoring: Scoring,
    /// A short recommended next step for every phase and maturity level.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub next_steps: Vec<NextStep>,
    /// Evidence of action: which questions ask for a concrete occasion per phase, and how
    /// high ratings are checked against them (docs/analytics.md, "Evidence of action").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
}

/// Evidence of action. Managers may describe intentions more than actions: per phase, a
/// single-choice context question asks whether a concrete occasion happened in the last
/// 12 months and, if so, of what kind (a closed list, so nothing identifying is typed).
/// Published per service and phase: the share of high ratings backed by an occasion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Evidence {
    /// A phase score in a band of this level or above is a high rating (3: Partner and
    /// Peer-led on the shipped scale).
    pub high_level: u32,
    /// The option of the evidence questions that means "no such occasion"; every other
    /// option is a kind of occasion.
    pub none: String,
    /// A group whose mean rates a phase high is flagged "stated, not shown" when fewer
    /// than this share (0 to 1) of its high ratings are backed by an occasion.
    pub min_backed_share: f64,
    /// Per phase code, the code of its evidence question: a `single_choice` context
    /// question with that `phase`.
    pub questions: BTreeMap<String, String>,
}

/// A respondent role's form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RoleDef {
    /// Name of the role, e.g. "Peer worker".
    pub label: Text,
    /// Name of a group of them, as a column heading or in "6 managers": e.g. "Peer
    /// workers". The label when left out.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub plural: Text,
    /// Words to this role before the questions.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub intro: Text,
    /// Whether this role's answers to the scored items make phase scores, perception
    /// gaps and benchmarks (the default). A role with `scored = false` answers its form,
    /// and its answers are stored and exported, but nothing of it is published.
    #[serde(default = "scored_by_default", skip_serializing_if = "is_true")]
    pub scored: bool,
}

const fn scored_by_default() -> bool {
    true
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if"
)]
const fn is_true(b: &bool) -> bool {
    *b
}

impl SurveyFile {
    /// The roles declared, in the order of their codes: the order of every role in a
    /// publication, a page and an export.
    pub fn roles(&self) -> Vec<RespondentRole> {
        self.roles
            .keys()
            .filter_map(|code| RespondentRole::parse(code).ok())
            .collect()
    }

    /// The roles whose answers are scored, in the order of their codes.
    pub fn scored_roles(&self) -> Vec<RespondentRole> {
        self.roles
            .iter()
            .filter(|(_, def)| def.scored)
            .filter_map(|(code, _)| RespondentRole::parse(code).ok())
            .collect()
    }

    /// Phase `phase`'s evidence question, when the file has one for it.
    pub fn evidence_question(&self, phase: &str) -> Option<&ContextItem> {
        let code = self.evidence.as_ref()?.questions.get(phase)?;
        self.context.iter().find(|c| &c.code == code)
    }

    /// The name of one `role` in `lang` ("Peer worker"), or its code when the file does
    /// not declare it.
    pub fn role_name(&self, role: &str, lang: &str) -> String {
        self.roles.get(role).map_or_else(
            || role.to_owned(),
            |def| in_lang(&def.label, lang).to_owned(),
        )
    }

    /// The name of a group of `role` in `lang` ("Peer workers"), or its code when the
    /// file does not declare it.
    pub fn role_label(&self, role: &str, lang: &str) -> String {
        self.roles.get(role).map_or_else(
            || role.to_owned(),
            |def| {
                let plural = in_lang(&def.plural, lang);
                if plural.is_empty() {
                    in_lang(&def.label, lang).to_owned()
                } else {
                    plural.to_owned()
                }
            },
        )
    }
}

/// An ordered response scale with its missing codes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Scale {
    /// The scale points, in ascending order of value.
    pub points: Vec<ScalePoint>,
    /// Answers that are not a point on the scale.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<MissingCode>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ScalePoint {
    pub value: i64,
    pub label: Text,
    /// What choosing this point means, shown as help.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub description: Text,
}

/// A code for an answer that is not on the scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct MissingCode {
    /// Upper-case code stored in place of a value, e.g. `DK`.
    pub code: String,
    pub meaning: MissingMeaning,
    pub label: Text,
}

/// How a missing code counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MissingMeaning {
    /// The respondent does not know: a missing answer.
    Missing,
    /// The activity did not take place: removed from the denominator and reported
    /// separately (nothing happened is not the same as happened without peers).
    NotApplicable,
}

/// A phase of the service cycle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Phase {
    /// Short code, the prefix of its items' codes, e.g. `A`.
    pub code: String,
    /// Stable machine name, e.g. `co_define`.
    pub key: String,
    pub title: Text,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub description: Text,
    /// Overrides `scoring.min_valid_items` for this phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_valid_items: Option<u32>,
}

/// A scored item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Item {
    /// Unique code, shared by every role's form, e.g. `A1`.
    pub code: String,
    /// Code of the phase the item belongs to.
    pub phase: String,
    /// Name of the scale it is answered on.
    pub scale: String,
    /// Question text per role, then per language: `text.manager = { nb = "…", en = "…" }`.
    pub text: BTreeMap<String, Text>,
}

/// Kinds of context question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContextKind {
    /// A whole number.
    Integer,
    /// A decimal number, e.g. full-time equivalents.
    Number,
    /// A calendar year.
    Year,
    /// 0-100.
    Percentage,
    /// One of `options`.
    SingleChoice,
    /// Yes or no, stored as 1 or 0.
    YesNo,
    /// 1-5, with `low_label` and `high_label` for the ends.
    Rating,
}

/// A context question (not scored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ContextItem {
    pub code: String,
    /// Roles whose form asks it.
    pub roles: Vec<String>,
    /// Asked on this phase's page, after its scored items, instead of on the page of
    /// context questions (the evidence questions are).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(rename = "type")]
    pub kind: ContextKind,
    pub text: Text,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub help: Text,
    /// Smallest accepted value (integer, number, year, percentage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Largest accepted value (integer, number, year, percentage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// The choices of a `single_choice` question.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<Choice>,
    /// Answers stored as codes besides a value, e.g. `NEVER` for "we never employed one".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_codes: Vec<Choice>,
    /// Meaning of 1 on a `rating`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low_label: Option<Text>,
    /// Meaning of 5 on a `rating`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high_label: Option<Text>,
}

/// A labelled code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Choice {
    pub code: String,
    pub label: Text,
}

/// Scoring rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Scoring {
    /// A phase score is computed only when at least this many of the phase's items have
    /// a valid answer (a scale point; missing codes are not valid).
    pub min_valid_items: u32,
    /// Index = mean of the phase scores × this (25 turns a 0-4 scale into 0-100).
    pub index_multiplier: f64,
    /// Maturity bands over the phase score, ascending and without gaps or overlaps.
    pub bands: Vec<Band>,
}

/// A maturity level: phase scores in `[from, to)` (the last band includes `to`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Band {
    pub level: u32,
    pub from: f64,
    pub to: f64,
    pub label: Text,
}

/// What a service at `level` in `phase` could do next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct NextStep {
    pub phase: String,
    pub level: u32,
    pub text: Text,
}

/// The JSON Schema of the format, for editors (`samskap survey schema`).
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(SurveyFile)).unwrap_or_default()
}
