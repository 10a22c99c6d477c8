//! A respondent answers the questionnaire in the browser: consent, every page by clicking
//! the choices and typing the numbers, review, submit; every page checked with axe.

use std::collections::BTreeMap;

use samskap::app::waves;
use samskap::core::domain::RespondentRole;
use samskap::infra::models::{Answer, Response, WaveService};

use crate::axe;
use crate::demo_app::DemoApp;
use crate::driver::Browser;

/// What to answer to each item the role is asked, by item type, from the respondent API's
/// description of the questionnaire: every scale point and both "don't know" codes occur.
async fn plan_answers(demo: &DemoApp, token: &str) -> BTreeMap<String, String> {
    let q: serde_json::Value = demo
        .app
        .get(&format!("/api/v1/respondent/{token}"))
        .await
        .json()
        .await
        .expect("the questionnaire as JSON");
    let cycle = ["0", "1", "2", "3", "4", "DK", "NA"];
    let mut n = 0;
    let mut out = BTreeMap::new();
    for page in q["pages"].as_array().expect("pages") {
        for item in page["items"].as_array().expect("items") {
            let code = item["code"].as_str().expect("code").to_owned();
            let raw = match item["type"].as_str().expect("type") {
                "scale" => {
                    n += 1;
                    cycle[n % cycle.len()].to_owned()
                }
                "year" => "2019".into(),
                "integer" => "2".into(),
                "number" => "1,5".into(),
                "percentage" => "50".into(),
                "single_choice" => item["options"][0]["code"]
                    .as_str()
                    .expect("option")
                    .to_owned(),
                "yes_no" => "yes".into(),
                "rating" => "4".into(),
                other => panic!("unexpected item type {other}"),
            };
            out.insert(code, raw);
        }
    }
    out
}

/// (value, text, missing code) as the answer should be stored.
fn expected_stored(raw: &str) -> (Option<f64>, Option<String>, Option<String>) {
    match raw {
        "DK" | "NA" | "NEVER" => (None, None, Some(raw.to_owned())),
        "yes" => (Some(1.0), None, None),
        "1,5" => (Some(1.5), None, None),
        r => r
            .parse::<f64>()
            .map_or((None, Some(r.to_owned()), None), |v| (Some(v), None, None)),
    }
}

/// The `page=` of the current address.
fn page_of(path: &str) -> Option<String> {
    path.split_once('?')?
        .1
        .split('&')
        .find_map(|kv| kv.strip_prefix("page="))
        .map(str::to_owned)
}

#[actix_web::test]
async fn a_respondent_answers_every_page_in_the_browser_and_submits() {
    let demo = DemoApp::spawn().await;
    let wave = &demo.open_wave;
    let (invitation, token) = {
        let conn = &mut demo.app.db.connect();
        let service = WaveService::for_wave(conn, &wave.id)
            .expect("wave services")
            .into_iter()
            .next()
            .expect("the open wave has services");
        waves::create_invitation(
            conn,
            &demo.keys,
            wave,
            &service.service_id,
            &RespondentRole::parse("peer_worker").expect("role"),
            "peer.worker@example.no",
            "nb",
        )
        .expect("invitation")
    };
    let plan = plan_answers(&demo, &token).await;
    let browser = Browser::start("respondent", demo.address()).await;

    // Consent: refused without the tick, with an error that says why.
    browser.goto(&format!("/s/{token}")).await;
    assert_eq!(
        browser.find_all("#consent").await.len(),
        1,
        "starts at consent"
    );
    browser.screenshot("consent").await;
    axe::assert_accessible(&browser, "the consent page").await;
    browser
        .click_and_load("button[name='action'][value='continue']")
        .await;
    assert_eq!(browser.find_all(".error-summary").await.len(), 1);
    browser.screenshot("consent-error").await;
    axe::assert_accessible(&browser, "the consent page with an error").await;
    let tick = browser
        .find("#consent")
        .await
        .rectangle()
        .await
        .expect("size");
    assert!(
        tick.2 >= 23.9 && tick.3 >= 23.9,
        "the consent box is at least 24 px: {tick:?}"
    );
    browser.click("label[for='consent']").await;
    browser
        .click_and_load("button[name='action'][value='continue']")
        .await;

    // Every page: click each choice's label, type each number, continue.
    let mut answered = BTreeMap::new();
    let mut pages = 0;
    loop {
        let path = browser.path().await;
        let Some(page) = page_of(&path) else {
            panic!(
                "not a questionnaire page: {path}\n{}",
                browser.page_text().await
            );
        };
        if page == "review" {
            break;
        }
        pages += 1;
        assert!(pages <= 20, "the questionnaire ends in review");
        let mut on_page = 0;
        for (code, raw) in &plan {
            if browser
                .find_all(&format!("[name='{code}']"))
                .await
                .is_empty()
            {
                continue;
            }
            on_page += 1;
            let number = format!("[id='item-{code}-input']");
            if browser.find_all(&number).await.is_empty() {
                browser
                    .click(&format!("label[for='item-{code}-{raw}']"))
                    .await;
                let radio = browser.find(&format!("[id='item-{code}-{raw}']")).await;
                assert!(
                    radio.is_selected().await.expect("selected"),
                    "clicking the label of {code} = {raw} selects it"
                );
                if pages == 1 && on_page == 1 {
                    // Enter on an option does not send the page (a keyboard user skipped
                    // questions this way).
                    browser
                        .client()
                        .execute("window.notReloaded = true;", Vec::new())
                        .await
                        .expect("mark the page");
                    radio.send_keys("\u{E007}").await.expect("press Enter");
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    assert_eq!(
                        browser.path().await,
                        path,
                        "Enter on an option left the page"
                    );
                    let same = browser
                        .client()
                        .execute("return window.notReloaded === true;", Vec::new())
                        .await
                        .expect("read the mark");
                    assert_eq!(
                        same,
                        serde_json::json!(true),
                        "Enter on an option sent the form"
                    );
                }
            } else {
                browser.fill(&number, raw).await;
            }
            answered.insert(code.clone(), raw.clone());
        }
        assert!(on_page > 0, "page {page} asks something");
        if pages == 1 {
            // The scale explained once, above the questions, not under each of them.
            assert_eq!(browser.find_all("details.scale-legend").await.len(), 1);
            assert!(
                browser.find_all(".option .hint").await.is_empty(),
                "no description repeated under the options"
            );
        }
        // Touch targets of at least 24 × 24 px (WCAG 2.2, 2.5.8).
        let small = browser
            .client()
            .execute(
                "return [...document.querySelectorAll('input[type=radio], input[type=checkbox]')]\
                 .map(e => e.getBoundingClientRect()).filter(r => r.width < 23.9 || r.height < 23.9).length",
                Vec::new(),
            )
            .await
            .expect("measure the options");
        assert_eq!(
            small,
            serde_json::json!(0),
            "options under 24 px on page {page}"
        );
        browser.screenshot(&format!("page-{pages}-{page}")).await;
        axe::assert_accessible(&browser, &format!("questionnaire page {page}")).await;
        browser
            .click_and_load("button[name='action'][value='continue']")
            .await;
        let next = browser.path().await;
        assert_ne!(
            page_of(&next),
            Some(page.clone()),
            "page {page} was accepted: {}",
            browser.page_text().await
        );
    }
    assert_eq!(answered, plan, "every item was on a page and answered");

    // Review, then submit.
    let review = browser.text("main").await;
    assert!(
        !review.contains("Ikke besvart"),
        "the review shows no unanswered item: {review}"
    );
    assert!(
        plan.values().any(|v| v == "1,5"),
        "the form asks a decimal number"
    );
    assert!(
        review.contains("1,5") && !review.contains("1.5"),
        "a number typed as 1,5 is shown as typed: {review}"
    );
    browser.screenshot("review").await;
    axe::assert_accessible(&browser, "the review page").await;
    browser
        .click_and_load("button[name='action'][value='submit']")
        .await;
    assert_eq!(browser.heading().await, "Takk for svarene!");
    browser.screenshot("thanks").await;
    axe::assert_accessible(&browser, "the thank-you page").await;
    browser.close().await;

    // Stored as submitted, with what was clicked and typed.
    let conn = &mut demo.app.db.connect();
    let response = Response::for_invitation(conn, &invitation.id)
        .expect("query")
        .expect("a response for the invitation");
    assert!(response.submitted_at.is_some(), "the response is submitted");
    assert!(response.consent_at.is_some(), "consent is recorded");
    let stored: BTreeMap<String, _> = Answer::for_response(conn, &response.id)
        .expect("answers")
        .into_iter()
        .map(|a| (a.item_code, (a.value, a.text_value, a.missing_code)))
        .collect();
    let want: BTreeMap<String, _> = plan
        .iter()
        .map(|(code, raw)| (code.clone(), expected_stored(raw)))
        .collect();
    assert_eq!(stored, want, "the stored answers are what was entered");
}
