//! Infrastructure: settings, keys, the database (connections, schema, one model file per
//! table), e-mail (transports, outbox, worker), the i18n catalogue, the HTML templates,
//! and logging. It knows nothing of waves, questionnaires or results.

pub mod config;
pub mod crypto;
pub mod db;
pub mod i18n;
pub mod mail;
pub mod models;
pub mod render;
pub mod telemetry;
pub mod time;
