//! A freshly started app with the demo dataset and demo accounts, loaded as
//! `samskap serve --demo` loads them.

use samskap::app::accounts::Access;
use samskap::core::domain::{UserRole, WaveStatus};
use samskap::infra::crypto::DerivedKeys;
use samskap::infra::models::{Service, User, Wave};
use samskap::tools::demo::{self, DemoAccount, DemoOptions};

use crate::helpers::{TestApp, spawn_app_with};

pub struct DemoApp {
    pub app: TestApp,
    pub keys: DerivedKeys,
    /// One per role, with the password `ensure_accounts` gave it.
    pub accounts: Vec<DemoAccount>,
    /// The demo manager's user id.
    pub manager_id: String,
    /// The demo manager's service, and one they may not see.
    pub manager_service: Service,
    pub other_service: Service,
    /// The demo policymaker's region: (id, name).
    pub region: (String, String),
    /// The demo's open wave.
    pub open_wave: Wave,
}

impl DemoApp {
    pub async fn spawn() -> Self {
        let app = spawn_app_with(|_| {}).await;
        let keys = DerivedKeys::new(
            &app.db
                .settings()
                .secret_key()
                .expect("the test settings hold a key"),
        );
        let conn = &mut app.db.connect();
        // What `serve --demo` does on an empty database (commands::load_demo_if_empty).
        demo::load_full(conn, &keys, DemoOptions::default(), None, |_| {})
            .expect("the demo dataset loads");
        let accounts = demo::ensure_accounts(conn).expect("demo accounts");

        let access = |conn: &mut samskap::infra::db::DbConn, role: UserRole| {
            let account = accounts
                .iter()
                .find(|a| a.role == role)
                .expect("a demo account per role");
            let user = User::find_by_email(conn, &account.email)
                .expect("query")
                .expect("demo user stored");
            Access::load(conn, user).expect("scopes")
        };
        let manager = access(conn, UserRole::Manager);
        let mut mine = manager.visible_services(conn).expect("services");
        assert_eq!(mine.len(), 1, "the demo manager runs one service");
        let manager_service = mine.remove(0);
        let other_service = Service::all(conn)
            .expect("services")
            .into_iter()
            .find(|s| !manager.can_see_service(s))
            .expect("a service the manager may not see");
        let policymaker = access(conn, UserRole::Policymaker);
        let mut regions = policymaker.scoped_regions(conn).expect("regions");
        assert_eq!(regions.len(), 1, "the demo policymaker oversees one region");
        let region = regions.remove(0);
        let open_wave = Wave::all(conn)
            .expect("waves")
            .into_iter()
            .find(|w| w.status == WaveStatus::Open)
            .expect("the demo has an open wave");
        Self {
            manager_id: manager.user.id.to_string(),
            keys,
            accounts,
            manager_service,
            other_service,
            region: (region.id.to_string(), region.name),
            open_wave,
            app,
        }
    }

    pub fn address(&self) -> &str {
        &self.app.address
    }

    pub fn account(&self, role: UserRole) -> &DemoAccount {
        self.accounts
            .iter()
            .find(|a| a.role == role)
            .expect("a demo account per role")
    }
}
