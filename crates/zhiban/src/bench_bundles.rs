//! `zhiban bench bundles`: 一件事 applications per second — 新生儿出生一件事
//! with four items, one merged form filled page by page, every material
//! uploaded once, and the submission that files the four cases — and the
//! cost of the submission alone. Runs the domain calls the web handlers
//! make, on a fresh database of its own (SQLite or PostgreSQL).

use std::time::{Duration, Instant};

use anyhow::Result;
use zhiban_domain::bundles::{self, Bundle};
use zhiban_domain::cases::bundled;
use zhiban_domain::cases::calendar::WorkCalendar;
use zhiban_domain::cases::{self, CaseSettings, Desk, Upload};
use zhiban_domain::forms::{Answers, FieldKind};
use zhiban_domain::identity::citizen::Citizen;
use zhiban_store::files::FileStore;

use crate::bench::Latencies;
use crate::bench_cases::{citizens, ms};

/// Fills the whole merged form as a person would and uploads each
/// material; returns when the draft is ready to submit.
async fn fill(desk: &Desk<'_>, who: &Citizen, b: &Bundle, scan: &[u8]) -> Result<()> {
    let (mut draft, _) = bundled::bundle_draft(desk.db, who, b).await?;
    let q: Answers = [("q_yb", "是"), ("q_sbk", "是"), ("q_jzz", "否")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    draft.page = 0;
    bundled::save_bundle_draft(desk.db, who, b, &mut draft, &q, 1).await?;
    for i in 1..draft.schema.pages.len() {
        let page = draft.schema.pages[i].clone();
        let mut posted = Answers::new();
        for f in &page.fields {
            let kept = draft.answers.get(&f.key).cloned().unwrap_or_default();
            match f.kind {
                FieldKind::File => {
                    cases::add_draft_file(
                        desk,
                        who,
                        &draft,
                        Upload {
                            field_key: &f.key,
                            file_name: "scan.pdf",
                            body: scan.to_vec(),
                        },
                    )
                    .await?;
                }
                FieldKind::Address => {
                    for (part, v) in [
                        ("province", "重庆市"),
                        ("city", "渝州市"),
                        ("district", "渝中区"),
                        ("detail", "民族路 1 号"),
                    ] {
                        posted.insert(format!("{}.{part}", f.key), v.into());
                    }
                }
                _ if !kept.is_empty() => {
                    posted.insert(f.key.clone(), kept);
                }
                FieldKind::Choice => {
                    posted.insert(f.key.clone(), "窗口领取".into());
                }
                FieldKind::Textarea | FieldKind::Text => {
                    posted.insert(f.key.clone(), "孩子出生，办理出生一件事".into());
                }
                _ => {}
            }
        }
        draft.page = i;
        bundled::save_bundle_draft(desk.db, who, b, &mut draft, &posted, i + 1).await?;
    }
    Ok(())
}

pub async fn run(postgres: Option<String>, submissions: usize, concurrency: usize) -> Result<()> {
    let (t, engine) = crate::bench::demo_db(&postgres).await?;
    let db = &t.db;
    let birth = bundles::published(db, "birth").await?;
    let dir = tempfile::tempdir()?;
    let files = FileStore::open(&dir.path().display().to_string())?;
    let calendar = WorkCalendar::national();
    let settings = CaseSettings::default();
    let scan = zhiban_store::files::padded_pdf(100 * 1024);
    println!(
        "engine: {engine}; {submissions} × {}, {concurrency} at a time, 100 KB per material",
        birth.name
    );
    let people = citizens(db, submissions).await?;
    let started = Instant::now();
    let mut whole: Vec<Duration> = Vec::with_capacity(submissions);
    let mut submit: Vec<Duration> = Vec::with_capacity(submissions);
    for chunk in people.chunks(concurrency.max(1)) {
        let mut set = tokio::task::JoinSet::new();
        for who in chunk {
            let (who, db, files, calendar, settings, scan, birth) = (
                who.clone(),
                db.clone(),
                files.clone(),
                calendar.clone(),
                settings.clone(),
                scan.clone(),
                birth.clone(),
            );
            set.spawn(async move {
                let desk = Desk {
                    db: &db,
                    files: &files,
                    calendar: &calendar,
                    settings: &settings,
                    public_url: "http://127.0.0.1",
                };
                let t0 = Instant::now();
                fill(&desk, &who, &birth, &scan).await?;
                let t1 = Instant::now();
                bundled::submit_bundle(&desk, &who, &birth).await?;
                anyhow::Ok((t0.elapsed(), t1.elapsed()))
            });
        }
        while let Some(r) = set.join_next().await {
            let (w, s) = r??;
            whole.push(w);
            submit.push(s);
        }
    }
    let elapsed = started.elapsed();
    let cases: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM cases WHERE bundle_case_id IS NOT NULL")
            .fetch_one(db.pool())
            .await?;
    let mut whole = Latencies::from(whole);
    let mut submit = Latencies::from(submit);
    println!(
        "{submissions} bundles ({cases} cases) in {:.2} s: {:.1} bundle applications/s \
         (form pages, uploads and submission); per application p50 {:.1} ms, p99 {:.1} ms",
        elapsed.as_secs_f64(),
        submissions as f64 / elapsed.as_secs_f64(),
        ms(whole.pct(0.5)),
        ms(whole.pct(0.99)),
    );
    println!(
        "the submission alone (four cases, their files and e-licences, one transaction): \
         p50 {:.1} ms, p99 {:.1} ms",
        ms(submit.pct(0.5)),
        ms(submit.pct(0.99)),
    );
    Ok(())
}
