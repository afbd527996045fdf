//! Pages for everyone, signed in or not.

pub mod assistant;
pub mod bundles;
pub mod catalog;
pub mod consultations;
pub mod content;
pub mod feeds;
pub mod home;
pub mod interviews;
pub mod licenses;
pub mod payments;
pub mod police;
pub mod policies;
pub mod prefs;
pub mod progress;
pub mod ratings;
pub mod requests;
pub mod search;
pub mod tips;
