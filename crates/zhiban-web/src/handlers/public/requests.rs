//! 政民互动 (`/requests`, `/requests/{number}`): what one can write about
//! and how fast it is answered, the mailboxes, the emergency lines, and
//! 公开选登 — answered requests published with the citizen's agreement,
//! without personal data.

use crate::error::AppError;
use crate::extract::{Csrf, Issuer, UploadForm, form_token, request_files};
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::map::{DistrictMap, parse_point};
use crate::view::places::{PlaceGroup, parse_place, place_groups};
use crate::view::{Pager, field_messages, render, render_public, shown_once};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use zhiban_domain::DomainError;
use zhiban_domain::requests::emergency::{self, Line};
use zhiban_domain::requests::files::{Attachment, Stager};
use zhiban_domain::requests::{self, NewRequest, Published, Request, RequestType, anonymous};

const PER_PAGE: i64 = 10;

#[derive(Template)]
#[template(path = "public/requests/hall.html")]
pub struct HallPage {
    pub ctx: PageCtx,
    pub kinds: Vec<(RequestType, u32)>,
    pub mailboxes: Vec<(&'static str, &'static str)>,
    pub published: Vec<Published>,
    pub kind: String,
    pub pager: Pager,
}

#[derive(Debug, Default, Deserialize)]
pub struct HallQuery {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub page: Option<usize>,
}

pub async fn hall(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<HallQuery>,
) -> Result<Response, AppError> {
    let kind = RequestType::from_slug(&q.kind);
    let page = q.page.unwrap_or(1).max(1);
    let (published, total) = requests::published(
        &state.db,
        kind,
        u32::try_from(page - 1).unwrap_or(0),
        PER_PAGE,
    )
    .await?;
    let base = match kind {
        Some(k) => format!("/requests?kind={}", k.slug()),
        None => "/requests".to_string(),
    };
    let settings = &state.config.requests;
    render_public(
        ctx.lang,
        &HallPage {
            kinds: RequestType::ALL
                .iter()
                .map(|k| (*k, settings.limit(*k)))
                .collect(),
            mailboxes: requests::MAILBOXES.to_vec(),
            published,
            kind: kind.map(|k| k.slug().to_string()).unwrap_or_default(),
            pager: Pager::new(
                &base,
                page,
                PER_PAGE as usize,
                usize::try_from(total).unwrap_or(0),
            ),
            ctx,
        },
    )
}

#[derive(Template)]
#[template(path = "public/requests/published.html")]
pub struct PublishedPage {
    pub ctx: PageCtx,
    pub p: Published,
}

pub async fn published(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(number): Path<String>,
) -> Result<Response, AppError> {
    let p = requests::published_one(&state.db, &number).await?;
    render_public(ctx.lang, &PublishedPage { p, ctx })
}

// ------------------------------------------------------------------ 匿名反映

#[derive(Template)]
#[template(path = "public/requests/anonymous.html")]
pub struct AnonymousPage {
    pub ctx: PageCtx,
    pub kinds: &'static [RequestType],
    pub places: Vec<PlaceGroup>,
    pub form: AnonymousForm,
    pub lines: Vec<Line>,
    pub errors: Vec<(String, String)>,
    /// The district map to tap the place on (no device location: the
    /// point marks the problem, never the writer).
    pub map: Option<DistrictMap>,
    pub map_pick: Option<&'static str>,
}

impl AnonymousPage {
    /// A staged file as its hidden field carries it: `key|name`.
    fn staged_value(&self, a: &Attachment) -> String {
        format!("{}|{}", a.storage_key, a.file_name)
    }

    fn max_files(&self) -> usize {
        requests::files::MAX_FILES
    }

    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct AnonymousForm {
    #[serde(default, rename = "_csrf")]
    pub csrf: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub not_emergency: String,
    /// The place tapped on the map (`lat,lon`).
    #[serde(default)]
    pub point: String,
    /// Files already received, kept while the form comes back.
    #[serde(skip)]
    pub staged: Vec<Attachment>,
}

async fn anonymous_page(
    state: &AppState,
    ctx: PageCtx,
    form: AnonymousForm,
    lines: Vec<Line>,
    errors: Vec<(String, String)>,
) -> Result<Response, AppError> {
    render(&AnonymousPage {
        map: DistrictMap::load(&state.db, parse_point(&form.point)).await?,
        map_pick: Some("requests.anon_map_hint"),
        kinds: anonymous::KINDS,
        places: place_groups(&state.db, &ctx).await?,
        form,
        lines,
        errors,
        ctx,
    })
}

/// `/requests/anonymous`: a 举报 or 建议 without an account.
pub async fn anonymous_form(
    State(state): State<AppState>,
    mut ctx: PageCtx,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let jar = form_token(&state, &mut ctx, jar);
    let form = AnonymousForm {
        kind: "report".into(),
        ..AnonymousForm::default()
    };
    let page = anonymous_page(&state, ctx, form, Vec::new(), Vec::new()).await?;
    Ok((jar, page).into_response())
}

#[derive(Template)]
#[template(path = "public/requests/anonymous_receipt.html")]
pub struct AnonymousReceipt {
    pub ctx: PageCtx,
    pub number: String,
    pub secret: String,
    pub due_on: String,
}

pub async fn anonymous_file(
    State(state): State<AppState>,
    mut ctx: PageCtx,
    Issuer(base): Issuer,
    Csrf(UploadForm(mp)): Csrf<UploadForm>,
) -> Result<Response, AppError> {
    let mut form: AnonymousForm = serde_urlencoded::to_string(&mp.fields)
        .ok()
        .and_then(|q| serde_urlencoded::from_str(&q).ok())
        .unwrap_or_default();
    ctx.csrf = form.csrf.clone();
    // Files are kept under this browser's form token (there is no account).
    let (staged, problems) = request_files(&state, Stager::Browser(&form.csrf), &mp).await;
    form.staged = staged;
    if !problems.is_empty() {
        let errors = field_messages(&ctx, &problems);
        return anonymous_page(&state, ctx, form, Vec::new(), errors).await;
    }
    let lines = emergency::lines_for(&form.body);
    if !lines.is_empty() && form.not_emergency != "1" {
        return anonymous_page(&state, ctx, form, lines, Vec::new()).await;
    }
    let (district_id, street) = parse_place(&form.place);
    let new = NewRequest {
        kind: RequestType::from_slug(&form.kind),
        body: form.body.clone(),
        district_id,
        street,
        address: form.address.clone(),
        point: parse_point(&form.point),
        attachments: form.staged.clone(),
        ..NewRequest::default()
    };
    let routing = state.routing().await?;
    match anonymous::file_anonymous(&state.hall(&base), &routing, &new).await {
        Ok((r, secret)) => shown_once(render(&AnonymousReceipt {
            number: r.number,
            secret,
            due_on: r.due_on.format("%Y-%m-%d").to_string(),
            ctx,
        })),
        Err(DomainError::Invalid(errs)) => {
            let errors = field_messages(&ctx, &errs);
            anonymous_page(&state, ctx, form, Vec::new(), errors).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "public/requests/follow.html")]
pub struct FollowPage {
    pub ctx: PageCtx,
    pub number: String,
    pub found: Option<Request>,
    pub not_found: bool,
}

pub async fn follow_form(
    State(state): State<AppState>,
    mut ctx: PageCtx,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let jar = form_token(&state, &mut ctx, jar);
    let page = render(&FollowPage {
        ctx,
        number: String::new(),
        found: None,
        not_found: false,
    })?;
    Ok((jar, page).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct FollowForm {
    #[serde(default, rename = "_csrf")]
    pub csrf: String,
    #[serde(default)]
    pub number: String,
    #[serde(default)]
    pub secret: String,
}

/// Opens an anonymous request with its number and secret.
pub async fn follow(
    State(state): State<AppState>,
    mut ctx: PageCtx,
    Csrf(Form(form)): Csrf<Form<FollowForm>>,
) -> Result<Response, AppError> {
    ctx.csrf = form.csrf.clone();
    let (found, not_found) = match anonymous::follow(&state.db, &form.number, &form.secret).await {
        Ok(r) => (Some(r), false),
        Err(DomainError::NotFound) => (None, true),
        Err(e) => return Err(e.into()),
    };
    shown_once(render(&FollowPage {
        ctx,
        number: form.number,
        found,
        not_found,
    }))
}
