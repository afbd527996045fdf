//! 电子监察 of requests: a reminder when the light turns yellow, 督办 the
//! morning after the deadline (the unit and the unit above are told), and
//! an escalation when a dispatched order is not signed in time.

use super::repo::{load, record_event};
use super::workflow::{RequestAction, RequestState};
use crate::audit::{self, Entry};
use crate::cases::Light;
use crate::identity::Perm;
use crate::time::local_date;
use crate::{Db, DomainError, notify};

/// Runs a `request_remind`, `request_escalate` or `request_sign_check`
/// job: recorded only if the request still calls for it (an extension or
/// a reopening queued jobs for the new deadline).
pub async fn supervise(db: &Db, kind: &str, payload: &str) -> Result<(), DomainError> {
    let v: serde_json::Value = serde_json::from_str(payload).map_err(|_| DomainError::NotFound)?;
    let id = v
        .get("request_id")
        .and_then(serde_json::Value::as_i64)
        .ok_or(DomainError::NotFound)?;
    let mut tx = db.begin().await?;
    let number: Option<String> = sqlx::query_scalar("SELECT number FROM requests WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(number) = number else {
        return Ok(());
    };
    let r = load(db, &mut tx, &number).await?;
    let today = local_date(db.now());
    let (action, note) = match (kind, r.light(today)) {
        ("request_remind", Light::Yellow) => (
            RequestAction::Remind,
            format!("答复期限 {}", r.due_on.format("%Y-%m-%d")),
        ),
        ("request_escalate", Light::Red) => (
            RequestAction::Escalate,
            format!("已超过答复期限 {}", r.due_on.format("%Y-%m-%d")),
        ),
        ("request_sign_check", _)
            if r.state == RequestState::Dispatched && r.sign_due_on.is_some_and(|d| d < today) =>
        {
            (
                RequestAction::Escalate,
                format!(
                    "派单后超过签收时限（{}）未签收",
                    r.sign_due_on.map(|d| d.to_string()).unwrap_or_default()
                ),
            )
        }
        _ => return Ok(()),
    };
    record_event(
        &mut tx,
        r.id,
        "system",
        "电子监察",
        action,
        r.state,
        r.state,
        &note,
    )
    .await?;
    // The unit's handlers are told; 督办 also reaches the unit above.
    if let Some(unit) = r.unit_id {
        let text = format!("诉求 {}（{}）{}，请及时办理。", r.number, r.title, note);
        notify::text_unit_staff(
            &mut tx,
            db,
            unit,
            action == RequestAction::Escalate,
            Perm::RequestsHandle,
            &text,
        )
        .await?;
    }
    if action == RequestAction::Escalate {
        audit::append(
            &mut tx,
            &Entry::staff("system", "request.escalate", &r.number).detail(note),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
