//! Pages of a person's own: signing in, the account centre, companies,
//! applying online, one's cases and one's licenses, writing requests
//! (我要写信) and following them.

pub mod account;
pub mod apply;
pub mod auth;
pub mod bundles;
pub mod cases;
pub mod companies;
pub mod licenses;
pub mod payments;
pub mod ratings;
pub mod requests;
