//! Roles built from permissions, and the staff directory: who belongs to
//! which unit and holds which roles. Two rules keep delegation safe: an
//! administrator manages only staff inside their own data scope, and grants
//! only roles whose permissions they hold themselves.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::staff::{
    StaffSession, check_password_policy, check_username, end_sessions_of, hash_password,
};
use super::{Perm, Scope, scope};
use crate::audit::{self, Entry};
use crate::{Db, DomainError, FieldError};

#[derive(Debug, Clone, Serialize)]
pub struct Role {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub description: String,
    pub builtin: bool,
    pub perms: BTreeSet<Perm>,
}

pub async fn permissions_of(db: &Db, user_id: i64) -> Result<BTreeSet<Perm>, DomainError> {
    let codes: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT rp.permission FROM staff_roles sr \
         JOIN role_permissions rp ON rp.role_id = sr.role_id WHERE sr.user_id = $1",
    )
    .bind(user_id)
    .fetch_all(db.pool())
    .await?;
    Ok(codes.iter().filter_map(|c| Perm::from_slug(c)).collect())
}

pub async fn list_roles(db: &Db) -> Result<Vec<Role>, DomainError> {
    let rows: Vec<(i64, String, String, String, i64)> =
        sqlx::query_as("SELECT id, code, name, description, builtin FROM roles ORDER BY id")
            .fetch_all(db.pool())
            .await?;
    let perms: Vec<(i64, String)> =
        sqlx::query_as("SELECT role_id, permission FROM role_permissions")
            .fetch_all(db.pool())
            .await?;
    let mut by_role: BTreeMap<i64, BTreeSet<Perm>> = BTreeMap::new();
    for (role, code) in perms {
        if let Some(p) = Perm::from_slug(&code) {
            by_role.entry(role).or_default().insert(p);
        }
    }
    Ok(rows
        .into_iter()
        .map(|(id, code, name, description, builtin)| Role {
            perms: by_role.remove(&id).unwrap_or_default(),
            id,
            code,
            name,
            description,
            builtin: builtin != 0,
        })
        .collect())
}

/// What an administrator fills in for a custom role.
#[derive(Debug, Clone, Default)]
pub struct RoleInput {
    pub code: String,
    pub name: String,
    pub description: String,
    pub perms: BTreeSet<Perm>,
}

/// Creates (`id` = None) or changes a custom role. Built-in roles are fixed.
pub async fn save_role(
    db: &Db,
    actor: &StaffSession,
    id: Option<i64>,
    input: &RoleInput,
) -> Result<i64, DomainError> {
    let mut errors = Vec::new();
    let code = input.code.trim();
    if code.is_empty()
        || code.len() > 40
        || !code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        errors.push(FieldError::new("code", "invalid_code", code));
    }
    let name = input.name.trim();
    if name.is_empty() {
        errors.push(FieldError::new("name", "required", ""));
    } else if name.chars().count() > 40 {
        errors.push(FieldError::new("name", "too_long", ""));
    }
    if input.perms.is_empty() {
        errors.push(FieldError::new("perms", "required", ""));
    }
    if !input.perms.is_subset(&actor.perms) {
        errors.push(FieldError::new("perms", "not_yours_to_grant", ""));
    }
    // Roles are shared by every unit: changing one changes what its holders
    // may do, so all of them must be inside the editor's scope.
    if let Some(id) = id {
        let holders: Vec<Option<i64>> = sqlx::query_scalar(
            "SELECT u.unit_id FROM staff_roles sr JOIN staff_users u ON u.id = sr.user_id \
             WHERE sr.role_id = $1",
        )
        .bind(id)
        .fetch_all(db.pool())
        .await?;
        let outside = holders
            .iter()
            .filter(|u| !actor.scope.covers_opt(**u))
            .count();
        if outside > 0 {
            errors.push(FieldError::new(
                "perms",
                "holders_outside_scope",
                outside.to_string(),
            ));
        }
    }
    if !errors.is_empty() {
        scope::audit_field_refusals(db, actor, &format!("role:{code}"), &errors).await?;
        return Err(DomainError::Invalid(errors));
    }
    let mut tx = db.begin().await?;
    let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM roles WHERE code = $1")
        .bind(code)
        .fetch_optional(&mut *tx)
        .await?;
    if taken.is_some() && taken != id {
        return Err(DomainError::Invalid(vec![FieldError::new(
            "code", "taken", code,
        )]));
    }
    let role_id = match id {
        Some(id) => {
            let builtin: Option<i64> =
                sqlx::query_scalar("SELECT builtin FROM roles WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            match builtin {
                None => return Err(DomainError::NotFound),
                Some(b) if b != 0 => {
                    return Err(DomainError::Conflict(crate::Conflict::BuiltinRole));
                }
                Some(_) => {}
            }
            sqlx::query("UPDATE roles SET code = $2, name = $3, description = $4 WHERE id = $1")
                .bind(id)
                .bind(code)
                .bind(name)
                .bind(input.description.trim())
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM role_permissions WHERE role_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            id
        }
        None => {
            sqlx::query_scalar(
                "INSERT INTO roles (code, name, description, builtin) VALUES ($1, $2, $3, 0) \
                 RETURNING id",
            )
            .bind(code)
            .bind(name)
            .bind(input.description.trim())
            .fetch_one(&mut *tx)
            .await?
        }
    };
    for p in &input.perms {
        sqlx::query("INSERT INTO role_permissions (role_id, permission) VALUES ($1, $2)")
            .bind(role_id)
            .bind(p.slug())
            .execute(&mut *tx)
            .await?;
    }
    let perms: Vec<&str> = input.perms.iter().map(|p| p.slug()).collect();
    audit::append(
        &mut tx,
        &Entry::staff(&actor.user.username, "role.save", code).detail(perms.join(" ")),
    )
    .await?;
    tx.commit().await?;
    Ok(role_id)
}

/// A row of the staff directory.
#[derive(Debug, Clone, Serialize)]
pub struct StaffEntry {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub unit_id: Option<i64>,
    pub unit_name: String,
    pub disabled: bool,
    pub totp_enrolled: bool,
    pub allow_concurrent: bool,
    pub role_ids: BTreeSet<i64>,
    /// Mobile number for supervision reminders (may be empty).
    pub phone: String,
}

/// Staff inside `scope`, by unit then name.
pub async fn list_staff(db: &Db, scope: &Scope) -> Result<Vec<StaffEntry>, DomainError> {
    type Row = (
        i64,
        String,
        String,
        Option<i64>,
        Option<String>,
        i64,
        Option<String>,
        i64,
        String,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT u.id, u.username, u.display_name, u.unit_id, d.name, u.disabled, u.totp_secret, \
         u.allow_concurrent, u.phone FROM staff_users u LEFT JOIN departments d ON d.id = u.unit_id \
         ORDER BY d.sort, u.unit_id, u.username",
    )
    .fetch_all(db.pool())
    .await?;
    let grants: Vec<(i64, i64)> = sqlx::query_as("SELECT user_id, role_id FROM staff_roles")
        .fetch_all(db.pool())
        .await?;
    let mut roles: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    for (u, r) in grants {
        roles.entry(u).or_default().insert(r);
    }
    rows.into_iter()
        .filter(|r| scope.covers_opt(r.3))
        .map(
            |(id, username, display_name, unit_id, unit, disabled, totp, conc, phone)| {
                Ok(StaffEntry {
                    role_ids: roles.remove(&id).unwrap_or_default(),
                    id,
                    username,
                    display_name,
                    unit_id,
                    unit_name: unit.unwrap_or_default(),
                    disabled: disabled != 0,
                    totp_enrolled: totp.is_some(),
                    allow_concurrent: conc != 0,
                    phone: crate::pii::open(db, crate::pii::ctx::STAFF_PHONE, &phone)?,
                })
            },
        )
        .collect()
}

/// One staff member, if inside the actor's scope (a refusal is audited and
/// reads as missing).
pub async fn get_staff(db: &Db, actor: &StaffSession, id: i64) -> Result<StaffEntry, DomainError> {
    let unit: Option<Option<i64>> =
        sqlx::query_scalar("SELECT unit_id FROM staff_users WHERE id = $1")
            .bind(id)
            .fetch_optional(db.pool())
            .await?;
    let Some(unit) = unit else {
        return Err(DomainError::NotFound);
    };
    scope::require_unit(db, actor, unit, &format!("staff:{id}")).await?;
    list_staff(db, &actor.scope)
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or(DomainError::NotFound)
}

/// Whether `actor` may give `role` to the account `target` (None: a new
/// one). A role whose permissions the actor holds, always; besides, the
/// built-in 安全审计员 role by a whole-city staff manager to someone other
/// than themselves (三员分立: administrators appoint the auditor but do
/// not read the log themselves).
pub fn may_grant(actor: &StaffSession, role: &Role, target: Option<i64>) -> bool {
    role.perms.is_subset(&actor.perms)
        || (role.builtin
            && role.code == AUDITOR_ROLE
            && actor.scope.is_whole()
            && actor.can(Perm::StaffManage)
            && target != Some(actor.user.id))
        // 线索核查员: no administrator holds it (tips are the receiving
        // unit's alone), so one who manages staff grants it to others,
        // never to themselves; the grant is audited like any other.
        || (role.builtin
            && role.code == TIP_ROLE
            && actor.can(Perm::StaffManage)
            && target != Some(actor.user.id))
}

/// The built-in role that reads the police tips sent to its unit.
pub const TIP_ROLE: &str = "tip_handler";

/// The built-in role that reads the audit log and nothing else.
pub const AUDITOR_ROLE: &str = "auditor";

/// What an administrator fills in for a staff member.
#[derive(Debug, Clone, Default)]
pub struct StaffInput {
    pub username: String,
    pub display_name: String,
    pub unit_id: Option<i64>,
    pub role_ids: BTreeSet<i64>,
    pub disabled: bool,
    pub allow_concurrent: bool,
    /// Required for a new account; for an existing one, sets a new password.
    pub password: String,
    /// Mobile number for supervision reminders; empty for none.
    pub phone: String,
}

/// The roles the account ends up with: those chosen that the actor may
/// grant, plus those it already held that the actor may not grant (an
/// editor never takes away what they could not have given). Chosen roles
/// the actor may not grant, and did not hold, are refused.
async fn granted_roles(
    db: &Db,
    actor: &StaffSession,
    input: &StaffInput,
    before: Option<&StaffEntry>,
    errors: &mut Vec<FieldError>,
) -> Result<BTreeSet<i64>, DomainError> {
    if !actor.scope.covers_opt(input.unit_id) {
        errors.push(FieldError::new("unit_id", "outside_scope", ""));
    }
    let roles = list_roles(db).await?;
    let held = before.map(|b| b.role_ids.clone()).unwrap_or_default();
    let target = before.map(|b| b.id);
    let mut out = BTreeSet::new();
    for id in &input.role_ids {
        match roles.iter().find(|r| r.id == *id) {
            None => errors.push(FieldError::new(
                "role_ids",
                "invalid_choice",
                id.to_string(),
            )),
            Some(r) if may_grant(actor, r, target) => {
                out.insert(r.id);
            }
            Some(r) if held.contains(&r.id) => {}
            Some(r) => errors.push(FieldError::new(
                "role_ids",
                "not_yours_to_grant",
                r.name.clone(),
            )),
        }
    }
    for r in &roles {
        if held.contains(&r.id) && !may_grant(actor, r, target) {
            out.insert(r.id);
        }
    }
    Ok(out)
}

/// Creates (`id` = None) or changes a staff account, within the actor's
/// scope and grants. Changing roles, unit or status is audited with the
/// before and after; disabling ends the account's sessions.
pub async fn save_staff(
    db: &Db,
    actor: &StaffSession,
    id: Option<i64>,
    input: &StaffInput,
) -> Result<i64, DomainError> {
    let mut errors = Vec::new();
    let username = input.username.trim();
    if id.is_none()
        && let Err(DomainError::Invalid(mut e)) = check_username(username)
    {
        errors.append(&mut e);
    }
    if input.display_name.trim().is_empty() {
        errors.push(FieldError::new("display_name", "required", ""));
    }
    let phone = match input.phone.trim() {
        "" => String::new(),
        p => match super::ids::Phone::parse(p) {
            Ok(p) => p.as_str().to_string(),
            Err(e) => {
                errors.push(FieldError::new("phone", e.code, ""));
                String::new()
            }
        },
    };
    if (id.is_none() || !input.password.is_empty())
        && let Err(e) = check_password_policy(&input.password)
    {
        errors.push(e);
    }
    let before = match id {
        Some(id) => Some(get_staff(db, actor, id).await?),
        None => None,
    };
    let role_ids = granted_roles(db, actor, input, before.as_ref(), &mut errors).await?;
    if before.as_ref().is_some_and(|b| b.id == actor.user.id) && input.disabled {
        errors.push(FieldError::new("disabled", "not_yourself", ""));
    }
    if !errors.is_empty() {
        let object = before.as_ref().map_or_else(
            || format!("staff:{username}"),
            |b| format!("staff:{}", b.id),
        );
        scope::audit_field_refusals(db, actor, &object, &errors).await?;
        return Err(DomainError::Invalid(errors));
    }
    let hash = if input.password.is_empty() {
        None
    } else {
        Some(hash_password(&input.password)?)
    };
    let now = db.now();
    let mut tx = db.begin().await?;
    let staff_id = match id {
        Some(id) => {
            sqlx::query(
                "UPDATE staff_users SET display_name = $2, unit_id = $3, disabled = $4, \
                 allow_concurrent = $5, phone = $6 WHERE id = $1",
            )
            .bind(id)
            .bind(input.display_name.trim())
            .bind(input.unit_id)
            .bind(i64::from(input.disabled))
            .bind(i64::from(input.allow_concurrent))
            .bind(crate::pii::seal(db, crate::pii::ctx::STAFF_PHONE, &phone)?)
            .execute(&mut *tx)
            .await?;
            if let Some(h) = &hash {
                // An administrator's reset: the person must choose a new
                // password at next sign-in (the age check sees 0).
                sqlx::query(
                    "UPDATE staff_users SET password_hash = $2, password_changed_at = 0 WHERE id = $1",
                )
                .bind(id)
                .bind(h)
                .execute(&mut *tx)
                .await?;
            }
            if input.disabled || hash.is_some() {
                end_sessions_of(&mut tx, id).await?;
            }
            if hash.is_some() {
                // The person's key was sealed under the password they
                // chose: nobody can open it now.
                crate::identity::staff_keys::drop_keys(&mut tx, id).await?;
            }
            sqlx::query("DELETE FROM staff_roles WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            id
        }
        None => {
            let taken: Option<i64> =
                sqlx::query_scalar("SELECT id FROM staff_users WHERE username = $1")
                    .bind(username)
                    .fetch_optional(&mut *tx)
                    .await?;
            if taken.is_some() {
                return Err(DomainError::Invalid(vec![FieldError::new(
                    "username", "taken", username,
                )]));
            }
            sqlx::query_scalar(
                "INSERT INTO staff_users (username, display_name, password_hash, created_at, \
                 unit_id, disabled, allow_concurrent, password_changed_at, phone) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8) RETURNING id",
            )
            .bind(username)
            .bind(input.display_name.trim())
            .bind(hash.clone().unwrap_or_default())
            .bind(now.to_rfc3339())
            .bind(input.unit_id)
            .bind(i64::from(input.disabled))
            .bind(i64::from(input.allow_concurrent))
            .bind(crate::pii::seal(db, crate::pii::ctx::STAFF_PHONE, &phone)?)
            .fetch_one(&mut *tx)
            .await?
        }
    };
    for r in &role_ids {
        sqlx::query("INSERT INTO staff_roles (user_id, role_id) VALUES ($1, $2)")
            .bind(staff_id)
            .bind(r)
            .execute(&mut *tx)
            .await?;
    }
    crate::tips::keys::forget_former(&mut tx, staff_id).await?;
    let target = before
        .as_ref()
        .map_or_else(|| username.to_string(), |b| b.username.clone());
    let describe = |unit: Option<i64>, roles: &BTreeSet<i64>, disabled: bool| {
        let roles: Vec<String> = roles.iter().map(i64::to_string).collect();
        format!(
            "unit={} roles=[{}] disabled={disabled}",
            unit.map_or_else(|| "-".into(), |u| u.to_string()),
            roles.join(",")
        )
    };
    let after = describe(input.unit_id, &role_ids, input.disabled);
    let detail = match &before {
        Some(b) => format!(
            "{} → {after}{}",
            describe(b.unit_id, &b.role_ids, b.disabled),
            if hash.is_some() {
                " password=reset"
            } else {
                ""
            }
        ),
        None => after,
    };
    let action = if before.is_some() {
        "staff.update"
    } else {
        "staff.create"
    };
    audit::append(
        &mut tx,
        &Entry::staff(&actor.user.username, action, target).detail(detail),
    )
    .await?;
    tx.commit().await?;
    Ok(staff_id)
}

/// Clears a lost second factor (one-time code and passkeys); the person
/// enrols again at next sign-in.
pub async fn reset_second_factor(
    db: &Db,
    actor: &StaffSession,
    id: i64,
) -> Result<(), DomainError> {
    let target = get_staff(db, actor, id).await?;
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE staff_users SET totp_secret = NULL, totp_last_step = 0 WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM staff_passkeys WHERE staff_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    end_sessions_of(&mut tx, id).await?;
    audit::append(
        &mut tx,
        &Entry::staff(&actor.user.username, "staff.totp_reset", &target.username),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
