//! Running a wave from the browser, as an admin does it: the catalogue and survey page,
//! a file chosen in a file field and uploaded, the wave page with its schedule, reminders
//! and previews, the invitation list, the audit log, and the questionnaire preview as a
//! respondent sees it. Each page at desktop (1366 px) and phone (390 px) width: no
//! console error, styled, nothing wider than the window, no axe violation, kept as a
//! screenshot (`admin-*`).

use samskap::core::domain::UserRole;

use crate::axe;
use crate::dashboards::look_at;
use crate::demo_app::DemoApp;
use crate::driver::{Browser, artifacts_dir};
use crate::staff::sign_in;

/// Chooses `file` in the file field `css` (WebDriver types a file's path into it).
async fn choose_file(browser: &Browser, css: &str, file: &std::path::Path) {
    browser
        .find(css)
        .await
        .send_keys(&file.display().to_string())
        .await
        .unwrap_or_else(|e| panic!("choose {} in {css}: {e}", file.display()));
}

#[actix_web::test]
async fn an_admin_runs_a_wave_from_the_browser_on_a_desktop_and_a_phone() {
    let demo = DemoApp::spawn().await;
    let browser = Browser::start("admin", demo.address()).await;
    sign_in(&browser, &demo, UserRole::Admin).await;
    let wave = demo.open_wave.id.to_string();
    let instrument = demo.open_wave.instrument_id.to_string();

    // A catalogue file chosen from disk and uploaded: one new service.
    let dir = artifacts_dir().join("admin-files");
    std::fs::create_dir_all(&dir).expect("files folder");
    let catalogue = dir.join("one-service.csv");
    std::fs::write(
        &catalogue,
        "health_region,county,municipality,organisation,service_code,service_name,service_type,size_band\n\
         Helse Vest,Vestland,Bergen,Bergen kommune,UPLOAD-1,Lastet opp ACT,act,10-29\n",
    )
    .expect("write the file");
    browser.goto("/admin/catalogue?lang=en").await;
    choose_file(&browser, "#services-file", &catalogue).await;
    browser
        .click_and_load("form[action='/admin/catalogue/services'] button[type='submit']")
        .await;
    let notice = browser.text(".notice").await;
    assert!(
        notice.contains("1 services created"),
        "the upload says what it did: {notice}"
    );
    assert!(
        browser
            .path()
            .await
            .starts_with("/admin/catalogue?done=services"),
        "redirected after the upload, so reloading repeats nothing"
    );

    // Respondents invited from a file on the open wave's page.
    let list = dir.join("respondents.csv");
    std::fs::write(
        &list,
        format!(
            "service_code,role,email,language\n{},peer_worker,ny.likeperson@example.no,nb\n",
            demo.manager_service.code
        ),
    )
    .expect("write the file");
    browser.goto(&format!("/admin/waves/{wave}?lang=en")).await;
    choose_file(&browser, "#csv-file", &list).await;
    browser
        .click_and_load(&format!(
            "form[action='/admin/waves/{wave}/invite'] button[type='submit']"
        ))
        .await;
    let notice = browser.text(".notice").await;
    assert!(notice.contains("1 invitations created"), "{notice}");

    let pages = [
        ("catalogue", "/admin/catalogue?lang=en".to_owned()),
        ("waves", "/admin/waves?lang=en".to_owned()),
        ("wave", format!("/admin/waves/{wave}?lang=en")),
        ("wave-nb", format!("/admin/waves/{wave}?lang=nb")),
        (
            "invitations",
            format!("/admin/waves/{wave}/invitations?lang=en&q=ny.likeperson"),
        ),
        ("audit", "/admin/audit?lang=en&action=wave.".to_owned()),
        (
            "preview-consent",
            format!("/admin/surveys/{instrument}/preview/peer_worker?lang=nb"),
        ),
        (
            "preview-page",
            format!(
                "/admin/surveys/{instrument}/preview/manager?lang=en&page=consent&action=continue"
            ),
        ),
    ];
    let mut problems = Vec::new();
    for (slug, path) in &pages {
        for (width, height, phone) in [(1366, 900, false), (390, 844, true)] {
            browser
                .client()
                .set_window_size(width, height)
                .await
                .expect("resize the window");
            let _ = browser.console_errors().await;
            browser.goto(path).await;
            browser.screenshot(&format!("{slug}-{width}")).await;
            for e in browser.console_errors().await {
                problems.push(format!("{path} at {width} px: console error: {e}"));
            }
            problems.extend(look_at(&browser, &format!("{path} at {width} px"), phone).await);
            if !phone {
                axe::assert_accessible(&browser, slug).await;
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // What the pages say: the invitation list shows the new invitation's state, the
    // audit log the upload in words, the preview the respondent's page and its note.
    browser
        .client()
        .set_window_size(1366, 900)
        .await
        .expect("resize the window");
    browser
        .goto(&format!(
            "/admin/waves/{wave}/invitations?lang=en&q=ny.likeperson"
        ))
        .await;
    let row = browser.text("tbody tr").await;
    assert!(
        row.contains("ny.likeperson@example.no") && row.contains("Peer worker"),
        "{row}"
    );
    browser.goto("/admin/audit?lang=en").await;
    let log = browser.text("tbody").await;
    assert!(
        log.contains("Imported the service catalogue") && log.contains("Invited respondents"),
        "{log}"
    );
    browser
        .goto(&format!(
            "/admin/surveys/{instrument}/preview/manager?lang=en&page=consent&action=continue"
        ))
        .await;
    assert!(browser.text(".preview-note").await.contains("Preview"));
    assert!(
        !browser.find_all("fieldset.item").await.is_empty(),
        "the first page's questions"
    );
    browser.close().await;
}
