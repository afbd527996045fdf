//! The portal over real HTTP: the server on port 0 over a database of the
//! test's own (copied from a template with the demo data), driven by a
//! cookie-keeping client as a browser would. One test binary, one module
//! per area of the site.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod admin;
mod assistant;
mod bundles;
mod cases;
mod citizen;
mod consultations;
mod content;
mod counter;
mod disclosure;
mod interviews;
mod licenses;
mod oidc;
mod open311;
mod opinion;
mod payments;
mod portal;
mod ratings;
mod recommend;
mod requests;
mod routes;
mod scope;
mod security;
mod tips;
