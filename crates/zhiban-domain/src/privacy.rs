//! Personal data as a whole (个人信息保护): "download my data" gathers what
//! every area holds about one person. It depends on the areas; none of them
//! depends on it.

use crate::audit::{self, Entry};
use crate::identity::citizen::{self, Citizen};
use crate::{Db, DomainError};

/// The person's e-licenses and every recorded use of each.
async fn licenses_export(db: &Db, c: &Citizen) -> Result<serde_json::Value, DomainError> {
    let mut out = Vec::new();
    for l in crate::licenses::wallet(db, c).await? {
        out.push(serde_json::json!({
            "license": l.doc,
            "revoked": l.revoked,
            "uses": crate::licenses::uses(db, l.id).await?,
        }));
    }
    Ok(serde_json::Value::Array(out))
}

/// Everything the portal holds about a person, for "download my data".
pub async fn export(db: &Db, person: &Citizen) -> Result<serde_json::Value, DomainError> {
    let fresh = citizen::get(db, person.id).await?;
    let data = serde_json::json!({
        "exported_at": db.now().to_rfc3339(),
        "account": fresh,
        "consents": citizen::consents(db, person.id).await?,
        "sessions": citizen::sessions(db, person.id).await?
            .into_iter()
            .map(|s| serde_json::json!({"created_at": s.created_at, "ip": s.ip, "user_agent": s.user_agent}))
            .collect::<Vec<_>>(),
        "logins": citizen::login_history(db, person.id, 10_000).await?,
        "email": citizen::email(db, person.id).await?,
        "cases": crate::cases::filed_by(db, person.id, crate::time::local_date(db.now())).await?,
        "messages": crate::notify::messages(db, person.id).await?,
        "licenses": licenses_export(db, &fresh).await?,
    });
    audit::record(
        db,
        Entry::citizen(&person.label(), "citizen.export", person.label()),
    )
    .await?;
    Ok(data)
}
