use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::core::domain::{RegionId, RegionKind};
use crate::infra::db::DbConn;
use crate::infra::db::schema::regions;

/// A health region, county or municipality.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable, serde::Serialize)]
#[diesel(table_name = regions)]
pub struct Region {
    pub id: RegionId,
    pub kind: RegionKind,
    pub name: String,
    /// Official number where known (county "46", municipality "4601").
    pub code: Option<String>,
    pub parent_id: Option<RegionId>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = regions, treat_none_as_default_value = false)]
pub struct NewRegion {
    pub id: RegionId,
    pub kind: RegionKind,
    pub name: String,
    pub code: Option<String>,
    pub parent_id: Option<RegionId>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = regions)]
pub struct RegionChanges {
    pub name: Option<String>,
    pub code: Option<Option<String>>,
}

impl Region {
    pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Self>> {
        regions::table
            .order((regions::kind, regions::name))
            .select(Self::as_select())
            .load(conn)
    }

    pub fn of_kind(conn: &mut DbConn, kind: RegionKind) -> QueryResult<Vec<Self>> {
        regions::table
            .filter(regions::kind.eq(kind))
            .order(regions::name)
            .select(Self::as_select())
            .load(conn)
    }

    pub fn find(conn: &mut DbConn, id: &RegionId) -> QueryResult<Self> {
        regions::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
    }

    /// The region of `kind` called `name` under `parent` (`None` for health regions).
    pub fn find_by_name(
        conn: &mut DbConn,
        kind: RegionKind,
        parent: Option<&RegionId>,
        name: &str,
    ) -> QueryResult<Option<Self>> {
        let mut query = regions::table
            .filter(regions::kind.eq(kind))
            .filter(regions::name.eq(name))
            .select(Self::as_select())
            .into_boxed();
        query = match parent {
            Some(parent) => query.filter(regions::parent_id.eq(parent.clone())),
            None => query.filter(regions::parent_id.is_null()),
        };
        query.first(conn).optional()
    }

    pub fn insert(conn: &mut DbConn, new: &NewRegion) -> QueryResult<()> {
        diesel::insert_into(regions::table)
            .values(new)
            .execute(conn)
            .map(drop)
    }

    pub fn update(conn: &mut DbConn, id: &RegionId, changes: &RegionChanges) -> QueryResult<()> {
        diesel::update(regions::table.find(id))
            .set(changes)
            .execute(conn)
            .map(drop)
    }

    pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
        regions::table.count().get_result(conn)
    }
}
