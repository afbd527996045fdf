//! Staff pages: access control, sign-in, editing with validation and
//! history, publishing, and import/export, over real HTTP.

use std::collections::BTreeSet;

use reqwest::Method;
use zhiban_domain::identity::Perm;
use zhiban_testing::{TestApp, hidden, html::editor_fields};

/// Every staff route from the route table, with sample path parameters.
fn staff_requests(code: &str) -> Vec<(Method, String, Option<Perm>)> {
    let mut out = Vec::new();
    for r in zhiban_web::staff_routes() {
        let path = r
            .path
            .replace("{code}", code)
            .replace("{id}", "1")
            .replace("{number}", "ZB2026010100001");
        for m in &r.methods {
            out.push((m.clone(), path.clone(), r.perm));
        }
    }
    out
}

async fn send(
    client: &reqwest::Client,
    app: &zhiban_testing::TestApp,
    m: &Method,
    path: &str,
) -> reqwest::Response {
    let req = if *m == Method::GET {
        client.get(app.url(path))
    } else {
        client.post(app.url(path)).form(&[("_csrf", "x")])
    };
    req.send().await.expect("request")
}

#[tokio::test]
async fn every_staff_route_sends_anonymous_visitors_to_sign_in() {
    let app = TestApp::spawn().await;
    let code = app.code_of("身份证").await;
    let routes = staff_requests(&code);
    assert!(routes.len() > 20, "the table lists the staff routes");
    for (m, path, _) in routes {
        let r = send(&app.client, &app, &m, &path).await;
        assert_eq!(r.status().as_u16(), 303, "{m} {path}");
        let loc = r.headers()["location"].to_str().expect("location");
        assert!(loc.starts_with("/admin/login?"), "{m} {path} → {loc}");
    }
}

#[tokio::test]
async fn staff_past_only_the_password_are_sent_to_the_second_factor_everywhere() {
    let app = TestApp::spawn().await;
    let code = app.code_of("身份证").await;
    let (_, page) = app.text("/admin/login").await;
    let csrf = hidden(&page, "_csrf");
    let r = app
        .post_form(
            "/admin/login",
            &[
                ("username", zhiban_testing::ADMIN),
                ("password", zhiban_testing::ADMIN_PASSWORD),
                ("_csrf", csrf.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    for (m, path, _) in staff_requests(&code) {
        let r = send(&app.client, &app, &m, &path).await;
        assert_eq!(r.status().as_u16(), 303, "{m} {path}");
        let loc = r.headers()["location"].to_str().expect("location");
        assert!(loc.starts_with("/admin/login/verify"), "{m} {path} → {loc}");
    }
}

#[tokio::test]
async fn every_staff_route_refuses_staff_without_its_permission() {
    let app = TestApp::spawn().await;
    let code = app.code_of("身份证").await;
    let requests = staff_requests(&code);
    let needed: BTreeSet<Perm> = requests.iter().filter_map(|r| r.2).collect();
    for (n, perm) in needed.iter().enumerate() {
        // Someone holding every permission except this one.
        let all_but: Vec<Perm> = Perm::ALL.iter().copied().filter(|p| p != perm).collect();
        let client = app.staff_with(&format!("lacks{n}"), "", &all_but).await;
        for (m, path, p) in &requests {
            let r = send(&client, &app, m, path).await;
            if *p == Some(*perm) {
                assert_eq!(
                    r.status().as_u16(),
                    403,
                    "{m} {path} without {}",
                    perm.slug()
                );
                let body = r.text().await.expect("body");
                assert!(
                    body.contains("您的角色没有此项权限"),
                    "{m} {path}: clear message"
                );
            } else if r
                .headers()
                .get("content-type")
                .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"))
            {
                // A live stream (the agent desk's queue) lets them in and
                // stays open: past the guard is all there is to see.
                assert_eq!(r.status().as_u16(), 200, "{m} {path}");
            } else {
                // Other routes let them past the guard (POSTs then stop at
                // the made-up form token, which is a different refusal).
                let body = r.text().await.expect("body");
                assert!(
                    !body.contains("您的角色没有此项权限"),
                    "{m} {path} is not about {}",
                    perm.slug()
                );
            }
        }
    }
    // Each refusal is on the audit record.
    let (rows, total) = zhiban_domain::audit::search(
        &app.db.db,
        &zhiban_domain::audit::Filter {
            action: "access.denied".into(),
            ..Default::default()
        },
        1,
        0,
    )
    .await
    .expect("audit");
    assert!(total >= needed.len() as i64);
    assert_eq!(rows[0].outcome, "refused");
}

#[tokio::test]
async fn a_forged_session_cookie_is_not_a_session() {
    let app = TestApp::spawn().await;
    let r = zhiban_testing::client()
        .get(app.url("/admin/services"))
        .header("cookie", "zb_staff=0000")
        .send()
        .await
        .expect("get");
    assert_eq!(r.status().as_u16(), 303);
}

#[tokio::test]
async fn sign_in_needs_the_form_token() {
    let app = TestApp::spawn().await;
    let r = app
        .post_form(
            "/admin/login",
            &[
                ("username", zhiban_testing::ADMIN),
                ("password", zhiban_testing::ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 403);
}

#[tokio::test]
async fn a_wrong_password_gets_a_message_that_does_not_say_which_part_was_wrong() {
    let app = TestApp::spawn().await;
    for user in [zhiban_testing::ADMIN, "nobody"] {
        let (_, page) = app.text("/admin/login").await;
        let csrf = hidden(&page, "_csrf");
        let r = app
            .post_form(
                "/admin/login",
                &[
                    ("username", user),
                    ("password", "wrong"),
                    ("_csrf", csrf.as_str()),
                ],
            )
            .await;
        assert_eq!(r.status().as_u16(), 401);
        let html = r.text().await.expect("body");
        assert!(html.contains("用户名或密码不正确"), "{user}");
        assert!(
            html.contains(&format!("value=\"{user}\"")),
            "user name kept"
        );
    }
}

#[tokio::test]
async fn one_address_gets_ten_sign_in_attempts_a_minute_then_a_clear_refusal() {
    let app = TestApp::spawn().await;
    let (_, page) = app.text("/admin/login").await;
    let csrf = hidden(&page, "_csrf");
    let form = [
        ("username", "someone"),
        ("password", "wrong"),
        ("_csrf", csrf.as_str()),
    ];
    let attempt = || app.post_form("/admin/login", &form);
    for _ in 0..10 {
        assert_eq!(attempt().await.status().as_u16(), 401);
    }
    let r = attempt().await;
    assert_eq!(r.status().as_u16(), 429);
    assert!(r.text().await.expect("body").contains("请一分钟后再试"));
    // Reading the sign-in page is not an attempt.
    assert_eq!(app.get("/admin/login").await.status().as_u16(), 200);
}

#[tokio::test]
async fn the_audit_log_page_verifies_the_chain_and_a_cli_check_agrees() {
    let app = TestApp::spawn().await;
    app.login().await;
    // 三员分立: the system administrator does not read the audit log.
    assert_eq!(app.get("/admin/audit").await.status().as_u16(), 403);
    let auditor = app.staff_in_role("city.auditor", "", "auditor").await;
    let (status, html) = app
        .text_with(&auditor, "/admin/audit?action=staff.login")
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("登录"), "sign-ins are listed");
    let csrf = hidden(&html, "_csrf");
    let r = auditor
        .post(app.url("/admin/audit/verify"))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.expect("body").contains("审计日志完整"));
    // Tamper with a record: the page names it.
    zhiban_store::sqlx::query("UPDATE audit_log SET actor = 'nobody' WHERE seq = 1")
        .execute(app.db.db.pool())
        .await
        .expect("tamper");
    let r = auditor
        .post(app.url("/admin/audit/verify"))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .expect("post");
    let body = r.text().await.expect("body");
    assert!(
        body.contains("审计日志完整性校验未通过"),
        "tampering is reported"
    );
    assert!(body.contains("记录内容被篡改"));
}

#[tokio::test]
async fn signing_in_and_out() {
    let app = TestApp::spawn().await;
    app.login().await;
    let (status, html) = app.text("/admin/services").await;
    assert_eq!(status, 200);
    assert!(html.contains("测试管理员"));
    let csrf = hidden(&html, "_csrf");
    let r = app
        .post_form("/admin/logout", &[("_csrf", csrf.as_str())])
        .await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(app.get("/admin/services").await.status().as_u16(), 303);
}

#[tokio::test]
async fn staff_forms_without_the_session_token_are_refused() {
    let app = TestApp::spawn().await;
    app.login().await;
    let code = app.code_of("居民身份证补领").await;
    let r = app
        .post_form(
            &format!("/admin/services/{code}/unpublish"),
            &[("_csrf", "forged")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 403);
    assert!(app.state.catalog().get(&code).is_some(), "still published");
}

async fn editor(app: &zhiban_testing::TestApp, code: &str) -> (String, Vec<(String, String)>) {
    let (status, html) = app.text(&format!("/admin/services/{code}/edit")).await;
    assert_eq!(status, 200);
    let mut fields = editor_fields(&html);
    fields.push(("_csrf".into(), hidden(&html, "_csrf")));
    fields.push(("version".into(), hidden(&html, "version")));
    (html, fields)
}

fn set(fields: &mut [(String, String)], key: &str, value: &str) {
    let f = fields.iter_mut().find(|(k, _)| k == key).expect("field");
    f.1 = value.to_string();
}

#[tokio::test]
async fn an_edit_published_from_the_editor_shows_on_the_public_page_at_once() {
    let app = TestApp::spawn().await;
    app.login().await;
    let code = app.code_of("居民身份证补领").await;
    // Seen once before the edit, so a stale cached page would show.
    let (_, public) = app.text(&format!("/services/{code}")).await;
    assert!(!public.contains("丢失补办"));
    let (_, mut fields) = editor(&app, &code).await;
    set(&mut fields, "name", "居民身份证补领（丢失补办）");
    fields.push(("action".into(), "publish".into()));
    fields.push(("note".into(), "名称更通俗".into()));
    let r = app
        .post_form(&format!("/admin/services/{code}/edit"), &fields)
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, public) = app.text(&format!("/services/{code}")).await;
    assert!(public.contains("居民身份证补领（丢失补办）"));
    // Search sees the new name at once, without a restart.
    let (_, found) = app
        .json("/api/v1/search?q=%E4%B8%A2%E5%A4%B1%E8%A1%A5%E5%8A%9E&limit=3")
        .await;
    assert_eq!(found["results"][0]["title"], "居民身份证补领（丢失补办）");
    let (_, history) = app.text(&format!("/admin/services/{code}/history")).await;
    assert!(history.contains("名称更通俗"));
    assert!(history.contains("class=\"before\">居民身份证补领</td>"));
    assert!(history.contains("class=\"after\">居民身份证补领（丢失补办）</td>"));
}

#[tokio::test]
async fn invalid_edits_are_explained_keep_what_was_typed_and_change_nothing() {
    let app = TestApp::spawn().await;
    app.login().await;
    let code = app.code_of("居民身份证补领").await;
    let before = app.state.catalog().get(&code).cloned().expect("item");
    let (_, mut fields) = editor(&app, &code).await;
    set(&mut fields, "name", "新名称但时限有误");
    set(&mut fields, "promised_limit_days", "999");
    set(&mut fields, "materials", "户口簿|扫描件|1|是|");
    fields.push(("action".into(), "publish".into()));
    let r = app
        .post_form(&format!("/admin/services/{code}/edit"), &fields)
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.expect("body");
    assert!(html.contains("承诺时限不能大于法定时限"));
    assert!(html.contains("格式应为"));
    assert!(
        html.contains("value=\"新名称但时限有误\""),
        "typed text kept"
    );
    assert!(html.contains("aria-invalid=\"true\""));
    let stored = zhiban_domain::catalog::get_service(&app.db.db, &code)
        .await
        .expect("get");
    assert_eq!(stored.name, before.name);
    assert_eq!(stored.version, before.version);
}

#[tokio::test]
async fn saving_over_someone_elses_newer_edit_is_refused() {
    let app = TestApp::spawn().await;
    app.login().await;
    let code = app.code_of("居民身份证补领").await;
    let (_, mut fields) = editor(&app, &code).await;
    fields.push(("action".into(), "draft".into()));
    let first = app
        .post_form(&format!("/admin/services/{code}/edit"), &fields)
        .await;
    assert_eq!(first.status().as_u16(), 303);
    set(&mut fields, "name", "迟到的修改");
    let second = app
        .post_form(&format!("/admin/services/{code}/edit"), &fields)
        .await;
    assert_eq!(second.status().as_u16(), 409);
    assert!(second.text().await.expect("body").contains("其他人已修改"));
}

#[tokio::test]
async fn saving_as_draft_withdraws_and_publishing_restores_the_public_page() {
    let app = TestApp::spawn().await;
    app.login().await;
    let code = app.code_of("出生登记").await;
    let (_, mut fields) = editor(&app, &code).await;
    fields.push(("action".into(), "draft".into()));
    app.post_form(&format!("/admin/services/{code}/edit"), &fields)
        .await;
    assert_eq!(app.text(&format!("/services/{code}")).await.0, 404);
    let (_, history) = app.text(&format!("/admin/services/{code}/history")).await;
    let csrf = hidden(&history, "_csrf");
    let r = app
        .post_form(
            &format!("/admin/services/{code}/publish"),
            &[("_csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(app.text(&format!("/services/{code}")).await.0, 200);
}

#[tokio::test]
async fn a_new_item_can_be_created_and_published() {
    let app = TestApp::spawn().await;
    app.login().await;
    let (_, html) = app.text("/admin/services/new").await;
    let csrf = hidden(&html, "_csrf");
    let dept = app.state.catalog().services[0].department_code.clone();
    let form = [
        ("_csrf", csrf.as_str()),
        ("version", "0"),
        ("action", "publish"),
        ("main_code", "TEST-0001"),
        ("main_name", "测试主项"),
        ("code", "TEST-0001-01"),
        ("name", "渝州市测试事项"),
        ("handling_kind", "新办"),
        ("item_type", "公共服务"),
        ("department", dept.as_str()),
        ("implementing_body", "渝州市测试中心"),
        ("legal_basis", "《测试条例》第一条"),
        ("audience", "个人"),
        ("life_events", "就业"),
        ("police_domain", ""),
        ("conditions", "年满18周岁"),
        ("materials", "居民身份证|原件|1|是|"),
        ("steps", "申请|网上提交\r\n办结|即时办结"),
        ("legal_limit_days", "5"),
        ("promised_limit_days", "0"),
        ("fees", "不收费"),
        ("fee_basis", ""),
        ("place", "渝州市政务服务中心"),
        ("hours", "工作日"),
        ("visits", "0"),
        ("online", "是"),
        ("enquiry_phone", "023-12345678"),
        ("complaint_phone", "12345"),
        ("high_frequency", "否"),
    ];
    let r = app.post_form("/admin/services/new", &form).await;
    assert_eq!(r.status().as_u16(), 303);
    let (status, html) = app.text("/services/TEST-0001-01").await;
    assert_eq!(status, 200);
    assert!(html.contains("渝州市测试事项"));
    assert!(html.contains("即时办结"));
    // The same code again is refused.
    let again = app.post_form("/admin/services/new", &form).await;
    assert_eq!(again.status().as_u16(), 409);
    assert!(
        again
            .text()
            .await
            .expect("body")
            .contains("该事项编码已存在")
    );
}

async fn upload(app: &zhiban_testing::TestApp, name: &str, bytes: Vec<u8>) -> (u16, String) {
    let (_, page) = app.text("/admin/import").await;
    let csrf = hidden(&page, "_csrf");
    let form = reqwest::multipart::Form::new().text("_csrf", csrf).part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
    );
    let r = app
        .client
        .post(app.url("/admin/import"))
        .multipart(form)
        .send()
        .await
        .expect("upload");
    (r.status().as_u16(), r.text().await.expect("body"))
}

async fn export(app: &zhiban_testing::TestApp, format: &str) -> Vec<u8> {
    let r = app.get(&format!("/admin/export?format={format}")).await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .expect("disposition")
            .starts_with("attachment")
    );
    r.bytes().await.expect("bytes").to_vec()
}

#[tokio::test]
async fn an_uploaded_file_with_a_bad_row_names_the_row_and_imports_nothing() {
    let app = TestApp::spawn().await;
    app.login().await;
    let csv = export(&app, "csv").await;
    let mut reader = csv::Reader::from_reader(&csv[3..]);
    let header = reader.headers().expect("header").clone();
    let mut rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    let name_col = header
        .iter()
        .position(|h| h == "事项名称")
        .expect("name col");
    let limit_col = header
        .iter()
        .position(|h| h == "法定时限")
        .expect("limit col");
    let renamed_code = rows[0][2].to_string();
    let mut r0: Vec<String> = rows[0].iter().map(str::to_string).collect();
    r0[name_col] = "不应生效的改名".into();
    rows[0] = csv::StringRecord::from(r0);
    let mut r4: Vec<String> = rows[4].iter().map(str::to_string).collect();
    r4[limit_col] = "十五天".into();
    rows[4] = csv::StringRecord::from(r4);
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&header).expect("header");
    for r in &rows {
        w.write_record(r).expect("row");
    }
    let (status, html) = upload(&app, "目录.csv", w.into_inner().expect("bytes")).await;
    assert_eq!(status, 422);
    assert!(
        html.contains("<th scope=\"row\">6</th>"),
        "spreadsheet row 6 named"
    );
    assert!(html.contains("法定时限"));
    assert!(html.contains("未导入任何数据"));
    let stored = zhiban_domain::catalog::get_service(&app.db.db, &renamed_code)
        .await
        .expect("get");
    assert_ne!(stored.name, "不应生效的改名");
}

#[tokio::test]
async fn an_exported_workbook_imports_back_and_applies_changes() {
    let app = TestApp::spawn().await;
    app.login().await;
    let xlsx = export(&app, "xlsx").await;
    let (status, html) = upload(&app, "catalog.xlsx", xlsx).await;
    assert_eq!(status, 200, "{html}");
    let total = zhiban_domain::catalog::list_services(&app.db.db, None)
        .await
        .expect("list")
        .len();
    assert!(html.contains(&format!("更新 {total} 项")));
    assert!(html.contains("新增 0 项"));
}

#[tokio::test]
async fn uploads_of_other_file_types_are_refused_clearly() {
    let app = TestApp::spawn().await;
    app.login().await;
    let (status, html) = upload(&app, "catalog.pdf", b"%PDF-1.4".to_vec()).await;
    assert_eq!(status, 422);
    assert!(html.contains("只支持 .csv 和 .xlsx 文件"));
    let (status, html) = upload(&app, "catalog.xlsx", b"not a zip".to_vec()).await;
    assert_eq!(status, 422);
    assert!(html.contains("无法读取"));
}

#[tokio::test]
async fn the_staff_list_filters_by_status_and_text() {
    let app = TestApp::spawn().await;
    app.login().await;
    let (_, html) = app.text("/admin/services?status=draft").await;
    let drafts = zhiban_domain::catalog::list_services(
        &app.db.db,
        Some(zhiban_domain::catalog::Status::Draft),
    )
    .await
    .expect("drafts");
    assert!(html.contains(&format!("共 {} 项", drafts.len())));
    let (_, html) = app.text("/admin/services?q=身份证").await;
    assert!(html.contains("居民身份证补领"));
    assert!(!html.contains("失业保险金"));
}

#[tokio::test]
async fn a_synonym_staff_add_changes_search_at_once() {
    let app = TestApp::spawn().await;
    app.login().await;
    let (_, before) = app
        .json("/api/v1/search?q=%E5%B0%8F%E7%8B%97%E4%B8%8A%E6%88%B7&limit=3")
        .await;
    assert!(
        !before["results"][0]["title"]
            .as_str()
            .is_some_and(|t| t.contains("犬只"))
    );
    let (_, page) = app.text("/admin/search").await;
    let csrf = hidden(&page, "_csrf");
    let r = app
        .post_form(
            "/admin/search/synonyms",
            &[
                ("_csrf", csrf.as_str()),
                ("phrase", "小狗上户"),
                ("replacement", "犬只登记"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, after) = app
        .json("/api/v1/search?q=%E5%B0%8F%E7%8B%97%E4%B8%8A%E6%88%B7&limit=3")
        .await;
    assert!(
        after["results"][0]["title"]
            .as_str()
            .is_some_and(|t| t.contains("犬只")),
        "{after}"
    );
    // The staff page explains how the query is now understood.
    let (_, page) = app.text("/admin/search?try=小狗上户").await;
    assert!(page.contains("犬只登记"));
    // Removing it restores the old behaviour.
    let id_start = page.find("/admin/search/synonyms/").expect("delete form") + 23;
    let id: String = page[id_start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let r = app
        .post_form(
            &format!("/admin/search/synonyms/{id}/delete"),
            &[("_csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, again) = app
        .json("/api/v1/search?q=%E5%B0%8F%E7%8B%97%E4%B8%8A%E6%88%B7&limit=3")
        .await;
    assert_eq!(again["results"][0]["title"], before["results"][0]["title"]);
}

#[tokio::test]
async fn an_empty_synonym_is_refused_with_a_message() {
    let app = TestApp::spawn().await;
    app.login().await;
    let (_, page) = app.text("/admin/search").await;
    let csrf = hidden(&page, "_csrf");
    let r = app
        .post_form(
            "/admin/search/synonyms",
            &[
                ("_csrf", csrf.as_str()),
                ("phrase", "小狗"),
                ("replacement", " "),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.expect("body");
    assert!(html.contains("不能为空"));
    assert!(html.contains("value=\"小狗\""), "typed phrase kept");
}

#[tokio::test]
async fn search_analytics_count_searches_empty_results_and_clicks() {
    let app = TestApp::spawn().await;
    let anon = zhiban_testing::client();
    for q in ["犬只登记", "护照", "护照", "量子纠缠望远镜"] {
        anon.get(app.url(&format!("/search?q={}", zhiban_testing::urlencode(q))))
            .send()
            .await
            .expect("search");
    }
    // Open the first result of the last 护照 search.
    let html = anon
        .get(app.url("/search?q=%E6%8A%A4%E7%85%A7"))
        .send()
        .await
        .expect("search")
        .text()
        .await
        .expect("body");
    let start = html.find("/search/go?sid=").expect("tracked link");
    let end = html[start..].find('"').expect("quote") + start;
    let link = zhiban_testing::unescape(&html[start..end]);
    let r = anon.get(app.url(&link)).send().await.expect("click");
    assert_eq!(r.status().as_u16(), 303);
    assert!(
        r.headers()["location"]
            .to_str()
            .expect("loc")
            .starts_with("/services/")
    );
    app.login().await;
    let (_, page) = app.text("/admin/search").await;
    assert!(
        page.contains("护照</a></th><td>3</td><td>0</td><td>1</td><td>33%</td>"),
        "{page}"
    );
    assert!(page.contains("量子纠缠望远镜"));
    // One visitor's searches never make a hot search (犬只登记 is no
    // staple): that takes many people and a staff approval.
    let (_, public) = app.text("/search").await;
    assert!(!public.contains(">犬只登记</a>"));
}

#[tokio::test]
async fn search_clicks_never_redirect_off_site() {
    let app = TestApp::spawn().await;
    let r = app.get("/search/go?sid=1&to=https://evil.example/").await;
    assert_eq!(r.headers()["location"], "/");
}

#[tokio::test]
async fn another_node_catches_up_from_the_change_log() {
    let app = TestApp::spawn().await;
    // A second node on the same database.
    let other = zhiban_web::AppState::new(app.db.db.clone(), zhiban_web::WebConfig::default())
        .await
        .expect("second node");
    let code = app.code_of("居民身份证补领").await;
    let mut item = zhiban_domain::catalog::get_service(&app.db.db, &code)
        .await
        .expect("item");
    let version = item.version;
    item.name = "居民身份证补领（异地可办）".into();
    // Written through the first node's domain call, as another node would.
    zhiban_domain::catalog::save_service(
        &app.db.db,
        &item,
        zhiban_domain::catalog::SaveMode::Update {
            expected_version: version,
        },
        &zhiban_domain::ActorName("node-a".into()),
        "",
    )
    .await
    .expect("saved");
    let find = |state: &zhiban_web::AppState| {
        state
            .search
            .search(&zhiban_search::SearchQuery {
                text: "异地可办".into(),
                limit: 3,
                ..Default::default()
            })
            .expect("search")
            .hits
            .iter()
            .any(|h| h.doc.title == "居民身份证补领（异地可办）")
    };
    assert!(!find(&other), "not seen before catching up");
    assert_eq!(other.catch_up().await.expect("catch up"), 1);
    assert!(find(&other));
    assert_eq!(
        other
            .catalog()
            .get(&code)
            .map(|s| s.name.clone())
            .as_deref(),
        Some("居民身份证补领（异地可办）")
    );
    // Nothing new: nothing applied again.
    assert_eq!(other.catch_up().await.expect("catch up"), 0);
    // Withdrawn on one node, gone from the other's search.
    zhiban_domain::catalog::set_status(
        &app.db.db,
        &code,
        zhiban_domain::catalog::Status::Draft,
        &zhiban_domain::ActorName("node-a".into()),
    )
    .await
    .expect("withdrawn");
    other.catch_up().await.expect("catch up");
    assert!(!find(&other));
    // Synonyms follow the same way.
    zhiban_domain::search_terms::save_synonym(
        &app.db.db,
        &app.admin_session().await,
        "毛孩子登记",
        "犬只登记",
    )
    .await
    .expect("synonym");
    other.catch_up().await.expect("catch up");
    assert!(
        other
            .search
            .understand("毛孩子登记")
            .rewritten
            .contains("犬只登记")
    );
}

#[tokio::test]
async fn staff_with_a_passkey_are_offered_it_as_the_second_factor() {
    let app = TestApp::spawn().await;
    // First sign-in: the enrolment page offers a passkey instead of an app.
    let (_, page) = app.text("/admin/login").await;
    let csrf = hidden(&page, "_csrf");
    app.post_form(
        "/admin/login",
        &[
            ("username", zhiban_testing::ADMIN),
            ("password", zhiban_testing::ADMIN_PASSWORD),
            ("_csrf", csrf.as_str()),
        ],
    )
    .await;
    let (_, verify) = app.text("/admin/login/verify").await;
    assert!(
        verify.contains("totp-secret"),
        "an authenticator app can be bound"
    );
    assert!(
        verify.contains("/admin/passkeys/begin"),
        "or a passkey added instead"
    );

    // Once a passkey is registered (stored as the library keeps it), the
    // page asks for it; a one-time code is no longer offered.
    let admin_id: i64 =
        zhiban_store::sqlx::query_scalar("SELECT id FROM staff_users WHERE username = $1")
            .bind(zhiban_testing::ADMIN)
            .fetch_one(app.db.db.pool())
            .await
            .expect("admin");
    zhiban_store::sqlx::query(
        "INSERT INTO staff_passkeys (staff_id, cred_id, passkey, name, created_at) VALUES ($1, 'x', '{}', 'key', 0)",
    )
    .bind(admin_id)
    .execute(app.db.db.pool())
    .await
    .expect("passkey row");
    let (_, verify) = app.text("/admin/login/verify").await;
    assert!(verify.contains("/admin/login/verify/passkey/begin"));
    assert!(
        !verify.contains("name=\"code\""),
        "no code form without an app"
    );
    // Adding another passkey before finishing the sign-in is refused.
    let csrf = hidden(&verify, "_csrf");
    let r = app
        .client
        .post(app.url("/admin/passkeys/begin"))
        .json(&serde_json::json!({ "_csrf": csrf }))
        .send()
        .await
        .expect("begin");
    assert_eq!(r.status().as_u16(), 403);
}

#[tokio::test]
async fn units_added_or_renamed_in_the_org_tree_show_on_the_public_pages_at_once() {
    let app = TestApp::spawn().await;
    app.login().await;
    let (status, page) = app.text("/admin/org").await;
    assert_eq!(status, 200);
    let csrf = hidden(&page, "_csrf");
    let yuzhong: i64 =
        zhiban_store::sqlx::query_scalar("SELECT id FROM departments WHERE code = '500103'")
            .fetch_one(app.db.db.pool())
            .await
            .expect("渝中区");
    let parent = yuzhong.to_string();
    // A bad code is explained and nothing is added.
    let r = app
        .post_form(
            "/admin/org",
            &[
                ("_csrf", csrf.as_str()),
                ("parent_id", parent.as_str()),
                ("unit_code", "bad code"),
                ("unit_name", "渝中区医疗保障局"),
                ("unit_level", "部门"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(
        r.text().await.expect("body").contains("渝中区医疗保障局"),
        "what was typed is kept"
    );
    let r = app
        .post_form(
            "/admin/org",
            &[
                ("_csrf", csrf.as_str()),
                ("parent_id", parent.as_str()),
                ("unit_code", "500103-YB"),
                ("unit_name", "渝中区医疗保障局"),
                ("unit_level", "部门"),
                ("phone", "023-63800000"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, public) = app.text("/departments").await;
    assert!(
        public.contains("渝中区医疗保障局"),
        "the public org tree shows the new unit"
    );

    // Renaming it.
    let id: i64 =
        zhiban_store::sqlx::query_scalar("SELECT id FROM departments WHERE code = '500103-YB'")
            .fetch_one(app.db.db.pool())
            .await
            .expect("unit");
    let id = id.to_string();
    let r = app
        .post_form(
            "/admin/org",
            &[
                ("_csrf", csrf.as_str()),
                ("id", id.as_str()),
                ("unit_name", "渝中区医保局"),
                ("phone", "023-63800001"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, public) = app.text("/departments").await;
    assert!(public.contains("渝中区医保局") && !public.contains("渝中区医疗保障局"));
    let (rows, _) = zhiban_domain::audit::search(
        &app.db.db,
        &zhiban_domain::audit::Filter {
            action: "org.".into(),
            ..Default::default()
        },
        5,
        0,
    )
    .await
    .expect("audit");
    assert_eq!(rows.len(), 2);
}

#[tokio::test]
async fn the_staff_list_warns_about_an_account_that_both_audits_and_administers() {
    use zhiban_domain::identity::Perm;
    let app = TestApp::spawn().await;
    app.login().await;
    let (_, page) = app.text("/admin/staff").await;
    assert!(
        !page.contains("不符合三员分立要求"),
        "the demo city is separated"
    );
    // A fixture no real account could grant: audit viewing with account
    // management.
    app.staff_with("both.hats", "", &[Perm::AuditView, Perm::StaffManage])
        .await;
    app.staff_in_role("city.auditor", "", "auditor").await;
    // (Making fixtures signs the administrator in elsewhere, which ends
    // this session: sign in again.)
    app.login().await;
    let (_, page) = app.text("/admin/staff").await;
    assert!(
        page.contains("1 个账号同时拥有审计查阅和管理权限"),
        "{page}"
    );
    let row = page
        .split("<tr")
        .find(|r| r.contains("both.hats"))
        .expect("row");
    assert!(row.contains("不符合三员分立要求"));
    let row = page
        .split("<tr")
        .find(|r| r.contains("city.auditor"))
        .expect("row");
    assert!(
        !row.contains("不符合三员分立要求"),
        "an auditor alone is fine"
    );
}

#[tokio::test]
async fn district_accounts_see_city_wide_settings_read_only() {
    use zhiban_domain::identity::Perm;
    let app = TestApp::spawn().await;
    let district = app
        .staff_with(
            "yz.admin",
            "500103",
            &[Perm::CasesConfigure, Perm::SearchManage, Perm::OidcClients],
        )
        .await;
    let forms = [
        ("/admin/notify", "通知文字为全市统一设置", "/admin/notify"),
        (
            "/admin/search",
            "同义词对全市搜索生效",
            "/admin/search/synonyms",
        ),
        ("/admin/oidc", "接入应用与签名密钥为全市共用", "/admin/oidc"),
    ];
    for (path, notice, action) in forms {
        let (status, page) = app.text_with(&district, path).await;
        assert_eq!(status, 200, "{path}");
        assert!(page.contains(notice), "{path} says why");
        assert!(
            !page.contains(&format!("method=\"post\" action=\"{action}")),
            "{path} offers no form that would be refused"
        );
    }
    app.login().await;
    for (path, _, action) in forms {
        let (_, page) = app.text(path).await;
        assert!(
            page.contains(&format!("method=\"post\" action=\"{action}")),
            "{path} is editable for the city"
        );
    }
}

#[tokio::test]
async fn the_form_of_an_unpublished_item_is_prepared_before_it_goes_online() {
    let app = TestApp::spawn().await;
    app.login().await;
    let code = app.code_of("居民身份证补领").await;
    let r = app
        .submit(
            &app.client,
            "/admin/services",
            &format!("/admin/services/{code}/unpublish"),
            &[],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(
        app.get(&format!("/services/{code}"))
            .await
            .status()
            .as_u16(),
        404
    );
    let (status, page) = app.text(&format!("/admin/services/{code}/form")).await;
    assert_eq!(status, 200, "a draft item's form opens in the editor");
    assert!(page.contains("居民身份证补领"));
}

/// An item's English name shows on the English pages (with the Chinese
/// under it), and its other names (俗称) typed in the editor find it in
/// search at once.
#[tokio::test]
async fn english_names_show_in_english_and_other_names_find_the_item() {
    let app = TestApp::spawn().await;
    app.login().await;
    let code = app.code_of("居民身份证补领").await;
    let en = |path: String| {
        let app = &app;
        async move {
            app.client
                .get(app.url(&path))
                .header("cookie", "zb_lang=en")
                .send()
                .await
                .expect("get")
                .text()
                .await
                .expect("body")
        }
    };
    // The demo gives every item an English name.
    let page = en(format!("/services/{code}")).await;
    assert!(
        page.contains(
            "<h1 id=\"guide-title\">Resident Identity Card Replacement (lost or stolen)</h1>"
        ),
        "{page}"
    );
    assert!(page.contains("<p class=\"guide-name-zh\" lang=\"zh-Hans\">居民身份证补领</p>"));
    // The Chinese page keeps the Chinese name alone.
    let (_, zh) = app.text(&format!("/services/{code}")).await;
    assert!(!zh.contains("Resident Identity Card Replacement"));

    let (_, mut fields) = editor(&app, &code).await;
    set(&mut fields, "name_en", "ID Card Replacement");
    set(
        &mut fields,
        "aliases",
        "掉了身份证、身份证不见了\n身份证不见了",
    );
    fields.push(("action".into(), "publish".into()));
    let r = app
        .post_form(&format!("/admin/services/{code}/edit"), &fields)
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let stored = zhiban_domain::catalog::get_service(&app.db.db, &code)
        .await
        .expect("get");
    // Kept once each, in order.
    assert_eq!(stored.aliases, vec!["掉了身份证", "身份证不见了"]);
    let page = en(format!("/services/{code}")).await;
    assert!(page.contains(">ID Card Replacement</h1>"));
    let (_, found) = app
        .json("/api/v1/search?q=%E8%BA%AB%E4%BB%BD%E8%AF%81%E4%B8%8D%E8%A7%81%E4%BA%86&limit=3")
        .await;
    assert_eq!(found["results"][0]["title"], "居民身份证补领", "{found}");
    // Too long an alias is explained, nothing saved.
    let (_, mut fields) = editor(&app, &code).await;
    set(&mut fields, "aliases", &"长".repeat(61));
    fields.push(("action".into(), "publish".into()));
    let r = app
        .post_form(&format!("/admin/services/{code}/edit"), &fields)
        .await;
    assert_eq!(r.status().as_u16(), 422);
}

/// A synonym learned from the search log (#19): three people searched the
/// same words and opened the same item; the page suggests it, and once
/// accepted the words find that item first, at once.
#[tokio::test]
async fn a_synonym_learned_from_searches_applies_once_staff_accept_it() {
    let app = TestApp::spawn().await;
    app.login().await;
    let db = &app.db.db;
    let code: String =
        zhiban_store::sqlx::query_scalar("SELECT code FROM services WHERE name = $1")
            .bind("基本养老保险待遇申领（退休）")
            .fetch_one(db.pool())
            .await
            .unwrap();
    let target = format!("/services/{code}");
    const Q: &str = "每个月领的那笔钱";
    let api = format!(
        "/api/v1/search?q={}&limit=3",
        Q.bytes().map(|b| format!("%{b:02X}")).collect::<String>()
    );
    let (_, before) = app.json(&api).await;
    assert_ne!(
        before["results"][0]["url"].as_str(),
        Some(target.as_str()),
        "{before}"
    );
    for i in 0..zhiban_domain::search_terms::LEARN_MIN_CLIENTS {
        let id =
            zhiban_domain::search_terms::log_search(db, Q, 3, &format!("10.1.0.{i}"), db.now())
                .await
                .unwrap();
        zhiban_domain::search_terms::log_click(db, id, &target, db.now())
            .await
            .unwrap();
    }
    let (_, page) = app.text("/admin/search").await;
    assert!(
        page.contains(Q) && page.contains("基本养老保险待遇申领（退休）"),
        "{page}"
    );
    let csrf = hidden(&page, "_csrf");
    let r = app
        .post_form(
            "/admin/search/learned",
            &[
                ("_csrf", csrf.as_str()),
                ("query", Q),
                ("target", target.as_str()),
                ("decision", "accept"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, after) = app.json(&api).await;
    assert_eq!(
        after["results"][0]["url"].as_str(),
        Some(target.as_str()),
        "{after}"
    );
    let (_, page) = app.text("/admin/search").await;
    assert!(
        page.contains("暂时没有可学习的说法"),
        "accepted, it leaves the suggestions"
    );
}
