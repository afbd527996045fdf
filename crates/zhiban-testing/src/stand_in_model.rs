//! A stand-in for an OpenAI-compatible language model (named as such: no
//! real model can run in the test environment). It answers
//! `POST /v1/chat/completions` like the real API does, with a draft made
//! only from the policy text it was sent, marked 【替身模型】 so tests see
//! which draft they got; it keeps every request for the test to read, and
//! can be told to fail.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

#[derive(Clone, Default)]
struct Shared {
    requests: Arc<Mutex<Vec<Value>>>,
    failing: bool,
}

/// A running stand-in model.
pub struct StandInModel {
    /// Base address to configure as `llm_url` (ends in `/v1`).
    pub url: String,
    requests: Arc<Mutex<Vec<Value>>>,
}

impl StandInModel {
    /// A stand-in that answers.
    pub async fn start() -> Self {
        Self::spawn(false).await
    }

    /// A stand-in that answers every request with 503.
    pub async fn failing() -> Self {
        Self::spawn(true).await
    }

    async fn spawn(failing: bool) -> Self {
        let shared = Shared {
            failing,
            ..Shared::default()
        };
        let requests = shared.requests.clone();
        let app = axum::Router::new()
            .route("/v1/chat/completions", post(complete))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        StandInModel {
            url: format!("http://{addr}/v1"),
            requests,
        }
    }

    /// Every request body received so far.
    pub fn requests(&self) -> Vec<Value> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

async fn complete(State(s): State<Shared>, Json(body): Json<Value>) -> Response {
    if let Ok(mut r) = s.requests.lock() {
        r.push(body.clone());
    }
    if s.failing {
        return (StatusCode::SERVICE_UNAVAILABLE, "stand-in model is down").into_response();
    }
    // The user message's policy text, first two lines: the stand-in's "draft".
    let user = body["messages"]
        .as_array()
        .and_then(|m| m.iter().find(|x| x["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or("");
    let text = user
        .split("政策原文：\n")
        .nth(1)
        .and_then(|t| t.split("\n\n").next())
        .unwrap_or("");
    let points: String = text
        .lines()
        .take(2)
        .map(|l| format!("<li>{l}</li>"))
        .collect();
    let answer = format!(
        "```html\n<h2>政策要点</h2><ul>{points}</ul><p>【替身模型】以上为测试替身生成。</p><script>alert(1)</script>\n```"
    );
    Json(json!({
        "id": "stand-in",
        "object": "chat.completion",
        "model": body["model"],
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}]
    }))
    .into_response()
}
