//! 在线访谈 against a real database: questions show only once a
//! moderator accepts them; answers quote their question; the live log
//! gives the public only what is shown and the moderators the questions
//! too; interviews are moderated within the data scope; an ended one
//! takes nothing more.

use zhiban_domain::interviews::host::{self, InterviewForm, Moderation, Say};
use zhiban_domain::interviews::{self, Change, InterviewState, NewQuestion, PostKind, PostState};
use zhiban_domain::{DomainError, FieldError};
use zhiban_testing::World;

fn form(unit: i64) -> InterviewForm {
    InterviewForm {
        kind: "interview".into(),
        title: "夏季防汛工作在线访谈".into(),
        summary: "市水利局负责同志解读今年防汛工作安排，回答网友关心的问题。".into(),
        guests: "刘志强｜市水利局副局长\n陈芳，市水利局水旱灾害防御处处长".into(),
        unit_id: Some(unit),
        starts_at: "2026-12-20T15:00".into(),
        ends_at: "2026-12-20 16:30".into(),
    }
}

fn codes(e: DomainError) -> Vec<String> {
    match e {
        DomainError::Invalid(errs) => errs
            .into_iter()
            .map(|FieldError { field, code, .. }| format!("{field}:{code}"))
            .collect(),
        other => panic!("expected field errors, got {other:?}"),
    }
}

fn question(text: &str) -> NewQuestion {
    NewQuestion {
        nickname: "江北老李".into(),
        text: text.into(),
    }
}

#[tokio::test]
async fn a_question_shows_only_once_accepted_and_an_answer_quotes_it() {
    let w = World::new().await;
    let host = w.staff("ft.sl", "500000-SL", &["reviewer"]).await;
    let id = host::create(w.db(), &host, &form(w.unit("500000-SL").await))
        .await
        .expect("scheduled");
    let i = interviews::get(w.db(), id).await.expect("interview");
    assert_eq!(i.state, InterviewState::Scheduled);
    assert_eq!(i.guests.len(), 2);
    assert_eq!(i.guests[1].name, "陈芳");
    assert_eq!(i.guests[1].title, "市水利局水旱灾害防御处处长");
    // Asked before the interview: waiting, not public.
    interviews::ask(
        w.db(),
        id,
        None,
        &question("今年汛期什么时候开始？低洼地带居民怎么收到预警？"),
    )
    .await
    .expect("asked");
    let (_, shown, after_ask) = interviews::public(w.db(), id).await.expect("page");
    assert!(shown.is_empty());
    let (public_events, last) = interviews::events_since(w.db(), id, 0, false, 100)
        .await
        .expect("events");
    assert!(
        public_events.is_empty(),
        "the public stream has no waiting question"
    );
    assert_eq!(last, after_ask, "but it moves past it");
    let (staff_events, _) = interviews::events_since(w.db(), id, 0, true, 100)
        .await
        .expect("events");
    let Some(Change::Asked(q)) = staff_events.first().map(|e| e.change.clone()) else {
        panic!("the moderators see the question arrive: {staff_events:?}");
    };
    assert_eq!(q.speaker, "网友「江北老李」");
    assert_eq!(q.state, PostState::Pending);
    // Live: the guest answers it; the question shows first, then the answer.
    host::set_state(w.db(), &host, id, InterviewState::Live)
        .await
        .expect("live");
    let answer = host::say(
        w.db(),
        &host,
        id,
        &Say {
            guest: "刘志强".into(),
            reply_to: Some(q.id),
            text: "今年主汛期从5月开始。低洼地带通过短信、应急广播和网格员三种方式同时预警。"
                .into(),
        },
    )
    .await
    .expect("answered");
    let (_, shown, _) = interviews::public(w.db(), id).await.expect("page");
    assert_eq!(
        shown.iter().map(|p| p.kind).collect::<Vec<_>>(),
        vec![PostKind::Question, PostKind::Answer]
    );
    assert_eq!(shown[1].id, answer);
    assert_eq!(shown[1].speaker, "刘志强（市水利局副局长）");
    let quote = shown[1].quote.as_ref().expect("quoted");
    assert_eq!(quote.speaker, "网友「江北老李」");
    assert!(quote.body.starts_with("今年汛期"));
    // The public stream, resumed after the question arrived, carries the
    // start, the question and the answer, in that order.
    let (events, _) = interviews::events_since(w.db(), id, after_ask, false, 100)
        .await
        .expect("events");
    let kinds: Vec<String> = events
        .iter()
        .map(|e| match &e.change {
            Change::State(s) => format!("state:{}", s.slug()),
            Change::Shown(p) => format!("shown:{}", p.kind.slug()),
            Change::Hidden(_) => "hidden".into(),
            Change::Asked(_) => "asked".into(),
        })
        .collect();
    assert_eq!(kinds, vec!["state:live", "shown:question", "shown:answer"]);
    // Taking the answer down: a 'hidden' event, and it leaves the page.
    host::moderate(w.db(), &host, id, answer, Moderation::Withdraw)
        .await
        .expect("withdrawn");
    let (_, shown, _) = interviews::public(w.db(), id).await.expect("page");
    assert_eq!(shown.len(), 1);
    let (events, _) = interviews::events_since(w.db(), id, 0, false, 100)
        .await
        .expect("events");
    assert!(matches!(events.last().map(|e| &e.change), Some(Change::Hidden(p)) if *p == answer));
    // A second withdrawal finds nothing to withdraw.
    assert!(matches!(
        host::moderate(w.db(), &host, id, answer, Moderation::Withdraw).await,
        Err(DomainError::Conflict(_))
    ));
}

#[tokio::test]
async fn declined_questions_never_show_and_an_ended_interview_takes_nothing_more() {
    let w = World::new().await;
    let host = w.staff("ft.sl", "500000-SL", &["reviewer"]).await;
    let id = host::create(w.db(), &host, &form(w.unit("500000-SL").await))
        .await
        .expect("scheduled");
    interviews::ask(
        w.db(),
        id,
        None,
        &question("这里有广告，加微信领红包！！！"),
    )
    .await
    .expect("asked");
    let c = host::console(w.db(), &host, id).await.expect("console");
    assert_eq!(c.pending.len(), 1);
    host::moderate(w.db(), &host, id, c.pending[0].id, Moderation::Decline)
        .await
        .expect("declined");
    let c = host::console(w.db(), &host, id).await.expect("console");
    assert!(c.pending.is_empty() && c.shown.is_empty());
    // It cannot end before it started; then it runs and ends.
    assert!(matches!(
        host::set_state(w.db(), &host, id, InterviewState::Ended).await,
        Err(DomainError::Conflict(_))
    ));
    host::set_state(w.db(), &host, id, InterviewState::Live)
        .await
        .expect("live");
    host::say(
        w.db(),
        &host,
        id,
        &Say {
            text: "各位网友下午好，欢迎参加本期访谈。".into(),
            ..Say::default()
        },
    )
    .await
    .expect("the host speaks");
    host::set_state(w.db(), &host, id, InterviewState::Ended)
        .await
        .expect("ended");
    let (i, shown, _) = interviews::public(w.db(), id).await.expect("page");
    assert!(!i.takes_questions());
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].speaker, "主持人");
    assert!(matches!(
        interviews::ask(w.db(), id, None, &question("访谈结束了还能提问吗？")).await,
        Err(DomainError::Conflict(_))
    ));
    assert!(matches!(
        host::say(
            w.db(),
            &host,
            id,
            &Say {
                text: "补充一句".into(),
                ..Say::default()
            }
        )
        .await,
        Err(DomainError::Conflict(_))
    ));
    assert!(matches!(
        host::set_state(w.db(), &host, id, InterviewState::Live).await,
        Err(DomainError::Conflict(_))
    ));
}

#[tokio::test]
async fn bad_input_is_refused_with_the_field_named() {
    let w = World::new().await;
    let host = w.staff("ft.sl", "500000-SL", &["reviewer"]).await;
    let unit = w.unit("500000-SL").await;
    let mut f = form(unit);
    f.title = "访谈".into();
    f.guests = "  \n ".into();
    f.ends_at = "2026-12-20T14:00".into();
    let errs = codes(host::create(w.db(), &host, &f).await.expect_err("refused"));
    assert!(
        errs.contains(&"interview_title:too_short".to_string()),
        "{errs:?}"
    );
    assert!(
        errs.contains(&"interview_guests:required".to_string()),
        "{errs:?}"
    );
    assert!(
        errs.contains(&"interview_ends:ends_before_start".to_string()),
        "{errs:?}"
    );
    let mut f = form(unit);
    f.starts_at = "12月20日下午".into();
    let errs = codes(host::create(w.db(), &host, &f).await.expect_err("refused"));
    assert_eq!(errs, vec!["interview_starts:invalid_time"]);
    let id = host::create(w.db(), &host, &form(unit)).await.expect("ok");
    let errs = codes(
        interviews::ask(
            w.db(),
            id,
            None,
            &NewQuestion {
                nickname: "一二三四五六七八九十十一十二".into(),
                text: "好".into(),
            },
        )
        .await
        .expect_err("refused"),
    );
    assert_eq!(errs, vec!["question:too_short", "nickname:too_long"]);
    host::set_state(w.db(), &host, id, InterviewState::Live)
        .await
        .expect("live");
    let errs = codes(
        host::say(
            w.db(),
            &host,
            id,
            &Say {
                guest: "不在嘉宾名单的人".into(),
                text: "我来回答".into(),
                ..Say::default()
            },
        )
        .await
        .expect_err("refused"),
    );
    assert_eq!(errs, vec!["interview_guest:invalid_choice"]);
    // Nothing was written by the refused attempts.
    let c = host::console(w.db(), &host, id).await.expect("console");
    assert!(c.pending.is_empty() && c.shown.is_empty());
}

#[tokio::test]
async fn moderators_work_only_on_interviews_of_their_data_scope() {
    let w = World::new().await;
    let water = w.staff("ft.sl", "500000-SL", &["reviewer"]).await;
    let police = w.staff("ft.ga", "500000-GA", &["reviewer"]).await;
    let id = host::create(w.db(), &water, &form(w.unit("500000-SL").await))
        .await
        .expect("scheduled");
    // Another unit's moderator: the interview reads as missing, audited.
    assert!(matches!(
        host::console(w.db(), &police, id).await,
        Err(DomainError::OutOfScope)
    ));
    assert!(matches!(
        host::set_state(w.db(), &police, id, InterviewState::Live).await,
        Err(DomainError::OutOfScope)
    ));
    let refused: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE actor = 'ft.ga' AND outcome = 'refused' AND target = $1",
    )
    .bind(format!("interview:{id}"))
    .fetch_one(w.db().pool())
    .await
    .expect("count");
    assert_eq!(refused, 2);
    assert!(
        host::mine(w.db(), &police)
            .await
            .expect("list")
            .iter()
            .all(|i| i.id != id)
    );
    // Nor may one schedule an interview for a unit outside one's scope.
    let errs = codes(
        host::create(w.db(), &police, &form(w.unit("500000-SL").await))
            .await
            .expect_err("refused"),
    );
    assert_eq!(errs, vec!["interview_unit:outside_scope"]);
    // The police bureau's moderator covers its own units below it.
    let hz = host::create(w.db(), &police, &form(w.unit("500000-GA-HZ").await))
        .await
        .expect("a unit below");
    assert!(host::console(w.db(), &police, hz).await.is_ok());
    assert!(matches!(
        host::console(w.db(), &water, hz).await,
        Err(DomainError::OutOfScope)
    ));
}

#[tokio::test]
async fn the_demo_has_three_transcripts_and_one_announced_interview() {
    let w = World::new().await;
    let all = interviews::list(w.db(), None).await.expect("list");
    let ended: Vec<_> = all
        .iter()
        .filter(|i| i.state == InterviewState::Ended)
        .collect();
    assert_eq!(ended.len(), 3);
    assert!(ended.iter().any(|i| i.kind.slug() == "police"));
    for i in &ended {
        let (_, posts, _) = interviews::public(w.db(), i.id).await.expect("page");
        assert!(posts.len() >= 6, "{} has a transcript", i.title);
        assert!(posts.iter().any(|p| p.quote.is_some()));
    }
    let coming: Vec<_> = all
        .iter()
        .filter(|i| i.state == InterviewState::Scheduled)
        .collect();
    assert_eq!(coming.len(), 1);
    let root = w.root().await;
    let c = host::console(w.db(), &root, coming[0].id)
        .await
        .expect("console");
    assert_eq!(
        c.pending.len(),
        2,
        "questions asked ahead wait for moderation"
    );
}
