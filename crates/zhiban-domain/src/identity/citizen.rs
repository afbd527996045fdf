//! Citizen accounts: registration by phone with an SMS code, sign-in by
//! password or SMS code, sessions, real-name levels, consent records, and
//! the rights 个人信息保护法 gives a person over their data (see it, take it
//! with them, delete it).

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::SecurityPolicy;
use super::ids::{IdNumber, Phone, mask_id_number, mask_name, mask_phone};
use super::lockout::{clear, locked, note_failure};
use super::sms::{self, Purpose};
use super::staff::{
    Client, LoginError, check_password_policy, dummy_hash, hash_password, random_token, token_hash,
    verify_password,
};
use crate::audit::{self, Entry};
use crate::pii::{self, ctx};
use crate::{Db, DomainError, FieldError};

pub use super::counter_check::{counter_verify, lookup_by_phone};

/// The privacy notice version a person agrees to at registration.
pub const PRIVACY_VERSION: &str = "2026-11";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Citizen {
    pub id: i64,
    pub phone: String,
    pub name: String,
    pub id_number: String,
    /// 1 registered, 2 ID verified, 3 face or counter verified.
    pub level: i64,
    pub created_at: i64,
    /// The company this session acts for (以企业身份办事), checked on
    /// every request: a revoked agent is back to themselves at once.
    #[sqlx(skip)]
    pub acting: Option<super::company::Company>,
}

impl Citizen {
    pub fn masked_phone(&self) -> String {
        mask_phone(&self.phone)
    }
    pub fn masked_id_number(&self) -> String {
        mask_id_number(&self.id_number)
    }
    pub fn masked_name(&self) -> String {
        mask_name(&self.name)
    }
    /// How the person is named in logs and the audit trail.
    pub fn label(&self) -> String {
        format!("citizen:{}", self.id)
    }
}

#[derive(Debug, Clone)]
pub struct CitizenSession {
    pub citizen: Citizen,
    pub csrf_token: String,
    /// Waiting for the one-time code (only the second-step page is open).
    pub pending: bool,
    /// When the person signed in (every factor), Unix seconds: OpenID
    /// Connect's `auth_time`.
    pub auth_at: i64,
}

/// A name as on a 居民身份证: 2 to 30 Chinese characters (with the
/// middle dot of minority names) or Latin letters and spaces.
pub fn is_person_name(name: &str) -> bool {
    let n = name.chars().count();
    (2..=30).contains(&n) && name.chars().all(|c| {
        matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{20000}'..='\u{3134F}')
            || matches!(c, '·' | '•' | '．' | ' ')
            || c.is_ascii_alphabetic()
    })
}

pub(super) fn invalid(field: &'static str, code: &'static str) -> DomainError {
    DomainError::Invalid(vec![FieldError::new(field, code, "")])
}

pub(super) const COLUMNS: &str = "id, phone, name, id_number, level, created_at";

pub async fn get(db: &Db, id: i64) -> Result<Citizen, DomainError> {
    let row: Citizen = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM citizens WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(DomainError::NotFound)?;
    decrypted(db, row)
}

/// Phone and 身份证号 are stored encrypted (see [`crate::pii`]).
pub(super) fn decrypted(db: &Db, mut c: Citizen) -> Result<Citizen, DomainError> {
    c.phone = pii::open(db, ctx::CITIZEN_PHONE, &c.phone)?;
    c.id_number = pii::open(db, ctx::CITIZEN_ID_NUMBER, &c.id_number)?;
    Ok(c)
}

/// The blind index a 手机号 is found by.
pub(crate) fn phone_key(db: &Db, phone: &Phone) -> Result<String, DomainError> {
    pii::index(db, ctx::CITIZEN_PHONE, phone.as_str())
}

/// What a person fills in to register.
#[derive(Debug, Clone, Default)]
pub struct Registration {
    pub phone: String,
    pub code: String,
    pub password: String,
    pub accept_privacy: bool,
}

pub(crate) async fn start_session(
    db: &Db,
    policy: &SecurityPolicy,
    citizen: &Citizen,
    method: &str,
    client: &Client,
    now: DateTime<Utc>,
) -> Result<String, DomainError> {
    let token = random_token();
    let ua: String = client.user_agent.chars().take(200).collect();
    // A password or SMS code is one factor: with a one-time code turned on,
    // the session waits for it. Passkeys and QR approval are already strong.
    let stage = if matches!(method, "password" | "sms") && totp_enabled(db, citizen.id).await? {
        "pending"
    } else {
        "full"
    };
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO citizen_sessions (id, citizen_id, csrf_token, created_at, expires_at, ip, \
         user_agent, stage, auth_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $4)",
    )
    .bind(token_hash(&token))
    .bind(citizen.id)
    .bind(random_token())
    .bind(now.timestamp())
    .bind(now.timestamp() + policy.idle_secs())
    .bind(&client.ip)
    .bind(&ua)
    .bind(stage)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO citizen_logins (citizen_id, at, method, ip, user_agent) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(citizen.id)
    .bind(now.timestamp())
    .bind(method)
    .bind(&client.ip)
    .bind(&ua)
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &Entry::citizen(&citizen.label(), "citizen.login", citizen.label())
            .detail(method)
            .ip(&client.ip),
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// Registers a person at level 1 once the SMS code proves the phone is
/// theirs, records their consent and signs them in. Returns the cookie value.
/// Everything wrong with a registration that can be told without the
/// database, all at once (the SMS code itself is checked when it is used).
pub fn registration_problems(reg: &Registration) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Err(e) = Phone::parse(&reg.phone) {
        errors.push(e);
    }
    let code = reg.code.trim();
    if code.is_empty() {
        errors.push(FieldError::new("sms_code", "required", ""));
    } else if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        errors.push(FieldError::new("sms_code", "wrong_sms_code", ""));
    }
    if let Err(e) = check_password_policy(&reg.password) {
        errors.push(e);
    }
    if !reg.accept_privacy {
        errors.push(FieldError::new("accept_privacy", "required", ""));
    }
    errors
}

pub async fn register(
    db: &Db,
    policy: &SecurityPolicy,
    reg: &Registration,
    client: &Client,
    now: DateTime<Utc>,
) -> Result<(Citizen, String), DomainError> {
    let errors = registration_problems(reg);
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let phone = Phone::parse(&reg.phone).map_err(|e| DomainError::Invalid(vec![e]))?;
    let hash = hash_password(&reg.password)?;
    // The code is used up with the registration, or not at all.
    let tx = db.begin().await?;
    let Some(mut tx) = sms::use_code_in(tx, db, &phone, Purpose::Register, &reg.code, now).await?
    else {
        return Err(invalid("sms_code", "wrong_sms_code"));
    };
    // Only now, with the phone proven, may we say it is already registered.
    let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM citizens WHERE phone_bidx = $1")
        .bind(phone_key(db, &phone)?)
        .fetch_optional(&mut *tx)
        .await?;
    if taken.is_some() {
        return Err(invalid("phone", "phone_registered"));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO citizens (phone, phone_bidx, password_hash, created_at) \
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(pii::seal(db, ctx::CITIZEN_PHONE, phone.as_str())?)
    .bind(phone_key(db, &phone)?)
    .bind(&hash)
    .bind(now.timestamp())
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO consents (citizen_id, purpose, version, granted_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind("privacy_notice")
    .bind(PRIVACY_VERSION)
    .bind(now.timestamp())
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &Entry::citizen(&format!("citizen:{id}"), "citizen.register", phone.masked())
            .ip(&client.ip),
    )
    .await?;
    tx.commit().await?;
    let citizen = get(db, id).await?;
    let token = start_session(db, policy, &citizen, "register", client, now).await?;
    Ok((citizen, token))
}

/// The lock-out counter's key: the phone's blind index, so the failures
/// table holds no phone number either.
fn lock_key(phone_bidx: &str) -> String {
    format!("citizen:{phone_bidx}")
}

/// A refused sign-in: a wrong password or code counts towards the
/// lock-out; either way it is audited under the masked phone (the audit
/// log holds no phone number).
async fn refuse(
    db: &Db,
    key: &str,
    phone: &Phone,
    method: &str,
    reason: LoginError,
    client: &Client,
    now: DateTime<Utc>,
) -> Result<DomainError, DomainError> {
    if reason == LoginError::Invalid {
        note_failure(db, key, now).await?;
    }
    let why = match reason {
        LoginError::Locked => "locked",
        LoginError::BadCode => "bad_code",
        LoginError::Disabled => "disabled",
        LoginError::Invalid => "invalid",
    };
    audit::record(
        db,
        Entry::citizen(&phone.masked(), "citizen.login", phone.masked())
            .detail(format!("{method}: {why}"))
            .ip(&client.ip)
            .kind(audit::ActorKind::Anonymous)
            .refused(),
    )
    .await?;
    Ok(DomainError::Login(reason))
}

async fn succeed(db: &Db, key: &str) -> Result<(), DomainError> {
    clear(&mut *db.pool().acquire().await?, key).await
}

/// Signs in with phone and password. The answer never says whether the
/// phone is registered; unknown phones cost the same argon2 work.
pub async fn login_password(
    db: &Db,
    policy: &SecurityPolicy,
    phone: &str,
    password: &str,
    client: &Client,
    now: DateTime<Utc>,
) -> Result<(Citizen, String), DomainError> {
    let Ok(phone) = Phone::parse(phone) else {
        return Err(DomainError::Login(LoginError::Invalid));
    };
    let bidx = phone_key(db, &phone)?;
    let key = lock_key(&bidx);
    if locked(db, policy, &key, now).await? {
        let why = LoginError::Locked;
        return Err(refuse(db, &key, &phone, "password", why, client, now).await?);
    }
    let row: Option<(i64, String)> =
        sqlx::query_as("SELECT id, password_hash FROM citizens WHERE phone_bidx = $1")
            .bind(&bidx)
            .fetch_optional(db.pool())
            .await?;
    let hash = row
        .as_ref()
        .map_or_else(|| dummy_hash().to_string(), |r| r.1.clone());
    let ok = verify_password(password, &hash);
    match row {
        Some((id, _)) if ok => {
            succeed(db, &key).await?;
            let citizen = get(db, id).await?;
            let token = start_session(db, policy, &citizen, "password", client, now).await?;
            Ok((citizen, token))
        }
        _ => {
            let wrong = LoginError::Invalid;
            Err(refuse(db, &key, &phone, "password", wrong, client, now).await?)
        }
    }
}

/// Signs in with phone and an SMS code (sent whether or not the phone is
/// registered, so sending reveals nothing either).
pub async fn login_sms(
    db: &Db,
    policy: &SecurityPolicy,
    phone: &str,
    code: &str,
    client: &Client,
    now: DateTime<Utc>,
) -> Result<(Citizen, String), DomainError> {
    let Ok(phone) = Phone::parse(phone) else {
        return Err(DomainError::Login(LoginError::Invalid));
    };
    let bidx = phone_key(db, &phone)?;
    let key = lock_key(&bidx);
    if locked(db, policy, &key, now).await? {
        let why = LoginError::Locked;
        return Err(refuse(db, &key, &phone, "sms", why, client, now).await?);
    }
    let id: Option<i64> = sqlx::query_scalar("SELECT id FROM citizens WHERE phone_bidx = $1")
        .bind(&bidx)
        .fetch_optional(db.pool())
        .await?;
    let code_ok = sms::check_code(db, &phone, Purpose::Login, code, now).await?;
    match id {
        Some(id) if code_ok => {
            succeed(db, &key).await?;
            let citizen = get(db, id).await?;
            let token = start_session(db, policy, &citizen, "sms", client, now).await?;
            Ok((citizen, token))
        }
        _ => {
            let wrong = LoginError::Invalid;
            Err(refuse(db, &key, &phone, "sms", wrong, client, now).await?)
        }
    }
}

/// Looks up a live session and slides its idle deadline.
type SessionRow = (i64, String, i64, String, i64, i64, Option<i64>);

pub async fn session(
    db: &Db,
    policy: &SecurityPolicy,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<CitizenSession>, DomainError> {
    let id = token_hash(token);
    let row: Option<SessionRow> = sqlx::query_as(
        "SELECT citizen_id, csrf_token, expires_at, stage, created_at, auth_at, \
         acting_company_id FROM citizen_sessions WHERE id = $1",
    )
    .bind(&id)
    .fetch_optional(db.pool())
    .await?;
    let Some((citizen_id, csrf_token, expires, stage, created_at, auth_at, acting)) = row else {
        return Ok(None);
    };
    if expires <= now.timestamp() || policy.outlived(created_at, now.timestamp()) {
        end_session(db, token).await?;
        return Ok(None);
    }
    sqlx::query("UPDATE citizen_sessions SET expires_at = $2 WHERE id = $1")
        .bind(&id)
        .bind(now.timestamp() + policy.idle_secs())
        .execute(db.pool())
        .await?;
    let mut citizen = get(db, citizen_id).await?;
    if let Some(company_id) = acting {
        citizen.acting = super::company::member_company(db, citizen_id, company_id).await?;
    }
    Ok(Some(CitizenSession {
        citizen,
        csrf_token,
        pending: stage == "pending",
        auth_at,
    }))
}

pub async fn end_session(db: &Db, token: &str) -> Result<(), DomainError> {
    sqlx::query("DELETE FROM citizen_sessions WHERE id = $1")
        .bind(token_hash(token))
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Signing out: the session ends, and the audit log says who and from where.
pub async fn sign_out(
    db: &Db,
    citizen: &Citizen,
    token: &str,
    client: &Client,
) -> Result<(), DomainError> {
    end_session(db, token).await?;
    audit::record(
        db,
        Entry::citizen(&citizen.label(), "citizen.logout", citizen.label()).ip(&client.ip),
    )
    .await
    .map(|_| ())
}

/// "Sign out everywhere": ends every session of this person.
pub async fn end_all_sessions(db: &Db, citizen: &Citizen) -> Result<u64, DomainError> {
    let n = sqlx::query("DELETE FROM citizen_sessions WHERE citizen_id = $1")
        .bind(citizen.id)
        .execute(db.pool())
        .await?
        .rows_affected();
    audit::record(
        db,
        Entry::citizen(&citizen.label(), "citizen.logout_all", citizen.label()),
    )
    .await?;
    Ok(n)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SessionInfo {
    pub id: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub ip: String,
    pub user_agent: String,
}

pub async fn sessions(db: &Db, citizen_id: i64) -> Result<Vec<SessionInfo>, DomainError> {
    Ok(sqlx::query_as(
        "SELECT id, created_at, expires_at, ip, user_agent FROM citizen_sessions \
         WHERE citizen_id = $1 ORDER BY created_at DESC",
    )
    .bind(citizen_id)
    .fetch_all(db.pool())
    .await?)
}

/// Whether `session_id` (as listed) is the one behind `token`.
pub fn is_current(session_id: &str, token: &str) -> bool {
    token_hash(token) == session_id
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct LoginRecord {
    pub at: i64,
    pub method: String,
    pub ip: String,
    pub user_agent: String,
}

pub async fn login_history(
    db: &Db,
    citizen_id: i64,
    limit: i64,
) -> Result<Vec<LoginRecord>, DomainError> {
    Ok(sqlx::query_as(
        "SELECT at, method, ip, user_agent FROM citizen_logins WHERE citizen_id = $1 \
         ORDER BY at DESC, id DESC LIMIT $2",
    )
    .bind(citizen_id)
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Consent {
    pub purpose: String,
    pub version: String,
    pub granted_at: i64,
    pub withdrawn_at: Option<i64>,
}

pub async fn consents(db: &Db, citizen_id: i64) -> Result<Vec<Consent>, DomainError> {
    Ok(sqlx::query_as(
        "SELECT purpose, version, granted_at, withdrawn_at FROM consents WHERE citizen_id = $1 \
         ORDER BY granted_at",
    )
    .bind(citizen_id)
    .fetch_all(db.pool())
    .await?)
}

pub async fn change_password(
    db: &Db,
    citizen: &Citizen,
    current: &str,
    new: &str,
) -> Result<(), DomainError> {
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM citizens WHERE id = $1")
        .bind(citizen.id)
        .fetch_one(db.pool())
        .await?;
    if !verify_password(current, &hash) {
        return Err(invalid("current_password", "wrong_password"));
    }
    check_password_policy(new).map_err(|e| DomainError::Invalid(vec![e]))?;
    let new_hash = hash_password(new)?;
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE citizens SET password_hash = $2 WHERE id = $1")
        .bind(citizen.id)
        .bind(&new_hash)
        .execute(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        &Entry::citizen(&citizen.label(), "citizen.password_change", citizen.label()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub type VerifyFuture<'a> = Pin<Box<dyn Future<Output = Result<bool, DomainError>> + Send + 'a>>;

/// Checks a name against an ID number with an authority (公安人口库 through
/// a licensed provider). Level 2 needs a yes.
pub trait IdVerifier: Send + Sync {
    fn name(&self) -> &'static str;
    fn verify<'a>(&'a self, name: &'a str, id: &'a IdNumber) -> VerifyFuture<'a>;
}

/// 开发环境核验: no population registry can be reached from here, so this
/// stand-in accepts any well-formed number (check digit and birth date) with
/// a plausible Chinese name. Deployments plug in a real provider.
#[derive(Debug, Default)]
pub struct DevIdVerifier;

impl IdVerifier for DevIdVerifier {
    fn name(&self) -> &'static str {
        "dev-format-only"
    }

    fn verify<'a>(&'a self, name: &'a str, _id: &'a IdNumber) -> VerifyFuture<'a> {
        Box::pin(async move {
            let n = name.chars().count();
            Ok((2..=20).contains(&n)
                && name
                    .chars()
                    .all(|c| c == '·' || ('\u{4e00}'..='\u{9fff}').contains(&c)))
        })
    }
}

/// The email address case notifications also go to (empty: none).
pub async fn email(db: &Db, citizen_id: i64) -> Result<String, DomainError> {
    let stored: String = sqlx::query_scalar("SELECT email FROM citizens WHERE id = $1")
        .bind(citizen_id)
        .fetch_optional(db.pool())
        .await?
        .unwrap_or_default();
    pii::open(db, ctx::CITIZEN_EMAIL, &stored)
}

/// Sets or clears (empty) the notification email address.
pub async fn set_email(db: &Db, citizen: &Citizen, email: &str) -> Result<(), DomainError> {
    let email = email.trim();
    if !email.is_empty()
        && (email.len() > 100 || email.parse::<lettre::Address>().is_err() || !email.contains('.'))
    {
        return Err(invalid("email", "invalid_email"));
    }
    sqlx::query("UPDATE citizens SET email = $2 WHERE id = $1")
        .bind(citizen.id)
        .bind(pii::seal(db, ctx::CITIZEN_EMAIL, email)?)
        .execute(db.pool())
        .await?;
    audit::record(
        db,
        Entry::citizen(&citizen.label(), "citizen.email", citizen.label()),
    )
    .await?;
    Ok(())
}

/// 实名认证: verifies name and ID number and raises the person to level 2.
pub async fn verify_real_name(
    db: &Db,
    verifier: &dyn IdVerifier,
    citizen: &Citizen,
    name: &str,
    id_number: &str,
) -> Result<(), DomainError> {
    let name = name.trim();
    // Every problem at once, each under its own field.
    let mut errs = Vec::new();
    if name.is_empty() {
        errs.push(FieldError::new("person_name", "required", ""));
    } else if !is_person_name(name) {
        errs.push(FieldError::new("person_name", "invalid_person_name", ""));
    }
    let id = match IdNumber::parse(id_number) {
        Ok(id) => Some(id),
        Err(e) => {
            errs.push(e);
            None
        }
    };
    let Some(id) = id.filter(|_| errs.is_empty()) else {
        return Err(DomainError::Invalid(errs));
    };
    if !verifier.verify(name, &id).await? {
        return Err(invalid("id_number", "realname_mismatch"));
    }
    let mut tx = db.begin().await?;
    let other: Option<i64> =
        sqlx::query_scalar("SELECT id FROM citizens WHERE id_number_bidx = $1 AND id <> $2")
            .bind(pii::index(db, ctx::CITIZEN_ID_NUMBER, id.as_str())?)
            .bind(citizen.id)
            .fetch_optional(&mut *tx)
            .await?;
    if other.is_some() {
        return Err(invalid("id_number", "id_number_bound"));
    }
    sqlx::query(
        "UPDATE citizens SET name = $2, id_number = $3, id_number_bidx = $4, \
         level = CASE WHEN level < 2 THEN 2 ELSE level END WHERE id = $1",
    )
    .bind(citizen.id)
    .bind(name)
    .bind(pii::seal(db, ctx::CITIZEN_ID_NUMBER, id.as_str())?)
    .bind(pii::index(db, ctx::CITIZEN_ID_NUMBER, id.as_str())?)
    .execute(&mut *tx)
    .await?;
    // Counter cases filed under this number now belong to the account.
    let claimed = crate::cases::counter::claim(&mut tx, db, citizen.id, id.as_str(), name).await?;
    audit::append(
        &mut tx,
        &Entry::citizen(&citizen.label(), "citizen.realname", citizen.label()).detail(format!(
            "{} via {}{}",
            id.masked(),
            verifier.name(),
            if claimed > 0 {
                format!(", {claimed} counter cases")
            } else {
                String::new()
            }
        )),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes the account and everything tied to it once the password is
/// confirmed. The audit trail keeps only the masked phone.
pub async fn delete_account(db: &Db, citizen: &Citizen, password: &str) -> Result<(), DomainError> {
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM citizens WHERE id = $1")
        .bind(citizen.id)
        .fetch_one(db.pool())
        .await?;
    if !verify_password(password, &hash) {
        return Err(invalid("password", "wrong_password"));
    }
    let mut tx = db.begin().await?;
    for table in ["citizen_sessions", "citizen_logins", "consents"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE citizen_id = $1"
        )))
        .bind(citizen.id)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query("DELETE FROM citizens WHERE id = $1")
        .bind(citizen.id)
        .execute(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        &Entry::citizen(&citizen.label(), "citizen.delete", citizen.masked_phone()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// 忘记密码: a new password with an SMS code. Unknown numbers get the same
/// answer as a wrong code, so the page never tells whether a number is
/// registered. Every session of the account ends.
pub async fn reset_password(
    db: &Db,
    phone: &str,
    code: &str,
    new_password: &str,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    let phone = Phone::parse(phone).map_err(|e| DomainError::Invalid(vec![e]))?;
    check_password_policy(new_password).map_err(|e| DomainError::Invalid(vec![e]))?;
    let bidx = phone_key(db, &phone)?;
    let id: Option<i64> = sqlx::query_scalar("SELECT id FROM citizens WHERE phone_bidx = $1")
        .bind(&bidx)
        .fetch_optional(db.pool())
        .await?;
    let hash = hash_password(new_password)?;
    // The code is used up with the new password, or not at all.
    let tx = db.begin().await?;
    let used = sms::use_code_in(tx, db, &phone, Purpose::ResetPassword, code, now).await?;
    let (Some(id), Some(mut tx)) = (id, used) else {
        return Err(invalid("sms_code", "wrong_sms_code"));
    };
    sqlx::query("UPDATE citizens SET password_hash = $2 WHERE id = $1")
        .bind(id)
        .bind(&hash)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM citizen_sessions WHERE citizen_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    clear(&mut tx, &lock_key(&bidx)).await?;
    audit::append(
        &mut tx,
        &Entry::citizen(
            &format!("citizen:{id}"),
            "citizen.password_reset",
            phone.masked(),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- one-time codes (optional second step)

/// Whether this person turned on a one-time code.
pub async fn totp_enabled(db: &Db, citizen_id: i64) -> Result<bool, DomainError> {
    let s: Option<String> = sqlx::query_scalar("SELECT totp_secret FROM citizens WHERE id = $1")
        .bind(citizen_id)
        .fetch_one(db.pool())
        .await?;
    Ok(s.is_some())
}

/// Offers a secret to turn the one-time code on (kept on the session until
/// confirmed, the same one until then).
pub async fn begin_totp(db: &Db, token: &str) -> Result<String, DomainError> {
    let id = token_hash(token);
    let pending: Option<String> =
        sqlx::query_scalar("SELECT totp_pending FROM citizen_sessions WHERE id = $1")
            .bind(&id)
            .fetch_one(db.pool())
            .await?;
    if let Some(s) = pending {
        return pii::open(db, ctx::CITIZEN_TOTP_PENDING, &s);
    }
    let secret = super::totp::new_secret();
    sqlx::query("UPDATE citizen_sessions SET totp_pending = $2 WHERE id = $1")
        .bind(&id)
        .bind(pii::seal(db, ctx::CITIZEN_TOTP_PENDING, &secret)?)
        .execute(db.pool())
        .await?;
    Ok(secret)
}

/// Turns the one-time code on with a first code from the app.
pub async fn confirm_totp(
    db: &Db,
    who: &Citizen,
    token: &str,
    code: &str,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    let secret = begin_totp(db, token).await?;
    let Some(step) = super::totp::check(&secret, code, now.timestamp(), 0) else {
        return Err(invalid("totp_code", "wrong_totp"));
    };
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE citizens SET totp_secret = $2, totp_last_step = $3 WHERE id = $1")
        .bind(who.id)
        .bind(pii::seal(db, ctx::CITIZEN_TOTP, &secret)?)
        .bind(step)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE citizen_sessions SET totp_pending = NULL WHERE id = $1")
        .bind(token_hash(token))
        .execute(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        &Entry::citizen(&who.label(), "citizen.totp_on", who.label()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Accepts a one-time code once (atomic across nodes); counts failures.
async fn use_code(
    db: &Db,
    citizen_id: i64,
    key: &str,
    code: &str,
    now: DateTime<Utc>,
) -> Result<bool, DomainError> {
    let ok = super::totp::consume(
        db,
        super::totp::Holder::Citizen,
        citizen_id,
        code,
        now.timestamp(),
    )
    .await?;
    if !ok {
        note_failure(db, key, now).await?;
    }
    Ok(ok)
}

/// Turns the one-time code off; a current code proves the phone is at hand.
pub async fn disable_totp(
    db: &Db,
    who: &Citizen,
    code: &str,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    let bidx = match Phone::parse(&who.phone) {
        Ok(p) => phone_key(db, &p)?,
        Err(_) => String::new(),
    };
    if !use_code(db, who.id, &lock_key(&bidx), code, now).await? {
        return Err(invalid("totp_code", "wrong_totp"));
    }
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE citizens SET totp_secret = NULL, totp_last_step = 0 WHERE id = $1")
        .bind(who.id)
        .execute(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        &Entry::citizen(&who.label(), "citizen.totp_off", who.label()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The second step of a sign-in: a pending session becomes full, under a
/// new token (the one that only passed the first step opens nothing).
/// Returns the new cookie value.
pub async fn verify_pending(
    db: &Db,
    policy: &SecurityPolicy,
    token: &str,
    code: &str,
    now: DateTime<Utc>,
) -> Result<String, DomainError> {
    let id = token_hash(token);
    let row: Option<(i64, String)> = sqlx::query_as(
        "SELECT s.citizen_id, c.phone_bidx FROM citizen_sessions s JOIN citizens c ON c.id = s.citizen_id \
         WHERE s.id = $1 AND s.stage = 'pending' AND s.expires_at > $2",
    )
    .bind(&id)
    .bind(now.timestamp())
    .fetch_optional(db.pool())
    .await?;
    let Some((citizen_id, phone)) = row else {
        return Err(DomainError::Login(LoginError::Invalid));
    };
    let key = lock_key(&phone);
    if locked(db, policy, &key, now).await? {
        return Err(DomainError::Login(LoginError::Locked));
    }
    if !use_code(db, citizen_id, &key, code, now).await? {
        return Err(DomainError::Login(LoginError::BadCode));
    }
    let fresh = super::staff::random_token();
    sqlx::query("UPDATE citizen_sessions SET id = $2, stage = 'full', auth_at = $3 WHERE id = $1")
        .bind(&id)
        .bind(token_hash(&fresh))
        .bind(now.timestamp())
        .execute(db.pool())
        .await?;
    succeed(db, &key).await?;
    Ok(fresh)
}

#[cfg(test)]
mod tests {
    use super::{Registration, is_person_name, registration_problems};

    #[test]
    fn a_registration_reports_every_problem_at_once() {
        let reg = Registration {
            phone: "139 1234".into(),
            code: "".into(),
            password: "short".into(),
            accept_privacy: false,
        };
        let fields: Vec<&str> = registration_problems(&reg)
            .iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            vec!["phone", "sms_code", "password", "accept_privacy"]
        );
        let fine = Registration {
            phone: "+86 139 1234 5678".into(),
            code: "123456".into(),
            password: "Citiz3n!pw".into(),
            accept_privacy: true,
        };
        assert!(registration_problems(&fine).is_empty());
    }

    #[test]
    fn names_are_read_as_on_an_identity_card() {
        for ok in ["张三", "欧阳娜娜", "买买提·艾力", "Anna Schmidt", "𠮷野家"] {
            assert!(is_person_name(ok), "{ok}");
        }
        for bad in ["张", "张3", "13800138000", "<b>张三</b>", "张三!"] {
            assert!(!is_person_name(bad), "{bad}");
        }
    }
}
