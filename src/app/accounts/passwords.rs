//! Passwords: argon2id hashing, the rules a new password must pass, generated
//! passwords, and the use cases that change one (by its owner, by an admin, from the
//! command line), each with its audit record.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sha2::{Digest as _, Sha256};

use crate::app::audit::{self, Actor};
use crate::core::domain::UserId;
use crate::infra::db::{self, DbConn};
use crate::infra::models::{User, UserChanges};

/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 12;

fn argon2() -> Argon2<'static> {
    // OWASP's argon2id recommendation: 19 MiB, 2 iterations, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// An argon2id PHC string for `password`.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing the password failed: {e}"))
}

/// Whether `password` matches `hash`. A malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Spends the time of one verification, so that an unknown e-mail answers as slowly as a
/// wrong password and does not reveal which accounts exist.
pub fn verify_dummy(password: &str) {
    static DUMMY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        hash_password("not-a-real-password-at-all").unwrap_or_default()
    });
    let _ = verify_password(password, &DUMMY);
}

/// Why a new password is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error("must be at least {MIN_PASSWORD_LEN} characters")]
    TooShort,
    #[error("must not be only spaces")]
    OnlySpaces,
    #[error("is too repetitive: use at least 5 different characters")]
    Repetitive,
    #[error("is a run of consecutive characters (like 123456789012)")]
    Run,
    #[error(
        "is a common password with digits or signs around it (`{0}`): choose a phrase of your own"
    )]
    Common(String),
}

impl PasswordProblem {
    /// The `validation.*` key of its message.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooShort => "password",
            Self::OnlySpaces => "password_spaces",
            Self::Repetitive => "password_repetitive",
            Self::Run => "password_run",
            Self::Common(_) => "password_common",
        }
    }
}

/// Checks a new password; the problem names what is wrong.
pub fn check_password(password: &str) -> Result<(), PasswordProblem> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(PasswordProblem::TooShort);
    }
    // NIST SP 800-63B: no composition rules, but refuse what guessing tries first.
    if password.trim().is_empty() {
        return Err(PasswordProblem::OnlySpaces);
    }
    let distinct: std::collections::BTreeSet<char> = password.chars().collect();
    if distinct.len() < 5 {
        return Err(PasswordProblem::Repetitive);
    }
    // Mostly steps of +1 or mostly of -1 (`123456789012` wraps once from 9 to 0).
    let chars: Vec<i64> = password.chars().map(|c| i64::from(u32::from(c))).collect();
    let steps = chars.len() - 1;
    let up = chars.windows(2).filter(|w| w[1] - w[0] == 1).count();
    let down = chars.windows(2).filter(|w| w[0] - w[1] == 1).count();
    if up.max(down) * 5 >= steps * 4 {
        return Err(PasswordProblem::Run);
    }
    let letters: String = password
        .chars()
        .filter(|c| c.is_alphabetic())
        .flat_map(char::to_lowercase)
        .collect();
    if COMMON_PASSWORDS.contains(&letters.as_str()) {
        return Err(PasswordProblem::Common(letters));
    }
    Ok(())
}

/// Words that common passwords are made of, once digits and signs are taken away
/// (`Password1234!`, `sommer2026!!`): refused whatever surrounds them.
const COMMON_PASSWORDS: &[&str] = &[
    "password",
    "passord",
    "passwort",
    "qwerty",
    "qwertyuiop",
    "asdfgh",
    "letmein",
    "welcome",
    "velkommen",
    "admin",
    "administrator",
    "samskap",
    "sommer",
    "summer",
    "vinter",
    "winter",
    "host",
    "autumn",
    "spring",
    "hemmelig",
    "secret",
    "changeme",
    "iloveyou",
    "abc",
    "abcdef",
    "monkey",
    "dragon",
    "football",
    "fotball",
    "norge",
    "norway",
];

/// A random password for generated accounts: 20 characters from an unambiguous alphabet.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    crate::infra::crypto::random_bytes::<20>()
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// Short fingerprint of the password hash, kept in sessions: changing the password
/// ends every existing session.
pub fn password_fingerprint(hash: &str) -> String {
    crate::infra::crypto::hex(&Sha256::digest(hash.as_bytes())[..8])
}

/// Sets a new password (which ends the user's sessions). No audit record: the use
/// cases below add theirs.
fn set_password(conn: &mut DbConn, user: &UserId, password: &str) -> anyhow::Result<()> {
    check_password(password).map_err(|e| anyhow::anyhow!("password: {e}"))?;
    User::update(
        conn,
        user,
        &UserChanges {
            password_hash: Some(hash_password(password)?),
            updated_at: Some(db::now()),
            ..Default::default()
        },
    )?;
    Ok(())
}

/// Who set a password, as its audit record says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SetBy {
    /// The account's owner, on their own page.
    #[serde(rename = "self")]
    Owner,
    /// An admin, on the account's page.
    Admin,
    /// `samskap user passwd`.
    Cli,
}

/// Gives `user` a new password on someone else's authority (an admin, the command line),
/// with its audit record (`user.password`), in one transaction.
pub fn replace_password(
    conn: &mut DbConn,
    actor: &Actor,
    user: &UserId,
    password: &str,
    by: SetBy,
) -> anyhow::Result<()> {
    db::write_transaction(conn, |conn| {
        User::find(conn, user)?;
        set_password(conn, user, password)?;
        audit::record(
            conn,
            actor,
            "user.password",
            Some(("user", user.as_str())),
            Some(serde_json::json!({ "by": by })),
        )?;
        Ok(())
    })
}

/// What became of a change of one's own password.
#[derive(Debug)]
pub enum OwnChange {
    /// Changed; the account as it is now (its sessions have a new fingerprint).
    Changed(Box<User>),
    /// The current password given was wrong.
    WrongCurrent,
    /// Too many wrong current passwords lately.
    Throttled,
}

/// Changes `user`'s own password after checking the current one. That check is a
/// password guess like a sign-in: audited (`user.password_failure`) and throttled per
/// account as sign-ins are ([`super::sign_in::MAX_FAILED_LOGINS`]).
pub fn change_own_password(
    conn: &mut DbConn,
    actor: &Actor,
    user: &User,
    current: &str,
    new: &str,
) -> anyhow::Result<OwnChange> {
    let target = Some(("user", user.id.as_str()));
    let failures = audit::entries_since(
        conn,
        "user.password_failure",
        user.id.as_str(),
        super::sign_in::window_start(),
    )?;
    if failures >= super::sign_in::MAX_FAILED_LOGINS {
        audit::record(conn, actor, "user.password_throttled", target, None)?;
        return Ok(OwnChange::Throttled);
    }
    if !verify_password(current, &user.password_hash) {
        audit::record(conn, actor, "user.password_failure", target, None)?;
        return Ok(OwnChange::WrongCurrent);
    }
    replace_password(conn, actor, &user.id, new, SetBy::Owner)?;
    Ok(OwnChange::Changed(Box::new(User::find(conn, &user.id)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_that_guessing_tries_first_are_refused_with_the_reason() {
        for (bad, why) in [
            ("short", "at least 12"),
            ("            ", "only spaces"),
            ("aaaaaaaaaaaa", "repetitive"),
            ("abababababab", "repetitive"),
            ("123456789012", "consecutive"),
            ("abcdefghijklm", "consecutive"),
            ("password1234", "common password"),
            ("Password2026!", "common password"),
            ("sommer2026!!", "common password"),
            ("!Samskap2026!", "common password"),
        ] {
            let err = check_password(bad).expect_err(bad).to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
        for good in [
            "correct horse battery staple",
            "perf-password-0123456789",
            "Tromsø i mørketida 2026",
            "19283746510293",
        ] {
            assert_eq!(check_password(good), Ok(()), "{good}");
        }
    }

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let hash = hash_password("correct horse battery").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("wrong horse battery", &hash));
        assert!(!verify_password("anything", "not a hash"));
    }
}
