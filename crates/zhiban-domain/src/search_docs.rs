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
    }
}
