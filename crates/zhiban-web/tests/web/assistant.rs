//! 智能客服 over real HTTP: asking without JavaScript, following up in the
//! same conversation, the JSON API, and the knowledge base staff keep.

use zhiban_testing::*;

/// The item the question is about, read from the database (not from the
/// assistant), to check the answer against.
async fn item(app: &TestApp, code: &str) -> std::sync::Arc<zhiban_domain::catalog::ServiceItem> {
    let snap = zhiban_domain::catalog::CatalogSnapshot::load(&app.db.db)
        .await
        .expect("catalog");
    snap.get(code).cloned().expect("item")
}

#[tokio::test]
async fn a_question_posted_without_javascript_is_answered_with_its_source_and_followed_up() {
    let app = TestApp::spawn_unlimited().await;
    let c = client();
    let r = app
        .submit(&c, "/assistant", "/assistant", &[("q", "办居住证要带什么")])
        .await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(location(&r), "/assistant#latest");
    let (status, page) = app.text_with(&c, "/assistant").await;
    assert_eq!(status, 200);
    let permit = item(&app, "500000-GA-HZ-0009-02").await;
    assert!(page.contains("办居住证要带什么"));
    assert!(
        page.contains("href=\"/services/500000-GA-HZ-0009-02\""),
        "{page}"
    );
    for m in &permit.materials {
        assert!(page.contains(&m.name), "material {} missing", m.name);
    }
    // 申领 and 签注 both fit: it lists both and offers them to pick.
    assert!(page.contains("居住证签注") && page.contains("name=\"q\" value=\"居住证申领\""));
    // The same conversation: how long, without naming the service again.
    app.submit(&c, "/assistant", "/assistant", &[("q", "几天能办好")])
        .await;
    let (_, page) = app.text_with(&c, "/assistant").await;
    let days = format!("承诺 {} 个工作日", permit.promised_limit_days);
    assert!(page.contains(&days), "{page}");
    // Picking one answers for it alone, keeping what was asked.
    app.submit(&c, "/assistant", "/assistant", &[("q", "居住证申领")])
        .await;
    let (_, page) = app.text_with(&c, "/assistant").await;
    let last = page
        .rsplit("class=\"chat-turn\"")
        .next()
        .expect("last turn");
    assert!(
        last.contains(&days) && !last.contains("居住证签注"),
        "{last}"
    );
    // Starting over forgets the topic: the same follow-up is now unclear.
    app.submit(&c, "/assistant", "/assistant/restart", &[])
        .await;
    app.submit(&c, "/assistant", "/assistant", &[("q", "几天能办好")])
        .await;
    let (_, page) = app.text_with(&c, "/assistant").await;
    assert!(!page.contains(&days));
    assert!(page.contains("请问您要办理的是哪项业务"));
}

#[tokio::test]
async fn an_empty_question_says_so_and_an_unknown_one_offers_a_person() {
    let app = TestApp::spawn_unlimited().await;
    let c = client();
    let r = app
        .submit(&c, "/assistant", "/assistant", &[("q", "   ")])
        .await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.expect("body").contains("请输入您的问题"));
    app.submit(
        &c,
        "/assistant",
        "/assistant",
        &[("q", "隔壁老王家的猫爬树上下不来了")],
    )
    .await;
    let (_, page) = app.text_with(&c, "/assistant").await;
    assert!(page.contains("请工作人员解答") && page.contains("/requests/new?kind=consult"));
    // It reaches the editors' queue.
    let queue = zhiban_domain::assistant::knowledge::unanswered(&app.db.db, 10)
        .await
        .expect("queue");
    assert!(queue.iter().any(|u| u.question.contains("猫爬树")));
}

#[tokio::test]
async fn the_json_api_answers_with_sources_and_keeps_the_conversation() {
    let app = TestApp::spawn_unlimited().await;
    let (status, a) = app.json("/api/v1/assistant?q=身份证丢了怎么补办").await;
    assert_eq!(status, 200);
    assert_eq!(a["handoff"], false);
    assert!(a["confidence"].as_f64().expect("confidence") > 0.5);
    let sources = a["sources"].as_array().expect("sources");
    assert!(
        sources
            .iter()
            .any(|s| s["title"] == "居民身份证补领" && s["url"] == "/services/500000-GA-HZ-0001-03"),
        "{a}"
    );
    let session = a["session"].as_str().expect("session").to_string();
    assert_eq!(session.len(), 32);
    let fee = item(&app, "500000-GA-HZ-0001-03").await.fees.clone();
    let (_, b) = app
        .json(&format!("/api/v1/assistant?q=要多少钱&session={session}"))
        .await;
    assert!(
        b["answer"].as_str().expect("answer").contains(fee.trim()),
        "{b}"
    );
    assert_eq!(b["session"], session.as_str());
    let (status, e) = app.json("/api/v1/assistant?q=").await;
    assert_eq!(status, 400);
    assert_eq!(e["error"]["code"], "invalid_parameter");
    let (status, _) = app.json("/api/v1/assistant?q=hi&session=../../x").await;
    assert_eq!(status, 400);
    let (_, spec) = app.json("/api/openapi.json").await;
    assert!(spec["paths"]["/api/v1/assistant"]["get"].is_object());
}

#[tokio::test]
async fn staff_answer_an_unanswered_question_and_the_assistant_uses_it_at_once() {
    let app = TestApp::spawn_unlimited().await;
    let question = "市民服务中心停车免费吗";
    let (_, first) = app.json(&format!("/api/v1/assistant?q={question}")).await;
    assert_eq!(first["handoff"], true, "{first}");
    app.login().await;
    let (status, page) = app.text("/admin/assistant").await;
    assert_eq!(status, 200);
    assert!(page.contains(question));
    let id = zhiban_domain::assistant::knowledge::unanswered(&app.db.db, 10)
        .await
        .expect("queue")[0]
        .id;
    let new = format!("/admin/assistant/new?unanswered={id}");
    // No link: every answer cites its source, so this comes back as typed.
    let r = app
        .submit(
            &app.client,
            &new,
            "/admin/assistant/new",
            &[
                ("question", question),
                ("answer", "政务服务中心地下停车场办事群众前两小时免费。"),
                ("unanswered", &id.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let body = r.text().await.expect("body");
    assert!(body.contains("出处链接") && body.contains("前两小时免费"));
    let r = app
        .submit(
            &app.client,
            &new,
            "/admin/assistant/new",
            &[
                ("question", question),
                ("variants", "政务中心停车要钱不\n办事大厅停车收费吗"),
                ("answer", "政务服务中心地下停车场办事群众前两小时免费。"),
                ("links", "渝州市政务服务中心|/departments"),
                ("unanswered", &id.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, a) = app.json("/api/v1/assistant?q=政务中心停车要钱不").await;
    assert_eq!(a["handoff"], false, "{a}");
    assert!(
        a["answer"]
            .as_str()
            .expect("answer")
            .contains("前两小时免费")
    );
    let faq = a["sources"][0]["url"].as_str().expect("url").to_string();
    assert!(faq.starts_with("/assistant/faq/"));
    let (status, page) = app.text(&faq).await;
    assert_eq!(status, 200);
    assert!(page.contains("前两小时免费"));
    // Off the queue.
    let queue = zhiban_domain::assistant::knowledge::unanswered(&app.db.db, 10)
        .await
        .expect("queue");
    assert!(queue.iter().all(|u| u.id != id));
}

#[tokio::test]
async fn only_staff_who_keep_the_knowledge_base_reach_it() {
    let app = TestApp::spawn_unlimited().await;
    let r = app.get("/admin/assistant").await;
    assert_eq!(r.status().as_u16(), 303);
    let handler = app
        .staff_with(
            "handler1",
            "500000",
            &[zhiban_domain::identity::Perm::CasesHandle],
        )
        .await;
    let (status, _) = app.text_with(&handler, "/admin/assistant").await;
    assert_eq!(status, 403);
}

/// Beijing wall-clock time as the app's clock.
fn beijing(s: &str) -> chrono::DateTime<chrono::Utc> {
    zhiban_domain::time::parse_local_minute(s)
        .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .expect("time")
}

/// Reads a server-sent event stream until `want` shows up (or it ends).
async fn sse_until(app: &TestApp, c: &reqwest::Client, url: &str, want: &str) -> String {
    let mut r = c.get(app.url(url)).send().await.expect("stream");
    assert_eq!(r.status().as_u16(), 200);
    let mut seen = String::new();
    let read = async {
        while let Ok(Some(chunk)) = r.chunk().await {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains(want) {
                break;
            }
        }
    };
    // A guard against a hung stream, not a timing assertion.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(20), read).await;
    seen
}

/// 转人工 in the agents' hours: the citizen joins the queue, an agent
/// takes the chat, sees what was asked, replies (a canned answer and a
/// link), the citizen's next message goes to the agent, the page's live
/// stream carries the reply, a colleague cannot write into it, and when
/// the agent ends it the assistant answers again.
#[tokio::test]
async fn a_person_takes_over_within_hours_and_answers_live() {
    let app = TestApp::spawn_unlimited().await;
    // Monday 10:00: agents answer.
    app.db.db.clock().set(beijing("2026-12-07 10:00"));
    let c = client();
    app.submit(
        &c,
        "/assistant",
        "/assistant",
        &[("q", "隔壁老王家的猫爬树上下不来了")],
    )
    .await;
    let (_, page) = app.text_with(&c, "/assistant").await;
    assert!(page.contains("action=\"/assistant/agent\""), "{page}");
    let r = app.submit(&c, "/assistant", "/assistant/agent", &[]).await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, page) = app.text_with(&c, "/assistant").await;
    assert!(page.contains("您是下一位"), "{page}");
    assert!(page.contains("data-chat-live=\"/assistant/live?after="));
    // A second person typing 转人工 queues behind.
    let other = client();
    app.submit(
        &other,
        "/assistant",
        "/assistant",
        &[("q", "办居住证要带什么")],
    )
    .await;
    app.submit(&other, "/assistant", "/assistant", &[("q", "转人工")])
        .await;
    let (_, page) = app.text_with(&other, "/assistant").await;
    assert!(page.contains("前面还有 1 位"), "{page}");

    let desk = app.staff_in_role("desk1", "500000", "call_agent").await;
    let (status, queue) = app.text_with(&desk, "/admin/chats").await;
    assert_eq!(status, 200);
    assert!(queue.contains("隔壁老王家的猫爬树上下不来了") && queue.contains("排队中（2）"));
    let waiting = zhiban_domain::assistant::handoff::waiting(&app.db.db)
        .await
        .expect("queue");
    let id = waiting[0].id;
    let chat_url = format!("/admin/chats/{id}");
    let r = app
        .submit(&desk, "/admin/chats", &format!("{chat_url}/accept"), &[])
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, console) = app.text_with(&desk, &chat_url).await;
    // The conversation so far, the assistant's part included.
    assert!(console.contains("隔壁老王家的猫爬树上下不来了") && console.contains("由您接待中"));
    let greeting = zhiban_domain::assistant::canned::list(&app.db.db)
        .await
        .expect("canned")
        .into_iter()
        .find(|c| c.title == "问候")
        .expect("greeting");
    let r = app
        .submit(
            &desk,
            &chat_url,
            &format!("{chat_url}/reply"),
            &[("body", ""), ("canned", &greeting.id.to_string())],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    app.submit(
        &desk,
        &chat_url,
        &format!("{chat_url}/reply"),
        &[(
            "body",
            "可以拨打 119，或看 /services/500000-GA-HZ-0001-03 了解。",
        )],
    )
    .await;
    // An empty reply comes back with its message, nothing sent.
    let r = app
        .submit(
            &desk,
            &chat_url,
            &format!("{chat_url}/reply"),
            &[("body", "  ")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.expect("body").contains("不能为空"));

    let (_, page) = app.text_with(&c, "/assistant").await;
    assert!(page.contains(&greeting.body), "{page}");
    assert!(
        page.contains("<a href=\"/services/500000-GA-HZ-0001-03\">"),
        "{page}"
    );
    assert!(page.contains("人工坐席正在为您服务") && page.contains("发给人工坐席"));
    // The live stream carries the same messages.
    let events = sse_until(&app, &c, "/assistant/live?after=0", "119").await;
    assert!(
        events.contains("event: message") && events.contains("119"),
        "{events}"
    );

    // What the citizen writes now goes to the agent, not the assistant.
    let turns_before = zhiban_domain::assistant::turns(&app.db.db, &waiting[0].session_id)
        .await
        .expect("turns")
        .len();
    app.submit(
        &c,
        "/assistant",
        "/assistant",
        &[("q", "好的谢谢，猫已经下来了")],
    )
    .await;
    let turns_after = zhiban_domain::assistant::turns(&app.db.db, &waiting[0].session_id)
        .await
        .expect("turns")
        .len();
    assert_eq!(turns_before, turns_after);
    let (_, console) = app.text_with(&desk, &chat_url).await;
    assert!(console.contains("好的谢谢，猫已经下来了"));

    // A colleague cannot write into it.
    let colleague = app.staff_in_role("desk2", "500000", "call_agent").await;
    let r = app
        .submit(
            &colleague,
            &chat_url,
            &format!("{chat_url}/reply"),
            &[("body", "插一句")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 409);
    // Staff without calls.answer do not reach the desk.
    let editor = app
        .staff_with(
            "kb1",
            "500000",
            &[zhiban_domain::identity::Perm::AssistantManage],
        )
        .await;
    let (status, _) = app.text_with(&editor, "/admin/chats").await;
    assert_eq!(status, 403);

    let r = app
        .submit(&desk, &chat_url, &format!("{chat_url}/close"), &[])
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, page) = app.text_with(&c, "/assistant").await;
    assert!(
        page.contains("已结束本次服务") && page.contains("您的问题"),
        "{page}"
    );
    // The assistant answers again.
    app.submit(&c, "/assistant", "/assistant", &[("q", "办居住证要带什么")])
        .await;
    let turns = zhiban_domain::assistant::turns(&app.db.db, &waiting[0].session_id)
        .await
        .expect("turns");
    assert_eq!(turns.len(), turns_after + 1);
}

/// Outside the agents' hours the hand-off offers a 咨询 request, drafted
/// from what was asked, and says when agents answer next.
#[tokio::test]
async fn outside_hours_a_hand_off_becomes_a_drafted_consultation() {
    let app = TestApp::spawn_unlimited().await;
    // Saturday morning: no agents until Monday 09:00.
    app.db.db.clock().set(beijing("2026-12-12 10:00"));
    let c = app.citizen("13800138123").await;
    app.submit(
        &c,
        "/assistant",
        "/assistant",
        &[("q", "隔壁老王家的猫爬树上下不来了")],
    )
    .await;
    let (_, page) = app.text_with(&c, "/assistant").await;
    assert!(!page.contains("action=\"/assistant/agent\""));
    assert!(
        page.contains("现在不是人工坐席服务时间") && page.contains("12-14（星期一）09:00"),
        "{page}"
    );
    // Posting anyway queues nothing.
    app.submit(&c, "/assistant", "/assistant/agent", &[]).await;
    app.submit(&c, "/assistant", "/assistant", &[("q", "转人工")])
        .await;
    assert!(
        zhiban_domain::assistant::handoff::waiting(&app.db.db)
            .await
            .expect("queue")
            .is_empty()
    );
    let (status, form) = app
        .text_with(&c, "/requests/new?kind=consult&from=assistant")
        .await;
    assert_eq!(status, 200);
    assert!(
        form.contains("value=\"隔壁老王家的猫爬树上下不来了\""),
        "{form}"
    );
    assert!(form.contains("· 隔壁老王家的猫爬树上下不来了"));
    assert!(!form.contains("· 转人工"));
}
