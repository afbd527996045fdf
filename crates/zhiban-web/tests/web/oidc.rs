//! The OpenID Connect provider over real HTTP, as a relying party uses it:
//! discovery, sign-in, consent, code + PKCE, token, ID-token validation
//! against the JWKS, userinfo, and the refusals that keep it safe (exact
//! redirect URIs, single-use codes, PKCE verifiers, step-up by level).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};
use zhiban_domain::identity::oidc::{self, ClientInput};
use zhiban_testing::{TestApp, hidden};

const PHONE: &str = "13800138000";
const PASSWORD: &str = "Citiz3n!pw";
const REDIRECT: &str = "http://127.0.0.1:9/callback";
const AFTER_LOGOUT: &str = "http://127.0.0.1:9/bye";
const VERIFIER: &str = "dBjftJeZ4CVP-1mB92K27uhbUJU1p1r_wW1gFWFOEjXk-and-some-more";

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

async fn client(app: &TestApp, min_level: i64) -> (String, String) {
    let (id, secret) = oidc::register_client(
        &app.db.db,
        "test",
        &ClientInput {
            name: "渝州市公积金中心网上业务大厅".into(),
            redirect_uris: REDIRECT.into(),
            post_logout_uris: AFTER_LOGOUT.into(),
            confidential: true,
            min_level,
        },
    )
    .await
    .expect("client");
    (id, secret.expect("secret"))
}

fn authorize_url(client_id: &str, redirect: &str, verifier: &str) -> String {
    format!(
        "/oidc/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope=openid%20profile%20phone%20realname&state=st-1&nonce=n-1&code_challenge={}&code_challenge_method=S256",
        zhiban_testing::urlencode(redirect),
        challenge(verifier)
    )
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"]
        .to_str()
        .expect("location")
        .to_string()
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    url::form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A browser that signs in at the portal and approves the application.
async fn signed_in_code(
    app: &TestApp,
    browser: &reqwest::Client,
    client_id: &str,
    verifier: &str,
) -> String {
    let url = authorize_url(client_id, REDIRECT, verifier);
    let r = browser.get(app.url(&url)).send().await.expect("authorize");
    if r.status().as_u16() == 303 && location(&r).starts_with("/login") {
        let (_, page) = app.text_with(browser, &location(&r)).await;
        let csrf = hidden(&page, "_csrf");
        let next = hidden(&page, "next");
        let r = browser
            .post(app.url("/login"))
            .form(&[
                ("phone", PHONE),
                ("password", PASSWORD),
                ("_csrf", csrf.as_str()),
                ("next", next.as_str()),
            ])
            .send()
            .await
            .expect("login");
        assert_eq!(
            r.status().as_u16(),
            200,
            "a page that continues to the application"
        );
        assert!(r.text().await.expect("body").contains("/oidc/authorize"));
    }
    let r = browser.get(app.url(&url)).send().await.expect("authorize");
    let r = if r.status().as_u16() == 200 {
        let csp = r.headers()["content-security-policy"]
            .to_str()
            .expect("csp")
            .to_string();
        assert!(
            csp.contains("form-action 'self' http://127.0.0.1:9"),
            "{csp}"
        );
        let page = r.text().await.expect("consent");
        assert!(page.contains("渝州市公积金中心网上业务大厅"));
        let fields: Vec<(String, String)> = [
            "response_type",
            "client_id",
            "redirect_uri",
            "scope",
            "state",
            "nonce",
            "code_challenge",
            "code_challenge_method",
            "_csrf",
        ]
        .iter()
        .map(|n| (n.to_string(), zhiban_testing::unescape(&hidden(&page, n))))
        .chain([("decision".to_string(), "allow".to_string())])
        .collect();
        browser
            .post(app.url("/oidc/authorize"))
            .form(&fields)
            .send()
            .await
            .expect("consent")
    } else {
        r
    };
    assert_eq!(r.status().as_u16(), 303);
    let to = location(&r);
    assert!(to.starts_with(REDIRECT), "{to}");
    assert_eq!(query_param(&to, "state").as_deref(), Some("st-1"));
    query_param(&to, "code").expect("code")
}

async fn exchange(
    app: &TestApp,
    id: &str,
    secret: &str,
    code: &str,
    verifier: &str,
) -> (u16, Value) {
    let r = zhiban_testing::client()
        .post(app.url("/oidc/token"))
        .basic_auth(id, Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .expect("token");
    (r.status().as_u16(), r.json().await.expect("json"))
}

async fn verify_id_token(app: &TestApp, token: &str, aud: &str) -> Value {
    let (_, jwks) = app.json("/oidc/jwks").await;
    let header = jsonwebtoken::decode_header(token).expect("header");
    let key = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"].as_str() == header.kid.as_deref())
        .expect("the signing key is published");
    let dec = jsonwebtoken::DecodingKey::from_rsa_components(
        key["n"].as_str().expect("n"),
        key["e"].as_str().expect("e"),
    )
    .expect("key");
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&[aud]);
    v.set_issuer(&[app.base.as_str()]);
    jsonwebtoken::decode::<Value>(token, &dec, &v)
        .expect("a valid ID token")
        .claims
}

#[tokio::test]
async fn a_relying_party_signs_a_citizen_in_with_code_and_pkce() {
    let app = TestApp::spawn().await;
    let browser = zhiban_testing::client();
    app.register(&browser, PHONE).await;
    let (id, secret) = client(&app, 1).await;

    let (_, disco) = app.json("/.well-known/openid-configuration").await;
    assert_eq!(disco["issuer"], app.base.as_str());
    assert_eq!(disco["code_challenge_methods_supported"][0], "S256");
    assert_eq!(disco["id_token_signing_alg_values_supported"][0], "RS256");

    let code = signed_in_code(&app, &browser, &id, VERIFIER).await;
    let (status, tokens) = exchange(&app, &id, &secret, &code, VERIFIER).await;
    assert_eq!(status, 200, "{tokens}");
    let claims = verify_id_token(&app, tokens["id_token"].as_str().expect("id_token"), &id).await;
    assert_eq!(claims["nonce"], "n-1");
    assert_eq!(claims["acr"], "L1");
    let sub = claims["sub"].as_str().expect("sub").to_string();
    assert!(!sub.contains(PHONE));

    let access = tokens["access_token"].as_str().expect("access");
    let info: Value = zhiban_testing::client()
        .get(app.url("/oidc/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .expect("userinfo")
        .json()
        .await
        .expect("json");
    assert_eq!(info["sub"], sub.as_str());
    assert_eq!(info["phone_number"], "+8613800138000");
    assert_eq!(info["realname_level"], 1);

    // The code again: refused, and the tokens it gave are revoked.
    let (status, err) = exchange(&app, &id, &secret, &code, VERIFIER).await;
    assert_eq!(status, 400);
    assert_eq!(err["error"], "invalid_grant");
    let r = zhiban_testing::client()
        .get(app.url("/oidc/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .expect("userinfo");
    assert_eq!(r.status().as_u16(), 401);

    // Consent is remembered: the next sign-in goes straight back with a code.
    let code = signed_in_code(&app, &browser, &id, VERIFIER).await;
    // … and a wrong PKCE verifier or secret gets nothing.
    let (status, err) = exchange(&app, &id, &secret, &code, "x".repeat(50).as_str()).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let code = signed_in_code(&app, &browser, &id, VERIFIER).await;
    let (status, err) = exchange(&app, &id, "wrong-secret", &code, VERIFIER).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (401, Some("invalid_client"))
    );
}

#[tokio::test]
async fn unregistered_redirect_uris_get_an_error_page_never_a_redirect() {
    let app = TestApp::spawn().await;
    let (id, _) = client(&app, 1).await;
    for redirect in [
        "http://127.0.0.1:9/callback/",
        "https://evil.example/callback",
        "http://127.0.0.1:9/callback?x=1",
    ] {
        let r = app.get(&authorize_url(&id, redirect, VERIFIER)).await;
        assert_eq!(r.status().as_u16(), 400, "{redirect}");
        assert!(r.headers().get("location").is_none());
        assert!(
            r.text()
                .await
                .expect("body")
                .contains("回调地址与登记的不一致")
        );
    }
    let r = app
        .get(&authorize_url("zb-unknown", REDIRECT, VERIFIER))
        .await;
    assert_eq!(r.status().as_u16(), 400);
    // A registered address with a bad request goes back with an error code.
    let url = authorize_url(&id, REDIRECT, VERIFIER)
        .replace("code_challenge_method=S256", "code_challenge_method=plain");
    let r = app.get(&url).await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(
        query_param(&location(&r), "error").as_deref(),
        Some("invalid_request")
    );
}

#[tokio::test]
async fn an_application_that_needs_level_two_asks_the_person_to_step_up() {
    let app = TestApp::spawn().await;
    let browser = zhiban_testing::client();
    app.register(&browser, PHONE).await;
    let (id, secret) = client(&app, 2).await;
    let url = authorize_url(&id, REDIRECT, VERIFIER);
    let (status, page) = app.text_with(&browser, &url).await;
    assert_eq!(status, 200);
    assert!(page.contains("需要提升实名等级"));
    assert!(page.contains("去实名认证"));
    // Verify the real name, then the same request goes through, acr = L2.
    let (_, account) = app.text_with(&browser, "/account").await;
    let csrf = hidden(&account, "_csrf");
    browser
        .post(app.url("/account/realname"))
        .form(&[
            ("name", "张三"),
            ("id_number", "11010519491231002X"),
            ("_csrf", csrf.as_str()),
        ])
        .send()
        .await
        .expect("realname");
    let code = signed_in_code(&app, &browser, &id, VERIFIER).await;
    let (_, tokens) = exchange(&app, &id, &secret, &code, VERIFIER).await;
    let claims = verify_id_token(&app, tokens["id_token"].as_str().expect("id"), &id).await;
    assert_eq!(claims["acr"], "L2");
}

#[tokio::test]
async fn logout_from_the_application_ends_the_portal_session_and_returns_only_to_a_registered_address()
 {
    let app = TestApp::spawn().await;
    let browser = zhiban_testing::client();
    app.register(&browser, PHONE).await;
    let (id, secret) = client(&app, 1).await;
    let code = signed_in_code(&app, &browser, &id, VERIFIER).await;
    let (_, tokens) = exchange(&app, &id, &secret, &code, VERIFIER).await;
    let hint = tokens["id_token"].as_str().expect("id");

    // Rotating keys keeps the old key published: the token still verifies.
    oidc::rotate_keys(&app.db.db, "test").await.expect("rotate");
    let (_, jwks) = app.json("/oidc/jwks").await;
    assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(2));
    verify_id_token(&app, hint, &id).await;

    let r = browser
        .get(app.url(&format!(
            "/oidc/logout?id_token_hint={hint}&post_logout_redirect_uri={}&state=bye-1",
            zhiban_testing::urlencode("https://evil.example/")
        )))
        .send()
        .await
        .expect("logout");
    assert_eq!(
        r.status().as_u16(),
        200,
        "an unregistered address: our own page"
    );
    assert_eq!(
        browser
            .get(app.url("/account"))
            .send()
            .await
            .expect("get")
            .status()
            .as_u16(),
        303
    );

    // Sign in again, then log out with the registered address.
    let code = signed_in_code(&app, &browser, &id, VERIFIER).await;
    let (_, tokens) = exchange(&app, &id, &secret, &code, VERIFIER).await;
    let hint = tokens["id_token"].as_str().expect("id");
    let r = browser
        .get(app.url(&format!(
            "/oidc/logout?id_token_hint={hint}&post_logout_redirect_uri={}&state=bye-2",
            zhiban_testing::urlencode(AFTER_LOGOUT)
        )))
        .send()
        .await
        .expect("logout");
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(location(&r), format!("{AFTER_LOGOUT}?state=bye-2"));
    assert_eq!(
        browser
            .get(app.url("/account"))
            .send()
            .await
            .expect("get")
            .status()
            .as_u16(),
        303
    );
}

/// The authorize URL with extra parameters (`&prompt=…`, `&max_age=…`).
fn authorize_with(client_id: &str, extra: &str) -> String {
    format!("{}{extra}", authorize_url(client_id, REDIRECT, VERIFIER))
}

async fn authorize(app: &TestApp, browser: &reqwest::Client, url: &str) -> reqwest::Response {
    browser.get(app.url(url)).send().await.expect("authorize")
}

#[tokio::test]
async fn prompt_none_never_shows_a_page_it_answers_with_an_error_or_a_code() {
    let app = TestApp::spawn().await;
    let (id, _) = client(&app, 1).await;
    let browser = zhiban_testing::client();
    // Signed out: back to the application with login_required.
    let r = authorize(&app, &browser, &authorize_with(&id, "&prompt=none")).await;
    assert_eq!(r.status().as_u16(), 303);
    let to = location(&r);
    assert!(to.starts_with(REDIRECT), "{to}");
    assert_eq!(query_param(&to, "error").as_deref(), Some("login_required"));
    assert_eq!(query_param(&to, "state").as_deref(), Some("st-1"));
    // Signed in but never asked: consent_required, not the consent page.
    app.register(&browser, PHONE).await;
    let r = authorize(&app, &browser, &authorize_with(&id, "&prompt=none")).await;
    assert_eq!(
        query_param(&location(&r), "error").as_deref(),
        Some("consent_required")
    );
    // Once consent is on record, a code comes back at once.
    signed_in_code(&app, &browser, &id, VERIFIER).await;
    let r = authorize(&app, &browser, &authorize_with(&id, "&prompt=none")).await;
    assert!(
        query_param(&location(&r), "code").is_some(),
        "{}",
        location(&r)
    );
    // `none` with anything else is a malformed request.
    let r = authorize(&app, &browser, &authorize_with(&id, "&prompt=none%20login")).await;
    assert_eq!(
        query_param(&location(&r), "error").as_deref(),
        Some("invalid_request")
    );
}

#[tokio::test]
async fn max_age_and_prompt_login_make_the_person_sign_in_again_and_auth_time_says_when() {
    let app = TestApp::spawn().await;
    let (id, secret) = client(&app, 1).await;
    let browser = zhiban_testing::client();
    let signed_in_at = app.db.db.now().timestamp();
    app.register(&browser, PHONE).await;
    signed_in_code(&app, &browser, &id, VERIFIER).await;
    // Twenty seconds later the session is older than max_age=5.
    app.db.db.clock().advance(chrono::Duration::seconds(20));
    let r = authorize(&app, &browser, &authorize_with(&id, "&max_age=5")).await;
    assert_eq!(r.status().as_u16(), 303);
    assert!(location(&r).starts_with("/login?"), "{}", location(&r));
    // … and prompt=none cannot ask: login_required.
    let r = authorize(
        &app,
        &browser,
        &authorize_with(&id, "&max_age=5&prompt=none"),
    )
    .await;
    assert_eq!(
        query_param(&location(&r), "error").as_deref(),
        Some("login_required")
    );
    // max_age=60 is satisfied: a code at once, whose ID token says when
    // the person signed in, not when the code was made.
    let r = authorize(&app, &browser, &authorize_with(&id, "&max_age=60")).await;
    let code = query_param(&location(&r), "code").expect("code");
    let (status, tokens) = exchange(&app, &id, &secret, &code, VERIFIER).await;
    assert_eq!(status, 200, "{tokens}");
    let claims = verify_id_token(&app, tokens["id_token"].as_str().expect("id"), &id).await;
    let auth_time = claims["auth_time"].as_i64().expect("auth_time");
    assert!(
        (signed_in_at..signed_in_at + 5).contains(&auth_time),
        "auth_time {auth_time} is the sign-in ({signed_in_at}), not now"
    );
    // prompt=login: signed in or not, sign in again first; the session from
    // before does not count even if the login page is skipped.
    let r = authorize(&app, &browser, &authorize_with(&id, "&prompt=login")).await;
    let to = location(&r);
    assert!(to.starts_with("/login?"), "{to}");
    let next = query_param(&to, "next").expect("next");
    assert!(!next.contains("prompt=login"), "no loop: {next}");
    let skipped = authorize(&app, &browser, &next).await;
    assert!(
        location(&skipped).starts_with("/login?"),
        "{}",
        location(&skipped)
    );
    // After signing in again, the same request gives a code.
    let (_, page) = app.text_with(&browser, &to).await;
    let r = browser
        .post(app.url("/login"))
        .form(&[
            ("phone", PHONE),
            ("password", PASSWORD),
            ("_csrf", hidden(&page, "_csrf").as_str()),
            ("next", next.as_str()),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(r.status().as_u16(), 200);
    let r = authorize(&app, &browser, &next).await;
    assert!(
        query_param(&location(&r), "code").is_some(),
        "{}",
        location(&r)
    );
}

#[tokio::test]
async fn prompt_consent_asks_again_even_when_consent_is_on_record() {
    let app = TestApp::spawn().await;
    let (id, _) = client(&app, 1).await;
    let browser = zhiban_testing::client();
    app.register(&browser, PHONE).await;
    signed_in_code(&app, &browser, &id, VERIFIER).await;
    let r = authorize(&app, &browser, &authorize_with(&id, "&prompt=consent")).await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.text()
            .await
            .expect("page")
            .contains("渝州市公积金中心网上业务大厅")
    );
}

#[tokio::test]
async fn a_wrong_client_secret_gets_401_naming_the_scheme() {
    let app = TestApp::spawn().await;
    let (id, _) = client(&app, 1).await;
    let r = zhiban_testing::client()
        .post(app.url("/oidc/token"))
        .basic_auth(&id, Some("not-the-secret"))
        .form(&[("grant_type", "authorization_code"), ("code", "x")])
        .send()
        .await
        .expect("token");
    assert_eq!(r.status().as_u16(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .expect("header")
            .starts_with("Basic")
    );
}

#[tokio::test]
async fn without_a_public_address_the_provider_is_off_and_says_why() {
    use tower::ServiceExt;
    let t = zhiban_testing::TestDb::from(zhiban_testing::Template::Web)
        .await
        .expect("db");
    let state = zhiban_web::AppState::new(t.db.clone(), zhiban_web::WebConfig::default())
        .await
        .expect("state");
    for path in ["/.well-known/openid-configuration", "/oidc/jwks"] {
        let res = zhiban_web::router(state.clone())
            .oneshot(
                axum::http::Request::builder()
                    .uri(path)
                    .header("host", "evil.example")
                    .body(axum::body::Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        assert_eq!(res.status().as_u16(), 503, "{path}");
        let body = axum::body::to_bytes(res.into_body(), 10_000)
            .await
            .expect("body");
        assert!(!String::from_utf8_lossy(&body).contains("evil.example"));
    }
}
