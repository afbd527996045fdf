//! Identifiers citizens type, each parsed once with its check rule, and how
//! each is masked (脱敏) wherever it is shown.

use crate::FieldError;

/// A mainland mobile number (11 digits starting 13–19).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// Reads a mainland mobile number the way people type it: spaces,
    /// dashes, dots and brackets anywhere, full-width digits, and a
    /// `+86`, `0086` or `86` country prefix.
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let digits: String = s
            .chars()
            .map(|c| match c {
                '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
                '＋' => '+',
                other => other,
            })
            .filter(|c| {
                !c.is_whitespace() && !matches!(c, '-' | '－' | '—' | '.' | '(' | ')' | '（' | '）')
            })
            .collect();
        let digits = digits
            .strip_prefix("+86")
            .or_else(|| digits.strip_prefix("0086"))
            .or_else(|| {
                (digits.len() == 13)
                    .then(|| digits.strip_prefix("86"))
                    .flatten()
            })
            .unwrap_or(&digits)
            .to_string();
        let ok = digits.len() == 11
            && digits.starts_with('1')
            && digits
                .as_bytes()
                .get(1)
                .is_some_and(|b| (b'3'..=b'9').contains(b))
            && digits.chars().all(|c| c.is_ascii_digit());
        if ok {
            Ok(Phone(digits))
        } else {
            Err(FieldError::new("phone", "invalid_phone", ""))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn masked(&self) -> String {
        mask_phone(&self.0)
    }
}

/// The ISO 7064 MOD 11-2 check character of the first 17 digits of a
/// 身份证号, or `None` if they are not 17 digits.
pub fn id_check_char(body: &str) -> Option<char> {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    if body.len() != 17 || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = body
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    Some(char::from(CHECK[(sum % 11) as usize]))
}

/// 居民身份证号码 (GB 11643-1999): 17 digits and an ISO 7064 MOD 11-2 check
/// character, with a real date of birth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdNumber(String);

impl IdNumber {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let s = s.trim().to_ascii_uppercase();
        let bad = || FieldError::new("id_number", "invalid_id_number", "");
        let bytes = s.as_bytes();
        if bytes.len() != 18 || !bytes[..17].iter().all(u8::is_ascii_digit) {
            return Err(bad());
        }
        if id_check_char(&s[..17]) != Some(char::from(bytes[17])) {
            return Err(bad());
        }
        let birth = &s[6..14];
        if chrono::NaiveDate::parse_from_str(birth, "%Y%m%d").is_err() {
            return Err(bad());
        }
        Ok(IdNumber(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn masked(&self) -> String {
        mask_id_number(&self.0)
    }
}

/// 统一社会信用代码 (GB 32100-2015): 18 characters from a 31-letter alphabet
/// (no I, O, Z, S, V) with a MOD 31 check character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uscc(String);

impl Uscc {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
        const WEIGHTS: [usize; 17] = [
            1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
        ];
        let s = s.trim().to_ascii_uppercase();
        let bad = || FieldError::new("uscc", "invalid_uscc", "");
        let values: Option<Vec<usize>> = s.chars().map(|c| ALPHABET.find(c)).collect();
        let Some(values) = values else {
            return Err(bad());
        };
        if values.len() != 18 {
            return Err(bad());
        }
        let sum: usize = values[..17].iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
        let check = (31 - sum % 31) % 31;
        if values[17] != check {
            return Err(bad());
        }
        Ok(Uscc(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 138****5678
pub fn mask_phone(s: &str) -> String {
    mask(s, 3, 4)
}

/// 500***********123X
pub fn mask_id_number(s: &str) -> String {
    mask(s, 3, 4)
}

/// 张*, 欧阳** — the family name stays.
pub fn mask_name(s: &str) -> String {
    let n = s.chars().count();
    if n <= 1 {
        return s.to_string();
    }
    let keep = if n >= 4 { 2 } else { 1 };
    s.chars()
        .take(keep)
        .chain(std::iter::repeat_n('*', n - keep))
        .collect()
}

fn mask(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    chars[..head]
        .iter()
        .chain(std::iter::repeat_n(&'*', chars.len() - head - tail))
        .chain(chars[chars.len() - tail..].iter())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_numbers_need_the_right_check_character_and_a_real_birth_date() {
        // GB 11643 example.
        assert!(IdNumber::parse("11010519491231002X").is_ok());
        assert!(
            IdNumber::parse("11010519491231002x").is_ok(),
            "lower-case x"
        );
        assert!(
            IdNumber::parse("110105194912310021").is_err(),
            "wrong check"
        );
        assert!(IdNumber::parse("11010519491331002X").is_err(), "month 13");
        assert!(IdNumber::parse("1101051949123100").is_err(), "too short");
    }

    #[test]
    fn credit_codes_need_the_right_check_character() {
        assert!(Uscc::parse("91350100M000100Y43").is_ok());
        assert!(Uscc::parse("91350100M000100Y44").is_err());
        assert!(
            Uscc::parse("91350100M000100YI3").is_err(),
            "I is not in the alphabet"
        );
    }

    #[test]
    fn phones_are_mainland_mobiles() {
        assert_eq!(
            Phone::parse("138 0013 8000").map(|p| p.0).ok(),
            Some("13800138000".into())
        );
        assert_eq!(
            Phone::parse("+8613800138000").map(|p| p.0).ok(),
            Some("13800138000".into())
        );
        for typed in [
            "139 1234 5678",
            "139-1234-5678",
            "+86 139 1234 5678",
            "0086 13912345678",
            "86 139-1234-5678",
            "(+86) 139.1234.5678",
            "１３９１２３４５６７８",
        ] {
            assert_eq!(
                Phone::parse(typed).map(|p| p.0).ok(),
                Some("13912345678".into()),
                "{typed}"
            );
        }
        assert!(Phone::parse("12800138000").is_err());
        assert!(Phone::parse("023-63854000").is_err());
        assert!(Phone::parse("1391234567").is_err(), "ten digits");
        assert!(
            Phone::parse("86139123456").is_err(),
            "86 is not stripped from 11 digits"
        );
    }

    #[test]
    fn masking_keeps_only_what_recognition_needs() {
        assert_eq!(mask_phone("13800138000"), "138****8000");
        assert_eq!(mask_id_number("11010519491231002X"), "110***********002X");
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧阳**");
    }
}
