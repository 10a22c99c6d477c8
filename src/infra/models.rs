//! One file per table: the row (`Queryable`), the insert form (`New…`), the changes form
//! (`…Changes`), and the table's queries as associated functions returning
//! `diesel::QueryResult`. No business rules live here.

pub mod analytics_cache;
pub mod answer;
pub mod api_token;
pub mod audit_log;
pub mod instrument;
pub mod invitation;
pub mod organisation;
pub mod outbox;
pub mod region;
pub mod response;
pub mod service;
pub mod user;
pub mod user_scope;
pub mod wave;
pub mod wave_service;

pub use analytics_cache::{AnalyticsCacheEntry, NewAnalyticsCacheEntry};
pub use answer::{Answer, AnswerChanges, NewAnswer};
pub use api_token::{ApiToken, ApiTokenChanges, NewApiToken};
pub use audit_log::{AuditEntry, NewAuditEntry};
pub use instrument::{InstrumentRow, NewInstrument};
pub use invitation::{Invitation, InvitationChanges, NewInvitation};
pub use organisation::{NewOrganisation, Organisation, OrganisationChanges};
pub use outbox::{NewOutboxMessage, OutboxChanges, OutboxMessage};
pub use region::{NewRegion, Region, RegionChanges};
pub use response::{NewResponse, Response, ResponseChanges};
pub use service::{NewService, Service, ServiceChanges};
pub use user::{NewUser, User, UserChanges};
pub use user_scope::{NewUserScope, UserScope};
pub use wave::{NewWave, Wave, WaveChanges};
pub use wave_service::{NewWaveService, WaveService};
