//! The two algorithm suites behind one trait: 国密 (SM3, SM2, SM4-GCM) and
//! international (SHA-256, Ed25519, AES-256-GCM).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, AesGcm};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use sm2::dsa::signature::{Signer, Verifier};
use sm3::{Digest, Sm3};
use sm4::Sm4;
use sm4::cipher::consts::U12;

use crate::{CryptoError, Hasher, prefixed_hex, random_bytes};

/// Length of the random nonce at the front of every sealed value.
pub const NONCE_LEN: usize = 12;
/// Length of the GCM authentication tag at the end of every sealed value.
pub const TAG_LEN: usize = 16;
/// The default SM2 distinguishing identifier (GB/T 35276-2017), used by
/// [`GmSuite::sign`] and [`GmSuite::verify`].
pub const SM2_DEFAULT_ID: &str = "1234567812345678";

/// SM4 in GCM mode (RFC 8998), built from the generic GCM of `aes-gcm`.
type Sm4Gcm = AesGcm<Sm4, U12>;

/// Which suite of algorithms to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SuiteKind {
    /// 国密: SM3, HMAC-SM3, SM2 signatures, SM4-GCM.
    #[default]
    #[serde(alias = "国密")]
    Gm,
    /// International: SHA-256, HMAC-SHA256, Ed25519, AES-256-GCM.
    Intl,
}

impl SuiteKind {
    /// The name used in settings and stored next to keys: "gm" or "intl".
    pub fn as_str(self) -> &'static str {
        match self {
            SuiteKind::Gm => "gm",
            SuiteKind::Intl => "intl",
        }
    }
}

impl fmt::Display for SuiteKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SuiteKind {
    type Err = CryptoError;

    /// Accepts "gm", "国密" and "intl" (case-insensitive, surrounding
    /// spaces ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "gm" | "国密" => Ok(SuiteKind::Gm),
            "intl" => Ok(SuiteKind::Intl),
            other => Err(CryptoError::Format(format!(
                "unknown crypto suite {other:?}; expected \"gm\" or \"intl\""
            ))),
        }
    }
}

/// One suite of algorithms: hash, MAC, AEAD and signatures. Software
/// implementations are [`GmSuite`] and [`IntlSuite`]; a cipher machine or
/// HSM can implement the same trait.
pub trait Suite: Send + Sync + fmt::Debug {
    /// Which suite this is.
    fn kind(&self) -> SuiteKind;
    /// Name of the hash: "sm3" or "sha256".
    fn hash_name(&self) -> &'static str;
    /// Name of the signature algorithm: "sm2" or "ed25519".
    fn sign_name(&self) -> &'static str;
    /// Name of the AEAD cipher: "sm4-gcm" or "aes-256-gcm".
    fn cipher_name(&self) -> &'static str;
    /// The 32-byte digest of `data`.
    fn hash(&self, data: &[u8]) -> Vec<u8>;
    /// HMAC of `data` under `key` (any length), 32 bytes.
    fn mac(&self, key: &[u8], data: &[u8]) -> Vec<u8>;
    /// Key length of the AEAD cipher in bytes: 16 for SM4, 32 for AES-256.
    fn key_len(&self) -> usize;
    /// Encrypts and authenticates `plaintext`, also authenticating `aad`.
    /// Output: random nonce (12 bytes) || ciphertext || tag (16 bytes).
    fn seal(&self, key: &[u8], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError>;
    /// Reverses [`Suite::seal`]; fails with [`CryptoError::Decrypt`] if the
    /// key, the `aad` or any byte of `sealed` is wrong.
    fn open(&self, key: &[u8], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError>;
    /// A new signing key pair: (secret, public). The secret is the raw
    /// 32-byte scalar (SM2) or seed (Ed25519); the public key is SEC1
    /// uncompressed, 65 bytes (SM2) or 32 bytes (Ed25519).
    fn generate_signing_key(&self) -> (Vec<u8>, Vec<u8>);
    /// The public key belonging to `secret`.
    fn public_key(&self, secret: &[u8]) -> Result<Vec<u8>, CryptoError>;
    /// Signs `msg`; the signature is 64 bytes (SM2: r || s, with the default
    /// distinguishing ID [`SM2_DEFAULT_ID`]).
    fn sign(&self, secret: &[u8], msg: &[u8]) -> Result<Vec<u8>, CryptoError>;
    /// Whether `sig` is a valid signature of `msg` by `public`. Malformed
    /// keys or signatures give `false`.
    fn verify(&self, public: &[u8], msg: &[u8], sig: &[u8]) -> bool;
}

/// The software suite for `kind`.
pub fn suite(kind: SuiteKind) -> Arc<dyn Suite> {
    match kind {
        SuiteKind::Gm => Arc::new(GmSuite),
        SuiteKind::Intl => Arc::new(IntlSuite),
    }
}

/// 国密 suite in software: SM3 (GB/T 32905), HMAC-SM3, SM2 signatures
/// (GB/T 32918), SM4-GCM (GB/T 32907, RFC 8998).
#[derive(Debug, Default, Clone, Copy)]
pub struct GmSuite;

/// International suite in software: SHA-256, HMAC-SHA256, Ed25519
/// (RFC 8032), AES-256-GCM.
#[derive(Debug, Default, Clone, Copy)]
pub struct IntlSuite;

/// HMAC of `data` under `key` with the digest `D`.
fn hmac<D: hmac::EagerHash>(key: &[u8], data: &[u8]) -> Vec<u8> {
    let Ok(mut m) = <Hmac<D> as KeyInit>::new_from_slice(key) else {
        unreachable!("HMAC accepts keys of any length")
    };
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

/// GCM seal with a caller-chosen nonce; returns nonce || ciphertext || tag.
fn gcm_seal<A>(
    key: &[u8],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError>
where
    A: KeyInit + Aead + AeadCore,
{
    let cipher = A::new_from_slice(key).map_err(|_| {
        CryptoError::BadKey(format!("cipher key has {} bytes, wrong length", key.len()))
    })?;
    let n = aes_gcm::aead::Nonce::<A>::try_from(&nonce[..])
        .map_err(|_| CryptoError::Format("nonce must be 12 bytes".into()))?;
    let ct = cipher
        .encrypt(
            &n,
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| CryptoError::Format("message too long to encrypt".into()))?;
    let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
    out.extend_from_slice(nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

/// GCM open of nonce || ciphertext || tag.
fn gcm_open<A>(key: &[u8], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError>
where
    A: KeyInit + Aead + AeadCore,
{
    let cipher = A::new_from_slice(key).map_err(|_| {
        CryptoError::BadKey(format!("cipher key has {} bytes, wrong length", key.len()))
    })?;
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return Err(CryptoError::Decrypt);
    }
    let (nonce, ct) = sealed.split_at(NONCE_LEN);
    let n = aes_gcm::aead::Nonce::<A>::try_from(nonce).map_err(|_| CryptoError::Decrypt)?;
    cipher
        .decrypt(&n, Payload { msg: ct, aad })
        .map_err(|_| CryptoError::Decrypt)
}

fn random_nonce() -> [u8; NONCE_LEN] {
    let mut n = [0u8; NONCE_LEN];
    crate::fill_random(&mut n);
    n
}

/// Seal with a fixed nonce, for known-answer tests only (a repeated nonce
/// under one key breaks GCM, so production code always uses [`Suite::seal`]).
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn seal_with_nonce(
    kind: SuiteKind,
    key: &[u8],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    match kind {
        SuiteKind::Gm => gcm_seal::<Sm4Gcm>(key, nonce, aad, plaintext),
        SuiteKind::Intl => gcm_seal::<Aes256Gcm>(key, nonce, aad, plaintext),
    }
}

fn sm2_signing_key(secret: &[u8]) -> Result<sm2::dsa::SigningKey, CryptoError> {
    sm2::dsa::SigningKey::from_slice(SM2_DEFAULT_ID, secret).map_err(|_| {
        CryptoError::BadKey("SM2 secret key must be a 32-byte scalar in [1, n-1]".into())
    })
}

fn ed25519_signing_key(secret: &[u8]) -> Result<ed25519_dalek::SigningKey, CryptoError> {
    let seed: [u8; 32] = secret
        .try_into()
        .map_err(|_| CryptoError::BadKey("Ed25519 secret key must be 32 bytes".into()))?;
    Ok(ed25519_dalek::SigningKey::from_bytes(&seed))
}

impl Suite for GmSuite {
    fn kind(&self) -> SuiteKind {
        SuiteKind::Gm
    }
    fn hash_name(&self) -> &'static str {
        "sm3"
    }
    fn sign_name(&self) -> &'static str {
        "sm2"
    }
    fn cipher_name(&self) -> &'static str {
        "sm4-gcm"
    }
    fn hash(&self, data: &[u8]) -> Vec<u8> {
        Sm3::digest(data).to_vec()
    }
    fn mac(&self, key: &[u8], data: &[u8]) -> Vec<u8> {
        hmac::<Sm3>(key, data)
    }
    fn key_len(&self) -> usize {
        16
    }
    fn seal(&self, key: &[u8], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        gcm_seal::<Sm4Gcm>(key, &random_nonce(), aad, plaintext)
    }
    fn open(&self, key: &[u8], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        gcm_open::<Sm4Gcm>(key, aad, sealed)
    }
    fn generate_signing_key(&self) -> (Vec<u8>, Vec<u8>) {
        // A random 256-bit value is a valid scalar except with probability
        // about 2^-32 (n is just below 2^256); draw again in that case.
        loop {
            let secret = random_bytes(32);
            if let Ok(sk) = sm2_signing_key(&secret) {
                let public = sk.verifying_key().to_sec1_bytes().to_vec();
                return (secret, public);
            }
        }
    }
    fn public_key(&self, secret: &[u8]) -> Result<Vec<u8>, CryptoError> {
        Ok(sm2_signing_key(secret)?
            .verifying_key()
            .to_sec1_bytes()
            .to_vec())
    }
    fn sign(&self, secret: &[u8], msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let sk = sm2_signing_key(secret)?;
        let sig: sm2::dsa::Signature = sk.try_sign(msg).map_err(|_| CryptoError::BadSignature)?;
        Ok(sig.to_bytes().to_vec())
    }
    fn verify(&self, public: &[u8], msg: &[u8], sig: &[u8]) -> bool {
        let Ok(vk) = sm2::dsa::VerifyingKey::from_sec1_bytes(SM2_DEFAULT_ID, public) else {
            return false;
        };
        let Ok(sig) = sm2::dsa::Signature::from_slice(sig) else {
            return false;
        };
        vk.verify(msg, &sig).is_ok()
    }
}

impl Suite for IntlSuite {
    fn kind(&self) -> SuiteKind {
        SuiteKind::Intl
    }
    fn hash_name(&self) -> &'static str {
        "sha256"
    }
    fn sign_name(&self) -> &'static str {
        "ed25519"
    }
    fn cipher_name(&self) -> &'static str {
        "aes-256-gcm"
    }
    fn hash(&self, data: &[u8]) -> Vec<u8> {
        Sha256::digest(data).to_vec()
    }
    fn mac(&self, key: &[u8], data: &[u8]) -> Vec<u8> {
        hmac::<Sha256>(key, data)
    }
    fn key_len(&self) -> usize {
        32
    }
    fn seal(&self, key: &[u8], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        gcm_seal::<Aes256Gcm>(key, &random_nonce(), aad, plaintext)
    }
    fn open(&self, key: &[u8], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        gcm_open::<Aes256Gcm>(key, aad, sealed)
    }
    fn generate_signing_key(&self) -> (Vec<u8>, Vec<u8>) {
        let secret = random_bytes(32);
        let mut seed = [0u8; 32];
        seed.copy_from_slice(&secret);
        let sk = ed25519_dalek::SigningKey::from_bytes(&seed);
        zeroize::Zeroize::zeroize(&mut seed);
        (secret, sk.verifying_key().to_bytes().to_vec())
    }
    fn public_key(&self, secret: &[u8]) -> Result<Vec<u8>, CryptoError> {
        Ok(ed25519_signing_key(secret)?
            .verifying_key()
            .to_bytes()
            .to_vec())
    }
    fn sign(&self, secret: &[u8], msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
        use ed25519_dalek::Signer as _;
        let sk = ed25519_signing_key(secret)?;
        Ok(sk.sign(msg).to_bytes().to_vec())
    }
    fn verify(&self, public: &[u8], msg: &[u8], sig: &[u8]) -> bool {
        let Ok(pk) = <[u8; 32]>::try_from(public) else {
            return false;
        };
        let Ok(vk) = ed25519_dalek::VerifyingKey::from_bytes(&pk) else {
            return false;
        };
        let Ok(sig) = ed25519_dalek::Signature::from_slice(sig) else {
            return false;
        };
        vk.verify_strict(msg, &sig).is_ok()
    }
}

impl Hasher for GmSuite {
    /// Same output as [`crate::SoftSm3`].
    fn digest_hex(&self, parts: &[&[u8]]) -> String {
        prefixed_hex::<Sm3>(parts)
    }
    fn name(&self) -> &'static str {
        self.hash_name()
    }
}

impl Hasher for IntlSuite {
    /// Length-prefixed SHA-256, the same scheme as [`crate::SoftSm3`].
    fn digest_hex(&self, parts: &[&[u8]]) -> String {
        prefixed_hex::<Sha256>(parts)
    }
    fn name(&self) -> &'static str {
        self.hash_name()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn suite_kind_parses_and_prints() {
        assert_eq!("gm".parse::<SuiteKind>().unwrap(), SuiteKind::Gm);
        assert_eq!(" GM ".parse::<SuiteKind>().unwrap(), SuiteKind::Gm);
        assert_eq!("国密".parse::<SuiteKind>().unwrap(), SuiteKind::Gm);
        assert_eq!("intl".parse::<SuiteKind>().unwrap(), SuiteKind::Intl);
        assert!(matches!(
            "rsa".parse::<SuiteKind>(),
            Err(CryptoError::Format(_))
        ));
        assert_eq!(SuiteKind::Gm.to_string(), "gm");
        assert_eq!(SuiteKind::Intl.to_string(), "intl");
        assert_eq!(SuiteKind::default(), SuiteKind::Gm);
    }

    #[test]
    fn suite_kind_serde_is_lowercase() {
        assert_eq!(serde_json::to_string(&SuiteKind::Intl).unwrap(), "\"intl\"");
        assert_eq!(
            serde_json::from_str::<SuiteKind>("\"gm\"").unwrap(),
            SuiteKind::Gm
        );
        assert_eq!(
            serde_json::from_str::<SuiteKind>("\"国密\"").unwrap(),
            SuiteKind::Gm
        );
    }

    #[test]
    fn names_and_lengths() {
        let gm = suite(SuiteKind::Gm);
        assert_eq!(
            (
                gm.hash_name(),
                gm.sign_name(),
                gm.cipher_name(),
                gm.key_len()
            ),
            ("sm3", "sm2", "sm4-gcm", 16)
        );
        let intl = suite(SuiteKind::Intl);
        assert_eq!(
            (
                intl.hash_name(),
                intl.sign_name(),
                intl.cipher_name(),
                intl.key_len()
            ),
            ("sha256", "ed25519", "aes-256-gcm", 32)
        );
        for s in [gm, intl] {
            assert_eq!(s.hash(b"x").len(), 32);
            assert_eq!(s.mac(b"k", b"x").len(), 32);
        }
    }

    #[test]
    fn seal_open_round_trip_and_tamper() {
        for kind in [SuiteKind::Gm, SuiteKind::Intl] {
            let s = suite(kind);
            let key = random_bytes(s.key_len());
            let sealed = s.seal(&key, b"aad", b"hello").unwrap();
            assert_eq!(sealed.len(), NONCE_LEN + 5 + TAG_LEN);
            assert_eq!(s.open(&key, b"aad", &sealed).unwrap(), b"hello");
            assert_eq!(s.open(&key, b"other", &sealed), Err(CryptoError::Decrypt));
            for i in 0..sealed.len() {
                let mut bad = sealed.clone();
                bad[i] ^= 0x01;
                assert_eq!(s.open(&key, b"aad", &bad), Err(CryptoError::Decrypt));
            }
            assert_eq!(
                s.open(&key, b"aad", &sealed[..20]),
                Err(CryptoError::Decrypt)
            );
            assert!(matches!(
                s.seal(&key[1..], b"", b"x"),
                Err(CryptoError::BadKey(_))
            ));
        }
    }

    #[test]
    fn sign_verify_round_trip_for_both_suites() {
        for kind in [SuiteKind::Gm, SuiteKind::Intl] {
            let s = suite(kind);
            let (secret, public) = s.generate_signing_key();
            assert_eq!(s.public_key(&secret).unwrap(), public);
            let sig = s.sign(&secret, b"licence 42").unwrap();
            assert_eq!(sig.len(), 64);
            assert!(s.verify(&public, b"licence 42", &sig));
            assert!(!s.verify(&public, b"licence 43", &sig));
            let mut bad = sig.clone();
            bad[10] ^= 0x01;
            assert!(!s.verify(&public, b"licence 42", &bad));
            assert!(!s.verify(&public, b"licence 42", &sig[..63]));
            assert!(!s.verify(&public[..10], b"licence 42", &sig));
            let (_, other_public) = s.generate_signing_key();
            assert!(!s.verify(&other_public, b"licence 42", &sig));
            assert!(matches!(
                s.sign(&secret[..31], b"x"),
                Err(CryptoError::BadKey(_))
            ));
        }
        let (_, sm2_public) = GmSuite.generate_signing_key();
        assert_eq!(sm2_public.len(), 65);
        assert_eq!(sm2_public[0], 0x04);
        let (_, ed_public) = IntlSuite.generate_signing_key();
        assert_eq!(ed_public.len(), 32);
    }

    #[test]
    fn hasher_impls_match_soft_sm3_scheme() {
        let parts: &[&[u8]] = &[b"ab", b"c"];
        assert_eq!(GmSuite.digest_hex(parts), crate::SoftSm3.digest_hex(parts));
        assert_eq!(Hasher::name(&GmSuite), "sm3");
        assert_eq!(Hasher::name(&IntlSuite), "sha256");
        assert_ne!(
            IntlSuite.digest_hex(&[b"ab", b"c"]),
            IntlSuite.digest_hex(&[b"a", b"bc"])
        );
        assert_eq!(IntlSuite.digest_hex(parts).len(), 64);
    }
}
