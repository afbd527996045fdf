//! 政务公开 (DOMAIN.md, Publishing): sites with their channels (栏目),
//! articles of several kinds written by editors and passed by reviewers
//! (`workflow`), bodies made safe (`rich_text`), the writes (`editing`),
//! what staff and citizens read (`reading`) and the inspection rules
//! checked ahead of time (`health`).

pub mod aids;
pub mod demo;
pub mod diff;
pub mod drafting;
pub mod editing;
pub mod files;
pub mod graphic;
pub mod health;
pub mod reading;
pub mod rich_text;
pub mod sites;
pub mod workflow;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::catalog::enums::vocabulary;
pub use workflow::{ArticleAction, ArticleState};

vocabulary!(
    /// What an article is; each channel holds one kind.
    ArticleKind {
        News => "news", "新闻动态";
        Notice => "notice", "通知公告";
        Bulletin => "bulletin", "便民公告";
        PoliceReport => "police-report", "警情通报";
        CaseWarning => "case-warning", "警示案例";
        Policy => "policy", "政策文件";
        Interpretation => "interpretation", "政策解读";
        Wanted => "wanted", "通缉令";
        Media => "media", "图片视频";
        Page => "page", "公开目录";
        Topic => "topic", "专题";
    }
);

impl ArticleKind {
    /// What an article may be: a 专题 is a channel that gathers articles
    /// of every kind, never an article itself.
    pub fn writable() -> impl Iterator<Item = ArticleKind> {
        ArticleKind::ALL
            .iter()
            .copied()
            .filter(|k| *k != ArticleKind::Topic)
    }

    /// A channel of this kind takes articles of kind `article`.
    pub fn holds(self, article: ArticleKind) -> bool {
        self == ArticleKind::Topic || self == article
    }
}

vocabulary!(
    /// Where a 通缉令 stands: 在逃 while the notice runs, then 已抓获 or
    /// 已撤销 with the date.
    WantedStatus {
        AtLarge => "at-large", "在逃";
        Captured => "captured", "已抓获";
        Revoked => "revoked", "已撤销";
    }
);

vocabulary!(
    /// 有效性 of a policy document, marked on the original.
    Validity {
        Valid => "valid", "有效";
        Repealed => "repealed", "废止";
        Expired => "expired", "失效";
    }
);

/// A site (the city portal, a district, the police bureau).
#[derive(Debug, Clone, Serialize)]
pub struct Site {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub unit_id: i64,
    pub review_stages: i64,
}

/// A channel (栏目) of a site.
#[derive(Debug, Clone, Serialize)]
pub struct Channel {
    pub id: i64,
    pub site_id: i64,
    pub site_code: String,
    pub site_name: String,
    pub code: String,
    pub name: String,
    pub kind: ArticleKind,
    pub stale_days: i64,
    /// What the channel is about (a 专题's introduction), plain text.
    pub lead: String,
}

/// The fields only some kinds have. A 便民公告 (a road closed, water cut
/// off) says from when until when and where. A policy document (政策文件)
/// has its 文号, 发文机关, 成文日期, 主题分类 and 有效性 (with the document
/// that replaced it) and the services it governs; an interpretation (解读)
/// names its policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct KindFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starts_on: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ends_on: Option<NaiveDate>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub area: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub doc_number: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub issuer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub written_on: Option<NaiveDate>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub topic: String,
    /// `valid`, `repealed` or `expired` (slugs of [`Validity`]).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub validity: String,
    /// The article id of the document that replaced this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<i64>,
    /// Catalog codes of the services this policy governs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
    /// An interpretation's policy (article id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<i64>,
    /// A 通缉令's reward (悬赏), as the notice words it.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reward: String,
    /// A 通缉令's status (slug of [`WantedStatus`]).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub wanted_status: String,
    /// When it was captured or revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_on: Option<NaiveDate>,
}

impl KindFields {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
    pub fn from_json(s: &str) -> Self {
        serde_json::from_str(s).unwrap_or_default()
    }
}

/// What an editor fills in, as typed (the form keeps it on a problem).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ArticleInput {
    pub site: String,
    pub kind: String,
    pub channels: Vec<i64>,
    pub title: String,
    pub summary: String,
    pub body: String,
    pub source: String,
    /// Beijing time as `YYYY-MM-DDTHH:MM` (an `<input type=datetime-local>`); blank: on approval.
    pub publish_at: String,
    /// Blank: stays up.
    pub unpublish_at: String,
    pub starts_on: String,
    pub ends_on: String,
    pub area: String,
    pub doc_number: String,
    pub issuer: String,
    pub written_on: String,
    pub topic: String,
    pub validity: String,
    /// Article id, as typed.
    pub replaced_by: String,
    /// Catalog codes, one per line or separated by commas.
    pub services: String,
    /// Article id, as typed.
    pub policy: String,
    pub reward: String,
    pub wanted_status: String,
    pub status_on: String,
}

/// An input that passed every check: what is stored.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub site_code: String,
    pub kind: ArticleKind,
    pub channels: Vec<i64>,
    pub title: String,
    pub summary: String,
    pub body: String,
    pub source: String,
    pub publish_at: Option<i64>,
    pub unpublish_at: Option<i64>,
    pub fields: KindFields,
}

pub const TITLE_MAX: usize = 120;
pub const SUMMARY_MAX: usize = 300;

/// Checks everything that needs no database: every problem at once.
pub fn parse(input: &ArticleInput) -> Result<Parsed, Vec<FieldError>> {
    let mut errors = Vec::new();
    let kind = ArticleKind::from_slug(input.kind.trim()).filter(|k| *k != ArticleKind::Topic);
    if kind.is_none() {
        errors.push(FieldError::new("kind", "invalid_choice", input.kind.trim()));
    }
    let title = input.title.trim().to_string();
    if title.is_empty() {
        errors.push(FieldError::new("title", "required", ""));
    } else if title.chars().count() > TITLE_MAX {
        errors.push(FieldError::new("title", "too_long", TITLE_MAX.to_string()));
    }
    let summary = input.summary.trim().to_string();
    if summary.chars().count() > SUMMARY_MAX {
        errors.push(FieldError::new(
            "summary",
            "too_long",
            SUMMARY_MAX.to_string(),
        ));
    }
    if input.channels.is_empty() {
        errors.push(FieldError::new("channels", "required", ""));
    }
    let cleaned = rich_text::clean(&input.body);
    errors.extend(rich_text::check(&cleaned.html));
    if cleaned.removed_unsafe {
        errors.push(FieldError::new("body", "unsafe_removed", ""));
    }
    let publish_at = parse_time(&input.publish_at, "publish_at", &mut errors);
    let unpublish_at = parse_time(&input.unpublish_at, "unpublish_at", &mut errors);
    if let (Some(a), Some(b)) = (publish_at, unpublish_at)
        && b <= a
    {
        errors.push(FieldError::new("unpublish_at", "before_publish", ""));
    }
    let mut fields = KindFields::default();
    if kind == Some(ArticleKind::Bulletin) {
        fields.starts_on = parse_day(&input.starts_on, "starts_on", true, &mut errors);
        fields.ends_on = parse_day(&input.ends_on, "ends_on", false, &mut errors);
        if let (Some(a), Some(b)) = (fields.starts_on, fields.ends_on)
            && b < a
        {
            errors.push(FieldError::new("ends_on", "before_start", ""));
        }
        fields.area = input.area.trim().to_string();
    }
    let id_of = |s: &str, field: &'static str, errors: &mut Vec<FieldError>| {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        match s.parse::<i64>() {
            Ok(id) if id > 0 => Some(id),
            _ => {
                errors.push(FieldError::new(field, "invalid_choice", s));
                None
            }
        }
    };
    if kind == Some(ArticleKind::Policy) {
        fields.doc_number = input.doc_number.trim().to_string();
        fields.issuer = input.issuer.trim().to_string();
        if fields.issuer.is_empty() {
            errors.push(FieldError::new("issuer", "required", ""));
        }
        fields.written_on = parse_day(&input.written_on, "written_on", true, &mut errors);
        fields.topic = input.topic.trim().to_string();
        let validity = if input.validity.trim().is_empty() {
            Some(Validity::Valid)
        } else {
            Validity::from_slug(input.validity.trim())
        };
        match validity {
            Some(v) => fields.validity = v.slug().to_string(),
            None => errors.push(FieldError::new(
                "validity",
                "invalid_choice",
                input.validity.trim(),
            )),
        }
        fields.replaced_by = id_of(&input.replaced_by, "replaced_by", &mut errors);
        fields.services = input
            .services
            .split(|c: char| c == ',' || c == '，' || c.is_whitespace())
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect();
    }
    if kind == Some(ArticleKind::Wanted) {
        fields.reward = input.reward.trim().chars().take(100).collect();
        let status = if input.wanted_status.trim().is_empty() {
            Some(WantedStatus::AtLarge)
        } else {
            WantedStatus::from_slug(input.wanted_status.trim())
        };
        match status {
            Some(s) => {
                fields.wanted_status = s.slug().to_string();
                // 已抓获 / 已撤销 says since when.
                fields.status_on = parse_day(
                    &input.status_on,
                    "status_on",
                    s != WantedStatus::AtLarge,
                    &mut errors,
                );
            }
            None => errors.push(FieldError::new(
                "wanted_status",
                "invalid_choice",
                input.wanted_status.trim(),
            )),
        }
    }
    if kind == Some(ArticleKind::Interpretation) {
        fields.policy = id_of(&input.policy, "policy", &mut errors);
        if fields.policy.is_none() && input.policy.trim().is_empty() {
            errors.push(FieldError::new("policy", "required", ""));
        }
    }
    match (kind, errors.is_empty()) {
        (Some(kind), true) => Ok(Parsed {
            site_code: input.site.trim().to_string(),
            kind,
            channels: input.channels.clone(),
            title,
            summary,
            body: cleaned.html,
            source: input.source.trim().to_string(),
            publish_at,
            unpublish_at,
            fields,
        }),
        _ => Err(errors),
    }
}

fn parse_time(s: &str, field: &'static str, errors: &mut Vec<FieldError>) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let parsed = crate::time::parse_local_minute(s);
    if parsed.is_none() {
        errors.push(FieldError::new(field, "invalid_time", s));
    }
    parsed
}

fn parse_day(
    s: &str,
    field: &'static str,
    required: bool,
    errors: &mut Vec<FieldError>,
) -> Option<NaiveDate> {
    let s = s.trim();
    if s.is_empty() {
        if required {
            errors.push(FieldError::new(field, "required", ""));
        }
        return None;
    }
    match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            errors.push(FieldError::new(field, "invalid_date", s));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ArticleInput {
        ArticleInput {
            site: "police".into(),
            kind: "bulletin".into(),
            channels: vec![3],
            title: "关于解放碑步行街周边道路交通管制的通告".into(),
            body: "因跨年活动，12 月 31 日 20 时至次日 2 时实行交通管制。".into(),
            starts_on: "2026-12-31".into(),
            ends_on: "2027-01-01".into(),
            area: "渝中区解放碑周边".into(),
            publish_at: "2026-12-20T09:00".into(),
            ..ArticleInput::default()
        }
    }

    #[test]
    fn a_bulletin_keeps_its_dates_and_area_and_publish_time_is_beijing_time() {
        let p = parse(&input()).unwrap();
        assert_eq!(p.kind, ArticleKind::Bulletin);
        assert_eq!(p.fields.starts_on, NaiveDate::from_ymd_opt(2026, 12, 31));
        assert_eq!(p.fields.area, "渝中区解放碑周边");
        // 09:00 in Beijing is 01:00 UTC.
        assert_eq!(
            chrono::DateTime::from_timestamp(p.publish_at.unwrap(), 0)
                .unwrap()
                .to_rfc3339(),
            "2026-12-20T01:00:00+00:00"
        );
        assert!(p.body.starts_with("<p>因跨年活动"));
    }

    #[test]
    fn a_captured_or_revoked_wanted_notice_says_since_when() {
        let wanted = |status: &str, on: &str| ArticleInput {
            site: "police".into(),
            kind: "wanted".into(),
            channels: vec![9],
            title: "渝州市公安局关于公开悬赏通缉犯罪嫌疑人张某某的通告".into(),
            body: "<p>张某某，男，涉嫌诈骗罪。</p>".into(),
            reward: "人民币 2 万元".into(),
            wanted_status: status.into(),
            status_on: on.into(),
            ..ArticleInput::default()
        };
        let p = parse(&wanted("", "")).unwrap();
        assert_eq!(p.fields.wanted_status, "at-large");
        assert_eq!(p.fields.reward, "人民币 2 万元");
        let e = parse(&wanted("captured", "")).unwrap_err();
        assert_eq!((e[0].field, e[0].code), ("status_on", "required"));
        let p = parse(&wanted("captured", "2026-11-02")).unwrap();
        assert_eq!(p.fields.status_on, NaiveDate::from_ymd_opt(2026, 11, 2));
        let e = parse(&wanted("escaped", "")).unwrap_err();
        assert_eq!(e[0].field, "wanted_status");
    }

    #[test]
    fn a_topic_is_a_channel_never_an_article() {
        let mut i = input();
        i.kind = "topic".into();
        let e = parse(&i).unwrap_err();
        assert_eq!((e[0].field, e[0].code), ("kind", "invalid_choice"));
        assert!(ArticleKind::Topic.holds(ArticleKind::CaseWarning));
        assert!(!ArticleKind::News.holds(ArticleKind::CaseWarning));
        assert!(ArticleKind::writable().all(|k| k != ArticleKind::Topic));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let bad = ArticleInput {
            kind: "bulletin".into(),
            title: " ".into(),
            channels: vec![],
            body: "<script>x()</script>".into(),
            starts_on: "31/12/2026".into(),
            publish_at: "2026-12-20T09:00".into(),
            unpublish_at: "2026-12-19T09:00".into(),
            ..ArticleInput::default()
        };
        let errors = parse(&bad).unwrap_err();
        let codes: Vec<(&str, &str)> = errors.iter().map(|e| (e.field, e.code)).collect();
        for want in [
            ("title", "required"),
            ("channels", "required"),
            ("body", "required"),
            ("body", "unsafe_removed"),
            ("unpublish_at", "before_publish"),
            ("starts_on", "invalid_date"),
        ] {
            assert!(codes.contains(&want), "{want:?} missing from {codes:?}");
        }
    }
}
