//! Pages of a person's own: signing in, the account centre, companies,
//! applying online, one's cases and one's licenses.

pub mod account;
pub mod apply;
pub mod auth;
pub mod cases;
pub mod companies;
pub mod licenses;
