//! 征集调查 against a real database: comments show only once accepted;
//! a survey is answered once per account or device, checked by the form
//! engine (multiple choice and ratings included); the results count what
//! was answered; the CSV carries every answer and nobody's identity; the
//! feedback waits for the end; staff work within their data scope.

use zhiban_domain::consultations::manage::{self, ConsultationForm};
use zhiban_domain::consultations::{self, Phase, Respondent};
use zhiban_domain::forms::Answers;
use zhiban_domain::{DomainError, FieldError};
use zhiban_testing::World;

const SURVEY: &str = r#"{"title": "夜市调查", "pages": [{"title": "问题", "fields": [
 {"key": "go", "label": "您多久逛一次夜市？", "kind": "choice", "required": true, "options": ["每周", "每月", "很少"]},
 {"key": "want", "label": "希望增加什么？", "kind": "multi_choice", "options": ["美食", "文创", "停车位"]},
 {"key": "score", "label": "满意度", "kind": "rating", "required": true, "max": 5},
 {"key": "say", "label": "其他建议", "kind": "textarea"}
]}]}"#;

fn form(kind: &str, unit: i64, opens: &str, closes: &str) -> ConsultationForm {
    ConsultationForm {
        kind: kind.into(),
        title: "观音桥夜市经营管理征集".into(),
        summary: "江北区商务委就夜市经营时间和摊位管理征集市民意见。".into(),
        body: "第一条　夜市经营时间为每日18时至次日1时。\n第二条　摊位实行统一编号管理，经营者应当亮照经营。".into(),
        schema_json: SURVEY.into(),
        unit_id: Some(unit),
        opens_at: opens.into(),
        closes_at: closes.into(),
        anonymous: true,
    }
}

fn answers(pairs: &[(&str, &str)]) -> Answers {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn codes(e: DomainError) -> Vec<String> {
    match e {
        DomainError::Invalid(errs) => errs
            .into_iter()
            .map(|FieldError { field, code, .. }| format!("{field}:{code}"))
            .collect(),
        DomainError::Form(errs) => errs
            .into_iter()
            .map(|e| format!("{}:{}", e.key, e.code))
            .collect(),
        other => panic!("expected field errors, got {other:?}"),
    }
}

#[tokio::test]
async fn a_survey_is_answered_once_and_counted() {
    let w = World::new().await;
    let staff = w.staff("zj.sw", "500000-SWW", &["reviewer"]).await;
    let unit = w.unit("500000-SWW").await;
    let id = manage::save(
        w.db(),
        &staff,
        None,
        &form("survey", unit, "2020-01-01T09:00", "2099-01-01T18:00"),
    )
    .await
    .expect("saved");
    let c = consultations::get(w.db(), id).await.expect("get");
    assert_eq!(c.phase, Phase::Open);
    assert!(c.body.is_empty(), "a survey keeps no draft text");
    // The form engine checks the answers: choice, multi choice, rating.
    let bad = answers(&[("go", "天天"), ("want", "美食\n烟花"), ("score", "6")]);
    let errs = codes(
        consultations::answer(w.db(), id, Respondent::Device("phone-a"), &bad)
            .await
            .expect_err("refused"),
    );
    assert_eq!(
        errs,
        vec![
            "go:invalid_choice",
            "want:invalid_choice",
            "score:out_of_range"
        ]
    );
    let errs = codes(
        consultations::answer(w.db(), id, Respondent::Device("phone-a"), &Answers::new())
            .await
            .expect_err("refused"),
    );
    assert_eq!(errs, vec!["go:required", "score:required"]);
    // Three people answer; the same device and the same account only once.
    let a = answers(&[
        ("go", "每周"),
        ("want", "美食\n停车位"),
        ("score", "5"),
        ("say", "希望延长到凌晨两点"),
    ]);
    consultations::answer(w.db(), id, Respondent::Device("phone-a"), &a)
        .await
        .expect("answered");
    assert!(matches!(
        consultations::answer(w.db(), id, Respondent::Device("phone-a"), &a).await,
        Err(DomainError::Conflict(_))
    ));
    assert!(
        consultations::answered(w.db(), id, Respondent::Device("phone-a"))
            .await
            .expect("answered")
    );
    let citizen = w.citizen("13800138401", "周敏", 2).await;
    let b = answers(&[("go", "每月"), ("want", "停车位"), ("score", "3")]);
    consultations::answer(w.db(), id, Respondent::Citizen(&citizen), &b)
        .await
        .expect("answered");
    assert!(matches!(
        consultations::answer(w.db(), id, Respondent::Citizen(&citizen), &b).await,
        Err(DomainError::Conflict(_))
    ));
    let c3 = answers(&[
        ("go", "每周"),
        ("score", "4"),
        ("extra", "不在问卷里的字段"),
    ]);
    consultations::answer(w.db(), id, Respondent::Device("phone-b"), &c3)
        .await
        .expect("answered");
    // Counted per question, with the shares and the mean score.
    let r = consultations::results(w.db(), id, true)
        .await
        .expect("results");
    assert_eq!(r.total, 3);
    let q = |key: &str| r.questions.iter().find(|q| q.key == key).expect(key);
    assert_eq!(
        q("go").counts,
        vec![("每周".into(), 2), ("每月".into(), 1), ("很少".into(), 0)]
    );
    assert_eq!(q("go").percent(&2), 67);
    assert_eq!(
        q("want").counts,
        vec![("美食".into(), 1), ("文创".into(), 0), ("停车位".into(), 2)]
    );
    assert_eq!(q("want").answered, 2);
    assert_eq!(q("score").average, Some(4.0));
    assert_eq!(q("score").counts.len(), 5);
    assert_eq!(q("say").texts, vec!["希望延长到凌晨两点".to_string()]);
    let public = consultations::results(w.db(), id, false)
        .await
        .expect("results");
    assert!(public.questions.iter().all(|q| q.texts.is_empty()));
    // The CSV: a header and one row per answer, nobody's identity.
    let csv = String::from_utf8(manage::answers_csv(w.db(), &staff, id).await.expect("csv"))
        .expect("utf-8");
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(
        lines[0],
        "提交时间,您多久逛一次夜市？,希望增加什么？,满意度,其他建议"
    );
    assert!(lines[1].ends_with(",每周,美食、停车位,5,希望延长到凌晨两点"));
    assert!(!csv.contains("周敏") && !csv.contains("13800138401") && !csv.contains("不在问卷里"));
    // The questions are fixed once answered.
    let mut changed = form("survey", unit, "2020-01-01T09:00", "2099-01-01T18:00");
    changed.schema_json = SURVEY.replace("夜市调查", "改过的问卷");
    let errs = codes(
        manage::save(w.db(), &staff, Some(id), &changed)
            .await
            .expect_err("fixed"),
    );
    assert_eq!(errs, vec!["consultation_schema:answered_already"]);
}

#[tokio::test]
async fn a_survey_for_accounts_only_refuses_devices_and_closed_ones_take_nothing() {
    let w = World::new().await;
    let staff = w.staff("zj.sw", "500000-SWW", &["reviewer"]).await;
    let unit = w.unit("500000-SWW").await;
    let mut f = form("survey", unit, "2020-01-01T09:00", "2099-01-01T18:00");
    f.anonymous = false;
    let id = manage::save(w.db(), &staff, None, &f).await.expect("saved");
    let a = answers(&[("go", "很少"), ("score", "2")]);
    assert!(matches!(
        consultations::answer(w.db(), id, Respondent::Device("phone-a"), &a).await,
        Err(DomainError::Conflict(_))
    ));
    let closed = manage::save(
        w.db(),
        &staff,
        None,
        &form("survey", unit, "2020-01-01T09:00", "2020-02-01T18:00"),
    )
    .await
    .expect("saved");
    let citizen = w.citizen("13800138402", "吴强", 2).await;
    assert!(matches!(
        consultations::answer(w.db(), closed, Respondent::Citizen(&citizen), &a).await,
        Err(DomainError::Conflict(_))
    ));
    // A survey with questions the survey engine does not take, or broken JSON.
    let mut f = form("survey", unit, "2020-01-01T09:00", "2099-01-01T18:00");
    f.schema_json = SURVEY.replace("\"textarea\"", "\"id_number\"");
    assert_eq!(
        codes(
            manage::save(w.db(), &staff, None, &f)
                .await
                .expect_err("refused")
        ),
        vec!["consultation_schema:survey_kinds"]
    );
    f.schema_json = "{不是 JSON".into();
    assert_eq!(
        codes(
            manage::save(w.db(), &staff, None, &f)
                .await
                .expect_err("refused")
        ),
        vec!["consultation_schema:invalid_schema"]
    );
}

#[tokio::test]
async fn comments_show_once_accepted_and_feedback_waits_for_the_end() {
    let w = World::new().await;
    let staff = w.staff("zj.sw", "500000-SWW", &["reviewer"]).await;
    let unit = w.unit("500000-SWW").await;
    let id = manage::save(
        w.db(),
        &staff,
        None,
        &form("consultation", unit, "2020-01-01T09:00", "2099-01-01T18:00"),
    )
    .await
    .expect("saved");
    let citizen = w.citizen("13800138403", "郑小红", 2).await;
    assert_eq!(
        codes(
            consultations::comment(w.db(), id, &citizen, "太短")
                .await
                .expect_err("refused")
        ),
        vec!["comment:too_short"]
    );
    consultations::comment(
        w.db(),
        id,
        &citizen,
        "建议第一条的经营时间周末延长到凌晨两点。",
    )
    .await
    .expect("commented");
    assert!(
        consultations::shown_comments(w.db(), id)
            .await
            .expect("shown")
            .is_empty()
    );
    let pending = manage::pending_comments(w.db(), &staff, id)
        .await
        .expect("pending");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].speaker, "网友郑**", "only the surname shows");
    manage::moderate(w.db(), &staff, id, pending[0].id, true)
        .await
        .expect("shown");
    let shown = consultations::shown_comments(w.db(), id)
        .await
        .expect("shown");
    assert_eq!(shown.len(), 1);
    assert!(matches!(
        manage::moderate(w.db(), &staff, id, pending[0].id, false).await,
        Err(DomainError::Conflict(_))
    ));
    // Feedback only after the end.
    assert!(matches!(
        manage::publish_feedback(
            w.db(),
            &staff,
            id,
            "共收到意见 1 条，已采纳延长周末经营时间的建议。"
        )
        .await,
        Err(DomainError::Conflict(_))
    ));
    let closed = manage::save(
        w.db(),
        &staff,
        None,
        &form("consultation", unit, "2020-01-01T09:00", "2020-02-01T18:00"),
    )
    .await
    .expect("saved");
    assert!(matches!(
        consultations::comment(
            w.db(),
            closed,
            &citizen,
            "征集结束后还能提意见吗？我想补充一条。"
        )
        .await,
        Err(DomainError::Conflict(_))
    ));
    assert_eq!(
        codes(
            manage::publish_feedback(w.db(), &staff, closed, "已采纳。")
                .await
                .expect_err("short")
        ),
        vec!["feedback:too_short"]
    );
    manage::publish_feedback(
        w.db(),
        &staff,
        closed,
        "共收到意见 1 条，已采纳延长周末经营时间的建议，修改后的办法将于下月公布。",
    )
    .await
    .expect("published");
    let c = consultations::get(w.db(), closed).await.expect("get");
    assert!(c.feedback.starts_with("共收到意见") && c.feedback_at.is_some());
}

#[tokio::test]
async fn staff_work_only_within_their_data_scope() {
    let w = World::new().await;
    let sww = w.staff("zj.sw", "500000-SWW", &["reviewer"]).await;
    let police = w.staff("zj.ga", "500000-GA", &["reviewer"]).await;
    let unit = w.unit("500000-SWW").await;
    let id = manage::save(
        w.db(),
        &sww,
        None,
        &form("consultation", unit, "2020-01-01T09:00", "2099-01-01T18:00"),
    )
    .await
    .expect("saved");
    assert!(matches!(
        manage::pending_comments(w.db(), &police, id).await,
        Err(DomainError::OutOfScope)
    ));
    assert!(matches!(
        manage::answers_csv(w.db(), &police, id).await,
        Err(DomainError::OutOfScope)
    ));
    assert!(
        manage::mine(w.db(), &police)
            .await
            .expect("mine")
            .iter()
            .all(|c| c.id != id)
    );
    assert_eq!(
        codes(
            manage::save(
                w.db(),
                &police,
                None,
                &form("consultation", unit, "2020-01-01T09:00", "2099-01-01T18:00")
            )
            .await
            .expect_err("refused")
        ),
        vec!["consultation_unit:outside_scope"]
    );
}

#[tokio::test]
async fn the_demo_has_two_drafts_and_two_surveys_with_answers() {
    let w = World::new().await;
    let all = consultations::list(w.db()).await.expect("list");
    let drafts: Vec<_> = all.iter().filter(|c| !c.is_survey()).collect();
    let surveys: Vec<_> = all.iter().filter(|c| c.is_survey()).collect();
    assert_eq!((drafts.len(), surveys.len()), (2, 2));
    assert!(
        drafts
            .iter()
            .any(|c| c.phase == Phase::Closed && !c.feedback.is_empty())
    );
    for s in surveys {
        let r = consultations::results(w.db(), s.id, false)
            .await
            .expect("results");
        assert!(r.total >= 100, "{} has answers", s.title);
        // Every choice answer counted falls among the options.
        for q in &r.questions {
            let counted: i64 = q.counts.iter().map(|(_, n)| n).sum();
            assert!(counted >= q.answered || q.counts.is_empty());
        }
    }
}
