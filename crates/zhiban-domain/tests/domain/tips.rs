//! 线索举报 against a real database: an anonymous tip is followed up with
//! its receipt code and secret only; its content is encrypted at rest;
//! only the receiving unit's tip handlers read it (audited), not the
//! system administrator, not another unit.

use zhiban_domain::identity::roles;
use zhiban_domain::identity::staff::StaffSession;
use zhiban_domain::tips::keys::KeyState;
use zhiban_domain::tips::{self, NewTip, TipCategory, TipSettings, TipState};
use zhiban_domain::{Conflict, DomainError, pii};
use zhiban_store::sqlx;
use zhiban_testing::{World, staff_session};

const FRAUD: &str =
    "有人在小区门口发传单招刷单兼职，说点赞返利，加的微信号是 fake_wx_2026，我朋友已经被骗了三千块";

/// The account as the staff form would show it, to save it changed.
async fn input_of(w: &World, root: &StaffSession, id: i64) -> roles::StaffInput {
    let e = roles::get_staff(w.db(), root, id).await.expect("staff");
    roles::StaffInput {
        username: e.username,
        display_name: e.display_name,
        unit_id: e.unit_id,
        role_ids: e.role_ids,
        disabled: e.disabled,
        allow_concurrent: e.allow_concurrent,
        password: String::new(),
        phone: e.phone,
    }
}

async fn file(w: &World) -> tips::Receipt {
    tips::file(
        w.db(),
        &TipSettings::default(),
        None,
        &NewTip {
            category: Some(TipCategory::Fraud),
            content: FRAUD.into(),
            real_name: false,
            ..NewTip::default()
        },
    )
    .await
    .expect("filed")
}

#[tokio::test]
async fn an_anonymous_tip_is_followed_up_with_its_code_and_secret_only() {
    let w = World::new().await;
    let r = file(&w).await;
    assert!(r.receipt.starts_with("XS") && r.receipt.len() == 12);
    assert_eq!(r.secret.len(), 12);
    let tip = tips::follow(w.db(), &r.receipt.to_lowercase(), &r.secret)
        .await
        .expect("followed, the code typed in lower case");
    assert_eq!(tip.content, FRAUD);
    assert_eq!(tip.unit_name, "渝州市公安局");
    assert!(!tip.real_name);
    // A wrong secret, or a code that does not exist, finds nothing.
    assert!(matches!(
        tips::follow(w.db(), &r.receipt, "ABCDEFGHJKMN").await,
        Err(DomainError::NotFound)
    ));
    assert!(matches!(
        tips::follow(w.db(), "XS2345678923", &r.secret).await,
        Err(DomainError::NotFound)
    ));
    // Encrypted at rest: neither the content nor the secret is in the table.
    let (stored, hash): (String, String) =
        sqlx::query_as("SELECT content, secret_hash FROM tips WHERE receipt = $1")
            .bind(&r.receipt)
            .fetch_one(w.db().pool())
            .await
            .expect("row");
    assert!(!stored.contains("刷单") && !hash.contains(&r.secret));
    // Nothing about the reporter is kept: no audit record names the tip.
    let audited: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE target = $1")
        .bind(&r.receipt)
        .fetch_one(w.db().pool())
        .await
        .expect("count");
    assert_eq!(audited, 0);
}

#[tokio::test]
async fn only_the_receiving_units_tip_handlers_read_a_tip_and_each_reading_is_audited() {
    let w = World::new().await;
    let r = file(&w).await;
    let handler = w.handler("xs.ga", "500000-GA").await;
    let root = w.root().await;
    let other = w.handler("xs.za", "500000-GA-ZA").await;
    let admin_in_unit = w.staff("admin.ga", "500000-GA", &["system_admin"]).await;
    assert_eq!(
        tips::for_unit(w.db(), &handler).await.expect("list").len(),
        1
    );
    let tip = tips::for_staff(w.db(), &handler, &r.receipt)
        .await
        .expect("read");
    assert_eq!(tip.content, FRAUD);
    for (who, name) in [
        (&root, "root"),
        (&other, "a unit below"),
        (&admin_in_unit, "an administrator of the unit"),
    ] {
        assert!(
            matches!(
                tips::for_staff(w.db(), who, &r.receipt).await,
                Err(DomainError::NotFound)
            ),
            "{name} must not read it"
        );
        assert!(
            tips::for_unit(w.db(), who).await.expect("list").is_empty(),
            "{name} lists nothing"
        );
    }
    let reads: Vec<(String, String)> = sqlx::query_as(
        "SELECT actor, action FROM audit_log WHERE target = $1 OR target = $2 ORDER BY seq",
    )
    .bind(&r.receipt)
    .bind(format!("tip:{}", r.receipt))
    .fetch_all(w.db().pool())
    .await
    .expect("audit");
    assert!(
        reads.contains(&("xs.ga".into(), "tip.read".into())),
        "{reads:?}"
    );
    assert!(
        reads.iter().any(|(a, _)| a == "root"),
        "the refusal is audited: {reads:?}"
    );
}

#[tokio::test]
async fn the_unit_asks_the_reporter_answers_and_the_unit_closes_the_tip() {
    let w = World::new().await;
    let r = file(&w).await;
    let handler = w.handler("xs.ga2", "500000-GA").await;
    let empty = tips::unit_says(w.db(), &handler, &r.receipt, "  ", false).await;
    assert!(matches!(empty, Err(DomainError::Invalid(_))));
    let t = tips::unit_says(
        w.db(),
        &handler,
        &r.receipt,
        "请问发传单的人大概什么时间出现？",
        false,
    )
    .await
    .expect("asked");
    assert_eq!(t.state, TipState::Checking);
    assert!(
        !tips::for_unit(w.db(), &handler).await.expect("list")[0].awaiting_unit,
        "the unit spoke last"
    );
    let t = tips::reporter_says(
        w.db(),
        &r.receipt,
        &r.secret,
        "一般是周末上午十点左右，在东门",
    )
    .await
    .expect("answered");
    assert_eq!(t.messages.len(), 2);
    assert!(t.messages[0].from_unit && !t.messages[1].from_unit);
    assert!(tips::for_unit(w.db(), &handler).await.expect("list")[0].awaiting_unit);
    let t = tips::unit_says(
        w.db(),
        &handler,
        &r.receipt,
        "已核实并处置，感谢您的举报。",
        true,
    )
    .await
    .expect("closed");
    assert_eq!(t.state, TipState::Closed);
    let seen = tips::follow(w.db(), &r.receipt, &r.secret)
        .await
        .expect("seen");
    assert_eq!(seen.state, TipState::Closed);
    assert!(
        seen.messages
            .last()
            .is_some_and(|m| m.body.contains("已核实"))
    );
    assert!(
        tips::unit_says(w.db(), &handler, &r.receipt, "再问一句", false)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn drug_tips_go_to_the_unit_the_settings_name_and_real_name_needs_an_account() {
    let w = World::new().await;
    let who = w.citizen("13800138091", "赵六", 2).await;
    let r = tips::file(
        w.db(),
        &TipSettings::default(),
        Some(&who),
        &NewTip {
            category: Some(TipCategory::Drugs),
            content: "楼下出租屋经常半夜有人进出，闻到奇怪的味道，怀疑有人吸毒".into(),
            real_name: true,
            ..NewTip::default()
        },
    )
    .await
    .expect("filed");
    let t = tips::follow(w.db(), &r.receipt, &r.secret)
        .await
        .expect("tip");
    assert_eq!(t.unit_name, "渝州市公安局治安管理总队");
    assert!(t.real_name);
    let refused = tips::file(
        w.db(),
        &TipSettings::default(),
        None,
        &NewTip {
            category: None,
            content: "短".into(),
            real_name: true,
            ..NewTip::default()
        },
    )
    .await;
    let Err(DomainError::Invalid(errs)) = refused else {
        panic!("{refused:?}")
    };
    let fields: Vec<&str> = errs.iter().map(|e| e.field).collect();
    assert_eq!(fields, ["tip_category", "tip_content", "real_name"]);
}

#[tokio::test]
async fn the_demo_has_ten_tips_with_their_conversations() {
    let w = World::new().await;
    let n = tips::load_demo(w.db(), &TipSettings::default())
        .await
        .expect("demo");
    assert_eq!(n, 10);
    assert_eq!(
        tips::load_demo(w.db(), &TipSettings::default())
            .await
            .expect("again"),
        0
    );
    let bureau = w.handler("xs.demo", "500000-GA").await;
    let rows = tips::for_unit(w.db(), &bureau).await.expect("list");
    assert_eq!(rows.len(), 6, "drug and vice tips go to 治安管理总队");
    assert!(rows.iter().any(|r| r.state == TipState::Closed));
    let first = tips::for_staff(w.db(), &bureau, &rows[0].receipt)
        .await
        .expect("tip");
    assert!(!first.content.is_empty());
}

#[tokio::test]
async fn files_sent_with_a_tip_are_encrypted_and_opened_only_by_its_handlers() {
    let w = World::new().await;
    let token = "a-browsers-form-token";
    let photo = tips::files::stage(w.db(), token, "聊天截图.png", zhiban_testing::samples::PNG)
        .await
        .expect("staged");
    assert_eq!(photo.file_name, "聊天截图.png");
    // Not a picture, however it is named; too many bytes.
    let fake = tips::files::stage(w.db(), token, "截图.png", b"MZ\x90\x00 not an image").await;
    assert_eq!(fake.map_err(|e| e.code), Err("attachment_type"));
    let big = vec![0u8; tips::files::MAX_BYTES + 1];
    assert_eq!(
        tips::files::stage(w.db(), token, "big.png", &big)
            .await
            .map_err(|e| e.code),
        Err("attachment_too_large")
    );
    // Another browser's staged file cannot be claimed with this token.
    let elsewhere = tips::files::stage(
        w.db(),
        "another-browser",
        "x.png",
        zhiban_testing::samples::PNG,
    )
    .await
    .expect("staged");
    assert!(
        tips::files::staged(w.db(), token, &[photo.id, elsewhere.id])
            .await
            .expect("staged")
            .iter()
            .all(|f| f.id == photo.id)
    );
    let r = tips::file(
        w.db(),
        &TipSettings::default(),
        None,
        &NewTip {
            category: Some(TipCategory::Fraud),
            content: FRAUD.into(),
            files: vec![photo.id, elsewhere.id],
            form_token: token.into(),
            ..NewTip::default()
        },
    )
    .await
    .expect("filed");
    // Encrypted at rest: neither the name nor the bytes are readable.
    let (name, body): (String, String) =
        sqlx::query_as("SELECT file_name, body FROM tip_files WHERE id = $1")
            .bind(photo.id)
            .fetch_one(w.db().pool())
            .await
            .expect("row");
    use base64::Engine;
    let plain = base64::engine::general_purpose::STANDARD.encode(zhiban_testing::samples::PNG);
    assert!(!name.contains("聊天截图") && !body.contains(&plain[..40]));
    let handler = w.handler("xs.ga", "500000-GA").await;
    let tip = tips::for_staff(w.db(), &handler, &r.receipt)
        .await
        .expect("read");
    assert_eq!(tip.files.len(), 1, "only this browser's file came along");
    let (f, bytes) = tips::files::open_for_staff(w.db(), &handler, &tip, photo.id)
        .await
        .expect("opened");
    assert_eq!(
        (f.file_name.as_str(), bytes.as_slice()),
        ("聊天截图.png", zhiban_testing::samples::PNG)
    );
    // Not the administrator, not another unit; each opening audited.
    let root = w.root().await;
    let other = w.handler("xs.za", "500000-GA-ZA").await;
    for who in [&root, &other] {
        assert!(matches!(
            tips::files::open_for_staff(w.db(), who, &tip, photo.id).await,
            Err(DomainError::NotFound)
        ));
    }
    let opened: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'tip.file_read' AND actor = 'xs.ga'",
    )
    .fetch_one(w.db().pool())
    .await
    .expect("count");
    assert_eq!(opened, 1);
}

#[tokio::test]
async fn a_tip_is_sealed_for_its_units_handlers_and_the_servers_keys_do_not_open_it() {
    let w = World::new().await;
    let first = w.handler("xs.first", "500000-GA").await;
    let r = file(&w).await;
    // The unit's key was made with the tip and sealed for the handler who
    // had a key already: nothing waits under the server's data key.
    let (pending, grants): (Option<String>, i64) = sqlx::query_as(
        "SELECT k.pending_secret, (SELECT COUNT(*) FROM unit_key_grants g \
         WHERE g.unit_id = k.unit_id) FROM unit_keys k \
         JOIN departments d ON d.id = k.unit_id WHERE d.code = '500000-GA'",
    )
    .fetch_one(w.db().pool())
    .await
    .expect("unit key");
    assert_eq!((pending, grants), (None, 1));
    // The stored content is under the tip's own key: the data key that
    // opens every other personal field does not open it.
    let stored: String = sqlx::query_scalar("SELECT content FROM tips WHERE receipt = $1")
        .bind(&r.receipt)
        .fetch_one(w.db().pool())
        .await
        .expect("row");
    assert!(stored.starts_with("tk1:") && !stored.contains("刷单"));
    assert_ne!(
        pii::open(w.db(), pii::ctx::TIP_CONTENT, &stored)
            .ok()
            .as_deref(),
        Some(FRAUD)
    );

    assert_eq!(
        tips::for_staff(w.db(), &first, &r.receipt)
            .await
            .expect("read")
            .content,
        FRAUD
    );

    // A colleague who joins later has no key until one who holds it grants it.
    let second = w.handler("xs.second", "500000-GA").await;
    assert!(matches!(
        tips::for_staff(w.db(), &second, &r.receipt).await,
        Err(DomainError::Conflict(Conflict::NoTipKey))
    ));
    assert_eq!(
        tips::keys::state(w.db(), &second).await.expect("state").0,
        KeyState::NotGranted
    );
    assert!(matches!(
        tips::keys::grant(w.db(), &second, first.user.id).await,
        Err(DomainError::Conflict(Conflict::NoTipKey))
    ));
    let (state, waiting) = tips::keys::state(w.db(), &first).await.expect("state");
    assert_eq!(state, KeyState::Held);
    assert_eq!(
        waiting
            .iter()
            .map(|c| c.username.as_str())
            .collect::<Vec<_>>(),
        ["xs.second"]
    );
    tips::keys::grant(w.db(), &first, second.user.id)
        .await
        .expect("granted");
    assert_eq!(
        tips::for_staff(w.db(), &second, &r.receipt)
            .await
            .expect("read")
            .content,
        FRAUD
    );
    let granted: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'tip_key.grant' AND actor = 'xs.first' \
         AND target = 'xs.second'",
    )
    .fetch_one(w.db().pool())
    .await
    .expect("audit");
    assert_eq!(granted, 1);
    // Nobody outside the unit's handlers can be granted it.
    let admin = w.staff("admin.ga", "500000-GA", &["system_admin"]).await;
    assert!(matches!(
        tips::keys::grant(w.db(), &first, admin.user.id).await,
        Err(DomainError::NotFound)
    ));

    // An administrator's password reset leaves nothing to open: the key
    // pair and its grants go, and a colleague grants the key again.
    let root = w.root().await;
    let mut input = input_of(&w, &root, second.user.id).await;
    input.password = "Res3t!byadmin".into();
    roles::save_staff(w.db(), &root, Some(second.user.id), &input)
        .await
        .expect("reset");
    let left: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM staff_keys WHERE staff_id = $1) + \
         (SELECT COUNT(*) FROM unit_key_grants WHERE staff_id = $1)",
    )
    .bind(second.user.id)
    .fetch_one(w.db().pool())
    .await
    .expect("count");
    assert_eq!(left, 0);
    let again = staff_session(w.db(), "xs.second", "Res3t!byadmin").await;
    assert!(
        again.personal_key.is_none(),
        "a password an administrator set unlocks no key"
    );
    assert!(matches!(
        tips::for_staff(w.db(), &again, &r.receipt).await,
        Err(DomainError::Conflict(Conflict::NoPersonalKey))
    ));

    // Leaving the unit (or the role) drops the grant.
    let mut input = input_of(&w, &root, first.user.id).await;
    input.unit_id = Some(w.unit("500000-GA-ZA").await);
    roles::save_staff(w.db(), &root, Some(first.user.id), &input)
        .await
        .expect("moved");
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM unit_key_grants WHERE staff_id = $1")
        .bind(first.user.id)
        .fetch_one(w.db().pool())
        .await
        .expect("count");
    assert_eq!(kept, 0);
}

#[tokio::test]
async fn tips_filed_before_unit_keys_are_still_read_by_the_reporter_and_the_unit() {
    let w = World::new().await;
    let r = file(&w).await;
    // As a tip of an older version: under the data key, no keys of its own.
    sqlx::query(
        "UPDATE tips SET content = $2, unit_key = NULL, reporter_key = NULL WHERE receipt = $1",
    )
    .bind(&r.receipt)
    .bind(pii::seal(w.db(), pii::ctx::TIP_CONTENT, "旧版本的线索内容，仍可阅读").expect("seal"))
    .execute(w.db().pool())
    .await
    .expect("legacy");
    let handler = w.handler("xs.old", "500000-GA").await;
    tips::reporter_says(w.db(), &r.receipt, &r.secret, "补充：对方是男的")
        .await
        .expect("added");
    let seen = tips::for_staff(w.db(), &handler, &r.receipt)
        .await
        .expect("read");
    assert_eq!(seen.content, "旧版本的线索内容，仍可阅读");
    assert_eq!(seen.messages[0].body, "补充：对方是男的");
}
