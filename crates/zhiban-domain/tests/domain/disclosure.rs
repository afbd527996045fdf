//! 依申请公开 against a real database: a request for government information
//! is answered within 20 working days of receipt, extended once by at most
//! 20 with a reason, and answered with a type that fits the decision.

use chrono::Utc;
use zhiban_domain::DomainError;
use zhiban_domain::cases::disclosure::Answer;
use zhiban_domain::cases::{self, Actor, CaseAction, CaseState, Outcome, Step, Upload};
use zhiban_domain::forms::Answers;
use zhiban_domain::identity::citizen::Citizen;
use zhiban_domain::identity::staff::StaffSession;
use zhiban_domain::notify;
use zhiban_domain::time::local_date;
use zhiban_testing::World;

/// 向渝州市人民政府及其办公厅申请获取政府信息 (demo catalog).
const CITY_DISCLOSURE: &str = "500000-0001-01";

fn answers(pairs: &[(&str, &str)]) -> Answers {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn request(w: &World, who: &Citizen) -> cases::Case {
    let item = w.item(CITY_DISCLOSURE).await;
    let mut draft = cases::draft(w.db(), who, &item).await.expect("draft");
    let address = answers(&[
        ("address.province", "重庆市"),
        ("address.city", "渝州市"),
        ("address.district", "江北区"),
        ("address.detail", "观音桥街道建新北路 8 号"),
    ]);
    cases::save_draft(w.db(), who, &mut draft, &address, 1)
        .await
        .expect("page 1");
    // The form asks what 第二十九条 needs: the information and its form.
    let info = answers(&[
        (
            "information",
            "2025 年渝州市江北区老旧小区改造项目的资金安排文件",
        ),
        ("medium", "电子文档"),
        ("delivery", "网上下载"),
    ]);
    cases::save_draft(w.db(), who, &mut draft, &info, 2)
        .await
        .expect("page 2");
    cases::add_draft_file(
        &w.desk(),
        who,
        &draft,
        Upload {
            field_key: "m1",
            file_name: "id.png",
            body: zhiban_testing::samples::PNG.to_vec(),
        },
    )
    .await
    .expect("upload");
    cases::submit(&w.desk(), who, &item).await.expect("filed")
}

/// A staff step on a case.
async fn act(
    w: &World,
    clerk: &StaffSession,
    number: &str,
    action: CaseAction,
    step: Step,
) -> Result<cases::Case, DomainError> {
    cases::act(&w.desk(), Actor::Staff(clerk), number, action, step).await
}

fn step(reason: &str) -> Step {
    Step {
        reason: reason.into(),
        ..Step::default()
    }
}

fn codes(e: DomainError) -> Vec<(&'static str, &'static str)> {
    match e {
        DomainError::Invalid(errs) => errs.iter().map(|e| (e.field, e.code)).collect(),
        other => panic!("expected field errors, got {other:?}"),
    }
}

#[tokio::test]
async fn a_disclosure_request_is_answered_within_twenty_working_days_of_receipt() {
    let w = World::new().await;
    // Monday 2 March 2026, 09:00 Beijing time.
    w.db().clock().set(
        chrono::DateTime::parse_from_rfc3339("2026-03-02T09:00:00+08:00")
            .expect("time")
            .with_timezone(&Utc),
    );
    let who = w.citizen("13800138101", "陈晓红", 2).await;
    let case = request(&w, &who).await;
    let received = local_date(w.db().now());
    assert!(case.is_disclosure());
    assert_eq!(case.due_on, w.calendar.add_working_days(received, 20));
    assert!(case.staff_actions().contains(&CaseAction::Extend));

    // Accepted two days later: the period still runs from receipt.
    w.db().clock().advance(chrono::Duration::days(2));
    let clerk = w.staff("gk.clerk", "500000", &["case_handler"]).await;
    let c = act(
        &w,
        &clerk,
        &case.number,
        CaseAction::Accept,
        Step::default(),
    )
    .await
    .expect("accepted");
    assert_eq!(c.due_on, case.due_on);

    // More than 20 days, or no reason: refused, nothing changes.
    let too_long = Step {
        days: Some(21),
        ..step("需会商市住房城乡建委")
    };
    let e = act(&w, &clerk, &c.number, CaseAction::Extend, too_long)
        .await
        .unwrap_err();
    assert_eq!(codes(e), vec![("days", "out_of_range")]);
    let e = act(
        &w,
        &clerk,
        &c.number,
        CaseAction::Extend,
        Step {
            days: Some(10),
            ..Step::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(codes(e), vec![("reason", "required")]);

    let extended = act(
        &w,
        &clerk,
        &c.number,
        CaseAction::Extend,
        Step {
            days: Some(10),
            ..step("需征求第三方意见")
        },
    )
    .await
    .expect("extended");
    assert_eq!(extended.state, CaseState::Accepted);
    assert_eq!(extended.extended_days, 10);
    assert_eq!(
        extended.due_on,
        w.calendar.add_working_days(case.due_on, 10)
    );
    assert_eq!(
        extended.legal_due_on,
        w.calendar.add_working_days(case.legal_due_on, 10)
    );
    assert!(!extended.staff_actions().contains(&CaseAction::Extend));
    let messages = notify::messages(w.db(), who.id).await.expect("messages");
    assert!(
        messages
            .iter()
            .any(|m| m.title == "答复期限已延长" && m.body.contains("需征求第三方意见")),
        "the applicant is told why: {messages:?}"
    );

    // Only once.
    let e = act(
        &w,
        &clerk,
        &c.number,
        CaseAction::Extend,
        Step {
            days: Some(5),
            ..step("仍需会商")
        },
    )
    .await
    .unwrap_err();
    assert_eq!(codes(e), vec![("days", "extended_once")]);
}

#[tokio::test]
async fn the_answer_type_must_fit_the_decision_and_say_why() {
    let w = World::new().await;
    let who = w.citizen("13800138102", "王建国", 2).await;
    let case = request(&w, &who).await;
    let clerk = w.staff("gk.clerk2", "500000", &["case_handler"]).await;
    act(
        &w,
        &clerk,
        &case.number,
        CaseAction::Accept,
        Step::default(),
    )
    .await
    .expect("accepted");

    // 准予 cannot say 非本机关; a decision without an answer type is refused.
    let wrong = Step {
        answer: Some(Answer::NotOurs),
        ..step("请向江北区住房城乡建委申请")
    };
    let e = act(&w, &clerk, &case.number, CaseAction::Approve, wrong)
        .await
        .unwrap_err();
    assert_eq!(codes(e), vec![("answer", "invalid_choice")]);
    let e = act(&w, &clerk, &case.number, CaseAction::Deny, step("x"))
        .await
        .unwrap_err();
    assert_eq!(codes(e), vec![("answer", "required")]);
    // 部分公开 names what is withheld and why.
    let e = act(
        &w,
        &clerk,
        &case.number,
        CaseAction::Approve,
        Step {
            answer: Some(Answer::Partial),
            ..Step::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(codes(e), vec![("reason", "required")]);

    let answered = act(
        &w,
        &clerk,
        &case.number,
        CaseAction::Deny,
        Step {
            answer: Some(Answer::NotOurs),
            ..step("该信息由江北区住房和城乡建设委员会制作，请向其申请（023-67855000）")
        },
    )
    .await
    .expect("answered");
    assert_eq!(answered.answer, Some(Answer::NotOurs));
    assert_eq!(answered.outcome, Some(Outcome::Denied));
    let events = cases::events(w.db(), answered.id).await.expect("events");
    let last = events.last().expect("event");
    assert!(last.note.starts_with("非本机关负责公开。"), "{}", last.note);
    let messages = notify::messages(w.db(), who.id).await.expect("messages");
    assert!(
        messages.iter().any(|m| m.title == "政府信息公开申请已答复"
            && m.body.contains("江北区住房和城乡建设委员会")),
        "{messages:?}"
    );
    assert!(
        !messages.iter().any(|m| m.body.contains("不予许可")),
        "a disclosure answer is not a licence refusal"
    );
}

#[tokio::test]
async fn only_a_disclosure_request_can_be_extended() {
    let w = World::new().await;
    let who = w.citizen("13800138103", "李四", 2).await;
    let case = crate::cases::apply(&w, &who).await;
    assert!(!case.is_disclosure());
    assert!(!case.staff_actions().contains(&CaseAction::Extend));
    let clerk = w
        .staff("hz.clerk9", "500000-GA-HZ", &["case_handler"])
        .await;
    let e = act(
        &w,
        &clerk,
        &case.number,
        CaseAction::Extend,
        step("想多要几天"),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            e,
            DomainError::Conflict(zhiban_domain::Conflict::NotAllowed)
        ),
        "{e:?}"
    );
}
