//! Running a wave from the browser without the command line: the service catalogue and
//! the survey file uploaded, each role's questionnaire previewed, respondents invited
//! from an uploaded CSV file, and the invitation list with each link's state.

use samskap::core::domain::{UserRole, WaveId};
use samskap::infra::models::{InstrumentRow, Invitation, Service};

use crate::auth_helpers::{create_user, post_form, post_upload, signed_in};
use crate::helpers::{TestApp, spawn_app_with};

const CATALOGUE: &str = "health_region,county,municipality,organisation,service_code,service_name,service_type,size_band\n\
Helse Vest,Vestland,Bergen,Bergen kommune,BGO-1,Bergen ACT,act,10-29\n\
Helse Vest,Vestland,Bergen,Bergen kommune,BGO-2,Bergen rus,tsb,1-9\n\
Helse Nord,Troms,Tromsø,Tromsø kommune,TOS-1,Tromsø psykisk helse,municipal,30-99\n";

async fn page(app: &TestApp, client: &reqwest::Client, path: &str) -> (u16, String) {
    let res = client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .expect("get");
    (res.status().as_u16(), res.text().await.expect("body"))
}

/// The page a 303 leads to.
async fn followed(app: &TestApp, client: &reqwest::Client, res: reqwest::Response) -> String {
    assert_eq!(res.status(), 303, "an action redirects");
    let to = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    page(app, client, &to).await.1
}

#[actix_web::test]
async fn a_wave_is_set_up_and_invited_from_uploaded_files_and_previewed() {
    let app = spawn_app_with(|_| {}).await;
    // Files are for signed-in staff: a public form refuses a multipart body.
    let anonymous = crate::auth_helpers::browser();
    let res = post_upload(
        &app,
        &anonymous,
        "/login",
        &[("email", "a@b.no")],
        Some(("x.csv", "x")),
    )
    .await;
    assert_eq!(res.status(), 400);
    create_user(&app, "admin@test.no", UserRole::Admin, &[]);
    let admin = signed_in(&app, "admin@test.no").await;
    let (status, html) = page(&app, &admin, "/admin/catalogue?lang=en").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("enctype=\"multipart/form-data\""),
        "a file form"
    );

    // A catalogue with problems: every line named, nothing stored.
    let bad = CATALOGUE
        .replace(",act,", ",hospital,")
        .replace("TOS-1", "");
    let res = post_upload(
        &app,
        &admin,
        "/admin/catalogue/services?lang=en",
        &[],
        Some(("services.csv", &bad)),
    )
    .await;
    assert_eq!(res.status(), 400);
    let html = res.text().await.expect("body");
    assert!(html.contains("Nothing was imported"), "{html}");
    assert!(
        html.contains("file:2: ") && html.contains("hospital"),
        "{html}"
    );
    assert!(
        html.contains("file:4: "),
        "the empty code is named by line: {html}"
    );
    assert!(
        Service::all(&mut app.db.connect())
            .expect("services")
            .is_empty()
    );
    // No file chosen (the browser still sends the empty field).
    let res = post_upload(&app, &admin, "/admin/catalogue/services?lang=en", &[], None).await;
    assert_eq!(res.status(), 400);
    assert!(
        res.text()
            .await
            .expect("body")
            .contains("Choose a file first.")
    );
    // A good file: imported, the page says what it did; again: nothing changes.
    let res = post_upload(
        &app,
        &admin,
        "/admin/catalogue/services?lang=en",
        &[],
        Some(("services.csv", CATALOGUE)),
    )
    .await;
    let html = followed(&app, &admin, res).await;
    assert!(
        html.contains("3 services created, 0 updated, 0 unchanged"),
        "{html}"
    );
    let res = post_upload(
        &app,
        &admin,
        "/admin/catalogue/services?lang=en",
        &[],
        Some(("services.csv", CATALOGUE)),
    )
    .await;
    assert!(
        followed(&app, &admin, res)
            .await
            .contains("0 services created, 0 updated, 3 unchanged")
    );
    assert_eq!(
        Service::all(&mut app.db.connect()).expect("services").len(),
        3
    );

    // The survey file: a broken one names its line; the shipped one (stored when the
    // server started) is already there; changed content under a stored version is
    // refused; a new version is stored.
    let stored_before = InstrumentRow::all(&mut app.db.connect())
        .expect("rows")
        .len();
    let survey = std::fs::read_to_string("surveys/peer-involvement.toml").expect("survey file");
    let broken = survey.replacen("version = \"2.0.0\"", "version = ", 1);
    let res = post_upload(
        &app,
        &admin,
        "/admin/catalogue/surveys?lang=en",
        &[],
        Some(("s.toml", &broken)),
    )
    .await;
    assert_eq!(res.status(), 400);
    let html = res.text().await.expect("body");
    assert!(
        html.contains("Nothing was stored") && html.contains("file:"),
        "{html}"
    );
    let res = post_upload(
        &app,
        &admin,
        "/admin/catalogue/surveys?lang=en",
        &[],
        Some(("s.toml", &survey)),
    )
    .await;
    assert!(
        followed(&app, &admin, res)
            .await
            .contains("peer-involvement 2.0.0 was already stored with exactly this content")
    );
    let changed = survey.replacen("Peer worker involvement", "Peer involvement", 1);
    let res = post_upload(
        &app,
        &admin,
        "/admin/catalogue/surveys?lang=en",
        &[],
        Some(("s.toml", &changed)),
    )
    .await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.expect("body").contains("bump"));
    assert_eq!(
        InstrumentRow::all(&mut app.db.connect())
            .expect("rows")
            .len(),
        stored_before,
        "nothing stored"
    );
    let newer = changed.replacen("version = \"2.0.0\"", "version = \"2.1.0\"", 1);
    let res = post_upload(
        &app,
        &admin,
        "/admin/catalogue/surveys?lang=en",
        &[],
        Some(("s.toml", &newer)),
    )
    .await;
    assert!(
        followed(&app, &admin, res)
            .await
            .contains("Stored peer-involvement 2.1.0")
    );
    let instrument = InstrumentRow::all(&mut app.db.connect())
        .expect("rows")
        .into_iter()
        .find(|r| r.version == "2.1.0")
        .expect("the new version")
        .id;

    // The preview: each role and language is listed, and pages move with GET only.
    let (_, html) = page(&app, &admin, "/admin/catalogue?lang=en").await;
    let html = html.replace("&#x3D;", "=");
    let base = format!("/admin/surveys/{instrument}/preview");
    for href in [
        "manager?lang=nb",
        "manager?lang=en",
        "peer_worker?lang=nb",
        "peer_worker?lang=en",
    ] {
        assert!(html.contains(&format!("{base}/{href}")), "{href} listed");
    }
    let (status, consent) = page(&app, &admin, &format!("{base}/peer_worker?lang=en")).await;
    assert_eq!(status, 200);
    assert!(
        consent.contains("Preview: this is what respondents see"),
        "{consent}"
    );
    assert!(
        consent.contains("Your manager will never see your answers"),
        "the role's own intro"
    );
    assert!(
        consent.contains("method=\"get\"") && !consent.contains("name=\"_csrf\""),
        "nothing posts"
    );
    let (_, first) = page(
        &app,
        &admin,
        &format!("{base}/peer_worker?lang=nb&page=consent&action=continue"),
    )
    .await;
    assert!(
        first.contains("name=\"A1\"") && first.contains("Forhåndsvisning"),
        "the first phase in bokmål"
    );
    let (_, second) = page(
        &app,
        &admin,
        &format!("{base}/peer_worker?lang=en&page=A&action=continue&A1=3"),
    )
    .await;
    assert!(
        second.contains("name=\"B1\"") && !second.contains("checked"),
        "nothing chosen is kept"
    );
    let (_, review) = page(&app, &admin, &format!("{base}/manager?lang=en&page=review")).await;
    assert!(
        review.contains("value=\"submit\""),
        "the review page, as respondents see it"
    );
    let (_, end) = page(
        &app,
        &admin,
        &format!("{base}/manager?lang=en&page=review&action=submit"),
    )
    .await;
    assert!(end.contains("Start the preview again"), "{end}");
    assert_eq!(
        page(&app, &admin, &format!("{base}/boss?lang=en")).await.0,
        404
    );
    assert_eq!(
        page(&app, &admin, "/admin/surveys/nope/preview/manager")
            .await
            .0,
        404
    );

    // A wave from the uploaded catalogue and survey, opened and invited from a file.
    let created = post_form(
        &app,
        &admin,
        "/admin/waves",
        &[
            ("name", "Uploaded wave"),
            ("instrument", instrument.as_str()),
            ("anonymity", "linked"),
            ("closes", ""),
            ("reminders", "1"),
            ("reminder_days", "7"),
            ("retention_days", "90"),
        ],
    )
    .await;
    assert_eq!(created.status(), 303);
    let wave = WaveId::from_string(
        created.headers()["location"]
            .to_str()
            .expect("ascii")
            .trim_start_matches("/admin/waves/"),
    );
    let opened = post_form(
        &app,
        &admin,
        &format!("/admin/waves/{wave}/open"),
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(opened.status(), 303);
    let invite = format!("/admin/waves/{wave}/invite?lang=en");
    let res = post_upload(&app, &admin, &invite, &[("csv", "")], None).await;
    assert_eq!(res.status(), 400);
    assert!(
        res.text()
            .await
            .expect("body")
            .contains("Choose a CSV file or paste the list")
    );
    let list = "\u{feff}service_code,role,email,language\r\nBGO-1,manager,leder@example.no,nb\r\nBGO-1,peer_worker,peer@example.no,en\r\nTOS-1,peer_worker,likeperson@example.no,nb\r\n";
    let bad = list.replace("TOS-1", "NOPE");
    let res = post_upload(
        &app,
        &admin,
        &invite,
        &[("csv", "")],
        Some(("list.csv", &bad)),
    )
    .await;
    assert_eq!(res.status(), 400);
    let html = res.text().await.expect("body");
    assert!(
        html.contains("file:4: &#x60;service_code&#x60; &quot;NOPE&quot;"),
        "{html}"
    );
    assert!(
        Invitation::for_wave(&mut app.db.connect(), &wave)
            .expect("inv")
            .is_empty()
    );
    // The file wins over text left in the box.
    let res = post_upload(
        &app,
        &admin,
        &invite,
        &[("csv", "ignored")],
        Some(("list.csv", list)),
    )
    .await;
    assert!(
        followed(&app, &admin, res)
            .await
            .contains("3 invitations created and queued.")
    );

    // The invitation list: who, which service, the link's state; never an answer.
    let (status, html) = page(
        &app,
        &admin,
        &format!("/admin/waves/{wave}/invitations?lang=en"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains("Showing 1–3 of 3."), "{html}");
    for needle in [
        "leder@example.no",
        "likeperson@example.no",
        "Bergen ACT",
        "TOS-1",
    ] {
        assert!(html.contains(needle), "{needle} in {html}");
    }
    let (_, html) = page(
        &app,
        &admin,
        &format!("/admin/waves/{wave}/invitations?lang=en&q=tos-"),
    )
    .await;
    assert!(
        html.contains("Showing 1–1 of 1.") && html.contains("likeperson@"),
        "search by code: {html}"
    );
    let (_, html) = page(
        &app,
        &admin,
        &format!("/admin/waves/{wave}/invitations?lang=en&status=submitted&q="),
    )
    .await;
    assert!(
        html.contains("Showing 0–0 of 0.") && !html.contains("leder@"),
        "{html}"
    );
    assert_eq!(
        page(
            &app,
            &admin,
            &format!("/admin/waves/{wave}/invitations?status=gone")
        )
        .await
        .0,
        400
    );
    // The preview stored nothing: no response exists.
    let conn = &mut app.db.connect();
    for inv in Invitation::for_wave(conn, &wave).expect("inv") {
        assert!(
            samskap::infra::models::Response::for_invitation(conn, &inv.id)
                .expect("r")
                .is_none()
        );
    }
}
