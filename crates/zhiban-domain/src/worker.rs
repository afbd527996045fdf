//! The background worker: claims due jobs from the queue ([`crate::jobs`])
//! and hands each to the area that owns its kind. It depends on the areas;
//! they only queue jobs and never know who runs them.
//!
//! Kinds: `sms` and `email` (notify), `case_remind` and `case_escalate`
//! (cases), `request_remind`, `request_escalate` and `request_sign_check`
//! (requests), `dev_gateway_notify` (the development payment gateway's
//! callbacks), `opinion_collect` (舆情监测 runs, each queueing the
//! next), and the daily `housekeeping` (expired rows and orders,
//! yesterday's reconciliation, license expiry reminders, then the next
//! day's run).

use std::sync::Arc;
use std::time::Duration;

use crate::identity::sms::SmsGateway;
use crate::jobs::{self, Job};
use crate::notify::Mailer;
use crate::{Db, DomainError};

/// How often a node signs the audit chain's head (not on every tick: each
/// signature is a write).
pub const AUDIT_CHECKPOINT_EVERY: Duration = Duration::from_secs(60);

/// What the jobs need from outside: the gateways messages leave through.
#[derive(Clone)]
pub struct Worker {
    pub sms: Arc<dyn SmsGateway>,
    /// `None` when no SMTP server is configured: email jobs are dropped.
    pub mail: Option<Arc<dyn Mailer>>,
    /// Where audit checkpoints are also written.
    pub anchors: crate::audit::Anchors,
    /// The payment gateway reconciled each night; `None`: no reconciliation.
    pub payments: Option<Arc<dyn crate::payments::PaymentGateway>>,
}

impl Worker {
    async fn handle(&self, db: &Db, job: &Job) -> Result<(), String> {
        match job.kind.as_str() {
            "sms" => crate::notify::deliver_sms(db, self.sms.as_ref(), &job.payload).await,
            "email" => crate::notify::deliver_email(self.mail.as_deref(), &job.payload).await,
            "case_remind" | "case_escalate" => crate::cases::supervise(db, &job.kind, &job.payload)
                .await
                .map_err(|e| e.to_string()),
            "request_remind" | "request_escalate" | "request_sign_check" => {
                crate::requests::supervise(db, &job.kind, &job.payload)
                    .await
                    .map_err(|e| e.to_string())
            }
            "housekeeping" => housekeeping(db, self.payments.as_deref())
                .await
                .map_err(|e| e.to_string()),
            "dev_gateway_notify" => crate::payments::dev_gateway::deliver(&job.payload).await,
            "opinion_collect" => crate::opinion::monitor::job(db)
                .await
                .map_err(|e| e.to_string()),
            other => Err(format!("unknown job kind {other}")),
        }
    }

    /// Claims and runs the due jobs once; returns how many ran. A key
    /// rotation started on another node (or by `zhiban keys rotate`) is
    /// picked up first.
    pub async fn run_due(&self, db: &Db) -> Result<usize, DomainError> {
        zhiban_store::keys::refresh(db).await?;
        let claimed = jobs::claim(db, db.now().timestamp(), 20).await?;
        for job in &claimed {
            match self.handle(db, job).await {
                Ok(()) => jobs::finish(db, job.id, db.now().timestamp()).await?,
                Err(e) => {
                    tracing::warn!(job = job.id, kind = %job.kind, error = %e, "job failed");
                    jobs::fail(db, job, &e, db.now().timestamp()).await?;
                }
            }
        }
        Ok(claimed.len())
    }

    /// Runs due jobs every `poll` until the process ends, and signs the
    /// audit chain's head once a minute.
    pub fn spawn(self, db: Db, poll: Duration) {
        tokio::spawn(async move {
            // The daily housekeeping job schedules its successor; make sure one exists.
            if let Err(e) = crate::housekeeping::schedule(&db, db.now()).await {
                tracing::warn!(error = %e, "scheduling housekeeping failed");
            }
            if let Err(e) = crate::opinion::monitor::start(&db, db.now()).await {
                tracing::warn!(error = %e, "scheduling opinion monitoring failed");
            }
            let mut tick = tokio::time::interval(poll);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut signed_at = std::time::Instant::now();
            loop {
                tick.tick().await;
                if let Err(e) = self.run_due(&db).await {
                    tracing::warn!(error = %e, "running background jobs failed");
                }
                if signed_at.elapsed() >= AUDIT_CHECKPOINT_EVERY {
                    signed_at = std::time::Instant::now();
                    if let Err(e) = crate::audit::checkpoint(&db, &self.anchors).await {
                        tracing::warn!(error = %e, "signing the audit checkpoint failed");
                    }
                }
            }
        });
    }
}

/// The daily run: expired rows go, chats with agents idle for hours end,
/// unpaid orders past their time expire,
/// yesterday's payments are reconciled with the gateway's statement,
/// holders of licenses about to expire are told (服务找人, with a link to
/// the renewal service), and the next run is queued.
async fn housekeeping(
    db: &Db,
    gateway: Option<&dyn crate::payments::PaymentGateway>,
) -> Result<(), DomainError> {
    let now = db.now();
    let removed = crate::housekeeping::purge(db, now).await?;
    tracing::info!(?removed, "housekeeping: expired rows removed");
    let idle = crate::assistant::handoff::close_idle(db, now.timestamp()).await?;
    tracing::info!(idle, "housekeeping: idle chats with agents ended");
    let expired = crate::payments::expire_due(db).await?;
    tracing::info!(expired, "housekeeping: unpaid orders expired");
    if let Some(g) = gateway {
        let yesterday = crate::time::local_date(now) - chrono::Duration::days(1);
        let run = crate::payments::reconcile::run(db, g, yesterday, "system").await?;
        tracing::info!(day = %run.day, matched = run.matched, mismatched = run.mismatches.len(), "housekeeping: payments reconciled");
    }
    let reminded = crate::licenses::remind_expiring(db, crate::time::local_date(now), "").await?;
    tracing::info!(reminded, "housekeeping: license expiry reminders");
    crate::housekeeping::schedule(db, now).await
}
