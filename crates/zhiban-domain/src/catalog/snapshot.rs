//! The public read model: every published item and the org tree, held in
//! memory so guide and browse pages need no database round trip. It is
//! rebuilt after every write (and when another node's write is noticed).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::*;
use crate::{Db, DomainError};

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub department: Option<String>,
    pub audience: Option<Audience>,
    pub life_event: Option<LifeEvent>,
    pub police: Option<PoliceDomain>,
    pub online_only: bool,
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: usize,
    pub offset: usize,
    pub limit: usize,
}

/// A department in tree order with its depth and how many published items
/// it and its sub-units own.
#[derive(Debug, Clone)]
pub struct DeptNode {
    pub dept: Department,
    pub depth: usize,
    pub count: usize,
}

#[derive(Debug, Default)]
pub struct CatalogSnapshot {
    pub departments: Vec<Department>,
    /// Published items, high-frequency first, then by code.
    pub services: Vec<Arc<ServiceItem>>,
    by_code: HashMap<String, usize>,
    dept_index: HashMap<String, usize>,
    /// department code → codes of it and all its descendants
    subtree: HashMap<String, HashSet<String>>,
}

impl CatalogSnapshot {
    pub async fn load(db: &Db) -> Result<Self, DomainError> {
        let departments = load_departments(db).await?;
        let services = list_services(db, Some(Status::Published)).await?;
        Ok(Self::from_parts(departments, services))
    }

    pub fn from_parts(departments: Vec<Department>, mut services: Vec<ServiceItem>) -> Self {
        services.retain(|s| s.status == Status::Published);
        services.sort_by(|a, b| {
            b.high_frequency
                .cmp(&a.high_frequency)
                .then_with(|| a.code.cmp(&b.code))
        });
        let services: Vec<Arc<ServiceItem>> = services.into_iter().map(Arc::new).collect();
        let by_code = services
            .iter()
            .enumerate()
            .map(|(i, s)| (s.code.clone(), i))
            .collect();
        let dept_index: HashMap<String, usize> = departments
            .iter()
            .enumerate()
            .map(|(i, d)| (d.code.clone(), i))
            .collect();
        let by_id: HashMap<i64, &Department> = departments.iter().map(|d| (d.id, d)).collect();
        let mut subtree: HashMap<String, HashSet<String>> = HashMap::new();
        for d in &departments {
            // Walk up from every department, adding it to each ancestor's set.
            let mut cur = Some(d);
            let mut guard = 0;
            while let Some(a) = cur {
                subtree
                    .entry(a.code.clone())
                    .or_default()
                    .insert(d.code.clone());
                cur = a.parent_id.and_then(|p| by_id.get(&p).copied());
                guard += 1;
                if guard > 32 {
                    break;
                }
            }
        }
        CatalogSnapshot {
            departments,
            services,
            by_code,
            dept_index,
            subtree,
        }
    }

    pub fn get(&self, code: &str) -> Option<&Arc<ServiceItem>> {
        self.by_code.get(code).map(|&i| &self.services[i])
    }

    pub fn department(&self, code: &str) -> Option<&Department> {
        self.dept_index.get(code).map(|&i| &self.departments[i])
    }

    /// The department and its ancestors, root first (for breadcrumbs).
    pub fn department_path(&self, code: &str) -> Vec<&Department> {
        let mut path = Vec::new();
        let mut cur = self.department(code);
        while let Some(d) = cur {
            path.push(d);
            cur = d
                .parent_id
                .and_then(|p| self.departments.iter().find(|x| x.id == p));
            if path.len() > 32 {
                break;
            }
        }
        path.reverse();
        path
    }

    fn matches(&self, s: &ServiceItem, f: &Filter, depts: Option<&HashSet<String>>) -> bool {
        depts.is_none_or(|set| set.contains(&s.department_code))
            && f.audience.is_none_or(|a| s.audience.serves(a))
            && f.life_event.is_none_or(|e| s.life_events.contains(&e))
            && f.police.is_none_or(|p| s.police_domain == Some(p))
            && (!f.online_only || s.online)
    }

    pub fn filter(&self, f: &Filter, offset: usize, limit: usize) -> Page<Arc<ServiceItem>> {
        let empty = HashSet::new();
        let depts = f
            .department
            .as_ref()
            .map(|d| self.subtree.get(d).unwrap_or(&empty));
        let mut total = 0;
        let mut items = Vec::new();
        for s in &self.services {
            if self.matches(s, f, depts) {
                if total >= offset && items.len() < limit {
                    items.push(Arc::clone(s));
                }
                total += 1;
            }
        }
        Page {
            items,
            total,
            offset,
            limit,
        }
    }

    pub fn count(&self, f: &Filter) -> usize {
        self.filter(f, 0, 0).total
    }

    pub fn high_frequency(
        &self,
        audience: Option<Audience>,
        limit: usize,
    ) -> Vec<Arc<ServiceItem>> {
        self.services
            .iter()
            .filter(|s| s.high_frequency && audience.is_none_or(|a| s.audience.serves(a)))
            .take(limit)
            .cloned()
            .collect()
    }

    /// Other handling items of the same main item (申领/换领/补领 …).
    pub fn siblings(&self, item: &ServiceItem) -> Vec<Arc<ServiceItem>> {
        let mut v: Vec<_> = self
            .services
            .iter()
            .filter(|s| s.main_code == item.main_code && s.code != item.code)
            .cloned()
            .collect();
        v.sort_by(|a, b| a.code.cmp(&b.code));
        v
    }

    /// Items a person doing `item` is likely to need next: those sharing a
    /// life event, then those of the same department, excluding siblings.
    pub fn related(&self, item: &ServiceItem, limit: usize) -> Vec<Arc<ServiceItem>> {
        let mut scored: Vec<(usize, &Arc<ServiceItem>)> = self
            .services
            .iter()
            .filter(|s| s.main_code != item.main_code)
            .filter_map(|s| {
                let shared = s
                    .life_events
                    .iter()
                    .filter(|e| item.life_events.contains(e))
                    .count();
                let score = shared * 10
                    + usize::from(s.department_code == item.department_code) * 3
                    + usize::from(
                        s.police_domain.is_some() && s.police_domain == item.police_domain,
                    ) * 4
                    + usize::from(s.high_frequency);
                (score >= 4).then_some((score, s))
            })
            .collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.code.cmp(&b.1.code)));
        scored
            .into_iter()
            .take(limit)
            .map(|(_, s)| s.clone())
            .collect()
    }

    /// The org tree in display order with item counts per subtree.
    pub fn department_tree(&self) -> Vec<DeptNode> {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for s in &self.services {
            *counts.entry(s.department_code.as_str()).or_default() += 1;
        }
        let mut children: HashMap<Option<i64>, Vec<&Department>> = HashMap::new();
        for d in &self.departments {
            children.entry(d.parent_id).or_default().push(d);
        }
        let mut out = Vec::new();
        let mut stack: Vec<(&Department, usize)> = children
            .get(&None)
            .map(|v| v.iter().rev().map(|d| (*d, 0)).collect())
            .unwrap_or_default();
        while let Some((d, depth)) = stack.pop() {
            let count = self
                .subtree
                .get(&d.code)
                .map(|set| {
                    set.iter()
                        .map(|c| counts.get(c.as_str()).copied().unwrap_or(0))
                        .sum()
                })
                .unwrap_or(0);
            out.push(DeptNode {
                dept: d.clone(),
                depth,
                count,
            });
            if depth < 32
                && let Some(kids) = children.get(&Some(d.id))
            {
                stack.extend(kids.iter().rev().map(|k| (*k, depth + 1)));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::parse::tests::{depts, valid_input};

    fn dept(id: i64, code: &str, parent: Option<i64>) -> Department {
        Department {
            id,
            code: code.into(),
            name: code.into(),
            parent_id: parent,
            level: "部门".into(),
            phone: String::new(),
            address: String::new(),
            hours: String::new(),
        }
    }

    fn item(code: &str, main: &str, dept: &str, events: &str, status: &str) -> ServiceItem {
        let mut i = valid_input();
        i.code = code.into();
        i.main_code = main.into();
        i.life_events = events.into();
        i.status = status.into();
        let mut d = depts();
        d.insert(dept.into(), dept.into());
        i.department = dept.into();
        i.validate(&d).expect("valid")
    }

    fn snapshot() -> CatalogSnapshot {
        CatalogSnapshot::from_parts(
            vec![
                dept(1, "CITY", None),
                dept(2, "GA", Some(1)),
                dept(3, "GA-HZ", Some(2)),
            ],
            vec![
                item("A-1", "A", "GA-HZ", "出生", "已发布"),
                item("A-2", "A", "GA-HZ", "出生", "已发布"),
                item("B-1", "B", "GA", "出生、入学", "已发布"),
                item("C-1", "C", "CITY", "退休", "草稿"),
            ],
        )
    }

    #[test]
    fn drafts_are_never_in_the_public_read_model() {
        let s = snapshot();
        assert!(s.get("C-1").is_none());
        assert_eq!(s.services.len(), 3);
    }

    #[test]
    fn filtering_by_a_department_includes_its_sub_units() {
        let s = snapshot();
        let f = Filter {
            department: Some("GA".into()),
            ..Filter::default()
        };
        assert_eq!(s.filter(&f, 0, 10).total, 3);
        let f = Filter {
            department: Some("GA-HZ".into()),
            ..Filter::default()
        };
        assert_eq!(s.filter(&f, 0, 10).total, 2);
        let tree = s.department_tree();
        assert_eq!(tree[0].dept.code, "CITY");
        assert_eq!(tree[0].count, 3);
        assert_eq!(tree[2].depth, 2);
    }

    #[test]
    fn pagination_counts_every_match_but_returns_one_page() {
        let s = snapshot();
        let p = s.filter(&Filter::default(), 1, 1);
        assert_eq!(p.total, 3);
        assert_eq!(p.items.len(), 1);
    }

    #[test]
    fn related_items_share_a_life_event_and_exclude_siblings() {
        let s = snapshot();
        let a1 = s.get("A-1").expect("a1").clone();
        let related: Vec<_> = s.related(&a1, 5).iter().map(|i| i.code.clone()).collect();
        assert_eq!(related, vec!["B-1".to_string()]);
        let siblings: Vec<_> = s.siblings(&a1).iter().map(|i| i.code.clone()).collect();
        assert_eq!(siblings, vec!["A-2".to_string()]);
    }
}
