//! Administration: users and their scopes, the audit log.

pub mod audit;
pub mod catalogue;
pub mod users;
pub mod waves;
