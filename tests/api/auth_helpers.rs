//! Accounts and signed-in clients for the access-control tests.

use samskap::app::accounts::{self, ScopeSpec};
use samskap::core::domain::{ScopeKind, UserRole};
use samskap::infra::models::User;

use crate::helpers::TestApp;

pub const PASSWORD: &str = "correct horse battery staple";

/// Creates a user directly in the test database.
pub fn create_user(
    app: &TestApp,
    email: &str,
    role: UserRole,
    scopes: &[(ScopeKind, &str)],
) -> User {
    let conn = &mut app.db.connect();
    let user = accounts::create_user(conn, email, "", role, PASSWORD).expect("create user");
    for (kind, reference) in scopes {
        accounts::add_scope(
            conn,
            &user,
            &ScopeSpec {
                kind: *kind,
                reference: (*reference).to_owned(),
            },
        )
        .expect("scope");
    }
    user
}

/// A browser: keeps cookies, does not follow redirects.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        // The server closes a connection idle for 5 s (actix's keep-alive): a client
        // that kept it longer would send its next request into a closing socket after
        // a long computation between requests (IncompleteMessage).
        .pool_idle_timeout(std::time::Duration::from_secs(2))
        .build()
        .expect("client")
}

/// The CSRF token in a page's forms.
pub fn csrf_in(html: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker).expect("page has a CSRF field") + marker.len();
    html[start..start + 64].to_owned()
}

/// Fetches a page and returns its CSRF token.
pub async fn csrf(app: &TestApp, client: &reqwest::Client, path: &str) -> String {
    csrf_at(&app.address, client, path).await
}

/// [`csrf`] on the server at `address`.
async fn csrf_at(address: &str, client: &reqwest::Client, path: &str) -> String {
    let html = client
        .get(format!("{address}{path}"))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    csrf_in(&html)
}

/// Signs in and returns the response.
pub async fn try_login(
    app: &TestApp,
    client: &reqwest::Client,
    email: &str,
    password: &str,
) -> reqwest::Response {
    try_login_at(&app.address, client, email, password).await
}

/// [`try_login`] on the server at `address`.
async fn try_login_at(
    address: &str,
    client: &reqwest::Client,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let token = csrf_at(address, client, "/login").await;
    client
        .post(format!("{address}/login"))
        .form(&[
            ("_csrf", token.as_str()),
            ("email", email),
            ("password", password),
        ])
        .send()
        .await
        .expect("post login")
}

/// A browser signed in as `email`.
pub async fn signed_in(app: &TestApp, email: &str) -> reqwest::Client {
    signed_in_at(&app.address, email).await
}

/// POSTs a form with the client's current CSRF token (taken from /me or /login).
pub async fn post_form(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let html = client
        .get(format!("{}/login", app.address))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    let token = csrf_in(&html);
    let mut form: Vec<(&str, &str)> = vec![("_csrf", token.as_str())];
    form.extend_from_slice(fields);
    client
        .post(format!("{}{path}", app.address))
        .form(&form)
        .send()
        .await
        .expect("post")
}

/// Posts a `multipart/form-data` form as a browser sends a form with a file field: the
/// CSRF token, `fields`, and `file` as the field `file` (a file name with its text; `None`
/// is the field left empty, which browsers still send).
pub async fn post_upload(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    fields: &[(&str, &str)],
    file: Option<(&str, &str)>,
) -> reqwest::Response {
    let html = client
        .get(format!("{}/login", app.address))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    let mut form = reqwest::multipart::Form::new().text("_csrf", csrf_in(&html));
    for (k, v) in fields {
        form = form.text((*k).to_owned(), (*v).to_owned());
    }
    let (name, text) = file.unwrap_or(("", ""));
    let part = reqwest::multipart::Part::bytes(text.as_bytes().to_vec())
        .file_name(name.to_owned())
        .mime_str("text/csv")
        .expect("mime");
    form = form.part("file", part);
    client
        .post(format!("{}{path}", app.address))
        .multipart(form)
        .send()
        .await
        .expect("post")
}

/// A browser signed in as `email` on the server at `address` (a second instance on the
/// same database, say).
pub async fn signed_in_at(address: &str, email: &str) -> reqwest::Client {
    let client = browser();
    let res = try_login_at(address, &client, email, PASSWORD).await;
    assert_eq!(res.status(), 303, "sign-in as {email} succeeds");
    client
}
