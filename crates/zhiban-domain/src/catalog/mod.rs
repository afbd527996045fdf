//! The service catalog (政务服务事项, GB/T 39554 family): departments in an
//! org tree, main items and their handling items with every guide element a
//! citizen reads, draft → published with a change history, CSV/XLSX
//! import and export, and an in-memory read model for the public pages.

pub(crate) mod enums;
mod parse;
mod repo;
mod snapshot;
pub mod transfer;

pub use enums::*;
pub use parse::{ServiceInput, field_label_zh, format_materials, format_steps};

/// The catalog's fields in import/export order: (key, official Chinese header).
pub fn transfer_columns() -> &'static [(&'static str, &'static str)] {
    parse::COLUMNS
}
pub use repo::*;
pub use snapshot::{CatalogSnapshot, DeptNode, Filter, Page};

use serde::Serialize;

/// Applying online needs 实名认证 unless an item says otherwise.
pub const DEFAULT_REALNAME_LEVEL: i64 = 2;

/// A department in the org tree (市 → 区县 → 部门 → 科室).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Department {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub parent_id: Option<i64>,
    pub level: String,
    pub phone: String,
    pub address: String,
    pub hours: String,
}

/// One material a citizen brings or uploads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Material {
    pub name: String,
    /// 原件 / 复印件 / 电子件 / 原件和复印件
    pub form: String,
    pub count: u32,
    /// Whether an electronic license (电子证照) can replace it.
    pub elicense_ok: bool,
    pub note: String,
}

/// One step of the handling process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Step {
    pub name: String,
    pub detail: String,
}

/// A handling item (办理项): what a citizen actually applies for, with every
/// element of its guide (办事指南).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceItem {
    pub code: String,
    pub main_code: String,
    pub main_name: String,
    pub name: String,
    /// The English name the en pages show (empty: the Chinese one).
    pub name_en: String,
    /// Other names people use: 俗称, older names, English search words.
    pub aliases: Vec<String>,
    pub handling_kind: HandlingKind,
    pub item_type: ItemType,
    pub department_code: String,
    pub department_name: String,
    pub implementing_body: String,
    pub legal_basis: String,
    pub audience: Audience,
    pub life_events: Vec<LifeEvent>,
    pub police_domain: Option<PoliceDomain>,
    pub conditions: Vec<String>,
    pub materials: Vec<Material>,
    pub steps: Vec<Step>,
    pub legal_limit_days: u32,
    pub promised_limit_days: u32,
    pub fees: String,
    pub fee_basis: String,
    pub place: String,
    pub hours: String,
    pub visits: u32,
    pub online: bool,
    pub enquiry_phone: String,
    pub complaint_phone: String,
    pub high_frequency: bool,
    /// The real-name level (实名等级) an online application needs:
    /// 1 registered, 2 ID verified, 3 face or counter verified.
    pub realname_level: i64,
    pub status: Status,
    pub version: i64,
    pub updated_at: String,
    pub updated_by: String,
}

impl ServiceItem {
    pub fn is_free(&self) -> bool {
        self.fees.trim().is_empty() || self.fees.trim() == "不收费"
    }

    /// 即办: decided on the spot.
    pub fn is_immediate(&self) -> bool {
        self.promised_limit_days == 0
    }

    /// Working days saved against the legal limit, as portals advertise (提速).
    pub fn days_saved(&self) -> u32 {
        self.legal_limit_days
            .saturating_sub(self.promised_limit_days)
    }

    pub fn materials_replaceable(&self) -> usize {
        self.materials.iter().filter(|m| m.elicense_ok).count()
    }
}
