//! Applications and cases against a real database: submission, the whole
//! workflow with 补正, clocks that pause, lights, data scope, uploads that
//! are refused without a trace, jobs claimed once, notifications.

use chrono::{Duration, Utc};
use zhiban_domain::cases::{
    self, Actor, CaseAction, CaseState, Delivery, Light, ListQuery, Step, Tab, Upload,
};
use zhiban_domain::forms::Answers;
use zhiban_domain::identity::citizen::{self, Citizen};
use zhiban_domain::identity::ids::Phone;
use zhiban_domain::identity::sms::DevOutboxGateway;
use zhiban_domain::notify;
use zhiban_domain::time::local_date;
use zhiban_domain::worker::Worker;
use zhiban_domain::{DomainError, jobs, pii};
use zhiban_store::sqlx;
use zhiban_testing::{TestDb, World};

const REISSUE: &str = "500000-GA-HZ-0001-03";
const PNG: &[u8] = zhiban_testing::samples::PNG;
const PDF: &[u8] = zhiban_testing::samples::PDF;

/// Fills and submits a complete 居民身份证补领 application.
pub(crate) async fn apply(w: &World, who: &Citizen) -> cases::Case {
    let item = w.item(REISSUE).await;
    let mut draft = cases::draft(w.db(), who, &item).await.expect("draft");
    let posted: Answers = [
        ("address.province", "重庆市"),
        ("address.city", "渝州市"),
        ("address.district", "渝中区"),
        ("address.detail", "解放碑街道民族路 1 号"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    cases::save_draft(w.db(), who, &mut draft, &posted, 1)
        .await
        .expect("page 1");
    let page2: Answers = [
        ("reason", "身份证不慎遗失"),
        ("delivery", "邮寄送达"),
        ("mail_address", "渝中区民族路 1 号"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    cases::save_draft(w.db(), who, &mut draft, &page2, 2)
        .await
        .expect("page 2");
    for (key, body) in [("m1", PNG), ("m2", PDF)] {
        cases::add_draft_file(
            &w.desk(),
            who,
            &draft,
            Upload {
                field_key: key,
                file_name: "scan.png",
                body: body.to_vec(),
            },
        )
        .await
        .expect("upload");
    }
    cases::submit(&w.desk(), who, &item)
        .await
        .expect("submitted")
}

/// 09:00 Beijing time on Monday 2 March 2026, a working day.
fn monday_morning() -> chrono::DateTime<Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-03-02T09:00:00+08:00")
        .expect("time")
        .with_timezone(&Utc)
}

fn step(reason: &str) -> Step {
    Step {
        reason: reason.into(),
        ..Step::default()
    }
}

#[tokio::test]
async fn a_submitted_application_gets_a_number_its_materials_a_message_and_an_sms() {
    let w = World::new().await;
    let who = w.citizen("13800138000", "李四", 2).await;
    let case = apply(&w, &who).await;
    let today = local_date(w.db().now());
    assert_eq!(case.state, CaseState::Submitted);
    assert!(
        case.number
            .starts_with(&format!("ZB{}", today.format("%Y%m%d")))
    );
    assert_eq!(
        case.answers.get("applicant_name").map(String::as_str),
        Some("李四")
    );
    assert_eq!(
        case.due_on,
        w.calendar.add_working_days(today, 5),
        "five days to accept"
    );
    let files = cases::case_files(w.db(), case.id).await.expect("files");
    assert_eq!(files.len(), 2);
    assert_eq!(files[0].content_type, "image/png");
    assert_eq!(w.stored_bodies(), 2);
    let again = apply(&w, &who).await;
    assert_ne!(again.number, case.number, "numbers are unique");

    let messages = notify::messages(w.db(), who.id).await.expect("messages");
    assert!(
        messages
            .iter()
            .any(|m| m.case_number == case.number && m.body.contains("居民身份证补领"))
    );
    let worker = Worker {
        sms: std::sync::Arc::new(DevOutboxGateway),
        mail: None,
        anchors: Default::default(),
        payments: None,
    };
    assert!(worker.run_due(w.db()).await.expect("jobs") >= 2);
    let outbox: Vec<String> = sqlx::query_scalar("SELECT body FROM sms_outbox WHERE phone = $1")
        .bind("13800138000")
        .fetch_all(w.db().pool())
        .await
        .expect("outbox");
    assert!(
        outbox.iter().any(|b| b.contains(&case.number)),
        "{outbox:?}"
    );
    // One signature for case messages and codes alike.
    let code_sms = zhiban_domain::identity::sms::signed("验证码");
    let signature = &code_sms[..code_sms.find('】').expect("signed") + '】'.len_utf8()];
    assert_eq!(signature, "【渝州市政务服务网】");
    assert!(
        outbox.iter().all(|b| b.starts_with(signature)),
        "{outbox:?}"
    );
    assert!(
        cases::drafts_of(w.db(), &who)
            .await
            .expect("drafts")
            .is_empty()
    );
}

#[tokio::test]
async fn an_incomplete_application_is_refused_with_every_problem_and_kept_as_a_draft() {
    let w = World::new().await;
    let who = w.citizen("13800138001", "李四", 2).await;
    let item = w.item(REISSUE).await;
    let mut draft = cases::draft(w.db(), &who, &item).await.expect("draft");
    let posted: Answers = [("address.province".to_string(), "重庆市".to_string())].into();
    cases::save_draft(w.db(), &who, &mut draft, &posted, 1)
        .await
        .expect("saved");
    let Err(DomainError::Form(errs)) = cases::submit(&w.desk(), &who, &item).await else {
        panic!("an incomplete form must be refused");
    };
    let keys: Vec<&str> = errs.iter().map(|e| e.key.as_str()).collect();
    for k in ["address.city", "reason", "delivery", "m1", "m2"] {
        assert!(keys.contains(&k), "{k} in {keys:?}");
    }
    assert!(
        !keys.contains(&"m3"),
        "an optional material is not required"
    );
    let kept = cases::draft(w.db(), &who, &item).await.expect("draft");
    assert_eq!(
        kept.answers.get("address.province").map(String::as_str),
        Some("重庆市")
    );
    assert_eq!(kept.page, 1);
}

#[tokio::test]
async fn an_application_needs_the_items_real_name_level() {
    let w = World::new().await;
    let registered = w.citizen("13800138002", "李四", 1).await;
    let item = w.item(REISSUE).await;
    assert_eq!(item.realname_level, 2);
    assert!(matches!(
        cases::can_apply(&registered, &item),
        Err(DomainError::Conflict(
            zhiban_domain::Conflict::RealnameLevel
        ))
    ));
    let verified = w.citizen("13800138003", "李四", 2).await;
    assert!(cases::can_apply(&verified, &item).is_ok());
}

#[tokio::test]
async fn uploads_of_the_wrong_type_or_size_are_refused_and_nothing_is_stored() {
    let mut w = World::new().await;
    w.settings.max_file_mb = 1;
    let who = w.citizen("13800138004", "李四", 2).await;
    let item = w.item(REISSUE).await;
    let draft = cases::draft(w.db(), &who, &item).await.expect("draft");
    let cases_of = |body: Vec<u8>, name: &'static str| Upload {
        field_key: "m1",
        file_name: name,
        body,
    };
    for (body, name, code) in [
        (b"MZ\x90\0 not a scan".to_vec(), "scan.pdf", "file_type"),
        (
            [PDF, &vec![0u8; 1024 * 1024]].concat(),
            "big.pdf",
            "file_too_large",
        ),
        (Vec::new(), "empty.pdf", "file_empty"),
    ] {
        let r = cases::add_draft_file(&w.desk(), &who, &draft, cases_of(body, name)).await;
        let Err(DomainError::Form(errs)) = r else {
            panic!("{name} must be refused");
        };
        assert_eq!(errs[0].code, code);
        assert_eq!(errs[0].key, "m1");
    }
    assert!(
        cases::draft_files(w.db(), draft.id)
            .await
            .expect("files")
            .is_empty()
    );
    assert_eq!(w.stored_bodies(), 0);
    let unknown = cases::add_draft_file(
        &w.desk(),
        &who,
        &draft,
        Upload {
            field_key: "reason",
            file_name: "x.pdf",
            body: PDF.to_vec(),
        },
    )
    .await;
    assert!(matches!(unknown, Err(DomainError::NotFound)));
}

#[tokio::test]
async fn a_case_runs_from_correction_to_online_delivery_with_every_step_recorded() {
    let w = World::new().await;
    let who = w.citizen("13800138005", "李四", 2).await;
    let case = apply(&w, &who).await;
    let clerk = w.staff("hz.clerk", "500000-GA-HZ", &["case_handler"]).await;
    let desk = w.desk();
    let by = Actor::Staff(&clerk);

    // 一次性告知: only the photo receipt and the reason may change.
    let correct = Step {
        reason: "相片背景不符合标准".into(),
        fields: vec!["m2".into(), "reason".into(), "no_such_field".into()],
        ..Step::default()
    };
    let c = cases::act(&desk, by, &case.number, CaseAction::Correct, correct)
        .await
        .expect("correction requested");
    assert_eq!(c.state, CaseState::Correction);
    assert_eq!(
        c.correction.as_ref().map(|x| x.fields.clone()),
        Some(vec!["m2".to_string(), "reason".to_string()])
    );
    assert!(c.correctable("m2") && !c.correctable("applicant_phone"));

    // Replacing the photo keeps the old one on record.
    cases::replace_material(
        &desk,
        &who,
        &c.number,
        Upload {
            field_key: "m2",
            file_name: "new.png",
            body: PNG.to_vec(),
        },
    )
    .await
    .expect("replaced");
    let refused = cases::replace_material(
        &desk,
        &who,
        &c.number,
        Upload {
            field_key: "m1",
            file_name: "x.png",
            body: PNG.to_vec(),
        },
    )
    .await;
    assert!(
        matches!(refused, Err(DomainError::Conflict(_))),
        "m1 was not asked for"
    );
    let fixed = Step {
        answers: [
            ("reason".to_string(), "身份证遗失，已挂失".to_string()),
            ("applicant_phone".to_string(), "13900000000".to_string()),
        ]
        .into(),
        ..Step::default()
    };
    let c = cases::act(
        &desk,
        Actor::Applicant(&who),
        &c.number,
        CaseAction::Resubmit,
        fixed,
    )
    .await
    .expect("resubmitted");
    assert_eq!(c.state, CaseState::Submitted);
    assert_eq!(
        c.answers.get("reason").map(String::as_str),
        Some("身份证遗失，已挂失")
    );
    assert_eq!(
        c.answers.get("applicant_phone").map(String::as_str),
        Some("13800138005"),
        "answers nobody asked about stay as filed"
    );
    let files = cases::case_files(w.db(), c.id).await.expect("files");
    assert_eq!(files.iter().filter(|f| f.field_key == "m2").count(), 2);
    assert_eq!(
        files
            .iter()
            .filter(|f| f.field_key == "m2" && f.replaced == 0)
            .count(),
        1
    );

    let c = cases::act(
        &desk,
        Actor::Staff(&clerk),
        &c.number,
        CaseAction::Accept,
        Step::default(),
    )
    .await
    .expect("accepted");
    let today = local_date(w.db().now());
    assert_eq!(c.accepted_on, Some(today));
    assert_eq!(c.due_on, w.calendar.add_working_days(today, 20));
    assert_eq!(c.legal_due_on, w.calendar.add_working_days(today, 60));

    // Refusals need reasons; steps cannot be skipped.
    let no_reason = cases::act(
        &desk,
        Actor::Staff(&clerk),
        &c.number,
        CaseAction::Deny,
        Step::default(),
    )
    .await;
    assert!(matches!(no_reason, Err(DomainError::Invalid(_))));
    let skip = cases::act(
        &desk,
        Actor::Staff(&clerk),
        &c.number,
        CaseAction::Deliver,
        Step::default(),
    )
    .await;
    assert!(matches!(
        skip,
        Err(DomainError::Conflict(zhiban_domain::Conflict::NotAllowed))
    ));
    let stale = Step {
        revision: Some(c.revision - 1),
        ..Step::default()
    };
    let old = cases::act(
        &desk,
        Actor::Staff(&clerk),
        &c.number,
        CaseAction::Approve,
        stale,
    )
    .await;
    assert!(matches!(
        old,
        Err(DomainError::Conflict(zhiban_domain::Conflict::Stale))
    ));

    let c = cases::act(
        &desk,
        Actor::Staff(&clerk),
        &c.number,
        CaseAction::Approve,
        step("符合补领条件"),
    )
    .await
    .expect("approved");
    assert_eq!(c.outcome, Some(zhiban_domain::cases::Outcome::Approved));
    // 工本费: waived here (paying is in the payments tests).
    zhiban_domain::payments::waive(&w.payments(), &clerk, &c.number, "演示：免收")
        .await
        .expect("waived");
    let c = cases::act(
        &desk,
        Actor::Staff(&clerk),
        &c.number,
        CaseAction::Conclude,
        Step::default(),
    )
    .await
    .expect("concluded");
    let online = Step {
        delivery: Some(Delivery::Online),
        ..Step::default()
    };
    let missing = cases::act(
        &desk,
        Actor::Staff(&clerk),
        &c.number,
        CaseAction::Deliver,
        online.clone(),
    )
    .await;
    let Err(DomainError::Invalid(errs)) = missing else {
        panic!("online delivery of an approval needs the document");
    };
    assert_eq!(errs[0].field, "result_file");
    cases::add_result_file(
        &desk,
        &clerk,
        &c.number,
        Upload {
            field_key: "result",
            file_name: "受理回执.pdf",
            body: PDF.to_vec(),
        },
    )
    .await
    .expect("result stored");
    let c = cases::act(
        &desk,
        Actor::Staff(&clerk),
        &c.number,
        CaseAction::Deliver,
        online,
    )
    .await
    .expect("delivered");
    assert_eq!(c.state, CaseState::Delivered);
    assert_eq!(c.light(today), Light::Off);

    let history = cases::events(w.db(), c.id).await.expect("events");
    let actions: Vec<CaseAction> = history.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        vec![
            CaseAction::Submit,
            CaseAction::Correct,
            CaseAction::Resubmit,
            CaseAction::Accept,
            CaseAction::Approve,
            CaseAction::Conclude,
            CaseAction::Deliver,
        ]
    );
    assert!(history[1].note.contains("相片背景不符合标准") && history[1].note.contains("申请事由"));
    assert_eq!(history[3].actor_label, "hz.clerk 民警");
    let titles: Vec<String> = notify::messages(w.db(), who.id)
        .await
        .expect("messages")
        .into_iter()
        .map(|m| m.title)
        .collect();
    for t in ["请补正材料", "申请已受理", "申请已获准予", "办理结果已送达"] {
        assert!(titles.iter().any(|x| x == t), "{t} in {titles:?}");
    }
}

#[tokio::test]
async fn the_clock_stops_during_a_special_procedure_and_the_deadline_moves_by_the_days_it_lasted() {
    let w = World::new().await;
    w.db().clock().set(monday_morning());
    let who = w.citizen("13800138006", "李四", 2).await;
    let case = apply(&w, &who).await;
    let clerk = w.staff("hz.clerk", "500000-GA-HZ", &["case_handler"]).await;
    let desk = w.desk();
    let c = cases::act(
        &desk,
        Actor::Staff(&clerk),
        &case.number,
        CaseAction::Accept,
        Step::default(),
    )
    .await
    .expect("accepted");
    let c = cases::act(
        &desk,
        Actor::Staff(&clerk),
        &c.number,
        CaseAction::Suspend,
        step("需实地核查户籍档案"),
    )
    .await
    .expect("suspended");
    let began = local_date(w.db().now());
    assert_eq!(c.light(began), Light::Paused);
    // The special procedure lasts ten days.
    w.db().clock().advance(Duration::days(10));
    let today = local_date(w.db().now());
    assert_eq!(c.light(today), Light::Paused, "a paused case stays paused");
    let resumed = cases::act(
        &desk,
        Actor::Staff(&clerk),
        &c.number,
        CaseAction::Resume,
        Step::default(),
    )
    .await
    .expect("resumed");
    let paused_for = w.calendar.working_days_between(began, today);
    assert!(paused_for >= 6);
    assert_eq!(
        resumed.due_on,
        w.calendar.add_working_days(c.due_on, paused_for)
    );
    assert_eq!(
        resumed.legal_due_on,
        w.calendar.add_working_days(c.legal_due_on, paused_for)
    );
    assert_eq!(resumed.state, CaseState::Accepted);
}

#[tokio::test]
async fn a_district_handler_sees_only_their_units_cases_and_overdue_ones_turn_red() {
    let w = World::new().await;
    w.db().clock().set(monday_morning());
    let who = w.citizen("13800138007", "李四", 2).await;
    let case = apply(&w, &who).await;
    let city = w.staff("hz.clerk", "500000-GA-HZ", &["case_handler"]).await;
    let district = w.staff("yz.clerk", "500103", &["case_handler"]).await;
    let today = local_date(w.db().now());

    // Another district's case reads as missing, and the attempt is on record.
    assert!(matches!(
        cases::for_staff(w.db(), &district, &case.number).await,
        Err(DomainError::OutOfScope)
    ));
    assert_eq!(
        zhiban_testing::refusals(w.db(), "yz.clerk").await,
        vec![(
            format!("case:{}", case.number),
            "outside_scope".to_string(),
            String::new()
        )]
    );
    let denied = cases::act(
        &w.desk(),
        Actor::Staff(&district),
        &case.number,
        CaseAction::Accept,
        Step::default(),
    )
    .await;
    assert!(matches!(denied, Err(DomainError::OutOfScope)));
    assert_eq!(
        zhiban_testing::refusals(w.db(), "yz.clerk").await.len(),
        2,
        "the refused step is on record too"
    );
    let l = cases::list(w.db(), &district, &ListQuery::default(), today)
        .await
        .expect("list");
    let (rows, total) = (l.rows, l.total);
    assert_eq!((rows.len(), total), (0, 0));
    let l = cases::list(w.db(), &city, &ListQuery::default(), today)
        .await
        .expect("list");
    let (rows, total) = (l.rows, l.total);
    assert_eq!(total, 1);
    assert_eq!(rows[0].number, case.number);
    assert_eq!(rows[0].applicant_masked, "李*");
    assert_eq!(rows[0].light, Light::Green);

    // Sixty days later, past its deadline: red, on the overdue list, and
    // escalated by the job.
    w.db().clock().advance(Duration::days(60));
    let today = local_date(w.db().now());
    assert!(today > case.due_on);
    let overdue = ListQuery {
        tab: Tab::Overdue,
        ..ListQuery::default()
    };
    let l = cases::list(w.db(), &city, &overdue, today)
        .await
        .expect("list");
    let (rows, _) = (l.rows, l.total);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].light, Light::Red);
    let red = ListQuery {
        tab: Tab::All,
        light: Some(Light::Red),
        ..ListQuery::default()
    };
    assert_eq!(
        cases::list(w.db(), &city, &red, today)
            .await
            .expect("list")
            .total,
        1
    );
    let green = ListQuery {
        tab: Tab::All,
        light: Some(Light::Green),
        ..ListQuery::default()
    };
    assert_eq!(
        cases::list(w.db(), &city, &green, today)
            .await
            .expect("list")
            .total,
        0
    );
    let by_number = ListQuery {
        tab: Tab::All,
        q: case.number.to_lowercase(),
        ..ListQuery::default()
    };
    assert_eq!(
        cases::list(w.db(), &city, &by_number, today)
            .await
            .expect("list")
            .total,
        1
    );
    let by_name = ListQuery {
        tab: Tab::All,
        q: "李四".into(),
        ..ListQuery::default()
    };
    assert_eq!(
        cases::list(w.db(), &city, &by_name, today)
            .await
            .expect("list")
            .total,
        1
    );

    for (who, phone) in [("hz.clerk", "13700000001"), ("yz.clerk", "13700000002")] {
        sqlx::query("UPDATE staff_users SET phone = $1 WHERE username = $2")
            .bind(phone)
            .bind(who)
            .execute(w.db().pool())
            .await
            .expect("phone");
    }
    cases::supervise(
        w.db(),
        "case_escalate",
        &format!("{{\"case_id\":{}}}", case.id),
    )
    .await
    .expect("escalation");
    let stored: Vec<String> = sqlx::query_scalar("SELECT payload FROM jobs WHERE kind = 'sms'")
        .fetch_all(w.db().pool())
        .await
        .expect("sms jobs");
    // Queued texts hold phone numbers: they are encrypted at rest.
    assert!(!stored.is_empty() && stored.iter().all(|t| !t.contains("1370000000")));
    let texts: Vec<String> = stored
        .iter()
        .map(|t| pii::open(w.db(), pii::ctx::JOB_PAYLOAD, t).expect("decrypt"))
        .collect();
    let to_desk: Vec<&String> = texts
        .iter()
        .filter(|t| t.contains("已超过办理期限"))
        .collect();
    assert_eq!(to_desk.len(), 1, "{texts:?}");
    assert!(to_desk[0].contains("13700000001") && to_desk[0].contains(&case.number));
    assert!(
        !texts.iter().any(|t| t.contains("13700000002")),
        "another district's desk is not told"
    );
    cases::supervise(
        w.db(),
        "case_remind",
        &format!("{{\"case_id\":{}}}", case.id),
    )
    .await
    .expect("a reminder for a red case records nothing");
    let history = cases::events(w.db(), case.id).await.expect("events");
    assert_eq!(history.last().map(|e| e.action), Some(CaseAction::Escalate));
    let seen = cases::alerts(w.db(), &city, 7).await.expect("alerts");
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (seen[0].number.as_str(), seen[0].action),
        (case.number.as_str(), CaseAction::Escalate)
    );
    assert!(
        cases::alerts(w.db(), &district, 7)
            .await
            .expect("alerts")
            .is_empty(),
        "outside the district"
    );
    assert_eq!(
        history
            .iter()
            .filter(|e| e.action == CaseAction::Remind)
            .count(),
        0
    );
}

#[tokio::test]
async fn progress_is_found_by_number_and_phone_together_only() {
    let w = World::new().await;
    let who = w.citizen("13800138008", "李四", 2).await;
    let case = apply(&w, &who).await;
    let spaced = format!("{}-{} ", &case.number[..10], &case.number[10..]).to_lowercase();
    let found = cases::lookup(w.db(), &spaced, "13800138008")
        .await
        .expect("lookup");
    assert_eq!(found.map(|c| c.id), Some(case.id));
    assert!(
        cases::lookup(w.db(), &case.number, "13800138009")
            .await
            .expect("lookup")
            .is_none()
    );
    assert!(
        cases::lookup(w.db(), "ZB000", "13800138008")
            .await
            .expect("lookup")
            .is_none()
    );
    assert!(
        cases::lookup(w.db(), &case.number, "")
            .await
            .expect("lookup")
            .is_none()
    );
    let other = w.citizen("13800138010", "李四", 2).await;
    assert!(
        cases::for_citizen(w.db(), &other, &case.number)
            .await
            .is_err()
    );
    let mine = cases::of_citizen(w.db(), who.id, local_date(w.db().now()))
        .await
        .expect("mine");
    assert_eq!(mine.len(), 1);
}

#[tokio::test]
async fn concurrent_workers_claim_each_job_once() {
    let t = TestDb::new().await.expect("db");
    let now = t.db.now().timestamp();
    {
        let mut tx = t.db.begin().await.expect("tx");
        for i in 0..40 {
            jobs::enqueue(
                &mut tx,
                "noop",
                &serde_json::json!({ "i": i }),
                now - 1,
                None,
            )
            .await
            .expect("queued");
        }
        jobs::enqueue(
            &mut tx,
            "noop",
            &serde_json::json!({}),
            now - 1,
            Some("once"),
        )
        .await
        .expect("queued");
        jobs::enqueue(
            &mut tx,
            "noop",
            &serde_json::json!({}),
            now - 1,
            Some("once"),
        )
        .await
        .expect("a duplicate is ignored");
        tx.commit().await.expect("commit");
    }
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let db = t.db.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = jobs::claim(&db, now, 5).await.expect("claim");
                if got.is_empty() {
                    break;
                }
                mine.extend(got.into_iter().map(|j| j.id));
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("task"));
    }
    let count = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(count, 41, "every job claimed");
    assert_eq!(all.len(), 41, "no job claimed twice");
    // A claimed job is not offered again until its lease runs out.
    assert!(jobs::claim(&t.db, now, 50).await.expect("claim").is_empty());
    let later = jobs::claim(&t.db, now + jobs::LEASE_SECS + 1, 50)
        .await
        .expect("claim");
    assert_eq!(later.len(), 41);
}

#[tokio::test]
async fn a_failing_job_is_retried_later_and_kept_with_its_error() {
    let t = TestDb::new().await.expect("db");
    let now = t.db.now().timestamp();
    {
        let mut tx = t.db.begin().await.expect("tx");
        let bad = serde_json::json!({ "phone": "not a phone", "body": "x" });
        jobs::enqueue(&mut tx, "sms", &bad, now - 1, None)
            .await
            .expect("queued");
        tx.commit().await.expect("commit");
    }
    let worker = Worker {
        sms: std::sync::Arc::new(DevOutboxGateway),
        mail: None,
        anchors: Default::default(),
        payments: None,
    };
    assert_eq!(worker.run_due(&t.db).await.expect("ran"), 1);
    assert_eq!(jobs::pending(&t.db).await.expect("pending"), 1);
    let (run_at, error): (i64, String) = sqlx::query_as("SELECT run_at, last_error FROM jobs")
        .fetch_one(t.db.pool())
        .await
        .expect("job");
    assert!(run_at > now + 30, "retried later");
    assert_eq!(error, "bad phone");
    assert!(Phone::parse("not a phone").is_err());
}

/// A small SMTP server on 127.0.0.1 that keeps what it is sent: enough of
/// RFC 5321 for a real client to deliver one message.
async fn smtp_server() -> (u16, tokio::sync::oneshot::Receiver<(String, String)>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (sock, _) = listener.accept().await.expect("accept");
        let (r, mut w) = sock.into_split();
        let mut lines = BufReader::new(r).lines();
        w.write_all(b"220 test.local ESMTP\r\n")
            .await
            .expect("greet");
        let (mut rcpt, mut data, mut in_data) = (String::new(), String::new(), false);
        while let Ok(Some(line)) = lines.next_line().await {
            if in_data {
                if line == "." {
                    in_data = false;
                    w.write_all(b"250 queued\r\n").await.expect("queued");
                } else {
                    data.push_str(&line);
                    data.push('\n');
                }
                continue;
            }
            let upper = line.to_ascii_uppercase();
            let reply: &[u8] = if upper.starts_with("EHLO") {
                b"250-test.local\r\n250 8BITMIME\r\n"
            } else if upper.starts_with("RCPT TO:") {
                rcpt = line[8..].trim().to_string();
                b"250 ok\r\n"
            } else if upper.starts_with("DATA") {
                in_data = true;
                b"354 go on\r\n"
            } else if upper.starts_with("QUIT") {
                w.write_all(b"221 bye\r\n").await.expect("bye");
                break;
            } else {
                b"250 ok\r\n"
            };
            w.write_all(reply).await.expect("reply");
        }
        let _ = tx.send((rcpt, data));
    });
    (port, rx)
}

#[tokio::test]
async fn a_citizen_with_an_email_address_is_told_by_email_through_smtp() {
    use base64::Engine;
    let w = World::new().await;
    let who = w.citizen("13800138011", "李四", 2).await;
    citizen::set_email(w.db(), &who, "li.si@example.cn")
        .await
        .expect("email saved");
    assert!(matches!(
        citizen::set_email(w.db(), &who, "not an address").await,
        Err(DomainError::Invalid(_))
    ));
    let case = apply(&w, &who).await;
    let (port, received) = smtp_server().await;
    let mailer = notify::SmtpMailer::new(&notify::SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        tls: "none".into(),
        from: "渝州市政务服务网 <noreply@zw.example.gov.cn>".into(),
        ..notify::SmtpSettings::default()
    })
    .expect("mailer");
    let worker = Worker {
        sms: std::sync::Arc::new(DevOutboxGateway),
        mail: Some(std::sync::Arc::new(mailer)),
        anchors: Default::default(),
        payments: None,
    };
    worker.run_due(w.db()).await.expect("jobs");
    assert_eq!(
        jobs::pending(w.db()).await.expect("pending"),
        2,
        "only the supervision jobs wait"
    );
    let (rcpt, data) = received.await.expect("a message reached the server");
    assert_eq!(rcpt, "<li.si@example.cn>");
    let body = data.split("\n\n").nth(1).unwrap_or("").replace('\n', "");
    let text = base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    assert!(
        text.contains(&case.number) && text.contains("居民身份证补领"),
        "{text}"
    );
}

#[tokio::test]
async fn a_case_transferred_to_another_unit_leaves_the_old_desk_and_reaches_the_new_one() {
    let w = World::new().await;
    let who = w.citizen("13800138012", "李四", 2).await;
    let case = apply(&w, &who).await;
    let city = w.staff("hz.clerk", "500000-GA-HZ", &["case_handler"]).await;
    let district = w.staff("yz.clerk", "500103", &["case_handler"]).await;
    let yuzhong: i64 = sqlx::query_scalar("SELECT id FROM departments WHERE code = '500103'")
        .fetch_one(w.db().pool())
        .await
        .expect("unit");
    let nowhere = Step {
        reason: "属地管理".into(),
        to_unit: Some(case.department_id),
        ..Step::default()
    };
    let same = cases::act(
        &w.desk(),
        Actor::Staff(&city),
        &case.number,
        CaseAction::Transfer,
        nowhere,
    )
    .await;
    assert!(
        matches!(same, Err(DomainError::Invalid(_))),
        "a transfer needs another unit"
    );
    let to_district = Step {
        reason: "申请人户籍在渝中区，按属地转办".into(),
        to_unit: Some(yuzhong),
        ..Step::default()
    };
    let moved = cases::act(
        &w.desk(),
        Actor::Staff(&city),
        &case.number,
        CaseAction::Transfer,
        to_district,
    )
    .await
    .expect("transferred");
    assert_eq!(moved.department_id, yuzhong);
    assert_eq!(
        moved.state,
        CaseState::Submitted,
        "a transfer keeps the state"
    );
    assert!(cases::for_staff(w.db(), &city, &case.number).await.is_err());
    assert!(
        cases::for_staff(w.db(), &district, &case.number)
            .await
            .is_ok()
    );
    let history = cases::events(w.db(), case.id).await.expect("events");
    assert!(
        history
            .last()
            .is_some_and(|e| e.action == CaseAction::Transfer && e.note.contains("渝中区"))
    );
    let told = notify::messages(w.db(), who.id).await.expect("messages");
    assert!(
        told.iter()
            .any(|m| m.title == "办件已转办" && m.body.contains("渝中区")),
        "the applicant is told where it went"
    );
}

#[tokio::test]
async fn a_refused_or_withdrawn_case_is_closed_and_takes_no_further_step() {
    let w = World::new().await;
    let who = w.citizen("13800138013", "李四", 2).await;
    let first = apply(&w, &who).await;
    let second = apply(&w, &who).await;
    let clerk = w.staff("hz.clerk", "500000-GA-HZ", &["case_handler"]).await;
    let refused = cases::act(
        &w.desk(),
        Actor::Staff(&clerk),
        &first.number,
        CaseAction::Reject,
        step("不属于本机关职责范围"),
    )
    .await
    .expect("refused");
    assert_eq!(refused.state, CaseState::NotAccepted);
    assert_eq!(refused.light(local_date(w.db().now())), Light::Off);
    let again = cases::act(
        &w.desk(),
        Actor::Staff(&clerk),
        &first.number,
        CaseAction::Accept,
        Step::default(),
    )
    .await;
    assert!(matches!(
        again,
        Err(DomainError::Conflict(zhiban_domain::Conflict::NotAllowed))
    ));
    // Only the applicant withdraws, and only their own case.
    let other = w.citizen("13800138014", "李四", 2).await;
    let not_theirs = cases::act(
        &w.desk(),
        Actor::Applicant(&other),
        &second.number,
        CaseAction::Withdraw,
        Step::default(),
    )
    .await;
    assert!(matches!(not_theirs, Err(DomainError::NotFound)));
    let by_staff = cases::act(
        &w.desk(),
        Actor::Staff(&clerk),
        &second.number,
        CaseAction::Withdraw,
        Step::default(),
    )
    .await;
    assert!(matches!(
        by_staff,
        Err(DomainError::Conflict(zhiban_domain::Conflict::NotAllowed))
    ));
    let withdrawn = cases::act(
        &w.desk(),
        Actor::Applicant(&who),
        &second.number,
        CaseAction::Withdraw,
        Step::default(),
    )
    .await
    .expect("withdrawn");
    assert_eq!(withdrawn.state, CaseState::Withdrawn);
    let todo = cases::list(
        w.db(),
        &clerk,
        &ListQuery::default(),
        local_date(w.db().now()),
    )
    .await
    .expect("list");
    assert_eq!(todo.total, 0, "closed cases leave 待办");
    let titles: Vec<String> = notify::messages(w.db(), who.id)
        .await
        .expect("messages")
        .into_iter()
        .map(|m| m.title)
        .collect();
    assert!(titles.iter().any(|t| t == "申请不予受理") && titles.iter().any(|t| t == "申请已撤回"));
}

#[tokio::test]
async fn applying_in_a_companys_name_takes_only_a_company_the_person_acts_for() {
    use zhiban_domain::identity::company::{self, DevCompanyVerifier};
    const HOTEL: &str = "500000-GA-ZA-0003-01";
    const MINE: &str = "91500103MA5U7XXX0P";
    const THEIRS: &str = "91500105MA60QW1T2M";
    let w = World::new().await;
    let zhang = w.citizen("13800138041", "张三", 3).await;
    let li = w.citizen("13800138042", "李四", 3).await;
    let agent = w.citizen("13800138043", "王五", 3).await;
    let mine = company::register(
        w.db(),
        &DevCompanyVerifier,
        &zhang,
        MINE,
        "渝州市山城酒店管理有限公司",
    )
    .await
    .expect("registered");
    company::register(
        w.db(),
        &DevCompanyVerifier,
        &li,
        THEIRS,
        "渝州市江北商贸有限公司",
    )
    .await
    .expect("registered");
    company::add_agent(w.db(), &zhang, mine.id, "13800138043")
        .await
        .expect("agent");
    let item = w.item(HOTEL).await;
    let field = |k: &str, v: &str| (k.to_string(), v.to_string());

    // 张三 names 李四's company (code typed, name typed): not theirs.
    let mut draft = cases::draft(w.db(), &zhang, &item).await.expect("draft");
    let posted: Answers = [
        field("company", THEIRS),
        field("company.name", "渝州市江北商贸有限公司"),
    ]
    .into();
    cases::save_draft(w.db(), &zhang, &mut draft, &posted, 0)
        .await
        .expect("kept as a draft");
    assert_eq!(draft.answers.get("company.name"), None, "no name is taken");
    let Err(DomainError::Form(errs)) = cases::submit(&w.desk(), &zhang, &item).await else {
        panic!("another company's code must be refused");
    };
    assert!(
        errs.iter()
            .any(|e| e.key == "company" && e.code == "company_not_yours"),
        "{errs:?}"
    );

    // Their own company (code in lower case, a name typed): named from
    // the record.
    let posted: Answers = [
        field("company", &MINE.to_lowercase()),
        field("company.name", "随便写的名称"),
    ]
    .into();
    cases::save_draft(w.db(), &zhang, &mut draft, &posted, 0)
        .await
        .expect("saved");
    assert_eq!(draft.answers.get("company").map(String::as_str), Some(MINE));
    assert_eq!(
        draft.answers.get("company.name").map(String::as_str),
        Some("渝州市山城酒店管理有限公司")
    );
    let problems = match cases::submit(&w.desk(), &zhang, &item).await {
        Err(DomainError::Form(errs)) => errs,
        _ => Vec::new(),
    };
    assert!(!problems.iter().any(|e| e.key == "company"), "{problems:?}");

    // An authorised agent may apply for it as well.
    let mut by_agent = cases::draft(w.db(), &agent, &item).await.expect("draft");
    cases::save_draft(
        w.db(),
        &agent,
        &mut by_agent,
        &[field("company", MINE)].into(),
        0,
    )
    .await
    .expect("saved");
    assert_eq!(
        by_agent.answers.get("company.name").map(String::as_str),
        Some("渝州市山城酒店管理有限公司")
    );
}
