//! Cryptography for the whole portal, behind one trait so that a certified
//! cipher machine or HSM (required for 密评) can replace the software suite.
//! Today: SM3 digests (GB/T 32905-2016) for the audit hash chain.

use sm3::{Digest, Sm3};

/// A digest suite. The software implementation is [`SoftSm3`].
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
        let mut h = Sm3::new();
        for p in parts {
            h.update((p.len() as u64).to_be_bytes());
            h.update(p);
        }
        hex::encode(h.finalize())
    }

    fn name(&self) -> &'static str {
        "sm3"
    }
}

/// Plain SM3 of one byte string, hex encoded.
pub fn sm3_hex(data: &[u8]) -> String {
    hex::encode(Sm3::digest(data))
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
}
