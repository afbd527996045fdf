//! Cryptography for the whole portal, behind one trait so that a certified
//! cipher machine or HSM (required for 密评) can replace the software suite.
//!
//! - [`Suite`]: hash, MAC, AEAD and signatures. [`GmSuite`] is 国密 (SM3,
//!   HMAC-SM3, SM2, SM4-GCM); [`IntlSuite`] is SHA-256, HMAC-SHA256,
//!   Ed25519, AES-256-GCM. Pick one with [`suite`] and a [`SuiteKind`].
//! - [`MasterKey`], [`DataKey`], [`wrap_key`], [`unwrap_key`] and
//!   [`Keyring`]: encryption of personal data at rest, field by field, with
//!   blind indexes for equality search.
//! - [`sign_b64`] / [`verify_b64`]: signatures on documents (e-licences).
//! - [`Hasher`], [`SoftSm3`], [`sm3_hex`]: digests for the audit hash chain.
//! - [`bench::throughput`]: a quick speed measurement of a suite.
//!
//! All algorithms come from the RustCrypto crates (`sm2`, `sm3`, `sm4`,
//! `aes-gcm`, `hmac`, `sha2`) and `ed25519-dalek`; this crate only wires
//! them together and fixes the formats.

#![warn(missing_docs)]

pub mod bench;
mod document;
mod error;
mod keys;
pub mod pke;
mod suite;

#[cfg(test)]
mod kat;

pub use bench::{Throughput, throughput};
pub use document::{sign_b64, verify_b64};
pub use error::CryptoError;
pub use keys::{DataKey, FIELD_PREFIX, Keyring, MASTER_KEY_LEN, MasterKey, unwrap_key, wrap_key};
pub use suite::{GmSuite, IntlSuite, NONCE_LEN, SM2_DEFAULT_ID, Suite, SuiteKind, TAG_LEN, suite};

use sm3::{Digest, Sm3};

/// A digest suite for hash chains. Implemented by [`SoftSm3`],
/// [`GmSuite`] (same output as `SoftSm3`) and [`IntlSuite`] (SHA-256).
pub trait Hasher: Send + Sync {
    /// Lower-case hex digest of `parts`, each length-prefixed so that
    /// ("ab","c") and ("a","bc") never collide.
    fn digest_hex(&self, parts: &[&[u8]]) -> String;
    /// Name written next to stored digests so a later suite change is visible.
    fn name(&self) -> &'static str;
}

/// SM3 in software (RustCrypto `sm3`).
#[derive(Debug, Default, Clone, Copy)]
pub struct SoftSm3;

impl Hasher for SoftSm3 {
    fn digest_hex(&self, parts: &[&[u8]]) -> String {
        prefixed_hex::<Sm3>(parts)
    }

    fn name(&self) -> &'static str {
        "sm3"
    }
}

/// Each part as its length (u64, big-endian) followed by its bytes, hashed
/// with `D`, hex encoded.
pub(crate) fn prefixed_hex<D: Digest>(parts: &[&[u8]]) -> String {
    let mut h = D::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    hex::encode(h.finalize())
}

/// Plain SM3 of one byte string, hex encoded.
pub fn sm3_hex(data: &[u8]) -> String {
    hex::encode(Sm3::digest(data))
}

/// Fills `buf` from the operating system's random source.
///
/// # Panics
/// If the operating system cannot provide random bytes; continuing without
/// them would produce predictable keys.
pub(crate) fn fill_random(buf: &mut [u8]) {
    if let Err(e) = getrandom::fill(buf) {
        panic!("the operating system random source failed: {e}");
    }
}

/// `n` random bytes from the operating system.
pub(crate) fn random_bytes(n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    fill_random(&mut v);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sm3_matches_the_standard_abc_vector() {
        // GB/T 32905-2016, example 1.
        assert_eq!(
            sm3_hex(b"abc"),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }

    #[test]
    fn parts_are_length_prefixed() {
        let h = SoftSm3;
        assert_ne!(h.digest_hex(&[b"ab", b"c"]), h.digest_hex(&[b"a", b"bc"]));
        assert_eq!(h.digest_hex(&[b"x"]), h.digest_hex(&[b"x"]));
    }

    #[test]
    fn soft_sm3_output_is_unchanged() {
        // Pinned from the original implementation: SM3 over
        // be64(2) || "ab" || be64(1) || "c". Audit chains already stored
        // depend on this exact value.
        let mut manual = Vec::new();
        manual.extend_from_slice(&2u64.to_be_bytes());
        manual.extend_from_slice(b"ab");
        manual.extend_from_slice(&1u64.to_be_bytes());
        manual.extend_from_slice(b"c");
        assert_eq!(SoftSm3.digest_hex(&[b"ab", b"c"]), sm3_hex(&manual));
        assert_eq!(SoftSm3.digest_hex(&[]), sm3_hex(b""));
        assert_eq!(SoftSm3.name(), "sm3");
    }
}
