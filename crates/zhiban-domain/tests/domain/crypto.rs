//! Personal data at rest (#6): encryption with blind indexes, the start-up
//! pass for old plain-text rows, key rotation interrupted and resumed, and
//! the signed audit checkpoints. Each test owns its database (SQLite, or
//! PostgreSQL with ZHIBAN_TEST_DATABASE_URL).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Utc;
use zhiban_crypto::{Hasher, MasterKey, SoftSm3, SuiteKind};
use zhiban_domain::audit::{self, Entry};
use zhiban_domain::identity::SecurityPolicy;
use zhiban_domain::identity::citizen::{self, DevIdVerifier};
use zhiban_domain::identity::staff::Client;
use zhiban_domain::{Db, DomainError, keys, pii};
use zhiban_store::sqlx;
use zhiban_testing::{TestDb, register_citizen};

fn policy() -> SecurityPolicy {
    SecurityPolicy::default()
}

/// A valid 身份证号 ending in the given three digits.
fn id_number(tail: u32) -> String {
    let body = format!("11010519491231{tail:03}");
    let check = zhiban_domain::identity::ids::id_check_char(&body).expect("check");
    format!("{body}{check}")
}

async fn raw(db: &Db, sql: &str, id: i64) -> String {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .bind(id)
        .fetch_one(db.pool())
        .await
        .expect("raw")
}

#[tokio::test]
async fn phone_and_id_number_are_stored_encrypted_and_still_found_exactly() {
    let t = TestDb::new().await.expect("db");
    let c = register_citizen(&t.db, "13800138001").await;
    let stored = raw(&t.db, "SELECT phone FROM citizens WHERE id = $1", c.id).await;
    assert!(stored.starts_with("zb1:"), "{stored}");
    assert!(!stored.contains("13800138001"));
    assert_eq!(c.phone, "13800138001", "read back decrypted");

    // Sign-in finds the account through the phone's blind index.
    let (who, _) = citizen::login_password(
        &t.db,
        &policy(),
        "138 0013 8001",
        zhiban_testing::PASSWORD,
        &Client::default(),
        Utc::now(),
    )
    .await
    .expect("signed in");
    assert_eq!(who.id, c.id);

    // 实名认证: the 身份证号 is encrypted, and binding it to a second
    // account is refused through its blind index.
    let id = id_number(11);
    citizen::verify_real_name(&t.db, &DevIdVerifier, &c, "王小明", &id)
        .await
        .expect("verified");
    let stored = raw(&t.db, "SELECT id_number FROM citizens WHERE id = $1", c.id).await;
    assert!(stored.starts_with("zb1:") && !stored.contains(&id[..10]));
    assert_eq!(citizen::get(&t.db, c.id).await.expect("get").id_number, id);
    let other = register_citizen(&t.db, "13800138002").await;
    let err = citizen::verify_real_name(&t.db, &DevIdVerifier, &other, "王小明", &id)
        .await
        .expect_err("bound");
    assert!(
        matches!(&err, DomainError::Invalid(e) if e[0].code == "id_number_bound"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_changed_byte_or_a_value_moved_to_another_column_fails_loudly() {
    let t = TestDb::new().await.expect("db");
    let c = register_citizen(&t.db, "13800138003").await;
    let stored = raw(&t.db, "SELECT phone FROM citizens WHERE id = $1", c.id).await;
    // Flip one character of the ciphertext.
    let mut chars: Vec<char> = stored.chars().collect();
    let i = chars.len() - 5;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    sqlx::query("UPDATE citizens SET phone = $1 WHERE id = $2")
        .bind(&tampered)
        .bind(c.id)
        .execute(t.db.pool())
        .await
        .expect("edit");
    assert!(
        citizen::get(&t.db, c.id).await.is_err(),
        "not a silent blank"
    );
    // The original phone ciphertext copied into the email column does not
    // decrypt there: each value is bound to its column.
    sqlx::query("UPDATE citizens SET phone = $1, email = $1 WHERE id = $2")
        .bind(&stored)
        .bind(c.id)
        .execute(t.db.pool())
        .await
        .expect("copy");
    assert!(citizen::get(&t.db, c.id).await.is_ok());
    assert!(citizen::email(&t.db, c.id).await.is_err());
}

/// Inserts a citizen the way rows looked before encryption existed.
async fn legacy_citizen(db: &Db, n: u32) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO citizens (phone, password_hash, name, id_number, level, created_at, email) \
         VALUES ($1, 'x', '李四', $2, 2, 0, $3) RETURNING id",
    )
    .bind(format!("1390000{n:04}"))
    .bind(id_number(n))
    .bind(format!("user{n}@example.cn"))
    .fetch_one(db.pool())
    .await
    .expect("legacy row")
}

#[tokio::test]
async fn plain_text_rows_from_before_are_encrypted_at_start_and_stay_findable() {
    let t = TestDb::new().await.expect("db");
    let id = legacy_citizen(&t.db, 7).await;
    assert!(pii::pending(&t.db).await.expect("pending") >= 3);
    let pass = keys::encrypt_pending(&t.db).await.expect("pass");
    assert!(pass.complete && pass.moved >= 3, "{pass:?}");
    assert_eq!(pii::pending(&t.db).await.expect("pending"), 0);
    let stored = raw(&t.db, "SELECT phone FROM citizens WHERE id = $1", id).await;
    assert!(stored.starts_with("zb1:"));
    // The pass filled in the blind index, so the phone finds the person.
    let found = citizen::lookup_by_phone(&t.db, "admin", "13900000007")
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!(found.id, id);
    assert_eq!(found.id_number, id_number(7));
    assert_eq!(
        citizen::email(&t.db, id).await.expect("email"),
        "user7@example.cn"
    );
}

#[tokio::test]
async fn a_rotation_interrupted_half_way_resumes_without_losing_a_row() {
    let t = TestDb::new().await.expect("db");
    let mut ids = Vec::new();
    for n in 0..10 {
        ids.push(legacy_citizen(&t.db, 100 + n).await);
    }
    keys::encrypt_pending(&t.db).await.expect("first pass");
    let mut before = Vec::new();
    for id in &ids {
        let c = citizen::get(&t.db, *id).await.expect("get");
        before.push((
            c.phone,
            c.id_number,
            citizen::email(&t.db, *id).await.expect("e"),
        ));
    }
    let old_key = t.db.keyring().expect("keys").active_id().to_string();

    // Stop after two batches of four: the "crash".
    let mut seen = Vec::new();
    let first = keys::rotate(&t.db, 4, Some(2), &mut |done, total| {
        seen.push((done, total))
    })
    .await
    .expect("rotate");
    assert!(!first.resumed && !first.pass.complete);
    assert_eq!(first.pass.moved, 8);
    assert_eq!(
        seen.last().map(|s| s.0),
        Some(8),
        "progress reported per batch"
    );
    assert_ne!(first.key, old_key);
    let status = keys::status(&t.db).await.expect("status");
    assert_eq!(
        status.unfinished_rotation.as_deref(),
        Some(first.key.as_str())
    );
    assert!(status.pending > 0);
    // Half-way, every row still reads: old and new keys side by side.
    let phones: Vec<String> = sqlx::query_scalar("SELECT phone FROM citizens ORDER BY id")
        .fetch_all(t.db.pool())
        .await
        .expect("phones");
    assert!(
        phones
            .iter()
            .any(|p| p.starts_with(&format!("zb1:{old_key}:")))
    );
    assert!(
        phones
            .iter()
            .any(|p| p.starts_with(&format!("zb1:{}:", first.key)))
    );
    for (id, b) in ids.iter().zip(&before) {
        assert_eq!(&citizen::get(&t.db, *id).await.expect("get").phone, &b.0);
    }

    // Run again: it resumes the same rotation and finishes it.
    let second = keys::rotate(&t.db, 4, None, &mut |_, _| {})
        .await
        .expect("resume");
    assert!(second.resumed && second.pass.complete, "{second:?}");
    assert_eq!(second.key, first.key);
    assert_eq!(pii::pending(&t.db).await.expect("pending"), 0);
    assert!(
        keys::status(&t.db)
            .await
            .expect("status")
            .unfinished_rotation
            .is_none()
    );
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM citizens")
        .fetch_one(t.db.pool())
        .await
        .expect("count");
    assert_eq!(n as usize, ids.len(), "no row lost");
    for (id, b) in ids.iter().zip(&before) {
        let c = citizen::get(&t.db, *id).await.expect("get");
        assert_eq!((c.phone, c.id_number), (b.0.clone(), b.1.clone()));
        assert_eq!(&citizen::email(&t.db, *id).await.expect("email"), &b.2);
        let raw_phone = raw(&t.db, "SELECT phone FROM citizens WHERE id = $1", *id).await;
        assert!(raw_phone.starts_with(&format!("zb1:{}:", first.key)));
    }
    // Exact lookups still work: the blind-index key does not rotate.
    assert!(
        citizen::lookup_by_phone(&t.db, "admin", "13900000105")
            .await
            .expect("lookup")
            .is_some()
    );
    // A new rotation starts afresh.
    let third = keys::rotate(&t.db, 100, None, &mut |_, _| {})
        .await
        .expect("again");
    assert!(!third.resumed && third.pass.complete && third.key != first.key);
}

#[tokio::test]
async fn the_suite_and_the_master_key_cannot_change_under_encrypted_data() {
    let t = TestDb::new().await.expect("db");
    // TestDb installed keys (国密 unless ZHIBAN_TEST_SUITE says otherwise)
    // with a master key of its own.
    let installed = t.db.keyring().expect("keys").suite().kind();
    let other = match installed {
        SuiteKind::Gm => SuiteKind::Intl,
        SuiteKind::Intl => SuiteKind::Gm,
    };
    let err = zhiban_store::keys::open(&t.db, MasterKey::generate(), other)
        .await
        .expect_err("suite change refused");
    assert!(err.to_string().contains(installed.as_str()), "{err}");
    let err = zhiban_store::keys::open(&t.db, MasterKey::generate(), installed)
        .await
        .expect_err("wrong master key refused");
    assert!(err.to_string().contains("master key"), "{err}");
}

/// The chain's hash of a record, as anyone who knows the algorithm can
/// compute it (what someone rewriting the whole log would do).
fn chain_hash(prev: &str, r: &audit::Record) -> String {
    SoftSm3.digest_hex(&[
        prev.as_bytes(),
        r.seq.to_string().as_bytes(),
        r.at.to_string().as_bytes(),
        r.actor_kind.as_bytes(),
        r.actor.as_bytes(),
        r.action.as_bytes(),
        r.target.as_bytes(),
        r.detail.as_bytes(),
        r.ip.as_bytes(),
        r.outcome.as_bytes(),
    ])
}

/// Edits record 2's detail and recomputes every later hash and the head,
/// so the plain chain checks out again.
async fn rewrite_whole_chain(db: &Db) {
    let mut rows: Vec<audit::Record> = sqlx::query_as("SELECT * FROM audit_log ORDER BY seq")
        .fetch_all(db.pool())
        .await
        .expect("rows");
    rows[1].detail = "nothing to see".into();
    let mut prev = "genesis".to_string();
    for r in &mut rows {
        r.prev_hash = prev.clone();
        r.hash = chain_hash(&prev, r);
        prev = r.hash.clone();
        sqlx::query("UPDATE audit_log SET detail = $1, prev_hash = $2, hash = $3 WHERE seq = $4")
            .bind(&r.detail)
            .bind(&r.prev_hash)
            .bind(&r.hash)
            .bind(r.seq)
            .execute(db.pool())
            .await
            .expect("rewrite");
    }
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&prev)
        .execute(db.pool())
        .await
        .expect("head");
}

#[tokio::test]
async fn signed_checkpoints_catch_a_rewrite_of_the_whole_audit_chain() {
    let t = TestDb::new().await.expect("db");
    for i in 0..4 {
        audit::record(&t.db, Entry::staff("admin", "test.event", format!("t{i}")))
            .await
            .expect("append");
    }
    // Without a checkpoint, a full rewrite is invisible to the hash chain.
    rewrite_whole_chain(&t.db).await;
    assert_eq!(audit::verify(&t.db).await.expect("verify").broken, None);

    let t = TestDb::new().await.expect("db");
    for i in 0..4 {
        audit::record(&t.db, Entry::staff("admin", "test.event", format!("t{i}")))
            .await
            .expect("append");
    }
    assert_eq!(
        audit::checkpoint(&t.db, &Default::default())
            .await
            .expect("sign"),
        Some(4)
    );
    assert_eq!(
        audit::checkpoint(&t.db, &Default::default())
            .await
            .expect("again"),
        None
    );
    assert_eq!(audit::verify(&t.db).await.expect("verify").broken, None);
    rewrite_whole_chain(&t.db).await;
    let v = audit::verify(&t.db).await.expect("verify");
    assert_eq!(v.broken.map(|b| b.1), Some("rewritten"), "{v:?}");

    // Moving the checkpoint along with the rewrite breaks its signature.
    let head: String = sqlx::query_scalar("SELECT hash FROM audit_head WHERE id = 1")
        .fetch_one(t.db.pool())
        .await
        .expect("head");
    sqlx::query("UPDATE audit_checkpoints SET hash = $1")
        .bind(&head)
        .execute(t.db.pool())
        .await
        .expect("forge");
    let v = audit::verify(&t.db).await.expect("verify");
    assert_eq!(v.broken.map(|b| b.1), Some("checkpoint_forged"), "{v:?}");
}

#[tokio::test]
async fn under_the_international_suite_id_tokens_are_ed25519_and_verify_with_the_jwks() {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use sha2::Digest;
    use zhiban_domain::identity::oidc::{self, AuthRequest, ClientInput, TokenRequest};
    for kind in [SuiteKind::Intl, SuiteKind::Gm] {
        let t = TestDb::with_suite(kind).await.expect("db");
        let c = register_citizen(&t.db, "13800138009").await;
        let input = ClientInput {
            name: "不动产登记系统".into(),
            redirect_uris: "https://bdc.example.gov.cn/cb".into(),
            post_logout_uris: String::new(),
            confidential: true,
            min_level: 1,
        };
        let (client_id, secret) = oidc::register_client(&t.db, "admin", &input)
            .await
            .expect("client");
        let verifier = "v".repeat(50);
        let req = AuthRequest {
            client_id: client_id.clone(),
            redirect_uri: "https://bdc.example.gov.cn/cb".into(),
            scope: "openid".into(),
            state: "s".into(),
            nonce: "n".into(),
            code_challenge: URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes())),
        };
        let code = oidc::issue_code(&t.db, &c, &req, Utc::now().timestamp())
            .await
            .expect("code");
        let tokens = oidc::exchange_code(
            &t.db,
            "https://zw.example.gov.cn",
            &TokenRequest {
                client_id: client_id.clone(),
                client_secret: secret,
                code,
                redirect_uri: req.redirect_uri.clone(),
                code_verifier: verifier,
            },
            Utc::now(),
        )
        .await
        .expect("q")
        .expect("tokens");
        let header = jsonwebtoken::decode_header(&tokens.id_token).expect("header");
        let jwks = oidc::jwks(&t.db).await.expect("jwks");
        let key = jwks
            .iter()
            .find(|k| Some(&k.kid) == header.kid.as_ref())
            .expect("published");
        // An independent JOSE library verifies the token with the JWKS entry.
        let (dec, alg) = match kind {
            SuiteKind::Intl => (
                jsonwebtoken::DecodingKey::from_ed_components(&key.x).expect("okp"),
                jsonwebtoken::Algorithm::EdDSA,
            ),
            SuiteKind::Gm => (
                jsonwebtoken::DecodingKey::from_rsa_components(&key.n, &key.e).expect("rsa"),
                jsonwebtoken::Algorithm::RS256,
            ),
        };
        assert_eq!(header.alg, alg);
        assert_eq!(oidc::id_token_alg(&t.db), key.alg);
        let mut v = jsonwebtoken::Validation::new(alg);
        v.set_audience(&[&client_id]);
        v.set_issuer(&["https://zw.example.gov.cn"]);
        let claims = jsonwebtoken::decode::<serde_json::Value>(&tokens.id_token, &dec, &v)
            .expect("valid")
            .claims;
        assert_eq!(claims["acr"], "L1");
        // The logout hint is checked the same way; a forged one is not.
        let hint = oidc::hint_subject(&t.db, "https://zw.example.gov.cn", &tokens.id_token)
            .await
            .expect("q");
        assert_eq!(hint.map(|h| h.1), Some(client_id.clone()));
        // One character in the middle of the signature changed.
        let mut forged: Vec<char> = tokens.id_token.chars().collect();
        let i = forged.len() - 20;
        forged[i] = if forged[i] == 'A' { 'B' } else { 'A' };
        let forged: String = forged.into_iter().collect();
        assert_eq!(
            oidc::hint_subject(&t.db, "https://zw.example.gov.cn", &forged)
                .await
                .expect("q"),
            None
        );
    }
}
