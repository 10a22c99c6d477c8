//! The dashboards, region pages and the printable report as their readers see them: at
//! desktop width (1366 px) and phone width (390 px), styled under the site's
//! Content-Security-Policy, without a page that scrolls sideways, with chart text at
//! least 12 px high on the phone, box plots under their own areas' names, and the report
//! printed to A4 pages that carry the dashboard's numbers and end no page on a heading.
//! Every page is kept as a screenshot in `target/browser-artifacts/` (`dashboards-*`), the
//! printed report as `dashboards-report.pdf`.

use std::process::Command;

use fantoccini::wd::{PrintConfigurationBuilder, PrintSize};
use samskap::core::domain::{RegionKind, UserRole};
use samskap::infra::models::Region;

use crate::demo_app::DemoApp;
use crate::driver::{Browser, artifacts_dir};
use crate::staff::{sign_in, sign_out};

/// The smallest chart text a phone shows, in CSS pixels (a little slack for rounding).
const MIN_CHART_TEXT: f64 = 11.9;

/// Problems of the page as shown: unstyled, wider than the window, chart text too small
/// (on a phone), and box plots whose names are not the areas the table gives numbers.
pub async fn look_at(browser: &Browser, page: &str, phone: bool) -> Vec<String> {
    let mut problems = Vec::new();
    let report = browser
        .client()
        .execute(
            r"
            const out = {};
            out.font = getComputedStyle(document.body).fontFamily;
            out.error = document.querySelector('.error-page') !== null;
            out.overflow = document.documentElement.scrollWidth - window.innerWidth;
            out.small = [];
            out.charts = document.querySelectorAll('figure.chart svg').length;
            for (const t of document.querySelectorAll('figure.chart svg text')) {
              if (!t.textContent.trim()) continue;
              const ctm = t.getScreenCTM();
              const size = parseFloat(getComputedStyle(t).fontSize);
              // The font size in user units, scaled to screen pixels.
              const attr = parseFloat(t.getAttribute('font-size') || '0') || size;
              const px = attr * (ctm ? Math.hypot(ctm.a, ctm.b) : 1);
              if (px < arguments[0]) out.small.push(t.textContent.trim() + ' (' + px.toFixed(1) + ' px)');
            }
            const dist = document.querySelector('#distribution-cap');
            if (dist) {
              const fig = dist.closest('figure');
              const drawn = [...fig.querySelectorAll('svg text')].map(t => t.textContent.trim());
              const rows = [...fig.querySelectorAll('tbody tr')].map(r =>
                [...r.children].map(c => c.textContent.trim()));
              out.boxes = { drawn, rows };
            }
            return out;
            ",
            vec![serde_json::json!(MIN_CHART_TEXT)],
        )
        .await
        .unwrap_or_else(|e| panic!("inspect {page}: {e}"));
    if report["error"].as_bool() != Some(false) {
        problems.push(format!("{page}: an error page"));
    }
    if !report["font"]
        .as_str()
        .is_some_and(|f| f.contains("system-ui"))
    {
        problems.push(format!("{page}: unstyled (body font {})", report["font"]));
    }
    if report["overflow"].as_f64().unwrap_or(0.0) > 1.0 {
        problems.push(format!(
            "{page}: the page is {} px wider than the window",
            report["overflow"]
        ));
    }
    if phone {
        let small = report["small"].as_array().cloned().unwrap_or_default();
        if !small.is_empty() {
            problems.push(format!(
                "{page}: chart text under {MIN_CHART_TEXT} px on a phone: {small:?}"
            ));
        }
    }
    if let Some(boxes) = report.get("boxes") {
        // Each area with a median in the table has a box, and its name is drawn under
        // the chart; an area without one (hidden, or no service shown) is not drawn.
        let drawn: Vec<String> = boxes["drawn"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let shows = |name: &str| {
            drawn.iter().any(|d| {
                d == name || (d.ends_with('…') && name.starts_with(d.trim_end_matches('…')))
            })
        };
        for row in boxes["rows"].as_array().cloned().unwrap_or_default() {
            let name = row[0].as_str().unwrap_or_default();
            let median = row[2].as_str().unwrap_or_default();
            if median == "–" && shows(name) {
                problems.push(format!("{page}: {name} has no box but its name is drawn"));
            }
            if median != "–" && !shows(name) {
                problems.push(format!(
                    "{page}: {name} has a box but its name is not drawn"
                ));
            }
        }
    }
    problems
}

#[actix_web::test]
async fn dashboards_and_reports_read_well_on_a_desktop_a_phone_and_paper() {
    let demo = DemoApp::spawn().await;
    let browser = Browser::start("dashboards", demo.address()).await;
    let county = {
        let conn = &mut demo.app.db.connect();
        let mut counties: Vec<Region> = Region::all(conn)
            .expect("regions")
            .into_iter()
            .filter(|r| {
                r.kind == RegionKind::County
                    && r.parent_id
                        .as_ref()
                        .map(samskap::core::domain::RegionId::as_str)
                        == Some(demo.region.0.as_str())
            })
            .collect();
        counties.sort_by(|a, b| a.name.cmp(&b.name));
        counties.remove(0)
    };
    let service = demo.manager_service.code.clone();
    let wave = demo.open_wave.id.to_string();
    let pages: Vec<(UserRole, &str, String)> = vec![
        (UserRole::Manager, "service", format!("/services/{service}")),
        (
            UserRole::Manager,
            "service-nb",
            format!("/services/{service}?lang=nb"),
        ),
        (
            UserRole::Manager,
            "report",
            format!("/reports/{wave}/services/{service}?lang=en"),
        ),
        (
            UserRole::Policymaker,
            "region",
            format!("/regions/{}?lang=en", demo.region.0),
        ),
        (
            UserRole::Policymaker,
            "region-managers-nb",
            format!("/regions/{}?role=manager&lang=nb", demo.region.0),
        ),
        (
            UserRole::Policymaker,
            "county",
            format!("/regions/{}?lang=en", county.id),
        ),
        (UserRole::Researcher, "exports", "/exports".to_owned()),
        (
            UserRole::Admin,
            "psychometrics",
            format!("/waves/{wave}/psychometrics?lang=en"),
        ),
    ];
    // The console check can fail: an inline style, which the site's CSP refuses, is
    // reported.
    browser.goto("/login").await;
    let _ = browser.console_errors().await;
    browser
        .client()
        .execute(
            "const s = document.createElement('style'); s.textContent = 'body { outline: 0 }'; \
             document.head.appendChild(s);",
            Vec::new(),
        )
        .await
        .expect("add an inline style");
    let refused = browser.console_errors().await;
    assert!(
        refused
            .iter()
            .any(|e| e.contains("Content Security Policy")),
        "the console reports the CSP refusing an inline style: {refused:?}"
    );

    let mut problems = Vec::new();
    let mut signed_in = None;
    for (role, slug, path) in &pages {
        if signed_in != Some(*role) {
            if signed_in.is_some() {
                sign_out(&browser).await;
            }
            sign_in(&browser, &demo, *role).await;
            signed_in = Some(*role);
        }
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
        }
    }
    browser
        .client()
        .set_window_size(1366, 900)
        .await
        .expect("resize the window");

    // The region page's counts are the region's own, and its first table is named for
    // what its rows are.
    sign_out(&browser).await;
    sign_in(&browser, &demo, UserRole::Policymaker).await;
    browser
        .goto(&format!("/regions/{}?lang=en", demo.region.0))
        .await;
    let heading = browser.text("#compare-h").await;
    assert!(
        heading.contains(&demo.region.1) && heading.contains("counties"),
        "the first table's heading says its rows are the region's counties: {heading}"
    );
    let counts = browser.text("#catalogue-h + p").await;
    let (services, municipalities) = {
        let conn = &mut demo.app.db.connect();
        let all = Region::all(conn).expect("regions");
        let in_region = |id: &samskap::core::domain::RegionId| {
            let mut at = Some(id);
            while let Some(r) = at {
                if r.as_str() == demo.region.0 {
                    return true;
                }
                at = all
                    .iter()
                    .find(|x| &x.id == r)
                    .and_then(|x| x.parent_id.as_ref());
            }
            false
        };
        let services = samskap::infra::models::Service::all(conn)
            .expect("services")
            .into_iter()
            .filter(|s| in_region(&s.municipality_id))
            .count();
        let municipalities = all
            .iter()
            .filter(|r| r.kind == RegionKind::Municipality && in_region(&r.id))
            .count();
        (services, municipalities)
    };
    assert_eq!(
        counts,
        format!("{services} services in {municipalities} municipalities."),
        "the region's own counts"
    );

    // The report printed as a manager prints it: A4, the dashboard's numbers, and no
    // page that ends on a heading.
    sign_out(&browser).await;
    sign_in(&browser, &demo, UserRole::Manager).await;
    browser.goto(&format!("/services/{service}?lang=en")).await;
    let index_numbers: Vec<String> = browser
        .client()
        .execute(
            "return [...document.querySelectorAll('#index-h ~ div table tbody td:nth-child(2)')]\
             .map(e => e.textContent.replace(/\\s+/g, ' ').trim())",
            Vec::new(),
        )
        .await
        .expect("the dashboard's index")
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        !index_numbers.is_empty(),
        "the demo manager's dashboard shows an index"
    );
    browser
        .goto(&format!("/reports/{wave}/services/{service}?lang=en"))
        .await;
    let headings: Vec<String> = browser
        .client()
        .execute(
            "return [...document.querySelectorAll('h2')].map(e => e.textContent.trim())",
            Vec::new(),
        )
        .await
        .expect("the report's headings")
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let pdf = browser
        .client()
        .print(
            PrintConfigurationBuilder::default()
                .size(PrintSize::A4)
                .background(true)
                .build()
                .expect("print settings"),
        )
        .await
        .expect("print to PDF");
    let file = artifacts_dir().join("dashboards-report.pdf");
    std::fs::write(&file, &pdf).expect("keep the PDF");
    let info = run("pdfinfo", &[file.to_str().expect("path")]);
    assert!(
        info.lines()
            .any(|l| l.starts_with("Page size:") && l.contains("(A4)")),
        "the report prints on A4:\n{info}"
    );
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("a page count");
    let text = run("pdftotext", &["-layout", file.to_str().expect("path"), "-"]);
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for n in &index_numbers {
        assert!(
            flat.contains(n.as_str()),
            "the printed report carries the dashboard's index, CI and n: {n}"
        );
    }
    for (i, page) in text.split('\u{c}').enumerate().take(pages) {
        let last = page.lines().rev().find(|l| !l.trim().is_empty());
        if let Some(last) = last {
            let last = last.trim();
            assert!(
                !headings.iter().any(|h| h == last),
                "page {} of the printed report ends on the heading {last:?}",
                i + 1
            );
        }
    }
    browser.close().await;
    assert!(
        problems.is_empty(),
        "pages as shown:\n{}",
        problems.join("\n")
    );
}

/// Runs a poppler tool (Debian's `poppler-utils`, installed by `.ci/run`) for its output.
fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} (Debian's poppler-utils): {e}"));
    assert!(
        out.status.success(),
        "{program} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
