//! `zhiban`: the whole portal in one binary.

mod bench;
mod bench_assistant;
mod bench_bundles;
mod bench_cases;
mod bench_crypto;
mod bench_payments;
mod bench_requests;
mod clients;
mod eval;
mod settings;

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use zhiban_domain::catalog::transfer::{self, Format, ImportError};
use zhiban_domain::{ActorName, Db, catalog, demo, staff};

use settings::Settings;

#[derive(Parser)]
#[command(
    name = "zhiban",
    version,
    about = "智办 Zhiban: an open-source smart government portal"
)]
struct Cli {
    /// A TOML settings file (values there override the defaults;
    /// ZHIBAN__… environment variables override the file).
    #[arg(long, global = true, env = "ZHIBAN_CONFIG")]
    config: Option<PathBuf>,
    /// Where the SQLite database, files and keys live.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the portal (creates the schema and loads the demo data on an empty database).
    Serve {
        /// Address to listen on.
        #[arg(long)]
        listen: Option<String>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Create a staff administrator, or reset an existing one's password.
    /// The password is read from ZHIBAN_ADMIN_PASSWORD, from standard input
    /// with --password-stdin, or asked for at the terminal.
    CreateAdmin {
        #[arg(long)]
        username: String,
        #[arg(long, default_value = "")]
        display_name: String,
        #[arg(long)]
        password_stdin: bool,
        /// The built-in role of a new account: system_admin, security_admin
        /// or auditor (三员分立: one account each).
        #[arg(long, default_value = "system_admin")]
        role: String,
    },
    /// Import the catalog from a .csv or .xlsx file (all rows or none);
    /// with --departments, import the org tree from a CSV file.
    Import {
        file: PathBuf,
        #[arg(long)]
        departments: bool,
    },
    /// Export the whole catalog (drafts included) to a .csv or .xlsx file.
    Export { file: PathBuf },
    /// Print the effective settings (secrets redacted) and exit.
    CheckConfig,
    /// Write, read back and delete a probe object in the file store
    /// (`storage_url`: the data directory or S3); exit 1 on any failure.
    CheckStorage,
    /// Measure quality.
    Eval {
        #[command(subcommand)]
        what: EvalWhat,
    },
    /// Rebuild the search index under the data directory from the database
    /// (the server also rebuilds it when it starts; stop it first).
    Reindex,
    /// The OpenID Connect provider.
    Oidc {
        #[command(subcommand)]
        what: clients::OidcWhat,
    },
    /// Open311 GeoReport v2 API keys for other systems.
    Open311 {
        #[command(subcommand)]
        what: clients::Open311What,
    },
    /// The tamper-evident audit log.
    Audit {
        #[command(subcommand)]
        what: AuditWhat,
    },
    /// Electronic licenses (电子证照).
    License {
        #[command(subcommand)]
        what: LicenseWhat,
    },
    /// Field-encryption keys.
    Keys {
        #[command(subcommand)]
        what: KeysWhat,
    },
    /// Measure speed (see docs/BENCHMARKS.md).
    Bench {
        #[command(subcommand)]
        what: BenchWhat,
    },
}

#[derive(Subcommand)]
enum LicenseWhat {
    /// Check an exported license file offline: its signature (the public
    /// key travels in the file) and its expiry. Exit 0 only when valid.
    /// Revocation can only be checked online, at the file's verify_url.
    Verify {
        file: PathBuf,
        /// Require this signing-key fingerprint (the issuer's, as published
        /// on the portal's verification page).
        #[arg(long)]
        fingerprint: Option<String>,
    },
}

#[derive(Subcommand)]
enum KeysWhat {
    /// The stored keys, the suite, and how many values are not yet under
    /// the active key.
    Status,
    /// Make a new data key active and re-encrypt every personal-data
    /// column with it, in batches. Interrupted? Run it again: it resumes.
    Rotate {
        #[arg(long, default_value_t = 500)]
        batch: usize,
    },
}

#[derive(Subcommand)]
enum AuditWhat {
    /// Recompute the SM3 hash chain over every record; exits non-zero and
    /// names the first bad record if any was edited, deleted or inserted.
    Verify,
}

#[derive(Subcommand)]
enum BenchWhat {
    /// The assistant's answer latency in process (p50/p99) over the demo
    /// portal with a knowledge base of `entries` generated entries.
    Assistant {
        #[arg(long, default_value_t = 5_000)]
        entries: usize,
        #[arg(long, default_value_t = 20)]
        rounds: usize,
        #[arg(default_value = "tests/assistant/dev.tsv")]
        set: String,
    },
    /// Search latency in-process and over HTTP on a generated catalog,
    /// index build time, and SQLite FTS5 as the baseline; quality sets are
    /// the given `query<TAB>regex` files.
    Search {
        #[arg(long, default_value_t = 100_000)]
        docs: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 64)]
        clients: usize,
        /// Query sets (also used for recall); defaults to the project's own.
        #[arg(default_values_t = vec!["tests/search/citizen_queries.tsv".to_string()])]
        sets: Vec<String>,
    },
    /// SM4-GCM and SM2 throughput beside AES-256-GCM and Ed25519, and the
    /// crypto cost of one application submission.
    Crypto {
        /// Seconds per suite for the throughput figures.
        #[arg(long, default_value_t = 4.0)]
        seconds: f64,
        #[arg(long, default_value_t = 20_000)]
        rounds: usize,
    },
    /// Applications submitted per second (each with a 1 MB upload) and the
    /// workbench list latency over a large cases table, on a fresh
    /// database: SQLite, or a new database on the given PostgreSQL server.
    Cases {
        /// e.g. postgres://postgres@127.0.0.1:5432/test (a fresh database
        /// is created next to it and dropped afterwards)
        #[arg(long)]
        postgres: Option<String>,
        #[arg(long, default_value_t = 200)]
        submissions: usize,
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        #[arg(long, default_value_t = 1_000_000)]
        cases: usize,
        #[arg(long, default_value_t = 200)]
        rounds: usize,
    },
    /// 一件事 applications per second (新生儿出生一件事: one merged form,
    /// four cases) and the submission's own latency, on a fresh database:
    /// SQLite, or a new database on the given PostgreSQL server.
    Bundles {
        #[arg(long)]
        postgres: Option<String>,
        #[arg(long, default_value_t = 200)]
        submissions: usize,
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
    },
    /// Payment-gateway callbacks handled per second (signature, paid once,
    /// 电子票据, duplicates recognised), on a fresh database: SQLite, or a
    /// new database on the given PostgreSQL server.
    Payments {
        #[arg(long)]
        postgres: Option<String>,
        #[arg(long, default_value_t = 1000)]
        orders: usize,
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
    },
    /// Citizen requests filed per second and the dispatcher's and units'
    /// lists over a large requests table, on a fresh database: SQLite, or
    /// a new database on the given PostgreSQL server.
    Requests {
        #[arg(long)]
        postgres: Option<String>,
        #[arg(long, default_value_t = 500)]
        filings: usize,
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        #[arg(long, default_value_t = 1_000_000)]
        requests: usize,
        #[arg(long, default_value_t = 200)]
        rounds: usize,
    },
}

#[derive(Subcommand)]
enum EvalWhat {
    /// Top-1 and top-3 hit rates of `query<TAB>title-regex` lines, and the misses.
    Search { file: PathBuf },
    /// Top-1 and top-3 unit accuracy of the request router on
    /// `text<TAB>expected unit code` lines, and the misses. The router is
    /// trained as the portal trains it: the dispatch catalogue and the
    /// classified requests of this data directory (the demo hotline on a
    /// fresh one).
    Routing { file: PathBuf },
    /// Answered, correct, wrong and handed-off shares of the assistant on
    /// `question<TAB>expected source regex<TAB>words` lines (`+question`
    /// continues the conversation above), and every miss.
    Assistant { file: PathBuf },
    /// Accuracy of the offline sentiment reading on
    /// `label<TAB>source<TAB>text` lines, the confusion table and the
    /// misses.
    Sentiment { file: PathBuf },
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let mut settings = Settings::load(cli.config.as_deref())?;
    if let Some(d) = cli.data_dir {
        settings.data_dir = d;
    }
    let _log_guard = settings::init_logging(&settings.log)?;
    // Commands that may add audit records sign a checkpoint before they
    // end (the running portal does so each minute), so `audit verify`
    // does not find them unanchored later.
    let audited = matches!(
        cli.command,
        Command::CreateAdmin { .. }
            | Command::Import { .. }
            | Command::Oidc { .. }
            | Command::Open311 { .. }
            | Command::Keys { .. }
    );
    let result = run(cli.command, &mut settings).await;
    if audited && result.is_ok() {
        let db = open_migrated(&settings).await?;
        let anchors = zhiban_domain::audit::Anchors::file(settings.audit_anchor_file());
        zhiban_domain::audit::checkpoint(&db, &anchors).await?;
    }
    result
}

async fn run(command: Command, settings: &mut Settings) -> Result<()> {
    match command {
        Command::Serve { listen } => {
            if let Some(l) = listen {
                settings.listen = l;
            }
            serve(settings.clone()).await
        }
        Command::Migrate => {
            let db = open(settings).await?;
            let n = db.migrate().await?;
            println!("{n} migration(s) applied");
            Ok(())
        }
        Command::CreateAdmin {
            username,
            display_name,
            password_stdin,
            role,
        } => {
            let password = read_password(password_stdin)?;
            let db = open_migrated(settings).await?;
            match staff::create_or_reset_as(&db, &username, &display_name, &password, &role).await {
                Ok(_) => {
                    println!("staff account {username} is ready");
                    Ok(())
                }
                Err(zhiban_domain::DomainError::Invalid(errs)) => {
                    for e in errs {
                        eprintln!("{}", e.message_zh());
                    }
                    bail!("account not created")
                }
                Err(e) => Err(e.into()),
            }
        }
        Command::Import { file, departments } => import(settings, &file, departments).await,
        Command::Export { file } => export(settings, &file).await,
        Command::Eval {
            what: EvalWhat::Search { file },
        } => eval::search(settings, &file).await,
        Command::Eval {
            what: EvalWhat::Routing { file },
        } => eval::routing(settings, &file).await,
        Command::Eval {
            what: EvalWhat::Assistant { file },
        } => eval::assistant(settings, &file).await,
        Command::Eval {
            what: EvalWhat::Sentiment { file },
        } => eval::sentiment(&file),
        Command::Reindex => reindex(settings).await,
        Command::Bench {
            what:
                BenchWhat::Search {
                    docs,
                    seconds,
                    clients,
                    sets,
                },
        } => bench_search(docs, seconds, clients, &sets).await,
        Command::Bench {
            what:
                BenchWhat::Assistant {
                    entries,
                    rounds,
                    set,
                },
        } => bench_assistant::run(entries, rounds, &set).await,
        Command::Bench {
            what:
                BenchWhat::Cases {
                    postgres,
                    submissions,
                    concurrency,
                    cases,
                    rounds,
                },
        } => bench_cases::run(postgres, submissions, concurrency, cases, rounds).await,
        Command::Bench {
            what:
                BenchWhat::Bundles {
                    postgres,
                    submissions,
                    concurrency,
                },
        } => bench_bundles::run(postgres, submissions, concurrency).await,
        Command::Bench {
            what:
                BenchWhat::Payments {
                    postgres,
                    orders,
                    concurrency,
                },
        } => bench_payments::run(postgres, orders, concurrency).await,
        Command::Bench {
            what:
                BenchWhat::Requests {
                    postgres,
                    filings,
                    concurrency,
                    requests,
                    rounds,
                },
        } => bench_requests::run(postgres, filings, concurrency, requests, rounds).await,
        Command::Oidc { what } => clients::oidc(&open_migrated(settings).await?, what).await,
        Command::Open311 { what } => clients::open311(&open_migrated(settings).await?, what).await,
        Command::Audit {
            what: AuditWhat::Verify,
        } => {
            let db = open_migrated(settings).await?;
            let v = zhiban_domain::audit::verify_anchored(
                &db,
                &zhiban_domain::audit::Anchors::file(settings.audit_anchor_file()),
                settings.audit_max_unanchored_secs,
            )
            .await?;
            match v.broken {
                None => {
                    println!("audit log intact: {} records", v.records);
                    Ok(())
                }
                Some((seq, why)) => {
                    bail!(
                        "audit log broken at record {seq}: {why} ({} records verified before it)",
                        v.records
                    )
                }
            }
        }
        Command::CheckConfig => {
            println!("{}", settings.redacted_toml()?);
            Ok(())
        }
        Command::CheckStorage => check_storage(settings).await,
        Command::Keys { what } => keys(settings, what).await,
        Command::Bench {
            what: BenchWhat::Crypto { seconds, rounds },
        } => bench_crypto::run(seconds, rounds),
        Command::License {
            what: LicenseWhat::Verify { file, fingerprint },
        } => verify_license_file(&file, fingerprint.as_deref()),
    }
}

fn verify_license_file(file: &Path, fingerprint: Option<&str>) -> Result<()> {
    use zhiban_domain::licenses::{Status, verify_export};
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let today = zhiban_domain::time::local_date(chrono::Utc::now());
    let check = verify_export(&text, today).map_err(|e| anyhow::anyhow!(e))?;
    let d = &check.doc;
    println!("证照编号  {}", d.number);
    println!("证照类型  {}", d.type_name);
    println!("持证人    {} {}", d.masked_holder(), d.masked_id());
    println!("签发机关  {} ({})", d.issuer_name, d.issuer_code);
    println!(
        "有效期    {} 至 {}",
        d.issued_on,
        if d.expires_on.is_empty() {
            "长期"
        } else {
            &d.expires_on
        }
    );
    println!("签名密钥  {}", check.key_fingerprint);
    println!(
        "结论      {} ({})",
        check.status.label_zh(),
        check.status.slug()
    );
    if let Some(want) = fingerprint
        && !want.trim().eq_ignore_ascii_case(&check.key_fingerprint)
    {
        bail!(
            "signed by key {} but {} was required: not this issuer",
            check.key_fingerprint,
            want.trim()
        );
    }
    if check.status != Status::Valid {
        bail!("license is {}", check.status.slug());
    }
    println!("吊销状态须在线查询（文件中的 verify_url）");
    Ok(())
}

async fn keys(settings: &Settings, what: KeysWhat) -> Result<()> {
    // No start-up pass here: `rotate` does the same work with a progress bar.
    let db = open_keyed(settings).await?;
    match what {
        KeysWhat::Status => {
            let s = zhiban_domain::keys::status(&db).await?;
            if let Some(info) = zhiban_store::keys::info(&db) {
                println!(
                    "suite {} · master key {}",
                    info.suite, info.master_fingerprint
                );
            }
            for (id, purpose, state, created) in &s.keys {
                let at = chrono::DateTime::from_timestamp(*created, 0)
                    .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_default();
                println!("{id:<14} {purpose:<6} {state:<8} {at}");
            }
            println!("values not under the active key: {}", s.pending);
            if let Some(k) = s.unfinished_rotation {
                println!("rotation to {k} is unfinished: run `zhiban keys rotate` to resume");
            }
            Ok(())
        }
        KeysWhat::Rotate { batch } => {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} re-encrypting [{bar:40}] {pos}/{len} ({eta})",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let r = zhiban_domain::keys::rotate(&db, batch, None, &mut |done, total| {
                bar.set_length(total);
                bar.set_position(done);
            })
            .await?;
            bar.finish_and_clear();
            println!(
                "{} key {}: {} value(s) re-encrypted{}",
                if r.resumed {
                    "resumed rotation to"
                } else {
                    "rotated to"
                },
                r.key,
                r.pass.moved,
                if r.pass.raced > 0 {
                    format!(", {} changed meanwhile (already current)", r.pass.raced)
                } else {
                    String::new()
                }
            );
            if !r.pass.complete {
                bail!("some values are still under an old key: run `zhiban keys rotate` again");
            }
            Ok(())
        }
    }
}

/// The round trip every upload makes, on the configured store.
async fn check_storage(settings: &Settings) -> Result<()> {
    let url = settings
        .web_config()
        .storage_url
        .context("no storage configured")?;
    let store = zhiban_store::files::FileStore::open(&url)
        .with_context(|| format!("opening the file store {url}"))?;
    let key = format!("zhiban-check/{}", std::process::id());
    let body = format!("zhiban storage check {}", chrono::Utc::now().to_rfc3339()).into_bytes();
    store
        .put(&key, body.clone())
        .await
        .with_context(|| format!("writing to {}", store.describe()))?;
    let back = store
        .get(&key)
        .await
        .with_context(|| format!("reading from {}", store.describe()))?;
    anyhow::ensure!(
        back == body,
        "{} returned different bytes",
        store.describe()
    );
    store.delete(&key).await?;
    anyhow::ensure!(
        store.get(&key).await.is_err(),
        "{} still has the deleted object",
        store.describe()
    );
    println!("storage ok: {} (write, read, delete)", store.describe());
    Ok(())
}

async fn open(settings: &Settings) -> Result<Db> {
    let url = settings.database_url()?;
    Db::connect(&url)
        .await
        .with_context(|| format!("connecting to {}", settings::redact_url(&url)))
}

/// Connects, migrates, installs the field-encryption keys and encrypts any
/// personal data still in plain text (written before encryption existed).
pub(crate) async fn open_migrated(settings: &Settings) -> Result<Db> {
    let db = open_keyed(settings).await?;
    let pass = zhiban_domain::keys::encrypt_pending(&db)
        .await
        .context("encrypting personal data left in plain text")?;
    if pass.moved > 0 {
        tracing::info!(rows = pass.moved, "personal data encrypted at start");
    }
    Ok(db)
}

/// Connects, migrates and installs the field-encryption keys.
async fn open_keyed(settings: &Settings) -> Result<Db> {
    let db = open(settings).await?;
    db.migrate().await.context("applying migrations")?;
    let env = std::env::var(settings::MASTER_KEY_VAR).ok();
    let path = settings.master_key_path();
    let (master, created) =
        zhiban_crypto::MasterKey::load_or_create(env.as_deref().filter(|v| !v.is_empty()), &path)
            .with_context(|| format!("loading the master key ({})", path.display()))?;
    if created {
        tracing::warn!(
            path = %path.display(),
            "a new master key was created: back it up; without it encrypted data cannot be read"
        );
    }
    let info = zhiban_store::keys::open(&db, master, settings.crypto.suite)
        .await
        .context("loading the field-encryption keys")?;
    tracing::info!(
        suite = %info.suite,
        active_key = %info.active,
        master = %info.master_fingerprint,
        "field encryption ready"
    );
    Ok(db)
}

async fn serve(settings: Settings) -> Result<()> {
    zhiban_domain::identity::sms::set_signature(&settings.sms_signature);
    let db = open_migrated(&settings).await?;
    if settings.demo_data {
        match demo::load_if_empty(&db).await {
            Ok(Some(s)) => tracing::info!(created = s.created, "demo data (演示数据) loaded"),
            Ok(None) => {}
            Err(e) => bail!("loading demo data failed: {}", describe_import_error(&e)),
        }
    }
    let mut config = settings.web_config();
    // Every connection costs a file descriptor: raise the soft limit to the
    // hard one, and keep the connection cap below what is left.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => {
            let room = usize::try_from(limit.saturating_mul(3) / 4).unwrap_or(usize::MAX);
            let cap = config.connections.max_total.min(room.max(16));
            if cap < config.connections.max_total {
                tracing::warn!(limit, cap, "open-file limit lowers the connection cap");
            }
            config.connections.max_total = cap;
            tracing::info!(limit, max_connections = cap, "open-file limit");
        }
        Err(e) => tracing::warn!(error = %e, "could not raise the open-file limit"),
    }
    let state = zhiban_web::AppState::new(db.clone(), config)
        .await
        .context("loading the catalog")?;
    if settings.demo_data {
        // The demo's 预决算 and 三公经费 pages carry their tables as Excel files.
        match zhiban_domain::content::demo::attach_tables(&db, &state.files).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(pages = n, "demo disclosure tables attached"),
            Err(e) => tracing::warn!(error = %e, "demo disclosure tables not attached"),
        }
        // The demo 12345 hotline: a year of requests with their timelines.
        match zhiban_domain::requests::demo::load_history(&db).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(requests = n, "demo requests loaded"),
            Err(e) => tracing::warn!(error = %e, "demo requests not loaded"),
        }
        // 交通违法: a few penalty notices to look up and pay.
        match zhiban_domain::payments::fines::load_demo(&db).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(notices = n, "demo penalty notices loaded"),
            Err(e) => tracing::warn!(error = %e, "demo penalty notices not loaded"),
        }
        // 好差评: four months of counter ratings and their rectifications.
        match zhiban_domain::ratings::demo::load_history(&db).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(ratings = n, "demo ratings loaded"),
            Err(e) => tracing::warn!(error = %e, "demo ratings not loaded"),
        }
        match zhiban_domain::tips::load_demo(&db, &settings.tips).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(tips = n, "demo tips loaded"),
            Err(e) => tracing::warn!(error = %e, "demo tips not loaded"),
        }
    }
    let listener = tokio::net::TcpListener::bind(&settings.listen)
        .await
        .with_context(|| format!("binding {}", settings.listen))?;
    tracing::info!(listen = %settings.listen, "zhiban is serving");
    let today = zhiban_domain::time::local_date(db.now());
    if let Some(year) = state.calendar.uncovered_year(today) {
        tracing::warn!(
            year,
            "the holiday calendar has no {year} days: time limits then count only weekends as days off. \
             Add the State Council's {year} holiday arrangement as a CSV file (cases.calendar_file) once it is published"
        );
    }
    if settings.public_url.is_empty() && !settings.oidc_issuer_from_host {
        tracing::warn!(
            "public_url is not set: the OpenID Connect provider is off (set public_url, \
             or oidc_issuer_from_host for development)"
        );
    }
    println!(
        "智办 Zhiban is running at http://{}",
        listener.local_addr()?
    );
    zhiban_web::serve(listener, state, shutdown_signal()).await?;
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing requests in flight");
}

fn read_password(from_stdin: bool) -> Result<String> {
    if let Ok(p) = std::env::var("ZHIBAN_ADMIN_PASSWORD") {
        return Ok(p);
    }
    if from_stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        return Ok(s.trim_end_matches(['\r', '\n']).to_string());
    }
    let p = rpassword::prompt_password("Password: ")?;
    let again = rpassword::prompt_password("Again: ")?;
    if p != again {
        bail!("the two passwords differ");
    }
    Ok(p)
}

fn describe_import_error(e: &ImportError) -> String {
    match e {
        ImportError::Rows(rows) => rows
            .iter()
            .flat_map(|r| {
                r.errors
                    .iter()
                    .map(move |e| format!("第 {} 行：{}", r.row, e.message_zh()))
            })
            .take(50)
            .collect::<Vec<_>>()
            .join("\n"),
        ImportError::Domain(d) => d.to_string(),
    }
}

async fn import(settings: &Settings, file: &Path, departments: bool) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let db = open_migrated(settings).await?;
    if departments {
        let rows = transfer::read_departments(&bytes)
            .map_err(|e| anyhow::anyhow!(describe_import_error(&e)))?;
        let n = catalog::upsert_departments(&db, &rows).await?;
        println!("{n} department(s) imported");
        return Ok(());
    }
    let format = Format::from_filename(&file.to_string_lossy())
        .context("the file must end in .csv or .xlsx")?;
    let actor = ActorName(format!("cli:{}", whoami()));
    match transfer::import(&db, &bytes, format, &actor).await {
        Ok(s) => {
            println!("imported: {} created, {} updated", s.created, s.updated);
            Ok(())
        }
        Err(e) => {
            eprintln!("{}", describe_import_error(&e));
            bail!("nothing was imported")
        }
    }
}

async fn export(settings: &Settings, file: &Path) -> Result<()> {
    let format = Format::from_filename(&file.to_string_lossy())
        .context("the file must end in .csv or .xlsx")?;
    let db = open_migrated(settings).await?;
    let items = catalog::list_services(&db, None).await?;
    let bytes = match format {
        Format::Csv => transfer::export_csv(&items)?,
        Format::Xlsx => transfer::export_xlsx(&items)?,
    };
    std::fs::write(file, bytes).with_context(|| format!("writing {}", file.display()))?;
    println!("{} item(s) exported to {}", items.len(), file.display());
    Ok(())
}

/// The catalog as the public sees it (demo data loaded into an empty database).
pub(crate) async fn public_catalog(settings: &Settings) -> Result<catalog::CatalogSnapshot> {
    let db = open_migrated(settings).await?;
    if settings.demo_data
        && let Err(e) = demo::load_if_empty(&db).await
    {
        bail!("loading demo data failed: {}", describe_import_error(&e));
    }
    Ok(catalog::CatalogSnapshot::load(&db).await?)
}

async fn reindex(settings: &Settings) -> Result<()> {
    let snapshot = public_catalog(settings).await?;
    let docs = zhiban_domain::search_docs::service_docs(&snapshot);
    let total = docs.len();
    let dir = settings.data_dir.join("index");
    let index = zhiban_search::SearchIndex::open(Some(&dir))
        .with_context(|| format!("opening {} (is the server running?)", dir.display()))?;
    let bar = indicatif::ProgressBar::new(total as u64);
    index.replace_kind_with_progress("service", docs, |n| bar.set_position(n as u64))?;
    bar.finish();
    // Published articles (政务公开) live beside the services.
    let db = open_migrated(settings).await?;
    let (articles, _) = zhiban_domain::search_docs::article_docs(&db).await?;
    let total = total + articles.len();
    index.replace_kind("article", articles)?;
    println!("{total} document(s) indexed in {}", dir.display());
    Ok(())
}

async fn bench_search(n: usize, seconds: u64, clients: usize, sets: &[String]) -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let settings = Settings {
        data_dir: tmp.path().join("data"),
        ..Settings::default()
    };
    let snapshot = public_catalog(&settings).await?;
    let real = zhiban_domain::search_docs::service_docs(&snapshot);
    let mut tsv = String::new();
    for f in sets {
        tsv.push_str(&std::fs::read_to_string(f).with_context(|| format!("reading {f}"))?);
        tsv.push('\n');
    }
    let queries: Vec<String> = tsv
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t').map(|(q, _)| q.to_string()))
        .collect();
    println!("queries: {} from {}", queries.len(), sets.join(", "));

    // Quality on the real catalog: zhiban vs FTS5.
    let small = zhiban_search::SearchIndex::open(None)?;
    small.replace_kind("service", real.clone())?;
    let (total, zb_hits) = bench::recall(&tsv, |q| {
        let titles = small
            .search(&zhiban_search::SearchQuery {
                text: q,
                limit: 3,
                ..Default::default()
            })
            .map(|r| r.hits.iter().map(|h| h.doc.title.clone()).collect())
            .unwrap_or_default();
        async move { titles }
    })
    .await;
    let (fts_small, _d1) = bench::fts5_baseline(&real).await?;
    let fts = &fts_small;
    let (_, fts_hits) = bench::recall(&tsv, move |q| async move {
        bench::fts5_search(fts, &q, 3).await.unwrap_or_default()
    })
    .await;
    println!(
        "top-3 recall on the {}-item catalog: zhiban {zb_hits}/{total}, SQLite FTS5 trigram {fts_hits}/{total}",
        real.len()
    );

    // Speed at scale.
    let docs = bench::synthetic_docs(&real, n);
    let index_dir = tmp.path().join("index");
    let index = zhiban_search::SearchIndex::open(Some(&index_dir))?;
    let t = std::time::Instant::now();
    index.replace_kind("service", docs.clone())?;
    let build = t.elapsed();
    println!("zhiban index build, {n} docs: {:.1} s", build.as_secs_f64());
    let t = std::time::Instant::now();
    let (fts_big, _d2) = bench::fts5_baseline(&docs).await?;
    println!("FTS5 build, {n} docs: {:.1} s", t.elapsed().as_secs_f64());
    let mut understand = Vec::new();
    for _ in 0..20 {
        for q in &queries {
            let t = std::time::Instant::now();
            let _ = index.understand(q);
            understand.push(t.elapsed());
        }
    }
    let mut understand = bench::Latencies::from(understand);
    println!(
        "query understanding alone: p50 {:.3} ms, p99 {:.3} ms",
        understand.pct(0.5).as_secs_f64() * 1e3,
        understand.pct(0.99).as_secs_f64() * 1e3
    );
    let _ = bench::run_in_process(&index, &queries, 1); // warm-up
    let mut lat = bench::run_in_process(&index, &queries, 20);
    println!(
        "zhiban in-process: p50 {:.2} ms, p99 {:.2} ms",
        lat.pct(0.5).as_secs_f64() * 1e3,
        lat.pct(0.99).as_secs_f64() * 1e3
    );
    let mut fts_lat = Vec::new();
    for _ in 0..5 {
        for q in &queries {
            let t = std::time::Instant::now();
            bench::fts5_search(&fts_big, q, 10).await?;
            fts_lat.push(t.elapsed());
        }
    }
    let mut fts_lat = bench::Latencies::from(fts_lat);
    println!(
        "FTS5 in-process: p50 {:.2} ms, p99 {:.2} ms",
        fts_lat.pct(0.5).as_secs_f64() * 1e3,
        fts_lat.pct(0.99).as_secs_f64() * 1e3
    );

    // Over HTTP: the real server with the big index.
    let db = open_migrated(&settings).await?;
    let mut web = settings.web_config();
    web.index_dir = None;
    let state = zhiban_web::AppState::new(db, web).await?;
    state.search.replace_kind("service", docs)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(zhiban_web::serve(listener, state, async {
        let _ = stop_rx.await;
    }));
    let (rps, mut http_lat) = bench::http_load(&base, &queries, clients, seconds).await?;
    println!(
        "zhiban over HTTP, in-process reqwest client ({clients} keep-alive connections, {seconds} s): {rps:.0} searches/s, p50 {:.2} ms, p99 {:.2} ms",
        http_lat.pct(0.5).as_secs_f64() * 1e3,
        http_lat.pct(0.99).as_secs_f64() * 1e3
    );
    // The same through wrk (a lighter client, one thread), when installed.
    match bench::wrk(&base, &queries, clients, seconds, tmp.path()).await {
        Ok(line) => println!(
            "zhiban over HTTP, wrk -t1 -c{clients} -d{seconds}s rotating the queries: {line}"
        ),
        Err(e) => println!("wrk not run: {e}"),
    }
    let _ = stop_tx.send(());
    let _ = server.await;
    Ok(())
}

fn whoami() -> String {
    std::env::var("USER").unwrap_or_else(|_| "operator".into())
}
