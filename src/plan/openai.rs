//! The openai planner: any OpenAI-compatible chat-completions endpoint.
//!
//! [`OpenAi::plan`] sends the prompts from [`super::prompt`] with the spec
//! schema as a strict `json_schema` response format, parses the reply with
//! [`Spec::from_untrusted_json`], asks the [`Critic`] for error findings, and
//! sends every problem back to the model (at most `max_attempts` replies).
//! Failed calls are retried by [`transport`] (429, 5xx, connection errors and
//! timeouts, honouring `Retry-After`); calls, retries and repairs together are
//! bounded by one total deadline.
//!
//! It does not stream, call tools, or use anything from the reply but the
//! spec JSON. The API key is sent as a bearer token and never appears in an
//! error message.

mod transport;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_openai::types::chat::{
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestMessage, ChatCompletionRequestSystemMessage,
    ChatCompletionRequestUserMessage, CreateChatCompletionRequest, CreateChatCompletionResponse,
    FinishReason, ResponseFormat, ResponseFormatJsonSchema,
};

use super::prompt::{self, Reason};
use super::{Critic, Error, Planned, Usage};
use crate::change::Workload;
use crate::intent::Intent;
use crate::spec::{self, Spec};
use transport::Transport;

/// Endpoint settings. Build with [`OpenAiConfig::new`] or
/// [`OpenAiConfig::from_env`], then adjust fields.
#[derive(Clone)]
pub struct OpenAiConfig {
    /// Base URL of an OpenAI-compatible API, usually ending in `/v1`.
    pub base_url: String,
    /// Model name sent with every request.
    pub model: String,
    /// Bearer token; `None` for endpoints without auth (e.g. a local Ollama).
    pub api_key: Option<String>,
    /// Sampling temperature; `None` keeps the endpoint's default (some
    /// reasoning models accept no other).
    pub temperature: Option<f32>,
    /// Longest wait for one HTTP call, reply included.
    pub timeout: Duration,
    /// Total budget for one plan: every call, retry, backoff and repair.
    pub deadline: Duration,
    /// Model replies allowed per plan, the first included (1 means no repair).
    pub max_attempts: u32,
    /// Wait before the first retry of a failed call; doubles on each retry.
    pub initial_backoff: Duration,
    /// Longest wait between retries (before jitter).
    pub max_backoff: Duration,
}

impl OpenAiConfig {
    /// The base URL used when only an API key is configured.
    pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
    /// The model used when none is configured.
    pub const DEFAULT_MODEL: &str = "gpt-4o-mini";

    /// Settings for `base_url` and `model` with default limits: 60 s per
    /// call, 120 s in total, 3 attempts, backoff from 500 ms up to 8 s.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> OpenAiConfig {
        OpenAiConfig {
            base_url: base_url.into(),
            model: model.into(),
            api_key: None,
            temperature: None,
            timeout: Duration::from_secs(60),
            deadline: Duration::from_secs(120),
            max_attempts: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
        }
    }

    /// Reads `GITINTENT_LLM_BASE_URL`, `GITINTENT_LLM_MODEL` and
    /// `GITINTENT_LLM_API_KEY` (falling back to `OPENAI_API_KEY`); empty
    /// values count as unset.
    ///
    /// `None` when neither a base URL nor a key is set: the caller then uses
    /// the builtin planner. A key alone means [`Self::DEFAULT_BASE_URL`].
    pub fn from_env() -> Result<Option<OpenAiConfig>, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Option<OpenAiConfig>, Error> {
        let get = |name: &str| get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let base_url = get("GITINTENT_LLM_BASE_URL");
        let api_key = get("GITINTENT_LLM_API_KEY").or_else(|| get("OPENAI_API_KEY"));
        if base_url.is_none() && api_key.is_none() {
            return Ok(None);
        }
        let base_url = base_url.unwrap_or_else(|| Self::DEFAULT_BASE_URL.to_string());
        let model = get("GITINTENT_LLM_MODEL").unwrap_or_else(|| Self::DEFAULT_MODEL.to_string());
        let config = OpenAiConfig {
            api_key,
            ..OpenAiConfig::new(base_url, model)
        };
        config.check()?;
        Ok(Some(config))
    }

    /// Refuses settings that cannot work, before any request is made.
    fn check(&self) -> Result<(), Error> {
        let fail = |m: String| Err(Error::Config(m));
        let url = self.base_url.trim_end_matches('/');
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        if rest.is_none_or(|r| r.is_empty() || r.contains(char::is_whitespace)) {
            return fail(format!(
                "base URL {:?} must be an http:// or https:// URL",
                self.base_url
            ));
        }
        if self.model.trim().is_empty() || self.model.contains(char::is_control) {
            return fail(format!("model name {:?} is not usable", self.model));
        }
        if let Some(key) = &self.api_key {
            if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
                return fail(
                    "the API key is empty or contains characters an HTTP header cannot carry".into(),
                );
            }
        }
        if self.temperature.is_some_and(|t| !(0.0..=2.0).contains(&t)) {
            return fail("temperature must be between 0 and 2".into());
        }
        if self.max_attempts == 0 || self.timeout.is_zero() || self.deadline.is_zero() {
            return fail("max_attempts, timeout and deadline must be more than zero".into());
        }
        Ok(())
    }
}

impl std::fmt::Debug for OpenAiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiConfig")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("temperature", &self.temperature)
            .field("timeout", &self.timeout)
            .field("deadline", &self.deadline)
            .field("max_attempts", &self.max_attempts)
            .field("initial_backoff", &self.initial_backoff)
            .field("max_backoff", &self.max_backoff)
            .finish()
    }
}

/// The planner. Cheap to clone and share: one HTTP connection pool, prompts
/// rendered once.
#[derive(Clone)]
pub struct OpenAi(Arc<Inner>);

struct Inner {
    config: OpenAiConfig,
    transport: Transport,
    system: String,
    schema: serde_json::Value,
    /// Everything this planner has been billed for, failed plans included.
    spent: Spent,
}

/// Running totals of answered model calls and their token usage.
#[derive(Default)]
struct Spent {
    calls: AtomicU64,
    input_tokens: AtomicU64,
    output_tokens: AtomicU64,
}

impl std::fmt::Debug for OpenAi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAi")
            .field("config", &self.0.config)
            .finish_non_exhaustive()
    }
}

/// The name of the response format, as the model sees it.
const SCHEMA_NAME: &str = "gitintent_spec";

impl OpenAi {
    /// Checks the settings and renders the system prompt.
    pub fn new(config: OpenAiConfig) -> Result<OpenAi, Error> {
        config.check()?;
        Ok(OpenAi(Arc::new(Inner {
            transport: Transport::new(&config),
            system: prompt::system()?,
            schema: spec::schema(),
            config,
            spent: Spent::default(),
        })))
    }

    /// The configured model name.
    pub fn model(&self) -> &str {
        &self.0.config.model
    }

    /// Answered model calls and their token usage over this planner's life,
    /// including plans that failed (whose [`Planned::usage`] is never seen).
    /// Evals take the difference around each case.
    pub fn spent(&self) -> (u32, Usage) {
        let s = &self.0.spent;
        let calls = u32::try_from(s.calls.load(Ordering::Relaxed)).unwrap_or(u32::MAX);
        let usage = Usage {
            input_tokens: s.input_tokens.load(Ordering::Relaxed),
            output_tokens: s.output_tokens.load(Ordering::Relaxed),
        };
        (calls, usage)
    }

    /// The settings this planner was built with.
    pub fn config(&self) -> &OpenAiConfig {
        &self.0.config
    }

    /// Plans one intent: calls, retries and repairs until a spec is accepted,
    /// the attempts run out, or the deadline passes.
    pub(super) async fn plan(
        &self,
        intent: &Intent,
        existing: &[&Workload],
        critic: &dyn Critic,
    ) -> Result<Planned, Error> {
        let deadline = Instant::now() + self.0.config.deadline;
        let session = self.0.transport.session();
        let mut messages: Vec<ChatCompletionRequestMessage> = vec![
            ChatCompletionRequestSystemMessage::from(self.0.system.as_str()).into(),
            ChatCompletionRequestUserMessage::from(prompt::user(intent, existing)?).into(),
        ];
        let mut usage = Usage::default();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let response = session.complete(&self.request(&messages), deadline).await?;
            self.0.spent.calls.fetch_add(1, Ordering::Relaxed);
            if let Some(u) = &response.usage {
                usage.input_tokens += u64::from(u.prompt_tokens);
                usage.output_tokens += u64::from(u.completion_tokens);
                let spent = &self.0.spent;
                spent
                    .input_tokens
                    .fetch_add(u64::from(u.prompt_tokens), Ordering::Relaxed);
                spent
                    .output_tokens
                    .fetch_add(u64::from(u.completion_tokens), Ordering::Relaxed);
            }
            let last = attempts >= self.0.config.max_attempts;
            let (content, cut_off) = reply_content(&response)?;
            let (reason, mut problems) = match &content {
                None => {
                    let problem = "the reply had no content".to_string();
                    if last {
                        return Err(Error::RepairExhausted {
                            attempts,
                            last: problem,
                        });
                    }
                    (Reason::Empty, vec![problem])
                }
                Some(text) => {
                    if let Some(questions) = nothing_to_deploy(text) {
                        let reason =
                            format!("the model found nothing it could deploy: {}", questions.join(" "));
                        return Err(Error::NotUnderstood {
                            reason,
                            understood: Vec::new(),
                        });
                    }
                    match Spec::from_untrusted_json(text) {
                        Ok(spec) => {
                            let errors: Vec<String> = critic
                                .review(&spec)
                                .iter()
                                .filter(|f| f.is_error())
                                .map(ToString::to_string)
                                .collect();
                            if errors.is_empty() || last {
                                // With errors left, the caller reports them as findings.
                                let model = Some(response.model.clone())
                                    .filter(|m| !m.is_empty())
                                    .unwrap_or_else(|| self.0.config.model.clone());
                                return Ok(Planned {
                                    spec,
                                    planner: "openai",
                                    model: Some(model),
                                    prompt_version: Some(prompt::version().to_string()),
                                    usage,
                                    attempts,
                                    raw_reply: content,
                                });
                            }
                            (Reason::Findings, errors)
                        }
                        Err(e) if last => {
                            return Err(Error::RepairExhausted {
                                attempts,
                                last: e.to_string(),
                            })
                        }
                        Err(e) => problems_of(e),
                    }
                }
            };
            if cut_off {
                problems.push("the reply was cut off at the output token limit; keep the spec short".into());
            }
            if let Some(text) = content {
                messages.push(ChatCompletionRequestAssistantMessage::from(text).into());
            }
            messages.push(ChatCompletionRequestUserMessage::from(prompt::repair(reason, &problems)?).into());
        }
    }

    fn request(&self, messages: &[ChatCompletionRequestMessage]) -> CreateChatCompletionRequest {
        CreateChatCompletionRequest {
            model: self.0.config.model.clone(),
            messages: messages.to_vec(),
            response_format: Some(ResponseFormat::JsonSchema {
                json_schema: ResponseFormatJsonSchema {
                    name: SCHEMA_NAME.to_string(),
                    description: Some("A gitintent deployment spec".to_string()),
                    schema: self.0.schema.clone(),
                    strict: Some(true),
                },
            }),
            temperature: self.0.config.temperature,
            ..Default::default()
        }
    }
}

/// The reply's text (`None` when empty) and whether it hit the token limit.
/// A refusal or a content-filter stop is an error: repairs cannot fix it.
fn reply_content(response: &CreateChatCompletionResponse) -> Result<(Option<String>, bool), Error> {
    let Some(choice) = response.choices.first() else {
        return Err(Error::Provider("the endpoint returned no choices".into()));
    };
    if let Some(refusal) = choice.message.refusal.as_deref().filter(|r| !r.trim().is_empty()) {
        return Err(Error::Refused(format!(
            "the model declined: {}",
            one_line(refusal)
        )));
    }
    let content = choice.message.content.clone().filter(|c| !c.trim().is_empty());
    let finish = choice.finish_reason;
    if content.is_none() && matches!(finish, Some(FinishReason::ContentFilter)) {
        return Err(Error::Refused(
            "the endpoint's content filter withheld the reply".into(),
        ));
    }
    Ok((content, matches!(finish, Some(FinishReason::Length))))
}

/// The model's way of saying it cannot plan this: no components, no changes,
/// questions explaining why.
fn nothing_to_deploy(text: &str) -> Option<Vec<String>> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    if !value.get("components")?.as_array()?.is_empty()
        || value
            .get("changes")
            .and_then(|c| c.as_array())
            .is_some_and(|c| !c.is_empty())
    {
        return None;
    }
    let questions: Vec<String> = value
        .get("questions")?
        .as_array()?
        .iter()
        .filter_map(|q| q.as_str())
        .take(5)
        .map(|q| one_line(q).chars().take(300).collect())
        .collect();
    (!questions.is_empty()).then_some(questions)
}

fn problems_of(error: spec::Error) -> (Reason, Vec<String>) {
    match error {
        spec::Error::Json(e) => (Reason::Json, vec![e.to_string()]),
        spec::Error::Schema(errors) => (Reason::Schema, errors),
        spec::Error::Invalid(problems) => (
            Reason::Invalid,
            problems.iter().map(ToString::to_string).collect(),
        ),
    }
}

/// Text on one line without control characters, at most 500 characters.
pub(super) fn one_line(text: &str) -> String {
    let mut out: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .take(500)
        .collect();
    if text.chars().count() > 500 {
        out.push_str(" [...]");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    #[test]
    fn no_base_url_and_no_key_means_no_openai_planner() {
        assert!(OpenAiConfig::from_lookup(lookup(&[])).unwrap().is_none());
        let blank = [("GITINTENT_LLM_BASE_URL", " "), ("OPENAI_API_KEY", "")];
        assert!(OpenAiConfig::from_lookup(lookup(&blank)).unwrap().is_none());
    }

    #[test]
    fn a_key_alone_uses_openai_with_the_default_model() {
        let c = OpenAiConfig::from_lookup(lookup(&[("OPENAI_API_KEY", "sk-test-123456")]))
            .unwrap()
            .unwrap();
        assert_eq!(c.base_url, OpenAiConfig::DEFAULT_BASE_URL);
        assert_eq!(c.model, OpenAiConfig::DEFAULT_MODEL);
        assert_eq!(c.api_key.as_deref(), Some("sk-test-123456"));
    }

    #[test]
    fn gitintent_variables_win_over_openai_api_key() {
        let vars = [
            ("GITINTENT_LLM_BASE_URL", "http://localhost:11434/v1"),
            ("GITINTENT_LLM_MODEL", "llama3.1"),
            ("GITINTENT_LLM_API_KEY", "local-key-1"),
            ("OPENAI_API_KEY", "sk-other"),
        ];
        let c = OpenAiConfig::from_lookup(lookup(&vars)).unwrap().unwrap();
        assert_eq!(
            (c.base_url.as_str(), c.model.as_str()),
            ("http://localhost:11434/v1", "llama3.1")
        );
        assert_eq!(c.api_key.as_deref(), Some("local-key-1"));
        let local = [("GITINTENT_LLM_BASE_URL", "http://localhost:11434/v1")];
        assert_eq!(
            OpenAiConfig::from_lookup(lookup(&local))
                .unwrap()
                .unwrap()
                .api_key,
            None
        );
    }

    #[test]
    fn unusable_settings_are_config_errors_without_the_key() {
        let bad_url = [("GITINTENT_LLM_BASE_URL", "localhost:8080")];
        assert!(matches!(
            OpenAiConfig::from_lookup(lookup(&bad_url)),
            Err(Error::Config(_))
        ));
        let bad_key = OpenAiConfig {
            api_key: Some("sk-secret\nvalue".into()),
            ..OpenAiConfig::new("http://127.0.0.1:1/v1", "m")
        };
        let err = OpenAi::new(bad_key).unwrap_err().to_string();
        assert!(err.contains("API key") && !err.contains("sk-secret"), "{err}");
        let zero = OpenAiConfig {
            max_attempts: 0,
            ..OpenAiConfig::new("http://127.0.0.1:1/v1", "m")
        };
        assert!(matches!(OpenAi::new(zero), Err(Error::Config(_))));
    }

    #[test]
    fn debug_output_hides_the_key() {
        let c = OpenAiConfig {
            api_key: Some("sk-very-secret".into()),
            ..OpenAiConfig::new("http://x/v1", "m")
        };
        assert!(!format!("{c:?}").contains("sk-very-secret"));
    }

    #[test]
    fn an_empty_component_list_with_questions_means_nothing_to_deploy() {
        let reply = r#"{"components": [], "questions": ["This asks to delete the cluster."]}"#;
        assert_eq!(
            nothing_to_deploy(reply),
            Some(vec!["This asks to delete the cluster.".to_string()])
        );
        assert_eq!(nothing_to_deploy(r#"{"components": [], "questions": []}"#), None);
        assert_eq!(nothing_to_deploy("not json"), None);
    }
}
