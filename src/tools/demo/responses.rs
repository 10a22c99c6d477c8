//! Simulated managers, peer workers and other staff for the demo waves, following the
//! patterns of instrument.md: co-deliver highest, co-define and co-assess lowest; growth
//! across waves; manager-vs-peer gaps that vary in size and sign; other staff between
//! managers and peers on most phases and lowest on co-define (they rarely see where
//! priorities are set); services that have employed peers longer score higher; few peer
//! workers per service, so many peer cells fall below the reporting threshold.
//!
//! The simulation produces plain data ([`SimResponse`]); [`write_normal`] stores it through
//! the questionnaire code real submissions take, [`write_bulk`] through multi-row inserts
//! for benchmark volumes. A test checks the two store the same.

use std::collections::HashMap;

use diesel::prelude::*;
use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use rand_distr_lite::normal;

use crate::app::audit::Actor;
use crate::app::questionnaire::{self as q, LinkState, Stored};
use crate::app::waves::{self, WaveSpec};
use crate::core::domain::{
    Anonymity, InvitationId, InvitationStatus, RespondentRole, ResponseId, ServiceType, WaveId,
    WaveStatus,
};
use crate::infra::crypto::DerivedKeys;
use crate::infra::db::schema::{invitation_tokens, invitations, responses};
use crate::infra::db::{self, DbConn};
use crate::infra::models::{InstrumentRow, NewInvitation, NewResponse, Wave, WaveService};

/// Years of the demo waves.
pub const YEARS: [i32; 3] = [2024, 2025, 2026];

/// One simulated respondent.
#[derive(Debug, Clone, PartialEq)]
pub struct SimResponse {
    pub year: i32,
    pub service_code: String,
    pub role: RespondentRole,
    pub email: String,
    pub language: String,
    /// Invited but never answered (no response is stored).
    pub responded: bool,
    pub answers: Vec<(String, Stored)>,
}

/// Tiny normal sampler (Box-Muller), so the demo needs no extra crate.
mod rand_distr_lite {
    use rand::Rng;

    pub fn normal(rng: &mut impl Rng, mean: f64, sd: f64) -> f64 {
        let u1: f64 = rng.random_range(f64::EPSILON..1.0);
        let u2: f64 = rng.random::<f64>();
        mean + sd * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// The roles of the shipped instrument the demo simulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Manager,
    Peer,
    Staff,
}

impl Who {
    fn role(self) -> RespondentRole {
        let code = match self {
            Self::Manager => "manager",
            Self::Peer => "peer_worker",
            Self::Staff => "staff",
        };
        RespondentRole::parse(code).expect("the demo's role codes are well formed")
    }

    /// The word in a simulated e-mail address.
    const fn mailbox(self) -> &'static str {
        match self {
            Self::Manager => "leder",
            Self::Peer => "erfaringskonsulent",
            Self::Staff => "ansatt",
        }
    }
}

/// Stable traits of a service across waves.
struct Profile {
    peer_years: u32,
    peers: u32,
    managers: u32,
    /// Colleagues who are not peer workers and are asked (drawn from a stream of their
    /// own, so managers' and peers' answers are those of the two-role demo).
    staff: u32,
    /// Peer workers beyond `peers` at the few large services, from the same stream: with
    /// them some services have every group above the reporting threshold, so the demo
    /// shows all three perspectives and the gaps between them.
    extra_peers: u32,
    level: f64,
    manager_bias: f64,
}

fn profile(rng: &mut ChaCha8Rng, t: ServiceType) -> Profile {
    let employs = match t {
        ServiceType::Municipal => rng.random_bool(0.4),
        ServiceType::Dps | ServiceType::Tsb => rng.random_bool(0.85),
        _ => rng.random_bool(0.6),
    };
    let peer_years = if employs { rng.random_range(1..=12) } else { 0 };
    // Peer workers are few per service (often 1-3); larger specialist services employ
    // more. Managers include unit and team leaders, so a service has several.
    let peers = match (employs, t) {
        (false, _) => 0,
        (true, ServiceType::Municipal) => rng.random_range(1..=3),
        (true, ServiceType::Dps | ServiceType::Tsb) => rng.random_range(2..=8),
        (true, _) => rng.random_range(1..=5),
    };
    let managers = match t {
        ServiceType::Dps | ServiceType::Tsb | ServiceType::HospitalWard => rng.random_range(3..=7),
        ServiceType::Municipal => rng.random_range(1..=4),
        _ => rng.random_range(2..=5),
    };
    Profile {
        peer_years,
        peers,
        managers,
        staff: 0,
        extra_peers: 0,
        level: normal(rng, 0.9 + 0.12 * f64::from(peer_years.min(10)), 0.45),
        manager_bias: normal(rng, 0.35, 0.55),
    }
}

const PHASE_OFFSET: [(char, f64); 4] = [('A', -0.45), ('B', -0.1), ('C', 0.65), ('D', -0.35)];

/// Other staff's view against the service's level: they see daily work (co-deliver) as
/// well as anyone, and are rarely where priorities are set (co-define).
const STAFF_OFFSET: [(char, f64); 4] = [('A', -0.55), ('B', -0.15), ('C', 0.05), ('D', -0.2)];

fn scored(rng: &mut ChaCha8Rng, mean: f64, who: Who, phase: char) -> Stored {
    let dk = match (who, phase) {
        (Who::Peer, 'A') => 0.10,
        (Who::Staff, 'A' | 'D') => 0.12,
        _ => 0.05,
    };
    let roll: f64 = rng.random();
    if roll < dk {
        return Stored {
            value: None,
            text: None,
            missing: Some("DK".into()),
        };
    }
    if roll < dk + 0.04 {
        return Stored {
            value: None,
            text: None,
            missing: Some("NA".into()),
        };
    }
    let v = normal(rng, mean, 0.55).round().clamp(0.0, 4.0);
    Stored {
        value: Some(v),
        text: None,
        missing: None,
    }
}

fn value(v: f64) -> Stored {
    Stored {
        value: Some(v),
        text: None,
        missing: None,
    }
}

fn choice(c: &str) -> Stored {
    Stored {
        value: None,
        text: Some(c.to_owned()),
        missing: None,
    }
}

/// Simulates invitations until exactly `n` of them responded, repeating [`simulate`] with
/// new seeds (round `r` adds `.rN` to e-mails, so everyone stays distinct).
pub fn simulate_many(services: &[(String, ServiceType)], seed: u64, n: usize) -> Vec<SimResponse> {
    let mut out: Vec<SimResponse> = Vec::with_capacity(n + n / 3);
    let mut responded = 0;
    let mut round = 0u64;
    while responded < n {
        let mut batch = simulate(services, seed.wrapping_add(round));
        if round > 0 {
            for s in &mut batch {
                s.email = s.email.replacen('@', &format!(".r{round}@"), 1);
            }
        }
        for s in batch {
            if responded == n {
                break;
            }
            responded += usize::from(s.responded);
            out.push(s);
        }
        round += 1;
        if round > 100_000 {
            break;
        }
    }
    out
}

/// An endless stream of respondents of one large wave in `year`, for benchmarks: each at a
/// service drawn at random (a quarter of them managers), answering by the demo's model.
/// Everyone responds; e-mails are distinct.
pub fn simulate_large_wave(
    services: &[(String, ServiceType)],
    seed: u64,
    year: i32,
) -> impl Iterator<Item = SimResponse> + '_ {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x1A26_E0A7);
    let mut occasion_rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0CCA_5106);
    let profiles: Vec<Profile> = services
        .iter()
        .map(|(_, t)| profile(&mut rng, *t))
        .collect();
    (0u64..).map(move |i| {
        let s = rng.random_range(0..services.len());
        let (code, p) = (&services[s].0, &profiles[s]);
        let peer = rng.random_bool(0.75);
        let who = if peer { Who::Peer } else { Who::Manager };
        let own = normal(&mut rng, 0.0, 0.35) + if peer { 0.0 } else { p.manager_bias };
        let mut answers = Vec::with_capacity(30);
        for (phase, offset) in PHASE_OFFSET {
            let mean = p.level + offset + own;
            for n in 1..=5 {
                answers.push((format!("{phase}{n}"), scored(&mut rng, mean, who, phase)));
            }
        }
        answers.extend(context_answers(&mut rng, p, year, who));
        if !peer {
            answers.extend(occasions(&mut occasion_rng, p.level));
        }
        SimResponse {
            year,
            service_code: code.clone(),
            role: who.role(),
            email: format!("r{i}.{}@bench.invalid", code.to_lowercase()),
            language: if rng.random_bool(0.9) { "nb" } else { "en" }.to_owned(),
            responded: true,
            answers,
        }
    })
}

/// Simulates every respondent of the demo waves over the given services.
pub fn simulate(services: &[(String, ServiceType)], seed: u64) -> Vec<SimResponse> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5EED_0FA1);
    // Other staff come from a stream of their own: adding them left every manager's and
    // peer worker's simulated answer as it was.
    let mut staff_rng = ChaCha8Rng::seed_from_u64(seed ^ 0x57AF_F0A1);
    // And the managers' occasions from a third, for the same reason.
    let mut occasion_rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0CCA_5105);
    let mut out = Vec::new();
    let profiles: Vec<Profile> = services
        .iter()
        .map(|(_, t)| {
            let mut p = profile(&mut rng, *t);
            p.staff = match t {
                ServiceType::Dps | ServiceType::Tsb | ServiceType::HospitalWard => {
                    staff_rng.random_range(3..=9)
                }
                ServiceType::Municipal => staff_rng.random_range(0..=4),
                _ => staff_rng.random_range(1..=6),
            };
            // About one specialist service in twelve is large: a team of peer workers
            // and a big staff.
            if matches!(t, ServiceType::Dps | ServiceType::Tsb)
                && p.peers > 0
                && staff_rng.random_bool(0.08)
            {
                p.extra_peers = staff_rng.random_range(5..=9);
                p.staff = staff_rng.random_range(10..=16);
            }
            p
        })
        .collect();
    for (w, year) in YEARS.iter().enumerate() {
        #[expect(clippy::cast_precision_loss, reason = "three waves")]
        let growth = 0.22 * w as f64;
        for ((code, _), p) in services.iter().zip(&profiles) {
            // (who, number, drawn from the second stream)
            let people = (0..p.managers)
                .map(|i| (Who::Manager, i, false))
                .chain((0..p.peers).map(|i| (Who::Peer, i, false)))
                .chain((0..p.extra_peers).map(|i| (Who::Peer, p.peers + i, true)))
                .chain((0..p.staff).map(|i| (Who::Staff, i, true)));
            for (who, i, second) in people {
                let rng = if second { &mut staff_rng } else { &mut rng };
                let answers_rate = match who {
                    Who::Manager => 0.85,
                    Who::Peer => 0.7,
                    Who::Staff => 0.6,
                };
                let email = format!(
                    "{}{}.{}@demo.invalid",
                    who.mailbox(),
                    i + 1,
                    code.to_lowercase()
                );
                let language = if rng.random_bool(0.9) { "nb" } else { "en" }.to_owned();
                if !rng.random_bool(answers_rate) {
                    out.push(SimResponse {
                        year: *year,
                        service_code: code.clone(),
                        role: who.role(),
                        email,
                        language,
                        responded: false,
                        answers: Vec::new(),
                    });
                    continue;
                }
                let own = normal(rng, 0.0, 0.35)
                    + match who {
                        Who::Manager => p.manager_bias,
                        Who::Peer => 0.0,
                        // Between the two on most phases.
                        Who::Staff => 0.5 * p.manager_bias,
                    };
                let mut answers = Vec::new();
                for ((phase, offset), (_, staff)) in PHASE_OFFSET.into_iter().zip(STAFF_OFFSET) {
                    let mean = p.level
                        + offset
                        + growth
                        + own
                        + if who == Who::Staff { staff } else { 0.0 };
                    for n in 1..=5 {
                        answers.push((format!("{phase}{n}"), scored(rng, mean, who, phase)));
                    }
                }
                answers.extend(context_answers(rng, p, *year, who));
                if who == Who::Manager {
                    answers.extend(occasions(&mut occasion_rng, p.level + growth));
                }
                out.push(SimResponse {
                    year: *year,
                    service_code: code.clone(),
                    role: who.role(),
                    email,
                    language,
                    responded: true,
                    answers,
                });
            }
        }
    }
    out
}

/// A manager's answers to the evidence questions ("can you point to a concrete occasion
/// in the last 12 months?"): whether there was one follows how far the service really
/// involves peer workers in the phase (`level`, without the manager's own optimism), so
/// managers who rate a phase high but run a service that does little name none: the
/// intentions-over-actions pattern the evidence measure is there to show. The kind of
/// occasion fits the phase.
fn occasions(rng: &mut ChaCha8Rng, level: f64) -> Vec<(String, Stored)> {
    PHASE_OFFSET
        .iter()
        .map(|(phase, offset)| {
            let actual = level + offset;
            let p = 1.0 / (1.0 + (-(actual - 1.6) * 2.2).exp());
            let kinds: &[&str] = match phase {
                'A' => &["decision_meeting", "written_document", "working_group"],
                'B' => &["working_group", "written_document", "user_activity"],
                'C' => &["user_activity", "user_activity", "working_group"],
                _ => &["evaluation", "evaluation", "decision_meeting"],
            };
            let answer = if rng.random_bool(p.clamp(0.02, 0.98)) {
                if rng.random_bool(0.1) {
                    "other"
                } else {
                    kinds[rng.random_range(0..kinds.len())]
                }
            } else {
                "none"
            };
            (format!("{phase}_OCCASION"), choice(answer))
        })
        .collect()
}

/// The context answers of one simulated respondent.
fn context_answers(
    rng: &mut ChaCha8Rng,
    p: &Profile,
    year: i32,
    who: Who,
) -> Vec<(String, Stored)> {
    let mut out = Vec::new();
    if who == Who::Staff {
        out.push((
            "S_PROFESSION".into(),
            choice(
                [
                    "health_professional",
                    "health_professional",
                    "therapist",
                    "social_worker",
                    "other",
                ][rng.random_range(0..5)],
            ),
        ));
        let together = if p.peers == 0 {
            0
        } else {
            rng.random_range(0..4)
        };
        out.push((
            "S_WORKS_WITH_PEERS".into(),
            choice(["rarely", "monthly", "weekly", "daily"][together]),
        ));
    } else if who == Who::Peer {
        out.push((
            "P_YEARS_IN_ROLE".into(),
            value(f64::from(rng.random_range(0..=p.peer_years.max(1)))),
        ));
        out.push((
            "P_POSITION_PERCENT".into(),
            value(f64::from([20, 40, 50, 60, 80, 100][rng.random_range(0..6)])),
        ));
        out.push((
            "P_ROLE_CLARITY".into(),
            value(
                normal(rng, 2.5 + 0.15 * f64::from(p.peer_years.min(10)), 0.9)
                    .round()
                    .clamp(1.0, 5.0),
            ),
        ));
        out.push((
            "P_SUPERVISION_FIT".into(),
            value(f64::from(rng.random_range(1..=5))),
        ));
        out.push((
            "P_TASKS_OUTSIDE_ROLE".into(),
            choice(["never", "rarely", "sometimes", "often"][rng.random_range(0..4)]),
        ));
    } else {
        out.push(if p.peer_years == 0 {
            (
                "M_FIRST_YEAR".into(),
                Stored {
                    value: None,
                    text: None,
                    missing: Some("NEVER".into()),
                },
            )
        } else {
            (
                "M_FIRST_YEAR".into(),
                value(f64::from(
                    u32::try_from(year).unwrap_or(2026) - p.peer_years,
                )),
            )
        });
        out.push(("M_PEER_COUNT".into(), value(f64::from(p.peers))));
        out.push((
            "M_PEER_FTE".into(),
            value(f64::from(p.peers) * [0.5, 0.8, 1.0][rng.random_range(0..3)]),
        ));
        out.push((
            "M_EMPLOYMENT".into(),
            choice(if p.peers == 0 {
                "none"
            } else {
                ["permanent", "temporary", "hourly", "mixed"][rng.random_range(0..4)]
            }),
        ));
        out.push((
            "M_TRAINING".into(),
            choice(
                ["none", "internal", "external_course", "formal_education"][rng.random_range(0..4)],
            ),
        ));
        out.push((
            "M_SUPERVISION".into(),
            choice(
                ["never", "less_than_monthly", "monthly", "weekly_or_more"][rng.random_range(0..4)],
            ),
        ));
        for c in [
            "M_POLICY_PLAN",
            "M_POLICY_BUDGET",
            "M_POLICY_JOB_DESCRIPTION",
            "M_POLICY_MANAGEMENT",
        ] {
            out.push((
                c.into(),
                value(
                    if rng.random_bool((0.25 + 0.05 * f64::from(p.peer_years.min(10))).min(0.9)) {
                        1.0
                    } else {
                        0.0
                    },
                ),
            ));
        }
    }
    out
}

/// Creates the three demo waves (2024 and 2025 closed, 2026 open) on every service.
pub fn create_waves(conn: &mut DbConn) -> anyhow::Result<Vec<(i32, Wave)>> {
    let instrument = InstrumentRow::all(conn)?
        .into_iter()
        .find(|r| r.survey_id == "peer-involvement")
        .ok_or_else(|| anyhow::anyhow!("the peer-involvement instrument is not stored"))?;
    let mut out = Vec::new();
    for year in YEARS {
        let spec = WaveSpec {
            name: format!("Kartlegging {year}"),
            instrument: instrument.id.clone(),
            anonymity: Anonymity::Linked,
            opens_at: chrono::NaiveDate::from_ymd_opt(year, 9, 1)
                .and_then(|d| d.and_hms_opt(8, 0, 0)),
            // Set when the wave is closed after its responses are in (see close_past_waves):
            // links of a wave past its closing date no longer accept answers.
            closes_at: None,
            reminder_max: 2,
            reminder_interval_days: 7,
            email_retention_days: 90,
            service_types: Vec::new(),
        };
        let wave = waves::create(conn, &spec, &demo_actor())?;
        out.push((year, wave));
    }
    Ok(out)
}

/// Stores simulated responses the way real ones arrive: an invitation with a token, then
/// consent, saved answers and submit through [`crate::app::questionnaire`]. The demo's waves
/// are open while this runs, and 2024 and 2025 are closed afterwards.
pub fn write_normal(
    conn: &mut DbConn,
    keys: &DerivedKeys,
    waves_by_year: &[(i32, Wave)],
    sims: &[SimResponse],
) -> anyhow::Result<usize> {
    crate::infra::db::write_transaction(conn, |conn| {
        open_waves(conn, waves_by_year)?;
        let mut services: HashMap<(WaveId, String), crate::core::domain::ServiceId> =
            HashMap::new();
        for (_, wave) in waves_by_year {
            for ws in WaveService::for_wave(conn, &wave.id)? {
                services.insert((wave.id.clone(), ws.service_code), ws.service_id);
            }
        }
        let mut n = 0;
        for sim in sims {
            let Some((_, wave)) = waves_by_year.iter().find(|(y, _)| *y == sim.year) else {
                continue;
            };
            let wave = Wave::find(conn, &wave.id)?;
            let Some(service) = services.get(&(wave.id.clone(), sim.service_code.clone())) else {
                continue;
            };
            let (invitation, token) = waves::create_invitation(
                conn,
                keys,
                &wave,
                service,
                &sim.role,
                &sim.email,
                &sim.language,
            )?;
            if !sim.responded {
                crate::infra::models::Invitation::update(
                    conn,
                    &invitation.id,
                    &crate::infra::models::InvitationChanges {
                        status: Some(InvitationStatus::Sent),
                        sent_at: Some(Some(db::now())),
                        ..Default::default()
                    },
                )?;
                continue;
            }
            let LinkState::Active(link) = q::open_link(conn, keys, &token)? else {
                anyhow::bail!("demo link is not active")
            };
            let response = q::consent(conn, keys, &link, &token, &sim.language)?;
            let answers: Vec<(String, Option<Stored>)> = sim
                .answers
                .iter()
                .map(|(c, s)| (c.clone(), Some(s.clone())))
                .collect();
            q::save(
                conn,
                &wave,
                &response.id,
                &answers,
                Some("review"),
                &sim.language,
            )?;
            q::submit(conn, &link, &response.id)?;
            n += 1;
        }
        close_past_waves(conn, waves_by_year)?;
        Ok(n)
    })
}

fn demo_actor() -> Actor {
    Actor {
        user_id: None,
        label: "demo".into(),
        ip: None,
    }
}

/// Opens the demo waves that are still drafts.
pub fn open_waves(conn: &mut DbConn, waves_by_year: &[(i32, Wave)]) -> anyhow::Result<()> {
    for (_, wave) in waves_by_year {
        if Wave::find(conn, &wave.id)?.status == WaveStatus::Draft {
            waves::open(conn, &wave.id, &demo_actor())?;
        }
    }
    Ok(())
}

/// Closes every demo wave but the newest.
pub fn close_past_waves(conn: &mut DbConn, waves_by_year: &[(i32, Wave)]) -> anyhow::Result<()> {
    for (year, wave) in waves_by_year {
        if *year < YEARS[YEARS.len() - 1] && Wave::find(conn, &wave.id)?.status == WaveStatus::Open
        {
            let closes = chrono::NaiveDate::from_ymd_opt(*year, 11, 30)
                .and_then(crate::infra::time::end_of_day);
            Wave::update(
                conn,
                &wave.id,
                &crate::infra::models::WaveChanges {
                    closes_at: Some(closes),
                    ..Default::default()
                },
            )?;
            waves::close(conn, &wave.id, &demo_actor())?;
        }
    }
    Ok(())
}

/// Stores simulated responses with multi-row inserts, in transactions of `batch`
/// responses: the same rows [`write_normal`] would store (ids and timestamps aside), for
/// benchmark volumes. Calls `progress` after each batch.
pub fn write_bulk(
    conn: &mut DbConn,
    keys: &DerivedKeys,
    waves_by_year: &[(i32, Wave)],
    sims: &[SimResponse],
    batch: usize,
    mut progress: impl FnMut(usize),
) -> anyhow::Result<usize> {
    let mut services: HashMap<(WaveId, String), crate::core::domain::ServiceId> = HashMap::new();
    for (_, wave) in waves_by_year {
        for ws in WaveService::for_wave(conn, &wave.id)? {
            services.insert((wave.id.clone(), ws.service_code), ws.service_id);
        }
    }
    open_waves(conn, waves_by_year)?;
    let mut surveys = HashMap::new();
    for (_, wave) in waves_by_year {
        surveys.insert(wave.id.clone(), waves::instrument_of(conn, wave)?);
    }
    let mut written = 0;
    for chunk in sims.chunks(batch.max(1)) {
        crate::infra::db::write_transaction(conn, |conn| -> anyhow::Result<()> {
            let now = db::now();
            let mut invitations = Vec::with_capacity(chunk.len());
            let mut tokens = Vec::with_capacity(chunk.len());
            let mut responses = Vec::with_capacity(chunk.len());
            let mut answers = Vec::with_capacity(chunk.len() * 35);
            for sim in chunk {
                let Some((_, wave)) = waves_by_year.iter().find(|(y, _)| *y == sim.year) else {
                    continue;
                };
                let Some(service) = services.get(&(wave.id.clone(), sim.service_code.clone()))
                else {
                    continue;
                };
                let invitation = InvitationId::generate();
                let token = crate::infra::crypto::respondent_token();
                invitations.push(NewInvitation {
                    id: invitation.clone(),
                    wave_id: wave.id.clone(),
                    service_id: service.clone(),
                    role: sim.role.clone(),
                    email: Some(sim.email.clone()),
                    language: sim.language.clone(),
                    token_hash: crate::app::accounts::token_hash(&token),
                    panel_pseudonym: keys.panel_pseudonym(&sim.email),
                    status: if sim.responded {
                        InvitationStatus::Submitted
                    } else {
                        InvitationStatus::Sent
                    },
                    expires_at: wave.closes_at,
                    created_at: now,
                    updated_at: now,
                });
                tokens.push((crate::app::accounts::token_hash(&token), invitation.clone()));
                if !sim.responded {
                    continue;
                }
                let response = ResponseId::generate();
                responses.push(NewResponse {
                    id: response.clone(),
                    wave_id: wave.id.clone(),
                    service_id: service.clone(),
                    role: sim.role.clone(),
                    invitation_id: Some(invitation),
                    resume_key_hash: None,
                    panel_pseudonym: Some(keys.panel_pseudonym(&sim.email)),
                    language: sim.language.clone(),
                    consent_at: Some(now),
                    current_page: Some("review".into()),
                    started_at: now,
                    updated_at: now,
                    submitted_at: Some(now),
                    answer_slots: surveys.get(&wave.id).map(|survey| {
                        q::answer_slots(
                            wave,
                            survey,
                            sim.answers.iter().map(|(c, s)| (c.as_str(), s)),
                        )
                    }),
                });
                answers.extend(
                    sim.answers
                        .iter()
                        .map(|(code, s)| s.row(&response, &wave.id, code, now)),
                );
            }
            for part in invitations.chunks(200) {
                db::on_backend!(conn, |c| diesel::insert_into(invitations::table)
                    .values(part)
                    .execute(c))?;
            }
            for part in tokens.chunks(500) {
                let rows: Vec<_> = part
                    .iter()
                    .map(|(h, i)| {
                        (
                            invitation_tokens::token_hash.eq(h),
                            invitation_tokens::invitation_id.eq(i),
                            invitation_tokens::created_at.eq(now),
                        )
                    })
                    .collect();
                db::on_backend!(conn, |c| diesel::insert_into(invitation_tokens::table)
                    .values(&rows)
                    .execute(c))?;
            }
            for part in responses.chunks(200) {
                db::on_backend!(conn, |c| diesel::insert_into(responses::table)
                    .values(part)
                    .execute(c))?;
            }
            crate::infra::models::Answer::insert_all(conn, &answers)?;
            for (_, wave) in waves_by_year {
                Wave::bump_data_version(conn, &wave.id)?;
            }
            Ok(())
        })?;
        written += chunk.iter().filter(|s| s.responded).count();
        progress(written);
    }
    close_past_waves(conn, waves_by_year)?;
    Ok(written)
}
