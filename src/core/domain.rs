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

text_enum!(
    /// Who answers a questionnaire form.
    RespondentRole ("respondent role") {
        Manager => "manager",
        PeerWorker => "peer_worker",
    }
);

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
