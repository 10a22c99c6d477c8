//! Request handlers, one folder per area.

pub mod account;
pub mod admin;
pub mod api;
pub mod auth;
pub mod errors;
pub mod exports;
pub mod health;
pub mod home;
pub mod regions;
pub mod respondent;
pub mod respondent_api;
pub mod services;
