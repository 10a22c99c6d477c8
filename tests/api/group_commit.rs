//! Group commit: units written together in one transaction each keep their own outcome.

use std::sync::Arc;

use samskap::infra::crypto::DerivedKeys;
use samskap::infra::db::GroupCommit;
use samskap::infra::models::Wave;

use crate::helpers::TestDb;

/// Many threads at once: every successful unit is stored, every failing unit leaves
/// nothing behind, and each caller gets its own result.
#[test]
fn concurrent_units_keep_their_own_outcome() {
    let db = TestDb::new();
    let mut conn = db.connect();
    let keys = DerivedKeys::new(&samskap::infra::config::Secret::new(
        "group-commit-test-secret-0123456789",
    ));
    samskap::cli::commands::store_instruments(&mut conn, &samskap::core::instrument::built_in().0)
        .expect("instrument");
    let (wave, _) = samskap::tools::bench::prepare(&mut conn, &keys, 1, None).expect("prepare");
    let before = Wave::data_version(&mut conn, &wave).expect("version");
    let pool = db.settings().database.pool(8).expect("pool");
    let group = Arc::new(GroupCommit::default());
    let threads: Vec<_> = (0..24)
        .map(|i| {
            let (pool, group, wave) = (pool.clone(), group.clone(), wave.clone());
            std::thread::spawn(move || {
                let mut conn = pool.get().expect("connection");
                let mut results = Vec::new();
                for round in 0..5 {
                    let fail = (i + round) % 3 == 0;
                    let wave = wave.clone();
                    results.push((
                        fail,
                        group.run(&mut conn, move |conn| {
                            Wave::bump_data_version(conn, &wave)?;
                            if fail {
                                return Err(diesel::result::Error::RollbackTransaction);
                            }
                            Ok(i * 100 + round)
                        }),
                    ));
                }
                (i, results)
            })
        })
        .collect();
    let mut succeeded = 0;
    for thread in threads {
        let (i, results) = thread.join().expect("thread");
        for (round, (fail, result)) in results.into_iter().enumerate() {
            if fail {
                assert!(
                    matches!(result, Err(diesel::result::Error::RollbackTransaction)),
                    "{result:?}"
                );
            } else {
                assert_eq!(result.expect("stored"), i * 100 + round);
                succeeded += 1;
            }
        }
    }
    let after = Wave::data_version(&mut conn, &wave).expect("version");
    assert_eq!(
        after - before,
        succeeded,
        "exactly the successful units' writes stayed"
    );
    assert!(succeeded > 0 && succeeded < 120);
}
