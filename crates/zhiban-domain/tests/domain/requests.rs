//! 政民互动 (#17): routing requests to their unit, judged on three sets
//! written apart from the history the router learns from:
//! tests/routing/dev.tsv (191 requests), tests/routing/fresh.tsv (80,
//! written after the word list was settled) and tests/routing/unseen.tsv
//! (120, written by someone who saw only the dispatch catalogue, and never
//! used to extend the word list).
//!
//! The issue's target is 90% top-1 on the dev set. History of the figures
//! in docs/BENCHMARKS.md; trained as the portal trains it, the router now
//! measures 96.3% / 100% (top-1 / top-3) on the dev set, 90.0% / 98.8% on
//! the fresh one and 93.3% / 97.5% on the unseen one. Part of the word
//! list was written after reading the dev set's misses, so the dev figure
//! flatters; the other two are the honest ones. These tests keep it from
//! getting worse; raise the floors with every gain.

use zhiban_domain::requests::routing::{Routing, evaluate};

fn check(set: &str, min_total: usize, top1: f64, top3: f64) {
    let routing = Routing::demo();
    let e = evaluate(&routing, set);
    assert!(e.total >= min_total, "only {} requests", e.total);
    assert!(
        e.top1_rate() >= top1 && e.top3_rate() >= top3,
        "top-1 {:.1}% (floor {top1}), top-3 {:.1}% (floor {top3}); misses: {:#?}",
        e.top1_rate(),
        e.top3_rate(),
        e.misses
    );
}

#[test]
fn the_router_does_not_fall_below_its_measured_accuracy_on_held_out_requests() {
    check(
        include_str!("../../../../tests/routing/dev.tsv"),
        150,
        95.0,
        99.5,
    );
}

#[test]
fn the_router_holds_on_requests_written_after_it_was_settled() {
    check(
        include_str!("../../../../tests/routing/fresh.tsv"),
        80,
        88.5,
        97.0,
    );
}

#[tokio::test]
async fn the_portals_router_learns_from_the_catalogs_service_names_too() {
    let w = zhiban_testing::World::new().await;
    requests::demo::load_history(w.db()).await.expect("history");
    let routing = requests::training(w.db(), 20_000).await.expect("trained");
    let dev = evaluate(&routing, include_str!("../../../../tests/routing/dev.tsv"));
    let demo = evaluate(
        &Routing::demo(),
        include_str!("../../../../tests/routing/dev.tsv"),
    );
    assert!(dev.top1_rate() >= 96.0, "top-1 {:.1}%", dev.top1_rate());
    assert!(
        dev.top1 > demo.top1,
        "the service names add to the catalogue and history"
    );
    let fresh = evaluate(
        &routing,
        include_str!("../../../../tests/routing/fresh.tsv"),
    );
    assert!(fresh.top1_rate() >= 90.0 && fresh.top3_rate() >= 98.5);
    let unseen = evaluate(
        &routing,
        include_str!("../../../../tests/routing/unseen.tsv"),
    );
    assert!(unseen.total >= 120);
    assert!(
        unseen.top1_rate() >= 93.0 && unseen.top3_rate() >= 97.0,
        "unseen: top-1 {:.1}%, top-3 {:.1}%",
        unseen.top1_rate(),
        unseen.top3_rate()
    );
}

// ------------------------------------------------------------------ the closed loop

use chrono::{Duration, TimeZone, Utc};
use zhiban_domain::DomainError;
use zhiban_domain::cases::calendar::WorkCalendar;
use zhiban_domain::identity::citizen::Citizen;
use zhiban_domain::identity::staff::StaffSession;
use zhiban_domain::requests::stats;
use zhiban_domain::requests::{
    self, Actor, Hall, NewRequest, Request, RequestAction, RequestSettings, RequestState,
    RequestType, Satisfaction, Step,
};
use zhiban_domain::time::local_date;
use zhiban_testing::World;

struct Loop {
    w: World,
    calendar: WorkCalendar,
    settings: RequestSettings,
    routing: Routing,
}

impl Loop {
    async fn new() -> Self {
        let w = World::new().await;
        // A Monday morning, Beijing time.
        w.db()
            .clock()
            .set(Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap());
        let routing = requests::training(w.db(), 1000).await.expect("routing");
        Loop {
            w,
            calendar: WorkCalendar::national(),
            settings: RequestSettings::default(),
            routing,
        }
    }

    fn hall(&self) -> Hall<'_> {
        Hall {
            db: self.w.db(),
            calendar: &self.calendar,
            settings: &self.settings,
            yellow_percent: 20,
            public_url: "https://zw.example.gov.cn",
        }
    }

    async fn district(&self, code: &str) -> i64 {
        self.w.unit(code).await
    }

    async fn file(&self, who: &Citizen, kind: RequestType, body: &str, street: &str) -> Request {
        let new = NewRequest {
            kind: Some(kind),
            body: body.into(),
            district_id: Some(self.district("500105").await),
            street: street.into(),
            contact_name: "王先生".into(),
            contact_phone: "13800138011".into(),
            publish_ok: true,
            ..NewRequest::default()
        };
        requests::file(&self.hall(), &self.routing, Some(who), &new)
            .await
            .expect("filed")
    }

    async fn step(
        &self,
        who: Actor<'_>,
        number: &str,
        action: RequestAction,
        step: Step,
    ) -> Result<Request, DomainError> {
        requests::act(&self.hall(), who, number, action, step).await
    }

    async fn category(&self, name: &str) -> i64 {
        requests::categories(self.w.db())
            .await
            .expect("categories")
            .into_iter()
            .find(|c| c.name == name)
            .map(|c| c.id)
            .expect("category")
    }
}

const NOISE: &str = "观音桥建新北路的烧烤店每天晚上外放音响到凌晨两点，吵得孩子根本睡不着";

async fn desks(l: &Loop) -> (StaffSession, StaffSession) {
    let dispatcher = l.w.staff("hotline1", "500000", &["call_agent"]).await;
    let cg = l.w.staff("cg1", "500000-CG", &["case_handler"]).await;
    (dispatcher, cg)
}

#[tokio::test]
async fn a_request_runs_the_loop_from_filing_to_the_citizens_rating() {
    let l = Loop::new().await;
    let who = l.w.citizen("13800138011", "王小明", 2).await;
    let (dispatcher, cg) = desks(&l).await;
    let r = l
        .file(&who, RequestType::Complaint, NOISE, "观音桥街道")
        .await;
    assert_eq!(r.state, RequestState::Submitted);
    assert!(r.number.starts_with("SQ20260302"));
    // 投诉: 15 working days from a Monday, no holidays in March 2026.
    assert_eq!(r.due_on.to_string(), "2026-03-23");
    assert_eq!(
        r.suggested_category_name, "噪声扰民",
        "the router reads the words"
    );
    assert_eq!(r.contact_phone, "13800138011");

    // The dispatcher confirms the category and dispatches in one step.
    let r = l
        .step(
            Actor::Staff(&dispatcher),
            &r.number,
            RequestAction::Dispatch,
            Step::default(),
        )
        .await
        .expect("dispatched");
    assert_eq!(r.state, RequestState::Dispatched);
    assert_eq!(r.category_name, "噪声扰民");
    assert_eq!(r.unit_name, "渝州市城市管理局");
    assert_eq!(
        r.sign_due_on.map(|d| d.to_string()).as_deref(),
        Some("2026-03-03")
    );

    // Another unit cannot sign it; the responsible one signs and answers.
    let rs = l.w.staff("rs1", "500000-RS", &["case_handler"]).await;
    let refused = l
        .step(
            Actor::Staff(&rs),
            &r.number,
            RequestAction::Sign,
            Step::default(),
        )
        .await;
    assert!(
        matches!(refused, Err(DomainError::OutOfScope)),
        "{refused:?}"
    );
    let r = l
        .step(
            Actor::Staff(&cg),
            &r.number,
            RequestAction::Sign,
            Step::default(),
        )
        .await
        .expect("signed");
    assert_eq!(r.state, RequestState::Handling);
    let short = l
        .step(
            Actor::Staff(&cg),
            &r.number,
            RequestAction::Answer,
            Step {
                reason: "已处理".into(),
                ..Step::default()
            },
        )
        .await;
    assert!(matches!(short, Err(DomainError::Invalid(ref e)) if e[0].field == "request_answer"));
    let answer = "经执法人员夜间巡查，已责令该烧烤店停止外放音响，并纳入夜间重点巡查。";
    let r = l
        .step(
            Actor::Staff(&cg),
            &r.number,
            RequestAction::Answer,
            Step {
                reason: answer.into(),
                ..Step::default()
            },
        )
        .await
        .expect("answered");
    assert_eq!(r.state, RequestState::Answered);
    assert_eq!(r.answer, answer);

    // The citizen is told, and rates it: basically satisfied closes it.
    let inbox = zhiban_domain::notify::messages(l.w.db(), who.id)
        .await
        .expect("messages");
    assert!(
        inbox
            .iter()
            .any(|m| m.title == "诉求已答复" && m.body.contains("夜间巡查"))
    );
    let stranger = l.w.citizen("13800138012", "李四", 2).await;
    let not_theirs = l
        .step(
            Actor::Citizen(&stranger),
            &r.number,
            RequestAction::Rate,
            Step::default(),
        )
        .await;
    assert!(matches!(not_theirs, Err(DomainError::NotFound)));
    let r = l
        .step(
            Actor::Citizen(&who),
            &r.number,
            RequestAction::Rate,
            Step {
                satisfaction: Some(Satisfaction::Basically),
                ..Step::default()
            },
        )
        .await
        .expect("rated");
    assert_eq!(r.state, RequestState::Concluded);
    assert_eq!(r.satisfaction, Some(Satisfaction::Basically));
    let steps: Vec<RequestAction> = requests::events(l.w.db(), r.id)
        .await
        .expect("events")
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        steps,
        [
            RequestAction::Submit,
            RequestAction::Accept,
            RequestAction::Dispatch,
            RequestAction::Sign,
            RequestAction::Answer,
            RequestAction::Rate
        ]
    );
}

#[tokio::test]
async fn an_unsatisfied_citizen_reopens_once_and_a_corrected_category_is_kept() {
    let l = Loop::new().await;
    let who = l.w.citizen("13800138021", "张三", 2).await;
    let (dispatcher, _) = desks(&l).await;
    let jw = l.w.staff("jw1", "500000-JW", &["case_handler"]).await;
    let r = l
        .file(
            &who,
            RequestType::Consult,
            "孩子明年读小学，我们是租房住的，积分入学要准备哪些材料？",
            "观音桥街道",
        )
        .await;
    assert_eq!(r.due_on.to_string(), "2026-03-04", "咨询: 2 working days");
    let school = l.category("学校招生").await;
    let r = l
        .step(
            Actor::Staff(&dispatcher),
            &r.number,
            RequestAction::Dispatch,
            Step {
                category_id: Some(school),
                ..Step::default()
            },
        )
        .await
        .expect("dispatched");
    assert_eq!(r.unit_name, "渝州市教育委员会");
    for (action, text) in [
        (RequestAction::Sign, ""),
        (
            RequestAction::Answer,
            "请携带户口簿、租房合同备案和居住证到学区学校报名，具体见教委公告。",
        ),
    ] {
        l.step(
            Actor::Staff(&jw),
            &r.number,
            action,
            Step {
                reason: text.into(),
                ..Step::default()
            },
        )
        .await
        .expect("step");
    }
    // Not satisfied: a reason is required, then it goes back to the unit.
    let no_reason = l
        .step(
            Actor::Citizen(&who),
            &r.number,
            RequestAction::Rate,
            Step {
                satisfaction: Some(Satisfaction::Unsatisfied),
                ..Step::default()
            },
        )
        .await;
    assert!(matches!(no_reason, Err(DomainError::Invalid(ref e)) if e[0].field == "reason"));
    let r = l
        .step(
            Actor::Citizen(&who),
            &r.number,
            RequestAction::Rate,
            Step {
                satisfaction: Some(Satisfaction::Unsatisfied),
                reason: "没有说清楚积分怎么算".into(),
                ..Step::default()
            },
        )
        .await
        .expect("reopened");
    assert_eq!(r.state, RequestState::Handling);
    assert!(r.reopened);
    l.step(
        Actor::Staff(&jw),
        &r.number,
        RequestAction::Answer,
        Step {
            reason: "积分按居住年限和社保缴纳年限计算，详见入学细则第五条。".into(),
            ..Step::default()
        },
    )
    .await
    .expect("answered again");
    // The second time, not satisfied closes it: once is the most.
    let r = l
        .step(
            Actor::Citizen(&who),
            &r.number,
            RequestAction::Rate,
            Step {
                satisfaction: Some(Satisfaction::Unsatisfied),
                reason: "还是不清楚".into(),
                ..Step::default()
            },
        )
        .await
        .expect("rated");
    assert_eq!(r.state, RequestState::Concluded);
    assert_eq!(r.satisfaction, Some(Satisfaction::Unsatisfied));
    // The dispatcher's category is training data for the next router.
    let trained = requests::training(l.w.db(), 1000).await.expect("training");
    assert!(
        trained.categories(
            "孩子明年读小学，我们是租房住的，积分入学要准备哪些材料？",
            1
        )[0]
        .unit
            == "学校招生"
    );
}

#[tokio::test]
async fn a_unit_returns_an_order_and_asks_for_more_time_which_the_dispatcher_grants() {
    let l = Loop::new().await;
    let who = l.w.citizen("13800138031", "刘五", 2).await;
    let (dispatcher, cg) = desks(&l).await;
    let r = l
        .file(&who, RequestType::Complaint, NOISE, "观音桥街道")
        .await;
    let r = l
        .step(
            Actor::Staff(&dispatcher),
            &r.number,
            RequestAction::Dispatch,
            Step::default(),
        )
        .await
        .expect("dispatched");
    let no_reason = l
        .step(
            Actor::Staff(&cg),
            &r.number,
            RequestAction::Return,
            Step::default(),
        )
        .await;
    assert!(matches!(no_reason, Err(DomainError::Invalid(_))));
    let r = l
        .step(
            Actor::Staff(&cg),
            &r.number,
            RequestAction::Return,
            Step {
                reason: "属于生态环境部门职责".into(),
                ..Step::default()
            },
        )
        .await
        .expect("returned");
    assert_eq!(r.state, RequestState::Accepted);
    assert_eq!(r.unit_id, None);
    // Back on the dispatcher's desk, sent again (to the same unit here).
    let r = l
        .step(
            Actor::Staff(&dispatcher),
            &r.number,
            RequestAction::Dispatch,
            Step::default(),
        )
        .await
        .expect("dispatched again");
    l.step(
        Actor::Staff(&cg),
        &r.number,
        RequestAction::Sign,
        Step::default(),
    )
    .await
    .expect("signed");
    let too_long = l
        .step(
            Actor::Staff(&cg),
            &r.number,
            RequestAction::AskExtension,
            Step {
                days: Some(30),
                reason: "需要联合执法".into(),
                ..Step::default()
            },
        )
        .await;
    assert!(matches!(too_long, Err(DomainError::Invalid(ref e)) if e[0].field == "extension_days"));
    let r = l
        .step(
            Actor::Staff(&cg),
            &r.number,
            RequestAction::AskExtension,
            Step {
                days: Some(5),
                reason: "需要联合执法".into(),
                ..Step::default()
            },
        )
        .await
        .expect("asked");
    assert_eq!(r.extension_asked, 5);
    let own = l
        .step(
            Actor::Staff(&cg),
            &r.number,
            RequestAction::ApproveExtension,
            Step::default(),
        )
        .await;
    assert!(own.is_err(), "a unit does not approve its own extension");
    let before = r.due_on;
    let r = l
        .step(
            Actor::Staff(&dispatcher),
            &r.number,
            RequestAction::ApproveExtension,
            Step::default(),
        )
        .await
        .expect("approved");
    assert_eq!(r.extension_asked, 0);
    assert_eq!(r.extended_days, 5);
    assert_eq!(r.due_on, l.calendar.add_working_days(before, 5));
}

#[tokio::test]
async fn merged_requests_share_the_answer_and_every_citizen_is_told() {
    let l = Loop::new().await;
    let first = l.w.citizen("13800138041", "甲", 2).await;
    let second = l.w.citizen("13800138042", "乙", 2).await;
    let (dispatcher, cg) = desks(&l).await;
    let a = l
        .file(&first, RequestType::Complaint, NOISE, "观音桥街道")
        .await;
    l.w.db().clock().advance(Duration::hours(3));
    let b = l
        .file(
            &second,
            RequestType::Complaint,
            "建新北路烧烤店晚上放音乐太吵了，都十二点了还在唱歌，影响休息",
            "观音桥街道",
        )
        .await;
    // The dispatcher sees the first as a possible duplicate of the second.
    let dups = requests::duplicates(l.w.db(), &b, 30)
        .await
        .expect("duplicates");
    assert_eq!(
        dups.iter().map(|d| d.number.as_str()).collect::<Vec<_>>(),
        [a.number.as_str()]
    );
    // Elsewhere in the city it is not a duplicate.
    let other = l
        .file(&second, RequestType::Complaint, NOISE, "寸滩街道")
        .await;
    assert!(
        requests::duplicates(l.w.db(), &other, 30)
            .await
            .expect("none")
            .iter()
            .all(|d| d.street == "寸滩街道")
    );
    let b = l
        .step(
            Actor::Staff(&dispatcher),
            &b.number,
            RequestAction::Merge,
            Step {
                into: a.number.clone(),
                ..Step::default()
            },
        )
        .await
        .expect("merged");
    assert_eq!(b.state, RequestState::Merged);
    assert_eq!(b.merged_into.as_deref(), Some(a.number.as_str()));
    l.step(
        Actor::Staff(&dispatcher),
        &a.number,
        RequestAction::Dispatch,
        Step::default(),
    )
    .await
    .expect("dispatched");
    l.step(
        Actor::Staff(&cg),
        &a.number,
        RequestAction::Sign,
        Step::default(),
    )
    .await
    .expect("signed");
    let answer = "已责令商户停止夜间外放音响，并安排夜间巡查，感谢您的监督。";
    l.step(
        Actor::Staff(&cg),
        &a.number,
        RequestAction::Answer,
        Step {
            reason: answer.into(),
            ..Step::default()
        },
    )
    .await
    .expect("answered");
    let b = requests::for_citizen(l.w.db(), second.id, &b.number)
        .await
        .expect("b");
    assert_eq!(b.state, RequestState::Answered);
    assert_eq!(b.answer, answer);
    let inbox = zhiban_domain::notify::messages(l.w.db(), second.id)
        .await
        .expect("inbox");
    assert!(
        inbox
            .iter()
            .any(|m| m.case_number == b.number && m.body.contains("夜间巡查"))
    );
    // And the second citizen rates their own request.
    let b = l
        .step(
            Actor::Citizen(&second),
            &b.number,
            RequestAction::Rate,
            Step {
                satisfaction: Some(Satisfaction::Satisfied),
                ..Step::default()
            },
        )
        .await
        .expect("rated");
    assert_eq!(b.state, RequestState::Concluded);
}

#[tokio::test]
async fn filing_refuses_what_cannot_be_handled_and_says_which_field() {
    let l = Loop::new().await;
    let who = l.w.citizen("13800138051", "周", 2).await;
    let bad = requests::file(
        &l.hall(),
        &l.routing,
        Some(&who),
        &NewRequest {
            kind: Some(RequestType::Report),
            body: "有人".into(),
            contact_phone: "12345".into(),
            ..NewRequest::default()
        },
    )
    .await;
    let Err(DomainError::Invalid(errs)) = bad else {
        panic!("{bad:?}")
    };
    let fields: Vec<&str> = errs.iter().map(|e| e.field).collect();
    assert!(fields.contains(&"request_body"));
    assert!(
        fields.contains(&"request_place"),
        "a report is about a place"
    );
    assert!(fields.contains(&"contact_phone"));
    assert!(fields.contains(&"contact_name"));
    // A department is not a district.
    let dept = l.w.unit("500000-CG").await;
    let bad = requests::file(
        &l.hall(),
        &l.routing,
        Some(&who),
        &NewRequest {
            kind: Some(RequestType::Consult),
            body: "请问公租房怎么申请，需要什么条件？".into(),
            district_id: Some(dept),
            contact_name: "周".into(),
            contact_phone: "13800138051".into(),
            ..NewRequest::default()
        },
    )
    .await;
    assert!(matches!(bad, Err(DomainError::Invalid(ref e)) if e[0].field == "request_place"));
}

#[tokio::test]
async fn a_point_picked_on_the_map_says_the_district_when_none_was_chosen() {
    let l = Loop::new().await;
    let who = l.w.citizen("13800138052", "郑", 2).await;
    let report = |point| NewRequest {
        kind: Some(RequestType::Report),
        body: "解放碑步行街有人占道摆摊卖假冒名牌包，晚上八点以后最多".into(),
        point: Some(point),
        contact_name: "郑".into(),
        contact_phone: "13800138052".into(),
        ..NewRequest::default()
    };
    let r = requests::file(
        &l.hall(),
        &l.routing,
        Some(&who),
        &report((29.557, 106.577)),
    )
    .await
    .expect("filed");
    assert_eq!(r.district_name, "渝中区");
    assert_eq!(r.point, Some((29.557, 106.577)));
    // A point outside every district does not make one up.
    let far = requests::file(&l.hall(), &l.routing, Some(&who), &report((39.9, 116.4))).await;
    assert!(
        matches!(far, Err(DomainError::Invalid(ref e)) if e[0].field == "request_place"),
        "{far:?}"
    );
}

#[tokio::test]
async fn supervision_escalates_an_unsigned_order_and_an_overdue_answer() {
    let l = Loop::new().await;
    let who = l.w.citizen("13800138061", "吴", 2).await;
    let (dispatcher, _) = desks(&l).await;
    let r = l
        .file(
            &who,
            RequestType::Consult,
            "请问老年人乘坐公交车免费需要办什么卡？",
            "观音桥街道",
        )
        .await;
    l.step(
        Actor::Staff(&dispatcher),
        &r.number,
        RequestAction::Dispatch,
        Step::default(),
    )
    .await
    .expect("dispatched");
    // Nobody signs: the morning after the signing limit, then after the deadline.
    let worker = zhiban_domain::worker::Worker {
        sms: std::sync::Arc::new(zhiban_domain::identity::sms::DevOutboxGateway),
        mail: None,
        anchors: zhiban_domain::audit::Anchors::default(),
        payments: None,
    };
    l.w.db().clock().advance(Duration::days(7));
    worker.run_due(l.w.db()).await.expect("jobs");
    let notes: Vec<(RequestAction, String)> = requests::events(l.w.db(), r.id)
        .await
        .expect("events")
        .into_iter()
        .filter(|e| e.actor_label == "电子监察")
        .map(|e| (e.action, e.note))
        .collect();
    assert!(
        notes
            .iter()
            .any(|(a, n)| *a == RequestAction::Escalate && n.contains("未签收")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|(a, n)| *a == RequestAction::Escalate && n.contains("已超过答复期限")),
        "{notes:?}"
    );
    let today = local_date(l.w.db().now());
    let r = requests::for_staff(l.w.db(), &dispatcher, &r.number)
        .await
        .expect("r");
    assert_eq!(r.light(today), zhiban_domain::cases::Light::Red);
}

#[tokio::test]
async fn department_figures_count_what_happened_to_each_order() {
    let l = Loop::new().await;
    let who = l.w.citizen("13800138071", "郑", 2).await;
    let (dispatcher, cg) = desks(&l).await;
    let mut numbers = Vec::new();
    for _ in 0..3 {
        let r = l
            .file(&who, RequestType::Complaint, NOISE, "观音桥街道")
            .await;
        l.step(
            Actor::Staff(&dispatcher),
            &r.number,
            RequestAction::Dispatch,
            Step::default(),
        )
        .await
        .expect("dispatched");
        numbers.push(r.number);
    }
    // One signed at once and answered, one signed late, one never signed.
    l.step(
        Actor::Staff(&cg),
        &numbers[0],
        RequestAction::Sign,
        Step::default(),
    )
    .await
    .expect("sign");
    l.step(
        Actor::Staff(&cg),
        &numbers[0],
        RequestAction::Answer,
        Step {
            reason: "已现场处理，商户已整改到位。".into(),
            ..Step::default()
        },
    )
    .await
    .expect("answer");
    l.step(
        Actor::Citizen(&who),
        &numbers[0],
        RequestAction::Rate,
        Step {
            satisfaction: Some(Satisfaction::Satisfied),
            ..Step::default()
        },
    )
    .await
    .expect("rate");
    l.w.db().clock().advance(Duration::days(3));
    l.step(
        Actor::Staff(&cg),
        &numbers[1],
        RequestAction::Sign,
        Step::default(),
    )
    .await
    .expect("late sign");
    let month = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    let all = stats::by_unit(l.w.db(), &dispatcher.scope, month)
        .await
        .expect("stats");
    let cg_row = all
        .iter()
        .find(|u| u.unit_name == "渝州市城市管理局")
        .expect("row");
    assert_eq!(cg_row.dispatched, 3);
    assert_eq!(cg_row.signed_on_time, 1);
    assert_eq!(cg_row.answered, 1);
    assert_eq!(cg_row.answered_on_time, 1);
    assert_eq!(cg_row.concluded, 1);
    assert_eq!((cg_row.rated, cg_row.satisfied), (1, 1));
    assert!((cg_row.response_rate().unwrap() - 100.0 / 3.0).abs() < 1e-9);
    // Another month has none; another unit's scope sees none of these.
    let feb = chrono::NaiveDate::from_ymd_opt(2026, 2, 1).unwrap();
    assert!(
        stats::by_unit(l.w.db(), &dispatcher.scope, feb)
            .await
            .expect("feb")
            .is_empty()
    );
    let rs = l.w.staff("rs2", "500000-RS", &["case_handler"]).await;
    assert!(
        stats::by_unit(l.w.db(), &rs.scope, month)
            .await
            .expect("rs")
            .is_empty()
    );
}

#[tokio::test]
async fn published_answers_hide_personal_data_and_need_the_citizens_agreement() {
    let l = Loop::new().await;
    let loaded = requests::demo::load_history(l.w.db()).await.expect("demo");
    assert_eq!(loaded, 300);
    let (list, total) = requests::published(l.w.db(), None, 0, 500)
        .await
        .expect("published");
    assert!(total > 20 && list.len() as i64 == total, "{total}");
    assert!(list.iter().all(|p| !p.answer.is_empty()));
    assert_eq!(
        requests::scrub("我的电话13912345678，身份证500105199001011234，门牌12号"),
        "我的电话139****5678，身份证500***********1234，门牌12号"
    );
    // Withdrawn from 公开选登 or never agreed: not found.
    let dispatcher = l.w.staff("hotline9", "500000", &["call_agent"]).await;
    let first = list[0].number.clone();
    requests::set_published(l.w.db(), &dispatcher, &first, false)
        .await
        .expect("unpublish");
    assert!(matches!(
        requests::published_one(l.w.db(), &first).await,
        Err(DomainError::NotFound)
    ));
}

#[tokio::test]
async fn an_anonymous_report_keeps_nothing_about_its_writer_and_opens_with_its_secret() {
    let l = Loop::new().await;
    let jiangbei = l.district("500105").await;
    let new = NewRequest {
        kind: Some(RequestType::Report),
        body: "观音桥某小区地下车库有人私设赌场，每晚十点以后人员进出频繁。".into(),
        district_id: Some(jiangbei),
        street: "观音桥街道".into(),
        // Whatever a form sends here is not kept.
        contact_name: "张三".into(),
        contact_phone: "13800138099".into(),
        ..NewRequest::default()
    };
    let (r, secret) = requests::anonymous::file_anonymous(&l.hall(), &l.routing, &new)
        .await
        .expect("filed");
    assert_eq!(secret.len(), 12);
    assert_eq!(r.masked_name(), "匿名");
    let (name, phone, hash, anonymous): (String, String, String, i64) = sqlx::query_as(
        "SELECT contact_name, contact_phone, secret_hash, anonymous FROM requests WHERE id = $1",
    )
    .bind(r.id)
    .fetch_one(l.w.db().pool())
    .await
    .expect("row");
    assert!(name.is_empty() && phone.is_empty() && anonymous == 1);
    assert!(!hash.contains(&secret));
    let found = requests::anonymous::follow(l.w.db(), &r.number.to_lowercase(), &secret)
        .await
        .expect("followed");
    assert_eq!(found.number, r.number);
    assert!(matches!(
        requests::anonymous::follow(l.w.db(), &r.number, "ABCDEFGHJKMN").await,
        Err(DomainError::NotFound)
    ));
    // A signed-in request cannot be opened this way, whatever the secret.
    let c = l.w.citizen("13800138011", "王小明", 2).await;
    let named = l
        .file(
            &c,
            RequestType::Complaint,
            "建新北路烧烤店外放音响到凌晨两点，吵得睡不着。",
            "观音桥街道",
        )
        .await;
    assert!(matches!(
        requests::anonymous::follow(l.w.db(), &named.number, "").await,
        Err(DomainError::NotFound)
    ));
    // Only reports and suggestions go without an account.
    let complaint = NewRequest {
        kind: Some(RequestType::Complaint),
        ..new.clone()
    };
    assert!(matches!(
        requests::anonymous::file_anonymous(&l.hall(), &l.routing, &complaint).await,
        Err(DomainError::Invalid(e)) if e[0].code == "anonymous_kinds"
    ));
}
