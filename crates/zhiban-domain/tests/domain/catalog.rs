//! Catalog and staff rules against a real database (SQLite, or PostgreSQL
//! when ZHIBAN_TEST_DATABASE_URL is set). Each test owns its database.

use std::collections::HashSet;

use zhiban_domain::catalog::transfer::{self, Format, ImportError};
use zhiban_domain::catalog::{self, CatalogSnapshot, SaveMode, ServiceInput, Status};
use zhiban_domain::{ActorName, DomainError, demo};
use zhiban_testing::TestDb;

fn actor() -> ActorName {
    ActorName("tester".into())
}

#[tokio::test]
async fn demo_data_is_a_realistic_city_catalog() {
    let t = TestDb::demo().await.expect("test database");
    let all = catalog::list_services(&t.db, None).await.expect("list");
    assert!(all.len() >= 300, "only {} items", all.len());
    let departments: HashSet<_> = all.iter().map(|s| s.department_code.clone()).collect();
    assert!(
        departments.len() >= 30,
        "only {} departments",
        departments.len()
    );
    let names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
    for must in [
        "居民身份证补领",
        "临时居民身份证",
        "出生登记",
        "无犯罪记录证明",
        "机动车转移登记",
        "普通护照",
        "往来港澳通行证",
        "社会保障卡",
        "失业保险金",
        "异地就医备案",
        "结婚登记",
        "离婚登记",
        "最低生活保障",
        "住房公积金",
        "公司设立登记",
        "食品经营许可",
        "个人所得税",
        "不动产",
        "建筑工程施工许可",
        "残疾人证",
    ] {
        assert!(names.iter().any(|n| n.contains(must)), "missing {must}");
    }
    assert!(all.iter().any(|s| s.police_domain.is_some()));
    assert!(all.iter().any(|s| s.status == Status::Draft));
}

#[tokio::test]
async fn loading_demo_data_twice_changes_nothing_the_second_time() {
    let t = TestDb::demo().await.expect("test database");
    assert!(demo::load_if_empty(&t.db).await.expect("load").is_none());
}

#[tokio::test]
async fn every_save_leaves_a_revision_and_bumps_the_version() {
    let t = TestDb::demo().await.expect("test database");
    let item = catalog::list_services(&t.db, Some(Status::Published))
        .await
        .expect("list")
        .remove(0);
    let mut input = ServiceInput::from_item(&item);
    input.name = format!("{}（新版）", item.name);
    let depts = catalog::department_names(&t.db).await.expect("depts");
    let edited = input.validate(&depts).expect("valid");
    let v = catalog::save_service(
        &t.db,
        &edited,
        SaveMode::Update {
            expected_version: item.version,
        },
        &actor(),
        "改名",
    )
    .await
    .expect("save");
    assert_eq!(v, item.version + 1);
    let stale = catalog::save_service(
        &t.db,
        &edited,
        SaveMode::Update {
            expected_version: item.version,
        },
        &actor(),
        "",
    )
    .await;
    assert!(matches!(
        stale,
        Err(DomainError::Conflict(zhiban_domain::Conflict::Stale))
    ));
    catalog::set_status(&t.db, &item.code, Status::Draft, &actor())
        .await
        .expect("unpublish");
    let history = catalog::history(&t.db, &item.code).await.expect("history");
    assert_eq!(history[0].action, "unpublish");
    assert_eq!(history[1].action, "update");
    assert_eq!(history[1].note, "改名");
    assert_eq!(history[1].changed_by, "tester");
    assert!(history[1].snapshot.name.ends_with("（新版）"));
    assert_eq!(history.last().map(|r| r.action.as_str()), Some("create"));
    let snapshot = CatalogSnapshot::load(&t.db).await.expect("snapshot");
    assert!(
        snapshot.get(&item.code).is_none(),
        "withdrawn item is not public"
    );
}

#[tokio::test]
async fn creating_an_item_with_a_taken_code_is_refused() {
    let t = TestDb::demo().await.expect("test database");
    let item = catalog::list_services(&t.db, None)
        .await
        .expect("list")
        .remove(0);
    let r = catalog::save_service(&t.db, &item, SaveMode::Create, &actor(), "").await;
    assert!(matches!(
        r,
        Err(DomainError::Conflict(zhiban_domain::Conflict::CodeTaken))
    ));
}

#[tokio::test]
async fn an_import_with_one_bad_row_writes_nothing() {
    let t = TestDb::demo().await.expect("test database");
    let before = catalog::list_services(&t.db, None).await.expect("list");
    let csv = transfer::export_csv(&before).expect("export");
    // Rename every item, then break the 3rd data row (spreadsheet row 4).
    let mut rows = transfer::read_rows(&csv, Format::Csv).expect("rows");
    for r in rows.iter_mut() {
        r.name.push_str("（改）");
    }
    rows[2].legal_limit_days = "六十".into();
    let depts = catalog::department_names(&t.db).await.expect("depts");
    let errs = transfer::validate_rows(&rows, &depts).expect_err("invalid");
    assert_eq!(errs[0].row, 4);
    // Same through the whole import path, with the file bytes.
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(catalog::transfer_columns().iter().map(|(_, zh)| *zh))
        .expect("header");
    for r in &rows {
        w.write_record(catalog::transfer_columns().iter().map(|(k, _)| r.get(k)))
            .expect("row");
    }
    let csv = w.into_inner().expect("bytes");
    let err = transfer::import(&t.db, &csv, Format::Csv, &actor())
        .await
        .expect_err("rejected");
    let ImportError::Rows(rows_err) = err else {
        panic!("expected row errors")
    };
    assert_eq!(rows_err.len(), 1);
    assert_eq!(rows_err[0].row, 4);
    let after = catalog::list_services(&t.db, None).await.expect("list");
    assert_eq!(before, after, "nothing may change");
}

#[tokio::test]
async fn a_valid_import_creates_and_updates_in_one_go() {
    let t = TestDb::demo().await.expect("test database");
    let mut items = catalog::list_services(&t.db, None).await.expect("list");
    items.truncate(2);
    items[0].fees = "工本费10元".into();
    items[1].code = "TEST-NEW-0001".into();
    let bytes = transfer::export_xlsx(&items).expect("xlsx");
    let summary = transfer::import(&t.db, &bytes, Format::Xlsx, &actor())
        .await
        .expect("imported");
    assert_eq!((summary.created, summary.updated), (1, 1));
    let updated = catalog::get_service(&t.db, &items[0].code)
        .await
        .expect("get");
    assert_eq!(updated.fees, "工本费10元");
    assert!(catalog::get_service(&t.db, "TEST-NEW-0001").await.is_ok());
}

#[tokio::test]
async fn search_analytics_older_than_the_retention_period_are_purged_with_their_clicks() {
    use zhiban_domain::search_terms;
    let t = TestDb::new().await.expect("db");
    let now = chrono::Utc::now();
    let old = search_terms::log_search(
        &t.db,
        "身份证",
        3,
        "127.0.0.1",
        now - chrono::Duration::days(200),
    )
    .await
    .expect("old");
    search_terms::log_click(&t.db, old, "/services/x", now - chrono::Duration::days(200))
        .await
        .expect("click");
    let recent = search_terms::log_search(
        &t.db,
        "护照",
        2,
        "127.0.0.1",
        now - chrono::Duration::days(10),
    )
    .await
    .expect("recent");
    assert_eq!(
        search_terms::purge_older_than(&t.db, 180, now)
            .await
            .expect("purge"),
        1
    );
    let left: Vec<i64> = zhiban_store::sqlx::query_scalar("SELECT id FROM search_log")
        .fetch_all(t.db.pool())
        .await
        .expect("rows");
    assert_eq!(left, vec![recent]);
    let clicks: i64 = zhiban_store::sqlx::query_scalar("SELECT COUNT(*) FROM search_clicks")
        .fetch_one(t.db.pool())
        .await
        .expect("clicks");
    assert_eq!(clicks, 0);
}

/// Synonyms learned from the search log (#19): a query whose opened results
/// are mostly one item is suggested as that item's name once three people
/// did so; staff accept it (it becomes a synonym) or turn it down (it does
/// not come back); spread clicks, adverts and the item's own name are not
/// suggested.
#[tokio::test]
async fn the_search_log_suggests_synonyms_that_staff_accept_or_turn_down() {
    use zhiban_domain::search_terms::{self, LEARN_MIN_CLIENTS};
    let w = zhiban_testing::World::new().await;
    let db = w.db();
    let now = db.now();
    let code_of = |name: &'static str| async move {
        let code: String =
            zhiban_store::sqlx::query_scalar("SELECT code FROM services WHERE name = $1")
                .bind(name)
                .fetch_one(db.pool())
                .await
                .unwrap();
        format!("/services/{code}")
    };
    let pension = code_of("基本养老保险待遇申领（退休）").await;
    let card = code_of("社会保障卡申领").await;
    let search = |q: &'static str, client: String, target: String| async move {
        let id = search_terms::log_search(db, q, 5, &client, now)
            .await
            .unwrap();
        search_terms::log_click(db, id, &target, now).await.unwrap();
    };
    for i in 0..LEARN_MIN_CLIENTS {
        search("老汉领退休金", format!("10.0.0.{i}"), pension.clone()).await;
        // Spread: as many open one item as the other.
        search("社保那些事", format!("10.0.1.{i}"), pension.clone()).await;
        search("社保那些事", format!("10.0.2.{i}"), card.clone()).await;
        search("加微信办社保卡", format!("10.0.3.{i}"), card.clone()).await;
        search("社会保障卡", format!("10.0.4.{i}"), card.clone()).await;
    }
    // Two people are not yet enough.
    for i in 0..2 {
        search("养老钱", format!("10.0.5.{i}"), pension.clone()).await;
    }
    let since = now - chrono::Duration::days(30);
    let learned = search_terms::learned_synonyms(db, since).await.unwrap();
    let queries: Vec<&str> = learned.iter().map(|l| l.query.as_str()).collect();
    assert_eq!(queries, ["老汉领退休金"], "{learned:?}");
    assert_eq!(learned[0].item_name, "基本养老保险待遇申领（退休）");
    assert_eq!(
        (learned[0].clients, learned[0].share),
        (LEARN_MIN_CLIENTS, 100)
    );

    // A unit's account may not decide for the city.
    let unit = w.staff("dept9", "500000-GA", &["dept_admin"]).await;
    assert!(
        search_terms::review_learned(db, &unit, "老汉领退休金", &pension, true)
            .await
            .is_err()
    );
    let root = w.root().await;
    search_terms::review_learned(db, &root, "老汉领退休金", &pension, true)
        .await
        .unwrap();
    let synonyms = search_terms::synonym_pairs(db).await.unwrap();
    assert!(synonyms.contains(&(
        "老汉领退休金".to_string(),
        "基本养老保险待遇申领（退休）".to_string()
    )));
    assert!(
        search_terms::learned_synonyms(db, since)
            .await
            .unwrap()
            .is_empty()
    );

    // Turned down, a suggestion stays away even as more people search it.
    search("养老钱", "10.0.5.9".into(), pension.clone()).await;
    assert_eq!(
        search_terms::learned_synonyms(db, since).await.unwrap()[0].query,
        "养老钱"
    );
    search_terms::review_learned(db, &root, "养老钱", &pension, false)
        .await
        .unwrap();
    search("养老钱", "10.0.5.10".into(), pension.clone()).await;
    assert!(
        search_terms::learned_synonyms(db, since)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        !search_terms::synonym_pairs(db)
            .await
            .unwrap()
            .iter()
            .any(|(p, _)| p == "养老钱")
    );
}
