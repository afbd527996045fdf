//! What a page tells other software about itself: Open Graph tags for
//! link previews, schema.org JSON-LD (GovernmentService on guides,
//! NewsArticle on articles) and the feeds that follow it.

use serde_json::json;
use zhiban_domain::catalog::ServiceItem;

use crate::view::article::ArticleView;

/// The head of a page that other software reads.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    pub title: String,
    pub description: String,
    /// `website` or `article`.
    pub og_type: &'static str,
    /// Absolute, when the portal's public address is configured; Open
    /// Graph wants absolute URLs, so `og:url` is left out otherwise.
    pub url: Option<String>,
    /// The JSON-LD object, escaped for a `<script>` element.
    pub json_ld: String,
    /// (title, RSS path, Atom path) of feeds that follow this page.
    pub feeds: Vec<(String, String, String)>,
}

/// JSON for a `<script type="application/ld+json">`: no `<`, `>` or `&`
/// survives, so no text can close the element.
pub fn json_ld(v: &serde_json::Value) -> String {
    v.to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

fn absolute(base: Option<&str>, path: &str) -> (Option<String>, String) {
    match base {
        Some(b) => {
            let url = format!("{}{path}", b.trim_end_matches('/'));
            (Some(url.clone()), url)
        }
        None => (None, path.to_string()),
    }
}

/// A guide: a GovernmentService provided by its department.
pub fn for_guide(item: &ServiceItem, base: Option<&str>) -> Meta {
    let (url, id) = absolute(base, &format!("/services/{}", item.code));
    let description = format!(
        "{}：{}。{}",
        item.department_name,
        item.item_type.label(),
        item.conditions.first().cloned().unwrap_or_default()
    );
    Meta {
        json_ld: json_ld(&json!({
            "@context": "https://schema.org",
            "@type": "GovernmentService",
            "name": item.name,
            "serviceType": item.item_type.label(),
            "url": id,
            "description": description,
            "provider": {"@type": "GovernmentOrganization", "name": item.department_name},
            "areaServed": {"@type": "City", "name": "渝州市"},
            "availableChannel": {
                "@type": "ServiceChannel",
                "serviceUrl": id,
                "servicePhone": item.enquiry_phone,
                "availableLanguage": "zh-CN",
            },
        })),
        title: item.name.clone(),
        description,
        og_type: "website",
        url,
        feeds: Vec::new(),
    }
}

/// An article: a NewsArticle published by its site.
pub fn for_article(a: &ArticleView, base: Option<&str>) -> Meta {
    let (url, id) = absolute(base, &format!("/articles/{}", a.id));
    let description = if a.summary.is_empty() {
        zhiban_domain::content::rich_text::excerpt(&a.body, 100)
    } else {
        a.summary.clone()
    };
    Meta {
        json_ld: json_ld(&json!({
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": a.title,
            "url": id,
            "datePublished": a.published,
            "dateModified": a.updated.clone().unwrap_or_else(|| a.published.clone()),
            "articleSection": a.kind.label(),
            "inLanguage": "zh-CN",
            "description": description,
            "publisher": {"@type": "GovernmentOrganization", "name": a.site_name},
            "author": {"@type": "GovernmentOrganization", "name": if a.source.is_empty() { &a.site_name } else { &a.source }},
        })),
        title: a.title.clone(),
        description,
        og_type: "article",
        url,
        feeds: site_feeds(&a.site_code, &a.site_name),
    }
}

/// The feeds of a site.
pub fn site_feeds(site_code: &str, site_name: &str) -> Vec<(String, String, String)> {
    vec![(
        site_name.to_string(),
        format!("/sites/{site_code}/rss.xml"),
        format!("/sites/{site_code}/atom.xml"),
    )]
}

/// A page followed by feeds and nothing else to say.
pub fn feeds_only(feeds: Vec<(String, String, String)>) -> Meta {
    Meta {
        feeds,
        ..Meta::default()
    }
}

#[cfg(test)]
mod tests {
    use super::json_ld;

    #[test]
    fn json_ld_cannot_close_its_script_element() {
        let s = json_ld(&serde_json::json!({"name": "</script><script>alert(1)</script> & 更多"}));
        assert!(
            !s.contains('<') && !s.contains('>') && !s.contains('&'),
            "{s}"
        );
        let back: serde_json::Value = serde_json::from_str(&s).expect("still JSON");
        assert_eq!(back["name"], "</script><script>alert(1)</script> & 更多");
    }
}
