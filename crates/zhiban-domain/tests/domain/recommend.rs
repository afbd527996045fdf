//! 服务找人 against a real database: the demo rules matched to a person's
//! licenses, age and sex, companies and past cases, each with its reason;
//! turning recommendations off; staff editing the rules as data.

use chrono::{Duration, TimeZone, Utc};
use zhiban_domain::identity::citizen::{self, Citizen};
use zhiban_domain::recommend::{self, RuleInput};
use zhiban_domain::time::local_date;
use zhiban_domain::{DomainError, keys};
use zhiban_store::sqlx;
use zhiban_testing::World;

use super::cases::apply;

/// A verified person with this 身份证号 (its birth date and sex digit).
async fn person(w: &World, phone: &str, id_number: &str) -> Citizen {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO citizens (phone, password_hash, name, id_number, level, created_at) \
         VALUES ($1, 'x', '赵六', $2, 2, 0) RETURNING id",
    )
    .bind(phone)
    .bind(id_number)
    .fetch_one(w.db().pool())
    .await
    .unwrap();
    keys::encrypt_pending(w.db()).await.unwrap();
    citizen::get(w.db(), id).await.unwrap()
}

async fn license(w: &World, who: &Citizen, type_code: &str, expires_on: &str) {
    let issuer: i64 = sqlx::query_scalar("SELECT id FROM departments ORDER BY id LIMIT 1")
        .fetch_one(w.db().pool())
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO licenses (number, type_code, holder_name, holder_id_number, holder_bidx, \
         citizen_id, fields, issuer_id, issued_on, expires_on, signing_key, signature, source, \
         created_at) VALUES ($1, $2, '赵六', '', '', $3, '{}', $4, '2016-01-01', $5, 'k', 's', 'test', 0)",
    )
    .bind(format!("LIC-{type_code}-{}", who.id))
    .bind(type_code)
    .bind(who.id)
    .bind(issuer)
    .bind(expires_on)
    .execute(w.db().pool())
    .await
    .unwrap();
}

fn codes(r: &[recommend::Recommendation]) -> Vec<&str> {
    r.iter().map(|x| x.rule.as_str()).collect()
}

#[tokio::test]
async fn the_demo_rules_find_what_fits_a_person_and_say_why() {
    let w = World::new().await;
    // Monday 2 March 2026: the annual-report months.
    w.db()
        .clock()
        .set(Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap());
    let today = local_date(w.db().now());
    // A man born 1965-05-20 (61 this year), and a woman of 40.
    let man = person(&w, "13800138091", "110105196505200039").await;
    let woman = person(&w, "13800138092", "110105198601010028").await;
    license(
        &w,
        &man,
        "id_card",
        &(today + Duration::days(40)).to_string(),
    )
    .await;
    license(
        &w,
        &woman,
        "id_card",
        &(today + Duration::days(400)).to_string(),
    )
    .await;

    let his = recommend::for_citizen(w.db(), &man, today).await.unwrap();
    assert_eq!(codes(&his), vec!["id-card-expiring", "retirement-men"]);
    assert!(
        his[0]
            .reason
            .contains(&(today + Duration::days(40)).to_string())
    );
    assert!(his[0].reason.contains("居民身份证"));
    assert!(his[1].reason.contains("60 岁") || his[1].reason.contains("61 岁"));
    assert_eq!(his[1].service_name, "基本养老保险待遇申领（退休）");
    let hers = recommend::for_citizen(w.db(), &woman, today).await.unwrap();
    assert!(hers.is_empty(), "a license a year away, and 40: {hers:?}");

    // 出生登记 five and a half years ago: primary school next.
    let case = apply(&w, &woman).await;
    let when = w.db().now() - Duration::days(365 * 5 + 180);
    sqlx::query(
        "UPDATE cases SET service_code = '500000-GA-HZ-0004-01', service_name = '出生登记', \
         state = 'concluded', concluded_at = $1 WHERE id = $2",
    )
    .bind(when.timestamp())
    .bind(case.id)
    .execute(w.db().pool())
    .await
    .unwrap();
    let hers = recommend::for_citizen(w.db(), &woman, today).await.unwrap();
    assert_eq!(codes(&hers), vec!["primary-school"]);
    assert!(hers[0].reason.contains("2020") && hers[0].reason.contains("出生登记"));

    // Turned off: nothing.
    recommend::set_off(w.db(), &woman, true).await.unwrap();
    assert!(
        recommend::for_citizen(w.db(), &woman, today)
            .await
            .unwrap()
            .is_empty()
    );
    recommend::set_off(w.db(), &woman, false).await.unwrap();
    assert_eq!(
        recommend::for_citizen(w.db(), &woman, today)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn staff_edit_the_rules_as_data_and_bad_ones_are_refused_in_words() {
    let w = World::new().await;
    let root = w.root().await;
    let district = w.staff("yz.editor", "500103-MZ", &["catalog_editor"]).await;
    let input = RuleInput {
        code: "hukou-booklet".into(),
        name: "户口簿换领".into(),
        kind: "license_expiring".into(),
        license_type: "household".into(),
        days: "60".into(),
        service_code: "500000-GA-HZ-0007-02".into(),
        reason: "您的{证照}将于 {日期} 到期。".into(),
        active: "1".into(),
        ..RuleInput::default()
    };
    assert!(matches!(
        recommend::save(w.db(), &district, &input).await,
        Err(DomainError::Conflict(_))
    ));
    let bad = RuleInput {
        days: "0".into(),
        service_code: "NO-SUCH".into(),
        reason: " ".into(),
        ..input.clone()
    };
    let Err(DomainError::Invalid(errs)) = recommend::save(w.db(), &root, &bad).await else {
        panic!("refused");
    };
    let fields: Vec<&str> = errs.iter().map(|e| e.field).collect();
    assert_eq!(fields, vec!["rule_days", "reason"]);
    let unknown = RuleInput {
        service_code: "NO-SUCH".into(),
        ..input.clone()
    };
    assert!(matches!(
        recommend::save(w.db(), &root, &unknown).await,
        Err(DomainError::Invalid(ref e)) if e[0].code == "unknown"
    ));
    recommend::save(w.db(), &root, &input).await.unwrap();
    let today = local_date(w.db().now());
    let who = person(&w, "13800138093", "110105199001010017").await;
    license(
        &w,
        &who,
        "household",
        &(today + Duration::days(30)).to_string(),
    )
    .await;
    let got = recommend::for_citizen(w.db(), &who, today).await.unwrap();
    assert_eq!(codes(&got), vec!["hukou-booklet"]);
    // Switched off by staff: gone; saved again under the same code, not twice.
    recommend::save(
        w.db(),
        &root,
        &RuleInput {
            active: String::new(),
            ..input.clone()
        },
    )
    .await
    .unwrap();
    assert!(
        recommend::for_citizen(w.db(), &who, today)
            .await
            .unwrap()
            .is_empty()
    );
    let all = recommend::rules(w.db()).await.unwrap();
    assert_eq!(all.iter().filter(|r| r.code == "hukou-booklet").count(), 1);
}
