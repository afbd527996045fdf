//! Case handling (办件): applications filed from smart forms, the workflow
//! from 受理 to 送达, time limits in working days with clocks that pause,
//! electronic supervision lights, and the lists staff and applicants read.

pub mod calendar;
pub mod clock;
mod drafts;
mod lists;
mod repo;
pub mod workflow;

pub use clock::{CaseSettings, Deadlines, Light, local_date};
pub use drafts::*;
pub use lists::*;
pub use repo::*;
pub use workflow::{CaseAction, CaseState, Delivery, Role};
