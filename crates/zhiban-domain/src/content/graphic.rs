//! 一图读懂: an interpretation drawn as one tall picture (SVG) people share
//! on their phones, built from the interpretation's own sections (适用对象,
//! 补贴标准, 申请条件 … as the editor corrected them). The picture names
//! itself (`<title>`, `<desc>`) and the page carries the same words as
//! text, so nothing is only in the image.

use super::aids;
use super::diff::paragraphs;

/// One box of the picture: its heading and its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panel {
    pub heading: String,
    pub items: Vec<String>,
}

const WIDTH: u32 = 750;
const MARGIN: u32 = 32;
const TEXT: u32 = 26;
const LINE: u32 = 40;
/// Characters per line inside a box (CJK characters are about one em).
const PER_LINE: usize = 24;
const MAX_PANELS: usize = 8;
const MAX_ITEMS: usize = 5;

/// The panels of an interpretation: each `<h2>`/`<h3>` heading with the
/// paragraphs and list items under it; a body without headings falls back
/// to the key points found in its sentences.
pub fn panels(body: &str) -> Vec<Panel> {
    let mut out: Vec<Panel> = Vec::new();
    let mut rest = body;
    let mut found_heading = false;
    while let Some(start) = find_heading(rest) {
        found_heading = true;
        let after = &rest[start..];
        let close = after.find("</h").unwrap_or(after.len());
        let open_end = after.find('>').map_or(0, |i| i + 1);
        let heading = strip_number(&super::rich_text::text_of(&after[open_end..close]));
        let tail = &after[close..];
        let tail = tail.find('>').map_or(tail, |i| &tail[i + 1..]);
        let next = find_heading(tail).unwrap_or(tail.len());
        let items: Vec<String> = paragraphs(&tail[..next])
            .into_iter()
            .take(MAX_ITEMS)
            .collect();
        if !heading.is_empty() && !items.is_empty() {
            out.push(Panel { heading, items });
        }
        rest = &tail[next..];
    }
    if !found_heading {
        // "二、适用对象：……" paragraphs name their own sections.
        let labelled: Vec<Panel> = paragraphs(body)
            .iter()
            .filter_map(|p| labelled(p))
            .collect();
        if labelled.len() >= 2 {
            out = labelled;
            out.truncate(MAX_PANELS);
            return out;
        }
        let k = aids::key_points(body);
        let mut seen: Vec<String> = Vec::new();
        for (heading, list) in [
            ("适用对象", k.applies_to),
            ("支持内容", k.support),
            ("补贴标准", k.amounts),
            ("申请条件", k.conditions),
            ("办理时限", k.time_limits),
            ("办理渠道", k.channels),
            ("咨询电话", k.phones),
        ] {
            // Each sentence once, under the first question it answers.
            let items: Vec<String> = list
                .into_iter()
                .filter(|x| !seen.contains(x))
                .take(MAX_ITEMS)
                .collect();
            seen.extend(items.iter().cloned());
            if !items.is_empty() {
                out.push(Panel {
                    heading: heading.to_string(),
                    items,
                });
            }
        }
    }
    out.truncate(MAX_PANELS);
    out
}

/// "二、适用对象：居家……" → a panel "适用对象" with the rest.
fn labelled(p: &str) -> Option<Panel> {
    let (head, rest) = p.split_once(['：', ':'])?;
    let label = strip_number(head);
    let numbered = label != head.trim();
    let short = (2..=8).contains(&label.chars().count());
    (numbered && short && !rest.trim().is_empty()).then(|| Panel {
        heading: label,
        items: vec![rest.trim().to_string()],
    })
}

fn find_heading(s: &str) -> Option<usize> {
    [s.find("<h2"), s.find("<h3")].into_iter().flatten().min()
}

/// "二、适用对象" → "适用对象"; "（一）" and "1." numbering too.
fn strip_number(s: &str) -> String {
    let t = s.trim();
    for sep in ['、', '．', '.'] {
        if let Some((head, tail)) = t.split_once(sep)
            && head.chars().count() <= 3
            && head
                .chars()
                .all(|c| c.is_ascii_digit() || "一二三四五六七八九十（）()".contains(c))
        {
            return tail.trim().to_string();
        }
    }
    t.trim_start_matches(['（', '('])
        .trim_start_matches(|c: char| "一二三四五六七八九十".contains(c))
        .trim_start_matches(['）', ')'])
        .trim()
        .to_string()
}

/// Lines of at most `n` characters (a Latin run counts by half).
fn wrap(text: &str, n: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    let mut width = 0.0_f32;
    for c in text.chars() {
        let w = if c.is_ascii() { 0.55 } else { 1.0 };
        if width + w > n as f32 {
            lines.push(std::mem::take(&mut cur));
            width = 0.0;
        }
        cur.push(c);
        width += w;
    }
    if !cur.trim().is_empty() {
        lines.push(cur);
    }
    lines
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The picture: a banner with the title, then one box per panel.
pub fn svg(title: &str, source: &str, body: &str) -> String {
    let panels = panels(body);
    let bare = [
        "政策解读：",
        "一图读懂｜",
        "一图读懂：",
        "一图读懂|",
        "解读：",
    ]
    .iter()
    .fold(title, |t, p| t.trim_start_matches(p));
    let title_lines = wrap(bare, 20);
    let mut parts: Vec<String> = Vec::new();
    let mut y = 0;
    // Banner.
    let banner = 120 + title_lines.len() as u32 * 46;
    parts.push(format!(
        r##"<rect x="0" y="0" width="{WIDTH}" height="{banner}" fill="#b4161b"/><text x="{MARGIN}" y="64" font-size="40" font-weight="700" fill="#ffd54a">一图读懂</text>"##
    ));
    for (i, l) in title_lines.iter().enumerate() {
        parts.push(format!(
            r##"<text x="{MARGIN}" y="{}" font-size="34" font-weight="700" fill="#ffffff">{}</text>"##,
            118 + i as u32 * 46,
            xml(l)
        ));
    }
    y += banner + 24;
    for (n, p) in panels.iter().enumerate() {
        let mut lines: Vec<(bool, String)> = Vec::new();
        for item in &p.items {
            for (i, l) in wrap(item, PER_LINE).into_iter().enumerate() {
                lines.push((i == 0, l));
            }
        }
        let h = 72 + lines.len() as u32 * LINE + 16;
        let fill = if n % 2 == 0 { "#e8f0fb" } else { "#fff8e6" };
        parts.push(format!(
            r##"<rect x="{MARGIN}" y="{y}" width="{}" height="{h}" rx="14" fill="{fill}" stroke="#0d3b80" stroke-width="2"/><rect x="{MARGIN}" y="{y}" width="{}" height="56" rx="14" fill="#0d3b80"/><text x="{}" y="{}" font-size="30" font-weight="700" fill="#ffffff">{}</text>"##,
            WIDTH - 2 * MARGIN,
            WIDTH - 2 * MARGIN,
            MARGIN + 24,
            y + 39,
            xml(&p.heading)
        ));
        let mut ly = y + 56 + LINE;
        for (first, l) in &lines {
            if *first {
                parts.push(format!(
                    r##"<circle cx="{}" cy="{}" r="5" fill="#b4161b"/>"##,
                    MARGIN + 28,
                    ly - 9
                ));
            }
            parts.push(format!(
                r##"<text x="{}" y="{ly}" font-size="{TEXT}" fill="#1d2129">{}</text>"##,
                MARGIN + 44,
                xml(l)
            ));
            ly += LINE;
        }
        y += h + 24;
    }
    let foot = if source.trim().is_empty() {
        "演示数据 · 以政策原文为准".to_string()
    } else {
        format!("来源：{} · 以政策原文为准", source.trim())
    };
    parts.push(format!(
        r##"<text x="{MARGIN}" y="{}" font-size="22" fill="#4e5969">{}</text>"##,
        y + 20,
        xml(&foot)
    ));
    let height = y + 56;
    let desc: Vec<String> = panels
        .iter()
        .map(|p| format!("{}：{}", p.heading, p.items.join("；")))
        .collect();
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="g-title g-desc" font-family="Noto Sans CJK SC, Noto Sans SC, PingFang SC, Microsoft YaHei, sans-serif"><title id="g-title">一图读懂：{}</title><desc id="g-desc">{}</desc><rect width="100%" height="100%" fill="#ffffff"/>{}</svg>"##,
        xml(title),
        xml(&desc.join("。")),
        parts.join("")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const READING: &str = "<h2>一、政策要点</h2><ul><li>大型企业返还30%，中小微企业返还60%。</li></ul>\
        <h2>二、适用对象</h2><ul><li>参加失业保险且上年度未裁员的参保企业。</li></ul>\
        <h2>三、咨询电话</h2><p>咨询电话：12333。</p>";

    #[test]
    fn panels_follow_the_edited_headings() {
        let p = panels(READING);
        assert_eq!(
            p.iter().map(|x| x.heading.as_str()).collect::<Vec<_>>(),
            ["政策要点", "适用对象", "咨询电话"]
        );
        assert_eq!(p[2].items, ["咨询电话：12333。"]);
    }

    #[test]
    fn numbered_paragraphs_name_their_panels() {
        let p = panels(
            "<p>一、背景依据：市民政局印发通知。</p><p>二、适用对象：60周岁以上老年人。</p><p>三、补贴标准：每人每月300元。</p>",
        );
        assert_eq!(
            p.iter().map(|x| x.heading.as_str()).collect::<Vec<_>>(),
            ["背景依据", "适用对象", "补贴标准"]
        );
        assert_eq!(p[2].items, ["每人每月300元。"]);
        let s = svg(
            "一图读懂｜养老补贴",
            "",
            "<p>一、适用对象：老人。</p><p>二、补贴标准：300元。</p>",
        );
        assert!(
            s.contains(">养老补贴</text>"),
            "the title is not said twice"
        );
    }

    #[test]
    fn without_headings_the_key_points_make_the_panels() {
        let p = panels("<p>返还对象为上年度未裁员的参保企业。</p><p>中小微企业按60%返还。</p>");
        assert!(
            p.iter()
                .any(|x| x.heading == "补贴标准" && x.items[0].contains("60%"))
        );
    }

    #[test]
    fn the_picture_names_itself_wraps_long_lines_and_escapes_text() {
        let s = svg("政策解读：稳岗返还<通知>", "渝州市人力社保局", READING);
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        assert!(
            s.contains("<title id=\"g-title\">一图读懂：政策解读：稳岗返还&lt;通知&gt;</title>")
        );
        assert!(
            s.contains("适用对象：参加失业保险且上年度未裁员的参保企业。"),
            "the description says it all"
        );
        assert!(!s.contains("<通知>"));
        let long = "一".repeat(60);
        assert_eq!(wrap(&long, 24).len(), 3);
        assert_eq!(strip_number("（二）申请条件"), "申请条件");
        assert_eq!(strip_number("3. 办理渠道"), "办理渠道");
    }
}
