//! 舆情监测 over HTTP: a monitor updates the figures, reads a topic's items,
//! keeps the watch list and the rules (bad input comes back with a
//! message and what was typed), and adds a feed; others may not look.

use chrono::TimeZone;
use zhiban_testing::{TestApp, location};

fn noon() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc.with_ymd_and_hms(2026, 12, 7, 4, 0, 0).unwrap()
}

#[tokio::test]
async fn a_monitor_reads_the_topics_and_the_items_behind_them() {
    let app = TestApp::spawn_unlimited().await;
    app.db.db.clock().set(noon());
    zhiban_domain::requests::demo::load_history(&app.db.db)
        .await
        .unwrap();
    zhiban_domain::ratings::demo::load_history(&app.db.db)
        .await
        .unwrap();
    let yq = app.staff_in_role("yq1", "500000", "call_agent").await;
    let (status, page) = app.text_with(&yq, "/admin/opinion").await;
    assert_eq!(status, 200);
    assert!(page.contains("舆情监测"), "{page}");

    // The node's worker may have gathered already; 立即更新 gathers the rest.
    let r = app
        .submit(&yq, "/admin/opinion", "/admin/opinion/run", &[])
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let back = location(&r);
    let n = back
        .strip_prefix("/admin/opinion?ran=")
        .expect("back to the page");
    let (_, page) = app.text_with(&yq, &back).await;
    assert!(page.contains(&format!("新收集 {n} 条信息")), "{page}");
    let gathered: i64 = zhiban_store::sqlx::query_scalar("SELECT COUNT(*) FROM opinion_items")
        .fetch_one(app.db.db.pool())
        .await
        .unwrap();
    let requests: i64 = zhiban_store::sqlx::query_scalar("SELECT COUNT(*) FROM requests")
        .fetch_one(app.db.db.pool())
        .await
        .unwrap();
    assert!(
        gathered >= requests && requests > 0,
        "{gathered} items, {requests} requests"
    );

    // The busiest topic of the last 90 days, as the table shows it, and the
    // items behind it.
    let (_, page) = app.text_with(&yq, "/admin/opinion?days=90").await;
    let today = zhiban_domain::time::local_date(noon());
    let o = zhiban_domain::opinion::report::overview(&app.db.db, today, 90)
        .await
        .unwrap();
    assert!(
        o.total > 0,
        "the demo requests and ratings fall in the last 90 days"
    );
    let top = &o.topics[0];
    let label = top.topic.label();
    assert!(page.contains(label), "{page}");
    let link = format!(
        "/admin/opinion/items?topic={}&#38;from={}&#38;to={}",
        top.topic.slug(),
        o.first,
        o.last
    );
    assert!(page.contains(&link), "{page}");
    let (status, items) = app.text_with(&yq, &link.replace("&#38;", "&")).await;
    assert_eq!(status, 200);
    assert!(items.contains(&format!("共 {} 条", top.total)), "{items}");
    // No personal number reaches the page.
    assert!(!regex_like_phone(&items), "a phone number shows");

    // A filter that matches nothing says so.
    let (_, none) = app
        .text_with(
            &yq,
            "/admin/opinion/items?q=%E4%B8%8D%E4%BC%9A%E6%9C%89%E8%BF%99%E5%8F%A5%E8%AF%9D",
        )
        .await;
    assert!(none.contains("共 0 条") && none.contains("这段时间没有信息"));

    // Someone without 舆情监测 is refused.
    let clerk = app.staff_in_role("clerk1", "500000", "case_handler").await;
    let r = clerk.get(app.url("/admin/opinion")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
}

/// An unmasked mainland mobile number (11 digits starting 1[3-9]).
fn regex_like_phone(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(11).enumerate().any(|(i, w)| {
        w[0] == b'1'
            && (b'3'..=b'9').contains(&w[1])
            && w.iter().all(u8::is_ascii_digit)
            && (i == 0 || !b[i - 1].is_ascii_digit())
            && b.get(i + 11).is_none_or(|c| !c.is_ascii_digit())
    })
}

#[tokio::test]
async fn the_watch_list_rules_and_feeds_take_what_is_right_and_explain_what_is_not() {
    let app = TestApp::spawn_unlimited().await;
    let yq = app.staff_in_role("yq2", "500000", "call_agent").await;

    let r = app
        .submit(
            &yq,
            "/admin/opinion",
            "/admin/opinion/watch",
            &[("word", "臭")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("关注词：长度应为 2–20 个字"), "{page}");
    assert!(page.contains("value=\"臭\""), "what was typed stays");
    let r = app
        .submit(
            &yq,
            "/admin/opinion",
            "/admin/opinion/watch",
            &[("word", "化工厂")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, page) = app.text_with(&yq, "/admin/opinion").await;
    assert!(
        page.contains("/admin/opinion/items?watched=%E5%8C%96%E5%B7%A5%E5%8E%82"),
        "{page}"
    );

    let r = app
        .submit(
            &yq,
            "/admin/opinion",
            "/admin/opinion/rules",
            &[
                ("baseline_days", "两周"),
                ("min_count", "3"),
                ("ratio_pct", "300"),
                ("every_minutes", "30"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("平日水平取前几天：超出允许范围（3–90）"),
        "{page}"
    );
    let r = app
        .submit(
            &yq,
            "/admin/opinion",
            "/admin/opinion/rules",
            &[
                ("baseline_days", "21"),
                ("min_count", "3"),
                ("ratio_pct", "300"),
                ("every_minutes", "30"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let rules = zhiban_domain::opinion::monitor::rules(&app.db.db)
        .await
        .unwrap();
    assert_eq!(
        (
            rules.baseline_days,
            rules.min_count,
            rules.ratio_pct,
            rules.every_minutes
        ),
        (21, 3, 300, 30)
    );

    let r = app
        .submit(
            &yq,
            "/admin/opinion/feeds",
            "/admin/opinion/feeds",
            &[("name", "渝州晚报"), ("url", "news.example.cn/rss")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("RSS/Atom 地址：请填写以 http:// 或 https:// 开头的网址"),
        "{page}"
    );
    assert!(page.contains("value=\"渝州晚报\""));
    let r = app
        .submit(
            &yq,
            "/admin/opinion/feeds",
            "/admin/opinion/feeds",
            &[("name", "渝州晚报"), ("url", "http://127.0.0.1:9/rss")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    // Nothing listens there: the row says the fetch failed.
    let id: i64 = zhiban_store::sqlx::query_scalar("SELECT id FROM opinion_feeds")
        .fetch_one(app.db.db.pool())
        .await
        .unwrap();
    let r = app
        .submit(
            &yq,
            "/admin/opinion/feeds",
            &format!("/admin/opinion/feeds/{id}/fetch"),
            &[],
        )
        .await;
    assert_eq!(location(&r), "/admin/opinion/feeds?fetched=0");
    let (_, page) = app.text_with(&yq, "/admin/opinion/feeds").await;
    assert!(
        page.contains("抓取失败") && page.contains("渝州晚报"),
        "{page}"
    );
}
