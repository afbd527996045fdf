//! Who may change what (#14): city-level settings, roles held across
//! districts, single sign-on, synonyms, grants a district cannot make,
//! 三员分立 and company records. Every refusal leaves a refused audit
//! record; the web scope test proves the same over HTTP.

use zhiban_domain::DomainError;
use zhiban_domain::identity::company::{self, DevCompanyVerifier};
use zhiban_domain::identity::oidc::{self, ClientInput};
use zhiban_domain::identity::roles::{self, RoleInput, StaffInput};
use zhiban_domain::identity::{Perm, Scope, breaks_separation, staff};
use zhiban_domain::licenses::{self, IssueInput};
use zhiban_domain::{notify, search_terms};
use zhiban_store::sqlx;
use zhiban_testing::{World, refusals};

async fn role_id(w: &World, code: &str) -> i64 {
    roles::list_roles(w.db())
        .await
        .expect("roles")
        .into_iter()
        .find(|r| r.code == code)
        .unwrap_or_else(|| panic!("no role {code}"))
        .id
}

async fn roles_of(w: &World, username: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT r.code FROM staff_roles sr JOIN roles r ON r.id = sr.role_id \
         JOIN staff_users u ON u.id = sr.user_id WHERE u.username = $1 ORDER BY r.code",
    )
    .bind(username)
    .fetch_all(w.db().pool())
    .await
    .expect("roles")
}

async fn audit_of(w: &World, action: &str) -> Vec<(String, String)> {
    sqlx::query_as("SELECT target, detail FROM audit_log WHERE action = $1 ORDER BY seq")
        .bind(action)
        .fetch_all(w.db().pool())
        .await
        .expect("audit")
}

#[tokio::test]
async fn notification_wording_is_set_for_the_whole_city_and_carries_no_links() {
    let w = World::new().await;
    let root = w.root().await;
    let district = w.staff("yz.admin", "500103", &["dept_admin"]).await;
    assert!(district.can(Perm::CasesConfigure));
    let before = format!("{:?}", notify::templates(w.db()).await.expect("t"));

    // The probe's change: a district rewrites the city's 受理 message.
    let r = notify::save_template(
        w.db(),
        &district,
        "accept",
        "办件已受理",
        "您的申请已受理，请点击 http://pay.example.com 缴纳加急费",
    )
    .await;
    assert!(matches!(r, Err(DomainError::CityLevel)), "{r:?}");
    assert_eq!(
        refusals(w.db(), "yz.admin").await,
        vec![(
            "notify:accept".to_string(),
            "city_level".to_string(),
            String::new()
        )]
    );
    assert_eq!(
        format!("{:?}", notify::templates(w.db()).await.expect("t")),
        before
    );

    // Even the city's wording takes no address of its own, however spelled.
    for body in [
        "您的申请已受理，请点击 http://pay.example.com 缴纳加急费",
        "请访问 ｗｗｗ．ｐａｙ．ｃｎ 缴费",
        "详见 pay-yz。com / fee",
    ] {
        let r = notify::save_template(w.db(), &root, "accept", "办件已受理", body).await;
        match r {
            Err(DomainError::Invalid(errs)) => assert!(
                errs.iter()
                    .any(|e| e.field == "body" && e.code == "link_not_allowed"),
                "{body}: {errs:?}"
            ),
            other => panic!("{body}: expected a refusal, got {other:?}"),
        }
    }
    assert_eq!(
        format!("{:?}", notify::templates(w.db()).await.expect("t")),
        before,
        "nothing was saved"
    );
    // The portal's own progress page is the one link allowed.
    notify::save_template(
        w.db(),
        &root,
        "accept",
        "办件已受理",
        "{事项名称}已受理，编号{办件编号}，进度请查看{查询地址}。",
    )
    .await
    .expect("the city may");
}

#[tokio::test]
async fn a_role_held_in_another_district_and_single_sign_on_are_not_a_districts_to_change() {
    let w = World::new().await;
    let root = w.root().await;
    let district = w.staff("yz.sec", "500103", &["security_admin"]).await;
    assert!(district.can(Perm::RolesManage) && district.can(Perm::OidcClients));
    let input = RoleInput {
        code: "account_keeper".into(),
        name: "账号维护".into(),
        description: String::new(),
        perms: [Perm::StaffManage].into(),
    };
    let shared = roles::save_role(w.db(), &root, None, &input)
        .await
        .expect("role");
    w.staff("jb.keeper", "500105", &["account_keeper"]).await;
    w.staff("yz.keeper", "500103", &["account_keeper"]).await;

    // Adding a permission would change what 江北区's holder may do.
    let wider = RoleInput {
        perms: [Perm::StaffManage, Perm::RolesManage].into(),
        ..input.clone()
    };
    match roles::save_role(w.db(), &district, Some(shared), &wider).await {
        Err(DomainError::Invalid(errs)) => assert!(
            errs.iter()
                .any(|e| e.code == "holders_outside_scope" && e.detail == "1"),
            "{errs:?}"
        ),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let jb_keeper: i64 =
        sqlx::query_scalar("SELECT id FROM staff_users WHERE username = 'jb.keeper'")
            .fetch_one(w.db().pool())
            .await
            .expect("id");
    let held = roles::permissions_of(w.db(), jb_keeper)
        .await
        .expect("perms");
    assert_eq!(held, [Perm::StaffManage].into(), "unchanged");
    assert_eq!(
        refusals(w.db(), "yz.sec").await,
        vec![(
            "role:account_keeper".to_string(),
            "holders_outside_scope 1".to_string(),
            String::new()
        )]
    );
    // A role held only inside the district is theirs to change.
    let own = roles::save_role(
        w.db(),
        &root,
        None,
        &RoleInput {
            code: "yz_keeper".into(),
            name: "渝中区账号维护".into(),
            ..input.clone()
        },
    )
    .await
    .expect("role");
    w.staff("yz.keeper2", "500103", &["yz_keeper"]).await;
    roles::save_role(
        w.db(),
        &district,
        Some(own),
        &RoleInput {
            code: "yz_keeper".into(),
            name: "渝中区账号维护".into(),
            ..wider.clone()
        },
    )
    .await
    .expect("inside the district");

    // Applications and signing keys are whole-city business.
    let client = ClientInput {
        name: "渝中区便民服务小程序".into(),
        redirect_uris: "https://yz.example.cn/callback".into(),
        post_logout_uris: String::new(),
        confidential: true,
        min_level: 1,
    };
    assert!(matches!(
        oidc::register_client_by(w.db(), &district, &client).await,
        Err(DomainError::CityLevel)
    ));
    let keys = oidc::jwks(w.db()).await.expect("keys");
    assert!(matches!(
        oidc::rotate_keys_by(w.db(), &district).await,
        Err(DomainError::CityLevel)
    ));
    assert!(oidc::clients(w.db()).await.expect("clients").is_empty());
    assert_eq!(oidc::jwks(w.db()).await.expect("keys"), keys);
    let (id, _) = oidc::register_client_by(w.db(), &root, &client)
        .await
        .expect("the city may");
    assert!(matches!(
        oidc::set_client_disabled_by(w.db(), &district, &id, true).await,
        Err(DomainError::CityLevel)
    ));
    assert!(!oidc::clients(w.db()).await.expect("c")[0].disabled);
    let targets: Vec<String> = refusals(w.db(), "yz.sec")
        .await
        .into_iter()
        .map(|(t, _, _)| t)
        .collect();
    assert_eq!(
        targets[1..],
        [
            "oidc:clients".to_string(),
            "oidc:keys".to_string(),
            format!("oidc:{id}")
        ]
    );
}

#[tokio::test]
async fn synonyms_are_city_wide_and_every_change_is_audited() {
    let w = World::new().await;
    let root = w.root().await;
    let district = w.staff("yz.admin", "500103", &["dept_admin"]).await;
    let before = search_terms::synonyms(w.db()).await.expect("s");
    assert!(matches!(
        search_terms::save_synonym(w.db(), &district, "结婚登记", "婚姻家庭辅导服务预约").await,
        Err(DomainError::CityLevel)
    ));
    assert_eq!(search_terms::synonyms(w.db()).await.expect("s"), before);

    search_terms::save_synonym(w.db(), &root, "领证", "内地居民结婚登记")
        .await
        .expect("saved");
    search_terms::save_synonym(w.db(), &root, "领证", "结婚登记")
        .await
        .expect("changed");
    let saved = search_terms::synonyms(w.db()).await.expect("s");
    let id = saved.iter().find(|s| s.phrase == "领证").expect("saved").id;
    assert!(matches!(
        search_terms::delete_synonym(w.db(), &district, id).await,
        Err(DomainError::CityLevel)
    ));
    assert_eq!(search_terms::synonyms(w.db()).await.expect("s"), saved);
    search_terms::delete_synonym(w.db(), &root, id)
        .await
        .expect("deleted");
    assert_eq!(
        audit_of(&w, "search.synonym_save").await,
        vec![
            ("领证".to_string(), "→ 内地居民结婚登记".to_string()),
            (
                "领证".to_string(),
                "内地居民结婚登记 → 结婚登记".to_string()
            ),
        ]
    );
    let deleted = audit_of(&w, "search.synonym_delete").await;
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].0, "领证");
    // Approving a 大家都在搜 entry is city business too.
    assert!(matches!(
        search_terms::review_hot(w.db(), &district, "新生儿落户", "approved").await,
        Err(DomainError::CityLevel)
    ));
    assert_eq!(refusals(w.db(), "yz.admin").await.len(), 3);
}

#[tokio::test]
async fn roles_the_editor_cannot_grant_are_kept_and_self_promotion_is_on_record() {
    let w = World::new().await;
    let district = w.staff("yz.admin", "500103", &["dept_admin"]).await;
    w.staff("yz.clerk", "500103", &["case_handler", "catalog_editor"])
        .await;
    let clerk = roles::list_staff(w.db(), &Scope::All)
        .await
        .expect("staff")
        .into_iter()
        .find(|s| s.username == "yz.clerk")
        .expect("clerk");
    let handler = role_id(&w, "case_handler").await;
    let editor = role_id(&w, "catalog_editor").await;
    assert!(clerk.role_ids.contains(&handler));

    // The district administrator renames the clerk: 办件人员's box was
    // disabled for them, so only 事项编辑 comes with the form.
    let renamed = StaffInput {
        username: "yz.clerk".into(),
        display_name: "渝中区窗口 李明".into(),
        unit_id: clerk.unit_id,
        role_ids: [editor].into(),
        ..StaffInput::default()
    };
    roles::save_staff(w.db(), &district, Some(clerk.id), &renamed)
        .await
        .expect("renamed");
    assert_eq!(
        roles_of(&w, "yz.clerk").await,
        vec!["case_handler".to_string(), "catalog_editor".to_string()]
    );
    // What they may grant they may also take away.
    let fewer = StaffInput {
        role_ids: Default::default(),
        ..renamed.clone()
    };
    roles::save_staff(w.db(), &district, Some(clerk.id), &fewer)
        .await
        .expect("saved");
    assert_eq!(
        roles_of(&w, "yz.clerk").await,
        vec!["case_handler".to_string()]
    );

    // Granting themselves 系统管理员: refused, and on record.
    let me = district.user.id;
    let promote = StaffInput {
        username: "yz.admin".into(),
        display_name: "渝中区管理员".into(),
        unit_id: district.user.unit_id,
        role_ids: [
            role_id(&w, "dept_admin").await,
            role_id(&w, "system_admin").await,
        ]
        .into(),
        ..StaffInput::default()
    };
    match roles::save_staff(w.db(), &district, Some(me), &promote).await {
        Err(DomainError::Invalid(errs)) => {
            assert!(errs.iter().any(|e| e.code == "not_yours_to_grant"))
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(
        roles_of(&w, "yz.admin").await,
        vec!["dept_admin".to_string()]
    );
    let refused = refusals(w.db(), "yz.admin").await;
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].0, format!("staff:{me}"));
    assert!(
        refused[0].1.starts_with("not_yours_to_grant"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn the_system_administrator_does_not_read_the_audit_log_but_appoints_who_does() {
    let w = World::new().await;
    let root = w.root().await;
    assert!(!root.can(Perm::AuditView), "三员分立");
    assert!(root.can(Perm::StaffManage));
    let auditor_role = role_id(&w, "auditor").await;
    let all = roles::list_roles(w.db()).await.expect("roles");
    let auditor = all.iter().find(|r| r.id == auditor_role).expect("auditor");
    assert_eq!(auditor.perms, [Perm::AuditView].into());
    let sysadmin = all
        .iter()
        .find(|r| r.code == "system_admin")
        .expect("system_admin");
    assert!(!breaks_separation(&sysadmin.perms));

    // The administrator appoints an auditor, but not themselves.
    assert!(roles::may_grant(&root, auditor, None));
    assert!(!roles::may_grant(&root, auditor, Some(root.user.id)));
    let id = roles::save_staff(
        w.db(),
        &root,
        None,
        &StaffInput {
            username: "city.auditor".into(),
            display_name: "市大数据局 审计员".into(),
            unit_id: root.user.unit_id,
            role_ids: [auditor_role].into(),
            password: "Aud1tor!pass".into(),
            ..StaffInput::default()
        },
    )
    .await
    .expect("appointed");
    assert_eq!(
        roles_of(&w, "city.auditor").await,
        vec!["auditor".to_string()]
    );
    let me = StaffInput {
        username: "root".into(),
        display_name: "root".into(),
        unit_id: root.user.unit_id,
        role_ids: [role_id(&w, "system_admin").await, auditor_role].into(),
        ..StaffInput::default()
    };
    assert!(matches!(
        roles::save_staff(w.db(), &root, Some(root.user.id), &me).await,
        Err(DomainError::Invalid(_))
    ));
    // A district administrator appoints no auditor at all.
    let district = w.staff("yz.admin", "500103", &["dept_admin"]).await;
    assert!(!roles::may_grant(&district, auditor, Some(id)));
    // The CLI makes the three accounts of 三员分立.
    staff::create_or_reset_as(w.db(), "ops.audit", "", "Aud1tor!pass", "auditor")
        .await
        .expect("auditor");
    assert_eq!(roles_of(&w, "ops.audit").await, vec!["auditor".to_string()]);
    assert!(
        staff::create_or_reset_as(w.db(), "ops.x", "", "Aud1tor!pass", "jb_window")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_business_license_naming_someone_else_stops_a_company_registration() {
    let w = World::new().await;
    let root = w.root().await;
    let zhang = w.citizen("13800138031", "张三", 2).await;
    let li = w.citizen("13800138032", "李四", 2).await;
    let sj = w.unit("500000-SJ").await;
    let licence = |uscc: &str, name: &str, rep: &str| IssueInput {
        type_code: "business_licence".into(),
        holder_name: name.into(),
        holder_id_number: uscc.into(),
        fields: [
            ("uscc".to_string(), uscc.to_string()),
            ("company_type".to_string(), "有限责任公司".to_string()),
            ("legal_rep".to_string(), rep.to_string()),
            (
                "scope".to_string(),
                "软件开发；信息技术咨询服务".to_string(),
            ),
        ]
        .into(),
        ..IssueInput::default()
    };
    licenses::issue(
        w.db(),
        &root,
        sj,
        &licence("91500103MA5U7XXX0P", "渝州市山城科技有限公司", "李四"),
    )
    .await
    .expect("issued");

    // 张三 claims 李四's company: the verifier (format only) would agree,
    // the license held here does not.
    let r = company::register(
        w.db(),
        &DevCompanyVerifier,
        &zhang,
        "91500103MA5U7XXX0P",
        "渝州市山城科技有限公司",
    )
    .await;
    match r {
        Err(DomainError::Invalid(errs)) => {
            assert!(
                errs.iter().any(|e| e.code == "legal_rep_mismatch"),
                "{errs:?}"
            )
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(
        company::memberships(w.db(), zhang.id)
            .await
            .expect("m")
            .is_empty()
    );
    let refused: Vec<(String, String)> = sqlx::query_as(
        "SELECT target, detail FROM audit_log WHERE action = 'company.register' AND outcome = 'refused'",
    )
    .fetch_all(w.db().pool())
    .await
    .expect("audit");
    assert_eq!(refused.len(), 1);
    assert!(refused[0].1.starts_with("legal_rep_mismatch"));
    // The named representative registers it and finds the license.
    company::register(
        w.db(),
        &DevCompanyVerifier,
        &li,
        "91500103MA5U7XXX0P",
        "渝州市山城科技有限公司",
    )
    .await
    .expect("registered");
    assert_eq!(licenses::wallet(w.db(), &li).await.expect("w").len(), 1);

    // A company registered before its license came: a license naming
    // someone else stays out of the wallet.
    company::register(
        w.db(),
        &DevCompanyVerifier,
        &zhang,
        "91500105MA60QW1T2M",
        "渝州市江北商贸有限公司",
    )
    .await
    .expect("registered");
    licenses::issue(
        w.db(),
        &root,
        sj,
        &licence("91500105MA60QW1T2M", "渝州市江北商贸有限公司", "王五"),
    )
    .await
    .expect("issued");
    assert!(
        licenses::wallet(w.db(), &zhang)
            .await
            .expect("w")
            .is_empty()
    );
}
