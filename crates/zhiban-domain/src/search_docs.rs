//! What each kind of public content looks like to the search index.

use zhiban_search::SearchDoc;

use crate::catalog::CatalogSnapshot;

/// Every published catalog item as a search document.
pub fn service_docs(catalog: &CatalogSnapshot) -> Vec<SearchDoc> {
    catalog.services.iter().map(|s| service_doc(s)).collect()
}

/// One published item as a search document.
pub fn service_doc(s: &crate::catalog::ServiceItem) -> SearchDoc {
    let mut body = vec![
        s.main_name.clone(),
        s.department_name.clone(),
        s.implementing_body.clone(),
    ];
    // The English name finds it too (its other names go with the title).
    if !s.name_en.is_empty() {
        body.push(s.name_en.clone());
    }
    body.extend(s.life_events.iter().map(|e| e.label().to_string()));
    if let Some(p) = s.police_domain {
        body.push(p.label().to_string());
    }
    body.extend(s.conditions.iter().cloned());
    body.extend(s.materials.iter().map(|m| m.name.clone()));
    SearchDoc {
        kind: "service".into(),
        id: s.code.clone(),
        title: s.name.clone(),
        aliases: s.aliases.clone(),
        body: body.join(" "),
        summary: format!(
            "{} · {}",
            s.department_name,
            s.conditions.first().cloned().unwrap_or_default()
        ),
        department: s.department_name.clone(),
        audience: s.audience.slug().into(),
        online: s.online,
        popularity: if s.high_frequency { 20 } else { 1 },
        url: format!("/services/{}", s.code),
        date: String::new(),
    }
}

/// Every live article as a search document, and when the live set next
/// changes by itself (a scheduled publish or take-down).
pub async fn article_docs(
    db: &crate::Db,
) -> Result<(Vec<SearchDoc>, Option<i64>), crate::DomainError> {
    use crate::content::{reading, rich_text};
    let texts = reading::live_texts(db, None, None, 100_000).await?;
    let docs = texts
        .iter()
        .map(|t| {
            let day = crate::time::local_day(t.published_at).to_string();
            let lead = if t.summary.is_empty() {
                rich_text::excerpt(&t.body, 60)
            } else {
                t.summary.clone()
            };
            SearchDoc {
                kind: "article".into(),
                id: t.id.to_string(),
                title: t.title.clone(),
                aliases: Vec::new(),
                body: format!(
                    "{} {} {}",
                    t.kind.label(),
                    t.site_name,
                    rich_text::text_of(&t.body)
                ),
                summary: lead,
                department: t.site_name.clone(),
                audience: String::new(),
                online: false,
                popularity: 0,
                url: format!("/articles/{}", t.id),
                date: day,
            }
        })
        .collect();
    Ok((docs, reading::next_change(db).await?))
}
