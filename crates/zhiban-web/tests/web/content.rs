//! 政务公开 over HTTP (#16): an editor drafts, a reviewer returns it with a
//! comment, the editor fixes it, two reviewers publish it and a citizen
//! finds it on the home page, the channel and the article page. Bad input
//! comes back with every problem named and nothing typed lost; the route
//! table keeps editors out of review.

use zhiban_testing::{TestApp, hidden, location};

async fn channel(app: &TestApp, site: &str, code: &str) -> String {
    let id: i64 = zhiban_store::sqlx::query_scalar(
        "SELECT c.id FROM content_channels c JOIN content_sites s ON s.id = c.site_id \
         WHERE s.code = $1 AND c.code = $2",
    )
    .bind(site)
    .bind(code)
    .fetch_one(app.db.db.pool())
    .await
    .expect("channel");
    id.to_string()
}

fn id_from(location: &str) -> String {
    location
        .trim_start_matches("/admin/content/")
        .split('?')
        .next()
        .unwrap_or("")
        .to_string()
}

/// Posts `fields` from the page `path` to the same path (the new-article
/// form, the site settings).
async fn post_here(
    app: &TestApp,
    c: &reqwest::Client,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    app.submit(c, path, path, fields).await
}

/// Posts a step from the article's page, with its current revision.
async fn act(
    app: &TestApp,
    c: &reqwest::Client,
    id: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let page = format!("/admin/content/{id}");
    let (_, html) = app.text_with(c, &page).await;
    let revision = hidden(&html, "revision");
    let mut all = vec![("revision", revision.as_str())];
    all.extend_from_slice(fields);
    app.submit(c, &page, &format!("{page}/{action}"), &all)
        .await
}

#[tokio::test]
async fn an_article_goes_from_draft_through_rejection_and_two_reviews_to_the_citizen() {
    let app = TestApp::spawn().await;
    let editor = app
        .staff_in_role("bj.wang", "500000", "content_editor")
        .await;
    let first = app.staff_in_role("sh.li", "500000", "reviewer").await;
    let last = app.staff_in_role("sh.zhao", "500000", "reviewer").await;
    let yaowen = channel(&app, "city", "yaowen").await;

    let r = post_here(
        &app,
        &editor,
        "/admin/content/new",
        &[
            ("site", "city"),
            ("kind", "news"),
            ("channels", &yaowen),
            ("title", "政务服务大厅周末延时服务"),
            (
                "body",
                "自本周起，市政务服务大厅周六延时至 17:00。\n\n咨询电话 12345。",
            ),
            ("source", "渝州市政务服务管理办公室"),
            ("_go", "submit"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let id = id_from(&location(&r));
    assert!(location(&r).ends_with("?done=submit"), "{}", location(&r));
    let (_, html) = app.text_with(&editor, &location(&r)).await;
    assert!(
        html.contains("已送审"),
        "the editor is told it went to review"
    );
    assert_eq!(
        app.get(&format!("/articles/{id}")).await.status(),
        404,
        "not public yet"
    );

    // 初审 returns it with a comment: the reason is required.
    let r = act(
        &app,
        &first,
        &id,
        "review",
        &[("decision", "reject"), ("note", "")],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.expect("body").contains("意见或原因"));
    let r = act(
        &app,
        &first,
        &id,
        "review",
        &[("decision", "reject"), ("note", "请写明延时到几点")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let (_, html) = app
        .text_with(&editor, &format!("/admin/content/{id}"))
        .await;
    assert!(
        html.contains("请写明延时到几点"),
        "the editor reads the comment"
    );
    assert!(html.contains("退回修改"));

    // The editor fixes the title and sends it again.
    let revision = hidden(&html, "revision");
    let r = app
        .submit(
            &editor,
            &format!("/admin/content/{id}"),
            &format!("/admin/content/{id}"),
            &[
                ("revision", &revision),
                ("site", "city"),
                ("kind", "news"),
                ("channels", &yaowen),
                ("title", "政务服务大厅周六延时至 17:00"),
                (
                    "body",
                    "自本周起，市政务服务大厅周六延时至 17:00。\n\n咨询电话 12345。",
                ),
                ("_go", "submit"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    // Two stages, two people.
    let r = act(&app, &first, &id, "review", &[("decision", "approve")]).await;
    assert_eq!(r.status(), 303);
    let r = act(&app, &first, &id, "review", &[("decision", "approve")]).await;
    assert_eq!(r.status(), 409, "the same person cannot pass 终审 too");
    assert!(r.text().await.expect("body").contains("不同人员"));
    let r = act(&app, &last, &id, "review", &[("decision", "approve")]).await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).ends_with("done=publish"));

    // Citizens: the article, its channel and the home page.
    let (status, page) = app.text(&format!("/articles/{id}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("政务服务大厅周六延时至 17:00"));
    assert!(page.contains("<p>自本周起，市政务服务大厅周六延时至 17:00。</p>"));
    assert!(page.contains("发布日期"));
    assert!(
        page.contains("<a href=\"/sites/city/yaowen\""),
        "breadcrumbs lead to its channel"
    );
    let (_, channel_page) = app.text("/sites/city/yaowen").await;
    assert!(channel_page.contains(&format!("/articles/{id}")));
    let (_, home) = app.text("/").await;
    assert!(
        home.contains(&format!("/articles/{id}")),
        "the home page lists it"
    );
    assert!(!home.contains("正在建设中"));
}

#[tokio::test]
async fn bad_input_comes_back_named_with_everything_typed_kept_and_the_script_removed() {
    let app = TestApp::spawn().await;
    let editor = app
        .staff_in_role("bj.wang", "500000", "content_editor")
        .await;
    let tongzhi = channel(&app, "city", "tongzhi").await;
    let r = post_here(
        &app,
        &editor,
        "/admin/content/new",
        &[
            ("site", "city"),
            ("kind", "news"),
            ("channels", &tongzhi),
            ("title", "带脚本的稿件标题"),
            ("summary", "一句摘要"),
            (
                "body",
                "<p>正文第一段</p><script>alert('x')</script><img src=\"/a.png\">",
            ),
            ("publish_at", "明天上午"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.expect("body");
    for said in ["不安全", "替代文字", "不收录这种类型", "时间格式"] {
        assert!(html.contains(said), "{said} missing");
    }
    assert!(
        html.contains("value=\"带脚本的稿件标题\""),
        "the title is kept"
    );
    assert!(html.contains(">一句摘要</textarea>"), "the summary is kept");
    assert!(html.contains("正文第一段"), "the body is kept");
    assert!(
        !html.contains("<script>alert"),
        "the script is gone, even escaped back"
    );
    assert!(
        !html.contains("&lt;script"),
        "the script is gone from the textarea"
    );
    let n: i64 = zhiban_store::sqlx::query_scalar("SELECT COUNT(*) FROM articles WHERE title = $1")
        .bind("带脚本的稿件标题")
        .fetch_one(app.db.db.pool())
        .await
        .expect("count");
    assert_eq!(n, 0, "nothing stored");
}

#[tokio::test]
async fn review_routes_need_the_review_permission_and_a_reviewer_never_passes_their_own_text() {
    let app = TestApp::spawn().await;
    let editor = app
        .staff_in_role("bj.wang", "500000", "content_editor")
        .await;
    let reviewer = app.staff_in_role("sh.li", "500000", "reviewer").await;
    let yaowen = channel(&app, "city", "yaowen").await;
    let r = post_here(
        &app,
        &reviewer,
        "/admin/content/new",
        &[
            ("site", "city"),
            ("kind", "news"),
            ("channels", &yaowen),
            ("title", "审核员自己写的稿件"),
            ("body", "正文"),
            ("_go", "submit"),
        ],
    )
    .await;
    let id = id_from(&location(&r));
    let (_, html) = app
        .text_with(&reviewer, &format!("/admin/content/{id}"))
        .await;
    assert!(
        !html.contains("name=\"decision\""),
        "no review buttons on one's own text"
    );
    let r = act(&app, &reviewer, &id, "review", &[("decision", "approve")]).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.expect("body").contains("不能审核自己"));
    // An editor does not reach the review route at all.
    let r = act(&app, &editor, &id, "review", &[("decision", "approve")]).await;
    assert_eq!(r.status(), 403);
    let r = act(&app, &editor, &id, "withdraw", &[("note", "x")]).await;
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn a_withdrawn_article_says_so_with_the_reason() {
    let app = TestApp::spawn().await;
    let reviewer = app.staff_in_role("sh.li", "500000", "reviewer").await;
    let id: i64 = zhiban_store::sqlx::query_scalar(
        "SELECT id FROM articles WHERE title LIKE '%元旦放假期间政务服务安排%'",
    )
    .fetch_one(app.db.db.pool())
    .await
    .expect("demo notice");
    let (status, page) = app.text(&format!("/articles/{id}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("演示数据"));
    let id = id.to_string();
    let r = act(&app, &reviewer, &id, "withdraw", &[("note", "")]).await;
    assert_eq!(r.status(), 422, "a reason is required");
    let r = act(
        &app,
        &reviewer,
        &id,
        "withdraw",
        &[("note", "放假安排调整，以新通知为准")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let (status, page) = app.text(&format!("/articles/{id}")).await;
    assert_eq!(status, 410);
    assert!(page.contains("放假安排调整，以新通知为准"));
    assert!(page.contains("已撤回"));
}

#[tokio::test]
async fn site_homes_and_channels_list_what_is_published_with_pages() {
    let app = TestApp::spawn().await;
    let (status, police) = app.text("/sites/police").await;
    assert_eq!(status, 200);
    for channel in ["警务动态", "警情通报", "反诈警示"] {
        assert!(police.contains(channel), "{channel}");
    }
    let (status, page) = app.text("/sites/police/bianmin").await;
    assert_eq!(status, 200);
    assert!(page.contains("交通管制"));
    assert!(
        page.contains("进行中") || page.contains("未开始"),
        "a bulletin says where its period stands"
    );
    assert_eq!(app.get("/sites/nowhere").await.status(), 404);
    assert_eq!(app.get("/sites/city/nowhere").await.status(), 404);
    let (_, police_home) = app.text("/police").await;
    assert!(
        police_home.contains("刷单返利"),
        "反诈警示 on the police home page"
    );
}

#[tokio::test]
async fn search_finds_articles_with_their_kind_date_and_site_and_a_scheduled_one_only_on_time() {
    let app = TestApp::spawn().await;
    // Demo articles are in the index beside the services.
    let (_, page) = app
        .text("/search?q=%E5%88%B7%E5%8D%95%E8%BF%94%E5%88%A9")
        .await; // 刷单返利
    assert!(
        page.contains("%2Farticles%2F") || page.contains("/articles/"),
        "an article is found"
    );
    assert!(page.contains("政务公开信息"), "its kind is named");
    assert!(page.contains("渝州市公安局"), "and its site");
    let (_, only) = app
        .text("/search?q=%E8%BA%AB%E4%BB%BD%E8%AF%81&kind=article")
        .await; // 身份证
    let only = only.replace("<mark>", "").replace("</mark>", "");
    assert!(
        only.contains("居民身份证申领网上预约"),
        "the notice about ID card appointments"
    );
    assert!(
        !only.contains("%2Fservices%2F"),
        "no services when filtered to articles"
    );

    // A scheduled article enters search when it goes online, not before.
    let editor = app
        .staff_in_role("bj.wang", "500000", "content_editor")
        .await;
    let first = app.staff_in_role("sh.li", "500000", "reviewer").await;
    let last = app.staff_in_role("sh.zhao", "500000", "reviewer").await;
    let yaowen = channel(&app, "city", "yaowen").await;
    let tomorrow = zhiban_domain::time::local_time(app.db.db.now().timestamp() + 86_400);
    let at = format!("{}T09:00", &tomorrow[..10]);
    let r = post_here(
        &app,
        &editor,
        "/admin/content/new",
        &[
            ("site", "city"),
            ("kind", "news"),
            ("channels", &yaowen),
            ("title", "渝州市首届数字政府建设成果展开幕"),
            ("body", "展览展示一网通办、一网统管建设成果。"),
            ("publish_at", &at),
            ("_go", "submit"),
        ],
    )
    .await;
    let id = id_from(&location(&r));
    act(&app, &first, &id, "review", &[("decision", "approve")]).await;
    let r = act(&app, &last, &id, "review", &[("decision", "approve")]).await;
    assert!(location(&r).ends_with("done=publish"));
    let query = "/search?q=%E6%95%B0%E5%AD%97%E6%94%BF%E5%BA%9C%E5%BB%BA%E8%AE%BE%E6%88%90%E6%9E%9C%E5%B1%95"; // 数字政府建设成果展
    let (_, before) = app.text(query).await;
    assert!(
        !before.contains(&format!("articles%2F{id}")),
        "scheduled, not yet found"
    );
    assert_eq!(app.get(&format!("/articles/{id}")).await.status(), 404);
    app.db.db.clock().advance(chrono::Duration::days(2));
    app.state.catch_up().await.expect("catch up");
    let (_, after) = app.text(query).await;
    assert!(
        after.contains(&format!("articles%2F{id}")),
        "found once online"
    );
    assert_eq!(app.get(&format!("/articles/{id}")).await.status(), 200);
}

#[tokio::test]
async fn feeds_sitemap_and_structured_data_describe_what_is_published() {
    let app = TestApp::spawn().await;
    let r = app.get("/sites/police/rss.xml").await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("application/rss+xml")
    );
    let rss = r.text().await.expect("rss");
    assert!(rss.starts_with("<?xml"));
    assert!(rss.contains("<title>关于 11 月份全市电信网络诈骗警情的通报</title>"));
    assert!(rss.contains("/articles/"));
    assert!(rss.contains("<pubDate>"));
    let r = app.get("/sites/police/fanzha/atom.xml").await;
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("application/atom+xml")
    );
    let atom = r.text().await.expect("atom");
    assert!(atom.contains("“刷单返利”骗局又出新花样"));
    assert!(
        !atom.contains("关于 11 月份"),
        "a channel's feed holds only that channel"
    );
    assert!(
        atom.contains("&#60;p&#62;") || atom.contains("&lt;p&gt;"),
        "HTML bodies are escaped inside the XML"
    );
    assert!(!atom.contains("<p>"));
    assert_eq!(app.get("/sites/nowhere/rss.xml").await.status(), 404);
    assert_eq!(app.get("/sites/city/nowhere/atom.xml").await.status(), 404);

    // The sitemap: guides and articles; robots.txt points at it.
    let (status, sitemap) = app.text("/sitemap.xml").await;
    assert_eq!(status, 200);
    assert!(sitemap.contains("<urlset"));
    let guide = app.code_of("居民身份证补领").await;
    assert!(sitemap.contains(&format!("/services/{guide}</loc>")));
    assert!(sitemap.contains("/articles/"));
    assert!(sitemap.contains("<lastmod>"));
    let (_, robots) = app.text("/robots.txt").await;
    assert!(robots.contains("/sitemap.xml") && robots.contains("Disallow: /admin"));

    // Pages name their feeds and describe themselves (JSON-LD, Open Graph).
    let (_, channel) = app.text("/sites/city/yaowen").await;
    assert!(channel.contains(r#"type="application/rss+xml""#));
    assert!(channel.contains(r#"href="/sites/city/yaowen/atom.xml""#));
    let (_, page) = app.text(&format!("/services/{guide}")).await;
    let ld = json_ld(&page);
    assert_eq!(ld["@type"], "GovernmentService");
    assert_eq!(ld["name"], "居民身份证补领");
    assert!(page.contains(r#"<meta property="og:title" content="居民身份证补领">"#));
    let id: i64 = zhiban_store::sqlx::query_scalar("SELECT MIN(id) FROM articles")
        .fetch_one(app.db.db.pool())
        .await
        .expect("article");
    let (_, page) = app.text(&format!("/articles/{id}")).await;
    let ld = json_ld(&page);
    assert_eq!(ld["@type"], "NewsArticle");
    assert!(ld["datePublished"].as_str().is_some_and(|d| d.len() == 10));
    assert!(page.contains(r#"<meta property="og:type" content="article">"#));
}

/// The JSON-LD object of a page.
fn json_ld(html: &str) -> serde_json::Value {
    let start = html
        .find(r#"<script type="application/ld+json">"#)
        .expect("a JSON-LD block")
        + r#"<script type="application/ld+json">"#.len();
    let end = html[start..].find("</script>").expect("its end") + start;
    serde_json::from_str(&html[start..end]).expect("valid JSON")
}

#[tokio::test]
async fn site_health_shows_each_rule_with_its_day_for_the_sites_in_scope() {
    let app = TestApp::spawn().await;
    let city = app
        .staff_in_role("bj.wang", "500000", "content_editor")
        .await;
    let (status, page) = app.text_with(&city, "/admin/content/health").await;
    assert_eq!(status, 200);
    for site in [
        "渝州市人民政府",
        "渝州市公安局",
        "渝中区人民政府",
        "江北区人民政府",
    ] {
        assert!(page.contains(site), "{site}");
    }
    assert!(
        page.contains("不达标"),
        "江北区 has not published for weeks"
    );
    assert!(page.contains("将不达标的日期"));
    let district = app.staff_in_role("yz.bj", "500103", "content_editor").await;
    let (_, page) = app.text_with(&district, "/admin/content/health").await;
    assert!(page.contains("渝中区人民政府"));
    assert!(
        !page.contains("江北区人民政府"),
        "another district's site is not shown"
    );
    assert!(!page.contains("id=\"site-city\""));
}

#[tokio::test]
async fn a_site_sets_its_number_of_review_stages_inside_its_scope() {
    let app = TestApp::spawn().await;
    let editor = app
        .staff_in_role("bj.wang", "500000", "content_editor")
        .await;
    let reviewer = app.staff_in_role("sh.li", "500000", "reviewer").await;
    let district = app.staff_in_role("yz.sh", "500103", "reviewer").await;
    // A district reviewer cannot change the city's discipline.
    let r = post_here(
        &app,
        &district,
        "/admin/content/sites",
        &[("site", "city"), ("review_stages", "1")],
    )
    .await;
    assert_eq!(r.status(), 404);
    let r = post_here(
        &app,
        &reviewer,
        "/admin/content/sites",
        &[("site", "city"), ("review_stages", "7")],
    )
    .await;
    assert_eq!(r.status(), 422);
    let r = post_here(
        &app,
        &reviewer,
        "/admin/content/sites",
        &[("site", "city"), ("review_stages", "1")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let (_, page) = app.text_with(&reviewer, "/admin/content/sites").await;
    assert!(page.contains(r#"<option value="1" selected>"#));
    // One stage now: the first approval publishes.
    let yaowen = channel(&app, "city", "yaowen").await;
    let r = post_here(
        &app,
        &editor,
        "/admin/content/new",
        &[
            ("site", "city"),
            ("kind", "news"),
            ("channels", &yaowen),
            ("title", "一级审核即可发布"),
            ("body", "正文"),
            ("_go", "submit"),
        ],
    )
    .await;
    let id = id_from(&location(&r));
    let r = act(&app, &reviewer, &id, "review", &[("decision", "approve")]).await;
    assert!(location(&r).ends_with("done=publish"), "{}", location(&r));
}

#[tokio::test]
async fn the_policy_library_filters_marks_repealed_documents_and_links_both_ways() {
    let app = TestApp::spawn().await;
    let (status, page) = app.text("/policies").await;
    assert_eq!(status, 200);
    assert!(page.contains("渝州市创业担保贷款实施办法"));
    assert!(page.contains("渝州人社发〔2026〕12号"));
    let (_, repealed) = app.text("/policies?validity=repealed").await;
    assert!(repealed.contains("关于做好2025年失业保险稳岗返还工作的通知"));
    assert!(!repealed.contains("关于做好2026年失业保险稳岗返还工作的通知"));
    // As many as the database holds, counted here independently.
    let n: i64 = zhiban_store::sqlx::query_scalar(
        "SELECT COUNT(*) FROM articles WHERE kind = 'policy' AND live_version IS NOT NULL \
         AND fields LIKE '%\"validity\":\"repealed\"%'",
    )
    .fetch_one(app.db.db.pool())
    .await
    .expect("count");
    assert!(n > 1, "the demo library has several repealed documents");
    assert!(repealed.contains(&format!("共 {n} 件")), "{n}");
    let issuer = "/policies?issuer=%E6%B8%9D%E5%B7%9E%E5%B8%82%E6%B0%91%E6%94%BF%E5%B1%80"; // 渝州市民政局
    let (_, by_issuer) = app.text(issuer).await;
    assert!(by_issuer.contains("高龄津贴"));
    assert!(!by_issuer.contains("创业担保贷款实施办法"));

    // A repealed document: readable, marked, pointing to what replaced it.
    let id_of = |title: &'static str| {
        let db = app.db.db.clone();
        async move {
            zhiban_store::sqlx::query_scalar::<_, i64>("SELECT id FROM articles WHERE title = $1")
                .bind(title)
                .fetch_one(db.pool())
                .await
                .expect("article")
        }
    };
    let old = id_of("渝州市人力资源和社会保障局关于做好2025年失业保险稳岗返还工作的通知").await;
    let new = id_of("渝州市人力资源和社会保障局关于做好2026年失业保险稳岗返还工作的通知").await;
    let (status, page) = app.text(&format!("/articles/{old}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("本文件已废止"));
    assert!(page.contains(&format!("href=\"/articles/{new}\"")));
    let (_, page) = app.text(&format!("/articles/{new}")).await;
    assert!(page.contains("渝州人社发〔2026〕12号") && page.contains("有效"));
    assert!(
        page.contains("一图读懂｜2026年稳岗返还（稳岗补贴）政策"),
        "its interpretation"
    );
    assert!(
        page.contains("/services/500000-RS-0003-01"),
        "the services it governs"
    );
    // And the guide shows the policy behind it.
    let (_, guide) = app.text("/services/500000-RS-0008-01").await;
    assert!(guide.contains("相关政策") && guide.contains("渝州市创业担保贷款实施办法"));
    // Search understands the policy's own words.
    let (_, found) = app
        .text("/search?q=%E7%A8%B3%E5%B2%97%E8%A1%A5%E8%B4%B4&kind=article")
        .await; // 稳岗补贴
    let found = found.replace("<mark>", "").replace("</mark>", "");
    assert!(found.contains("失业保险稳岗返还工作的通知"), "the policy");
    assert!(
        found.contains("稳岗返还（稳岗补贴）政策"),
        "and its interpretation"
    );
}

#[tokio::test]
async fn the_interpretation_assistant_drafts_key_points_from_a_policy_for_the_editor() {
    let app = TestApp::spawn().await;
    let editor = app
        .staff_in_role("bj.wang", "500000", "content_editor")
        .await;
    let policy: i64 = zhiban_store::sqlx::query_scalar(
        "SELECT id FROM articles WHERE title = '渝州市创业担保贷款实施办法'",
    )
    .fetch_one(app.db.db.pool())
    .await
    .expect("policy");
    let page = format!("/admin/content/{policy}");
    let r = app
        .submit(&editor, &page, &format!("{page}/interpret"), &[])
        .await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).ends_with("?done=drafted"));
    let (_, html) = app.text_with(&editor, &location(&r)).await;
    assert!(html.contains("已生成解读草稿"));
    assert!(html.contains("政策解读：渝州市创业担保贷款实施办法"));
    // The amounts and the time limit are pulled out under their questions.
    assert!(html.contains("补贴标准") && html.contains("30万元"));
    assert!(html.contains("办理时限") && html.contains("15个工作日"));
    assert!(
        html.contains(&format!("value=\"{policy}\"")),
        "linked to its policy"
    );
    assert!(
        html.contains("草稿"),
        "a draft: nothing is published unread"
    );
    // A news item has no such button, and the route refuses it.
    let news: i64 =
        zhiban_store::sqlx::query_scalar("SELECT MIN(id) FROM articles WHERE kind = 'news'")
            .fetch_one(app.db.db.pool())
            .await
            .expect("news");
    let page = format!("/admin/content/{news}");
    let (_, html) = app.text_with(&editor, &page).await;
    assert!(!html.contains("/interpret"));
    let r = app
        .submit(&editor, &page, &format!("{page}/interpret"), &[])
        .await;
    assert_eq!(r.status(), 409);
}

/// Posts the editor as a browser with files would (multipart), from the
/// page `path` to the same path.
async fn post_files(
    app: &TestApp,
    c: &reqwest::Client,
    path: &str,
    fields: &[(&str, &str)],
    files: &[(&str, &str, &[u8])],
) -> reqwest::Response {
    app.submit_multipart(c, path, path, fields, files).await
}

#[tokio::test]
async fn a_missing_alt_text_and_a_200_mb_attachment_are_named_and_nothing_typed_is_lost() {
    let app = TestApp::spawn().await;
    let editor = app
        .staff_in_role("bj.wang", "500000", "content_editor")
        .await;
    let tongzhi = channel(&app, "city", "tongzhi").await;
    let huge = vec![b'%'; 200 * 1024 * 1024];
    let r = post_files(
        &app,
        &editor,
        "/admin/content/new",
        &[
            ("site", "city"),
            ("kind", "notice"),
            ("channels", &tongzhi),
            ("title", "关于公布2026年部门预算的通知"),
            ("body", "现将 2026 年部门预算予以公开，详见附件。"),
            ("new_video_alt", "预算说明视频"),
        ],
        &[
            ("new_image", "预算图解.png", zhiban_testing::samples::PNG),
            ("new_attachment", "2026年部门预算.pdf", &huge),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.expect("body");
    assert!(
        html.contains("图片说明：不能为空"),
        "the alt text is asked for"
    );
    assert!(
        html.contains("不能超过 50 MB"),
        "the limit is named for the oversized file"
    );
    assert!(html.contains("value=\"关于公布2026年部门预算的通知\""));
    assert!(html.contains("现将 2026 年部门预算予以公开"));
    assert!(
        html.contains("value=\"预算说明视频\""),
        "what was typed beside the files is kept"
    );
    let n: i64 = zhiban_store::sqlx::query_scalar("SELECT COUNT(*) FROM article_files")
        .fetch_one(app.db.db.pool())
        .await
        .expect("count");
    assert_eq!(n, 0);
}

#[tokio::test]
async fn attachments_show_their_type_and_size_and_citizens_download_the_approved_ones() {
    let app = TestApp::spawn().await;
    let editor = app
        .staff_in_role("bj.wang", "500000", "content_editor")
        .await;
    let first = app.staff_in_role("sh.li", "500000", "reviewer").await;
    let last = app.staff_in_role("sh.zhao", "500000", "reviewer").await;
    let tongzhi = channel(&app, "city", "tongzhi").await;
    let r = post_files(
        &app,
        &editor,
        "/admin/content/new",
        &[
            ("site", "city"),
            ("kind", "notice"),
            ("channels", &tongzhi),
            ("title", "渝州市2025年市级“三公”经费决算情况说明"),
            (
                "body",
                "现将 2025 年市级“三公”经费决算情况公开如下，明细见附件。",
            ),
            ("new_image_alt", "2025年三公经费构成饼图"),
            ("_go", "submit"),
        ],
        &[
            (
                "new_attachment",
                "三公经费决算表.xlsx",
                zhiban_testing::samples::XLSX,
            ),
            ("new_image", "构成.png", zhiban_testing::samples::PNG),
        ],
    )
    .await;
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    let id = id_from(&location(&r));
    let (_, page) = app
        .text_with(&editor, &format!("/admin/content/{id}"))
        .await;
    assert!(page.contains("三公经费决算表.xlsx") && page.contains("Excel"));
    assert!(page.contains("2025年三公经费构成饼图"));
    let (_, preview) = app
        .text_with(&editor, &format!("/admin/content/{id}/preview"))
        .await;
    assert!(preview.contains(&format!("/admin/content/{id}/files/")));
    assert_eq!(
        app.get(&format!("/articles/{id}")).await.status(),
        404,
        "not public before review"
    );
    for reviewer in [&first, &last] {
        let r = act(&app, reviewer, &id, "review", &[("decision", "approve")]).await;
        assert_eq!(r.status(), 303);
    }
    let (status, public) = app.text(&format!("/articles/{id}")).await;
    assert_eq!(status, 200);
    assert!(
        public.contains("附件") && public.contains("（Excel，1 KB）"),
        "type and size"
    );
    assert!(public.contains("alt=\"2025年三公经费构成饼图\""));
    let attachments = public
        .split("id=\"files-title\"")
        .nth(1)
        .expect("attachments");
    let href = attachments
        .split(&format!("href=\"/articles/{id}/files/"))
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a file link")
        .to_string();
    let r = app.get(&format!("/articles/{id}/files/{href}")).await;
    assert_eq!(r.status(), 200);
    let disposition = r
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert_eq!(
        r.bytes().await.expect("body").as_ref(),
        zhiban_testing::samples::XLSX
    );
    // A file id of another article is not served under this one.
    assert_eq!(
        app.get(&format!("/articles/{id}/files/999999"))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn a_reviewer_sees_what_changed_against_the_published_version() {
    let app = TestApp::spawn().await;
    let editor = app
        .staff_in_role("bj.wang", "500000", "content_editor")
        .await;
    let first = app.staff_in_role("sh.li", "500000", "reviewer").await;
    let last = app.staff_in_role("sh.zhao", "500000", "reviewer").await;
    let yaowen = channel(&app, "city", "yaowen").await;
    let fields = |body: &'static str| {
        vec![
            ("site", "city"),
            ("kind", "news"),
            ("title", "高校毕业生求职创业补贴开始申领"),
            ("body", body),
            ("_go", "submit"),
        ]
    };
    let mut f = fields("补贴标准为每人500元。\n\n咨询电话12345。");
    f.push(("channels", &yaowen));
    let r = post_here(&app, &editor, "/admin/content/new", &f).await;
    let id = id_from(&location(&r));
    for reviewer in [&first, &last] {
        act(&app, reviewer, &id, "review", &[("decision", "approve")]).await;
    }
    let (_, html) = app
        .text_with(&editor, &format!("/admin/content/{id}"))
        .await;
    let revision = hidden(&html, "revision");
    let mut f = fields("补贴标准为每人800元。\n\n咨询电话12345。\n\n申领截至12月31日。");
    f.push(("channels", &yaowen));
    f.push(("revision", &revision));
    let r = app
        .submit(
            &editor,
            &format!("/admin/content/{id}"),
            &format!("/admin/content/{id}"),
            &f,
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, page) = app.text_with(&first, &format!("/admin/content/{id}")).await;
    assert!(page.contains(&format!("/admin/content/{id}/diff")));
    let (status, diff) = app
        .text_with(&first, &format!("/admin/content/{id}/diff"))
        .await;
    assert_eq!(status, 200);
    assert!(diff.contains("版本对比"));
    assert!(
        diff.contains("<del>5</del>") && diff.contains("<ins>8</ins>"),
        "the changed figure is marked"
    );
    assert!(
        diff.contains("申领截至12月31日。"),
        "the new paragraph is listed"
    );
    assert!(
        !diff.contains("id=\"d-title\""),
        "an unchanged title is not listed"
    );
}

#[tokio::test]
async fn a_reviewer_adds_and_renames_channels_of_their_own_site() {
    let app = TestApp::spawn().await;
    let reviewer = app.staff_in_role("sh.li", "500000", "reviewer").await;
    let district = app.staff_in_role("yz.sh", "500103", "reviewer").await;
    let sites = "/admin/content/sites";
    let post = |c: &'static str| {
        [
            ("site", "city"),
            ("id", "new"),
            ("code", c),
            ("name", "人事信息"),
            ("kind", "notice"),
            ("stale_days", "90"),
            ("lead", "公务员招录、事业单位招聘和任前公示。"),
        ]
    };
    // Another site's reviewer cannot add to the city's channels.
    let r = app
        .submit(
            &district,
            sites,
            "/admin/content/sites/channels",
            &post("renshi"),
        )
        .await;
    assert_eq!(r.status(), 404);
    // A bad code comes back named, with what was typed.
    let r = app
        .submit(
            &reviewer,
            sites,
            "/admin/content/sites/channels",
            &post("人事 Info"),
        )
        .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.expect("body");
    assert!(html.contains("栏目代码："), "the code is named");
    assert!(html.contains("公务员招录、事业单位招聘和任前公示。</textarea>"));
    let r = app
        .submit(
            &reviewer,
            sites,
            "/admin/content/sites/channels",
            &post("renshi"),
        )
        .await;
    assert_eq!(r.status(), 303);
    let (status, page) = app.text("/sites/city/renshi").await;
    assert_eq!(status, 200);
    assert!(page.contains("人事信息") && page.contains("公务员招录"));
    // The same code twice is refused.
    let r = app
        .submit(
            &reviewer,
            sites,
            "/admin/content/sites/channels",
            &post("renshi"),
        )
        .await;
    assert_eq!(r.status(), 422);

    // A channel with articles keeps its kind; its name can change.
    let yaowen = channel(&app, "city", "yaowen").await;
    for (kind, status) in [("notice", 422), ("news", 303)] {
        let r = app
            .submit(
                &reviewer,
                sites,
                "/admin/content/sites/channels",
                &[
                    ("site", "city"),
                    ("id", yaowen.as_str()),
                    ("code", "yaowen"),
                    ("name", "渝州要闻"),
                    ("kind", kind),
                    ("stale_days", "7"),
                    ("lead", ""),
                ],
            )
            .await;
        assert_eq!(r.status(), status, "{kind}");
        if status == 422 {
            assert!(r.text().await.expect("body").contains("不能改变类型"));
        }
    }
    let (_, page) = app.text("/sites/city/yaowen").await;
    assert!(page.contains("渝州要闻"));
}

#[tokio::test]
async fn an_interpretation_comes_with_its_picture_and_the_same_words_as_text() {
    let app = TestApp::spawn().await;
    let of_kind = |kind: &'static str| {
        let pool = app.db.db.pool().clone();
        async move {
            zhiban_store::sqlx::query_scalar::<_, i64>(
                "SELECT MIN(id) FROM articles WHERE kind = $1 AND live_version IS NOT NULL",
            )
            .bind(kind)
            .fetch_one(&pool)
            .await
            .expect("demo article")
        }
    };
    let reading = of_kind("interpretation").await;
    let (_, page) = app.text(&format!("/articles/{reading}")).await;
    let src = format!("/articles/{reading}/graphic.svg");
    assert!(page.contains(&format!("src=\"{src}\"")));
    assert!(
        page.contains("图中内容与本页正文相同。"),
        "the alt text points to the text"
    );
    let r = app.get(&src).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("image/svg+xml"))
    );
    let svg = r.text().await.expect("svg");
    assert!(svg.contains("<title id=\"g-title\">一图读懂") && svg.contains("<desc"));
    assert!(!svg.contains("<script"));
    let news = of_kind("news").await;
    assert_eq!(
        app.get(&format!("/articles/{news}/graphic.svg"))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn a_reviewer_opens_a_site_for_a_unit_in_scope_and_adds_its_first_channel() {
    let app = TestApp::spawn().await;
    let city = app.staff_in_role("sh.li", "500000", "reviewer").await;
    let district = app.staff_in_role("yz.sh", "500103", "reviewer").await;
    let sites = "/admin/content/sites";
    let spb = app.unit_id("500106").await.to_string();
    let form = |unit: &str, code: &str| {
        vec![
            ("code".to_string(), code.to_string()),
            ("name".to_string(), "沙坪坝区人民政府".to_string()),
            ("unit".to_string(), unit.to_string()),
            ("review_stages".to_string(), "1".to_string()),
        ]
    };
    let post = |c: &reqwest::Client, f: Vec<(String, String)>| {
        let pairs: Vec<(String, String)> = f;
        let c = c.clone();
        let app = &app;
        async move {
            let refs: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            app.submit(&c, sites, "/admin/content/sites/new", &refs)
                .await
        }
    };
    // 渝中区's reviewer cannot open a site for 沙坪坝区.
    let r = post(&district, form(&spb, "500106")).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.expect("body").contains("所属单位："));
    // A code already used is refused, with what was typed kept.
    let r = post(&city, form(&spb, "police")).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.expect("body");
    assert!(html.contains("站点代码：") && html.contains("value=\"沙坪坝区人民政府\""));
    let r = post(&city, form(&spb, "500106")).await;
    assert_eq!(r.status(), 303);
    let (status, page) = app.text("/sites/500106").await;
    assert_eq!(status, 200);
    assert!(page.contains("沙坪坝区人民政府"));
    let r = app
        .submit(
            &city,
            sites,
            "/admin/content/sites/channels",
            &[
                ("site", "500106"),
                ("id", "new"),
                ("code", "dongtai"),
                ("name", "区县动态"),
                ("kind", "news"),
                ("stale_days", "14"),
                ("lead", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, page) = app.text("/sites/500106").await;
    assert!(page.contains("区县动态"));
}

#[tokio::test]
async fn search_narrows_articles_by_when_they_were_published() {
    let app = TestApp::spawn().await;
    let (_, all) = app.text("/search?q=%E9%80%9A%E7%BC%89&kind=article").await; // 通缉
    assert!(all.contains("发布时间") && all.contains("一个月内"));
    assert!(all.contains("犯罪嫌疑人王某某的通告") && all.contains("犯罪嫌疑人张某某的通告"));
    // 王某某's notice is nine days old, 张某某's seven weeks (demo data).
    let (_, month) = app
        .text("/search?q=%E9%80%9A%E7%BC%89&kind=article&period=month")
        .await;
    assert!(month.contains("犯罪嫌疑人王某某的通告"));
    assert!(!month.contains("犯罪嫌疑人张某某的通告"));
    assert!(
        month.contains("aria-current=\"true\" class=\"facet-active\">一个月内"),
        "the chosen period is marked"
    );
    // A period keeps to dated content: services drop out.
    let (_, services) = app
        .text("/search?q=%E8%BA%AB%E4%BB%BD%E8%AF%81&period=year")
        .await; // 身份证
    assert!(!services.contains("href=\"/services/500000-GA-HZ-0001-03\""));
}
