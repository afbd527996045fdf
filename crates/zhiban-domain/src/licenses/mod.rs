//! Electronic licenses (电子证照, GB/T 36901–36905).
//!
//! A license is a [`LicenseDoc`]: the data a paper license shows, with a
//! unique number. The issuing department signs its canonical bytes (SM2 with
//! SM3 under the 国密 suite); the signature and the public key travel with
//! every exported copy, so anyone can check it, on the portal's
//! verification page, through the API, or offline with
//! `zhiban license verify FILE`. Changing one byte of the data makes the
//! signature fail: the license reads as tampered.
//!
//! `repo` issues, revokes, lists and shares licenses and records each use;
//! `免证办` (using a license instead of uploading a copy) lives there too.

mod holder;
mod issuing;
mod repo;
#[cfg(test)]
mod tests;

pub use holder::*;
pub use issuing::*;
pub use repo::*;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::identity::ids::{mask_id_number, mask_name};
use crate::signing::{self, PublicKey};

/// What the data of a license is: the signed part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LicenseDoc {
    pub number: String,
    pub type_code: String,
    pub type_name: String,
    pub holder_name: String,
    /// 身份证号 (people) or 统一社会信用代码 (companies).
    pub holder_id_number: String,
    pub fields: BTreeMap<String, String>,
    pub issuer_code: String,
    pub issuer_name: String,
    /// YYYY-MM-DD.
    pub issued_on: String,
    /// YYYY-MM-DD, or empty for 长期有效.
    pub expires_on: String,
}

impl LicenseDoc {
    /// The bytes that are signed: JSON with a fixed field order (struct
    /// order; fields sorted by key), prefixed by the format name.
    pub fn canonical(&self) -> Vec<u8> {
        let mut out = format!("{FORMAT}\n").into_bytes();
        out.extend(serde_json::to_vec(self).unwrap_or_default());
        out
    }

    pub fn expires(&self) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(&self.expires_on, "%Y-%m-%d").ok()
    }

    pub fn masked_holder(&self) -> String {
        mask_name(&self.holder_name)
    }

    pub fn masked_id(&self) -> String {
        mask_id_number(&self.holder_id_number)
    }
}

/// Name of the export format and the prefix of the signed bytes.
pub const FORMAT: &str = "zhiban-elicense/1";

/// What a check of a license says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Valid,
    Revoked,
    Expired,
    /// The signature does not match the data (or the key is unknown).
    Tampered,
    /// Signed, but by a department not allowed to issue this type.
    Unauthorized,
}

impl Status {
    pub fn slug(self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::Revoked => "revoked",
            Status::Expired => "expired",
            Status::Tampered => "tampered",
            Status::Unauthorized => "unauthorized",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Status::Valid => "有效",
            Status::Revoked => "已吊销",
            Status::Expired => "已过期",
            Status::Tampered => "数据被篡改，验证失败",
            Status::Unauthorized => "签发机关无权签发此类证照，无效",
        }
    }

    /// A failed signature outranks everything; then an issuer without the
    /// right to issue the type; then revocation; then expiry.
    pub fn of(
        signature_ok: bool,
        issuer_allowed: bool,
        revoked: bool,
        expires: Option<NaiveDate>,
        today: NaiveDate,
    ) -> Self {
        if !signature_ok {
            Status::Tampered
        } else if !issuer_allowed {
            Status::Unauthorized
        } else if revoked {
            Status::Revoked
        } else if expires.is_some_and(|e| e < today) {
            Status::Expired
        } else {
            Status::Valid
        }
    }
}

/// The signature block of an exported license.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SignatureBlock {
    /// `gm` or `intl`.
    #[schema(pattern = "^(gm|intl)$")]
    pub suite: String,
    /// e.g. `SM2-with-SM3` or `Ed25519`.
    pub algorithm: String,
    pub key_id: String,
    /// Hex of the public key (SEC1 uncompressed for SM2).
    #[schema(pattern = "^([0-9a-fA-F]{2})*$")]
    pub public_key: String,
    /// Base64 of the signature.
    pub value: String,
}

/// An exported license file (`.json`), what the wallet's download gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExportFile {
    /// Always `zhiban-elicense/1`.
    #[schema(pattern = "^zhiban-elicense/1$")]
    pub format: String,
    pub license: LicenseDoc,
    pub signature: SignatureBlock,
    /// Where revocation can be checked online.
    pub verify_url: String,
}

pub fn algorithm_name(suite: zhiban_crypto::SuiteKind) -> &'static str {
    match suite {
        zhiban_crypto::SuiteKind::Gm => "SM2-with-SM3",
        zhiban_crypto::SuiteKind::Intl => "Ed25519",
    }
}

/// The result of checking an exported file without the portal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfflineCheck {
    pub status: Status,
    pub key_fingerprint: String,
    pub doc: LicenseDoc,
}

/// Checks an exported license file: its format, its signature under the
/// public key it carries, and its expiry. Revocation needs the portal
/// (`verify_url`); compare the key fingerprint with the issuer's published
/// one to know who signed.
pub fn verify_export(text: &str, today: NaiveDate) -> Result<OfflineCheck, String> {
    let f: ExportFile =
        serde_json::from_str(text).map_err(|e| format!("not a license file: {e}"))?;
    if f.format != FORMAT {
        return Err(format!("unknown format {:?} (expected {FORMAT})", f.format));
    }
    let suite: zhiban_crypto::SuiteKind = f
        .signature
        .suite
        .parse()
        .map_err(|e: zhiban_crypto::CryptoError| e.to_string())?;
    let public = hex::decode(f.signature.public_key.trim())
        .map_err(|_| "public key is not hex".to_string())?;
    let key = PublicKey {
        id: f.signature.key_id.clone(),
        owner: String::new(),
        suite,
        public,
    };
    let ok = signing::verify(&key, &f.license.canonical(), &f.signature.value);
    Ok(OfflineCheck {
        // Who may issue what is known online only (see `online_status`).
        status: Status::of(ok, true, false, f.license.expires(), today),
        key_fingerprint: key.fingerprint(),
        doc: f.license,
    })
}

/// One field of a license type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeField {
    pub key: String,
    pub label: String,
}

/// A license type (居民身份证, 营业执照 …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LicenseType {
    pub code: String,
    pub name: String,
    /// `person` or `company`.
    pub holder_kind: String,
    pub fields: Vec<TypeField>,
    /// 0: 长期有效.
    pub valid_years: i64,
    /// Catalog item that renews it (linked from expiry reminders).
    pub renewal_service: String,
    /// Catalog items whose approved cases issue one (comma separated).
    pub produced_by: String,
}

impl LicenseType {
    /// Whether a catalog material can be replaced by this type: the
    /// material, without who holds it (申请人…), its form (原件, 复印件 …)
    /// and any note in brackets, is the type (居民身份证, or 身份证 for
    /// short). "居民身份证挂失申报回执" is not: it is a different paper.
    pub fn replaces(&self, material: &str) -> bool {
        let core = material_core(material);
        let short = self
            .name
            .trim_start_matches("居民")
            .trim_start_matches("机动车");
        !core.is_empty() && (core == self.name || (short.chars().count() >= 3 && core == short))
    }

    pub fn produced_by(&self, service_code: &str) -> bool {
        self.produced_by
            .split([',', '，', ' '])
            .any(|c| !c.is_empty() && c == service_code)
    }
}

/// A material's name reduced to the document it names.
fn material_core(material: &str) -> String {
    let mut s = String::new();
    let mut depth = 0;
    for c in material.chars() {
        match c {
            '（' | '(' => depth += 1,
            '）' | ')' => depth = i32::max(depth - 1, 0),
            _ if depth == 0 && !c.is_whitespace() => s.push(c),
            _ => {}
        }
    }
    let mut core = s.as_str();
    for p in ["申请人", "本人", "法定代表人", "户主", "监护人", "有效"] {
        core = core.strip_prefix(p).unwrap_or(core);
    }
    for suf in [
        "原件和复印件",
        "原件及复印件",
        "及复印件",
        "复印件",
        "原件",
        "电子件",
        "照片",
        "正副本",
        "副本",
        "正本",
    ] {
        core = core.strip_suffix(suf).unwrap_or(core);
    }
    core.to_string()
}

/// A new license number: `ZZ` + issue date + 9 random digits + a check
/// character (ISO 7064 MOD 11-2, as in 身份证号), unique and typo-evident.
pub fn new_number(issued_on: NaiveDate) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    let digits: String = format!(
        "{}{:09}",
        issued_on.format("%Y%m%d"),
        rng.random_range(0..1_000_000_000u32)
    );
    let check = crate::identity::ids::id_check_char(&digits[..17]).unwrap_or('0');
    format!("ZZ{digits}{check}")
}

/// Whether a license number is well formed (its check character matches).
pub fn number_ok(number: &str) -> bool {
    let n = number.trim();
    n.len() == 20
        && n.starts_with("ZZ")
        && n[2..19].chars().all(|c| c.is_ascii_digit())
        && crate::identity::ids::id_check_char(&n[2..19]) == n.chars().last()
}
