//! 依申请公开 (政府信息公开条例, DOMAIN.md Publishing): a request for
//! government information is a case of an item of type 依申请公开. Its
//! rules differ from a licence's in three ways, all checked here:
//!
//! - the answer clock runs from the day the request is received (第三十三条:
//!   20 working days), not from acceptance;
//! - it may be extended once, by at most 20 working days, with a reason
//!   (第三十三条第二款);
//! - the answer has a type (第三十六条): 公开, 部分公开, 不予公开 (with the
//!   legal reason), 信息不存在, 非本机关 (naming the body to ask).

use crate::FieldError;
use crate::catalog::enums::vocabulary;

use super::workflow::CaseAction;

/// The `procedure` of a case filed on a disclosure item.
pub const PROCEDURE: &str = "disclosure";

/// At most this many working days may be added, once.
pub const EXTENSION_MAX_DAYS: u32 = 20;

vocabulary!(
    /// 答复类型 of a disclosure request.
    Answer {
        Open => "open", "予以公开";
        Partial => "partial", "部分公开";
        Refused => "refused", "不予公开";
        NotExist => "not-exist", "信息不存在";
        NotOurs => "not-ours", "非本机关负责公开";
    }
);

impl Answer {
    /// The answer the action gives: 准予 gives the information (in whole
    /// or in part), 不予 does not.
    pub fn fits(self, action: CaseAction) -> bool {
        match action {
            CaseAction::Approve => matches!(self, Answer::Open | Answer::Partial),
            CaseAction::Deny => !matches!(self, Answer::Open | Answer::Partial),
            _ => false,
        }
    }

    /// What must be written with the answer: the legal ground for what is
    /// withheld, where the information is not held, or which body to ask.
    pub fn needs_reason(self) -> bool {
        self != Answer::Open
    }

    /// The answers an action offers, in the order a desk reads them.
    pub fn for_action(action: CaseAction) -> Vec<Answer> {
        Answer::ALL
            .iter()
            .copied()
            .filter(|a| a.fits(action))
            .collect()
    }
}

/// Checks a decision on a disclosure request: an answer type that fits
/// the action, and the reason it needs.
pub fn check_answer(
    action: CaseAction,
    answer: Option<Answer>,
    reason: &str,
) -> Result<Answer, Vec<FieldError>> {
    let mut errors = Vec::new();
    let answer = match answer {
        Some(a) if a.fits(action) => Some(a),
        Some(a) => {
            errors.push(FieldError::new("answer", "invalid_choice", a.slug()));
            None
        }
        None => {
            errors.push(FieldError::new("answer", "required", ""));
            None
        }
    };
    if answer.is_some_and(Answer::needs_reason) && reason.trim().is_empty() {
        errors.push(FieldError::new("reason", "required", ""));
    }
    match answer {
        Some(a) if errors.is_empty() => Ok(a),
        _ => Err(errors),
    }
}

/// Checks an extension: not extended before, and 1–20 working days
/// (blank means the full 20). The reason is required like every step's
/// that the applicant must be told about.
pub fn check_extension(already_extended: i64, days: Option<u32>) -> Result<u32, Vec<FieldError>> {
    let mut errors = Vec::new();
    if already_extended > 0 {
        errors.push(FieldError::new("days", "extended_once", ""));
    }
    let days = days.unwrap_or(EXTENSION_MAX_DAYS);
    if !(1..=EXTENSION_MAX_DAYS).contains(&days) {
        errors.push(FieldError::new(
            "days",
            "out_of_range",
            format!("1–{EXTENSION_MAX_DAYS}"),
        ));
    }
    if errors.is_empty() {
        Ok(days)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approval_gives_the_information_and_refusal_does_not() {
        assert_eq!(
            Answer::for_action(CaseAction::Approve),
            vec![Answer::Open, Answer::Partial]
        );
        assert_eq!(
            Answer::for_action(CaseAction::Deny),
            vec![Answer::Refused, Answer::NotExist, Answer::NotOurs]
        );
        assert!(Answer::for_action(CaseAction::Accept).is_empty());
    }

    #[test]
    fn every_answer_but_full_disclosure_says_why() {
        assert_eq!(
            check_answer(CaseAction::Approve, Some(Answer::Open), ""),
            Ok(Answer::Open)
        );
        let e = check_answer(CaseAction::Approve, Some(Answer::Partial), " ").unwrap_err();
        assert_eq!((e[0].field, e[0].code), ("reason", "required"));
        let e = check_answer(CaseAction::Deny, Some(Answer::NotOurs), "").unwrap_err();
        assert_eq!((e[0].field, e[0].code), ("reason", "required"));
        assert_eq!(
            check_answer(
                CaseAction::Deny,
                Some(Answer::Refused),
                "涉及第三方商业秘密"
            )
            .unwrap(),
            Answer::Refused
        );
    }

    #[test]
    fn an_answer_must_fit_the_decision() {
        let e = check_answer(CaseAction::Deny, Some(Answer::Open), "x").unwrap_err();
        assert_eq!((e[0].field, e[0].code), ("answer", "invalid_choice"));
        let e = check_answer(CaseAction::Approve, None, "x").unwrap_err();
        assert_eq!((e[0].field, e[0].code), ("answer", "required"));
    }

    #[test]
    fn one_extension_of_at_most_twenty_working_days() {
        assert_eq!(check_extension(0, None), Ok(20));
        assert_eq!(check_extension(0, Some(7)), Ok(7));
        let codes = |r: Result<u32, Vec<FieldError>>| {
            r.unwrap_err()
                .iter()
                .map(|e| (e.field, e.code))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            codes(check_extension(0, Some(21))),
            vec![("days", "out_of_range")]
        );
        assert_eq!(
            codes(check_extension(0, Some(0))),
            vec![("days", "out_of_range")]
        );
        assert_eq!(
            codes(check_extension(20, Some(5))),
            vec![("days", "extended_once")]
        );
    }
}
