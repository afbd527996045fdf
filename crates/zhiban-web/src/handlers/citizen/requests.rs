//! 我要写信 and 我的诉求 (`/requests/new`, `/my/requests…`): filing a
//! request (咨询, 求助, 投诉, 举报, 建议, 表扬) with its place, after the
//! emergency check; following it (status, timeline, answer) and rating
//! the answer, which reopens it once when not satisfied.

use crate::error::AppError;
use crate::extract::{
    AssistantSession, CitizenUser, Csrf, Issuer, MultipartForm, UploadForm, request_files,
};
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::map::DistrictMap;
use crate::view::{field_messages, render};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zhiban_domain::DomainError;
use zhiban_domain::requests::emergency::{self, Line};
use zhiban_domain::requests::files::{Attachment, RequestFile, Stager};
use zhiban_domain::requests::{
    self, Actor, NewRequest, Request, RequestAction, RequestEvent, RequestRow, RequestType,
    Satisfaction, Step,
};
use zhiban_domain::time::local_date;

#[derive(Debug, Default, Deserialize, Clone)]
pub struct FileForm {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub mailbox: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
    /// `d:<district id>` or `d:<district id>:<street>`.
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub contact_name: String,
    #[serde(default)]
    pub contact_phone: String,
    #[serde(default)]
    pub publish_ok: String,
    /// Set once the person saw the emergency banner and said it is not one.
    #[serde(default)]
    pub not_emergency: String,
    /// Where it is, from the browser's location (`lat,lon`), when shared.
    #[serde(default)]
    pub point: String,
    /// Files already received (staged), carried while the form comes back.
    #[serde(skip)]
    pub staged: Vec<Attachment>,
}

impl FileForm {
    /// `lat,lon` as the location button and the map write it.
    fn point(&self) -> Option<(f64, f64)> {
        crate::view::map::parse_point(&self.point)
    }

    fn place(&self) -> (Option<i64>, String) {
        crate::view::places::parse_place(&self.place)
    }
}

#[derive(Template)]
#[template(path = "citizen/requests/new.html")]
pub struct NewRequestPage {
    pub ctx: PageCtx,
    pub form: FileForm,
    pub kinds: Vec<(RequestType, u32)>,
    pub mailboxes: Vec<(&'static str, &'static str)>,
    pub places: Vec<crate::view::places::PlaceGroup>,
    pub errors: Vec<(String, String)>,
    /// Emergency lines the text calls for (the banner before filing).
    pub lines: Vec<Line>,
    /// The district map to tap the point on.
    pub map: Option<DistrictMap>,
    /// The map's hint where it is a tap target; None where it shows a point.
    pub map_pick: Option<&'static str>,
}

impl NewRequestPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
    fn checked_kind(&self, k: &RequestType) -> bool {
        self.form.kind == k.slug()
    }

    /// A staged file as its hidden field carries it: `key|name`.
    fn staged_value(&self, a: &Attachment) -> String {
        format!("{}|{}", a.storage_key, a.file_name)
    }

    fn max_files(&self) -> usize {
        requests::files::MAX_FILES
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub mailbox: String,
    /// `assistant`: drafted from this browser's conversation with the
    /// assistant (a hand-off outside the agents' hours).
    #[serde(default)]
    pub from: String,
}

async fn new_page(
    state: &AppState,
    ctx: PageCtx,
    form: FileForm,
    errors: Vec<(String, String)>,
    lines: Vec<Line>,
) -> Result<Response, AppError> {
    let settings = &state.config.requests;
    let places = crate::view::places::place_groups(&state.db, &ctx).await?;
    let map = DistrictMap::load(&state.db, form.point()).await?;
    render(&NewRequestPage {
        map,
        map_pick: Some("requests.map_hint"),
        kinds: RequestType::ALL
            .iter()
            .map(|k| (*k, settings.limit(*k)))
            .collect(),
        mailboxes: requests::MAILBOXES.to_vec(),
        places,
        form,
        errors,
        lines,
        ctx,
    })
}

pub async fn new_form(
    State(state): State<AppState>,
    user: CitizenUser,
    jar: axum_extra::extract::CookieJar,
    Query(q): Query<NewQuery>,
) -> Result<Response, AppError> {
    let c = user.citizen();
    let draft = match AssistantSession::of(&jar) {
        Some(s) if q.from == "assistant" => {
            zhiban_domain::assistant::handoff::consult_draft(&state.db, &s.0).await?
        }
        _ => None,
    };
    let (title, body) = draft.unwrap_or_default();
    let form = FileForm {
        kind: q.kind,
        mailbox: q.mailbox,
        title,
        body,
        contact_name: c.name.clone(),
        contact_phone: c.phone.clone(),
        ..FileForm::default()
    };
    new_page(&state, user.ctx, form, Vec::new(), Vec::new()).await
}

/// The form's fields, and its files (see [`request_files`]).
async fn read_form(
    state: &AppState,
    owner: i64,
    mp: &MultipartForm,
) -> (FileForm, Vec<zhiban_domain::FieldError>) {
    let mut form: FileForm = serde_urlencoded::to_string(&mp.fields)
        .ok()
        .and_then(|q| serde_urlencoded::from_str(&q).ok())
        .unwrap_or_default();
    let (staged, problems) = request_files(state, Stager::Account(owner), mp).await;
    form.staged = staged;
    (form, problems)
}

pub async fn file(
    State(state): State<AppState>,
    user: CitizenUser,
    Issuer(base): Issuer,
    Csrf(UploadForm(mp)): Csrf<UploadForm>,
) -> Result<Response, AppError> {
    let (form, file_problems) = read_form(&state, user.citizen().id, &mp).await;
    if !file_problems.is_empty() {
        let errors = field_messages(&user.ctx, &file_problems);
        return new_page(&state, user.ctx, form, errors, Vec::new()).await;
    }
    // 着火, 抢劫, 车祸 …: the emergency lines come first; filing goes on
    // only once the person says it is not an emergency.
    let lines = emergency::lines_for(&format!("{} {}", form.title, form.body));
    if !lines.is_empty() && form.not_emergency != "1" {
        return new_page(&state, user.ctx, form, Vec::new(), lines).await;
    }
    let (district_id, street) = form.place();
    let new = NewRequest {
        kind: RequestType::from_slug(&form.kind),
        mailbox: form.mailbox.clone(),
        title: form.title.clone(),
        body: form.body.clone(),
        district_id,
        street,
        address: form.address.clone(),
        contact_name: form.contact_name.clone(),
        contact_phone: form.contact_phone.clone(),
        publish_ok: form.publish_ok == "1",
        point: form.point(),
        attachments: form.staged.clone(),
        ..NewRequest::default()
    };
    let routing = state.routing().await?;
    match requests::file(&state.hall(&base), &routing, Some(user.citizen()), &new).await {
        Ok(r) => Ok(Redirect::to(&format!("/my/requests/{}?new=1", r.number)).into_response()),
        Err(DomainError::Invalid(errs)) => {
            let errors = field_messages(&user.ctx, &errs);
            new_page(&state, user.ctx, form, errors, lines).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The emergency lines for a text being typed (the form's script shows
/// the banner before anything is sent): `{"lines": [{"number", "label"}]}`.
#[derive(Debug, Default, Deserialize)]
pub struct EmergencyQuery {
    #[serde(default)]
    pub text: String,
}

pub async fn emergency_check(ctx: PageCtx, Query(q): Query<EmergencyQuery>) -> Response {
    let text: String = q.text.chars().take(3000).collect();
    let lines: Vec<serde_json::Value> = emergency::lines_for(&text)
        .into_iter()
        .map(|l| {
            serde_json::json!({
                "number": l.number(),
                "label": ctx.t(&format!("requests.line_{}", l.slug())),
            })
        })
        .collect();
    axum::Json(serde_json::json!({ "lines": lines })).into_response()
}

#[derive(Template)]
#[template(path = "citizen/requests/list.html")]
pub struct MyRequestsPage {
    pub ctx: PageCtx,
    pub rows: Vec<RequestRow>,
}

pub async fn my_requests(
    State(state): State<AppState>,
    user: CitizenUser,
) -> Result<Response, AppError> {
    let today = local_date(state.db.now());
    render(&MyRequestsPage {
        rows: requests::of_citizen(&state.db, user.citizen().id, today).await?,
        ctx: user.ctx,
    })
}

#[derive(Template)]
#[template(path = "citizen/requests/request.html")]
pub struct MyRequestPage {
    pub ctx: PageCtx,
    pub r: Request,
    /// The point the request was given, on the district map.
    pub map: Option<DistrictMap>,
    /// The map's hint where it is a tap target; None where it shows a point.
    pub map_pick: Option<&'static str>,
    pub files: Vec<RequestFile>,
    pub events: Vec<RequestEvent>,
    pub fresh: bool,
    pub notice: String,
    pub errors: Vec<(String, String)>,
    pub satisfactions: &'static [Satisfaction],
}

impl MyRequestPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct RequestQuery {
    #[serde(default)]
    pub new: String,
    #[serde(default)]
    pub done: String,
}

async fn request_page(
    state: &AppState,
    user: CitizenUser,
    number: &str,
    fresh: bool,
    notice: String,
    errors: Vec<(String, String)>,
) -> Result<Response, AppError> {
    let r = requests::for_citizen(&state.db, user.citizen().id, number).await?;
    let map = match r.point {
        Some(p) => DistrictMap::load(&state.db, Some(p)).await?,
        None => None,
    };
    render(&MyRequestPage {
        map,
        map_pick: None,
        events: requests::events(&state.db, r.id).await?,
        files: requests::files::list(&state.db, r.id).await?,
        r,
        fresh,
        notice,
        errors,
        satisfactions: Satisfaction::ALL,
        ctx: user.ctx,
    })
}

pub async fn my_request(
    State(state): State<AppState>,
    user: CitizenUser,
    Path(number): Path<String>,
    Query(q): Query<RequestQuery>,
) -> Result<Response, AppError> {
    let notice = match q.done.as_str() {
        "rate" => user.ctx.t("requests.rated"),
        "reopen" => user.ctx.t("requests.reopened"),
        _ => String::new(),
    };
    request_page(&state, user, &number, q.new == "1", notice, Vec::new()).await
}

#[derive(Debug, Default, Deserialize)]
pub struct RateForm {
    #[serde(default)]
    pub satisfaction: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub revision: Option<i64>,
}

/// 评价: satisfied or basically satisfied concludes the request; not
/// satisfied (with a reason) sends it back to the unit, once.
pub async fn rate(
    State(state): State<AppState>,
    user: CitizenUser,
    Issuer(base): Issuer,
    Path(number): Path<String>,
    Csrf(Form(form)): Csrf<Form<RateForm>>,
) -> Result<Response, AppError> {
    let step = Step {
        satisfaction: Satisfaction::from_slug(&form.satisfaction),
        reason: form.reason,
        revision: form.revision,
        ..Step::default()
    };
    let result = requests::act(
        &state.hall(&base),
        Actor::Citizen(user.citizen()),
        &number,
        RequestAction::Rate,
        step,
    )
    .await;
    match result {
        Ok(r) => {
            let done = if r.state == requests::RequestState::Handling {
                "reopen"
            } else {
                "rate"
            };
            Ok(Redirect::to(&format!("/my/requests/{}?done={done}", r.number)).into_response())
        }
        Err(DomainError::Invalid(errs)) => {
            let errors = field_messages(&user.ctx, &errs);
            request_page(&state, user, &number, false, String::new(), errors).await
        }
        Err(DomainError::Conflict(_)) => {
            let notice = user.ctx.t("requests.conflict");
            request_page(&state, user, &number, false, notice, Vec::new()).await
        }
        Err(e) => Err(e.into()),
    }
}

/// A file the writer sent with their request.
pub async fn my_file(
    State(state): State<AppState>,
    user: CitizenUser,
    Path((number, id)): Path<(String, i64)>,
) -> Result<Response, AppError> {
    let r = requests::for_citizen(&state.db, user.citizen().id, &number).await?;
    let (f, body) = requests::files::body(&state.db, &state.files, r.id, id).await?;
    Ok(crate::view::send_private(
        &f.file_name,
        &f.content_type,
        body,
    ))
}
