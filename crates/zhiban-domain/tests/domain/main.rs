//! The domain against real databases (SQLite, or PostgreSQL when
//! `ZHIBAN_TEST_DATABASE_URL` is set): one test binary, one module per area.
//! Every test owns its database, copied from a migrated template.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod assistant;
mod authorization;
mod bundles;
mod cases;
mod catalog;
mod concurrency;
mod consultations;
mod content;
mod counter;
mod crypto;
mod disclosure;
mod housekeeping;
mod identity;
mod interviews;
mod licenses;
mod opinion;
mod payments;
mod ratings;
mod recommend;
mod requests;
mod search_quality;
mod security;
mod tips;
