//! The audit log: who did what to whom, when, from where, and whether it was
//! allowed. Records are only ever appended; each carries the SM3 hash of the
//! record before it (a hash chain), and `audit_head` holds the newest one, so
//! [`verify`] notices any record edited, deleted or inserted afterwards.

use serde::Serialize;
use zhiban_crypto::{Hasher, SoftSm3};

use crate::{Db, DomainError, Tx};

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ActorKind {
    Staff,
    Citizen,
    System,
    Anonymous,
}

impl ActorKind {
    pub fn code(self) -> &'static str {
        match self {
            ActorKind::Staff => "staff",
            ActorKind::Citizen => "citizen",
            ActorKind::System => "system",
            ActorKind::Anonymous => "anonymous",
        }
    }
}

/// One thing to record. `action` is a stable dotted code (`staff.login`,
/// `role.grant`, `catalog.export` …) that the UI translates.
#[derive(Debug, Clone)]
pub struct Entry {
    pub actor_kind: ActorKind,
    pub actor: String,
    pub action: &'static str,
    pub target: String,
    pub detail: String,
    pub ip: String,
    pub allowed: bool,
}

impl Entry {
    pub fn staff(actor: &str, action: &'static str, target: impl Into<String>) -> Self {
        Entry {
            actor_kind: ActorKind::Staff,
            actor: actor.to_string(),
            action,
            target: target.into(),
            detail: String::new(),
            ip: String::new(),
            allowed: true,
        }
    }

    pub fn citizen(actor: &str, action: &'static str, target: impl Into<String>) -> Self {
        Entry::staff(actor, action, target).kind(ActorKind::Citizen)
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    pub fn ip(mut self, ip: impl Into<String>) -> Self {
        self.ip = ip.into();
        self
    }

    pub fn refused(mut self) -> Self {
        self.allowed = false;
        self
    }

    pub fn kind(mut self, kind: ActorKind) -> Self {
        self.actor_kind = kind;
        self
    }
}

/// A stored record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Record {
    pub seq: i64,
    pub at: i64,
    pub actor_kind: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub ip: String,
    pub outcome: String,
    pub prev_hash: String,
    pub hash: String,
}

fn chain_hash(prev: &str, r: &Record) -> String {
    SoftSm3.digest_hex(&[
        prev.as_bytes(),
        r.seq.to_string().as_bytes(),
        r.at.to_string().as_bytes(),
        r.actor_kind.as_bytes(),
        r.actor.as_bytes(),
        r.action.as_bytes(),
        r.target.as_bytes(),
        r.detail.as_bytes(),
        r.ip.as_bytes(),
        r.outcome.as_bytes(),
    ])
}

/// Appends inside the caller's transaction, so the record commits (or not)
/// with the change it describes. Taking the head row first with an UPDATE
/// serialises writers on both engines: no two records share a predecessor.
pub async fn append(conn: &mut Tx, entry: &Entry) -> Result<i64, DomainError> {
    let (seq, prev): (i64, String) =
        sqlx::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
            .fetch_one(&mut **conn)
            .await?;
    let mut r = Record {
        seq,
        at: conn.now().timestamp(),
        actor_kind: entry.actor_kind.code().into(),
        actor: entry.actor.clone(),
        action: entry.action.into(),
        target: entry.target.clone(),
        detail: entry.detail.clone(),
        ip: entry.ip.clone(),
        outcome: if entry.allowed { "ok" } else { "refused" }.into(),
        prev_hash: prev.clone(),
        hash: String::new(),
    };
    r.hash = chain_hash(&prev, &r);
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor_kind, actor, action, target, detail, ip, outcome, \
         prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(r.seq)
    .bind(r.at)
    .bind(&r.actor_kind)
    .bind(&r.actor)
    .bind(&r.action)
    .bind(&r.target)
    .bind(&r.detail)
    .bind(&r.ip)
    .bind(&r.outcome)
    .bind(&r.prev_hash)
    .bind(&r.hash)
    .execute(&mut **conn)
    .await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&r.hash)
        .execute(&mut **conn)
        .await?;
    Ok(seq)
}

/// Appends in a transaction of its own (for events that change nothing
/// else, such as a sign-in or a refusal).
pub async fn record(db: &Db, entry: Entry) -> Result<i64, DomainError> {
    let mut tx = db.begin().await?;
    let seq = append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(seq)
}

fn checkpoint_message(seq: i64, hash: &str) -> Vec<u8> {
    format!("zhiban-audit-checkpoint\n{seq}\n{hash}").into_bytes()
}

/// What a numbered checkpoint signs: its number, the chain's head, the
/// checkpoint before it and when it was made.
fn checkpoint_message_v2(c: &Checkpoint) -> Vec<u8> {
    format!(
        "zhiban-audit-checkpoint-v2\n{}\n{}\n{}\n{}\n{}",
        c.n, c.seq, c.hash, c.prev_seq, c.at
    )
    .into_bytes()
}

/// A signed checkpoint of the chain's head.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Checkpoint {
    /// 1, 2, 3 … (0: made before checkpoints were numbered).
    pub n: i64,
    pub seq: i64,
    pub hash: String,
    /// The head the checkpoint before this one signed.
    pub prev_seq: i64,
    pub at: i64,
    pub signing_key: String,
    pub signature: String,
}

impl Checkpoint {
    fn message(&self) -> Vec<u8> {
        if self.n == 0 {
            checkpoint_message(self.seq, &self.hash)
        } else {
            checkpoint_message_v2(self)
        }
    }

    /// One line of the anchor file.
    fn line(&self) -> String {
        format!(
            "{} {} {} {} {} {} {}",
            self.n, self.seq, self.hash, self.prev_seq, self.at, self.signing_key, self.signature
        )
    }

    fn parse(line: &str) -> Option<Checkpoint> {
        let mut f = line.split_whitespace();
        let c = Checkpoint {
            n: f.next()?.parse().ok()?,
            seq: f.next()?.parse().ok()?,
            hash: f.next()?.to_string(),
            prev_seq: f.next()?.parse().ok()?,
            at: f.next()?.parse().ok()?,
            signing_key: f.next()?.to_string(),
            signature: f.next()?.to_string(),
        };
        f.next().is_none().then_some(c)
    }
}

/// Where checkpoints are also written outside the database: an
/// append-only file (in the data directory by default; put it on other
/// storage, or ship it to syslog, for more). Whoever can edit the database
/// cannot take back what was written there, so deleting the newest records
/// (and their checkpoints) shows.
#[derive(Debug, Clone, Default)]
pub struct Anchors {
    pub file: Option<std::path::PathBuf>,
}

impl Anchors {
    pub fn file(path: impl Into<std::path::PathBuf>) -> Self {
        Anchors {
            file: Some(path.into()),
        }
    }

    fn append(&self, c: &Checkpoint) -> Result<(), DomainError> {
        use std::io::Write;
        let Some(path) = &self.file else {
            return Ok(());
        };
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| DomainError::Files(format!("{}: {e}", path.display())))?;
        writeln!(f, "{}", c.line())
            .and_then(|()| f.sync_data())
            .map_err(|e| DomainError::Files(format!("{}: {e}", path.display())))
    }

    /// Every checkpoint in the file (lines that do not parse are reported
    /// as forged by [`verify_anchored`]).
    fn read(&self) -> Result<Vec<Option<Checkpoint>>, DomainError> {
        let Some(path) = &self.file else {
            return Ok(Vec::new());
        };
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(Checkpoint::parse)
                .collect()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(DomainError::Files(format!("{}: {e}", path.display()))),
        }
    }
}

const CHECKPOINT_COLUMNS: &str = "n, seq, hash, prev_seq, at, signing_key, signature";

/// Signs the newest head of the chain with the audit key (SM2 under the
/// 国密 suite), unless it is signed already, and appends the checkpoint to
/// the anchor file. The worker calls this once a minute, so someone who
/// rewrites the whole chain (recomputing every hash) is still caught: they
/// cannot re-sign the checkpoints. Returns the sequence number signed, if any.
pub async fn checkpoint(db: &Db, anchors: &Anchors) -> Result<Option<i64>, DomainError> {
    let (seq, hash): (i64, String) =
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(db.pool())
            .await?;
    let last: Option<(i64, i64)> =
        sqlx::query_as("SELECT n, seq FROM audit_checkpoints ORDER BY seq DESC LIMIT 1")
            .fetch_optional(db.pool())
            .await?;
    if seq == 0 || last.is_some_and(|(_, s)| s == seq) {
        return Ok(None);
    }
    let (last_n, prev_seq) = last.unwrap_or((0, 0));
    let key = crate::signing::key_for(db, "audit").await?;
    let mut c = Checkpoint {
        n: last_n + 1,
        seq,
        hash,
        prev_seq,
        at: db.now().timestamp(),
        signing_key: key.id.clone(),
        signature: String::new(),
    };
    c.signature = key.sign(&checkpoint_message_v2(&c))?;
    let inserted = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO audit_checkpoints ({CHECKPOINT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (seq) DO NOTHING"
    )))
    .bind(c.n)
    .bind(c.seq)
    .bind(&c.hash)
    .bind(c.prev_seq)
    .bind(c.at)
    .bind(&c.signing_key)
    .bind(&c.signature)
    .execute(db.pool())
    .await?
    .rows_affected();
    if inserted == 1 {
        anchors.append(&c)?;
    }
    Ok(Some(seq))
}

/// Whether a checkpoint carries a valid signature of the key it names.
async fn signed_by_us(db: &Db, c: &Checkpoint) -> Result<bool, DomainError> {
    Ok(
        match crate::signing::public_key(db, &c.signing_key).await? {
            Some(k) => crate::signing::verify(&k, &c.message(), &c.signature),
            None => false,
        },
    )
}

/// [`verify`], and what the database alone cannot prove: the newest
/// checkpoint in the anchor file must still match the chain (else the
/// newest records were taken away: `truncated`), numbered checkpoints must
/// follow one another (`checkpoint_missing`), and no record older than
/// `max_unanchored_secs` may lie beyond the newest checkpoint
/// (`unanchored`: its checkpoint is missing, or the worker that signs them
/// has not run; 0 turns the rule off).
pub async fn verify_anchored(
    db: &Db,
    anchors: &Anchors,
    max_unanchored_secs: i64,
) -> Result<Verification, DomainError> {
    let mut v = verify(db).await?;
    if v.broken.is_some() {
        return Ok(v);
    }
    let broken = |seq: i64, what: &'static str| Verification {
        records: v.records,
        broken: Some((seq, what)),
    };
    // Numbered checkpoints in the database: no gaps.
    let numbered: Vec<(i64, i64, i64)> =
        sqlx::query_as("SELECT n, seq, prev_seq FROM audit_checkpoints WHERE n > 0 ORDER BY n")
            .fetch_all(db.pool())
            .await?;
    for pair in numbered.windows(2) {
        let ((n1, s1, _), (n2, s2, p2)) = (pair[0], pair[1]);
        if n2 != n1 + 1 || p2 != s1 || s2 <= s1 {
            return Ok(broken(s1 + 1, "checkpoint_missing"));
        }
    }
    // The anchor file: every line signed by us, the newest still in the chain.
    let mut newest: Option<Checkpoint> = None;
    for line in anchors.read()? {
        let Some(c) = line else {
            return Ok(broken(0, "anchor_forged"));
        };
        if !signed_by_us(db, &c).await? {
            return Ok(broken(c.seq, "anchor_forged"));
        }
        if newest.as_ref().is_none_or(|n| c.n > n.n) {
            newest = Some(c);
        }
    }
    if let Some(c) = newest {
        let at_seq: Option<String> =
            sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = $1")
                .bind(c.seq)
                .fetch_optional(db.pool())
                .await?;
        match at_seq {
            None => return Ok(broken(c.seq, "truncated")),
            Some(h) if h != c.hash => return Ok(broken(c.seq, "rewritten")),
            Some(_) => {}
        }
        let in_db: Option<i64> =
            sqlx::query_scalar("SELECT n FROM audit_checkpoints WHERE seq = $1")
                .bind(c.seq)
                .fetch_optional(db.pool())
                .await?;
        if in_db.is_none() || numbered.last().is_some_and(|(n, _, _)| *n < c.n) {
            return Ok(broken(c.seq, "checkpoint_missing"));
        }
    }
    // Records old enough to have been signed must be covered.
    if max_unanchored_secs > 0 {
        let covered: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM audit_checkpoints")
                .fetch_one(db.pool())
                .await?;
        let due = db.now().timestamp() - max_unanchored_secs;
        let stale: Option<i64> =
            sqlx::query_scalar("SELECT MIN(seq) FROM audit_log WHERE seq > $1 AND at < $2")
                .bind(covered)
                .bind(due)
                .fetch_one(db.pool())
                .await?;
        if let Some(seq) = stale {
            return Ok(broken(seq, "unanchored"));
        }
    }
    v.broken = None;
    Ok(v)
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    pub records: i64,
    /// The first problem, with the sequence number where it shows.
    pub broken: Option<(i64, &'static str)>,
}

/// Walks the whole chain in order and recomputes every hash.
pub async fn verify(db: &Db) -> Result<Verification, DomainError> {
    const BATCH: i64 = 5000;
    // Signed checkpoints: each must carry a valid signature and match the
    // chain at its position.
    let checkpoints: Vec<Checkpoint> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY seq"
    )))
    .fetch_all(db.pool())
    .await?;
    let mut signed = std::collections::BTreeMap::new();
    for c in checkpoints {
        if !signed_by_us(db, &c).await? {
            return Ok(Verification {
                records: 0,
                broken: Some((c.seq, "checkpoint_forged")),
            });
        }
        signed.insert(c.seq, c.hash);
    }
    let last_signed = signed.keys().next_back().copied().unwrap_or(0);
    let mut prev = "genesis".to_string();
    let mut expected = 1i64;
    loop {
        let rows: Vec<Record> =
            sqlx::query_as("SELECT * FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2")
                .bind(expected)
                .bind(BATCH)
                .fetch_all(db.pool())
                .await?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let problem = if r.seq != expected {
                Some("missing")
            } else if r.prev_hash != prev {
                Some("relinked")
            } else if chain_hash(&prev, r) != r.hash {
                Some("altered")
            } else if signed.get(&r.seq).is_some_and(|h| *h != r.hash) {
                Some("rewritten")
            } else {
                None
            };
            if let Some(p) = problem {
                return Ok(Verification {
                    records: expected - 1,
                    broken: Some((expected, p)),
                });
            }
            prev = r.hash.clone();
            expected += 1;
        }
    }
    let (head_seq, head_hash): (i64, String) =
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(db.pool())
            .await?;
    let broken = if head_seq != expected - 1 || head_hash != prev || last_signed > head_seq {
        Some((expected, "truncated"))
    } else {
        None
    };
    Ok(Verification {
        records: expected - 1,
        broken,
    })
}

/// Filters for the auditor's search page.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub actor: String,
    pub action: String,
    pub target: String,
    /// Unix seconds, inclusive.
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub refused_only: bool,
}

/// Newest first, `limit` rows from `offset`, and the total that match.
pub async fn search(
    db: &Db,
    f: &Filter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Record>, i64), DomainError> {
    let actor = format!("%{}%", like_escape(f.actor.trim()));
    let action = format!("{}%", like_escape(f.action.trim()));
    let target = format!("%{}%", like_escape(f.target.trim()));
    let from = f.from.unwrap_or(i64::MIN);
    let to = f.to.unwrap_or(i64::MAX);
    let outcome = if f.refused_only { "refused" } else { "%" };
    const WHERE: &str = "WHERE actor LIKE $1 ESCAPE '\\' AND action LIKE $2 ESCAPE '\\' \
        AND target LIKE $3 ESCAPE '\\' AND at >= $4 AND at <= $5 AND outcome LIKE $6";
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM audit_log {WHERE}"
    )))
    .bind(&actor)
    .bind(&action)
    .bind(&target)
    .bind(from)
    .bind(to)
    .bind(outcome)
    .fetch_one(db.pool())
    .await?;
    let rows: Vec<Record> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT * FROM audit_log {WHERE} ORDER BY seq DESC LIMIT $7 OFFSET $8"
    )))
    .bind(&actor)
    .bind(&action)
    .bind(&target)
    .bind(from)
    .bind(to)
    .bind(outcome)
    .bind(limit)
    .bind(offset)
    .fetch_all(db.pool())
    .await?;
    Ok((rows, total))
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
