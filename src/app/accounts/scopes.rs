//! Scopes: what part of the catalogue an account sees (`service:CODE`,
//! `organisation:NAME`, `region:NAME`, `wave:ID`), granted and removed with their audit
//! records, and described for people.

use diesel::prelude::*;

use crate::app::audit::{self, Actor};
use crate::core::domain::{RegionId, ScopeKind, ServiceId, UserId, UserRole, UserScopeId};
use crate::infra::db::{self, DbConn};
use crate::infra::models::{NewUserScope, Organisation, Region, Service, User, UserScope};

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
            // By id or by name: an admin types the name they see.
            ScopeKind::Wave => crate::infra::models::Wave::all(conn)?
                .into_iter()
                .find(|w| w.id.as_str() == r || w.name == r)
                .map(|w| w.id.to_string()),
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

/// Gives `user` a scope, with its audit record (`scope.add`); `None` when they had it.
pub fn grant_scope(
    conn: &mut DbConn,
    actor: &Actor,
    user: &User,
    spec: &ScopeSpec,
) -> anyhow::Result<Option<UserScopeId>> {
    let added = add_scope(conn, user, spec)?;
    if let Some(id) = &added {
        audit::record(
            conn,
            actor,
            "scope.add",
            Some(("user", user.id.as_str())),
            Some(serde_json::json!({"scope": id, "kind": spec.kind, "reference": spec.reference})),
        )?;
    }
    Ok(added)
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

/// Removes one of `user`'s scopes with its audit record (`scope.remove`, naming what the
/// scope was); `false` when `user` has no such scope.
pub fn revoke_scope(
    conn: &mut DbConn,
    actor: &Actor,
    user: &UserId,
    scope: &UserScopeId,
) -> anyhow::Result<bool> {
    db::write_transaction(conn, |conn| {
        let Some(owned) = UserScope::for_user(conn, user)?
            .into_iter()
            .find(|s| &s.id == scope)
        else {
            return Ok(false);
        };
        let description = describe_scope(conn, &owned)?;
        UserScope::delete(conn, scope)?;
        audit::record(
            conn,
            actor,
            "scope.remove",
            Some(("user", user.as_str())),
            Some(serde_json::json!({ "scope": description })),
        )?;
        Ok(true)
    })
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
}
