//! Accounts: password hashing (argon2id), API tokens, users and their scopes, and what a
//! signed-in user may see. Used by the CLI and the web layer alike.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use diesel::prelude::*;
use sha2::{Digest as _, Sha256};

use crate::core::domain::{
    ApiTokenId, RegionId, ScopeKind, ServiceId, UserId, UserRole, UserScopeId,
};
use crate::infra::db::{self, DbConn, schema};
use crate::infra::models::{
    ApiToken, NewApiToken, NewUser, NewUserScope, Organisation, Region, Service, User, UserChanges,
    UserScope,
};

/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 12;
/// An API token works this long after it is made; then a new one must be created.
pub const TOKEN_LIFETIME_DAYS: i64 = 90;
/// Prefix of API tokens, so leaked tokens are recognisable by secret scanners.
pub const TOKEN_PREFIX: &str = "samskap_";

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

/// Normalises an e-mail for storage and lookup. The address must be one the mail
/// transport can send to (`lettre::Address`, which follows RFC 5321's grammar: `a@@b.c`
/// and `ola@exa mple.no` are refused here, not when the message fails to go out), with a
/// dot in the domain (no intranet host names as recipients).
pub fn normalise_email(email: &str) -> Result<String, String> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.parse::<lettre::Address>().is_ok_and(|a| {
            let domain = a.domain();
            domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        })
        && !email.chars().any(char::is_whitespace);
    if valid {
        Ok(email)
    } else {
        Err(format!("{email:?} is not a valid e-mail address"))
    }
}

/// A scope as people write it: `service:CODE`, `organisation:NAME`, `region:NAME`, `wave:ID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeSpec {
    pub kind: ScopeKind,
    pub reference: String,
}

impl ScopeSpec {
    pub fn parse(spec: &str) -> Result<Self, String> {
        let (kind, reference) = spec
            .split_once(':')
            .ok_or_else(|| format!("{spec:?}: write a scope as KIND:REFERENCE, e.g. service:DEMO-0001 or region:Helse Vest"))?;
        let kind = ScopeKind::parse(kind.trim())?;
        let reference = reference.trim();
        if reference.is_empty() {
            return Err(format!("{spec:?}: the reference after ':' is empty"));
        }
        Ok(Self {
            kind,
            reference: reference.to_owned(),
        })
    }

    /// The id the reference names: a service by code, an organisation or region by name
    /// (or id), a wave by id.
    pub fn resolve(&self, conn: &mut DbConn) -> anyhow::Result<String> {
        let r = self.reference.as_str();
        let found = match self.kind {
            ScopeKind::Service => Service::find_by_code(conn, r)?.map(|s| s.id.to_string()),
            ScopeKind::Organisation => {
                Organisation::find_by_name(conn, r)?.map(|o| o.id.to_string())
            }
            ScopeKind::Region => Region::all(conn)?
                .into_iter()
                .find(|x| x.name == r || x.id.as_str() == r || x.code.as_deref() == Some(r))
                .map(|x| x.id.to_string()),
            ScopeKind::Wave => {
                crate::infra::models::Wave::find(conn, &crate::core::domain::WaveId::from_string(r))
                    .optional()?
                    .map(|w| w.id.to_string())
            }
        };
        found.ok_or_else(|| anyhow::anyhow!("no {} called {r:?}", self.kind))
    }
}

/// Which scope kinds make sense for a role.
pub const fn scope_kinds_for(role: UserRole) -> &'static [ScopeKind] {
    match role {
        UserRole::Admin => &[],
        UserRole::Manager => &[ScopeKind::Service, ScopeKind::Organisation],
        UserRole::Policymaker => &[ScopeKind::Region],
        UserRole::Researcher => &[ScopeKind::Wave],
    }
}

/// Creates a user. The e-mail must be new.
pub fn create_user(
    conn: &mut DbConn,
    email: &str,
    display_name: &str,
    role: UserRole,
    password: &str,
) -> anyhow::Result<User> {
    let email = normalise_email(email).map_err(|e| anyhow::anyhow!("email: {e}"))?;
    check_password(password).map_err(|e| anyhow::anyhow!("password: {e}"))?;
    anyhow::ensure!(
        User::find_by_email(conn, &email)?.is_none(),
        "email: an account for {email} already exists"
    );
    let now = db::now();
    let id = UserId::generate();
    User::insert(
        conn,
        &NewUser {
            id: id.clone(),
            email: email.clone(),
            display_name: if display_name.trim().is_empty() {
                email.clone()
            } else {
                display_name.trim().to_owned()
            },
            role,
            password_hash: hash_password(password)?,
            active: true,
            created_at: now,
            updated_at: now,
        },
    )?;
    Ok(User::find(conn, &id)?)
}

/// A new account, as the admin page and `samskap user add` describe it.
#[derive(Debug, Clone, Copy)]
pub struct NewAccount<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub role: UserRole,
    pub password: &'a str,
    pub scopes: &'a [ScopeSpec],
}

/// Creates an account and its scopes in one transaction, with their audit records
/// (`user.create`, a `scope.add` per scope): the one way accounts are made, from the
/// admin page and from the command line. Nothing is written when any part fails.
pub fn add_account(
    conn: &mut DbConn,
    actor: &crate::app::audit::Actor,
    new: &NewAccount<'_>,
) -> anyhow::Result<User> {
    db::write_transaction(conn, |conn| {
        let user = create_user(conn, new.email, new.display_name, new.role, new.password)?;
        crate::app::audit::record(
            conn,
            actor,
            "user.create",
            Some(("user", user.id.as_str())),
            Some(serde_json::json!({"email": user.email, "role": new.role})),
        )?;
        for spec in new.scopes {
            grant_scope(conn, actor, &user, spec)?;
        }
        Ok(user)
    })
}

/// Gives `user` a scope, with its audit record (`scope.add`); `None` when they had it.
pub fn grant_scope(
    conn: &mut DbConn,
    actor: &crate::app::audit::Actor,
    user: &User,
    spec: &ScopeSpec,
) -> anyhow::Result<Option<UserScopeId>> {
    let added = add_scope(conn, user, spec)?;
    if let Some(id) = &added {
        crate::app::audit::record(
            conn,
            actor,
            "scope.add",
            Some(("user", user.id.as_str())),
            Some(serde_json::json!({"scope": id, "kind": spec.kind, "reference": spec.reference})),
        )?;
    }
    Ok(added)
}

/// What an admin may change of an account.
#[derive(Debug, Clone)]
pub struct AccountChanges {
    /// Empty: keep the name.
    pub display_name: String,
    pub role: UserRole,
    pub active: bool,
}

/// Why an account change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChangeRefusal {
    /// Admins cannot disable themselves or give up their own admin role: the last admin
    /// would lock everyone out.
    #[error("you cannot disable yourself or remove your own admin role")]
    NotSelf,
}

/// Changes an account's name, role and whether it may sign in, with its audit record
/// (`user.update`), in one transaction. `by` is the admin asking.
pub fn update_account(
    conn: &mut DbConn,
    actor: &crate::app::audit::Actor,
    by: &UserId,
    target: &UserId,
    changes: &AccountChanges,
) -> anyhow::Result<Result<(), ChangeRefusal>> {
    if by == target && (!changes.active || changes.role != UserRole::Admin) {
        return Ok(Err(ChangeRefusal::NotSelf));
    }
    db::write_transaction(conn, |conn| {
        let before = User::find(conn, target)?;
        let name = changes.display_name.trim();
        User::update(
            conn,
            target,
            &UserChanges {
                display_name: Some(name.to_owned()).filter(|n| !n.is_empty()),
                role: Some(changes.role),
                active: Some(changes.active),
                updated_at: Some(db::now()),
                ..Default::default()
            },
        )?;
        crate::app::audit::record(
            conn,
            actor,
            "user.update",
            Some(("user", target.as_str())),
            Some(serde_json::json!({
                "role": {"from": before.role, "to": changes.role},
                "active": {"from": before.active, "to": changes.active},
            })),
        )?;
        Ok(Ok(()))
    })
}

/// Sets a new password (which ends the user's sessions).
pub fn set_password(conn: &mut DbConn, user: &UserId, password: &str) -> anyhow::Result<()> {
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

/// Grants a scope; refuses kinds that do not fit the role. Returns the new scope's id,
/// or `None` when it was already granted.
pub fn add_scope(
    conn: &mut DbConn,
    user: &User,
    spec: &ScopeSpec,
) -> anyhow::Result<Option<UserScopeId>> {
    anyhow::ensure!(
        scope_kinds_for(user.role).contains(&spec.kind),
        "scope: the role {} cannot have {} scopes (allowed: {})",
        user.role,
        spec.kind,
        if scope_kinds_for(user.role).is_empty() {
            "none, admins see everything".to_owned()
        } else {
            scope_kinds_for(user.role)
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    let scope_id = spec.resolve(conn)?;
    let existing = UserScope::for_user(conn, &user.id)?;
    if existing
        .iter()
        .any(|s| s.scope_kind == spec.kind && s.scope_id == scope_id)
    {
        return Ok(None);
    }
    let id = UserScopeId::generate();
    UserScope::insert(
        conn,
        &NewUserScope {
            id: id.clone(),
            user_id: user.id.clone(),
            scope_kind: spec.kind,
            scope_id,
            created_at: db::now(),
        },
    )?;
    Ok(Some(id))
}

/// Creates an API token for `user` and returns the token text (shown once).
pub fn create_token(
    conn: &mut DbConn,
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
    Ok((id, token))
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

/// What a signed-in user may see, resolved once per request.
#[derive(Debug, Clone)]
pub struct Access {
    pub user: User,
    pub scopes: Vec<UserScope>,
}

impl Access {
    pub fn load(conn: &mut DbConn, user: User) -> QueryResult<Self> {
        let scopes = UserScope::for_user(conn, &user.id)?;
        Ok(Self { user, scopes })
    }

    fn has(&self, kind: ScopeKind, id: &str) -> bool {
        self.scopes
            .iter()
            .any(|s| s.scope_kind == kind && s.scope_id == id)
    }

    /// Consented microdata of a wave: admins, and researchers granted the wave.
    pub fn can_export_wave(&self, wave: &crate::core::domain::WaveId) -> bool {
        match self.user.role {
            UserRole::Admin => true,
            UserRole::Researcher => self.has(ScopeKind::Wave, wave.as_str()),
            UserRole::Manager | UserRole::Policymaker => false,
        }
    }

    /// Admins and policymakers read every wave's psychometrics (whole-wave statistics,
    /// gated like every cell); a researcher only those of the waves they may export.
    /// Managers never reach the routes.
    pub fn can_read_psychometrics(&self, wave: &crate::core::domain::WaveId) -> bool {
        match self.user.role {
            UserRole::Admin | UserRole::Policymaker => true,
            UserRole::Researcher => self.can_export_wave(wave),
            UserRole::Manager => false,
        }
    }

    /// Admins see every service; managers the services in their service or organisation
    /// scopes; policymakers the services in their regions.
    pub fn can_see_service(&self, service: &Service) -> bool {
        match self.user.role {
            UserRole::Admin => true,
            UserRole::Manager => {
                self.has(ScopeKind::Service, service.id.as_str())
                    || self.has(ScopeKind::Organisation, service.organisation_id.as_str())
            }
            UserRole::Policymaker => [
                &service.health_region_id,
                &service.county_id,
                &service.municipality_id,
            ]
            .iter()
            .any(|r| self.has(ScopeKind::Region, r.as_str())),
            UserRole::Researcher => false,
        }
    }

    /// Admins see every region; policymakers their regions and the regions inside them.
    pub fn can_see_region(&self, region: &Region, all: &[Region]) -> bool {
        match self.user.role {
            UserRole::Admin => true,
            UserRole::Policymaker => {
                let mut current = Some(region);
                while let Some(r) = current {
                    if self.has(ScopeKind::Region, r.id.as_str()) {
                        return true;
                    }
                    current = r
                        .parent_id
                        .as_ref()
                        .and_then(|p| all.iter().find(|x| &x.id == p));
                }
                false
            }
            UserRole::Manager | UserRole::Researcher => false,
        }
    }

    /// Which region cells this user may read: the one scope rule behind the region pages,
    /// their CSV and the region API (`docs/security.md`).
    pub fn region_view(&self, all: &[Region]) -> RegionView {
        if self.user.role == UserRole::Admin {
            return RegionView {
                everything: true,
                ..RegionView::default()
            };
        }
        let detail: std::collections::HashSet<RegionId> = all
            .iter()
            .filter(|r| self.can_see_region(r, all))
            .map(|r| r.id.clone())
            .collect();
        let levels: Vec<crate::core::domain::RegionKind> = all
            .iter()
            .filter(|r| self.has(ScopeKind::Region, r.id.as_str()))
            .map(|r| r.kind)
            .collect();
        let compare = all
            .iter()
            .filter(|r| levels.contains(&r.kind) && !detail.contains(&r.id))
            .map(|r| r.id.clone())
            .collect();
        RegionView {
            everything: false,
            national: !levels.is_empty(),
            detail,
            compare,
        }
    }

    /// The services this user may see, for listing.
    pub fn visible_services(&self, conn: &mut DbConn) -> QueryResult<Vec<Service>> {
        Ok(Service::all(conn)?
            .into_iter()
            .filter(|s| self.can_see_service(s))
            .collect())
    }

    /// The top regions of this user's region scopes.
    pub fn scoped_regions(&self, conn: &mut DbConn) -> QueryResult<Vec<Region>> {
        let ids: Vec<RegionId> = self
            .scopes
            .iter()
            .filter(|s| s.scope_kind == ScopeKind::Region)
            .map(|s| RegionId::from_string(s.scope_id.clone()))
            .collect();
        ids.iter().map(|id| Region::find(conn, id)).collect()
    }
}

/// Human description of a stored scope, in English, for the CLI and the API.
pub fn describe_scope(conn: &mut DbConn, scope: &UserScope) -> QueryResult<String> {
    describe_scope_in(conn, scope, "en")
}

/// Human description of a stored scope in `lang` (see [`crate::infra::i18n`]), for the staff
/// pages: "region: Helse Vest (health region)".
pub fn describe_scope_in(conn: &mut DbConn, scope: &UserScope, lang: &str) -> QueryResult<String> {
    use crate::infra::i18n::fill;
    let id = scope.scope_id.as_str();
    let name = match scope.scope_kind {
        ScopeKind::Service => Service::find(conn, &ServiceId::from_string(id))
            .optional()?
            .map(|s| format!("{} ({})", s.name, s.code)),
        ScopeKind::Organisation => Organisation::all(conn)?
            .into_iter()
            .find(|o| o.id.as_str() == id)
            .map(|o| o.name),
        ScopeKind::Region => Region::find(conn, &RegionId::from_string(id))
            .optional()?
            .map(|r| {
                let kind = fill(lang, &format!("region.level_{}", r.kind.as_str()), &[]);
                format!("{} ({kind})", r.name)
            }),
        ScopeKind::Wave => {
            crate::infra::models::Wave::find(conn, &crate::core::domain::WaveId::from_string(id))
                .optional()?
                .map(|w| w.name)
        }
    };
    Ok(format!(
        "{}: {}",
        fill(lang, &format!("scope.{}", scope.scope_kind.as_str()), &[]),
        name.unwrap_or_else(|| fill(lang, "scope.gone", &[("id", id)]))
    ))
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

    #[test]
    fn tokens_are_long_random_and_hashed() {
        let a = generate_token();
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 64, "256 bits");
        assert_ne!(a, generate_token());
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }

    #[test]
    fn scope_specs_parse() {
        assert_eq!(
            ScopeSpec::parse("region:Helse Vest").expect("valid"),
            ScopeSpec {
                kind: ScopeKind::Region,
                reference: "Helse Vest".into()
            }
        );
        assert!(ScopeSpec::parse("galaxy:x").is_err());
        assert!(ScopeSpec::parse("service:").is_err());
        assert!(ScopeSpec::parse("nocolon").is_err());
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalise_email(" Ola@Example.NO ").expect("valid"),
            "ola@example.no"
        );
        for good in [
            "kari.nordmann+samskap@helse-vest.no",
            "o'neil@example.co.uk",
        ] {
            assert_eq!(normalise_email(good).as_deref(), Ok(good));
        }
        for bad in [
            "",
            "ola",
            "ola@",
            "@example.no",
            "ola@example",
            "o la@example.no",
            "a@@b.c",
            "ola@exa..mple.no",
            "ola@example.no@x.no",
            "ola..nordmann@example.no",
        ] {
            assert!(normalise_email(bad).is_err(), "{bad}");
        }
    }
}

/// The region cells one user may read (from [`Access::region_view`]). A policymaker sees
/// their own areas and everything inside them in full detail, and for comparison the
/// national figures and the other areas at their own areas' level (the Helse Vest
/// policymaker: the other health regions, not their counties or municipalities). Every
/// cell is one the gate published for everybody's union, so a comparison shows nothing
/// the gate did not already release.
#[derive(Debug, Clone, Default)]
pub struct RegionView {
    everything: bool,
    national: bool,
    detail: std::collections::HashSet<RegionId>,
    compare: std::collections::HashSet<RegionId>,
}

impl RegionView {
    /// Whether a cell of `region` (`None`: the national cell) may be read.
    pub fn shows(&self, region: Option<&RegionId>) -> bool {
        self.everything
            || match region {
                None => self.national,
                Some(id) => self.detail.contains(id) || self.compare.contains(id),
            }
    }

    /// Whether `region`'s own page (its detail, the areas inside it) may be read.
    pub fn in_detail(&self, region: &RegionId) -> bool {
        self.everything || self.detail.contains(region)
    }

    /// The areas shown for comparison only (empty for an admin, who sees every page).
    pub fn compared(&self) -> &std::collections::HashSet<RegionId> {
        &self.compare
    }
}
