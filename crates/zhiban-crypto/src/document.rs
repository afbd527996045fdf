//! Signatures on documents (e-licences): sign a canonical byte string and
//! carry the signature as base64 text.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::{CryptoError, Suite};

/// Signs `msg` with `secret`; returns standard padded base64 of the raw
/// signature (64 bytes for both suites).
pub fn sign_b64(suite: &dyn Suite, secret: &[u8], msg: &[u8]) -> Result<String, CryptoError> {
    Ok(STANDARD.encode(suite.sign(secret, msg)?))
}

/// Whether `sig_b64` (standard padded base64, surrounding white space
/// ignored) is a valid signature of `msg` by `public`. Anything malformed
/// gives `false`.
pub fn verify_b64(suite: &dyn Suite, public: &[u8], msg: &[u8], sig_b64: &str) -> bool {
    match STANDARD.decode(sig_b64.trim()) {
        Ok(sig) => suite.verify(public, msg, &sig),
        Err(_) => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::{SuiteKind, suite};

    #[test]
    fn sign_verify_b64_for_both_suites() {
        for kind in [SuiteKind::Gm, SuiteKind::Intl] {
            let s = suite(kind);
            let (secret, public) = s.generate_signing_key();
            let msg = b"{\"licence\":\"A-001\",\"holder\":\"someone\"}";
            let sig = sign_b64(s.as_ref(), &secret, msg).unwrap();
            assert_eq!(STANDARD.decode(&sig).unwrap().len(), 64);
            assert!(sig.ends_with('='), "64 bytes encode with padding: {sig}");
            assert!(verify_b64(s.as_ref(), &public, msg, &sig));
            assert!(verify_b64(s.as_ref(), &public, msg, &format!(" {sig}\n")));
            assert!(!verify_b64(s.as_ref(), &public, b"other", &sig));
            assert!(!verify_b64(s.as_ref(), &public, msg, "not base64!"));
            assert!(!verify_b64(s.as_ref(), &public, msg, ""));
            let mut raw = STANDARD.decode(&sig).unwrap();
            raw[0] ^= 1;
            assert!(!verify_b64(s.as_ref(), &public, msg, &STANDARD.encode(raw)));
        }
    }
}
