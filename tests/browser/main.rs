//! Real-browser tests: headless Chromium driven through chromedriver (WebDriver) against
//! the real app on a real socket, each test with a fresh database holding the demo
//! dataset the way `samskap serve --demo` loads it. Every page visited is saved as a PNG
//! under `target/browser-artifacts/`, and pages are checked with axe-core for WCAG 2.1
//! A and AA violations.
//!
//! Needs Debian's `chromium` and `chromium-driver` packages and `npm ci` (axe-core, pinned
//! in `package.json`); `.ci/run` installs all three. A missing one fails the tests with a
//! message naming it.

#[expect(
    dead_code,
    reason = "shared with tests/api; this binary uses part of it"
)]
#[path = "../api/helpers.rs"]
mod helpers;

#[expect(
    dead_code,
    reason = "shared with tests/api; this binary uses part of it"
)]
#[path = "../api/auth_helpers.rs"]
mod auth_helpers;

mod accessibility;
mod admin;
mod axe;
mod dashboards;
mod demo_app;
mod driver;
mod respondent;
mod staff;
