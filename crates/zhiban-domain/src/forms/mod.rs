//! Smart forms (智能表单): a declarative schema per handling item, with
//! typed fields, validation, conditional show/hide, computed values,
//! several pages and a review page, and auto-fill from the applicant's
//! profile. Staff write and version schemas ([`repo`]); an item without one
//! gets a form built from its guide ([`default_schema`]), so every online
//! item can be applied for.
//!
//! Answers are a flat map from input name to text, exactly what an HTML
//! form posts: `key` for plain fields, `key.province` … `key.detail` for
//! addresses, `key.0.sub` for rows of a repeating group (`key.#` holds the
//! row count). Files live beside the answers, counted per field key.

pub mod repo;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::catalog::{Audience, ItemType, ServiceItem};
use crate::identity::ids::{IdNumber, Phone, Uscc};

/// Answers keyed by input name.
pub type Answers = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormSchema {
    pub title: String,
    pub pages: Vec<FormPage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormPage {
    pub title: String,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Textarea,
    Number,
    Date,
    Choice,
    /// Several of `options` (answers hold them one per line, in the
    /// options' order).
    MultiChoice,
    /// A score from 1 to `max` (default 5), as in 满意度 questions.
    Rating,
    IdNumber,
    Uscc,
    Phone,
    /// Province, city, district and street address.
    Address,
    /// Yuan with at most two decimals; stored as typed, checked as fen.
    Money,
    File,
    /// Repeating rows of the sub-fields in `fields`.
    Group,
    /// Applying in a company's name: one of the companies the applicant
    /// represents or is an authorised agent of (its 统一社会信用代码), or
    /// empty for applying as a person. The company's name is filled in
    /// from its record (`<key>.name`), never typed.
    Company,
}

/// What a field is filled from when the applicant is signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prefill {
    Name,
    IdNumber,
    Phone,
}

/// Show the field only when another field has one of these values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShowIf {
    pub field: String,
    pub equals: Vec<String>,
}

/// A value the form works out itself; the field is read-only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compute {
    /// Whole years of age from a 身份证号 field.
    AgeFromId(String),
    /// The sum of number or money fields.
    Sum(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    pub key: String,
    pub label: String,
    pub kind: FieldKind,
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub help: String,
    /// Choices for `choice`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_if: Option<ShowIf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefill: Option<Prefill>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute: Option<Compute>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_len: Option<usize>,
    /// Sub-fields of a `group`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<usize>,
    /// For `file`: the catalog material it supplies.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub material: String,
}

fn is_false(b: &bool) -> bool {
    !*b
}

pub const ADDRESS_PARTS: [&str; 4] = ["province", "city", "district", "detail"];
const DEFAULT_MAX_ITEMS: usize = 20;

/// One problem with one answer. `code` is stable; the web layer translates it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FormError {
    /// The input name (`key`, `key.city`, `key.0.sub`).
    pub key: String,
    pub code: &'static str,
    pub detail: String,
}

impl FormError {
    fn new(key: impl Into<String>, code: &'static str) -> Self {
        FormError {
            key: key.into(),
            code,
            detail: String::new(),
        }
    }
    fn with(key: impl Into<String>, code: &'static str, detail: impl Into<String>) -> Self {
        FormError {
            key: key.into(),
            code,
            detail: detail.into(),
        }
    }
}

/// What the portal already knows about the applicant.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub name: String,
    pub id_number: String,
    pub phone: String,
    /// Name and ID number were checked (实名认证): they are filled in and locked.
    pub verified: bool,
    /// The (Beijing) date the form is filled on: ages are computed on it.
    pub today: chrono::NaiveDate,
    /// Companies the applicant may act for: (统一社会信用代码, name).
    pub companies: Vec<(String, String)>,
}

impl Profile {
    fn value(&self, p: Prefill) -> &str {
        match p {
            Prefill::Name => &self.name,
            Prefill::IdNumber => &self.id_number,
            Prefill::Phone => &self.phone,
        }
    }

    /// Whether the applicant may not change a field filled from here:
    /// checked name and ID number. A contact phone may differ.
    pub fn locks(&self, p: Prefill) -> bool {
        !self.value(p).is_empty() && self.verified && p != Prefill::Phone
    }
}

impl Field {
    /// The top score of a rating (its `max`, 2–10; default 5).
    pub fn rating_max(&self) -> u32 {
        self.max
            .filter(|m| m.is_finite())
            .map(|m| m.clamp(2.0, 10.0) as u32)
            .unwrap_or(5)
    }

    pub fn is_input(&self) -> bool {
        self.compute.is_none()
    }
}

impl FormSchema {
    pub fn from_json(text: &str) -> Result<Self, Vec<FormError>> {
        let schema: FormSchema = serde_json::from_str(text)
            .map_err(|e| vec![FormError::with("schema", "schema_syntax", e.to_string())])?;
        let errors = schema.check();
        if errors.is_empty() {
            Ok(schema)
        } else {
            Err(errors)
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Every top-level field, page by page.
    pub fn fields(&self) -> impl Iterator<Item = &Field> {
        self.pages.iter().flat_map(|p| p.fields.iter())
    }

    pub fn field(&self, key: &str) -> Option<&Field> {
        self.fields().find(|f| f.key == key)
    }

    pub fn file_fields(&self) -> impl Iterator<Item = &Field> {
        self.fields().filter(|f| f.kind == FieldKind::File)
    }

    /// The material a file field supplies (its label when it names none).
    pub fn material_for(&self, key: &str) -> Option<String> {
        let f = self.file_fields().find(|f| f.key == key)?;
        Some(if f.material.is_empty() {
            f.label.clone()
        } else {
            f.material.clone()
        })
    }

    /// Structural checks for the editor: keys, references, choices.
    pub fn check(&self) -> Vec<FormError> {
        let mut errs = Vec::new();
        if self.title.trim().is_empty() {
            errs.push(FormError::new("title", "schema_title"));
        }
        if self.pages.is_empty() {
            errs.push(FormError::new("pages", "schema_no_pages"));
        }
        let mut seen = BTreeSet::new();
        for (pi, page) in self.pages.iter().enumerate() {
            if page.fields.is_empty() {
                errs.push(FormError::with(
                    "pages",
                    "schema_empty_page",
                    (pi + 1).to_string(),
                ));
            }
            for f in &page.fields {
                check_field(f, &mut seen, &mut errs, false);
                if let Some(s) = &f.show_if
                    && !seen.contains(s.field.as_str())
                {
                    errs.push(FormError::with(&f.key, "schema_show_if", &s.field));
                }
                seen.insert(f.key.clone());
            }
        }
        for f in self.fields() {
            let refs: Vec<&String> = match &f.compute {
                Some(Compute::AgeFromId(k)) => vec![k],
                Some(Compute::Sum(ks)) => ks.iter().collect(),
                None => Vec::new(),
            };
            for r in refs {
                if self.field(r).is_none() {
                    errs.push(FormError::with(&f.key, "schema_compute", r));
                }
            }
        }
        errs
    }

    /// Fills empty answers from the profile, locks verified ones, names the
    /// chosen company from its record, works out computed values and drops
    /// answers of hidden fields.
    pub fn normalize(&self, answers: &mut Answers, profile: &Profile) {
        for f in self.fields().filter(|f| f.kind == FieldKind::Company) {
            let name_key = format!("{}.name", f.key);
            let chosen = answers.get(&f.key).map(|v| v.trim().to_uppercase());
            match chosen
                .as_deref()
                .and_then(|c| profile.companies.iter().find(|(code, _)| code == c))
            {
                Some((code, name)) => {
                    answers.insert(f.key.clone(), code.clone());
                    answers.insert(name_key, name.clone());
                }
                None => {
                    answers.remove(&name_key);
                }
            }
        }
        for f in self.fields() {
            if let Some(p) = f.prefill {
                let known = profile.value(p);
                let empty = answers.get(&f.key).is_none_or(|v| v.trim().is_empty());
                if !known.is_empty() && (empty || profile.locks(p)) {
                    answers.insert(f.key.clone(), known.to_string());
                }
            }
        }
        for f in self.fields() {
            if let Some(c) = &f.compute {
                let v = compute(c, answers, profile.today);
                answers.insert(f.key.clone(), v);
            }
        }
        let hidden: Vec<String> = self
            .fields()
            .filter(|f| !self.visible(f, answers))
            .map(|f| f.key.clone())
            .collect();
        for key in hidden {
            let prefix = format!("{key}.");
            answers.retain(|k, _| *k != key && !k.starts_with(&prefix));
        }
    }

    /// Whether a field shows, given the answers (a field whose controlling
    /// field is hidden is hidden too).
    pub fn visible(&self, f: &Field, answers: &Answers) -> bool {
        let mut current = f;
        for _ in 0..16 {
            let Some(cond) = &current.show_if else {
                return true;
            };
            let value = answers.get(&cond.field).map(|v| v.trim()).unwrap_or("");
            if !cond.equals.iter().any(|e| e == value) {
                return false;
            }
            match self.field(&cond.field) {
                Some(parent) => current = parent,
                None => return false,
            }
        }
        false
    }

    /// Checks the answers of one page (or all pages with `None`). `files`
    /// counts the stored files per file field.
    pub fn validate(
        &self,
        page: Option<usize>,
        answers: &Answers,
        files: &BTreeMap<String, usize>,
    ) -> Vec<FormError> {
        let mut errs = Vec::new();
        for (i, p) in self.pages.iter().enumerate() {
            if page.is_some_and(|n| n != i) {
                continue;
            }
            for f in &p.fields {
                if !self.visible(f, answers) || !f.is_input() {
                    continue;
                }
                validate_field(f, &f.key, answers, files, &mut errs);
            }
        }
        errs
    }

    /// The page holding a field, for sending people back to fix it.
    pub fn page_of(&self, input_name: &str) -> usize {
        let key = input_name.split('.').next().unwrap_or(input_name);
        self.pages
            .iter()
            .position(|p| p.fields.iter().any(|f| f.key == key))
            .unwrap_or(0)
    }

    /// Rows in a group's answers (at least one is shown).
    pub fn rows(answers: &Answers, key: &str) -> usize {
        answers
            .get(&format!("{key}.#"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(1usize)
            .clamp(1, 100)
    }
}

fn check_field(f: &Field, seen: &mut BTreeSet<String>, errs: &mut Vec<FormError>, nested: bool) {
    let key_ok = !f.key.is_empty()
        && f.key.len() <= 40
        && f.key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && f.key.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    if !key_ok {
        errs.push(FormError::with(&f.key, "schema_key", &f.key));
    } else if !nested && seen.contains(&f.key) {
        errs.push(FormError::with(&f.key, "schema_duplicate", &f.key));
    }
    if f.label.trim().is_empty() {
        errs.push(FormError::with(&f.key, "schema_label", &f.key));
    }
    if matches!(f.kind, FieldKind::Choice | FieldKind::MultiChoice) && f.options.is_empty() {
        errs.push(FormError::with(&f.key, "schema_options", &f.key));
    }
    if let (Some(min), Some(max)) = (f.min, f.max)
        && min > max
    {
        errs.push(FormError::with(&f.key, "schema_range", &f.key));
    }
    if f.kind == FieldKind::Group {
        if nested {
            errs.push(FormError::with(&f.key, "schema_nested", &f.key));
        }
        if f.fields.is_empty() {
            errs.push(FormError::with(&f.key, "schema_group_empty", &f.key));
        }
        let mut inner = BTreeSet::new();
        for sub in &f.fields {
            if matches!(sub.kind, FieldKind::File | FieldKind::Group) {
                errs.push(FormError::with(&sub.key, "schema_nested", &sub.key));
            }
            if !inner.insert(sub.key.clone()) {
                errs.push(FormError::with(&sub.key, "schema_duplicate", &sub.key));
            }
            check_field(sub, seen, errs, true);
        }
    }
}

fn validate_field(
    f: &Field,
    name: &str,
    answers: &Answers,
    files: &BTreeMap<String, usize>,
    errs: &mut Vec<FormError>,
) {
    let value = answers.get(name).map(|v| v.trim()).unwrap_or("");
    match f.kind {
        FieldKind::File => {
            if f.required && files.get(name).copied().unwrap_or(0) == 0 {
                errs.push(FormError::new(name, "file_required"));
            }
        }
        FieldKind::Address => {
            for part in ADDRESS_PARTS {
                let key = format!("{name}.{part}");
                let v = answers.get(&key).map(|v| v.trim()).unwrap_or("");
                if v.is_empty() && f.required {
                    errs.push(FormError::new(key, "required"));
                } else if v.chars().count() > 200 {
                    errs.push(FormError::new(key, "too_long"));
                }
            }
        }
        FieldKind::Group => {
            let rows = FormSchema::rows(answers, name);
            let max = f.max_items.unwrap_or(DEFAULT_MAX_ITEMS);
            if rows > max {
                errs.push(FormError::with(name, "too_many_rows", max.to_string()));
            }
            let mut filled = 0;
            for i in 0..rows.min(max) {
                let any = f.fields.iter().any(|s| {
                    answers
                        .get(&format!("{name}.{i}.{}", s.key))
                        .is_some_and(|v| !v.trim().is_empty())
                });
                // A blank extra row is ignored rather than refused.
                if !any && (i > 0 || !f.required) {
                    continue;
                }
                filled += 1;
                for sub in &f.fields {
                    validate_field(
                        sub,
                        &format!("{name}.{i}.{}", sub.key),
                        answers,
                        files,
                        errs,
                    );
                }
            }
            if f.required && filled == 0 {
                errs.push(FormError::new(name, "required"));
            }
        }
        _ if value.is_empty() => {
            if f.required {
                errs.push(FormError::new(name, "required"));
            }
        }
        // `normalize` names only the applicant's own companies.
        FieldKind::Company => {
            if !answers.contains_key(&format!("{name}.name")) {
                errs.push(FormError::new(name, "company_not_yours"));
            }
        }
        kind => {
            if let Some(code) = check_value(f, kind, value) {
                errs.push(FormError::with(name, code, value_detail(f)));
            }
        }
    }
}

fn value_detail(f: &Field) -> String {
    match (f.min, f.max, f.max_len) {
        (Some(a), Some(b), _) => format!("{a}–{b}"),
        (Some(a), None, _) => format!("≥ {a}"),
        (None, Some(b), _) => format!("≤ {b}"),
        (None, None, Some(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// The problem with a non-empty value, if any.
fn check_value(f: &Field, kind: FieldKind, value: &str) -> Option<&'static str> {
    let in_range = |n: f64| f.min.is_none_or(|m| n >= m) && f.max.is_none_or(|m| n <= m);
    match kind {
        FieldKind::Text | FieldKind::Textarea => {
            let limit = f
                .max_len
                .unwrap_or(if kind == FieldKind::Text { 200 } else { 2000 });
            (value.chars().count() > limit).then_some("too_long")
        }
        FieldKind::Number => match value.parse::<f64>() {
            Ok(n) if n.is_finite() => (!in_range(n)).then_some("out_of_range"),
            _ => Some("invalid_number"),
        },
        FieldKind::Money => match parse_money(value) {
            Some(fen) => (!in_range(fen as f64 / 100.0)).then_some("out_of_range"),
            None => Some("invalid_money"),
        },
        FieldKind::Date => NaiveDate::parse_from_str(value, "%Y-%m-%d")
            .is_err()
            .then_some("invalid_date"),
        FieldKind::Choice => (!f.options.iter().any(|o| o == value)).then_some("invalid_choice"),
        FieldKind::MultiChoice => value
            .lines()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .any(|v| !f.options.iter().any(|o| o == v))
            .then_some("invalid_choice"),
        FieldKind::Rating => match value.parse::<u32>() {
            Ok(n) if (1..=f.rating_max()).contains(&n) => None,
            _ => Some("out_of_range"),
        },
        FieldKind::IdNumber => IdNumber::parse(value)
            .is_err()
            .then_some("invalid_id_number"),
        FieldKind::Uscc => Uscc::parse(value).is_err().then_some("invalid_uscc"),
        FieldKind::Phone => Phone::parse(value).is_err().then_some("invalid_phone"),
        FieldKind::Address | FieldKind::File | FieldKind::Group | FieldKind::Company => None,
    }
}

/// Yuan as typed (`1200`, `1200.5`, `1,200.50`) to fen.
pub fn parse_money(s: &str) -> Option<i64> {
    let s = s.trim().replace([',', '，'], "");
    let s = s.strip_prefix('¥').unwrap_or(&s);
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() || !whole.chars().all(|c| c.is_ascii_digit()) || frac.len() > 2 {
        return None;
    }
    if !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let yuan: i64 = whole.parse().ok()?;
    let fen: i64 = format!("{frac:0<2}").parse().ok()?;
    yuan.checked_mul(100)?.checked_add(fen)
}

fn compute(c: &Compute, answers: &Answers, today: chrono::NaiveDate) -> String {
    match c {
        Compute::AgeFromId(key) => answers
            .get(key)
            .and_then(|v| IdNumber::parse(v).ok())
            .and_then(|id| age_on(id.as_str(), today))
            .map(|a| a.to_string())
            .unwrap_or_default(),
        Compute::Sum(keys) => {
            let total: i64 = keys
                .iter()
                .filter_map(|k| answers.get(k))
                .filter_map(|v| parse_money(v))
                .sum();
            if total % 100 == 0 {
                (total / 100).to_string()
            } else {
                format!("{}.{:02}", total / 100, total % 100)
            }
        }
    }
}

/// Whole years of age on `day` of the holder of an 18-digit 身份证号.
pub fn age_on(id: &str, day: NaiveDate) -> Option<i32> {
    let birth = NaiveDate::parse_from_str(id.get(6..14)?, "%Y%m%d").ok()?;
    let mut age = day.year() - birth.year();
    if (day.month(), day.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    (age >= 0).then_some(age)
}

pub(crate) fn field(key: &str, label: &str, kind: FieldKind, required: bool) -> Field {
    Field {
        key: key.into(),
        label: label.into(),
        kind,
        required,
        help: String::new(),
        options: Vec::new(),
        show_if: None,
        prefill: None,
        compute: None,
        min: None,
        max: None,
        max_len: None,
        fields: Vec::new(),
        max_items: None,
        material: String::new(),
    }
}

/// The delivery choices every default form offers (送达方式).
pub const DELIVERY_CHOICES: [&str; 3] = ["网上下载", "窗口领取", "邮寄送达"];

/// The form an item gets until staff publish one: the applicant, the
/// request with a delivery choice, and one upload per material.
pub fn default_schema(item: &ServiceItem) -> FormSchema {
    let mut applicant = vec![
        Field {
            prefill: Some(Prefill::Name),
            max_len: Some(50),
            ..field("applicant_name", "申请人姓名", FieldKind::Text, true)
        },
        Field {
            prefill: Some(Prefill::IdNumber),
            ..field("applicant_id", "公民身份号码", FieldKind::IdNumber, true)
        },
        Field {
            prefill: Some(Prefill::Phone),
            help: "办理进度和结果通过此号码短信告知".into(),
            ..field("applicant_phone", "联系电话", FieldKind::Phone, true)
        },
        field("address", "联系地址", FieldKind::Address, true),
    ];
    if item.audience != Audience::Person {
        applicant.push(Field {
            help: "只能选择您是法定代表人或经办人的单位（在“个人中心 → 我的单位”中登记或获得授权）；以个人名义申请请留空".into(),
            ..field("company", "以单位名义申请", FieldKind::Company, false)
        });
    }
    // 依申请公开 (政府信息公开条例 第二十九条): the information sought,
    // described so the office can find it, and the form it is wanted in.
    let mut request = if item.item_type == ItemType::Disclosure {
        vec![
            Field {
                help: "写明所需政府信息的名称、文号，或者发布机关、时间、内容等便于查找的特征；一份申请书宜只申请一项信息".into(),
                max_len: Some(2000),
                ..field("information", "所需政府信息的描述", FieldKind::Textarea, true)
            },
            Field {
                max_len: Some(100),
                ..field("doc_number", "文号（知道时填写）", FieldKind::Text, false)
            },
            Field {
                options: vec!["电子文档".into(), "纸质文本".into()],
                ..field("medium", "信息的载体形式", FieldKind::Choice, true)
            },
        ]
    } else {
        vec![Field {
            help: "简要说明申请的事由".into(),
            max_len: Some(1000),
            ..field("reason", "申请事由", FieldKind::Textarea, true)
        }]
    };
    request.extend([
        Field {
            options: DELIVERY_CHOICES.iter().map(|s| s.to_string()).collect(),
            ..field("delivery", "结果送达方式", FieldKind::Choice, true)
        },
        Field {
            show_if: Some(ShowIf {
                field: "delivery".into(),
                equals: vec!["邮寄送达".into()],
            }),
            help: "邮寄费用由申请人承担的事项，以办事指南为准".into(),
            ..field("mail_address", "邮寄地址", FieldKind::Text, true)
        },
    ]);
    let mut pages = vec![
        FormPage {
            title: "申请人信息".into(),
            fields: applicant,
        },
        FormPage {
            title: if item.item_type == ItemType::Disclosure {
                "申请公开的政府信息".into()
            } else {
                "申请事项".into()
            },
            fields: request,
        },
    ];
    let uploads: Vec<Field> = item
        .materials
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let optional = m.name.contains("如有") || m.note.contains("如有");
            Field {
                help: if m.note.is_empty() {
                    format!("{}，{} 份", m.form, m.count)
                } else {
                    format!("{}，{} 份。{}", m.form, m.count, m.note)
                },
                material: m.name.clone(),
                ..field(&format!("m{}", i + 1), &m.name, FieldKind::File, !optional)
            }
        })
        .collect();
    if !uploads.is_empty() {
        pages.push(FormPage {
            title: "申请材料".into(),
            fields: uploads,
        });
    }
    FormSchema {
        title: item.name.clone(),
        pages,
    }
}

#[cfg(test)]
mod tests;
