//! 政民互动 over HTTP: a citizen writes (after the emergency banner when
//! the words call for it), the hotline dispatches with the router's
//! category, the unit signs and answers, the citizen rates; desks and data
//! scope; 公开选登 without personal data.

use zhiban_testing::*;

/// Files a request through the form; returns the response.
async fn file(app: &TestApp, c: &reqwest::Client, fields: &[(&str, &str)]) -> reqwest::Response {
    app.submit(c, "/requests/new", "/requests/new", fields)
        .await
}

fn number_from(r: &reqwest::Response) -> String {
    location(r)
        .trim_start_matches("/my/requests/")
        .trim_end_matches("?new=1")
        .to_string()
}

const NOISE: &str = "观音桥建新北路的烧烤店每天晚上外放音响到凌晨两点，吵得孩子根本睡不着";

#[tokio::test]
async fn a_citizen_writes_the_hotline_dispatches_the_unit_answers_and_the_citizen_rates() {
    let app = TestApp::spawn_unlimited().await;
    let citizen = app
        .verified_citizen("13900005501", "王小明", &id_number(501))
        .await;
    let jiangbei = app.unit_id("500105").await;
    let place = format!("d:{jiangbei}:观音桥街道");

    // The form offers the types with their time limits and the streets.
    let (status, form) = app
        .text_with(&citizen, "/requests/new?kind=complaint")
        .await;
    assert_eq!(status, 200);
    assert!(form.contains("15 个工作日内答复") && form.contains("观音桥街道"));
    assert!(
        form.contains("value=\"13900005501\""),
        "the phone comes from the account"
    );

    // A bad form keeps what was typed and names the fields.
    let r = file(
        &app,
        &citizen,
        &[
            ("kind", "complaint"),
            ("body", "太吵"),
            ("contact_name", "王先生"),
            ("contact_phone", "13900005501"),
        ],
    )
    .await;
    assert_eq!(r.status().as_u16(), 200);
    let page = r.text().await.expect("page");
    assert!(
        page.contains("太短，至少 10 个字") && page.contains("发生地点：不能为空"),
        "{page}"
    );
    assert!(page.contains(">太吵</textarea>"));

    let fields = [
        ("kind", "complaint"),
        ("body", NOISE),
        ("place", place.as_str()),
        ("address", "建新北路 66 号"),
        ("contact_name", "王先生"),
        ("contact_phone", "13900005501"),
        ("publish_ok", "1"),
    ];
    let r = file(&app, &citizen, &fields).await;
    assert_eq!(
        r.status().as_u16(),
        303,
        "{}",
        r.text().await.unwrap_or_default()
    );
    let number = number_from(&r);
    assert!(number.starts_with("SQ"));
    let (_, mine) = app
        .text_with(&citizen, &format!("/my/requests/{number}?new=1"))
        .await;
    assert!(mine.contains("诉求已提交") && mine.contains(&number) && mine.contains("待受理"));

    // The hotline: the request is on the dispatch desk with the router's
    // proposal, and goes to 城市管理局 in one step.
    let hotline = app.staff_in_role("hotline", "500000", "call_agent").await;
    let (_, desk) = app.text_with(&hotline, "/admin/requests").await;
    assert!(desk.contains(&number), "on the dispatch desk");
    let (_, detail) = app
        .text_with(&hotline, &format!("/admin/requests/{number}"))
        .await;
    assert!(detail.contains("分类建议") && detail.contains("噪声扰民"));
    assert!(
        detail.contains("王*") && !detail.contains("13900005501"),
        "contact masked"
    );
    let page = format!("/admin/requests/{number}");
    let act = format!("/admin/requests/{number}/act");
    let r = app
        .submit(&hotline, &page, &act, &[("action", "dispatch")])
        .await;
    assert_eq!(r.status().as_u16(), 303);

    // Another unit's handler cannot open it; the responsible unit can.
    let rs = app
        .staff_in_role("rs.handler", "500000-RS", "case_handler")
        .await;
    assert_eq!(app.text_with(&rs, &page).await.0, 404);
    let cg = app
        .staff_in_role("cg.handler", "500000-CG", "case_handler")
        .await;
    let (_, todo) = app.text_with(&cg, "/admin/requests/desk").await;
    assert!(todo.contains(&number), "to sign");
    let r = app.submit(&cg, &page, &act, &[("action", "sign")]).await;
    assert_eq!(r.status().as_u16(), 303);
    // An answer too short comes back with the text kept.
    let r = app
        .submit(
            &cg,
            &page,
            &act,
            &[("action", "answer"), ("reason", "已处理")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.expect("page").contains(">已处理</textarea>"));
    let answer = "经执法人员夜间巡查核实，已责令该烧烤店停止外放音响，并纳入夜间重点巡查。";
    let r = app
        .submit(
            &cg,
            &page,
            &act,
            &[("action", "answer"), ("reason", answer)],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);

    // The citizen reads the answer and rates it.
    let mine = format!("/my/requests/{number}");
    let (_, read) = app.text_with(&citizen, &mine).await;
    assert!(read.contains(answer) && read.contains("请评价这次答复"));
    let r = app
        .submit(
            &citizen,
            &mine,
            &format!("{mine}/rate"),
            &[("satisfaction", "satisfied")],
        )
        .await;
    assert_eq!(location(&r), format!("{mine}?done=rate"));
    let (_, done) = app.text_with(&citizen, &mine).await;
    assert!(done.contains("已办结") && done.contains("满意"));

    // The hotline publishes it; the public page hides the contact and address.
    let r = app
        .submit(
            &hotline,
            &page,
            &format!("{page}/publish"),
            &[("publish", "1")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (status, public) = app.text(&format!("/requests/{number}")).await;
    assert_eq!(status, 200);
    assert!(public.contains(answer) && public.contains("观音桥街道"));
    assert!(
        !public.contains("王先生") && !public.contains("13900005501") && !public.contains("66 号")
    );
    let (_, hall) = app.text("/requests").await;
    assert!(hall.contains(&number));
}

#[tokio::test]
async fn emergency_words_show_the_lines_before_anything_is_filed() {
    let app = TestApp::spawn_unlimited().await;
    let citizen = app.citizen("13900005502").await;
    let jiangbei = app.unit_id("500105").await;
    let place = format!("d:{jiangbei}");
    let fields = [
        ("kind", "help"),
        ("body", "楼下着火了，好大的烟，快来人"),
        ("place", place.as_str()),
        ("contact_name", "李女士"),
        ("contact_phone", "13900005502"),
    ];
    let r = file(&app, &citizen, &fields).await;
    assert_eq!(r.status().as_u16(), 200, "not filed yet");
    let page = r.text().await.expect("page");
    assert!(page.contains("tel:119") && page.contains("不是紧急情况，继续提交"));
    let (_, list) = app.text_with(&citizen, "/my/requests").await;
    assert!(list.contains("您还没有写过信"));
    // The script asks the same question while the person types.
    let (status, json) = app
        .json("/requests/emergency?text=%E6%9C%89%E4%BA%BA%E6%8A%A2%E5%8A%AB")
        .await;
    assert_eq!(status, 200);
    assert_eq!(json["lines"][0]["number"], "110");
    let (_, calm) = app
        .json("/requests/emergency?text=%E8%B7%AF%E7%81%AF%E5%9D%8F%E4%BA%86")
        .await;
    assert_eq!(calm["lines"].as_array().map(Vec::len), Some(0));
    // Told it is not an emergency (a question about last year's fire), it is filed.
    let mut go_on = fields.to_vec();
    go_on.push(("not_emergency", "1"));
    let r = file(&app, &citizen, &go_on).await;
    assert_eq!(r.status().as_u16(), 303);
}

#[tokio::test]
async fn desks_need_their_roles_and_the_catalogue_is_the_citys() {
    let app = TestApp::spawn_unlimited().await;
    let editor = app
        .staff_in_role("editor1", "500000", "content_editor")
        .await;
    assert_eq!(app.text_with(&editor, "/admin/requests").await.0, 403);
    assert_eq!(app.text_with(&editor, "/admin/requests/desk").await.0, 403);
    let hotline = app.staff_in_role("hotline2", "500000", "call_agent").await;
    let (status, cat) = app.text_with(&hotline, "/admin/requests/categories").await;
    assert_eq!(status, 200);
    assert!(cat.contains("噪声扰民") && cat.contains("渝州市城市管理局"));
    let cg = app.unit_id("500000-CG").await.to_string();
    let r = app
        .submit(
            &hotline,
            "/admin/requests/categories",
            "/admin/requests/categories",
            &[
                ("name", "共享单车乱停放"),
                ("unit", cg.as_str()),
                ("description", "共享单车堆放占道"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/admin/requests/categories?saved=1");
    let (_, cat) = app.text_with(&hotline, "/admin/requests/categories").await;
    assert!(cat.contains("共享单车乱停放"));
    // A district's dispatcher does not change the city's catalogue.
    let district = app.staff_in_role("hotline3", "500105", "call_agent").await;
    let r = app
        .submit(
            &district,
            "/admin/requests/categories",
            "/admin/requests/categories",
            &[("name", "乱停车"), ("unit", cg.as_str())],
        )
        .await;
    assert_eq!(r.status().as_u16(), 403);
    let (_, figures) = app.text_with(&hotline, "/admin/requests/stats").await;
    assert!(figures.contains("部门考核"));
}

#[tokio::test]
async fn photos_sent_with_a_request_survive_a_bad_form_and_reach_only_those_who_may_see_it() {
    let app = TestApp::spawn_unlimited().await;
    let citizen = app
        .verified_citizen("13900005511", "李小红", &id_number(511))
        .await;
    let jiangbei = app.unit_id("500105").await;
    let place = format!("d:{jiangbei}:观音桥街道");
    let body = "观音桥步行街北口人行道的井盖已经缺失三天了，晚上很黑，行人很容易踩空。";
    // Too short, with a photo and a file that is not what it claims: the
    // photo is kept, the fake refused, the text kept.
    let r = app
        .submit_multipart(
            &citizen,
            "/requests/new",
            "/requests/new",
            &[
                ("kind", "help"),
                ("body", body),
                ("place", &place),
                ("contact_name", "李女士"),
                ("contact_phone", "13900005511"),
            ],
            &[
                ("files", "井盖.png", samples::PNG),
                ("files", "说明.pdf", b"<html>not a pdf</html>"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let page = r.text().await.expect("page");
    assert!(page.contains("照片或材料：文件类型不符合要求"), "{page}");
    assert!(page.contains("name=\"staged\"") && page.contains("井盖.png"));
    assert!(
        page.contains("data-projection") && page.contains("role=\"application\""),
        "the form has the district map to tap the point on"
    );
    let staged: String = page
        .split("name=\"staged\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("staged")
        .to_string();
    // Sending the form again carries the kept photo and adds a scan.
    let r = app
        .submit_multipart(
            &citizen,
            "/requests/new",
            "/requests/new",
            &[
                ("kind", "help"),
                ("body", body),
                ("place", &place),
                ("contact_name", "李女士"),
                ("contact_phone", "13900005511"),
                ("staged", &staged.replace("&#124;", "|")),
                ("point", "29.575300,106.532600"),
            ],
            &[("files", "照片说明.pdf", samples::PDF)],
        )
        .await;
    let status = r.status().as_u16();
    if status != 303 {
        let page = r.text().await.unwrap_or_default();
        let summary = page
            .split("<main")
            .nth(1)
            .unwrap_or(&page)
            .chars()
            .take(1500)
            .collect::<String>();
        panic!("not filed ({status}): {summary}");
    }
    let number = location(&r)
        .trim_start_matches("/my/requests/")
        .split('?')
        .next()
        .expect("number")
        .to_string();
    let (_, mine) = app
        .text_with(&citizen, &format!("/my/requests/{number}"))
        .await;
    assert!(mine.contains("井盖.png") && mine.contains("照片说明.pdf"));
    let link: String = mine
        .split(&format!("href=\"/my/requests/{number}/files/"))
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("file link")
        .to_string();
    let f = citizen
        .get(app.url(&format!("/my/requests/{number}/files/{link}")))
        .send()
        .await
        .expect("file");
    assert_eq!(f.status().as_u16(), 200);
    assert_eq!(
        f.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("private, no-store")
    );
    assert_eq!(f.bytes().await.expect("body").as_ref(), samples::PNG);
    let (lat, lon): (Option<f64>, Option<f64>) =
        zhiban_store::sqlx::query_as("SELECT lat, lon FROM requests WHERE number = $1")
            .bind(&number)
            .fetch_one(app.db.db.pool())
            .await
            .expect("row");
    assert_eq!((lat, lon), (Some(29.5753), Some(106.5326)));
    assert!(
        mine.contains("29.57530,106.53260") && mine.contains("district-map-shown"),
        "the writer sees the point on the district map"
    );
    // The hotline sees it; another citizen does not.
    app.login().await;
    let (_, desk) = app.text(&format!("/admin/requests/{number}")).await;
    assert!(desk.contains("29.57530,106.53260") && desk.contains("district-map-shown"));
    let (status, _) = app
        .text(&format!("/admin/requests/{number}/files/{link}"))
        .await;
    assert_eq!(status, 200);
    let other = app.citizen("13900005512").await;
    assert_eq!(
        app.text_with(&other, &format!("/my/requests/{number}/files/{link}"))
            .await
            .0,
        404
    );
    // A staged key of someone else's account is ignored.
    let r = app
        .submit_multipart(
            &other,
            "/requests/new",
            "/requests/new",
            &[
                ("kind", "consult"),
                ("body", "请问观音桥步行街的井盖归哪个部门管理？"),
                ("contact_name", "赵先生"),
                ("contact_phone", "13900005512"),
                ("staged", &staged.replace("&#124;", "|")),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let taken: i64 = zhiban_store::sqlx::query_scalar(
        "SELECT COUNT(*) FROM request_files f JOIN requests r ON r.id = f.request_id \
         WHERE r.contact_name = '赵先生'",
    )
    .fetch_one(app.db.db.pool())
    .await
    .expect("count");
    assert_eq!(taken, 0);
}

#[tokio::test]
async fn a_report_without_an_account_is_followed_with_its_number_and_secret() {
    let app = TestApp::spawn_unlimited().await;
    let visitor = client();
    let (status, form) = app.text_with(&visitor, "/requests/anonymous").await;
    assert_eq!(status, 200);
    assert!(form.contains("value=\"report\"") && !form.contains("value=\"complaint\""));
    assert!(
        form.contains("data-projection") && !form.contains("data-point-button"),
        "the place is tapped on the map; the device's location is never asked"
    );
    // No district chosen: the point tapped on the map says which.
    let r = app
        .submit(
            &visitor,
            "/requests/anonymous",
            "/requests/anonymous",
            &[
                ("kind", "report"),
                (
                    "body",
                    "观音桥某小区地下车库有人私设赌场，每晚十点以后人员进出频繁。",
                ),
                ("point", "29.583000,106.535000"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let page = r.text().await.expect("receipt");
    let number = between(&page, "anon-number").to_string();
    let secret = between(&page, "anon-secret").to_string();
    assert!(number.starts_with("SQ") && secret.len() == 12);
    let r = app
        .submit(
            &visitor,
            "/requests/follow",
            "/requests/follow",
            &[("number", &number), ("secret", &secret)],
        )
        .await;
    let page = r.text().await.expect("page");
    assert!(
        page.contains("私设赌场") && page.contains("待受理"),
        "{page}"
    );
    let r = app
        .submit(
            &visitor,
            "/requests/follow",
            "/requests/follow",
            &[("number", &number), ("secret", "ABCDEFGHJKMN")],
        )
        .await;
    let page = r.text().await.expect("page");
    assert!(page.contains("编号或查询密码不正确") && !page.contains("私设赌场"));
    // The hotline sees it as anonymous.
    app.login().await;
    let (_, detail) = app.text(&format!("/admin/requests/{number}")).await;
    assert!(detail.contains("匿名"));
    assert!(detail.contains("江北区") && detail.contains("29.58300,106.53500"));
}

#[tokio::test]
async fn an_anonymous_report_keeps_its_photo_through_a_bad_form_under_the_browser_only() {
    let app = TestApp::spawn_unlimited().await;
    let visitor = client();
    let jiangbei = app.unit_id("500105").await;
    let place = format!("d:{jiangbei}:观音桥街道");
    // Too short: the photo is kept under this browser, the fake refused.
    let r = app
        .submit_multipart(
            &visitor,
            "/requests/anonymous",
            "/requests/anonymous",
            &[("kind", "report"), ("body", "赌场"), ("place", &place)],
            &[
                ("files", "现场.png", samples::PNG),
                ("files", "假图.png", b"GIF89a not really"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let page = r.text().await.expect("page");
    assert!(page.contains("现场.png") && page.contains("文件类型不符合要求"));
    let staged: String = page
        .split("name=\"staged\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("staged")
        .replace("&#124;", "|");
    // Another browser cannot take it.
    let other = client();
    let r = app
        .submit_multipart(
            &other,
            "/requests/anonymous",
            "/requests/anonymous",
            &[
                ("kind", "suggestion"),
                ("body", "建议在观音桥步行街增加公共座椅，方便老人休息。"),
                ("staged", &staged),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let number = between(&r.text().await.expect("receipt"), "anon-number").to_string();
    let taken: i64 = zhiban_store::sqlx::query_scalar(
        "SELECT COUNT(*) FROM request_files f JOIN requests r ON r.id = f.request_id WHERE r.number = $1",
    )
    .bind(&number)
    .fetch_one(app.db.db.pool())
    .await
    .expect("count");
    assert_eq!(taken, 0);
    // The same browser files it with the photo; the hotline opens it.
    let r = app
        .submit_multipart(
            &visitor,
            "/requests/anonymous",
            "/requests/anonymous",
            &[
                ("kind", "report"),
                (
                    "body",
                    "观音桥某小区地下车库有人私设赌场，每晚十点以后人员进出频繁。",
                ),
                ("place", &place),
                ("staged", &staged),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let number = between(&r.text().await.expect("receipt"), "anon-number").to_string();
    app.login().await;
    let (_, detail) = app.text(&format!("/admin/requests/{number}")).await;
    let link: String = detail
        .split(&format!("href=\"/admin/requests/{number}/files/"))
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the photo is on the request")
        .to_string();
    let f = app
        .get(&format!("/admin/requests/{number}/files/{link}"))
        .await;
    assert_eq!(f.bytes().await.expect("body").as_ref(), samples::PNG);
}

fn between<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page.find(&format!("id=\"{id}\">")).expect(id) + id.len() + 6;
    let end = page[start..].find('<').expect("end") + start;
    &page[start..end]
}
