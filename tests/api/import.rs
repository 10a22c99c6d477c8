use diesel::prelude::*;
use samskap::infra::db::schema::{organisations, regions, services};
use samskap::infra::models::Service;

use crate::helpers::{TestDb, stderr, stdout};

const HEADER: &str = "health_region,county,municipality,organisation,service_code,service_name,service_type,size_band\n";

fn good_file() -> String {
    format!(
        "{HEADER}\
         Helse Vest,Vestland,Bergen,Helse Bergen HF,HB-DPS-1,DPS Bjørgvin,dps,100+\n\
         Helse Vest,Vestland,Bergen,Bergen kommune,BK-PHR,\"Psykisk helse og rus, Bergen kommune\",municipal,100+\n\
         Helse Nord,Troms,Tromsø,Universitetssykehuset Nord-Norge HF,UNN-BUP,BUP Tromsø,bup,30-99\n"
    )
}

fn counts(db: &TestDb) -> (i64, i64, i64) {
    let conn = &mut db.connect();
    (
        regions::table.count().get_result(conn).expect("count"),
        organisations::table
            .count()
            .get_result(conn)
            .expect("count"),
        services::table.count().get_result(conn).expect("count"),
    )
}

#[test]
fn a_good_file_is_imported() {
    let db = TestDb::new();
    let file = db.write("services.csv", &good_file());
    let out = db.samskap(&["import", "services", file.to_str().expect("utf8")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(
            "3 services created, 0 updated, 0 unchanged; 6 regions and 3 organisations created"
        ),
        "{}",
        stdout(&out)
    );
    // 2 health regions + 2 counties + 2 municipalities.
    assert_eq!(counts(&db), (6, 3, 3));

    let conn = &mut db.connect();
    let dps = Service::find_by_code(conn, "HB-DPS-1")
        .expect("query")
        .expect("stored");
    assert_eq!(dps.name, "DPS Bjørgvin");
    assert_eq!(dps.size_band.as_str(), "100+");
    // On record: who (the command line), which file, what changed.
    let entries = samskap::infra::models::AuditEntry::recent(conn, 10).expect("audit");
    let import = entries
        .iter()
        .find(|e| e.action == "catalogue.import")
        .expect("the import is audited");
    assert_eq!(import.target_id.as_deref(), file.to_str());
    assert!(
        import
            .details
            .as_deref()
            .is_some_and(|d| d.contains("\"rows\":3") && d.contains("3 services created")),
        "{:?}",
        import.details
    );
}

#[test]
fn three_bad_rows_are_all_reported_and_nothing_is_written() {
    let db = TestDb::new();
    let file = db.write(
        "bad.csv",
        &format!(
            "{HEADER}\
             Helse Vest,Vestland,Bergen,Helse Bergen HF,HB-DPS-1,DPS Bjørgvin,dps,100+\n\
             Helse Vest,Vestland,Bergen,Helse Bergen HF,HB-X,Clinic,clinic,30-99\n\
             Helse Vest,Vestland,Askøy,Askøy kommune,AK-1,,municipal,10-29\n\
             Helse Vest,Vestland,Voss,Voss herad,VO-1,Psykisk helse Voss,municipal,huge\n\
             Helse Vest,Vestland,Voss,Voss herad,VO-2,Rus Voss,municipal,10-29\n"
        ),
    );
    let name = file.to_str().expect("utf8");
    let out = db.samskap(&["import", "services", name]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let located: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with(&format!("{name}:")))
        .collect();
    assert_eq!(located.len(), 3, "{err}");
    assert!(
        located[0].starts_with(&format!(
            "{name}:3: Service type: \"clinic\" is not one of the choices (dps, hospital_ward, bup, tsb, municipal, act, low_threshold)"
        )),
        "{err}"
    );
    assert!(
        located[1].starts_with(&format!("{name}:4: Service name: required")),
        "{err}"
    );
    assert!(
        located[2].starts_with(&format!(
            "{name}:5: Size band: \"huge\" is not one of the choices (1-9, 10-29, 30-99, 100+)"
        )),
        "{err}"
    );
    assert!(err.contains("nothing was imported"), "{err}");
    assert_eq!(counts(&db), (0, 0, 0));
}

#[test]
fn reimporting_the_same_file_changes_nothing() {
    let db = TestDb::new();
    let file = db.write("services.csv", &good_file());
    let path = file.to_str().expect("utf8");
    assert!(db.samskap(&["import", "services", path]).status.success());
    let before = {
        let conn = &mut db.connect();
        Service::all(conn).expect("services")
    };

    let again = db.samskap(&["import", "services", path]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again).contains(
            "0 services created, 0 updated, 3 unchanged; 0 regions and 0 organisations created"
        ),
        "{}",
        stdout(&again)
    );
    assert_eq!(counts(&db), (6, 3, 3));
    let after = {
        let conn = &mut db.connect();
        Service::all(conn).expect("services")
    };
    let stamp = |v: &[Service]| {
        v.iter()
            .map(|s| (s.id.clone(), s.updated_at))
            .collect::<Vec<_>>()
    };
    assert_eq!(stamp(&before), stamp(&after), "no row was touched");
}

#[test]
fn changed_rows_update_services_in_place() {
    let db = TestDb::new();
    let path = db.write("services.csv", &good_file());
    assert!(
        db.samskap(&["import", "services", path.to_str().expect("utf8")])
            .status
            .success()
    );
    let changed = good_file().replace("BUP Tromsø,bup,30-99", "BUP Tromsø,bup,10-29");
    let path = db.write("services.csv", &changed);
    let out = db.samskap(&["import", "services", path.to_str().expect("utf8")]);
    assert!(
        stdout(&out).contains("0 services created, 1 updated, 2 unchanged"),
        "{}",
        stdout(&out)
    );
    assert_eq!(counts(&db), (6, 3, 3));
}

#[test]
fn conflicts_with_stored_data_are_located_and_roll_back() {
    let db = TestDb::new();
    let path = db.write("services.csv", &good_file());
    assert!(
        db.samskap(&["import", "services", path.to_str().expect("utf8")])
            .status
            .success()
    );
    let conflicting = format!(
        "{HEADER}\
         Helse Vest,Vestland,Voss,Voss herad,VO-1,Psykisk helse Voss,municipal,10-29\n\
         Helse Midt-Norge,Troms,Harstad,Harstad kommune,HA-1,Psykisk helse Harstad,municipal,10-29\n"
    );
    let path = db.write("conflict.csv", &conflicting);
    let name = path.to_str().expect("utf8");
    let out = db.samskap(&["import", "services", name]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!(
            "{name}:3: county \"Troms\" is stored under health region \"Helse Nord\""
        )),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        counts(&db),
        (6, 3, 3),
        "the good row on line 2 was rolled back too"
    );
    let conn = &mut db.connect();
    let imports = samskap::infra::models::AuditEntry::recent(conn, 10)
        .expect("audit")
        .into_iter()
        .filter(|e| e.action == "catalogue.import")
        .count();
    assert_eq!(
        imports, 1,
        "only the import that changed something is on record"
    );
}

#[test]
fn a_missing_file_is_named() {
    let db = TestDb::new();
    let out = db.samskap(&["import", "services", "nope.csv"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("nope.csv:0: cannot read the file"),
        "{}",
        stderr(&out)
    );
}
