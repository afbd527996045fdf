//! How a conversation handed to a person (转人工) is shown: each message
//! as a line with who wrote it, its time and its text cut into plain text
//! and links; the same lines as JSON for the live streams (the page script
//! builds text nodes and links from them, never HTML), for the citizen's
//! page and the agent console alike.

use std::convert::Infallible;

use axum::http::HeaderMap;
use axum::response::sse::{Event, Sse};
use futures_util::Stream;
use serde::Serialize;
use zhiban_domain::assistant::Turn;
use zhiban_domain::assistant::handoff::{self, ChatState, Message, Sender, agent_number};

use crate::live::{self, Batch};
use crate::state::AppState;
use crate::view::ctx::PageCtx;

/// A piece of a message: text, or a link (`href` set).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Part {
    pub text: String,
    pub href: Option<String>,
}

fn url_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%".contains(c)
}

/// Cuts a text into plain parts and links: `http(s)://…` addresses and the
/// portal's own paths (`/services/…`) where they stand on their own (after
/// a space, a Chinese character or the start). Trailing punctuation stays
/// text.
pub fn parts(text: &str) -> Vec<Part> {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<Part> = Vec::new();
    let mut plain = String::new();
    let mut i = 0;
    while i < chars.len() {
        let rest: String = chars[i..chars.len().min(i + 8)].iter().collect();
        let before_ok = i == 0 || !(chars[i - 1].is_ascii_alphanumeric() || chars[i - 1] == '/');
        let starts = before_ok
            && (rest.starts_with("https://")
                || rest.starts_with("http://")
                || (chars[i] == '/'
                    && chars.get(i + 1).is_some_and(|c| c.is_ascii_alphanumeric())));
        if starts {
            let mut j = i;
            while j < chars.len() && url_char(chars[j]) {
                j += 1;
            }
            while j > i && ".,;:!?)'".contains(chars[j - 1]) {
                j -= 1;
            }
            let link: String = chars[i..j].iter().collect();
            let host = link
                .strip_prefix("https://")
                .or_else(|| link.strip_prefix("http://"));
            // An address needs a host; a path is the portal's own.
            let ok = match host {
                Some(h) => !h.is_empty() && !h.starts_with('/'),
                None => link.len() > 1,
            };
            if ok {
                if !plain.is_empty() {
                    out.push(Part {
                        text: std::mem::take(&mut plain),
                        href: None,
                    });
                }
                out.push(Part {
                    text: link.clone(),
                    href: Some(link),
                });
                i = j;
                continue;
            }
        }
        plain.push(chars[i]);
        i += 1;
    }
    if !plain.is_empty() {
        out.push(Part {
            text: plain,
            href: None,
        });
    }
    out
}

/// Who is looking: the citizen or an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    Citizen,
    Agent,
}

/// A message as shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    pub id: i64,
    /// citizen, agent, system
    pub sender: &'static str,
    pub who: String,
    pub parts: Vec<Part>,
    pub time: String,
    pub at: i64,
    /// For system lines: the event's code, and the state it leaves.
    pub code: Option<String>,
    pub state: Option<&'static str>,
}

/// A message as `viewer` reads it.
pub fn line(ctx: &PageCtx, m: &Message, viewer: Viewer) -> Line {
    let agent = m.agent_id.map(agent_number).unwrap_or_default();
    let (who, text, code) = match m.sender {
        Sender::Citizen => (
            ctx.t(if viewer == Viewer::Citizen {
                "assistant.you"
            } else {
                "chats.citizen"
            }),
            m.body.clone(),
            None,
        ),
        Sender::Agent => (
            ctx.tf("chats.agent", &[("n", &agent)]),
            m.body.clone(),
            None,
        ),
        Sender::System => (
            String::new(),
            ctx.tf(&format!("chats.sys_{}", m.body), &[("n", &agent)]),
            Some(m.body.clone()),
        ),
    };
    Line {
        id: m.id,
        sender: m.sender.slug(),
        who,
        parts: parts(&text),
        time: ctx.clock(&m.at),
        at: m.at,
        state: code.as_deref().map(|c| ChatState::after(c).slug()),
        code,
    }
}

/// One entry of a conversation: the citizen's turn with the assistant, or
/// a message of a chat with a person.
pub enum Entry {
    Turn(Turn),
    Line(Line),
}

/// The assistant's turns and the chats' messages, in the order they
/// happened.
pub fn timeline(
    ctx: &PageCtx,
    turns: Vec<Turn>,
    messages: &[Message],
    viewer: Viewer,
) -> Vec<Entry> {
    let mut lines = messages.iter().map(|m| line(ctx, m, viewer)).peekable();
    let mut entries = Vec::new();
    for t in turns {
        while let Some(l) = lines.next_if(|l| l.at < t.asked_at) {
            entries.push(Entry::Line(l));
        }
        entries.push(Entry::Turn(t));
    }
    entries.extend(lines.map(Entry::Line));
    entries
}

/// The live stream of chat `id` from where the page (or the reconnecting
/// browser) left off; it finishes once the chat is closed.
pub fn stream(
    state: &AppState,
    ctx: PageCtx,
    id: i64,
    headers: &HeaderMap,
    after: Option<i64>,
    viewer: Viewer,
) -> Sse<impl Stream<Item = Result<Event, Infallible>> + use<>> {
    let db = state.db.clone();
    let start = live::start_after(headers, after);
    live::stream(&state.live, start, move |after| {
        let db = db.clone();
        let ctx = ctx.clone();
        async move {
            let messages = handoff::messages_since(&db, id, after, 100).await.ok()?;
            let last = messages.last().map(|m| m.id).unwrap_or(after);
            let mut finished = false;
            let events = messages
                .iter()
                .map(|m| {
                    let l = line(&ctx, m, viewer);
                    finished |= l.state == Some(ChatState::Closed.slug());
                    let data = serde_json::to_string(&l).unwrap_or_default();
                    Event::default()
                        .id(m.id.to_string())
                        .event("message")
                        .data(data)
                })
                .collect();
            Some(Batch {
                events,
                last,
                finished,
            })
        }
    })
}

/// The agent console's stream: one `changed` event (the chat's id) when
/// any chat changes, so the queue page fetches itself again.
pub fn queue_stream(
    state: &AppState,
    start: i64,
) -> Sse<impl Stream<Item = Result<Event, Infallible>> + use<>> {
    let db = state.db.clone();
    live::stream(&state.live, start, move |after| {
        let db = db.clone();
        async move {
            let (last, chats) = handoff::changed_since(&db, after).await.ok()?;
            let events = if chats.is_empty() {
                Vec::new()
            } else {
                let data = serde_json::to_string(&chats).unwrap_or_default();
                vec![
                    Event::default()
                        .id(last.to_string())
                        .event("changed")
                        .data(data),
                ]
            };
            Some(Batch {
                events,
                last,
                finished: false,
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(text: &str) -> Vec<(String, Option<String>)> {
        parts(text).into_iter().map(|p| (p.text, p.href)).collect()
    }

    #[test]
    fn addresses_and_own_paths_become_links_and_nothing_else() {
        assert_eq!(
            links("请看/services/500000-GA-HZ-0001-03。"),
            vec![
                ("请看".into(), None),
                (
                    "/services/500000-GA-HZ-0001-03".into(),
                    Some("/services/500000-GA-HZ-0001-03".into())
                ),
                ("。".into(), None),
            ]
        );
        assert_eq!(
            links("官网 https://www.gov.cn/zhengce, 可查").len(),
            3,
            "{:?}",
            links("官网 https://www.gov.cn/zhengce, 可查")
        );
        assert_eq!(
            links("https://www.gov.cn/zhengce, 可查")[0].1.as_deref(),
            Some("https://www.gov.cn/zhengce")
        );
        // Fractions, 和/或 and a bare scheme stay text.
        assert_eq!(
            links("1/2 和/或 https://"),
            vec![("1/2 和/或 https://".into(), None)]
        );
        // Script in a message is text; only http(s) and paths are links.
        assert_eq!(
            links("javascript:alert(1)"),
            vec![("javascript:alert(1)".into(), None)]
        );
        assert_eq!(links("//evil.example/x")[0].1, None);
    }
}
