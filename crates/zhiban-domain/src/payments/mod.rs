//! 统一支付: a case's fees become a payment order — assessed by staff from
//! the item's fee schedule (核定) or waived with a reason (减免) — that the
//! applicant pays through a payment gateway ([`PaymentGateway`]). Orders
//! are idempotent (a double click reuses the gateway's order; a replayed
//! callback finds the order already paid), expire, are refunded with a
//! second person's approval, and are reconciled each day against the
//! gateway's statement. Each payment issues a signed 电子票据. A case whose
//! item charges a fee is concluded only once its order is paid or waived.

pub mod dev_gateway;
pub mod fines;
mod gateway;
mod orders;
pub mod reconcile;
mod refunds;

pub use gateway::*;
pub use orders::*;
pub use refunds::*;

use serde::{Deserialize, Serialize};

use crate::catalog::enums::vocabulary;

/// Payment settings (`[payments]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PaymentSettings {
    /// Minutes an unpaid order can be paid before it expires.
    pub order_minutes: i64,
    /// The development gateway (a stand-in for a bank): how many times it
    /// sends each callback (more than one, as real gateways do).
    pub dev_callback_copies: u32,
    /// …and how many seconds after the payment the first one leaves.
    pub dev_callback_delay_secs: i64,
}

impl Default for PaymentSettings {
    fn default() -> Self {
        PaymentSettings {
            order_minutes: 30,
            dev_callback_copies: 2,
            dev_callback_delay_secs: 0,
        }
    }
}

vocabulary!(
    /// Where an order stands.
    OrderState {
        Unpaid => "unpaid", "待缴费";
        Paid => "paid", "已缴费";
        Expired => "expired", "已过期";
        Closed => "closed", "已关闭";
        Waived => "waived", "已减免";
        Refunded => "refunded", "已退款";
    }
);

impl OrderState {
    /// The fee is settled: paid (a later refund does not undo that) or waived.
    pub fn settled(self) -> bool {
        matches!(
            self,
            OrderState::Paid | OrderState::Waived | OrderState::Refunded
        )
    }
}

/// An amount in yuan with two decimals: `80.00`.
pub fn yuan(cents: impl std::borrow::Borrow<i64>) -> String {
    let cents = *cents.borrow();
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{}.{:02}", c / 100, c % 100)
}

/// Reads an amount typed in yuan (`80`, `80.5`, `80.50`, `¥80`) as fen.
pub fn parse_yuan(s: &str) -> Option<i64> {
    let t = s
        .trim()
        .trim_start_matches(['¥', '￥'])
        .trim_end_matches('元')
        .trim();
    let (whole, frac) = match t.split_once('.') {
        Some((w, f)) => (w, f),
        None => (t, ""),
    };
    if whole.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || frac.len() > 2
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = format!("{frac:0<2}").parse().ok()?;
    whole.checked_mul(100)?.checked_add(frac)
}

/// The item charges nothing (不收费, 免费, blank).
pub fn is_free(fees: &str) -> bool {
    let t = fees.trim();
    t.is_empty() || t == "无" || t.starts_with("不收费") || t.starts_with("免费") || t == "免收"
}

/// One line of a fee schedule, read from the catalog's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeLine {
    pub label: String,
    pub unit_cents: i64,
    pub quantity: i64,
}

impl FeeLine {
    pub fn total(&self) -> i64 {
        self.unit_cents.saturating_mul(self.quantity)
    }
}

/// The priced lines in a fee text: 住宅类80元/件，非住宅类550元/件 gives
/// (住宅类 80.00 /件) and (非住宅类 550.00 /件); a text without amounts
/// (按……标准收取) gives none, and staff type the amount.
pub fn fee_options(fees: &str) -> Vec<FeeLine> {
    let mut out: Vec<FeeLine> = Vec::new();
    for part in fees.split(['；', ';', '，', ',', '。', '（', '）', '(', ')']) {
        let chars: Vec<char> = part.chars().collect();
        let mut i = 0;
        let mut label_start = 0;
        while i < chars.len() {
            if chars[i].is_ascii_digit() {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                if chars.get(i) == Some(&'元') {
                    let number: String = chars[start..i].iter().collect();
                    let mut unit_end = i + 1;
                    if chars.get(unit_end) == Some(&'/') {
                        unit_end += 1;
                        while unit_end < chars.len() && !chars[unit_end].is_ascii_digit() {
                            unit_end += 1;
                        }
                    }
                    let before: String = chars[label_start..start].iter().collect();
                    let unit: String = chars[i + 1..unit_end].iter().collect();
                    let label = format!("{}{}", before.trim(), unit.trim())
                        .trim_matches(['：', ':', ' '])
                        .to_string();
                    if let Some(cents) = parse_yuan(&number)
                        && cents > 0
                        && !out
                            .iter()
                            .any(|l| l.label == label && l.unit_cents == cents)
                    {
                        out.push(FeeLine {
                            label: if label.is_empty() {
                                "费用".to_string()
                            } else {
                                label
                            },
                            unit_cents: cents,
                            quantity: 1,
                        });
                    }
                    label_start = unit_end;
                    i = unit_end;
                    continue;
                }
            } else {
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_yuan_read_and_print_in_fen() {
        assert_eq!(parse_yuan("80"), Some(8000));
        assert_eq!(parse_yuan("¥80.5"), Some(8050));
        assert_eq!(parse_yuan(" 0.05元 "), Some(5));
        assert_eq!(parse_yuan("80.505"), None);
        assert_eq!(parse_yuan("-1"), None);
        assert_eq!(parse_yuan("八十"), None);
        assert_eq!(parse_yuan(""), None);
        assert_eq!(yuan(8050), "80.50");
        assert_eq!(yuan(5), "0.05");
    }

    #[test]
    fn fee_texts_become_priced_lines() {
        assert!(is_free("不收费"));
        assert!(!is_free("工本费20元/证"));
        let l = fee_options("住宅类80元/件，非住宅类550元/件；证书工本费每增加一本加收10元");
        assert_eq!(
            l.iter()
                .map(|x| (x.label.as_str(), x.unit_cents))
                .collect::<Vec<_>>(),
            vec![
                ("住宅类/件", 8000),
                ("非住宅类/件", 55000),
                ("证书工本费每增加一本加收", 1000)
            ]
        );
        let l = fee_options("往来港澳通行证60元/本；签注一次有效15元/次，二次有效30元/次");
        assert_eq!(l.len(), 3);
        assert_eq!(l[1].label, "签注一次有效/次");
        assert!(fee_options("按照渝州市公证服务收费标准收取").is_empty());
    }
}
