//! Daily housekeeping against a real database: expired rows go, live ones
//! stay, and the next run is queued once however many nodes ask.

#![allow(clippy::expect_used)]

use chrono::Utc;
use zhiban_domain::{housekeeping, jobs};
use zhiban_store::sqlx;
use zhiban_store::testing::TestDb;

#[tokio::test]
async fn expired_rows_and_old_finished_jobs_are_removed_and_live_ones_kept() {
    let t = TestDb::new().await.expect("db");
    let now = Utc::now();
    let old = now.timestamp() - housekeeping::GRACE_SECS - 60;
    for (name, at) in [("old", old), ("recent", now.timestamp() - 60)] {
        sqlx::query("INSERT INTO login_failures (username, failed_at) VALUES ($1, $2)")
            .bind(name)
            .bind(at)
            .execute(t.db.pool())
            .await
            .expect("failure");
    }
    {
        let mut conn = t.db.pool().acquire().await.expect("conn");
        for key in ["done-long-ago", "done-today", "pending"] {
            jobs::enqueue(&mut conn, "noop", &serde_json::json!({}), 0, Some(key))
                .await
                .expect("job");
        }
    }
    sqlx::query("UPDATE jobs SET done_at = $1 WHERE dedupe = 'done-long-ago'")
        .bind(now.timestamp() - (housekeeping::JOBS_KEPT_DAYS + 1) * 86_400)
        .execute(t.db.pool())
        .await
        .expect("done");
    sqlx::query("UPDATE jobs SET done_at = $1 WHERE dedupe = 'done-today'")
        .bind(now.timestamp())
        .execute(t.db.pool())
        .await
        .expect("done");

    let removed = housekeeping::purge(&t.db, now).await.expect("purge");
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
    let now = Utc::now();
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
    let beijing = at.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("offset"));
    assert_eq!(beijing.format("%H:%M").to_string(), "03:00");
    assert!(runs[0] > now.timestamp() && runs[0] <= now.timestamp() + 2 * 86_400);
}
