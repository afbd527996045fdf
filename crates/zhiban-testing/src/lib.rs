//! Test support for every crate's tests (a dev-dependency only; nothing
//! here ships in the binary).
//!
//! - [`TestDb`]: a database of the test's own, copied from a migrated
//!   template (a SQLite file copy, or PostgreSQL `CREATE DATABASE …
//!   TEMPLATE`) so no test migrates or imports the demo catalog again.
//! - [`World`]: the domain's collaborators (files, calendar, settings) and
//!   the people a domain test needs.
//! - [`TestApp`]: the real server on port 0 over such a database, an HTTP
//!   client that keeps cookies, and the steps a person takes in a browser
//!   (`submit` a form with its token, sign in, register, verify).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::missing_panics_doc)]

mod app;
mod db;
pub mod html;
pub mod stand_in_model;
mod world;

/// Real files of each kind people upload (they parse and decode), small
/// enough for tests.
pub mod samples {
    pub const PDF: &[u8] = include_bytes!("../fixtures/scan.pdf");
    pub const PNG: &[u8] = include_bytes!("../fixtures/photo.png");
    pub const JPEG: &[u8] = include_bytes!("../fixtures/photo.jpg");
    /// A one-sheet workbook (三公经费) and a one-paragraph Word document.
    pub const XLSX: &[u8] = include_bytes!("../fixtures/budget.xlsx");
    pub const DOCX: &[u8] = include_bytes!("../fixtures/form.docx");
    /// WebVTT captions for a video.
    pub const VTT: &[u8] = include_bytes!("../fixtures/captions.vtt");
}

pub use app::{ADMIN, ADMIN_PASSWORD, PASSWORD, TestApp, client, location};
pub use db::{Template, TestDb};
pub use html::{hidden, hrefs, totp_secret_on, unescape, urlencode};
pub use world::{World, id_number, refusals, register_citizen, sms_code, staff_session};
