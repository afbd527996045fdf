//! 政民互动 (#17, begun): citizen requests (诉求) through one entry —
//! 咨询, 求助, 投诉, 举报, 建议, 表扬 — and their closed loop. So far the
//! pure rules: the workflow with its people (`workflow`) and the emergency
//! lines a text calls for before anything is filed (`emergency`). Storage,
//! routing, pages and the API build on these.

pub mod emergency;
pub mod routing;
pub mod workflow;

pub use workflow::{
    Facts, Refusal, RequestAction, RequestSettings, RequestState, RequestType, Satisfaction, Who,
};
