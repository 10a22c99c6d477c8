//! Request handlers, one folder per area.

pub mod errors;
pub mod health;
pub mod home;
