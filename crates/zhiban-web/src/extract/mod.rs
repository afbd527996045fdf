//! Extractors every handler may use: who is asking (a staff member, a
//! citizen, the client's address), form tokens, the portal's own address,
//! and multipart uploads.

mod api;
mod citizen;
mod client;
mod csrf;
mod notice;
mod site;
mod staff;
mod upload;

pub use api::*;
pub use citizen::*;
pub use client::*;
pub use csrf::*;
pub use notice::*;
pub use site::*;
pub use staff::*;
pub use upload::*;
