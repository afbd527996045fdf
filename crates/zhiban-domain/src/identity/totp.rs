//! Time-based one-time passwords (RFC 6238: SHA-1, 6 digits, 30 s steps, one
//! step of clock skew), the staff second factor. A code is accepted once:
//! the caller stores the step it matched and refuses that step or older.

use totp_rs::{Builder, Secret, Totp};

/// Shown in authenticator apps above the account name.
pub const ISSUER: &str = "智办";

/// A fresh 160-bit secret, base32 as authenticator apps expect it.
pub fn new_secret() -> String {
    Secret::generate().to_base32()
}

fn totp(secret_b32: &str, account: &str) -> Option<Totp> {
    let secret = Secret::try_from_base32(secret_b32).ok()?;
    Builder::new()
        .with_secret(secret)
        .with_issuer(Some(ISSUER))
        .with_account_name(account)
        .build()
        .ok()
}

/// The `otpauth://` URL an authenticator app scans.
pub fn enrol_url(secret_b32: &str, account: &str) -> Option<String> {
    totp(secret_b32, account)?.to_url().ok()
}

/// The time step a code matches at `unix_secs`, if it is valid and newer
/// than `last_step`.
pub fn check(secret_b32: &str, code: &str, unix_secs: i64, last_step: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let t = totp(secret_b32, "x")?;
    let step = t.check(&code, u64::try_from(unix_secs).ok()?)?;
    let step = i64::try_from(step).ok()?;
    (step > last_step).then_some(step)
}

/// The secret in groups of four, easier to type into an app by hand.
pub fn grouped(secret_b32: &str) -> String {
    secret_b32
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Which accounts hold a secret (`totp_secret`, `totp_last_step` columns).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Holder {
    Staff,
    Citizen,
}

/// Accepts `code` for account `id` once: the matched step is stored with a
/// conditional UPDATE, so the same code cannot pass twice, even on two
/// nodes at the same moment.
pub(crate) async fn consume(
    db: &crate::Db,
    holder: Holder,
    id: i64,
    code: &str,
    unix_secs: i64,
) -> Result<bool, crate::DomainError> {
    let table = match holder {
        Holder::Staff => "staff_users",
        Holder::Citizen => "citizens",
    };
    let (secret, last): (Option<String>, i64) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT totp_secret, totp_last_step FROM {table} WHERE id = $1"
    )))
    .bind(id)
    .fetch_one(db.pool())
    .await?;
    let ctx = match holder {
        Holder::Staff => crate::pii::ctx::STAFF_TOTP,
        Holder::Citizen => crate::pii::ctx::CITIZEN_TOTP,
    };
    let secret = crate::pii::open_opt(db, ctx, secret.as_deref())?;
    let Some(step) = secret
        .as_deref()
        .and_then(|s| check(s, code, unix_secs, last))
    else {
        return Ok(false);
    };
    let n = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {table} SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2"
    )))
    .bind(id)
    .bind(step)
    .execute(db.pool())
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// The code for `unix_secs` (tests and the development tools use it).
pub fn code_at(secret_b32: &str, unix_secs: i64) -> Option<String> {
    Some(
        totp(secret_b32, "x")?
            .generate(u64::try_from(unix_secs).ok()?)
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_accepted_once_and_within_one_step_of_skew() {
        let s = new_secret();
        let now = 1_800_000_000;
        let code = code_at(&s, now).unwrap_or_default();
        let step = check(&s, &code, now, 0);
        assert_eq!(step, Some(now / 30));
        assert_eq!(check(&s, &code, now, now / 30), None, "replayed");
        assert!(check(&s, &code, now + 30, 0).is_some(), "one step late");
        assert_eq!(check(&s, &code, now + 95, 0), None, "three steps late");
        assert_eq!(check(&s, "000000x", now, 0), None);
        assert_eq!(check("not base32!", &code, now, 0), None);
    }

    #[test]
    fn the_enrolment_url_names_the_portal_and_account() {
        let url = enrol_url(&new_secret(), "wangfang").unwrap_or_default();
        assert!(url.starts_with("otpauth://totp/"), "{url}");
        assert!(url.contains("wangfang"), "{url}");
    }
}
