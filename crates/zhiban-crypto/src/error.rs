//! The one error type of this crate.

/// What can go wrong in this crate. Messages never contain key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// Authenticated decryption failed: wrong key, wrong context (AAD), or
    /// the stored bytes were changed.
    #[error("decryption failed: wrong key, wrong context, or the data was altered")]
    Decrypt,
    /// A key has the wrong length or encoding, or is unknown.
    #[error("bad key: {0}")]
    BadKey(String),
    /// A signature could not be produced or is malformed.
    #[error("bad signature")]
    BadSignature,
    /// Input text or bytes are not in the expected format.
    #[error("bad format: {0}")]
    Format(String),
    /// Reading or writing a key file failed.
    #[error("key file error: {0}")]
    Io(String),
}
