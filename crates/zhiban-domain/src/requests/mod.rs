//! 政民互动: citizen requests (诉求) through one entry — 咨询, 求助, 投诉,
//! 举报, 建议, 表扬 — and their closed loop: the rules (`workflow`), the
//! emergency lines a text calls for before anything is filed
//! (`emergency`), routing by a model trained on the dispatch catalogue and
//! the classified history (`routing`), storage and the steps (`repo`),
//! supervision jobs (`supervision`), department figures (`stats`) and the
//! demo hotline (`demo`).

pub mod demo;
pub mod emergency;
mod repo;
pub mod routing;
pub mod stats;
mod supervision;
pub mod workflow;

pub use repo::*;
pub use supervision::supervise;
pub use workflow::{
    Facts, Refusal, RequestAction, RequestSettings, RequestState, RequestType, Satisfaction, Who,
};
