//! Staff identity against a real database: lock-out, sessions, the second
//! factor, roles, data scope, delegation limits and the audit chain.

use chrono::{Duration, Utc};
use zhiban_domain::audit::{self, Entry};
use zhiban_domain::identity::roles::{self, RoleInput, StaffInput};
use zhiban_domain::identity::staff::{self, Client, LoginError, StaffSession, Stage};
use zhiban_domain::identity::{Perm, Scope, SecurityPolicy, totp};
use zhiban_domain::{Db, DomainError};
use zhiban_store::sqlx;
use zhiban_testing::TestDb;

fn policy() -> SecurityPolicy {
    SecurityPolicy::default()
}

/// A policy without the second factor, for tests about other things.
fn one_factor() -> SecurityPolicy {
    SecurityPolicy {
        staff_second_factor: false,
        ..SecurityPolicy::default()
    }
}

async fn full_session(db: &Db, username: &str, password: &str) -> (StaffSession, String) {
    let now = db.now();
    let user = staff::login(db, &one_factor(), username, password, now)
        .await
        .expect("login");
    let token = staff::start_session(db, &one_factor(), &user, &Client::default(), now)
        .await
        .expect("session");
    let s = staff::session(db, &one_factor(), &token, now)
        .await
        .expect("q")
        .expect("live");
    (s, token)
}

async fn role_id(db: &Db, code: &str) -> i64 {
    roles::list_roles(db)
        .await
        .expect("roles")
        .into_iter()
        .find(|r| r.code == code)
        .expect("role")
        .id
}

async fn unit_id(db: &Db, code: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM departments WHERE code = $1")
        .bind(code)
        .fetch_one(db.pool())
        .await
        .expect("unit")
}

#[tokio::test]
async fn staff_accounts_lock_after_five_failures_for_thirty_minutes() {
    let t = TestDb::new().await.expect("db");
    staff::create_or_reset(&t.db, "clerk", "窗口人员", "Str0ng!pass")
        .await
        .expect("created");
    let now = Utc::now();
    for _ in 0..5 {
        let r = staff::login(&t.db, &policy(), "clerk", "wrong", now).await;
        assert!(matches!(r, Err(DomainError::Login(LoginError::Invalid))));
    }
    let locked = staff::login(&t.db, &policy(), "clerk", "Str0ng!pass", now).await;
    assert!(matches!(
        locked,
        Err(DomainError::Login(LoginError::Locked))
    ));
    let later = now + Duration::minutes(31);
    let user = staff::login(&t.db, &policy(), "clerk", "Str0ng!pass", later)
        .await
        .expect("unlocked after the window");
    assert_eq!(user.display_name, "窗口人员");
}

#[tokio::test]
async fn unknown_users_get_the_same_answer_as_wrong_passwords() {
    let t = TestDb::new().await.expect("db");
    let r = staff::login(&t.db, &policy(), "nobody", "whatever", Utc::now()).await;
    assert!(matches!(r, Err(DomainError::Login(LoginError::Invalid))));
}

#[tokio::test]
async fn weak_staff_passwords_are_refused() {
    let t = TestDb::new().await.expect("db");
    let r = staff::create_or_reset(&t.db, "clerk", "", "password").await;
    assert!(matches!(r, Err(DomainError::Invalid(_))));
}

#[tokio::test]
async fn sessions_end_after_thirty_idle_minutes_and_slide_while_used() {
    let t = TestDb::new().await.expect("db");
    staff::create_or_reset(&t.db, "clerk", "", "Str0ng!pass")
        .await
        .expect("created");
    let (_, token) = full_session(&t.db, "clerk", "Str0ng!pass").await;
    let now = Utc::now();
    let alive = |at| {
        let db = t.db.clone();
        let token = token.clone();
        async move {
            staff::session(&db, &policy(), &token, at)
                .await
                .expect("q")
                .is_some()
        }
    };
    assert!(alive(now + Duration::minutes(20)).await);
    // Used at minute 20, so still alive at minute 45 …
    assert!(alive(now + Duration::minutes(45)).await);
    // … but not after 30 idle minutes from there.
    assert!(!alive(now + Duration::minutes(76)).await);
    assert!(
        staff::session(&t.db, &policy(), "forged", now)
            .await
            .expect("q")
            .is_none()
    );
}

#[tokio::test]
async fn resetting_a_password_ends_existing_sessions() {
    let t = TestDb::new().await.expect("db");
    staff::create_or_reset(&t.db, "clerk", "", "Str0ng!pass")
        .await
        .expect("created");
    let (_, token) = full_session(&t.db, "clerk", "Str0ng!pass").await;
    staff::create_or_reset(&t.db, "clerk", "", "N3w!password")
        .await
        .expect("reset");
    assert!(
        staff::session(&t.db, &policy(), &token, Utc::now())
            .await
            .expect("q")
            .is_none()
    );
}

#[tokio::test]
async fn a_session_needs_a_one_time_code_before_it_is_full_and_a_code_works_once() {
    let t = TestDb::new().await.expect("db");
    staff::create_or_reset(&t.db, "clerk", "", "Str0ng!pass")
        .await
        .expect("created");
    let now = Utc::now();
    let p = policy();
    let user = staff::login(&t.db, &p, "clerk", "Str0ng!pass", now)
        .await
        .expect("login");
    let token = staff::start_session(&t.db, &p, &user, &Client::default(), now)
        .await
        .expect("session");
    zhiban_domain::identity::staff_keys::unlock_for_session(&t.db, user.id, "Str0ng!pass", &token)
        .await
        .expect("keys");
    let s = staff::session(&t.db, &p, &token, now)
        .await
        .expect("q")
        .expect("live");
    assert_eq!(s.stage, Stage::Password);
    assert!(!s.totp_enrolled);

    // Enrolment: a wrong code is refused, the right one completes it.
    let secret = staff::begin_enrolment(&t.db, &s, &token)
        .await
        .expect("secret");
    let s = staff::session(&t.db, &p, &token, now)
        .await
        .expect("q")
        .expect("live");
    assert_eq!(s.enrol_secret.as_deref(), Some(secret.as_str()));
    let wrong = staff::confirm_enrolment(&t.db, &p, &s, &token, "000000", now).await;
    assert!(matches!(
        wrong,
        Err(DomainError::Login(LoginError::BadCode))
    ));
    let code = totp::code_at(&secret, now.timestamp()).expect("code");
    let full = staff::confirm_enrolment(&t.db, &p, &s, &token, &code, now)
        .await
        .expect("enrolled");
    // The full session has a token of its own; the one from before the
    // second factor opens nothing.
    assert_ne!(full, token);
    assert!(
        staff::session(&t.db, &p, &token, now)
            .await
            .expect("q")
            .is_none()
    );
    let token = full;
    let s = staff::session(&t.db, &p, &token, now)
        .await
        .expect("q")
        .expect("live");
    assert_eq!(s.stage, Stage::Full);
    assert!(s.totp_enrolled);
    assert!(
        s.personal_key.is_some(),
        "the person's own key moves with the session to its new token"
    );

    // A second sign-in: the code already used is refused; the next one works,
    // and (concurrent sessions off) the first session ends.
    let token2 = staff::start_session(&t.db, &p, &user, &Client::default(), now)
        .await
        .expect("session");
    let s2 = staff::session(&t.db, &p, &token2, now)
        .await
        .expect("q")
        .expect("live");
    let replay =
        staff::verify_second_factor(&t.db, &p, &s2, &token2, &code, &Client::default(), now).await;
    assert!(matches!(
        replay,
        Err(DomainError::Login(LoginError::BadCode))
    ));
    let later = now + Duration::seconds(30);
    let next = totp::code_at(&secret, later.timestamp()).expect("code");
    let token2 =
        staff::verify_second_factor(&t.db, &p, &s2, &token2, &next, &Client::default(), later)
            .await
            .expect("second factor");
    assert!(
        staff::session(&t.db, &p, &token, later)
            .await
            .expect("q")
            .is_none(),
        "the older session ended"
    );
    assert_eq!(
        staff::session(&t.db, &p, &token2, later)
            .await
            .expect("q")
            .expect("live")
            .stage,
        Stage::Full
    );
}

#[tokio::test]
async fn passwords_expire_after_the_configured_age_and_admin_set_ones_at_once() {
    let t = TestDb::demo().await.expect("db");
    staff::create_or_reset(&t.db, "admin", "", "Adm1n!pass")
        .await
        .expect("admin");
    let (admin, _) = full_session(&t.db, "admin", "Adm1n!pass").await;
    assert!(!admin.password_expired);
    // 91 days later (policy: 90) the next session must change it.
    t.db.clock().advance(Duration::days(91));
    let (aged, _) = full_session(&t.db, "admin", "Adm1n!pass").await;
    assert!(aged.password_expired);

    let input = StaffInput {
        username: "li.na".into(),
        display_name: "李娜".into(),
        unit_id: admin.user.unit_id,
        role_ids: [role_id(&t.db, "case_handler").await].into(),
        password: "Init1al!pw".into(),
        ..StaffInput::default()
    };
    roles::save_staff(&t.db, &admin, None, &input)
        .await
        .expect("created");
    let (li, _) = full_session(&t.db, "li.na", "Init1al!pw").await;
    assert!(li.password_expired, "an admin-set password must be changed");
    staff::change_password(&t.db, &li.user, "Init1al!pw", "Mine!2026x", t.db.now())
        .await
        .expect("changed");
    let (li, _) = full_session(&t.db, "li.na", "Mine!2026x").await;
    assert!(!li.password_expired);
    let wrong = staff::change_password(&t.db, &li.user, "nope", "An0ther!pw", t.db.now()).await;
    assert!(matches!(wrong, Err(DomainError::Invalid(_))));
}

#[tokio::test]
async fn a_district_administrator_manages_only_their_district_and_grants_only_what_they_hold() {
    let t = TestDb::demo().await.expect("db");
    staff::create_or_reset(&t.db, "admin", "", "Adm1n!pass")
        .await
        .expect("admin");
    let (admin, _) = full_session(&t.db, "admin", "Adm1n!pass").await;
    assert!(admin.scope.covers(unit_id(&t.db, "500000").await));
    let yuzhong = unit_id(&t.db, "500103").await;
    let jiangbei = unit_id(&t.db, "500105").await;
    let dept_admin = role_id(&t.db, "dept_admin").await;
    let input = StaffInput {
        username: "yz.admin".into(),
        display_name: "渝中区管理员".into(),
        unit_id: Some(yuzhong),
        role_ids: [dept_admin].into(),
        password: "Yuzh0ng!pw".into(),
        ..StaffInput::default()
    };
    roles::save_staff(&t.db, &admin, None, &input)
        .await
        .expect("created");
    let (yz, _) = full_session(&t.db, "yz.admin", "Yuzh0ng!pw").await;
    assert!(yz.scope.covers(yuzhong));
    assert!(!yz.scope.covers(jiangbei));
    assert!(yz.can(Perm::StaffManage));
    assert!(!yz.can(Perm::AuditView));

    // Inside the district, with a role they hold: allowed.
    let handler = role_id(&t.db, "catalog_editor").await;
    let mut clerk = StaffInput {
        username: "yz.clerk".into(),
        display_name: "窗口人员".into(),
        unit_id: Some(yuzhong),
        role_ids: [handler].into(),
        password: "Cl3rk!pass".into(),
        ..StaffInput::default()
    };
    roles::save_staff(&t.db, &yz, None, &clerk)
        .await
        .expect("inside the district");

    // Another district: refused.
    clerk.username = "jb.clerk".into();
    clerk.unit_id = Some(jiangbei);
    let r = roles::save_staff(&t.db, &yz, None, &clerk).await;
    match r {
        Err(DomainError::Invalid(errs)) => assert!(errs.iter().any(|e| e.code == "outside_scope")),
        other => panic!("expected refusal, got {other:?}"),
    }

    // A role with permissions they lack (auditor): refused.
    clerk.unit_id = Some(yuzhong);
    clerk.role_ids = [role_id(&t.db, "auditor").await].into();
    let r = roles::save_staff(&t.db, &yz, None, &clerk).await;
    match r {
        Err(DomainError::Invalid(errs)) => {
            assert!(errs.iter().any(|e| e.code == "not_yours_to_grant"))
        }
        other => panic!("expected refusal, got {other:?}"),
    }

    // The district's list holds its own staff, not the city administrator.
    let listed: Vec<String> = roles::list_staff(&t.db, &yz.scope)
        .await
        .expect("list")
        .into_iter()
        .map(|s| s.username)
        .collect();
    assert!(listed.contains(&"yz.clerk".to_string()));
    assert!(!listed.contains(&"admin".to_string()));
    let admin_id = roles::list_staff(&t.db, &Scope::All)
        .await
        .expect("list")
        .into_iter()
        .find(|s| s.username == "admin")
        .expect("admin")
        .id;
    assert!(matches!(
        roles::get_staff(&t.db, &yz, admin_id).await,
        Err(DomainError::OutOfScope)
    ));
    assert!(
        zhiban_testing::refusals(&t.db, &yz.user.username)
            .await
            .iter()
            .any(|(target, detail, _)| *target == format!("staff:{admin_id}")
                && detail == "outside_scope")
    );
}

#[tokio::test]
async fn custom_roles_hold_only_known_permissions_the_creator_has() {
    let t = TestDb::demo().await.expect("db");
    staff::create_or_reset(&t.db, "admin", "", "Adm1n!pass")
        .await
        .expect("admin");
    let (admin, _) = full_session(&t.db, "admin", "Adm1n!pass").await;
    let input = RoleInput {
        code: "district_handler".into(),
        name: "区县办件人员".into(),
        description: String::new(),
        perms: [Perm::CasesHandle, Perm::CatalogView].into(),
    };
    let id = roles::save_role(&t.db, &admin, None, &input)
        .await
        .expect("saved");
    let role = roles::list_roles(&t.db)
        .await
        .expect("roles")
        .into_iter()
        .find(|r| r.id == id)
        .expect("role");
    assert_eq!(role.perms, input.perms);
    assert!(!role.builtin);

    let dup = roles::save_role(&t.db, &admin, None, &input).await;
    assert!(matches!(dup, Err(DomainError::Invalid(_))));
    let builtin = role_id(&t.db, "auditor").await;
    let r = roles::save_role(
        &t.db,
        &admin,
        Some(builtin),
        &RoleInput {
            code: "auditor".into(),
            ..input.clone()
        },
    )
    .await;
    assert!(matches!(
        r,
        Err(DomainError::Conflict(zhiban_domain::Conflict::BuiltinRole))
    ));

    // Every seeded permission code is one the code knows.
    let codes: Vec<String> = sqlx::query_scalar("SELECT DISTINCT permission FROM role_permissions")
        .fetch_all(t.db.pool())
        .await
        .expect("codes");
    for c in codes {
        assert!(Perm::from_slug(&c).is_some(), "unknown permission {c}");
    }
}

#[tokio::test]
async fn the_audit_chain_detects_edited_deleted_and_truncated_records() {
    let t = TestDb::new().await.expect("db");
    for i in 0..5 {
        audit::record(&t.db, Entry::staff("admin", "staff.login", format!("u{i}")))
            .await
            .expect("append");
    }
    let v = audit::verify(&t.db).await.expect("verify");
    assert_eq!(v.records, 5);
    assert_eq!(v.broken, None);

    // Edit a record's content.
    sqlx::query("UPDATE audit_log SET target = 'someone-else' WHERE seq = 3")
        .execute(t.db.pool())
        .await
        .expect("edit");
    assert_eq!(
        audit::verify(&t.db).await.expect("v").broken,
        Some((3, "altered"))
    );
    sqlx::query("UPDATE audit_log SET target = 'u2' WHERE seq = 3")
        .execute(t.db.pool())
        .await
        .expect("restore");
    assert_eq!(audit::verify(&t.db).await.expect("v").broken, None);

    // Delete the newest record: the head no longer matches.
    sqlx::query("DELETE FROM audit_log WHERE seq = 5")
        .execute(t.db.pool())
        .await
        .expect("delete");
    assert_eq!(
        audit::verify(&t.db).await.expect("v").broken,
        Some((5, "truncated"))
    );

    // Delete one in the middle.
    sqlx::query("DELETE FROM audit_log WHERE seq = 2")
        .execute(t.db.pool())
        .await
        .expect("delete");
    assert_eq!(
        audit::verify(&t.db).await.expect("v").broken,
        Some((2, "missing"))
    );
}

#[tokio::test]
async fn concurrent_appends_never_fork_the_chain() {
    let t = TestDb::new().await.expect("db");
    let mut tasks = Vec::new();
    for i in 0..20 {
        let db = t.db.clone();
        tasks.push(tokio::spawn(async move {
            audit::record(&db, Entry::staff("admin", "staff.login", format!("u{i}"))).await
        }));
    }
    for task in tasks {
        task.await.expect("join").expect("append");
    }
    let v = audit::verify(&t.db).await.expect("verify");
    assert_eq!(v.records, 20);
    assert_eq!(v.broken, None);
}

#[tokio::test]
async fn audit_search_filters_by_actor_action_and_outcome() {
    let t = TestDb::new().await.expect("db");
    audit::record(&t.db, Entry::staff("wang", "staff.login", "wang"))
        .await
        .expect("a");
    audit::record(
        &t.db,
        Entry::staff("li", "access.denied", "/admin/audit").refused(),
    )
    .await
    .expect("b");
    audit::record(&t.db, Entry::staff("li_x", "staff.login", "li_x"))
        .await
        .expect("c");
    let f = audit::Filter {
        actor: "li".into(),
        ..audit::Filter::default()
    };
    let (rows, total) = audit::search(&t.db, &f, 10, 0).await.expect("search");
    assert_eq!(total, 2);
    assert_eq!(rows[0].actor, "li_x", "newest first");
    let f = audit::Filter {
        refused_only: true,
        ..audit::Filter::default()
    };
    let (rows, total) = audit::search(&t.db, &f, 10, 0).await.expect("search");
    assert_eq!(total, 1);
    assert_eq!(rows[0].action, "access.denied");
    // LIKE wildcards in the filter are literal.
    let f = audit::Filter {
        actor: "li_".into(),
        ..audit::Filter::default()
    };
    assert_eq!(audit::search(&t.db, &f, 10, 0).await.expect("s").1, 1);
}

#[tokio::test]
async fn an_sms_code_dies_after_five_wrong_tries_and_after_five_minutes() {
    use zhiban_domain::identity::ids::Phone;
    use zhiban_domain::identity::sms::{self, DevOutboxGateway, Purpose};
    let t = TestDb::new().await.expect("db");
    let phone = Phone::parse("13800138000").expect("phone");
    let now = Utc::now();
    let code_sent = |at| {
        let db = t.db.clone();
        let phone = phone.clone();
        async move {
            sms::send_code(&db, &DevOutboxGateway, &phone, Purpose::Login, at)
                .await
                .expect("sent");
            zhiban_testing::sms_code(&db, phone.as_str()).await
        }
    };
    let code = code_sent(now).await;
    for _ in 0..5 {
        assert!(
            !sms::check_code(&t.db, &phone, Purpose::Login, "999999x", now)
                .await
                .expect("q")
        );
    }
    assert!(
        !sms::check_code(&t.db, &phone, Purpose::Login, &code, now)
            .await
            .expect("q"),
        "five wrong tries killed it"
    );
    let later = now + Duration::minutes(2);
    let code = code_sent(later).await;
    assert!(
        !sms::check_code(&t.db, &phone, Purpose::Register, &code, later)
            .await
            .expect("q"),
        "a login code is not a registration code"
    );
    assert!(
        !sms::check_code(
            &t.db,
            &phone,
            Purpose::Login,
            &code,
            later + Duration::minutes(6)
        )
        .await
        .expect("q"),
        "expired"
    );
    assert!(
        sms::check_code(&t.db, &phone, Purpose::Login, &code, later)
            .await
            .expect("q")
    );
}

#[tokio::test]
async fn a_district_administrator_adds_units_only_inside_their_district() {
    use zhiban_domain::identity::org::{self, UnitInput};
    let t = TestDb::demo().await.expect("db");
    staff::create_or_reset(&t.db, "admin", "", "Adm1n!pass")
        .await
        .expect("admin");
    let (admin, _) = full_session(&t.db, "admin", "Adm1n!pass").await;
    let yuzhong = unit_id(&t.db, "500103").await;
    let jiangbei = unit_id(&t.db, "500105").await;
    let input = StaffInput {
        username: "yz.admin".into(),
        display_name: "渝中区管理员".into(),
        unit_id: Some(yuzhong),
        role_ids: [role_id(&t.db, "dept_admin").await].into(),
        password: "Yuzh0ng!pw".into(),
        ..StaffInput::default()
    };
    roles::save_staff(&t.db, &admin, None, &input)
        .await
        .expect("created");
    let (yz, _) = full_session(&t.db, "yz.admin", "Yuzh0ng!pw").await;
    let unit = |parent, code: &str| UnitInput {
        parent_id: Some(parent),
        code: code.into(),
        name: "新单位".into(),
        level: "科室".into(),
        ..UnitInput::default()
    };
    let id = org::add_unit(&t.db, &yz, &unit(yuzhong, "500103-NEW"))
        .await
        .expect("inside");
    match org::add_unit(&t.db, &yz, &unit(jiangbei, "500105-NEW")).await {
        Err(DomainError::Invalid(e)) => assert!(e.iter().any(|e| e.code == "outside_scope")),
        other => panic!("expected refusal, got {other:?}"),
    }
    assert!(matches!(
        org::update_unit(&t.db, &yz, jiangbei, &unit(jiangbei, "")).await,
        Err(DomainError::OutOfScope)
    ));
    let refused: Vec<String> = zhiban_testing::refusals(&t.db, "yz.admin")
        .await
        .into_iter()
        .map(|(target, detail, _)| format!("{target} {detail}"))
        .collect();
    assert_eq!(
        refused,
        vec![
            format!("unit:{jiangbei} outside_scope"),
            format!("unit:{jiangbei} outside_scope")
        ]
    );
    // The new unit is inside the district's scope from now on.
    let (yz, _) = full_session(&t.db, "yz.admin", "Yuzh0ng!pw").await;
    assert!(yz.scope.covers(id));
}
