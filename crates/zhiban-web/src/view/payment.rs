//! How fees and payments are shown: a case's fee section for staff (the
//! item's schedule as lines to assess, the orders so far, what was typed
//! kept across a refusal) and amounts in yuan.

use zhiban_domain::FieldError;
use zhiban_domain::payments::{self, FeeLine, Order};

/// A case's fees on the staff case page.
#[derive(Debug, Clone, Default)]
pub struct StaffFee {
    /// The item's 收费标准 as published.
    pub fees: String,
    /// Its priced lines, to assess by quantity.
    pub options: Vec<FeeLine>,
    /// The case's orders, newest first.
    pub orders: Vec<Order>,
    /// Paid or waived already.
    pub settled: bool,
    /// The last posted fee form, kept when it was refused.
    pub kept: Vec<(String, String)>,
}

impl StaffFee {
    /// A posted value, or `default` when the form was not posted.
    pub fn kept(&self, name: &str, default: &str) -> String {
        if self.kept.is_empty() {
            return default.to_string();
        }
        self.kept
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// The default quantity of option `i`: one when it is the only one.
    pub fn default_qty(&self, i: &usize) -> String {
        let v = if self.options.len() == 1 && *i == 0 {
            "1"
        } else {
            "0"
        };
        self.kept(&format!("q{i}"), v)
    }

    /// An order ran out unpaid: it can be issued again.
    pub fn has_expired(&self) -> bool {
        self.orders
            .iter()
            .any(|o| o.state == payments::OrderState::Expired)
    }
}

/// The lines of a posted fee form: each schedule line's quantity (`q0`,
/// `q1` …) and one typed line (`custom_label`, `custom_amount` in yuan,
/// `custom_qty`).
pub fn posted_lines(
    options: &[FeeLine],
    fields: &[(String, String)],
) -> Result<Vec<FeeLine>, Vec<FieldError>> {
    let get = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let qty = |s: String| -> Result<i64, FieldError> {
        if s.is_empty() {
            return Ok(0);
        }
        s.parse::<i64>()
            .ok()
            .filter(|n| (0..=99).contains(n))
            .ok_or_else(|| FieldError::new("fee_lines", "invalid", s))
    };
    let mut lines = Vec::new();
    let mut errs = Vec::new();
    for (i, o) in options.iter().enumerate() {
        match qty(get(&format!("q{i}"))) {
            Ok(0) => {}
            Ok(n) => lines.push(FeeLine {
                quantity: n,
                ..o.clone()
            }),
            Err(e) => errs.push(e),
        }
    }
    let label = get("custom_label");
    let amount = get("custom_amount");
    if !label.is_empty() || !amount.is_empty() {
        match (payments::parse_yuan(&amount), qty(get("custom_qty"))) {
            (Some(cents), Ok(n)) if !label.is_empty() && cents > 0 => lines.push(FeeLine {
                label,
                unit_cents: cents,
                quantity: n.max(1),
            }),
            _ => errs.push(FieldError::new("fee_custom", "invalid", amount)),
        }
    }
    if errs.is_empty() {
        Ok(lines)
    } else {
        Err(errs)
    }
}
