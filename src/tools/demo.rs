//! A realistic synthetic Norwegian dataset, generated deterministically from a seed and
//! loaded through the same code paths real data takes (the catalogue import).

pub mod geography;
pub mod responses;

use std::collections::{BTreeMap, HashMap};

use rand::seq::SliceRandom as _;
use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;

use crate::app::import::{self, ImportSummary, ServiceRecord};
use crate::core::domain::{ServiceType, SizeBand};
use crate::infra::db::DbConn;
use geography::{
    COUNTIES, EXTRA_TRUSTS, HEALTH_REGIONS, IDEAL_ORGANISATIONS, MUNICIPALITIES, Municipality,
};

/// Default number of demo services.
pub const DEFAULT_SERVICES: usize = 300;
/// Default seed: the same seed always gives the same dataset.
pub const DEFAULT_SEED: u64 = 2026;

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct DemoOptions {
    pub services: usize,
    pub seed: u64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            services: DEFAULT_SERVICES,
            seed: DEFAULT_SEED,
        }
    }
}

/// Generates the demo service catalogue: every municipality's own service first, then
/// specialist units of each health trust, then ACT/FACT teams and low-threshold services
/// in the larger towns. Exactly `options.services` rows, deterministic by seed.
pub fn catalogue(options: DemoOptions) -> Vec<ServiceRecord> {
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let candidates = base_candidates(&mut rng);
    let mut chosen: Vec<Candidate> = if options.services <= candidates.len() {
        // Trimming: keep one municipal service per county so every county stays
        // represented, then a seeded random choice of the rest.
        let mut counties_seen = std::collections::HashSet::new();
        let (mut keep, mut rest): (Vec<Candidate>, Vec<Candidate>) =
            candidates.into_iter().partition(|c| {
                c.service_type == ServiceType::Municipal
                    && counties_seen.insert(c.municipality.county)
            });
        rest.shuffle(&mut rng);
        keep.extend(rest);
        keep.truncate(options.services);
        keep
    } else {
        // Growing: more teams at the same places, in the same proportions.
        let mut all = candidates.clone();
        let mut round = 2;
        while all.len() < options.services {
            for c in &candidates {
                if all.len() >= options.services {
                    break;
                }
                let mut extra = c.clone();
                extra.name = format!("{}, team {round}", c.name);
                all.push(extra);
            }
            round += 1;
        }
        all
    };
    chosen.sort_by(|a, b| {
        (a.municipality.county, a.municipality.name, &a.name).cmp(&(
            b.municipality.county,
            b.municipality.name,
            &b.name,
        ))
    });

    let county_region: HashMap<&str, &str> = HEALTH_REGIONS
        .iter()
        .flat_map(|(hr, counties)| counties.iter().map(move |c| (*c, *hr)))
        .collect();
    let county_number: HashMap<&str, &str> = COUNTIES.iter().map(|(c, n, _)| (*c, *n)).collect();
    chosen
        .into_iter()
        .enumerate()
        .map(|(i, c)| ServiceRecord {
            health_region: county_region
                .get(c.municipality.county)
                .copied()
                .unwrap_or("?")
                .to_owned(),
            county: c.municipality.county.to_owned(),
            municipality: c.municipality.name.to_owned(),
            organisation: c.organisation,
            service_code: format!("DEMO-{:04}", i + 1),
            service_name: c.name,
            service_type: c.service_type,
            size_band: c.size_band,
            county_number: county_number
                .get(c.municipality.county)
                .map(|n| (*n).to_owned()),
            municipality_number: Some(c.municipality.number.to_owned()),
            org_number: None,
        })
        .collect()
}

#[derive(Clone)]
struct Candidate {
    municipality: &'static Municipality,
    organisation: String,
    name: String,
    service_type: ServiceType,
    size_band: SizeBand,
}

fn trust_of(m: &Municipality) -> &'static str {
    m.trust.unwrap_or_else(|| {
        COUNTIES
            .iter()
            .find(|(c, _, _)| *c == m.county)
            .map_or("?", |(_, _, t)| *t)
    })
}

fn base_candidates(rng: &mut ChaCha8Rng) -> Vec<Candidate> {
    let mut out = Vec::new();
    // 1. Every municipality's own mental-health and substance-use service.
    for m in MUNICIPALITIES {
        let size_band = match m.population_k {
            0..10 => SizeBand::Small,
            10..50 => SizeBand::Medium,
            50..200 => SizeBand::Large,
            _ => SizeBand::VeryLarge,
        };
        out.push(Candidate {
            municipality: m,
            organisation: format!("{} kommune", m.name),
            name: format!("Psykisk helse og rus, {} kommune", m.name),
            service_type: ServiceType::Municipal,
            size_band,
        });
    }

    // 2. Specialist units per health trust, placed in the trust's larger municipalities.
    let mut trusts: BTreeMap<&str, Vec<&'static Municipality>> = BTreeMap::new();
    for m in MUNICIPALITIES {
        trusts.entry(trust_of(m)).or_default().push(m);
    }
    for (trust, county) in EXTRA_TRUSTS {
        if let Some(m) = MUNICIPALITIES.iter().find(|m| m.name == *county) {
            trusts.entry(trust).or_default().push(m);
        }
    }
    let mut used_names: HashMap<String, usize> = HashMap::new();
    let mut unique = |base: String| {
        const PARTS: &[&str] = &["", " nord", " sør", " øst", " vest", " sentrum"];
        let n = used_names.entry(base.clone()).or_insert(0);
        let name = match PARTS.get(*n) {
            Some(part) => format!("{base}{part}"),
            None => format!("{base} {}", *n + 1),
        };
        *n += 1;
        name
    };
    for (trust, mut sites) in trusts {
        sites.sort_by_key(|m| std::cmp::Reverse(m.population_k));
        let is_extra = EXTRA_TRUSTS.iter().any(|(t, _)| *t == trust);
        let population: u32 = if is_extra {
            150
        } else {
            sites.iter().map(|m| m.population_k).sum()
        };
        let site = |i: usize| sites[i % sites.len()];
        let count = |per_k: u32, max: u32| (population / per_k).clamp(1, max) as usize;
        let mut push = |rng: &mut ChaCha8Rng,
                        m: &'static Municipality,
                        base: String,
                        t: ServiceType,
                        bands: &[SizeBand]| {
            let size_band = bands[rng.random_range(0..bands.len())];
            out.push(Candidate {
                municipality: m,
                organisation: trust.to_owned(),
                name: unique(base),
                service_type: t,
                size_band,
            });
        };
        for i in 0..count(70, 8) {
            let m = site(i);
            push(
                rng,
                m,
                format!("DPS {}", m.name),
                ServiceType::Dps,
                &[SizeBand::Large, SizeBand::Large, SizeBand::VeryLarge],
            );
        }
        for i in 0..count(150, 4) {
            let m = site(i);
            push(
                rng,
                m,
                format!("Psykiatrisk sengepost, {trust}"),
                ServiceType::HospitalWard,
                &[SizeBand::Medium, SizeBand::Large],
            );
        }
        for i in 0..count(120, 5) {
            let m = site(i);
            push(
                rng,
                m,
                format!("BUP {}", m.name),
                ServiceType::Bup,
                &[SizeBand::Medium, SizeBand::Large],
            );
        }
        for i in 0..count(160, 4) {
            let m = site(i);
            push(
                rng,
                m,
                format!("Avdeling for rusbehandling {}", m.name),
                ServiceType::Tsb,
                &[SizeBand::Medium, SizeBand::Large],
            );
        }
    }

    // 3. ACT/FACT teams and low-threshold services in the larger towns; some low-threshold
    //    and substance-use services are run by ideal organisations.
    for m in MUNICIPALITIES.iter().filter(|m| m.population_k >= 25) {
        out.push(Candidate {
            municipality: m,
            organisation: format!("{} kommune", m.name),
            name: unique(format!("FACT-team {}", m.name)),
            service_type: ServiceType::Act,
            size_band: SizeBand::Medium,
        });
        if m.population_k >= 40 {
            let ideal = rng.random_bool(0.4);
            let organisation = if ideal {
                IDEAL_ORGANISATIONS[rng.random_range(0..IDEAL_ORGANISATIONS.len())].to_owned()
            } else {
                format!("{} kommune", m.name)
            };
            out.push(Candidate {
                municipality: m,
                organisation,
                name: unique(format!("Lavterskeltilbud {}", m.name)),
                service_type: ServiceType::LowThreshold,
                size_band: if rng.random_bool(0.5) {
                    SizeBand::Small
                } else {
                    SizeBand::Medium
                },
            });
        }
    }
    out
}

/// Loads the demo catalogue into the database through the catalogue import.
pub fn load(conn: &mut DbConn, options: DemoOptions) -> anyhow::Result<ImportSummary> {
    let records: Vec<(u64, ServiceRecord)> = catalogue(options)
        .into_iter()
        .enumerate()
        .map(|(i, r)| (i as u64 + 2, r))
        .collect();
    let actor = crate::app::audit::Actor::cli();
    import::apply(conn, &actor, "demo catalogue", &records, &|_, _| {}).map_err(|e| match e {
        import::ApplyError::Conflicts(rows) => anyhow::anyhow!(
            "the demo catalogue conflicts with stored data: {}",
            rows.iter()
                .map(|r| format!("row {}: {}", r.line, r.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        import::ApplyError::Database(e) => {
            anyhow::Error::new(e).context("loading the demo catalogue failed")
        }
    })
}

/// What [`load_full`] did.
#[derive(Debug, Clone, Copy, Default)]
pub struct FullSummary {
    pub services: usize,
    pub waves: usize,
    pub responses: usize,
}

/// The whole demo: the catalogue (when there are no services yet), then, when there are
/// no waves yet, the three demo waves with their simulated responses, or
/// `bulk_responses` simulated ones. Both are written through the bulk path, which stores
/// exactly the rows the questionnaire code stores (`tests/api/demo_data.rs` compares the
/// two) in a few large statements: the questionnaire path's round trips took more than a
/// minute on PostgreSQL for the demo's 4,200 responses.
pub fn load_full(
    conn: &mut DbConn,
    keys: &crate::infra::crypto::DerivedKeys,
    options: DemoOptions,
    bulk_responses: Option<usize>,
    progress: impl FnMut(usize),
) -> anyhow::Result<FullSummary> {
    let mut summary = FullSummary::default();
    if crate::infra::models::Service::count(conn)? == 0 {
        summary.services = load(conn, options)?.services_created;
    }
    if !crate::infra::models::Wave::all(conn)?.is_empty() {
        return Ok(summary);
    }
    let waves = responses::create_waves(conn)?;
    summary.waves = waves.len();
    let services: Vec<(String, ServiceType)> = crate::infra::models::Service::all(conn)?
        .into_iter()
        .map(|s| (s.code, s.service_type))
        .collect();
    let sims = match bulk_responses {
        None => responses::simulate(&services, options.seed),
        Some(n) => responses::simulate_many(&services, options.seed, n),
    };
    summary.responses = responses::write_bulk(conn, keys, &waves, &sims, 5_000, progress)?;
    Ok(summary)
}

/// The demo accounts: one per role, with scopes that show what each role sees.
pub const DEMO_ACCOUNTS: &[(&str, crate::core::domain::UserRole)] = &[
    (
        "admin@demo.samskap.no",
        crate::core::domain::UserRole::Admin,
    ),
    (
        "manager@demo.samskap.no",
        crate::core::domain::UserRole::Manager,
    ),
    (
        "policymaker@demo.samskap.no",
        crate::core::domain::UserRole::Policymaker,
    ),
    (
        "researcher@demo.samskap.no",
        crate::core::domain::UserRole::Researcher,
    ),
];

/// A demo login, for printing.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub email: String,
    pub role: crate::core::domain::UserRole,
    pub password: String,
    /// What the account's scope shows, if it has one.
    pub sees: Option<String>,
}

/// Per service in the newest opened wave: the submitted responses of its smallest group
/// (over the roles anyone in the wave answered as), and of all its groups together.
fn newest_wave_answer_counts(
    conn: &mut DbConn,
) -> anyhow::Result<std::collections::HashMap<crate::core::domain::ServiceId, (i64, i64)>> {
    let newest = crate::infra::models::Wave::opened_newest_first(conn)?
        .into_iter()
        .next();
    let Some(wave) = newest else {
        return Ok(std::collections::HashMap::new());
    };
    let counts = crate::app::waves::participation(conn, &wave.id, None)?;
    let roles: std::collections::BTreeSet<&crate::core::domain::RespondentRole> =
        counts.keys().map(|(_, r)| r).collect();
    let mut out = std::collections::HashMap::new();
    for (service, _) in counts.keys() {
        let answered = |r: &crate::core::domain::RespondentRole| {
            counts
                .get(&(service.clone(), r.clone()))
                .map_or(0, |(_, n)| *n)
        };
        let smallest = roles.iter().map(|r| answered(r)).min().unwrap_or(0);
        let total = roles.iter().map(|r| answered(r)).sum();
        out.insert(service.clone(), (smallest, total));
    }
    Ok(out)
}

/// Creates the demo accounts if missing and gives each a fresh random password.
pub fn ensure_accounts(conn: &mut DbConn) -> anyhow::Result<Vec<DemoAccount>> {
    use crate::app::accounts::{self, ScopeSpec};
    use crate::core::domain::{ScopeKind, UserRole};
    use crate::infra::models::{Service, User};

    // The manager runs the DPS whose smallest group answered most in the newest wave,
    // then the one with the most answers (so the demo dashboard has every perspective
    // to show), or the first DPS before there are any; the policymaker oversees Helse
    // Vest.
    let answered = newest_wave_answer_counts(conn)?;
    let first_dps = Service::all(conn)?
        .into_iter()
        .filter(|s| s.service_type == ServiceType::Dps)
        .min_by(|a, b| {
            let n = |s: &Service| answered.get(&s.id).copied().unwrap_or((0, 0));
            n(b).cmp(&n(a)).then_with(|| a.code.cmp(&b.code))
        });
    let mut out = Vec::new();
    for (email, role) in DEMO_ACCOUNTS {
        let password = accounts::generate_password();
        let user = match User::find_by_email(conn, email)? {
            Some(u) => {
                accounts::replace_password(
                    conn,
                    &crate::app::audit::Actor::cli(),
                    &u.id,
                    &password,
                    accounts::SetBy::Cli,
                )?;
                u
            }
            None => accounts::create_user(conn, email, &format!("Demo {role}"), *role, &password)?,
        };
        let scope = match role {
            UserRole::Manager => first_dps.as_ref().map(|s| {
                (
                    ScopeSpec {
                        kind: ScopeKind::Service,
                        reference: s.code.clone(),
                    },
                    s.name.clone(),
                )
            }),
            UserRole::Policymaker => Some((
                ScopeSpec {
                    kind: ScopeKind::Region,
                    reference: "Helse Vest".into(),
                },
                "Helse Vest".into(),
            )),
            UserRole::Admin | UserRole::Researcher => None,
        };
        let mut seen = match scope {
            Some((spec, label)) => {
                accounts::add_scope(conn, &user, &spec)?;
                Some(label)
            }
            None => None,
        };
        // The researcher follows the services wave after wave: every opened wave.
        if *role == UserRole::Researcher {
            let mut names = Vec::new();
            for wave in crate::infra::models::Wave::opened_newest_first(conn)?
                .into_iter()
                .rev()
            {
                accounts::add_scope(
                    conn,
                    &user,
                    &ScopeSpec {
                        kind: ScopeKind::Wave,
                        reference: wave.id.to_string(),
                    },
                )?;
                names.push(wave.name);
            }
            seen = (!names.is_empty()).then(|| names.join(", "));
        }
        out.push(DemoAccount {
            email: (*email).to_owned(),
            role: *role,
            password,
            sees: seen,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_catalogue_and_size_is_exact() {
        let a = catalogue(DemoOptions::default());
        let b = catalogue(DemoOptions::default());
        assert_eq!(a, b);
        assert_eq!(a.len(), DEFAULT_SERVICES);
        let c = catalogue(DemoOptions {
            seed: 7,
            ..DemoOptions::default()
        });
        assert_ne!(a, c);
    }

    #[test]
    fn catalogue_is_importable_and_covers_norway() {
        for services in [20, 300, 1_000] {
            let rows = catalogue(DemoOptions { services, seed: 1 });
            assert_eq!(rows.len(), services);
            let mut csv = Vec::new();
            import::write_services_csv(&mut csv, &rows).expect("write");
            let parsed =
                import::parse_services_csv(&csv).expect("demo catalogue passes the import checks");
            assert_eq!(parsed.len(), services);
        }
        let rows = catalogue(DemoOptions::default());
        let counties: std::collections::HashSet<&str> =
            rows.iter().map(|r| r.county.as_str()).collect();
        assert_eq!(counties.len(), 15, "every county has services");
        let types: std::collections::HashSet<ServiceType> =
            rows.iter().map(|r| r.service_type).collect();
        assert_eq!(
            types.len(),
            ServiceType::ALL.len(),
            "every service type occurs"
        );
    }
}
