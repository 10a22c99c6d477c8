//! The pure core: domain types and typed ids, the survey file format and its checks,
//! and scoring. No database connection, no web, no mail: it describes and computes, and
//! everything else builds on it. (The statistics and the disclosure gate, equally pure,
//! live with the analytics that use them: `app::analytics::{stats, suppress}`.)

pub mod domain;
pub mod instrument;
pub mod scoring;
pub(crate) mod sql_text;
