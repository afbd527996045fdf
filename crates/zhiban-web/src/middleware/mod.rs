//! Layers in front of handlers: the staff permission guard, per-address
//! rate limits, `no-store` for signed-in pages, compression and request
//! logging.

pub mod compress;
pub mod limit;
pub mod log;
pub mod oidc;
pub mod private;
pub mod staff_guard;
