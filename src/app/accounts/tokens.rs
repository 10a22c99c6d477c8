//! API tokens: made for their owner and shown once, stored only as a hash, revoked by
//! their owner; each change with its audit record.

use diesel::prelude::*;
use sha2::{Digest as _, Sha256};

use crate::app::audit::{self, Actor};
use crate::core::domain::{ApiTokenId, UserId};
use crate::infra::db::{self, DbConn, schema};
use crate::infra::models::{ApiToken, ApiTokenChanges, NewApiToken, User};

/// An API token works this long after it is made; then a new one must be created.
pub const TOKEN_LIFETIME_DAYS: i64 = 90;
/// Prefix of API tokens, so leaked tokens are recognisable by secret scanners.
pub const TOKEN_PREFIX: &str = "samskap_";

/// SHA-256 of a token, as stored. Tokens carry 256 random bits, so a fast hash is enough.
pub fn token_hash(token: &str) -> String {
    crate::infra::crypto::hex(&Sha256::digest(token.as_bytes()))
}

/// A new API token: shown once, stored only as its hash.
pub fn generate_token() -> String {
    format!(
        "{TOKEN_PREFIX}{}",
        crate::infra::crypto::hex(&crate::infra::crypto::random_bytes::<32>())
    )
}

/// Creates an API token for `user` with its audit record (`token.create`) and returns
/// the token text, shown once.
pub fn create_token(
    conn: &mut DbConn,
    actor: &Actor,
    user: &UserId,
    name: &str,
) -> anyhow::Result<(ApiTokenId, String)> {
    let name = name.trim();
    anyhow::ensure!(
        !name.is_empty() && name.len() <= 100,
        "name: give the token a name of 1-100 characters"
    );
    let token = generate_token();
    let id = ApiTokenId::generate();
    db::write_transaction(conn, |conn| {
        ApiToken::insert(
            conn,
            &NewApiToken {
                id: id.clone(),
                user_id: user.clone(),
                name: name.to_owned(),
                token_hash: token_hash(&token),
                created_at: db::now(),
                expires_at: Some(db::now() + chrono::Duration::days(TOKEN_LIFETIME_DAYS)),
            },
        )?;
        audit::record(
            conn,
            actor,
            "token.create",
            Some(("api_token", id.as_str())),
            Some(serde_json::json!({ "name": name })),
        )?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok((id, token))
}

/// Revokes one of `owner`'s tokens with its audit record (`token.revoke`); `false` when
/// `owner` has no such token (someone else's tokens cannot be revoked this way).
pub fn revoke_token(
    conn: &mut DbConn,
    actor: &Actor,
    owner: &UserId,
    token: &ApiTokenId,
) -> anyhow::Result<bool> {
    db::write_transaction(conn, |conn| {
        if !ApiToken::for_user(conn, owner)?
            .iter()
            .any(|t| &t.id == token)
        {
            return Ok(false);
        }
        ApiToken::update(
            conn,
            token,
            &ApiTokenChanges {
                revoked_at: Some(Some(db::now())),
                ..Default::default()
            },
        )?;
        audit::record(
            conn,
            actor,
            "token.revoke",
            Some(("api_token", token.as_str())),
            None,
        )?;
        Ok(true)
    })
}

/// The user a bearer token belongs to, if the token is valid (known, not revoked, not
/// expired, user active). Records its use.
pub fn user_for_token(conn: &mut DbConn, token: &str) -> QueryResult<Option<User>> {
    if !token.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let Some(row) = ApiToken::find_by_hash(conn, &token_hash(token))? else {
        return Ok(None);
    };
    let now = db::now();
    if row.revoked_at.is_some() || row.expires_at.is_some_and(|e| e <= now) {
        return Ok(None);
    }
    let user = User::find(conn, &row.user_id)?;
    if !user.active {
        return Ok(None);
    }
    diesel::update(schema::api_tokens::table.find(&row.id))
        .set(schema::api_tokens::last_used_at.eq(Some(now)))
        .execute(conn)?;
    Ok(Some(user))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hashed() {
        let a = generate_token();
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 64, "256 bits");
        assert_ne!(a, generate_token());
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }
}
