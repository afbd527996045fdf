//! Open311 GeoReport v2 (`/open311/v2/…`): services (the dispatch
//! catalogue) and service requests, in JSON or XML as the path's
//! extension says, with GeoReport's error shape. Posting needs an API key
//! (`api_key`); reading is public, and a key also sees the requests it
//! filed.

use crate::error::AppError;
use crate::extract::Issuer;
use crate::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use zhiban_domain::DomainError;
use zhiban_domain::requests::open311::{self, ApiKey, Filter, Posted, Service, ServiceRequest};

/// JSON or XML, from the path's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    /// `services.json` → (`services`, JSON).
    fn split(file: &str) -> Option<(&str, Format)> {
        if let Some(stem) = file.strip_suffix(".json") {
            Some((stem, Format::Json))
        } else {
            file.strip_suffix(".xml").map(|stem| (stem, Format::Xml))
        }
    }
}

/// An ISO 8601 time in Beijing time, as GeoReport writes them.
fn iso(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .map(|t| {
            t.with_timezone(&zhiban_domain::time::beijing())
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
        .unwrap_or_default()
}

fn parse_time(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.timestamp())
}

fn reply(format: Format, status: StatusCode, json: String, xml: String) -> Response {
    let (body, kind) = match format {
        Format::Json => (json, "application/json; charset=utf-8"),
        Format::Xml => (xml, "text/xml; charset=utf-8"),
    };
    (status, [(header::CONTENT_TYPE, kind)], body).into_response()
}

#[derive(Template)]
#[template(path = "open311/errors.xml")]
struct ErrorsXml<'a> {
    errors: &'a [(u16, String)],
}

/// GeoReport's error list: `[{"code": 400, "description": "…"}]`.
fn errors(format: Format, status: StatusCode, descriptions: &[String]) -> Response {
    let list: Vec<(u16, String)> = descriptions
        .iter()
        .map(|d| (status.as_u16(), d.clone()))
        .collect();
    let json = serde_json::to_string(
        &list
            .iter()
            .map(|(code, d)| serde_json::json!({ "code": code, "description": d }))
            .collect::<Vec<_>>(),
    )
    .unwrap_or_default();
    let xml = ErrorsXml { errors: &list }.render().unwrap_or_default();
    reply(format, status, json, xml)
}

fn domain_error(format: Format, e: DomainError) -> Result<Response, AppError> {
    match e {
        DomainError::Invalid(errs) => Ok(errors(
            format,
            StatusCode::BAD_REQUEST,
            &errs
                .iter()
                .map(|e| format!("{}: {}", e.field, e.code))
                .collect::<Vec<_>>(),
        )),
        DomainError::NotFound => Ok(errors(
            format,
            StatusCode::NOT_FOUND,
            &["not found".to_string()],
        )),
        e => Err(e.into()),
    }
}

#[derive(Serialize)]
struct ServiceJson<'a> {
    service_code: &'a str,
    service_name: &'a str,
    description: &'a str,
    metadata: bool,
    #[serde(rename = "type")]
    kind: &'static str,
    keywords: &'a str,
    group: &'a str,
}

#[derive(Template)]
#[template(path = "open311/services.xml")]
struct ServicesXml<'a> {
    services: &'a [Service],
}

fn services_reply(format: Format, list: &[Service]) -> Response {
    let json = serde_json::to_string(
        &list
            .iter()
            .map(|s| ServiceJson {
                service_code: &s.code,
                service_name: &s.name,
                description: &s.description,
                metadata: true,
                kind: "realtime",
                keywords: &s.name,
                group: &s.group,
            })
            .collect::<Vec<_>>(),
    )
    .unwrap_or_default();
    let xml = ServicesXml { services: list }.render().unwrap_or_default();
    reply(format, StatusCode::OK, json, xml)
}

/// The attributes every service takes (its definition).
struct Attribute {
    code: &'static str,
    datatype: &'static str,
    required: bool,
    description: &'static str,
    values: Vec<(String, String)>,
}

fn attributes() -> Vec<Attribute> {
    vec![
        Attribute {
            code: "request_type",
            datatype: "singlevaluelist",
            required: false,
            description: "诉求类型（默认 投诉）",
            values: open311::request_types()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        },
        Attribute {
            code: "district",
            datatype: "string",
            required: false,
            description: "所在区县（名称或代码；不填则从地址中识别）。求助、投诉、举报必须能确定区县",
            values: Vec::new(),
        },
        Attribute {
            code: "publish",
            datatype: "singlevaluelist",
            required: false,
            description: "是否同意在去除个人信息后公开选登答复",
            values: vec![
                ("true".into(), "同意".into()),
                ("false".into(), "不同意".into()),
            ],
        },
    ]
}

#[derive(Template)]
#[template(path = "open311/definition.xml")]
struct DefinitionXml<'a> {
    code: &'a str,
    attributes: &'a [Attribute],
}

fn definition_reply(format: Format, code: &str) -> Response {
    let attrs = attributes();
    let json = serde_json::json!({
        "service_code": code,
        "attributes": attrs.iter().enumerate().map(|(i, a)| serde_json::json!({
            "variable": true,
            "code": a.code,
            "datatype": a.datatype,
            "required": a.required,
            "datatype_description": "",
            "order": i + 1,
            "description": a.description,
            "values": a.values.iter().map(|(k, n)| serde_json::json!({"key": k, "name": n})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
    .to_string();
    let xml = DefinitionXml {
        code,
        attributes: &attrs,
    }
    .render()
    .unwrap_or_default();
    reply(format, StatusCode::OK, json, xml)
}

/// `GET /open311/v2/services.json|xml`.
pub async fn services_json(State(state): State<AppState>) -> Result<Response, AppError> {
    Ok(services_reply(
        Format::Json,
        &open311::services(&state.db).await?,
    ))
}

pub async fn services_xml(State(state): State<AppState>) -> Result<Response, AppError> {
    Ok(services_reply(
        Format::Xml,
        &open311::services(&state.db).await?,
    ))
}

/// `GET /open311/v2/services/{service_code}.json|xml`: the definition.
pub async fn service_definition(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, AppError> {
    let (code, format) = Format::split(&file).ok_or(AppError::NotFound)?;
    let known = open311::services(&state.db)
        .await?
        .into_iter()
        .any(|s| s.code == code);
    if !known {
        return Ok(errors(
            format,
            StatusCode::NOT_FOUND,
            &[format!("service_code {code} not found")],
        ));
    }
    Ok(definition_reply(format, code))
}

#[derive(Serialize)]
struct RequestJson<'a> {
    service_request_id: &'a str,
    status: &'a str,
    status_notes: &'a str,
    service_name: &'a str,
    service_code: &'a str,
    description: &'a str,
    agency_responsible: &'a str,
    service_notice: &'a str,
    requested_datetime: String,
    updated_datetime: String,
    expected_datetime: Option<String>,
    address: &'a str,
    address_id: &'a str,
    zipcode: &'a str,
    lat: Option<f64>,
    long: Option<f64>,
    media_url: &'a str,
}

#[derive(Template)]
#[template(path = "open311/requests.xml")]
struct RequestsXml<'a> {
    requests: &'a [ServiceRequest],
}

impl RequestsXml<'_> {
    fn iso(&self, at: &i64) -> String {
        iso(*at)
    }
}

fn requests_reply(format: Format, list: &[ServiceRequest]) -> Response {
    let json = serde_json::to_string(
        &list
            .iter()
            .map(|r| RequestJson {
                service_request_id: &r.id,
                status: r.status,
                status_notes: &r.status_notes,
                service_name: &r.service_name,
                service_code: &r.service_code,
                description: &r.description,
                agency_responsible: &r.agency_responsible,
                service_notice: "",
                requested_datetime: iso(r.requested_at),
                updated_datetime: iso(r.updated_at),
                expected_datetime: r.expected_at.map(iso),
                address: &r.address,
                address_id: "",
                zipcode: "",
                lat: r.lat,
                long: r.lon,
                media_url: "",
            })
            .collect::<Vec<_>>(),
    )
    .unwrap_or_default();
    let xml = RequestsXml { requests: list }.render().unwrap_or_default();
    reply(format, StatusCode::OK, json, xml)
}

/// The query of `GET requests`.
type Params = Vec<(String, String)>;

fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A key given but unknown or revoked is refused (403); none is fine for
/// reading.
async fn key_of(
    state: &AppState,
    format: Format,
    params: &Params,
) -> Result<Result<Option<ApiKey>, Response>, AppError> {
    match param(params, "api_key").filter(|k| !k.trim().is_empty()) {
        None => Ok(Ok(None)),
        Some(k) => match open311::key_for(&state.db, k).await? {
            Some(key) => Ok(Ok(Some(key))),
            None => Ok(Err(errors(
                format,
                StatusCode::FORBIDDEN,
                &["api_key is not valid".to_string()],
            ))),
        },
    }
}

async fn list_requests(
    state: &AppState,
    format: Format,
    params: Params,
) -> Result<Response, AppError> {
    let key = match key_of(state, format, &params).await? {
        Ok(k) => k,
        Err(r) => return Ok(r),
    };
    let mut bad = Vec::new();
    let mut time = |name: &str| {
        param(&params, name).and_then(|v| {
            let t = parse_time(v);
            if t.is_none() {
                bad.push(format!("{name}: not a w3 datetime"));
            }
            t
        })
    };
    let start = time("start_date");
    let end = time("end_date");
    let service_code = match param(&params, "service_code").map(str::trim) {
        None | Some("") => None,
        Some(c) => match c.parse() {
            Ok(c) => Some(c),
            Err(_) => {
                bad.push("service_code: not a service".into());
                None
            }
        },
    };
    let status = param(&params, "status")
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if status.is_some_and(|s| s != "open" && s != "closed") {
        bad.push("status: open or closed".into());
    }
    if !bad.is_empty() {
        return Ok(errors(format, StatusCode::BAD_REQUEST, &bad));
    }
    let filter = Filter {
        ids: param(&params, "service_request_id")
            .map(|s| s.split(',').map(str::to_string).collect())
            .unwrap_or_default(),
        service_code,
        start,
        end,
        status: status.map(str::to_string),
    };
    let list = open311::find(&state.db, key.as_ref(), &filter).await?;
    Ok(requests_reply(format, &list))
}

/// `GET /open311/v2/requests.json|xml`.
pub async fn requests_json(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> Result<Response, AppError> {
    list_requests(&state, Format::Json, params).await
}

pub async fn requests_xml(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> Result<Response, AppError> {
    list_requests(&state, Format::Xml, params).await
}

/// `GET /open311/v2/requests/{service_request_id}.json|xml`.
pub async fn request_one(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(mut params): Query<Params>,
) -> Result<Response, AppError> {
    let (id, format) = Format::split(&file).ok_or(AppError::NotFound)?;
    params.retain(|(k, _)| k == "api_key");
    let key = match key_of(&state, format, &params).await? {
        Ok(k) => k,
        Err(r) => return Ok(r),
    };
    let filter = Filter {
        ids: vec![id.to_string()],
        ..Filter::default()
    };
    let list = open311::find(&state.db, key.as_ref(), &filter).await?;
    if list.is_empty() {
        return domain_error(format, DomainError::NotFound);
    }
    Ok(requests_reply(format, &list))
}

#[derive(Template)]
#[template(path = "open311/posted.xml")]
struct PostedXml<'a> {
    id: &'a str,
}

async fn post_request(
    state: &AppState,
    base: &str,
    format: Format,
    fields: Params,
) -> Result<Response, AppError> {
    let key = match key_of(state, format, &fields).await? {
        Ok(Some(k)) => k,
        Ok(None) => {
            return Ok(errors(
                format,
                StatusCode::FORBIDDEN,
                &["api_key is required to post".to_string()],
            ));
        }
        Err(r) => return Ok(r),
    };
    let get = |name: &str| param(&fields, name).unwrap_or("").to_string();
    let posted = Posted {
        service_code: get("service_code"),
        description: get("description"),
        lat: param(&fields, "lat").map(str::to_string),
        lon: param(&fields, "long").map(str::to_string),
        address: get("address_string"),
        first_name: get("first_name"),
        last_name: get("last_name"),
        phone: get("phone"),
        request_type: get("attribute[request_type]"),
        district: get("attribute[district]"),
        publish: get("attribute[publish]") == "true",
    };
    let routing = state.routing().await?;
    match open311::post(&state.hall(base), &routing, &key, &posted).await {
        Ok(number) => {
            let json = serde_json::json!([{
                "service_request_id": number,
                "service_notice": "",
                "account_id": null,
            }])
            .to_string();
            let xml = PostedXml { id: &number }.render().unwrap_or_default();
            Ok(reply(format, StatusCode::OK, json, xml))
        }
        Err(e) => domain_error(format, e),
    }
}

/// `POST /open311/v2/requests.json|xml` (form-encoded, with `api_key`).
pub async fn post_json(
    State(state): State<AppState>,
    Issuer(base): Issuer,
    Form(fields): Form<Params>,
) -> Result<Response, AppError> {
    post_request(&state, &base, Format::Json, fields).await
}

pub async fn post_xml(
    State(state): State<AppState>,
    Issuer(base): Issuer,
    Form(fields): Form<Params>,
) -> Result<Response, AppError> {
    post_request(&state, &base, Format::Xml, fields).await
}
