//! A quick throughput measurement of a suite, for `zhiban crypto bench`
//! style commands and capacity planning. Not a rigorous benchmark.

use std::hint::black_box;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::{DataKey, Keyring, SuiteKind, random_bytes, suite};

/// Results of [`throughput`]. MB means 10^6 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Throughput {
    /// AEAD seal speed on messages of the requested size, MB per second.
    pub seal_mb_per_s: f64,
    /// Signatures per second on a 256-byte message.
    pub sign_per_s: f64,
    /// Signature verifications per second on a 256-byte message.
    pub verify_per_s: f64,
    /// [`Keyring::encrypt`] calls per second on an 18-character string
    /// (the length of a resident ID number).
    pub field_encrypt_per_s: f64,
}

/// Runs `op` until `budget` has passed (at least once); returns calls per
/// second.
fn rate(budget: Duration, mut op: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut n: u64 = 0;
    loop {
        op();
        n += 1;
        let spent = start.elapsed();
        if spent >= budget {
            return n as f64 / spent.as_secs_f64().max(1e-9);
        }
    }
}

/// Measures the software suite `kind`: AEAD seal speed on messages of
/// `bytes` bytes (0 means 4096, i.e. 4 KiB), sign and verify rates on a
/// 256-byte message, and field-encryption rate through a [`Keyring`].
/// `seconds` is the total time budget, shared equally by the four
/// measurements.
pub fn throughput(kind: SuiteKind, bytes: usize, seconds: f64) -> Throughput {
    let s = suite(kind);
    let bytes = if bytes == 0 { 4096 } else { bytes };
    let per = Duration::from_secs_f64((seconds.max(0.0) / 4.0).min(3600.0));

    let key = random_bytes(s.key_len());
    let msg = random_bytes(bytes);
    let seals = rate(per, || {
        let _ = black_box(s.seal(black_box(&key), b"bench", black_box(&msg)));
    });

    let (secret, public) = s.generate_signing_key();
    let doc = random_bytes(256);
    let sign_per_s = rate(per, || {
        let _ = black_box(s.sign(black_box(&secret), black_box(&doc)));
    });
    let sig = s.sign(&secret, &doc).unwrap_or_default();
    let verify_per_s = rate(per, || {
        black_box(s.verify(black_box(&public), black_box(&doc), black_box(&sig)));
    });

    let keyring = Keyring::new(
        s.clone(),
        DataKey::generate(s.as_ref(), "bench".into()),
        Vec::new(),
        random_bytes(32),
    );
    let field = "11010119900307123X";
    let field_encrypt_per_s = rate(per, || {
        let _ = black_box(keyring.encrypt("bench.field", black_box(field)));
    });

    Throughput {
        seal_mb_per_s: seals * bytes as f64 / 1e6,
        sign_per_s,
        verify_per_s,
        field_encrypt_per_s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throughput_reports_positive_numbers() {
        for kind in [SuiteKind::Gm, SuiteKind::Intl] {
            let t = throughput(kind, 4096, 0.02);
            assert!(t.seal_mb_per_s > 0.0, "{t:?}");
            assert!(t.sign_per_s > 0.0, "{t:?}");
            assert!(t.verify_per_s > 0.0, "{t:?}");
            assert!(t.field_encrypt_per_s > 0.0, "{t:?}");
        }
    }
}
