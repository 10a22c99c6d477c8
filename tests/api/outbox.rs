//! The outbox worker when several instances share one database.

use std::sync::{Arc, Mutex};

use samskap::infra::mail::{Outgoing, Transport, Worker};

use crate::helpers::TestDb;

#[test]
fn two_workers_on_one_database_send_each_message_exactly_once() {
    let db = TestDb::new();
    {
        let conn = &mut db.connect();
        for i in 0..60 {
            let queued = samskap::infra::mail::enqueue(
                conn,
                &Outgoing {
                    kind: "invitation",
                    dedupe_key: format!("test:{i}"),
                    to: format!("person{i}@example.no"),
                    language: "en".into(),
                    subject: format!("Message {i}"),
                    text: "Hello".into(),
                    html: "<p>Hello</p>".into(),
                    wave_id: None,
                    invitation_id: None,
                },
                samskap::infra::db::now(),
            )
            .expect("enqueue");
            assert!(queued);
        }
        // Queueing the same logical message again queues nothing.
        let again = samskap::infra::mail::enqueue(
            conn,
            &Outgoing {
                kind: "invitation",
                dedupe_key: "test:0".into(),
                to: "person0@example.no".into(),
                language: "en".into(),
                subject: "Message 0".into(),
                text: "Hello".into(),
                html: "<p>Hello</p>".into(),
                wave_id: None,
                invitation_id: None,
            },
            samskap::infra::db::now(),
        )
        .expect("enqueue");
        assert!(!again);
    }
    let pool = db.database_url().pool(8).expect("pool");
    let (a, b) = (
        Arc::new(Mutex::new(Vec::new())),
        Arc::new(Mutex::new(Vec::new())),
    );
    let workers = [
        Worker::new(
            pool.clone(),
            Transport::Memory(a.clone()),
            "samskap <noreply@example.no>".into(),
        ),
        Worker::new(
            pool.clone(),
            Transport::Memory(b.clone()),
            "samskap <noreply@example.no>".into(),
        ),
    ];
    let handles: Vec<_> = workers
        .into_iter()
        .map(|w| std::thread::spawn(move || w.drain().expect("drain")))
        .collect();
    let sent: usize = handles.into_iter().map(|h| h.join().expect("worker")).sum();
    assert_eq!(sent, 60);
    let mut subjects: Vec<String> = a
        .lock()
        .expect("a")
        .iter()
        .chain(b.lock().expect("b").iter())
        .map(|m| m.subject.clone())
        .collect();
    assert_eq!(subjects.len(), 60, "no message sent twice");
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), 60, "every message sent");
    let conn = &mut db.connect();
    assert_eq!(
        samskap::infra::mail::counts(conn, None)
            .expect("counts")
            .sent,
        60
    );
}
