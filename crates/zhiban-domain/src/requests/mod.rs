//! 政民互动: citizen requests (诉求) through one entry — 咨询, 求助, 投诉,
//! 举报, 建议, 表扬 — and their closed loop: the rules (`workflow`), the
//! emergency lines a text calls for before anything is filed
//! (`emergency`), routing by a model trained on the dispatch catalogue and
//! the classified history (`routing`), filing (`filing`), storage and the steps (`repo`), reading and the desks' lists
//! (`lists`), the dispatch catalogue (`catalogue`), 公开选登 (`publish`),
//! supervision jobs (`supervision`), department figures (`stats`) and the
//! demo hotline (`demo`).

pub mod anonymous;
mod catalogue;
pub mod demo;
pub mod emergency;
pub mod files;
mod filing;
mod lists;
pub mod open311;
mod publish;
mod repo;
pub mod routing;
pub mod stats;
mod supervision;
pub mod workflow;

pub use catalogue::*;
pub use filing::*;
pub use lists::*;
pub use publish::*;
pub use repo::*;
pub use supervision::supervise;
pub use workflow::{
    Facts, Refusal, RequestAction, RequestSettings, RequestState, RequestType, Satisfaction, Who,
};
