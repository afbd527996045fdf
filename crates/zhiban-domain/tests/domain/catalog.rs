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
