//! Closed sets of codes and typed ids shared by the whole app. Each is stored as TEXT and
//! mirrored by a CHECK constraint in the migrations.

use crate::core::sql_text::{text_enum, typed_id};

/// Default minimum number of respondents behind any number shown.
pub const DEFAULT_MIN_CELL: u32 = 5;
/// Below this, suppression no longer protects individuals; refused outright.
pub const MIN_CELL_FLOOR: u32 = 3;

typed_id!(
    /// A row of `regions` (health region, county or municipality).
    RegionId
);
typed_id!(
    /// A row of `organisations`.
    OrganisationId
);
typed_id!(
    /// A row of `services`.
    ServiceId
);
typed_id!(
    /// A stored instrument version.
    InstrumentId
);
typed_id!(
    /// A survey wave.
    WaveId
);
typed_id!(
    /// A one-time invitation to answer a wave.
    InvitationId
);
typed_id!(
    /// One respondent's response in one wave.
    ResponseId
);
typed_id!(
    /// A login account.
    UserId
);
typed_id!(
    /// A granted scope of a user.
    UserScopeId
);
typed_id!(
    /// An API token (the token itself is never stored).
    ApiTokenId
);

text_enum!(
    /// Level in the regional hierarchy: health region → county → municipality.
    RegionKind ("region kind") {
        HealthRegion => "health_region",
        County => "county",
        Municipality => "municipality",
    }
);

impl RegionKind {
    /// The kind a region of this kind must have as its parent.
    pub const fn parent_kind(self) -> Option<Self> {
        match self {
            Self::HealthRegion => None,
            Self::County => Some(Self::HealthRegion),
            Self::Municipality => Some(Self::County),
        }
    }
}

text_enum!(
    /// Kinds of mental-health and substance-use services.
    ServiceType ("service type") {
        /// District psychiatric centre.
        Dps => "dps",
        /// Psychiatric ward in a hospital.
        HospitalWard => "hospital_ward",
        /// Child and adolescent mental-health outpatient clinic.
        Bup => "bup",
        /// Specialised interdisciplinary substance-use treatment.
        Tsb => "tsb",
        /// Municipal mental-health and substance-use service.
        Municipal => "municipal",
        /// ACT or FACT team.
        Act => "act",
        /// Low-threshold service.
        LowThreshold => "low_threshold",
    }
);

impl ServiceType {
    /// Human-readable name in English.
    pub const fn label_en(self) -> &'static str {
        match self {
            Self::Dps => "District psychiatric centre (DPS)",
            Self::HospitalWard => "Hospital psychiatric ward",
            Self::Bup => "Child and adolescent outpatient clinic (BUP)",
            Self::Tsb => "Specialised substance-use treatment (TSB)",
            Self::Municipal => "Municipal mental-health and substance-use service",
            Self::Act => "ACT/FACT team",
            Self::LowThreshold => "Low-threshold service",
        }
    }
}

text_enum!(
    /// Staff size of a service, in people.
    SizeBand ("size band") {
        Small => "1-9",
        Medium => "10-29",
        Large => "30-99",
        VeryLarge => "100+",
    }
);

/// Who answers a questionnaire form: the code of a role the survey file declares
/// (`[roles.manager]`, `[roles.peer_worker]`, `[roles.staff]`, …). Roles are not a closed
/// set in code: a new perspective needs only a survey file. The code is checked for its
/// form here and in the database (a CHECK on `invitations` and `responses`); whether the
/// wave's instrument declares it is checked where a role enters (the respondent list,
/// the survey file).
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
// Shared, not copied: a publication names the role of every cell, gap, trend and
// benchmark (hundreds of thousands of them in a national wave), and each clone of an
// `Arc` is a count, not an allocation.
pub struct RespondentRole(std::sync::Arc<str>);

impl RespondentRole {
    /// Longest role code: it becomes part of variable names in the research exports
    /// (`a1_peer_worker`), which SPSS and Stata keep to 64 and 32 characters.
    pub const MAX_LEN: usize = 24;

    /// The role with this code: a lower-case letter, then lower-case letters, digits and
    /// `_`, at most [`Self::MAX_LEN`] characters.
    pub fn parse(code: &str) -> Result<Self, String> {
        let mut chars = code.chars();
        let well_formed = chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && code.len() <= Self::MAX_LEN;
        if well_formed {
            Ok(Self(code.into()))
        } else {
            Err(format!(
                "{code:?} is not a valid respondent role: a role code starts with a lower-case letter and has only lower-case letters, digits and _ (at most {} characters), e.g. peer_worker",
                Self::MAX_LEN
            ))
        }
    }

    /// The stored code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RespondentRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for RespondentRole {
    type Err = String;
    fn from_str(code: &str) -> Result<Self, String> {
        Self::parse(code)
    }
}

impl PartialEq<str> for RespondentRole {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl schemars::JsonSchema for RespondentRole {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RespondentRole".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[a-z][a-z0-9_]{0,23}$",
            "description": "A respondent role declared by the wave's survey file, e.g. manager, peer_worker, staff."
        })
    }
}

impl serde::Serialize for RespondentRole {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for RespondentRole {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        Self::parse(&code).map_err(serde::de::Error::custom)
    }
}

impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for RespondentRole
where
    DB: diesel::backend::Backend,
    str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
{
    fn to_sql<'b>(
        &'b self,
        out: &mut diesel::serialize::Output<'b, '_, DB>,
    ) -> diesel::serialize::Result {
        <str as diesel::serialize::ToSql<diesel::sql_types::Text, DB>>::to_sql(&self.0, out)
    }
}

impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for RespondentRole
where
    DB: diesel::backend::Backend,
    String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
{
    fn from_sql(
        bytes: <DB as diesel::backend::Backend>::RawValue<'_>,
    ) -> diesel::deserialize::Result<Self> {
        let code =
            <String as diesel::deserialize::FromSql<diesel::sql_types::Text, DB>>::from_sql(bytes)?;
        Self::parse(&code).map_err(Into::into)
    }
}

text_enum!(
    /// What an account may do; see docs/security.md, "Roles and scopes".
    UserRole ("user role") {
        Admin => "admin",
        Manager => "manager",
        Policymaker => "policymaker",
        Researcher => "researcher",
    }
);

text_enum!(
    /// What a user scope points at.
    ScopeKind ("scope kind") {
        Service => "service",
        Organisation => "organisation",
        Region => "region",
        Wave => "wave",
    }
);

text_enum!(
    /// Life cycle of a wave.
    WaveStatus ("wave status") {
        Draft => "draft",
        Open => "open",
        Closed => "closed",
    }
);

text_enum!(
    /// Whether a wave follows the same person across waves.
    Anonymity ("anonymity mode") {
        /// Responses carry a panel pseudonym (keyed hash of the e-mail).
        Linked => "linked",
        /// Responses keep no link to the invitation.
        Anonymous => "anonymous",
    }
);

text_enum!(
    /// Where an invitation stands.
    InvitationStatus ("invitation status") {
        Pending => "pending",
        Sent => "sent",
        Started => "started",
        Submitted => "submitted",
        Withdrawn => "withdrawn",
        Failed => "failed",
    }
);

text_enum!(
    /// Delivery state of an outbox message.
    OutboxStatus ("outbox status") {
        Pending => "pending",
        Sending => "sending",
        Sent => "sent",
        Failed => "failed",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_code_is_a_lower_case_name() {
        for good in ["manager", "peer_worker", "staff", "s2", "a"] {
            assert_eq!(
                RespondentRole::parse(good).map(|r| r.to_string()),
                Ok(good.to_owned())
            );
        }
        let longest = "a".repeat(RespondentRole::MAX_LEN);
        assert!(RespondentRole::parse(&longest).is_ok());
        for bad in [
            "",
            "Manager",
            "peer-worker",
            "2nd",
            "_x",
            "peer worker",
            "æ",
            &format!("{longest}a"),
        ] {
            let error = RespondentRole::parse(bad).expect_err(bad);
            assert!(error.contains("not a valid respondent role"), "{error}");
        }
        let from_json: Result<RespondentRole, _> = serde_json::from_str("\"Staff\"");
        assert!(from_json.is_err());
    }
}
