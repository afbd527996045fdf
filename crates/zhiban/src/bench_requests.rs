//! `zhiban bench requests`: citizen requests filed per second (checked,
//! routed by the trained router, numbered, supervised, the citizen told)
//! and the dispatcher's and units' lists over 1,000,000 requests, on
//! SQLite or PostgreSQL, on a fresh database of its own.

use std::time::{Duration, Instant};

use anyhow::Result;
use zhiban_domain::Db;
use zhiban_domain::cases::calendar::WorkCalendar;
use zhiban_domain::identity::staff::StaffSession;
use zhiban_domain::requests::{self, Hall, NewRequest, RequestSettings, RequestType, Tab};
use zhiban_domain::time::local_date;

use crate::bench::Latencies;
use crate::bench_cases::{citizens, day_series, ms, staff_session};

const TEXTS: &[&str] = &[
    "观音桥建新北路的烧烤店每天晚上外放音响到凌晨两点，吵得孩子根本睡不着",
    "小区物业费一年涨了两次，业主都没有同意，物业也不公示收支",
    "包工头欠了我们十几个工人两个月工钱，现在电话也不接",
    "有人打电话冒充公安说我涉嫌洗钱，要我把钱转到安全账户",
    "孩子今年上小学，我们是租房住的，积分入学要准备哪些材料",
    "路口那盏路灯坏了一个多月了，晚上黑黢黢的，老人摔过好几次",
];

/// Bulk rows: states spread like a working hotline (n % 10): 0 待受理,
/// 1 待派单, 2 待签收, 3 办理中, 4 待回访, 5–9 已办结.
async fn fill(db: &Db, n: usize) -> Result<()> {
    let units: Vec<i64> = sqlx::query_scalar("SELECT DISTINCT unit_id FROM request_categories")
        .fetch_all(db.pool())
        .await?;
    let districts: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM departments WHERE level = '区县' ORDER BY id")
            .fetch_all(db.pool())
            .await?;
    let category: i64 = sqlx::query_scalar("SELECT MIN(id) FROM request_categories")
        .fetch_one(db.pool())
        .await?;
    let per = n.div_ceil(units.len().max(1));
    let postgres = db.backend() == zhiban_store::Backend::Postgres;
    let (series, day) = day_series(postgres);
    let yellow = day;
    let due = day.replace("(n % 365)", "((n % 365) + 3)");
    let states = "CASE n % 10 WHEN 0 THEN 'submitted' WHEN 1 THEN 'accepted' \
                  WHEN 2 THEN 'dispatched' WHEN 3 THEN 'handling' WHEN 4 THEN 'answered' \
                  ELSE 'concluded' END";
    let desk = "CASE n % 10 WHEN 0 THEN 'dispatcher' WHEN 1 THEN 'dispatcher' \
                WHEN 2 THEN 'unit' WHEN 3 THEN 'unit' WHEN 4 THEN 'dispatcher' ELSE '' END";
    let district = format!(
        "CASE n % {} {} END",
        districts.len(),
        districts
            .iter()
            .enumerate()
            .map(|(i, d)| format!("WHEN {i} THEN {d}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let bar = indicatif::ProgressBar::new(units.len() as u64);
    for (u, unit) in units.iter().enumerate() {
        let sql = format!(
            "INSERT INTO requests (number, kind, title, body, district_id, street, contact_name, \
             contact_phone, state, category_id, unit_id, submitted_at, due_on, yellow_on, \
             dispatched_at, updated_at, desk, running) \
             SELECT 'BQ' || $3 || 'N' || n, 'complaint', '演示诉求 ' || n, '演示诉求正文', \
             {district}, '观音桥街道', '演示用户', '', {states}, $4, \
             CASE WHEN n % 10 < 2 THEN NULL ELSE $1 END, 1767225600 + n, {due}, {yellow}, \
             CASE WHEN n % 10 < 2 THEN NULL ELSE 1767225600 + n END, 1767225600 + n, {desk}, \
             CASE WHEN n % 10 < 4 THEN 1 ELSE 0 END FROM {series}"
        );
        let mut tx = db.begin().await?;
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(*unit)
            .bind(i64::try_from(per).unwrap_or(i64::MAX))
            .bind(u.to_string())
            .bind(category)
            .execute(&mut *tx)
            .await
            .map_err(|e| anyhow::anyhow!("bulk insert: {e:?}"))?;
        tx.commit().await?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    if postgres {
        sqlx::query("ANALYZE requests").execute(db.pool()).await?;
    } else {
        sqlx::query("ANALYZE").execute(db.pool()).await?;
    }
    Ok(())
}

pub async fn run(
    postgres: Option<String>,
    filings: usize,
    concurrency: usize,
    total: usize,
    rounds: usize,
) -> Result<()> {
    let (t, engine) = crate::bench::demo_db(&postgres).await?;
    let db = &t.db;
    requests::demo::load_history(db).await?;
    let calendar = WorkCalendar::national();
    let settings = RequestSettings::default();
    let trained = Instant::now();
    let routing = std::sync::Arc::new(requests::training(db, 20_000).await?);
    println!(
        "engine: {engine}; router trained in {:.0} ms; {filings} requests filed, {concurrency} at a time",
        ms(trained.elapsed())
    );
    let district: i64 = sqlx::query_scalar("SELECT id FROM departments WHERE code = '500105'")
        .fetch_one(db.pool())
        .await?;

    // Requests filed per second.
    let people = citizens(db, filings).await?;
    let started = Instant::now();
    let mut latencies = Vec::with_capacity(filings);
    for (c, chunk) in people.chunks(concurrency.max(1)).enumerate() {
        let mut set = tokio::task::JoinSet::new();
        for (i, who) in chunk.iter().enumerate() {
            let who = who.clone();
            let db = db.clone();
            let calendar = calendar.clone();
            let settings = settings.clone();
            let routing = std::sync::Arc::clone(&routing);
            let text = TEXTS[(c + i) % TEXTS.len()];
            set.spawn(async move {
                let hall = Hall {
                    db: &db,
                    calendar: &calendar,
                    settings: &settings,
                    yellow_percent: 20,
                    public_url: "http://127.0.0.1",
                };
                let new = NewRequest {
                    kind: Some(RequestType::Complaint),
                    body: text.into(),
                    district_id: Some(district),
                    street: "观音桥街道".into(),
                    contact_name: "演示用户".into(),
                    contact_phone: who.phone.clone(),
                    ..NewRequest::default()
                };
                let t = Instant::now();
                requests::file(&hall, &routing, Some(&who), &new)
                    .await
                    .map(|_| t.elapsed())
            });
        }
        while let Some(r) = set.join_next().await {
            latencies.push(r??);
        }
    }
    let elapsed = started.elapsed();
    let mut lat = Latencies::from(latencies);
    println!(
        "filed {filings} in {:.2} s: {:.1} requests/s; per request p50 {:.1} ms, p99 {:.1} ms",
        elapsed.as_secs_f64(),
        filings as f64 / elapsed.as_secs_f64(),
        ms(lat.pct(0.5)),
        ms(lat.pct(0.99)),
    );

    // The desks over a million requests.
    let fill_start = Instant::now();
    fill(db, total).await?;
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM requests")
        .fetch_one(db.pool())
        .await?;
    println!(
        "filled {n} requests in {:.1} s",
        fill_start.elapsed().as_secs_f64()
    );
    let city = staff_session(db, "bench.hotline", None, "call_agent").await?;
    let district_desk = staff_session(db, "bench.district", Some("500105"), "call_agent").await?;
    let unit = staff_session(db, "bench.cg", Some("500000-CG"), "case_handler").await?;
    let today = local_date(db.now());
    let some_number: String = sqlx::query_scalar(
        "SELECT number FROM requests WHERE number LIKE 'BQ%' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(db.pool())
    .await?;
    let lists: Vec<(&str, &StaffSession, Tab, String, u32)> = vec![
        (
            "city 待派单, first page",
            &city,
            Tab::Dispatch,
            String::new(),
            0,
        ),
        (
            "city 待派单, page 100",
            &city,
            Tab::Dispatch,
            String::new(),
            99,
        ),
        ("city 延期审批", &city, Tab::Extensions, String::new(), 0),
        ("city 待回访", &city, Tab::Visit, String::new(), 0),
        ("city 超期", &city, Tab::Overdue, String::new(), 0),
        ("city 全部, newest first", &city, Tab::All, String::new(), 0),
        ("city search by number", &city, Tab::All, some_number, 0),
        (
            "one district 待派单",
            &district_desk,
            Tab::Dispatch,
            String::new(),
            0,
        ),
        ("one unit 待签收", &unit, Tab::Sign, String::new(), 0),
        ("one unit 办理中", &unit, Tab::Handle, String::new(), 0),
    ];
    println!();
    println!("| list ({engine}, {n} requests) | rows | p50 | p99 |");
    println!("|---|---|---|---|");
    for (name, who, tab, q, page) in &lists {
        let first = requests::list(db, who, *tab, q, *page, today).await?; // warm-up
        let mut v: Vec<Duration> = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let t = Instant::now();
            requests::list(db, who, *tab, q, *page, today).await?;
            v.push(t.elapsed());
        }
        let mut l = Latencies::from(v);
        println!(
            "| {name} | {} | {:.1} ms | {:.1} ms |",
            first.len(),
            ms(l.pct(0.5)),
            ms(l.pct(0.99))
        );
    }
    Ok(())
}
