//! Accounts, one use case per file: [`users`] (making and changing an account),
//! [`passwords`], [`sign_in`], [`tokens`] (API tokens), [`scopes`] (what an account may
//! see) and [`access`] (reading those scopes per request). Each use case owns its transaction and
//! its audit record; the web pages and the command line call the same functions.

pub mod access;
pub mod passwords;
pub mod scopes;
pub mod sign_in;
pub mod tokens;
pub mod users;

pub use access::{Access, RegionView};
pub use passwords::{
    MIN_PASSWORD_LEN, OwnChange, PasswordProblem, SetBy, change_own_password, check_password,
    generate_password, hash_password, password_fingerprint, replace_password, verify_dummy,
    verify_password,
};
pub use scopes::{
    ScopeSpec, add_scope, describe_scope, describe_scope_in, grant_scope, revoke_scope,
    scope_kinds_for,
};
pub use sign_in::{MAX_FAILED_LOGINS, SignIn, THROTTLE_WINDOW, sign_in, sign_out};
pub use tokens::{
    TOKEN_LIFETIME_DAYS, TOKEN_PREFIX, create_token, generate_token, revoke_token, token_hash,
    user_for_token,
};
pub use users::{
    AccountChanges, ChangeRefusal, EmailTaken, NewAccount, add_account, create_user,
    normalise_email, update_account,
};
