//! The analytics API against a small fixture whose statistics are computed here, by
//! straightforward code independent of the polars path.
#![expect(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    reason = "small fixture counts"
)]

use std::collections::BTreeMap;

use diesel::prelude::*;
use samskap::app::waves;
use samskap::core::domain::{RespondentRole, UserRole};
use samskap::infra::crypto::DerivedKeys;
use samskap::infra::db::schema::responses;
use samskap::infra::models::Service;
use samskap::tools::demo::{self, DemoOptions};
use serde_json::{Value, json};

use crate::auth_helpers::{create_user, signed_in};
use crate::helpers::spawn_app_with;

/// One respondent: 20 scored answers in item order A1..A5, B1..B5, C1..C5, D1..D5;
/// a number is a scale value, -2 "don't know", -3 "did not take place".
type Answers = [i32; 20];

const S1_MANAGERS: [Answers; 4] = [
    [3, 3, 2, 4, 3, 2, 2, 3, 2, 1, 4, 4, 3, 3, 4, 1, 2, 2, 1, 1],
    [2, 3, 3, 3, 2, 3, 2, 2, 3, 2, 3, 4, 4, 3, 3, 2, 1, -2, 1, 2],
    [4, 4, 3, 3, 3, 2, 3, 3, -3, 2, 4, 3, 4, 4, 4, 2, 2, 1, 2, 1],
    [3, 2, 2, 3, 3, 1, 2, 2, 2, 2, 3, 3, 3, 4, 3, 1, 1, 1, 0, 1],
];
const S1_PEERS: [Answers; 3] = [
    [1, 1, 2, 2, 1, 1, 2, 1, 1, 0, 3, 2, 2, 3, 2, 0, 1, 0, -2, 1],
    [2, 1, 1, 2, 1, 2, 1, 2, 1, 1, 3, 3, 2, 2, 2, 1, 0, 1, 1, 0],
    [0, 1, 2, -3, -3, 1, 1, 2, 2, 1, 2, 3, 3, 2, 3, 1, 1, 1, 1, 1],
];
const S2_MANAGERS: [Answers; 3] = [
    [1, 2, 1, 1, 2, 2, 2, 1, 1, 2, 2, 3, 2, 2, 3, 1, 1, 0, 1, 1],
    [2, 2, 2, 1, 1, 1, 2, 2, 2, 1, 3, 2, 2, 3, 2, 0, 1, 1, 1, 0],
    [1, 1, 1, 2, 2, 2, 1, 1, 2, 2, 2, 2, 3, 2, 2, 1, 0, 1, 0, 1],
];
const S2_PEERS: [Answers; 2] = [
    [3, 2, 2, 3, 2, 2, 3, 2, 2, 3, 3, 3, 4, 3, 3, 2, 2, 2, 1, 2],
    [2, 2, 3, 2, 2, 3, 2, 3, 2, 2, 4, 3, 3, 3, 4, 2, 1, 2, 2, 2],
];
/// Two more peer workers below k in a third service: with service 2's two, the national
/// peer cell minus service 1's would otherwise give a hidden group away, and the joint
/// gate would have to hide service 1's peers too.
const S3_PEERS: [Answers; 2] = [
    [1, 2, 2, 1, 1, 2, 1, 1, 2, 1, 2, 2, 3, 2, 2, 1, 1, 1, 0, 1],
    [2, 1, 1, 1, 2, 1, 2, 1, 1, 2, 3, 2, 2, 3, 2, 0, 1, 1, 1, 1],
];
const PHASES: [&str; 4] = ["A", "B", "C", "D"];
const K: u32 = 3;

fn item_code(i: usize) -> String {
    format!("{}{}", PHASES[i / 5], i % 5 + 1)
}

fn answers_json(a: &Answers) -> Value {
    let mut map = serde_json::Map::new();
    for (i, v) in a.iter().enumerate() {
        let value = match v {
            -2 => json!("DK"),
            -3 => json!("NA"),
            v => json!(v),
        };
        map.insert(item_code(i), value);
    }
    Value::Object(map)
}

/// Phase score by the instrument's rule: mean of the valid answers, at least 3 of 5.
fn phase_score(a: &Answers, p: usize) -> Option<f64> {
    let valid: Vec<f64> = a[p * 5..p * 5 + 5]
        .iter()
        .filter(|v| **v >= 0)
        .map(|v| f64::from(*v))
        .collect();
    (valid.len() >= 3).then(|| valid.iter().sum::<f64>() / valid.len() as f64)
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

fn var(xs: &[f64]) -> f64 {
    let m = mean(xs);
    xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() as f64 - 1.0)
}

/// t(0.975) from printed tables, for the small n of the fixture.
fn t975(df: usize) -> f64 {
    [f64::NAN, 12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469][df]
}

fn close(got: &Value, want: f64, what: &str) {
    let got = got
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: not a number: {got}"));
    assert!((got - want).abs() < 1e-3, "{what}: got {got}, want {want}");
}

/// rwg(J) by the formula, from the items' within-group variances.
fn rwg(group: &[Answers], p: usize) -> f64 {
    let vars: Vec<f64> = (0..5)
        .map(|i| {
            let xs: Vec<f64> = group
                .iter()
                .map(|a| a[p * 5 + i])
                .filter(|v| *v >= 0)
                .map(f64::from)
                .collect();
            var(&xs)
        })
        .collect();
    let s2 = mean(&vars);
    if s2 > 2.0 {
        return 0.0;
    }
    let j = 5.0;
    j * (1.0 - s2 / 2.0) / (j * (1.0 - s2 / 2.0) + s2 / 2.0)
}

fn check_role(cell: &Value, group: &[Answers], what: &str) {
    for (p, phase) in PHASES.iter().enumerate() {
        let scores: Vec<f64> = group.iter().filter_map(|a| phase_score(a, p)).collect();
        let stats = &cell["phases"][p]["stats"];
        assert_eq!(cell["phases"][p]["phase"], *phase);
        assert_eq!(stats["status"], "shown", "{what} {phase}: {stats}");
        assert_eq!(stats["n"], scores.len(), "{what} {phase} n");
        let m = mean(&scores);
        let sd = var(&scores).sqrt();
        let half = t975(scores.len() - 1) * sd / (scores.len() as f64).sqrt();
        close(&stats["value"]["mean"], m, &format!("{what} {phase} mean"));
        close(&stats["value"]["sd"], sd, &format!("{what} {phase} sd"));
        close(
            &stats["value"]["ci_low"],
            m - half,
            &format!("{what} {phase} ci"),
        );
        close(
            &stats["value"]["ci_high"],
            m + half,
            &format!("{what} {phase} ci"),
        );
        let level = [0.5, 1.5, 2.5, 3.5].iter().filter(|b| m >= **b).count();
        assert_eq!(stats["value"]["level"], level, "{what} {phase} level");
        let na = group
            .iter()
            .flat_map(|a| a[p * 5..p * 5 + 5].iter())
            .filter(|v| **v == -3)
            .count() as f64
            / (group.len() * 5) as f64;
        close(
            &stats["value"]["not_applicable_share"],
            na,
            &format!("{what} {phase} NA share"),
        );
        close(
            &stats["value"]["rwg"],
            rwg(group, p),
            &format!("{what} {phase} rwg"),
        );
    }
}

#[actix_web::test]
async fn service_results_regions_and_psychometrics_match_the_fixture() {
    let app = spawn_app_with(|s| s.min_cell = K).await;
    let (wave, s1, s2, s3) = {
        let conn = &mut app.db.connect();
        demo::load(
            conn,
            DemoOptions {
                services: 12,
                seed: 9,
            },
        )
        .expect("demo");
        let wave = crate::fixtures::open_wave(conn, "Fixture");
        let services = Service::all(conn).expect("services");
        (
            wave,
            services[0].clone(),
            services[1].clone(),
            services[2].clone(),
        )
    };
    let keys = DerivedKeys::new(&app.db.settings().secret_key().expect("secret"));
    let api = reqwest::Client::new();
    let groups: [(&Service, RespondentRole, &[Answers]); 5] = [
        (
            &s1,
            RespondentRole::parse("manager").expect("role"),
            &S1_MANAGERS,
        ),
        (
            &s1,
            RespondentRole::parse("peer_worker").expect("role"),
            &S1_PEERS,
        ),
        (
            &s2,
            RespondentRole::parse("manager").expect("role"),
            &S2_MANAGERS,
        ),
        (
            &s2,
            RespondentRole::parse("peer_worker").expect("role"),
            &S2_PEERS,
        ),
        (
            &s3,
            RespondentRole::parse("peer_worker").expect("role"),
            &S3_PEERS,
        ),
    ];
    for (g, (service, role, group)) in groups.iter().enumerate() {
        for (i, answers) in group.iter().enumerate() {
            let token = {
                let conn = &mut app.db.connect();
                waves::create_invitation(
                    conn,
                    &keys,
                    &wave,
                    &service.id,
                    role,
                    &format!("p{g}-{i}@example.no"),
                    "nb",
                )
                .expect("invitation")
                .1
            };
            let res = api
                .post(format!("{}/api/v1/respondent/{token}/submit", app.address))
                .json(&json!({"consent": true, "answers": answers_json(answers)}))
                .send()
                .await
                .expect("submit");
            assert_eq!(res.status(), 200, "{:?}", res.text().await);
            if g == 0 && i == 0 {
                // The link no longer gives the answers back once submitted.
                let after: Value = api
                    .get(format!("{}/api/v1/respondent/{token}", app.address))
                    .send()
                    .await
                    .expect("get")
                    .json()
                    .await
                    .expect("json");
                assert_eq!(after["submitted"], true);
                assert_eq!(after["answers"], json!({}), "{after}");
            }
        }
    }
    create_user(&app, "admin@test.no", UserRole::Admin, &[]);
    let admin = signed_in(&app, "admin@test.no").await;
    let get = |path: String| {
        let admin = admin.clone();
        let url = format!("{}{path}", app.address);
        async move {
            let res = admin.get(url).send().await.expect("get");
            assert_eq!(res.status(), 200);
            res.json::<Value>().await.expect("json")
        }
    };

    // Service 1: both roles shown, gaps computed and flagged by |gap| ≥ 1.
    let r1 = get(format!(
        "/api/v1/waves/{}/services/{}/results",
        wave.id, s1.code
    ))
    .await;
    let svc = &r1["service"];
    assert_eq!(r1["min_cell"], K);
    check_role(&svc["roles"][0], &S1_MANAGERS, "S1 managers");
    check_role(&svc["roles"][1], &S1_PEERS, "S1 peers");
    for (p, phase) in PHASES.iter().enumerate() {
        let m = mean(
            &S1_MANAGERS
                .iter()
                .filter_map(|a| phase_score(a, p))
                .collect::<Vec<_>>(),
        );
        let w = mean(
            &S1_PEERS
                .iter()
                .filter_map(|a| phase_score(a, p))
                .collect::<Vec<_>>(),
        );
        let gap = &svc["gaps"]
            .as_array()
            .expect("gaps")
            .iter()
            .find(|g| {
                g["phase"] == *phase && g["first"] == "manager" && g["second"] == "peer_worker"
            })
            .expect("the managers' and peer workers' gap")["gap"];
        assert_eq!(gap["status"], "shown", "{phase}");
        close(&gap["value"]["gap"], m - w, &format!("gap {phase}"));
        assert_eq!(
            gap["value"]["flagged"],
            (m - w).abs() >= 1.0,
            "flag {phase}"
        );
    }
    // Index = mean of phase scores × 25, per respondent.
    let idx: Vec<f64> = S1_MANAGERS
        .iter()
        .map(|a| {
            (0..4)
                .map(|p| phase_score(a, p).expect("scored"))
                .sum::<f64>()
                / 4.0
                * 25.0
        })
        .collect();
    close(
        &svc["roles"][0]["index"]["value"]["mean"],
        mean(&idx),
        "S1 manager index",
    );
    // Benchmarks: groups are far below 10 services with shown cells: no percentile rank.
    let national = svc["benchmarks"]
        .as_array()
        .expect("benchmarks")
        .iter()
        .find(|b| b["group"] == "national" && b["role"] == "manager")
        .expect("national benchmark");
    assert_eq!(
        national["group_size"], 2,
        "two services have a shown manager cell"
    );
    assert!(national["position"]["value"]["percentile_rank"].is_null());

    // Service 2: two peer workers, below k = 3: suppressed, and the gap with it.
    let r2 = get(format!(
        "/api/v1/waves/{}/services/{}/results",
        wave.id, s2.code
    ))
    .await;
    let peers = &r2["service"]["roles"][1];
    assert_eq!(peers["phases"][0]["stats"]["status"], "suppressed");
    assert_eq!(peers["phases"][0]["stats"]["reason"], "too_few");
    assert!(peers["phases"][0]["stats"].get("value").is_none());
    assert_eq!(r2["service"]["gaps"][0]["gap"]["status"], "suppressed");
    check_role(&r2["service"]["roles"][0], &S2_MANAGERS, "S2 managers");

    // Regions: the national peer-worker cell rolls up all seven peers, including the four
    // suppressed ones of services 2 and 3.
    let regions = get(format!(
        "/api/v1/waves/{}/regions?level=national&role=peer_worker&service_type=all&measure=A",
        wave.id
    ))
    .await;
    let cells = regions["regions"].as_array().expect("cells");
    assert_eq!(cells.len(), 1, "{regions}");
    let all_peers: Vec<f64> = S1_PEERS
        .iter()
        .chain(S2_PEERS.iter())
        .chain(S3_PEERS.iter())
        .filter_map(|a| phase_score(a, 0))
        .collect();
    assert_eq!(cells[0]["stats"]["n"], all_peers.len());
    close(
        &cells[0]["stats"]["value"]["mean"],
        mean(&all_peers),
        "national peers A",
    );
    // No shown region cell rests on fewer than k respondents.
    let every = get(format!("/api/v1/waves/{}/regions", wave.id)).await;
    for cell in every["regions"].as_array().expect("cells") {
        if cell["stats"]["status"] == "shown" {
            assert!(
                cell["stats"]["n"].as_u64().expect("n") >= u64::from(K),
                "{cell}"
            );
        }
    }

    // Psychometrics: ICC(1), ICC(2) with service as group; α on complete cases; items.
    let psy = get(format!("/api/v1/waves/{}/psychometrics", wave.id)).await;
    let everyone: Vec<(usize, &Answers)> = [
        S1_MANAGERS.iter().map(|a| (0, a)).collect::<Vec<_>>(),
        S1_PEERS.iter().map(|a| (0, a)).collect(),
        S2_MANAGERS.iter().map(|a| (1, a)).collect(),
        S2_PEERS.iter().map(|a| (1, a)).collect(),
        S3_PEERS.iter().map(|a| (2, a)).collect(),
    ]
    .concat();
    for (p, phase) in PHASES.iter().enumerate() {
        let row = &psy["psychometrics"][p];
        assert_eq!(row["phase"], *phase);
        // One-way ANOVA by hand.
        let mut groups: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
        for (s, a) in &everyone {
            if let Some(x) = phase_score(a, p) {
                groups.entry(*s).or_default().push(x);
            }
        }
        let all: Vec<f64> = groups.values().flatten().copied().collect();
        let grand = mean(&all);
        let n = all.len() as f64;
        let g = groups.len() as f64;
        let ssb: f64 = groups
            .values()
            .map(|v| v.len() as f64 * (mean(v) - grand).powi(2))
            .sum();
        let ssw: f64 = groups
            .values()
            .map(|v| {
                let m = mean(v);
                v.iter().map(|x| (x - m).powi(2)).sum::<f64>()
            })
            .sum();
        let (msb, msw) = (ssb / (g - 1.0), ssw / (n - g));
        let sum_k2: f64 = groups.values().map(|v| (v.len() as f64).powi(2)).sum();
        let k_bar = (n - sum_k2 / n) / (g - 1.0);
        close(
            &row["icc"]["value"]["icc1"],
            (msb - msw) / (msb + (k_bar - 1.0) * msw),
            &format!("ICC1 {phase}"),
        );
        close(
            &row["icc"]["value"]["icc2"],
            (msb - msw) / msb,
            &format!("ICC2 {phase}"),
        );
        // α on complete cases.
        let complete: Vec<&Answers> = everyone
            .iter()
            .map(|(_, a)| *a)
            .filter(|a| a[p * 5..p * 5 + 5].iter().all(|v| *v >= 0))
            .collect();
        let item_vars: f64 = (0..5)
            .map(|i| {
                var(&complete
                    .iter()
                    .map(|a| f64::from(a[p * 5 + i]))
                    .collect::<Vec<_>>())
            })
            .sum();
        let totals: Vec<f64> = complete
            .iter()
            .map(|a| a[p * 5..p * 5 + 5].iter().map(|v| f64::from(*v)).sum())
            .collect();
        close(
            &row["alpha"]["value"],
            5.0 / 4.0 * (1.0 - item_vars / var(&totals)),
            &format!("alpha {phase}"),
        );
        assert_eq!(row["alpha"]["n"], complete.len());
        // Item descriptives.
        for i in 0..5 {
            let values: Vec<i32> = everyone.iter().map(|(_, a)| a[p * 5 + i]).collect();
            let item = &row["items"][i];
            assert_eq!(item["item"], item_code(p * 5 + i));
            let stats = &item["stats"]["value"];
            for level in 0..5 {
                assert_eq!(
                    stats["distribution"][level],
                    values.iter().filter(|v| **v == level as i32).count(),
                    "{} level {level}",
                    item["item"]
                );
            }
            assert_eq!(
                stats["dont_know"],
                values.iter().filter(|v| **v == -2).count()
            );
            assert_eq!(
                stats["not_applicable"],
                values.iter().filter(|v| **v == -3).count()
            );
            let valid: Vec<f64> = values
                .iter()
                .filter(|v| **v >= 0)
                .map(|v| f64::from(*v))
                .collect();
            close(&stats["mean"], mean(&valid), "item mean");
            close(&stats["sd"], var(&valid).sqrt(), "item sd");
        }
    }

    // Every submission stored its compact slots, and they score exactly like the answer
    // rows: with half of them cleared (as for responses stored before slots existed) the
    // results are identical.
    // (On a thread of its own: polars must not block inside the test's async runtime.)
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let conn = &mut app.db.connect();
                let k = samskap::app::analytics::MinCell::new(K);
                let stored: Vec<(String, Option<Vec<u8>>)> = responses::table
                    .filter(responses::wave_id.eq(&wave.id))
                    .select((responses::id, responses::answer_slots))
                    .load(conn)
                    .expect("responses");
                assert_eq!(stored.len(), 14);
                for (_, slots) in &stored {
                    assert_eq!(
                        slots.as_ref().map(Vec::len),
                        Some(24),
                        "one slot per scored item, then one per phase's evidence question"
                    );
                }
                let publish = |conn: &mut samskap::infra::db::DbConn| {
                    crate::fixtures::publication_json(conn, &wave.id, k)
                };
                let before = publish(conn);
                let cleared: Vec<&String> = stored.iter().step_by(2).map(|(id, _)| id).collect();
                diesel::update(responses::table.filter(responses::id.eq_any(&cleared)))
                    .set(responses::answer_slots.eq(None::<Vec<u8>>))
                    .execute(conn)
                    .expect("clear slots");
                let after = publish(conn);
                assert_eq!(before, after);
            })
            .join()
            .expect("the check panicked");
    });
}
