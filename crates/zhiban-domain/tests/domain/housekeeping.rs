//! Daily housekeeping against a real database: expired rows go, live ones
//! stay, and the next run is queued once however many nodes ask.

use chrono::{Duration, Utc};
use zhiban_domain::{housekeeping, jobs};
use zhiban_store::sqlx;
use zhiban_testing::TestDb;

/// A sign-in failure recorded at the clock's current time.
async fn failure(t: &TestDb, username: &str) {
    sqlx::query("INSERT INTO login_failures (username, failed_at) VALUES ($1, $2)")
        .bind(username)
        .bind(t.db.now().timestamp())
        .execute(t.db.pool())
        .await
        .expect("failure");
}

/// Queues a job and, unless `pending`, runs it to completion now.
async fn job(t: &TestDb, key: &str, pending: bool) {
    let mut tx = t.db.begin().await.expect("tx");
    jobs::enqueue(&mut tx, "noop", &serde_json::json!({}), 0, Some(key))
        .await
        .expect("job");
    tx.commit().await.expect("commit");
    if !pending {
        let id: i64 = sqlx::query_scalar("SELECT id FROM jobs WHERE dedupe = $1")
            .bind(key)
            .fetch_one(t.db.pool())
            .await
            .expect("id");
        jobs::finish(&t.db, id, t.db.now().timestamp())
            .await
            .expect("done");
    }
}

#[tokio::test]
async fn expired_rows_and_old_finished_jobs_are_removed_and_live_ones_kept() {
    let t = TestDb::new().await.expect("db");
    let start = chrono::DateTime::parse_from_rfc3339("2026-03-02T01:00:00Z")
        .expect("time")
        .with_timezone(&Utc);
    t.db.clock().set(start);
    failure(&t, "old").await;
    job(&t, "done-long-ago", false).await;
    t.db.clock()
        .advance(Duration::days(housekeeping::JOBS_KEPT_DAYS + 1));
    failure(&t, "recent").await;
    job(&t, "done-today", false).await;
    job(&t, "pending", true).await;
    t.db.clock().advance(Duration::minutes(1));

    let removed = housekeeping::purge(&t.db, t.db.now()).await.expect("purge");
    assert!(removed.contains(&("login_failures", 1)), "{removed:?}");
    assert!(removed.contains(&("jobs", 1)), "{removed:?}");
    let left: Vec<String> = sqlx::query_scalar("SELECT username FROM login_failures")
        .fetch_all(t.db.pool())
        .await
        .expect("left");
    assert_eq!(left, vec!["recent".to_string()]);
    let jobs_left: Vec<String> = sqlx::query_scalar("SELECT dedupe FROM jobs ORDER BY dedupe")
        .fetch_all(t.db.pool())
        .await
        .expect("left");
    assert_eq!(
        jobs_left,
        vec!["done-today".to_string(), "pending".to_string()]
    );
}

#[tokio::test]
async fn the_next_run_is_queued_once_for_tomorrow_at_three() {
    let t = TestDb::new().await.expect("db");
    let now = t.db.now();
    housekeeping::schedule(&t.db, now)
        .await
        .expect("first node");
    housekeeping::schedule(&t.db, now)
        .await
        .expect("second node");
    let runs: Vec<i64> = sqlx::query_scalar("SELECT run_at FROM jobs WHERE kind = 'housekeeping'")
        .fetch_all(t.db.pool())
        .await
        .expect("jobs");
    assert_eq!(runs.len(), 1);
    let at = chrono::DateTime::from_timestamp(runs[0], 0).expect("time");
    let beijing = at.with_timezone(&zhiban_domain::time::beijing());
    assert_eq!(beijing.format("%H:%M").to_string(), "03:00");
    assert!(runs[0] > now.timestamp() && runs[0] <= now.timestamp() + 2 * 86_400);
}
