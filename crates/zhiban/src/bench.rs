//! `zhiban bench search`: search speed and quality at scale, side by side
//! with SQLite FTS5 (trigram) as the baseline.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use zhiban_search::{SearchDoc, SearchIndex, SearchQuery};

/// Deterministic synthetic catalog of `n` documents built from the real
/// catalog's titles, spread over districts and sub-variants like a
/// province-wide catalog would be.
pub fn synthetic_docs(real: &[SearchDoc], n: usize) -> Vec<SearchDoc> {
    const PLACES: &[&str] = &[
        "渝中区",
        "江北区",
        "沙坪坝区",
        "九龙坡区",
        "南岸区",
        "北碚区",
        "渝北区",
        "巴南区",
        "万州区",
        "涪陵区",
        "黔江区",
        "长寿区",
        "江津区",
        "合川区",
        "永川区",
        "南川区",
        "綦江区",
        "大足区",
        "璧山区",
        "铜梁区",
        "潼南区",
        "荣昌区",
        "开州区",
        "梁平区",
        "武隆区",
        "城口县",
        "丰都县",
        "垫江县",
        "忠县",
        "云阳县",
        "奉节县",
        "巫山县",
        "巫溪县",
        "石柱县",
        "秀山县",
        "酉阳县",
        "彭水县",
        "两江新区",
        "西部科学城",
        "万盛经开区",
    ];
    const CHANNELS: &[&str] = &[
        "",
        "（网上办理）",
        "（窗口办理）",
        "（跨省通办）",
        "（自助终端）",
    ];
    let mut out = Vec::with_capacity(n);
    let mut i = 0usize;
    while out.len() < n {
        let base = &real[i % real.len()];
        let place = PLACES[(i / real.len()) % PLACES.len()];
        let channel = CHANNELS[(i / (real.len() * PLACES.len())) % CHANNELS.len()];
        let mut d = base.clone();
        d.id = format!("{}-{i}", base.id);
        d.title = format!("{place}{}{channel}", base.title);
        d.body = format!("{place} {}", base.body);
        d.department = format!("{place}{}", base.department);
        d.url = format!("/services/{}", d.id);
        out.push(d);
        i += 1;
    }
    out
}

pub struct Latencies(Vec<Duration>);

impl From<Vec<Duration>> for Latencies {
    fn from(v: Vec<Duration>) -> Self {
        Latencies(v)
    }
}

impl Latencies {
    pub fn pct(&mut self, p: f64) -> Duration {
        self.0.sort();
        let idx = ((self.0.len() as f64 - 1.0) * p).round() as usize;
        self.0.get(idx).copied().unwrap_or_default()
    }
}

pub fn run_in_process(index: &SearchIndex, queries: &[String], rounds: usize) -> Latencies {
    let mut v = Vec::with_capacity(queries.len() * rounds);
    for _ in 0..rounds {
        for q in queries {
            let t = Instant::now();
            let _ = index.search(&SearchQuery {
                text: q.clone(),
                limit: 10,
                ..SearchQuery::default()
            });
            v.push(t.elapsed());
        }
    }
    Latencies(v)
}

/// Loads `docs` into an FTS5 trigram table in a temporary SQLite file.
pub async fn fts5_baseline(docs: &[SearchDoc]) -> Result<(zhiban_domain::Db, tempfile::TempDir)> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("fts.db").display());
    let db = zhiban_domain::Db::connect(&url).await?;
    sqlx::raw_sql(
        "CREATE VIRTUAL TABLE docs USING fts5(title, body, url UNINDEXED, tokenize = 'trigram')",
    )
    .execute(db.pool())
    .await
    .context("FTS5 with the trigram tokenizer")?;
    let mut tx = db.begin().await?;
    for d in docs {
        sqlx::query("INSERT INTO docs (title, body, url) VALUES ($1, $2, $3)")
            .bind(&d.title)
            .bind(&d.body)
            .bind(&d.url)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok((db, dir))
}

/// The baseline query: the raw text as an FTS5 trigram phrase, ranked by
/// bm25 with the title weighted; queries under 3 characters use LIKE.
pub async fn fts5_search(db: &zhiban_domain::Db, q: &str, limit: i64) -> Result<Vec<String>> {
    use sqlx::Row;
    let q = q.trim();
    let rows = if q.chars().count() >= 3 {
        let phrase = format!("\"{}\"", q.replace('"', ""));
        sqlx::query(
            "SELECT title FROM docs WHERE docs MATCH $1 ORDER BY bm25(docs, 5.0, 1.0) LIMIT $2",
        )
        .bind(phrase)
        .bind(limit)
        .fetch_all(db.pool())
        .await?
    } else {
        sqlx::query("SELECT title FROM docs WHERE title LIKE $1 LIMIT $2")
            .bind(format!("%{q}%"))
            .bind(limit)
            .fetch_all(db.pool())
            .await?
    };
    Ok(rows
        .iter()
        .filter_map(|r| r.try_get::<String, _>("title").ok())
        .collect())
}

/// Top-3 hit rate of a `query<TAB>regex` file using `search`.
pub async fn recall<F, Fut>(tsv: &str, mut search: F) -> (usize, usize)
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = Vec<String>>,
{
    let (mut n, mut hit) = (0, 0);
    for line in tsv
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains('\t'))
    {
        let Some((q, pattern)) = line.split_once('\t') else {
            continue;
        };
        let Ok(re) = regex::Regex::new(pattern.trim()) else {
            continue;
        };
        n += 1;
        if search(q.to_string())
            .await
            .iter()
            .take(3)
            .any(|t| re.is_match(t))
        {
            hit += 1;
        }
    }
    (n, hit)
}

/// Requests per second and latencies of `GET url` for each query, from
/// `clients` concurrent keep-alive connections for `seconds`.
pub async fn http_load(
    base: &str,
    queries: &[String],
    clients: usize,
    seconds: u64,
) -> Result<(f64, Latencies)> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let client = client.clone();
        let urls: Vec<String> = queries
            .iter()
            .map(|q| format!("{base}/api/v1/search?limit=10&q={}", urlencode(q)))
            .collect();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut i = c;
            while Instant::now() < deadline {
                let t = Instant::now();
                let ok = match client.get(&urls[i % urls.len()]).send().await {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if ok {
                    lat.push(t.elapsed());
                }
                i += 1;
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await?);
    }
    let rps = all.len() as f64 / started.elapsed().as_secs_f64();
    Ok((rps, Latencies(all)))
}

/// Runs wrk against `/api/v1/search`, cycling through `queries` with a Lua
/// script; returns wrk's requests/s and latency percentiles.
pub async fn wrk(
    base: &str,
    queries: &[String],
    clients: usize,
    seconds: u64,
    dir: &std::path::Path,
) -> Result<String> {
    let paths: Vec<String> = queries
        .iter()
        .map(|q| format!("\"/api/v1/search?limit=10&q={}\"", urlencode(q)))
        .collect();
    let script = dir.join("search.lua");
    std::fs::write(
        &script,
        format!(
            "local paths = {{{}}}\nlocal i = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format(\"GET\", paths[i])\nend\n",
            paths.join(",")
        ),
    )?;
    let out = tokio::process::Command::new("wrk")
        .args([
            "-t1",
            &format!("-c{clients}"),
            &format!("-d{seconds}s"),
            "--latency",
            "-s",
        ])
        .arg(&script)
        .arg(base)
        .output()
        .await
        .context("starting wrk")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let pick = |prefix: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .map(|l| l.split_whitespace().nth(1).unwrap_or("").to_string())
            .unwrap_or_default()
    };
    let non2xx = text
        .lines()
        .find(|l| l.contains("Non-2xx"))
        .map(|l| format!(", {}", l.trim()))
        .unwrap_or_default();
    Ok(format!(
        "{} searches/s, p50 {}, p99 {}{non2xx}",
        pick("Requests/sec:"),
        pick("50%"),
        pick("99%")
    ))
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A fresh database for a benchmark (a SQLite file, or a new database on
/// the PostgreSQL server at `postgres`) with its keys and the demo data,
/// and the engine's name for the report.
pub async fn demo_db(
    postgres: &Option<String>,
) -> Result<(zhiban_store::scratch::ScratchDb, &'static str)> {
    use zhiban_store::scratch::ScratchDb;
    let t = match postgres {
        Some(url) => ScratchDb::postgres(url).await?,
        None => ScratchDb::sqlite().await?,
    };
    zhiban_store::keys::open(
        &t.db,
        zhiban_crypto::MasterKey::generate(),
        zhiban_crypto::SuiteKind::default(),
    )
    .await?;
    zhiban_domain::demo::load(&t.db).await?;
    Ok((
        t,
        if postgres.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
    ))
}
