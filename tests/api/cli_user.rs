use std::io::Write as _;
use std::process::Stdio;

use crate::helpers::{TestDb, stderr, stdout};

#[test]
fn user_add_with_scopes_list_and_passwd() {
    let db = TestDb::new();
    assert!(db.samskap(&["demo", "--services", "30"]).status.success());
    let out = db.samskap(&[
        "user",
        "add",
        "--email",
        "Leder@Example.no",
        "--role",
        "manager",
        "--scope",
        "service:DEMO-0001",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("Created leder@example.no (manager)."),
        "{text}"
    );
    let password = text
        .lines()
        .find_map(|l| l.strip_prefix("Password (shown once): "))
        .expect("password printed");
    assert!(password.len() >= 12);

    let list = stdout(&db.samskap(&["user", "list"]));
    assert!(
        list.contains("leder@example.no")
            && list.contains("service: ")
            && list.contains("(DEMO-0001)"),
        "{list}"
    );

    let conn = &mut db.connect();
    let user = samskap::infra::models::User::find_by_email(conn, "leder@example.no")
        .expect("q")
        .expect("user");
    assert!(samskap::app::accounts::verify_password(
        password,
        &user.password_hash
    ));

    let mut child = db
        .command(&[
            "user",
            "passwd",
            "--email",
            "leder@example.no",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"a much better password\n")
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    let user = samskap::infra::models::User::find_by_email(conn, "leder@example.no")
        .expect("q")
        .expect("user");
    assert!(samskap::app::accounts::verify_password(
        "a much better password",
        &user.password_hash
    ));

    let actions: Vec<String> = samskap::infra::models::AuditEntry::recent(conn, 3)
        .expect("audit")
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["user.password", "scope.add", "user.create"]);
}

#[test]
fn user_add_names_what_is_wrong() {
    let db = TestDb::new();
    let out = db.samskap(&["user", "add", "--email", "a@b.no", "--role", "boss"]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let err = stderr(&out);
    assert!(
        err.contains("invalid value 'boss' for '--role <ROLE>'"),
        "{err}"
    );
    assert!(
        err.contains("admin, manager, policymaker, researcher"),
        "names the choices: {err}"
    );
    let help = db.samskap(&["user", "add", "--help"]);
    assert!(
        String::from_utf8_lossy(&help.stdout)
            .contains("[possible values: admin, manager, policymaker, researcher]"),
        "--help lists the roles"
    );

    let out = db.samskap(&["user", "add", "--email", "not-an-email", "--role", "admin"]);
    assert!(
        stderr(&out).contains("email: \"not-an-email\" is not a valid e-mail address"),
        "{}",
        stderr(&out)
    );

    let out = db.samskap(&[
        "user",
        "add",
        "--email",
        "a@b.no",
        "--role",
        "policymaker",
        "--scope",
        "region:Atlantis",
    ]);
    assert!(
        stderr(&out).contains("no region called \"Atlantis\""),
        "{}",
        stderr(&out)
    );
    let conn = &mut db.connect();
    assert!(
        samskap::infra::models::User::find_by_email(conn, "a@b.no")
            .expect("q")
            .is_none(),
        "nothing half-created"
    );

    let out = db.samskap(&[
        "user", "add", "--email", "c@b.no", "--role", "admin", "--scope", "wave:x",
    ]);
    assert!(
        stderr(&out).contains("scope: the role admin cannot have wave scopes"),
        "{}",
        stderr(&out)
    );
}
