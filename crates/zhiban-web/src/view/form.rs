//! Smart forms as HTML: every field of a schema turned into what the
//! templates print (ids, names, values, errors, hints), so one partial
//! renders applications, corrections and the editor's preview. Works
//! without JavaScript; `data-show-*` attributes let site.js hide and show
//! conditional fields as the applicant answers.

use crate::view::PageCtx;
use std::collections::BTreeMap;
use zhiban_domain::cases::CaseFile;
use zhiban_domain::forms::{
    ADDRESS_PARTS, Answers, Field, FieldKind, FormError, FormSchema, Prefill, Profile,
};
use zhiban_domain::identity::ids::{mask_id_number, mask_name, mask_phone};

#[derive(Debug, Clone)]
pub struct PartView {
    pub name: String,
    pub id: String,
    pub label: String,
    pub value: String,
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct FileView {
    pub id: i64,
    pub name: String,
    pub size: String,
}

/// One e-license as a file field offers it (免证办).
#[derive(Debug, Clone)]
pub struct LicenseChoice {
    pub type_name: String,
    pub number: String,
    /// The check result, in the visitor's language.
    pub status: String,
}

/// 免证办 on a file field: the license authorised for it, or the ones the
/// applicant holds that could stand in for the upload.
#[derive(Debug, Clone, Default)]
pub struct LicenseOffer {
    pub authorised: Option<LicenseChoice>,
    pub usable: Vec<LicenseChoice>,
}

#[derive(Debug, Clone)]
pub struct FieldView {
    /// File fields: the upload limit per file, in MB.
    pub max_file_mb: u64,
    pub name: String,
    pub id: String,
    pub label: String,
    /// text, textarea, number, date, radio, select, id_number, uscc, phone,
    /// money, address, file, group, computed
    pub kind: &'static str,
    pub required: bool,
    pub help: String,
    pub value: String,
    pub options: Vec<String>,
    pub error: Option<String>,
    /// Filled from verified identity, or worked out by the form.
    pub locked: bool,
    /// Why a locked field cannot be changed (empty: the applicant's own
    /// verified identity).
    pub locked_note: String,
    /// The input name this field depends on, and the values that show it.
    pub show_field: String,
    pub show_values: String,
    /// Words for people without JavaScript: when to fill this in.
    pub show_hint: String,
    pub parts: Vec<PartView>,
    pub rows: Vec<Vec<FieldView>>,
    pub files: Vec<FileView>,
    /// For text inputs: `inputmode`, `maxlength`, `autocomplete`.
    pub inputmode: &'static str,
    pub maxlength: usize,
    pub autocomplete: &'static str,
    /// Message site.js shows when the browser finds the value invalid.
    pub invalid_msg: String,
    pub pattern: &'static str,
    /// For file fields: e-licenses that can be used instead of an upload.
    pub license: Option<LicenseOffer>,
    /// For a company field: the applicant's companies (code, name).
    pub companies: Vec<(String, String)>,
}

impl FieldView {
    /// A multiple-choice option is among the answers (one per line).
    pub fn selected(&self, option: &str) -> bool {
        self.value.lines().any(|v| v.trim() == option)
    }

    pub fn has_error(&self) -> bool {
        self.error.is_some()
    }

    /// A file field supplied by an authorised e-license: no upload needed.
    pub fn licensed(&self) -> bool {
        self.license
            .as_ref()
            .is_some_and(|l| l.authorised.is_some())
    }
}

/// Human size: 1.2 MB, 340 KB.
pub fn size_text(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / 1024.0 / 1024.0)
    } else {
        format!("{} KB", (bytes / 1024).max(1))
    }
}

/// A translated message for one form problem.
pub fn error_text(ctx: &PageCtx, e: &FormError) -> String {
    let text = ctx.t(&format!("forms.err_{}", e.code));
    if e.detail.is_empty() {
        text
    } else if text.contains("%{n}") {
        text.replace("%{n}", &e.detail)
    } else {
        format!("{text}（{}）", e.detail)
    }
}

fn dom_id(name: &str) -> String {
    format!("f-{}", name.replace('.', "-"))
}

pub struct Builder<'a> {
    pub ctx: &'a PageCtx,
    pub schema: &'a FormSchema,
    pub answers: &'a Answers,
    pub errors: &'a [FormError],
    pub files: &'a [CaseFile],
    pub profile: &'a Profile,
    /// The upload limit per file, stated before anyone uploads.
    pub max_file_mb: u64,
}

impl Builder<'_> {
    fn error(&self, name: &str) -> Option<String> {
        self.errors
            .iter()
            .find(|e| e.key == name)
            .map(|e| error_text(self.ctx, e))
    }

    /// The fields of one page.
    pub fn page(&self, index: usize) -> Vec<FieldView> {
        self.schema
            .pages
            .get(index)
            .map(|p| p.fields.iter().map(|f| self.field(f, &f.key)).collect())
            .unwrap_or_default()
    }

    pub fn field(&self, f: &Field, name: &str) -> FieldView {
        let value = self.answers.get(name).cloned().unwrap_or_default();
        let locked = f.compute.is_some() || f.prefill.is_some_and(|p| self.profile.locks(p));
        let (show_field, show_values, show_hint) = match &f.show_if {
            Some(c) => {
                let label = self
                    .schema
                    .field(&c.field)
                    .map(|x| x.label.clone())
                    .unwrap_or_default();
                (
                    c.field.clone(),
                    c.equals.join("|"),
                    self.ctx
                        .t("forms.show_when")
                        .replace("%{field}", &label)
                        .replace("%{values}", &c.equals.join(" / ")),
                )
            }
            None => Default::default(),
        };
        let (inputmode, maxlength, autocomplete, pattern, invalid) = match f.kind {
            FieldKind::Phone => (
                "tel",
                11,
                "tel",
                "1[3-9][0-9]{9}",
                "forms.err_invalid_phone",
            ),
            FieldKind::IdNumber => (
                "text",
                18,
                "off",
                "[0-9]{17}[0-9Xx]",
                "forms.err_invalid_id_number",
            ),
            FieldKind::Uscc => (
                "text",
                18,
                "off",
                "[0-9A-HJ-NPQRTUWXY]{18}",
                "forms.err_invalid_uscc",
            ),
            FieldKind::Number => ("decimal", 20, "off", "", "forms.err_invalid_number"),
            FieldKind::Money => ("decimal", 20, "off", "", "forms.err_invalid_money"),
            FieldKind::Textarea => (
                "text",
                f.max_len.unwrap_or(2000),
                "off",
                "",
                "forms.err_too_long",
            ),
            _ => (
                "text",
                f.max_len.unwrap_or(200),
                "off",
                "",
                "forms.err_required",
            ),
        };
        let autocomplete = match f.prefill {
            Some(zhiban_domain::forms::Prefill::Name) => "name",
            _ => autocomplete,
        };
        let kind = match f.kind {
            _ if f.compute.is_some() => "computed",
            FieldKind::Text => "text",
            FieldKind::Textarea => "textarea",
            FieldKind::Number => "number",
            FieldKind::Date => "date",
            FieldKind::Choice if f.options.len() <= 4 => "radio",
            FieldKind::Choice => "select",
            FieldKind::MultiChoice => "checkboxes",
            FieldKind::Rating => "radio",
            FieldKind::IdNumber => "id_number",
            FieldKind::Uscc => "uscc",
            FieldKind::Phone => "phone",
            FieldKind::Address => "address",
            FieldKind::Money => "money",
            FieldKind::File => "file",
            FieldKind::Group => "group",
            FieldKind::Company => "company",
        };
        let parts = if f.kind == FieldKind::Address {
            ADDRESS_PARTS
                .iter()
                .map(|p| {
                    let n = format!("{name}.{p}");
                    PartView {
                        id: dom_id(&n),
                        label: self.ctx.t(&format!("forms.address_{p}")),
                        value: self.answers.get(&n).cloned().unwrap_or_default(),
                        error: self.error(&n),
                        name: n,
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        let rows = if f.kind == FieldKind::Group {
            (0..FormSchema::rows(self.answers, name))
                .map(|i| {
                    f.fields
                        .iter()
                        .map(|sub| self.field(sub, &format!("{name}.{i}.{}", sub.key)))
                        .collect()
                })
                .collect()
        } else {
            Vec::new()
        };
        let files = if f.kind == FieldKind::File {
            self.files
                .iter()
                .filter(|x| x.field_key == name && x.replaced == 0 && x.kind == "material")
                .map(|x| FileView {
                    id: x.id,
                    name: x.file_name.clone(),
                    size: size_text(x.size),
                })
                .collect()
        } else {
            Vec::new()
        };
        FieldView {
            name: name.to_string(),
            id: dom_id(name),
            label: f.label.clone(),
            kind,
            required: f.required,
            help: f.help.clone(),
            value,
            options: if f.kind == FieldKind::Rating {
                (1..=f.rating_max()).map(|n| n.to_string()).collect()
            } else {
                f.options.clone()
            },
            error: self.error(name),
            locked,
            locked_note: String::new(),
            show_field: show_field.clone(),
            show_values,
            show_hint,
            parts,
            rows,
            files,
            inputmode,
            maxlength,
            autocomplete,
            invalid_msg: self.ctx.t(invalid),
            pattern,
            license: None,
            companies: if f.kind == FieldKind::Company {
                self.profile.companies.clone()
            } else {
                Vec::new()
            },
            max_file_mb: self.max_file_mb,
        }
    }
}

/// Who reads answers, and so how much of the personal data in them shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reveal {
    /// Staff with 查看群众个人信息: everything as typed.
    Everything,
    /// The applicant on their own pages: identity numbers and phones masked
    /// against shoulder-surfing, the rest as typed.
    Applicant,
    /// Staff without 查看群众个人信息: identity numbers, phones, names and
    /// anything else filled in from the applicant's identity, and the
    /// street part of addresses, masked.
    Masked,
}

/// One answer as text for review pages and the case file: choices and
/// plain text as typed, addresses joined, rows counted out, personal data
/// masked as `reveal` says.
pub fn answer_text(f: &Field, name: &str, answers: &Answers, reveal: Reveal) -> String {
    let v = answers.get(name).map(|s| s.trim()).unwrap_or("");
    let part = |p: &str| {
        answers
            .get(&format!("{name}.{p}"))
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    let masked = reveal == Reveal::Masked;
    match (f.kind, f.prefill, reveal) {
        (FieldKind::Address, _, _) => ADDRESS_PARTS
            .iter()
            .map(|p| match *p {
                "detail" if masked && !part(p).is_empty() => "****".to_string(),
                _ => part(p),
            })
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
        (FieldKind::Company, _, _) => company_text(name, answers),
        (FieldKind::Money, _, _) if !v.is_empty() => format!("{v} 元"),
        (_, _, Reveal::Everything) => v.to_string(),
        (FieldKind::IdNumber, _, _) | (_, Some(Prefill::IdNumber), _) => mask_id_number(v),
        (FieldKind::Phone, _, _) | (_, Some(Prefill::Phone), _) => mask_phone(v),
        (_, Some(Prefill::Name), Reveal::Masked) => mask_name(v),
        _ => v.to_string(),
    }
}

/// A company answer: its name from the record, and its code.
fn company_text(name: &str, answers: &Answers) -> String {
    let code = answers.get(name).map(|s| s.trim()).unwrap_or("");
    let company = answers
        .get(&format!("{name}.name"))
        .map(|s| s.trim())
        .unwrap_or("");
    match (company.is_empty(), code.is_empty()) {
        (_, true) => String::new(),
        (true, false) => code.to_string(),
        (false, false) => format!("{company}（{code}）"),
    }
}

/// A summary row for review pages: (label, text) per field and group row.
#[derive(Debug, Clone)]
pub struct AnswerRow {
    pub label: String,
    pub text: String,
    pub page: usize,
    /// Filled from verified identity: nothing to change on the form.
    pub locked: bool,
}

/// Every visible answer in page order, with group rows spelled out.
pub fn summary(schema: &FormSchema, answers: &Answers, reveal: Reveal) -> Vec<AnswerRow> {
    let mut out = Vec::new();
    for (pi, page) in schema.pages.iter().enumerate() {
        for f in &page.fields {
            if !schema.visible(f, answers) || f.kind == FieldKind::File {
                continue;
            }
            if f.kind == FieldKind::Group {
                for i in 0..FormSchema::rows(answers, &f.key) {
                    let parts: Vec<String> = f
                        .fields
                        .iter()
                        .map(|s| {
                            answer_text(s, &format!("{}.{i}.{}", f.key, s.key), answers, reveal)
                        })
                        .filter(|t| !t.is_empty())
                        .collect();
                    if !parts.is_empty() {
                        out.push(AnswerRow {
                            label: format!("{} {}", f.label, i + 1),
                            text: parts.join("，"),
                            page: pi,
                            locked: false,
                        });
                    }
                }
                continue;
            }
            out.push(AnswerRow {
                label: f.label.clone(),
                text: answer_text(f, &f.key, answers, reveal),
                page: pi,
                locked: false,
            });
        }
    }
    out
}

/// Files grouped by the material they supply, for review and case pages.
pub fn materials(schema: &FormSchema, files: &[CaseFile]) -> Vec<(String, String, Vec<CaseFile>)> {
    let mut by_key: BTreeMap<&str, Vec<CaseFile>> = BTreeMap::new();
    for f in files.iter().filter(|f| f.kind == "material") {
        by_key
            .entry(f.field_key.as_str())
            .or_default()
            .push(f.clone());
    }
    schema
        .file_fields()
        .map(|f| {
            (
                f.key.clone(),
                f.label.clone(),
                by_key.remove(f.key.as_str()).unwrap_or_default(),
            )
        })
        .collect()
}
