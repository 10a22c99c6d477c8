//! The service catalogue import (`samskap import services FILE.csv`), also used by the
//! demo so that demo data takes the path real data takes.
//!
//! The whole file is checked before anything is written, every bad row is reported as
//! `FILE:LINE: what is wrong`, and a good file is applied in one transaction. Importing
//! the same file again changes nothing.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use crate::core::domain::{OrganisationId, RegionId, RegionKind, ServiceId, ServiceType, SizeBand};
use crate::infra::db::{self, DbConn};
use crate::infra::models::{
    NewOrganisation, NewRegion, NewService, Organisation, Region, Service, ServiceChanges,
};

/// Required columns, in the documented order.
pub const REQUIRED_COLUMNS: &[&str] = &[
    "health_region",
    "county",
    "municipality",
    "organisation",
    "service_code",
    "service_name",
    "service_type",
    "size_band",
];
/// Optional columns: official numbers, used when present.
pub const OPTIONAL_COLUMNS: &[&str] = &["county_number", "municipality_number", "org_number"];

/// One row of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRecord {
    pub health_region: String,
    pub county: String,
    pub municipality: String,
    pub organisation: String,
    pub service_code: String,
    pub service_name: String,
    pub service_type: ServiceType,
    pub size_band: SizeBand,
    pub county_number: Option<String>,
    pub municipality_number: Option<String>,
    pub org_number: Option<String>,
}

/// A problem with one line of the file (line 1 is the header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub message: String,
}

/// Every problem in one file, printed as `FILE:LINE: message` lines.
#[derive(Debug)]
pub struct ImportErrors {
    pub file: String,
    pub errors: Vec<RowError>,
}

impl fmt::Display for ImportErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}:{}: {}", self.file, e.line, e.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ImportErrors {}

/// What an import did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    pub regions_created: usize,
    pub organisations_created: usize,
    pub services_created: usize,
    pub services_updated: usize,
    pub services_unchanged: usize,
}

impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} services created, {} updated, {} unchanged; {} regions and {} organisations created",
            self.services_created,
            self.services_updated,
            self.services_unchanged,
            self.regions_created,
            self.organisations_created
        )
    }
}

/// Parses and checks a catalogue file. Returns the records with their line numbers, or
/// every problem found.
pub fn read_services_csv(path: &Path) -> Result<Vec<(u64, ServiceRecord)>, ImportErrors> {
    let file = path.display().to_string();
    let data = std::fs::read(path).map_err(|e| ImportErrors {
        file: file.clone(),
        errors: vec![RowError {
            line: 0,
            message: format!("cannot read the file: {e}"),
        }],
    })?;
    parse_services_csv(&data).map_err(|errors| ImportErrors { file, errors })
}

/// A reader for the CSV files people import (this catalogue and respondent lists): UTF-8
/// with or without a byte-order mark, a header, surrounding spaces trimmed. Returns the
/// data the reader sees, for [`Lines`].
pub(crate) fn csv_reader(data: &[u8]) -> (csv::Reader<&[u8]>, &[u8]) {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(data);
    (reader, data)
}

/// Line numbers as an editor shows them. The csv crate counts only `\n`, and gives a
/// record the position where the reader started looking for it: in a file with CRLF
/// (Windows, Excel) or CR line ends, or after a blank line, every later row would be
/// reported a line or more too early, the first one on the header's line.
pub(crate) struct Lines<'a> {
    data: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            offset: 0,
            line: 1,
        }
    }

    /// The line on which the record whose search began at `position` starts. Positions
    /// come in ascending order, so the whole file is scanned once.
    pub(crate) fn of(&mut self, position: &csv::Position) -> u64 {
        let data = self.data;
        let mut start = usize::try_from(position.byte()).map_or(data.len(), |b| b.min(data.len()));
        while start < data.len() && matches!(data[start], b'\r' | b'\n') {
            start += 1;
        }
        if start < self.offset {
            (self.offset, self.line) = (0, 1);
        }
        for (i, byte) in data[self.offset..start].iter().enumerate() {
            let next = data.get(self.offset + i + 1);
            if *byte == b'\n' || (*byte == b'\r' && next != Some(&b'\n')) {
                self.line += 1;
            }
        }
        self.offset = start;
        self.line
    }
}

/// [`read_services_csv`] on bytes already in memory.
pub fn parse_services_csv(data: &[u8]) -> Result<Vec<(u64, ServiceRecord)>, Vec<RowError>> {
    let (mut reader, data) = csv_reader(data);
    let mut lines = Lines::new(data);
    let mut errors = Vec::new();

    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            return Err(vec![RowError {
                line: e.position().map_or(1, |p| lines.of(p)),
                message: format!("cannot read the header: {e}"),
            }]);
        }
    };
    let header_line = headers.position().map_or(1, |p| lines.of(p));
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, name) in headers.iter().enumerate() {
        if REQUIRED_COLUMNS.contains(&name) || OPTIONAL_COLUMNS.contains(&name) {
            if index.insert(name, i).is_some() {
                errors.push(RowError {
                    line: header_line,
                    message: format!("column `{name}` appears twice"),
                });
            }
        } else {
            errors.push(RowError {
                line: header_line,
                message: format!(
                    "unknown column `{name}`; columns are {} (and optionally {})",
                    REQUIRED_COLUMNS.join(", "),
                    OPTIONAL_COLUMNS.join(", ")
                ),
            });
        }
    }
    for name in REQUIRED_COLUMNS {
        if !index.contains_key(name) {
            errors.push(RowError {
                line: header_line,
                message: format!("missing column `{name}`"),
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut records = Vec::new();
    let mut seen_codes: HashMap<String, u64> = HashMap::new();
    // county → (health region, first line), for consistency inside the file.
    let mut county_parent: HashMap<String, (String, u64)> = HashMap::new();
    let mut record = csv::StringRecord::new();
    loop {
        let at = reader.position().clone();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = lines.of(e.position().unwrap_or(&at));
                errors.push(RowError {
                    line,
                    message: format!("unreadable row: {e}"),
                });
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
                continue;
            }
        }
        let line = lines.of(record.position().unwrap_or(&at));
        if record.iter().all(str::is_empty) {
            continue;
        }
        if record.len() != headers.len() {
            errors.push(RowError {
                line,
                message: format!("expected {} fields, found {}", headers.len(), record.len()),
            });
            continue;
        }
        match parse_row(&record, &index) {
            Ok(r) => {
                let mut row_ok = true;
                if let Some(first) = seen_codes.get(&r.service_code) {
                    errors.push(RowError {
                        line,
                        message: format!(
                            "service code {:?} already appears on line {first}",
                            r.service_code
                        ),
                    });
                    row_ok = false;
                }
                match county_parent.get(&r.county) {
                    Some((hr, first)) if *hr != r.health_region => {
                        errors.push(RowError {
                            line,
                            message: format!(
                                "county {:?} is placed under {:?} here but under {:?} on line {first}",
                                r.county, r.health_region, hr
                            ),
                        });
                        row_ok = false;
                    }
                    Some(_) => {}
                    None => {
                        county_parent.insert(r.county.clone(), (r.health_region.clone(), line));
                    }
                }
                if row_ok {
                    seen_codes.insert(r.service_code.clone(), line);
                    records.push((line, r));
                }
            }
            Err(problems) => errors.push(RowError {
                line,
                message: problems.join("; "),
            }),
        }
    }
    if records.is_empty() && errors.is_empty() {
        errors.push(RowError {
            line: header_line + 1,
            message: "the file has a header but no services".into(),
        });
    }
    if errors.is_empty() {
        Ok(records)
    } else {
        Err(errors)
    }
}

/// The columns of a row in the order its problems are reported.
const ROW_FIELDS: &[&str] = &[
    "health_region",
    "county",
    "municipality",
    "organisation",
    "service_code",
    "service_name",
    "service_type",
    "size_band",
    "county_number",
    "municipality_number",
    "org_number",
];

/// A row as written; `validator` checks each cell ([`crate::app::validation`]), and every
/// problem of the row is reported at once.
#[derive(Debug, crate::app::validation::Validate)]
struct Row<'a> {
    #[validate(custom(function = "crate::app::validation::not_blank"))]
    health_region: &'a str,
    #[validate(custom(function = "crate::app::validation::not_blank"))]
    county: &'a str,
    #[validate(custom(function = "crate::app::validation::not_blank"))]
    municipality: &'a str,
    #[validate(custom(function = "crate::app::validation::not_blank"))]
    organisation: &'a str,
    #[validate(custom(function = "crate::app::validation::code"))]
    service_code: &'a str,
    #[validate(custom(function = "crate::app::validation::not_blank"))]
    service_name: &'a str,
    #[validate(custom(function = "service_type"))]
    service_type: &'a str,
    #[validate(custom(function = "size_band"))]
    size_band: &'a str,
    #[validate(custom(function = "county_number"))]
    county_number: &'a str,
    #[validate(custom(function = "municipality_number"))]
    municipality_number: &'a str,
    #[validate(custom(function = "org_number"))]
    org_number: &'a str,
}

fn service_type(value: &str) -> Result<(), crate::app::validation::ValidationError> {
    crate::app::validation::choice(value, ServiceType::CODES)
}

fn size_band(value: &str) -> Result<(), crate::app::validation::ValidationError> {
    crate::app::validation::choice(value, SizeBand::CODES)
}

fn county_number(value: &str) -> Result<(), crate::app::validation::ValidationError> {
    crate::app::validation::digits(value, 2)
}

fn municipality_number(value: &str) -> Result<(), crate::app::validation::ValidationError> {
    crate::app::validation::digits(value, 4)
}

fn org_number(value: &str) -> Result<(), crate::app::validation::ValidationError> {
    crate::app::validation::digits(value, 9)
}

fn parse_row(
    record: &csv::StringRecord,
    index: &HashMap<&str, usize>,
) -> Result<ServiceRecord, Vec<String>> {
    let get = |name: &str| {
        index
            .get(name)
            .and_then(|&i| record.get(i))
            // A name samskap itself wrote with a guarding apostrophe reads back as it was.
            .map(crate::app::export::safe_csv::restore)
            .unwrap_or_default()
    };
    let row = Row {
        health_region: get("health_region"),
        county: get("county"),
        municipality: get("municipality"),
        organisation: get("organisation"),
        service_code: get("service_code"),
        service_name: get("service_name"),
        service_type: get("service_type"),
        size_band: get("size_band"),
        county_number: get("county_number"),
        municipality_number: get("municipality_number"),
        org_number: get("org_number"),
    };
    crate::app::validation::check(&row, ROW_FIELDS).map_err(|problems| {
        problems
            .0
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    })?;
    // Both parse: `validator` checked them against the same codes.
    let service_type = ServiceType::parse(row.service_type).map_err(|e| vec![e])?;
    let size_band = SizeBand::parse(row.size_band).map_err(|e| vec![e])?;
    let optional = |v: &str| (!v.is_empty()).then(|| v.to_owned());
    Ok(ServiceRecord {
        health_region: row.health_region.to_owned(),
        county: row.county.to_owned(),
        municipality: row.municipality.to_owned(),
        organisation: row.organisation.to_owned(),
        service_code: row.service_code.to_owned(),
        service_name: row.service_name.to_owned(),
        service_type,
        size_band,
        county_number: optional(row.county_number),
        municipality_number: optional(row.municipality_number),
        org_number: optional(row.org_number),
    })
}

/// Writes checked records in one transaction, with its audit record
/// (`catalogue.import`, naming `source`). Conflicts with what is already stored (a county
/// known under another health region) fail the whole import, reported per line.
pub fn apply(
    conn: &mut DbConn,
    actor: &crate::app::audit::Actor,
    source: &str,
    records: &[(u64, ServiceRecord)],
    progress: &dyn Fn(usize, usize),
) -> Result<ImportSummary, ApplyError> {
    crate::infra::db::write_transaction(conn, |conn| {
        let mut importer = Importer::default();
        let mut conflicts = Vec::new();
        for (done, (line, record)) in records.iter().enumerate() {
            if done % 100 == 0 {
                progress(done, records.len());
            }
            match importer.apply_one(conn, record)? {
                Ok(()) => {}
                Err(message) => conflicts.push(RowError {
                    line: *line,
                    message,
                }),
            }
        }
        progress(records.len(), records.len());
        if conflicts.is_empty() {
            crate::app::audit::record(
                conn,
                actor,
                "catalogue.import",
                Some(("file", source)),
                Some(serde_json::json!({
                    "rows": records.len(),
                    "summary": importer.summary.to_string(),
                })),
            )?;
            Ok(importer.summary)
        } else {
            // Returning an error rolls the transaction back: nothing is written.
            Err(ApplyError::Conflicts(conflicts))
        }
    })
}

/// Why [`apply`] wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("rows conflict with stored data")]
    Conflicts(Vec<RowError>),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

#[derive(Default)]
struct Importer {
    regions: HashMap<(RegionKind, Option<RegionId>, String), Region>,
    organisations: HashMap<String, OrganisationId>,
    summary: ImportSummary,
}

impl Importer {
    fn apply_one(
        &mut self,
        conn: &mut DbConn,
        r: &ServiceRecord,
    ) -> diesel::QueryResult<Result<(), String>> {
        let health_region =
            self.region(conn, RegionKind::HealthRegion, None, &r.health_region, None)?;
        let county = match self.county_under(conn, &health_region, r)? {
            Ok(county) => county,
            Err(message) => return Ok(Err(message)),
        };
        let municipality = self.region(
            conn,
            RegionKind::Municipality,
            Some(&county.id),
            &r.municipality,
            r.municipality_number.as_deref(),
        )?;
        let organisation = self.organisation(conn, &r.organisation, r.org_number.as_deref())?;

        let now = db::now();
        match Service::find_by_code(conn, &r.service_code)? {
            None => {
                Service::insert(
                    conn,
                    &NewService {
                        id: ServiceId::generate(),
                        code: r.service_code.clone(),
                        name: r.service_name.clone(),
                        service_type: r.service_type,
                        size_band: r.size_band,
                        organisation_id: organisation,
                        municipality_id: municipality.id,
                        county_id: county.id,
                        health_region_id: health_region.id,
                        active: true,
                        created_at: now,
                        updated_at: now,
                    },
                )?;
                self.summary.services_created += 1;
            }
            Some(existing) => {
                let unchanged = existing.name == r.service_name
                    && existing.service_type == r.service_type
                    && existing.size_band == r.size_band
                    && existing.organisation_id == organisation
                    && existing.municipality_id == municipality.id
                    && existing.county_id == county.id
                    && existing.health_region_id == health_region.id
                    && existing.active;
                if unchanged {
                    self.summary.services_unchanged += 1;
                } else {
                    Service::update(
                        conn,
                        &existing.id,
                        &ServiceChanges {
                            name: Some(r.service_name.clone()),
                            service_type: Some(r.service_type),
                            size_band: Some(r.size_band),
                            organisation_id: Some(organisation),
                            municipality_id: Some(municipality.id),
                            county_id: Some(county.id),
                            health_region_id: Some(health_region.id),
                            active: Some(true),
                            updated_at: Some(now),
                        },
                    )?;
                    self.summary.services_updated += 1;
                }
            }
        }
        Ok(Ok(()))
    }

    /// Counties are unique by name nationally: a county stored under another health region
    /// is a conflict, not a new county.
    fn county_under(
        &mut self,
        conn: &mut DbConn,
        health_region: &Region,
        r: &ServiceRecord,
    ) -> diesel::QueryResult<Result<Region, String>> {
        let elsewhere = Region::of_kind(conn, RegionKind::County)?
            .into_iter()
            .find(|c| c.name == r.county && c.parent_id.as_ref() != Some(&health_region.id));
        if let Some(other) = elsewhere {
            let parent_name = match &other.parent_id {
                Some(id) => Region::find(conn, id)?.name,
                None => String::from("?"),
            };
            return Ok(Err(format!(
                "county {:?} is stored under health region {parent_name:?}, not {:?}",
                r.county, r.health_region
            )));
        }
        self.region(
            conn,
            RegionKind::County,
            Some(&health_region.id),
            &r.county,
            r.county_number.as_deref(),
        )
        .map(Ok)
    }

    fn region(
        &mut self,
        conn: &mut DbConn,
        kind: RegionKind,
        parent: Option<&RegionId>,
        name: &str,
        code: Option<&str>,
    ) -> diesel::QueryResult<Region> {
        let key = (kind, parent.cloned(), name.to_owned());
        if let Some(region) = self.regions.get(&key) {
            return Ok(region.clone());
        }
        let region = if let Some(found) = Region::find_by_name(conn, kind, parent, name)? {
            found
        } else {
            let new = NewRegion {
                id: RegionId::generate(),
                kind,
                name: name.to_owned(),
                code: code.map(str::to_owned),
                parent_id: parent.cloned(),
                created_at: db::now(),
            };
            Region::insert(conn, &new)?;
            self.summary.regions_created += 1;
            Region::find(conn, &new.id)?
        };
        self.regions.insert(key, region.clone());
        Ok(region)
    }

    fn organisation(
        &mut self,
        conn: &mut DbConn,
        name: &str,
        org_number: Option<&str>,
    ) -> diesel::QueryResult<OrganisationId> {
        if let Some(id) = self.organisations.get(name) {
            return Ok(id.clone());
        }
        let id = if let Some(found) = Organisation::find_by_name(conn, name)? {
            found.id
        } else {
            let now = db::now();
            let id = OrganisationId::generate();
            Organisation::insert(
                conn,
                &NewOrganisation {
                    id: id.clone(),
                    name: name.to_owned(),
                    org_number: org_number.map(str::to_owned),
                    created_at: now,
                    updated_at: now,
                },
            )?;
            self.summary.organisations_created += 1;
            id
        };
        self.organisations.insert(name.to_owned(), id.clone());
        Ok(id)
    }
}

/// Writes records as a catalogue CSV (the demo's `--export` and tests use it).
pub fn write_services_csv<W: std::io::Write>(out: W, records: &[ServiceRecord]) -> csv::Result<()> {
    let mut w = crate::app::export::safe_csv::Writer::from_writer(out);
    let mut header: Vec<&str> = REQUIRED_COLUMNS.to_vec();
    header.extend_from_slice(OPTIONAL_COLUMNS);
    w.write_record(&header)?;
    for r in records {
        w.write_record([
            r.health_region.as_str(),
            &r.county,
            &r.municipality,
            &r.organisation,
            &r.service_code,
            &r.service_name,
            r.service_type.as_str(),
            r.size_band.as_str(),
            r.county_number.as_deref().unwrap_or_default(),
            r.municipality_number.as_deref().unwrap_or_default(),
            r.org_number.as_deref().unwrap_or_default(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "health_region,county,municipality,organisation,service_code,service_name,service_type,size_band\n";

    #[test]
    fn good_rows_parse() {
        let csv =
            format!("{HEADER}Helse Vest,Vestland,Bergen,Helse Bergen HF,S1,DPS Bergen,dps,30-99\n");
        let rows = parse_services_csv(csv.as_bytes()).expect("valid");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].0, 2);
        assert_eq!(rows[0].1.service_type, ServiceType::Dps);
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line() {
        let csv = format!(
            "{HEADER}\
             Helse Vest,Vestland,Bergen,Helse Bergen HF,S1,DPS Bergen,dps,30-99\n\
             Helse Vest,Vestland,Bergen,Helse Bergen HF,S2,X,clinic,30-99\n\
             Helse Vest,Vestland,Bergen,Helse Bergen HF,S1,Again,dps,30-99\n\
             Helse Nord,Vestland,Bergen,Helse Bergen HF,S3,Y,dps,30-99\n\
             Helse Vest,Vestland,Bergen,Helse Bergen HF,S4,,dps\n"
        );
        let errors = parse_services_csv(csv.as_bytes()).expect_err("bad rows");
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 6], "{errors:?}");
        assert!(
            errors[0]
                .message
                .contains("Service type: \"clinic\" is not one of the choices (dps,"),
            "{errors:?}"
        );
        assert!(errors[1].message.contains("already appears on line 2"));
        assert!(errors[2].message.contains("county \"Vestland\""));
        assert!(errors[3].message.contains("expected 8 fields, found 7"));
    }

    /// Every problem of a row at once, in the columns' order, the optional numbers too.
    #[test]
    fn every_problem_of_a_row_at_once() {
        let csv = "health_region,county,municipality,organisation,service_code,service_name,\
                   service_type,size_band,county_number,municipality_number,org_number\n\
                   Helse Vest,,Bergen,Helse Bergen HF,S 1,  ,dps,huge,046,4601,97475\n\
                   Helse Vest,Vestland,Bergen,Helse Bergen HF,S2,X,dps,1-9,46,4601,974557746\n";
        let errors = parse_services_csv(csv.as_bytes()).expect_err("bad row");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].line, 2);
        assert_eq!(
            errors[0].message,
            "County: required; \
             Service code: \"S 1\" may only hold letters A-Z, digits, '-', '_' and '.' (at most 64); \
             Service name: required; \
             Size band: \"huge\" is not one of the choices (1-9, 10-29, 30-99, 100+); \
             County number: \"046\" must be 2 digits; \
             Organisation number: \"97475\" must be 9 digits"
        );
    }

    #[test]
    fn rows_are_located_on_their_own_line_whatever_the_line_ends() {
        let row =
            |code: &str| format!("Helse Vest,Vestland,Bergen,Helse Bergen HF,{code},X,dps,1-9");
        for end in ["\n", "\r\n", "\r"] {
            // A blank line before S2; S3's name is quoted across two lines.
            let csv = format!(
                "{}{end}{}{end}{end}{}{end}{}{end}{}{end}",
                HEADER.trim_end(),
                row("S1"),
                row("S2"),
                row("S3").replace(",X,", &format!(",\"two{end}lines\",")),
                row("S4"),
            );
            let rows = parse_services_csv(csv.as_bytes()).expect("valid");
            let lines: Vec<u64> = rows.iter().map(|(line, _)| *line).collect();
            assert_eq!(lines, vec![2, 4, 5, 7], "line ends {end:?}");
        }
    }

    #[test]
    fn header_problems_are_reported_on_line_one() {
        let errors = parse_services_csv(b"health_region,county,colour\n").expect_err("bad header");
        assert!(errors.iter().all(|e| e.line == 1));
        assert!(
            errors
                .iter()
                .any(|e| e.message.contains("unknown column `colour`"))
        );
        assert!(
            errors
                .iter()
                .any(|e| e.message.contains("missing column `service_code`"))
        );
    }
}
