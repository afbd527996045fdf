//! The guard in front of every staff route of the route table: anonymous
//! visitors go to sign in, half signed-in staff to the second factor,
//! expired passwords to the change page, and a missing permission gets a
//! 403 and an audit record.

use crate::error::AppError;
use crate::extract::{client_ip, current_staff, detour, to_login};
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use zhiban_domain::audit;
use zhiban_domain::audit::Entry;
use zhiban_domain::identity::Perm;

/// The permission a staff route needs; `None` means any signed-in staff.
#[derive(Clone)]
pub struct Guard {
    pub state: AppState,
    pub perm: Option<Perm>,
}

/// Runs before every staff route: anonymous → sign-in; half signed-in →
/// second factor; expired password → change it; missing permission → 403
/// (and an audit record). Otherwise the session rides on the request.
pub async fn guard(State(g): State<Guard>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let here = PageCtx::from_parts(&parts).here;
    let (session, _) = match current_staff(&parts, &g.state).await {
        Ok(Some(s)) => s,
        Ok(None) => return to_login(&here),
        Err(e) => return e.into_response(),
    };
    if let Some(r) = detour(&session, &here) {
        return r;
    }
    if let Some(p) = g.perm
        && !session.can(p)
    {
        let entry = Entry::staff(&session.user.username, "access.denied", parts.uri.path())
            .detail(p.slug())
            .ip(client_ip(&parts, &g.state))
            .refused();
        if let Err(e) = audit::record(&g.state.db, entry).await {
            return AppError::from(e).into_response();
        }
        return AppError::NoPermission.into_response();
    }
    parts.extensions.insert(session);
    next.run(Request::from_parts(parts, body)).await
}
