//! Data scope: which part of the org tree a staff member's work covers, and
//! what happens when a check says no.
//!
//! Two kinds of things are guarded:
//! - **Objects that belong to a unit** (cases, staff accounts, org units,
//!   catalog items, licenses): an account works on those of its unit and
//!   the units below it. Outside that, the object reads as missing
//!   ([`DomainError::OutOfScope`], answered like a 404).
//! - **City-level settings** (notification wording, search synonyms,
//!   roles held across units, single-sign-on applications and keys, which
//!   departments may issue which licenses): only whole-city accounts (no
//!   unit, or the top of the tree) change them ([`DomainError::CityLevel`],
//!   answered 403 with the reason).
//!
//! Every refusal is written to the audit log as refused, with who, what,
//! which object and the address the request came from, whatever the
//! person is shown.

use std::collections::BTreeSet;

use super::staff::StaffSession;
use crate::audit::{self, Entry};
use crate::{Db, DomainError};

/// Which part of the org tree a staff member's data access covers: the
/// subtree under their unit, or the whole tree for staff without a unit
/// or at its top.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    /// Department ids: the unit itself and everything below it.
    Units(BTreeSet<i64>),
}

impl Scope {
    pub fn covers(&self, unit_id: i64) -> bool {
        match self {
            Scope::All => true,
            Scope::Units(ids) => ids.contains(&unit_id),
        }
    }

    pub fn covers_opt(&self, unit_id: Option<i64>) -> bool {
        match unit_id {
            Some(id) => self.covers(id),
            None => matches!(self, Scope::All),
        }
    }

    /// `self` covers at least everything `other` covers.
    pub fn includes(&self, other: &Scope) -> bool {
        match (self, other) {
            (Scope::All, _) => true,
            (Scope::Units(_), Scope::All) => false,
            (Scope::Units(a), Scope::Units(b)) => b.is_subset(a),
        }
    }

    /// The whole city: what may change city-level settings.
    pub fn is_whole(&self) -> bool {
        matches!(self, Scope::All)
    }
}

/// The data scope of a unit: the unit and every unit below it. No unit, or
/// the one unit at the top of the tree, is the whole city.
pub async fn scope_of(db: &Db, unit_id: Option<i64>) -> Result<Scope, DomainError> {
    let Some(unit) = unit_id else {
        return Ok(Scope::All);
    };
    let edges: Vec<(i64, Option<i64>)> = sqlx::query_as("SELECT id, parent_id FROM departments")
        .fetch_all(db.pool())
        .await?;
    let roots: Vec<i64> = edges
        .iter()
        .filter(|(_, p)| p.is_none())
        .map(|(id, _)| *id)
        .collect();
    if roots == [unit] {
        return Ok(Scope::All);
    }
    Ok(Scope::Units(subtree(&edges, unit)))
}

fn subtree(edges: &[(i64, Option<i64>)], root: i64) -> BTreeSet<i64> {
    let mut out: BTreeSet<i64> = [root].into();
    // Parents come before children in import order, but not necessarily
    // after edits: repeat until nothing is added.
    loop {
        let before = out.len();
        for (id, parent) in edges {
            if parent.is_some_and(|p| out.contains(&p)) {
                out.insert(*id);
            }
        }
        if out.len() == before {
            return out;
        }
    }
}

/// Writes the refused audit record of a scope check: `object` names what
/// was reached for (`case:ZB…`, `staff:12`, `notify:accepted`), `why` the
/// rule (`outside_scope`, `city_level`, `not_yours_to_grant` …).
pub async fn record_refusal(
    db: &Db,
    actor: &StaffSession,
    object: &str,
    why: &str,
) -> Result<(), DomainError> {
    audit::record(
        db,
        Entry::staff(&actor.user.username, "scope.refused", object)
            .detail(why)
            .ip(&actor.client_ip)
            .refused(),
    )
    .await?;
    Ok(())
}

/// The unit a staff member chose for something they publish (their own
/// when none was chosen): it must exist and lie in their data scope, or
/// the problem is named by `field`.
pub async fn chosen_unit(
    db: &Db,
    actor: &StaffSession,
    chosen: Option<i64>,
    field: &'static str,
    errs: &mut Vec<crate::FieldError>,
) -> Result<Option<i64>, DomainError> {
    let Some(unit) = chosen.or(actor.user.unit_id) else {
        errs.push(crate::FieldError::new(field, "required", ""));
        return Ok(None);
    };
    let known = sqlx::query("SELECT id FROM departments WHERE id = $1")
        .bind(unit)
        .fetch_optional(db.pool())
        .await?
        .is_some();
    if !known {
        errs.push(crate::FieldError::new(field, "required", ""));
        Ok(None)
    } else if !actor.scope.covers(unit) {
        errs.push(crate::FieldError::new(field, "outside_scope", ""));
        Ok(None)
    } else {
        Ok(Some(unit))
    }
}

/// An object outside the actor's scope: audited, then answered as missing.
pub async fn out_of_scope(db: &Db, actor: &StaffSession, object: &str) -> DomainError {
    match record_refusal(db, actor, object, "outside_scope").await {
        Ok(()) => DomainError::OutOfScope,
        Err(e) => e,
    }
}

/// Refuses (audited) unless `unit_id` lies in the actor's scope.
pub async fn require_unit(
    db: &Db,
    actor: &StaffSession,
    unit_id: Option<i64>,
    object: &str,
) -> Result<(), DomainError> {
    if actor.scope.covers_opt(unit_id) {
        Ok(())
    } else {
        Err(out_of_scope(db, actor, object).await)
    }
}

/// Refuses (audited) unless the actor is a whole-city account: for
/// settings that apply to every unit.
pub async fn require_city(db: &Db, actor: &StaffSession, object: &str) -> Result<(), DomainError> {
    if actor.scope.is_whole() {
        return Ok(());
    }
    record_refusal(db, actor, object, "city_level").await?;
    Err(DomainError::CityLevel)
}

/// Field problems that are refusals of scope or grants (the person sees
/// them beside the field; the audit log sees them too).
pub async fn audit_field_refusals(
    db: &Db,
    actor: &StaffSession,
    object: &str,
    errors: &[crate::FieldError],
) -> Result<(), DomainError> {
    for e in errors {
        if matches!(
            e.code,
            "outside_scope" | "not_yours_to_grant" | "holders_outside_scope" | "issuer_not_allowed"
        ) {
            let why = if e.detail.is_empty() {
                e.code.to_string()
            } else {
                format!("{} {}", e.code, e.detail)
            };
            record_refusal(db, actor, object, &why).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unit_scope_covers_only_its_subtree() {
        let district = Scope::Units([2, 5, 6].into());
        assert!(district.covers(5));
        assert!(!district.covers(3));
        assert!(!district.covers_opt(None));
        assert!(Scope::All.covers_opt(None));
        assert!(Scope::All.includes(&district));
        assert!(!district.includes(&Scope::All));
        assert!(district.includes(&Scope::Units([5].into())));
        assert!(!district.includes(&Scope::Units([3].into())));
        assert!(Scope::All.is_whole() && !district.is_whole());
    }

    #[test]
    fn a_subtree_follows_children_listed_before_their_parents() {
        let edges = [
            (1, None),
            (4, Some(3)),
            (2, Some(1)),
            (3, Some(2)),
            (5, Some(1)),
        ];
        assert_eq!(subtree(&edges, 2), [2, 3, 4].into());
        assert_eq!(subtree(&edges, 5), [5].into());
    }
}
