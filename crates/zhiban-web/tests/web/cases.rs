//! Applying online and handling cases over real HTTP: the smart-form
//! wizard with uploads, the receipt, the workbench, 补正 and resubmission,
//! decision, result delivery, progress lookup, step-up to the item's
//! real-name level, scope, the form editor and notification wording.

use reqwest::multipart::{Form, Part};
use zhiban_domain::pii;
use zhiban_store::sqlx;
use zhiban_testing::html::*;
use zhiban_testing::*;

pub(crate) const PHONE: &str = "13900001111";
pub(crate) const ID_NUMBER: &str = "11010519491231002X";
const REISSUE: &str = "居民身份证补领";
const PNG: &[u8] = zhiban_testing::samples::PNG;
const PDF: &[u8] = zhiban_testing::samples::PDF;

/// Posts one page of the wizard as a browser would (multipart): the form
/// token comes from the page that holds the form (a resubmission is posted
/// from the case page); file inputs are named `file:<field>`.
pub(crate) async fn post_page(
    app: &TestApp,
    c: &reqwest::Client,
    path: &str,
    fields: &[(&str, &str)],
    files: &[(&str, &str, &[u8])],
) -> reqwest::Response {
    let page = path.split('?').next().unwrap_or(path);
    let inputs: Vec<String> = files.iter().map(|(k, _, _)| format!("file:{k}")).collect();
    let files: Vec<(&str, &str, &[u8])> = files
        .iter()
        .zip(&inputs)
        .map(|((_, name, body), input)| (input.as_str(), *name, *body))
        .collect();
    app.submit_multipart(c, page.trim_end_matches("/resubmit"), path, fields, &files)
        .await
}

/// Applies for 居民身份证补领 page by page; returns the case number.
pub(crate) async fn apply(app: &TestApp, c: &reqwest::Client) -> String {
    let code = app.code_of(REISSUE).await;
    let path = format!("/apply/{code}");
    let (status, first) = app.text_with(c, &path).await;
    assert_eq!(status, 200);
    assert!(first.contains("申请人信息"));
    assert!(
        first.contains("value=\"张三\"") && first.contains("readonly"),
        "verified name filled in and locked"
    );
    let r = post_page(
        app,
        c,
        &path,
        &[
            ("_page", "0"),
            ("_go", "next"),
            ("applicant_name", "冒充者"),
            ("applicant_id", ID_NUMBER),
            ("applicant_phone", PHONE),
            ("address.province", "重庆市"),
            ("address.city", "渝州市"),
            ("address.district", "渝中区"),
            ("address.detail", "解放碑街道民族路 1 号"),
        ],
        &[],
    )
    .await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(location(&r), format!("/apply/{code}?page=1"));
    let r = post_page(
        app,
        c,
        &path,
        &[
            ("_page", "1"),
            ("_go", "next"),
            ("reason", "身份证在公交车上遗失"),
            ("delivery", "邮寄送达"),
            ("mail_address", "渝中区民族路 1 号"),
        ],
        &[],
    )
    .await;
    assert_eq!(location(&r), format!("/apply/{code}?page=2"));
    let r = post_page(
        app,
        c,
        &path,
        &[("_page", "2"), ("_go", "next")],
        &[("m1", "户口簿.png", PNG), ("m2", "相片回执.pdf", PDF)],
    )
    .await;
    assert_eq!(location(&r), format!("/apply/{code}?page=3"));
    let (_, review) = app.text_with(c, &format!("{path}?page=3")).await;
    assert!(review.contains("身份证在公交车上遗失") && review.contains("户口簿.png"));
    assert!(
        review.contains("张三") && !review.contains("冒充者"),
        "the locked name stays"
    );
    assert!(
        !review.contains(ID_NUMBER),
        "the review page masks the ID number"
    );
    // The verified name offers nothing to change; the address does.
    let row = |label: &str| {
        review
            .split(&format!("<dt>{label}</dt>"))
            .nth(1)
            .and_then(|r| r.split("</dd>").next())
            .unwrap_or_default()
            .to_string()
    };
    let name_row = row("申请人姓名");
    assert!(
        name_row.contains("已实名核验") && !name_row.contains("修改"),
        "{name_row}"
    );
    assert!(row("联系地址").contains("修改"));

    let r = post_page(app, c, &path, &[("_page", "3"), ("_go", "submit")], &[]).await;
    assert_eq!(r.status().as_u16(), 422, "the declaration must be ticked");
    let r = post_page(
        app,
        c,
        &path,
        &[("_page", "3"), ("_go", "submit"), ("_declare", "1")],
        &[],
    )
    .await;
    assert_eq!(r.status().as_u16(), 303);
    let to = location(&r);
    assert!(
        to.starts_with("/my/cases/ZB") && to.ends_with("?new=1"),
        "{to}"
    );
    to.trim_start_matches("/my/cases/")
        .trim_end_matches("?new=1")
        .to_string()
}

/// Waives a case's fee from the case page (减免, with a reason).
pub(crate) async fn waive(app: &TestApp, staff: &reqwest::Client, number: &str) {
    let page = format!("/admin/cases/{number}");
    let r = app
        .submit(
            staff,
            &page,
            &format!("{page}/fee"),
            &[
                ("fee_action", "waive"),
                ("waive_reason", "最低生活保障对象，依规免收"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303, "waived");
}

pub(crate) async fn act(
    app: &TestApp,
    staff: &reqwest::Client,
    number: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let (_, html) = app
        .text_with(staff, &format!("/admin/cases/{number}"))
        .await;
    let mut form: Vec<(&str, String)> = vec![("_csrf", hidden(&html, "_csrf"))];
    form.extend(fields.iter().map(|(k, v)| (*k, v.to_string())));
    staff
        .post(app.url(&format!("/admin/cases/{number}/act")))
        .form(&form)
        .send()
        .await
        .expect("act")
}

#[tokio::test]
async fn a_citizen_applies_staff_ask_for_a_correction_and_the_result_is_downloaded() {
    let app = TestApp::spawn().await;
    let citizen = app.verified_citizen(PHONE, "张三", ID_NUMBER).await;
    let number = apply(&app, &citizen).await;

    let (_, page) = app
        .text_with(&citizen, &format!("/my/cases/{number}?new=1"))
        .await;
    assert!(page.contains(&number) && page.contains("申请已提交"));
    let (status, receipt) = app
        .text_with(&citizen, &format!("/my/cases/{number}/receipt"))
        .await;
    assert_eq!(status, 200);
    assert!(
        receipt.contains("data:image/svg+xml")
            && receipt.contains(&format!("progress?number={number}"))
    );
    assert!(
        receipt.contains("139****1111"),
        "the receipt masks the phone"
    );

    let desk = app
        .staff_in_role("hz.clerk", "500000-GA-HZ", "case_handler")
        .await;
    let (_, list) = app.text_with(&desk, "/admin/cases").await;
    assert!(list.contains(&number) && list.contains("张*"));
    let (_, detail) = app
        .text_with(&desk, &format!("/admin/cases/{number}"))
        .await;
    assert!(
        detail.contains("户口簿.png") && detail.contains(&format!("/admin/cases/{number}/files/"))
    );
    let viewed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'case.view' AND actor = 'hz.clerk' \
         AND target = $1",
    )
    .bind(&number)
    .fetch_one(app.db.db.pool())
    .await
    .expect("audit");
    assert_eq!(viewed, 1, "opening a case is on the audit record");

    // A refusal without a reason is sent back with the reason asked for.
    let r = act(&app, &desk, &number, &[("action", "correct")]).await;
    assert_eq!(r.status().as_u16(), 422);
    let r = act(
        &app,
        &desk,
        &number,
        &[
            ("action", "correct"),
            ("reason", "相片回执不清晰，请重新上传"),
            ("fields", "m2"),
        ],
    )
    .await;
    assert_eq!(r.status().as_u16(), 303);

    let (_, mine) = app
        .text_with(&citizen, &format!("/my/cases/{number}"))
        .await;
    assert!(mine.contains("相片回执不清晰") && mine.contains("name=\"file:m2\""));
    assert!(
        !mine.contains("name=\"file:m1\""),
        "only the material asked for can change"
    );
    let r = post_page(
        &app,
        &citizen,
        &format!("/my/cases/{number}/resubmit"),
        &[("_revision", &hidden(&mine, "_revision"))],
        &[("m2", "新相片回执.png", PNG)],
    )
    .await;
    assert_eq!(r.status().as_u16(), 303, "resubmitted");

    for step in [
        vec![("action", "accept")],
        vec![("action", "approve"), ("reason", "符合补领条件")],
    ] {
        let r = act(&app, &desk, &number, &step).await;
        assert_eq!(r.status().as_u16(), 303, "{step:?}");
    }
    // 工本费 first (waived here; paying is in the payments tests).
    let r = act(&app, &desk, &number, &[("action", "conclude")]).await;
    assert_eq!(r.status().as_u16(), 422, "not before the fee is settled");
    assert!(r.text().await.unwrap().contains("尚未缴费或减免"));
    waive(&app, &desk, &number).await;
    let r = act(&app, &desk, &number, &[("action", "conclude")]).await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, html) = app
        .text_with(&desk, &format!("/admin/cases/{number}"))
        .await;
    let form = Form::new().text("_csrf", hidden(&html, "_csrf")).part(
        "file:result",
        Part::bytes(PDF.to_vec()).file_name("受理凭证.pdf"),
    );
    let r = desk
        .post(app.url(&format!("/admin/cases/{number}/result")))
        .multipart(form)
        .send()
        .await
        .expect("result");
    assert_eq!(r.status().as_u16(), 303);
    let r = act(
        &app,
        &desk,
        &number,
        &[
            ("action", "deliver"),
            ("delivery", "mail"),
            ("tracking_no", "SF1234567890"),
        ],
    )
    .await;
    assert_eq!(r.status().as_u16(), 303);

    let (_, mine) = app
        .text_with(&citizen, &format!("/my/cases/{number}"))
        .await;
    assert!(mine.contains("已送达") && mine.contains("SF1234567890"));
    for step in [
        "一次性告知补正",
        "补正后提交",
        "受理",
        "准予",
        "办结",
        "送达",
    ] {
        assert!(mine.contains(step), "timeline shows {step}");
    }
    let href = mine
        .split("href=\"")
        .find(|s| s.starts_with(&format!("/my/cases/{number}/files/")) && s.contains("受理凭证"))
        .and_then(|s| s.split('"').next())
        .expect("result link")
        .to_string();
    let r = citizen.get(app.url(&href)).send().await.expect("download");
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap_or("")
            .starts_with("attachment")
    );
    assert_eq!(r.bytes().await.expect("body").as_ref(), PDF);
    let chain = zhiban_domain::audit::verify(&app.db.db)
        .await
        .expect("verify");
    assert_eq!(
        chain.broken, None,
        "the audit chain holds after a whole case"
    );

    let (_, inbox) = app.text_with(&citizen, "/my/messages").await;
    assert!(inbox.contains("请补正材料") && inbox.contains("办理结果已送达"));
    app.state.run_jobs().await.expect("jobs");
    let texts: Vec<String> = sqlx::query_scalar("SELECT body FROM sms_outbox WHERE phone = $1")
        .bind(PHONE)
        .fetch_all(app.db.db.pool())
        .await
        .expect("outbox");
    assert!(
        texts
            .iter()
            .any(|t| t.contains(&number) && t.contains("已受理")),
        "{texts:?}"
    );
}

#[tokio::test]
async fn anyone_with_the_number_and_phone_sees_the_progress_and_nobody_else() {
    let app = TestApp::spawn().await;
    let citizen = app.verified_citizen(PHONE, "张三", ID_NUMBER).await;
    let number = apply(&app, &citizen).await;
    let stranger = zhiban_testing::client();
    let (status, _) = app.text_with(&stranger, "/progress").await;
    assert_eq!(status, 200);
    let r = stranger
        .post(app.url("/progress"))
        .form(&[("number", number.to_lowercase().as_str()), ("phone", PHONE)])
        .send()
        .await
        .expect("lookup");
    let page = r.text().await.expect("body");
    assert!(page.contains("待受理") && page.contains("张*") && !page.contains("张三"));
    // The phone as people type it: spaces, a country prefix.
    for typed in ["139 0000 1111", "+86 139-0000-1111"] {
        let r = stranger
            .post(app.url("/progress"))
            .form(&[("number", number.as_str()), ("phone", typed)])
            .send()
            .await
            .expect("lookup");
        assert!(r.text().await.expect("body").contains("待受理"), "{typed}");
    }
    let (_, form) = app.text_with(&stranger, "/progress").await;
    assert!(
        !form.contains("maxlength=\"11\""),
        "a spaced number is not cut short"
    );
    let r = stranger
        .post(app.url("/progress"))
        .form(&[("number", number.as_str()), ("phone", "13900009999")])
        .send()
        .await
        .expect("lookup");
    let page = r.text().await.expect("body");
    assert!(page.contains("没有找到匹配的办件") && !page.contains("待受理"));
    let (status, _) = app
        .text_with(&stranger, &format!("/my/cases/{number}"))
        .await;
    assert_eq!(status, 303, "my cases need signing in");
}

#[tokio::test]
async fn a_registered_but_unverified_citizen_is_asked_to_step_up_first() {
    let app = TestApp::spawn().await;
    let c = zhiban_testing::client();
    app.register(&c, PHONE).await;
    let code = app.code_of(REISSUE).await;
    let (status, page) = app.text_with(&c, &format!("/apply/{code}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("请先完成实名认证") && page.contains("L2"));
    let next = format!("/account?next=/apply/{code}");
    assert!(page.contains(&next), "a link to verify and come back");
    // Verifying from there leads straight back to the application.
    let (_, account) = app.text_with(&c, &next).await;
    let r = c
        .post(app.url("/account/realname"))
        .form(&[
            ("name", "张三"),
            ("id_number", ID_NUMBER),
            ("next", hidden(&account, "next").as_str()),
            ("_csrf", hidden(&account, "_csrf").as_str()),
        ])
        .send()
        .await
        .expect("realname");
    assert_eq!(location(&r), format!("/apply/{code}"));
    let drafts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM case_drafts")
        .fetch_one(app.db.db.pool())
        .await
        .expect("count");
    assert_eq!(drafts, 0, "no draft is started below the level");
    let (status, page) = app.text_with(&c, &format!("/apply/{code}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("申请人信息"), "now the form opens");
}

#[tokio::test]
async fn a_wrong_upload_is_refused_with_a_clear_message_and_the_typed_answers_are_kept() {
    let app = TestApp::spawn().await;
    let c = app.verified_citizen(PHONE, "张三", ID_NUMBER).await;
    let code = app.code_of(REISSUE).await;
    let path = format!("/apply/{code}");
    let r = post_page(
        &app,
        &c,
        &path,
        &[("_page", "2"), ("_go", "next")],
        &[("m1", "virus.exe", b"MZ\x90\0\x03 not a scan")],
    )
    .await;
    assert_eq!(r.status().as_u16(), 422);
    let page = r.text().await.expect("body");
    assert!(
        page.contains("只能上传 PDF、JPG 或 PNG 文件"),
        "a clear reason"
    );
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM case_files")
        .fetch_one(app.db.db.pool())
        .await
        .expect("count");
    assert_eq!(stored, 0, "nothing stored");

    // Half a page typed, then "save for later": kept for the next visit.
    let r = post_page(
        &app,
        &c,
        &path,
        &[("_page", "1"), ("_go", "save"), ("reason", "还没写完")],
        &[],
    )
    .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, page) = app.text_with(&c, &format!("{path}?page=1")).await;
    assert!(page.contains("还没写完"));
    let (_, mine) = app.text_with(&c, "/my/cases").await;
    assert!(
        mine.contains(REISSUE),
        "the unfinished application is listed"
    );
}

#[tokio::test]
async fn district_staff_cannot_open_a_city_case_and_the_city_desk_accepts_in_a_batch() {
    let app = TestApp::spawn().await;
    let citizen = app.verified_citizen(PHONE, "张三", ID_NUMBER).await;
    let first = apply(&app, &citizen).await;
    let second = apply(&app, &citizen).await;
    let district = app
        .staff_in_role("yz.clerk", "500103", "case_handler")
        .await;
    let (status, _) = app
        .text_with(&district, &format!("/admin/cases/{first}"))
        .await;
    assert_eq!(status, 404);
    let (_, list) = app.text_with(&district, "/admin/cases").await;
    assert!(!list.contains(&first));

    let desk = app
        .staff_in_role("hz.clerk", "500000-GA-HZ", "case_handler")
        .await;
    let (_, list) = app.text_with(&desk, "/admin/cases").await;
    let csrf = hidden(&list, "_csrf");
    let r = desk
        .post(app.url("/admin/cases/accept"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("number", first.as_str()),
            ("number", second.as_str()),
            ("number", "ZB1999010100001"),
        ])
        .send()
        .await
        .expect("batch");
    assert_eq!(location(&r), "/admin/cases?accepted=2&skipped=1");
    let (_, list) = app
        .text_with(&desk, "/admin/cases?tab=all&state=accepted")
        .await;
    assert!(list.contains(&first) && list.contains(&second));
    let (_, done) = app.text_with(&desk, "/admin/cases?tab=done").await;
    assert!(done.contains(&first), "已办 lists what I handled");
}

#[tokio::test]
async fn a_published_form_is_used_for_new_applications_and_old_cases_keep_theirs() {
    let app = TestApp::spawn().await;
    let citizen = app.verified_citizen(PHONE, "张三", ID_NUMBER).await;
    let old = apply(&app, &citizen).await;
    app.login().await;
    let code = app.code_of(REISSUE).await;
    let editor = format!("/admin/services/{code}/form");
    let (status, page) = app.text(&editor).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("applicant_name"),
        "the editor starts from the form in use"
    );
    let csrf = hidden(&page, "_csrf");
    let broken = r#"{"title": "补领", "pages": [{"title": "p", "fields": [{"key": "Bad", "label": "x", "kind": "text"}]}]}"#;
    let r = app
        .post_form(
            &editor,
            &[("_csrf", csrf.as_str()), ("schema", broken), ("go", "save")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("字段标识只能用小写字母")
    );
    let schema = r#"{"title": "居民身份证补领（新版）", "pages": [
        {"title": "补领原因", "fields": [
          {"key": "why", "label": "补领原因", "kind": "choice", "required": true, "options": ["遗失", "被盗"]},
          {"key": "police_no", "label": "报案回执号", "kind": "text", "required": true,
           "show_if": {"field": "why", "equals": ["被盗"]}}
        ]}]}"#;
    let r = app
        .post_form(
            &editor,
            &[
                ("_csrf", csrf.as_str()),
                ("schema", schema),
                ("go", "publish"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, page) = app.text(&format!("{editor}?done=publish")).await;
    assert!(page.contains("v1") && page.contains("使用中"));

    let (_, form) = app.text_with(&citizen, &format!("/apply/{code}")).await;
    assert!(form.contains("补领原因") && form.contains("data-show-field=\"why\""));
    let r = post_page(
        &app,
        &citizen,
        &format!("/apply/{code}"),
        &[("_page", "0"), ("_go", "next"), ("why", "被盗")],
        &[],
    )
    .await;
    assert_eq!(
        r.status().as_u16(),
        422,
        "the shown conditional field is required"
    );
    let (_, old_case) = app.text_with(&citizen, &format!("/my/cases/{old}")).await;
    assert!(
        old_case.contains("身份证在公交车上遗失"),
        "the filed case keeps its answers and form"
    );
    let version: i64 = sqlx::query_scalar("SELECT form_version FROM cases WHERE number = $1")
        .bind(&old)
        .fetch_one(app.db.db.pool())
        .await
        .expect("case");
    assert_eq!(version, 0);
}

#[tokio::test]
async fn staff_edit_the_wording_of_notifications_with_known_placeholders_only() {
    let app = TestApp::spawn().await;
    app.login().await;
    let (status, page) = app.text("/admin/notify").await;
    assert_eq!(status, 200);
    let csrf = hidden(&page, "_csrf");
    let r = app
        .submit(
            &app.client,
            "/admin/notify",
            "/admin/notify",
            &[
                ("event", "submit"),
                ("title", "收到"),
                ("body", "{身份证号} 已收到"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.expect("body").contains("{身份证号}"));
    let r = app
        .post_form(
            "/admin/notify",
            &[
                ("_csrf", csrf.as_str()),
                ("event", "submit"),
                ("title", "申请收到啦"),
                (
                    "body",
                    "渝州市政务服务：{事项名称}申请已收到，编号{办件编号}。",
                ),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let citizen = app.verified_citizen(PHONE, "张三", ID_NUMBER).await;
    let number = apply(&app, &citizen).await;
    let (_, inbox) = app.text_with(&citizen, "/my/messages").await;
    assert!(inbox.contains("申请收到啦") && inbox.contains(&format!("编号{number}")));
}

#[tokio::test]
async fn a_citizen_sets_an_email_address_for_notifications_and_a_bad_one_is_refused() {
    let app = TestApp::spawn().await;
    let c = app.verified_citizen(PHONE, "张三", ID_NUMBER).await;
    let (_, page) = app.text_with(&c, "/account").await;
    let csrf = hidden(&page, "_csrf");
    let r = c
        .post(app.url("/account/email"))
        .form(&[("email", "zhang at example"), ("_csrf", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.expect("body").contains("邮箱地址格式不正确"));
    let r = c
        .post(app.url("/account/email"))
        .form(&[("email", "zhang.san@example.cn"), ("_csrf", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 303);
    let (_, page) = app.text_with(&c, "/account").await;
    assert!(page.contains("value=\"zhang.san@example.cn\""));
    let number = apply(&app, &c).await;
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT payload FROM jobs WHERE kind = 'email' AND done_at IS NULL")
            .fetch_all(app.db.db.pool())
            .await
            .expect("jobs");
    // The address is personal data: encrypted in the queue, and at rest.
    assert!(stored.iter().all(|p| !p.contains("zhang.san")));
    let raw: String = sqlx::query_scalar("SELECT email FROM citizens")
        .fetch_one(app.db.db.pool())
        .await
        .expect("email");
    assert!(raw.starts_with("zb1:") && !raw.contains("zhang"));
    let queued: Vec<String> = stored
        .iter()
        .map(|p| pii::open(&app.db.db, pii::ctx::JOB_PAYLOAD, p).expect("decrypt"))
        .collect();
    assert!(
        queued
            .iter()
            .any(|p| p.contains("zhang.san@example.cn") && p.contains(&number)),
        "{queued:?}"
    );
}

#[tokio::test]
async fn a_page_with_several_large_scans_is_accepted_in_one_post() {
    let app = TestApp::spawn().await;
    let c = app.verified_citizen(PHONE, "张三", ID_NUMBER).await;
    let code = app.code_of(REISSUE).await;
    // Three scans just under the 10 MB limit each: more than the 20 MB the
    // rest of the portal accepts in one request.
    let scan = |n: usize| zhiban_store::files::padded_pdf(9 * 1024 * 1024 - n);
    let (a, b, d) = (scan(1), scan(2), scan(3));
    let r = post_page(
        &app,
        &c,
        &format!("/apply/{code}"),
        &[("_page", "2"), ("_go", "save")],
        &[
            ("m1", "a.pdf", &a),
            ("m2", "b.pdf", &b),
            ("m3", "c.pdf", &d),
        ],
    )
    .await;
    assert_eq!(r.status().as_u16(), 303);
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM case_files")
        .fetch_one(app.db.db.pool())
        .await
        .expect("count");
    assert_eq!(stored, 3);
}

#[tokio::test]
async fn an_administrator_records_a_handlers_mobile_number_for_reminders() {
    let app = TestApp::spawn().await;
    app.login().await;
    let (_, page) = app.text("/admin/staff/new").await;
    assert!(page.contains("name=\"phone\""));
    let csrf = hidden(&page, "_csrf");
    let unit: i64 = sqlx::query_scalar("SELECT id FROM departments WHERE code = '500000-GA-HZ'")
        .fetch_one(app.db.db.pool())
        .await
        .expect("unit");
    let unit = unit.to_string();
    let form = |phone: &'static str| {
        vec![
            ("_csrf", csrf.clone()),
            ("username", "hz.desk".to_string()),
            ("display_name", "户政窗口".to_string()),
            ("unit_id", unit.clone()),
            ("password", "Hand1er!pw".to_string()),
            ("phone", phone.to_string()),
        ]
    };
    let r = app.post_form("/admin/staff/new", &form("12345")).await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.expect("body").contains("手机号码"));
    let r = app
        .post_form("/admin/staff/new", &form("13700000009"))
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let phone: String =
        sqlx::query_scalar("SELECT phone FROM staff_users WHERE username = 'hz.desk'")
            .fetch_one(app.db.db.pool())
            .await
            .expect("staff");
    assert!(!phone.contains("13700000009"), "stored encrypted");
    assert_eq!(
        pii::open(&app.db.db, pii::ctx::STAFF_PHONE, &phone).expect("decrypt"),
        "13700000009"
    );
}

#[tokio::test]
async fn staff_without_citizens_view_see_masked_answers_and_no_identity_documents() {
    let app = TestApp::spawn().await;
    let citizen = app.verified_citizen(PHONE, "张三", ID_NUMBER).await;
    let number = apply(&app, &citizen).await;
    let path = format!("/admin/cases/{number}");

    // A handler with 查看群众个人信息 sees the applicant and opens the 户口簿.
    let desk = app
        .staff_in_role("hz.clerk", "500000-GA-HZ", "case_handler")
        .await;
    let (_, full) = app.text_with(&desk, &path).await;
    assert!(full.contains("张三") && full.contains("解放碑街道民族路 1 号"));
    let files: Vec<String> = hrefs(&full)
        .into_iter()
        .filter(|h| h.starts_with(&format!("{path}/files/")))
        .collect();
    assert!(!files.is_empty(), "{full}");
    let r = desk.get(app.url(&files[0])).send().await.expect("download");
    assert_eq!(r.status().as_u16(), 200);

    // The probe's custom role: case handling without the permission.
    let masked = app
        .staff_with(
            "hz.temp",
            "500000-GA-HZ",
            &[zhiban_domain::identity::Perm::CasesHandle],
        )
        .await;
    let (status, page) = app.text_with(&masked, &path).await;
    assert_eq!(status, 200);
    for secret in ["张三", ID_NUMBER, PHONE, "解放碑街道民族路 1 号"] {
        assert!(!page.contains(secret), "{secret} is masked");
    }
    assert!(page.contains("张*"), "the masked name is shown");
    assert!(
        page.contains("户口簿.png"),
        "the file is listed, only not opened"
    );
    for href in &files {
        let r = masked.get(app.url(href)).send().await.expect("download");
        assert_eq!(r.status().as_u16(), 403, "{href}");
    }
    let refused = refusals(&app.db.db, "hz.temp").await;
    assert_eq!(refused.len(), files.len());
    assert!(
        refused.iter().all(
            |(t, why, ip)| t.starts_with(&format!("case_file:{number}/"))
                && why == "identity_document"
                && ip == "127.0.0.1"
        ),
        "{refused:?}"
    );
}

#[tokio::test]
async fn the_workbench_finds_cases_by_the_applicants_phone() {
    let app = TestApp::spawn().await;
    let citizen = app.verified_citizen(PHONE, "张三", ID_NUMBER).await;
    let first = apply(&app, &citizen).await;
    let second = apply(&app, &citizen).await;
    let desk = app
        .staff_in_role("hz.clerk", "500000-GA-HZ", "case_handler")
        .await;
    let (_, list) = app
        .text_with(&desk, &format!("/admin/cases?tab=all&q={PHONE}"))
        .await;
    assert!(list.contains(&first) && list.contains(&second), "{list}");
    // A case number still finds its case.
    let (_, list) = app
        .text_with(&desk, &format!("/admin/cases?tab=all&q={first}"))
        .await;
    assert!(list.contains(&first) && !list.contains(&second));
}

#[tokio::test]
async fn a_company_application_offers_only_the_applicants_own_companies() {
    const MINE: &str = "91500103MA5U7XXX0P";
    const THEIRS: &str = "91500105MA60QW1T2M";
    let app = TestApp::spawn().await;
    let citizen = app.verified_citizen(PHONE, "张三", ID_NUMBER).await;
    let (_, page) = app.text_with(&citizen, "/account/companies").await;
    let r = citizen
        .post(app.url("/account/companies"))
        .form(&[
            ("uscc", MINE),
            ("company_name", "渝州市山城酒店管理有限公司"),
            ("_csrf", hidden(&page, "_csrf").as_str()),
        ])
        .send()
        .await
        .expect("register");
    assert_eq!(r.status().as_u16(), 303);
    let code = app.code_of("旅馆业特种行业许可证核发").await;
    let path = format!("/apply/{code}");
    let (status, form) = app.text_with(&citizen, &path).await;
    assert_eq!(status, 200);
    assert!(
        form.contains(&format!("value=\"{MINE}\"")) && form.contains("渝州市山城酒店管理有限公司"),
        "their company is offered"
    );
    assert!(
        !form.contains("name=\"company.name\""),
        "the name is never typed"
    );
    // A forged choice: another company's code.
    let r = post_page(
        &app,
        &citizen,
        &path,
        &[("_page", "0"), ("_go", "next"), ("company", THEIRS)],
        &[],
    )
    .await;
    assert_eq!(r.status().as_u16(), 422);
    let body = r.text().await.expect("body");
    assert!(body.contains("只能以您是法定代表人或经办人的单位名义申请"));
}

#[tokio::test]
async fn the_header_says_who_is_signed_in_and_offers_sign_out_on_their_pages_only() {
    let app = TestApp::spawn().await;
    let citizen = app.verified_citizen(PHONE, "张三", ID_NUMBER).await;
    let (_, mine) = app.text_with(&citizen, "/my/cases").await;
    let topbar = mine.split("class=\"topbar\"").nth(1).expect("topbar");
    let topbar = topbar.split("</div>\n</div>").next().unwrap_or("");
    assert!(topbar.contains("张*"), "{topbar}");
    assert!(topbar.contains("action=\"/logout\""));
    assert!(!topbar.contains("张三"));
    // Public pages are the same for everyone (and cached): nobody's name.
    let (_, home) = app.text_with(&citizen, "/").await;
    assert!(!home.contains("张*") && !home.contains("action=\"/logout\""));
}

#[tokio::test]
async fn an_oversized_upload_is_refused_in_words_that_name_the_material_and_the_limit() {
    let app = TestApp::spawn().await;
    let citizen = app.verified_citizen(PHONE, "张三", ID_NUMBER).await;
    let code = app.code_of(REISSUE).await;
    let path = format!("/apply/{code}");
    let (_, page) = app.text_with(&citizen, &format!("{path}?page=2")).await;
    assert!(
        page.contains("每个文件不超过 10 MB"),
        "the limit is stated before uploading"
    );
    let big = vec![0x89u8; 11 * 1024 * 1024];
    let r = post_page(
        &app,
        &citizen,
        &path,
        &[("_page", "2"), ("_go", "save")],
        &[("m1", "户口簿.png", &big)],
    )
    .await;
    assert_eq!(r.status().as_u16(), 422);
    let body = r.text().await.expect("body");
    assert!(
        body.contains("居民户口簿：文件过大，单个文件不能超过 10 MB"),
        "{}",
        body.split("error-summary")
            .nth(1)
            .unwrap_or("")
            .chars()
            .take(600)
            .collect::<String>()
    );
}

#[tokio::test]
async fn a_deadline_in_a_year_without_published_holidays_says_it_may_move() {
    let app = TestApp::spawn().await;
    let at = |m: u32, d: u32| {
        chrono::NaiveDate::from_ymd_opt(2026, m, d)
            .and_then(|d| d.and_hms_opt(2, 0, 0))
            .expect("date")
            .and_utc()
    };
    let shown = |page: &str| page.contains("节假日安排尚未公布");
    // June: the deadline is in 2026, whose holidays ship with the portal.
    app.db.db.clock().set(at(6, 1));
    let june = app.verified_citizen(PHONE, "张三", ID_NUMBER).await;
    let early = apply(&app, &june).await;
    let (_, page) = app.text_with(&june, &format!("/my/cases/{early}")).await;
    assert!(page.contains("<dd>2026-"));
    assert!(!shown(&page), "a 2026 deadline is certain");
    // Late December: the deadline falls in 2027, not yet published.
    app.db.db.clock().set(at(12, 28));
    let december = app
        .verified_citizen("13900003333", "张三", &zhiban_testing::id_number(333))
        .await;
    let late = apply(&app, &december).await;
    let (_, later) = app.text_with(&december, &format!("/my/cases/{late}")).await;
    assert!(later.contains("<dd>2027-"), "the deadline is in 2027");
    assert!(shown(&later));
}
