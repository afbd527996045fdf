//! 好差评 against a real database: one rating per concluded case, a bad
//! one opening a rectification due in the setting's working days and
//! texting the unit, the rectification's steps with a follow-up call for
//! real-name ratings and one appeal, anonymous ratings closing without a
//! call, counter-visit links that rate once and expire, data scope, and
//! monthly statistics checked against counts made here.

use chrono::Duration;
use zhiban_domain::cases::{self, Actor, CaseAction, Step};
use zhiban_domain::identity::Scope;
use zhiban_domain::identity::citizen::Citizen;
use zhiban_domain::identity::staff::StaffSession;
use zhiban_domain::ratings::stats;
use zhiban_domain::ratings::{
    self, Channel, RatingInput, RectAction, RectActor, RectState, RectTab, Score,
};
use zhiban_domain::time::local_date;
use zhiban_domain::{Conflict, DomainError, notify, pii};
use zhiban_store::sqlx;
use zhiban_testing::{World, refusals};

use super::cases::apply;

fn said(score: &str, tags: &[&str], comment: &str, anonymous: bool) -> RatingInput {
    RatingInput {
        score: score.into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        comment: comment.into(),
        anonymous,
    }
}

/// A 居民身份证补领 case of `who`, taken to 办结 by `clerk`.
async fn concluded(w: &World, clerk: &StaffSession, who: &Citizen) -> cases::Case {
    let case = apply(w, who).await;
    // 工本费: waived here (paying is in the payments tests).
    zhiban_domain::payments::waive(&w.payments(), clerk, &case.number, "演示：免收")
        .await
        .expect("waived");
    for action in [
        CaseAction::Accept,
        CaseAction::Approve,
        CaseAction::Conclude,
    ] {
        cases::act(
            &w.desk(),
            Actor::Staff(clerk),
            &case.number,
            action,
            Step::default(),
        )
        .await
        .expect("step");
    }
    cases::for_citizen(w.db(), who, &case.number)
        .await
        .expect("case")
}

/// Decrypted bodies of the queued texts.
async fn queued_texts(w: &World) -> Vec<String> {
    let stored: Vec<String> = sqlx::query_scalar("SELECT payload FROM jobs WHERE kind = 'sms'")
        .fetch_all(w.db().pool())
        .await
        .expect("sms jobs");
    stored
        .iter()
        .map(|t| pii::open(w.db(), pii::ctx::JOB_PAYLOAD, t).expect("decrypt"))
        .collect()
}

#[test]
fn a_bad_rating_must_say_what_went_wrong_and_unknown_tags_are_dropped() {
    let e = said("2", &[], "", false).check().expect_err("no reason");
    assert_eq!((e[0].field, e[0].code), ("comment", "bad_rating_reason"));
    assert!(said("1", &["等待时间长"], "", false).check().is_ok());
    assert!(said("2", &[], "窗口只开了一个", false).check().is_ok());
    // A good tag does not explain a bad rating.
    assert!(said("2", &["服务态度好"], "", false).check().is_err());
    let ok = said(
        "5",
        &["一次办成", "一次办成", "<script>"],
        "  很好  ",
        false,
    )
    .check()
    .expect("good");
    assert_eq!(ok.tags, vec!["一次办成".to_string()]);
    assert_eq!(ok.comment, "很好");
    assert_eq!(ok.score, Score::VerySatisfied);
    let e = said("6", &[], "", false)
        .check()
        .expect_err("no such level");
    assert_eq!(e[0].field, "score");
    let long = "好".repeat(501);
    let e = said("5", &[], &long, false).check().expect_err("too long");
    assert_eq!((e[0].field, e[0].code), ("comment", "too_long"));
}

#[tokio::test]
async fn a_case_is_rated_once_after_it_concludes_and_a_bad_rating_opens_a_rectification() {
    let w = World::new().await;
    let who = w.citizen("13800138021", "王五", 2).await;
    let desk = w.desk();

    // Not before a result is reached.
    let open = apply(&w, &who).await;
    let early = ratings::rate_case(&desk, &who, &open.number, &said("5", &[], "", false)).await;
    assert!(matches!(
        early,
        Err(DomainError::Conflict(Conflict::NotAllowed))
    ));

    // The unit's rectification staff are texted about a bad rating.
    w.staff("hz.lead", "500000-GA-HZ", &["case_handler"]).await;
    sqlx::query("UPDATE staff_users SET phone = '13700000021' WHERE username = 'hz.lead'")
        .execute(w.db().pool())
        .await
        .expect("phone");
    let clerk = w.staff("hz.clerk", "500000-GA-HZ", &["case_handler"]).await;
    let case = concluded(&w, &clerk, &who).await;
    // Someone else's case is not found.
    let other = w.citizen("13800138022", "赵六", 2).await;
    let theirs = ratings::rate_case(&desk, &other, &case.number, &said("5", &[], "", false)).await;
    assert!(matches!(theirs, Err(DomainError::NotFound)));

    let today = local_date(w.db().now());
    let r = ratings::rate_case(
        &desk,
        &who,
        &case.number,
        &said("2", &["等待时间长"], "排队一个多小时", false),
    )
    .await
    .expect("rated");
    assert_eq!(r.score, Score::Unsatisfied);
    assert_eq!(r.channel, Channel::Online);
    assert_eq!(r.unit_id, case.department_id);
    assert_eq!(r.service_code, case.service_code);
    assert_eq!(r.staff, "hz.clerk", "the one who concluded it");
    assert!(r.real_name);
    // The comment is encrypted at rest.
    let stored: String = sqlx::query_scalar("SELECT comment FROM ratings WHERE id = $1")
        .bind(r.id)
        .fetch_one(w.db().pool())
        .await
        .expect("stored");
    assert!(!stored.contains("排队"));

    let again = ratings::rate_case(&desk, &who, &case.number, &said("5", &[], "", false)).await;
    assert!(matches!(
        again,
        Err(DomainError::Conflict(Conflict::AlreadyRated))
    ));

    let (_, x) = ratings::of_case(w.db(), case.id)
        .await
        .expect("read")
        .expect("rating");
    let x = x.expect("a bad rating opens a rectification");
    assert_eq!(x.state, RectState::Open);
    assert_eq!(
        x.due_on,
        w.calendar
            .add_working_days(today, w.settings.rectify_working_days)
    );
    let texts = queued_texts(&w).await;
    assert!(
        texts
            .iter()
            .any(|t| t.contains("13700000021") && t.contains("差评整改")),
        "{texts:?}"
    );

    // A good rating opens nothing.
    let fine = concluded(&w, &clerk, &other).await;
    ratings::rate_case(&desk, &other, &fine.number, &said("4", &[], "", false))
        .await
        .expect("rated");
    let (_, none) = ratings::of_case(w.db(), fine.id)
        .await
        .expect("read")
        .expect("rating");
    assert!(none.is_none());
}

#[tokio::test]
async fn a_real_name_bad_rating_is_fixed_called_back_and_appealed_once() {
    let w = World::new().await;
    let who = w.citizen("13800138023", "孙七", 2).await;
    let desk = w.desk();
    let clerk = w.staff("hz.clerk", "500000-GA-HZ", &["case_handler"]).await;
    let case = concluded(&w, &clerk, &who).await;
    ratings::rate_case(
        &desk,
        &who,
        &case.number,
        &said("1", &["材料反复提交"], "", false),
    )
    .await
    .expect("rated");
    let (_, x) = ratings::of_case(w.db(), case.id).await.unwrap().unwrap();
    let x = x.unwrap();
    let lead = w.staff("hz.lead", "500000-GA-HZ", &["case_handler"]).await;
    let outsider = w.staff("yz.lead", "500103-MZ", &["case_handler"]).await;

    // Out of scope: refused like a record that does not exist, and on
    // the audit log as refused.
    assert!(matches!(
        ratings::rectification_for_staff(w.db(), &outsider, x.id).await,
        Err(DomainError::OutOfScope)
    ));
    let by_outsider = ratings::act(
        &desk,
        RectActor::Staff(&outsider),
        x.id,
        RectAction::Verify,
        "看看",
        None,
    )
    .await;
    assert!(matches!(by_outsider, Err(DomainError::OutOfScope)));
    let refused = refusals(w.db(), "yz.lead").await;
    assert_eq!(refused.len(), 2);
    assert_eq!(refused[0].0, format!("rectification:{}", x.id));
    assert!(
        ratings::rectifications(w.db(), &outsider, RectTab::All)
            .await
            .unwrap()
            .is_empty()
    );
    let todo = ratings::rectifications(w.db(), &lead, RectTab::Todo)
        .await
        .unwrap();
    assert_eq!(todo.iter().map(|r| r.id).collect::<Vec<_>>(), vec![x.id]);

    // Every step says something.
    let blank = ratings::act(
        &desk,
        RectActor::Staff(&lead),
        x.id,
        RectAction::Verify,
        " ",
        None,
    )
    .await;
    assert!(matches!(blank, Err(DomainError::Invalid(ref e)) if e[0].field == "note"));
    // The rater's step is not the unit's, and the unit's not the rater's.
    let by_staff = ratings::act(
        &desk,
        RectActor::Staff(&lead),
        x.id,
        RectAction::Appeal,
        "x",
        None,
    )
    .await;
    assert!(matches!(
        by_staff,
        Err(DomainError::Conflict(Conflict::NotAllowed))
    ));

    let x = ratings::act(
        &desk,
        RectActor::Staff(&lead),
        x.id,
        RectAction::Verify,
        "经核实，补领材料清单未写明需要近期照片",
        Some(x.revision),
    )
    .await
    .expect("verified");
    assert_eq!(x.state, RectState::Fixing);
    assert_eq!(x.verdict, "founded");
    // A page read before the step is stale.
    let stale = ratings::act(
        &desk,
        RectActor::Staff(&lead),
        x.id,
        RectAction::Fix,
        "x",
        Some(x.revision - 1),
    )
    .await;
    assert!(matches!(stale, Err(DomainError::Conflict(Conflict::Stale))));
    let x = ratings::act(
        &desk,
        RectActor::Staff(&lead),
        x.id,
        RectAction::Fix,
        "已在办事指南中补充照片要求并培训窗口人员",
        None,
    )
    .await
    .expect("fixed");
    assert_eq!(
        x.state,
        RectState::Followup,
        "a real-name rating is called back"
    );
    assert!(x.on_time());
    let titles: Vec<String> = notify::messages(w.db(), who.id)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.title)
        .collect();
    assert!(titles.iter().any(|t| t == "差评整改结果"), "{titles:?}");
    // Not closed, and not appealable, before the call.
    assert!(!x.appealable());
    assert!(matches!(
        ratings::appeal_case(&desk, &who, &case.number, "还是不行").await,
        Err(DomainError::Conflict(Conflict::NotAllowed))
    ));
    let x = ratings::act(
        &desk,
        RectActor::Staff(&lead),
        x.id,
        RectAction::Followup,
        "12月7日电话回访，评价人表示理解",
        None,
    )
    .await
    .expect("called back");
    assert_eq!(x.state, RectState::Closed);

    // One appeal sends it back to verification with a new deadline.
    w.db().clock().advance(Duration::days(3));
    let x = ratings::appeal_case(&desk, &who, &case.number, "照片要求还是没写清楚")
        .await
        .expect("appealed");
    assert_eq!(x.state, RectState::Open);
    assert_eq!(x.appeal, "照片要求还是没写清楚");
    assert!(x.resolved_at.is_none());
    let today = local_date(w.db().now());
    assert_eq!(
        x.due_on,
        w.calendar
            .add_working_days(today, w.settings.rectify_working_days)
    );
    for (a, note) in [
        (
            RectAction::Unfounded,
            "办事指南第三项已写明照片要求，已发送截图",
        ),
        (RectAction::Followup, "再次回访"),
    ] {
        ratings::act(&desk, RectActor::Staff(&lead), x.id, a, note, None)
            .await
            .expect("step");
    }
    let twice = ratings::appeal_case(&desk, &who, &case.number, "再申诉").await;
    assert!(
        matches!(twice, Err(DomainError::Invalid(ref e)) if e[0].code == "appealed_before"),
        "{twice:?}"
    );
    let events: Vec<RectAction> = ratings::rect_events(w.db(), x.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        events,
        vec![
            RectAction::Verify,
            RectAction::Fix,
            RectAction::Followup,
            RectAction::Appeal,
            RectAction::Unfounded,
            RectAction::Followup,
        ]
    );
}

#[tokio::test]
async fn an_anonymous_bad_rating_closes_on_resolution_and_overdue_ones_are_listed() {
    let w = World::new().await;
    let who = w.citizen("13800138024", "周八", 2).await;
    let desk = w.desk();
    let clerk = w.staff("hz.clerk", "500000-GA-HZ", &["case_handler"]).await;
    let case = concluded(&w, &clerk, &who).await;
    ratings::rate_case(
        &desk,
        &who,
        &case.number,
        &said("2", &["服务态度差"], "", true),
    )
    .await
    .expect("rated");
    let (r, x) = ratings::of_case(w.db(), case.id).await.unwrap().unwrap();
    assert!(!r.real_name);
    let x = x.unwrap();
    let lead = w.staff("hz.lead", "500000-GA-HZ", &["case_handler"]).await;

    // Past the deadline, unresolved: overdue.
    w.db().clock().advance(Duration::days(12));
    let overdue = ratings::rectifications(w.db(), &lead, RectTab::Overdue)
        .await
        .unwrap();
    assert_eq!(overdue.len(), 1);
    let x = ratings::act(
        &desk,
        RectActor::Staff(&lead),
        x.id,
        RectAction::Fix,
        "已约谈窗口人员",
        None,
    )
    .await
    .expect("fixed");
    assert_eq!(
        x.state,
        RectState::Closed,
        "no call for an anonymous rating"
    );
    assert!(!x.on_time(), "fixed after the deadline");
    assert!(
        ratings::rectifications(w.db(), &lead, RectTab::Overdue)
            .await
            .unwrap()
            .is_empty()
    );
    let call = ratings::act(
        &desk,
        RectActor::Staff(&lead),
        x.id,
        RectAction::Followup,
        "x",
        None,
    )
    .await;
    assert!(matches!(
        call,
        Err(DomainError::Conflict(Conflict::NotAllowed))
    ));
    // The anonymous rater is not told by text or message.
    assert!(
        notify::messages(w.db(), who.id)
            .await
            .unwrap()
            .iter()
            .all(|m| m.title != "差评整改结果")
    );
}

#[tokio::test]
async fn a_counter_visit_link_rates_once_and_expires() {
    let w = World::new().await;
    let desk = w.desk();
    let clerk = w
        .staff("hz.window", "500000-GA-HZ", &["case_handler"])
        .await;
    let reader = w
        .staff("hz.reader", "500000-GA-HZ", &["catalog_editor"])
        .await;
    assert!(matches!(
        ratings::invite(&desk, &reader, "13800138030", None).await,
        Err(DomainError::Conflict(Conflict::NotAllowed))
    ));
    let bad_phone = ratings::invite(&desk, &clerk, "1234", None).await;
    assert!(matches!(bad_phone, Err(DomainError::Invalid(ref e)) if e[0].field == "phone"));

    let item = ratings::VisitItem {
        code: "500000-GA-HZ-0001-03",
        name: "居民身份证补领",
    };
    let token = ratings::invite(&desk, &clerk, "13800138030", Some(item))
        .await
        .expect("invited");
    let texts = queued_texts(&w).await;
    assert!(
        texts
            .iter()
            .any(|t| t.contains("13800138030") && t.contains(&format!("/rate/{token}"))),
        "{texts:?}"
    );
    // The link's token is not stored; the phone is encrypted.
    let (hash, phone): (String, String) =
        sqlx::query_as("SELECT token_hash, phone FROM rating_visits")
            .fetch_one(w.db().pool())
            .await
            .unwrap();
    assert!(!hash.contains(&token) && !phone.contains("13800138030"));

    assert!(matches!(
        ratings::visit(&desk, "not-a-token").await,
        Err(DomainError::NotFound)
    ));
    let v = ratings::rate_visit(&desk, &token, &said("5", &["服务态度好"], "", false))
        .await
        .expect("rated");
    let r = v.rating.expect("rating");
    assert_eq!(r.channel, Channel::Counter);
    assert_eq!(r.staff, "hz.window");
    assert_eq!(r.service_name, "居民身份证补领");
    let again = ratings::rate_visit(&desk, &token, &said("1", &["等待时间长"], "", false)).await;
    assert!(matches!(
        again,
        Err(DomainError::Conflict(Conflict::AlreadyRated))
    ));

    // A link past its week rates nothing.
    let late = ratings::invite(&desk, &clerk, "13800138031", None)
        .await
        .expect("invited");
    w.db().clock().advance(Duration::days(8));
    let expired = ratings::rate_visit(&desk, &late, &said("5", &[], "", false)).await;
    assert!(matches!(expired, Err(DomainError::Invalid(ref e)) if e[0].code == "expired"));
    assert!(ratings::visit(&desk, &late).await.unwrap().rating.is_none());
}

#[tokio::test]
async fn monthly_figures_match_counts_made_from_the_ratings() {
    let w = World::new().await;
    let desk = w.desk();
    let hz = w
        .staff("hz.window", "500000-GA-HZ", &["case_handler"])
        .await;
    let yz = w.staff("yz.window", "500103-MZ", &["case_handler"]).await;
    // (staff, score, anonymous)
    let plan = [
        (&hz, "5", false),
        (&hz, "4", false),
        (&hz, "2", false),
        (&hz, "1", true),
        (&yz, "3", false),
        (&yz, "5", false),
        (&yz, "2", false),
    ];
    let mut tokens = Vec::new();
    for (i, (who, score, anonymous)) in plan.iter().enumerate() {
        let t = ratings::invite(&desk, who, &format!("1380013805{i}"), None)
            .await
            .unwrap();
        let tags: &[&str] = if score.parse::<i64>().unwrap() <= 2 {
            &["等待时间长"]
        } else {
            &[]
        };
        ratings::rate_visit(&desk, &t, &said(score, tags, "", *anonymous))
            .await
            .unwrap();
        tokens.push(t);
    }
    // Fix the first bad rating of 户政 (real-name: called back too).
    let root = w.root().await;
    let open = ratings::rectifications(w.db(), &root, RectTab::Todo)
        .await
        .unwrap();
    assert_eq!(open.len(), 3);
    let first = open
        .iter()
        .find(|x| x.rating.staff == "hz.window" && x.rating.real_name)
        .unwrap();
    for (a, note) in [
        (RectAction::Fix, "已整改"),
        (RectAction::Followup, "已回访"),
    ] {
        ratings::act(&desk, RectActor::Staff(&root), first.id, a, note, None)
            .await
            .unwrap();
    }

    let today = local_date(w.db().now());
    let s = stats::month(w.db(), &Scope::All, today).await.unwrap();
    let n = plan.len() as i64;
    let good = plan.iter().filter(|(_, s, _)| *s >= "3").count() as i64;
    let bad = n - good;
    assert_eq!(s.total.ratings, n);
    assert_eq!(s.total.satisfied, good);
    assert_eq!(s.total.bad, bad);
    assert_eq!(s.total.rectified, 1);
    assert_eq!(s.total.followed_up, 1);
    let named_bad = plan.iter().filter(|(_, s, a)| *s <= "2" && !*a).count() as i64;
    assert_eq!(s.total.real_name_bad, named_bad);
    let rate = s.total.satisfaction_rate().unwrap();
    assert!((rate - good as f64 * 100.0 / n as f64).abs() < 1e-9);
    assert_eq!(s.total.by_score, [2, 1, 1, 2, 1]);
    // Per unit: the 户政 unit had four, one of them fixed.
    let hz_unit = w.unit("500000-GA-HZ").await;
    let u = s
        .units
        .iter()
        .find(|u| u.key == hz_unit.to_string())
        .unwrap();
    assert_eq!((u.ratings, u.bad, u.rectified), (4, 2, 1));
    assert_eq!(u.rectification_rate(), Some(50.0));
    // A district's scope sees its own unit only.
    let scoped = stats::month(w.db(), &yz.scope, today).await.unwrap();
    assert_eq!(scoped.total.ratings, 3);
    assert!(scoped.units.iter().all(|u| u.key != hz_unit.to_string()));
    // Another month is empty.
    let before = stats::month(w.db(), &Scope::All, today - Duration::days(40))
        .await
        .unwrap();
    assert_eq!(before.total.ratings, 0);
    // The CSV has the total, each unit, each group and each staff member.
    let csv = String::from_utf8(stats::report_csv(&s).unwrap()).unwrap();
    assert!(csv.starts_with('\u{feff}'));
    assert_eq!(
        csv.lines().count(),
        1 + 1 + s.units.len() + s.items.len() + s.staff.len()
    );
    assert!(csv.contains("hz.window 民警"));
}

#[tokio::test]
async fn the_demo_ratings_load_once_and_their_figures_add_up() {
    let w = World::new().await;
    let n = ratings::demo::load_history(w.db()).await.expect("demo");
    assert!(n > 300, "{n}");
    assert_eq!(ratings::demo::load_history(w.db()).await.unwrap(), 0);
    let months = stats::months(w.db()).await.unwrap();
    assert!(months.len() >= 4, "{months:?}");
    let mut total = 0;
    for m in &months {
        let s = stats::month(w.db(), &Scope::All, stats::parse_month(m).unwrap())
            .await
            .unwrap();
        assert_eq!(
            s.total.ratings,
            s.units.iter().map(|u| u.ratings).sum::<i64>()
        );
        assert_eq!(s.total.ratings, s.total.by_score.iter().sum::<i64>());
        total += s.total.ratings;
    }
    assert_eq!(total, i64::try_from(n).unwrap());
}
