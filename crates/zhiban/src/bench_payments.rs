//! `zhiban bench payments`: gateway callbacks handled per second. Orders
//! are paid at the development gateway, which signs two callbacks for each
//! (as real gateways send more than one); every callback is then handed to
//! the portal's callback handling — the signature checked, the order paid
//! once, its 电子票据 signed and stored, the duplicate recognised — with
//! several at once, the copies of one order racing each other. On a fresh
//! database of its own (SQLite or PostgreSQL).

use std::time::{Duration, Instant};

use anyhow::Result;
use zhiban_domain::payments::dev_gateway::DevGateway;
use zhiban_domain::payments::{
    self, CallbackOutcome, GatewayOrder, PaymentGateway, PaymentSettings, Payments,
};

use crate::bench::Latencies;
use crate::bench_cases::ms;

pub async fn run(postgres: Option<String>, orders: usize, concurrency: usize) -> Result<()> {
    let (t, engine) = crate::bench::demo_db(&postgres).await?;
    let db = &t.db;
    let settings = PaymentSettings::default();
    let gateway = DevGateway {
        settings: settings.clone(),
    };
    let unit: i64 = sqlx::query_scalar("SELECT id FROM departments ORDER BY id LIMIT 1")
        .fetch_one(db.pool())
        .await?;
    println!(
        "engine: {engine}; {orders} orders paid at the development gateway, {} callbacks each, \
         {concurrency} handled at a time",
        settings.dev_callback_copies
    );
    let now = db.now().timestamp();
    for i in 0..orders {
        let number = format!("ZFBENCH{i:08}");
        sqlx::query(
            "INSERT INTO payment_orders (number, unit_id, subject, lines, amount_cents, state, \
             created_by, created_at, expires_at) VALUES ($1, $2, '居民身份证补领', '[]', 4000, \
             'unpaid', 'bench', $3, $4)",
        )
        .bind(&number)
        .bind(unit)
        .bind(now)
        .bind(now + 3600)
        .execute(db.pool())
        .await?;
        let created = gateway
            .create(
                db,
                &GatewayOrder {
                    number: number.clone(),
                    amount_cents: 4000,
                    subject: "居民身份证补领".into(),
                    notify_url: "http://127.0.0.1/pay/notify".into(),
                    return_url: String::new(),
                },
            )
            .await?;
        sqlx::query("UPDATE payment_orders SET trade_no = $1, gateway = 'dev' WHERE number = $2")
            .bind(&created.trade_no)
            .bind(&number)
            .execute(db.pool())
            .await?;
        gateway.settle(db, &created.trade_no, true).await?;
    }
    let payloads: Vec<String> = sqlx::query_scalar(
        "SELECT payload FROM jobs WHERE kind = 'dev_gateway_notify' ORDER BY id",
    )
    .fetch_all(db.pool())
    .await?;
    let callbacks: Vec<(String, String)> = payloads
        .iter()
        .map(|p| {
            let v: serde_json::Value = serde_json::from_str(p)?;
            Ok((
                v["body"].as_str().unwrap_or_default().to_string(),
                v["signature"].as_str().unwrap_or_default().to_string(),
            ))
        })
        .collect::<Result<_>>()?;
    let started = Instant::now();
    let mut lat: Vec<Duration> = Vec::with_capacity(callbacks.len());
    let (mut paid, mut duplicate) = (0usize, 0usize);
    for chunk in callbacks.chunks(concurrency.max(1)) {
        let mut set = tokio::task::JoinSet::new();
        for (body, sig) in chunk {
            let (body, sig) = (body.clone(), sig.clone());
            let (db, gateway, settings) = (db.clone(), gateway.clone(), settings.clone());
            set.spawn(async move {
                let p = Payments {
                    db: &db,
                    gateway: &gateway,
                    settings: &settings,
                    public_url: "http://127.0.0.1",
                };
                let t0 = Instant::now();
                let outcome = payments::on_callback(&p, body.as_bytes(), &sig).await?;
                anyhow::Ok((t0.elapsed(), outcome))
            });
        }
        while let Some(r) = set.join_next().await {
            let (d, outcome) = r??;
            lat.push(d);
            match outcome {
                CallbackOutcome::Paid => paid += 1,
                CallbackOutcome::Duplicate => duplicate += 1,
                CallbackOutcome::Failed => {}
            }
        }
    }
    let elapsed = started.elapsed();
    let receipts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM payment_receipts")
        .fetch_one(db.pool())
        .await?;
    anyhow::ensure!(
        paid == orders && usize::try_from(receipts)? == orders,
        "every order paid once: {paid} paid, {receipts} receipts for {orders} orders"
    );
    let mut lat = Latencies::from(lat);
    println!(
        "{} callbacks in {:.2} s: {:.0} callbacks/s ({paid} paid with a receipt, {duplicate} \
         duplicates recognised); per callback p50 {:.1} ms, p99 {:.1} ms",
        callbacks.len(),
        elapsed.as_secs_f64(),
        callbacks.len() as f64 / elapsed.as_secs_f64(),
        ms(lat.pct(0.5)),
        ms(lat.pct(0.99)),
    );
    Ok(())
}
