//! SM2 public-key encryption (GB/T 32918.4, C1C3C2): what one party seals
//! for another's public key, only the holder of the secret opens. The
//! tips' unit keys use it: a tip's content key is sealed for its unit,
//! the unit's secret for each of its handlers, and no key the server holds
//! opens either. Keys are the same as the SM2 signing keys of [`GmSuite`]:
//! a 32-byte secret scalar and a 65-byte SEC1 public key.

use sm2::elliptic_curve::common::getrandom::SysRng;
use sm2::pke::{DecryptingKey, EncryptingKey};

use crate::{CryptoError, GmSuite, Suite};

/// A new key pair: (secret, public).
pub fn sm2_key_pair() -> (Vec<u8>, Vec<u8>) {
    GmSuite.generate_signing_key()
}

/// Seals `message` (not empty) for the holder of `public`'s secret.
pub fn sm2_encrypt(public: &[u8], message: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let key = EncryptingKey::from_sec1_bytes(public)
        .map_err(|_| CryptoError::BadKey("not an SM2 public key".into()))?;
    key.encrypt(&mut SysRng, message)
        .map_err(|_| CryptoError::Format("nothing to encrypt".into()))
}

/// Opens what [`sm2_encrypt`] sealed for `secret`'s public key; any other
/// key, or a changed byte, fails with [`CryptoError::Decrypt`].
pub fn sm2_decrypt(secret: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let key = DecryptingKey::from_slice(secret)
        .map_err(|_| CryptoError::BadKey("not an SM2 secret key".into()))?;
    key.decrypt(sealed).map_err(|_| CryptoError::Decrypt)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ciphertext made by OpenSSL (`openssl pkeyutl -encrypt` with an
    /// SM2 key), so ours reads what another implementation wrote.
    #[test]
    fn opens_what_openssl_sealed() {
        let secret =
            hex::decode("3DDD2A3679BF6F1DFC3B49D3E99114718E48EC170EB4E4D3A82052DAB19E8B50")
                .expect("hex");
        let sealed = hex::decode(
            "041ed68db303f5bc6bce516d5a62e1cd16781d3007df6864d970a56d46a6cecca0e0d33bfc71e78c440a\
             e6afeef1a18cce473b3e27002189a058ddadc9182c80a3f13be66476ba6ef66d95a7fb11f30de441b3b6\
             6d566e48348bd830e584e7ec37f9b704ef32eba9055c",
        )
        .expect("hex");
        assert_eq!(sm2_decrypt(&secret, &sealed).expect("opens"), b"plaintext");
    }

    #[test]
    fn only_the_secret_of_the_public_key_opens_and_a_changed_byte_fails() {
        let (secret, public) = sm2_key_pair();
        let (other, _) = sm2_key_pair();
        let sealed = sm2_encrypt(&public, b"content key").expect("sealed");
        assert_ne!(sm2_encrypt(&public, b"content key").expect("again"), sealed);
        assert_eq!(
            sm2_decrypt(&secret, &sealed).expect("opens"),
            b"content key"
        );
        assert_eq!(sm2_decrypt(&other, &sealed), Err(CryptoError::Decrypt));
        let mut bent = sealed.clone();
        let last = bent.len() - 1;
        bent[last] ^= 1;
        assert_eq!(sm2_decrypt(&secret, &bent), Err(CryptoError::Decrypt));
        assert!(sm2_encrypt(b"junk", b"x").is_err());
    }
}
