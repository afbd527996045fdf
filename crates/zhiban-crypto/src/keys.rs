//! Keys for encrypting personal data at rest: the master key (KEK), data
//! keys (DEKs) wrapped by it, and the [`Keyring`] that encrypts fields.

use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use zeroize::{Zeroize, Zeroizing};

use crate::{CryptoError, Suite, SuiteKind, fill_random, random_bytes, sm3_hex};

/// Prefix of every encrypted field value (format version 1).
pub const FIELD_PREFIX: &str = "zb1:";

/// Length of a master key in bytes.
pub const MASTER_KEY_LEN: usize = 32;

/// The master key (KEK): 32 random bytes that wrap the data keys. Its bytes
/// are never printed and are wiped from memory when it is dropped.
#[derive(Clone)]
pub struct MasterKey {
    bytes: [u8; MASTER_KEY_LEN],
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl Drop for MasterKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl MasterKey {
    /// Parses 64 hex characters (surrounding white space is ignored).
    pub fn from_hex(s: &str) -> Result<Self, CryptoError> {
        let s = s.trim();
        if s.len() != MASTER_KEY_LEN * 2 {
            return Err(CryptoError::BadKey(format!(
                "the master key must be {} hex characters (32 bytes), got {} characters",
                MASTER_KEY_LEN * 2,
                s.chars().count()
            )));
        }
        let mut bytes = [0u8; MASTER_KEY_LEN];
        hex::decode_to_slice(s, &mut bytes).map_err(|_| {
            CryptoError::BadKey("the master key contains characters that are not hex".into())
        })?;
        Ok(Self { bytes })
    }

    /// A new random master key from the operating system's random source.
    ///
    /// # Panics
    /// If the operating system cannot provide random bytes.
    pub fn generate() -> Self {
        let mut bytes = [0u8; MASTER_KEY_LEN];
        fill_random(&mut bytes);
        Self { bytes }
    }

    /// The key as 64 lower-case hex characters. Handle with care: this is
    /// the secret itself.
    pub fn to_hex(&self) -> String {
        hex::encode(self.bytes)
    }

    /// Short public fingerprint for logs and the UI: the first 8 hex
    /// characters of SM3 of the key. Reveals nothing usable about the key.
    pub fn fingerprint(&self) -> String {
        let mut h = sm3_hex(&self.bytes);
        h.truncate(8);
        h
    }

    /// A sub-key for `label`: `suite.mac(master, label)`, 32 bytes. Use a
    /// distinct label per purpose (for example `"zhiban-blind-index"`).
    pub fn derive(&self, suite: &dyn Suite, label: &str) -> Vec<u8> {
        suite.mac(&self.bytes, label.as_bytes())
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Finds the master key. `env_value` (for example the value of
    /// `ZHIBAN_MASTER_KEY`) wins when it is `Some` and not blank. Otherwise
    /// the hex key in the file at `path` is read; if that file does not
    /// exist, a new key is generated and written there (parent folders are
    /// created, the file gets mode 0600 on Unix, and it appears atomically:
    /// written to a temporary file, then linked or renamed into place, so a
    /// concurrent start never sees half a key and never replaces a key
    /// another process just wrote). Returns the key and whether it was
    /// created now.
    pub fn load_or_create(
        env_value: Option<&str>,
        path: &Path,
    ) -> Result<(Self, bool), CryptoError> {
        if let Some(v) = env_value.filter(|v| !v.trim().is_empty()) {
            return Ok((Self::from_hex(v)?, false));
        }
        match Self::read_file(path)? {
            Some(key) => Ok((key, false)),
            None => Self::create_file(path),
        }
    }

    /// Reads the key file; `Ok(None)` if it does not exist.
    fn read_file(path: &Path) -> Result<Option<Self>, CryptoError> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let text = Zeroizing::new(text);
                Self::from_hex(&text).map(Some).map_err(|e| match e {
                    CryptoError::BadKey(m) => {
                        CryptoError::BadKey(format!("{m} (in {})", path.display()))
                    }
                    other => other,
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error("cannot read", path, &e)),
        }
    }

    fn create_file(path: &Path) -> Result<(Self, bool), CryptoError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| io_error("cannot create folder", parent, &e))?;
        }
        let key = Self::generate();
        let tmp = temp_path(path);
        let written = write_private(&tmp, key.to_hex().as_bytes());
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(io_error("cannot write", &tmp, &e));
        }
        // A hard link fails if `path` appeared meanwhile (another process
        // won the race): then use that key, never overwrite it.
        let placed = match std::fs::hard_link(&tmp, path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            // File systems without hard links: fall back to rename.
            Err(_) => std::fs::rename(&tmp, path)
                .map(|()| true)
                .map_err(|e| io_error("cannot move into place", path, &e)),
        };
        let _ = std::fs::remove_file(&tmp);
        sync_parent(path);
        if placed? {
            Ok((key, true))
        } else {
            match Self::read_file(path)? {
                Some(existing) => Ok((existing, false)),
                None => Err(CryptoError::Io(format!(
                    "{} vanished while being created",
                    path.display()
                ))),
            }
        }
    }
}

fn io_error(what: &str, path: &Path, e: &std::io::Error) -> CryptoError {
    CryptoError::Io(format!("{what} {}: {e}", path.display()))
}

fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "master.key".into());
    let tag = hex::encode(random_bytes(6));
    path.with_file_name(format!(".{name}.{}.{tag}.tmp", std::process::id()))
}

/// Creates `path` (which must not exist) readable by the owner only, writes
/// `data` and a newline, and flushes it to disk.
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(data)?;
    f.write_all(b"\n")?;
    f.sync_all()
}

/// Best effort: make the new directory entry durable.
fn sync_parent(path: &Path) {
    #[cfg(unix)]
    if let Some(parent) = path.parent() {
        let dir = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// A data key (DEK): an id and the raw key bytes. The bytes are never
/// printed and are wiped from memory when the key is dropped.
#[derive(Clone)]
pub struct DataKey {
    /// The key id written into every value encrypted with this key.
    pub id: String,
    /// Wiped on drop by `Zeroizing` (no `Drop` impl on `DataKey` itself, so
    /// callers may move `id` out of it).
    bytes: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKey")
            .field("id", &self.id)
            .field("len", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

impl DataKey {
    /// A data key from existing bytes.
    pub fn new(id: String, bytes: Vec<u8>) -> Self {
        Self {
            id,
            bytes: Zeroizing::new(bytes),
        }
    }

    /// A new random key of the suite's cipher key length.
    ///
    /// # Panics
    /// If the operating system cannot provide random bytes.
    pub fn generate(suite: &dyn Suite, id: String) -> Self {
        Self::new(id, random_bytes(suite.key_len()))
    }

    /// The raw key bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// The key-encryption key for `suite`, derived from the master key.
fn kek(suite: &dyn Suite, master: &MasterKey) -> Zeroizing<Vec<u8>> {
    let mut k = match suite.kind() {
        SuiteKind::Gm => suite.mac(master.as_bytes(), b"zhiban-kek-sm4"),
        SuiteKind::Intl => suite.mac(master.as_bytes(), b"zhiban-kek-aes"),
    };
    k.truncate(suite.key_len());
    Zeroizing::new(k)
}

/// Encrypts a data key under the master key with the suite's AEAD (the key
/// id is the associated data). Returns base64 text for storage.
pub fn wrap_key(
    suite: &dyn Suite,
    master: &MasterKey,
    key: &DataKey,
) -> Result<String, CryptoError> {
    let sealed = suite.seal(&kek(suite, master), key.id.as_bytes(), key.bytes())?;
    Ok(STANDARD.encode(sealed))
}

/// Reverses [`wrap_key`]. Fails with [`CryptoError::Decrypt`] when the
/// master key, the suite or the id differ from the ones used to wrap.
pub fn unwrap_key(
    suite: &dyn Suite,
    master: &MasterKey,
    id: &str,
    wrapped: &str,
) -> Result<DataKey, CryptoError> {
    let sealed = STANDARD
        .decode(wrapped.trim())
        .map_err(|_| CryptoError::Format(format!("wrapped key {id} is not base64")))?;
    let bytes = suite.open(&kek(suite, master), id.as_bytes(), &sealed)?;
    Ok(DataKey::new(id.to_string(), bytes))
}

/// In-memory keyring for field encryption: the active data key, retired
/// keys that still decrypt, and the blind-index key.
#[derive(Clone)]
pub struct Keyring {
    suite: Arc<dyn Suite>,
    active: DataKey,
    others: HashMap<String, DataKey>,
    index_key: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut others: Vec<&str> = self.others.keys().map(String::as_str).collect();
        others.sort_unstable();
        f.debug_struct("Keyring")
            .field("suite", &self.suite.kind())
            .field("active", &self.active.id)
            .field("others", &others)
            .finish_non_exhaustive()
    }
}

impl Keyring {
    /// Builds a keyring. New values are encrypted with `active`; values
    /// written with any key in `others` (retired keys) still decrypt. A key
    /// in `others` with the active key's id is ignored.
    pub fn new(
        suite: Arc<dyn Suite>,
        active: DataKey,
        others: Vec<DataKey>,
        index_key: Vec<u8>,
    ) -> Self {
        let others = others
            .into_iter()
            .filter(|k| k.id != active.id)
            .map(|k| (k.id.clone(), k))
            .collect();
        Self {
            suite,
            active,
            others,
            index_key: Zeroizing::new(index_key),
        }
    }

    /// The suite used for encryption and blind indexes.
    pub fn suite(&self) -> &dyn Suite {
        self.suite.as_ref()
    }

    /// Id of the key new values are encrypted with.
    pub fn active_id(&self) -> &str {
        &self.active.id
    }

    fn key(&self, id: &str) -> Option<&DataKey> {
        if id == self.active.id {
            Some(&self.active)
        } else {
            self.others.get(id)
        }
    }

    /// Encrypts `plaintext` to the text form
    /// `zb1:{key_id}:{base64url, no padding, of nonce || ciphertext || tag}`.
    /// `context` (for example `"cases.answers"`) is authenticated as the
    /// associated data, so a value copied into another column fails to
    /// decrypt. Each call uses a fresh random nonce, so equal plain texts
    /// give different outputs.
    pub fn encrypt(&self, context: &str, plaintext: &str) -> Result<String, CryptoError> {
        let sealed = self.suite.seal(
            self.active.bytes(),
            context.as_bytes(),
            plaintext.as_bytes(),
        )?;
        Ok(format!(
            "{FIELD_PREFIX}{}:{}",
            self.active.id,
            URL_SAFE_NO_PAD.encode(sealed)
        ))
    }

    /// Decrypts a value made by [`Keyring::encrypt`] with any key this
    /// keyring knows, under the same `context`.
    ///
    /// **Legacy plain text:** a value that does not start with `zb1:` is
    /// returned unchanged, because it was written before encryption was
    /// enabled. (Such values should be encrypted by a migration pass; until
    /// then they read as before.)
    ///
    /// Errors: [`CryptoError::BadKey`] for an unknown key id,
    /// [`CryptoError::Format`] for a malformed value, and
    /// [`CryptoError::Decrypt`] for a wrong context or altered bytes.
    pub fn decrypt(&self, context: &str, stored: &str) -> Result<String, CryptoError> {
        let Some(rest) = stored.strip_prefix(FIELD_PREFIX) else {
            return Ok(stored.to_string());
        };
        let (id, body) = rest
            .rsplit_once(':')
            .ok_or_else(|| CryptoError::Format("encrypted value has no key id".into()))?;
        let key = self
            .key(id)
            .ok_or_else(|| CryptoError::BadKey(format!("unknown data key id {id:?}")))?;
        let sealed = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| CryptoError::Decrypt)?;
        let plain = self.suite.open(key.bytes(), context.as_bytes(), &sealed)?;
        String::from_utf8(plain)
            .map_err(|_| CryptoError::Format("decrypted value is not UTF-8".into()))
    }

    /// The key id of an encrypted value, or `None` for plain text or a
    /// malformed value.
    pub fn key_id_of(stored: &str) -> Option<&str> {
        stored
            .strip_prefix(FIELD_PREFIX)?
            .rsplit_once(':')
            .map(|(id, _)| id)
    }

    /// Whether `stored` is encrypted with the active key (so a rotation
    /// pass can skip it). Plain text gives `false`.
    pub fn is_current(&self, stored: &str) -> bool {
        Self::key_id_of(stored) == Some(self.active.id.as_str())
    }

    /// Blind index for equality search without decrypting: hex of
    /// `mac(index_key, context || 0x00 || value)`, first 32 hex characters.
    /// Deterministic, and different per `context`. Normalise `value` (case,
    /// spaces) before calling; this function does not.
    pub fn blind_index(&self, context: &str, value: &str) -> String {
        let mut data = Vec::with_capacity(context.len() + 1 + value.len());
        data.extend_from_slice(context.as_bytes());
        data.push(0);
        data.extend_from_slice(value.as_bytes());
        let mac = self.suite.mac(&self.index_key, &data);
        data.zeroize();
        let mut h = hex::encode(mac);
        h.truncate(32);
        h
    }

    /// [`Keyring::encrypt`] for an optional value; `None` stays `None`.
    pub fn encrypt_opt(
        &self,
        context: &str,
        plaintext: Option<&str>,
    ) -> Result<Option<String>, CryptoError> {
        plaintext.map(|p| self.encrypt(context, p)).transpose()
    }

    /// [`Keyring::decrypt`] for an optional value; `None` stays `None`.
    pub fn decrypt_opt(
        &self,
        context: &str,
        stored: Option<&str>,
    ) -> Result<Option<String>, CryptoError> {
        stored.map(|s| self.decrypt(context, s)).transpose()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::suite;

    fn keyring(kind: SuiteKind) -> Keyring {
        let s = suite(kind);
        let active = DataKey::generate(s.as_ref(), "k1".into());
        let index = random_bytes(32);
        Keyring::new(s, active, Vec::new(), index)
    }

    #[test]
    fn field_round_trip_for_both_suites() {
        for kind in [SuiteKind::Gm, SuiteKind::Intl] {
            let k = keyring(kind);
            let stored = k.encrypt("people.id_number", "110101199003071234").unwrap();
            assert!(stored.starts_with("zb1:k1:"));
            assert!(!stored.contains("110101"));
            assert_eq!(
                k.decrypt("people.id_number", &stored).unwrap(),
                "110101199003071234"
            );
            let empty = k.encrypt("c", "").unwrap();
            assert_eq!(k.decrypt("c", &empty).unwrap(), "");
            let uni = k.encrypt("c", "张三 · 北京市").unwrap();
            assert_eq!(k.decrypt("c", &uni).unwrap(), "张三 · 北京市");
        }
    }

    #[test]
    fn wrong_context_fails() {
        for kind in [SuiteKind::Gm, SuiteKind::Intl] {
            let k = keyring(kind);
            let stored = k.encrypt("cases.answers", "secret").unwrap();
            assert_eq!(
                k.decrypt("people.phone", &stored),
                Err(CryptoError::Decrypt)
            );
        }
    }

    #[test]
    fn any_changed_byte_fails_to_decrypt() {
        for kind in [SuiteKind::Gm, SuiteKind::Intl] {
            let k = keyring(kind);
            let stored = k.encrypt("c", "13800138000").unwrap();
            let prefix = "zb1:k1:".len();
            let sealed = URL_SAFE_NO_PAD.decode(&stored[prefix..]).unwrap();
            for i in 0..sealed.len() {
                let mut bad = sealed.clone();
                bad[i] ^= 0x80;
                let text = format!("zb1:k1:{}", URL_SAFE_NO_PAD.encode(&bad));
                assert_eq!(k.decrypt("c", &text), Err(CryptoError::Decrypt));
            }
            // A changed character of the text form also fails.
            let mut chars: Vec<char> = stored.chars().collect();
            let last = chars.len() - 5;
            chars[last] = if chars[last] == 'A' { 'B' } else { 'A' };
            let text: String = chars.into_iter().collect();
            assert_eq!(k.decrypt("c", &text), Err(CryptoError::Decrypt));
        }
    }

    #[test]
    fn random_nonce_makes_encryptions_differ() {
        let k = keyring(SuiteKind::Gm);
        let a = k.encrypt("c", "same").unwrap();
        let b = k.encrypt("c", "same").unwrap();
        assert_ne!(a, b);
        assert_eq!(k.decrypt("c", &a).unwrap(), k.decrypt("c", &b).unwrap());
    }

    #[test]
    fn legacy_plain_text_passes_through() {
        let k = keyring(SuiteKind::Gm);
        assert_eq!(k.decrypt("c", "张三").unwrap(), "张三");
        assert_eq!(k.decrypt("c", "").unwrap(), "");
        assert_eq!(Keyring::key_id_of("张三"), None);
        assert!(!k.is_current("张三"));
    }

    #[test]
    fn optional_values() {
        let k = keyring(SuiteKind::Intl);
        assert_eq!(k.encrypt_opt("c", None).unwrap(), None);
        assert_eq!(k.decrypt_opt("c", None).unwrap(), None);
        let e = k.encrypt_opt("c", Some("x")).unwrap().unwrap();
        assert_eq!(k.decrypt_opt("c", Some(&e)).unwrap().as_deref(), Some("x"));
    }

    #[test]
    fn blind_index_is_deterministic_and_per_context() {
        for kind in [SuiteKind::Gm, SuiteKind::Intl] {
            let k = keyring(kind);
            let a = k.blind_index("people.phone", "13800138000");
            assert_eq!(a.len(), 32);
            assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
            assert_eq!(a, k.blind_index("people.phone", "13800138000"));
            assert_ne!(a, k.blind_index("people.id_number", "13800138000"));
            assert_ne!(a, k.blind_index("people.phone", "13800138001"));
            // Context and value are separated, so the split point matters.
            assert_ne!(k.blind_index("ab", "c"), k.blind_index("a", "bc"));
            let other = keyring(kind);
            assert_ne!(a, other.blind_index("people.phone", "13800138000"));
        }
    }

    #[test]
    fn blind_index_matches_its_definition() {
        let s = suite(SuiteKind::Gm);
        let active = DataKey::generate(s.as_ref(), "k1".into());
        let k = Keyring::new(s.clone(), active, Vec::new(), b"index-key".to_vec());
        let want = hex::encode(s.mac(b"index-key", b"ctx\0value"));
        assert_eq!(k.blind_index("ctx", "value"), want[..32]);
    }

    #[test]
    fn retired_keys_still_decrypt() {
        for kind in [SuiteKind::Gm, SuiteKind::Intl] {
            let s = suite(kind);
            let old = DataKey::generate(s.as_ref(), "k1".into());
            let new = DataKey::generate(s.as_ref(), "k2".into());
            let before = Keyring::new(s.clone(), old.clone(), Vec::new(), vec![7; 16]);
            let stored = before.encrypt("c", "old value").unwrap();
            assert!(before.is_current(&stored));

            let after = Keyring::new(s.clone(), new.clone(), vec![old], vec![7; 16]);
            assert_eq!(after.active_id(), "k2");
            assert_eq!(Keyring::key_id_of(&stored), Some("k1"));
            assert!(!after.is_current(&stored));
            assert_eq!(after.decrypt("c", &stored).unwrap(), "old value");
            let fresh = after.encrypt("c", "new value").unwrap();
            assert!(after.is_current(&fresh));

            // Without the retired key the value cannot be read.
            let lost = Keyring::new(s, new, Vec::new(), vec![7; 16]);
            assert!(matches!(
                lost.decrypt("c", &stored),
                Err(CryptoError::BadKey(_))
            ));
        }
    }

    #[test]
    fn malformed_values_are_errors() {
        let k = keyring(SuiteKind::Gm);
        assert!(matches!(
            k.decrypt("c", "zb1:nokeyid"),
            Err(CryptoError::Format(_))
        ));
        assert_eq!(k.decrypt("c", "zb1:k1:!!!"), Err(CryptoError::Decrypt));
        assert_eq!(k.decrypt("c", "zb1:k1:"), Err(CryptoError::Decrypt));
    }

    #[test]
    fn debug_never_shows_key_bytes() {
        let m = MasterKey::from_hex(&"ab".repeat(32)).unwrap();
        assert_eq!(format!("{m:?}"), "MasterKey(..)");
        let d = DataKey::new("k9".into(), vec![0xab; 16]);
        let s = format!("{d:?}");
        assert!(s.contains("k9") && !s.contains("171") && !s.contains("ab, "));
        let k = Keyring::new(suite(SuiteKind::Gm), d, Vec::new(), vec![0xab; 16]);
        let s = format!("{k:?}");
        assert!(s.contains("k9") && !s.contains("171"));
    }

    #[test]
    fn master_key_hex() {
        let m = MasterKey::generate();
        assert_eq!(m.to_hex().len(), 64);
        let back = MasterKey::from_hex(&format!("  {}\n", m.to_hex())).unwrap();
        assert_eq!(back.to_hex(), m.to_hex());
        assert_eq!(m.fingerprint().len(), 8);
        assert_eq!(m.fingerprint(), &sm3_hex(m.as_bytes())[..8]);
        assert_ne!(MasterKey::generate().to_hex(), m.to_hex());
    }

    #[test]
    fn bad_master_key_hex_is_a_clear_error() {
        let short = MasterKey::from_hex("abcd").unwrap_err();
        assert!(matches!(short, CryptoError::BadKey(_)));
        assert!(short.to_string().contains("64 hex characters"), "{short}");
        let not_hex = MasterKey::from_hex(&"zz".repeat(32)).unwrap_err();
        assert!(not_hex.to_string().contains("not hex"), "{not_hex}");
    }

    #[test]
    fn load_or_create_creates_once_then_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/dir/master.key");
        let (a, created) = MasterKey::load_or_create(None, &path).unwrap();
        assert!(created);
        assert!(path.exists());
        let (b, created) = MasterKey::load_or_create(None, &path).unwrap();
        assert!(!created);
        assert_eq!(a.to_hex(), b.to_hex());
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.trim(), a.to_hex());
        // No temporary files are left behind.
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        // A blank env value counts as unset.
        let (c, created) = MasterKey::load_or_create(Some("  "), &path).unwrap();
        assert!(!created);
        assert_eq!(c.to_hex(), a.to_hex());
    }

    #[cfg(unix)]
    #[test]
    fn created_key_file_is_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        MasterKey::load_or_create(None, &path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn env_value_wins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let (file_key, _) = MasterKey::load_or_create(None, &path).unwrap();
        let env = MasterKey::generate().to_hex();
        let (k, created) = MasterKey::load_or_create(Some(&env), &path).unwrap();
        assert!(!created);
        assert_eq!(k.to_hex(), env);
        assert_ne!(k.to_hex(), file_key.to_hex());
        // With the env var set, no file is needed at all.
        let missing = dir.path().join("absent/master.key");
        MasterKey::load_or_create(Some(&env), &missing).unwrap();
        assert!(!missing.exists());
        // A bad env value is an error, not a silent fallback to the file.
        assert!(matches!(
            MasterKey::load_or_create(Some("nope"), &path),
            Err(CryptoError::BadKey(_))
        ));
    }

    #[test]
    fn bad_key_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        std::fs::write(&path, "not a key").unwrap();
        let err = MasterKey::load_or_create(None, &path).unwrap_err();
        assert!(matches!(err, CryptoError::BadKey(_)));
        assert!(err.to_string().contains("master.key"), "{err}");
        // The bad file is left alone, not replaced by a new key.
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a key");
    }

    #[test]
    fn wrap_unwrap_round_trip() {
        for kind in [SuiteKind::Gm, SuiteKind::Intl] {
            let s = suite(kind);
            let master = MasterKey::generate();
            let key = DataKey::generate(s.as_ref(), "k1".into());
            let wrapped = wrap_key(s.as_ref(), &master, &key).unwrap();
            assert!(STANDARD.decode(&wrapped).is_ok());
            let back = unwrap_key(s.as_ref(), &master, "k1", &wrapped).unwrap();
            assert_eq!(back.id, "k1");
            assert_eq!(back.bytes(), key.bytes());
            assert_eq!(back.bytes().len(), s.key_len());

            let other = MasterKey::generate();
            assert_eq!(
                unwrap_key(s.as_ref(), &other, "k1", &wrapped).unwrap_err(),
                CryptoError::Decrypt
            );
            // The id is bound to the wrapped key.
            assert_eq!(
                unwrap_key(s.as_ref(), &master, "k2", &wrapped).unwrap_err(),
                CryptoError::Decrypt
            );
            assert!(matches!(
                unwrap_key(s.as_ref(), &master, "k1", "%%%"),
                Err(CryptoError::Format(_))
            ));
        }
    }

    #[test]
    fn wrapped_key_does_not_open_under_the_other_suite() {
        let master = MasterKey::generate();
        let gm = suite(SuiteKind::Gm);
        let intl = suite(SuiteKind::Intl);
        let key = DataKey::generate(gm.as_ref(), "k1".into());
        let wrapped = wrap_key(gm.as_ref(), &master, &key).unwrap();
        assert!(unwrap_key(intl.as_ref(), &master, "k1", &wrapped).is_err());
    }

    #[test]
    fn data_key_id_can_be_moved_out() {
        let key = DataKey::new("k7".into(), vec![1; 16]);
        let id: String = key.id;
        assert_eq!(id, "k7");
    }

    #[test]
    fn derive_gives_distinct_sub_keys() {
        let m = MasterKey::generate();
        let s = suite(SuiteKind::Gm);
        let a = m.derive(s.as_ref(), "zhiban-blind-index");
        assert_eq!(a.len(), 32);
        assert_eq!(a, m.derive(s.as_ref(), "zhiban-blind-index"));
        assert_ne!(a, m.derive(s.as_ref(), "other"));
    }
}
