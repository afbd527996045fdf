//! 依申请公开 over HTTP: a citizen asks the city government for a document
//! through the same wizard as any application; the office extends the
//! answer period once (a refused step keeps what was typed) and answers
//! with a type the citizen sees on their case.

use zhiban_testing::*;

use crate::cases::{act, post_page};

const PNG: &[u8] = zhiban_testing::samples::PNG;

/// Files a request for information; returns the case number.
async fn request(app: &TestApp, c: &reqwest::Client) -> String {
    let code = "500000-0001-01";
    let path = format!("/apply/{code}");
    let (status, first) = app.text_with(c, &path).await;
    assert_eq!(status, 200);
    assert!(first.contains("向渝州市人民政府及其办公厅申请获取政府信息"));
    let r = post_page(
        app,
        c,
        &path,
        &[
            ("_page", "0"),
            ("_go", "next"),
            ("applicant_phone", "13900002222"),
            ("address.province", "重庆市"),
            ("address.city", "渝州市"),
            ("address.district", "江北区"),
            ("address.detail", "观音桥街道建新北路 8 号"),
        ],
        &[],
    )
    .await;
    assert_eq!(location(&r), format!("{path}?page=1"));
    let (_, second) = app.text_with(c, &format!("{path}?page=1")).await;
    assert!(
        second.contains("申请公开的政府信息") && second.contains("所需政府信息的描述"),
        "the form asks what the regulations require"
    );
    let r = post_page(
        app,
        c,
        &path,
        &[
            ("_page", "1"),
            ("_go", "next"),
            ("information", "2025 年江北区老旧小区改造项目资金安排文件"),
            ("medium", "电子文档"),
            ("delivery", "网上下载"),
        ],
        &[],
    )
    .await;
    assert_eq!(location(&r), format!("{path}?page=2"));
    let r = post_page(
        app,
        c,
        &path,
        &[("_page", "2"), ("_go", "next")],
        &[("m1", "身份证.png", PNG)],
    )
    .await;
    assert_eq!(location(&r), format!("{path}?page=3"));
    let r = post_page(
        app,
        c,
        &path,
        &[("_page", "3"), ("_go", "submit"), ("_declare", "1")],
        &[],
    )
    .await;
    assert_eq!(r.status().as_u16(), 303);
    location(&r)
        .trim_start_matches("/my/cases/")
        .trim_end_matches("?new=1")
        .to_string()
}

#[tokio::test]
async fn a_disclosure_request_is_extended_once_and_answered_with_its_type() {
    let app = TestApp::spawn().await;
    let citizen = app
        .verified_citizen("13900002222", "陈晓红", "11010519491231002X")
        .await;
    let number = request(&app, &citizen).await;
    let (_, mine) = app
        .text_with(&citizen, &format!("/my/cases/{number}"))
        .await;
    assert!(
        mine.contains("答复期限"),
        "the citizen sees the answer period"
    );

    let office = app.staff_in_role("gk.li", "500000", "case_handler").await;
    let r = act(&app, &office, &number, &[("action", "accept")]).await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, page) = app
        .text_with(&office, &format!("/admin/cases/{number}"))
        .await;
    assert!(page.contains("延长答复期限") && page.contains("答复类型"));
    assert!(page.contains("非本机关负责公开") && page.contains("部分公开"));

    // 30 days is more than the law allows: refused, the reason typed stays.
    let r = act(
        &app,
        &office,
        &number,
        &[
            ("action", "extend"),
            ("days", "30"),
            ("reason", "需征求第三方意见"),
        ],
    )
    .await;
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.expect("body");
    assert!(html.contains("超出允许范围"), "the limit is named");
    assert!(
        html.contains(">需征求第三方意见</textarea>"),
        "nothing typed lost"
    );
    assert!(
        html.contains("href=\"#a-days-extend\""),
        "the summary links to the input"
    );

    let r = act(
        &app,
        &office,
        &number,
        &[
            ("action", "extend"),
            ("days", "15"),
            ("reason", "需征求第三方意见"),
        ],
    )
    .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, page) = app
        .text_with(&office, &format!("/admin/cases/{number}"))
        .await;
    assert!(
        !page.contains("value=\"extend\""),
        "extended once, the step is no longer offered"
    );
    assert!(page.contains("延长 15 个工作日"));

    // 不予 without an answer type is refused; with 非本机关 and the referral it goes.
    let r = act(
        &app,
        &office,
        &number,
        &[("action", "deny"), ("reason", "请向江北区住房城乡建委申请")],
    )
    .await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.expect("body").contains("答复类型"));
    let r = act(
        &app,
        &office,
        &number,
        &[
            ("action", "deny"),
            ("answer", "not-ours"),
            (
                "reason",
                "该信息由江北区住房和城乡建设委员会制作，请向其申请（023-67855000）",
            ),
        ],
    )
    .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, mine) = app
        .text_with(&citizen, &format!("/my/cases/{number}"))
        .await;
    assert!(
        mine.contains("非本机关负责公开") && mine.contains("江北区住房和城乡建设委员会"),
        "the citizen sees the answer and where to ask"
    );
    assert!(!mine.contains("不予许可"));
}

#[tokio::test]
async fn the_site_of_an_office_that_answers_requests_leads_to_the_request_form() {
    let app = TestApp::spawn().await;
    let (status, city) = app.text("/sites/city").await;
    assert_eq!(status, 200);
    assert!(city.contains("依申请公开") && city.contains("href=\"/services/500000-0001-01\""));
    let (_, police) = app.text("/sites/police").await;
    assert!(police.contains("href=\"/services/500000-GA-0001-01\""));
    let (_, district) = app.text("/sites/500103").await;
    assert!(
        !district.contains("在线申请政府信息公开"),
        "a site whose unit has no such item shows no dead link"
    );
}
