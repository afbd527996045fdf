//! Data scope over HTTP, one configuration object at a time: a district
//! administrator holding every permission the object needs tries to change
//! what belongs to the city or to another district. Each attempt must be
//! refused, leave the object as it was and leave a refused audit record
//! (who, which object, from which address); the same request from a
//! whole-city administrator goes through, so the refusal is the scope
//! check and not a malformed request.

use zhiban_domain::catalog;
use zhiban_domain::identity::Perm;
use zhiban_domain::identity::oidc::{self, ClientInput};
use zhiban_domain::identity::roles::{self, RoleInput};
use zhiban_domain::{forms, licenses, notify, search_terms};
use zhiban_testing::{TestApp, hidden};

/// 渝中区's administrator: every permission the objects below need.
const DISTRICT: &str = "yz.admin";
/// An item of 江北区民政局 (another district).
const JIANGBEI_ITEM: &str = "500105-MZ-0001-02";

/// What an attempt could change, read back through the domain.
enum Object {
    NotifyTemplates,
    Synonyms,
    Roles,
    OidcClientsAndKeys,
    LicenseTypes,
    Service(&'static str),
    ServiceForm(&'static str),
    Units,
}

async fn snapshot(app: &TestApp, o: &Object) -> String {
    let db = &app.db.db;
    match o {
        Object::NotifyTemplates => format!("{:?}", notify::templates(db).await.expect("t")),
        Object::Synonyms => format!("{:?}", search_terms::synonyms(db).await.expect("s")),
        Object::Roles => format!("{:?}", roles::list_roles(db).await.expect("r")),
        Object::OidcClientsAndKeys => format!(
            "{:?} {:?}",
            oidc::clients(db).await.expect("c"),
            oidc::jwks(db).await.expect("k")
        ),
        Object::LicenseTypes => format!(
            "{:?} {:?}",
            licenses::types(db).await.expect("t"),
            licenses::issuers(db).await.expect("i")
        ),
        Object::Service(code) => format!("{:?}", catalog::get_service(db, code).await.expect("s")),
        Object::ServiceForm(code) => {
            format!("{:?}", forms::repo::versions(db, code).await.expect("f"))
        }
        Object::Units => format!("{:?}", catalog::load_departments(db).await.expect("u")),
    }
}

struct Attempt {
    what: &'static str,
    object: Object,
    path: String,
    form: Vec<(&'static str, String)>,
    /// What the district administrator gets: 403 for city-level settings,
    /// 404 for another unit's object (as if missing), 422 when a field
    /// names a unit outside their scope.
    refused_with: u16,
    /// The audit record's object starts with this.
    target: String,
    /// Whether the whole-city administrator's same request is expected to
    /// change the object (false where the request is not a complete edit).
    city_may: bool,
}

async fn post(app: &TestApp, client: &reqwest::Client, path: &str, form: &[(&str, String)]) -> u16 {
    let (_, page) = app.text_with(client, "/admin/account").await;
    let csrf = hidden(&page, "_csrf");
    let mut body: Vec<(&str, &str)> = vec![("_csrf", csrf.as_str())];
    body.extend(form.iter().map(|(k, v)| (*k, v.as_str())));
    client
        .post(app.url(path))
        .form(&body)
        .send()
        .await
        .expect("post")
        .status()
        .as_u16()
}

fn s(v: &str) -> String {
    v.to_string()
}

#[tokio::test]
async fn a_district_account_cannot_change_what_belongs_to_the_city_or_another_district() {
    let app = TestApp::spawn().await;
    let db = &app.db.db;
    let admin = app.admin_session().await;
    let district = app
        .staff_with(
            DISTRICT,
            "500103",
            &[
                Perm::CasesConfigure,
                Perm::SearchManage,
                Perm::RolesManage,
                Perm::StaffManage,
                Perm::OidcClients,
                Perm::LicensesManage,
                Perm::CatalogView,
                Perm::CatalogEdit,
                Perm::CatalogPublish,
            ],
        )
        .await;

    // Objects to aim at: a synonym, a custom role held in 江北区, a
    // registered application, 江北区's unit.
    search_terms::save_synonym(db, &admin, "结婚登记", "内地居民结婚登记")
        .await
        .expect("synonym");
    let synonym = search_terms::synonyms(db).await.expect("s")[0].id;
    let role = roles::save_role(
        db,
        &admin,
        None,
        &RoleInput {
            code: "jb_window".into(),
            name: "江北区窗口".into(),
            description: String::new(),
            perms: [Perm::CatalogView].into(),
        },
    )
    .await
    .expect("role");
    app.staff_in_role("jb.clerk", "500105", "jb_window").await;
    let (client_id, _) = oidc::register_client(
        db,
        "test",
        &ClientInput {
            name: "渝州市公积金中心网上业务大厅".into(),
            redirect_uris: "http://127.0.0.1:9/callback".into(),
            post_logout_uris: String::new(),
            confidential: true,
            min_level: 1,
        },
    )
    .await
    .expect("client");
    let jiangbei = app.unit_id("500105").await;
    let jiangbei_root = app.unit_id("500000").await;
    // Last: making fixtures signs the administrator in elsewhere.
    app.login().await;

    let attempts = vec![
        Attempt {
            what: "notification wording (city-wide)",
            object: Object::NotifyTemplates,
            path: s("/admin/notify"),
            form: vec![
                ("event", s("submit")),
                ("title", s("申请已收到")),
                ("body", s("{事项名称}申请已收到，编号{办件编号}。")),
            ],
            refused_with: 403,
            target: s("notify:submit"),
            city_may: true,
        },
        Attempt {
            what: "deleting a search synonym",
            object: Object::Synonyms,
            path: format!("/admin/search/synonyms/{synonym}/delete"),
            form: vec![],
            refused_with: 403,
            target: format!("synonym:{synonym}"),
            city_may: true,
        },
        Attempt {
            what: "a search synonym (city-wide)",
            object: Object::Synonyms,
            path: s("/admin/search/synonyms"),
            form: vec![
                ("phrase", s("结婚登记")),
                ("replacement", s("婚姻家庭辅导服务预约")),
            ],
            refused_with: 403,
            target: s("synonym:结婚登记"),
            city_may: true,
        },
        Attempt {
            what: "a role held in another district",
            object: Object::Roles,
            path: format!("/admin/roles/{role}"),
            form: vec![
                ("code", s("jb_window")),
                ("name", s("江北区窗口")),
                ("perm", s("catalog.view")),
                ("perm", s("catalog.edit")),
            ],
            refused_with: 422,
            target: s("role:jb_window"),
            city_may: true,
        },
        Attempt {
            what: "registering a single-sign-on application",
            object: Object::OidcClientsAndKeys,
            path: s("/admin/oidc"),
            form: vec![
                ("client_name", s("渝中区便民服务小程序")),
                ("redirect_uris", s("https://yz.example.cn/callback")),
                ("min_level", s("1")),
            ],
            refused_with: 403,
            target: s("oidc:clients"),
            city_may: true,
        },
        Attempt {
            what: "switching off a single-sign-on application",
            object: Object::OidcClientsAndKeys,
            path: s("/admin/oidc/toggle"),
            form: vec![("client_id", client_id.clone()), ("disable", s("1"))],
            refused_with: 403,
            target: format!("oidc:{client_id}"),
            city_may: true,
        },
        Attempt {
            what: "rotating the signing keys",
            object: Object::OidcClientsAndKeys,
            path: s("/admin/oidc/rotate"),
            form: vec![],
            refused_with: 403,
            target: s("oidc:keys"),
            city_may: true,
        },
        Attempt {
            what: "who may issue 居民身份证",
            object: Object::LicenseTypes,
            path: s("/admin/licenses/types"),
            form: vec![
                ("code", s("id_card")),
                ("issuers", s("500000-GA 500103-MZ")),
            ],
            refused_with: 403,
            target: s("license_type:id_card"),
            city_may: true,
        },
        Attempt {
            what: "editing another district's catalog item",
            object: Object::Service(JIANGBEI_ITEM),
            path: format!("/admin/services/{JIANGBEI_ITEM}/edit"),
            form: vec![("name", s("婚姻家庭辅导服务预约（渝中区代办）"))],
            refused_with: 403,
            target: format!("service:{JIANGBEI_ITEM}"),
            city_may: false,
        },
        Attempt {
            what: "another district item's application form",
            object: Object::ServiceForm(JIANGBEI_ITEM),
            path: format!("/admin/services/{JIANGBEI_ITEM}/form"),
            form: vec![("schema", s("{\"fields\":[]}")), ("go", s("save"))],
            refused_with: 404,
            target: format!("service:{JIANGBEI_ITEM}"),
            city_may: false,
        },
        Attempt {
            what: "taking another district's item offline",
            object: Object::Service(JIANGBEI_ITEM),
            path: format!("/admin/services/{JIANGBEI_ITEM}/unpublish"),
            form: vec![],
            refused_with: 403,
            target: format!("service:{JIANGBEI_ITEM}"),
            city_may: true,
        },
        Attempt {
            what: "changing another district's unit",
            object: Object::Units,
            path: s("/admin/org"),
            form: vec![
                ("id", jiangbei.to_string()),
                ("parent_id", jiangbei_root.to_string()),
                ("unit_code", s("500105")),
                ("unit_name", s("江北区（已并入渝中区）")),
                ("unit_level", s("区县")),
                ("phone", s("023-67852000")),
                ("address", s("渝州市江北区洋河北路8号")),
                ("hours", s("工作日 9:00-17:00")),
            ],
            refused_with: 404,
            target: format!("unit:{jiangbei}"),
            city_may: true,
        },
        Attempt {
            what: "adding a unit under another district",
            object: Object::Units,
            path: s("/admin/org"),
            form: vec![
                ("parent_id", jiangbei.to_string()),
                ("unit_code", s("500105-YZ")),
                ("unit_name", s("渝中区驻江北办事处")),
                ("unit_level", s("部门")),
                ("phone", s("023-67852001")),
                ("address", s("渝州市江北区洋河北路10号")),
                ("hours", s("工作日 9:00-17:00")),
            ],
            refused_with: 422,
            target: format!("unit:{jiangbei}"),
            city_may: true,
        },
    ];

    for a in &attempts {
        let before = snapshot(&app, &a.object).await;
        let seen = zhiban_testing::refusals(db, DISTRICT).await.len();
        let status = post(&app, &district, &a.path, &a.form).await;
        assert_eq!(status, a.refused_with, "{}: refused", a.what);
        assert_eq!(
            snapshot(&app, &a.object).await,
            before,
            "{}: nothing changed",
            a.what
        );
        let refusals = zhiban_testing::refusals(db, DISTRICT).await;
        assert_eq!(
            refusals.len(),
            seen + 1,
            "{}: one refusal on record",
            a.what
        );
        let (target, _, ip) = refusals.last().expect("refusal");
        assert!(
            target.starts_with(&a.target),
            "{}: the record names {target}",
            a.what
        );
        assert_eq!(ip, "127.0.0.1", "{}: and where it came from", a.what);
        if a.city_may {
            let status = post(&app, &app.client, &a.path, &a.form).await;
            assert!(
                status == 200 || status == 303,
                "{}: the city administrator may ({status})",
                a.what
            );
            assert_ne!(
                snapshot(&app, &a.object).await,
                before,
                "{}: and it changes",
                a.what
            );
        }
    }
}
