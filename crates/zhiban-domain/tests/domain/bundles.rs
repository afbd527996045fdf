//! 一件事一次办 against a real database: the demo bundles, one merged form
//! with shared fields and materials asked once, one case per applicable
//! item in its own department with only its own fields, stages that start
//! on approval and stop on refusal, a 补正 that blocks nobody else, the
//! bundle finishing with its last item, and who may define bundles.

use std::collections::BTreeSet;

use zhiban_domain::bundles::{self, BundleInput};
use zhiban_domain::cases::bundled::{self, BundleStatus};
use zhiban_domain::cases::{self, Actor, CaseAction, CaseState, Draft, Step, Upload};
use zhiban_domain::catalog::Status;
use zhiban_domain::forms::{Answers, FieldKind};
use zhiban_domain::identity::citizen::Citizen;
use zhiban_domain::identity::staff::StaffSession;
use zhiban_domain::{DomainError, FieldError};
use zhiban_store::sqlx;
use zhiban_testing::World;

const PNG: &[u8] = zhiban_testing::samples::PNG;

/// Fills every visible field of every page after the questions as a
/// person would (keeping what was filled in from the profile) and uploads
/// one file per material field.
async fn fill(w: &World, who: &Citizen, code: &str, questions: &[(&str, &str)]) -> Draft {
    let b = bundles::published(w.db(), code).await.expect("bundle");
    let (mut draft, _) = bundled::bundle_draft(w.db(), who, &b).await.expect("draft");
    let q: Answers = questions
        .iter()
        .map(|(k, v)| (format!("q_{k}"), v.to_string()))
        .collect();
    draft.page = 0;
    bundled::save_bundle_draft(w.db(), who, &b, &mut draft, &q, 1)
        .await
        .expect("questions");
    for i in 1..draft.schema.pages.len() {
        let page = draft.schema.pages[i].clone();
        let mut seen = draft.answers.clone();
        let mut posted = Answers::new();
        for f in &page.fields {
            if !draft.schema.visible(f, &seen) {
                continue;
            }
            let kept = draft.answers.get(&f.key).cloned().unwrap_or_default();
            let mut put = |k: &str, v: &str| {
                posted.insert(k.to_string(), v.to_string());
                seen.insert(k.to_string(), v.to_string());
            };
            match f.kind {
                FieldKind::File => {
                    cases::add_draft_file(
                        &w.desk(),
                        who,
                        &draft,
                        Upload {
                            field_key: &f.key,
                            file_name: "scan.png",
                            body: PNG.to_vec(),
                        },
                    )
                    .await
                    .expect("upload");
                }
                FieldKind::Address => {
                    for (part, v) in [
                        ("province", "重庆市"),
                        ("city", "渝州市"),
                        ("district", "渝中区"),
                        ("detail", "解放碑街道民族路 1 号"),
                    ] {
                        put(&format!("{}.{part}", f.key), v);
                    }
                }
                _ if !kept.is_empty() => put(&f.key, &kept),
                FieldKind::Choice | FieldKind::MultiChoice => {
                    put(&f.key, f.options.first().map_or("", String::as_str))
                }
                FieldKind::Phone => put(&f.key, "13800138000"),
                FieldKind::Date => put(&f.key, "2026-01-15"),
                FieldKind::Number | FieldKind::Money => put(&f.key, "1"),
                FieldKind::Rating => put(&f.key, "5"),
                FieldKind::Text | FieldKind::Textarea => put(&f.key, "演示填写内容"),
                _ => {}
            }
        }
        draft.page = i;
        bundled::save_bundle_draft(w.db(), who, &b, &mut draft, &posted, i + 1)
            .await
            .expect("page");
    }
    draft
}

/// A case handler of `unit`.
async fn clerk(w: &World, unit: &str) -> StaffSession {
    w.staff(
        &format!("clerk.{}", unit.to_lowercase()),
        unit,
        &["case_handler"],
    )
    .await
}

async fn staff_step(w: &World, clerk: &StaffSession, number: &str, actions: &[CaseAction]) {
    for a in actions {
        cases::act(
            &w.desk(),
            Actor::Staff(clerk),
            number,
            *a,
            Step {
                reason: "材料齐全，符合条件".into(),
                ..Step::default()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{number} {a:?}: {e:?}"));
    }
}

const APPROVE: [CaseAction; 3] = [
    CaseAction::Accept,
    CaseAction::Approve,
    CaseAction::Conclude,
];

async fn birth(w: &World) -> (Citizen, bundled::BundleCase) {
    let who = w.citizen("13900001111", "王小明", 2).await;
    fill(
        w,
        &who,
        "birth",
        &[("yb", "是"), ("sbk", "是"), ("jzz", "否")],
    )
    .await;
    let b = bundles::published(w.db(), "birth").await.expect("birth");
    let number = bundled::submit_bundle(&w.desk(), &who, &b)
        .await
        .expect("submitted");
    let filed = bundled::bundle_for_citizen(w.db(), who.id, &number)
        .await
        .expect("read");
    (who, filed)
}

#[tokio::test]
async fn the_demo_city_offers_published_bundles_of_real_online_items() {
    let w = World::new().await;
    let all = bundles::list(w.db(), true).await.expect("list");
    assert!(all.len() >= 6, "{}", all.len());
    for b in &all {
        let items = bundles::items_of(w.db(), b).await.expect("items");
        assert_eq!(items.len(), b.items.len(), "{} has an item gone", b.code);
    }
    // The old single "一件事" items are gone from the catalog.
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM services WHERE name LIKE '%一件事%'")
        .fetch_one(w.db().pool())
        .await
        .expect("count");
    assert_eq!(n, 0);
}

#[tokio::test]
async fn the_merged_form_asks_shared_fields_and_materials_once_and_skips_supplied_ones() {
    let w = World::new().await;
    let who = w.citizen("13900002222", "李芳", 2).await;
    let draft = fill(
        &w,
        &who,
        "birth",
        &[("yb", "是"), ("sbk", "是"), ("jzz", "是")],
    )
    .await;
    let materials: Vec<String> = draft
        .schema
        .file_fields()
        .map(|f| f.material.clone())
        .collect();
    let distinct: BTreeSet<&String> = materials.iter().collect();
    assert_eq!(distinct.len(), materials.len(), "{materials:?}");
    // 监护人居民身份证: asked by 医保, 社保卡 and 预防接种证, uploaded once.
    assert!(materials.iter().any(|m| m == "监护人居民身份证"));
    // 出生医学证明 comes from the first item: not asked at all.
    assert!(
        !materials.iter().any(|m| m == "出生医学证明"),
        "{materials:?}"
    );
    let names = draft
        .schema
        .fields()
        .filter(|f| f.key == "applicant_name")
        .count();
    assert_eq!(names, 1);
    // Answering 否 removes the item's own fields and materials.
    let fewer = fill(
        &w,
        &who,
        "birth",
        &[("yb", "否"), ("sbk", "否"), ("jzz", "否")],
    )
    .await;
    assert!(
        !fewer
            .schema
            .file_fields()
            .any(|f| f.material == "监护人居民身份证")
    );
}

#[tokio::test]
async fn a_family_files_birth_once_and_each_department_gets_its_own_case() {
    let w = World::new().await;
    let (who, filed) = birth(&w).await;
    let codes: Vec<&str> = filed
        .children
        .iter()
        .map(|c| c.service_code.as_str())
        .collect();
    assert_eq!(
        codes,
        vec![
            "500000-WJ-0001-01",
            "500000-GA-HZ-0004-01",
            "500000-YB-0001-03",
            "500000-RS-0001-01"
        ]
    );
    let states: Vec<CaseState> = filed.children.iter().map(|c| c.state).collect();
    assert_eq!(
        states,
        vec![
            CaseState::Submitted,
            CaseState::Waiting,
            CaseState::Waiting,
            CaseState::Waiting
        ]
    );
    for c in &filed.children {
        let item = w.item(&c.service_code).await;
        let dept: String = sqlx::query_scalar("SELECT code FROM departments WHERE id = $1")
            .bind(c.department_id)
            .fetch_one(w.db().pool())
            .await
            .expect("dept");
        assert_eq!(dept, item.department_code, "{}", c.service_name);
        // Only the item's own fields: no question, nothing it does not ask.
        for k in c.answers.keys() {
            let top = k.split('.').next().unwrap_or(k);
            assert!(c.schema.field(top).is_some(), "{} got {k}", c.service_name);
        }
        assert_eq!(c.schema.title, item.name);
        assert_eq!(c.applicant_name, "王小明");
    }
    // One upload of 监护人居民身份证 serves both 医保 and 社保卡.
    let keys: Vec<String> = sqlx::query_scalar(
        "SELECT storage_key FROM case_files WHERE material = '监护人居民身份证' ORDER BY id",
    )
    .fetch_all(w.db().pool())
    .await
    .expect("files");
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], keys[1]);
    // One message for the whole bundle.
    let told: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM messages WHERE citizen_id = $1 AND case_number = $2",
    )
    .bind(who.id)
    .bind(&filed.number)
    .fetch_one(w.db().pool())
    .await
    .expect("messages");
    assert_eq!(told, 1);
    assert_eq!(filed.status(), BundleStatus::Working);
    // Anyone with the bundle's number and the phone follows it on /progress.
    let found = bundled::lookup_bundle(w.db(), &filed.number, "139 0000 1111")
        .await
        .expect("lookup");
    assert_eq!(found.map(|b| b.children.len()), Some(4));
    assert!(
        bundled::lookup_bundle(w.db(), &filed.number, "13900002222")
            .await
            .expect("lookup")
            .is_none()
    );
    // No draft is left behind.
    assert!(
        cases::drafts_of(w.db(), &who)
            .await
            .expect("drafts")
            .is_empty()
    );
}

#[tokio::test]
async fn later_items_start_on_approval_and_a_correction_blocks_nobody_else() {
    let w = World::new().await;
    let (who, filed) = birth(&w).await;
    let n = |i: usize| filed.children[i].number.clone();
    let wj = clerk(&w, "500000-WJ").await;
    staff_step(&w, &wj, &n(0), &APPROVE[..2]).await;
    // The hospital attaches the certificate it issued, then concludes.
    cases::add_result_file(
        &w.desk(),
        &wj,
        &n(0),
        Upload {
            field_key: "result",
            file_name: "出生医学证明.pdf",
            body: zhiban_testing::samples::PDF.to_vec(),
        },
    )
    .await
    .expect("result");
    staff_step(&w, &wj, &n(0), &[CaseAction::Conclude]).await;
    let now = bundled::bundle_for_citizen(w.db(), who.id, &filed.number)
        .await
        .expect("read");
    assert!(
        now.children[1..]
            .iter()
            .all(|c| c.state == CaseState::Submitted),
        "{:?}",
        now.children.iter().map(|c| c.state).collect::<Vec<_>>()
    );
    let events = cases::events(w.db(), now.children[1].id).await.expect("ev");
    assert!(events.iter().any(|e| e.action == CaseAction::Release));
    // 出生登记 now holds the certificate as its material, the same body.
    let supplied: Vec<(String, String)> = sqlx::query_as(
        "SELECT kind, storage_key FROM case_files WHERE case_id = $1 AND material = '出生医学证明'",
    )
    .bind(now.children[1].id)
    .fetch_all(w.db().pool())
    .await
    .expect("files");
    let issued: String = sqlx::query_scalar(
        "SELECT storage_key FROM case_files WHERE case_id = $1 AND kind = 'result'",
    )
    .bind(now.children[0].id)
    .fetch_one(w.db().pool())
    .await
    .expect("result");
    assert_eq!(supplied, vec![("material".to_string(), issued)]);
    // 出生登记 asks for a correction; 医保 and 社保卡 go on to the end.
    let hz = w.staff("hz.clerk", "500000-GA-HZ", &["case_handler"]).await;
    cases::act(
        &w.desk(),
        Actor::Staff(&hz),
        &n(1),
        CaseAction::Correct,
        Step {
            reason: "请补充父母结婚证".into(),
            ..Step::default()
        },
    )
    .await
    .expect("correct");
    staff_step(&w, &clerk(&w, "500000-YB").await, &n(2), &APPROVE).await;
    staff_step(&w, &clerk(&w, "500000-RS").await, &n(3), &APPROVE).await;
    let now = bundled::bundle_for_citizen(w.db(), who.id, &filed.number)
        .await
        .expect("read");
    assert_eq!(now.status(), BundleStatus::Correction);
    assert_eq!(now.done_count(), 3);
    assert!(now.finished_at.is_none());
    // The family corrects, and the last item is approved: the bundle ends.
    let child = &now.children[1];
    cases::act(
        &w.desk(),
        Actor::Applicant(&who),
        &n(1),
        CaseAction::Resubmit,
        Step {
            answers: child.answers.clone(),
            ..Step::default()
        },
    )
    .await
    .expect("resubmit");
    staff_step(&w, &hz, &n(1), &APPROVE).await;
    let done = bundled::bundle_for_citizen(w.db(), who.id, &filed.number)
        .await
        .expect("read");
    assert_eq!(done.status(), BundleStatus::Finished);
    assert!(done.finished_at.is_some());
}

#[tokio::test]
async fn a_refused_first_item_halts_the_waiting_ones_and_ends_the_bundle() {
    let w = World::new().await;
    let (who, filed) = birth(&w).await;
    let clerk = w.staff("wj.clerk", "500000-WJ", &["case_handler"]).await;
    cases::act(
        &w.desk(),
        Actor::Staff(&clerk),
        &filed.children[0].number,
        CaseAction::Reject,
        Step {
            reason: "非本院出生".into(),
            ..Step::default()
        },
    )
    .await
    .expect("reject");
    let now = bundled::bundle_for_citizen(w.db(), who.id, &filed.number)
        .await
        .expect("read");
    assert!(
        now.children[1..]
            .iter()
            .all(|c| c.state == CaseState::Halted)
    );
    assert_eq!(now.status(), BundleStatus::Finished);
    assert!(now.finished_at.is_some());
    // Nobody is asked to handle a halted item.
    let todo: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM cases WHERE bundle_case_id = $1 AND todo = 1")
            .bind(now.id)
            .fetch_one(w.db().pool())
            .await
            .expect("todo");
    assert_eq!(todo, 0);
}

#[tokio::test]
async fn the_bundle_is_expected_when_its_slowest_item_is() {
    let w = World::new().await;
    let (_, filed) = birth(&w).await;
    let today = zhiban_domain::time::local_date(w.db().now());
    let cal = zhiban_domain::cases::calendar::WorkCalendar::national();
    let intake = 5;
    let (each, slowest) = bundled::expected(&filed.children, &cal, intake, today);
    assert_eq!(each.len(), 4);
    let latest = each.iter().map(|e| e.on).max();
    assert_eq!(slowest.as_ref().map(|s| s.on), latest);
    // The first item: its intake deadline plus its promised days. The
    // waiting ones: after it, plus intake and their own promised days.
    let first = &filed.children[0];
    let first_on = cal.add_working_days(
        first.due_on,
        u32::try_from(first.promised_days).unwrap_or(0),
    );
    assert_eq!(each[0].on, first_on);
    for (e, c) in each.iter().zip(&filed.children).skip(1) {
        let promised = u32::try_from(c.promised_days).unwrap_or(0);
        assert_eq!(
            e.on,
            cal.add_working_days(first_on.max(today), intake + promised)
        );
    }
}

#[tokio::test]
async fn only_city_level_editors_define_bundles_of_published_online_items() {
    let w = World::new().await;
    let root = w.root().await;
    let input = BundleInput {
        code: "marry".into(),
        name: "结婚一件事".into(),
        audience: "person".into(),
        questions: "hk|是否变更户口登记项目|是/否".into(),
        items: "500000-MZ-0001-01|1\n500000-GA-HZ-0006-04|2|hk=是".into(),
        ..BundleInput::default()
    };
    let bad = BundleInput {
        items: "500000-MZ-0001-01|1\n500000-NOPE-01|1".into(),
        ..input.clone()
    };
    match bundles::save(w.db(), &root, None, &bad).await {
        Err(DomainError::Invalid(e)) => assert_eq!(
            e,
            vec![FieldError::new(
                "bundle_items",
                "bundle_unknown_item",
                "500000-NOPE-01"
            )]
        ),
        other => panic!("{other:?}"),
    }
    let district = w.staff("yz.editor", "500103", &["catalog_editor"]).await;
    assert!(matches!(
        bundles::save(w.db(), &district, None, &input).await,
        Err(DomainError::CityLevel)
    ));
    let saved = bundles::save(w.db(), &root, None, &input)
        .await
        .expect("save");
    assert_eq!(saved.status, Status::Draft);
    assert!(
        !bundles::list(w.db(), true)
            .await
            .expect("list")
            .iter()
            .any(|b| b.code == "marry")
    );
    bundles::set_status(w.db(), &root, "marry", Status::Published)
        .await
        .expect("publish");
    let b = bundles::published(w.db(), "marry")
        .await
        .expect("published");
    assert_eq!(
        b.items[1].when.as_ref().map(|c| c.question.as_str()),
        Some("hk")
    );
    // A second bundle may not take the code.
    assert!(matches!(
        bundles::save(w.db(), &root, None, &input).await,
        Err(DomainError::Invalid(_))
    ));
}
