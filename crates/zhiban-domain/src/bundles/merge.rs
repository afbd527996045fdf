//! One form for several items (一表申请): the bundle's questions first,
//! then each field the items ask, once. A field is shared when two items
//! ask it under the same key and kind (申请人姓名, 联系电话, 送达方式); a
//! material is shared when two items ask for the same document, whatever
//! their forms call the upload. Each item keeps its own form: its case is
//! filed with only its own fields, read back from the merged answers
//! through the key map.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Question, question_key};
use crate::forms::{Answers, Compute, Field, FieldKind, FormPage, FormSchema};

/// One applicable item and its current form.
pub struct Part<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub department: &'a str,
    pub stage: u32,
    pub schema: &'a FormSchema,
    /// Documents an earlier stage's result supplies: (material, item).
    pub supplied: Vec<(String, String)>,
}

/// What one item's case is filed with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChildPlan {
    pub code: String,
    pub name: String,
    pub department: String,
    pub stage: u32,
    /// The item's own form.
    pub schema: FormSchema,
    /// (the item's key, the merged form's key) for each top-level field.
    pub keys: Vec<(String, String)>,
    /// Materials an earlier item's result supplies: (material, item).
    pub supplied: Vec<(String, String)>,
}

impl ChildPlan {
    /// The item's answers, read from the merged form's.
    pub fn answers_for(&self, merged: &Answers) -> Answers {
        let mut out = Answers::new();
        for (ck, mk) in &self.keys {
            let prefix = format!("{mk}.");
            for (k, v) in merged {
                if k == mk {
                    out.insert(ck.clone(), v.clone());
                } else if let Some(rest) = k.strip_prefix(&prefix) {
                    out.insert(format!("{ck}.{rest}"), v.clone());
                }
            }
        }
        out
    }

    /// The merged key an item's field is asked under.
    pub fn merged_key(&self, child_key: &str) -> Option<&str> {
        self.keys
            .iter()
            .find(|(c, _)| c == child_key)
            .map(|(_, m)| m.as_str())
    }

    /// What the department receives: the labels of its fields (without
    /// uploads) and the names of its materials.
    pub fn receives(&self) -> (Vec<String>, Vec<String>) {
        let mut fields = Vec::new();
        let mut materials = Vec::new();
        for f in self.schema.pages.iter().flat_map(|p| p.fields.iter()) {
            if f.kind == FieldKind::File {
                let m = self.schema.material_for(&f.key).unwrap_or_default();
                match self.supplied.iter().find(|(s, _)| *s == m) {
                    Some((_, by)) => materials.push(format!("{m}（由“{by}”办结后提供）")),
                    None => materials.push(m),
                }
            } else if f.is_input() {
                fields.push(f.label.clone());
            }
        }
        (fields, materials)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Merged {
    pub schema: FormSchema,
    pub children: Vec<ChildPlan>,
}

/// A material's name as compared across items: no spaces, and full-width
/// brackets as half-width.
pub fn material_norm(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            _ => c,
        })
        .collect()
}

fn unique(base: &str, taken: &BTreeMap<String, (usize, usize)>) -> String {
    if !taken.contains_key(base) {
        return base.to_string();
    }
    (2..)
        .map(|n| format!("{base}_{n}"))
        .find(|k| !taken.contains_key(k))
        .unwrap_or_default()
}

/// The page a field goes on: the page of that title, made when missing.
fn page_index(pages: &mut Vec<FormPage>, title: &str) -> usize {
    if let Some(i) = pages.iter().position(|p| p.title == title) {
        return i;
    }
    pages.push(FormPage {
        title: title.to_string(),
        fields: Vec::new(),
    });
    pages.len() - 1
}

pub const QUESTIONS_PAGE: &str = "办理情况";

/// Merges the forms of `parts` (in stage order) under the questions.
pub fn merge(title: &str, questions: &[Question], parts: &[Part<'_>]) -> Merged {
    let mut pages: Vec<FormPage> = Vec::new();
    // Where each merged key lives: (page, index).
    let mut at: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    if !questions.is_empty() {
        pages.push(FormPage {
            title: QUESTIONS_PAGE.into(),
            fields: questions
                .iter()
                .enumerate()
                .map(|(i, q)| {
                    at.insert(question_key(&q.key), (0, i));
                    Field {
                        options: q.options.clone(),
                        ..crate::forms::field(
                            &question_key(&q.key),
                            &q.label,
                            FieldKind::Choice,
                            true,
                        )
                    }
                })
                .collect(),
        });
    }
    let mut by_material: BTreeMap<String, String> = BTreeMap::new();
    // Which items receive each merged upload, for its help text.
    let mut receivers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut children = Vec::new();
    let mut materials = 0;
    for part in parts {
        let mut keys: Vec<(String, String)> = Vec::new();
        let mut added: Vec<(usize, usize)> = Vec::new();
        let mut supplied = Vec::new();
        for page in &part.schema.pages {
            for f in &page.fields {
                if f.kind == FieldKind::File {
                    let name = part.schema.material_for(&f.key).unwrap_or_default();
                    if let Some((_, by)) = part
                        .supplied
                        .iter()
                        .find(|(m, _)| material_norm(m) == material_norm(&name))
                    {
                        supplied.push((name, by.clone()));
                        continue;
                    }
                }
                let shared = if f.kind == FieldKind::File {
                    let name = part.schema.material_for(&f.key).unwrap_or_default();
                    by_material.get(&material_norm(&name)).cloned()
                } else {
                    at.get(&f.key)
                        .filter(|(p, i)| {
                            let m = &pages[*p].fields[*i];
                            let question = *p == 0 && !questions.is_empty();
                            m.kind == f.kind && m.options == f.options && !question
                        })
                        .map(|_| f.key.clone())
                };
                let key = match shared {
                    Some(k) => {
                        if let Some((p, i)) = at.get(&k).copied() {
                            pages[p].fields[i].required |= f.required;
                        }
                        k
                    }
                    None => {
                        let key = if f.kind == FieldKind::File {
                            materials += 1;
                            unique(&format!("m{materials}"), &at)
                        } else {
                            unique(&f.key, &at)
                        };
                        if f.kind == FieldKind::File {
                            let name = part.schema.material_for(&f.key).unwrap_or_default();
                            by_material.insert(material_norm(&name), key.clone());
                        }
                        let p = page_index(&mut pages, &page.title);
                        let mut field = f.clone();
                        field.key = key.clone();
                        if field.kind == FieldKind::File && field.material.is_empty() {
                            field.material = f.label.clone();
                        }
                        pages[p].fields.push(field);
                        let pos = (p, pages[p].fields.len() - 1);
                        at.insert(key.clone(), pos);
                        added.push(pos);
                        key
                    }
                };
                if f.kind == FieldKind::File {
                    let r = receivers.entry(key.clone()).or_default();
                    if !r.iter().any(|n| n == part.name) {
                        r.push(part.name.to_string());
                    }
                }
                keys.push((f.key.clone(), key));
            }
        }
        // The new fields' references name the item's keys: point them at
        // the merged keys.
        let map = |k: &str| -> String {
            keys.iter()
                .find(|(c, _)| c == k)
                .map(|(_, m)| m.clone())
                .unwrap_or_else(|| k.to_string())
        };
        for (p, i) in added {
            let f = &mut pages[p].fields[i];
            if let Some(s) = f.show_if.as_mut() {
                s.field = map(&s.field);
            }
            f.compute = f.compute.take().map(|c| match c {
                Compute::AgeFromId(k) => Compute::AgeFromId(map(&k)),
                Compute::Sum(ks) => Compute::Sum(ks.iter().map(|k| map(k)).collect()),
            });
        }
        // The item's own form, filed with its case: a supplied material is
        // no longer the applicant's to upload.
        let mut schema = part.schema.clone();
        for f in schema.pages.iter_mut().flat_map(|p| p.fields.iter_mut()) {
            let m = if f.material.is_empty() {
                &f.label
            } else {
                &f.material
            };
            if let Some((_, by)) = supplied.iter().find(|(s, _)| s == m) {
                f.required = false;
                f.help = format!("由“{by}”办结后提供");
            }
        }
        children.push(ChildPlan {
            code: part.code.to_string(),
            name: part.name.to_string(),
            department: part.department.to_string(),
            stage: part.stage,
            schema,
            keys,
            supplied,
        });
    }
    // A shared upload says who receives it.
    for page in &mut pages {
        for f in page.fields.iter_mut().filter(|f| f.kind == FieldKind::File) {
            if let Some(r) = receivers.get(&f.key).filter(|r| r.len() > 1) {
                f.help = format!("{}（一次上传，提交给：{}）", f.help, r.join("、"))
                    .trim_start()
                    .to_string();
            }
        }
    }
    // The questions first, uploads last.
    let (first, rest): (Vec<FormPage>, Vec<FormPage>) = pages
        .into_iter()
        .partition(|p| p.title == QUESTIONS_PAGE && !questions.is_empty());
    let (uploads, forms): (Vec<FormPage>, Vec<FormPage>) = rest
        .into_iter()
        .partition(|p| p.fields.iter().all(|f| f.kind == FieldKind::File));
    Merged {
        schema: FormSchema {
            title: title.to_string(),
            pages: first.into_iter().chain(forms).chain(uploads).collect(),
        },
        children,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(json: &str) -> FormSchema {
        FormSchema::from_json(json).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn birth_parts() -> (FormSchema, FormSchema) {
        let a = schema(
            r#"{"title":"出生登记","pages":[
              {"title":"申请人信息","fields":[
                {"key":"applicant_name","label":"申请人姓名","kind":"text","required":true},
                {"key":"applicant_phone","label":"联系电话","kind":"phone","required":true}]},
              {"title":"新生儿","fields":[
                {"key":"baby","label":"新生儿姓名","kind":"text","required":true},
                {"key":"twins","label":"是否多胞胎","kind":"choice","options":["是","否"]},
                {"key":"count","label":"胞胎数","kind":"number","show_if":{"field":"twins","equals":["是"]}}]},
              {"title":"申请材料","fields":[
                {"key":"m1","label":"出生医学证明","kind":"file","required":true,"material":"出生医学证明"},
                {"key":"m2","label":"父母居民身份证","kind":"file","required":true,"material":"父母居民身份证"}]}]}"#,
        );
        let b = schema(
            r#"{"title":"社保卡","pages":[
              {"title":"申请人信息","fields":[
                {"key":"applicant_name","label":"申请人姓名","kind":"text","required":true},
                {"key":"applicant_phone","label":"联系电话","kind":"phone"},
                {"key":"baby","label":"参保人","kind":"choice","options":["本人","子女"]}]},
              {"title":"申请材料","fields":[
                {"key":"m1","label":"父母身份证","kind":"file","material":"父母居民身份证"},
                {"key":"m2","label":"相片","kind":"file","required":true,"material":"数码相片回执"}]}]}"#,
        );
        (a, b)
    }

    fn merged() -> Merged {
        let (a, b) = birth_parts();
        let qs = vec![Question {
            key: "card".into(),
            label: "是否申领社保卡".into(),
            options: vec!["是".into(), "否".into()],
        }];
        merge(
            "出生一件事",
            &qs,
            &[
                Part {
                    code: "A",
                    name: "出生登记",
                    department: "公安",
                    stage: 1,
                    schema: &a,
                    supplied: Vec::new(),
                },
                Part {
                    code: "B",
                    name: "社保卡申领",
                    department: "人社",
                    stage: 2,
                    schema: &b,
                    supplied: vec![("数码相片回执".into(), "采集".into())],
                },
            ],
        )
    }

    fn keys(m: &Merged) -> Vec<String> {
        m.schema.fields().map(|f| f.key.clone()).collect()
    }

    #[test]
    fn shared_fields_and_materials_are_asked_once() {
        let m = merged();
        let k = keys(&m);
        assert_eq!(k.iter().filter(|x| *x == "applicant_name").count(), 1);
        assert_eq!(k.iter().filter(|x| *x == "applicant_phone").count(), 1);
        // 父母居民身份证: two forms, two keys, one upload.
        let files: Vec<&Field> = m.schema.file_fields().collect();
        assert_eq!(files.len(), 2, "{k:?}");
        let id = files
            .iter()
            .find(|f| f.material == "父母居民身份证")
            .unwrap_or_else(|| panic!("{k:?}"));
        assert!(id.help.contains("出生登记、社保卡申领"), "{}", id.help);
        assert_eq!(m.children[1].merged_key("m1"), Some(id.key.as_str()));
        // Required when any item requires it.
        assert!(
            m.schema
                .field("applicant_phone")
                .is_some_and(|f| f.required)
        );
    }

    #[test]
    fn same_key_of_another_kind_is_asked_separately_and_mapped_back() {
        let m = merged();
        assert_eq!(m.children[0].merged_key("baby"), Some("baby"));
        assert_eq!(m.children[1].merged_key("baby"), Some("baby_2"));
        let answers: Answers = [
            ("q_card", "是"),
            ("applicant_name", "王小明"),
            ("baby", "王乐乐"),
            ("baby_2", "子女"),
            ("m1", "x"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let second = m.children[1].answers_for(&answers);
        assert_eq!(second.get("baby").map(String::as_str), Some("子女"));
        assert_eq!(
            second.get("applicant_name").map(String::as_str),
            Some("王小明")
        );
        // Only the item's own fields: nothing of the other's, no question.
        assert!(!second.contains_key("baby_2") && !second.contains_key("q_card"));
        let first = m.children[0].answers_for(&answers);
        assert_eq!(first.get("baby").map(String::as_str), Some("王乐乐"));
    }

    #[test]
    fn questions_come_first_uploads_last_and_references_follow_the_keys() {
        let m = merged();
        let titles: Vec<&str> = m.schema.pages.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(
            titles,
            vec![QUESTIONS_PAGE, "申请人信息", "新生儿", "申请材料"]
        );
        assert_eq!(m.schema.pages[0].fields[0].key, "q_card");
        let count = m.schema.field("count").and_then(|f| f.show_if.clone());
        assert_eq!(count.map(|s| s.field), Some("twins".to_string()));
        assert!(m.schema.check().is_empty(), "{:?}", m.schema.check());
    }

    #[test]
    fn each_department_receives_its_own_fields_and_materials() {
        let m = merged();
        let (fields, materials) = m.children[1].receives();
        assert_eq!(fields, vec!["申请人姓名", "联系电话", "参保人"]);
        assert_eq!(
            materials,
            vec!["父母居民身份证", "数码相片回执（由“采集”办结后提供）"]
        );
        // Supplied by an earlier item: not asked, and not required of the
        // item's own form either.
        assert_eq!(m.children[1].merged_key("m2"), None);
        assert!(
            m.children[1]
                .schema
                .field("m2")
                .is_some_and(|f| !f.required)
        );
    }
}
