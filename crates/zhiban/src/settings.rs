//! Settings: built-in defaults → a TOML file → `ZHIBAN__…` environment
//! variables (e.g. `ZHIBAN__LISTEN`, `ZHIBAN__LOG__FORMAT`), plus the
//! conventional `DATABASE_URL`. Secrets never reach `Debug` output or logs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Clone, Serialize, Deserialize)]
pub struct Settings {
    pub listen: String,
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; empty means SQLite in the data directory.
    pub database_url: String,
    /// Load the demo data (演示数据) into an empty database on `serve`.
    pub demo_data: bool,
    /// Mark cookies Secure (set this when served over HTTPS).
    pub secure_cookies: bool,
    /// Seconds between checks for catalog edits made on other nodes.
    pub catalog_poll_secs: u64,
    /// Behind a reverse proxy: take client addresses from X-Forwarded-For
    /// (only turn on when the proxy sets it; otherwise clients could forge it).
    pub trust_proxy: bool,
    /// How many proxies of our own stand in front (each appends the
    /// address it was reached from to X-Forwarded-For).
    pub trusted_proxies: u32,
    /// Open connections in all (kept below the open-file limit).
    pub max_connections: usize,
    /// Open connections from one client address (not applied behind a
    /// trusted proxy).
    pub max_connections_per_client: usize,
    /// Seconds a client has to send a request's headers; an idle
    /// keep-alive connection is closed after the same time.
    pub header_read_timeout_secs: u64,
    /// The append-only file audit checkpoints are also written to; empty:
    /// `audit-anchors.log` in the data directory.
    pub audit_anchor_file: String,
    /// `audit verify` fails when a record older than this many seconds is
    /// not yet covered by a signed checkpoint (0: no such rule).
    pub audit_max_unanchored_secs: i64,
    /// Public address of the portal, e.g. `https://zwfw.example.gov.cn`: the
    /// OpenID Connect issuer and the base of links in messages. Empty: the
    /// OpenID Connect provider is off (links use each request's Host).
    pub public_url: String,
    /// Development only: run the OpenID Connect provider without
    /// `public_url`, naming each request's Host as the issuer.
    pub oidc_issuer_from_host: bool,
    /// Searches one address may add to the analytics per minute.
    pub search_log_per_minute: u32,
    /// Days search analytics are kept.
    pub search_log_days: i64,
    /// The signature every text message starts with, as registered with
    /// the SMS provider (【渝州市政务服务网】).
    pub sms_signature: String,
    /// Uploaded files: empty means `files/` in the data directory; or
    /// `s3://bucket/prefix` with the usual `AWS_*` variables (MinIO etc.).
    pub storage_url: String,
    /// Case handling (`[cases]`): intake days, yellow share, upload size,
    /// an extra holiday calendar file, the case number prefix.
    pub cases: zhiban_domain::cases::CaseSettings,
    /// Citizen requests (`[requests]`): answer limits per type in working
    /// days, the signing limit, the longest extension.
    pub requests: zhiban_domain::requests::RequestSettings,
    /// Payments (`[payments]`): minutes an order can be paid, and how the
    /// development gateway sends its callbacks.
    pub payments: zhiban_domain::payments::PaymentSettings,
    /// Police tips (`[tips]`): which unit receives each category.
    pub tips: zhiban_domain::tips::TipSettings,
    /// The assistant (`[assistant]`): the confidence below which it hands
    /// the question to a person (`threshold`, 0.6), and how long an idle
    /// conversation keeps its topic.
    pub assistant: zhiban_domain::assistant::AssistantSettings,
    /// Publishing (`[content]`): the largest attachment or picture
    /// (`max_file_mb`, 50) and video (`max_video_mb`, 100).
    pub content: zhiban_domain::content::files::ContentSettings,
    /// SMTP server for email notifications (`[smtp]`; none when `host` is empty).
    pub smtp: zhiban_domain::notify::SmtpSettings,
    /// Cryptography (`[crypto]`): the suite and where the master key lives.
    pub crypto: CryptoSettings,
    pub log: LogSettings,
    /// 等保 level-3 account rules (`[security]` in the TOML file).
    pub security: zhiban_domain::identity::SecurityPolicy,
}

/// `[crypto]`. The master key itself never appears here: it comes from the
/// `ZHIBAN_MASTER_KEY` environment variable (64 hex digits) or from the key
/// file, which is created on first start.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CryptoSettings {
    /// `gm` (国密: SM2, SM3, SM4-GCM; the default) or `intl` (Ed25519,
    /// SHA-256, AES-256-GCM). Fixed once data has been encrypted.
    pub suite: zhiban_crypto::SuiteKind,
    /// Empty means `master.key` in the data directory.
    pub master_key_file: String,
}

/// The environment variable that carries the master key (wins over the file).
pub const MASTER_KEY_VAR: &str = "ZHIBAN_MASTER_KEY";

impl Settings {
    /// Where the master key file is (created on first start if missing).
    pub fn master_key_path(&self) -> PathBuf {
        if self.crypto.master_key_file.trim().is_empty() {
            self.data_dir.join("master.key")
        } else {
            PathBuf::from(self.crypto.master_key_file.trim())
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LogSettings {
    /// An env-filter directive, e.g. `info,zhiban_web=debug`.
    pub level: String,
    /// `json` (default) or `pretty`.
    pub format: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: String::new(),
            demo_data: true,
            secure_cookies: false,
            catalog_poll_secs: 5,
            trust_proxy: false,
            trusted_proxies: 1,
            max_connections: 4096,
            max_connections_per_client: 128,
            header_read_timeout_secs: 15,
            audit_anchor_file: String::new(),
            audit_max_unanchored_secs: 600,
            public_url: String::new(),
            oidc_issuer_from_host: false,
            search_log_per_minute: 30,
            search_log_days: 180,
            sms_signature: zhiban_domain::identity::sms::DEFAULT_SIGNATURE.to_string(),
            security: zhiban_domain::identity::SecurityPolicy::default(),
            storage_url: String::new(),
            cases: zhiban_domain::cases::CaseSettings::default(),
            requests: zhiban_domain::requests::RequestSettings::default(),
            payments: zhiban_domain::payments::PaymentSettings::default(),
            tips: zhiban_domain::tips::TipSettings::default(),
            assistant: zhiban_domain::assistant::AssistantSettings::default(),
            content: zhiban_domain::content::files::ContentSettings::default(),
            smtp: zhiban_domain::notify::SmtpSettings::default(),
            crypto: CryptoSettings::default(),
            log: LogSettings {
                level: "info,sqlx=warn".into(),
                format: "json".into(),
            },
        }
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact_url(&self.database_url))
            .field("demo_data", &self.demo_data)
            .field("secure_cookies", &self.secure_cookies)
            .field("trust_proxy", &self.trust_proxy)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("max_connections", &self.max_connections)
            .field(
                "max_connections_per_client",
                &self.max_connections_per_client,
            )
            .field("header_read_timeout_secs", &self.header_read_timeout_secs)
            .field("audit_anchor_file", &self.audit_anchor_file)
            .field("audit_max_unanchored_secs", &self.audit_max_unanchored_secs)
            .field("public_url", &self.public_url)
            .field("oidc_issuer_from_host", &self.oidc_issuer_from_host)
            .field("log", &self.log)
            .field("security", &self.security)
            .field("storage_url", &self.storage_url)
            .field("cases", &self.cases)
            .field("requests", &self.requests)
            .field("payments", &self.payments)
            .field("tips", &self.tips)
            .field("smtp", &self.smtp)
            .finish()
    }
}

impl Settings {
    pub fn load(file: Option<&Path>) -> Result<Settings> {
        let mut fig = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(f) = file {
            if !f.exists() {
                anyhow::bail!("settings file {} does not exist", f.display());
            }
            fig = fig.merge(Toml::file(f));
        }
        if let Ok(url) = std::env::var("DATABASE_URL") {
            fig = fig.merge(Serialized::default("database_url", url));
        }
        fig = fig.merge(Env::prefixed("ZHIBAN__").split("__"));
        fig.extract().context("reading settings")
    }

    /// The database URL in effect; SQLite under the data directory by default.
    pub fn database_url(&self) -> Result<String> {
        if !self.database_url.trim().is_empty() {
            return Ok(self.database_url.trim().to_string());
        }
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating data directory {}", self.data_dir.display()))?;
        Ok(format!(
            "sqlite://{}?mode=rwc",
            self.data_dir.join("zhiban.db").display()
        ))
    }

    /// Where audit checkpoints are also written.
    pub fn audit_anchor_file(&self) -> PathBuf {
        if self.audit_anchor_file.is_empty() {
            self.data_dir.join("audit-anchors.log")
        } else {
            PathBuf::from(&self.audit_anchor_file)
        }
    }

    pub fn web_config(&self) -> zhiban_web::WebConfig {
        zhiban_web::WebConfig {
            secure_cookies: self.secure_cookies,
            catalog_poll: Duration::from_secs(self.catalog_poll_secs.max(1)),
            index_dir: Some(self.data_dir.join("index")),
            security: self.security.clone(),
            trust_proxy: self.trust_proxy,
            trusted_proxies: self.trusted_proxies,
            public_url: (!self.public_url.is_empty())
                .then(|| self.public_url.trim_end_matches('/').to_string()),
            oidc_issuer_from_host: self.oidc_issuer_from_host,
            search_log_per_minute: self.search_log_per_minute,
            search_log_days: self.search_log_days,
            cases: self.cases.clone(),
            requests: self.requests.clone(),
            payments: self.payments.clone(),
            tips: self.tips.clone(),
            assistant: self.assistant.clone(),
            content: self.content.clone(),
            storage_url: Some(if self.storage_url.trim().is_empty() {
                self.data_dir.join("files").display().to_string()
            } else {
                self.storage_url.trim().to_string()
            }),
            job_poll: Duration::from_secs(2),
            smtp: self.smtp.clone(),
            audit_anchors: Some(self.audit_anchor_file()),
            audit_max_unanchored_secs: self.audit_max_unanchored_secs,
            connections: zhiban_web::ConnectionLimits {
                max_total: self.max_connections.max(1),
                max_per_client: self.max_connections_per_client.max(1),
                header_read_timeout: Duration::from_secs(self.header_read_timeout_secs.max(1)),
            },
        }
    }

    pub fn redacted_toml(&self) -> Result<String> {
        let mut shown = self.clone();
        if !shown.smtp.password.is_empty() {
            shown.smtp.password = "***".into();
        }
        shown.database_url = if self.database_url.is_empty() {
            self.database_url().unwrap_or_default()
        } else {
            redact_url(&self.database_url)
        };
        toml::to_string(&shown).context("printing settings")
    }
}

/// Hides the password in `scheme://user:password@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    match (rest.find('@'), rest.find(':')) {
        (Some(at), Some(colon)) if colon < at => format!(
            "{}://{}:***{}",
            &url[..scheme_end],
            &rest[..colon],
            &rest[at..]
        ),
        _ => url.to_string(),
    }
}

pub fn init_logging(log: &LogSettings) -> Result<tracing_appender::non_blocking::WorkerGuard> {
    let (writer, guard) = tracing_appender::non_blocking(std::io::stdout());
    let filter = tracing_subscriber::EnvFilter::try_new(&log.level)
        .context("log.level is not a valid filter")?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    if log.format == "pretty" {
        builder.init();
    } else {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .init();
    }
    Ok(guard)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_database_urls_are_hidden() {
        assert_eq!(
            redact_url("postgres://zb:s3cret@db:5432/zhiban"),
            "postgres://zb:***@db:5432/zhiban"
        );
        assert_eq!(redact_url("postgres://db/zhiban"), "postgres://db/zhiban");
        let mut s = Settings {
            database_url: "postgres://zb:s3cret@db/zhiban".into(),
            ..Settings::default()
        };
        s.smtp.password = "m4ilpass".into();
        assert!(!format!("{s:?}").contains("m4ilpass"));
        assert!(!s.redacted_toml().unwrap_or_default().contains("m4ilpass"));
        assert!(!format!("{s:?}").contains("s3cret"));
        assert!(!s.redacted_toml().unwrap_or_default().contains("s3cret"));
    }
}
