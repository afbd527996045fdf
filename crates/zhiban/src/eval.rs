//! `zhiban eval …`: quality of search, request routing and the assistant
//! on a data directory's catalog, measured on TSV sets.

use std::path::Path;

use anyhow::{Context, Result};

use crate::settings::Settings;
use crate::{open_migrated, public_catalog};

pub async fn search(settings: &Settings, file: &Path) -> Result<()> {
    let tsv =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let snapshot = public_catalog(settings).await?;
    let index = zhiban_search::SearchIndex::open(None)?;
    index.replace_kind(
        "service",
        zhiban_domain::search_docs::service_docs(&snapshot),
    )?;
    let report = zhiban_search::eval::evaluate(&index, &tsv);
    for (line, reason) in &report.bad_lines {
        eprintln!("line {line}: {reason}");
    }
    println!(
        "queries: {}  top-1: {} ({:.1}%)  top-3: {} ({:.1}%)",
        report.queries,
        report.top1,
        report.top1_rate(),
        report.top3,
        report.top3_rate()
    );
    for (line, query, expected, got) in &report.misses {
        println!(
            "MISS line {line}: {query}  want /{expected}/  got {}",
            got.join(" | ")
        );
    }
    Ok(())
}

pub async fn assistant(settings: &Settings, file: &Path) -> Result<()> {
    let tsv =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    public_catalog(settings).await?;
    let db = open_migrated(settings).await?;
    let (index, brain) = zhiban_domain::assistant::eval::load(&db).await?;
    let assistant = zhiban_domain::assistant::Assistant {
        brain: &brain,
        search: &index,
        threshold: settings.assistant.threshold,
    };
    let e = zhiban_domain::assistant::eval::evaluate(&assistant, &tsv);
    for (line, reason) in &e.bad_lines {
        eprintln!("line {line}: {reason}");
    }
    println!(
        "questions: {}  answered: {:.1}%  correct: {:.1}%  wrong: {:.1}%  handed off: {:.1}%  asked back: {}",
        e.questions,
        e.answered_rate(),
        e.correct_rate(),
        e.wrong_rate(),
        e.handed_off_rate(),
        e.clarified
    );
    println!("threshold  right  wrong   (replies citing sources, at each confidence threshold)");
    for (t, right, wrong) in e.by_threshold() {
        println!("{t:>9.2}  {right:>4.1}%  {wrong:>4.1}%");
    }
    for (line, question, expected, said) in &e.misses {
        println!("MISS line {line}: {question}  want /{expected}/  got {said}");
    }
    Ok(())
}

pub async fn routing(settings: &Settings, file: &Path) -> Result<()> {
    let tsv =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    public_catalog(settings).await?;
    let db = open_migrated(settings).await?;
    if settings.demo_data {
        zhiban_domain::requests::demo::load_history(&db).await?;
    }
    let routing = zhiban_domain::requests::training(&db, 20_000).await?;
    let e = zhiban_domain::requests::routing::evaluate(&routing, &tsv);
    println!(
        "requests: {}  top-1: {} ({:.1}%)  top-3: {} ({:.1}%)",
        e.total,
        e.top1,
        e.top1_rate(),
        e.top3,
        e.top3_rate()
    );
    for (line, text, expected, got) in &e.misses {
        println!("MISS line {line}: {text}  want {expected}  got {got}");
    }
    Ok(())
}

pub fn sentiment(file: &Path) -> Result<()> {
    let tsv =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let r = zhiban_domain::opinion::eval::evaluate(&tsv);
    println!(
        "texts: {}  correct: {} ({:.1}%)",
        r.total,
        r.correct,
        r.accuracy()
    );
    println!("expected \\ got   negative  neutral  positive");
    for (name, row) in ["negative", "neutral ", "positive"]
        .iter()
        .zip(r.confusion.iter())
    {
        println!("{name}        {:>8}  {:>7}  {:>8}", row[0], row[1], row[2]);
    }
    for line in &r.bad_lines {
        println!("BAD line {line}");
    }
    for (line, want, got, text) in &r.misses {
        println!(
            "MISS line {line}: want {} got {}  {text}",
            want.slug(),
            got.slug()
        );
    }
    Ok(())
}
