//! Black-box tests through a real socket and the real binary. Every test gets a fresh
//! database: a temporary SQLite file, or a fresh PostgreSQL database when
//! `TEST_DATABASE_URL` is set (see `helpers.rs`).

mod access;
mod admin_uploads;
mod analytics;
mod api_contract;
mod auth;
mod auth_helpers;
mod cli_config;
mod cli_user;
mod dashboards;
mod demo_data;
mod disclosure;
mod export;
mod fixtures;
mod fuzz_regressions;
mod group_commit;
mod health;
mod helpers;
mod import;
mod migrations;
mod outbox;
mod pages;
mod publication;
mod questionnaire;
mod roles;
mod serve_demo;
mod smtp;
mod survey;
