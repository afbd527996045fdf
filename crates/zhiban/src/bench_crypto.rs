//! `zhiban bench crypto`: cipher and signature throughput of the 国密 suite
//! beside the international one, and what field encryption adds to one
//! application submission (the crypto work the submission path does:
//! sealing the answers, the phone and its blind index, and opening the
//! draft's answers once).

use std::time::Instant;

use anyhow::Result;
use zhiban_crypto::{DataKey, Keyring, SuiteKind, suite, throughput};

/// A typical application's answers (the default form of 居民身份证补领),
/// about 1 KB of JSON.
fn sample_answers() -> String {
    let mut a = std::collections::BTreeMap::new();
    for (k, v) in [
        ("applicant_name", "王小明"),
        ("applicant_id", "11010519491231002X"),
        ("applicant_phone", "13800138000"),
        ("address.province", "重庆市"),
        ("address.city", "重庆市"),
        ("address.district", "渝中区"),
        (
            "address.street",
            "解放碑街道民权路 28 号英利国际金融中心 3 单元 1201 室",
        ),
        (
            "reason",
            "身份证在乘坐公交车时遗失，已在派出所登记挂失，现申请补领。",
        ),
        ("delivery", "mail"),
        (
            "mail_address",
            "重庆市渝中区解放碑街道民权路 28 号英利国际金融中心 3 单元 1201 室",
        ),
        ("mail_recipient", "王小明"),
        ("mail_phone", "13800138000"),
    ] {
        a.insert(k.to_string(), v.to_string());
    }
    serde_json::to_string(&a).unwrap_or_default()
}

fn submission_cost_us(kind: SuiteKind, rounds: usize) -> Result<f64> {
    let s = suite(kind);
    let ring = Keyring::new(
        suite(kind),
        DataKey::generate(s.as_ref(), "k0".into()),
        Vec::new(),
        vec![7u8; 32],
    );
    let answers = sample_answers();
    let start = Instant::now();
    for _ in 0..rounds {
        let sealed = ring.encrypt("case_drafts.answers", &answers)?;
        let draft = ring.decrypt("case_drafts.answers", &sealed)?;
        std::hint::black_box(ring.encrypt("cases.answers", &draft)?);
        std::hint::black_box(ring.encrypt("cases.applicant_phone", "13800138000")?);
        std::hint::black_box(ring.blind_index("cases.applicant_phone", "13800138000"));
    }
    Ok(start.elapsed().as_secs_f64() * 1e6 / rounds as f64)
}

pub fn run(seconds: f64, rounds: usize) -> Result<()> {
    println!(
        "{:<6} {:>16} {:>14} {:>16} {:>18} {:>22}",
        "suite", "AEAD MB/s (4K)", "sign/s", "verify/s", "field enc/s", "per submission µs"
    );
    for kind in [SuiteKind::Gm, SuiteKind::Intl] {
        let t = throughput(kind, 4096, seconds);
        let per_submission = submission_cost_us(kind, rounds)?;
        println!(
            "{:<6} {:>16.1} {:>14.0} {:>16.0} {:>18.0} {:>22.1}",
            kind.as_str(),
            t.seal_mb_per_s,
            t.sign_per_s,
            t.verify_per_s,
            t.field_encrypt_per_s,
            per_submission
        );
    }
    println!(
        "(per submission: seal the draft's answers, open them, seal the case's answers, \
         seal the phone and compute its blind index; {rounds} rounds)"
    );
    Ok(())
}
