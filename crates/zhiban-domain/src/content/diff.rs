//! What changed between two versions of an article, as a reviewer reads
//! it: each field that differs, the body paragraph by paragraph with the
//! changed characters marked (Chinese has no spaces, so words would not
//! do), and the files added or removed.

use similar::{Algorithm, ChangeTag, DiffOp, TextDiff, capture_diff_slices};

use super::files::{self, ArticleFile};
use super::reading::Detail;
use super::{KindFields, rich_text};
use crate::{Db, DomainError};

/// A piece of a changed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Same(String),
    Removed(String),
    Added(String),
}

/// One line (a paragraph, a field, a file) of the comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Same(String),
    Removed(String),
    Added(String),
    /// Changed in place: the old and the new text with the changes marked.
    Changed {
        old: Vec<Part>,
        new: Vec<Part>,
    },
}

impl Line {
    pub fn is_same(&self) -> bool {
        matches!(self, Line::Same(_))
    }
}

/// The comparison of one part of the article (标题, 正文 …).
#[derive(Debug, Clone)]
pub struct Section {
    /// A translation key under `field.` (title, body, files …).
    pub field: &'static str,
    pub lines: Vec<Line>,
}

impl Section {
    pub fn changed(&self) -> bool {
        self.lines.iter().any(|l| !l.is_same())
    }
}

/// Two versions compared.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub from: i64,
    pub to: i64,
    pub sections: Vec<Section>,
}

impl Comparison {
    pub fn any_change(&self) -> bool {
        self.sections.iter().any(Section::changed)
    }
}

/// Paragraphs of a stored body: each block element, list item and table
/// row on a line of its own.
pub fn paragraphs(html: &str) -> Vec<String> {
    let mut marked = html.to_string();
    for end in [
        "</p>",
        "</h1>",
        "</h2>",
        "</h3>",
        "</h4>",
        "</li>",
        "</tr>",
        "</blockquote>",
        "<br>",
        "<br/>",
        "<br />",
    ] {
        marked = marked.replace(end, &format!("{end}\u{1}"));
    }
    marked
        .split('\u{1}')
        .map(rich_text::text_of)
        .filter(|t| !t.is_empty())
        .collect()
}

/// Line by line, with changed lines compared character by character.
pub fn lines(old: &[String], new: &[String]) -> Vec<Line> {
    let ops = capture_diff_slices(Algorithm::Patience, old, new);
    let mut out = Vec::new();
    for op in ops {
        match op {
            DiffOp::Equal { old_index, len, .. } => {
                out.extend(
                    old[old_index..old_index + len]
                        .iter()
                        .cloned()
                        .map(Line::Same),
                );
            }
            DiffOp::Delete {
                old_index, old_len, ..
            } => out.extend(
                old[old_index..old_index + old_len]
                    .iter()
                    .cloned()
                    .map(Line::Removed),
            ),
            DiffOp::Insert {
                new_index, new_len, ..
            } => out.extend(
                new[new_index..new_index + new_len]
                    .iter()
                    .cloned()
                    .map(Line::Added),
            ),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                let olds = &old[old_index..old_index + old_len];
                let news = &new[new_index..new_index + new_len];
                // Pair lines up in order; the rest were removed or added.
                for i in 0..olds.len().max(news.len()) {
                    match (olds.get(i), news.get(i)) {
                        (Some(o), Some(n)) => out.push(changed(o, n)),
                        (Some(o), None) => out.push(Line::Removed(o.clone())),
                        (None, Some(n)) => out.push(Line::Added(n.clone())),
                        (None, None) => {}
                    }
                }
            }
        }
    }
    out
}

/// One line changed in place, its characters compared.
fn changed(old: &str, new: &str) -> Line {
    let diff = TextDiff::from_chars(old, new);
    let mut o: Vec<Part> = Vec::new();
    let mut n: Vec<Part> = Vec::new();
    let push = |parts: &mut Vec<Part>, part: Part| match (parts.last_mut(), &part) {
        (Some(Part::Same(a)), Part::Same(b))
        | (Some(Part::Removed(a)), Part::Removed(b))
        | (Some(Part::Added(a)), Part::Added(b)) => a.push_str(b),
        _ => parts.push(part),
    };
    for c in diff.iter_all_changes() {
        let s = c.value().to_string();
        match c.tag() {
            ChangeTag::Equal => {
                push(&mut o, Part::Same(s.clone()));
                push(&mut n, Part::Same(s));
            }
            ChangeTag::Delete => push(&mut o, Part::Removed(s)),
            ChangeTag::Insert => push(&mut n, Part::Added(s)),
        }
    }
    Line::Changed { old: o, new: n }
}

/// The fields of a version, one line each (文号, 有效性 …).
fn field_lines(f: &KindFields) -> Vec<String> {
    let json = serde_json::to_value(f).unwrap_or_default();
    json.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => format!("{k}: {s}"),
                    other => format!("{k}: {other}"),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A stored version's text.
struct Text {
    title: String,
    summary: String,
    body: String,
    source: String,
    fields: KindFields,
}

async fn version(db: &Db, id: i64, v: i64) -> Result<Text, DomainError> {
    let row: Option<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT title, summary, body, source, fields FROM article_versions \
         WHERE article_id = $1 AND version = $2",
    )
    .bind(id)
    .bind(v)
    .fetch_optional(db.pool())
    .await?;
    let (title, summary, body, source, fields) = row.ok_or(DomainError::NotFound)?;
    Ok(Text {
        title,
        summary,
        body,
        source,
        fields: KindFields::from_json(&fields),
    })
}

/// Compares versions `from` and `to` of an article the person may see
/// (`detail` was read with their scope).
pub async fn compare(
    db: &Db,
    detail: &Detail,
    from: i64,
    to: i64,
) -> Result<Comparison, DomainError> {
    let (a, b) = (
        version(db, detail.id, from).await?,
        version(db, detail.id, to).await?,
    );
    let one = |s: &str| {
        if s.trim().is_empty() {
            Vec::new()
        } else {
            vec![s.trim().to_string()]
        }
    };
    let all: Vec<ArticleFile> = files::all_of(db, detail.id).await?;
    let sections = vec![
        Section {
            field: "title",
            lines: lines(&one(&a.title), &one(&b.title)),
        },
        Section {
            field: "summary",
            lines: lines(&one(&a.summary), &one(&b.summary)),
        },
        Section {
            field: "source",
            lines: lines(&one(&a.source), &one(&b.source)),
        },
        Section {
            field: "kind_fields",
            lines: lines(&field_lines(&a.fields), &field_lines(&b.fields)),
        },
        Section {
            field: "body",
            lines: lines(&paragraphs(&a.body), &paragraphs(&b.body)),
        },
        Section {
            field: "files",
            lines: lines(&files::describe(&all, from), &files::describe(&all, to)),
        },
    ];
    Ok(Comparison { from, to, sections })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn paragraphs_come_from_blocks_items_and_rows() {
        let html = "<h2>一、补贴标准</h2><p>每人每月 <strong>500</strong> 元。</p>\
                    <ul><li>甲</li><li>乙</li></ul><table><tr><td>项目</td><td>金额</td></tr></table>";
        assert_eq!(
            paragraphs(html),
            v(&["一、补贴标准", "每人每月 500 元。", "甲", "乙", "项目 金额"])
        );
    }

    #[test]
    fn a_changed_paragraph_marks_the_changed_characters() {
        let old = v(&["第一段。", "补贴标准为每人每月500元。", "咨询电话12345。"]);
        let new = v(&[
            "第一段。",
            "补贴标准为每人每月800元。",
            "咨询电话12345。",
            "新增一段。",
        ]);
        let d = lines(&old, &new);
        assert_eq!(d[0], Line::Same("第一段。".into()));
        assert_eq!(
            d[1],
            Line::Changed {
                old: vec![
                    Part::Same("补贴标准为每人每月".into()),
                    Part::Removed("5".into()),
                    Part::Same("00元。".into()),
                ],
                new: vec![
                    Part::Same("补贴标准为每人每月".into()),
                    Part::Added("8".into()),
                    Part::Same("00元。".into()),
                ],
            }
        );
        assert_eq!(d[2], Line::Same("咨询电话12345。".into()));
        assert_eq!(d[3], Line::Added("新增一段。".into()));
    }

    #[test]
    fn removed_lines_and_unchanged_sections() {
        let d = lines(&v(&["甲", "乙"]), &v(&["甲"]));
        assert_eq!(d, vec![Line::Same("甲".into()), Line::Removed("乙".into())]);
        let s = Section {
            field: "title",
            lines: lines(&v(&["同"]), &v(&["同"])),
        };
        assert!(!s.changed());
    }
}
