//! 政务公开 (#16): the review workflow with its stages and its people,
//! data scope over sites, scheduling, withdrawal, revisions and versions,
//! and bodies made safe. The web tests walk the same through HTTP.

use chrono::{TimeZone, Utc};
use zhiban_domain::content::reading::{self, PublicArticle, StaffFilter};
use zhiban_domain::content::{ArticleAction, ArticleInput, ArticleKind, ArticleState, editing};
use zhiban_domain::identity::staff::StaffSession;
use zhiban_domain::{Conflict, DomainError};
use zhiban_store::sqlx;
use zhiban_testing::{World, refusals};

async fn channel(w: &World, site: &str, code: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT c.id FROM content_channels c JOIN content_sites s ON s.id = c.site_id \
         WHERE s.code = $1 AND c.code = $2",
    )
    .bind(site)
    .bind(code)
    .fetch_one(w.db().pool())
    .await
    .expect("channel")
}

async fn news(w: &World, title: &str) -> ArticleInput {
    ArticleInput {
        site: "city".into(),
        kind: "news".into(),
        channels: vec![channel(w, "city", "yaowen").await],
        title: title.into(),
        body: "全市政务服务大厅自下周一起延长周末服务时间。\n\n详情请拨打 12345 咨询。".into(),
        source: "渝州市政务服务管理办公室".into(),
        ..ArticleInput::default()
    }
}

async fn revision(w: &World, id: i64) -> i64 {
    sqlx::query_scalar("SELECT revision FROM articles WHERE id = $1")
        .bind(id)
        .fetch_one(w.db().pool())
        .await
        .expect("revision")
}

async fn step(
    w: &World,
    who: &StaffSession,
    id: i64,
    action: ArticleAction,
    note: &str,
) -> Result<ArticleState, DomainError> {
    let r = revision(w, id).await;
    editing::step(w.db(), who, id, r, action, note).await
}

/// An editor and two reviewers of the city site.
struct Desk {
    editor: StaffSession,
    first: StaffSession,
    last: StaffSession,
}

async fn desk(w: &World) -> Desk {
    Desk {
        editor: w.staff("bj.wang", "500000", &["content_editor"]).await,
        first: w.staff("sh.li", "500000", &["reviewer"]).await,
        last: w.staff("sh.zhao", "500000", &["reviewer"]).await,
    }
}

/// 送审, 初审, 终审.
async fn through_review(w: &World, d: &Desk, id: i64) {
    step(w, &d.editor, id, ArticleAction::Submit, "")
        .await
        .expect("submit");
    step(w, &d.first, id, ArticleAction::Approve, "")
        .await
        .expect("初审");
    step(w, &d.last, id, ArticleAction::Approve, "")
        .await
        .expect("终审");
}

fn live_title(p: &PublicArticle) -> Option<&str> {
    match p {
        PublicArticle::Live(a) => Some(a.title.as_str()),
        _ => None,
    }
}

#[tokio::test]
async fn an_editor_drafts_a_reviewer_returns_it_and_two_people_publish_the_fixed_text() {
    let w = World::new().await;
    let editor = w.staff("bj.wang", "500000", &["content_editor"]).await;
    let first = w.staff("sh.li", "500000", &["reviewer"]).await;
    let last = w.staff("sh.zhao", "500000", &["reviewer"]).await;

    let id = editing::create(
        w.db(),
        &editor,
        &news(&w, "政务服务大厅延长周末服务时间").await,
    )
    .await
    .expect("draft");
    assert_eq!(
        live_title(&reading::public(w.db(), id).await.expect("public")),
        None,
        "a draft is not public"
    );
    assert_eq!(
        step(&w, &editor, id, ArticleAction::Submit, "")
            .await
            .expect("submit"),
        ArticleState::InReview
    );
    // 初审 returns it with the reason; the editor sees it in the history.
    assert!(matches!(
        step(&w, &first, id, ArticleAction::Reject, " ").await,
        Err(DomainError::Invalid(e)) if e[0].field == "note"
    ));
    step(&w, &first, id, ArticleAction::Reject, "标题请写明起始日期")
        .await
        .expect("reject");
    let d = reading::detail(w.db(), &editor, id).await.expect("detail");
    assert_eq!(d.state, ArticleState::Draft);
    let last_event = d.events.last().expect("event");
    assert_eq!(last_event.action, ArticleAction::Reject);
    assert_eq!(last_event.note, "标题请写明起始日期");
    assert_eq!(last_event.stage_code, "first");

    let fixed = news(&w, "12 月 12 日起政务服务大厅延长周末服务时间").await;
    editing::update(w.db(), &editor, id, d.revision, &fixed)
        .await
        .expect("fixed");
    step(&w, &editor, id, ArticleAction::Submit, "")
        .await
        .expect("submit");
    // Two stages on the city site: 初审 then 终审, by two people.
    assert_eq!(
        step(&w, &first, id, ArticleAction::Approve, "")
            .await
            .expect("初审"),
        ArticleState::InReview
    );
    assert!(matches!(
        step(&w, &first, id, ArticleAction::Approve, "").await,
        Err(DomainError::Conflict(Conflict::SameReviewer))
    ));
    assert_eq!(
        step(&w, &last, id, ArticleAction::Approve, "")
            .await
            .expect("终审"),
        ArticleState::Published
    );
    assert_eq!(
        live_title(&reading::public(w.db(), id).await.expect("public")),
        Some("12 月 12 日起政务服务大厅延长周末服务时间")
    );
    let latest = reading::latest(w.db(), "city", &[ArticleKind::News], 3)
        .await
        .expect("latest");
    assert_eq!(latest[0].id, id, "newest first on the home page");
    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_log WHERE target = $1 ORDER BY seq")
            .bind(format!("article:{id}"))
            .fetch_all(w.db().pool())
            .await
            .expect("audit");
    assert_eq!(
        actions,
        [
            "content.create",
            "content.submit",
            "content.reject",
            "content.save",
            "content.submit",
            "content.approve",
            // The 初审 reviewer's second try, refused.
            "scope.refused",
            "content.publish"
        ]
    );
}

#[tokio::test]
async fn nobody_passes_their_own_text_and_refusals_are_audited() {
    let w = World::new().await;
    // 内容审核 may also write; not pass what they wrote.
    let reviewer = w.staff("sh.li", "500000", &["reviewer"]).await;
    let editor = w.staff("bj.wang", "500000", &["content_editor"]).await;
    let id = editing::create(w.db(), &reviewer, &news(&w, "自己写的稿件").await)
        .await
        .expect("draft");
    step(&w, &reviewer, id, ArticleAction::Submit, "")
        .await
        .expect("submit");
    assert!(matches!(
        step(&w, &reviewer, id, ArticleAction::Approve, "").await,
        Err(DomainError::Conflict(Conflict::OwnText))
    ));
    assert!(matches!(
        step(&w, &editor, id, ArticleAction::Approve, "").await,
        Err(DomainError::Conflict(Conflict::NotAllowed))
    ));
    let refused = refusals(w.db(), "sh.li").await;
    assert!(
        refused
            .iter()
            .any(|(target, why, _)| target == &format!("article:{id}") && why == "own_text"),
        "{refused:?}"
    );
    assert!(
        refusals(w.db(), "bj.wang")
            .await
            .iter()
            .any(|(_, why, _)| why == "permission")
    );
    // The queue of people who may pass it: not the author.
    let queue = StaffFilter {
        to_review: true,
        ..StaffFilter::default()
    };
    let mine = reading::staff_list(w.db(), &reviewer, &queue, 50)
        .await
        .expect("queue");
    assert!(mine.iter().all(|r| r.id != id));
    let other = w.staff("sh.zhao", "500000", &["reviewer"]).await;
    let theirs = reading::staff_list(w.db(), &other, &queue, 50)
        .await
        .expect("queue");
    assert!(theirs.iter().any(|r| r.id == id));
}

#[tokio::test]
async fn a_district_works_only_on_its_own_site() {
    let w = World::new().await;
    let district = w.staff("yz.bj", "500103", &["reviewer"]).await;
    let city = w.staff("bj.wang", "500000", &["content_editor"]).await;
    // Writing to the city site: refused, named, audited.
    let r = editing::create(w.db(), &district, &news(&w, "区里想发到市政府网站").await).await;
    let Err(DomainError::Invalid(errors)) = r else {
        panic!("expected a refusal, got {r:?}");
    };
    assert!(
        errors
            .iter()
            .any(|e| e.field == "site" && e.code == "outside_scope")
    );
    assert!(
        errors
            .iter()
            .any(|e| e.field == "channels" && e.code == "outside_scope")
    );
    assert!(!refusals(w.db(), "yz.bj").await.is_empty());
    // A city article is invisible to the district, whatever it tries.
    let id = editing::create(w.db(), &city, &news(&w, "市级稿件").await)
        .await
        .expect("city draft");
    assert!(matches!(
        reading::detail(w.db(), &district, id).await,
        Err(DomainError::OutOfScope)
    ));
    assert!(matches!(
        step(&w, &district, id, ArticleAction::Submit, "").await,
        Err(DomainError::OutOfScope)
    ));
    // Its own site works, with its one review stage.
    let own = ArticleInput {
        site: "500103".into(),
        channels: vec![channel(&w, "500103", "dongtai").await],
        ..news(&w, "渝中区新增社区食堂").await
    };
    let id = editing::create(w.db(), &district, &own).await.expect("own");
    step(&w, &district, id, ArticleAction::Submit, "")
        .await
        .expect("submit");
    let other = w.staff("yz.sh", "500103", &["reviewer"]).await;
    assert_eq!(
        step(&w, &other, id, ArticleAction::Approve, "")
            .await
            .expect("one stage"),
        ArticleState::Published
    );
    // The list shows only its own site.
    let all = reading::staff_list(w.db(), &district, &StaffFilter::default(), 500)
        .await
        .expect("list");
    assert!(!all.is_empty() && all.iter().all(|r| r.site_name == "渝中区人民政府"));
}

#[tokio::test]
async fn a_channel_takes_one_kind_and_a_bulletin_needs_its_start() {
    let w = World::new().await;
    let editor = w.staff("bj.wang", "500000", &["content_editor"]).await;
    let wrong = ArticleInput {
        channels: vec![channel(&w, "city", "tongzhi").await],
        ..news(&w, "新闻发到了通知公告栏目").await
    };
    let Err(DomainError::Invalid(e)) = editing::create(w.db(), &editor, &wrong).await else {
        panic!("a news item in a notices channel must be refused");
    };
    assert_eq!((e[0].field, e[0].code), ("channels", "wrong_kind"));
    let bulletin = ArticleInput {
        kind: "bulletin".into(),
        channels: vec![channel(&w, "city", "bianmin").await],
        ..news(&w, "关于临时停水的公告").await
    };
    let Err(DomainError::Invalid(e)) = editing::create(w.db(), &editor, &bulletin).await else {
        panic!("a bulletin without its start must be refused");
    };
    assert!(
        e.iter()
            .any(|e| (e.field, e.code) == ("starts_on", "required"))
    );
}

#[tokio::test]
async fn unsafe_or_inaccessible_bodies_are_refused_and_nothing_is_stored() {
    let w = World::new().await;
    let editor = w.staff("bj.wang", "500000", &["content_editor"]).await;
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM articles")
        .fetch_one(w.db().pool())
        .await
        .expect("count");
    let script = ArticleInput {
        body: r#"<p>通知</p><script>document.location="http://evil.example"</script>"#.into(),
        ..news(&w, "带脚本的稿件").await
    };
    let Err(DomainError::Invalid(e)) = editing::create(w.db(), &editor, &script).await else {
        panic!("script must be refused");
    };
    assert!(e.iter().any(|e| e.code == "unsafe_removed"));
    let image = ArticleInput {
        body: r#"<p>现场照片</p><img src="/files/photo.jpg">"#.into(),
        ..news(&w, "图片没有替代文字").await
    };
    let Err(DomainError::Invalid(e)) = editing::create(w.db(), &editor, &image).await else {
        panic!("an image without alt text must be refused");
    };
    assert!(
        e.iter()
            .any(|e| e.code == "image_alt_missing" && e.detail == "1")
    );
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM articles")
        .fetch_one(w.db().pool())
        .await
        .expect("count");
    assert_eq!(before, after);
    // What is stored has been cleaned: Word's styles are gone.
    let word = ArticleInput {
        body: r#"<p class="MsoNormal" style="font-family:仿宋">一、适用对象</p><table><tr><td onclick="x()">企业</td></tr></table>"#.into(),
        ..news(&w, "从 Word 粘贴").await
    };
    let Err(DomainError::Invalid(_)) = editing::create(w.db(), &editor, &word).await else {
        panic!("an event handler counts as unsafe");
    };
    let clean = ArticleInput {
        body: r#"<p class="MsoNormal" style="font-family:仿宋">一、适用对象</p><table><tr><td>企业</td></tr></table>"#.into(),
        ..news(&w, "从 Word 粘贴").await
    };
    let id = editing::create(w.db(), &editor, &clean)
        .await
        .expect("clean paste");
    let d = reading::detail(w.db(), &editor, id).await.expect("detail");
    assert_eq!(
        d.body,
        "<p>一、适用对象</p><table><tbody><tr><td>企业</td></tr></tbody></table>"
    );
}

#[tokio::test]
async fn scheduled_articles_go_online_and_offline_at_their_times() {
    let w = World::new().await;
    let start = Utc
        .with_ymd_and_hms(2026, 12, 7, 1, 0, 0)
        .single()
        .expect("time");
    w.db().clock().set(start);
    let d = desk(&w).await;
    // Beijing time: on the 9th at 09:00, off on the 12th at 18:00.
    let input = ArticleInput {
        publish_at: "2026-12-09T09:00".into(),
        unpublish_at: "2026-12-12 18:00".into(),
        ..news(&w, "定时发布的稿件").await
    };
    let id = editing::create(w.db(), &d.editor, &input)
        .await
        .expect("draft");
    through_review(&w, &d, id).await;
    let public = |w: &World| {
        let db = w.db().clone();
        async move { live_title(&reading::public(&db, id).await.expect("public")).map(str::to_string) }
    };
    assert_eq!(public(&w).await, None, "approved, not yet due");
    // 09:00 Beijing on the 9th is 01:00 UTC.
    w.db().clock().set(
        Utc.with_ymd_and_hms(2026, 12, 9, 0, 59, 0)
            .single()
            .expect("t"),
    );
    assert_eq!(public(&w).await, None, "a minute early");
    w.db().clock().set(
        Utc.with_ymd_and_hms(2026, 12, 9, 1, 0, 0)
            .single()
            .expect("t"),
    );
    assert_eq!(public(&w).await.as_deref(), Some("定时发布的稿件"));
    let listed = reading::latest(w.db(), "city", &[ArticleKind::News], 50)
        .await
        .expect("latest");
    assert!(listed.iter().any(|i| i.id == id));
    w.db().clock().set(
        Utc.with_ymd_and_hms(2026, 12, 12, 10, 0, 0)
            .single()
            .expect("t"),
    );
    assert_eq!(public(&w).await, None, "taken down at 18:00 Beijing time");
    let listed = reading::latest(w.db(), "city", &[ArticleKind::News], 50)
        .await
        .expect("latest");
    assert!(listed.iter().all(|i| i.id != id));
}

#[tokio::test]
async fn a_revision_stays_offline_until_approved_and_an_old_version_comes_back_through_review() {
    let w = World::new().await;
    let d = desk(&w).await;
    let editor = &d.editor;
    let id = editing::create(w.db(), editor, &news(&w, "第一版标题").await)
        .await
        .expect("draft");
    through_review(&w, &d, id).await;
    let rev = revision(&w, id).await;
    editing::update(w.db(), editor, id, rev, &news(&w, "第二版标题").await)
        .await
        .expect("revise");
    // An older page still holding the first revision is refused.
    assert!(matches!(
        editing::update(w.db(), editor, id, rev, &news(&w, "覆盖").await).await,
        Err(DomainError::Conflict(Conflict::Stale))
    ));
    assert_eq!(
        live_title(&reading::public(w.db(), id).await.expect("public")),
        Some("第一版标题"),
        "citizens keep reading the approved version"
    );
    through_review(&w, &d, id).await;
    assert_eq!(
        live_title(&reading::public(w.db(), id).await.expect("public")),
        Some("第二版标题")
    );
    // Rollback to v1: a new working version, a draft, the public page unchanged.
    let rev = revision(&w, id).await;
    editing::restore(w.db(), editor, id, rev, 1)
        .await
        .expect("restore");
    let now = reading::detail(w.db(), editor, id).await.expect("detail");
    assert_eq!(
        (now.version, now.state, now.title.as_str()),
        (3, ArticleState::Draft, "第一版标题")
    );
    assert_eq!(now.live_version, Some(2));
    assert_eq!(
        live_title(&reading::public(w.db(), id).await.expect("public")),
        Some("第二版标题")
    );
}

#[tokio::test]
async fn withdrawal_needs_a_reason_and_the_public_page_gives_it() {
    let w = World::new().await;
    let d = desk(&w).await;
    let (editor, r1) = (&d.editor, &d.first);
    let id = editing::create(w.db(), editor, &news(&w, "将被撤回的稿件").await)
        .await
        .expect("draft");
    assert!(
        matches!(
            step(&w, r1, id, ArticleAction::Withdraw, "发错了").await,
            Err(DomainError::Conflict(Conflict::NotAllowed))
        ),
        "nothing to withdraw before it is published"
    );
    through_review(&w, &d, id).await;
    assert!(
        matches!(
            step(&w, editor, id, ArticleAction::Withdraw, "发错了").await,
            Err(DomainError::Conflict(Conflict::NotAllowed))
        ),
        "editors do not withdraw"
    );
    assert!(matches!(
        step(&w, r1, id, ArticleAction::Withdraw, "").await,
        Err(DomainError::Invalid(_))
    ));
    step(
        &w,
        r1,
        id,
        ArticleAction::Withdraw,
        "活动时间调整，另行通知",
    )
    .await
    .expect("withdraw");
    match reading::public(w.db(), id).await.expect("public") {
        PublicArticle::Withdrawn { title, reason } => {
            assert_eq!(title, "将被撤回的稿件");
            assert_eq!(reason, "活动时间调整，另行通知");
        }
        other => panic!("expected withdrawn, got {other:?}"),
    }
}

#[tokio::test]
async fn the_demo_sites_read_like_real_ones() {
    let w = World::new().await;
    let sites = reading::sites(w.db()).await.expect("sites");
    let codes: Vec<&str> = sites.iter().map(|s| s.code.as_str()).collect();
    assert_eq!(codes, ["city", "police", "500103", "500105"]);
    let news = reading::latest(w.db(), "city", &[ArticleKind::News], 20)
        .await
        .expect("news");
    assert!(news.len() >= 5);
    assert!(
        news.windows(2)
            .all(|p| p[0].published_at >= p[1].published_at)
    );
    // A notice published to two sites is listed on both.
    let shared = "关于启用新版居民身份证申领网上预约系统的通知";
    for site in ["city", "police"] {
        let notices = reading::latest(w.db(), site, &[ArticleKind::Notice], 20)
            .await
            .expect("notices");
        assert!(notices.iter().any(|i| i.title == shared), "{site}");
    }
    let bulletins = reading::latest(w.db(), "police", &[ArticleKind::Bulletin], 20)
        .await
        .expect("bulletins");
    assert!(bulletins.iter().all(|b| b.fields.starts_on.is_some()));
}

mod health {
    use super::*;
    use zhiban_domain::catalog::CatalogSnapshot;
    use zhiban_domain::content::health::{self, SiteHealth, Status};

    async fn report(w: &World) -> Vec<SiteHealth> {
        let catalog = CatalogSnapshot::load(w.db()).await.expect("catalog");
        let today = zhiban_domain::time::local_date(w.db().now());
        health::report(w.db(), &catalog, today)
            .await
            .expect("report")
    }

    fn of<'a>(r: &'a [SiteHealth], code: &str) -> &'a SiteHealth {
        r.iter().find(|h| h.site.code == code).expect("site")
    }

    #[tokio::test]
    async fn site_health_warns_before_the_home_page_goes_stale_and_names_the_day() {
        let w = World::new().await;
        let r = report(&w).await;
        // 江北区: its newest article is 20 days old, its notices 210.
        let jiangbei = of(&r, "500105");
        assert_eq!(jiangbei.home.status, Status::Failing);
        assert!(
            jiangbei
                .channels
                .iter()
                .all(|(_, c)| c.status == Status::Failing)
        );
        // The city: updated yesterday; fails 14 days after its newest article.
        let city = of(&r, "city");
        let last = city.home.last.expect("published");
        assert_eq!(city.home.fails_on, last + chrono::Duration::days(14));
        assert_eq!(city.home.status, Status::Ok);
        // Eleven days after that article: a warning, with the same date.
        let start = w.db().now();
        let today = zhiban_domain::time::local_date(start);
        w.db()
            .clock()
            .set(start + chrono::Duration::days((last - today).num_days() + 11));
        let city = of(&report(&w).await, "city").clone();
        assert_eq!(city.home.status, Status::Warning);
        assert_eq!(city.home.fails_on, last + chrono::Duration::days(14));
        w.db().clock().advance(chrono::Duration::days(3));
        assert_eq!(of(&report(&w).await, "city").home.status, Status::Failing);
        // A new article puts it right.
        let d = desk(&w).await;
        let id = editing::create(w.db(), &d.editor, &news(&w, "新的一篇动态").await)
            .await
            .expect("draft");
        through_review(&w, &d, id).await;
        let city = of(&report(&w).await, "city").clone();
        assert_eq!(city.home.status, Status::Ok);
        assert_eq!(
            city.home.last,
            Some(zhiban_domain::time::local_date(w.db().now()))
        );
    }

    #[tokio::test]
    async fn complete_guides_pass_and_a_guide_without_a_key_element_is_named() {
        let w = World::new().await;
        // The demo guides are complete, 即办件 (limit 0) included.
        assert!(
            report(&w)
                .await
                .iter()
                .all(|h| h.incomplete_guides.is_empty())
        );
        let catalog = CatalogSnapshot::load(w.db()).await.expect("catalog");
        let immediate = catalog
            .services
            .iter()
            .find(|s| s.legal_limit_days == 0)
            .expect("an item done on the spot");
        assert!(health::missing_elements(immediate).is_empty());
        let mut guide = (*catalog.services[0]).clone();
        guide.place.clear();
        guide.enquiry_phone = " ".into();
        guide.materials.clear();
        assert_eq!(
            health::missing_elements(&guide),
            ["materials", "place", "enquiry_phone"]
        );
    }

    #[tokio::test]
    async fn links_to_withdrawn_articles_and_missing_guides_are_found() {
        let w = World::new().await;
        let d = desk(&w).await;
        let target = editing::create(w.db(), &d.editor, &news(&w, "被引用的稿件").await)
            .await
            .expect("draft");
        through_review(&w, &d, target).await;
        let guide = w.item("500000-GA-HZ-0001-02").await;
        let body = format!(
            r#"<p>详见<a href="/articles/{target}">此前的通知</a>、<a href="/services/{}">办事指南</a>和<a href="/services/500000-NO-SUCH">旧指南</a>。</p>"#,
            guide.code
        );
        let citing = ArticleInput {
            body,
            ..news(&w, "引用其他页面的稿件").await
        };
        let id = editing::create(w.db(), &d.editor, &citing)
            .await
            .expect("draft");
        through_review(&w, &d, id).await;
        let broken: Vec<String> = of(&report(&w).await, "city")
            .broken_links
            .iter()
            .map(|b| b.href.clone())
            .collect();
        assert_eq!(broken, ["/services/500000-NO-SUCH"]);
        step(&w, &d.first, target, ArticleAction::Withdraw, "已过时")
            .await
            .expect("withdraw");
        let city = of(&report(&w).await, "city").clone();
        let mut broken: Vec<String> = city.broken_links.iter().map(|b| b.href.clone()).collect();
        broken.sort();
        assert_eq!(
            broken,
            [
                format!("/articles/{target}"),
                "/services/500000-NO-SUCH".to_string()
            ]
        );
        assert!(city.broken_links.iter().all(|b| b.article == id));
        assert_eq!(city.status(), Status::Failing);
    }
}

mod policies {
    use super::*;

    async fn policy_input(w: &World, title: &str) -> ArticleInput {
        ArticleInput {
            kind: "policy".into(),
            channels: vec![channel(w, "city", "zhengce").await],
            doc_number: "渝州府发〔2026〕1号".into(),
            issuer: "渝州市人民政府".into(),
            written_on: "2026-11-20".into(),
            topic: "劳动就业".into(),
            services: "500000-RS-0008-01，500000-RS-0008-02".into(),
            ..news(w, title).await
        }
    }

    #[tokio::test]
    async fn a_configured_model_drafts_from_the_policy_text_and_a_failing_one_falls_back() {
        use zhiban_domain::content::drafting::{DraftSource, LlmSettings};
        use zhiban_testing::stand_in_model::StandInModel;
        let w = World::new().await;
        let d = desk(&w).await;
        let mut input = policy_input(&w, "渝州市关于延续实施失业保险稳岗返还政策的通知").await;
        input.body = "中小微企业按上年度实际缴纳失业保险费的60%返还。\n\n咨询电话：12333。".into();
        let policy = editing::create(w.db(), &d.editor, &input)
            .await
            .expect("policy");

        let model = StandInModel::start().await;
        let settings = LlmSettings {
            llm_url: model.url.clone(),
            llm_model: "gov-policy-7b".into(),
            llm_key_env: String::new(),
        };
        let (draft, source) = editing::draft_interpretation(w.db(), &d.editor, policy, &settings)
            .await
            .expect("drafted");
        assert_eq!(source, DraftSource::Model);
        let got = reading::detail(w.db(), &d.editor, draft)
            .await
            .expect("draft");
        assert!(got.body.contains("【替身模型】"), "{}", got.body);
        assert!(got.body.contains("60%返还"), "built from the policy text");
        assert!(!got.body.contains("<script"), "the answer is sanitised");
        assert_eq!(
            got.state,
            ArticleState::Draft,
            "nothing is published unread"
        );
        let sent = model.requests();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0]["model"], "gov-policy-7b");
        let user = sent[0]["messages"][1]["content"].as_str().unwrap_or("");
        assert!(user.contains("60%返还") && user.contains("补贴标准："));

        let down = StandInModel::failing().await;
        let settings = LlmSettings {
            llm_url: down.url.clone(),
            ..settings
        };
        let (draft, source) = editing::draft_interpretation(w.db(), &d.editor, policy, &settings)
            .await
            .expect("drafted offline");
        assert_eq!(source, DraftSource::Fallback);
        let got = reading::detail(w.db(), &d.editor, draft)
            .await
            .expect("draft");
        assert!(got.body.contains("补贴标准") && !got.body.contains("替身"));
        let (_, source) =
            editing::draft_interpretation(w.db(), &d.editor, policy, &LlmSettings::default())
                .await
                .expect("offline");
        assert_eq!(source, DraftSource::Offline);
    }

    #[tokio::test]
    async fn a_policy_names_its_issuer_date_validity_and_services_and_they_must_exist() {
        let w = World::new().await;
        let d = desk(&w).await;
        let bad = ArticleInput {
            issuer: " ".into(),
            written_on: "".into(),
            validity: "maybe".into(),
            services: "500000-RS-0008-01 NO-SUCH-CODE".into(),
            replaced_by: "abc".into(),
            ..policy_input(&w, "缺少要素的政策").await
        };
        let Err(DomainError::Invalid(e)) = editing::create(w.db(), &d.editor, &bad).await else {
            panic!("must be refused");
        };
        let got: Vec<(&str, &str)> = e.iter().map(|e| (e.field, e.code)).collect();
        for want in [
            ("issuer", "required"),
            ("written_on", "required"),
            ("validity", "invalid_choice"),
            ("replaced_by", "invalid_choice"),
        ] {
            assert!(got.contains(&want), "{want:?} in {got:?}");
        }
        // Codes are checked once the rest is right.
        let unknown = ArticleInput {
            services: "500000-RS-0008-01 NO-SUCH-CODE".into(),
            ..policy_input(&w, "引用不存在事项的政策").await
        };
        let Err(DomainError::Invalid(e)) = editing::create(w.db(), &d.editor, &unknown).await
        else {
            panic!("an unknown service code must be refused");
        };
        assert_eq!(
            (e[0].field, e[0].code, e[0].detail.as_str()),
            ("services", "unknown_service", "NO-SUCH-CODE")
        );
        let id = editing::create(
            w.db(),
            &d.editor,
            &policy_input(&w, "创业担保贷款新规").await,
        )
        .await
        .expect("policy");
        through_review(&w, &d, id).await;
        let behind = reading::policies_for_service(w.db(), "500000-RS-0008-02")
            .await
            .expect("policies");
        assert!(behind.iter().any(|p| p.id == id), "the guide shows it");
        let a = reading::detail(w.db(), &d.editor, id)
            .await
            .expect("detail");
        assert_eq!(a.fields.validity, "valid", "in force unless said otherwise");
        assert_eq!(
            a.fields.written_on.map(|d| d.to_string()).as_deref(),
            Some("2026-11-20")
        );
    }

    #[tokio::test]
    async fn a_policy_is_pushed_to_people_it_concerns_with_the_reason() {
        use zhiban_domain::recommend::{self, RuleInput};
        const REISSUE: &str = "500000-GA-HZ-0001-03";
        let w = World::new().await;
        let d = desk(&w).await;
        let id = editing::create(
            w.db(),
            &d.editor,
            &ArticleInput {
                services: REISSUE.into(),
                ..policy_input(&w, "渝州市居民身份证办理便民措施").await
            },
        )
        .await
        .expect("policy");
        // Not pushed before it is published.
        let applicant = w.citizen("13800000071", "孙八", 2).await;
        super::super::cases::apply(&w, &applicant).await;
        assert!(
            recommend::policies_for(w.db(), &applicant, &[])
                .await
                .expect("push")
                .is_empty()
        );
        through_review(&w, &d, id).await;
        let pushed = recommend::policies_for(w.db(), &applicant, &[])
            .await
            .expect("push");
        assert_eq!(pushed.len(), 1);
        assert_eq!(pushed[0].policy.id, id);
        assert_eq!(pushed[0].service_name, "居民身份证补领");
        // Someone who never applied gets none.
        let other = w.citizen("13800000072", "周九", 2).await;
        assert!(
            recommend::policies_for(w.db(), &other, &[])
                .await
                .expect("push")
                .is_empty()
        );
        // A recommended service brings the policies governing it, and the
        // same policy is not pushed twice.
        recommend::save(
            w.db(),
            &w.root().await,
            &RuleInput {
                code: "id-everyone".into(),
                name: "身份证补领".into(),
                kind: "age".into(),
                min: "16".into(),
                max: "120".into(),
                service_code: REISSUE.into(),
                reason: "您已年满 {年龄} 周岁。".into(),
                active: "1".into(),
                ..RuleInput::default()
            },
        )
        .await
        .expect("rule");
        let today = zhiban_domain::time::local_date(w.db().now());
        let recs = recommend::for_citizen(w.db(), &other, today)
            .await
            .expect("recs");
        let rec = recs
            .iter()
            .find(|r| r.service_code == REISSUE)
            .expect("recommended");
        assert!(rec.policies.iter().any(|p| p.id == id), "{rec:?}");
        assert!(
            recommend::policies_for(w.db(), &applicant, &recs)
                .await
                .expect("push")
                .is_empty(),
            "already shown with the service"
        );
        // Turned off: nothing pushed.
        recommend::set_off(w.db(), &applicant, true)
            .await
            .expect("off");
        assert!(
            recommend::policies_for(w.db(), &applicant, &[])
                .await
                .expect("push")
                .is_empty()
        );
    }

    #[tokio::test]
    async fn an_interpretation_points_to_a_policy_and_the_policy_lists_it() {
        let w = World::new().await;
        let d = desk(&w).await;
        let reading_of = |policy: String| {
            let w = &w;
            async move {
                ArticleInput {
                    kind: "interpretation".into(),
                    channels: vec![channel(w, "city", "jiedu").await],
                    policy,
                    ..news(w, "一图读懂新规").await
                }
            }
        };
        let news_id = editing::create(w.db(), &d.editor, &news(&w, "不是政策的新闻").await)
            .await
            .expect("news");
        let Err(DomainError::Invalid(e)) =
            editing::create(w.db(), &d.editor, &reading_of(news_id.to_string()).await).await
        else {
            panic!("an interpretation of a news item must be refused");
        };
        assert_eq!((e[0].field, e[0].code), ("policy", "not_a_policy"));
        let Err(DomainError::Invalid(e)) =
            editing::create(w.db(), &d.editor, &reading_of(String::new()).await).await
        else {
            panic!("an interpretation needs its policy");
        };
        assert_eq!((e[0].field, e[0].code), ("policy", "required"));
        let policy = editing::create(w.db(), &d.editor, &policy_input(&w, "新规").await)
            .await
            .expect("policy");
        through_review(&w, &d, policy).await;
        let id = editing::create(w.db(), &d.editor, &reading_of(policy.to_string()).await)
            .await
            .expect("interpretation");
        through_review(&w, &d, id).await;
        let fields = reading::detail(w.db(), &d.editor, policy)
            .await
            .expect("d")
            .fields;
        let links = reading::policy_links(
            w.db(),
            policy,
            zhiban_domain::content::ArticleKind::Policy,
            &fields,
        )
        .await
        .expect("links");
        assert_eq!(
            links
                .interpretations
                .iter()
                .map(|i| i.id)
                .collect::<Vec<_>>(),
            [id]
        );
    }

    #[tokio::test]
    async fn the_demo_library_keeps_repealed_documents_readable_and_points_to_what_replaced_them() {
        let w = World::new().await;
        let all = reading::live_of_kind(w.db(), zhiban_domain::content::ArticleKind::Policy)
            .await
            .expect("policies");
        assert!(all.len() >= 8);
        let old = all
            .iter()
            .find(|p| p.fields.validity == "repealed")
            .expect("a repealed document");
        let new = old.fields.replaced_by.expect("its replacement");
        assert!(
            all.iter()
                .any(|p| p.id == new && p.fields.validity == "valid")
        );
        assert!(all.iter().any(|p| p.fields.validity == "expired"));
        let readings =
            reading::live_of_kind(w.db(), zhiban_domain::content::ArticleKind::Interpretation)
                .await
                .expect("interpretations");
        assert!(
            all.iter()
                .all(|p| readings.iter().any(|r| r.fields.policy == Some(p.id)))
        );
    }
}

mod files {
    use super::*;
    use zhiban_domain::content::files::{
        self, Attach, ContentSettings, FileChanges, FileRole, NewFile,
    };
    use zhiban_testing::samples;

    fn new(role: FileRole, name: &str, body: &[u8], alt: &str) -> NewFile {
        NewFile {
            role,
            file_name: name.into(),
            body: body.to_vec(),
            too_large: false,
            alt: alt.into(),
            captions: None,
        }
    }

    fn names(files: &[files::ArticleFile]) -> Vec<String> {
        let mut n: Vec<String> = files.iter().map(|f| f.file_name.clone()).collect();
        n.sort();
        n
    }

    async fn live_files(w: &World, id: i64) -> Vec<String> {
        let PublicArticle::Live(a) = reading::public(w.db(), id).await.expect("public") else {
            panic!("not live");
        };
        names(
            &files::of_version(w.db(), id, a.version)
                .await
                .expect("files"),
        )
    }

    #[tokio::test]
    async fn citizens_get_the_files_of_the_approved_version_and_a_rollback_brings_old_ones_back() {
        let w = World::new().await;
        let d = desk(&w).await;
        let settings = ContentSettings::default();
        let attach = |changes| Attach {
            store: &w.files,
            settings: &settings,
            changes,
        };
        let first = attach(FileChanges {
            added: vec![
                new(FileRole::Attachment, "2026年部门预算.pdf", samples::PDF, ""),
                new(
                    FileRole::Image,
                    "现场.png",
                    samples::PNG,
                    "工作人员在窗口为群众办理业务",
                ),
            ],
            ..FileChanges::default()
        });
        let id = editing::create_with(
            w.db(),
            &d.editor,
            &news(&w, "带附件的稿件").await,
            Some(&first),
        )
        .await
        .expect("draft");
        let working = files::working(w.db(), id).await.expect("files");
        assert_eq!(names(&working), vec!["2026年部门预算.pdf", "现场.png"]);
        let pdf = working
            .iter()
            .find(|f| f.role() == Some(FileRole::Attachment))
            .expect("pdf");
        assert_eq!(
            (pdf.type_label(), pdf.size),
            ("PDF", samples::PDF.len() as i64)
        );
        through_review(&w, &d, id).await;
        assert_eq!(
            live_files(&w, id).await,
            vec!["2026年部门预算.pdf", "现场.png"]
        );

        // v2 swaps the PDF for a workbook: citizens keep v1's files until approval.
        let second = attach(FileChanges {
            added: vec![new(
                FileRole::Attachment,
                "三公经费.xlsx",
                samples::XLSX,
                "",
            )],
            removed: vec![pdf.id],
        });
        let rev = revision(&w, id).await;
        editing::update_with(
            w.db(),
            &d.editor,
            id,
            rev,
            &news(&w, "带附件的稿件").await,
            Some(&second),
        )
        .await
        .expect("v2");
        assert_eq!(
            names(&files::working(w.db(), id).await.expect("files")),
            vec!["三公经费.xlsx", "现场.png"]
        );
        assert_eq!(
            live_files(&w, id).await,
            vec!["2026年部门预算.pdf", "现场.png"]
        );
        through_review(&w, &d, id).await;
        assert_eq!(live_files(&w, id).await, vec!["三公经费.xlsx", "现场.png"]);

        // Rolling back to v1 brings its PDF back (same body) and drops the workbook.
        let rev = revision(&w, id).await;
        editing::restore(w.db(), &d.editor, id, rev, 1)
            .await
            .expect("restore");
        let back = files::working(w.db(), id).await.expect("files");
        assert_eq!(names(&back), vec!["2026年部门预算.pdf", "现场.png"]);
        let again = back
            .iter()
            .find(|f| f.file_name.ends_with(".pdf"))
            .expect("pdf");
        assert_eq!(again.sha256, pdf.sha256);
        assert_eq!(
            files::body(&w.files, again).await.expect("body"),
            samples::PDF
        );
        assert_eq!(live_files(&w, id).await, vec!["三公经费.xlsx", "现场.png"]);
    }

    #[tokio::test]
    async fn the_demo_disclosure_pages_carry_their_tables_as_excel_files_once() {
        use zhiban_domain::content::demo;
        let w = World::new().await;
        let n = demo::attach_tables(w.db(), &w.files)
            .await
            .expect("attached");
        assert!(n >= 2, "预算 and 三公经费 pages have tables: {n}");
        assert_eq!(
            demo::attach_tables(w.db(), &w.files).await.expect("again"),
            0,
            "a page that has files is left alone"
        );
        let id: i64 = sqlx::query_scalar(
            "SELECT id FROM articles WHERE kind = 'page' AND title LIKE '%三公%'",
        )
        .fetch_one(w.db().pool())
        .await
        .expect("page");
        let files = live_files(&w, id).await;
        assert_eq!(files.len(), 1);
        assert!(files[0].ends_with("（附表）.xlsx"), "{files:?}");
        let f = &files::working(w.db(), id).await.expect("files")[0];
        let body = files::body(&w.files, f).await.expect("body");
        assert_eq!(
            zhiban_store::documents::inspect_document(&body),
            Some(zhiban_store::documents::DocKind::Xlsx)
        );
        // The workbook holds the page's own table.
        use calamine::Reader;
        let mut book: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(body)).expect("xlsx");
        let sheet = book.worksheet_range_at(0).expect("sheet").expect("range");
        let cells: Vec<String> = sheet.cells().map(|(_, _, c)| c.to_string()).collect();
        let page = reading::public(w.db(), id).await.expect("public");
        let PublicArticle::Live(live) = page else {
            panic!("live");
        };
        let first_row = &demo::tables(&live.body)[0][0];
        for header in first_row {
            assert!(cells.contains(header), "{header} missing from {cells:?}");
        }
    }

    #[tokio::test]
    async fn a_missing_alt_text_a_wrong_type_and_an_oversized_file_are_refused_with_the_text_problems_and_nothing_is_stored()
     {
        let w = World::new().await;
        let d = desk(&w).await;
        let settings = ContentSettings::default();
        let mut huge = new(FileRole::Attachment, "全年台账.pdf", b"", "");
        huge.too_large = true;
        let changes = FileChanges {
            added: vec![
                new(FileRole::Image, "嫌疑人.png", samples::PNG, " "),
                new(
                    FileRole::Attachment,
                    "通知.pdf.exe",
                    b"MZ\x90\x00 not a document",
                    "",
                ),
                huge,
            ],
            ..FileChanges::default()
        };
        let attach = Attach {
            store: &w.files,
            settings: &settings,
            changes,
        };
        let mut input = news(&w, "").await;
        input.title = String::new();
        let Err(DomainError::Invalid(errors)) =
            editing::create_with(w.db(), &d.editor, &input, Some(&attach)).await
        else {
            panic!("refused");
        };
        let codes: Vec<(&str, &str)> = errors.iter().map(|e| (e.field, e.code)).collect();
        for want in [
            ("title", "required"),
            ("new_image_alt", "required"),
            ("new_attachment", "attachment_type"),
            ("new_attachment", "attachment_too_large"),
        ] {
            assert!(codes.contains(&want), "{want:?} missing from {codes:?}");
        }
        assert_eq!(w.stored_article_files(), 0, "nothing reached the store");
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM article_files")
            .fetch_one(w.db().pool())
            .await
            .expect("count");
        assert_eq!(n, 0);
    }
}
