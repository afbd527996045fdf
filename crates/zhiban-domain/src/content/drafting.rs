//! Drafting an interpretation with a language model, when the deployment
//! has one: any OpenAI-compatible chat endpoint (`[content] llm_url`). The
//! model sees only the policy's own text and the key points found offline,
//! is told to invent nothing, and its answer is sanitised like any body.
//! Without an endpoint, or when it fails, the offline draft
//! (`aids::draft`) is used and the editor is told which one they got.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{aids, rich_text};

/// `[content]` settings of the model (all optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LlmSettings {
    /// Base address of an OpenAI-compatible API, e.g.
    /// `https://llm.example.gov.cn/v1`. Empty: no model.
    pub llm_url: String,
    pub llm_model: String,
    /// The environment variable holding the API key (never the key itself,
    /// which must not sit in a settings file or a log).
    pub llm_key_env: String,
}

impl LlmSettings {
    pub fn configured(&self) -> bool {
        !self.llm_url.trim().is_empty()
    }
}

/// Which draft the editor got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftSource {
    /// Written offline from the key points.
    Offline,
    /// Written by the configured model.
    Model,
    /// The model was configured but failed: the offline draft instead.
    Fallback,
}

const SYSTEM: &str = "你是渝州市政府网站的政策解读编辑。只依据用户提供的政策原文，用群众看得懂的话撰写政策解读；\
不得编造原文没有的对象、金额、条件、时限、渠道或电话，原文没有的项目就不写。\
只输出 HTML 片段：用 <h2> 作小标题（政策要点、适用对象、支持内容、补贴标准、申请条件、办理时限、办理渠道、咨询电话），\
每个小标题下用 <ul><li> 列出要点，不要输出其他内容。";

#[derive(Serialize)]
struct Message<'a> {
    role: &'a str,
    content: String,
}

#[derive(Serialize)]
struct Request<'a> {
    model: &'a str,
    messages: Vec<Message<'a>>,
    temperature: f32,
}

#[derive(Deserialize)]
struct Response {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: Reply,
}

#[derive(Deserialize)]
struct Reply {
    content: String,
}

/// What the model is asked: the policy's text and the points found offline.
fn prompt(title: &str, body: &str) -> String {
    let k = aids::key_points(body);
    let mut hints = Vec::new();
    for (name, list) in [
        ("适用对象", &k.applies_to),
        ("补贴标准", &k.amounts),
        ("申请条件", &k.conditions),
        ("办理时限", &k.time_limits),
        ("办理渠道", &k.channels),
        ("咨询电话", &k.phones),
    ] {
        if !list.is_empty() {
            hints.push(format!("{name}：{}", list.join(" ")));
        }
    }
    format!(
        "政策标题：{title}\n\n政策原文：\n{}\n\n系统从原文中找到的要点（供参考）：\n{}",
        super::diff::paragraphs(body).join("\n"),
        hints.join("\n")
    )
}

/// The model's answer without Markdown fences around it.
fn unfenced(s: &str) -> &str {
    let t = s.trim();
    let t = t
        .strip_prefix("```html")
        .or_else(|| t.strip_prefix("```"))
        .unwrap_or(t);
    t.strip_suffix("```").unwrap_or(t).trim()
}

/// Asks the model; `Err` says why not (shown to nobody but the log).
pub async fn ask_model(s: &LlmSettings, title: &str, body: &str) -> Result<String, String> {
    let url = format!(
        "{}/chat/completions",
        s.llm_url.trim().trim_end_matches('/')
    );
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| e.to_string())?;
    let mut req = client.post(&url).json(&Request {
        model: s.llm_model.trim(),
        messages: vec![
            Message {
                role: "system",
                content: SYSTEM.to_string(),
            },
            Message {
                role: "user",
                content: prompt(title, body),
            },
        ],
        temperature: 0.2,
    });
    let key_var = s.llm_key_env.trim();
    if !key_var.is_empty()
        && let Ok(key) = std::env::var(key_var)
    {
        req = req.bearer_auth(key);
    }
    let res = req.send().await.map_err(|e| e.to_string())?;
    if !res.status().is_success() {
        return Err(format!("model answered {}", res.status()));
    }
    let parsed: Response = res.json().await.map_err(|e| e.to_string())?;
    let text = parsed
        .choices
        .into_iter()
        .next()
        .map(|c| c.message.content)
        .ok_or("no answer")?;
    let html = rich_text::clean(unfenced(&text)).html;
    if rich_text::text_of(&html).chars().count() < 20 {
        return Err("answer too short".into());
    }
    Ok(html)
}

/// The draft body: the model's when one is configured and answers, else
/// the offline one.
pub async fn draft_body(s: &LlmSettings, title: &str, body: &str) -> (String, DraftSource) {
    let (_, offline) = aids::draft(title, body);
    if !s.configured() {
        return (offline, DraftSource::Offline);
    }
    match ask_model(s, title, body).await {
        Ok(html) => (html, DraftSource::Model),
        Err(why) => {
            tracing::warn!(reason = %why, "interpretation model failed; offline draft used");
            (offline, DraftSource::Fallback)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompt_carries_the_text_and_the_points_and_fences_are_dropped() {
        let p = prompt(
            "稳岗返还通知",
            "<p>中小微企业按60%返还。</p><p>咨询电话：12333。</p>",
        );
        assert!(p.contains("政策原文：\n中小微企业按60%返还。\n咨询电话：12333。"));
        assert!(p.contains("补贴标准：中小微企业按60%返还。"));
        assert_eq!(unfenced("```html\n<h2>要点</h2>\n```"), "<h2>要点</h2>");
        assert!(!LlmSettings::default().configured());
    }
}
