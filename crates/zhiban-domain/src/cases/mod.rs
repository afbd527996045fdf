//! Case handling (办件): applications filed from smart forms, the workflow
//! from 受理 to 送达, time limits in working days with clocks that pause,
//! electronic supervision lights, and the lists staff and applicants read.

pub mod calendar;
pub mod clock;
mod desk;
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

/// The profile forms are filled from, on `today` (Beijing date).
pub fn profile_of(c: &Citizen, today: chrono::NaiveDate) -> Profile {
    Profile {
        today,
        name: c.name.clone(),
        id_number: c.id_number.clone(),
        phone: c.phone.clone(),
        verified: c.level >= 2,
    }
}
