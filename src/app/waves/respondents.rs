//! Respondent lists: `service_code,role,email,language` CSV. The whole file is checked
//! first and every bad row reported as `FILE:LINE: …`; a good file creates invitations and
//! queues their messages in one transaction.

use std::collections::{BTreeSet, HashMap, HashSet};

use diesel::prelude::*;
use serde_json::json;

use crate::app::audit::{self, Actor};
use crate::app::import::{Lines, RowError};
use crate::core::domain::{RespondentRole, ServiceId, WaveId, WaveStatus};
use crate::infra::crypto::DerivedKeys;
use crate::infra::db::DbConn;
use crate::infra::models::{Wave, WaveService};

use super::{create_invitation, instrument_of, queue_message};

pub const COLUMNS: &[&str] = &["service_code", "role", "email", "language"];

/// One checked row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Respondent {
    pub service: ServiceId,
    pub role: RespondentRole,
    /// Normalised (trimmed, lower case).
    pub email: String,
    pub language: String,
}

/// A row as written, before it is checked against the wave; `validator` checks what needs
/// no wave ([`crate::app::validation`]), [`check`] the rest.
#[derive(Debug, crate::app::validation::Validate)]
struct Row<'a> {
    service_code: &'a str,
    /// Checked against the wave's instrument in [`check`].
    #[validate(length(min = 1))]
    role: &'a str,
    #[validate(custom(function = "crate::app::validation::email"))]
    email: &'a str,
    #[validate(length(min = 2, max = 16))]
    language: &'a str,
}

/// Checked rows with their lines, or every problem.
pub type Parsed = Result<Vec<(u64, Respondent)>, Vec<RowError>>;

/// What a respondent list is checked against: the wave's services by code, the roles and
/// languages of its instrument, and the panel pseudonyms already invited to it.
#[derive(Debug, Clone, Default)]
pub struct Roster {
    pub services: HashMap<String, ServiceId>,
    pub roles: BTreeSet<String>,
    pub languages: Vec<String>,
    pub invited: HashSet<String>,
}

impl Roster {
    /// The wave's services, roles and languages, and which of `candidates` (panel
    /// pseudonyms) are already invited. Only the candidates are looked up, through an
    /// index, so checking a list costs the same in a wave of a million invitations as in
    /// an empty one.
    pub fn of_wave(conn: &mut DbConn, wave: &Wave, candidates: &[String]) -> anyhow::Result<Self> {
        use crate::infra::db::schema::invitations as inv;
        let survey = instrument_of(conn, wave)?;
        let mut invited = HashSet::new();
        for chunk in candidates.chunks(500) {
            invited.extend(
                inv::table
                    .filter(inv::wave_id.eq(&wave.id))
                    .filter(inv::panel_pseudonym.eq_any(chunk))
                    .select(inv::panel_pseudonym)
                    .load::<String>(conn)?,
            );
        }
        Ok(Self {
            services: WaveService::for_wave(conn, &wave.id)?
                .into_iter()
                .map(|s| (s.service_code, s.service_id))
                .collect(),
            roles: survey.roles.keys().cloned().collect(),
            languages: survey.languages.clone(),
            invited,
        })
    }
}

/// The panel pseudonyms of every readable e-mail address in a respondent CSV: what
/// [`Roster::of_wave`] needs to look up. Rows it cannot read are [`check`]'s to report.
fn pseudonyms_in(keys: &DerivedKeys, data: &[u8]) -> Vec<String> {
    let (mut reader, _) = crate::app::import::csv_reader(data);
    let mut out = Vec::new();
    let mut record = csv::StringRecord::new();
    while let Ok(true) = reader.read_record(&mut record) {
        if let Some(email) = record
            .get(2)
            .and_then(|e| crate::app::accounts::normalise_email(e).ok())
        {
            out.push(keys.panel_pseudonym(&email));
        }
    }
    out
}

/// Checks a respondent CSV against a wave: services must take part in the wave, roles and
/// languages must exist in its instrument, e-mails must be valid and new to the wave.
/// Problems are worded in `lang` (the admin page's language; `en` on the command line).
pub fn parse(
    conn: &mut DbConn,
    keys: &DerivedKeys,
    wave: &Wave,
    data: &[u8],
    lang: &str,
) -> anyhow::Result<Parsed> {
    let candidates = pseudonyms_in(keys, data);
    Ok(check(
        &Roster::of_wave(conn, wave, &candidates)?,
        keys,
        data,
        lang,
    ))
}

/// [`parse`] against a roster already read: no database, so it can be fuzzed.
pub fn check(roster: &Roster, keys: &DerivedKeys, data: &[u8], lang: &str) -> Parsed {
    let say = |key: &str, args: &[(&str, &str)]| {
        crate::infra::i18n::fill(lang, &format!("import.{key}"), args)
    };
    let (mut reader, data) = crate::app::import::csv_reader(data);
    let mut lines = Lines::new(data);
    let mut errors = Vec::new();
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            return Err(vec![RowError {
                line: e.position().map_or(1, |p| lines.of(p)),
                message: say("unreadable_header", &[("error", &e.to_string())]),
            }]);
        }
    };
    let header_line = headers.position().map_or(1, |p| lines.of(p));
    let header: Vec<&str> = headers.iter().collect();
    if header != COLUMNS {
        return Err(vec![RowError {
            line: header_line,
            message: say("header_exact", &[("columns", &COLUMNS.join(","))]),
        }]);
    }
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut out = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let at = reader.position().clone();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                errors.push(RowError {
                    line: lines.of(e.position().unwrap_or(&at)),
                    message: say("unreadable_row", &[("error", &e.to_string())]),
                });
                continue;
            }
        }
        let line = lines.of(record.position().unwrap_or(&at));
        if record.iter().all(str::is_empty) {
            continue;
        }
        if record.len() != COLUMNS.len() {
            errors.push(RowError {
                line,
                message: say(
                    "field_count",
                    &[
                        ("expected", &COLUMNS.len().to_string()),
                        ("found", &record.len().to_string()),
                    ],
                ),
            });
            continue;
        }
        let row = Row {
            service_code: &record[0],
            role: &record[1],
            email: &record[2],
            language: &record[3],
        };
        let found = crate::app::validation::check(&row, COLUMNS).err();
        let has = |field: &str| found.as_ref().is_some_and(|p| p.has(field));
        let mut problems = Vec::new();
        let service = roster.services.get(row.service_code).cloned();
        if service.is_none() {
            problems.push(say("not_in_wave", &[("code", row.service_code)]));
        }
        // A role of the wave's instrument (the survey file declares them).
        let role = RespondentRole::parse(row.role)
            .ok()
            .filter(|r| roster.roles.contains(r.as_str()));
        if role.is_none() && !has("role") {
            let roles: Vec<&str> = roster.roles.iter().map(String::as_str).collect();
            problems.push(say(
                "no_form",
                &[("role", row.role), ("roles", &roles.join(", "))],
            ));
        }
        problems.extend(found.iter().flat_map(|p| p.messages(lang)));
        let email = if has("email") {
            None
        } else {
            crate::app::accounts::normalise_email(row.email)
                .map_err(|e| problems.push(say("bad_email", &[("error", &e)])))
                .ok()
        };
        let language = row.language.to_lowercase();
        if !has("language") && !roster.languages.contains(&language) {
            problems.push(say(
                "language_offered",
                &[
                    ("value", &record[3]),
                    ("languages", &roster.languages.join(", ")),
                ],
            ));
        }
        if let Some(e) = &email {
            if let Some(first) = seen.get(e) {
                problems.push(say(
                    "duplicate",
                    &[("email", e), ("line", &first.to_string())],
                ));
            } else if roster.invited.contains(&keys.panel_pseudonym(e)) {
                problems.push(say("already_invited", &[("email", e)]));
            } else {
                seen.insert(e.clone(), line);
            }
        }
        match (service, role, email) {
            (Some(service), Some(role), Some(email)) if problems.is_empty() => {
                out.push((
                    line,
                    Respondent {
                        service,
                        role,
                        email,
                        language,
                    },
                ));
            }
            _ => errors.push(RowError {
                line,
                message: problems.join("; "),
            }),
        }
    }
    if out.is_empty() && errors.is_empty() {
        errors.push(RowError {
            line: header_line + 1,
            message: say("no_respondents", &[]),
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Creates the invitations and queues their messages, in one transaction. The wave must be
/// open: invitations go out at once.
pub fn invite(
    conn: &mut DbConn,
    keys: &DerivedKeys,
    wave_id: &WaveId,
    respondents: &[(u64, Respondent)],
    base_url: &str,
    actor: &Actor,
    progress: &dyn Fn(usize, usize),
) -> anyhow::Result<usize> {
    crate::infra::db::write_transaction(conn, |conn| {
        let wave = Wave::find(conn, wave_id)?;
        if wave.status != WaveStatus::Open {
            anyhow::bail!(super::Invalid {
                field: "status",
                message: format!(
                    "the wave is {}; open it first, invitations are sent at once",
                    wave.status
                )
            });
        }
        let survey = instrument_of(conn, &wave)?;
        for (done, (_, r)) in respondents.iter().enumerate() {
            if done % 50 == 0 {
                progress(done, respondents.len());
            }
            let (invitation, token) = create_invitation(
                conn,
                keys,
                &wave,
                &r.service,
                &r.role,
                &r.email,
                &r.language,
            )?;
            queue_message(
                conn,
                "invitation",
                format!("invitation:{}", invitation.id),
                &wave,
                &survey,
                &invitation,
                &token,
                base_url,
            )?;
        }
        progress(respondents.len(), respondents.len());
        audit::record(
            conn,
            actor,
            "wave.invite",
            Some(("wave", wave.id.as_str())),
            Some(json!({"invitations": respondents.len()})),
        )?;
        Ok(respondents.len())
    })
}
