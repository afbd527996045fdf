//! The OpenID Connect provider (`/.well-known/openid-configuration`,
//! `/oidc/…`): discovery, JWKS, authorize (sign-in, real-name step-up,
//! consent), token, userinfo and RP-initiated logout.

use crate::error::AppError;
use crate::extract::{CitizenUser, Csrf, Issuer, USER_COOKIE};
use crate::state::AppState;
use crate::view::ctx::{PageCtx, urlencode};
use crate::view::render;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Cookie;
use base64::Engine;
use serde::{Deserialize, Serialize};
use zhiban_domain::identity::oidc::{AuthRequest, Client, TokenError, TokenRequest};
use zhiban_domain::identity::{citizen, oidc};

#[derive(Serialize)]
pub struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
    jwks_uri: String,
    end_session_endpoint: String,
    response_types_supported: [&'static str; 1],
    subject_types_supported: [&'static str; 1],
    id_token_signing_alg_values_supported: [&'static str; 1],
    scopes_supported: &'static [&'static str],
    token_endpoint_auth_methods_supported: [&'static str; 3],
    code_challenge_methods_supported: [&'static str; 1],
    grant_types_supported: [&'static str; 1],
    claims_supported: [&'static str; 9],
    acr_values_supported: [&'static str; 3],
}

pub async fn discovery(State(state): State<AppState>, Issuer(iss): Issuer) -> Json<Discovery> {
    Json(Discovery {
        authorization_endpoint: format!("{iss}/oidc/authorize"),
        token_endpoint: format!("{iss}/oidc/token"),
        userinfo_endpoint: format!("{iss}/oidc/userinfo"),
        jwks_uri: format!("{iss}/oidc/jwks"),
        end_session_endpoint: format!("{iss}/oidc/logout"),
        issuer: iss,
        response_types_supported: ["code"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: [oidc::id_token_alg(&state.db)],
        scopes_supported: oidc::SCOPES,
        token_endpoint_auth_methods_supported: [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        code_challenge_methods_supported: ["S256"],
        grant_types_supported: ["authorization_code"],
        claims_supported: [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "name",
            "phone_number",
        ],
        acr_values_supported: ["L1", "L2", "L3"],
    })
}

pub async fn jwks(State(state): State<AppState>) -> Result<Response, AppError> {
    let keys = oidc::jwks(&state.db).await?;
    Ok(Json(serde_json::json!({ "keys": keys })).into_response())
}

#[derive(Debug, Default, Deserialize, Serialize, Clone)]
pub struct AuthorizeParams {
    #[serde(default)]
    pub response_type: String,
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub redirect_uri: String,
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub nonce: String,
    #[serde(default)]
    pub code_challenge: String,
    #[serde(default)]
    pub code_challenge_method: String,
    #[serde(default)]
    pub prompt: String,
    #[serde(default)]
    pub max_age: String,
    /// Ours, not the standard's: after a forced sign-in (`prompt=login`),
    /// a session from before this time does not count.
    #[serde(default)]
    pub auth_after: String,
    #[serde(default)]
    pub decision: String,
    #[serde(default, rename = "_csrf")]
    pub csrf: String,
}

impl AuthorizeParams {
    fn url(&self) -> String {
        let mut url = format!(
            "/oidc/authorize?response_type={}&client_id={}&redirect_uri={}&scope={}&state={}&nonce={}&code_challenge={}&code_challenge_method={}",
            urlencode(&self.response_type),
            urlencode(&self.client_id),
            urlencode(&self.redirect_uri),
            urlencode(&self.scope),
            urlencode(&self.state),
            urlencode(&self.nonce),
            urlencode(&self.code_challenge),
            urlencode(&self.code_challenge_method)
        );
        for (k, v) in [
            ("prompt", &self.prompt),
            ("max_age", &self.max_age),
            ("auth_after", &self.auth_after),
        ] {
            if !v.is_empty() {
                url.push_str(&format!("&{k}={}", urlencode(v)));
            }
        }
        url
    }

    /// The same request after a sign-in it asked for: without `login` in
    /// `prompt` (or it would ask again forever), and only a sign-in from
    /// `now` on counts.
    fn after_sign_in(&self, now: i64) -> String {
        let mut again = self.clone();
        again.prompt = self
            .prompt
            .split_whitespace()
            .filter(|p| *p != "login")
            .collect::<Vec<_>>()
            .join(" ");
        again.auth_after = now.to_string();
        again.url()
    }
}

/// What `prompt` asks for (OpenID Connect Core 3.1.2.1).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Prompt {
    /// Show nothing: answer at once, or with an error.
    none: bool,
    /// Sign in again, whatever session there is.
    login: bool,
    /// Ask for consent again, even if it was given before.
    consent: bool,
}

impl Prompt {
    /// `None`: `none` together with anything else, which the standard forbids.
    fn parse(s: &str) -> Option<Prompt> {
        let mut p = Prompt::default();
        let mut count = 0;
        for v in s.split_whitespace() {
            count += 1;
            match v {
                "none" => p.none = true,
                "login" => p.login = true,
                "consent" => p.consent = true,
                // select_account: one account per person here.
                _ => {}
            }
        }
        (!(p.none && count > 1)).then_some(p)
    }
}

/// Errors shown on our own page: the redirect URI cannot be trusted.
#[derive(Template)]
#[template(path = "oidc/error.html")]
pub struct OidcErrorPage {
    pub ctx: PageCtx,
    pub message: String,
}

fn error_page(ctx: PageCtx, key: &str) -> Result<Response, AppError> {
    let message = ctx.t(key);
    Ok((
        StatusCode::BAD_REQUEST,
        render(&OidcErrorPage { ctx, message })?,
    )
        .into_response())
}

fn back_to_client(redirect_uri: &str, query: &str) -> Response {
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{redirect_uri}{sep}{query}")).into_response()
}

fn client_error(p: &AuthorizeParams, error: &str) -> Response {
    back_to_client(
        &p.redirect_uri,
        &format!("error={error}&state={}", urlencode(&p.state)),
    )
}

/// Checks the client and redirect URI (errors here never redirect), then
/// the rest of the request (errors go back to the client).
async fn validate(
    state: &AppState,
    ctx: &PageCtx,
    p: &AuthorizeParams,
) -> Result<Result<(Client, AuthRequest), Response>, AppError> {
    let Some(client) = oidc::client(&state.db, &p.client_id).await? else {
        return Ok(Err(error_page(ctx.clone(), "oidc.unknown_client")?));
    };
    if !client.allows_redirect(&p.redirect_uri) {
        return Ok(Err(error_page(ctx.clone(), "oidc.bad_redirect")?));
    }
    if p.response_type != "code" {
        return Ok(Err(client_error(p, "unsupported_response_type")));
    }
    if !p.scope.split_whitespace().any(|s| s == "openid") {
        return Ok(Err(client_error(p, "invalid_scope")));
    }
    if p.code_challenge_method != "S256" || p.code_challenge.len() != 43 {
        return Ok(Err(client_error(p, "invalid_request")));
    }
    let req = AuthRequest {
        client_id: client.client_id.clone(),
        redirect_uri: p.redirect_uri.clone(),
        scope: p.scope.clone(),
        state: p.state.clone(),
        nonce: p.nonce.clone(),
        code_challenge: p.code_challenge.clone(),
    };
    Ok(Ok((client, req)))
}

#[derive(Template)]
#[template(path = "oidc/consent.html")]
pub struct ConsentPage {
    pub ctx: PageCtx,
    pub client: Client,
    pub p: AuthorizeParams,
    /// Translated descriptions of what the application will see.
    pub scopes: Vec<String>,
}

#[derive(Template)]
#[template(path = "oidc/step_up.html")]
pub struct StepUpPage {
    pub ctx: PageCtx,
    pub client: Client,
    pub level: i64,
    pub back: String,
}

async fn approve(
    state: &AppState,
    user: &CitizenUser,
    req: &AuthRequest,
) -> Result<Response, AppError> {
    let c = &user.session.citizen;
    // auth_time is when the person signed in, not when the code was made.
    let code = oidc::issue_code(&state.db, c, req, user.session.auth_at).await?;
    Ok(back_to_client(
        &req.redirect_uri,
        &format!("code={}&state={}", urlencode(&code), urlencode(&req.state)),
    ))
}

fn origin_of(uri: &str) -> Option<&str> {
    let after = uri.find("://")? + 3;
    let end = uri[after..].find('/').map_or(uri.len(), |i| after + i);
    Some(&uri[..end])
}

pub async fn authorize(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: Option<CitizenUser>,
    Query(p): Query<AuthorizeParams>,
) -> Result<Response, AppError> {
    let (client, req) = match validate(&state, &ctx, &p).await? {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    let Some(prompt) = Prompt::parse(&p.prompt) else {
        return Ok(client_error(&p, "invalid_request"));
    };
    let max_age = match p.max_age.trim() {
        "" => None,
        v => match v.parse::<i64>() {
            Ok(secs) if secs >= 0 => Some(secs),
            _ => return Ok(client_error(&p, "invalid_request")),
        },
    };
    let auth_after: i64 = p.auth_after.parse().unwrap_or(0);
    let now = state.db.now().timestamp();
    // A session counts if it is signed in recently enough for `max_age`,
    // and after a sign-in this request asked for.
    let user = user.filter(|u| {
        let at = u.session.auth_at;
        at >= auth_after && max_age.is_none_or(|secs| now - at <= secs)
    });
    let user = match user {
        Some(u) if !prompt.login => u,
        _ if prompt.none => return Ok(client_error(&p, "login_required")),
        _ => {
            let next = p.after_sign_in(now);
            return Ok(Redirect::to(&format!("/login?next={}", urlencode(&next))).into_response());
        }
    };
    let citizen = &user.session.citizen;
    if citizen.level < client.min_level {
        if prompt.none {
            return Ok(client_error(&p, "interaction_required"));
        }
        let page = StepUpPage {
            ctx: user.ctx.clone(),
            level: client.min_level,
            back: p.url(),
            client,
        };
        return render(&page);
    }
    if !prompt.consent && oidc::has_grant(&state.db, citizen.id, &req).await? {
        return approve(&state, &user, &req).await;
    }
    if prompt.none {
        return Ok(client_error(&p, "consent_required"));
    }
    let scopes = req
        .scopes()
        .into_iter()
        .map(|s| user.ctx.t(&format!("oidc.scope_{s}")))
        .collect();
    // The consent form's answer redirects to the application: allow that
    // origin as a form target on this page only.
    let csp = match origin_of(&req.redirect_uri) {
        Some(o) => {
            crate::routes::CSP.replace("form-action 'self'", &format!("form-action 'self' {o}"))
        }
        None => crate::routes::CSP.to_string(),
    };
    let mut res = render(&ConsentPage {
        ctx: user.ctx.clone(),
        client,
        p,
        scopes,
    })?;
    if let Ok(v) = HeaderValue::from_str(&csp) {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    Ok(res)
}

pub async fn authorize_decision(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CitizenUser,
    Csrf(Form(p)): Csrf<Form<AuthorizeParams>>,
) -> Result<Response, AppError> {
    let (client, req) = match validate(&state, &ctx, &p).await? {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    if user.session.citizen.level < client.min_level {
        return Ok(Redirect::to(&p.url()).into_response());
    }
    if p.decision != "allow" {
        return Ok(client_error(&p, "access_denied"));
    }
    oidc::grant(&state.db, &user.session.citizen, &req).await?;
    approve(&state, &user, &req).await
}

#[derive(Debug, Default, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    pub grant_type: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub redirect_uri: String,
    #[serde(default)]
    pub code_verifier: String,
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub client_secret: String,
}

fn token_error(e: TokenError) -> Response {
    let status = if e == TokenError::InvalidClient {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::BAD_REQUEST
    };
    let mut res = (status, Json(serde_json::json!({ "error": e.code() }))).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // RFC 6749 §5.2: a 401 names the authentication scheme to use.
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"oidc\""),
        );
    }
    res
}

/// HTTP Basic client credentials (RFC 6749 §2.3.1: form-urlencoded parts).
fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let b64 = v.strip_prefix("Basic ")?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (id, secret) = text.split_once(':')?;
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((decode(id)?, decode(secret)?))
}

pub async fn token(
    State(state): State<AppState>,
    Issuer(iss): Issuer,
    headers: HeaderMap,
    Form(f): Form<TokenForm>,
) -> Result<Response, AppError> {
    if f.grant_type != "authorization_code" {
        return Ok(token_error(TokenError::UnsupportedGrantType));
    }
    let (client_id, secret) = match basic_auth(&headers) {
        Some((id, s)) => (id, Some(s)),
        None => (
            f.client_id.clone(),
            (!f.client_secret.is_empty()).then(|| f.client_secret.clone()),
        ),
    };
    let req = TokenRequest {
        client_id,
        client_secret: secret,
        code: f.code,
        redirect_uri: f.redirect_uri,
        code_verifier: f.code_verifier,
    };
    match oidc::exchange_code(&state.db, &iss, &req, state.db.now()).await? {
        Ok(tokens) => {
            let mut res = Json(tokens).into_response();
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(res)
        }
        Err(e) => Ok(token_error(e)),
    }
}

pub async fn userinfo(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    match oidc::userinfo(&state.db, token.trim(), state.db.now()).await? {
        Some(claims) => Ok(Json(claims).into_response()),
        None => {
            let mut res = (
                StatusCode::UNAUTHORIZED,
                Json(serde_json::json!({"error": "invalid_token"})),
            )
                .into_response();
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
            Ok(res)
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct LogoutParams {
    #[serde(default)]
    pub id_token_hint: String,
    #[serde(default)]
    pub post_logout_redirect_uri: String,
    #[serde(default)]
    pub state: String,
}

#[derive(Template)]
#[template(path = "oidc/logged_out.html")]
pub struct LoggedOutPage {
    pub ctx: PageCtx,
}

/// RP-initiated logout: ends this browser's citizen session; returns to the
/// application only if the ID token names it and the address is registered.
pub async fn logout(
    State(state): State<AppState>,
    Issuer(iss): Issuer,
    ctx: PageCtx,
    jar: CookieJar,
    Query(p): Query<LogoutParams>,
) -> Result<Response, AppError> {
    if let Some(c) = jar.get(USER_COOKIE) {
        citizen::end_session(&state.db, c.value()).await?;
    }
    let jar = jar.remove(Cookie::build(USER_COOKIE).path("/").build());
    let hint = if p.id_token_hint.is_empty() {
        None
    } else {
        oidc::hint_subject(&state.db, &iss, &p.id_token_hint).await?
    };
    if let Some((_, aud)) = &hint
        && !p.post_logout_redirect_uri.is_empty()
        && oidc::client(&state.db, aud)
            .await?
            .is_some_and(|c| c.allows_post_logout(&p.post_logout_redirect_uri))
    {
        let to = if p.state.is_empty() {
            p.post_logout_redirect_uri.clone()
        } else {
            let sep = if p.post_logout_redirect_uri.contains('?') {
                '&'
            } else {
                '?'
            };
            format!(
                "{}{sep}state={}",
                p.post_logout_redirect_uri,
                urlencode(&p.state)
            )
        };
        return Ok((jar, Redirect::to(&to)).into_response());
    }
    Ok((jar, render(&LoggedOutPage { ctx })?).into_response())
}
