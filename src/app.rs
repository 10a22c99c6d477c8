//! The application: one module per capability, each action a function that owns its
//! transaction and its audit record, called the same way by both front doors (`web`,
//! `cli`): accounts, waves and invitations, the questionnaire, survey files, the
//! catalogue and its import, results and their publication, dashboards and reports,
//! research exports, and the checks of what people type.

pub mod accounts;
pub mod analytics;
pub mod audit;
pub mod catalogue;
pub mod export;
pub mod import;
pub mod questionnaire;
pub mod reports;
pub mod surveys;
pub mod validation;
pub mod waves;
