//! Known-answer tests from the published standards. Each vector names its
//! source; none was produced by this crate.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use sm4::Sm4;
use sm4::cipher::{Block, BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};

use crate::suite::seal_with_nonce;
use crate::{GmSuite, IntlSuite, SM2_DEFAULT_ID, Suite, SuiteKind, sm3_hex};

fn h(s: &str) -> Vec<u8> {
    let clean: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    hex::decode(clean).unwrap()
}

// ---------------------------------------------------------------- SM3 ----

#[test]
fn sm3_gbt_32905_example_1() {
    // GB/T 32905-2016 Appendix A, example 1: "abc".
    assert_eq!(
        sm3_hex(b"abc"),
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    );
    assert_eq!(
        GmSuite.hash(b"abc"),
        h("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")
    );
}

#[test]
fn sm3_gbt_32905_example_2() {
    // GB/T 32905-2016 Appendix A, example 2: "abcd" repeated 16 times
    // (64 bytes, so padding adds a second block).
    let msg = b"abcd".repeat(16);
    assert_eq!(
        sm3_hex(&msg),
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    );
    assert_eq!(
        GmSuite.hash(&msg),
        h("debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732")
    );
}

// ---------------------------------------------------------------- SM4 ----

const SM4_KEY: &str = "0123456789abcdeffedcba9876543210";

#[test]
fn sm4_gbt_32907_example_1() {
    // GB/T 32907-2016 Appendix A, example 1: key = plaintext.
    let key = h(SM4_KEY);
    let cipher = Sm4::new_from_slice(&key).unwrap();
    let mut block = Block::<Sm4>::try_from(&key[..]).unwrap();
    cipher.encrypt_block(&mut block);
    assert_eq!(hex::encode(block), "681edf34d206965e86b3e94f536e4246");
    cipher.decrypt_block(&mut block);
    assert_eq!(hex::encode(block), SM4_KEY);
}

#[test]
fn sm4_gbt_32907_example_2_one_million_rounds() {
    // GB/T 32907-2016 Appendix A, example 2: the same key, the plaintext
    // encrypted 1,000,000 times in a row.
    let key = h(SM4_KEY);
    let cipher = Sm4::new_from_slice(&key).unwrap();
    let mut block = Block::<Sm4>::try_from(&key[..]).unwrap();
    for _ in 0..1_000_000 {
        cipher.encrypt_block(&mut block);
    }
    assert_eq!(hex::encode(block), "595298c7c6fd271f0402f804c33d3f66");
}

// ------------------------------------------------------------ SM4-GCM ----

#[test]
fn sm4_gcm_rfc_8998_appendix_a1() {
    // RFC 8998 Appendix A.1 (SM4-GCM test vector).
    let key = h("0123456789ABCDEFFEDCBA9876543210");
    let nonce: [u8; 12] = h("00001234567800000000ABCD").try_into().unwrap();
    let aad = h("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2");
    let pt = h(
        "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB CCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD
                EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFF EEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA",
    );
    let ct = h(
        "17F399F08C67D5EE19D0DC9969C4BB7D 5FD46FD3756489069157B282BB200735
                D82710CA5C22F0CCFA7CBF93D496AC15 A56834CBCF98C397B4024A2691233B8D",
    );
    let tag = h("83DE3541E4C2B58177E065A9BF7B62EC");

    let sealed = seal_with_nonce(SuiteKind::Gm, &key, &nonce, &aad, &pt).unwrap();
    assert_eq!(&sealed[..12], &nonce);
    assert_eq!(hex::encode(&sealed[12..12 + ct.len()]), hex::encode(&ct));
    assert_eq!(hex::encode(&sealed[12 + ct.len()..]), hex::encode(&tag));

    // The public open() accepts the same bytes.
    assert_eq!(GmSuite.open(&key, &aad, &sealed).unwrap(), pt);
}

// -------------------------------------------------------- AES-256-GCM ----

#[test]
fn aes_256_gcm_mcgrew_viega_test_case_16() {
    // "The Galois/Counter Mode of Operation (GCM)", McGrew & Viega,
    // Test Case 16 (AES-256, 96-bit IV, 20 bytes of AAD); also in the
    // NIST GCM validation examples.
    let key = h("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
    let nonce: [u8; 12] = h("cafebabefacedbaddecaf888").try_into().unwrap();
    let aad = h("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    let pt = h(
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72
                1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
    );
    let ct = h(
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa
                8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
    );
    let tag = h("76fc6ece0f4e1768cddf8853bb2d551b");

    let sealed = seal_with_nonce(SuiteKind::Intl, &key, &nonce, &aad, &pt).unwrap();
    assert_eq!(hex::encode(&sealed[12..12 + ct.len()]), hex::encode(&ct));
    assert_eq!(hex::encode(&sealed[12 + ct.len()..]), hex::encode(&tag));
    assert_eq!(IntlSuite.open(&key, &aad, &sealed).unwrap(), pt);
}

// ---------------------------------------------------------------- SM2 ----

/// GM/T 0003.5-2012 Annex A (also GB/T 32918.5-2017): the signature
/// example on the recommended curve sm2p256v1 with the default ID.
mod sm2_annex {
    pub const D: &str = "3945208F 7B2144B1 3F36E38A C6D39F95 88939369 2860B51A 42FB81EF 4DF7C5B8";
    pub const XA: &str = "09F9DF31 1E5421A1 50DD7D16 1E4BC5C6 72179FAD 1833FC07 6BB08FF3 56F35020";
    pub const YA: &str = "CCEA490C E26775A5 2DC6EA71 8CC1AA60 0AED05FB F35E084A 6632F607 2DA9AD13";
    pub const ZA: &str = "B2E14C5C 79C6DF5B 85F4FE7E D8DB7A26 2B9DA7E0 7CCB0EA9 F4747B8C CDA8A4F3";
    pub const E: &str = "F0B43E94 BA45ACCA ACE692ED 534382EB 17E6AB5A 19CE7B31 F4486FDF C0D28640";
    pub const R: &str = "F5A03B06 48D2C463 0EEAC513 E1BB81A1 5944DA38 27D5B741 43AC7EAC EEE720B3";
    pub const S: &str = "B1B6AA29 DF212FD8 763182BC 0D421CA1 BB9038FD 1F7F42D4 840B69C4 85BBC1AA";
    pub const MSG: &[u8] = b"message digest";
    // Curve parameters of sm2p256v1, GB/T 32918.5-2017.
    pub const A: &str = "FFFFFFFE FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF 00000000 FFFFFFFF FFFFFFFC";
    pub const B: &str = "28E9FA9E 9D9F5E34 4D5A9E4B CF6509A7 F39789F5 15AB8F92 DDBCBD41 4D940E93";
    pub const GX: &str = "32C4AE2C 1F198119 5F990446 6A39C994 8FE30BBF F2660BE1 715A4589 334C74C7";
    pub const GY: &str = "BC3736A2 F4F6779C 59BDCEE3 6B692153 D0A9877C C62A4740 02DF32E5 2139F0A0";
}

fn sm2_annex_public() -> Vec<u8> {
    let mut p = vec![0x04];
    p.extend(h(sm2_annex::XA));
    p.extend(h(sm2_annex::YA));
    p
}

fn sm2_annex_signature() -> Vec<u8> {
    let mut sig = h(sm2_annex::R);
    sig.extend(h(sm2_annex::S));
    sig
}

#[test]
fn sm2_annex_public_key_from_private_key() {
    let public = GmSuite.public_key(&h(sm2_annex::D)).unwrap();
    assert_eq!(hex::encode(public), hex::encode(sm2_annex_public()));
}

#[test]
fn sm2_annex_za_and_e_with_default_id() {
    // Z_A = SM3(ENTL_A || ID_A || a || b || x_G || y_G || x_A || y_A) and
    // e = SM3(Z_A || M), computed by hand to pin what the default ID means.
    assert_eq!(SM2_DEFAULT_ID, "1234567812345678");
    let mut z = Vec::new();
    z.extend_from_slice(&((SM2_DEFAULT_ID.len() * 8) as u16).to_be_bytes());
    z.extend_from_slice(SM2_DEFAULT_ID.as_bytes());
    for part in [
        sm2_annex::A,
        sm2_annex::B,
        sm2_annex::GX,
        sm2_annex::GY,
        sm2_annex::XA,
        sm2_annex::YA,
    ] {
        z.extend(h(part));
    }
    let za = GmSuite.hash(&z);
    assert_eq!(hex::encode(&za), hex::encode(h(sm2_annex::ZA)));
    let mut m = za;
    m.extend_from_slice(sm2_annex::MSG);
    assert_eq!(hex::encode(GmSuite.hash(&m)), hex::encode(h(sm2_annex::E)));
}

#[test]
fn sm2_annex_signature_verifies() {
    let public = sm2_annex_public();
    let sig = sm2_annex_signature();
    assert!(GmSuite.verify(&public, sm2_annex::MSG, &sig));
    assert!(!GmSuite.verify(&public, b"message digesT", &sig));
    for i in [0, 31, 32, 63] {
        let mut bad = sig.clone();
        bad[i] ^= 0x01;
        assert!(!GmSuite.verify(&public, sm2_annex::MSG, &bad), "byte {i}");
    }
    let mut other_key = public.clone();
    other_key[64] ^= 0x01; // no longer on the curve
    assert!(!GmSuite.verify(&other_key, sm2_annex::MSG, &sig));
}

#[test]
fn sm2_sign_with_annex_key_verifies() {
    // The signing nonce is derived deterministically (RFC 6979 style), not
    // the annex's k, so r and s differ from the annex; they must verify.
    let secret = h(sm2_annex::D);
    let sig = GmSuite.sign(&secret, sm2_annex::MSG).unwrap();
    assert_eq!(sig.len(), 64);
    assert!(GmSuite.verify(&sm2_annex_public(), sm2_annex::MSG, &sig));
}

// ---------------------------------------------------------------- HMAC ---

#[test]
fn hmac_sm3_gmt_0042_appendix_d3() {
    // GM/T 0042-2015 Appendix D.3, vectors 1 and 2.
    let key1: Vec<u8> = (0x01..=0x20).collect();
    let msg1 = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".repeat(2);
    assert_eq!(
        hex::encode(GmSuite.mac(&key1, &msg1)),
        "ca05e144ed05d1857840d1f318a4a8669e559fc8391f414485bfdf7bb408963a"
    );
    let key2: Vec<u8> = (0x01..=0x25).collect();
    let msg2 = [0xcdu8; 50];
    assert_eq!(
        hex::encode(GmSuite.mac(&key2, &msg2)),
        "220bf579ded555393f0159f66c99877822a3ecf610d1552154b41d44b94db3ae"
    );
}

#[test]
fn hmac_sm3_equals_the_rfc_2104_construction() {
    // HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)), block size 64,
    // with keys longer than a block hashed first.
    fn manual(key: &[u8], msg: &[u8]) -> Vec<u8> {
        let mut k = if key.len() > 64 {
            GmSuite.hash(key)
        } else {
            key.to_vec()
        };
        k.resize(64, 0);
        let mut inner: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
        inner.extend_from_slice(msg);
        let mut outer: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
        outer.extend(GmSuite.hash(&inner));
        GmSuite.hash(&outer)
    }
    for (key, msg) in [
        (&b"key"[..], &b"The quick brown fox"[..]),
        (&[0xaa; 131][..], &b"long key"[..]),
        (&b""[..], &b""[..]),
    ] {
        assert_eq!(GmSuite.mac(key, msg), manual(key, msg));
    }
}

#[test]
fn hmac_sha256_rfc_4231_case_2() {
    // RFC 4231 section 4.3, test case 2.
    assert_eq!(
        hex::encode(IntlSuite.mac(b"Jefe", b"what do ya want for nothing?")),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

// ------------------------------------------------------------ Ed25519 ----

#[test]
fn ed25519_rfc_8032_test_1() {
    // RFC 8032 section 7.1, TEST 1 (empty message).
    let secret = h("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    let public = h("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    let sig = h(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155
                 5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    );
    assert_eq!(IntlSuite.public_key(&secret).unwrap(), public);
    assert_eq!(IntlSuite.sign(&secret, b"").unwrap(), sig);
    assert!(IntlSuite.verify(&public, b"", &sig));
    assert!(!IntlSuite.verify(&public, b"x", &sig));
    let mut bad = sig.clone();
    bad[5] ^= 0x01;
    assert!(!IntlSuite.verify(&public, b"", &bad));
}

#[test]
fn sha256_fips_180_abc() {
    // FIPS 180-2 Appendix B.1.
    assert_eq!(
        hex::encode(IntlSuite.hash(b"abc")),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}
