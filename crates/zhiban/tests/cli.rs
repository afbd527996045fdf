//! The command line as an operator uses it: a real `zhiban` process over a
//! data directory of the test's own.

#![allow(clippy::expect_used)]

use std::process::Command;

fn zhiban(data: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_zhiban"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("DATABASE_URL")
        .env("ZHIBAN__LOG__LEVEL", "warn")
        .output()
        .expect("zhiban runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn reindex_builds_the_search_index_in_the_data_directory() {
    let dir = tempfile::tempdir().expect("dir");
    let (ok, out, err) = zhiban(dir.path(), &["reindex"]);
    assert!(ok, "{err}");
    assert!(out.contains("document(s) indexed"), "{out}");
    assert!(dir.path().join("index/meta.json").exists());
}

#[test]
fn eval_search_reports_hit_rates_and_misses() {
    let dir = tempfile::tempdir().expect("dir");
    let set = dir.path().join("set.tsv");
    std::fs::write(
        &set,
        "# comment\n身份证丢了\t居民身份证补领\n量子纠缠\t不存在的事项\n",
    )
    .expect("write");
    let (ok, out, err) = zhiban(dir.path(), &["eval", "search", set.to_str().expect("path")]);
    assert!(ok, "{err}");
    assert!(out.contains("queries: 2"), "{out}");
    assert!(out.contains("top-3: 1 (50.0%)"), "{out}");
    assert!(out.contains("MISS line 3: 量子纠缠"), "{out}");
}

#[test]
fn check_config_hides_database_passwords() {
    let dir = tempfile::tempdir().expect("dir");
    let out = Command::new(env!("CARGO_BIN_EXE_zhiban"))
        .args([
            "--data-dir",
            dir.path().to_str().expect("path"),
            "check-config",
        ])
        .env("DATABASE_URL", "postgres://zb:s3cret@db.example/zhiban")
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        text.contains("postgres://zb:***@db.example/zhiban"),
        "{text}"
    );
    assert!(!text.contains("s3cret"));
}

#[test]
fn create_admin_refuses_a_weak_password_and_accepts_a_strong_one() {
    let dir = tempfile::tempdir().expect("dir");
    let run = |password: &str| {
        Command::new(env!("CARGO_BIN_EXE_zhiban"))
            .args(["--data-dir", dir.path().to_str().expect("path")])
            .args(["create-admin", "--username", "ops"])
            .env("ZHIBAN_ADMIN_PASSWORD", password)
            .env("ZHIBAN__LOG__LEVEL", "warn")
            .output()
            .expect("runs")
    };
    let weak = run("password");
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("至少8位"));
    let strong = run("Str0ng!pass");
    assert!(strong.status.success());
    assert!(String::from_utf8_lossy(&strong.stdout).contains("staff account ops is ready"));
}

#[test]
fn audit_verify_passes_an_intact_log_and_names_a_tampered_record() {
    let dir = tempfile::tempdir().expect("dir");
    let create = Command::new(env!("CARGO_BIN_EXE_zhiban"))
        .args(["--data-dir", dir.path().to_str().expect("path")])
        .args(["create-admin", "--username", "ops"])
        .env_remove("DATABASE_URL")
        .env("ZHIBAN_ADMIN_PASSWORD", "Str0ng!pass")
        .output()
        .expect("runs");
    assert!(create.status.success());
    let (ok, out, _) = zhiban(dir.path(), &["audit", "verify"]);
    assert!(ok, "{out}");
    assert!(out.contains("intact: 1 records"), "{out}");

    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("zhiban.db").display()
    );
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(async {
            let db = zhiban_store::Db::connect(&url).await.expect("db");
            zhiban_store::sqlx::query("UPDATE audit_log SET actor = 'someone else' WHERE seq = 1")
                .execute(db.pool())
                .await
                .expect("tamper");
            db.close().await;
        });
    let (ok, _, err) = zhiban(dir.path(), &["audit", "verify"]);
    assert!(!ok, "a tampered log fails");
    assert!(err.contains("broken at record 1: altered"), "{err}");
}

#[test]
fn check_storage_round_trips_a_file_in_the_data_directory_and_names_a_bad_store() {
    let dir = tempfile::tempdir().expect("dir");
    let (ok, out, err) = zhiban(dir.path(), &["check-storage"]);
    assert!(ok, "{err}");
    assert!(out.contains("storage ok") && out.contains("files"), "{out}");
    let bad = Command::new(env!("CARGO_BIN_EXE_zhiban"))
        .arg("--data-dir")
        .arg(dir.path())
        .arg("check-storage")
        .env("ZHIBAN__STORAGE_URL", "ftp://nowhere")
        .env("ZHIBAN__LOG__LEVEL", "warn")
        .output()
        .expect("runs");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("ftp://nowhere"));
}
