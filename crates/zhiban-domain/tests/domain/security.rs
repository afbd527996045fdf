//! Findings of the security assessment (#13) at the domain level: SMS codes
//! used up only by a change that commits, audit truncation that the
//! database alone cannot show, gaps in the checkpoints, unsigned records,
//! and sessions that end however busy they are.

use chrono::Duration;
use zhiban_domain::audit::{self, Anchors, Entry};
use zhiban_domain::identity::SecurityPolicy;
use zhiban_domain::identity::citizen::{self, Registration};
use zhiban_domain::identity::ids::Phone;
use zhiban_domain::identity::sms::{self, DevOutboxGateway, Purpose};
use zhiban_domain::identity::staff::{self, Client};
use zhiban_domain::{Db, DomainError};
use zhiban_store::sqlx;
use zhiban_testing::{TestDb, register_citizen, sms_code};

#[tokio::test]
async fn a_registration_that_does_not_go_through_leaves_its_sms_code_usable() {
    let t = TestDb::new().await.expect("db");
    let phone = "13800138123";
    register_citizen(&t.db, phone).await;
    // A second registration of the same phone is refused after the code
    // was checked: the code must still be live (nothing was committed).
    t.db.clock().advance(Duration::seconds(61));
    let p = Phone::parse(phone).expect("phone");
    sms::send_code(&t.db, &DevOutboxGateway, &p, Purpose::Register, t.db.now())
        .await
        .expect("sent");
    let code = sms_code(&t.db, phone).await;
    let again = Registration {
        phone: phone.into(),
        code: code.clone(),
        password: zhiban_testing::PASSWORD.into(),
        accept_privacy: true,
    };
    let r = citizen::register(
        &t.db,
        &SecurityPolicy::default(),
        &again,
        &Client::default(),
        t.db.now(),
    )
    .await;
    assert!(matches!(r, Err(DomainError::Invalid(ref e)) if e[0].code == "phone_registered"));
    assert!(
        sms::check_code(&t.db, &p, Purpose::Register, &code, t.db.now())
            .await
            .expect("check"),
        "the code was not used up by a registration that did not happen"
    );
}

async fn events(db: &Db, n: usize) {
    for i in 0..n {
        audit::record(db, Entry::staff("admin", "test.event", format!("t{i}")))
            .await
            .expect("append");
    }
}

/// What someone with write access to the database does to hide the newest
/// records: delete them and their checkpoints, and point the head back.
async fn cut_tail(db: &Db, keep: i64) {
    sqlx::query("DELETE FROM audit_log WHERE seq > $1")
        .bind(keep)
        .execute(db.pool())
        .await
        .expect("delete");
    sqlx::query("DELETE FROM audit_checkpoints WHERE seq > $1")
        .bind(keep)
        .execute(db.pool())
        .await
        .expect("delete");
    let hash: String = sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = $1")
        .bind(keep)
        .fetch_one(db.pool())
        .await
        .expect("hash");
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(keep)
        .bind(hash)
        .execute(db.pool())
        .await
        .expect("head");
}

#[tokio::test]
async fn cutting_off_the_newest_audit_records_shows_against_the_anchor_file() {
    let t = TestDb::new().await.expect("db");
    let dir = tempfile::tempdir().expect("dir");
    let anchors = Anchors::file(dir.path().join("audit-anchors.log"));
    events(&t.db, 3).await;
    assert_eq!(
        audit::checkpoint(&t.db, &anchors).await.expect("sign"),
        Some(3)
    );
    events(&t.db, 3).await;
    assert_eq!(
        audit::checkpoint(&t.db, &anchors).await.expect("sign"),
        Some(6)
    );
    let v = audit::verify_anchored(&t.db, &anchors, 600)
        .await
        .expect("verify");
    assert_eq!(v.broken, None);
    assert_eq!(v.records, 6);

    cut_tail(&t.db, 3).await;
    // The database alone still looks whole …
    assert_eq!(audit::verify(&t.db).await.expect("verify").broken, None);
    // … but the anchor written outside it remembers record 6.
    let v = audit::verify_anchored(&t.db, &anchors, 600)
        .await
        .expect("verify");
    assert_eq!(v.broken, Some((6, "truncated")), "{v:?}");

    // A forged line in the anchor file is caught too.
    std::fs::write(
        dir.path().join("audit-anchors.log"),
        "1 3 abc 0 0 nokey nosignature\n",
    )
    .expect("write");
    let v = audit::verify_anchored(&t.db, &anchors, 600)
        .await
        .expect("verify");
    assert_eq!(v.broken.map(|b| b.1), Some("anchor_forged"));
}

#[tokio::test]
async fn a_checkpoint_taken_out_of_the_middle_leaves_a_gap() {
    let t = TestDb::new().await.expect("db");
    for _ in 0..3 {
        events(&t.db, 2).await;
        audit::checkpoint(&t.db, &Anchors::default())
            .await
            .expect("sign");
    }
    assert_eq!(
        audit::verify_anchored(&t.db, &Anchors::default(), 600)
            .await
            .expect("verify")
            .broken,
        None
    );
    sqlx::query("DELETE FROM audit_checkpoints WHERE n = 2")
        .execute(t.db.pool())
        .await
        .expect("delete");
    let v = audit::verify_anchored(&t.db, &Anchors::default(), 600)
        .await
        .expect("verify");
    assert_eq!(v.broken.map(|b| b.1), Some("checkpoint_missing"), "{v:?}");
}

#[tokio::test]
async fn records_left_unsigned_past_the_allowed_age_fail_the_check() {
    let t = TestDb::new().await.expect("db");
    events(&t.db, 2).await;
    audit::checkpoint(&t.db, &Anchors::default())
        .await
        .expect("sign");
    events(&t.db, 1).await;
    // Fresh records may wait for the next checkpoint …
    let v = audit::verify_anchored(&t.db, &Anchors::default(), 600)
        .await
        .expect("v");
    assert_eq!(v.broken, None);
    // … but not for longer than the setting.
    t.db.clock().advance(Duration::minutes(11));
    let v = audit::verify_anchored(&t.db, &Anchors::default(), 600)
        .await
        .expect("v");
    assert_eq!(v.broken, Some((3, "unanchored")));
    audit::checkpoint(&t.db, &Anchors::default())
        .await
        .expect("sign");
    let v = audit::verify_anchored(&t.db, &Anchors::default(), 600)
        .await
        .expect("v");
    assert_eq!(v.broken, None);
}

#[tokio::test]
async fn a_busy_session_still_ends_after_its_absolute_lifetime() {
    let t = TestDb::new().await.expect("db");
    staff::create_or_reset(&t.db, "admin", "", "Adm1n!pass")
        .await
        .expect("admin");
    let policy = SecurityPolicy {
        staff_second_factor: false,
        ..SecurityPolicy::default()
    };
    let user = staff::login(&t.db, &policy, "admin", "Adm1n!pass", t.db.now())
        .await
        .expect("login");
    let token = staff::start_session(&t.db, &policy, &user, &Client::default(), t.db.now())
        .await
        .expect("session");
    // Active every twenty minutes (well inside the idle timeout) …
    let mut alive = 0;
    for _ in 0..40 {
        t.db.clock().advance(Duration::minutes(20));
        if staff::session(&t.db, &policy, &token, t.db.now())
            .await
            .expect("q")
            .is_some()
        {
            alive += 1;
        }
    }
    // … but only for the 12 hours a session may last (35 checks of 20 min).
    assert_eq!(alive, 35);
}
