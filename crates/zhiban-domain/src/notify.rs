//! Notifications (notify): an in-site message, an SMS and (when the person
//! gave an address) an email on every step of a case the applicant should
//! know about, in wording staff can edit. Messages are written in the same
//! transaction as the step; texts and emails go out through the jobs
//! table, so a gateway outage delays them instead of losing them. Email
//! goes through a real SMTP client (lettre) to the configured server.

use serde::{Deserialize, Serialize};

use crate::audit::{self, Entry};
use crate::identity::ids::Phone;
use crate::identity::sms::{SendFuture, SmsGateway};
use crate::identity::staff::StaffSession;
use crate::jobs;
use crate::{Db, DomainError, FieldError, Tx};

/// Placeholders a template may use.
pub const PLACEHOLDERS: [&str; 4] = ["{办件编号}", "{事项名称}", "{说明}", "{查询地址}"];

/// Events with a message, and their built-in wording (title, body).
pub const DEFAULTS: &[(&str, &str, &str)] = &[
    (
        "extend",
        "答复期限已延长",
        "您的政府信息公开申请 {办件编号} 答复期限已延长。{说明}",
    ),
    (
        "answer",
        "政府信息公开申请已答复",
        "您的政府信息公开申请 {办件编号} 已答复：{说明}。答复书可在“我的办件”中查看。",
    ),
    (
        "submit",
        "申请已提交",
        "您申请的“{事项名称}”已提交，办件编号 {办件编号}。工作人员将在规定时限内受理。查询进度：{查询地址}",
    ),
    (
        "bundle",
        "一件事申请已提交",
        "您申请的“{事项名称}”已一次提交，编号 {办件编号}，包含：{说明}。各事项由相关部门分别办理，进度可在“我的办件”中查看。",
    ),
    (
        "release",
        "事项开始办理",
        "您的办件 {办件编号}（{事项名称}）的前序事项已办结，本事项已转入受理。{说明}",
    ),
    (
        "halt",
        "事项终止办理",
        "您的办件 {办件编号}（{事项名称}）因{说明}，终止办理。",
    ),
    (
        "accept",
        "申请已受理",
        "您的办件 {办件编号}（{事项名称}）已受理，正在审查。{说明}",
    ),
    (
        "reject",
        "申请不予受理",
        "您的办件 {办件编号}（{事项名称}）不予受理。理由：{说明}",
    ),
    (
        "correct",
        "请补正材料",
        "您的办件 {办件编号}（{事项名称}）需要补正：{说明}。请登录后在“我的办件”中修改并重新提交。",
    ),
    (
        "approve",
        "申请已获准予",
        "您的办件 {办件编号}（{事项名称}）已审批通过。{说明}",
    ),
    (
        "deny",
        "申请未获准予",
        "您的办件 {办件编号}（{事项名称}）决定不予许可。理由：{说明}",
    ),
    (
        "conclude",
        "办件已办结",
        "您的办件 {办件编号}（{事项名称}）已办结，结果将按您选择的方式送达。欢迎在“我的办件”中对本次服务进行评价。",
    ),
    (
        "deliver",
        "办理结果已送达",
        "您的办件 {办件编号}（{事项名称}）办理结果已送达：{说明}",
    ),
    (
        "suspend",
        "办件进入特别程序",
        "您的办件 {办件编号}（{事项名称}）进入特别程序，期间不计入办理时限：{说明}",
    ),
    (
        "transfer",
        "办件已转办",
        "您的办件 {办件编号}（{事项名称}）已{说明}。",
    ),
    (
        "request-submit",
        "诉求已提交",
        "您的{事项名称}诉求已提交，编号 {办件编号}，将在{说明}。查看进度：{查询地址}",
    ),
    (
        "request-dispatch",
        "诉求已派单",
        "您的{事项名称}诉求 {办件编号} 已受理并{说明}。",
    ),
    (
        "request-reject",
        "诉求不予受理",
        "您的{事项名称}诉求 {办件编号} 不予受理。理由：{说明}",
    ),
    (
        "request-merge",
        "诉求已合并办理",
        "您的{事项名称}诉求 {办件编号} 与同一问题的诉求合并办理，答复将同时告知您。{说明}",
    ),
    (
        "request-extend",
        "诉求答复期限已延长",
        "您的{事项名称}诉求 {办件编号}：{说明}。",
    ),
    (
        "request-answer",
        "诉求已答复",
        "您的{事项名称}诉求 {办件编号} 已答复：{说明} 请在“我的诉求”中评价：{查询地址}",
    ),
    (
        "request-reopen",
        "诉求已重新办理",
        "您对诉求 {办件编号} 的答复不满意，已交承办单位重新办理。",
    ),
    (
        "fee-due",
        "请缴纳费用",
        "您的办件 {办件编号}（{事项名称}）需缴纳费用 {说明} 元，请在规定时间内登录后缴费：{查询地址}",
    ),
    (
        "fee-paid",
        "缴费成功",
        "您已为办件 {办件编号}（{事项名称}）缴费 {说明} 元，电子票据可在“我的缴费”中查看下载。",
    ),
    (
        "rating-fixed",
        "差评整改结果",
        "您对“{事项名称}”的评价已收到，承办单位已核实并整改：{说明}。工作人员将与您回访联系；如对结果不满意，可在评价页面申诉一次。",
    ),
    (
        "rating-unfounded",
        "差评核实结果",
        "您对“{事项名称}”的评价已收到，承办单位核实后说明如下：{说明}。工作人员将与您回访联系；如有异议，可在评价页面申诉一次。",
    ),
    (
        "withdraw",
        "申请已撤回",
        "您的办件 {办件编号}（{事项名称}）已按您的要求撤回。",
    ),
];

#[derive(Debug, Clone, Serialize)]
pub struct Template {
    pub event: String,
    pub title: String,
    pub body: String,
    /// Staff changed the built-in wording.
    pub custom: bool,
}

/// Every event's wording, built-in or edited.
pub async fn templates(db: &Db) -> Result<Vec<Template>, DomainError> {
    let saved: Vec<(String, String, String)> =
        sqlx::query_as("SELECT event, title, body FROM notify_templates")
            .fetch_all(db.pool())
            .await?;
    Ok(DEFAULTS
        .iter()
        .map(
            |(event, title, body)| match saved.iter().find(|s| s.0 == *event) {
                Some((_, t, b)) => Template {
                    event: event.to_string(),
                    title: t.clone(),
                    body: b.clone(),
                    custom: true,
                },
                None => Template {
                    event: event.to_string(),
                    title: title.to_string(),
                    body: body.to_string(),
                    custom: false,
                },
            },
        )
        .collect())
}

/// Saves staff wording for one event; an empty body restores the built-in text.
pub async fn save_template(
    db: &Db,
    actor: &StaffSession,
    event: &str,
    title: &str,
    body: &str,
) -> Result<(), DomainError> {
    if !DEFAULTS.iter().any(|(e, _, _)| *e == event) {
        return Err(DomainError::NotFound);
    }
    // The wording reaches every applicant of the city: a city-level setting.
    crate::identity::scope::require_city(db, actor, &format!("notify:{event}")).await?;
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM notify_templates WHERE event = $1")
        .bind(event)
        .execute(&mut *tx)
        .await?;
    if !body.trim().is_empty() {
        let mut errs = Vec::new();
        if title.trim().is_empty() || title.chars().count() > 60 {
            errs.push(FieldError::new("title", "required", ""));
        }
        if body.chars().count() > 300 {
            errs.push(FieldError::new("body", "too_long", "300"));
        }
        if let Some(bad) = unknown_placeholder(body) {
            errs.push(FieldError::new("body", "unknown_placeholder", bad));
        }
        if has_link(title) {
            errs.push(FieldError::new("title", "link_not_allowed", ""));
        }
        if has_link(body) {
            errs.push(FieldError::new("body", "link_not_allowed", ""));
        }
        if !errs.is_empty() {
            return Err(DomainError::Invalid(errs));
        }
        sqlx::query(
            "INSERT INTO notify_templates (event, title, body, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(event)
        .bind(title.trim())
        .bind(body.trim())
        .bind(&actor.user.username)
        .bind(db.now().timestamp())
        .execute(&mut *tx)
        .await?;
    }
    audit::append(
        &mut tx,
        &Entry::staff(&actor.user.username, "notify.template", event),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Whether wording carries an address of its own. Texts go out under the
/// government's name, so the only link a template may hold is
/// `{查询地址}` (this portal's progress page); anything that reads as a web
/// address is refused, however it is spelled: full-width letters, `。`
/// for the dot, spaces in between.
pub fn has_link(text: &str) -> bool {
    let plain: Vec<char> = text
        .chars()
        .filter_map(|c| {
            let c = match c {
                '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
                '。' | '｡' | '·' => '.',
                other => other,
            };
            (!c.is_whitespace()).then(|| c.to_ascii_lowercase())
        })
        .collect();
    let text: String = plain.iter().collect();
    if text.contains("://") || text.contains("www.") {
        return true;
    }
    // `name.tld`: a letter or digit, a dot, then two letters or more.
    plain.windows(4).any(|w| {
        (w[0].is_ascii_alphanumeric() || w[0] == '-')
            && w[1] == '.'
            && w[2].is_ascii_alphabetic()
            && w[3].is_ascii_alphabetic()
    })
}

fn unknown_placeholder(body: &str) -> Option<String> {
    let mut rest = body;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').map(|e| start + e + 1)?;
        let token = &rest[start..end];
        if !PLACEHOLDERS.contains(&token) {
            return Some(token.to_string());
        }
        rest = &rest[end..];
    }
    None
}

/// What a message is about.
pub struct About<'a> {
    pub citizen_id: Option<i64>,
    pub phone: &'a str,
    pub number: &'a str,
    pub service: &'a str,
    pub note: &'a str,
    /// The public progress page (the portal's own address).
    pub progress_url: &'a str,
}

fn fill(text: &str, a: &About<'_>) -> String {
    text.replace("{办件编号}", a.number)
        .replace("{事项名称}", a.service)
        .replace("{说明}", a.note)
        .replace("{查询地址}", a.progress_url)
}

/// Writes the in-site message and queues the SMS for an event, inside the
/// caller's transaction. Events without wording send nothing.
pub async fn case_event(
    db: &Db,
    conn: &mut Tx,
    event: &str,
    about: &About<'_>,
) -> Result<(), DomainError> {
    let saved: Option<(String, String)> =
        sqlx::query_as("SELECT title, body FROM notify_templates WHERE event = $1")
            .bind(event)
            .fetch_optional(&mut **conn)
            .await?;
    let (title, body) = match saved {
        Some(t) => t,
        None => match DEFAULTS.iter().find(|(e, _, _)| *e == event) {
            Some((_, t, b)) => (t.to_string(), b.to_string()),
            None => return Ok(()),
        },
    };
    let title = fill(&title, about);
    let body = fill(&body, about);
    let now = conn.now().timestamp();
    if let Some(citizen) = about.citizen_id {
        sqlx::query(
            "INSERT INTO messages (citizen_id, case_number, title, body, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(citizen)
        .bind(about.number)
        .bind(&title)
        .bind(&body)
        .bind(now)
        .execute(&mut **conn)
        .await?;
    }
    if Phone::parse(about.phone).is_ok() {
        let payload = serde_json::json!({ "phone": about.phone, "body": crate::identity::sms::signed(&body) });
        jobs::enqueue_sealed(conn, db, "sms", &payload, now).await?;
    }
    if let Some(citizen) = about.citizen_id {
        let email: Option<String> = sqlx::query_scalar("SELECT email FROM citizens WHERE id = $1")
            .bind(citizen)
            .fetch_optional(&mut **conn)
            .await?;
        let email = crate::pii::open_opt(db, crate::pii::ctx::CITIZEN_EMAIL, email.as_deref())?;
        if let Some(to) = email.filter(|e| !e.is_empty()) {
            let payload = serde_json::json!({ "to": to, "subject": title, "body": body });
            jobs::enqueue_sealed(conn, db, "email", &payload, now).await?;
        }
    }
    Ok(())
}

/// Texts the staff of `unit` who hold `perm` (and, for an escalation, the
/// staff of the unit above), inside the caller's transaction: reminders
/// and 督办 of cases and requests.
pub async fn text_unit_staff(
    conn: &mut Tx,
    db: &Db,
    unit: i64,
    escalate: bool,
    perm: crate::identity::Perm,
    text: &str,
) -> Result<(), DomainError> {
    let parent: Option<i64> = sqlx::query_scalar("SELECT parent_id FROM departments WHERE id = $1")
        .bind(unit)
        .fetch_optional(&mut **conn)
        .await?
        .flatten();
    let units = match (escalate, parent) {
        (true, Some(p)) => vec![unit, p],
        _ => vec![unit],
    };
    text_holders(conn, db, Some(&units), perm, text).await
}

/// Texts every staff member who holds `perm` (in `units`, or anywhere),
/// inside the caller's transaction.
pub async fn text_holders(
    conn: &mut Tx,
    db: &Db,
    units: Option<&[i64]>,
    perm: crate::identity::Perm,
    text: &str,
) -> Result<(), DomainError> {
    let mut sql =
        "SELECT DISTINCT u.phone FROM staff_users u JOIN staff_roles sr ON sr.user_id = u.id \
         JOIN role_permissions rp ON rp.role_id = sr.role_id AND rp.permission = $1 \
         WHERE u.disabled = 0 AND u.phone <> ''"
            .to_string();
    if let Some(units) = units {
        let placeholders: Vec<String> = (0..units.len()).map(|i| format!("${}", i + 2)).collect();
        sql.push_str(&format!(" AND u.unit_id IN ({})", placeholders.join(", ")));
    }
    let mut q = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql)).bind(perm.slug());
    for u in units.unwrap_or_default() {
        q = q.bind(*u);
    }
    let mut phones = Vec::new();
    for stored in q.fetch_all(&mut **conn).await? {
        let phone = crate::pii::open(db, crate::pii::ctx::STAFF_PHONE, &stored)?;
        if !phones.contains(&phone) {
            phones.push(phone);
        }
    }
    let body = crate::identity::sms::signed(text);
    let now = db.now().timestamp();
    for phone in phones {
        let payload = serde_json::json!({ "phone": phone, "body": body });
        jobs::enqueue_sealed(conn, db, "sms", &payload, now).await?;
    }
    Ok(())
}

/// Sends one email.
pub trait Mailer: Send + Sync {
    fn send<'a>(&'a self, to: &'a str, subject: &'a str, body: &'a str) -> SendFuture<'a>;
}

/// How to reach the SMTP server (`[smtp]`). No host: no email is sent.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SmtpSettings {
    pub host: String,
    /// 0: 465 with `tls = "tls"`, 587 with `starttls`, 25 with `none`.
    pub port: u16,
    /// `starttls` (default), `tls` (SMTPS) or `none` (a relay on a trusted network).
    pub tls: String,
    pub username: String,
    pub password: String,
    /// e.g. `渝州市政务服务网 <noreply@zwfw.example.gov.cn>`
    pub from: String,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field(
                "password",
                &if self.password.is_empty() { "" } else { "***" },
            )
            .field("from", &self.from)
            .finish()
    }
}

/// The SMTP client (lettre).
pub struct SmtpMailer {
    transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    from: lettre::message::Mailbox,
}

impl SmtpMailer {
    pub fn new(s: &SmtpSettings) -> Result<Self, String> {
        use lettre::AsyncSmtpTransport;
        use lettre::transport::smtp::authentication::Credentials;
        type Smtp = AsyncSmtpTransport<lettre::Tokio1Executor>;
        let builder = match s.tls.as_str() {
            "tls" => Smtp::relay(&s.host).map_err(|e| e.to_string())?,
            "none" => Smtp::builder_dangerous(&s.host),
            _ => Smtp::starttls_relay(&s.host).map_err(|e| e.to_string())?,
        };
        let port = match (s.port, s.tls.as_str()) {
            (0, "tls") => 465,
            (0, "none") => 25,
            (0, _) => 587,
            (p, _) => p,
        };
        let mut builder = builder
            .port(port)
            .timeout(Some(std::time::Duration::from_secs(20)));
        if !s.username.is_empty() {
            builder = builder.credentials(Credentials::new(s.username.clone(), s.password.clone()));
        }
        let from = s
            .from
            .parse()
            .map_err(|e: lettre::address::AddressError| format!("smtp.from: {e}"))?;
        Ok(SmtpMailer {
            transport: builder.build(),
            from,
        })
    }
}

impl Mailer for SmtpMailer {
    fn send<'a>(&'a self, to: &'a str, subject: &'a str, body: &'a str) -> SendFuture<'a> {
        Box::pin(async move {
            use lettre::AsyncTransport;
            let to = to
                .parse()
                .map_err(|_| DomainError::Delivery("invalid email address".into()))?;
            let message = lettre::Message::builder()
                .from(self.from.clone())
                .to(to)
                .subject(subject)
                .header(lettre::message::header::ContentType::TEXT_PLAIN)
                .header(lettre::message::header::ContentTransferEncoding::Base64)
                .body(body.to_string())
                .map_err(|_| DomainError::Delivery("invalid email address".into()))?;
            self.transport
                .send(message)
                .await
                .map_err(|e| DomainError::Delivery(format!("smtp: {e}")))?;
            Ok(())
        })
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Message {
    pub id: i64,
    pub case_number: String,
    pub title: String,
    pub body: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

pub async fn messages(db: &Db, citizen_id: i64) -> Result<Vec<Message>, DomainError> {
    Ok(sqlx::query_as(
        "SELECT id, case_number, title, body, created_at, read_at FROM messages \
         WHERE citizen_id = $1 ORDER BY id DESC LIMIT 200",
    )
    .bind(citizen_id)
    .fetch_all(db.pool())
    .await?)
}

pub async fn unread(db: &Db, citizen_id: i64) -> Result<i64, DomainError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM messages WHERE citizen_id = $1 AND read_at IS NULL",
    )
    .bind(citizen_id)
    .fetch_one(db.pool())
    .await?)
}

pub async fn mark_all_read(db: &Db, citizen_id: i64) -> Result<(), DomainError> {
    sqlx::query("UPDATE messages SET read_at = $2 WHERE citizen_id = $1 AND read_at IS NULL")
        .bind(citizen_id)
        .bind(db.now().timestamp())
        .execute(db.pool())
        .await?;
    Ok(())
}

#[derive(Deserialize)]
struct EmailJob {
    to: String,
    subject: String,
    body: String,
}

#[derive(Deserialize)]
struct SmsJob {
    phone: String,
    body: String,
}

/// Sends the text of an `sms` job through the gateway.
pub async fn deliver_sms(db: &Db, sms: &dyn SmsGateway, payload: &str) -> Result<(), String> {
    let j: SmsJob = serde_json::from_str(payload).map_err(|e| e.to_string())?;
    let phone = Phone::parse(&j.phone).map_err(|_| "bad phone".to_string())?;
    sms.send(db, &phone, &j.body)
        .await
        .map_err(|e| e.to_string())
}

/// Sends the message of an `email` job; dropped when no SMTP server is
/// configured (`mail` is `None`).
pub async fn deliver_email(mail: Option<&dyn Mailer>, payload: &str) -> Result<(), String> {
    let j: EmailJob = serde_json::from_str(payload).map_err(|e| e.to_string())?;
    match mail {
        Some(m) => m
            .send(&j.to, &j.subject, &j.body)
            .await
            .map_err(|e| e.to_string()),
        None => {
            tracing::debug!("email not sent: no SMTP server configured");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_may_only_use_known_placeholders() {
        assert_eq!(unknown_placeholder("办件 {办件编号} 已受理"), None);
        assert_eq!(
            unknown_placeholder("{办件编号} {身份证号}").as_deref(),
            Some("{身份证号}")
        );
        for (_, _, body) in DEFAULTS {
            assert_eq!(unknown_placeholder(body), None, "{body}");
        }
    }

    #[test]
    fn wording_with_an_address_of_its_own_is_caught_however_spelled() {
        for bad in [
            "请点击 http://pay.example.com 缴纳加急费",
            "请访问 www.example.cn",
            "登录 jiaji-pay.top 办理",
            "请点击 ｈｔｔｐ：／／ｅｖｉｌ．ｃｎ",
            "详见 evil。com",
            "详见 evil . c n",
            "短链 t.cn/AbC",
        ] {
            assert!(has_link(bad), "{bad}");
        }
        for good in [
            "查询进度：{查询地址}",
            "收费 1.5 元，办件 {办件编号}",
            "第 3.2 条",
            "渝中区民族路 1 号",
        ] {
            assert!(!has_link(good), "{good}");
        }
        for (_, title, body) in DEFAULTS {
            assert!(!has_link(title) && !has_link(body), "{body}");
        }
    }

    #[test]
    fn placeholders_are_filled_in() {
        let a = About {
            citizen_id: None,
            phone: "",
            number: "ZB2026112400001",
            service: "居民身份证补领",
            note: "照片不清晰",
            progress_url: "https://example.gov.cn/progress",
        };
        assert_eq!(
            fill("{办件编号}/{事项名称}/{说明}/{查询地址}", &a),
            "ZB2026112400001/居民身份证补领/照片不清晰/https://example.gov.cn/progress"
        );
    }
}
