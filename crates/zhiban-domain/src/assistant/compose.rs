//! Answers written from a service guide's own fields: every sentence
//! quotes the catalog, nothing is made up.

use super::aspects::Aspect;
use crate::catalog::{Department, ServiceItem};

/// The answer to one aspect of one item.
pub fn aspect_text(s: &ServiceItem, aspect: Aspect) -> String {
    let name = &s.name;
    match aspect {
        Aspect::Materials => {
            if s.materials.is_empty() {
                return format!("办理「{name}」办事指南未列出需要提交的材料。");
            }
            let mut out = format!("办理「{name}」需要准备：");
            for (i, m) in s.materials.iter().enumerate() {
                out.push_str(&format!("\n{}. {}（{}", i + 1, m.name, m.form));
                if m.count > 1 {
                    out.push_str(&format!("，{} 份", m.count));
                }
                out.push('）');
                if m.elicense_ok {
                    out.push_str("，可用电子证照代替");
                }
                if !m.note.trim().is_empty() {
                    out.push_str(&format!("。{}", m.note.trim()));
                }
            }
            out
        }
        Aspect::TimeLimit => {
            if s.is_immediate() {
                format!(
                    "「{name}」是即办事项：材料齐全、符合条件的当场办结（法定时限 {} 个工作日）。",
                    s.legal_limit_days
                )
            } else {
                format!(
                    "「{name}」承诺 {} 个工作日内办结（法定时限 {} 个工作日），从受理之日起计算，不含法定节假日。",
                    s.promised_limit_days, s.legal_limit_days
                )
            }
        }
        Aspect::Fees => {
            if s.is_free() {
                format!("「{name}」不收费。")
            } else if s.fee_basis.trim().is_empty() {
                format!("「{name}」收费标准：{}。", s.fees.trim())
            } else {
                format!(
                    "「{name}」收费标准：{}。收费依据：{}。",
                    s.fees.trim(),
                    s.fee_basis.trim()
                )
            }
        }
        Aspect::Place => format!("「{name}」办理地点：{}。", s.place.trim()),
        Aspect::Hours => format!("「{name}」办理时间：{}。", s.hours.trim()),
        Aspect::Conditions => {
            if s.conditions.is_empty() {
                return format!("「{name}」办事指南未列出受理条件。");
            }
            let mut out = format!("申请「{name}」的受理条件：");
            for (i, c) in s.conditions.iter().enumerate() {
                out.push_str(&format!("\n{}. {}", i + 1, c.trim()));
            }
            out
        }
        Aspect::Online => {
            if s.online {
                let visits = if s.visits == 0 {
                    "全程不用到现场".to_string()
                } else {
                    format!("办理中最多到现场 {} 次", s.visits)
                };
                format!(
                    "「{name}」可以网上办理（{visits}）。办理渠道：{}。",
                    s.place.trim()
                )
            } else {
                format!(
                    "「{name}」暂不能网上办理，需要到现场办理（到现场 {} 次）：{}。",
                    s.visits.max(1),
                    s.place.trim()
                )
            }
        }
        Aspect::Phone => {
            let mut out = format!("「{name}」咨询电话：{}", s.enquiry_phone.trim());
            if !s.complaint_phone.trim().is_empty() {
                out.push_str(&format!("；监督投诉电话：{}", s.complaint_phone.trim()));
            }
            out.push('。');
            out
        }
        Aspect::Process => {
            if s.steps.is_empty() {
                return overview(s);
            }
            let mut out = format!("「{name}」办理流程：");
            for (i, st) in s.steps.iter().enumerate() {
                out.push_str(&format!("\n{}. {}", i + 1, st.name.trim()));
                if !st.detail.trim().is_empty() {
                    out.push_str(&format!("：{}", st.detail.trim()));
                }
            }
            out
        }
    }
}

/// A short guide when no aspect was asked: who, what to bring, how long,
/// how much, where.
pub fn overview(s: &ServiceItem) -> String {
    let mut out = format!("「{}」由{}办理。", s.name, s.department_name);
    if let Some(c) = s.conditions.first() {
        out.push_str(&format!("\n· 条件：{}", c.trim()));
    }
    if !s.materials.is_empty() {
        let names: Vec<&str> = s.materials.iter().map(|m| m.name.as_str()).collect();
        out.push_str(&format!("\n· 材料：{}", names.join("、")));
    }
    if s.is_immediate() {
        out.push_str("\n· 时限：即办");
    } else {
        out.push_str(&format!("\n· 时限：{} 个工作日", s.promised_limit_days));
    }
    out.push_str(&format!(
        "\n· 收费：{}",
        if s.is_free() {
            "不收费"
        } else {
            s.fees.trim()
        }
    ));
    if s.online {
        out.push_str("\n· 可以网上办理");
    } else {
        out.push_str(&format!("\n· 办理地点：{}", s.place.trim()));
    }
    out
}

/// Where to go in one district: the item's own place text, and the units
/// of that district that do this department's work (matched by the
/// department code's line, e.g. `-MZ` 民政) or its government service
/// centre, with their address, phone and hours as the org tree records them.
pub fn district_place(s: &ServiceItem, district: &Department, units: &[&Department]) -> String {
    let mut out = format!("「{}」在{}：", s.name, district.name);
    if units.is_empty() {
        out.push_str(&format!(
            "办事指南写明的办理地点是 {}。{}暂无单独登记的窗口信息，可拨打咨询电话 {} 确认。",
            s.place.trim(),
            district.name,
            s.enquiry_phone.trim()
        ));
        return out;
    }
    for u in units {
        out.push_str(&format!(
            "\n· {}：{}，电话 {}，{}",
            u.name,
            u.address.trim(),
            u.phone.trim(),
            u.hours.trim()
        ));
    }
    out.push_str(&format!("\n（办事指南：{}）", s.place.trim()));
    out
}
