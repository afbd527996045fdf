//! Case handling (办件): applications filed from smart forms, the workflow
//! from 受理 to 送达, time limits in working days with clocks that pause,
//! electronic supervision lights, and the lists staff and applicants read.

pub mod bundled;
pub mod calendar;
pub mod clock;
pub mod counter;
mod desk;
pub mod disclosure;
mod drafts;
mod files;
mod lists;
mod repo;
pub mod workflow;

pub use clock::{CaseSettings, Deadlines, Light};
pub use desk::Desk;
pub use drafts::*;
pub use files::*;
pub use lists::*;
pub use repo::*;
pub use workflow::{CaseAction, CaseState, Delivery, Outcome, Role};

use crate::forms::Profile;
use crate::identity::citizen::Citizen;

/// The profile forms are filled from, on `today` (Beijing date): the
/// person's identity and the companies they may act for (only the one
/// they act for now, if any).
pub async fn profile_of(
    db: &crate::Db,
    c: &Citizen,
    today: chrono::NaiveDate,
) -> Result<Profile, crate::DomainError> {
    // Acting for a company: the forms are filled for that company alone.
    let companies = match &c.acting {
        Some(company) => vec![(company.uscc.clone(), company.name.clone())],
        None => crate::identity::company::memberships(db, c.id)
            .await?
            .into_iter()
            .map(|m| (m.company.uscc, m.company.name))
            .collect(),
    };
    Ok(Profile {
        today,
        name: c.name.clone(),
        id_number: c.id_number.clone(),
        phone: c.phone.clone(),
        verified: c.level >= 2,
        companies,
    })
}
