//! Disclosure crawl: on the demo data, a manager and a policymaker follow every link they
//! can reach (dashboards, reports, CSV downloads, other waves, drill-downs) and call the
//! results API for what they may see. No number on any of them rests on fewer than k
//! respondents: every "n = N" on a page, every shown cell in a JSON response and every
//! shown row of a CSV download has N ≥ k, and a hidden cell never carries a value.

use std::collections::{BTreeSet, VecDeque};

use samskap::core::domain::{ScopeKind, UserRole};
use samskap::tools::demo::{self, DemoOptions};
use serde_json::Value;

use crate::auth_helpers::{create_user, signed_in};
use crate::helpers::spawn_app;

/// The threshold the app runs with here (the default).
const K: u64 = 5;
/// Enough for everything a manager or a policymaker of one health region can reach.
const MAX_PAGES: usize = 400;

fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|l| l.replace("&amp;", "&"))
        .filter(|l| l.starts_with('/') && !l.starts_with("//"))
        .filter(|l| !l.starts_with("/static/") && !l.starts_with("/s/") && !l.contains("lang="))
        .collect()
}

fn check_page(url: &str, html: &str) -> usize {
    let mut seen = 0;
    for piece in html.split("n = ").skip(1) {
        let digits: String = piece.chars().take_while(char::is_ascii_digit).collect();
        if let Ok(n) = digits.parse::<u64>() {
            assert!(n >= K, "{url}: a number on n = {n} < {K}");
            seen += 1;
        }
    }
    seen
}

/// Every `{"status": …}` object: shown ones have n ≥ k, hidden ones have no value or n.
fn check_json(url: &str, v: &Value) -> usize {
    let mut seen = 0;
    match v {
        Value::Object(map) => {
            match map.get("status").and_then(Value::as_str) {
                Some("shown") => {
                    let n = map.get("n").and_then(Value::as_u64).unwrap_or(0);
                    assert!(n >= K, "{url}: a shown cell on n = {n}: {v}");
                    seen += 1;
                }
                Some("suppressed" | "empty") => {
                    assert!(
                        !map.contains_key("value") && !map.contains_key("n"),
                        "{url}: a hidden cell carries numbers: {v}"
                    );
                }
                _ => {}
            }
            // Counts of people: exact only from k (or none at all).
            if let Some(n) = map.get("exact").and_then(Value::as_u64) {
                assert!(n == 0 || n >= K, "{url}: a count of {n} people: {v}");
            }
            for child in map.values() {
                seen += check_json(url, child);
            }
        }
        Value::Array(items) => {
            for child in items {
                seen += check_json(url, child);
            }
        }
        _ => {}
    }
    seen
}

/// A page's tables as a spreadsheet (`format=spreadsheet`): sections of a title, a header
/// and rows, `;`- or `,`-separated. Every count of people (an `n` column, invited,
/// answered) is 0 or at least k.
fn check_sheet(url: &str, text: &str) -> usize {
    let people = |h: &str| {
        h == "n"
            || h.starts_with("n (")
            || ["Invited", "Answered", "Invitert", "Svart"].contains(&h)
    };
    let mut seen = 0;
    for section in text.trim_start_matches('\u{feff}').split("\n\n") {
        let mut lines = section.lines();
        let _title = lines.next();
        let Some(header) = lines.next() else { continue };
        let delimiter = if header.contains(';') { b';' } else { b',' };
        let body: String = std::iter::once(header)
            .chain(lines)
            .collect::<Vec<_>>()
            .join("\n");
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .from_reader(body.as_bytes());
        let columns: Vec<usize> = reader
            .headers()
            .expect("a header row")
            .iter()
            .enumerate()
            .filter(|(_, h)| people(h))
            .map(|(i, _)| i)
            .collect();
        for row in reader.records() {
            let row = row.expect("a row");
            for &c in &columns {
                if let Some(n) = row.get(c).and_then(|v| v.parse::<u64>().ok()) {
                    assert!(n == 0 || n >= K, "{url}: a count of {n} people: {row:?}");
                    seen += 1;
                }
            }
        }
    }
    seen
}

fn check_csv(url: &str, text: &str) -> usize {
    if url.contains("format=spreadsheet") {
        let seen = check_sheet(url, text);
        return seen;
    }
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name);
    let mut seen = 0;
    // Aggregates: `status, n, mean, …`.
    if let (Some(status), Some(n), Some(mean)) = (column("status"), column("n"), column("mean")) {
        for line in lines {
            let fields: Vec<&str> = line.split(',').collect();
            match fields.get(status).copied() {
                Some("shown") => {
                    let count: u64 = fields[n].parse().unwrap_or(0);
                    assert!(count >= K, "{url}: a shown row on n = {count}: {line}");
                    seen += 1;
                }
                Some(_) => assert!(
                    fields[mean].is_empty() && fields[n].parse::<u64>().unwrap_or(0) == 0,
                    "{url}: a hidden row with numbers: {line}"
                ),
                None => {}
            }
        }
        return seen;
    }
    // Psychometrics: `…, statistic, value, n`; a withheld statistic is `suppressed`.
    if let (Some(value), Some(n)) = (column("value"), column("n")) {
        for line in lines {
            let fields: Vec<&str> = line.split(',').collect();
            let count = fields.get(n).copied().unwrap_or_default();
            if fields.get(value) == Some(&"suppressed") {
                assert!(
                    count.is_empty(),
                    "{url}: a withheld statistic with n: {line}"
                );
            } else if let Ok(count) = count.parse::<u64>() {
                assert!(
                    count == 0 || count >= K,
                    "{url}: a statistic on n = {count}: {line}"
                );
                seen += 1;
            }
        }
    }
    seen
}

async fn crawl(client: &reqwest::Client, base: &str, start: &[String]) -> (usize, usize) {
    let mut queue: VecDeque<String> = start.iter().cloned().collect();
    let mut visited = BTreeSet::new();
    let mut cells = 0;
    while let Some(path) = queue.pop_front() {
        if !visited.insert(path.clone()) || visited.len() > MAX_PAGES {
            continue;
        }
        let res = client
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("get");
        let status = res.status().as_u16();
        if status == 303 {
            // `/mine` sends the reader to their own page: followed like a link.
            if let Some(to) = res.headers().get("location").and_then(|l| l.to_str().ok()) {
                queue.push_back(to.to_owned());
            }
            continue;
        }
        assert!(
            status == 200 || status == 403 || status == 404,
            "{path}: {status}"
        );
        if status != 200 {
            continue;
        }
        let kind = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = res.text().await.expect("body");
        if kind.starts_with("application/json") {
            let v: Value = serde_json::from_str(&body).expect("json");
            cells += check_json(&path, &v);
        } else if kind.starts_with("text/csv") {
            cells += check_csv(&path, &body);
        } else if kind.starts_with("text/html") {
            cells += check_page(&path, &body);
            for link in links(&body) {
                if !visited.contains(&link) {
                    queue.push_back(link);
                }
            }
        }
    }
    assert!(
        visited.len() <= MAX_PAGES + 1,
        "the crawl did not finish: raise MAX_PAGES"
    );
    (visited.len(), cells)
}

#[actix_web::test]
async fn no_output_a_manager_or_policymaker_reaches_rests_on_fewer_than_k() {
    let app = spawn_app().await;
    let (manager_service, waves) = {
        let conn = &mut app.db.connect();
        let keys = samskap::infra::crypto::DerivedKeys::new(
            &app.db.settings().secret_key().expect("secret"),
        );
        demo::load_full(conn, &keys, DemoOptions::default(), None, |_| {}).expect("demo");
        let accounts = demo::ensure_accounts(conn).expect("accounts");
        let manager = accounts
            .iter()
            .find(|a| a.role == UserRole::Manager)
            .and_then(|a| a.sees.clone())
            .expect("the demo manager's service");
        let service = samskap::infra::models::Service::all(conn)
            .expect("services")
            .into_iter()
            .find(|s| s.name == manager)
            .expect("service");
        let waves: Vec<String> = samskap::infra::models::Wave::all(conn)
            .expect("waves")
            .into_iter()
            .map(|w| w.id.to_string())
            .collect();
        (service, waves)
    };
    create_user(
        &app,
        "crawl-manager@test.no",
        UserRole::Manager,
        &[(ScopeKind::Service, &manager_service.code)],
    );
    create_user(
        &app,
        "crawl-policymaker@test.no",
        UserRole::Policymaker,
        &[(ScopeKind::Region, "Helse Vest")],
    );
    let base = app.address.clone();

    let manager = signed_in(&app, "crawl-manager@test.no").await;
    let mut start = vec!["/".to_owned(), "/api/v1/waves".to_owned()];
    for w in &waves {
        start.push(format!(
            "/api/v1/waves/{w}/services/{}/results",
            manager_service.code
        ));
        start.push(format!(
            "/api/v1/waves/{w}/services/{}/benchmarks",
            manager_service.code
        ));
    }
    let (pages, cells) = crawl(&manager, &base, &start).await;
    assert!(
        pages > 10 && cells > 20,
        "the manager's crawl saw {pages} pages, {cells} cells"
    );

    let policymaker = signed_in(&app, "crawl-policymaker@test.no").await;
    let mut start = vec!["/".to_owned()];
    for w in &waves {
        start.push(format!("/api/v1/waves/{w}/regions"));
        start.push(format!("/api/v1/waves/{w}/psychometrics"));
        start.push(format!("/waves/{w}/psychometrics.csv"));
    }
    let (pages, cells) = crawl(&policymaker, &base, &start).await;
    assert!(
        pages > 50 && cells > 100,
        "the policymaker's crawl saw {pages} pages, {cells} cells"
    );

    create_user(&app, "crawl-admin@test.no", UserRole::Admin, &[]);
    let admin = signed_in(&app, "crawl-admin@test.no").await;
    regions_keep_to_scope(&app, "Helse Vest", &admin, &policymaker, &waves).await;
}

/// The region API keeps to a policymaker's scope as the region pages do (a region
/// outside it answers 403 there): the policymaker of health region `region` gets the
/// cells of it and of the counties and municipalities inside it, and for comparison the
/// national cells and those of the other health regions, never a county or municipality
/// outside it; an admin gets every cell. The region page and its CSV show the same
/// comparison.
async fn regions_keep_to_scope(
    app: &crate::helpers::TestApp,
    region: &str,
    admin: &reqwest::Client,
    policymaker: &reqwest::Client,
    waves: &[String],
) {
    let inside: std::collections::HashSet<String> = {
        let conn = &mut app.db.connect();
        let all = samskap::infra::models::Region::all(conn).expect("regions");
        all.iter()
            .filter(|r| {
                let mut current = Some(*r);
                while let Some(c) = current {
                    if c.name == region {
                        return true;
                    }
                    current = c
                        .parent_id
                        .as_ref()
                        .and_then(|p| all.iter().find(|x| &x.id == p));
                }
                false
            })
            .map(|r| r.id.to_string())
            .collect()
    };
    assert!(inside.len() > 3, "{region} and some regions inside it");
    let cells = |client: &reqwest::Client, wave: &str| {
        let request = client.get(format!("{}/api/v1/waves/{wave}/regions", app.address));
        async move {
            let res = request.send().await.expect("regions");
            assert_eq!(res.status(), 200);
            let body: Value = res.json().await.expect("json");
            body["regions"].as_array().expect("cells").clone()
        }
    };
    let region_of = |c: &Value| c["region_id"].as_str().map(str::to_owned);
    for wave in waves {
        let everything = cells(admin, wave).await;
        assert!(
            everything
                .iter()
                .any(|c| region_of(c).is_none_or(|r| !inside.contains(&r))),
            "the admin sees cells outside {region} (else this check proves nothing)"
        );
        let theirs = cells(policymaker, wave).await;
        let allowed = |c: &Value| {
            region_of(c).is_none_or(|r| inside.contains(&r))
                || ["national", "health_region"].contains(&c["level"].as_str().unwrap_or(""))
        };
        for c in &theirs {
            assert!(allowed(c), "outside the policymaker's scope: {c}");
        }
        for level in ["national", "health_region", "county", "municipality"] {
            assert!(
                theirs.iter().any(|c| c["level"] == level),
                "the policymaker gets {level} cells"
            );
        }
        assert!(
            theirs.iter().any(|c| c["level"] == "health_region"
                && region_of(c).is_some_and(|r| !inside.contains(&r))),
            "another health region, for comparison"
        );
        let expected = everything.iter().filter(|c| allowed(c)).count();
        assert!(expected > 0, "{region} has cells in wave {wave}");
        assert_eq!(
            theirs.len(),
            expected,
            "every cell inside the scope, wave {wave}"
        );
    }
    // The page and its CSV: the country and the other health regions beside this one; a
    // county of another health region stays closed.
    let (own, other_region, other_county) = {
        let conn = &mut app.db.connect();
        let all = samskap::infra::models::Region::all(conn).expect("regions");
        let own = all.iter().find(|r| r.name == region).expect("own").clone();
        let other = all
            .iter()
            .find(|r| r.kind == own.kind && r.id != own.id)
            .expect("another health region")
            .clone();
        let county = all
            .iter()
            .find(|r| r.parent_id.as_ref() == Some(&other.id))
            .expect("a county of it")
            .clone();
        (own, other, county)
    };
    let page = policymaker
        .get(format!("{}/regions/{}", app.address, own.id))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 200);
    let page = page.text().await.expect("body");
    let context = page
        .split("id=\"context-h\"")
        .nth(1)
        .and_then(|rest| rest.split("</section>").next())
        .expect("a comparison section");
    assert!(context.contains("Norway (all services)"), "{context}");
    assert!(context.contains(&other_region.name), "{context}");
    assert!(
        !context.contains(&format!("/regions/{}", other_region.id)),
        "no link out of the scope"
    );
    let csv = policymaker
        .get(format!("{}/regions/{}/results.csv", app.address, own.id))
        .send()
        .await
        .expect("csv")
        .text()
        .await
        .expect("body");
    assert!(
        csv.contains(",national,Norway (all services),"),
        "national rows in the CSV"
    );
    assert!(csv.contains(&format!(",health_region,{},", other_region.name)));
    for closed in [&other_region, &other_county] {
        let res = policymaker
            .get(format!("{}/regions/{}", app.address, closed.id))
            .send()
            .await
            .expect("page");
        assert_eq!(res.status(), 403, "{}", closed.name);
    }
}

/// Exact arithmetic modulo a prime for the attacker's elimination (a rank that differs
/// from the rational one would need a minor to be a multiple of this prime).
const PRIME: u64 = 1_000_000_007;

fn inverse(a: u64) -> u64 {
    let (mut base, mut exp, mut acc) = (a % PRIME, PRIME - 2, 1);
    while exp > 0 {
        if exp & 1 == 1 {
            acc = acc * base % PRIME;
        }
        base = base * base % PRIME;
        exp >>= 1;
    }
    acc
}

/// Row-reduces `rows` (each over `width` unknowns) and returns the basis with pivots.
fn basis(mut rows: Vec<Vec<u64>>, width: usize) -> Vec<(usize, Vec<u64>)> {
    let mut out: Vec<(usize, Vec<u64>)> = Vec::new();
    for col in 0..width {
        let Some(p) = rows.iter().position(|r| r[col] != 0) else {
            continue;
        };
        let mut pivot = rows.swap_remove(p);
        let scale = inverse(pivot[col]);
        for v in &mut pivot {
            *v = *v * scale % PRIME;
        }
        for r in &mut rows {
            let f = r[col];
            if f != 0 {
                for (v, q) in r.iter_mut().zip(&pivot) {
                    *v = (*v + PRIME - f * q % PRIME) % PRIME;
                }
            }
        }
        out.push((col, pivot));
    }
    out
}

fn in_span(basis: &[(usize, Vec<u64>)], mut v: Vec<u64>) -> bool {
    for (col, row) in basis {
        let f = v[*col];
        if f != 0 {
            for (x, q) in v.iter_mut().zip(row) {
                *x = (*x + PRIME - f * q % PRIME) % PRIME;
            }
        }
    }
    v.iter().all(|&x| x == 0)
}

/// A published cell as the attacker reads it: which services it adds up, and whether
/// its number is known (shown, or empty) in every measure.
struct Seen {
    what: String,
    services: Vec<usize>,
    known: bool,
    hidden: bool,
}

fn status(cell: &Value) -> &str {
    cell["status"].as_str().unwrap_or_default()
}

/// Everything the widest account (an admin: every service and every region table) reads
/// from the API for the demo's waves, solved as one linear system per wave and role: no
/// suppressed cell's sum (or count) is a linear combination of shown and empty cells.
/// Trends, gaps and benchmark group statistics are checked to be made of those cells.
/// (The demo's first findings, issue 15: DPS Alver's manager cell minus the Alver
/// municipality cell gave away the lone manager of its neighbour, 73.75.)
#[actix_web::test]
async fn no_combination_of_what_the_api_publishes_determines_a_hidden_cell() {
    let app = spawn_app().await;
    let waves: Vec<(String, Vec<String>)> = {
        let conn = &mut app.db.connect();
        let keys = samskap::infra::crypto::DerivedKeys::new(
            &app.db.settings().secret_key().expect("secret"),
        );
        demo::load_full(conn, &keys, DemoOptions::default(), None, |_| {}).expect("demo");
        samskap::infra::models::Wave::all(conn)
            .expect("waves")
            .into_iter()
            .filter(|w| w.status != samskap::core::domain::WaveStatus::Draft)
            .map(|w| {
                let codes = samskap::infra::models::WaveService::for_wave(conn, &w.id)
                    .expect("services")
                    .into_iter()
                    .map(|s| s.service_code)
                    .collect();
                (w.id.to_string(), codes)
            })
            .collect()
    };
    assert!(waves.len() >= 2, "the demo has waves to compare");
    create_user(&app, "attacker@test.no", UserRole::Admin, &[]);
    let admin = signed_in(&app, "attacker@test.no").await;
    let get = |path: String| {
        let admin = admin.clone();
        let url = format!("{}{path}", app.address);
        async move {
            let res = admin.get(&url).send().await.expect("get");
            assert_eq!(res.status(), 200, "{url}");
            res.json::<Value>().await.expect("json")
        }
    };
    let mut published: Vec<(String, Vec<Value>, Value)> = Vec::new();
    for (wave, codes) in &waves {
        let mut services = Vec::new();
        for code in codes {
            let r = get(format!("/api/v1/waves/{wave}/services/{code}/results")).await;
            services.push(r["service"].clone());
        }
        let regions = get(format!("/api/v1/waves/{wave}/regions")).await;
        published.push((wave.clone(), services, regions));
    }

    let mut hidden_checked = 0;
    for (wave, services, regions) in &published {
        let cells = regions["regions"].as_array().expect("region cells");
        let phases: Vec<String> = services[0]["roles"][0]["phases"]
            .as_array()
            .expect("phases")
            .iter()
            .map(|p| p["phase"].as_str().expect("code").to_owned())
            .collect();
        for (r, role) in ["manager", "peer_worker"].iter().enumerate() {
            let mut seen: Vec<Seen> = Vec::new();
            // One status per cell for every measure: the systems of all measures have the
            // same known and unknown cells, so one system per role stands for all.
            let fold = |statuses: Vec<&str>, what: &str| -> (bool, bool) {
                let hidden = statuses.iter().filter(|s| **s == "suppressed").count();
                assert!(
                    hidden == 0 || hidden == statuses.len(),
                    "{wave} {what}: some measures hidden, others not: {statuses:?}"
                );
                (hidden == 0, hidden > 0)
            };
            for (i, s) in services.iter().enumerate() {
                let cell = &s["roles"][r];
                let statuses: Vec<&str> = cell["phases"]
                    .as_array()
                    .expect("phases")
                    .iter()
                    .map(|p| status(&p["stats"]))
                    .chain(std::iter::once(status(&cell["index"])))
                    .collect();
                let what = format!("{} {role}", s["code"]);
                let (known, hidden) = fold(statuses, &what);
                seen.push(Seen {
                    what,
                    services: vec![i],
                    known,
                    hidden,
                });
            }
            let mut by_key: std::collections::BTreeMap<(String, String, String), Vec<&str>> =
                std::collections::BTreeMap::new();
            for c in cells.iter().filter(|c| c["role"] == *role) {
                by_key
                    .entry((
                        c["level"].as_str().expect("level").to_owned(),
                        c["region_id"].as_str().unwrap_or_default().to_owned(),
                        c["service_type"].as_str().unwrap_or_default().to_owned(),
                    ))
                    .or_default()
                    .push(status(&c["stats"]));
            }
            for ((level, region, service_type), statuses) in by_key {
                assert_eq!(statuses.len(), phases.len() + 1, "every measure published");
                let members: Vec<usize> = services
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| match level.as_str() {
                        "national" => true,
                        "health_region" => s["health_region_id"] == region.as_str(),
                        "county" => s["county_id"] == region.as_str(),
                        _ => s["municipality_id"] == region.as_str(),
                    })
                    .filter(|(_, s)| {
                        service_type.is_empty() || s["service_type"] == service_type.as_str()
                    })
                    .map(|(i, _)| i)
                    .collect();
                let what = format!("{level} {region} {service_type} {role}");
                let (known, hidden) = fold(statuses, &what);
                seen.push(Seen {
                    what,
                    services: members,
                    known,
                    hidden,
                });
            }
            // Services whose own cell is known are constants: the unknowns are the rest.
            let mut column = vec![None; services.len()];
            let mut width = 0;
            for (i, c) in seen.iter().take(services.len()).enumerate() {
                if !c.known {
                    column[i] = Some(width);
                    width += 1;
                }
            }
            let row = |set: &[usize]| {
                let mut v = vec![0u64; width];
                for c in set.iter().filter_map(|&s| column[s]) {
                    v[c] = 1;
                }
                v
            };
            let known = basis(
                seen.iter()
                    .filter(|c| c.known)
                    .map(|c| row(&c.services))
                    .filter(|r| r.iter().any(|&x| x != 0))
                    .collect(),
                width,
            );
            for c in seen.iter().filter(|c| c.hidden) {
                hidden_checked += 1;
                assert!(
                    !in_span(&known, row(&c.services)),
                    "{wave}: {} is determined by the shown cells",
                    c.what
                );
            }

            // Benchmarks: group statistics are region cells, with their decisions.
            let index_cells: std::collections::HashMap<(String, String, String), &Value> = cells
                .iter()
                .filter(|c| c["role"] == *role && c["measure"] == "index")
                .map(|c| {
                    (
                        (
                            c["level"].as_str().unwrap_or_default().to_owned(),
                            c["region_id"].as_str().unwrap_or_default().to_owned(),
                            c["service_type"].as_str().unwrap_or_default().to_owned(),
                        ),
                        c,
                    )
                })
                .collect();
            for s in services {
                for b in s["benchmarks"].as_array().expect("benchmarks") {
                    if b["role"] != *role {
                        continue;
                    }
                    let (level, region, service_type) = match b["group"].as_str() {
                        Some("service_type") => {
                            ("national", "", b["group_key"].as_str().unwrap_or_default())
                        }
                        Some("national") => ("national", "", ""),
                        Some(level) => (level, b["group_key"].as_str().unwrap_or_default(), ""),
                        None => panic!("a benchmark without a group"),
                    };
                    let cell = index_cells
                        .get(&(level.to_owned(), region.to_owned(), service_type.to_owned()))
                        .expect("the group's region cell");
                    assert_eq!(b["group_stats"], cell["stats"], "{wave} {} {b}", s["code"]);
                }
            }
        }

        // Trends: shown only where both waves' cells are, their current value the cell's.
        for s in services {
            for t in s["trends"].as_array().into_iter().flatten() {
                if t["change"]["status"] != "shown" {
                    continue;
                }
                let r = s["roles"]
                    .as_array()
                    .expect("roles")
                    .iter()
                    .position(|x| x["role"] == t["role"])
                    .expect("the trend's role");
                let cell = if t["measure"] == "index" {
                    &s["roles"][r]["index"]
                } else {
                    let p = phases
                        .iter()
                        .position(|p| t["measure"] == p.as_str())
                        .expect("phase");
                    &s["roles"][r]["phases"][p]["stats"]
                };
                assert_eq!(
                    status(cell),
                    "shown",
                    "{wave} {}: a trend of a hidden cell",
                    s["code"]
                );
                assert_eq!(t["change"]["value"]["current"], cell["value"]["mean"]);
            }
            // Gaps (every pair of roles) only between shown cells; participation below k
            // never exact.
            let roles = s["roles"].as_array().expect("roles");
            for g in s["gaps"].as_array().expect("gaps") {
                if g["gap"]["status"] == "shown" {
                    let p = phases
                        .iter()
                        .position(|p| g["phase"] == p.as_str())
                        .expect("phase");
                    for side in ["first", "second"] {
                        let role = roles
                            .iter()
                            .find(|r| r["role"] == g[side])
                            .expect("the gap's role");
                        assert_eq!(status(&role["phases"][p]["stats"]), "shown");
                    }
                }
            }
            for p in s["participation"].as_array().expect("participation") {
                for key in ["invited", "answered"] {
                    if let Some(n) = p[key]["exact"].as_u64() {
                        assert!(n == 0 || n >= K, "{wave} {}: {key} = {n} < {K}", s["code"]);
                    }
                }
                if !p["response_rate"].is_null() {
                    assert!(p["answered"]["exact"].as_u64().is_some_and(|n| n >= K));
                }
            }
        }
    }
    assert!(
        hidden_checked > 100,
        "only {hidden_checked} hidden cells checked"
    );

    // Box plots: a region's box is drawn only when its own index cell is shown, and
    // under its own name (issue 15: county pages drew boxes for hidden municipalities,
    // under their neighbours' names).
    let regions_by_name: std::collections::HashMap<String, (String, String)> = {
        let conn = &mut app.db.connect();
        samskap::infra::models::Region::all(conn)
            .expect("regions")
            .into_iter()
            .map(|r| (r.name, (r.id.to_string(), r.kind.as_str().to_owned())))
            .collect()
    };
    let mut boxes_seen = 0;
    for ((wave, _, regions), role) in published
        .iter()
        .flat_map(|p| ["manager", "peer_worker"].map(|r| (p, r)))
    {
        let cells = regions["regions"].as_array().expect("cells");
        let shown_index = |level: &str, id: &str| {
            cells.iter().any(|c| {
                c["level"] == level
                    && c["region_id"] == id
                    && c["role"] == role
                    && c["measure"] == "index"
                    && c["service_type"].is_null()
                    && c["stats"]["status"] == "shown"
            })
        };
        let counties: BTreeSet<&str> = cells
            .iter()
            .filter(|c| c["level"] == "county")
            .filter_map(|c| c["region_id"].as_str())
            .collect();
        for county in counties {
            let html = admin
                .get(format!(
                    "{}/regions/{county}?wave={wave}&role={role}&lang=en",
                    app.address
                ))
                .send()
                .await
                .expect("get")
                .text()
                .await
                .expect("page");
            let Some(start) = html.find("id=\"dist-h\"") else {
                continue;
            };
            let section = &html[start..];
            let section = &section[..section.find("</section>").unwrap_or(section.len())];
            let Some(figure) = section.find("<figure").map(|f| &section[f..]) else {
                continue;
            };
            let Some(table) = figure.split("<tbody>").nth(1) else {
                continue;
            };
            let svg = figure.split("<details").next().unwrap_or_default();
            for row in table.split("<tr>").skip(1) {
                let name = row
                    .split("<th scope=\"row\">")
                    .nth(1)
                    .and_then(|r| r.split("</th>").next())
                    .expect("a row name");
                let shown: usize = row
                    .split("<td>")
                    .nth(1)
                    .and_then(|r| r.split("</td>").next())
                    .and_then(|n| n.parse().ok())
                    .expect("services shown");
                let (id, level) = regions_by_name.get(name).expect("a region's name");
                if shown > 0 {
                    boxes_seen += 1;
                    assert!(
                        shown_index(level, id),
                        "{county}: a box for {name}, whose own cell is hidden"
                    );
                } else {
                    assert!(
                        !svg.contains(&format!(">{name}<")),
                        "{county}: {name} has no box but its name is on the chart's axis"
                    );
                }
            }
        }
    }
    assert!(boxes_seen > 0, "no box plot drawn at all");
}
