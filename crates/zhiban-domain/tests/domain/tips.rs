//! 线索举报 against a real database: an anonymous tip is followed up with
//! its receipt code and secret only; its content is encrypted at rest;
//! only the receiving unit's tip handlers read it (audited), not the
//! system administrator, not another unit.

use zhiban_domain::DomainError;
use zhiban_domain::tips::{self, NewTip, TipCategory, TipSettings, TipState};
use zhiban_testing::World;

const FRAUD: &str =
    "有人在小区门口发传单招刷单兼职，说点赞返利，加的微信号是 fake_wx_2026，我朋友已经被骗了三千块";

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
    let handler = w.staff("xs.ga", "500000-GA", &["tip_handler"]).await;
    let root = w.root().await;
    let other = w.staff("xs.za", "500000-GA-ZA", &["tip_handler"]).await;
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
    let handler = w.staff("xs.ga2", "500000-GA", &["tip_handler"]).await;
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
    let bureau = w.staff("xs.demo", "500000-GA", &["tip_handler"]).await;
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
    let handler = w.staff("xs.ga", "500000-GA", &["tip_handler"]).await;
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
    let other = w.staff("xs.za", "500000-GA-ZA", &["tip_handler"]).await;
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
