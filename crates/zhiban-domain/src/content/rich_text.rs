//! Article bodies: what editors type (plain text from the no-JavaScript
//! editor, or HTML from the rich editor, often pasted from Word or WPS)
//! becomes HTML that is safe to show. Everything stored has been through
//! [`clean`]; pages print it as it is.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use ammonia::{Builder, UrlRelative};

use crate::FieldError;

/// What a government article needs: headings, paragraphs, lists, tables,
/// images, links and emphasis. No styles, classes, scripts, frames or forms.
static CLEANER: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let tags: HashSet<&str> = [
        "h1",
        "h2",
        "h3",
        "h4",
        "p",
        "br",
        "hr",
        "strong",
        "b",
        "em",
        "i",
        "u",
        "sub",
        "sup",
        "ul",
        "ol",
        "li",
        "blockquote",
        "table",
        "caption",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "th",
        "td",
        "a",
        "img",
        "figure",
        "figcaption",
    ]
    .into();
    let attrs: HashMap<&str, HashSet<&str>> = [
        ("a", ["href", "title"].into()),
        ("img", ["src", "alt", "width", "height"].into()),
        ("th", ["colspan", "rowspan", "scope"].into()),
        ("td", ["colspan", "rowspan"].into()),
        ("ol", ["start"].into()),
    ]
    .into();
    let mut b = Builder::empty();
    b.tags(tags)
        .tag_attributes(attrs)
        .url_schemes(["http", "https", "mailto", "tel"].into())
        .url_relative(UrlRelative::PassThrough)
        .link_rel(Some("noopener noreferrer"))
        .clean_content_tags(["script", "style", "title", "xml", "head"].into())
        .strip_comments(true);
    b
});

/// The cleaned body and what was removed that the editor should know of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleaned {
    pub html: String,
    /// Scripts, event handlers, frames or `javascript:` links were removed.
    pub removed_unsafe: bool,
}

/// Turns what an editor typed into safe HTML. Text without markup (the
/// plain editor) becomes paragraphs, one per blank-line-separated block,
/// with single line breaks kept.
pub fn clean(input: &str) -> Cleaned {
    let input = input.trim();
    if !looks_like_html(input) {
        return Cleaned {
            html: paragraphs(input),
            removed_unsafe: false,
        };
    }
    let html = CLEANER.clean(input).to_string();
    // The page's title is its only h1: headings inside the body start at h2.
    let html = html.replace("<h1>", "<h2>").replace("</h1>", "</h2>");
    Cleaned {
        removed_unsafe: has_unsafe(input),
        html,
    }
}

/// The problems of a cleaned body: empty, or images without a text
/// alternative (WCAG 1.1.1: every image needs alt text an editor wrote).
pub fn check(html: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if text_of(html).trim().is_empty() && !html.contains("<img") {
        errors.push(FieldError::new("body", "required", ""));
    }
    let missing = images_without_alt(html);
    if missing > 0 {
        errors.push(FieldError::new(
            "body",
            "image_alt_missing",
            missing.to_string(),
        ));
    }
    errors
}

/// Plain text of an HTML body: for summaries, search and feeds.
pub fn text_of(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let text = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first `chars` characters of the body's text, for lists and feeds.
pub fn excerpt(html: &str, chars: usize) -> String {
    let text = text_of(html);
    if text.chars().count() <= chars {
        return text;
    }
    let mut s: String = text.chars().take(chars).collect();
    s.push('…');
    s
}

fn looks_like_html(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    [
        "<p",
        "<br",
        "<h1",
        "<h2",
        "<h3",
        "<h4",
        "<ul",
        "<ol",
        "<li",
        "<table",
        "<div",
        "<span",
        "<img",
        "<a ",
        "<strong",
        "<b>",
        "<em",
        "<script",
        "<iframe",
        "<style",
        "<blockquote",
        "<o:p",
        "<font",
        "<section",
        "<article",
    ]
    .iter()
    .any(|t| lower.contains(t))
}

fn has_unsafe(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    if [
        "<script",
        "<iframe",
        "<object",
        "<embed",
        "javascript:",
        "vbscript:",
        "<form",
    ]
    .iter()
    .any(|t| lower.contains(t))
    {
        return true;
    }
    // An event handler attribute: on…= inside a tag.
    let bytes = lower.as_bytes();
    let mut in_tag = false;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'<' => in_tag = true,
            b'>' => in_tag = false,
            b'o' if in_tag
                && i > 0
                && bytes[i - 1].is_ascii_whitespace()
                && bytes.get(i + 1) == Some(&b'n') =>
            {
                let rest = &bytes[i + 2..];
                let name_len = rest.iter().take_while(|c| c.is_ascii_alphabetic()).count();
                let after = rest[name_len..].iter().find(|c| !c.is_ascii_whitespace());
                if name_len > 0 && after == Some(&b'=') {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

fn paragraphs(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let lines: Vec<String> = p.lines().map(|l| escape(l.trim())).collect();
            format!("<p>{}</p>", lines.join("<br>"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Images of cleaned HTML whose `alt` is missing or blank.
fn images_without_alt(html: &str) -> usize {
    html.match_indices("<img")
        .filter(|(i, _)| {
            let tag = &html[*i..];
            let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
            match tag.find("alt=\"") {
                None => true,
                Some(a) => {
                    let value = &tag[a + 5..];
                    value[..value.find('"').unwrap_or(0)].trim().is_empty()
                }
            }
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_handlers_and_javascript_links_are_removed_and_reported() {
        let c = clean(
            r#"<p onclick="steal()">通知</p><script>alert(1)</script><a href="javascript:alert(1)">点此</a><img src="x.png" alt="图" onerror="x()">"#,
        );
        assert!(c.removed_unsafe);
        assert!(!c.html.contains("script"), "{}", c.html);
        assert!(
            !c.html.contains("onclick") && !c.html.contains("onerror"),
            "{}",
            c.html
        );
        assert!(!c.html.contains("javascript"), "{}", c.html);
        assert!(c.html.contains("<p>通知</p>"), "{}", c.html);
        let ok = clean("<p>关于 <strong>2026 年</strong> 春节期间道路交通管制的通告</p>");
        assert!(!ok.removed_unsafe);
        // A word that merely starts with "on" inside text is not a handler.
        assert!(!clean("<p>online = 网上办</p>").removed_unsafe);
    }

    #[test]
    fn word_and_wps_paste_keeps_headings_lists_tables_and_drops_their_styles() {
        let word = r#"<html><head><style>p.MsoNormal{margin:0}</style></head><body>
            <h1 class="MsoTitle" style="font-size:22pt">一、适用对象</h1>
            <p class="MsoNormal" style="mso-line-height:150%"><span style="font-family:仿宋">在本市登记注册的企业。<o:p></o:p></span></p>
            <ol><li>申请表</li><li>营业执照</li></ol>
            <table border="1" style="width:100%"><tr><th colspan="2">补贴标准</th></tr><tr><td>每人</td><td>1000 元</td></tr></table>
            <!-- [if gte mso 9]><xml>junk</xml><![endif] --></body></html>"#;
        let c = clean(word);
        assert!(c.html.contains("<h2>一、适用对象</h2>"), "{}", c.html);
        assert!(
            c.html.contains("<ol><li>申请表</li><li>营业执照</li></ol>"),
            "{}",
            c.html
        );
        assert!(
            c.html.contains(r#"<th colspan="2">补贴标准</th>"#),
            "{}",
            c.html
        );
        for junk in ["style", "class", "Mso", "o:p", "junk", "<span"] {
            assert!(!c.html.contains(junk), "{junk} left in {}", c.html);
        }
    }

    #[test]
    fn plain_text_becomes_escaped_paragraphs() {
        let c = clean("第一段\n第二行 <5000 元 & 以上\n\n第二段");
        assert_eq!(
            c.html,
            "<p>第一段<br>第二行 &lt;5000 元 &amp; 以上</p>\n<p>第二段</p>"
        );
    }

    #[test]
    fn images_need_alt_text_and_a_body_needs_text() {
        let c = clean(
            r#"<p>现场</p><img src="/files/a.jpg"><img src="/files/b.jpg" alt="  "><img src="/files/c.jpg" alt="交警在路口指挥交通">"#,
        );
        let errors = check(&c.html);
        assert_eq!(
            errors,
            vec![FieldError::new("body", "image_alt_missing", "2")]
        );
        assert_eq!(
            check(&clean("<p> </p>").html),
            vec![FieldError::new("body", "required", "")]
        );
    }

    #[test]
    fn excerpts_are_plain_text_of_the_right_length() {
        let html = "<h2>标题</h2><p>渝州市 &amp; 公安局发布 &lt;通告&gt;</p>";
        assert_eq!(text_of(html), "标题 渝州市 & 公安局发布 <通告>");
        assert_eq!(excerpt(html, 5), "标题 渝州…");
    }
}
