//! 窗口收件 and 以企业身份办事 against a real database: a clerk files for
//! a walk-in (checked identity, scans kept through mistakes, scope), the
//! case reaches the person's account when they verify; an agent acting for
//! a company files, pays, rates and receives the license as the company,
//! and loses all of it when the authorisation is revoked.

use zhiban_domain::cases::counter::{self, CounterDraft, WalkIn};
use zhiban_domain::cases::{self, Actor, CaseAction, Step, Upload};
use zhiban_domain::forms::Answers;
use zhiban_domain::identity::citizen::{self, Citizen, DevIdVerifier};
use zhiban_domain::identity::company::{self, DevCompanyVerifier};
use zhiban_domain::identity::staff::StaffSession;
use zhiban_domain::time::local_date;
use zhiban_domain::{DomainError, licenses, payments, ratings};
use zhiban_store::sqlx;
use zhiban_testing::{World, id_number};

const REISSUE: &str = "500000-GA-HZ-0001-03";
const PNG: &[u8] = zhiban_testing::samples::PNG;

fn answers(pairs: &[(&str, &str)]) -> Answers {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Every answer of the 居民身份证补领 form but the materials.
fn reissue_answers() -> Answers {
    answers(&[
        ("address.province", "重庆市"),
        ("address.city", "渝州市"),
        ("address.district", "渝中区"),
        ("address.detail", "解放碑街道民族路 1 号"),
        ("reason", "身份证不慎遗失"),
        ("delivery", "邮寄送达"),
        ("mail_address", "渝中区民族路 1 号"),
    ])
}

/// The clerk scans a material into the application.
async fn scan(w: &World, clerk: &StaffSession, draft: &CounterDraft, key: &str) {
    counter::add_file(
        &w.desk(),
        clerk,
        draft,
        Upload {
            field_key: key,
            file_name: "scan.png",
            body: PNG.to_vec(),
        },
    )
    .await
    .expect("scan");
}

fn walk_in(tail: u32) -> WalkIn {
    WalkIn::parse("陈秀兰", &id_number(tail), "13900000123", true).expect("walk-in")
}

#[tokio::test]
async fn the_clerk_must_check_the_card_and_gets_every_problem_at_once() {
    let Err(DomainError::Invalid(errs)) = WalkIn::parse(" ", "500103198001010000", "12", false)
    else {
        panic!("refused")
    };
    let fields: Vec<&str> = errs.iter().map(|e| e.field).collect();
    for f in ["person_name", "id_number", "phone", "seen"] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    // The same person, card checked: accepted, and the form is filled for
    // them with name and 身份证号 locked as for a verified account.
    let w = walk_in(123);
    let p = w.profile(chrono::NaiveDate::from_ymd_opt(2026, 12, 7).expect("day"));
    assert!(p.verified);
    assert_eq!(p.id_number, id_number(123));
}

#[tokio::test]
async fn a_counter_case_keeps_everything_through_mistakes_and_reaches_the_person_when_they_verify()
{
    let w = World::new().await;
    let clerk = w.staff("hz.clerk", "500000-GA-HZ", &["case_handler"]).await;
    let item = w.item(REISSUE).await;
    let mut draft = counter::start(w.db(), &clerk, &item, walk_in(123))
        .await
        .expect("started");
    // Another clerk cannot open it.
    let other = w.staff("hz.other", "500000-GA-HZ", &["case_handler"]).await;
    assert!(matches!(
        counter::get(w.db(), &other, draft.id).await,
        Err(DomainError::NotFound)
    ));
    // One scan of two, and the answers: filing is refused for the missing
    // material, and nothing typed or scanned is lost.
    counter::save(w.db(), &mut draft, &reissue_answers())
        .await
        .expect("saved");
    scan(&w, &clerk, &draft, "m1").await;
    let err = counter::file(&w.desk(), &clerk, &item, &mut draft)
        .await
        .expect_err("a material is missing");
    let DomainError::Form(errs) = err else {
        panic!("{err:?}")
    };
    assert!(errs.iter().any(|e| e.key == "m2"), "{errs:?}");
    let again = counter::get(w.db(), &clerk, draft.id).await.expect("kept");
    assert_eq!(
        again.answers.get("reason").map(String::as_str),
        Some("身份证不慎遗失")
    );
    assert_eq!(
        again.answers.get("applicant_name").map(String::as_str),
        Some("陈秀兰")
    );
    assert_eq!(counter::files(w.db(), &again).await.expect("f").len(), 1);
    assert_eq!(
        counter::open_drafts(w.db(), &clerk).await.expect("open")[0].applicant_masked,
        "陈**"
    );

    let mut draft = again;
    scan(&w, &clerk, &draft, "m2").await;
    let case = counter::file(&w.desk(), &clerk, &item, &mut draft)
        .await
        .expect("filed");
    assert_eq!(case.channel, "counter");
    assert_eq!(case.received_by, "hz.clerk");
    assert_eq!(case.citizen_id, None, "no account holds that number yet");
    assert_eq!(case.applicant_name, "陈秀兰");
    assert_eq!(
        cases::case_files(w.db(), case.id)
            .await
            .expect("files")
            .len(),
        2
    );
    assert!(
        counter::open_drafts(w.db(), &clerk)
            .await
            .expect("open")
            .is_empty()
    );
    let events = cases::events(w.db(), case.id).await.expect("events");
    assert_eq!(events[0].note, counter::COUNTER_NOTE);
    assert!(events[0].actor_label.contains("hz.clerk"));
    // The 身份证号 is stored sealed.
    let stored: String = sqlx::query_scalar("SELECT applicant_id_number FROM cases WHERE id = $1")
        .bind(case.id)
        .fetch_one(w.db().pool())
        .await
        .expect("stored");
    assert!(!stored.is_empty() && !stored.contains(&id_number(123)));

    // Someone else verifying does not get it; the person does, at once.
    let stranger = w.citizen("13900000999", "", 1).await;
    citizen::verify_real_name(w.db(), &DevIdVerifier, &stranger, "王五", &id_number(999))
        .await
        .expect("verified");
    assert!(
        cases::for_citizen(w.db(), &stranger, &case.number)
            .await
            .is_err()
    );
    // The right number under another name takes nothing either.
    let impostor = w.citizen("13900000125", "", 1).await;
    citizen::verify_real_name(w.db(), &DevIdVerifier, &impostor, "陈秀芳", &id_number(123))
        .await
        .expect("verified");
    assert!(
        cases::for_citizen(w.db(), &impostor, &case.number)
            .await
            .is_err()
    );
    sqlx::query("DELETE FROM citizens WHERE id = $1")
        .bind(impostor.id)
        .execute(w.db().pool())
        .await
        .expect("removed");
    let person = w.citizen("13900000124", "", 1).await;
    assert!(
        cases::for_citizen(w.db(), &person, &case.number)
            .await
            .is_err()
    );
    citizen::verify_real_name(w.db(), &DevIdVerifier, &person, "陈秀兰", &id_number(123))
        .await
        .expect("verified");
    let mine = cases::of_citizen(w.db(), person.id, local_date(w.db().now()))
        .await
        .expect("mine");
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].number, case.number);
    let theirs = cases::for_citizen(w.db(), &person, &case.number)
        .await
        .expect("theirs");
    assert_eq!(theirs.citizen_id, Some(person.id));
}

#[tokio::test]
async fn a_verified_person_sees_the_counter_case_at_once_and_clerks_stay_in_scope() {
    let w = World::new().await;
    let person = w.citizen("13900000321", "刘德明", 2).await;
    let clerk = w.staff("hz.clerk", "500000-GA-HZ", &["case_handler"]).await;
    let item = w.item(REISSUE).await;
    // A district clerk may not receive a city unit's item.
    let district = w.staff("yz.clerk", "500103", &["case_handler"]).await;
    assert!(matches!(
        counter::start(w.db(), &district, &item, walk_in(321)).await,
        Err(DomainError::NotFound)
    ));
    let mut draft = counter::start(
        w.db(),
        &clerk,
        &item,
        WalkIn::parse("刘德明", &person.id_number, "13900000321", true).expect("walk-in"),
    )
    .await
    .expect("started");
    let mut typed = reissue_answers();
    // A different contact phone on the form: texts go there.
    typed.insert("applicant_phone".into(), "13900000400".into());
    counter::save(w.db(), &mut draft, &typed)
        .await
        .expect("saved");
    for key in ["m1", "m2"] {
        scan(&w, &clerk, &draft, key).await;
    }
    let case = counter::file(&w.desk(), &clerk, &item, &mut draft)
        .await
        .expect("filed");
    assert_eq!(case.citizen_id, Some(person.id));
    assert_eq!(case.applicant_phone, "13900000400");
    let told = zhiban_domain::notify::messages(w.db(), person.id)
        .await
        .expect("messages");
    assert!(told.iter().any(|m| m.case_number == case.number));
    // Dropping an application removes its scans.
    let mut other = counter::start(w.db(), &clerk, &item, walk_in(555))
        .await
        .expect("started");
    counter::save(w.db(), &mut other, &reissue_answers())
        .await
        .expect("saved");
    scan(&w, &clerk, &other, "m1").await;
    let before = w.stored_bodies();
    counter::discard(&w.desk(), &clerk, &other)
        .await
        .expect("dropped");
    assert_eq!(w.stored_bodies(), before - 1);
    assert!(counter::get(w.db(), &clerk, other.id).await.is_err());
}

/// A company of `rep` with `agent` authorised.
async fn company_with_agent(w: &World, rep: &Citizen, agent: &Citizen) -> company::Company {
    let co = company::register(
        w.db(),
        &DevCompanyVerifier,
        rep,
        "91500103MA5U7XXX0P",
        "渝州市山城科技有限公司",
    )
    .await
    .expect("registered");
    company::add_agent(w.db(), rep, co.id, &agent.phone)
        .await
        .expect("agent");
    co
}

#[tokio::test]
async fn an_agent_acting_for_a_company_files_pays_rates_and_receives_the_license_as_the_company() {
    let w = World::new().await;
    let root = w.root().await;
    // For the test the 补领 item produces the company's 营业执照, and the
    // 户政 unit may issue it.
    let mut s = licenses::issuers(w.db()).await.expect("issuers");
    let mut issuers: std::collections::BTreeSet<i64> = s
        .remove("business_licence")
        .unwrap_or_default()
        .into_iter()
        .collect();
    issuers.insert(w.unit("500000-GA-HZ").await);
    licenses::configure_type(
        w.db(),
        &root,
        "business_licence",
        &licenses::TypeSettings {
            renewal_service: String::new(),
            produced_by: REISSUE.into(),
            issuers,
        },
    )
    .await
    .expect("configured");
    let rep = w.citizen("13800000011", "李四", 2).await;
    let agent = w.citizen("13800000012", "赵六", 2).await;
    let co = company_with_agent(&w, &rep, &agent).await;
    let mut acting = agent.clone();
    acting.acting = company::member_company(w.db(), agent.id, co.id)
        .await
        .expect("member");
    assert!(acting.acting.is_some());
    // The agent's own draft for the item and the company's are two.
    let item = w.item(REISSUE).await;
    let own = cases::draft(w.db(), &agent, &item)
        .await
        .expect("own draft");
    assert!(
        cases::drafts_of(w.db(), &acting)
            .await
            .expect("d")
            .is_empty()
    );
    let clerk = w.staff("hz.clerk", "500000-GA-HZ", &["case_handler"]).await;
    let case = super::payments::approved(&w, &clerk, &acting).await;
    // The agent's own data export still lists what they filed for it.
    let export = zhiban_domain::privacy::export(w.db(), &agent)
        .await
        .expect("export");
    assert!(export["cases"].to_string().contains(&case.number));
    let kept = cases::drafts_of(w.db(), &agent).await.expect("d");
    assert_eq!(kept.len(), 1, "the agent's own draft is untouched");
    assert_eq!(kept[0].0, REISSUE);
    assert_eq!(
        cases::draft(w.db(), &agent, &item).await.expect("again").id,
        own.id
    );
    assert_eq!(case.company_id, Some(co.id));
    // The company's cases: not in anyone else's reach.
    let company_cases = cases::of_company(w.db(), co.id, local_date(w.db().now()))
        .await
        .expect("list");
    assert_eq!(company_cases.len(), 1);
    let stranger = w.citizen("13800000013", "钱七", 2).await;
    assert!(
        cases::for_citizen(w.db(), &stranger, &case.number)
            .await
            .is_err()
    );
    // The legal representative reaches it too.
    cases::for_citizen(w.db(), &rep, &case.number)
        .await
        .expect("rep sees the company's case");

    // A fee, paid by the agent for the company.
    let order = super::payments::assessed_and_paid(&w, &clerk, &acting, &case).await;
    let orders = payments::of_company(w.db(), co.id).await.expect("orders");
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].number, order);
    assert!(
        orders[0].paid_at.is_some(),
        "paid by the agent for the company"
    );
    let receipt = payments::receipt(w.db(), orders[0].id)
        .await
        .expect("receipt");
    assert_eq!(
        receipt.body.payer, "渝州市山城科技有限公司",
        "the company paid"
    );
    assert!(payments::own(w.db(), &stranger, &order).await.is_err());
    cases::act(
        &w.desk(),
        Actor::Staff(&clerk),
        &case.number,
        CaseAction::Conclude,
        Step::default(),
    )
    .await
    .expect("concluded");
    // The license went to the company, naming its legal representative.
    let company_licenses = licenses::of_company(w.db(), &co.uscc)
        .await
        .expect("licenses");
    assert_eq!(company_licenses.len(), 1);
    let lic = &company_licenses[0];
    assert_eq!(lic.doc.holder_name, "渝州市山城科技有限公司");
    assert_eq!(
        lic.doc.fields.get("legal_rep").map(String::as_str),
        Some("李四")
    );
    let wallet = licenses::wallet(w.db(), &acting).await.expect("wallet");
    assert_eq!(wallet.len(), 1, "acting: the company's licenses only");
    // The agent's own wallet got nothing from the company's case.
    assert!(
        licenses::wallet(w.db(), &agent)
            .await
            .expect("wallet")
            .iter()
            .all(|l| l.doc.holder_name != "渝州市山城科技有限公司")
    );
    // Rated as the company, once.
    ratings::rate_case(
        &w.desk(),
        &acting,
        &case.number,
        &ratings::RatingInput {
            score: "5".into(),
            tags: Vec::new(),
            comment: String::new(),
            anonymous: false,
        },
    )
    .await
    .expect("rated");

    // Revoked: the agent reaches none of it, and can no longer act for it.
    company::revoke_agent(w.db(), &rep, co.id, agent.id)
        .await
        .expect("revoked");
    assert!(
        cases::for_citizen(w.db(), &acting, &case.number)
            .await
            .is_err()
    );
    assert!(payments::own(w.db(), &acting, &order).await.is_err());
    assert!(
        company::member_company(w.db(), agent.id, co.id)
            .await
            .expect("q")
            .is_none()
    );
}
