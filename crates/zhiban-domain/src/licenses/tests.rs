#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use zhiban_crypto::SuiteKind;

fn doc() -> LicenseDoc {
    LicenseDoc {
        number: new_number(NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()),
        type_code: "id_card".into(),
        type_name: "居民身份证".into(),
        holder_name: "王小明".into(),
        holder_id_number: "11010519491231002X".into(),
        fields: [("address".to_string(), "重庆市渝中区解放碑街道".to_string())].into(),
        issuer_code: "500103-GA".into(),
        issuer_name: "重庆市公安局渝中区分局".into(),
        issued_on: "2026-11-24".into(),
        expires_on: "2046-11-24".into(),
    }
}

fn export_of(d: &LicenseDoc, kind: SuiteKind) -> String {
    let s = zhiban_crypto::suite(kind);
    let (secret, public) = s.generate_signing_key();
    let sig = zhiban_crypto::sign_b64(s.as_ref(), &secret, &d.canonical()).unwrap();
    serde_json::to_string(&ExportFile {
        format: FORMAT.into(),
        license: d.clone(),
        signature: SignatureBlock {
            suite: kind.to_string(),
            algorithm: algorithm_name(kind).into(),
            key_id: "sk1".into(),
            public_key: hex::encode(public),
            value: sig,
        },
        verify_url: String::new(),
    })
    .unwrap()
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
}

#[test]
fn an_exported_license_verifies_offline_under_both_suites() {
    for kind in [SuiteKind::Gm, SuiteKind::Intl] {
        let text = export_of(&doc(), kind);
        let check = verify_export(&text, today()).unwrap();
        assert_eq!(check.status, Status::Valid, "{kind}");
        assert_eq!(check.doc.holder_name, "王小明");
        assert_eq!(check.key_fingerprint.len(), 16);
    }
}

#[test]
fn changing_one_byte_of_the_data_reads_as_tampered() {
    let text = export_of(&doc(), SuiteKind::Gm);
    // The holder's name 王小明 → 王小朋: one character of the signed data.
    let forged = text.replacen("王小明", "王小朋", 1);
    assert_ne!(forged, text);
    assert_eq!(
        verify_export(&forged, today()).unwrap().status,
        Status::Tampered
    );
    // One byte of an ASCII field: the expiry year.
    let forged = text.replacen("2046-11-24", "2047-11-24", 1);
    assert_eq!(
        verify_export(&forged, today()).unwrap().status,
        Status::Tampered
    );
}

#[test]
fn a_signature_by_another_key_reads_as_tampered() {
    let a = export_of(&doc(), SuiteKind::Gm);
    let b = export_of(&doc(), SuiteKind::Gm);
    let fa: ExportFile = serde_json::from_str(&a).unwrap();
    let mut fb: ExportFile = serde_json::from_str(&b).unwrap();
    // b's data and signature, a's public key.
    fb.signature.public_key = fa.signature.public_key;
    let text = serde_json::to_string(&fb).unwrap();
    assert_eq!(
        verify_export(&text, today()).unwrap().status,
        Status::Tampered
    );
}

#[test]
fn expiry_and_revocation_follow_the_signature() {
    let mut d = doc();
    d.expires_on = "2026-11-23".into();
    let text = export_of(&d, SuiteKind::Gm);
    assert_eq!(
        verify_export(&text, today()).unwrap().status,
        Status::Expired
    );
    let exp = NaiveDate::from_ymd_opt(2026, 11, 23);
    assert_eq!(Status::of(true, true, true, exp, today()), Status::Revoked);
    assert_eq!(
        Status::of(false, true, true, exp, today()),
        Status::Tampered
    );
    assert_eq!(Status::of(true, true, false, None, today()), Status::Valid);
    // A department without the right to issue the type: invalid however
    // well signed, but a broken signature still says tampered.
    assert_eq!(
        Status::of(true, false, false, None, today()),
        Status::Unauthorized
    );
    assert_eq!(
        Status::of(false, false, false, None, today()),
        Status::Tampered
    );
    // The expiry day itself is still valid.
    assert_eq!(
        Status::of(true, true, false, Some(today()), today()),
        Status::Valid
    );
}

#[test]
fn a_file_that_is_not_a_license_is_refused_with_a_reason() {
    assert!(verify_export("{}", today()).is_err());
    let mut f: ExportFile = serde_json::from_str(&export_of(&doc(), SuiteKind::Gm)).unwrap();
    f.format = "other/1".into();
    let err = verify_export(&serde_json::to_string(&f).unwrap(), today()).unwrap_err();
    assert!(err.contains("unknown format"), "{err}");
}

#[test]
fn numbers_are_unique_looking_and_carry_a_check_character() {
    let n = new_number(today());
    assert!(n.starts_with("ZZ20261124"), "{n}");
    assert_eq!(n.len(), 20);
    assert!(number_ok(&n));
    // A typo in one digit breaks the check character.
    let mut typo: Vec<char> = n.chars().collect();
    typo[12] = if typo[12] == '1' { '2' } else { '1' };
    assert!(!number_ok(&typo.iter().collect::<String>()));
    assert_ne!(new_number(today()), new_number(today()));
}

#[test]
fn a_type_replaces_materials_that_name_it() {
    let t = LicenseType {
        code: "id_card".into(),
        name: "居民身份证".into(),
        holder_kind: "person".into(),
        fields: vec![],
        valid_years: 20,
        renewal_service: String::new(),
        produced_by: "500000-GA-HZ-0001-03, 500000-GA-HZ-0002-01".into(),
    };
    assert!(t.replaces("申请人居民身份证"));
    assert!(t.replaces("身份证复印件"));
    assert!(t.replaces("居民身份证原件（核验后退还）"));
    assert!(!t.replaces("户口簿"));
    // A receipt about a lost card is not the card.
    assert!(!t.replaces("居民身份证挂失申报回执（如有）"));
    assert!(t.produced_by("500000-GA-HZ-0002-01"));
    assert!(!t.produced_by("500000-GA-HZ-0002"));
}

#[test]
fn masked_views_keep_only_the_ends() {
    let d = doc();
    assert_eq!(d.masked_id(), "110***********002X");
    assert_eq!(d.masked_holder(), "王**");
}
