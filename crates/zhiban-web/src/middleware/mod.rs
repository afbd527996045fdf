//! Layers in front of handlers: the staff permission guard, per-address
//! rate limits and request logging.

pub mod limit;
pub mod log;
pub mod staff_guard;
