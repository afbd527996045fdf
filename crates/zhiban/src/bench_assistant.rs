//! `zhiban bench assistant`: how long the assistant takes to answer, in
//! process, over the demo portal with a knowledge base of `entries`
//! entries (generated from the catalog, each with three wordings), for the
//! questions of a set file asked `rounds` times.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use zhiban_domain::assistant::knowledge::Entry;
use zhiban_domain::assistant::{Assistant, AssistantSettings, Brain, Source, Topic, eval};

use crate::bench::Latencies;

pub async fn run(entries: usize, rounds: usize, set: &str) -> Result<()> {
    let (t, engine) = crate::bench::demo_db(&None).await?;
    let (index, demo_brain) = eval::load(&t.db).await?;
    let catalog = Arc::clone(&demo_brain.catalog);
    let kb: Vec<Entry> = (0..entries)
        .map(|i| {
            let s = &catalog.services[i % catalog.services.len()];
            Entry {
                id: i as i64 + 1,
                question: format!(
                    "{}第{}问：{}",
                    s.name,
                    i,
                    s.conditions.first().cloned().unwrap_or_default()
                ),
                variants: vec![
                    format!("{}要注意什么（{i}）", s.main_name),
                    format!("{}常见问题{i}", s.department_name),
                ],
                answer: format!("{}的说明。", s.name),
                links: vec![Source {
                    title: s.name.clone(),
                    url: format!("/services/{}", s.code),
                }],
                valid_from: None,
                valid_until: None,
                active: true,
                updated_by: "bench".into(),
                updated_at: 0,
            }
        })
        .collect();
    let started = Instant::now();
    let brain = Brain::new(Arc::clone(&catalog), kb, &index);
    let build = started.elapsed();
    let questions: Vec<String> = std::fs::read_to_string(set)?
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split('\t').next())
        .map(|q| q.trim_start_matches('+').to_string())
        .collect();
    let a = Assistant {
        brain: &brain,
        search: &index,
        threshold: AssistantSettings::default().threshold,
    };
    let mut v = Vec::with_capacity(questions.len() * rounds);
    for _ in 0..rounds {
        for q in &questions {
            let t = Instant::now();
            let r = a.reply(q, &Topic::default());
            v.push(t.elapsed());
            std::hint::black_box(r);
        }
    }
    let n = v.len();
    let mut l = Latencies::from(v);
    println!(
        "engine: {engine}; catalog: {} items; knowledge base: {} entries (built in {:.1} ms); {} questions × {rounds} rounds",
        catalog.services.len(),
        brain.knowledge_len(),
        build.as_secs_f64() * 1000.0,
        questions.len()
    );
    println!(
        "answers: {n}  p50: {:.2} ms  p99: {:.2} ms  max: {:.2} ms",
        l.pct(0.5).as_secs_f64() * 1000.0,
        l.pct(0.99).as_secs_f64() * 1000.0,
        l.pct(1.0).as_secs_f64() * 1000.0
    );
    Ok(())
}
