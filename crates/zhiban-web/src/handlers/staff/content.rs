//! 政务公开 for staff (`/admin/content…`): the article list with each
//! person's review queue, the editor (plain text without JavaScript, a
//! rich editor with it), review steps, withdrawal, versions, a preview
//! exactly as citizens will see the article, and site health.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zhiban_domain::content::diff::{self, Comparison, Line, Part};
use zhiban_domain::content::drafting::DraftSource;
use zhiban_domain::content::files::{self, ArticleFile, Attach, FileChanges, FileRole, NewFile};
use zhiban_domain::content::reading::{self, Detail, StaffFilter, StaffRow};
use zhiban_domain::content::{
    ArticleAction, ArticleInput, ArticleKind, ArticleState, Channel, Site, editing, health,
    rich_text, sites as site_admin,
};
use zhiban_domain::identity::Perm;
use zhiban_domain::{Conflict, DomainError, FieldError};

use crate::error::AppError;
use crate::extract::{
    Csrf, EditorForm, MultipartForm, PostedFile, Staff, UnitOption, unit_options,
};
use crate::state::AppState;
use crate::view::article::{ArticlePage, ArticleView, local_input};
use crate::view::ctx::PageCtx;
use crate::view::files::{send_article_file, send_svg};
use crate::view::messages::field_messages;
use crate::view::{error_message, render};

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub site: String,
    #[serde(default)]
    pub review: String,
}

#[derive(Template)]
#[template(path = "staff/content/list.html")]
pub struct ListPage {
    pub ctx: PageCtx,
    pub q: ListQuery,
    pub rows: Vec<StaffRow>,
    pub sites: Vec<Site>,
    /// Texts waiting for this person's review.
    pub to_review: usize,
}

pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let db = &state.db;
    let queue = StaffFilter {
        to_review: true,
        ..StaffFilter::default()
    };
    let to_review = if staff.session.can(Perm::ContentReview) {
        reading::staff_list(db, &staff.session, &queue, 500)
            .await?
            .len()
    } else {
        0
    };
    let filter = StaffFilter {
        state: ArticleState::from_slug(&q.state),
        site: (!q.site.is_empty()).then(|| q.site.clone()),
        to_review: q.review == "1" && staff.session.can(Perm::ContentReview),
    };
    let rows = reading::staff_list(db, &staff.session, &filter, 200).await?;
    let sites = reading::sites_in_scope(db, &staff.session).await?;
    render(&ListPage {
        ctx: staff.ctx,
        q,
        rows,
        sites,
        to_review,
    })
}

/// The editor, on its own (new) or on an article's page.
#[derive(Template)]
#[template(path = "staff/content/edit.html")]
pub struct EditPage {
    pub ctx: PageCtx,
    pub detail: Option<Detail>,
    pub input: ArticleInput,
    /// Sites and channels this person may publish to.
    pub sites: Vec<Site>,
    pub channels: Vec<Channel>,
    /// The kinds an article may be (not 专题, which only channels are).
    pub kinds: Vec<ArticleKind>,
    /// (field, message) for the summary.
    pub errors: Vec<(String, String)>,
    /// A refusal of a step (conflict), shown above the page.
    pub refusal: Option<String>,
    /// The step just done (`saved`, `submit`, `approve` …).
    pub done: String,
    pub can_edit: bool,
    pub can_review: bool,
    /// The signed-in person's user name (reviewers never pass their own text).
    pub me: String,
    /// The working copy's files.
    pub files: Vec<ArticleFile>,
    /// Upload limits in MB: (attachments and pictures, video).
    pub limits: (u64, u64),
    /// What was typed beside files in a refused save (alt texts).
    pub kept: Vec<(String, String)>,
}

impl EditPage {
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
    /// A policy field's typed value, by name.
    pub fn input_value(&self, key: &str) -> &str {
        match key {
            "doc_number" => &self.input.doc_number,
            "issuer" => &self.input.issuer,
            "written_on" => &self.input.written_on,
            "topic" => &self.input.topic,
            _ => "",
        }
    }
    pub fn kept(&self, name: &str) -> &str {
        self.kept
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
    pub fn size(&self, f: &ArticleFile) -> String {
        crate::view::form::size_text(f.size)
    }
    pub fn channel_checked(&self, id: &i64) -> bool {
        self.input.channels.contains(id)
    }
    pub fn editable(&self) -> bool {
        self.can_edit
            && self
                .detail
                .as_ref()
                .is_none_or(|d| d.state != ArticleState::InReview)
    }
    /// The person may pass or return the text at its current stage.
    pub fn may_review(&self) -> bool {
        let me = &self.me;
        self.can_review
            && self.detail.as_ref().is_some_and(|d| {
                d.state == ArticleState::InReview
                    && d.author != *me
                    && !d.approvers.iter().any(|a| a == me)
            })
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    pub done: String,
}

async fn page(
    state: &AppState,
    staff: Staff,
    detail: Option<Detail>,
    input: ArticleInput,
    errors: &[FieldError],
    refusal: Option<Conflict>,
    done: String,
) -> Result<EditPage, AppError> {
    let sites = reading::sites_in_scope(&state.db, &staff.session).await?;
    let channels = reading::channels(&state.db)
        .await?
        .into_iter()
        .filter(|c| sites.iter().any(|s| s.id == c.site_id))
        .collect();
    let ctx = staff.ctx;
    Ok(EditPage {
        errors: errors
            .iter()
            .map(|e| (e.field.to_string(), error_message(&ctx, e)))
            .collect(),
        refusal: refusal.map(|c| ctx.conflict(c)),
        can_edit: staff.session.can(Perm::ContentEdit),
        can_review: staff.session.can(Perm::ContentReview),
        me: staff.session.user.username.clone(),
        files: match &detail {
            Some(d) => files::working(&state.db, d.id).await?,
            None => Vec::new(),
        },
        limits: (
            state.config.content.max_file_mb,
            state.config.content.max_video_mb,
        ),
        kept: Vec::new(),
        ctx,
        detail,
        input,
        sites,
        channels,
        kinds: ArticleKind::writable().collect(),
        done,
    })
}

pub async fn new_form(State(state): State<AppState>, staff: Staff) -> Result<Response, AppError> {
    let sites = reading::sites_in_scope(&state.db, &staff.session).await?;
    let input = ArticleInput {
        site: sites.first().map(|s| s.code.clone()).unwrap_or_default(),
        kind: ArticleKind::News.slug().into(),
        ..ArticleInput::default()
    };
    render(&page(&state, staff, None, input, &[], None, String::new()).await?)
}

/// The editor's fields out of the posted pairs (channels repeat).
fn input_of(fields: &[(String, String)]) -> (ArticleInput, bool) {
    let mut input = ArticleInput::default();
    let mut submit = false;
    for (k, v) in fields {
        let v = v.replace("\r\n", "\n");
        match k.as_str() {
            "site" => input.site = v,
            "kind" => input.kind = v,
            "channels" => {
                if let Ok(id) = v.parse() {
                    input.channels.push(id);
                }
            }
            "title" => input.title = v,
            "summary" => input.summary = v,
            "body" => input.body = v,
            "source" => input.source = v,
            "publish_at" => input.publish_at = v,
            "unpublish_at" => input.unpublish_at = v,
            "starts_on" => input.starts_on = v,
            "ends_on" => input.ends_on = v,
            "area" => input.area = v,
            "doc_number" => input.doc_number = v,
            "issuer" => input.issuer = v,
            "written_on" => input.written_on = v,
            "topic" => input.topic = v,
            "validity" => input.validity = v,
            "replaced_by" => input.replaced_by = v,
            "services" => input.services = v,
            "policy" => input.policy = v,
            "reward" => input.reward = v,
            "wanted_status" => input.wanted_status = v,
            "status_on" => input.status_on = v,
            "_go" => submit = v == "submit",
            _ => {}
        }
    }
    (input, submit)
}

fn revision_of(fields: &[(String, String)]) -> i64 {
    fields
        .iter()
        .find(|(k, _)| k == "revision")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
}

fn note_of(fields: &[(String, String)]) -> String {
    fields
        .iter()
        .find(|(k, _)| k == "note")
        .map(|(_, v)| v.trim().chars().take(500).collect())
        .unwrap_or_default()
}

/// The file changes of a save: new attachments, a picture with its alt
/// text, a video with its description and captions, and removals.
fn file_changes(form: &mut MultipartForm) -> FileChanges {
    let text = |name: &str| form.field(name).unwrap_or("").to_string();
    let (image_alt, video_alt) = (text("new_image_alt"), text("new_video_alt"));
    let removed = form
        .fields
        .iter()
        .filter(|(k, _)| k == "remove_file")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    let mut changes = FileChanges {
        removed,
        ..FileChanges::default()
    };
    let posted = |f: PostedFile, role: FileRole, alt: &str| NewFile {
        role,
        file_name: f.file_name,
        body: f.body,
        too_large: f.too_large,
        alt: alt.to_string(),
        captions: None,
    };
    let mut captions = None;
    let mut video = None;
    for f in std::mem::take(&mut form.files) {
        if !f.too_large && f.file_name.is_empty() && f.body.is_empty() {
            continue;
        }
        match f.input.as_str() {
            "new_attachment" => changes.added.push(posted(f, FileRole::Attachment, "")),
            "new_image" => changes.added.push(posted(f, FileRole::Image, &image_alt)),
            "new_video" => video = Some(posted(f, FileRole::Video, &video_alt)),
            "new_captions" => captions = Some(Box::new(posted(f, FileRole::Captions, ""))),
            _ => {}
        }
    }
    if let Some(mut v) = video {
        v.captions = captions;
        changes.added.push(v);
    } else if captions.is_some() {
        // Captions without their video: say the video is missing.
        changes.added.push(NewFile {
            role: FileRole::Video,
            file_name: String::new(),
            body: Vec::new(),
            too_large: false,
            alt: video_alt,
            captions,
        });
    }
    changes
}

/// The alt texts typed beside new files, kept when the save is refused.
fn kept_of(form: &MultipartForm) -> Vec<(String, String)> {
    ["new_image_alt", "new_video_alt"]
        .iter()
        .map(|k| (k.to_string(), form.field(k).unwrap_or("").to_string()))
        .collect()
}

pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    Csrf(EditorForm(mut form)): Csrf<EditorForm>,
) -> Result<Response, AppError> {
    let changes = file_changes(&mut form);
    let kept = kept_of(&form);
    let fields = form.fields;
    let (input, submit) = input_of(&fields);
    let attach = Attach {
        store: &state.files,
        settings: &state.config.content,
        changes,
    };
    match editing::create_with(&state.db, &staff.session, &input, Some(&attach)).await {
        Ok(id) => {
            let done = if submit {
                editing::step(&state.db, &staff.session, id, 1, ArticleAction::Submit, "").await?;
                "submit"
            } else {
                "saved"
            };
            Ok(Redirect::to(&format!("/admin/content/{id}?done={done}")).into_response())
        }
        Err(e) => again_keeping(&state, staff, None, Some(input), e, kept).await,
    }
}

pub async fn detail(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, AppError> {
    let d = reading::detail(&state.db, &staff.session, id).await?;
    let input = local_input(&d);
    render(&page(&state, staff, Some(d), input, &[], None, q.done).await?)
}

pub async fn update(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Csrf(EditorForm(mut form)): Csrf<EditorForm>,
) -> Result<Response, AppError> {
    let changes = file_changes(&mut form);
    let kept = kept_of(&form);
    let fields = form.fields;
    let (input, submit) = input_of(&fields);
    let revision = revision_of(&fields);
    let attach = Attach {
        store: &state.files,
        settings: &state.config.content,
        changes,
    };
    let saved = editing::update_with(
        &state.db,
        &staff.session,
        id,
        revision,
        &input,
        Some(&attach),
    )
    .await;
    match saved {
        Ok(()) => {
            let done = if submit {
                editing::step(
                    &state.db,
                    &staff.session,
                    id,
                    revision + 1,
                    ArticleAction::Submit,
                    "",
                )
                .await?;
                "submit"
            } else {
                "saved"
            };
            Ok(Redirect::to(&format!("/admin/content/{id}?done={done}")).into_response())
        }
        Err(e) => again_keeping(&state, staff, Some(id), Some(input), e, kept).await,
    }
}

/// The editor again (the new-article form, or the article's page as it
/// now stands) with the problems of a save or a step: field errors, or a
/// refusal because of state or of the person's part. The fields keep what
/// was typed; a body whose unsafe parts were removed comes back cleaned,
/// so the editor sees what would be kept.
async fn again(
    state: &AppState,
    staff: Staff,
    id: Option<i64>,
    input: Option<ArticleInput>,
    e: DomainError,
) -> Result<Response, AppError> {
    again_keeping(state, staff, id, input, e, Vec::new()).await
}

/// [`again`], keeping what was typed beside the files (alt texts): the
/// files themselves must be chosen again, which the messages say.
async fn again_keeping(
    state: &AppState,
    staff: Staff,
    id: Option<i64>,
    input: Option<ArticleInput>,
    e: DomainError,
    kept: Vec<(String, String)>,
) -> Result<Response, AppError> {
    let (errors, refusal, status) = match e {
        DomainError::Invalid(errors) => (errors, None, StatusCode::UNPROCESSABLE_ENTITY),
        DomainError::Conflict(c) => (Vec::new(), Some(c), StatusCode::CONFLICT),
        e => return Err(e.into()),
    };
    let detail = match id {
        Some(id) => Some(reading::detail(&state.db, &staff.session, id).await?),
        None => None,
    };
    let mut input = match (input, &detail) {
        (Some(i), _) => i,
        (None, Some(d)) => local_input(d),
        (None, None) => ArticleInput::default(),
    };
    if errors.iter().any(|e| e.code == "unsafe_removed") {
        input.body = rich_text::clean(&input.body).html;
    }
    let mut p = page(state, staff, detail, input, &errors, refusal, String::new()).await?;
    p.kept = kept;
    Ok((status, render(&p)?).into_response())
}

async fn step(
    state: &AppState,
    staff: Staff,
    id: i64,
    fields: &[(String, String)],
    action: ArticleAction,
) -> Result<Response, AppError> {
    let note = note_of(fields);
    match editing::step(
        &state.db,
        &staff.session,
        id,
        revision_of(fields),
        action,
        &note,
    )
    .await
    {
        Ok(now) => {
            // Published or withdrawn: this node's search follows at once.
            state.refresh_catalog().await?;
            let done = if now == ArticleState::Published {
                "publish"
            } else {
                action.slug()
            };
            Ok(Redirect::to(&format!("/admin/content/{id}?done={done}")).into_response())
        }
        Err(e) => again(state, staff, Some(id), None, e).await,
    }
}

pub async fn submit(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Csrf(Form(fields)): Csrf<Form<Vec<(String, String)>>>,
) -> Result<Response, AppError> {
    step(&state, staff, id, &fields, ArticleAction::Submit).await
}

pub async fn recall(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Csrf(Form(fields)): Csrf<Form<Vec<(String, String)>>>,
) -> Result<Response, AppError> {
    step(&state, staff, id, &fields, ArticleAction::Recall).await
}

/// 审核: `decision` is `approve` or `reject` (with a reason in `note`).
pub async fn review(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Csrf(Form(fields)): Csrf<Form<Vec<(String, String)>>>,
) -> Result<Response, AppError> {
    let approve = fields
        .iter()
        .any(|(k, v)| k == "decision" && v == "approve");
    let action = if approve {
        ArticleAction::Approve
    } else {
        ArticleAction::Reject
    };
    step(&state, staff, id, &fields, action).await
}

pub async fn withdraw(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Csrf(Form(fields)): Csrf<Form<Vec<(String, String)>>>,
) -> Result<Response, AppError> {
    step(&state, staff, id, &fields, ArticleAction::Withdraw).await
}

/// Makes an earlier version the working copy (a draft to review again).
pub async fn restore(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Csrf(Form(fields)): Csrf<Form<Vec<(String, String)>>>,
) -> Result<Response, AppError> {
    let version = fields
        .iter()
        .find(|(k, _)| k == "version")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    match editing::restore(&state.db, &staff.session, id, revision_of(&fields), version).await {
        Ok(()) => Ok(Redirect::to(&format!("/admin/content/{id}?done=restore")).into_response()),
        Err(e) => again(&state, staff, Some(id), None, e).await,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PreviewQuery {
    #[serde(default)]
    pub width: String,
}

pub async fn preview(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Query(q): Query<PreviewQuery>,
) -> Result<Response, AppError> {
    let d = reading::detail(&state.db, &staff.session, id).await?;
    let channels = reading::channels(&state.db).await?;
    let mut a = ArticleView::of_draft(&d, &channels, state.db.now().timestamp());
    a.files = files::working(&state.db, id).await?;
    render(&ArticlePage {
        meta: crate::view::meta::for_article(&a, state.config.public_url.as_deref()),
        ctx: staff.ctx,
        a,
        preview: true,
        phone: q.width == "phone",
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct DiffQuery {
    #[serde(default)]
    pub from: Option<i64>,
    #[serde(default)]
    pub to: Option<i64>,
}

#[derive(Template)]
#[template(path = "staff/content/diff.html")]
pub struct DiffPage {
    pub ctx: PageCtx,
    pub detail: Detail,
    pub cmp: Comparison,
}

/// 版本对比: what changed between two versions (by default, what citizens
/// read now against the working copy a reviewer is asked to pass).
pub async fn diff(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Query(q): Query<DiffQuery>,
) -> Result<Response, AppError> {
    let detail = reading::detail(&state.db, &staff.session, id).await?;
    let to = q.to.unwrap_or(detail.version);
    let from = q
        .from
        .or(detail.live_version.filter(|v| *v != to))
        .unwrap_or((to - 1).max(1));
    let cmp = diff::compare(&state.db, &detail, from, to).await?;
    render(&DiffPage {
        ctx: staff.ctx,
        detail,
        cmp,
    })
}

/// 一图读懂 of the working copy, for the preview.
pub async fn graphic(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let d = reading::detail(&state.db, &staff.session, id).await?;
    if d.kind != ArticleKind::Interpretation {
        return Err(AppError::NotFound);
    }
    Ok(send_svg(
        zhiban_domain::content::graphic::svg(&d.title, &d.source, &d.body),
        false,
    ))
}

/// A file of the working copy or of an earlier version, for the editor
/// and the preview.
pub async fn file(
    State(state): State<AppState>,
    staff: Staff,
    Path((id, file)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    // Out of scope reads as not found (and is audited there).
    reading::detail(&state.db, &staff.session, id).await?;
    let f = files::one(&state.db, id, file).await?;
    send_article_file(&state, &f, false).await
}

#[derive(Template)]
#[template(path = "staff/content/health.html")]
pub struct HealthPage {
    pub ctx: PageCtx,
    pub today: chrono::NaiveDate,
    pub sites: Vec<health::SiteHealth>,
}

impl HealthPage {
    /// Days from today to `day` (negative: past).
    pub fn days_to(&self, day: &chrono::NaiveDate) -> i64 {
        (*day - self.today).num_days()
    }
}

/// 网站健康: every inspection rule of the sites in this person's scope,
/// with the day each will fail.
pub async fn health_report(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Response, AppError> {
    let today = zhiban_domain::time::local_date(state.db.now());
    let sites = health::report(&state.db, &state.catalog(), today)
        .await?
        .into_iter()
        .filter(|h| staff.session.scope.covers(h.site.unit_id))
        .collect();
    render(&HealthPage {
        ctx: staff.ctx,
        today,
        sites,
    })
}

#[derive(Template)]
#[template(path = "staff/content/sites.html")]
pub struct SitesPage {
    pub ctx: PageCtx,
    pub sites: Vec<Site>,
    pub channels: Vec<Channel>,
    pub saved: String,
    pub error: Option<String>,
    /// A refused channel form: what was typed and each problem, put back
    /// into the form it came from.
    pub attempt: Option<(ChannelForm, Vec<(String, String)>)>,
    /// Kinds a channel may hold (专题 included).
    pub kinds: &'static [ArticleKind],
    /// A refused new site: what was typed and each problem.
    pub new_site: Option<(site_admin::SiteInput, Vec<(String, String)>)>,
    /// Units of the org tree (those in scope can own a site).
    pub units: Vec<UnitOption>,
}

impl SitesPage {
    /// The refused form is this one (`site`, and the channel id or `new`).
    fn is_attempt(&self, site: &str, id: &str) -> bool {
        self.attempt
            .as_ref()
            .is_some_and(|(f, _)| f.site == site && f.id == id)
    }
    /// What to show in a field of channel form (`id`, or `new`): what was
    /// typed when that form was refused, else the stored value.
    fn typed<'a>(&'a self, site: &str, id: &str, field: &str, stored: &'a str) -> &'a str {
        match &self.attempt {
            Some((f, _)) if f.site == site && f.id == id => match field {
                "code" => &f.code,
                "name" => &f.name,
                "kind" => &f.kind,
                "stale_days" => &f.stale_days,
                _ => &f.lead,
            },
            _ => stored,
        }
    }
    fn problem(&self, site: &str, id: &str, field: &str) -> Option<&str> {
        match &self.attempt {
            Some((f, errs)) if f.site == site && f.id == id => errs
                .iter()
                .find(|(k, _)| k == field)
                .map(|(_, m)| m.as_str()),
            _ => None,
        }
    }
    /// What was typed into the new-site form, by field.
    fn site_typed(&self, field: &str) -> &str {
        match &self.new_site {
            Some((f, _)) => match field {
                "code" => &f.code,
                "name" => &f.name,
                "unit" => &f.unit,
                _ => &f.review_stages,
            },
            None if field == "review_stages" => "2",
            None => "",
        }
    }
    fn site_errors(&self) -> Vec<(String, String)> {
        self.new_site
            .as_ref()
            .map(|(_, e)| e.clone())
            .unwrap_or_default()
    }
    fn site_problem(&self, field: &str) -> Option<&str> {
        self.new_site.as_ref().and_then(|(_, errs)| {
            errs.iter()
                .find(|(k, _)| k == field)
                .map(|(_, m)| m.as_str())
        })
    }
    fn days(&self, c: &Channel) -> String {
        c.stale_days.to_string()
    }
}

/// A channel form as posted (every field as typed).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ChannelForm {
    pub site: String,
    /// The channel's id, or `new`.
    pub id: String,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub stale_days: String,
    pub lead: String,
}

/// 新增站点: a site for a unit in the person's scope.
pub async fn create_site(
    State(state): State<AppState>,
    staff: Staff,
    Csrf(Form(f)): Csrf<Form<site_admin::SiteInput>>,
) -> Result<Response, AppError> {
    match site_admin::create_site(&state.db, &staff.session, &f).await {
        Ok(code) => {
            state.refresh_catalog().await?;
            Ok(
                Redirect::to(&format!("/admin/content/sites?saved={code}#s-{code}"))
                    .into_response(),
            )
        }
        Err(DomainError::Invalid(errors)) => {
            let errs = field_messages(&staff.ctx, &errors);
            let mut p = sites_page(&state, staff, String::new(), None).await?;
            p.new_site = Some((f, errs));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// 栏目: adds a channel to a site or changes one.
pub async fn save_channel(
    State(state): State<AppState>,
    staff: Staff,
    Csrf(Form(f)): Csrf<Form<ChannelForm>>,
) -> Result<Response, AppError> {
    let input = site_admin::ChannelInput {
        site: f.site.clone(),
        id: f.id.parse().ok(),
        code: f.code.clone(),
        name: f.name.clone(),
        kind: f.kind.clone(),
        stale_days: f.stale_days.clone(),
        lead: f.lead.clone(),
    };
    match site_admin::save_channel(&state.db, &staff.session, &input).await {
        Ok(_) => {
            state.refresh_catalog().await?;
            Ok(Redirect::to(&format!("/admin/content/sites?saved={}", f.site)).into_response())
        }
        Err(DomainError::Invalid(errors)) => {
            let errs = field_messages(&staff.ctx, &errors);
            let mut p = sites_page(&state, staff, String::new(), None).await?;
            p.attempt = Some((f, errs));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    pub saved: String,
}

async fn sites_page(
    state: &AppState,
    staff: Staff,
    saved: String,
    error: Option<String>,
) -> Result<SitesPage, AppError> {
    let sites = reading::sites_in_scope(&state.db, &staff.session).await?;
    let channels = reading::channels(&state.db)
        .await?
        .into_iter()
        .filter(|c| sites.iter().any(|s| s.id == c.site_id))
        .collect();
    let units = unit_options(state, &staff);
    Ok(SitesPage {
        ctx: staff.ctx,
        sites,
        channels,
        saved,
        error,
        attempt: None,
        kinds: ArticleKind::ALL,
        new_site: None,
        units,
    })
}

/// 站点设置: each site's review stages and its channels.
pub async fn sites(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<SavedQuery>,
) -> Result<Response, AppError> {
    render(&sites_page(&state, staff, q.saved, None).await?)
}

#[derive(Debug, Deserialize)]
pub struct StagesForm {
    pub site: String,
    pub review_stages: i64,
}

pub async fn save_stages(
    State(state): State<AppState>,
    staff: Staff,
    Csrf(Form(f)): Csrf<Form<StagesForm>>,
) -> Result<Response, AppError> {
    match site_admin::set_review_stages(&state.db, &staff.session, &f.site, f.review_stages).await {
        Ok(()) => {
            Ok(Redirect::to(&format!("/admin/content/sites?saved={}", f.site)).into_response())
        }
        Err(DomainError::Invalid(errors)) => {
            let msg = errors.first().map(|e| error_message(&staff.ctx, e));
            let p = sites_page(&state, staff, String::new(), msg).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// 解读助手: a draft interpretation of this policy, opened for editing.
pub async fn interpret(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Csrf(Form(_)): Csrf<Form<Vec<(String, String)>>>,
) -> Result<Response, AppError> {
    let model = &state.config.content.llm;
    match editing::draft_interpretation(&state.db, &staff.session, id, model).await {
        Ok((draft, source)) => {
            let done = match source {
                DraftSource::Offline => "drafted",
                DraftSource::Model => "drafted_model",
                DraftSource::Fallback => "drafted_fallback",
            };
            Ok(Redirect::to(&format!("/admin/content/{draft}?done={done}")).into_response())
        }
        Err(e) => again(&state, staff, Some(id), None, e).await,
    }
}
