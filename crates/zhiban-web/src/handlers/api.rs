//! The JSON API for apps, mini-programs and other government systems, plus
//! health probes.

use crate::error::AppError;
use crate::extract::ApiQuery;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use zhiban_domain::catalog::{
    Audience, Filter, LifeEvent, Material, PoliceDomain, ServiceItem, Step,
};

const MAX_LIMIT: usize = 100;
const MAX_OFFSET: usize = 1_000_000;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
    /// Items to skip, 0–1000000 (default 0).
    #[param(minimum = 0, maximum = 1_000_000)]
    pub offset: Option<usize>,
    /// Department code; includes its sub-units. A code this portal does
    /// not know is a 404.
    pub department: Option<String>,
    /// For whom: `person`, `company` or `both` (or the Chinese label).
    #[param(schema_with = audience_schema)]
    pub audience: Option<String>,
    /// Life event such as `birth`, `retire`, `start` (or the Chinese label).
    #[param(schema_with = life_event_schema)]
    pub life_event: Option<String>,
    /// Police domain such as `household`, `traffic`, `exit-entry` (or the
    /// Chinese label).
    #[param(schema_with = police_schema)]
    pub police: Option<String>,
}

/// A string that is one of `values` (or empty: the filter is off).
fn one_of(values: impl Iterator<Item = &'static str>) -> utoipa::openapi::Object {
    let mut values: Vec<&str> = values.collect();
    values.push("");
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(values))
        .build()
}

fn audience_schema() -> utoipa::openapi::Object {
    one_of(Audience::ALL.iter().flat_map(|a| [a.slug(), a.label()]))
}

fn life_event_schema() -> utoipa::openapi::Object {
    one_of(LifeEvent::ALL.iter().flat_map(|a| [a.slug(), a.label()]))
}

fn police_schema() -> utoipa::openapi::Object {
    one_of(PoliceDomain::ALL.iter().flat_map(|a| [a.slug(), a.label()]))
}

/// How every error of this API is answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiError {
    pub error: ApiErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiErrorDetail {
    /// Stable, for programs: `invalid_parameter`, `not_found`,
    /// `not_a_license_file`, `too_many_requests` …
    pub code: String,
    /// For people reading logs; may change.
    pub message: String,
}

/// A catalog entry as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceSummary {
    pub code: String,
    pub name: String,
    /// The English name (empty when none is set).
    pub name_en: String,
    /// Other names people use for it (别名俗称, older names, English search words).
    pub aliases: Vec<String>,
    pub main_code: String,
    pub main_name: String,
    /// Name of the supervising department.
    pub department: String,
    pub department_code: String,
    pub audience: String,
    pub life_events: Vec<String>,
    pub police_domain: Option<String>,
    pub online: bool,
    /// On-site visits needed (0 = 一次都不跑).
    pub visits: u32,
    pub promised_limit_days: u32,
    /// Path of the guide page on this portal.
    pub url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceList {
    pub total: usize,
    pub limit: usize,
    pub offset: usize,
    pub items: Vec<ServiceSummary>,
}

/// A whole guide (办事指南).
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceDetail {
    #[serde(flatten)]
    pub summary: ServiceSummary,
    pub handling_kind: String,
    pub item_type: String,
    pub implementing_body: String,
    pub legal_basis: String,
    pub conditions: Vec<String>,
    pub materials: Vec<Material>,
    pub steps: Vec<Step>,
    pub legal_limit_days: u32,
    pub fees: String,
    pub fee_basis: String,
    pub place: String,
    pub hours: String,
    pub enquiry_phone: String,
    pub complaint_phone: String,
    pub updated_at: String,
}

fn summary(s: &ServiceItem) -> ServiceSummary {
    ServiceSummary {
        code: s.code.clone(),
        name: s.name.clone(),
        name_en: s.name_en.clone(),
        aliases: s.aliases.clone(),
        main_code: s.main_code.clone(),
        main_name: s.main_name.clone(),
        department: s.department_name.clone(),
        department_code: s.department_code.clone(),
        audience: s.audience.slug().into(),
        life_events: s.life_events.iter().map(|e| e.slug().to_string()).collect(),
        police_domain: s.police_domain.map(|d| d.slug().to_string()),
        online: s.online,
        visits: s.visits,
        promised_limit_days: s.promised_limit_days,
        url: format!("/services/{}", s.code),
    }
}

fn bad_param(name: &str, value: &str) -> AppError {
    AppError::Api {
        status: StatusCode::BAD_REQUEST,
        code: "invalid_parameter",
        message: format!("invalid value for {name}: {value}"),
    }
}

/// Parses a vocabulary parameter given as slug or Chinese label.
fn vocab<T>(
    name: &str,
    value: &Option<String>,
    slug: impl Fn(&str) -> Option<T>,
    label: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, AppError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => slug(v)
            .or_else(|| label(v))
            .map(Some)
            .ok_or_else(|| bad_param(name, v)),
    }
}

/// List published catalog items.
#[utoipa::path(
    get,
    path = "/api/v1/services",
    params(ListParams),
    responses(
        (status = 200, description = "One page of published items", body = ServiceList),
        (status = 400, description = "A parameter is not valid", body = ApiError),
        (status = 404, description = "No department has this code", body = ApiError)
    ),
    tag = "catalog"
)]
pub async fn list_services(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> Result<Json<ServiceList>, AppError> {
    let limit = p.limit.unwrap_or(20);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(bad_param("limit", &limit.to_string()));
    }
    let offset = p.offset.unwrap_or(0);
    if offset > MAX_OFFSET {
        return Err(bad_param("offset", &offset.to_string()));
    }
    let filter = Filter {
        department: p.department.clone().filter(|d| !d.trim().is_empty()),
        audience: vocab(
            "audience",
            &p.audience,
            Audience::from_slug,
            Audience::from_label,
        )?,
        life_event: vocab(
            "life_event",
            &p.life_event,
            LifeEvent::from_slug,
            LifeEvent::from_label,
        )?,
        police: vocab(
            "police",
            &p.police,
            PoliceDomain::from_slug,
            PoliceDomain::from_label,
        )?,
        online_only: false,
    };
    let cat = state.catalog();
    if let Some(d) = &filter.department
        && cat.department(d).is_none()
    {
        return Err(AppError::Api {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: format!(
                "no department with code {}",
                d.chars().take(40).collect::<String>()
            ),
        });
    }
    let page = cat.filter(&filter, offset, limit);
    Ok(Json(ServiceList {
        total: page.total,
        limit,
        offset,
        items: page.items.iter().map(|s| summary(s)).collect(),
    }))
}

/// One published item with its whole guide.
#[utoipa::path(
    get,
    path = "/api/v1/services/{code}",
    params(("code" = String, Path, description = "Handling item code")),
    responses(
        (status = 200, description = "The guide", body = ServiceDetail),
        (status = 404, description = "No published item has this code", body = ApiError)
    ),
    tag = "catalog"
)]
pub async fn get_service(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<ServiceDetail>, AppError> {
    let cat = state.catalog();
    let s = cat.get(&code).ok_or_else(|| AppError::Api {
        status: StatusCode::NOT_FOUND,
        code: "not_found",
        message: format!("no published service with code {code}"),
    })?;
    Ok(Json(ServiceDetail {
        summary: summary(s),
        handling_kind: s.handling_kind.slug().into(),
        item_type: s.item_type.slug().into(),
        implementing_body: s.implementing_body.clone(),
        legal_basis: s.legal_basis.clone(),
        conditions: s.conditions.clone(),
        materials: s.materials.clone(),
        steps: s.steps.clone(),
        legal_limit_days: s.legal_limit_days,
        fees: s.fees.clone(),
        fee_basis: s.fee_basis.clone(),
        place: s.place.clone(),
        hours: s.hours.clone(),
        enquiry_phone: s.enquiry_phone.clone(),
        complaint_phone: s.complaint_phone.clone(),
        updated_at: s.updated_at.clone(),
    }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// What the person typed: Chinese, 繁體, pinyin, initials, typos welcome.
    pub q: Option<String>,
    /// 1–100 (default 10).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
    /// Only this kind of content, e.g. `service`.
    pub kind: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResult {
    pub kind: String,
    pub title: String,
    pub url: String,
    /// Plain text around the first match.
    pub snippet: String,
    pub score: f32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResponse {
    pub total: usize,
    /// The corrected query when a typo was fixed.
    pub corrected: Option<String>,
    pub results: Vec<SearchResult>,
}

/// Search all public content.
#[utoipa::path(
    get,
    path = "/api/v1/search",
    params(SearchParams),
    responses(
        (status = 200, description = "Best matches first", body = SearchResponse),
        (status = 400, description = "A parameter is not valid", body = ApiError)
    ),
    tag = "search"
)]
pub async fn search(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<SearchParams>,
) -> Result<Json<SearchResponse>, AppError> {
    let limit = p.limit.unwrap_or(10);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(bad_param("limit", &limit.to_string()));
    }
    let text: String = p.q.unwrap_or_default().trim().chars().take(100).collect();
    let r = state
        .search
        .search(&zhiban_search::SearchQuery {
            text,
            kind: p.kind.filter(|k| !k.is_empty()),
            limit,
            ..Default::default()
        })
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(Json(SearchResponse {
        total: r.total,
        corrected: r.understood.corrected.clone(),
        results: r
            .hits
            .iter()
            .map(|h| SearchResult {
                kind: h.doc.kind.clone(),
                title: h.doc.title.clone(),
                url: h.doc.url.clone(),
                snippet: h.snippet.iter().map(|s| s.text.as_str()).collect(),
                score: h.score,
            })
            .collect(),
    }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AssistantParams {
    /// The question, as the person typed or said it (1–500 characters).
    #[param(min_length = 1, max_length = 500)]
    pub q: String,
    /// The conversation to continue (from an earlier answer); a new one
    /// starts when absent or unknown.
    #[param(pattern = "^[0-9a-f]{32}$")]
    pub session: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssistantSource {
    pub title: String,
    /// A path on this portal or a web address.
    pub url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssistantChoice {
    pub label: String,
    /// Send this as the next `q` to pick it.
    pub ask: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssistantAnswer {
    pub answer: String,
    /// Where the answer comes from; empty only for greetings and hand-offs.
    pub sources: Vec<AssistantSource>,
    /// 0–1: how sure the assistant is it understood the question.
    pub confidence: f32,
    /// True when a person should answer (the assistant is not sure, or was asked for one).
    pub handoff: bool,
    /// `answer`, `clarify`, `small_talk` or `handoff`.
    pub kind: String,
    /// Replies offered to pick from (a clarifying question's candidates).
    pub choices: Vec<AssistantChoice>,
    /// Pass back as `session` to continue the conversation.
    pub session: String,
}

/// Ask the 智能客服 a question; answers cite their sources.
#[utoipa::path(
    get,
    path = "/api/v1/assistant",
    params(AssistantParams),
    responses(
        (status = 200, description = "The answer, its sources and whether a person should take over", body = AssistantAnswer),
        (status = 400, description = "A parameter is not valid", body = ApiError),
        (status = 429, description = "Too many questions from this address", body = ApiError)
    ),
    tag = "assistant"
)]
pub async fn assistant(
    State(state): State<AppState>,
    crate::extract::ClientInfo(client): crate::extract::ClientInfo,
    ApiQuery(p): ApiQuery<AssistantParams>,
) -> Result<Json<AssistantAnswer>, AppError> {
    if p.q.is_empty() || p.q.chars().count() > 500 {
        return Err(bad_param("q", &p.q));
    }
    let q = p.q.trim();
    if let Some(s) = &p.session
        && !zhiban_domain::assistant::valid_session_id(s)
    {
        return Err(bad_param("session", s));
    }
    if state.assistant_limiter.check_key(&client.ip).is_err() {
        return Err(AppError::Api {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "too_many_requests",
            message: "too many questions from this address; try again in a minute".into(),
        });
    }
    let brain = state.assistant().await;
    let engine = zhiban_domain::assistant::Assistant {
        brain: &brain,
        search: &state.search,
        threshold: state.config.assistant.threshold,
    };
    let (session, reply) = zhiban_domain::assistant::ask(
        &state.db,
        &engine,
        &state.config.assistant,
        p.session.as_deref(),
        q,
        None,
    )
    .await?;
    Ok(Json(AssistantAnswer {
        answer: reply.answer,
        sources: reply
            .sources
            .into_iter()
            .map(|s| AssistantSource {
                title: s.title,
                url: s.url,
            })
            .collect(),
        confidence: reply.confidence,
        handoff: reply.handoff,
        kind: reply.kind.slug().into(),
        choices: reply
            .choices
            .into_iter()
            .map(|c| AssistantChoice {
                label: c.label,
                ask: c.ask,
            })
            .collect(),
        session,
    }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestParams {
    /// What has been typed so far.
    pub q: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Suggestions {
    pub suggestions: Vec<String>,
}

/// Titles to suggest while someone types (text or pinyin).
#[utoipa::path(
    get,
    path = "/api/v1/suggest",
    params(SuggestParams),
    responses((status = 200, description = "Up to 8 titles", body = Suggestions)),
    tag = "search"
)]
pub async fn suggest(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<SuggestParams>,
) -> Json<Suggestions> {
    let q: String = p.q.unwrap_or_default().chars().take(50).collect();
    Json(Suggestions {
        suggestions: state.search.suggest(&q, 8),
    })
}

/// What a check of an e-license says: the same as its public verification
/// page, holder data masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct LicenseCheck {
    pub number: String,
    /// `valid`, `revoked`, `expired`, `tampered` (the signature does not
    /// match the data) or `unauthorized` (signed by a department that may
    /// not issue this type).
    pub status: String,
    /// The status in Chinese: 有效, 已吊销, 已过期, 数据被篡改，验证失败, 签发机关无权签发此类证照，无效.
    pub status_label: String,
    pub type_name: String,
    /// The holder's name, masked.
    pub holder: String,
    /// The holder's 身份证号 or 统一社会信用代码, masked.
    pub holder_id: String,
    pub issuer: String,
    /// YYYY-MM-DD.
    pub issued_on: String,
    /// YYYY-MM-DD; empty for 长期有效.
    pub expires_on: String,
    /// Why it was revoked (revoked licenses only).
    pub revoke_reason: String,
    /// Fingerprint of the issuer's public key.
    pub key_fingerprint: String,
    /// e.g. `SM2-with-SM3`.
    pub algorithm: String,
}

impl From<zhiban_domain::licenses::PublicView> for LicenseCheck {
    fn from(v: zhiban_domain::licenses::PublicView) -> Self {
        LicenseCheck {
            number: v.number,
            status: v.status.slug().into(),
            status_label: v.status_label.into(),
            type_name: v.type_name,
            holder: v.holder,
            holder_id: v.holder_id,
            issuer: v.issuer,
            issued_on: v.issued_on,
            expires_on: v.expires_on,
            revoke_reason: v.revoke_reason,
            key_fingerprint: v.key_fingerprint,
            algorithm: v.algorithm.into(),
        }
    }
}

/// Check an e-license by its number (what its QR code leads to).
#[utoipa::path(
    get,
    path = "/api/v1/licenses/{number}/verify",
    params(("number" = String, Path, description = "License number (ZZ…)")),
    responses(
        (status = 200, description = "The check", body = LicenseCheck),
        (status = 404, description = "No license has this number", body = ApiError),
        (status = 429, description = "Too many lookups from this address", body = ApiError)
    ),
    tag = "licenses"
)]
pub async fn verify_license(
    State(state): State<AppState>,
    Path(number): Path<String>,
) -> Result<Json<LicenseCheck>, AppError> {
    let number = number.trim().to_uppercase();
    let view = if zhiban_domain::licenses::number_ok(&number) {
        zhiban_domain::licenses::verify_public(&state.db, &number).await?
    } else {
        None
    };
    view.map(|v| Json(v.into())).ok_or_else(|| AppError::Api {
        status: StatusCode::NOT_FOUND,
        code: "not_found",
        message: format!(
            "no license with number {}",
            number.chars().take(40).collect::<String>()
        ),
    })
}

/// What a check of an exported license file says.
#[derive(Debug, Serialize, ToSchema)]
pub struct LicenseFileCheck {
    /// The file's own check: `valid`, `expired` or `tampered` (the data
    /// does not match the signature, or this portal knows the number but
    /// under another issuer key). Revocation is only known online: see
    /// `online_status`.
    pub status: String,
    /// Fingerprint of the public key the file carries.
    pub key_fingerprint: String,
    pub number: String,
    /// This portal's check of the same number; null when it does not know it.
    pub online_status: Option<String>,
    /// Whether the file was signed with the key this portal holds for the
    /// number (null when it does not know it). A file that checks under a
    /// key of its own proves nothing about who issued it.
    pub issuer_key_matches: Option<bool>,
}

/// Check an exported e-license file (the JSON the holder downloads).
#[utoipa::path(
    post,
    path = "/api/v1/licenses/verify",
    request_body(content = zhiban_domain::licenses::ExportFile, content_type = "application/json", description = "The exported license file, as downloaded"),
    responses(
        (status = 200, description = "The check", body = LicenseFileCheck),
        (status = 400, description = "Not a license file", body = ApiError),
        (status = 429, description = "Too many lookups from this address", body = ApiError)
    ),
    tag = "licenses"
)]
pub async fn verify_license_file(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Json<LicenseFileCheck>, AppError> {
    let refuse = |message: String| AppError::Api {
        status: StatusCode::BAD_REQUEST,
        code: "not_a_license_file",
        message,
    };
    if body.len() > 256 * 1024 {
        return Err(refuse("file too large".into()));
    }
    let text = std::str::from_utf8(&body).map_err(|_| refuse("not UTF-8 text".into()))?;
    let today = zhiban_domain::time::local_date(state.db.now());
    let check = zhiban_domain::licenses::check_file(&state.db, text, today)
        .await?
        .map_err(refuse)?;
    Ok(Json(LicenseFileCheck {
        status: check.file_status().slug().into(),
        issuer_key_matches: check.key_matches(),
        key_fingerprint: check.key_fingerprint,
        number: check.doc.number,
        online_status: check.online.map(|o| o.status.slug().to_string()),
    }))
}

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "database not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

/// One item of a bundle.
#[derive(Debug, Serialize, ToSchema)]
pub struct BundleItemView {
    /// The handling item's code (事项编码).
    pub code: String,
    pub name: String,
    pub department: String,
    /// 1 runs first; the items of one stage run in parallel.
    pub stage: u32,
    /// Promised working days (0: decided on the spot).
    pub promised_days: u32,
    /// Applies only when a question was answered so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<zhiban_domain::bundles::Condition>,
    pub url: String,
}

/// A 一件事 bundle: several items applied for with one form.
#[derive(Debug, Serialize, ToSchema)]
pub struct BundleView {
    pub code: String,
    pub name: String,
    pub summary: String,
    /// `person`, `company` or `both`.
    pub audience: String,
    /// Asked first; the answers decide which items apply.
    pub questions: Vec<zhiban_domain::bundles::Question>,
    pub items: Vec<BundleItemView>,
    /// Promised working days along the slowest path.
    pub promised_days: u32,
    /// The guide page; applying is at `{url}/apply`.
    pub url: String,
}

/// List the published 一件事一次办 bundles with their items.
#[utoipa::path(
    get,
    path = "/api/v1/bundles",
    responses((status = 200, description = "Every published bundle", body = [BundleView])),
    tag = "catalog"
)]
pub async fn list_bundles(
    State(state): State<AppState>,
) -> Result<Json<Vec<BundleView>>, AppError> {
    let cat = state.catalog();
    let mut out = Vec::new();
    for b in zhiban_domain::bundles::list(&state.db, true).await? {
        let items = b.items_in(&cat);
        out.push(BundleView {
            promised_days: zhiban_domain::bundles::promised_days(&b, &items),
            items: b
                .items
                .iter()
                .filter_map(|i| {
                    let s = items.iter().find(|s| s.code == i.code)?;
                    Some(BundleItemView {
                        code: s.code.clone(),
                        name: s.name.clone(),
                        department: s.department_name.clone(),
                        stage: i.stage,
                        promised_days: s.promised_limit_days,
                        condition: i.when.clone(),
                        url: format!("/services/{}", s.code),
                    })
                })
                .collect(),
            url: format!("/bundles/{}", b.code),
            code: b.code,
            name: b.name,
            summary: b.summary,
            audience: b.audience.slug().to_string(),
            questions: b.questions,
        });
    }
    Ok(Json(out))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RatingsParams {
    /// `YYYY-MM`; this month when left out.
    #[param(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub month: Option<String>,
}

/// 好差评 figures of one group (the whole portal, a unit or an item).
#[derive(Debug, Serialize, ToSchema)]
pub struct RatingFigures {
    /// The unit's id or the item's code; empty for the total.
    pub key: String,
    pub name: String,
    pub ratings: i64,
    /// Ratings per level: 非常满意, 满意, 基本满意, 不满意, 非常不满意.
    pub by_score: [i64; 5],
    /// 满意率 in percent (非常满意, 满意 and 基本满意 among all); null without ratings.
    pub satisfaction_rate: Option<f64>,
    /// 差评 (不满意 and 非常不满意).
    pub bad: i64,
    /// Bad ratings rectified (fixed or explained).
    pub rectified: i64,
    /// 差评整改率 in percent; null without bad ratings.
    pub rectification_rate: Option<f64>,
}

/// A month of 好差评 statistics.
#[derive(Debug, Serialize, ToSchema)]
pub struct RatingsSummary {
    pub month: String,
    pub total: RatingFigures,
    /// Most ratings first.
    pub units: Vec<RatingFigures>,
    pub items: Vec<RatingFigures>,
}

fn figures(t: &zhiban_domain::ratings::stats::Tally) -> RatingFigures {
    let round = |v: Option<f64>| v.map(|x| (x * 10.0).round() / 10.0);
    RatingFigures {
        key: t.key.clone(),
        name: t.name.clone(),
        ratings: t.ratings,
        by_score: t.by_score,
        satisfaction_rate: round(t.satisfaction_rate()),
        bad: t.bad,
        rectified: t.rectified,
        rectification_rate: round(t.rectification_rate()),
    }
}

/// 好差评 statistics of a month: ratings, satisfaction and the
/// rectification of bad ratings, in total, by unit and by item.
#[utoipa::path(
    get,
    path = "/api/v1/ratings/summary",
    params(RatingsParams),
    responses(
        (status = 200, description = "The month's figures", body = RatingsSummary),
        (status = 400, description = "A parameter is not valid", body = ApiError)
    ),
    tag = "ratings"
)]
pub async fn ratings_summary(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<RatingsParams>,
) -> Result<Json<RatingsSummary>, AppError> {
    use zhiban_domain::ratings::stats;
    // Exactly `YYYY-MM` (the documented pattern); left out: this month.
    let strict = |m: &str| {
        let b = m.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        if b.len() == 7 && b[4] == b'-' && digits(0..4) && digits(5..7) {
            stats::parse_month(m)
        } else {
            None
        }
    };
    let first = match p.month.as_deref() {
        None => zhiban_domain::time::local_date(state.db.now()),
        Some(m) => strict(m).ok_or_else(|| bad_param("month", m))?,
    };
    let s = stats::month(&state.db, &zhiban_domain::identity::Scope::All, first).await?;
    Ok(Json(RatingsSummary {
        total: figures(&s.total),
        units: s.units.iter().map(figures).collect(),
        items: s.items.iter().map(figures).collect(),
        month: s.month,
    }))
}
