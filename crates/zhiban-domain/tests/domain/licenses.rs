//! Electronic licenses (#6) against a real database: issuing, checking,
//! tampering, revocation, masking for staff, sharing, 免证办 in an
//! application, issuing on an approved case, imports and expiry reminders.

use std::collections::BTreeMap;

use chrono::Duration;
use zhiban_domain::DomainError;
use zhiban_domain::cases::{self, Actor, CaseAction, Step, Upload};
use zhiban_domain::catalog;
use zhiban_domain::forms::Answers;
use zhiban_domain::identity::Perm;
use zhiban_domain::identity::citizen::Citizen;
use zhiban_domain::identity::staff::StaffSession;
use zhiban_domain::licenses::{self, IssueInput, Status, TypeSettings};
use zhiban_domain::time::local_date;
use zhiban_store::sqlx;
use zhiban_testing::{World, id_number};

const REISSUE: &str = "500000-GA-HZ-0001-03";
const PNG: &[u8] = zhiban_testing::samples::PNG;

async fn issue(w: &World, by: &StaffSession, ty: &str, holder: &Citizen) -> licenses::License {
    let t = licenses::get_type(w.db(), ty).await.expect("type");
    let fields: BTreeMap<String, String> = t
        .fields
        .iter()
        .map(|f| (f.key.clone(), format!("{}值", f.label)))
        .collect();
    let input = IssueInput {
        type_code: ty.into(),
        holder_name: holder.name.clone(),
        holder_id_number: holder.id_number.clone(),
        fields,
        ..IssueInput::default()
    };
    let unit = w.unit("500000-GA-HZ").await;
    licenses::issue(w.db(), by, unit, &input)
        .await
        .expect("issued")
}

/// Fills both pages of the 居民身份证补领 draft, uploads only the photo
/// receipt (m2) and submits: m1 居民户口簿 must come from a license.
async fn submit_with_photo_only(
    w: &World,
    holder: &Citizen,
    mut draft: cases::Draft,
) -> cases::Case {
    let pages: [(usize, &[(&str, &str)]); 2] = [
        (
            1,
            &[
                ("address.province", "重庆市"),
                ("address.city", "渝州市"),
                ("address.district", "渝中区"),
                ("address.detail", "解放碑街道民族路 1 号"),
            ],
        ),
        (2, &[("reason", "身份证不慎遗失"), ("delivery", "窗口领取")]),
    ];
    for (page, pairs) in pages {
        let a: Answers = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        cases::save_draft(w.db(), holder, &mut draft, &a, page)
            .await
            .expect("saved");
    }
    let upload = Upload {
        field_key: "m2",
        file_name: "photo.png",
        body: PNG.to_vec(),
    };
    cases::add_draft_file(&w.desk(), holder, &draft, upload)
        .await
        .expect("upload");
    let item = catalog::get_service(w.db(), REISSUE).await.expect("item");
    cases::submit(&w.desk(), holder, &item)
        .await
        .expect("submitted without uploading the 户口簿")
}

/// A type's settings with new renewal and producing items, its issuers
/// kept as they are.
async fn settings(w: &World, ty: &str, renewal: &str, produced_by: &str) -> TypeSettings {
    let issuers = licenses::issuers(w.db()).await.expect("issuers");
    TypeSettings {
        renewal_service: renewal.into(),
        produced_by: produced_by.into(),
        issuers: issuers
            .get(ty)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .collect(),
    }
}

async fn messages(w: &World, who: &Citizen) -> Vec<String> {
    zhiban_domain::notify::messages(w.db(), who.id)
        .await
        .expect("messages")
        .into_iter()
        .map(|m| format!("{} {}", m.title, m.body))
        .collect()
}

#[tokio::test]
async fn an_issued_license_is_signed_in_the_wallet_and_a_changed_row_reads_as_tampered() {
    let w = World::new().await;
    let root = w.root().await;
    let holder = w.citizen("13800000001", "王小明", 2).await;
    // Bad input: every problem at once, nothing stored.
    let bad = IssueInput {
        type_code: "id_card".into(),
        holder_name: " ".into(),
        holder_id_number: "500103198001010000".into(),
        ..IssueInput::default()
    };
    let unit = w.unit("500000-GA-HZ").await;
    let err = licenses::issue(w.db(), &root, unit, &bad)
        .await
        .expect_err("refused");
    let DomainError::Invalid(errs) = err else {
        panic!("{err:?}")
    };
    let codes: Vec<&str> = errs.iter().map(|e| e.field).collect();
    assert!(codes.contains(&"holder_name") && codes.contains(&"holder_id_number"));
    assert!(errs.iter().filter(|e| e.field == "license_field").count() >= 4);

    let lic = issue(&w, &root, "id_card", &holder).await;
    assert!(licenses::number_ok(lic.number()));
    assert_eq!(lic.citizen_id, Some(holder.id));
    // Expiry by type: 居民身份证 here for 20 years.
    assert!(
        lic.doc.expires_on.starts_with(
            &(local_date(w.db().now())
                .format("%Y")
                .to_string()
                .parse::<i32>()
                .unwrap()
                + 20)
                .to_string()
        )
    );
    assert_eq!(
        licenses::status(w.db(), &lic).await.expect("st"),
        Status::Valid
    );
    let wallet = licenses::wallet(w.db(), &holder).await.expect("wallet");
    assert_eq!(wallet.len(), 1);
    // "Download my data" includes the licenses.
    let mine = zhiban_domain::privacy::export(w.db(), &holder)
        .await
        .expect("export");
    assert_eq!(mine["licenses"][0]["license"]["number"], lic.number());
    assert!(
        messages(&w, &holder)
            .await
            .iter()
            .any(|m| m.contains("已签发"))
    );
    // Holder data is encrypted in the row.
    let raw: String = sqlx::query_scalar("SELECT holder_id_number FROM licenses WHERE id = $1")
        .bind(lic.id)
        .fetch_one(w.db().pool())
        .await
        .expect("raw");
    assert!(raw.starts_with("zb1:") && !raw.contains(&holder.id_number[..8]));

    // The export verifies offline; its public view is masked.
    let file = licenses::export(w.db(), &lic, "https://zw.example.gov.cn")
        .await
        .expect("export");
    let text = serde_json::to_string(&file).expect("json");
    let today = local_date(w.db().now());
    assert_eq!(
        licenses::verify_export(&text, today).expect("ok").status,
        Status::Valid
    );
    let view = licenses::verify_public(w.db(), lic.number())
        .await
        .expect("q")
        .expect("found");
    assert_eq!(view.status, Status::Valid);
    assert!(!view.holder_id.contains(&holder.id_number[3..14]));
    assert_eq!(view.holder, "王**");

    // Someone edits the row in the database: the signature no longer fits.
    sqlx::query("UPDATE licenses SET holder_name = '李小明' WHERE id = $1")
        .bind(lic.id)
        .execute(w.db().pool())
        .await
        .expect("edit");
    let view = licenses::verify_public(w.db(), lic.number())
        .await
        .expect("q")
        .expect("found");
    assert_eq!(view.status, Status::Tampered);
    assert!(
        licenses::verify_public(w.db(), "ZZ20261124000000000X")
            .await
            .expect("q")
            .is_none()
    );
}

#[tokio::test]
async fn revocation_needs_a_reason_tells_the_holder_and_shows_everywhere() {
    let w = World::new().await;
    let root = w.root().await;
    let holder = w.citizen("13800000002", "王小明", 2).await;
    let lic = issue(&w, &root, "driving_licence", &holder).await;
    let err = licenses::revoke(w.db(), &root, lic.number(), "  ")
        .await
        .expect_err("reason");
    assert!(matches!(err, DomainError::Invalid(_)));
    // Staff of another district may not revoke it.
    let other = w.staff("yz.admin", "500103", &["dept_admin"]).await;
    assert!(other.can(Perm::LicensesManage));
    assert!(matches!(
        licenses::revoke(w.db(), &other, lic.number(), "错误签发").await,
        Err(DomainError::OutOfScope)
    ));
    assert_eq!(
        zhiban_testing::refusals(w.db(), "yz.admin").await[0].0,
        format!("license:{}", lic.number())
    );
    licenses::revoke(w.db(), &root, lic.number(), "驾驶证被依法吊销")
        .await
        .expect("revoked");
    let view = licenses::verify_public(w.db(), lic.number())
        .await
        .expect("q")
        .expect("found");
    assert_eq!(view.status, Status::Revoked);
    assert_eq!(view.revoke_reason, "驾驶证被依法吊销");
    assert!(
        messages(&w, &holder)
            .await
            .iter()
            .any(|m| m.contains("已被吊销"))
    );
    assert!(matches!(
        licenses::revoke(w.db(), &root, lic.number(), "again").await,
        Err(DomainError::Conflict(
            zhiban_domain::Conflict::AlreadyRevoked
        ))
    ));
    // A revoked license can no longer stand in for a material.
    assert!(
        licenses::usable_for(w.db(), &holder, "机动车驾驶证")
            .await
            .expect("usable")
            .is_empty()
    );
}

#[tokio::test]
async fn staff_without_citizens_view_get_masked_data_and_full_views_are_audited() {
    let w = World::new().await;
    let root = w.root().await;
    let holder = w.citizen("13800000003", "王小明", 2).await;
    let lic = issue(&w, &root, "id_card", &holder).await;
    let admin = w.staff("hz.admin", "500000-GA-HZ", &["dept_admin"]).await;
    assert!(admin.can(Perm::LicensesManage) && !admin.can(Perm::CitizensView));
    let (seen, full) = licenses::for_staff(w.db(), &admin, lic.number())
        .await
        .expect("view");
    assert!(!full);
    assert_ne!(seen.doc.holder_id_number, holder.id_number);
    assert!(seen.doc.holder_id_number.contains('*'));
    assert_eq!(seen.doc.holder_name, "王**");
    let before: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'license.view'")
            .fetch_one(w.db().pool())
            .await
            .expect("count");
    let (seen, full) = licenses::for_staff(w.db(), &root, lic.number())
        .await
        .expect("view");
    assert!(full);
    assert_eq!(seen.doc.holder_id_number, holder.id_number);
    let after: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'license.view'")
            .fetch_one(w.db().pool())
            .await
            .expect("count");
    assert_eq!(after, before + 1, "every full view is audited");
    // Someone without licenses.manage sees nothing at all.
    let handler = w.staff("hz.clerk", "500000-GA-HZ", &["case_handler"]).await;
    assert!(matches!(
        licenses::for_staff(w.db(), &handler, lic.number()).await,
        Err(DomainError::NotFound)
    ));
    // Staff search finds it by the holder's 身份证号 (blind index).
    let found = licenses::search(w.db(), &root, &holder.id_number.to_lowercase(), 10)
        .await
        .expect("search");
    assert_eq!(found.len(), 1);
}

#[tokio::test]
async fn a_shared_link_shows_a_masked_license_until_it_ends() {
    let w = World::new().await;
    let root = w.root().await;
    let holder = w.citizen("13800000004", "王小明", 2).await;
    let lic = issue(&w, &root, "no_crime", &holder).await;
    assert!(
        licenses::share(w.db(), &holder, lic.number(), 5)
            .await
            .is_err(),
        "only the offered durations"
    );
    let token = licenses::share(w.db(), &holder, lic.number(), 24)
        .await
        .expect("shared");
    let (view, doc) = licenses::shared(w.db(), &token, "203.0.113.9")
        .await
        .expect("q")
        .expect("live");
    assert_eq!(view.status, Status::Valid);
    assert!(doc.holder_id_number.contains('*'));
    let uses = licenses::uses(w.db(), lic.id).await.expect("uses");
    assert!(uses.iter().any(|u| u.kind == "share_view"));
    // Someone else cannot share it.
    let stranger = w.citizen("13800000005", "王小明", 2).await;
    assert!(
        licenses::share(w.db(), &stranger, lic.number(), 1)
            .await
            .is_err()
    );
    // Stopped: gone.
    let live = licenses::shares(w.db(), lic.id).await.expect("shares");
    assert_eq!(live.len(), 1);
    licenses::unshare(w.db(), &holder, lic.number(), &live[0].token_hash)
        .await
        .expect("stop");
    assert!(
        licenses::shared(w.db(), &token, "x")
            .await
            .expect("q")
            .is_none()
    );
    // Expired: gone.
    let token = licenses::share(w.db(), &holder, lic.number(), 1)
        .await
        .expect("shared");
    w.db()
        .clock()
        .advance(Duration::hours(1) + Duration::seconds(1));
    assert!(
        licenses::shared(w.db(), &token, "x")
            .await
            .expect("q")
            .is_none()
    );
}

#[tokio::test]
async fn an_applicant_uses_a_license_instead_of_an_upload_and_staff_see_it_verified() {
    let w = World::new().await;
    let root = w.root().await;
    let holder = w.citizen("13800000006", "王小明", 2).await;
    let household = issue(&w, &root, "household", &holder).await;
    let item = catalog::get_service(w.db(), REISSUE).await.expect("item");
    let draft = cases::draft(w.db(), &holder, &item).await.expect("draft");
    let m1 = draft.schema.material_for("m1").expect("m1");
    assert_eq!(m1, "居民户口簿");
    let usable = licenses::usable_for(w.db(), &holder, &m1)
        .await
        .expect("usable");
    assert_eq!(usable.len(), 1);
    // Not for a material it does not replace.
    let m2 = draft.schema.material_for("m2").expect("m2");
    assert!(
        licenses::authorize(w.db(), &holder, draft.id, "m2", &m2, household.number())
            .await
            .is_err()
    );
    licenses::authorize(w.db(), &holder, draft.id, "m1", &m1, household.number())
        .await
        .expect("authorised");
    // Only the photo receipt is uploaded; the 户口簿 comes from the license.
    let case = submit_with_photo_only(&w, &holder, draft).await;
    let clerk = w.staff("hz.clerk", "500000-GA-HZ", &["case_handler"]).await;
    let seen = licenses::staff_view_for_case(w.db(), &clerk, &case.number)
        .await
        .expect("case licenses");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].status, Status::Valid);
    assert_eq!(seen[0].field_key, "m1");
    assert_eq!(seen[0].license.doc.number, household.doc.number);
    // The holder sees both uses: their authorisation and the staff view.
    let uses = licenses::uses(w.db(), household.id).await.expect("uses");
    let kinds: Vec<&str> = uses.iter().map(|u| u.kind.as_str()).collect();
    assert!(
        kinds.contains(&"authorize") && kinds.contains(&"case_view"),
        "{kinds:?}"
    );
    assert!(uses.iter().any(|u| u.case_number == case.number));
}

#[tokio::test]
async fn an_approved_case_of_a_producing_item_issues_the_license() {
    let w = World::new().await;
    let root = w.root().await;
    let s = settings(&w, "id_card", REISSUE, REISSUE).await;
    licenses::configure_type(w.db(), &root, "id_card", &s)
        .await
        .expect("configured");
    let holder = w.citizen("13800000007", "王小明", 2).await;
    let household = issue(&w, &root, "household", &holder).await;
    let item = catalog::get_service(w.db(), REISSUE).await.expect("item");
    let draft = cases::draft(w.db(), &holder, &item).await.expect("draft");
    let m1 = draft.schema.material_for("m1").expect("m1");
    licenses::authorize(w.db(), &holder, draft.id, "m1", &m1, household.number())
        .await
        .expect("authorised");
    let case = submit_with_photo_only(&w, &holder, draft).await;
    let clerk = w.staff("hz.clerk", "500000-GA-HZ", &["case_handler"]).await;
    // The fee (工本费) is waived here; paying it is in the payments tests.
    zhiban_domain::payments::waive(&w.payments(), &clerk, &case.number, "演示：免收")
        .await
        .expect("waived");
    for action in [
        CaseAction::Accept,
        CaseAction::Approve,
        CaseAction::Conclude,
    ] {
        cases::act(
            &w.desk(),
            Actor::Staff(&clerk),
            &case.number,
            action,
            Step::default(),
        )
        .await
        .expect("step");
    }
    let wallet = licenses::wallet(w.db(), &holder).await.expect("wallet");
    let id_card = wallet
        .iter()
        .find(|l| l.doc.type_code == "id_card")
        .expect("issued on conclusion");
    assert_eq!(id_card.source, format!("case:{}", case.number));
    assert_eq!(id_card.doc.holder_id_number, holder.id_number);
    assert_eq!(
        licenses::status(w.db(), id_card).await.expect("st"),
        Status::Valid
    );
}

#[tokio::test]
async fn an_import_is_all_or_nothing_and_lists_every_bad_line() {
    let w = World::new().await;
    let root = w.root().await;
    let unit = w.unit("500000-GA-HZ").await;
    let good = id_number(21);
    let bad_csv = format!(
        "证照类型,持证人,证件号码,签发日期,有效期至,用途\n\
         无犯罪记录证明,张三,{good},2026-11-01,2027-05-01,出国留学\n\
         无犯罪记录证明,李四,123,2026-11-01,,出国留学\n\
         护照,王五,{good},,,\n"
    );
    let errs = licenses::import_csv(w.db(), &root, unit, bad_csv.as_bytes())
        .await
        .expect_err("refused");
    let lines: Vec<usize> = errs.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![3, 4]);
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM licenses")
        .fetch_one(w.db().pool())
        .await
        .expect("count");
    assert_eq!(n, 0, "nothing imported");
    let good_csv = format!(
        "\u{feff}证照类型,持证人,证件号码,签发日期,有效期至,用途\n\
         无犯罪记录证明,张三,{good},2026-11-01,2027-05-01,出国留学\n\
         no_crime,张三,{good},2026-11-02,,入职\n"
    );
    assert_eq!(
        licenses::import_csv(w.db(), &root, unit, good_csv.as_bytes())
            .await
            .expect("imported"),
        2
    );
    let found = licenses::search(w.db(), &root, &good, 10)
        .await
        .expect("search");
    assert_eq!(found.len(), 2);
    assert!(found.iter().all(|l| l.source == "import:root"));
}

#[tokio::test]
async fn holders_are_reminded_once_before_expiry_with_the_renewal_service() {
    let w = World::new().await;
    let root = w.root().await;
    let s = settings(&w, "driving_licence", REISSUE, "").await;
    licenses::configure_type(w.db(), &root, "driving_licence", &s)
        .await
        .expect("configured");
    let holder = w.citizen("13800000008", "王小明", 2).await;
    let lic = issue(&w, &root, "driving_licence", &holder).await;
    let today = local_date(w.db().now());
    // Not yet: six years away.
    assert_eq!(
        licenses::remind_expiring(w.db(), today, "")
            .await
            .expect("run"),
        0
    );
    let soon = today + Duration::days(10);
    assert_eq!(
        licenses::remind_expiring(w.db(), soon - Duration::days(6 * 365 + 2), "")
            .await
            .expect("run"),
        0
    );
    let later = lic.doc.expires().expect("expires") - Duration::days(10);
    assert_eq!(
        licenses::remind_expiring(w.db(), later, "")
            .await
            .expect("run"),
        1
    );
    assert_eq!(
        licenses::remind_expiring(w.db(), later, "")
            .await
            .expect("run"),
        0,
        "once"
    );
    let msgs = messages(&w, &holder).await;
    assert!(
        msgs.iter()
            .any(|m| m.contains("将于") && m.contains(&format!("/services/{REISSUE}"))),
        "{msgs:?}"
    );
}

#[tokio::test]
async fn only_the_departments_named_for_a_type_issue_it_and_others_licenses_are_invalid() {
    let w = World::new().await;
    let root = w.root().await;
    let holder = w.citizen("13800000011", "王小明", 2).await;
    let mz_admin = w.staff("yz.mz", "500103-MZ", &["dept_admin"]).await;
    let yz_mz = w.unit("500103-MZ").await;
    let t = licenses::get_type(w.db(), "id_card").await.expect("type");
    let id_card = IssueInput {
        type_code: "id_card".into(),
        holder_name: holder.name.clone(),
        holder_id_number: holder.id_number.clone(),
        fields: t
            .fields
            .iter()
            .map(|f| (f.key.clone(), format!("{}值", f.label)))
            .collect(),
        ..IssueInput::default()
    };
    // The probe: 渝中区民政局 issues a 居民身份证.
    match licenses::issue(w.db(), &mz_admin, yz_mz, &id_card).await {
        Err(DomainError::Invalid(errs)) => {
            assert!(
                errs.iter().any(|e| e.code == "issuer_not_allowed"),
                "{errs:?}"
            )
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let refused = zhiban_testing::refusals(w.db(), "yz.mz").await;
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].0, "license_type:id_card");
    assert!(refused[0].1.starts_with("issuer_not_allowed"));
    // A whole-city account picking the wrong department fares no better.
    assert!(matches!(
        licenses::issue(w.db(), &root, yz_mz, &id_card).await,
        Err(DomainError::Invalid(_))
    ));
    // Nor does a CSV import of a police document from 民政.
    let csv = format!(
        "证照类型,持证人,证件号码,签发日期,有效期至,用途\n\
         无犯罪记录证明,王小明,{},2026-11-01,2027-05-01,出国留学\n",
        holder.id_number
    );
    let errs = licenses::import_csv(w.db(), &mz_admin, yz_mz, csv.as_bytes())
        .await
        .expect_err("refused");
    assert_eq!(errs[0].line, 2);
    assert!(
        errs[0]
            .errors
            .iter()
            .any(|e| e.code == "issuer_not_allowed")
    );
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM licenses")
        .fetch_one(w.db().pool())
        .await
        .expect("count");
    assert_eq!(n, 0, "nothing was issued");
    // What 民政 is named for, it issues.
    let marriage = licenses::get_type(w.db(), "marriage").await.expect("type");
    licenses::issue(
        w.db(),
        &mz_admin,
        yz_mz,
        &IssueInput {
            type_code: "marriage".into(),
            fields: marriage
                .fields
                .iter()
                .map(|f| (f.key.clone(), format!("{}值", f.label)))
                .collect(),
            ..id_card.clone()
        },
    )
    .await
    .expect("民政 issues 结婚证");
    // The type list is the city's to change.
    let s = settings(&w, "id_card", "", "").await;
    assert!(matches!(
        licenses::configure_type(w.db(), &mz_admin, "id_card", &s).await,
        Err(DomainError::CityLevel)
    ));

    // A 户口簿 from 户政 is valid and stands in for the upload, until the
    // city no longer names 公安 for the type: then it verifies as invalid
    // everywhere and 免证办 no longer offers it.
    let household = issue(&w, &root, "household", &holder).await;
    assert_eq!(
        licenses::status(w.db(), &household).await.expect("s"),
        Status::Valid
    );
    assert_eq!(
        licenses::usable_for(w.db(), &holder, "居民户口簿")
            .await
            .expect("usable")
            .len(),
        1
    );
    let crj = w.unit("500000-GA-CRJ").await;
    let only_crj = TypeSettings {
        issuers: [crj].into(),
        ..settings(&w, "household", "", "").await
    };
    licenses::configure_type(w.db(), &root, "household", &only_crj)
        .await
        .expect("configured");
    assert_eq!(
        licenses::status(w.db(), &household).await.expect("s"),
        Status::Unauthorized
    );
    let public = licenses::verify_public(w.db(), household.number())
        .await
        .expect("verify")
        .expect("found");
    assert_eq!(public.status, Status::Unauthorized);
    assert!(
        licenses::usable_for(w.db(), &holder, "居民户口簿")
            .await
            .expect("usable")
            .is_empty()
    );
    let item = catalog::get_service(w.db(), REISSUE).await.expect("item");
    let draft = cases::draft(w.db(), &holder, &item).await.expect("draft");
    assert!(
        licenses::authorize(
            w.db(),
            &holder,
            draft.id,
            "m1",
            "居民户口簿",
            household.number()
        )
        .await
        .is_err()
    );
}
