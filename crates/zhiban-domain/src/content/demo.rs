//! The demo sites, channels and articles (演示数据): the city portal, the
//! police bureau and two districts, with articles spread over the past
//! months so the lists and site health look like a real site's.

use std::collections::HashMap;

use chrono::NaiveDate;

use zhiban_store::documents::DocKind;
use zhiban_store::files::FileStore;

use super::{ArticleKind, KindFields, rich_text};
use crate::{Db, DomainError, Tx};

pub const ARTICLES_TSV: &str = include_str!("../../demo/articles.tsv");
pub const POLICIES_TSV: &str = include_str!("../../demo/policies.tsv");
/// More of each, written by `tools/demo/make_articles.py`.
pub const MORE_ARTICLES_TSV: &str = include_str!("../../demo/articles_more.tsv");
pub const MORE_POLICIES_TSV: &str = include_str!("../../demo/policies_more.tsv");

/// (site code, name, owning unit's code, review stages)
const SITES: &[(&str, &str, &str, i64)] = &[
    ("city", "渝州市人民政府", "500000", 2),
    ("police", "渝州市公安局", "500000-GA", 2),
    ("500103", "渝中区人民政府", "500103", 1),
    ("500105", "江北区人民政府", "500105", 1),
];

/// (site, channel code, name, kind, days before it counts as not updated)
const CHANNELS: &[(&str, &str, &str, ArticleKind, i64)] = &[
    ("city", "yaowen", "要闻动态", ArticleKind::News, 14),
    ("city", "bumen", "部门动态", ArticleKind::News, 14),
    ("city", "tongzhi", "通知公告", ArticleKind::Notice, 180),
    ("city", "bianmin", "便民公告", ArticleKind::Bulletin, 180),
    ("city", "zhengce", "政策文件", ArticleKind::Policy, 180),
    (
        "city",
        "jiedu",
        "政策解读",
        ArticleKind::Interpretation,
        180,
    ),
    ("police", "jingwu", "警务动态", ArticleKind::News, 14),
    (
        "police",
        "jingqing",
        "警情通报",
        ArticleKind::PoliceReport,
        180,
    ),
    (
        "police",
        "bianmin",
        "交通管制与便民公告",
        ArticleKind::Bulletin,
        180,
    ),
    (
        "police",
        "fanzha",
        "反诈警示",
        ArticleKind::CaseWarning,
        180,
    ),
    ("police", "tongzhi", "通知公告", ArticleKind::Notice, 180),
    ("police", "tongji", "悬赏通缉", ArticleKind::Wanted, 365),
    ("police", "shipin", "图片视频", ArticleKind::Media, 90),
    ("police", "zt-fanzha", "反诈专题", ArticleKind::Topic, 90),
    ("police", "zt-jindu", "禁毒专题", ArticleKind::Topic, 180),
    (
        "police",
        "zt-jiaotong",
        "交通安全专题",
        ArticleKind::Topic,
        180,
    ),
    ("city", "gongkai", "政府信息公开", ArticleKind::Page, 365),
    ("500103", "dongtai", "区县动态", ArticleKind::News, 14),
    ("500103", "tongzhi", "通知公告", ArticleKind::Notice, 180),
    ("500105", "dongtai", "区县动态", ArticleKind::News, 14),
    ("500105", "tongzhi", "通知公告", ArticleKind::Notice, 180),
];

/// What each 专题 is about (shown on its page).
const LEADS: &[(&str, &str, &str)] = &[
    (
        "police",
        "zt-fanzha",
        "识骗防骗，守护钱袋子。这里汇集渝州警方发布的电信网络诈骗警示案例、预警提示和打击战果。接到可疑电话请拨打 96110 咨询，被骗后请立即拨打 110 报警。",
    ),
    (
        "police",
        "zt-jindu",
        "珍爱生命，远离毒品。这里汇集禁毒宣传、典型案例和举报方式。发现涉毒线索可拨打 110 或在“线索举报”中匿名提交。",
    ),
    (
        "police",
        "zt-jiaotong",
        "安全出行，文明交通。这里汇集交通管制公告、事故警示和交通安全提示。",
    ),
];

/// Who demo articles are attributed to.
const DEMO_ACTOR: &str = "演示数据";

/// Loads the demo sites and articles when there are no sites yet (in one
/// transaction: all of it or nothing).
pub async fn load_if_empty(db: &Db) -> Result<bool, DomainError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM content_sites")
        .fetch_one(db.pool())
        .await?;
    if n > 0 {
        return Ok(false);
    }
    let mut tx = db.begin().await?;
    for (i, (code, name, unit, stages)) in SITES.iter().enumerate() {
        let unit_id: Option<i64> = sqlx::query_scalar("SELECT id FROM departments WHERE code = $1")
            .bind(unit)
            .fetch_optional(&mut *tx)
            .await?;
        // A deployment without the demo org tree gets no demo sites.
        let Some(unit_id) = unit_id else {
            return Ok(false);
        };
        sqlx::query(
            "INSERT INTO content_sites (code, name, unit_id, review_stages, position) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(code)
        .bind(name)
        .bind(unit_id)
        .bind(stages)
        .bind(i as i64)
        .execute(&mut *tx)
        .await?;
    }
    for (i, (site, code, name, kind, stale)) in CHANNELS.iter().enumerate() {
        sqlx::query(
            "INSERT INTO content_channels (site_id, code, name, kind, stale_days, position) \
             SELECT id, $2, $3, $4, $5, $6 FROM content_sites WHERE code = $1",
        )
        .bind(site)
        .bind(code)
        .bind(name)
        .bind(kind.slug())
        .bind(stale)
        .bind(i as i64)
        .execute(&mut *tx)
        .await?;
    }
    for (site, code, lead) in LEADS {
        sqlx::query(
            "UPDATE content_channels SET lead = $3 WHERE code = $2 \
             AND site_id = (SELECT id FROM content_sites WHERE code = $1)",
        )
        .bind(site)
        .bind(code)
        .bind(lead)
        .execute(&mut *tx)
        .await?;
    }
    let now = tx.now().timestamp();
    let today = crate::time::local_date(tx.now());
    for line in ARTICLES_TSV.lines().chain(MORE_ARTICLES_TSV.lines()) {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let [channels, kind, days, source, title, body, rest @ ..] = cols.as_slice() else {
            return Err(DomainError::Internal("demo article line"));
        };
        let kind = ArticleKind::from_slug(kind).ok_or(DomainError::Internal("demo kind"))?;
        let days: i64 = days
            .parse()
            .map_err(|_| DomainError::Internal("demo days"))?;
        let body = rich_text::clean(&body.replace("\\n", "\n\n")).html;
        let mut fields = KindFields::default();
        let day = |s: &str| {
            s.parse::<i64>()
                .ok()
                .map(|d| today + chrono::Duration::days(d))
        };
        match (kind, rest) {
            (ArticleKind::Bulletin, [starts, ends, area]) => {
                fields.starts_on = day(starts);
                fields.ends_on = day(ends);
                fields.area = (*area).to_string();
            }
            // A 通缉令: the reward, its status and (days from today) since when.
            (ArticleKind::Wanted, [reward, status, since]) => {
                fields.reward = (*reward).to_string();
                fields.wanted_status = (*status).to_string();
                fields.status_on = day(since);
            }
            _ => {}
        }
        // In office hours (09:00–16:00 Beijing time), like real publishing.
        let day = today - chrono::Duration::days(days);
        let hour = 9 + (title.chars().count() % 8) as u32;
        let at = crate::time::at_local(day, hour, 30).min(now);
        let mut targets = Vec::new();
        for c in channels.split(',') {
            let (site, code) = c
                .split_once(':')
                .ok_or(DomainError::Internal("demo channel"))?;
            let id: Option<i64> = sqlx::query_scalar(
                "SELECT c.id FROM content_channels c JOIN content_sites s ON s.id = c.site_id \
                 WHERE s.code = $1 AND c.code = $2",
            )
            .bind(site)
            .bind(code)
            .fetch_optional(&mut *tx)
            .await?;
            targets.push((site, id.ok_or(DomainError::Internal("demo channel"))?));
        }
        let home = targets[0].0;
        let ids: Vec<i64> = targets.iter().map(|(_, c)| *c).collect();
        let text = Published {
            site: home,
            channels: &ids,
            kind,
            title,
            body: &body,
            source,
            fields: &fields,
            at,
        };
        insert_published(&mut tx, &text).await?;
    }
    load_policies(&mut tx, today, now).await?;
    tx.commit().await?;
    Ok(true)
}

/// A demo article published as it stands.
struct Published<'a> {
    site: &'a str,
    channels: &'a [i64],
    kind: ArticleKind,
    title: &'a str,
    body: &'a str,
    source: &'a str,
    fields: &'a KindFields,
    at: i64,
}

async fn insert_published(tx: &mut Tx, p: &Published<'_>) -> Result<i64, DomainError> {
    let fields = p.fields.to_json();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO articles (site_id, kind, title, summary, body, source, fields, state, \
         stage, version, author, live_version, live_from, first_published_at, created_by, \
         created_at, updated_at) SELECT id, $2, $3, '', $4, $5, $6, 'published', 0, 1, $7, \
         1, $8, $8, $7, $8, $8 FROM content_sites WHERE code = $1 RETURNING id",
    )
    .bind(p.site)
    .bind(p.kind.slug())
    .bind(p.title)
    .bind(p.body)
    .bind(p.source)
    .bind(&fields)
    .bind(DEMO_ACTOR)
    .bind(p.at)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO article_versions (article_id, version, title, summary, body, source, \
         fields, saved_by, saved_at) VALUES ($1, 1, $2, '', $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(p.title)
    .bind(p.body)
    .bind(p.source)
    .bind(&fields)
    .bind(DEMO_ACTOR)
    .bind(p.at)
    .execute(&mut **tx)
    .await?;
    for channel in p.channels {
        sqlx::query("INSERT INTO article_channels (article_id, channel_id) VALUES ($1, $2)")
            .bind(id)
            .bind(channel)
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO article_events (article_id, action, stage, version, actor, note, at) \
         VALUES ($1, 'publish', 0, 1, $2, '', $3)",
    )
    .bind(id)
    .bind(DEMO_ACTOR)
    .bind(p.at)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

async fn city_channel(tx: &mut Tx, code: &str) -> Result<i64, DomainError> {
    let id: Option<i64> = sqlx::query_scalar(
        "SELECT c.id FROM content_channels c JOIN content_sites s ON s.id = c.site_id \
         WHERE s.code = 'city' AND c.code = $1",
    )
    .bind(code)
    .fetch_optional(&mut **tx)
    .await?;
    id.ok_or(DomainError::Internal("demo channel"))
}

/// The policy library's demo documents, each with its interpretation.
async fn load_policies(tx: &mut Tx, today: NaiveDate, now: i64) -> Result<(), DomainError> {
    let policies = city_channel(tx, "zhengce").await?;
    let readings = city_channel(tx, "jiedu").await?;
    let mut ids: HashMap<&str, i64> = HashMap::new();
    let mut later: Vec<(i64, &str, KindFields)> = Vec::new();
    for line in POLICIES_TSV.lines().chain(MORE_POLICIES_TSV.lines()) {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let [
            key,
            number,
            issuer,
            written,
            published,
            topic,
            validity,
            replaced,
            services,
            title,
            body,
            reading,
            reading_body,
        ] = cols.as_slice()
        else {
            return Err(DomainError::Internal("demo policy line"));
        };
        let days = |s: &str| {
            s.parse::<i64>()
                .map_err(|_| DomainError::Internal("demo days"))
        };
        let written_on = today - chrono::Duration::days(days(written)?);
        let day = today - chrono::Duration::days(days(published)?);
        let at = crate::time::at_local(day, 10, 0).min(now);
        let fields = KindFields {
            doc_number: (*number).to_string(),
            issuer: (*issuer).to_string(),
            written_on: Some(written_on),
            topic: (*topic).to_string(),
            validity: (*validity).to_string(),
            replaced_by: ids.get(replaced).copied(),
            services: services
                .split(',')
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect(),
            ..KindFields::default()
        };
        let body = rich_text::clean(&body.replace("\\n", "\n\n")).html;
        let id = insert_published(
            tx,
            &Published {
                site: "city",
                channels: &[policies],
                kind: ArticleKind::Policy,
                title,
                body: &body,
                source: issuer,
                fields: &fields,
                at,
            },
        )
        .await?;
        ids.insert(key, id);
        if fields.replaced_by.is_none() && !replaced.is_empty() {
            later.push((id, *replaced, fields.clone()));
        }
        let reading_fields = KindFields {
            policy: Some(id),
            ..KindFields::default()
        };
        let reading_body = rich_text::clean(&reading_body.replace("\\n", "\n\n")).html;
        insert_published(
            tx,
            &Published {
                site: "city",
                channels: &[readings],
                kind: ArticleKind::Interpretation,
                title: reading,
                body: &reading_body,
                source: issuer,
                fields: &reading_fields,
                at: at + 3_600,
            },
        )
        .await?;
    }
    // A replacement listed after the document it replaces: link it now.
    for (id, key, mut fields) in later {
        fields.replaced_by = ids.get(key).copied();
        let json = fields.to_json();
        sqlx::query("UPDATE articles SET fields = $2 WHERE id = $1")
            .bind(id)
            .bind(&json)
            .execute(&mut **tx)
            .await?;
        sqlx::query("UPDATE article_versions SET fields = $2 WHERE article_id = $1")
            .bind(id)
            .bind(&json)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The tables of a body: rows of cell texts, table after table.
pub fn tables(body: &str) -> Vec<Vec<Vec<String>>> {
    body.split("<table")
        .skip(1)
        .map(|t| {
            let t = t.split("</table>").next().unwrap_or("");
            t.split("<tr")
                .skip(1)
                .map(|row| {
                    let row = row.split("</tr>").next().unwrap_or("");
                    row.split("<t")
                        .skip(1)
                        .filter(|c| c.starts_with('d') || c.starts_with('h'))
                        .map(|c| {
                            let inner = c.split_once('>').map_or("", |(_, rest)| rest);
                            let inner = inner.split("</t").next().unwrap_or("");
                            rich_text::text_of(inner)
                        })
                        .collect::<Vec<String>>()
                })
                .filter(|r| !r.is_empty())
                .collect()
        })
        .filter(|t: &Vec<Vec<String>>| !t.is_empty())
        .collect()
}

/// A workbook of `tables`, one sheet each, header row in bold and numbers
/// stored as numbers.
pub fn workbook(title: &str, tables: &[Vec<Vec<String>>]) -> Result<Vec<u8>, DomainError> {
    let fail = |_| DomainError::Internal("demo workbook");
    let mut book = rust_xlsxwriter::Workbook::new();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (i, rows) in tables.iter().enumerate() {
        let sheet = book.add_worksheet();
        let name = if tables.len() == 1 {
            "明细".to_string()
        } else {
            format!("表{}", i + 1)
        };
        sheet.set_name(&name).map_err(fail)?;
        sheet.write_string(0, 0, title).map_err(fail)?;
        for (r, row) in rows.iter().enumerate() {
            let rr = u32::try_from(r + 2).unwrap_or(u32::MAX);
            for (c, cell) in row.iter().enumerate() {
                let cc = u16::try_from(c).unwrap_or(u16::MAX);
                match cell.replace(',', "").parse::<f64>() {
                    Ok(n) if r > 0 => sheet.write_number(rr, cc, n).map_err(fail)?,
                    _ if r == 0 => sheet
                        .write_string_with_format(rr, cc, cell, &bold)
                        .map_err(fail)?,
                    _ => sheet.write_string(rr, cc, cell).map_err(fail)?,
                };
            }
        }
    }
    book.save_to_buffer().map_err(fail)
}

/// The demo's disclosure pages (公开目录) come with their tables as Excel
/// attachments, as real 预决算 and 三公经费 pages do. Pages that already
/// have files are left alone; returns how many were attached. Needs the
/// file store, so the server calls it at start.
pub async fn attach_tables(db: &Db, store: &FileStore) -> Result<usize, DomainError> {
    let pages: Vec<(i64, i64, String, String)> = sqlx::query_as(
        "SELECT a.id, a.live_version, v.title, v.body FROM articles a \
         JOIN article_versions v ON v.article_id = a.id AND v.version = a.live_version \
         WHERE a.kind = 'page' AND a.created_by = $1 \
         AND NOT EXISTS (SELECT 1 FROM article_files f WHERE f.article_id = a.id)",
    )
    .bind(DEMO_ACTOR)
    .fetch_all(db.pool())
    .await?;
    let mut n = 0;
    for (id, version, title, body) in pages {
        let found = tables(&body);
        if found.is_empty() {
            continue;
        }
        let bytes = workbook(&title, &found)?;
        let key = format!("content/{}", uuid::Uuid::new_v4().simple());
        let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
        store
            .put(&key, bytes)
            .await
            .map_err(|e| DomainError::Files(e.to_string()))?;
        sqlx::query(
            "INSERT INTO article_files (article_id, role, added_in, file_name, content_type, \
             size, sha256, storage_key, position, added_by, added_at) \
             VALUES ($1, 'attachment', $2, $3, $4, $5, $6, $7, 1, $8, $9)",
        )
        .bind(id)
        .bind(version)
        .bind(format!("{title}（附表）.xlsx"))
        .bind(DocKind::Xlsx.content_type())
        .bind(size)
        .bind(sha)
        .bind(&key)
        .bind(DEMO_ACTOR)
        .bind(db.now().timestamp())
        .execute(db.pool())
        .await?;
        n += 1;
    }
    Ok(n)
}
