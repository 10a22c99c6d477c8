//! The load: complete responses (consent, answers and submit in one request, each with a
//! token of its own) at full speed over many connections, with a record of which were
//! acknowledged. Every so often a connection sends an already acknowledged submission
//! again, as a respondent whose browser retries would: that must be answered "already
//! submitted" and never stored twice.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use rand::{Rng as _, SeedableRng as _};

/// What one load run saw.
#[derive(Debug, Default)]
pub struct Record {
    /// Tokens whose submission was answered 200 "submitted".
    pub acked: HashSet<String>,
    /// Tokens sent without an answer (connection lost, server error): stored or not.
    pub unknown: HashSet<String>,
    /// Every outcome, by kind: "200", "503 unavailable", "transport error", ….
    pub outcomes: BTreeMap<String, usize>,
    /// A few bodies of answers other than 200, for the failure message.
    pub samples: Vec<String>,
    /// Resubmissions of acknowledged tokens that were stored as new ("first_time": true).
    pub stored_twice: Vec<String>,
    /// Seconds since the start of each 200 answer to a fresh submission.
    pub acked_at: Vec<f64>,
    pub requests: usize,
}

impl Record {
    fn count(&mut self, kind: String, body: Option<String>) {
        *self.outcomes.entry(kind.clone()).or_default() += 1;
        if let Some(body) = body
            && self.samples.len() < 8
        {
            self.samples.push(format!("{kind}: {body}"));
        }
    }
}

/// What to send, where, how hard and for how long.
pub struct Plan {
    pub base: String,
    pub body: String,
    pub connections: usize,
    pub duration: Duration,
    /// One request in this many resends an acknowledged token (0: never).
    pub resend_every: usize,
    /// End the load as soon as the `during` future is done, even before `duration`.
    pub stop_with_during: bool,
    pub seed: u64,
}

struct Shared {
    fresh: VecDeque<String>,
    record: Record,
    acked_list: Vec<String>,
}

/// Runs the load until `plan.duration` has passed, while `during` runs beside it (the
/// thing that breaks the server). Returns what the load saw and what `during` returned.
pub async fn run<T>(
    plan: &Plan,
    tokens: Vec<String>,
    during: impl Future<Output = T>,
) -> (Record, T) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(plan.connections)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let shared = Arc::new(Mutex::new(Shared {
        fresh: tokens.into(),
        record: Record::default(),
        acked_list: Vec::new(),
    }));
    let start = Instant::now();
    let deadline = start + plan.duration;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::with_capacity(plan.connections);
    for n in 0..plan.connections {
        let shared = shared.clone();
        let client = client.clone();
        let url = format!("{}/api/v1/respondent", plan.base);
        let body = plan.body.clone();
        let resend_every = plan.resend_every;
        let stop = stop.clone();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(plan.seed ^ (n as u64 + 1));
        tasks.push(tokio::spawn(async move {
            let mut sent = 0usize;
            while Instant::now() < deadline && !stop.load(std::sync::atomic::Ordering::Relaxed) {
                sent += 1;
                let pick = {
                    let mut s = lock(&shared);
                    let resend = resend_every > 0
                        && sent.is_multiple_of(resend_every)
                        && !s.acked_list.is_empty();
                    if resend || s.fresh.is_empty() {
                        if s.acked_list.is_empty() {
                            None
                        } else {
                            let i = rng.random_range(0..s.acked_list.len());
                            Some((s.acked_list[i].clone(), true))
                        }
                    } else {
                        s.fresh.pop_front().map(|t| (t, false))
                    }
                };
                let Some((token, resend)) = pick else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let answer = client
                    .post(format!("{url}/{token}/submit"))
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await;
                let outcome = match answer {
                    Ok(res) => {
                        let status = res.status().as_u16();
                        let text = res.text().await;
                        Some((status, text))
                    }
                    Err(_) => None,
                };
                let pause = record(&shared, token, resend, start, outcome);
                if pause {
                    // The server is down: do not spin.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }));
    }
    let during_result = during.await;
    if plan.stop_with_during {
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    for task in tasks {
        task.await.expect("load task");
    }
    let record = std::mem::take(&mut lock(&shared).record);
    (record, during_result)
}

/// Records one answer; true when there was none (the caller pauses before the next).
fn record(
    shared: &Mutex<Shared>,
    token: String,
    resend: bool,
    start: Instant,
    outcome: Option<(u16, reqwest::Result<String>)>,
) -> bool {
    let mut s = lock(shared);
    s.record.requests += 1;
    match outcome {
        Some((200, Ok(text))) => {
            let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            if json["status"] != "submitted" {
                s.record
                    .count("200 without \"submitted\"".into(), Some(text));
                if !resend {
                    s.record.unknown.insert(token);
                }
                return false;
            }
            s.record.count("200".into(), None);
            if resend {
                if json["first_time"] != false {
                    s.record.stored_twice.push(token);
                }
            } else {
                s.record.acked_at.push(start.elapsed().as_secs_f64());
                s.record.acked.insert(token.clone());
                s.acked_list.push(token);
            }
        }
        Some((status, text)) => {
            let text = text.unwrap_or_default();
            let code = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|j| j["error"]["code"].as_str().map(str::to_owned))
                .unwrap_or_else(|| "(no error code)".into());
            s.record.count(format!("{status} {code}"), Some(text));
            if !resend {
                s.record.unknown.insert(token);
            }
        }
        None => {
            s.record.count("transport error".into(), None);
            if !resend {
                s.record.unknown.insert(token);
            }
            return true;
        }
    }
    false
}

fn lock(shared: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    shared
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A random moment in `[from, to)`, reproducible from `seed`.
pub fn moment(seed: u64, from: Duration, to: Duration) -> Duration {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    from + to.saturating_sub(from).mul_f64(rng.random::<f64>())
}

/// What the database holds for a wave, per invitation token hash.
#[derive(Debug)]
pub struct Stored {
    /// Token hash → number of submitted responses.
    pub submitted: BTreeMap<String, usize>,
    /// Token hashes whose invitation says "submitted".
    pub invitation_submitted: HashSet<String>,
    /// Submitted responses with no compact answers, or with another number of answer
    /// rows than `answers_each`.
    pub incomplete: Vec<String>,
    pub responses: usize,
}

/// Reads what the database holds for `wave`: each submitted response must carry its
/// compact answers and exactly `answers_each` answer rows.
pub fn stored(conn: &mut samskap::infra::db::DbConn, wave: &str, answers_each: usize) -> Stored {
    use samskap::infra::db::schema::{answers as a, invitations as i, responses as r};
    let invitations: Vec<(String, String, String)> = i::table
        .filter(i::wave_id.eq(wave))
        .select((i::id, i::token_hash, i::status))
        .load(conn)
        .expect("invitations");
    let responses: Vec<(String, Option<String>, bool, bool)> = r::table
        .filter(r::wave_id.eq(wave))
        .select((
            r::id,
            r::invitation_id,
            r::submitted_at.is_not_null(),
            r::answer_slots.is_not_null(),
        ))
        .load(conn)
        .expect("responses");
    let answer_counts: BTreeMap<String, i64> = a::table
        .filter(a::wave_id.eq(wave))
        .group_by(a::response_id)
        .select((a::response_id, diesel::dsl::count_star()))
        .load::<(String, i64)>(conn)
        .expect("answer counts")
        .into_iter()
        .collect();
    let hash_of: BTreeMap<&str, &str> = invitations
        .iter()
        .map(|(id, hash, _)| (id.as_str(), hash.as_str()))
        .collect();
    let mut submitted = BTreeMap::new();
    let mut incomplete = Vec::new();
    for (id, invitation, is_submitted, has_slots) in &responses {
        if !is_submitted {
            continue;
        }
        let hash = invitation
            .as_deref()
            .and_then(|inv| hash_of.get(inv))
            .map_or_else(
                || format!("(response {id} without invitation)"),
                |h| (*h).to_owned(),
            );
        *submitted.entry(hash).or_insert(0) += 1;
        let rows = answer_counts.get(id).copied().unwrap_or(0);
        if !has_slots || usize::try_from(rows).ok() != Some(answers_each) {
            incomplete.push(format!("{id}: {rows} answer rows, slots {has_slots}"));
        }
    }
    Stored {
        submitted,
        invitation_submitted: invitations
            .iter()
            .filter(|(_, _, status)| status == "submitted")
            .map(|(_, hash, _)| hash.clone())
            .collect(),
        incomplete,
        responses: responses.len(),
    }
}

/// Checks what a load (and everything after it) left in the database against what was
/// acknowledged: nothing acknowledged missing, nothing stored that was never sent, nothing
/// stored twice, no half-stored response, invitations agreeing with responses.
pub fn check(record: &Record, stored: &Stored) {
    let hash = |t: &String| samskap::app::accounts::token_hash(t);
    let acked: HashSet<String> = record.acked.iter().map(hash).collect();
    let sent: HashSet<String> = record
        .acked
        .iter()
        .chain(&record.unknown)
        .map(hash)
        .collect();
    let lost: Vec<&String> = acked
        .iter()
        .filter(|h| !stored.submitted.contains_key(*h))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged submissions are not stored",
        lost.len()
    );
    let phantom: Vec<&String> = stored
        .submitted
        .keys()
        .filter(|h| !sent.contains(*h))
        .collect();
    assert!(phantom.is_empty(), "stored but never sent: {phantom:?}");
    let twice: Vec<(&String, &usize)> = stored.submitted.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "stored more than once: {twice:?}");
    assert!(
        record.stored_twice.is_empty(),
        "a resubmission was stored anew: {:?}",
        record.stored_twice
    );
    assert!(
        stored.incomplete.is_empty(),
        "half-stored responses: {:?}",
        stored.incomplete
    );
    let with_response: HashSet<String> = stored.submitted.keys().cloned().collect();
    assert_eq!(
        with_response, stored.invitation_submitted,
        "invitations marked submitted differ from the submitted responses"
    );
}

/// Sends each token's submission once more, over `connections` connections at a time;
/// every one must be answered 200 "submitted" (stored now, or already stored before).
pub async fn resend_all(base: &str, body: &str, tokens: &HashSet<String>, connections: usize) {
    let client = reqwest::Client::new();
    let tokens: Vec<String> = tokens.iter().cloned().collect();
    let chunk = tokens.len().div_ceil(connections.max(1)).max(1);
    let mut tasks = Vec::new();
    for part in tokens.chunks(chunk) {
        let part = part.to_vec();
        let client = client.clone();
        let url = format!("{base}/api/v1/respondent");
        let body = body.to_owned();
        tasks.push(tokio::spawn(async move {
            for token in part {
                let res = client
                    .post(format!("{url}/{token}/submit"))
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .expect("resend");
                let status = res.status();
                let text = res.text().await.unwrap_or_default();
                assert!(
                    status == 200 && text.contains("\"submitted\""),
                    "resending {token}: {status} {text}"
                );
            }
        }));
    }
    for task in tasks {
        task.await.expect("resend task");
    }
}

/// After a run: checks the database against what was acknowledged; sends every submission
/// that got no answer again; then checks that every sent submission is stored exactly
/// once, whether or not its first attempt had reached the disk, with no stray responses.
pub async fn check_then_resend(
    base: &str,
    body: &str,
    record: &Record,
    conn: &mut samskap::infra::db::DbConn,
    wave: &str,
    answers_each: usize,
) {
    check(record, &stored(conn, wave, answers_each));
    resend_all(base, body, &record.unknown, 16).await;
    let all = Record {
        acked: record
            .acked
            .iter()
            .chain(&record.unknown)
            .cloned()
            .collect(),
        ..Record::default()
    };
    let after = stored(conn, wave, answers_each);
    check(&all, &after);
    assert_eq!(
        after.submitted.len(),
        all.acked.len(),
        "every sent submission stored once"
    );
    assert_eq!(after.responses, all.acked.len(), "no stray response rows");
}
