//! How an article is shown: the same view for citizens (the approved
//! version) and for the staff preview (the working copy), and the editor's
//! fields filled from a stored article.

use askama::Template;
use chrono::NaiveDate;
use zhiban_domain::catalog::CatalogSnapshot;
use zhiban_domain::content::files::{ArticleFile, FileRole};
use zhiban_domain::content::reading::{Detail, Item, Live, PolicyLinks};
use zhiban_domain::content::{
    ArticleInput, ArticleKind, Channel, KindFields, Validity, WantedStatus,
};
use zhiban_domain::time;

/// An article's page: for citizens, and as the staff preview (the working
/// copy, marked, at desktop or phone width).
#[derive(Template)]
#[template(path = "public/content/article.html")]
pub struct ArticlePage {
    pub ctx: crate::view::PageCtx,
    pub a: ArticleView,
    pub preview: bool,
    pub phone: bool,
    pub meta: crate::view::meta::Meta,
}

/// One article as its page shows it.
#[derive(Debug, Clone)]
pub struct ArticleView {
    pub id: i64,
    pub title: String,
    pub summary: String,
    /// Cleaned when it was stored (`content::rich_text`): printed as is.
    pub body: String,
    pub source: String,
    pub kind: ArticleKind,
    pub site_code: String,
    pub site_name: String,
    /// The first channel, for the breadcrumbs: (site code, code, name).
    pub channel: Option<(String, String, String)>,
    /// Beijing date of first publication.
    pub published: String,
    /// Beijing date the version shown was approved, when later.
    pub updated: Option<String>,
    pub fields: KindFields,
    /// A 便民公告 now: `upcoming`, `ongoing` or `ended`.
    pub period: Option<&'static str>,
    /// A policy's or an interpretation's links.
    pub links: Links,
    /// The version's files: attachments, pictures, videos and captions.
    pub files: Vec<ArticleFile>,
    /// Where its files and picture are served from: `/articles/{id}` for
    /// citizens, the editor's address in a preview.
    pub base: String,
}

impl ArticleView {
    /// An interpretation's 一图读懂 picture, beside its files.
    pub fn graphic(&self) -> Option<String> {
        (self.kind == ArticleKind::Interpretation).then(|| format!("{}/graphic.svg", self.base))
    }
}

impl ArticleView {
    pub fn attachments(&self) -> Vec<&ArticleFile> {
        self.of_role(FileRole::Attachment)
    }
    pub fn pictures(&self) -> Vec<&ArticleFile> {
        self.of_role(FileRole::Image)
    }
    pub fn videos(&self) -> Vec<&ArticleFile> {
        self.of_role(FileRole::Video)
    }
    /// A video's captions file.
    pub fn captions_of(&self, video: &ArticleFile) -> Option<&ArticleFile> {
        self.files
            .iter()
            .find(|f| f.parent_id == Some(video.id) && f.role() == Some(FileRole::Captions))
    }
    /// The address of one of its files.
    pub fn file_url(&self, f: &ArticleFile) -> String {
        format!("{}/files/{}", self.base, f.id)
    }
    fn of_role(&self, role: FileRole) -> Vec<&ArticleFile> {
        self.files
            .iter()
            .filter(|f| f.role() == Some(role))
            .collect()
    }
    /// A 通缉令's status.
    pub fn wanted(&self) -> Option<WantedStatus> {
        WantedStatus::from_slug(&self.fields.wanted_status)
    }
    /// "PDF，1.2 MB"
    pub fn file_facts(&self, f: &ArticleFile) -> String {
        format!(
            "{}，{}",
            f.type_label(),
            crate::view::form::size_text(f.size)
        )
    }
}

/// What a policy page links to (and an interpretation's policy).
#[derive(Debug, Clone, Default)]
pub struct Links {
    pub validity: Option<Validity>,
    /// The document that replaced this one: (id, title).
    pub replaced_by: Option<(i64, String)>,
    pub interpretations: Vec<ListItem>,
    /// Published services it governs: (code, name).
    pub services: Vec<(String, String)>,
    /// An interpretation's policy: (id, title).
    pub policy: Option<(i64, String)>,
}

impl Links {
    pub fn of(
        fields: &KindFields,
        links: &PolicyLinks,
        catalog: &CatalogSnapshot,
        now: i64,
    ) -> Self {
        Links {
            validity: Validity::from_slug(&fields.validity),
            replaced_by: links.replaced_by.as_ref().map(|i| (i.id, i.title.clone())),
            interpretations: list_items(&links.interpretations, now),
            services: fields
                .services
                .iter()
                .filter_map(|c| catalog.get(c).map(|s| (s.code.clone(), s.name.clone())))
                .collect(),
            policy: links.policy.as_ref().map(|i| (i.id, i.title.clone())),
        }
    }
}

fn day_of(at: i64) -> String {
    time::local_day(at).to_string()
}

/// Where a 便民公告's period stands on `today`.
pub fn period(f: &KindFields, today: NaiveDate) -> Option<&'static str> {
    let start = f.starts_on?;
    Some(if today < start {
        "upcoming"
    } else if f.ends_on.is_some_and(|e| today > e) {
        "ended"
    } else {
        "ongoing"
    })
}

fn today(now: i64) -> NaiveDate {
    time::local_day(now)
}

impl ArticleView {
    pub fn of_live(a: &Live, now: i64) -> Self {
        let published = day_of(a.published_at);
        let updated = Some(day_of(a.updated_at)).filter(|u| *u != published);
        ArticleView {
            id: a.id,
            title: a.title.clone(),
            summary: a.summary.clone(),
            body: a.body.clone(),
            source: a.source.clone(),
            kind: a.kind,
            site_code: a.site_code.clone(),
            site_name: a.site_name.clone(),
            channel: a
                .channels
                .iter()
                .find(|c| c.0 == a.site_code)
                .or(a.channels.first())
                .cloned(),
            published,
            updated,
            period: period(&a.fields, today(now)),
            fields: a.fields.clone(),
            links: Links::default(),
            files: Vec::new(),
            base: format!("/articles/{}", a.id),
        }
    }

    /// The working copy, as it would read if approved now.
    pub fn of_draft(d: &Detail, channels: &[Channel], now: i64) -> Self {
        let channel = d
            .channels
            .iter()
            .filter_map(|id| channels.iter().find(|c| c.id == *id))
            .find(|c| c.site_id == d.site.id)
            .map(|c| (c.site_code.clone(), c.code.clone(), c.name.clone()));
        ArticleView {
            id: d.id,
            title: d.title.clone(),
            summary: d.summary.clone(),
            body: d.body.clone(),
            source: d.source.clone(),
            kind: d.kind,
            site_code: d.site.code.clone(),
            site_name: d.site.name.clone(),
            channel,
            published: day_of(d.publish_at.filter(|t| *t > now).unwrap_or(now)),
            updated: None,
            period: period(&d.fields, today(now)),
            fields: d.fields.clone(),
            links: Links::default(),
            files: Vec::new(),
            base: format!("/admin/content/{}", d.id),
        }
    }
}

/// A line of a list on a public page.
#[derive(Debug, Clone)]
pub struct ListItem {
    pub id: i64,
    pub title: String,
    pub date: String,
    pub period: Option<&'static str>,
    /// A 通缉令's status (在逃, 已抓获, 已撤销).
    pub wanted: Option<WantedStatus>,
}

pub fn list_items(items: &[Item], now: i64) -> Vec<ListItem> {
    let today = today(now);
    items
        .iter()
        .map(|i| ListItem {
            id: i.id,
            title: i.title.clone(),
            date: day_of(i.published_at),
            period: period(&i.fields, today),
            wanted: WantedStatus::from_slug(&i.fields.wanted_status),
        })
        .collect()
}

/// The editor's fields from a stored article (times in Beijing time).
pub fn local_input(d: &Detail) -> ArticleInput {
    let at = |t: Option<i64>| {
        let s = t.map(time::local_time).unwrap_or_default();
        // "2026-12-20 09:00:00" → "2026-12-20T09:00"
        match (s.get(..10), s.get(11..16)) {
            (Some(day), Some(hm)) => format!("{day}T{hm}"),
            _ => String::new(),
        }
    };
    ArticleInput {
        site: d.site.code.clone(),
        kind: d.kind.slug().into(),
        channels: d.channels.clone(),
        title: d.title.clone(),
        summary: d.summary.clone(),
        body: d.body.clone(),
        source: d.source.clone(),
        publish_at: at(d.publish_at),
        unpublish_at: at(d.unpublish_at),
        starts_on: d
            .fields
            .starts_on
            .map(|x| x.to_string())
            .unwrap_or_default(),
        ends_on: d.fields.ends_on.map(|x| x.to_string()).unwrap_or_default(),
        area: d.fields.area.clone(),
        doc_number: d.fields.doc_number.clone(),
        issuer: d.fields.issuer.clone(),
        written_on: d
            .fields
            .written_on
            .map(|x| x.to_string())
            .unwrap_or_default(),
        topic: d.fields.topic.clone(),
        validity: d.fields.validity.clone(),
        replaced_by: d
            .fields
            .replaced_by
            .map(|x| x.to_string())
            .unwrap_or_default(),
        services: d.fields.services.join(" "),
        policy: d.fields.policy.map(|x| x.to_string()).unwrap_or_default(),
        reward: d.fields.reward.clone(),
        wanted_status: d.fields.wanted_status.clone(),
        status_on: d
            .fields
            .status_on
            .map(|x| x.to_string())
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bulletin_is_upcoming_ongoing_then_ended() {
        let f = KindFields {
            starts_on: NaiveDate::from_ymd_opt(2026, 12, 31),
            ends_on: NaiveDate::from_ymd_opt(2027, 1, 1),
            ..KindFields::default()
        };
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap_or_default();
        assert_eq!(period(&f, d(12, 30)), Some("upcoming"));
        assert_eq!(period(&f, d(12, 31)), Some("ongoing"));
        assert_eq!(
            period(&f, NaiveDate::from_ymd_opt(2027, 1, 2).unwrap_or_default()),
            Some("ended")
        );
        assert_eq!(period(&KindFields::default(), d(12, 30)), None);
    }
}
