//! The development SMS outbox (`/admin/sms`), phones masked.

use crate::error::AppError;
use crate::extract::Staff;
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::render;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use zhiban_domain::identity::ids::mask_phone;
use zhiban_domain::identity::sms;

#[derive(Template)]
#[template(path = "staff/sms/sms.html")]
pub struct OutboxPage {
    pub ctx: PageCtx,
    /// (time, masked phone, body, gateway)
    pub rows: Vec<(String, String, String, String)>,
}

pub async fn sms_outbox(State(state): State<AppState>, staff: Staff) -> Result<Response, AppError> {
    let rows = sms::outbox(&state.db, 200)
        .await?
        .into_iter()
        .map(|m| {
            (
                zhiban_domain::time::local_time(m.created_at),
                mask_phone(&m.phone),
                m.body,
                m.gateway,
            )
        })
        .collect();
    render(&OutboxPage {
        ctx: staff.ctx,
        rows,
    })
}
