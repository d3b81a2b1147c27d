//! The chat-completions wire format: the request body written exactly, the
//! reply read leniently, and the spec JSON taken out of the reply's text.
//!
//! Only what the planner uses is read from a reply (the model name, the first
//! choice's content, refusal and finish reason, token usage); everything else
//! (`created`, `id`, `system_fingerprint`, ...) is ignored, so servers that
//! differ from OpenAI there still work. The spec JSON itself is never read
//! leniently: [`spec_text`] removes a ```` ```json ```` fence or a leading
//! `<think>…</think>` block and nothing else.

use async_openai::types::chat;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::config::{OpenAiConfig, ResponseFormat, TokenLimit};

/// The name of the response format, as the model sees it.
const SCHEMA_NAME: &str = "gitintent_spec";

/// One chat message.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Message {
    pub(super) role: &'static str,
    pub(super) content: String,
}

impl Message {
    /// The message as async-openai types it.
    fn typed(&self) -> chat::ChatCompletionRequestMessage {
        let text = self.content.clone();
        match self.role {
            "system" => chat::ChatCompletionRequestSystemMessage::from(text).into(),
            "assistant" => chat::ChatCompletionRequestAssistantMessage::from(text).into(),
            _ => chat::ChatCompletionRequestUserMessage::from(text).into(),
        }
    }

    pub(super) fn system(content: String) -> Message {
        Message {
            role: "system",
            content,
        }
    }

    pub(super) fn user(content: String) -> Message {
        Message {
            role: "user",
            content,
        }
    }

    pub(super) fn assistant(content: String) -> Message {
        Message {
            role: "assistant",
            content,
        }
    }
}

/// The request body for `messages` under `config`, built with
/// async-openai's typed `CreateChatCompletionRequest`, so what is sent is
/// the OpenAI protocol's own shape. Never streamed.
pub(super) fn request(config: &OpenAiConfig, schema: &Value, messages: &[Message]) -> Value {
    let response_format = match config.response_format {
        ResponseFormat::JsonSchema => Some(chat::ResponseFormat::JsonSchema {
            json_schema: chat::ResponseFormatJsonSchema {
                name: SCHEMA_NAME.to_string(),
                description: Some("A gitintent deployment spec".to_string()),
                schema: schema.clone(),
                strict: Some(true),
            },
        }),
        ResponseFormat::JsonObject => Some(chat::ResponseFormat::JsonObject),
        ResponseFormat::None => None,
    };
    let (max_completion_tokens, max_tokens) = match config.token_limit {
        Some(TokenLimit::MaxCompletionTokens(n)) => (Some(n), None),
        Some(TokenLimit::MaxTokens(n)) => (None, Some(n)),
        None => (None, None),
    };
    #[allow(deprecated)] // `max_tokens`: still what some servers read
    let typed = chat::CreateChatCompletionRequest {
        model: config.model.clone(),
        messages: messages.iter().map(Message::typed).collect(),
        response_format,
        max_completion_tokens,
        max_tokens,
        temperature: config.temperature,
        seed: config.seed,
        stream: Some(false),
        ..Default::default()
    };
    // Serialising a plain struct of strings and numbers cannot fail.
    let mut body = serde_json::to_value(&typed).unwrap_or(Value::Null);
    if let Some(t) = config.temperature {
        // Through its shortest text, so 0.2 is sent as 0.2, not 0.20000000298.
        body["temperature"] = serde_json::json!(t.to_string().parse::<f64>().unwrap_or(f64::from(t)));
    }
    body
}

/// A chat completion, as much of it as the planner reads.
#[derive(Debug, Deserialize)]
pub(super) struct Completion {
    #[serde(default)]
    pub(super) model: Option<String>,
    pub(super) choices: Vec<Choice>,
    #[serde(default)]
    pub(super) usage: Option<TokenUsage>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Choice {
    #[serde(default)]
    pub(super) message: Option<ReplyMessage>,
    /// `stop`, `length`, `content_filter`, ... or a server's own word
    /// (`eos_token`, `eos`, `abort`), which is not an error.
    #[serde(default)]
    pub(super) finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ReplyMessage {
    #[serde(default)]
    pub(super) content: Option<String>,
    #[serde(default)]
    pub(super) refusal: Option<String>,
}

/// Token counts; a server may leave any of them out.
#[derive(Debug, Deserialize)]
pub(super) struct TokenUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
    #[serde(default)]
    total_tokens: Option<u64>,
}

impl TokenUsage {
    /// (input, output) where known; output falls back to total − input.
    pub(super) fn counts(&self) -> (Option<u64>, Option<u64>) {
        let output = self.completion_tokens.or_else(|| {
            self.total_tokens
                .zip(self.prompt_tokens)
                .map(|(t, p)| t.saturating_sub(p))
        });
        (self.prompt_tokens, output)
    }
}

/// The spec JSON in a reply: the whole text, or the text inside one
/// ```` ```json ```` (or bare ```` ``` ````) fence, after a leading
/// `<think>…</think>` block if there is one. Anything else around the JSON
/// is left in place for the parser to refuse.
pub(super) fn spec_text(reply: &str) -> Result<&str, String> {
    let mut text = reply.trim();
    if let Some(rest) = text.strip_prefix("<think>") {
        let Some(end) = rest.find("</think>") else {
            return Err(
                "the reply is a <think> block that never ends (no </think>) and holds no spec".into(),
            );
        };
        text = rest[end + "</think>".len()..].trim();
    }
    if let Some(rest) = text.strip_prefix("```") {
        let (tag, body) = rest.split_once('\n').unwrap_or((rest, ""));
        let inner = body.trim_end().strip_suffix("```");
        match (tag.trim(), inner) {
            ("" | "json" | "JSON", Some(inner)) => text = inner.trim(),
            _ => {
                return Err(
                    "the reply opens a code fence it does not close around one JSON object; send the JSON object alone".into(),
                )
            }
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fences_and_a_leading_think_block_are_removed() {
        let spec = r#"{"a": 1}"#;
        for reply in [
            spec.to_string(),
            format!("```json\n{spec}\n```"),
            format!("  ```\n{spec}\n```\n"),
            format!("<think>\nThe user wants redis.\n</think>\n\n{spec}"),
            format!("<think>plan {{ }}</think>```json\n{spec}\n```"),
        ] {
            assert_eq!(spec_text(&reply), Ok(spec), "{reply:?}");
        }
    }

    #[test]
    fn nothing_looser_is_accepted() {
        // Left for the JSON parser to refuse: prose around the object.
        assert_eq!(spec_text("Here it is: {}"), Ok("Here it is: {}"));
        assert_eq!(spec_text("{}\nHope this helps"), Ok("{}\nHope this helps"));
        assert_eq!(
            spec_text("```json\n{}\n```\nand more"),
            Err("the reply opens a code fence it does not close around one JSON object; send the JSON object alone".into())
        );
        assert!(spec_text("```yaml\na: 1\n```").is_err());
        assert!(spec_text("<think>still thinking").is_err());
        // A think block that is not leading stays.
        assert_eq!(spec_text("{} <think>x</think>"), Ok("{} <think>x</think>"));
    }

    #[test]
    fn the_request_carries_the_configured_settings() {
        let schema = json!({"type": "object"});
        let msgs = [Message::user("hi".into())];
        let mut config = OpenAiConfig::new("http://x/v1", "m");
        let body = request(&config, &schema, &msgs);
        assert_eq!(body["response_format"]["json_schema"]["schema"], schema);
        assert_eq!(body["stream"], false);
        assert!(body.get("max_tokens").is_none() && body.get("seed").is_none());
        config.response_format = ResponseFormat::JsonObject;
        config.token_limit = Some(TokenLimit::MaxCompletionTokens(900));
        config.seed = Some(7);
        config.temperature = Some(0.2);
        let body = request(&config, &schema, &msgs);
        assert_eq!(body["response_format"], json!({"type": "json_object"}));
        assert_eq!(body["temperature"].to_string(), "0.2");
        assert_eq!(
            (body["max_completion_tokens"].clone(), body["seed"].clone()),
            (json!(900), json!(7))
        );
        config.response_format = ResponseFormat::None;
        config.token_limit = Some(TokenLimit::MaxTokens(900));
        let body = request(&config, &schema, &msgs);
        assert!(body.get("response_format").is_none() && body.get("max_completion_tokens").is_none());
        assert_eq!(body["max_tokens"], 900);
    }

    #[test]
    fn a_loose_completion_still_reads() {
        let text = r#"{"id": "x", "created": 1790000000.25, "model": "qwen",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "{}"}, "finish_reason": "eos_token"}],
            "usage": {"prompt_tokens": 10, "total_tokens": 15}}"#;
        let c: Completion = serde_json::from_str(text).unwrap();
        assert_eq!(c.choices[0].finish_reason.as_deref(), Some("eos_token"));
        assert_eq!(c.usage.unwrap().counts(), (Some(10), Some(5)));
    }
}
