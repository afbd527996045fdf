//! The OpenID Connect provider's rules: registered clients with exact
//! redirect URIs, authorization codes bound to PKCE (S256 only), single use
//! and short-lived, RS256 ID tokens from rotating keys, opaque access tokens
//! for userinfo, and remembered consent per person and application.

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::citizen::{self, Citizen};
use super::scope::require_city;
use super::staff::{StaffSession, hash_password, random_token, token_hash, verify_password};
use crate::audit::{self, Entry};
use crate::{Db, DomainError, FieldError};

/// Scopes this provider understands.
pub const SCOPES: &[&str] = &["openid", "profile", "phone", "realname"];
pub const CODE_TTL_SECS: i64 = 60;
pub const TOKEN_TTL_SECS: i64 = 3600;
pub const ID_TOKEN_TTL_SECS: i64 = 600;
/// Retired keys stay published this long.
pub const KEY_OVERLAP_SECS: i64 = 7 * 86_400;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ClientRow {
    pub id: i64,
    pub client_id: String,
    pub name: String,
    pub secret_hash: Option<String>,
    pub redirect_uris: String,
    pub post_logout_uris: String,
    pub min_level: i64,
    pub disabled: i64,
    pub created_at: i64,
    pub created_by: String,
}

/// A registered relying party.
#[derive(Debug, Clone, Serialize)]
pub struct Client {
    pub client_id: String,
    pub name: String,
    pub confidential: bool,
    pub redirect_uris: Vec<String>,
    pub post_logout_uris: Vec<String>,
    /// The real-name level a person needs to sign in here.
    pub min_level: i64,
    pub disabled: bool,
    secret_hash: Option<String>,
}

impl From<ClientRow> for Client {
    fn from(r: ClientRow) -> Self {
        let list = |s: &str| serde_json::from_str::<Vec<String>>(s).unwrap_or_default();
        Client {
            confidential: r.secret_hash.is_some(),
            redirect_uris: list(&r.redirect_uris),
            post_logout_uris: list(&r.post_logout_uris),
            client_id: r.client_id,
            name: r.name,
            min_level: r.min_level,
            disabled: r.disabled != 0,
            secret_hash: r.secret_hash,
        }
    }
}

impl Client {
    /// Exact match only: no prefixes, no wildcards, no normalisation.
    pub fn allows_redirect(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|u| u == uri)
    }

    pub fn allows_post_logout(&self, uri: &str) -> bool {
        self.post_logout_uris.iter().any(|u| u == uri)
    }

    /// Public clients authenticate by PKCE alone; confidential ones also by secret.
    pub fn authenticates(&self, secret: Option<&str>) -> bool {
        match (&self.secret_hash, secret) {
            (None, _) => true,
            (Some(h), Some(s)) => verify_password(s, h),
            (Some(_), None) => false,
        }
    }
}

pub async fn client(db: &Db, client_id: &str) -> Result<Option<Client>, DomainError> {
    let row: Option<ClientRow> = sqlx::query_as("SELECT * FROM oidc_clients WHERE client_id = $1")
        .bind(client_id)
        .fetch_optional(db.pool())
        .await?;
    Ok(row.map(Client::from).filter(|c| !c.disabled))
}

pub async fn clients(db: &Db) -> Result<Vec<Client>, DomainError> {
    let rows: Vec<ClientRow> = sqlx::query_as("SELECT * FROM oidc_clients ORDER BY id")
        .fetch_all(db.pool())
        .await?;
    Ok(rows.into_iter().map(Client::from).collect())
}

/// What an administrator fills in to register an application.
#[derive(Debug, Clone, Default)]
pub struct ClientInput {
    pub name: String,
    /// One per line.
    pub redirect_uris: String,
    pub post_logout_uris: String,
    pub confidential: bool,
    pub min_level: i64,
}

fn parse_uris(field: &'static str, text: &str, required: bool) -> Result<Vec<String>, FieldError> {
    let uris: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if required && uris.is_empty() {
        return Err(FieldError::new(field, "required", ""));
    }
    for u in &uris {
        let https = u.starts_with("https://");
        // Plain http only for the local machine (development and tests).
        let local = u.starts_with("http://127.0.0.1") || u.starts_with("http://localhost");
        if !(https || local) || u.contains('#') || u.contains(char::is_whitespace) {
            return Err(FieldError::new(field, "invalid_redirect_uri", u.clone()));
        }
    }
    Ok(uris)
}

/// From the staff pages: applications and signing keys serve the whole
/// city, so only whole-city accounts change them (refusals audited).
pub async fn register_client_by(
    db: &Db,
    staff: &StaffSession,
    input: &ClientInput,
) -> Result<(String, Option<String>), DomainError> {
    require_city(db, staff, "oidc:clients").await?;
    register_client(db, &staff.user.username, input).await
}

/// See [`register_client_by`].
pub async fn set_client_disabled_by(
    db: &Db,
    staff: &StaffSession,
    client_id: &str,
    disabled: bool,
) -> Result<(), DomainError> {
    require_city(db, staff, &format!("oidc:{client_id}")).await?;
    set_client_disabled(db, &staff.user.username, client_id, disabled).await
}

/// See [`register_client_by`].
pub async fn rotate_keys_by(db: &Db, staff: &StaffSession) -> Result<String, DomainError> {
    require_city(db, staff, "oidc:keys").await?;
    rotate_keys(db, &staff.user.username).await
}

/// Registers a client (the command line, or [`register_client_by`]).
/// Returns its id and, for a confidential client, the secret — shown once,
/// only its hash is kept.
pub async fn register_client(
    db: &Db,
    actor: &str,
    input: &ClientInput,
) -> Result<(String, Option<String>), DomainError> {
    let mut errors = Vec::new();
    let name = input.name.trim();
    if name.is_empty() {
        errors.push(FieldError::new("client_name", "required", ""));
    }
    let redirects = parse_uris("redirect_uris", &input.redirect_uris, true)
        .map_err(|e| errors.push(e))
        .ok();
    let logouts = parse_uris("post_logout_uris", &input.post_logout_uris, false)
        .map_err(|e| errors.push(e))
        .ok();
    if !(1..=3).contains(&input.min_level) {
        errors.push(FieldError::new(
            "min_level",
            "invalid_choice",
            input.min_level.to_string(),
        ));
    }
    let (Some(redirects), Some(logouts)) = (redirects, logouts) else {
        return Err(DomainError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let client_id = format!("zb-{}", &random_token()[..16]);
    let secret = input.confidential.then(random_token);
    let secret_hash = match &secret {
        Some(s) => Some(hash_password(s)?),
        None => None,
    };
    let json = |v: &Vec<String>| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO oidc_clients (client_id, name, secret_hash, redirect_uris, post_logout_uris, \
         min_level, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&client_id)
    .bind(name)
    .bind(&secret_hash)
    .bind(json(&redirects))
    .bind(json(&logouts))
    .bind(input.min_level)
    .bind(db.now().timestamp())
    .bind(actor)
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &Entry::staff(actor, "oidc.client_register", &client_id)
            .detail(format!("{name}: {}", redirects.join(" "))),
    )
    .await?;
    tx.commit().await?;
    Ok((client_id, secret))
}

pub async fn set_client_disabled(
    db: &Db,
    actor: &str,
    client_id: &str,
    disabled: bool,
) -> Result<(), DomainError> {
    let mut tx = db.begin().await?;
    let n = sqlx::query("UPDATE oidc_clients SET disabled = $2 WHERE client_id = $1")
        .bind(client_id)
        .bind(i64::from(disabled))
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(DomainError::NotFound);
    }
    if disabled {
        sqlx::query("DELETE FROM oidc_tokens WHERE client_id = $1")
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
    }
    audit::append(
        &mut tx,
        &Entry::staff(
            actor,
            if disabled {
                "oidc.client_disable"
            } else {
                "oidc.client_enable"
            },
            client_id,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- keys

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SigningKey {
    pub kid: String,
    pub private_pem: String,
    pub n: String,
    pub e: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

/// A public key as published in the JWKS.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Jwk {
    pub kty: String,
    #[serde(rename = "use")]
    pub use_: String,
    pub alg: String,
    pub kid: String,
    /// RSA modulus and exponent (RS256 keys).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub n: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub e: String,
    /// Curve and public key (EdDSA keys: `OKP`, `Ed25519`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub crv: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub x: String,
}

/// The ID-token signature algorithm: EdDSA (Ed25519, through
/// `zhiban-crypto`) under the international suite; RS256 under 国密, because
/// no JOSE algorithm is registered for SM2 and relying parties could not
/// verify one (the RSA key is stored SM4-encrypted).
pub fn id_token_alg(db: &Db) -> &'static str {
    match db.keyring().map(|k| k.suite().kind()) {
        Ok(zhiban_crypto::SuiteKind::Intl) => "EdDSA",
        _ => "RS256",
    }
}

/// Owner of the EdDSA ID-token keys in `signing_keys`.
const OIDC_KEY_OWNER: &str = "oidc";

fn generate_key(now: i64) -> Result<SigningKey, DomainError> {
    let mut rng = rsa::rand_core::OsRng;
    let key = rsa::RsaPrivateKey::new(&mut rng, 2048)
        .map_err(|_| DomainError::Internal("key_generation"))?;
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|_| DomainError::Internal("key_encoding"))?
        .to_string();
    let n = URL_SAFE_NO_PAD.encode(key.n().to_bytes_be());
    let e = URL_SAFE_NO_PAD.encode(key.e().to_bytes_be());
    let kid = hex::encode(&Sha256::digest(n.as_bytes())[..8]);
    Ok(SigningKey {
        kid,
        private_pem: pem,
        n,
        e,
        created_at: now,
        retired_at: None,
    })
}

async fn insert_key(db: &Db, k: &SigningKey) -> Result<(), DomainError> {
    sqlx::query(
        "INSERT INTO oidc_keys (kid, private_pem, n, e, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&k.kid)
    .bind(crate::pii::seal(
        db,
        crate::pii::ctx::OIDC_KEY,
        &k.private_pem,
    )?)
    .bind(&k.n)
    .bind(&k.e)
    .bind(k.created_at)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// The key that signs now, made on first use.
pub async fn signing_key(db: &Db) -> Result<SigningKey, DomainError> {
    let current: Option<SigningKey> = sqlx::query_as(
        "SELECT * FROM oidc_keys WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1",
    )
    .fetch_optional(db.pool())
    .await?;
    if let Some(mut k) = current {
        // The private key is stored encrypted (SM4 under the 国密 suite).
        k.private_pem = crate::pii::open(db, crate::pii::ctx::OIDC_KEY, &k.private_pem)?;
        return Ok(k);
    }
    let k = generate_key(db.now().timestamp())?;
    insert_key(db, &k).await?;
    // Another node may have raced us: whichever key is newest signs.
    Box::pin(signing_key(db)).await
}

/// Starts signing with a new key; the old one stays published for the
/// overlap window.
pub async fn rotate_keys(db: &Db, actor: &str) -> Result<String, DomainError> {
    let k = generate_key(db.now().timestamp())?;
    let now = db.now().timestamp();
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE oidc_keys SET retired_at = $1 WHERE retired_at IS NULL")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO oidc_keys (kid, private_pem, n, e, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&k.kid)
    .bind(crate::pii::seal(
        db,
        crate::pii::ctx::OIDC_KEY,
        &k.private_pem,
    )?)
    .bind(&k.n)
    .bind(&k.e)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::append(&mut tx, &Entry::staff(actor, "oidc.key_rotate", &k.kid)).await?;
    tx.commit().await?;
    if id_token_alg(db) == "EdDSA" {
        crate::signing::retire(db, OIDC_KEY_OWNER).await?;
        return Ok(crate::signing::key_for(db, OIDC_KEY_OWNER).await?.id);
    }
    Ok(k.kid)
}

/// The published keys: the current one and those retired within the overlap.
pub async fn jwks(db: &Db) -> Result<Vec<Jwk>, DomainError> {
    signing_key(db).await?;
    let keys: Vec<SigningKey> = sqlx::query_as(
        "SELECT * FROM oidc_keys WHERE retired_at IS NULL OR retired_at > $1 ORDER BY created_at DESC",
    )
    .bind(db.now().timestamp() - KEY_OVERLAP_SECS)
    .fetch_all(db.pool())
    .await?;
    let mut out: Vec<Jwk> = keys
        .into_iter()
        .map(|k| Jwk {
            kty: "RSA".into(),
            use_: "sig".into(),
            alg: "RS256".into(),
            kid: k.kid,
            n: k.n,
            e: k.e,
            crv: String::new(),
            x: String::new(),
        })
        .collect();
    if id_token_alg(db) == "EdDSA" {
        crate::signing::key_for(db, OIDC_KEY_OWNER).await?;
        let since = db.now().timestamp() - KEY_OVERLAP_SECS;
        for k in crate::signing::published(db, OIDC_KEY_OWNER, since).await? {
            out.insert(
                0,
                Jwk {
                    kty: "OKP".into(),
                    use_: "sig".into(),
                    alg: "EdDSA".into(),
                    kid: k.id,
                    n: String::new(),
                    e: String::new(),
                    crv: "Ed25519".into(),
                    x: URL_SAFE_NO_PAD.encode(&k.public),
                },
            );
        }
    }
    Ok(out)
}

/// A JWS (compact) signed with Ed25519 through `zhiban-crypto`.
async fn eddsa_jwt(db: &Db, claims: &IdClaims) -> Result<String, DomainError> {
    let key = crate::signing::key_for(db, OIDC_KEY_OWNER).await?;
    let header = serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": key.id});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default())
    );
    let sig = key.sign_raw(input.as_bytes())?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
}

/// The claims of an EdDSA token whose signature verifies against a
/// published key.
async fn eddsa_claims(db: &Db, kid: &str, token: &str) -> Result<Option<IdClaims>, DomainError> {
    let Some((input, sig)) = token.rsplit_once('.') else {
        return Ok(None);
    };
    let Some(key) = crate::signing::public_key(db, kid).await? else {
        return Ok(None);
    };
    let Ok(sig) = URL_SAFE_NO_PAD.decode(sig) else {
        return Ok(None);
    };
    let ok = key.owner == OIDC_KEY_OWNER
        && zhiban_crypto::suite(key.suite).verify(&key.public, input.as_bytes(), &sig);
    let Some((_, payload)) = input.split_once('.') else {
        return Ok(None);
    };
    Ok(ok
        .then(|| URL_SAFE_NO_PAD.decode(payload).ok())
        .flatten()
        .and_then(|p| serde_json::from_slice(&p).ok()))
}

// ---------------------------------------------------------------- authorization

/// A validated authorization request (redirect URI already checked).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: String,
    pub nonce: String,
    pub code_challenge: String,
}

impl AuthRequest {
    pub fn scopes(&self) -> BTreeSet<&str> {
        self.scope
            .split_whitespace()
            .filter(|s| SCOPES.contains(s))
            .collect()
    }
}

/// Whether this person already allowed this application these scopes.
pub async fn has_grant(db: &Db, citizen_id: i64, req: &AuthRequest) -> Result<bool, DomainError> {
    let granted: Option<String> = sqlx::query_scalar(
        "SELECT scope FROM oidc_grants WHERE citizen_id = $1 AND client_id = $2",
    )
    .bind(citizen_id)
    .bind(&req.client_id)
    .fetch_optional(db.pool())
    .await?;
    Ok(granted.is_some_and(|g| {
        let g: BTreeSet<&str> = g.split_whitespace().collect();
        req.scopes().is_subset(&g)
    }))
}

/// Records consent (consent records are shown in the account centre too).
pub async fn grant(db: &Db, citizen: &Citizen, req: &AuthRequest) -> Result<(), DomainError> {
    let scope = req.scopes().into_iter().collect::<Vec<_>>().join(" ");
    let now = db.now().timestamp();
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM oidc_grants WHERE citizen_id = $1 AND client_id = $2")
        .bind(citizen.id)
        .bind(&req.client_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO oidc_grants (citizen_id, client_id, scope, granted_at) VALUES ($1, $2, $3, $4)")
        .bind(citizen.id)
        .bind(&req.client_id)
        .bind(&scope)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO consents (citizen_id, purpose, version, granted_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(citizen.id)
    .bind(format!("oidc:{}", req.client_id))
    .bind(&scope)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &Entry::citizen(&citizen.label(), "oidc.consent", &req.client_id).detail(&scope),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Issues a single-use code for an approved request.
pub async fn issue_code(
    db: &Db,
    citizen: &Citizen,
    req: &AuthRequest,
    auth_time: i64,
) -> Result<String, DomainError> {
    let code = random_token();
    sqlx::query(
        "INSERT INTO oidc_codes (code_hash, client_id, citizen_id, redirect_uri, scope, nonce, \
         code_challenge, auth_time, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(token_hash(&code))
    .bind(&req.client_id)
    .bind(citizen.id)
    .bind(&req.redirect_uri)
    .bind(req.scopes().into_iter().collect::<Vec<_>>().join(" "))
    .bind(&req.nonce)
    .bind(&req.code_challenge)
    .bind(auth_time)
    .bind(db.now().timestamp() + CODE_TTL_SECS)
    .execute(db.pool())
    .await?;
    Ok(code)
}

/// Token endpoint errors, as RFC 6749 names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    InvalidClient,
    InvalidGrant,
    InvalidRequest,
    UnsupportedGrantType,
}

impl TokenError {
    pub fn code(self) -> &'static str {
        match self {
            TokenError::InvalidClient => "invalid_client",
            TokenError::InvalidGrant => "invalid_grant",
            TokenError::InvalidRequest => "invalid_request",
            TokenError::UnsupportedGrantType => "unsupported_grant_type",
        }
    }
}

/// What the token endpoint returns.
#[derive(Debug, Clone, Serialize)]
pub struct Tokens {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub id_token: String,
    pub scope: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct IdClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub nonce: String,
    /// The real-name level, as an authentication context class.
    pub acr: String,
}

/// The stable, unguessable subject identifier of a person.
pub async fn subject(db: &Db, citizen_id: i64) -> Result<String, DomainError> {
    sqlx::query("UPDATE citizens SET subject = $2 WHERE id = $1 AND subject IS NULL")
        .bind(citizen_id)
        .bind(uuid::Uuid::new_v4().to_string())
        .execute(db.pool())
        .await?;
    Ok(
        sqlx::query_scalar("SELECT subject FROM citizens WHERE id = $1")
            .bind(citizen_id)
            .fetch_one(db.pool())
            .await?,
    )
}

fn pkce_s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[derive(sqlx::FromRow)]
struct CodeRow {
    client_id: String,
    citizen_id: i64,
    redirect_uri: String,
    scope: String,
    nonce: String,
    code_challenge: String,
    auth_time: i64,
    expires_at: i64,
}

/// Exchanges a code. A replayed code is refused and revokes the tokens the
/// first exchange produced (RFC 6749 §4.1.2).
/// A token request as the client sent it.
#[derive(Debug, Clone, Default)]
pub struct TokenRequest {
    pub client_id: String,
    pub client_secret: Option<String>,
    pub code: String,
    pub redirect_uri: String,
    pub code_verifier: String,
}

pub async fn exchange_code(
    db: &Db,
    issuer: &str,
    req: &TokenRequest,
    now: DateTime<Utc>,
) -> Result<Result<Tokens, TokenError>, DomainError> {
    let (client_secret, code, redirect_uri, verifier) = (
        req.client_secret.as_deref(),
        req.code.as_str(),
        req.redirect_uri.as_str(),
        req.code_verifier.as_str(),
    );
    let Some(client) = client(db, &req.client_id).await? else {
        return Ok(Err(TokenError::InvalidClient));
    };
    if !client.authenticates(client_secret) {
        return Ok(Err(TokenError::InvalidClient));
    }
    if verifier.len() < 43 || verifier.len() > 128 {
        return Ok(Err(TokenError::InvalidRequest));
    }
    let hash = token_hash(code);
    // Claim the code first (atomic across nodes), then check it.
    let claimed = sqlx::query("UPDATE oidc_codes SET used = 1 WHERE code_hash = $1 AND used = 0")
        .bind(&hash)
        .execute(db.pool())
        .await?
        .rows_affected()
        == 1;
    if !claimed {
        sqlx::query("DELETE FROM oidc_tokens WHERE code_hash = $1")
            .bind(&hash)
            .execute(db.pool())
            .await?;
        return Ok(Err(TokenError::InvalidGrant));
    }
    let row: Option<CodeRow> = sqlx::query_as(
        "SELECT client_id, citizen_id, redirect_uri, scope, nonce, code_challenge, auth_time, \
         expires_at FROM oidc_codes WHERE code_hash = $1",
    )
    .bind(&hash)
    .fetch_optional(db.pool())
    .await?;
    let Some(c) = row else {
        return Ok(Err(TokenError::InvalidGrant));
    };
    if c.client_id != client.client_id
        || c.redirect_uri != redirect_uri
        || c.expires_at <= now.timestamp()
        || pkce_s256(verifier) != c.code_challenge
    {
        return Ok(Err(TokenError::InvalidGrant));
    }
    let citizen = citizen::get(db, c.citizen_id).await?;
    let claims = IdClaims {
        iss: issuer.to_string(),
        sub: subject(db, citizen.id).await?,
        aud: client.client_id.clone(),
        exp: now.timestamp() + ID_TOKEN_TTL_SECS,
        iat: now.timestamp(),
        auth_time: c.auth_time,
        nonce: c.nonce,
        acr: format!("L{}", citizen.level),
    };
    let id_token = if id_token_alg(db) == "EdDSA" {
        eddsa_jwt(db, &claims).await?
    } else {
        let key = signing_key(db).await?;
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(key.kid.clone());
        let enc = jsonwebtoken::EncodingKey::from_rsa_pem(key.private_pem.as_bytes())
            .map_err(|_| DomainError::Internal("signing_key"))?;
        jsonwebtoken::encode(&header, &claims, &enc)
            .map_err(|_| DomainError::Internal("signing"))?
    };
    let access = random_token();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO oidc_tokens (token_hash, code_hash, client_id, citizen_id, scope, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(token_hash(&access))
    .bind(&hash)
    .bind(&client.client_id)
    .bind(citizen.id)
    .bind(&c.scope)
    .bind(now.timestamp() + TOKEN_TTL_SECS)
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &Entry::citizen(&citizen.label(), "oidc.token", &client.client_id).detail(&c.scope),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(Tokens {
        access_token: access,
        token_type: "Bearer",
        expires_in: TOKEN_TTL_SECS,
        id_token,
        scope: c.scope,
    }))
}

/// The claims userinfo returns for a live access token, by scope.
pub async fn userinfo(
    db: &Db,
    access_token: &str,
    now: DateTime<Utc>,
) -> Result<Option<serde_json::Value>, DomainError> {
    let row: Option<(i64, String)> = sqlx::query_as(
        "SELECT citizen_id, scope FROM oidc_tokens WHERE token_hash = $1 AND expires_at > $2",
    )
    .bind(token_hash(access_token))
    .bind(now.timestamp())
    .fetch_optional(db.pool())
    .await?;
    let Some((citizen_id, scope)) = row else {
        return Ok(None);
    };
    let c = citizen::get(db, citizen_id).await?;
    let scopes: BTreeSet<&str> = scope.split_whitespace().collect();
    let mut out = serde_json::json!({ "sub": subject(db, citizen_id).await? });
    if scopes.contains("profile") && !c.name.is_empty() {
        out["name"] = c.name.clone().into();
    }
    if scopes.contains("phone") {
        out["phone_number"] = format!("+86{}", c.phone).into();
        out["phone_number_verified"] = true.into();
    }
    if scopes.contains("realname") {
        out["realname_level"] = c.level.into();
    }
    Ok(Some(out))
}

/// For RP-initiated logout: whose session an ID token hint names (the
/// signature must verify against a published key; expiry is not required).
pub async fn hint_subject(
    db: &Db,
    issuer: &str,
    id_token: &str,
) -> Result<Option<(String, String)>, DomainError> {
    let Ok(header) = jsonwebtoken::decode_header(id_token) else {
        return Ok(None);
    };
    if header.alg == jsonwebtoken::Algorithm::EdDSA {
        let Some(kid) = header.kid.as_deref() else {
            return Ok(None);
        };
        return Ok(eddsa_claims(db, kid, id_token)
            .await?
            .filter(|c| c.iss == issuer)
            .map(|c| (c.sub, c.aud)));
    }
    let keys = jwks(db).await?;
    let Some(k) = keys.iter().find(|k| Some(&k.kid) == header.kid.as_ref()) else {
        return Ok(None);
    };
    let Ok(dec) = jsonwebtoken::DecodingKey::from_rsa_components(&k.n, &k.e) else {
        return Ok(None);
    };
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.validate_exp = false;
    v.validate_aud = false;
    v.set_issuer(&[issuer]);
    Ok(jsonwebtoken::decode::<IdClaims>(id_token, &dec, &v)
        .ok()
        .map(|d| (d.claims.sub, d.claims.aud)))
}

/// Ends every session of the person behind `sub` (used by RP logout when
/// the browser session is already gone or belongs to them).
pub async fn citizen_by_subject(db: &Db, sub: &str) -> Result<Option<i64>, DomainError> {
    Ok(
        sqlx::query_scalar("SELECT id FROM citizens WHERE subject = $1")
            .bind(sub)
            .fetch_optional(db.pool())
            .await?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_matches_the_rfc_7636_example() {
        assert_eq!(
            pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn redirect_uris_must_be_https_or_local_and_are_matched_exactly() {
        assert!(parse_uris("r", "http://evil.example/cb", true).is_err());
        assert!(parse_uris("r", "", true).is_err());
        let ok = parse_uris("r", "https://rp.example/cb\nhttp://127.0.0.1:9/cb", true)
            .unwrap_or_default();
        assert_eq!(ok.len(), 2);
        let c = Client {
            client_id: "x".into(),
            name: "x".into(),
            confidential: false,
            redirect_uris: ok,
            post_logout_uris: vec![],
            min_level: 1,
            disabled: false,
            secret_hash: None,
        };
        assert!(c.allows_redirect("https://rp.example/cb"));
        assert!(!c.allows_redirect("https://rp.example/cb/"));
        assert!(!c.allows_redirect("https://rp.example/cb?x=1"));
        assert!(!c.allows_redirect("https://rp.example"));
    }
}
