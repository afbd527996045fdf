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
fn create_admin_makes_an_auditor_who_holds_only_audit_viewing() {
    let dir = tempfile::tempdir().expect("dir");
    let run = |role: &str| {
        Command::new(env!("CARGO_BIN_EXE_zhiban"))
            .args(["--data-dir", dir.path().to_str().expect("path")])
            .args(["create-admin", "--username", "audit1", "--role", role])
            .env_remove("DATABASE_URL")
            .env("ZHIBAN_ADMIN_PASSWORD", "Str0ng!pass")
            .env("ZHIBAN__LOG__LEVEL", "warn")
            .output()
            .expect("runs")
    };
    let unknown = run("superuser");
    assert!(!unknown.status.success(), "an unknown role is refused");
    assert!(run("auditor").status.success());
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("zhiban.db").display()
    );
    let perms: Vec<String> = tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(async {
            let db = zhiban_store::Db::connect(&url).await.expect("db");
            let p = zhiban_store::sqlx::query_scalar(
                "SELECT rp.permission FROM staff_users u \
                 JOIN staff_roles sr ON sr.user_id = u.id \
                 JOIN role_permissions rp ON rp.role_id = sr.role_id \
                 WHERE u.username = 'audit1'",
            )
            .fetch_all(db.pool())
            .await
            .expect("perms");
            db.close().await;
            p
        });
    assert_eq!(perms, vec!["audit.view".to_string()]);
}

#[test]
fn audit_verify_passes_an_intact_log_and_names_a_tampered_record() {
    let dir = tempfile::tempdir().expect("dir");
    create_admin(dir.path(), "ops");
    let (ok, out, _) = zhiban(dir.path(), &["audit", "verify"]);
    assert!(ok, "{out}");
    assert!(out.contains("intact: 1 records"), "{out}");
    // The command signed a checkpoint outside the database before it ended.
    let anchors = std::fs::read_to_string(dir.path().join("audit-anchors.log")).expect("anchors");
    assert_eq!(anchors.lines().count(), 1, "{anchors}");

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

fn create_admin(dir: &std::path::Path, username: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_zhiban"))
        .arg("--data-dir")
        .arg(dir)
        .args(["create-admin", "--username", username])
        .env_remove("DATABASE_URL")
        .env("ZHIBAN__LOG__LEVEL", "warn")
        .env("ZHIBAN_ADMIN_PASSWORD", "Str0ng!pass")
        .output()
        .expect("runs");
    assert!(out.status.success());
}

#[test]
fn audit_verify_notices_the_newest_records_cut_off() {
    let dir = tempfile::tempdir().expect("dir");
    create_admin(dir.path(), "ops");
    create_admin(dir.path(), "auditor");
    let (ok, out, _) = zhiban(dir.path(), &["audit", "verify"]);
    assert!(ok && out.contains("intact: 2 records"), "{out}");
    // Remove the newest record and its checkpoint, and point the head back:
    // the database alone is consistent again; the anchor file is not.
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("zhiban.db").display()
    );
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(async {
            let db = zhiban_store::Db::connect(&url).await.expect("db");
            for sql in [
                "DELETE FROM audit_log WHERE seq = 2",
                "DELETE FROM audit_checkpoints WHERE seq = 2",
                "UPDATE audit_head SET seq = 1, hash = (SELECT hash FROM audit_log WHERE seq = 1)",
            ] {
                zhiban_store::sqlx::query(sql)
                    .execute(db.pool())
                    .await
                    .expect(sql);
            }
            db.close().await;
        });
    let (ok, _, err) = zhiban(dir.path(), &["audit", "verify"]);
    assert!(!ok, "a cut-off log fails");
    assert!(err.contains("broken at record 2: truncated"), "{err}");
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

#[test]
fn keys_are_made_once_and_a_rotation_shows_in_the_status() {
    let dir = tempfile::tempdir().expect("dir");
    let (ok, out, err) = zhiban(dir.path(), &["keys", "status"]);
    assert!(ok, "{err}");
    assert!(out.contains("suite gm"), "{out}");
    assert!(out.contains("values not under the active key: 0"), "{out}");
    let key_file = dir.path().join("master.key");
    let first = std::fs::read_to_string(&key_file).expect("key file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "only the owner reads the master key");
    }
    let (ok, out, err) = zhiban(dir.path(), &["keys", "rotate"]);
    assert!(ok, "{err}");
    assert!(out.contains("rotated to k"), "{out}");
    let (ok, out, _) = zhiban(dir.path(), &["keys", "status"]);
    assert!(ok);
    assert!(out.contains("retired") && out.contains("active"), "{out}");
    assert_eq!(
        std::fs::read_to_string(&key_file).expect("key file"),
        first,
        "the key file is made once"
    );
    // Another master key cannot open these keys: a clear refusal.
    let out = Command::new(env!("CARGO_BIN_EXE_zhiban"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["keys", "status"])
        .env_remove("DATABASE_URL")
        .env("ZHIBAN_MASTER_KEY", "ab".repeat(32))
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("master key"), "{err}");
}

fn exported_license(dir: &std::path::Path) -> (std::path::PathBuf, String) {
    use zhiban_domain::licenses::{ExportFile, FORMAT, LicenseDoc, SignatureBlock};
    let doc = LicenseDoc {
        number: "ZZ202611240000000011".into(),
        type_code: "no_crime".into(),
        type_name: "无犯罪记录证明".into(),
        holder_name: "王小明".into(),
        holder_id_number: "11010519491231002X".into(),
        fields: [("purpose".to_string(), "出国留学".to_string())].into(),
        issuer_code: "500000-GA".into(),
        issuer_name: "渝州市公安局".into(),
        issued_on: "2026-11-24".into(),
        expires_on: String::new(),
    };
    let s = zhiban_crypto::suite(zhiban_crypto::SuiteKind::Gm);
    let (secret, public) = s.generate_signing_key();
    let file = ExportFile {
        format: FORMAT.into(),
        signature: SignatureBlock {
            suite: "gm".into(),
            algorithm: "SM2-with-SM3".into(),
            key_id: "sk1".into(),
            public_key: hex_of(&public),
            value: zhiban_crypto::sign_b64(s.as_ref(), &secret, &doc.canonical()).expect("sign"),
        },
        license: doc,
        verify_url: "https://zw.example.gov.cn/licenses/verify/ZZ202611240000000011".into(),
    };
    let path = dir.join("license.json");
    let text = serde_json::to_string_pretty(&file).expect("json");
    std::fs::write(&path, &text).expect("write");
    (path, text)
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn license_verify_checks_an_exported_file_offline() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, text) = exported_license(dir.path());
    let p = path.to_str().expect("path");
    let (ok, out, err) = zhiban(dir.path(), &["license", "verify", p]);
    assert!(ok, "{err}");
    assert!(out.contains("结论      有效 (valid)"), "{out}");
    assert!(
        out.contains("王**") && !out.contains("王小明"),
        "masked: {out}"
    );
    let fp = out
        .lines()
        .find_map(|l| l.strip_prefix("签名密钥  "))
        .expect("fingerprint")
        .to_string();
    let (ok, _, err) = zhiban(dir.path(), &["license", "verify", p, "--fingerprint", &fp]);
    assert!(ok, "{err}");
    let (ok, _, err) = zhiban(
        dir.path(),
        &["license", "verify", p, "--fingerprint", "0000000000000000"],
    );
    assert!(!ok && err.contains("not this issuer"), "{err}");
    // One byte changed: 出国留学 → 出国留校.
    std::fs::write(&path, text.replacen("出国留学", "出国留校", 1)).expect("write");
    let (ok, out, err) = zhiban(dir.path(), &["license", "verify", p]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("tampered") && err.contains("tampered"),
        "{out} {err}"
    );
    std::fs::write(&path, "not json").expect("write");
    let (ok, _, err) = zhiban(dir.path(), &["license", "verify", p]);
    assert!(!ok && err.contains("not a license file"), "{err}");
}
