//! `zhiban bench cases`: applications submitted per second (each with a
//! 1 MB upload) and the workbench list latency over 1,000,000 cases, on
//! SQLite or on PostgreSQL. Runs the same domain calls the web handlers
//! make, on a fresh database of its own.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use chrono::Utc;
use zhiban_domain::Db;
use zhiban_domain::cases::calendar::WorkCalendar;
use zhiban_domain::cases::{self, CaseSettings, Desk, Light, ListQuery, Tab, Upload};
use zhiban_domain::forms::Answers;
use zhiban_domain::identity::citizen;
use zhiban_domain::identity::staff::{self, Client, StaffSession};
use zhiban_domain::identity::{SecurityPolicy, roles};
use zhiban_domain::time::local_date;
use zhiban_store::files::FileStore;

use crate::bench::Latencies;

const ITEM: &str = "500000-GA-HZ-0001-03";

fn answers(pairs: &[(&str, &str)]) -> Answers {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A signed-in staff member of `unit` with the built-in `role`, or the
/// system administrator when `unit` is `None`.
pub(crate) async fn staff_session(
    db: &Db,
    username: &str,
    unit: Option<&str>,
    role: &str,
) -> Result<StaffSession> {
    let policy = SecurityPolicy {
        staff_second_factor: false,
        ..SecurityPolicy::default()
    };
    staff::create_or_reset(db, "bench.root", "", "B3nch!root").await?;
    let now = Utc::now();
    let login = |u: String, p: String| {
        let policy = policy.clone();
        async move {
            let user = staff::login(db, &policy, &u, &p, now).await?;
            let token = staff::start_session(db, &policy, &user, &Client::default(), now).await?;
            staff::session(db, &policy, &token, now)
                .await?
                .context("session")
        }
    };
    let root = login("bench.root".into(), "B3nch!root".into()).await?;
    let Some(unit) = unit else {
        return Ok(root);
    };
    let unit_id: i64 = sqlx::query_scalar("SELECT id FROM departments WHERE code = $1")
        .bind(unit)
        .fetch_one(db.pool())
        .await?;
    let role = roles::list_roles(db)
        .await?
        .into_iter()
        .find(|r| r.code == role)
        .context("role")?;
    let input = roles::StaffInput {
        username: username.into(),
        display_name: username.into(),
        unit_id: Some(unit_id),
        role_ids: [role.id].into(),
        password: "B3nch!desk".into(),
        ..roles::StaffInput::default()
    };
    roles::save_staff(db, &root, None, &input).await?;
    login(username.into(), "B3nch!desk".into()).await
}

/// A valid, distinct 身份证号 for person `i` (GB 11643 check character).
fn id_number(i: usize) -> String {
    let birth = chrono::NaiveDate::from_ymd_opt(1950, 1, 1).unwrap_or_default()
        + chrono::Duration::days(i64::try_from(i / 999).unwrap_or(0));
    let body = format!("110105{}{:03}", birth.format("%Y%m%d"), i % 999 + 1);
    let check = zhiban_domain::identity::ids::id_check_char(&body).unwrap_or('0');
    format!("{body}{check}")
}

/// N citizens at level 2, created directly.
pub(crate) async fn citizens(db: &Db, n: usize) -> Result<Vec<citizen::Citizen>> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO citizens (phone, password_hash, name, id_number, level, created_at) \
             VALUES ($1, 'x', '演示用户', $2, 2, 0) RETURNING id",
        )
        .bind(format!("139{:08}", i))
        .bind(id_number(i))
        .fetch_one(db.pool())
        .await?;
        out.push(citizen::get(db, id).await?);
    }
    Ok(out)
}

async fn submit_one(desk: &Desk<'_>, who: &citizen::Citizen, png: &[u8]) -> Result<()> {
    let item = zhiban_domain::catalog::get_service(desk.db, ITEM).await?;
    let mut draft = cases::draft(desk.db, who, &item).await?;
    let first = answers(&[
        ("address.province", "重庆市"),
        ("address.city", "渝州市"),
        ("address.district", "渝中区"),
        ("address.detail", "民族路 1 号"),
    ]);
    cases::save_draft(desk.db, who, &mut draft, &first, 1).await?;
    let second = answers(&[("reason", "遗失"), ("delivery", "窗口领取")]);
    cases::save_draft(desk.db, who, &mut draft, &second, 2).await?;
    for (key, body) in [
        ("m1", png.to_vec()),
        ("m2", zhiban_store::files::padded_pdf(2048)),
    ] {
        cases::add_draft_file(
            desk,
            who,
            &draft,
            Upload {
                field_key: key,
                file_name: "scan",
                body,
            },
        )
        .await?;
    }
    cases::submit(desk, who, &item).await?;
    Ok(())
}

/// Fills the cases table with `n` cases spread over every unit, state and
/// deadline, in one statement per unit.
/// SQL for bulk rows: a series `n` of `$2` numbers, and a day of 2026
/// (`YYYY-MM-DD`) for each `n`.
pub(crate) fn day_series(postgres: bool) -> (&'static str, &'static str) {
    if postgres {
        (
            "generate_series(1, $2) AS seq(n)",
            "to_char(DATE '2026-01-01' + (n % 365)::int, 'YYYY-MM-DD')",
        )
    } else {
        (
            "(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < $2) SELECT n FROM s) AS seq",
            "date('2026-01-01', '+' || (n % 365) || ' days')",
        )
    }
}

async fn fill(db: &Db, n: usize) -> Result<()> {
    let units: Vec<i64> = sqlx::query_scalar("SELECT id FROM departments ORDER BY id")
        .fetch_all(db.pool())
        .await?;
    let per = n.div_ceil(units.len());
    let postgres = db.backend() == zhiban_store::Backend::Postgres;
    let (series, day) = day_series(postgres);
    // Yellow three days before the deadline.
    let yellow = day;
    let day = day.replace("(n % 365)", "((n % 365) + 3)");
    // todo and running follow CaseState::staff_todo and clock_running.
    let states = "CASE n % 10 WHEN 0 THEN 'submitted' WHEN 1 THEN 'correction' \
                  WHEN 2 THEN 'decided' WHEN 3 THEN 'concluded' WHEN 4 THEN 'delivered' \
                  WHEN 5 THEN 'delivered' WHEN 6 THEN 'delivered' WHEN 7 THEN 'delivered' \
                  ELSE 'accepted' END";
    let bar = indicatif::ProgressBar::new(units.len() as u64);
    for (u, unit) in units.iter().enumerate() {
        let sql = format!(
            "INSERT INTO cases (number, service_code, service_name, department_id, citizen_id, \
             applicant_name, applicant_phone, form_version, form_schema, answers, state, \
             promised_days, legal_days, submitted_at, due_on, legal_due_on, yellow_on, updated_at, \
             todo, running) \
             SELECT 'BK' || $3 || 'N' || n, 'BENCH', '居民身份证补领', $1, NULL, '演示用户', \
             '13900000000', 0, '{{}}', '{{}}', {states}, 20, 60, 1767225600 + n, {day}, {day}, \
             {yellow}, 1767225600 + n, CASE WHEN n % 10 IN (0, 2, 3, 8, 9) THEN 1 ELSE 0 END, \
             CASE WHEN n % 10 IN (0, 2, 8, 9) THEN 1 ELSE 0 END FROM {series}"
        );
        let mut tx = db.begin().await?;
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(*unit)
            .bind(i64::try_from(per).unwrap_or(i64::MAX))
            .bind(u.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| anyhow::anyhow!("bulk insert: {e:?}"))?;
        tx.commit().await?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    if postgres {
        sqlx::query("ANALYZE cases").execute(db.pool()).await?;
    } else {
        sqlx::query("ANALYZE").execute(db.pool()).await?;
    }
    Ok(())
}

pub async fn run(
    postgres: Option<String>,
    submissions: usize,
    concurrency: usize,
    total_cases: usize,
    rounds: usize,
) -> Result<()> {
    let (t, engine) = crate::bench::demo_db(&postgres).await?;
    let db = &t.db;
    let dir = tempfile::tempdir()?;
    let files = FileStore::open(&dir.path().display().to_string())?;
    let calendar = WorkCalendar::national();
    let settings = CaseSettings::default();
    let desk = Desk {
        db,
        files: &files,
        calendar: &calendar,
        settings: &settings,
        public_url: "http://127.0.0.1",
    };
    println!(
        "engine: {engine}; {submissions} applications, {concurrency} at a time, each with a 1 MB upload"
    );

    // Applications per second.
    let people = citizens(db, submissions).await?;
    let png = zhiban_store::files::padded_pdf(1024 * 1024);
    let started = Instant::now();
    let mut latencies = Vec::with_capacity(submissions);
    for chunk in people.chunks(concurrency.max(1)) {
        let mut set = tokio::task::JoinSet::new();
        for who in chunk {
            let who = who.clone();
            let db = db.clone();
            let files = files.clone();
            let calendar = calendar.clone();
            let settings = settings.clone();
            let png = png.clone();
            set.spawn(async move {
                let desk = Desk {
                    db: &db,
                    files: &files,
                    calendar: &calendar,
                    settings: &settings,
                    public_url: "http://127.0.0.1",
                };
                let t = Instant::now();
                submit_one(&desk, &who, &png).await.map(|()| t.elapsed())
            });
        }
        while let Some(r) = set.join_next().await {
            latencies.push(r??);
        }
    }
    let elapsed = started.elapsed();
    let mut lat = Latencies::from(latencies);
    println!(
        "submitted {submissions} in {:.2} s: {:.1} applications/s; per application p50 {:.1} ms, p99 {:.1} ms",
        elapsed.as_secs_f64(),
        submissions as f64 / elapsed.as_secs_f64(),
        ms(lat.pct(0.5)),
        ms(lat.pct(0.99)),
    );
    let _ = &desk;

    // The workbench over a million cases.
    let fill_start = Instant::now();
    fill(db, total_cases).await?;
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases")
        .fetch_one(db.pool())
        .await?;
    println!(
        "filled {n} cases in {:.1} s",
        fill_start.elapsed().as_secs_f64()
    );
    let city = staff_session(db, "bench.city", None, "case_handler").await?;
    let district = staff_session(db, "bench.district", Some("500103"), "case_handler").await?;
    let police = staff_session(db, "bench.police", Some("500000-GA"), "case_handler").await?;
    let today = local_date(db.now());
    let some_number: String =
        sqlx::query_scalar("SELECT number FROM cases ORDER BY id DESC LIMIT 1")
            .fetch_one(db.pool())
            .await?;
    let lists: Vec<(&str, &StaffSession, ListQuery)> = vec![
        ("city-wide 待办, first page", &city, ListQuery::default()),
        (
            "city-wide 待办, page 100",
            &city,
            ListQuery {
                page: 99,
                ..ListQuery::default()
            },
        ),
        (
            "city-wide 超期",
            &city,
            ListQuery {
                tab: Tab::Overdue,
                ..ListQuery::default()
            },
        ),
        (
            "city-wide yellow light",
            &city,
            ListQuery {
                tab: Tab::All,
                light: Some(Light::Yellow),
                ..ListQuery::default()
            },
        ),
        (
            "city-wide search by number",
            &city,
            ListQuery {
                tab: Tab::All,
                q: some_number.clone(),
                ..ListQuery::default()
            },
        ),
        (
            "city-wide 已办",
            &city,
            ListQuery {
                tab: Tab::Done,
                ..ListQuery::default()
            },
        ),
        ("police bureau subtree 待办", &police, ListQuery::default()),
        ("one district 待办", &district, ListQuery::default()),
        (
            "one district 超期",
            &district,
            ListQuery {
                tab: Tab::Overdue,
                ..ListQuery::default()
            },
        ),
    ];
    println!();
    println!("| list ({engine}, {n} cases) | rows | total | p50 | p99 |");
    println!("|---|---|---|---|---|");
    for (name, who, q) in &lists {
        let first = cases::list(db, who, q, today).await?; // warm-up
        let (rows, total) = (first.rows, first.total);
        let total = if first.capped {
            format!("> {total}")
        } else {
            total.to_string()
        };
        let mut v: Vec<Duration> = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let t = Instant::now();
            cases::list(db, who, q, today).await?;
            v.push(t.elapsed());
        }
        let mut l = Latencies::from(v);
        println!(
            "| {name} | {} | {total} | {:.1} ms | {:.1} ms |",
            rows.len(),
            ms(l.pct(0.5)),
            ms(l.pct(0.99))
        );
    }
    Ok(())
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
