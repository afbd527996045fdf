//! 线索举报: police tips (涉黑涉恶, 电信诈骗, 毒品, 黄赌, 其他), anonymous or
//! real-name (DOMAIN.md, Citizen requests). The reporter gets a receipt
//! code and a secret, shown once, to follow up and answer the unit's
//! questions without an account. The content and every message are
//! sealed under the tip's own key, which only the receiving unit's
//! handlers (核查举报线索) and the reporter can open — not the system
//! administrator, not other units, not the server's data keys ([`keys`]);
//! every reading is audited. No client address or user agent is kept:
//! the tables have no such columns and filing writes no audit record
//! naming the reporter.

pub mod files;
pub mod keys;

use rand::Rng;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::audit::{self, Entry};
use crate::catalog::enums::vocabulary;
use crate::identity::Perm;
use crate::identity::citizen::Citizen;
use crate::identity::scope::record_refusal;
use crate::identity::staff::{StaffSession, dummy_hash, hash_password, verify_password};
use crate::{Db, DomainError, FieldError, pii};

vocabulary!(
    /// What a tip is about.
    TipCategory {
        Gang => "gang", "涉黑涉恶";
        Fraud => "fraud", "电信诈骗";
        Drugs => "drugs", "毒品";
        Vice => "vice", "黄赌";
        Other => "other", "其他";
    }
);

vocabulary!(
    /// Where a tip stands.
    TipState {
        Received => "received", "已接收";
        Checking => "checking", "核查中";
        Closed => "closed", "核查完毕";
    }
);

/// Which unit receives each category (`[tips]` settings: category slug →
/// department code). A code missing from the org tree falls back to
/// `default_unit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TipSettings {
    pub default_unit: String,
    pub units: std::collections::BTreeMap<String, String>,
}

impl Default for TipSettings {
    fn default() -> Self {
        TipSettings {
            default_unit: "500000-GA".into(),
            units: [("drugs", "500000-GA-ZA"), ("vice", "500000-GA-ZA")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }
}

/// What a reporter sends.
#[derive(Debug, Clone, Default)]
pub struct NewTip {
    pub category: Option<TipCategory>,
    pub content: String,
    /// Send under one's own name (the account), or anonymously.
    pub real_name: bool,
    /// Files this browser staged for the tip ([`files::stage`]).
    pub files: Vec<i64>,
    /// The sending browser's form token, which the staged files are under.
    pub form_token: String,
}

/// Shown once to the reporter: the receipt code and the secret.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub receipt: String,
    pub secret: String,
}

/// A tip as its reporter or its unit reads it.
#[derive(Debug, Clone, Serialize)]
pub struct Tip {
    pub id: i64,
    pub receipt: String,
    pub category: TipCategory,
    pub unit_id: i64,
    pub unit_name: String,
    pub real_name: bool,
    pub content: String,
    pub state: TipState,
    pub created_at: i64,
    pub messages: Vec<TipMessage>,
    pub files: Vec<files::TipFile>,
    /// What its texts and files are sealed with (never shown).
    #[serde(skip)]
    pub(crate) key: keys::Sealer,
}

#[derive(Debug, Clone, Serialize)]
pub struct TipMessage {
    pub from_unit: bool,
    pub body: String,
    pub at: i64,
}

/// A tip in a unit's list (no content: reading it is audited).
#[derive(Debug, Clone, Serialize)]
pub struct TipRow {
    pub receipt: String,
    pub category: TipCategory,
    pub state: TipState,
    pub real_name: bool,
    pub created_at: i64,
    /// The reporter wrote last: the unit owes an answer.
    pub awaiting_unit: bool,
}

/// Letters and digits people do not confuse (no 0/O, 1/I/L).
const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

pub(crate) fn random_code(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// A code as typed: spaces and dashes dropped, upper case.
pub(crate) fn normalize(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

async fn unit_for(
    db: &Db,
    settings: &TipSettings,
    category: TipCategory,
) -> Result<i64, DomainError> {
    let wanted = settings
        .units
        .get(category.slug())
        .unwrap_or(&settings.default_unit);
    for code in [wanted, &settings.default_unit] {
        let id: Option<i64> = sqlx::query_scalar("SELECT id FROM departments WHERE code = $1")
            .bind(code)
            .fetch_optional(db.pool())
            .await?;
        if let Some(id) = id {
            return Ok(id);
        }
    }
    Err(DomainError::Internal(
        "no unit receives tips (tips.default_unit)",
    ))
}

/// Files a tip; returns the receipt code and the secret to show once.
pub async fn file(
    db: &Db,
    settings: &TipSettings,
    citizen: Option<&Citizen>,
    new: &NewTip,
) -> Result<Receipt, DomainError> {
    let mut errs = Vec::new();
    let content = new.content.trim();
    let len = content.chars().count();
    if new.category.is_none() {
        errs.push(FieldError::new("tip_category", "required", ""));
    }
    if len == 0 {
        errs.push(FieldError::new("tip_content", "required", ""));
    } else if len < 10 {
        errs.push(FieldError::new("tip_content", "too_short", "10"));
    } else if len > 5000 {
        errs.push(FieldError::new("tip_content", "too_long", "5000"));
    }
    let citizen = if new.real_name { citizen } else { None };
    if new.real_name && citizen.is_none() {
        errs.push(FieldError::new("real_name", "sign_in_first", ""));
    }
    let Some(category) = new.category.filter(|_| errs.is_empty()) else {
        return Err(DomainError::Invalid(errs));
    };
    let unit = unit_for(db, settings, category).await?;
    let secret = random_code(12);
    let secret_hash = hash_password(&secret)?;
    let (key, unit_key, reporter_key) = keys::for_new_tip(db, unit, &secret).await?;
    let now = db.now().timestamp();
    // A clash of ten random characters is all but impossible; try again if so.
    for _ in 0..3 {
        let receipt = format!("XS{}", random_code(10));
        let mut tx = db.begin().await?;
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO tips (receipt, secret_hash, category, unit_id, citizen_id, content, \
             state, created_at, updated_at, unit_key, reporter_key) \
             VALUES ($1, $2, $3, $4, $5, $6, 'received', $7, $7, $8, $9) \
             ON CONFLICT (receipt) DO NOTHING RETURNING id",
        )
        .bind(&receipt)
        .bind(&secret_hash)
        .bind(category.slug())
        .bind(unit)
        .bind(citizen.map(|c| c.id))
        .bind(key.seal(db, pii::ctx::TIP_CONTENT, content)?)
        .bind(now)
        .bind(&unit_key)
        .bind(&reporter_key)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(id) = inserted {
            files::claim(db, &mut tx, id, &new.form_token, &new.files, &key).await?;
            tx.commit().await?;
            return Ok(Receipt {
                receipt,
                secret: secret.clone(),
            });
        }
    }
    Err(DomainError::Internal("receipt codes clash"))
}

/// A tip as stored: everything but its sealed texts is readable.
struct Stored {
    id: i64,
    receipt: String,
    secret_hash: String,
    category: TipCategory,
    unit_id: i64,
    unit_name: String,
    real_name: bool,
    content: String,
    state: TipState,
    created_at: i64,
    unit_key: Option<String>,
    reporter_key: Option<String>,
}

async fn stored(db: &Db, receipt: &str) -> Result<Option<Stored>, DomainError> {
    let row = sqlx::query(
        "SELECT t.id, t.receipt, t.secret_hash, t.category, t.unit_id, d.name AS unit_name, \
         t.citizen_id, t.content, t.state, t.created_at, t.unit_key, t.reporter_key FROM tips t \
         JOIN departments d ON d.id = t.unit_id WHERE t.receipt = $1",
    )
    .bind(normalize(receipt))
    .fetch_optional(db.pool())
    .await?;
    let Some(r) = row else {
        return Ok(None);
    };
    let bad = || DomainError::Internal("unreadable tip");
    Ok(Some(Stored {
        id: r.try_get("id")?,
        receipt: r.try_get("receipt")?,
        secret_hash: r.try_get("secret_hash")?,
        category: TipCategory::from_slug(&r.try_get::<String, _>("category")?).ok_or_else(bad)?,
        unit_id: r.try_get("unit_id")?,
        unit_name: r.try_get("unit_name")?,
        real_name: r.try_get::<Option<i64>, _>("citizen_id")?.is_some(),
        content: r.try_get("content")?,
        state: TipState::from_slug(&r.try_get::<String, _>("state")?).ok_or_else(bad)?,
        created_at: r.try_get("created_at")?,
        unit_key: r.try_get("unit_key")?,
        reporter_key: r.try_get("reporter_key")?,
    }))
}

/// Opens a stored tip with its key, with its messages and files.
async fn reveal(db: &Db, s: Stored, key: keys::Sealer) -> Result<Tip, DomainError> {
    let messages =
        sqlx::query("SELECT from_unit, body, at FROM tip_messages WHERE tip_id = $1 ORDER BY id")
            .bind(s.id)
            .fetch_all(db.pool())
            .await?
            .iter()
            .map(|m| {
                Ok(TipMessage {
                    from_unit: m.try_get::<i64, _>("from_unit")? == 1,
                    body: key.open(db, pii::ctx::TIP_MESSAGE, &m.try_get::<String, _>("body")?)?,
                    at: m.try_get("at")?,
                })
            })
            .collect::<Result<Vec<_>, DomainError>>()?;
    Ok(Tip {
        id: s.id,
        content: key.open(db, pii::ctx::TIP_CONTENT, &s.content)?,
        receipt: s.receipt,
        category: s.category,
        unit_id: s.unit_id,
        unit_name: s.unit_name,
        real_name: s.real_name,
        state: s.state,
        created_at: s.created_at,
        messages,
        files: files::of_tip(db, s.id, &key).await?,
        key,
    })
}

/// The reporter's view, with the receipt code and the secret. A wrong
/// pair is answered like a missing one, after the same hashing work.
pub async fn follow(db: &Db, receipt: &str, secret: &str) -> Result<Tip, DomainError> {
    match stored(db, receipt).await? {
        Some(s) if verify_password(&normalize(secret), &s.secret_hash) => {
            let key = keys::for_reporter(db, secret, s.reporter_key.as_deref())?;
            reveal(db, s, key).await
        }
        Some(_) => Err(DomainError::NotFound),
        None => {
            let _ = verify_password(secret, dummy_hash());
            Err(DomainError::NotFound)
        }
    }
}

fn check_message(text: &str) -> Result<String, DomainError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(DomainError::Invalid(vec![FieldError::new(
            "tip_message",
            "required",
            "",
        )]));
    }
    Ok(text.chars().take(3000).collect())
}

async fn add_message(
    db: &Db,
    tip: &Tip,
    from_unit: bool,
    body: &str,
    state: TipState,
) -> Result<(), DomainError> {
    let now = db.now().timestamp();
    let mut tx = db.begin().await?;
    sqlx::query("INSERT INTO tip_messages (tip_id, from_unit, body, at) VALUES ($1, $2, $3, $4)")
        .bind(tip.id)
        .bind(i64::from(from_unit))
        .bind(tip.key.seal(db, pii::ctx::TIP_MESSAGE, body)?)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE tips SET state = $2, updated_at = $3 WHERE id = $1")
        .bind(tip.id)
        .bind(state.slug())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The reporter adds to the tip or answers the unit's question.
pub async fn reporter_says(
    db: &Db,
    receipt: &str,
    secret: &str,
    text: &str,
) -> Result<Tip, DomainError> {
    let tip = follow(db, receipt, secret).await?;
    let body = check_message(text)?;
    add_message(db, &tip, false, &body, tip.state).await?;
    follow(db, receipt, secret).await
}

/// Whether this staff member reads the tips of `unit`: the permission, and
/// their own unit is the receiving unit. Being above it (a city-wide
/// account) or below it (another unit) is not enough.
fn reads_for(staff: &StaffSession, unit: i64) -> bool {
    staff.can(Perm::TipsHandle) && staff.user.unit_id == Some(unit)
}

/// The tips sent to this person's unit, newest first, without their content.
pub async fn for_unit(db: &Db, staff: &StaffSession) -> Result<Vec<TipRow>, DomainError> {
    let Some(unit) = staff.user.unit_id.filter(|u| reads_for(staff, *u)) else {
        return Ok(Vec::new());
    };
    let rows = sqlx::query(
        "SELECT t.receipt, t.category, t.state, t.citizen_id, t.created_at, \
         (SELECT m.from_unit FROM tip_messages m WHERE m.tip_id = t.id ORDER BY m.id DESC \
         LIMIT 1) AS last_from FROM tips t WHERE t.unit_id = $1 ORDER BY t.created_at DESC \
         LIMIT 500",
    )
    .bind(unit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let state = TipState::from_slug(&r.try_get::<String, _>("state")?)
                .unwrap_or(TipState::Received);
            let last: Option<i64> = r.try_get("last_from")?;
            Ok(TipRow {
                receipt: r.try_get("receipt")?,
                category: TipCategory::from_slug(&r.try_get::<String, _>("category")?)
                    .unwrap_or(TipCategory::Other),
                state,
                real_name: r.try_get::<Option<i64>, _>("citizen_id")?.is_some(),
                created_at: r.try_get("created_at")?,
                awaiting_unit: state != TipState::Closed && last != Some(1),
            })
        })
        .collect()
}

/// A tip as its unit reads it; the reading is audited. Anyone else is
/// refused (audited as refused) and answered as if it did not exist.
pub async fn for_staff(db: &Db, staff: &StaffSession, receipt: &str) -> Result<Tip, DomainError> {
    let Some(s) = stored(db, receipt).await? else {
        return Err(DomainError::NotFound);
    };
    if !reads_for(staff, s.unit_id) {
        record_refusal(
            db,
            staff,
            &format!("tip:{}", s.receipt),
            "not_receiving_unit",
        )
        .await?;
        return Err(DomainError::NotFound);
    }
    let key = keys::for_staff(db, staff, s.unit_id, s.unit_key.as_deref()).await?;
    let tip = reveal(db, s, key).await?;
    audit::record(
        db,
        Entry::staff(&staff.user.username, "tip.read", &tip.receipt),
    )
    .await?;
    Ok(tip)
}

/// The unit asks the reporter a question, tells them the outcome, or
/// closes the tip with a last word.
pub async fn unit_says(
    db: &Db,
    staff: &StaffSession,
    receipt: &str,
    text: &str,
    close: bool,
) -> Result<Tip, DomainError> {
    let tip = for_staff(db, staff, receipt).await?;
    if tip.state == TipState::Closed {
        return Err(DomainError::Conflict(crate::Conflict::NotAllowed));
    }
    let body = check_message(text)?;
    let state = if close {
        TipState::Closed
    } else {
        TipState::Checking
    };
    add_message(db, &tip, true, &body, state).await?;
    audit::record(
        db,
        Entry::staff(
            &staff.user.username,
            if close { "tip.close" } else { "tip.message" },
            &tip.receipt,
        ),
    )
    .await?;
    for_staff(db, staff, receipt).await
}

/// The demo's tips (演示数据): (category, days ago, content, the unit's
/// messages and the reporter's answers in turn, closed).
const DEMO: &[(TipCategory, i64, &str, &[&str], bool)] = &[
    (
        TipCategory::Fraud,
        40,
        "有人在观音桥步行街发传单招“点赞返利”兼职，扫码进群后让先垫付做任务，我同事已经被骗了四千多",
        &[
            "请问群名和收款账户还记得吗？",
            "群名叫“渝州兼职日结3群”，收款是个人银行卡，截图我存着的",
            "已立案侦查，群主等三人已被抓获，感谢您的举报。",
        ],
        true,
    ),
    (
        TipCategory::Fraud,
        12,
        "接到自称“京东金融客服”的电话，说我开通了百万保障要关闭，不然每月扣钱，让我下载一个会议软件",
        &[
            "您是否下载了软件或转过账？",
            "没有，觉得不对就挂了，号码是外地的",
        ],
        false,
    ),
    (
        TipCategory::Fraud,
        3,
        "小区里有老人被拉去听“养生讲座”，说买保健品能治高血压，一盒卖两千多",
        &[],
        false,
    ),
    (
        TipCategory::Drugs,
        25,
        "华新街一栋出租屋经常半夜有人进出，楼道里有锡纸和奇怪的味道",
        &[
            "请问是哪一栋哪一层？您方便说大概时间吗？",
            "嘉陵一村小区7栋3楼靠右那户，一般晚上十二点以后",
        ],
        false,
    ),
    (
        TipCategory::Drugs,
        60,
        "听说有人在KTV包房里卖“笑气”，年轻人玩得很凶",
        &["已组织检查，查获笑气气瓶一批，相关人员已依法处理。"],
        true,
    ),
    (
        TipCategory::Vice,
        18,
        "石马河正街一家棋牌室每天都有人赌钱，输赢很大，晚上还有人放哨",
        &[],
        false,
    ),
    (
        TipCategory::Vice,
        45,
        "网上有个“足球竞彩内部群”拉人下注，说稳赚，其实就是赌博",
        &[
            "请提供群号或邀请您的账号。",
            "群号我发在这里：渝足竞彩内部交流（演示）",
            "已查处，感谢举报。",
        ],
        true,
    ),
    (
        TipCategory::Gang,
        30,
        "菜市场有几个人强行收“管理费”，摊主不交就掀摊子，已经好几个月了",
        &["我们已关注此事，请问您是否愿意在保密前提下提供更多情况？"],
        false,
    ),
    (
        TipCategory::Gang,
        8,
        "有人放高利贷，借一万一个月要还一万五，还不上就上门泼油漆",
        &[],
        false,
    ),
    (
        TipCategory::Other,
        5,
        "小区里有人在楼顶私养信鸽，还在楼道里堆放疑似易燃的化学品桶",
        &[],
        false,
    ),
];

/// Loads the demo tips once (needs the data keys); returns how many.
pub async fn load_demo(db: &Db, settings: &TipSettings) -> Result<usize, DomainError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tips")
        .fetch_one(db.pool())
        .await?;
    if n > 0 {
        return Ok(0);
    }
    let now = db.now().timestamp();
    for (category, days, content, messages, closed) in DEMO {
        let r = file(
            db,
            settings,
            None,
            &NewTip {
                category: Some(*category),
                content: (*content).into(),
                real_name: false,
                ..NewTip::default()
            },
        )
        .await?;
        let filed = now - days * 86_400;
        let tip = follow(db, &r.receipt, &r.secret).await?;
        for (i, m) in messages.iter().enumerate() {
            let last = i + 1 == messages.len();
            let state = if *closed && last {
                TipState::Closed
            } else {
                TipState::Checking
            };
            add_message(db, &tip, i % 2 == 0, m, state).await?;
        }
        // Spread over the weeks: the tip and its messages a day apart.
        sqlx::query("UPDATE tips SET created_at = $2, updated_at = $2 WHERE id = $1")
            .bind(tip.id)
            .bind(filed)
            .execute(db.pool())
            .await?;
        sqlx::query("UPDATE tip_messages SET at = $2 + (id % 1000) * 3600 WHERE tip_id = $1")
            .bind(tip.id)
            .bind(filed + 86_400)
            .execute(db.pool())
            .await?;
    }
    Ok(DEMO.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_use_letters_people_do_not_confuse_and_are_read_back_as_typed() {
        let c = random_code(12);
        assert_eq!(c.len(), 12);
        assert!(c.chars().all(|x| !"01OIL".contains(x)));
        assert_eq!(normalize("xs 23-ab cd"), "XS23ABCD");
    }
}
