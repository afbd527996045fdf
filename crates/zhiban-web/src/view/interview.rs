//! How an interview's live stream reaches the browser: each change of the
//! log as a server-sent event whose data is JSON the page script turns
//! into text nodes (never HTML), for the public page and the moderators'
//! console alike.

use std::convert::Infallible;

use axum::http::HeaderMap;
use axum::response::sse::{Event, Sse};
use futures_util::Stream;
use serde_json::json;
use zhiban_domain::interviews::{self, Change, InterviewState, Post};

use crate::live::{self, Batch};
use crate::state::AppState;
use crate::view::ctx::PageCtx;

/// The address of a shown photo.
pub fn photo_url(interview: i64, post: i64) -> String {
    format!("/interviews/{interview}/photos/{post}")
}

/// A post as the page script shows it.
fn post_json(ctx: &PageCtx, interview: i64, p: &Post) -> serde_json::Value {
    json!({
        "id": p.id,
        "kind": p.kind.slug(),
        "speaker": p.speaker,
        "body": p.body,
        "quote": p.quote,
        "time": ctx.clock(&p.at),
        "photo": p.is_photo().then(|| photo_url(interview, p.id)),
    })
}

fn event_of(ctx: &PageCtx, interview: i64, id: i64, change: &Change) -> Event {
    let (name, data) = match change {
        Change::Shown(p) => ("shown", post_json(ctx, interview, p)),
        Change::Asked(p) => ("asked", post_json(ctx, interview, p)),
        Change::Hidden(post) => ("hidden", json!({ "id": post })),
        Change::State(s) => (
            "state",
            json!({
                "state": s.slug(),
                "label": ctx.t(&format!("interviews.state_{}", s.slug())),
            }),
        ),
    };
    Event::default()
        .id(id.to_string())
        .event(name)
        .data(data.to_string())
}

/// The live stream of interview `id` from where the page (or the
/// reconnecting browser) left off. Staff streams also carry the questions
/// waiting for moderation. The stream finishes once the interview has
/// ended, with a last `state` event so the page stops listening.
pub fn stream(
    state: &AppState,
    ctx: PageCtx,
    id: i64,
    headers: &HeaderMap,
    after: Option<i64>,
    staff: bool,
) -> Sse<impl Stream<Item = Result<Event, Infallible>> + use<>> {
    let db = state.db.clone();
    let start = live::start_after(headers, after);
    live::stream(&state.live, start, move |after| {
        let db = db.clone();
        let ctx = ctx.clone();
        async move {
            let (events, last) = interviews::events_since(&db, id, after, staff, 100)
                .await
                .ok()?;
            let mut finished = events
                .iter()
                .any(|e| matches!(e.change, Change::State(InterviewState::Ended)));
            let mut out: Vec<Event> = events
                .iter()
                .map(|e| event_of(&ctx, id, e.id, &e.change))
                .collect();
            if out.is_empty() {
                let interview = interviews::get(&db, id).await.ok()?;
                if interview.state == InterviewState::Ended {
                    out.push(event_of(&ctx, id, last, &Change::State(interview.state)));
                    finished = true;
                }
            }
            Some(Batch {
                events: out,
                last,
                finished,
            })
        }
    })
}
