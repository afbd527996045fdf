//! Many writers at once: registrations, case steps and catalog edits run
//! side by side. On SQLite every write transaction takes the write lock
//! first (`BEGIN IMMEDIATE`), so writers wait their turn instead of failing
//! with `database is locked`; on both engines nothing is lost and the
//! audit chain stays whole.

use std::sync::Arc;

use zhiban_domain::cases::{self, Actor, CaseAction, CaseState, Step};
use zhiban_domain::catalog::{self, SaveMode};
use zhiban_domain::identity::citizen;
use zhiban_domain::{ActorName, audit};
use zhiban_store::sqlx;
use zhiban_testing::{World, register_citizen};

/// Items whose guides staff edit during the run.
const ITEMS: [&str; 4] = [
    "500000-GA-HZ-0001-01",
    "500000-GA-HZ-0001-02",
    "500000-GA-JXJ-0002-01",
    "500000-RS-0001-03",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn registrations_case_steps_and_catalog_edits_at_once_all_succeed_and_nothing_is_lost() {
    let w = Arc::new(World::new().await);
    let clerk = Arc::new(w.staff("hz.clerk", "500000-GA-HZ", &["case_handler"]).await);
    // Cases waiting for acceptance, filed beforehand.
    let mut numbers = Vec::new();
    for i in 0..6 {
        let who = w.citizen(&format!("1370000010{i}"), "李四", 2).await;
        numbers.push(super::cases::apply(&w, &who).await.number);
    }
    let items = items_to_edit(&w).await;

    let mut tasks: Vec<tokio::task::JoinHandle<Result<(), String>>> = Vec::new();
    for i in 0..12 {
        let w = Arc::clone(&w);
        tasks.push(tokio::spawn(async move {
            register_citizen(w.db(), &format!("1390000{i:04}")).await;
            Ok(())
        }));
    }
    for number in numbers.clone() {
        let (w, clerk) = (Arc::clone(&w), Arc::clone(&clerk));
        tasks.push(tokio::spawn(async move {
            cases::act(
                &w.desk(),
                Actor::Staff(&clerk),
                &number,
                CaseAction::Accept,
                Step::default(),
            )
            .await
            .map(|_| ())
            .map_err(|e| format!("{number}: {e}"))
        }));
    }
    for mut item in items {
        let w = Arc::clone(&w);
        tasks.push(tokio::spawn(async move {
            item.hours = format!("{}（并发测试）", item.hours);
            let mode = SaveMode::Update {
                expected_version: item.version,
            };
            catalog::save_service(w.db(), &item, mode, &ActorName("editor".into()), "并发")
                .await
                .map(|_| ())
                .map_err(|e| format!("{}: {e}", item.code))
        }));
    }
    let mut errors = Vec::new();
    for task in tasks {
        if let Err(e) = task.await.expect("task") {
            errors.push(e);
        }
    }
    assert!(errors.is_empty(), "every writer succeeded: {errors:?}");

    for i in 0..12 {
        let phone = format!("1390000{i:04}");
        assert!(
            citizen::lookup_by_phone(w.db(), "auditor", &phone)
                .await
                .expect("lookup")
                .is_some(),
            "{phone} registered"
        );
    }
    for number in &numbers {
        let c = cases::for_staff(w.db(), &clerk, number)
            .await
            .expect("case");
        assert_eq!(c.state, CaseState::Accepted, "{number}");
    }
    for code in ITEMS {
        let item = catalog::get_service(w.db(), code).await.expect("item");
        assert!(item.hours.ends_with("（并发测试）"), "{code} saved");
    }
    let accepted: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM case_events WHERE action = 'accept'")
            .fetch_one(w.db().pool())
            .await
            .expect("events");
    assert_eq!(accepted, 6, "one event per step");
    let chain = audit::verify(w.db()).await.expect("verify");
    assert_eq!(chain.broken, None, "the audit chain is whole");
}

async fn items_to_edit(w: &World) -> Vec<catalog::ServiceItem> {
    let mut out = Vec::new();
    for code in ITEMS {
        out.push(w.item(code).await);
    }
    out
}
