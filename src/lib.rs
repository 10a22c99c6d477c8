//! samskap measures how far mental-health and substance-use services involve peer
//! workers across co-define, co-design, co-deliver and co-assess, and reports it without
//! ever letting anyone infer one person's answers.
//!
//! Data moves forward only: survey files → waves → invitations → answers → scoring →
//! analytics → dashboards, reports, API and exports. See `design.md`.

pub mod accounts;
pub mod analytics;
pub mod audit;
pub mod bench;
pub mod catalogue;
pub mod cli;
pub mod commands;
pub mod config;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod domain;
pub mod export;
pub mod i18n;
pub mod import;
pub mod instrument;
pub mod mail;
pub mod models;
pub mod questionnaire;
pub mod reports;
pub mod scoring;
pub mod telemetry;
pub mod waves;
pub mod web;
