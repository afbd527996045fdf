//! Electronic licenses over real HTTP: staff issue one (and see their bad
//! input come back kept and explained), the holder finds it in the wallet,
//! downloads and shares it, anyone checks it by number, QR page, API or
//! uploaded file; tampering, revocation, masking for staff without
//! `citizens.view`, CSV import, and 免证办 in an application.

use std::collections::BTreeMap;

use reqwest::multipart::{Form, Part};
use zhiban_domain::identity::Perm;
use zhiban_domain::licenses::{self, IssueInput};
use zhiban_store::sqlx;
use zhiban_testing::html::*;
use zhiban_testing::*;

const PHONE: &str = "13900002222";
const NAME: &str = "张三";
const ID_NUMBER: &str = "11010519491231002X";
const MASKED_ID: &str = "110***********002X";
const UNIT: &str = "500000-GA-HZ";
const PNG: &[u8] = zhiban_testing::samples::PNG;

/// Issues a license through the domain, as the administrator, from [`UNIT`].
async fn issue(app: &TestApp, type_code: &str, fields: &[(&str, &str)]) -> String {
    let admin = app.admin_session().await;
    let input = IssueInput {
        type_code: type_code.into(),
        holder_name: NAME.into(),
        holder_id_number: ID_NUMBER.into(),
        fields: fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        issued_on: None,
        expires_on: None,
    };
    licenses::issue(&app.db.db, &admin, app.unit_id(UNIT).await, &input)
        .await
        .expect("issued")
        .doc
        .number
}

async fn id_card(app: &TestApp) -> String {
    issue(
        app,
        "id_card",
        &[
            ("gender", "男"),
            ("ethnicity", "汉"),
            ("birth", "1949-12-31"),
            ("address", "渝州市渝中区民族路 1 号"),
        ],
    )
    .await
}

#[tokio::test]
async fn staff_issue_a_license_after_fixing_their_input_and_the_holder_and_the_public_see_it() {
    let app = TestApp::spawn().await;
    let citizen = app.verified_citizen(PHONE, NAME, ID_NUMBER).await;
    app.login().await;
    let (status, page) = app.text("/admin/licenses/new").await;
    assert_eq!(status, 200);
    assert!(page.contains("第一步：选择证照类型") && page.contains("居民身份证"));
    assert!(
        !page.contains("name=\"holder_name\""),
        "fields come after the type"
    );
    let (_, page) = app.text("/admin/licenses/new?type=id_card").await;
    assert!(page.contains("民族") && page.contains("住址") && page.contains("name=\"unit_id\""));
    let csrf = hidden(&page, "_csrf");
    let unit = app.unit_id(UNIT).await.to_string();

    let r = app
        .post_form(
            "/admin/licenses/new",
            &[
                ("_csrf", csrf.as_str()),
                ("type_code", "id_card"),
                ("unit_id", unit.as_str()),
                ("holder_name", ""),
                ("holder_id_number", "110105194912310021"),
                ("f.gender", "男"),
                ("f.ethnicity", ""),
                ("f.birth", "1949-12-31"),
                ("f.address", "渝州市渝中区民族路 1 号"),
                ("issued_on", "2026-03-01"),
                ("expires_on", "2026-02-01"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.expect("body");
    for message in [
        "持证人：不能为空",
        "身份证号码不正确",
        "民族：不能为空",
        "有效期至必须晚于签发日期",
    ] {
        assert!(html.contains(message), "the summary says {message}");
    }
    assert!(html.contains("id=\"error-summary\"") && html.contains("href=\"#l-f-ethnicity\""));
    for kept in [
        "value=\"110105194912310021\"",
        "value=\"渝州市渝中区民族路 1 号\"",
        "value=\"2026-03-01\"",
        "value=\"2026-02-01\"",
    ] {
        assert!(html.contains(kept), "the form keeps {kept}");
    }
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM licenses")
        .fetch_one(app.db.db.pool())
        .await
        .expect("count");
    assert_eq!(count, 0, "nothing issued from bad input");

    let r = app
        .post_form(
            "/admin/licenses/new",
            &[
                ("_csrf", csrf.as_str()),
                ("type_code", "id_card"),
                ("unit_id", unit.as_str()),
                ("holder_name", NAME),
                ("holder_id_number", ID_NUMBER),
                ("f.gender", "男"),
                ("f.ethnicity", "汉"),
                ("f.birth", "1949-12-31"),
                ("f.address", "渝州市渝中区民族路 1 号"),
                ("issued_on", ""),
                ("expires_on", ""),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let to = location(&r);
    assert!(
        to.starts_with("/admin/licenses/ZZ") && to.ends_with("?done=issued"),
        "{to}"
    );
    let number = to
        .trim_start_matches("/admin/licenses/")
        .trim_end_matches("?done=issued")
        .to_string();
    assert!(licenses::number_ok(&number), "{number}");
    let (status, detail) = app.text(&to).await;
    assert_eq!(status, 200);
    assert!(detail.contains("证照已签发") && detail.contains("有效") && detail.contains(ID_NUMBER));
    let (_, list) = app.text(&format!("/admin/licenses?q={ID_NUMBER}")).await;
    assert!(list.contains(&number) && list.contains(MASKED_ID) && list.contains("张*"));

    // The holder finds it in the wallet, told by a message.
    let (status, wallet) = app.text_with(&citizen, "/my/licenses").await;
    assert_eq!(status, 200);
    assert!(wallet.contains(&number) && wallet.contains("居民身份证") && wallet.contains("有效"));
    let (_, account) = app.text_with(&citizen, "/account").await;
    assert!(
        account.contains("href=\"/my/licenses\""),
        "linked from the account centre"
    );
    let (status, mine) = app
        .text_with(&citizen, &format!("/my/licenses/{number}"))
        .await;
    assert_eq!(status, 200);
    assert!(
        mine.contains(ID_NUMBER),
        "the holder sees their own data in full"
    );
    assert!(
        mine.contains("data:image/svg+xml") && mine.contains(&format!("/licenses/verify/{number}"))
    );
    let r = citizen
        .get(app.url(&format!("/my/licenses/{number}/download")))
        .send()
        .await
        .expect("download");
    assert_eq!(r.status().as_u16(), 200);
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .expect("header")
        .to_string();
    assert_eq!(
        disposition,
        format!("attachment; filename=\"{number}.json\"")
    );
    let file = r.text().await.expect("file");
    let offline = licenses::verify_export(&file, chrono::Local::now().date_naive()).expect("file");
    assert_eq!(offline.status, licenses::Status::Valid);
    let (_, inbox) = app.text_with(&citizen, "/my/messages").await;
    assert!(inbox.contains("您的电子居民身份证已签发"));

    // Anyone: the QR page, the number form, the API.
    let stranger = zhiban_testing::client();
    let (status, public) = app
        .text_with(&stranger, &format!("/licenses/verify/{number}"))
        .await;
    assert_eq!(status, 200);
    assert!(public.contains("有效") && public.contains("签发机关的数字签名验证通过"));
    assert!(public.contains(MASKED_ID) && public.contains("张*"));
    assert!(!public.contains(ID_NUMBER) && !public.contains(NAME));
    assert!(public.contains("SM2-with-SM3") || public.contains("Ed25519"));
    let r = stranger
        .get(app.url(&format!(
            "/licenses/verify?number={}",
            number.to_lowercase()
        )))
        .send()
        .await
        .expect("lookup");
    assert_eq!(location(&r), format!("/licenses/verify/{number}"));
    let (status, _) = app
        .text_with(&stranger, "/licenses/verify?number=ZZ123")
        .await;
    assert_eq!(
        status, 422,
        "a mistyped number is caught by its check character"
    );
    let (status, body) = app.json(&format!("/api/v1/licenses/{number}/verify")).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "valid");
    assert_eq!(body["holder_id"], MASKED_ID);
    assert_eq!(body["number"], number.as_str());

    let unknown = licenses::new_number(chrono::Local::now().date_naive());
    let (status, page) = app
        .text_with(&stranger, &format!("/licenses/verify/{unknown}"))
        .await;
    assert_eq!(status, 404);
    assert!(page.contains("未找到该证照"));
    let (status, body) = app
        .json(&format!("/api/v1/licenses/{unknown}/verify"))
        .await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");

    let r = app
        .client
        .post(app.url("/api/v1/licenses/verify"))
        .header("content-type", "application/json")
        .body(file)
        .send()
        .await
        .expect("api");
    assert_eq!(r.status().as_u16(), 200);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["status"], "valid");
    assert_eq!(body["online_status"], "valid");
    assert_eq!(body["number"], number.as_str());
    assert_eq!(body["issuer_key_matches"], true);
    assert_eq!(body["key_fingerprint"].as_str().map(str::len), Some(16));
}

#[tokio::test]
async fn a_license_row_changed_in_the_database_reads_as_tampered_everywhere() {
    let app = TestApp::spawn().await;
    let number = id_card(&app).await;
    sqlx::query("UPDATE licenses SET holder_name = $1 WHERE number = $2")
        .bind("李四")
        .bind(&number)
        .execute(app.db.db.pool())
        .await
        .expect("tamper");
    let (status, page) = app.text(&format!("/licenses/verify/{number}")).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("数据被篡改，验证失败"),
        "the public page says tampered"
    );
    assert!(!page.contains("签发机关的数字签名验证通过"));
    let (_, body) = app.json(&format!("/api/v1/licenses/{number}/verify")).await;
    assert_eq!(body["status"], "tampered");
    assert_eq!(body["status_label"], "数据被篡改，验证失败");
}

/// Posts a license file to the public upload form (with its form token).
async fn upload(app: &TestApp, c: &reqwest::Client, text: &str) -> (u16, String) {
    let (status, page) = app.text_with(c, "/licenses/verify").await;
    assert_eq!(status, 200);
    let form = Form::new().text("_csrf", hidden(&page, "_csrf")).part(
        "file",
        Part::bytes(text.as_bytes().to_vec()).file_name("license.json"),
    );
    let r = c
        .post(app.url("/licenses/verify"))
        .multipart(form)
        .send()
        .await
        .expect("upload");
    let status = r.status().as_u16();
    (status, r.text().await.expect("body"))
}

#[tokio::test]
async fn an_uploaded_license_file_is_checked_and_a_changed_one_reads_as_tampered() {
    let app = TestApp::spawn().await;
    let number = id_card(&app).await;
    let lic = licenses::by_number(&app.db.db, &number)
        .await
        .expect("q")
        .expect("license");
    let file = licenses::export(&app.db.db, &lic, &app.base)
        .await
        .expect("export");
    let text = serde_json::to_string_pretty(&file).expect("json");
    let visitor = zhiban_testing::client();

    let (status, page) = upload(&app, &visitor, &text).await;
    assert_eq!(status, 200);
    assert!(page.contains("证照文件核验结果") && page.contains("签发机关的数字签名验证通过"));
    assert!(page.contains("与文件一致") && page.contains(MASKED_ID) && !page.contains(ID_NUMBER));

    let forged = text.replacen(NAME, "李四", 1);
    assert_ne!(forged, text);
    let (status, page) = upload(&app, &visitor, &forged).await;
    assert_eq!(status, 200);
    assert!(page.contains("数据被篡改，验证失败"));
    let r = visitor
        .post(app.url("/api/v1/licenses/verify"))
        .body(forged)
        .send()
        .await
        .expect("api");
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["status"], "tampered");
    assert_eq!(
        body["online_status"], "valid",
        "the portal's record is intact"
    );

    let (status, page) = upload(&app, &visitor, "{\"not\": \"a license\"}").await;
    assert_eq!(status, 422);
    assert!(page.contains("不是本网站下载的电子证照文件"));
    let r = visitor
        .post(app.url("/api/v1/licenses/verify"))
        .body("nonsense")
        .send()
        .await
        .expect("api");
    assert_eq!(r.status().as_u16(), 400);

    // Without the page's form token the upload is refused.
    let stranger = zhiban_testing::client();
    let form = Form::new().text("_csrf", "x").part(
        "file",
        Part::bytes(text.as_bytes().to_vec()).file_name("license.json"),
    );
    let r = stranger
        .post(app.url("/licenses/verify"))
        .multipart(form)
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status().as_u16(), 403);
}

#[tokio::test]
async fn a_revoked_license_reads_as_revoked_and_its_holder_is_told() {
    let app = TestApp::spawn().await;
    let citizen = app.verified_citizen(PHONE, NAME, ID_NUMBER).await;
    let number = id_card(&app).await;
    app.login().await;
    let path = format!("/admin/licenses/{number}");
    let (_, page) = app.text(&path).await;
    assert!(page.contains("吊销证照"));
    let csrf = hidden(&page, "_csrf");
    let r = app
        .post_form(
            &format!("{path}/revoke"),
            &[("_csrf", csrf.as_str()), ("reason", "  ")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422, "a reason is required");
    assert!(r.text().await.expect("body").contains("不能为空"));
    let r = app
        .post_form(
            &format!("{path}/revoke"),
            &[("_csrf", csrf.as_str()), ("reason", "证件信息登记错误")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, page) = app.text(&location(&r)).await;
    assert!(page.contains("证照已吊销") && page.contains("证件信息登记错误"));
    assert!(
        !page.contains("action=\"/admin/licenses/"),
        "no second revoke form"
    );

    let (_, public) = app
        .text_with(
            &zhiban_testing::client(),
            &format!("/licenses/verify/{number}"),
        )
        .await;
    assert!(public.contains("已吊销") && public.contains("证件信息登记错误"));
    let (_, body) = app.json(&format!("/api/v1/licenses/{number}/verify")).await;
    assert_eq!(body["status"], "revoked");
    let (_, inbox) = app.text_with(&citizen, "/my/messages").await;
    assert!(inbox.contains("您的居民身份证已被吊销") && inbox.contains("证件信息登记错误"));
    let (_, wallet) = app.text_with(&citizen, "/my/licenses").await;
    assert!(wallet.contains("已吊销"));

    let r = app
        .post_form(
            &format!("{path}/revoke"),
            &[("_csrf", csrf.as_str()), ("reason", "再次吊销")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.expect("body").contains("此前已被吊销"));
}

/// The link shown after making a share, and the hash the stop form sends.
fn shared_link(html: &str) -> String {
    let marker = "id=\"share-link\" type=\"text\" readonly value=\"";
    let start = html.find(marker).expect("the new link is shown") + marker.len();
    let end = html[start..].find('"').expect("quote") + start;
    unescape(&html[start..end])
}

#[tokio::test]
async fn a_shared_link_shows_the_license_until_it_is_stopped_or_expires() {
    let app = TestApp::spawn().await;
    let citizen = app.verified_citizen(PHONE, NAME, ID_NUMBER).await;
    let number = id_card(&app).await;
    let page_path = format!("/my/licenses/{number}");
    let (_, page) = app.text_with(&citizen, &page_path).await;
    let csrf = hidden(&page, "_csrf");
    let share_path = format!("{page_path}/share");
    let r = citizen
        .post(app.url(&share_path))
        .form(&[("_csrf", csrf.as_str()), ("hours", "5")])
        .send()
        .await
        .expect("share");
    assert_eq!(r.status().as_u16(), 422, "only the offered periods");
    let r = citizen
        .post(app.url(&share_path))
        .form(&[("_csrf", csrf.as_str()), ("hours", "1")])
        .send()
        .await
        .expect("share");
    assert_eq!(r.status().as_u16(), 200);
    let html = r.text().await.expect("body");
    assert!(html.contains("链接只显示这一次") && html.contains("1 小时"));
    let link = shared_link(&html);
    let path = link
        .strip_prefix(&app.base)
        .expect("a link to this portal")
        .to_string();
    assert!(path.starts_with("/licenses/shared/"), "{path}");

    let viewer = zhiban_testing::client();
    let (status, shown) = app.text_with(&viewer, &path).await;
    assert_eq!(status, 200);
    assert!(shown.contains("有效") && shown.contains(NAME) && shown.contains("渝中区"));
    assert!(
        shown.contains(MASKED_ID) && !shown.contains(ID_NUMBER),
        "the ID number is masked"
    );

    let (_, mine) = app.text_with(&citizen, &page_path).await;
    assert!(mine.contains("停止分享") && mine.contains("已查看 1 次"));
    assert!(mine.contains("分享链接被查看") && mine.contains(">分享<"));
    assert!(!mine.contains(&link), "the link itself is shown only once");
    let r = citizen
        .post(app.url(&format!("{page_path}/unshare")))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("token_hash", hidden(&mine, "token_hash").as_str()),
        ])
        .send()
        .await
        .expect("unshare");
    assert_eq!(r.status().as_u16(), 303);
    let (status, gone) = app.text_with(&viewer, &path).await;
    assert_eq!(status, 404);
    assert!(gone.contains("链接已失效") && !gone.contains(MASKED_ID));

    // A second link lapses on its own.
    let r = citizen
        .post(app.url(&share_path))
        .form(&[("_csrf", csrf.as_str()), ("hours", "168")])
        .send()
        .await
        .expect("share");
    let path = shared_link(&r.text().await.expect("body"))
        .strip_prefix(&app.base)
        .expect("link")
        .to_string();
    assert_eq!(app.text_with(&viewer, &path).await.0, 200);
    // A week later it has lapsed.
    app.db
        .db
        .clock()
        .advance(chrono::Duration::hours(168) + chrono::Duration::seconds(1));
    assert_eq!(app.text_with(&viewer, &path).await.0, 404);
}

#[tokio::test]
async fn shared_link_views_are_limited_per_address() {
    // The setting, not a constant, decides (the default is 60).
    let per_minute = 7;
    let app = TestApp::spawn_with(zhiban_web::WebConfig {
        security: zhiban_domain::identity::SecurityPolicy {
            lookups_per_minute: per_minute,
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let visitor = zhiban_testing::client();
    let mut statuses = Vec::new();
    for i in 0..=per_minute {
        statuses.push(
            app.text_with(&visitor, &format!("/licenses/shared/nope{i}"))
                .await
                .0,
        );
    }
    assert!(statuses[..statuses.len() - 1].iter().all(|s| *s == 404));
    assert_eq!(statuses.last(), Some(&429));
}

#[tokio::test]
async fn staff_without_citizens_view_see_masked_data_and_others_no_licenses_at_all() {
    let app = TestApp::spawn().await;
    let number = id_card(&app).await;
    let path = format!("/admin/licenses/{number}");

    let masked = app
        .staff_with("lic.masked", UNIT, &[Perm::LicensesManage])
        .await;
    let (status, page) = app.text_with(&masked, &path).await;
    assert_eq!(status, 200);
    assert!(page.contains("已脱敏显示，查看完整信息需要“查看群众个人信息”权限"));
    assert!(page.contains(MASKED_ID) && page.contains("张*"));
    assert!(
        !page.contains(ID_NUMBER) && !page.contains(NAME),
        "nothing in full"
    );
    assert!(
        !page.contains("民族路"),
        "fields may name people: masked too"
    );

    let full = app
        .staff_with(
            "lic.full",
            UNIT,
            &[Perm::LicensesManage, Perm::CitizensView],
        )
        .await;
    let (_, page) = app.text_with(&full, &path).await;
    assert!(page.contains(ID_NUMBER) && page.contains(NAME) && !page.contains("已脱敏显示"));
    let viewed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'license.view' AND actor = 'lic.full'",
    )
    .fetch_one(app.db.db.pool())
    .await
    .expect("audit");
    assert_eq!(viewed, 1, "a full view is on the audit record");

    let clerk = app.staff_with("lic.none", UNIT, &[Perm::CasesHandle]).await;
    for p in ["/admin/licenses", path.as_str(), "/admin/licenses/new"] {
        let (status, page) = app.text_with(&clerk, p).await;
        assert_eq!(status, 403, "{p}");
        assert!(page.contains("您的角色没有此项权限"));
    }
    let (_, bar) = app.text_with(&clerk, "/admin/cases").await;
    assert!(
        !bar.contains("href=\"/admin/licenses\""),
        "no menu link without the permission"
    );
    let (_, bar) = app.text_with(&masked, "/admin/licenses").await;
    assert!(bar.contains("href=\"/admin/licenses\""));
}

#[tokio::test]
async fn a_csv_import_with_one_bad_line_issues_nothing_and_a_good_one_issues_all() {
    let app = TestApp::spawn().await;
    app.login().await;
    let (status, page) = app.text("/admin/licenses/import").await;
    assert_eq!(status, 200);
    assert!(page.contains("证照类型,持证人,证件号码,签发日期,有效期至"));
    let csrf = hidden(&page, "_csrf");
    let unit = app.unit_id(UNIT).await.to_string();
    let post = |csv: String| {
        let form = Form::new()
            .text("_csrf", csrf.clone())
            .text("unit_id", unit.clone())
            .part(
                "file",
                Part::bytes(csv.into_bytes()).file_name("licenses.csv"),
            );
        app.client
            .post(app.url("/admin/licenses/import"))
            .multipart(form)
            .send()
    };
    let header = "证照类型,持证人,证件号码,签发日期,有效期至,性别,民族,出生,住址\n";
    let bad = format!(
        "{header}居民身份证,张三,{ID_NUMBER},2026-01-05,,男,汉,1949-12-31,渝中区\n\
         居民身份证,李四,110105194912310021,2026-13-01,,女,汉,1990-01-01,渝北区\n\
         户口本,王五,{ID_NUMBER},,,,,,\n"
    );
    let r = post(bad).await.expect("import");
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.expect("body");
    assert!(html.contains("有 2 行有误，整份文件未导入"), "{html}");
    assert!(html.contains("<th scope=\"row\">3</th>") && html.contains("身份证号码不正确"));
    assert!(html.contains("日期格式应为"));
    assert!(html.contains("<th scope=\"row\">4</th>") && html.contains("没有这种证照类型"));
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM licenses")
        .fetch_one(app.db.db.pool())
        .await
        .expect("count");
    assert_eq!(count, 0, "all or nothing");

    let good = format!(
        "{header}居民身份证,张三,{ID_NUMBER},2026-01-05,,男,汉,1949-12-31,渝中区\n\
         居民身份证,李四,110105199001010037,,,女,汉,1990-01-01,渝北区\n"
    );
    let r = post(good).await.expect("import");
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(location(&r), "/admin/licenses?imported=2");
    let (_, list) = app.text("/admin/licenses?imported=2").await;
    assert!(list.contains("已导入 2 张电子证照"));
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM licenses")
        .fetch_one(app.db.db.pool())
        .await
        .expect("count");
    assert_eq!(count, 2);
}

#[tokio::test]
async fn license_types_link_to_catalog_items_that_exist() {
    let app = TestApp::spawn().await;
    app.login().await;
    let (status, page) = app.text("/admin/licenses/types").await;
    assert_eq!(status, 200);
    assert!(page.contains("换证事项编码") && page.contains("办结后自动签发的事项编码"));
    let csrf = hidden(&page, "_csrf");
    let r = app
        .submit(
            &app.client,
            "/admin/licenses/types",
            "/admin/licenses/types",
            &[
                ("code", "id_card"),
                ("renewal_service", "NOPE-1"),
                ("produced_by", ""),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.expect("body");
    assert!(html.contains("事项编码不存在") && html.contains("NOPE-1"));
    let code = app.code_of("居民身份证补领").await;
    let r = app
        .post_form(
            "/admin/licenses/types",
            &[
                ("_csrf", csrf.as_str()),
                ("code", "id_card"),
                ("renewal_service", code.as_str()),
                ("produced_by", code.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let t = licenses::get_type(&app.db.db, "id_card")
        .await
        .expect("type");
    assert_eq!(t.renewal_service, code);
    assert!(t.produced_by(&code));
}

#[tokio::test]
async fn an_applicant_authorises_licenses_instead_of_uploads_and_staff_see_them() {
    let app = TestApp::spawn().await;
    let citizen = app.verified_citizen(PHONE, NAME, ID_NUMBER).await;
    let card = id_card(&app).await;
    let household = issue(
        &app,
        "household",
        &[
            ("household_type", "家庭户"),
            ("address", "渝州市渝中区民族路 1 号"),
            ("relation", "户主"),
        ],
    )
    .await;
    // 购房落户 (500000-GA-HZ-0003-04): m1 居民身份证, m2 居民户口簿,
    // m3 不动产权证书, m4 《户口迁移登记申请表》. (居民身份证补领 asks for no
    // ID card: its 居民身份证挂失申报回执 is another paper.)
    let code = app.code_of("购房落户").await;
    let path = format!("/apply/{code}");
    let r = super::cases::post_page(
        &app,
        &citizen,
        &path,
        &[
            ("_page", "0"),
            ("_go", "next"),
            ("applicant_name", NAME),
            ("applicant_id", ID_NUMBER),
            ("applicant_phone", PHONE),
            ("address.province", "重庆市"),
            ("address.city", "渝州市"),
            ("address.district", "渝中区"),
            ("address.detail", "民族路 1 号"),
        ],
        &[],
    )
    .await;
    assert_eq!(location(&r), format!("/apply/{code}?page=1"));
    let r = super::cases::post_page(
        &app,
        &citizen,
        &path,
        &[
            ("_page", "1"),
            ("_go", "next"),
            ("reason", "购房后将户口迁入新居"),
            ("delivery", "网上下载"),
        ],
        &[],
    )
    .await;
    assert_eq!(location(&r), format!("/apply/{code}?page=2"));

    let materials = format!("{path}?page=2");
    let (_, page) = app.text_with(&citizen, &materials).await;
    assert!(page.contains("您已有电子证照：<strong>居民身份证</strong>") && page.contains(&card));
    assert!(page.contains(&format!("value=\"license:m1:{card}\"")));
    assert!(page.contains(&format!("value=\"license:m2:{household}\"")));
    assert!(
        !page.contains("value=\"license:m3:"),
        "no license is a property certificate"
    );

    // A license offered for another material is refused, kept on the page.
    let r = super::cases::post_page(
        &app,
        &citizen,
        &materials,
        &[("_page", "2"), ("_go", &format!("license:m3:{card}"))],
        &[],
    )
    .await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("该电子证照不能用于此项材料")
    );

    for (key, number) in [("m1", &card), ("m2", &household)] {
        let r = super::cases::post_page(
            &app,
            &citizen,
            &materials,
            &[("_page", "2"), ("_go", &format!("license:{key}:{number}"))],
            &[],
        )
        .await;
        assert_eq!(r.status().as_u16(), 303);
        assert_eq!(location(&r), format!("/apply/{code}?page=2#w-f-{key}"));
    }
    let (_, page) = app.text_with(&citizen, &materials).await;
    assert!(page.contains("已授权使用电子证照") && page.contains("取消授权"));
    assert!(!page.contains("name=\"file:m1\""), "no upload asked for m1");
    assert!(page.contains("name=\"file:m3\""));

    // Withdrawn, the upload comes back; authorised again for the case.
    let r = super::cases::post_page(
        &app,
        &citizen,
        &materials,
        &[("_page", "2"), ("_go", "unlicense:m1")],
        &[],
    )
    .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, page) = app.text_with(&citizen, &materials).await;
    assert!(page.contains("name=\"file:m1\""));
    super::cases::post_page(
        &app,
        &citizen,
        &materials,
        &[("_page", "2"), ("_go", &format!("license:m1:{card}"))],
        &[],
    )
    .await;

    let r = super::cases::post_page(
        &app,
        &citizen,
        &materials,
        &[("_page", "2"), ("_go", "next")],
        &[("m3", "不动产权证书.png", PNG), ("m4", "申请表.png", PNG)],
    )
    .await;
    assert_eq!(
        location(&r),
        format!("/apply/{code}?page=3"),
        "m1 and m2 need no upload"
    );
    let review = format!("{path}?page=3");
    let (_, page) = app.text_with(&citizen, &review).await;
    assert!(page.contains("已授权使用电子证照 居民身份证") && page.contains(&card));
    assert!(page.contains("已授权使用电子证照 居民户口簿") && page.contains(&household));
    let r = super::cases::post_page(
        &app,
        &citizen,
        &review,
        &[("_page", "3"), ("_go", "submit"), ("_declare", "1")],
        &[],
    )
    .await;
    assert_eq!(r.status().as_u16(), 303);
    let case = location(&r)
        .trim_start_matches("/my/cases/")
        .trim_end_matches("?new=1")
        .to_string();
    let (_, mine) = app.text_with(&citizen, &format!("/my/cases/{case}")).await;
    assert!(mine.contains("已授权使用电子证照 居民户口簿") && mine.contains(&household));

    let clerk = app.staff_with("hz.desk", UNIT, &[Perm::CasesHandle]).await;
    let (status, detail) = app.text_with(&clerk, &format!("/admin/cases/{case}")).await;
    assert_eq!(status, 200);
    assert!(detail.contains("电子证照（免证办）"));
    assert!(detail.contains(&household) && detail.contains(&card) && detail.contains("有效"));
    assert!(
        detail.contains(MASKED_ID) && !detail.contains(ID_NUMBER),
        "masked for this clerk"
    );

    let (_, uses) = app
        .text_with(&citizen, &format!("/my/licenses/{card}"))
        .await;
    assert!(uses.contains("授权使用") && uses.contains("工作人员查看") && uses.contains(&case));
}

#[tokio::test]
async fn the_openapi_document_describes_the_license_checks() {
    let app = TestApp::spawn().await;
    let (_, spec) = app.json("/api/openapi.json").await;
    assert!(spec["paths"]["/api/v1/licenses/{number}/verify"]["get"].is_object());
    assert!(spec["paths"]["/api/v1/licenses/verify"]["post"].is_object());
    assert!(spec["components"]["schemas"]["LicenseCheck"].is_object());
}

/// The option marked `selected` in the issuing-unit list.
fn chosen_unit(html: &str) -> String {
    let list = html
        .split("id=\"l-unit\"")
        .nth(1)
        .and_then(|s| s.split("</select>").next())
        .unwrap_or("");
    list.split("<option")
        .find(|o| o.contains(" selected"))
        .and_then(|o| o.split('>').nth(1))
        .map(|t| t.split('<').next().unwrap_or("").to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_issuing_unit_offered_is_one_allowed_to_issue_the_type() {
    let app = TestApp::spawn().await;
    let mz = app
        .staff_with("yz.mz", "500103-MZ", &[Perm::LicensesManage])
        .await;
    app.login().await;
    // The city administrator picks 居民身份证: 公安 is offered, not the
    // city government, and no 民政局 at all.
    let (_, page) = app.text("/admin/licenses/new?type=id_card").await;
    assert!(
        chosen_unit(&page).contains("渝州市公安局"),
        "{}",
        chosen_unit(&page)
    );
    assert!(!page.contains("渝中区民政局"));
    // 渝中区民政局 may issue 结婚证 …
    let (_, page) = app
        .text_with(&mz, "/admin/licenses/new?type=marriage")
        .await;
    assert!(chosen_unit(&page).contains("渝中区民政局"));
    // … and is told why it cannot issue a 居民身份证.
    let (_, page) = app.text_with(&mz, "/admin/licenses/new?type=id_card").await;
    assert!(page.contains("您的管理范围内没有可签发“居民身份证”的部门"));
    assert_eq!(chosen_unit(&page), "");
}
