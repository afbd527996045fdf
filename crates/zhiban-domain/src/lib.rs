//! Zhiban's domain: one module per area. Each area owns its types (parsed
//! once, at the edge), its rules and its queries. Nothing here knows about
//! HTTP or HTML.

pub mod assistant;
pub mod bundles;
pub mod cases;
pub mod catalog;
pub mod changes;
pub mod consultations;
pub mod content;
pub mod demo;
pub mod forms;
pub mod geo;
pub mod housekeeping;
pub mod identity;
pub mod interviews;
pub mod jobs;
pub mod keys;
pub mod licenses;
pub mod notify;
pub mod opinion;
pub mod payments;
pub mod pii;
pub mod privacy;
pub mod ratings;
pub mod recommend;
pub mod requests;
pub mod search_docs;
pub mod search_terms;
pub mod signing;
pub mod time;
pub mod tips;
pub mod worker;
pub use identity::staff;
pub mod audit;

pub use zhiban_store::{Db, StoreError, Tx};

/// Who did something, as written into histories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorName(pub String);

/// Errors every area can return; areas add their own variants through
/// [`DomainError::Invalid`] (field-level problems) and [`DomainError::NotFound`].
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("not found")]
    NotFound,
    /// Outside the actor's data scope (already audited): answered exactly
    /// like a missing record.
    #[error("outside scope")]
    OutOfScope,
    /// A city-level setting and the actor is a unit's account (already
    /// audited): the web answers 403 saying so.
    #[error("city-level setting")]
    CityLevel,
    #[error("invalid input: {0:?}")]
    Invalid(Vec<FieldError>),
    /// Refused because of the state things are in (the web answers 409).
    #[error("conflict: {}", .0.code())]
    Conflict(Conflict),
    /// Something that should not fail did (a serialisation, a key); the
    /// web answers 500 and logs this.
    #[error("internal: {0}")]
    Internal(&'static str),
    /// Answers of a form that do not validate, keyed by input name.
    #[error("invalid form answers: {0:?}")]
    Form(Vec<forms::FormError>),
    #[error("file store: {0}")]
    Files(String),
    /// A message could not be handed to its gateway (SMTP, SMS).
    #[error("delivery: {0}")]
    Delivery(String),
    #[error(transparent)]
    Login(#[from] identity::staff::LoginError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for DomainError {
    fn from(e: sqlx::Error) -> Self {
        DomainError::Store(StoreError::Sqlx(e))
    }
}

/// Why a write was refused because of the state things are in. Each has a
/// stable code; the web layer shows the translation of `conflict.<code>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// Someone else saved a newer version since this one was read.
    Stale,
    /// The code is already taken by another record.
    CodeTaken,
    /// The step is not possible in the record's current state (or not for
    /// this person).
    NotAllowed,
    /// The license was revoked before.
    AlreadyRevoked,
    /// Built-in roles cannot be changed.
    BuiltinRole,
    /// The person's real-name level is below what the service needs.
    RealnameLevel,
    /// There is no draft to publish.
    NoDraft,
    /// A reviewer may not pass or reject text they wrote themselves.
    OwnText,
    /// One person passes only one review stage of the same text.
    SameReviewer,
    /// The person's own key is not with this session (signed in before
    /// they chose their password, or before keys existed).
    NoPersonalKey,
    /// No colleague has granted this person their unit's tip key yet.
    NoTipKey,
    /// The case (or visit) has been rated already: one rating each.
    AlreadyRated,
}

impl Conflict {
    pub const ALL: [Conflict; 12] = [
        Conflict::Stale,
        Conflict::CodeTaken,
        Conflict::NotAllowed,
        Conflict::AlreadyRevoked,
        Conflict::BuiltinRole,
        Conflict::RealnameLevel,
        Conflict::NoDraft,
        Conflict::OwnText,
        Conflict::SameReviewer,
        Conflict::NoPersonalKey,
        Conflict::NoTipKey,
        Conflict::AlreadyRated,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Conflict::Stale => "stale",
            Conflict::CodeTaken => "code_taken",
            Conflict::NotAllowed => "not_allowed",
            Conflict::AlreadyRevoked => "already_revoked",
            Conflict::BuiltinRole => "builtin_role",
            Conflict::RealnameLevel => "realname_level",
            Conflict::NoDraft => "no_draft",
            Conflict::OwnText => "own_text",
            Conflict::SameReviewer => "same_reviewer",
            Conflict::NoPersonalKey => "no_personal_key",
            Conflict::NoTipKey => "no_tip_key",
            Conflict::AlreadyRated => "already_rated",
        }
    }
}

impl From<Conflict> for DomainError {
    fn from(c: Conflict) -> Self {
        DomainError::Conflict(c)
    }
}

/// One problem with one field. `code` is stable: the web layer translates it,
/// the CLI prints [`FieldError::message_zh`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub code: &'static str,
    /// Extra detail, such as the offending value or line.
    pub detail: String,
}

impl FieldError {
    pub fn new(field: &'static str, code: &'static str, detail: impl Into<String>) -> Self {
        FieldError {
            field,
            code,
            detail: detail.into(),
        }
    }

    /// The message in Chinese, for the command line and logs.
    pub fn message_zh(&self) -> String {
        let field = catalog::field_label_zh(self.field);
        let what = match self.code {
            "required" => "不能为空",
            "too_long" => "过长",
            "invalid_code" => "只能包含字母、数字和连字符",
            "invalid_choice" => "不是可选的值",
            "invalid_number" => "必须是非负整数",
            "promised_exceeds_legal" => "承诺时限不能大于法定时限",
            "invalid_material" => "格式应为“名称|形式|份数|电子证照替代|备注”",
            "invalid_step" => "格式应为“环节|说明”",
            "unknown_department" => "部门编码不存在",
            "duplicate_code" => "事项编码在文件中重复",
            "missing_column" => "缺少列",
            "unreadable" => "无法读取",
            "weak_password" => "至少8位，且包含大写字母、小写字母、数字、符号中的三类",
            "invalid_redirect_uri" => {
                "必须是 https:// 开头的完整地址（本机测试可用 http://127.0.0.1）"
            }
            "invalid_phone" => "应为 11 位手机号码",
            "invalid_id_number" => "身份证号码不正确",
            _ => "无效",
        };
        if self.detail.is_empty() {
            format!("{field}{what}")
        } else {
            format!("{field}{what}：{}", self.detail)
        }
    }
}
