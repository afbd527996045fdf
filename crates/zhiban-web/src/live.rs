//! Live updates (server-sent events): the interview pages follow the
//! interview's event log. A write on this node wakes the streams at once;
//! every stream also looks at the log every few seconds, so a write on
//! another node reaches them too. A browser that loses the connection
//! comes back with `Last-Event-ID` and gets what it missed. Streams end
//! when the server shuts down (so a graceful stop does not wait on them)
//! and after a while of their own (the browser reconnects and resumes).

use std::convert::Infallible;
use std::time::Duration;

use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use tokio::sync::watch;

/// Wakes the live streams of this node, and ends them at shutdown.
#[derive(Debug, Clone)]
pub struct Live {
    pokes: watch::Sender<u64>,
    closing: watch::Sender<bool>,
}

impl Default for Live {
    fn default() -> Self {
        Live {
            pokes: watch::Sender::new(0),
            closing: watch::Sender::new(false),
        }
    }
}

impl Live {
    /// Something was written: the streams look at the log now.
    pub fn poke(&self) {
        self.pokes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// The server is stopping: every stream ends.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }
}

/// How often a stream looks at the log without being woken (writes on
/// other nodes).
const POLL: Duration = Duration::from_secs(3);
/// How long one stream lasts before the browser reconnects.
const LIFETIME: Duration = Duration::from_secs(15 * 60);
/// How long a browser waits before reconnecting, in milliseconds.
const RETRY: Duration = Duration::from_secs(2);

/// Where a stream starts: the `Last-Event-ID` a reconnecting browser
/// sends, else the page's `?after=`.
pub fn start_after(headers: &HeaderMap, after: Option<i64>) -> i64 {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .or(after)
        .unwrap_or(0)
        .max(0)
}

/// One batch read from the log: the events to send, the position reached,
/// and whether the stream is finished (the interview ended).
pub struct Batch {
    pub events: Vec<Event>,
    pub last: i64,
    pub finished: bool,
}

/// A stream of events read by `read(after)` from position `after`, woken
/// by writes on this node and by the poll timer.
pub fn stream<F, Fut>(
    live: &Live,
    after: i64,
    read: F,
) -> Sse<impl Stream<Item = Result<Event, Infallible>> + use<F, Fut>>
where
    F: Fn(i64) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Option<Batch>> + Send,
{
    struct S<F> {
        read: F,
        after: i64,
        queue: std::collections::VecDeque<Event>,
        finished: bool,
        pokes: watch::Receiver<u64>,
        closing: watch::Receiver<bool>,
        until: tokio::time::Instant,
        first: bool,
    }
    let state = S {
        read,
        after,
        queue: Default::default(),
        finished: false,
        pokes: live.pokes.subscribe(),
        closing: live.closing.subscribe(),
        until: tokio::time::Instant::now() + LIFETIME,
        first: true,
    };
    let events = futures_util::stream::unfold(state, |mut s| async move {
        if s.first {
            s.first = false;
            return Some((Ok(Event::default().retry(RETRY)), s));
        }
        loop {
            if let Some(e) = s.queue.pop_front() {
                return Some((Ok(e), s));
            }
            if s.finished || *s.closing.borrow() {
                return None;
            }
            s.pokes.borrow_and_update();
            let batch = (s.read)(s.after).await?;
            s.after = batch.last;
            s.finished = batch.finished;
            s.queue.extend(batch.events);
            if !s.queue.is_empty() || s.finished {
                continue;
            }
            tokio::select! {
                _ = s.pokes.changed() => {}
                _ = s.closing.changed() => return None,
                () = tokio::time::sleep(POLL) => {}
                () = tokio::time::sleep_until(s.until) => return None,
            }
        }
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}
