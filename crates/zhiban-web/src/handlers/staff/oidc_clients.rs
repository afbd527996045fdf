//! Applications that sign people in through the portal (`/admin/oidc…`):
//! register, enable or disable, and rotate the signing keys.

use crate::error::AppError;
use crate::extract::{Csrf, NoFields};
use crate::extract::{Issuer, Staff};
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::{error_message, render};
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zhiban_domain::DomainError;
use zhiban_domain::identity::oidc;
use zhiban_domain::identity::oidc::{Client, ClientInput};

#[derive(Template)]
#[template(path = "staff/oidc_clients/clients.html")]
pub struct ClientsPage {
    pub ctx: PageCtx,
    pub clients: Vec<Client>,
    pub issuer: String,
    pub form: ClientForm,
    pub errors: Vec<(String, String)>,
    /// Shown once, right after registering a confidential client.
    pub created: Option<(String, Option<String>)>,
    pub rotated: bool,
    /// Applications and keys are the city's: whole-city accounts change them.
    pub editable: bool,
}

#[derive(Debug, Default, Deserialize, Clone)]
pub struct ClientForm {
    #[serde(default)]
    pub client_name: String,
    #[serde(default)]
    pub redirect_uris: String,
    #[serde(default)]
    pub post_logout_uris: String,
    #[serde(default)]
    pub confidential: String,
    #[serde(default)]
    pub min_level: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct ClientsQuery {
    #[serde(default)]
    pub rotated: String,
}

pub async fn clients(
    State(state): State<AppState>,
    Issuer(issuer): Issuer,
    staff: Staff,
    Query(q): Query<ClientsQuery>,
) -> Result<Response, AppError> {
    render(&ClientsPage {
        clients: oidc::clients(&state.db).await?,
        issuer,
        form: ClientForm {
            confidential: "1".into(),
            min_level: "1".into(),
            ..ClientForm::default()
        },
        errors: Vec::new(),
        created: None,
        rotated: q.rotated == "1",
        editable: staff.session.scope.is_whole(),
        ctx: staff.ctx,
    })
}

pub async fn register_client(
    State(state): State<AppState>,
    Issuer(issuer): Issuer,
    staff: Staff,
    Csrf(Form(f)): Csrf<Form<ClientForm>>,
) -> Result<Response, AppError> {
    let input = ClientInput {
        name: f.client_name.clone(),
        redirect_uris: f.redirect_uris.clone(),
        post_logout_uris: f.post_logout_uris.clone(),
        confidential: f.confidential == "1",
        min_level: f.min_level.parse().unwrap_or(0),
    };
    let (created, errors, status) =
        match oidc::register_client_by(&state.db, &staff.session, &input).await {
            Ok(c) => (Some(c), Vec::new(), StatusCode::OK),
            Err(DomainError::Invalid(errs)) => (
                None,
                errs.iter()
                    .map(|e| (e.field.to_string(), error_message(&staff.ctx, e)))
                    .collect(),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            Err(e) => return Err(e.into()),
        };
    let form = if created.is_some() {
        ClientForm {
            confidential: "1".into(),
            min_level: "1".into(),
            ..ClientForm::default()
        }
    } else {
        f
    };
    let page = ClientsPage {
        clients: oidc::clients(&state.db).await?,
        issuer,
        form,
        errors,
        created,
        rotated: false,
        editable: true,
        ctx: staff.ctx,
    };
    let mut res = (status, render(&page)?).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

#[derive(Debug, Default, Deserialize)]
pub struct ToggleForm {
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub disable: String,
}

pub async fn toggle_client(
    State(state): State<AppState>,
    staff: Staff,
    Csrf(Form(f)): Csrf<Form<ToggleForm>>,
) -> Result<Response, AppError> {
    oidc::set_client_disabled_by(&state.db, &staff.session, &f.client_id, f.disable == "1").await?;
    Ok(Redirect::to("/admin/oidc").into_response())
}

pub async fn rotate_keys(
    State(state): State<AppState>,
    staff: Staff,
    Csrf(_): Csrf<Form<NoFields>>,
) -> Result<Response, AppError> {
    oidc::rotate_keys_by(&state.db, &staff.session).await?;
    Ok(Redirect::to("/admin/oidc?rotated=1").into_response())
}
