//! 一件事一次办 (bundles): what staff define from catalog items — which
//! items, stage by stage (the items of one stage run in parallel, a stage
//! starts when the one before it is approved), and the questions whose
//! answers decide which items apply (是否需要办理医保). [`merge`] turns the
//! applicable items' forms into one form that asks every shared field and
//! material once; filing and following a bundle is `cases::bundled`.

pub mod demo;
pub mod merge;
mod repo;

pub use repo::*;

use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::catalog::{Audience, CatalogSnapshot, Material, ServiceItem, Status};
use crate::forms::Answers;

/// A question asked before the forms, answered by choosing one option.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Question {
    /// Lower-case letters, digits and `_`.
    pub key: String,
    pub label: String,
    pub options: Vec<String>,
}

/// An item applies only when a question was answered with one of `equals`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Condition {
    pub question: String,
    pub equals: Vec<String>,
}

/// One catalog item of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BundleItem {
    /// The handling item's code (事项编码).
    pub code: String,
    /// 1 runs first; items of one stage run in parallel.
    pub stage: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
    /// Documents this item's result supplies to the later stages (出生医学证明
    /// to 出生登记): they are not asked of the applicant.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supplies: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bundle {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub summary: String,
    pub audience: Audience,
    pub questions: Vec<Question>,
    pub items: Vec<BundleItem>,
    pub status: Status,
    pub position: i64,
    pub updated_by: String,
    pub updated_at: i64,
}

/// The answer key a question is asked under in the merged form.
pub fn question_key(q: &str) -> String {
    format!("q_{q}")
}

impl Bundle {
    /// The items that apply for these answers, in stage order.
    pub fn applicable(&self, answers: &Answers) -> Vec<&BundleItem> {
        let mut out: Vec<&BundleItem> = self
            .items
            .iter()
            .filter(|i| match &i.when {
                None => true,
                Some(c) => answers
                    .get(&question_key(&c.question))
                    .is_some_and(|a| c.equals.iter().any(|e| e == a.trim())),
            })
            .collect();
        out.sort_by_key(|i| i.stage);
        out
    }

    /// Whether every question has an answer among its options.
    pub fn answered(&self, answers: &Answers) -> bool {
        self.questions.iter().all(|q| {
            answers
                .get(&question_key(&q.key))
                .is_some_and(|a| q.options.iter().any(|o| o == a.trim()))
        })
    }

    /// The bundle's items as the published catalog has them, in its
    /// order; an item taken down or no longer online is left out.
    pub fn items_in<'a>(&self, catalog: &'a CatalogSnapshot) -> Vec<&'a ServiceItem> {
        self.items
            .iter()
            .filter_map(|i| catalog.get(&i.code).filter(|s| s.online))
            .map(|s| &**s)
            .collect()
    }

    pub fn stages(&self) -> u32 {
        self.items.iter().map(|i| i.stage).max().unwrap_or(0)
    }
}

/// A material of a bundle's guide and the items that ask for it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GuideMaterial {
    pub material: Material,
    pub items: Vec<String>,
}

/// The materials of all the bundle's items, each document once, in the
/// items' order (the guide lists what to prepare).
pub fn guide_materials(items: &[&ServiceItem]) -> Vec<GuideMaterial> {
    let mut out: Vec<GuideMaterial> = Vec::new();
    for item in items {
        for m in &item.materials {
            let key = merge::material_norm(&m.name);
            match out
                .iter_mut()
                .find(|g| merge::material_norm(&g.material.name) == key)
            {
                Some(g) => {
                    g.material.elicense_ok &= m.elicense_ok;
                    if !g.items.contains(&item.name) {
                        g.items.push(item.name.clone());
                    }
                }
                None => out.push(GuideMaterial {
                    material: m.clone(),
                    items: vec![item.name.clone()],
                }),
            }
        }
    }
    out
}

/// Promised working days along the slowest path: each stage takes as long
/// as its slowest item, stages one after another.
pub fn promised_days(bundle: &Bundle, items: &[&ServiceItem]) -> u32 {
    (1..=bundle.stages())
        .map(|stage| {
            bundle
                .items
                .iter()
                .filter(|i| i.stage == stage)
                .filter_map(|i| items.iter().find(|s| s.code == i.code))
                .map(|s| s.promised_limit_days)
                .max()
                .unwrap_or(0)
        })
        .sum()
}

/// What the staff form posts: the questions and items one per line.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct BundleInput {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub audience: String,
    /// `key|问题|选项一/选项二` per line.
    #[serde(default)]
    pub questions: String,
    /// `事项编码|阶段|key=选项` per line (the condition is optional).
    #[serde(default)]
    pub items: String,
    #[serde(default)]
    pub position: String,
}

fn key_ok(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 30
        && k.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && k.chars().next().is_some_and(|c| c.is_ascii_lowercase())
}

fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty())
}

/// Splits on `|` (or the full-width `｜` people type).
fn cells(line: &str) -> Vec<String> {
    line.split(['|', '｜'])
        .map(|c| c.trim().to_string())
        .collect()
}

/// `是/否`, `是／否` or `是、否` as a list.
fn choices(text: &str) -> Vec<String> {
    text.split(['/', '／', '、'])
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

/// The questions and items as the staff form shows them.
pub fn questions_text(qs: &[Question]) -> String {
    qs.iter()
        .map(|q| format!("{}|{}|{}", q.key, q.label, q.options.join("/")))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn items_text(items: &[BundleItem]) -> String {
    items
        .iter()
        .map(|i| {
            let cond = i
                .when
                .as_ref()
                .map(|c| format!("{}={}", c.question, c.equals.join("/")))
                .unwrap_or_default();
            let line = format!("{}|{}|{cond}|{}", i.code, i.stage, i.supplies.join("/"));
            line.trim_end_matches('|').to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A checked definition, before the items are looked up in the catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub code: String,
    pub name: String,
    pub summary: String,
    pub audience: Audience,
    pub questions: Vec<Question>,
    pub items: Vec<BundleItem>,
    pub position: i64,
}

impl BundleInput {
    /// Every rule that needs no database: keys, one line per question and
    /// item, conditions that name a question and one of its options, at
    /// least two items, no item twice. Line numbers are in the details.
    pub fn parse(&self) -> Result<Parsed, Vec<FieldError>> {
        let mut errs = Vec::new();
        let code = self.code.trim().to_string();
        if !key_ok(&code.replace('-', "_")) {
            errs.push(FieldError::new("bundle_code", "bundle_code", code.clone()));
        }
        let name = self.name.trim().chars().take(60).collect::<String>();
        if name.is_empty() {
            errs.push(FieldError::new("bundle_name", "required", ""));
        }
        let audience = Audience::from_slug(self.audience.trim()).unwrap_or(Audience::Person);
        let mut questions: Vec<Question> = Vec::new();
        for (n, line) in lines(&self.questions) {
            let c = cells(line);
            let options = c.get(2).map(|o| choices(o)).unwrap_or_default();
            let key = c.first().cloned().unwrap_or_default();
            let label = c.get(1).cloned().unwrap_or_default();
            if c.len() != 3 || !key_ok(&key) || label.is_empty() || options.len() < 2 {
                errs.push(FieldError::new(
                    "bundle_questions",
                    "bundle_question",
                    n.to_string(),
                ));
            } else if questions.iter().any(|q| q.key == key) {
                errs.push(FieldError::new("bundle_questions", "bundle_duplicate", key));
            } else {
                questions.push(Question {
                    key,
                    label,
                    options,
                });
            }
        }
        let mut items: Vec<BundleItem> = Vec::new();
        for (n, line) in lines(&self.items) {
            let c = cells(line);
            let code = c.first().cloned().unwrap_or_default();
            let stage = c.get(1).and_then(|s| s.parse::<u32>().ok());
            let when = match c.get(2).filter(|s| !s.is_empty()) {
                None => Ok(None),
                Some(cond) => match cond.split_once(['=', '＝']) {
                    Some((q, v)) => {
                        let equals = choices(v);
                        let question = q.trim().to_string();
                        match questions.iter().find(|x| x.key == question) {
                            Some(qq)
                                if !equals.is_empty()
                                    && equals.iter().all(|e| qq.options.contains(e)) =>
                            {
                                Ok(Some(Condition { question, equals }))
                            }
                            _ => Err(()),
                        }
                    }
                    None => Err(()),
                },
            };
            let supplies = c.get(3).map(|o| choices(o)).unwrap_or_default();
            match (stage, when) {
                (Some(stage @ 1..=9), Ok(when)) if !code.is_empty() && c.len() <= 4 => {
                    if items.iter().any(|i| i.code == code) {
                        errs.push(FieldError::new("bundle_items", "bundle_duplicate", code));
                    } else {
                        items.push(BundleItem {
                            code,
                            stage,
                            when,
                            supplies,
                        });
                    }
                }
                (_, Err(())) => errs.push(FieldError::new(
                    "bundle_items",
                    "bundle_condition",
                    n.to_string(),
                )),
                _ => errs.push(FieldError::new(
                    "bundle_items",
                    "bundle_item",
                    n.to_string(),
                )),
            }
        }
        if items.len() < 2 && !errs.iter().any(|e| e.field == "bundle_items") {
            errs.push(FieldError::new("bundle_items", "bundle_too_few", ""));
        }
        // Stages are numbered from 1 without gaps.
        let mut stages: Vec<u32> = items.iter().map(|i| i.stage).collect();
        stages.sort_unstable();
        stages.dedup();
        if stages.iter().enumerate().any(|(i, s)| *s != i as u32 + 1) {
            errs.push(FieldError::new("bundle_items", "bundle_stages", ""));
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(Parsed {
            code,
            name,
            summary: self.summary.trim().chars().take(500).collect(),
            audience,
            questions,
            items,
            position: self.position.trim().parse().unwrap_or(0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(questions: &str, items: &str) -> BundleInput {
        BundleInput {
            code: "birth".into(),
            name: "出生一件事".into(),
            questions: questions.into(),
            items: items.into(),
            ..BundleInput::default()
        }
    }

    #[test]
    fn a_definition_reads_questions_items_stages_and_conditions() {
        let p = input(
            "yb|是否办理新生儿医保参保|是/否",
            "A-01|1||甲证明\nB-01｜2\nC-01|2|yb=是",
        )
        .parse()
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(p.questions[0].options, vec!["是", "否"]);
        assert_eq!(p.items.len(), 3);
        assert_eq!(p.items[0].supplies, vec!["甲证明"]);
        assert_eq!(items_text(&p.items), "A-01|1||甲证明\nB-01|2\nC-01|2|yb=是");
        assert_eq!(p.items[1].stage, 2);
        assert_eq!(
            p.items[2].when,
            Some(Condition {
                question: "yb".into(),
                equals: vec!["是".into()]
            })
        );
    }

    #[test]
    fn conditions_must_name_a_question_and_one_of_its_options() {
        let codes = |q: &str, i: &str| -> Vec<&'static str> {
            input(q, i)
                .parse()
                .err()
                .unwrap_or_default()
                .iter()
                .map(|e| e.code)
                .collect()
        };
        assert_eq!(
            codes("yb|医保|是/否", "A|1\nB|1|yb=也许"),
            vec!["bundle_condition"]
        );
        assert_eq!(
            codes("yb|医保|是/否", "A|1\nB|1|zz=是"),
            vec!["bundle_condition"]
        );
        assert_eq!(codes("", "A|1\nA|2"), vec!["bundle_duplicate"]);
        assert_eq!(codes("", "A|1"), vec!["bundle_too_few"]);
        assert_eq!(codes("", "A|1\nB|3"), vec!["bundle_stages"]);
        assert_eq!(codes("yb|医保|是", "A|1\nB|1"), vec!["bundle_question"]);
        assert_eq!(codes("", "A|x\nB|1"), vec!["bundle_item"]);
    }

    #[test]
    fn the_answers_decide_which_items_apply() {
        let p = input("yb|医保|是/否", "A|1\nB|2|yb=是\nC|2")
            .parse()
            .unwrap_or_else(|e| panic!("{e:?}"));
        let b = Bundle {
            id: 0,
            code: p.code,
            name: p.name,
            summary: String::new(),
            audience: Audience::Person,
            questions: p.questions,
            items: p.items,
            status: Status::Published,
            position: 0,
            updated_by: String::new(),
            updated_at: 0,
        };
        let mut a = Answers::new();
        assert!(!b.answered(&a));
        a.insert("q_yb".into(), "否".into());
        assert!(b.answered(&a));
        let codes: Vec<&str> = b.applicable(&a).iter().map(|i| i.code.as_str()).collect();
        assert_eq!(codes, vec!["A", "C"]);
        a.insert("q_yb".into(), "是".into());
        assert_eq!(b.applicable(&a).len(), 3);
    }
}
