//! What a signed-in user may see: the one place the scope rules are read
//! (`docs/security.md`).

use diesel::prelude::*;

use crate::core::domain::{RegionId, ScopeKind, UserRole};
use crate::infra::db::DbConn;
use crate::infra::models::{Region, Service, User, UserScope};

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

    /// Where the user starts after signing in: a manager at their service and a
    /// policymaker at their area (when there is exactly one; the start page lists
    /// several), a researcher at the exports, an admin at the waves.
    ///
    /// # Errors
    /// When the database cannot be read.
    pub fn landing(&self, conn: &mut DbConn) -> QueryResult<String> {
        Ok(match self.user.role {
            UserRole::Manager => match self.visible_services(conn)?.as_slice() {
                [one] => format!("/services/{}", one.code),
                _ => "/".to_owned(),
            },
            UserRole::Policymaker => match self.scoped_regions(conn)?.as_slice() {
                [one] => format!("/regions/{}", one.id),
                _ => "/".to_owned(),
            },
            UserRole::Researcher => "/exports".to_owned(),
            UserRole::Admin => "/admin/waves".to_owned(),
        })
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
