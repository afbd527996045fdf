//! 窗口收件 and 以企业身份办事 over HTTP: the clerk's pages from the person
//! at the counter to the filed case, the person finding it in 我的办件
//! after verifying; an agent switching to a company, the banner on every
//! page of theirs, the company's cases, and the switch back.

use zhiban_testing::html::hidden;
use zhiban_testing::*;

use super::cases::{ID_NUMBER, PHONE, apply};

const REISSUE: &str = "居民身份证补领";
const PNG: &[u8] = zhiban_testing::samples::PNG;
const PDF: &[u8] = zhiban_testing::samples::PDF;
const WALK_IN_ID: &str = "500103198001010016";

/// Every answer of the 补领 form (the clerk's page posts all of them).
fn answers(go: &str) -> Vec<(&str, &str)> {
    vec![
        ("_go", go),
        ("_declare", "1"),
        ("applicant_phone", "13900002222"),
        ("address.province", "重庆市"),
        ("address.city", "渝州市"),
        ("address.district", "渝中区"),
        ("address.detail", "较场口 8 号"),
        ("reason", "身份证在公交车上遗失"),
        ("delivery", "窗口领取"),
        ("mail_address", ""),
    ]
}

#[tokio::test]
async fn a_clerk_files_for_a_walk_in_and_the_person_finds_it_after_verifying() {
    let app = TestApp::spawn().await;
    let desk = app
        .staff_in_role("hz.clerk", "500000-GA-HZ", "case_handler")
        .await;
    let code = app.code_of(REISSUE).await;
    let (status, home) = app.text_with(&desk, "/admin/counter").await;
    assert_eq!(status, 200);
    assert!(
        home.contains(&format!("value=\"{code}\"")),
        "the unit's item is offered"
    );
    // Nothing checked yet: every problem named, what was typed kept.
    let r = app
        .submit(
            &desk,
            "/admin/counter",
            "/admin/counter",
            &[
                ("service_code", code.as_str()),
                ("person_name", "陈秀兰"),
                ("id_number", "500103198001010010"),
                ("phone", "13900002222"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let body = r.text().await.expect("body");
    assert!(body.contains("error-summary") && body.contains("href=\"#k-seen\""));
    assert!(
        body.contains("href=\"#k-id_number\""),
        "bad check character"
    );
    assert!(body.contains("value=\"陈秀兰\""));
    let r = app
        .submit(
            &desk,
            "/admin/counter",
            "/admin/counter",
            &[
                ("service_code", code.as_str()),
                ("person_name", "陈秀兰"),
                ("id_number", WALK_IN_ID),
                ("phone", "13900002222"),
                ("seen", "1"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let form = location(&r);
    assert!(form.starts_with("/admin/counter/"), "{form}");
    let (_, page) = app.text_with(&desk, &form).await;
    assert!(page.contains("value=\"陈秀兰\"") && page.contains("readonly"));
    assert!(
        page.contains("按核验过的身份证原件填写") && !page.contains("已根据您的实名信息"),
        "the clerk is told where the locked fields come from"
    );
    assert!(
        !page.contains(WALK_IN_ID),
        "the number is masked on the page"
    );

    // One scan missing: refused in words, answers and the scan kept.
    let all = answers("submit");
    let file = |files: &'static [(&'static str, &'static str, &'static [u8])]| {
        app.submit_multipart(&desk, &form, &form, &all, files)
    };
    let r = file(&[("file:m1", "户口簿.png", PNG)]).await;
    assert_eq!(r.status().as_u16(), 422);
    let body = r.text().await.expect("body");
    assert!(body.contains("error-summary"));
    assert!(body.contains("较场口 8 号") && body.contains("户口簿.png"));
    // Now complete: filed, and the clerk lands on the case.
    let r = file(&[("file:m2", "相片回执.pdf", PDF)]).await;
    assert_eq!(r.status().as_u16(), 303);
    let case_page = location(&r);
    assert!(case_page.starts_with("/admin/cases/") && case_page.ends_with("?done=filed"));
    let number = case_page
        .trim_start_matches("/admin/cases/")
        .split('?')
        .next()
        .unwrap_or_default()
        .to_string();
    let (_, case) = app.text_with(&desk, &case_page).await;
    assert!(case.contains("窗口收件") && case.contains("户口簿.png"));
    let (_, home) = app.text_with(&desk, "/admin/counter").await;
    assert!(home.contains("没有未提交的收件"));

    // The person registers and verifies with that number: it is theirs.
    let person = app
        .verified_citizen("13900002222", "陈秀兰", WALK_IN_ID)
        .await;
    let (_, mine) = app.text_with(&person, "/my/cases").await;
    assert!(mine.contains(&number), "{mine}");
    let (status, theirs) = app.text_with(&person, &format!("/my/cases/{number}")).await;
    assert_eq!(status, 200);
    assert!(theirs.contains("窗口收件"));
    // Someone else cannot open it.
    let other = app.verified_citizen(PHONE, "张三", ID_NUMBER).await;
    let (status, _) = app.text_with(&other, &format!("/my/cases/{number}")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_clerk_without_case_handling_has_no_counter() {
    let app = TestApp::spawn().await;
    let editor = app
        .staff_in_role("hz.editor", "500000-GA-HZ", "content_editor")
        .await;
    let r = editor
        .get(app.url("/admin/counter"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status().as_u16(), 403);
}

/// Posts the switch to act for company `id` ("0": back to themselves).
async fn act_as(app: &TestApp, who: &reqwest::Client, id: &str) -> reqwest::Response {
    app.submit(
        who,
        "/account/companies",
        "/account/companies/act",
        &[("company_id", id)],
    )
    .await
}

#[tokio::test]
async fn an_agent_acts_for_the_company_and_back_and_loses_it_when_revoked() {
    const USCC: &str = "91500103MA5U7XXX0P";
    const NAME: &str = "渝州市山城酒店管理有限公司";
    let app = TestApp::spawn().await;
    let rep = app
        .verified_citizen("13900003333", "李四", "500103198001010024")
        .await;
    let r = app
        .submit(
            &rep,
            "/account/companies",
            "/account/companies",
            &[("uscc", USCC), ("company_name", NAME)],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let agent = app.verified_citizen(PHONE, "张三", ID_NUMBER).await;
    let (_, page) = app.text_with(&rep, "/account/companies").await;
    let company_id = hidden(&page, "company_id");
    let r = app
        .submit(
            &rep,
            "/account/companies",
            "/account/companies/agents",
            &[("company_id", company_id.as_str()), ("agent_phone", PHONE)],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);

    // A company that is not theirs: not found, nothing changes.
    let r = act_as(&app, &agent, "999999").await;
    assert_eq!(r.status().as_u16(), 404);
    let (_, page) = app.text_with(&agent, "/account/companies").await;
    assert!(page.contains("以此企业身份办事"));
    let r = act_as(&app, &agent, company_id.as_str()).await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(location(&r), "/my/cases");
    let (_, mine) = app.text_with(&agent, "/my/cases").await;
    assert!(
        mine.contains("acting-banner") && mine.contains(NAME),
        "{mine}"
    );
    let number = apply(&app, &agent).await;
    let (_, mine) = app.text_with(&agent, "/my/cases").await;
    assert!(mine.contains(&number));
    // The legal representative, acting for the company, sees it too.
    let r = act_as(&app, &rep, company_id.as_str()).await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, theirs) = app.text_with(&rep, "/my/cases").await;
    assert!(theirs.contains(&number));
    // Back to themselves: no banner.
    let r = act_as(&app, &agent, "0").await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, page) = app.text_with(&agent, "/account").await;
    assert!(!page.contains("acting-banner"));

    // Acting again, then revoked: the session is back to the person and
    // the company's case is out of reach.
    act_as(&app, &agent, company_id.as_str()).await;
    let (_, page) = app.text_with(&rep, "/account/companies").await;
    let agent_id = hidden(&page, "agent_id");
    let r = app
        .submit(
            &rep,
            "/account/companies",
            "/account/companies/agents/revoke",
            &[
                ("company_id", company_id.as_str()),
                ("agent_id", agent_id.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, page) = app.text_with(&agent, "/my/cases").await;
    assert!(!page.contains("acting-banner"));
    let (status, _) = app.text_with(&agent, &format!("/my/cases/{number}")).await;
    assert_eq!(status, 404);
}
