//! The staff portal (`/admin/…`). Every route but signing in is declared in
//! `routes::staff_routes` with the permission it needs.

pub mod account;
pub mod assistant;
pub mod audit;
pub mod bundles;
pub mod cases;
pub mod catalog;
pub mod chats;
pub mod citizens;
pub mod consultations;
pub mod content;
pub mod counter;
pub mod forms;
pub mod home;
pub mod interviews;
pub mod licenses;
pub mod notify;
pub mod oidc_clients;
pub mod open311;
pub mod opinion;
pub mod org;
pub mod payments;
pub mod people;
pub mod ratings;
pub mod recommend;
pub mod requests;
pub mod roles;
pub mod search;
pub mod sign_in;
pub mod sms;
pub mod tips;
pub mod transfer;
