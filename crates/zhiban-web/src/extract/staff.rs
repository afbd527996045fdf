//! Staff sessions as extractors: `Staff` (past both sign-in factors; the
//! route table's guard has already checked the route's permission) and
//! `PendingStaff` (the pages that finish signing in).

use crate::error::AppError;
use crate::extract::{ExpectedToken, client_of};
use crate::state::AppState;
use crate::view::ctx::{PageCtx, urlencode};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use zhiban_domain::ActorName;
use zhiban_domain::identity::staff::{Client, StaffSession, Stage};
use zhiban_domain::identity::{Perm, scope, staff};

pub const SESSION_COOKIE: &str = "zb_staff";

/// A signed-in staff member past both factors. Routes in the staff table
/// are guarded before the handler runs; the extractor reads what the guard
/// found.
pub struct Staff {
    pub session: StaffSession,
    pub ctx: PageCtx,
}

impl Staff {
    pub fn actor(&self) -> ActorName {
        ActorName(self.session.user.username.clone())
    }

    /// Whether a department (by code) lies inside this person's data scope.
    pub fn covers_department(&self, state: &AppState, code: &str) -> bool {
        state
            .catalog()
            .departments
            .iter()
            .find(|d| d.code == code)
            .is_some_and(|d| self.session.scope.covers(d.id))
    }

    /// The org-tree units this person may act for, their own first (the
    /// unit pickers of what they publish).
    pub fn units(&self, state: &AppState) -> Vec<zhiban_domain::catalog::Department> {
        let mut units: Vec<_> = state
            .catalog()
            .departments
            .iter()
            .filter(|d| self.session.scope.covers(d.id))
            .cloned()
            .collect();
        units.sort_by_key(|d| (Some(d.id) != self.session.user.unit_id, d.code.clone()));
        units
    }

    /// Refuses work on `object` of a department outside this person's data
    /// scope (403), with a refused audit record.
    pub async fn require_department(
        &self,
        state: &AppState,
        code: &str,
        object: &str,
    ) -> Result<(), AppError> {
        if self.covers_department(state, code) {
            return Ok(());
        }
        scope::record_refusal(&state.db, &self.session, object, "outside_scope").await?;
        Err(AppError::NoPermission)
    }

    /// Refuses (audited) unless this is a whole-city account: no unit, or
    /// the top of the org tree.
    pub async fn require_city(&self, state: &AppState, object: &str) -> Result<(), AppError> {
        Ok(scope::require_city(&state.db, &self.session, object).await?)
    }

    /// A finer check inside a handler (the guard has checked the route's).
    pub fn require(&self, p: Perm) -> Result<(), AppError> {
        if self.session.can(p) {
            Ok(())
        } else {
            Err(AppError::NoPermission)
        }
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let mut ctx = PageCtx::from_parts(parts);
        let session = match parts.extensions.get::<StaffSession>() {
            Some(s) => s.clone(),
            // Outside the guarded table (sign-out): look it up here.
            None => match current_staff(parts, state).await {
                Ok(Some((s, _))) if s.stage == Stage::Full => s,
                Ok(_) => return Err(to_login(&ctx.here)),
                Err(e) => return Err(e.into_response()),
            },
        };
        ctx.staff = Some(session.user.display_name.clone());
        ctx.csrf = session.csrf_token.clone();
        ExpectedToken::set(parts, &session.csrf_token);
        ctx.perms = session.perms.iter().map(|p| p.slug()).collect();
        ctx.menu = state
            .staff_menu
            .iter()
            .filter(|e| e.perm.is_none_or(|p| session.can(p)))
            .map(|e| (e.path, e.label))
            .collect();
        Ok(Staff { session, ctx })
    }
}

/// The request's staff session at whatever stage, if any.
pub async fn current_staff(
    parts: &Parts,
    state: &AppState,
) -> Result<Option<(StaffSession, String)>, AppError> {
    let jar = CookieJar::from_headers(&parts.headers);
    let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_string()) else {
        return Ok(None);
    };
    let ip = crate::extract::client_ip(parts, state);
    Ok(
        staff::session(&state.db, &state.config.security, &token, state.db.now())
            .await?
            .map(|mut s| {
                s.client_ip = ip;
                (s, token)
            }),
    )
}

pub fn to_login(here: &str) -> Response {
    Redirect::to(&format!("/admin/login?next={}", urlencode(here))).into_response()
}

/// Where a session that is not ready for `here` must go first.
pub fn detour(s: &StaffSession, here: &str) -> Option<Response> {
    if s.stage == Stage::Password {
        return Some(
            Redirect::to(&format!("/admin/login/verify?next={}", urlencode(here))).into_response(),
        );
    }
    if s.password_expired {
        return Some(
            Redirect::to(&format!("/admin/account/password?next={}", urlencode(here)))
                .into_response(),
        );
    }
    None
}

/// A staff session that may still lack its second factor (the pages that
/// finish signing in).
pub struct PendingStaff {
    pub session: StaffSession,
    pub token: String,
    pub ctx: PageCtx,
    pub client: Client,
}

impl FromRequestParts<AppState> for PendingStaff {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let mut ctx = PageCtx::from_parts(parts);
        match current_staff(parts, state).await {
            Ok(Some((session, token))) => {
                ctx.csrf = session.csrf_token.clone();
                ExpectedToken::set(parts, &session.csrf_token);
                Ok(PendingStaff {
                    client: client_of(parts, state),
                    session,
                    token,
                    ctx,
                })
            }
            Ok(None) => Err(to_login("/admin")),
            Err(e) => Err(e.into_response()),
        }
    }
}

/// A unit choice: id, indented name, selectable (inside the actor's scope).
pub struct UnitOption {
    pub id: i64,
    pub label: String,
    pub allowed: bool,
}

pub fn unit_options(state: &AppState, staff: &Staff) -> Vec<UnitOption> {
    state
        .catalog()
        .department_tree()
        .into_iter()
        .map(|n| UnitOption {
            id: n.dept.id,
            label: format!("{}{}", "　".repeat(n.depth), n.dept.name),
            allowed: staff.session.scope.covers(n.dept.id),
        })
        .collect()
}
