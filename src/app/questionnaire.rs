//! The respondent's side, one use case per file: what a link leads to ([`link`]), the
//! pages of a questionnaire ([`pages`]), checking an answer ([`answers`]), saving answers
//! page by page ([`responses`]), submitting once and withdrawing ([`submission`]).
//!
//! Answers are stored as they are saved, so closing the browser loses nothing. A response
//! counts in analyses only once submitted; submitting is idempotent. In anonymous waves
//! the response keeps no link to the invitation: it is found again through a keyed hash
//! of the link's token, and its timestamps are kept to the day.

pub mod answers;
pub mod link;
pub mod pages;
pub mod responses;
pub mod submission;

pub use answers::{FieldError, Stored, parse_answer};
pub use link::{Link, LinkState, open_link};
pub use pages::{PageItem, all_items, items_on, pages, question_text, text};
pub use responses::{answer_slots, answers_of, consent, save};
pub use submission::{Submitted, submit, submit_complete, withdraw};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::instrument::format::SurveyFile;

    fn survey() -> SurveyFile {
        crate::core::instrument::built_in().0.remove(0).definition
    }

    #[test]
    fn answers_are_checked_by_item_type() {
        let s = survey();
        let item = |code: &str| {
            all_items(&s, "manager")
                .into_iter()
                .chain(all_items(&s, "peer_worker"))
                .find(|i| i.code() == code)
                .expect(code)
        };
        assert_eq!(
            parse_answer(&s, item("A1"), "3", "en"),
            Ok(Some(Stored {
                value: Some(3.0),
                text: None,
                missing: None
            }))
        );
        assert_eq!(
            parse_answer(&s, item("A1"), "NA", "en")
                .expect("ok")
                .expect("some")
                .missing
                .as_deref(),
            Some("NA")
        );
        assert!(parse_answer(&s, item("A1"), "7", "en").is_err());
        assert_eq!(parse_answer(&s, item("A1"), " ", "en"), Ok(None));
        assert_eq!(
            parse_answer(&s, item("M_PEER_FTE"), "1,5", "nb")
                .expect("ok")
                .expect("some")
                .value,
            Some(1.5)
        );
        assert!(
            parse_answer(&s, item("M_FIRST_YEAR"), "1800", "en")
                .expect_err("range")
                .contains("between")
        );
        assert_eq!(
            parse_answer(&s, item("M_FIRST_YEAR"), "NEVER", "en")
                .expect("ok")
                .expect("some")
                .missing
                .as_deref(),
            Some("NEVER")
        );
        assert_eq!(
            parse_answer(&s, item("M_POLICY_PLAN"), "yes", "en")
                .expect("ok")
                .expect("some")
                .value,
            Some(1.0)
        );
        assert!(
            parse_answer(&s, item("M_EMPLOYMENT"), "forever", "nb")
                .expect_err("choice")
                .starts_with("Velg")
        );
        assert!(parse_answer(&s, item("P_POSITION_PERCENT"), "150", "en").is_err());
    }

    #[test]
    fn each_role_has_consent_phases_context_and_review() {
        let s = survey();
        assert_eq!(
            pages(&s, "peer_worker"),
            ["consent", "A", "B", "C", "D", "context", "review"]
        );
        // The manager's phase pages end with the phase's evidence question; the others'
        // hold the five items.
        let on_b = items_on(&s, "manager", "B");
        let manager_b: Vec<&str> = on_b.iter().map(PageItem::code).collect();
        assert_eq!(manager_b, ["B1", "B2", "B3", "B4", "B5", "B_OCCASION"]);
        assert_eq!(items_on(&s, "peer_worker", "B").len(), 5);
        assert!(
            items_on(&s, "manager", "context")
                .iter()
                .all(|i| !i.code().ends_with("_OCCASION")),
            "asked on its phase's page, not among the context questions"
        );
    }
}
