//! The public portal and the JSON API, over real HTTP.

use zhiban_testing::{TestApp, hrefs};

#[tokio::test]
async fn home_page_is_a_city_portal_labelled_as_demo_data() {
    let app = TestApp::spawn().await;
    let (status, html) = app.text("/").await;
    assert_eq!(status, 200);
    assert!(html.contains("演示数据"), "demo label on every page");
    assert!(html.contains("渝州市政务服务网"));
    assert!(html.contains("高频服务"));
    assert!(html.contains("href=\"/services?life_event=birth\""));
    assert!(html.contains("href=\"/services?police=household\""));
    assert!(html.contains("class=\"skip-link\" href=\"#main\""));
    let popular = app.state.catalog().high_frequency(None, 1);
    assert!(html.contains(&format!("/services/{}", popular[0].code)));
}

#[tokio::test]
async fn a_guide_page_shows_every_element_a_citizen_needs() {
    let app = TestApp::spawn().await;
    let code = app.code_of("居民身份证补领").await;
    let item = app.state.catalog().get(&code).cloned().expect("item");
    let (status, html) = app.text(&format!("/services/{code}")).await;
    assert_eq!(status, 200);
    for needle in [
        "受理条件",
        "申请材料",
        "办理流程",
        "承诺办结时限",
        "法定办结时限",
        "收费标准",
        "办理地点",
        "咨询电话",
        "监督投诉电话",
        "设定依据",
        "演示数据",
    ] {
        assert!(html.contains(needle), "guide lacks {needle}");
    }
    assert!(html.contains(&item.materials[0].name));
    assert!(html.contains(&item.steps[0].name));
    assert!(html.contains(&item.enquiry_phone));
    assert!(html.contains(&format!("{} 个工作日", item.legal_limit_days)));
    // Siblings of the same main item (申领/换领) are linked.
    let sibling = app.state.catalog().siblings(&item);
    assert!(!sibling.is_empty());
    assert!(html.contains(&format!("/services/{}", sibling[0].code)));
}

#[tokio::test]
async fn draft_items_are_not_public() {
    let app = TestApp::spawn().await;
    let drafts = zhiban_domain::catalog::list_services(
        &app.db.db,
        Some(zhiban_domain::catalog::Status::Draft),
    )
    .await
    .expect("drafts");
    let code = &drafts.first().expect("demo has drafts").code;
    let (status, html) = app.text(&format!("/services/{code}")).await;
    assert_eq!(status, 404);
    assert!(html.contains("页面不存在"));
    let (status, _) = app.json(&format!("/api/v1/services/{code}")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn browsing_by_life_event_lists_only_that_theme_with_its_count() {
    let app = TestApp::spawn().await;
    let (_, api) = app
        .json("/api/v1/services?life_event=birth&limit=100")
        .await;
    let total = api["total"].as_u64().expect("total");
    assert!(total > 0);
    let (status, html) = app.text("/services?life_event=birth").await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("共 {total} 项")));
    for item in api["items"].as_array().expect("items").iter().take(5) {
        assert!(
            item["life_events"]
                .as_array()
                .expect("events")
                .iter()
                .any(|e| e == "birth")
        );
    }
}

#[tokio::test]
async fn a_department_lists_its_sub_units_items_with_breadcrumbs() {
    let app = TestApp::spawn().await;
    let cat = app.state.catalog();
    let police = cat
        .departments
        .iter()
        .find(|d| d.name == "渝州市公安局")
        .expect("police bureau");
    let own = cat
        .services
        .iter()
        .filter(|s| s.department_code == police.code)
        .count();
    let (_, api) = app
        .json(&format!(
            "/api/v1/services?department={}&limit=1",
            police.code
        ))
        .await;
    assert!(
        api["total"].as_u64().expect("total") as usize > own,
        "sub-units included"
    );
    let (_, html) = app
        .text(&format!("/services?department={}", police.code))
        .await;
    assert!(html.contains("aria-current=\"page\">渝州市公安局</a>"));
}

#[tokio::test]
async fn pages_past_the_end_show_the_last_page() {
    let app = TestApp::spawn().await;
    let (status, html) = app.text("/services?page=9999").await;
    assert_eq!(status, 200);
    assert!(html.contains("rel=\"prev\""));
    assert!(!html.contains("rel=\"next\""));
}

#[tokio::test]
async fn unknown_pages_get_a_translated_404_with_a_request_id() {
    let app = TestApp::spawn().await;
    let r = app.get("/no/such/page").await;
    assert_eq!(r.status().as_u16(), 404);
    let id = r
        .headers()
        .get("x-request-id")
        .expect("request id header")
        .to_str()
        .expect("ascii")
        .to_string();
    let html = r.text().await.expect("body");
    assert!(html.contains("页面不存在"));
    assert!(html.contains(&id));
    let r = app
        .client
        .get(app.url("/no/such/page"))
        .header("cookie", "zb_lang=en")
        .send()
        .await
        .expect("get");
    assert!(r.text().await.expect("body").contains("Page not found"));
}

#[tokio::test]
async fn the_language_switch_translates_the_interface() {
    let app = TestApp::spawn().await;
    let r = app.get("/prefs?lang=en&next=/services").await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/services");
    let (_, html) = app.text("/services").await;
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains(">Services<"));
    // Catalog content stays Chinese, marked as such, and the page says so.
    let code = app.code_of("居民身份证补领").await;
    assert!(html.contains("the guides themselves are in Chinese"));
    // The item's name is in English, the official Chinese name under it.
    let (_, guide) = app.text(&format!("/services/{code}")).await;
    assert!(guide.contains(
        "<h1 id=\"guide-title\">Resident Identity Card Replacement (lost or stolen)</h1>"
    ));
    assert!(guide.contains("<p class=\"guide-name-zh\" lang=\"zh-Hans\">居民身份证补领</p>"));
    let (_, found) = app.text("/search?q=passport").await;
    assert!(
        !found.contains("similar services below"),
        "no promise of suggestions that may not be there"
    );
    app.get("/prefs?lang=zh-HK&next=/").await;
    let (_, html) = app.text("/").await;
    assert!(html.contains("lang=\"zh-Hant-HK\""));
    assert!(html.contains("辦事服務"));
    // 繁體: the catalog converted too, and not marked as another language.
    let (_, guide) = app.text(&format!("/services/{code}")).await;
    assert!(guide.contains("居民身份證補領"), "the item's name in 繁體");
    assert!(!guide.contains("居民身份证补领"));
    assert!(!guide.contains("lang=\"zh-Hans\""));
    let (_, found) = app.text("/search?q=%E8%BA%AB%E4%BB%BD%E8%AF%81").await;
    assert!(found.contains("身份證"));
}

#[tokio::test]
async fn the_browser_language_is_used_until_a_choice_is_made() {
    let app = TestApp::spawn().await;
    let r = zhiban_testing::client()
        .get(app.url("/"))
        .header("accept-language", "zh-TW,zh;q=0.8")
        .send()
        .await
        .expect("get");
    assert!(r.text().await.expect("body").contains("辦事服務"));
}

#[tokio::test]
async fn elder_and_contrast_modes_persist_by_cookie_without_javascript() {
    let app = TestApp::spawn().await;
    let r = app.get("/prefs?elder=1&next=/themes").await;
    assert_eq!(r.status().as_u16(), 303);
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_string();
    assert!(cookie.contains("zb_elder=1") && cookie.contains("HttpOnly"));
    let (_, html) = app.text("/themes").await;
    assert!(html.contains("class=\"lang-zh-CN elder\""));
    assert!(html.contains("退出长者模式"));
    assert!(html.contains("朗读本页"), "elder mode offers read-aloud");
    app.get("/prefs?contrast=1&next=/").await;
    let (_, html) = app.text("/").await;
    assert!(html.contains("elder contrast"));
    app.get("/prefs?elder=0&next=/").await;
    let (_, html) = app.text("/").await;
    assert!(!html.contains(" elder"));
    assert!(!html.contains("朗读本页"));
}

#[tokio::test]
async fn preference_links_never_redirect_off_site() {
    let app = TestApp::spawn().await;
    let r = app.get("/prefs?elder=1&next=https://evil.example/").await;
    assert_eq!(r.headers()["location"], "/");
    let r = app.get("/prefs?elder=1&next=//evil.example/").await;
    assert_eq!(r.headers()["location"], "/");
}

#[tokio::test]
async fn search_results_link_to_the_guide_and_offer_help_when_empty() {
    let app = TestApp::spawn().await;
    let code = app.code_of("居民身份证补领").await;
    let (_, html) = app.text("/search?q=身份证补领").await;
    assert!(html.contains(&format!("to=%2Fservices%2F{code}")));
    let (_, html) = app.text("/search?q=zzzzqqqq").await;
    assert!(html.contains("没有找到"));
    assert!(html.contains("tel:12345"));
}

#[tokio::test]
async fn user_text_is_escaped_in_pages() {
    let app = TestApp::spawn().await;
    let (_, html) = app
        .text("/search?q=%3Cscript%3Ealert(1)%3C/script%3E")
        .await;
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(html.contains("&#60;script&#62;alert(1)"));
}

#[tokio::test]
async fn the_api_lists_filters_and_pages_the_catalog() {
    let app = TestApp::spawn().await;
    let (status, all) = app.json("/api/v1/services?limit=5&offset=0").await;
    assert_eq!(status, 200);
    let total = all["total"].as_u64().expect("total");
    assert_eq!(total as usize, app.state.catalog().services.len());
    let items = all["items"].as_array().expect("items");
    assert_eq!(items.len(), 5);
    for key in ["code", "name", "department", "url"] {
        assert!(items[0].get(key).is_some(), "item lacks {key}");
    }
    let (_, next) = app.json("/api/v1/services?limit=5&offset=5").await;
    assert_ne!(next["items"][0]["code"], items[0]["code"]);
    let (_, people) = app.json("/api/v1/services?audience=person&limit=1").await;
    let (_, companies) = app.json("/api/v1/services?audience=company&limit=1").await;
    assert!(people["total"].as_u64() < Some(total));
    assert!(companies["total"].as_u64() < Some(total));
    // Chinese labels work as well as slugs.
    let (_, by_label) = app
        .json("/api/v1/services?life_event=%E5%87%BA%E7%94%9F&limit=1")
        .await;
    let (_, by_slug) = app.json("/api/v1/services?life_event=birth&limit=1").await;
    assert_eq!(by_label["total"], by_slug["total"]);
}

#[tokio::test]
async fn the_api_refuses_bad_parameters_with_a_stable_code() {
    let app = TestApp::spawn().await;
    for q in [
        "limit=0",
        "limit=1000",
        "audience=alien",
        "life_event=moon",
        "police=%18%7B",
        "offset=1000001",
        "offset=19608856664294907904",
    ] {
        let (status, body) = app.json(&format!("/api/v1/services?{q}")).await;
        assert_eq!(status, 400, "{q}");
        assert_eq!(body["error"]["code"], "invalid_parameter", "{q}");
    }
    // A department is a thing that may not exist, not a bad value.
    let (status, body) = app.json("/api/v1/services?department=NOPE").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
async fn the_api_returns_a_whole_guide_by_code() {
    let app = TestApp::spawn().await;
    let code = app.code_of("居民身份证补领").await;
    let (status, body) = app.json(&format!("/api/v1/services/{code}")).await;
    assert_eq!(status, 200);
    assert_eq!(body["code"], code.as_str());
    assert!(body["materials"].as_array().is_some_and(|m| !m.is_empty()));
    assert_eq!(body["url"], format!("/services/{code}"));
    // Its English name and other names, for apps in other languages.
    let item = zhiban_domain::catalog::get_service(&app.db.db, &code)
        .await
        .unwrap();
    assert!(!item.name_en.is_empty());
    assert_eq!(body["name_en"], item.name_en.as_str());
    assert_eq!(
        body["aliases"].as_array().map(Vec::len),
        Some(item.aliases.len())
    );
    let (status, body) = app.json("/api/v1/services/NOPE").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
async fn the_openapi_document_describes_the_catalog_api() {
    let app = TestApp::spawn().await;
    let (status, spec) = app.json("/api/openapi.json").await;
    assert_eq!(status, 200);
    assert!(
        spec["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3."))
    );
    assert!(spec["paths"]["/api/v1/services"]["get"].is_object());
    assert!(spec["paths"]["/api/v1/services/{code}"]["get"].is_object());
    assert!(spec["components"]["schemas"]["ServiceList"].is_object());
}

#[tokio::test]
async fn health_and_readiness_probes_answer() {
    let app = TestApp::spawn().await;
    assert_eq!(app.text("/healthz").await, (200, "ok".to_string()));
    assert_eq!(app.text("/readyz").await.0, 200);
}

#[tokio::test]
async fn responses_carry_security_headers() {
    let app = TestApp::spawn().await;
    let r = app.get("/").await;
    let h = r.headers();
    assert!(
        h["content-security-policy"]
            .to_str()
            .expect("csp")
            .contains("default-src 'self'")
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
}

#[tokio::test]
async fn assets_are_served_with_types_and_caching() {
    let app = TestApp::spawn().await;
    let r = app.get("/assets/site.css").await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/css")
    );
    assert_eq!(r.headers()["cache-control"], "public, max-age=86400");
    assert_eq!(app.get("/assets/nope.css").await.status().as_u16(), 404);
    // Pages link the versioned URL, which is kept for a year.
    let (_, home) = app.text("/").await;
    let css = hrefs(&home)
        .into_iter()
        .find(|h| h.starts_with("/assets/site.css?v="))
        .expect("a versioned stylesheet link");
    let r = app.get(&css).await;
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    // A stale version is not promised forever.
    let r = app.get("/assets/site.css?v=000000000000").await;
    assert_eq!(r.headers()["cache-control"], "public, max-age=86400");
}

#[tokio::test]
async fn text_is_compressed_for_browsers_that_take_it_but_signed_in_pages_are_not() {
    let app = TestApp::spawn().await;
    let get = |path: &str, encoding: &str| {
        zhiban_testing::client()
            .get(app.url(path))
            .header("accept-encoding", encoding)
            .send()
    };
    for (path, encoding) in [
        ("/", "br"),
        ("/", "gzip"),
        ("/assets/site.css", "gzip, deflate, br"),
        ("/assets/site.js", "gzip"),
        ("/api/v1/services?limit=5", "gzip"),
    ] {
        let r = get(path, encoding).await.expect("get");
        let used = r.headers()["content-encoding"]
            .to_str()
            .expect("h")
            .to_string();
        assert!(encoding.contains(&used), "{path}: {used}");
        let plain = app.get(path).await.bytes().await.expect("body").len();
        let packed = r.bytes().await.expect("body").len();
        assert!(packed * 2 < plain, "{path}: {packed} of {plain} bytes");
    }
    // Without Accept-Encoding: as is.
    assert!(
        !app.get("/")
            .await
            .headers()
            .contains_key("content-encoding")
    );
    // A signed-in page carries a form token beside typed text: never
    // compressed (BREACH).
    app.login().await;
    let r = app
        .client
        .get(app.url("/admin/search?try=%E6%8A%A4%E7%85%A7"))
        .header("accept-encoding", "gzip, br")
        .send()
        .await
        .expect("get");
    assert_eq!(r.status().as_u16(), 200);
    assert!(!r.headers().contains_key("content-encoding"));
}

#[tokio::test]
async fn when_the_database_is_gone_readiness_fails_and_pages_explain_with_a_request_id() {
    let app = TestApp::spawn().await;
    app.db.db.close().await;
    assert_eq!(app.text("/readyz").await.0, 503);
    // Public pages keep working from the in-memory catalog …
    assert_eq!(app.text("/services").await.0, 200);
    // … while a page that needs the database shows the 500 page.
    let (_, page) = app.text("/admin/login").await;
    let csrf = zhiban_testing::hidden(&page, "_csrf");
    let r = app
        .post_form(
            "/admin/login",
            &[
                ("username", "admin"),
                ("password", "x"),
                ("_csrf", csrf.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 500);
    let id = r.headers()["x-request-id"]
        .to_str()
        .expect("id")
        .to_string();
    let html = r.text().await.expect("body");
    assert!(html.contains("系统暂时出现问题"));
    assert!(html.contains(&id));
    assert!(!html.contains("database error"), "no internals shown");
}

#[tokio::test]
async fn smart_search_understands_how_citizens_type() {
    let app = TestApp::spawn().await;
    let code = app.code_of("居民身份证补领").await;
    for q in ["身份证丢了", "sfz补办", "身份證補領"] {
        let (_, body) = app
            .json(&format!(
                "/api/v1/search?q={}&limit=3",
                zhiban_testing::urlencode(q)
            ))
            .await;
        assert_eq!(
            body["results"][0]["url"],
            format!("/services/{code}"),
            "{q}: {body}"
        );
    }
    let (_, html) = app.text("/search?q=身份证丢了").await;
    assert!(html.contains("<mark>"), "matches are highlighted");
    assert_eq!(
        html.find(&format!("/services/{code}")),
        html.find("/services/"),
        "first hit"
    );
}

#[tokio::test]
async fn a_corrected_typo_is_offered_as_did_you_mean() {
    let app = TestApp::spawn().await;
    let (_, body) = app
        .json("/api/v1/search?q=%E9%A9%BE%E4%BD%BF%E8%AF%81%E6%8D%A2%E8%AF%81")
        .await;
    assert_eq!(body["corrected"], "驾驶证换证");
    assert!(
        body["results"][0]["title"]
            .as_str()
            .is_some_and(|t| t.contains("驾驶证"))
    );
    let (_, html) = app.text("/search?q=驾使证换证").await;
    assert!(html.contains("您是不是要找"));
}

#[tokio::test]
async fn search_facets_narrow_the_results_and_can_be_cleared() {
    let app = TestApp::spawn().await;
    let (_, all) = app.text("/search?q=证明").await;
    let (_, api) = app
        .json("/api/v1/search?q=%E8%AF%81%E6%98%8E&limit=100")
        .await;
    let total = api["total"].as_u64().expect("total");
    assert!(all.contains(&format!("共 {total} 项")));
    let (_, people) = app.text("/search?q=证明&audience=company").await;
    assert!(people.contains("清除筛选"));
    assert!(
        !people.contains(&format!("共 {total} 项")),
        "the facet narrows"
    );
}

#[tokio::test]
async fn an_empty_search_offers_a_way_forward() {
    let app = TestApp::spawn().await;
    let (status, html) = app.text("/search?q=量子纠缠望远镜").await;
    assert_eq!(status, 200);
    assert!(html.contains("没有找到"));
    assert!(html.contains("tel:12345"));
    assert!(html.contains("href=\"/services\""));
}

#[tokio::test]
async fn suggestions_follow_what_is_typed() {
    let app = TestApp::spawn().await;
    let (_, body) = app.json("/api/v1/suggest?q=%E6%8A%A4%E7%85%A7").await;
    let list = body["suggestions"].as_array().expect("list");
    assert!(!list.is_empty());
    assert!(
        list.iter()
            .all(|s| s.as_str().is_some_and(|s| s.contains("护照")))
    );
    let (_, body) = app.json("/api/v1/suggest?q=gjj").await;
    assert!(
        body["suggestions"]
            .as_array()
            .expect("list")
            .iter()
            .any(|s| s.as_str().is_some_and(|s| s.contains("公积金")))
    );
}

#[tokio::test]
async fn the_search_api_refuses_bad_limits() {
    let app = TestApp::spawn().await;
    let (status, body) = app.json("/api/v1/search?q=a&limit=0").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "invalid_parameter");
}

#[tokio::test]
async fn the_audience_a_person_filtered_by_is_remembered_for_later_searches() {
    let app = TestApp::spawn().await;
    let codes = |html: &str| -> Vec<String> {
        html.split("to=%2Fservices%2F")
            .skip(1)
            .map(|rest| rest.chars().take_while(|c| *c != '"').collect())
            .collect()
    };
    let companies: Vec<String> = app
        .json("/api/v1/services?audience=company&limit=100")
        .await
        .1["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["code"].as_str().map(str::to_string))
        .collect();
    let first_company = |list: &[String]| list.iter().position(|c| companies.contains(c));
    let before = codes(&app.text("/search?q=%E6%B3%A8%E9%94%80").await.1);
    let r = app
        .get("/search?q=%E6%B3%A8%E9%94%80&audience=company")
        .await;
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_string();
    assert!(cookie.starts_with("zb_audience=company"), "{cookie}");
    // A later unfiltered search prefers items for companies.
    let after = codes(&app.text("/search?q=%E6%B3%A8%E9%94%80").await.1);
    assert_ne!(before, after, "the ranking changed");
    assert!(first_company(&after) <= first_company(&before));
}

#[tokio::test]
async fn one_address_adds_at_most_thirty_searches_a_minute_to_the_analytics() {
    let app = TestApp::spawn().await;
    for i in 0..35 {
        let (status, _) = app
            .text(&format!("/search?q=%E8%BA%AB%E4%BB%BD%E8%AF%81{i}"))
            .await;
        assert_eq!(status, 200, "searching itself is never refused");
    }
    let logged: i64 = zhiban_store::sqlx::query_scalar("SELECT COUNT(*) FROM search_log")
        .fetch_one(app.db.db.pool())
        .await
        .expect("count");
    assert_eq!(logged, 30);
}

/// The 大家都在搜 links of a page.
fn hot_links(html: &str) -> Vec<String> {
    let Some(block) = html.split("class=\"hot").nth(1) else {
        return Vec::new();
    };
    let block = block.split("</p>").next().unwrap_or("");
    block
        .split(">")
        .filter_map(|part| part.strip_suffix("</a"))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn hot_searches_need_many_people_on_several_days_and_a_staff_approval() {
    use zhiban_domain::search_terms;
    let app = TestApp::spawn_unlimited().await;
    let db = &app.db.db;
    let now = db.now();
    // The probe: one address searching an advert 35 times.
    let ad = "身份证代办加微信abc123";
    for _ in 0..35 {
        app.get(&format!("/search?q={}", zhiban_testing::urlencode(ad)))
            .await;
    }
    // The same advert from six addresses over two days, and a real need
    // from six people over two days.
    for (i, q) in [ad, "新生儿落户"].iter().enumerate() {
        for n in 0..6 {
            let at = now - chrono::Duration::hours(30 * (n % 2) + i as i64);
            search_terms::log_search(db, q, 3, &format!("10.0.{i}.{n}"), at)
                .await
                .expect("logged");
        }
    }
    // Many searches by one person on one day are not enough either.
    for _ in 0..10 {
        search_terms::log_search(db, "公积金提取", 3, "10.9.9.9", now)
            .await
            .expect("logged");
    }
    for path in ["/", "/search?q=%E6%8A%A4%E7%85%A7"] {
        let (_, html) = app.text(path).await;
        let hot = hot_links(&html);
        assert!(!hot.is_empty(), "{path}: the staples are shown");
        assert!(
            !hot.iter().any(|h| h.contains("微信") || h == "新生儿落户"),
            "{path}: nothing unreviewed: {hot:?}"
        );
    }
    // Staff see the one real candidate, not the advert, and approve it.
    app.login().await;
    let (_, page) = app.text("/admin/search").await;
    let section = page.split("id=\"hot-title\"").nth(1).expect("section");
    let section = section.split("</section>").next().unwrap_or("");
    assert!(section.contains("新生儿落户") && section.contains("待审核"));
    assert!(!section.contains(ad) && !section.contains("公积金提取"));
    let r = app
        .submit(
            &app.client,
            "/admin/search",
            "/admin/search/hot",
            &[("query", "新生儿落户"), ("decision", "approved")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    for path in ["/", "/search?q=%E6%8A%A4%E7%85%A7"] {
        let (_, html) = app.text(path).await;
        assert_eq!(
            hot_links(&html).first().map(String::as_str),
            Some("新生儿落户"),
            "{path}: the approved query leads the list"
        );
    }
    let audited: i64 = zhiban_store::sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'search.hot_review' AND target = '新生儿落户'",
    )
    .fetch_one(db.pool())
    .await
    .expect("audit");
    assert_eq!(audited, 1);
}

#[tokio::test]
async fn registration_links_the_privacy_notice_people_consent_to() {
    let app = TestApp::spawn().await;
    let (_, register) = app.text("/register").await;
    assert!(hrefs(&register).iter().any(|h| h == "/privacy"));
    let (status, notice) = app.text("/privacy").await;
    assert_eq!(status, 200);
    assert!(notice.contains(zhiban_domain::identity::citizen::PRIVACY_VERSION));
    // What it promises about search queries is the configured retention.
    let days = app.state.config.search_log_days;
    assert!(notice.contains(&format!("{days} 天后删除")), "{days}");
    app.get("/prefs?lang=en&next=/").await;
    let (_, english) = app.text("/privacy").await;
    assert!(english.contains("Privacy notice"));
}
