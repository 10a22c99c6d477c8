//! Small fixtures shared by the black-box tests.

use samskap::audit::Actor;
use samskap::db::DbConn;
use samskap::domain::Anonymity;
use samskap::models::{InstrumentRow, Wave};
use samskap::waves::{self, WaveSpec};

/// Creates and opens a linked wave called `name` on every active service, with the first
/// stored instrument, no dates and no reminders.
pub fn open_wave(conn: &mut DbConn, name: &str) -> Wave {
    let instrument = InstrumentRow::all(conn).expect("instruments").remove(0).id;
    let actor = Actor {
        user_id: None,
        label: "test".into(),
        ip: None,
    };
    let spec = WaveSpec {
        name: name.into(),
        instrument,
        anonymity: Anonymity::Linked,
        opens_at: None,
        closes_at: None,
        reminder_max: 0,
        reminder_interval_days: 0,
        email_retention_days: 30,
        service_types: Vec::new(),
    };
    let wave = waves::create(conn, &spec, &actor).expect("wave");
    waves::open(conn, &wave.id, &actor).expect("open");
    Wave::find(conn, &wave.id).expect("wave")
}
