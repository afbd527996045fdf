//! 在线访谈 over HTTP: a moderator schedules an interview, an anonymous
//! visitor asks, the question waits for moderation, and a viewer's live
//! stream (server-sent events) receives the start, the question, the
//! answer and the end, then closes; photos need a real image and a
//! caption; other units' moderators and people without the role get
//! nothing; asking is limited per address.

use std::time::Duration;

use zhiban_testing::*;

/// Reads a server-sent event stream until it closes (or `limit` passes:
/// a guard so a broken stream fails the test instead of hanging it).
async fn read_stream(mut r: reqwest::Response, limit: Duration) -> String {
    let mut text = String::new();
    let read = async {
        while let Some(chunk) = r.chunk().await.expect("chunk") {
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
    };
    let _ = tokio::time::timeout(limit, read).await;
    text
}

/// The `data:` lines of the events named `name`, parsed.
fn events(stream: &str, name: &str) -> Vec<serde_json::Value> {
    stream
        .split("\n\n")
        .filter(|block| block.lines().any(|l| l == format!("event: {name}")))
        .filter_map(|block| {
            block
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .map(|d| serde_json::from_str(d).expect("json"))
        })
        .collect()
}

fn id_from(location: &str) -> String {
    location
        .trim_start_matches("/admin/interviews/")
        .split('?')
        .next()
        .expect("id")
        .to_string()
}

async fn schedule(app: &TestApp, host: &reqwest::Client, unit: &str) -> String {
    let r = app
        .submit(
            host,
            "/admin/interviews/new",
            "/admin/interviews/new",
            &[
                ("kind", "interview"),
                ("title", "老旧小区改造在线访谈"),
                (
                    "summary",
                    "市住房城乡建委负责同志解读今年老旧小区改造计划，回答居民关心的问题。",
                ),
                ("guests", "张卫东｜市住房城乡建委副主任"),
                ("unit", unit),
                ("starts_at", "2026-12-18T15:00"),
                ("ends_at", "2026-12-18T16:30"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303, "scheduled");
    id_from(&location(&r))
}

#[tokio::test]
async fn an_interview_runs_live_from_question_to_transcript() {
    let app = TestApp::spawn_unlimited().await;
    let host = app.staff_in_role("ft.zj", "500000-ZJ", "reviewer").await;
    let unit = app.unit_id("500000-ZJ").await.to_string();
    let id = schedule(&app, &host, &unit).await;
    let page = format!("/interviews/{id}");
    let (status, html) = app.text(&page).await;
    assert_eq!(status, 200);
    assert!(html.contains("老旧小区改造在线访谈") && html.contains("张卫东"));
    assert!(html.contains("预告"));

    // A visitor asks (the script's attempt is shown as text later).
    let visitor = client();
    let asked = "<script>alert(1)</script>我们小区是1995年建的，今年能加装电梯吗？";
    let r = app
        .submit(
            &visitor,
            &page,
            &format!("{page}/questions"),
            &[("nickname", "观音桥居民"), ("question", asked)],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    assert!(location(&r).ends_with("?done=asked#ask"));
    let (_, html) = app.text_with(&visitor, &location(&r)).await;
    assert!(html.contains("提问已提交"));
    assert!(!html.contains("加装电梯"), "not shown before moderation");
    let after: String = html
        .split("/live?after=")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the page says where its stream starts")
        .to_string();

    // A viewer follows the stream from there.
    let viewer = client();
    let stream = viewer
        .get(app.url(&format!("{page}/live?after={after}")))
        .send()
        .await
        .expect("stream");
    assert_eq!(
        stream
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    let reading = tokio::spawn(read_stream(stream, Duration::from_secs(60)));

    // The moderator sees the question (escaped) and runs the interview.
    let console = format!("/admin/interviews/{id}");
    let (_, html) = app.text_with(&host, &console).await;
    assert!(html.contains("网友「观音桥居民」"));
    assert!(
        html.contains("alert(1)") && !html.contains("<script>alert"),
        "escaped"
    );
    let question: String = html
        .split("name=\"post\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("question id")
        .to_string();
    let state = format!("{console}/state");
    let r = app.submit(&host, &console, &state, &[("to", "live")]).await;
    assert_eq!(r.status().as_u16(), 303);
    let r = app
        .submit(
            &host,
            &console,
            &format!("{console}/say"),
            &[
                ("guest", "张卫东"),
                ("reply_to", &question),
                (
                    "text",
                    "1995年建成的小区在改造范围内，加装电梯需本单元三分之二以上业主同意。",
                ),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    // An empty answer comes back with the field named, the choice kept.
    let r = app
        .submit(
            &host,
            &console,
            &format!("{console}/say"),
            &[("guest", "张卫东"), ("text", " ")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.expect("page").contains("内容：不能为空"));
    let r = app
        .submit(&host, &console, &state, &[("to", "ended")])
        .await;
    assert_eq!(r.status().as_u16(), 303);

    // The stream delivered it all in order, then closed.
    let text = reading.await.expect("stream read");
    let states: Vec<String> = events(&text, "state")
        .iter()
        .map(|e| e["state"].as_str().expect("state").to_string())
        .collect();
    assert_eq!(states, vec!["live", "ended"], "{text}");
    let shown = events(&text, "shown");
    assert_eq!(shown.len(), 2, "{text}");
    assert_eq!(shown[0]["kind"], "question");
    assert_eq!(
        shown[0]["body"], asked,
        "sent as data; the page makes text of it"
    );
    assert_eq!(shown[1]["kind"], "answer");
    assert_eq!(shown[1]["speaker"], "张卫东（市住房城乡建委副主任）");
    assert_eq!(shown[1]["quote"]["speaker"], "网友「观音桥居民」");
    assert!(
        events(&text, "asked").is_empty(),
        "no waiting questions in public"
    );
    assert!(text.contains("retry: 2000"));

    // Afterwards the page is the transcript, and takes no more questions.
    let (_, html) = app.text(&page).await;
    assert!(html.contains("文字实录") && html.contains("三分之二以上业主同意"));
    assert!(
        html.contains("alert(1)") && !html.contains("<script>alert"),
        "escaped"
    );
    assert!(!html.contains("/questions\""), "no question form");
    let late = app
        .submit(
            // The page has no form any more: the visitor's token from another.
            &visitor,
            "/tips",
            &format!("{page}/questions"),
            &[("question", "访谈结束后还能问吗？我想了解补贴标准。")],
        )
        .await;
    assert_eq!(late.status().as_u16(), 409);
    // A stream opened after the end says so and closes at once.
    let text = read_stream(
        client()
            .get(app.url(&format!("{page}/live")))
            .send()
            .await
            .expect("stream"),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(
        events(&text, "state").last().map(|s| s["state"].clone()),
        Some("ended".into())
    );
}

#[tokio::test]
async fn a_reconnecting_viewer_resumes_from_its_last_event() {
    let app = TestApp::spawn_unlimited().await;
    let host = app.staff_in_role("ft.zj", "500000-ZJ", "reviewer").await;
    let unit = app.unit_id("500000-ZJ").await.to_string();
    let id = schedule(&app, &host, &unit).await;
    let console = format!("/admin/interviews/{id}");
    app.submit(
        &host,
        &console,
        &format!("{console}/state"),
        &[("to", "live")],
    )
    .await;
    for text in ["第一段：欢迎各位网友。", "第二段：今年计划改造小区320个。"]
    {
        let r = app
            .submit(
                &host,
                &console,
                &format!("{console}/say"),
                &[("guest", ""), ("text", text)],
            )
            .await;
        assert_eq!(r.status().as_u16(), 303);
    }
    app.submit(
        &host,
        &console,
        &format!("{console}/state"),
        &[("to", "ended")],
    )
    .await;
    let all = read_stream(
        client()
            .get(app.url(&format!("/interviews/{id}/live?after=0")))
            .send()
            .await
            .expect("stream"),
        Duration::from_secs(30),
    )
    .await;
    let first_id: String = all
        .split("\n\n")
        .find(|b| b.contains("第一段"))
        .and_then(|b| b.lines().find_map(|l| l.strip_prefix("id: ")))
        .expect("event id")
        .to_string();
    // The browser reconnects with Last-Event-ID: only what came after.
    let rest = read_stream(
        client()
            .get(app.url(&format!("/interviews/{id}/live?after=0")))
            .header("last-event-id", &first_id)
            .send()
            .await
            .expect("stream"),
        Duration::from_secs(30),
    )
    .await;
    assert!(
        !rest.contains("第一段") && rest.contains("第二段"),
        "{rest}"
    );
    let shown = events(&rest, "shown");
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0]["speaker"], "主持人");
}

#[tokio::test]
async fn photos_need_a_real_image_and_a_caption() {
    let app = TestApp::spawn_unlimited().await;
    let host = app.staff_in_role("ft.zj", "500000-ZJ", "reviewer").await;
    let unit = app.unit_id("500000-ZJ").await.to_string();
    let id = schedule(&app, &host, &unit).await;
    let console = format!("/admin/interviews/{id}");
    let action = format!("{console}/photo");
    let r = app
        .submit_multipart(
            &host,
            &console,
            &action,
            &[("caption", "")],
            &[("photo", "studio.png", b"<html>not a picture</html>")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let html = r.text().await.expect("page");
    assert!(
        html.contains("图片说明：不能为空"),
        "the caption is required"
    );
    assert!(html.contains("图片：文件类型不符合要求"));
    let r = app
        .submit_multipart(
            &host,
            &console,
            &action,
            &[("caption", "嘉宾张卫东在直播间回答网友提问")],
            &[("photo", "studio.png", samples::PNG)],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, html) = app.text(&format!("/interviews/{id}")).await;
    let src: String = html
        .split(&format!("src=\"/interviews/{id}/photos/"))
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("photo shown")
        .to_string();
    assert!(html.contains("alt=\"嘉宾张卫东在直播间回答网友提问\""));
    let photo = app.get(&format!("/interviews/{id}/photos/{src}")).await;
    assert_eq!(photo.status().as_u16(), 200);
    assert_eq!(
        photo
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("image/png")
    );
    assert_eq!(photo.bytes().await.expect("body").as_ref(), samples::PNG);
    // Taken down, it is gone for the public.
    let r = app
        .submit(
            &host,
            &console,
            &format!("{console}/moderate"),
            &[("post", &src), ("action", "withdraw")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(
        app.get(&format!("/interviews/{id}/photos/{src}"))
            .await
            .status()
            .as_u16(),
        404
    );
}

#[tokio::test]
async fn moderation_is_for_the_role_and_the_units_in_scope() {
    let app = TestApp::spawn_unlimited().await;
    let host = app.staff_in_role("ft.zj", "500000-ZJ", "reviewer").await;
    let unit = app.unit_id("500000-ZJ").await.to_string();
    let id = schedule(&app, &host, &unit).await;
    let console = format!("/admin/interviews/{id}");
    // Without the role: refused; another unit's moderator: missing.
    let handler = app
        .staff_in_role("ft.handler", "500000-ZJ", "case_handler")
        .await;
    assert_eq!(app.text_with(&handler, "/admin/interviews").await.0, 403);
    assert_eq!(app.text_with(&handler, &console).await.0, 403);
    let other = app.staff_in_role("ft.ga", "500000-GA", "reviewer").await;
    assert_eq!(app.text_with(&other, &console).await.0, 404);
    assert_eq!(
        app.text_with(&other, &format!("{console}/live")).await.0,
        404
    );
    let (_, list) = app.text_with(&other, "/admin/interviews").await;
    assert!(!list.contains("老旧小区改造在线访谈"));
    // A citizen or a visitor never reaches the console.
    let visitor = client();
    let r = visitor.get(app.url(&console)).send().await.expect("get");
    assert_ne!(r.status().as_u16(), 200);
    // A form without its token is refused.
    let r = host
        .post(app.url(&format!("{console}/state")))
        .form(&[("to", "live")])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 403);
}

#[tokio::test]
async fn asking_is_limited_per_address() {
    let app = TestApp::spawn().await;
    let (_, list) = app.text("/interviews").await;
    assert!(list.contains("访谈预告") && list.contains("往期回顾"));
    let coming: String = list
        .split("访谈预告")
        .nth(1)
        .and_then(|s| s.split("href=\"/interviews/").nth(1))
        .and_then(|s| s.split('"').next())
        .expect("the demo's announced interview")
        .to_string();
    let page = format!("/interviews/{coming}");
    let visitor = client();
    let mut statuses = Vec::new();
    for i in 0..12 {
        let r = app
            .submit(
                &visitor,
                &page,
                &format!("{page}/questions"),
                &[(
                    "question",
                    &format!("第{i}个问题：孩子入学需要准备哪些材料？"),
                )],
            )
            .await;
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses[0], 303);
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
}
