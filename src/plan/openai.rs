//! The openai planner: any OpenAI-compatible chat-completions endpoint.
//!
//! [`OpenAi::plan`] sends the prompts from [`super::prompt`] with the spec
//! schema as a strict `json_schema` response format, parses the reply with
//! [`Spec::from_untrusted_json`], asks the [`Critic`] for error findings, and
//! sends every problem back to the model (at most `max_attempts` replies).
//! Failed calls are retried with exponential backoff and jitter on 429, 5xx,
//! connection errors and per-call timeouts, honouring `Retry-After`, and all
//! of it is bounded by one total deadline.
//!
//! async-openai's own retry layer is replaced by a plain transport (its
//! `middleware` feature), so retries never double up or outlive the deadline;
//! the transport only notes each response's status and `Retry-After`.
//!
//! It does not stream, call tools, or use anything from the reply but the
//! spec JSON. The API key is sent as a bearer token and never appears in an
//! error message.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::middleware::{HttpRequestFactory, ReqwestService};
use async_openai::types::chat::{
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestMessage, ChatCompletionRequestSystemMessage,
    ChatCompletionRequestUserMessage, CreateChatCompletionRequest, CreateChatCompletionResponse, FinishReason,
    ResponseFormat, ResponseFormatJsonSchema,
};
use async_openai::Client;
use tower::ServiceExt;

use super::prompt::{self, Reason};
use super::{Critic, Error, Planned, Usage};
use crate::intent::Intent;
use crate::spec::{self, Spec};

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
        let config = OpenAiConfig { api_key, ..OpenAiConfig::new(base_url, model) };
        config.check()?;
        Ok(Some(config))
    }

    /// Refuses settings that cannot work, before any request is made.
    fn check(&self) -> Result<(), Error> {
        let fail = |m: String| Err(Error::Config(m));
        let url = self.base_url.trim_end_matches('/');
        let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
        if rest.is_none_or(|r| r.is_empty() || r.contains(char::is_whitespace)) {
            return fail(format!("base URL {:?} must be an http:// or https:// URL", self.base_url));
        }
        if self.model.trim().is_empty() || self.model.contains(char::is_control) {
            return fail(format!("model name {:?} is not usable", self.model));
        }
        if let Some(key) = &self.api_key {
            if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
                return fail("the API key is empty or contains characters an HTTP header cannot carry".into());
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

/// The planner. Cheap to share: one HTTP connection pool, prompts rendered once.
pub struct OpenAi {
    config: OpenAiConfig,
    endpoint: OpenAIConfig,
    transport: ReqwestService,
    system: String,
    schema: serde_json::Value,
}

impl std::fmt::Debug for OpenAi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAi").field("config", &self.config).finish_non_exhaustive()
    }
}

/// The name of the response format, as the model sees it.
const SCHEMA_NAME: &str = "gitintent_spec";

impl OpenAi {
    /// Checks the settings and renders the system prompt.
    pub fn new(config: OpenAiConfig) -> Result<OpenAi, Error> {
        config.check()?;
        let endpoint = OpenAIConfig::new()
            .with_api_base(config.base_url.trim_end_matches('/'))
            .with_api_key(config.api_key.clone().unwrap_or_default());
        Ok(OpenAi {
            endpoint,
            transport: ReqwestService::default(),
            system: prompt::system()?,
            schema: spec::schema(),
            config,
        })
    }

    /// Plans one intent: calls, retries and repairs until a spec is accepted,
    /// the attempts run out, or the deadline passes.
    pub(super) async fn plan(&self, intent: &Intent, critic: &dyn Critic) -> Result<Planned, Error> {
        let deadline = Instant::now() + self.config.deadline;
        let seen = Seen::default();
        let client = self.client(&seen);
        let mut messages: Vec<ChatCompletionRequestMessage> = vec![
            ChatCompletionRequestSystemMessage::from(self.system.as_str()).into(),
            ChatCompletionRequestUserMessage::from(prompt::user(intent)?).into(),
        ];
        let mut usage = Usage::default();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let response = self.complete(&client, &seen, &self.request(&messages), deadline).await?;
            if let Some(u) = &response.usage {
                usage.input_tokens += u64::from(u.prompt_tokens);
                usage.output_tokens += u64::from(u.completion_tokens);
            }
            let last = attempts >= self.config.max_attempts;
            let (content, cut_off) = reply_content(&response)?;
            let (reason, mut problems) = match &content {
                None => {
                    let problem = "the reply had no content".to_string();
                    if last {
                        return Err(Error::RepairExhausted { attempts, last: problem });
                    }
                    (Reason::Empty, vec![problem])
                }
                Some(text) => {
                    if let Some(questions) = nothing_to_deploy(text) {
                        let reason = format!("the model found nothing it could deploy: {}", questions.join(" "));
                        return Err(Error::NotUnderstood { reason, understood: Vec::new() });
                    }
                    match Spec::from_untrusted_json(text) {
                        Ok(spec) => {
                            let errors: Vec<String> =
                                critic.review(&spec).iter().filter(|f| f.is_error()).map(ToString::to_string).collect();
                            if errors.is_empty() || last {
                                // With errors left, the caller reports them as findings.
                                let model = Some(response.model.clone())
                                    .filter(|m| !m.is_empty())
                                    .unwrap_or_else(|| self.config.model.clone());
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
                        Err(e) if last => return Err(Error::RepairExhausted { attempts, last: e.to_string() }),
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
            model: self.config.model.clone(),
            messages: messages.to_vec(),
            response_format: Some(ResponseFormat::JsonSchema {
                json_schema: ResponseFormatJsonSchema {
                    name: SCHEMA_NAME.to_string(),
                    description: Some("A gitintent deployment spec".to_string()),
                    schema: self.schema.clone(),
                    strict: Some(true),
                },
            }),
            temperature: self.config.temperature,
            ..Default::default()
        }
    }

    /// An async-openai client whose transport makes exactly one HTTP call per
    /// request (no internal retries) and notes what it saw in `seen`.
    fn client(&self, seen: &Seen) -> Client<OpenAIConfig> {
        let transport = self.transport.clone();
        let seen = seen.clone();
        let service = tower::service_fn(move |request: HttpRequestFactory| {
            let transport = transport.clone();
            let seen = seen.clone();
            async move {
                let response = transport.oneshot(request).await?;
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                seen.set(response.status().as_u16(), retry_after);
                Ok::<_, OpenAIError>(response)
            }
        });
        Client::with_config(self.endpoint.clone()).with_http_service(service)
    }

    /// One model call, retried on transient failures until `deadline`.
    async fn complete(
        &self,
        client: &Client<OpenAIConfig>,
        seen: &Seen,
        request: &CreateChatCompletionRequest,
        deadline: Instant,
    ) -> Result<CreateChatCompletionResponse, Error> {
        let mut tries: u32 = 0;
        loop {
            tries += 1;
            let limit = self.config.timeout.min(deadline.saturating_duration_since(Instant::now()));
            seen.take();
            let failure = match tokio::time::timeout(limit, client.chat().create(request.clone())).await {
                Ok(Ok(response)) => return Ok(response),
                Ok(Err(e)) => self.classify(e, seen.take()),
                Err(_) => Failure::timed_out(format!("no reply within {limit:?}")),
            };
            if !failure.retry {
                return Err(Error::Provider(failure.message));
            }
            let wait = failure.retry_after.unwrap_or_else(|| self.backoff(tries));
            if wait >= deadline.saturating_duration_since(Instant::now()) {
                let total = self.config.deadline;
                return Err(match failure.retry_after {
                    _ if failure.timed_out => Error::Timeout(total),
                    Some(wait) => Error::Provider(format!(
                        "{}; the endpoint asked to wait {wait:?}, past the {total:?} deadline",
                        failure.message
                    )),
                    None => Error::Provider(format!(
                        "{}; gave up after {tries} {} within the {total:?} deadline",
                        failure.message,
                        if tries == 1 { "try" } else { "tries" }
                    )),
                });
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Exponential backoff for the given try (1-based), with jitter in [d/2, d].
    fn backoff(&self, tries: u32) -> Duration {
        let factor = 2u32.saturating_pow(tries.saturating_sub(1));
        let full = self.config.initial_backoff.saturating_mul(factor).min(self.config.max_backoff);
        let half = full / 2;
        let random = std::hash::BuildHasher::hash_one(&std::collections::hash_map::RandomState::new(), tries);
        let span = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX).saturating_add(1);
        half + Duration::from_nanos(random % span)
    }

    /// Decides whether a failed call is worth retrying, with a message fit
    /// for the user.
    fn classify(&self, error: OpenAIError, seen: Option<Observed>) -> Failure {
        let retry_after = seen.and_then(|o| o.retry_after);
        let (retry, message) = match error {
            OpenAIError::ApiError(e) => {
                let status = e.status_code.as_u16();
                let quota = e.api_error.r#type.as_deref() == Some("insufficient_quota");
                (retryable_status(status) && !quota, e.to_string())
            }
            OpenAIError::JSONDeserialize(e, body) => match seen.map(|o| o.status) {
                Some(status) if !(200..300).contains(&status) => {
                    (retryable_status(status), format!("HTTP {status}: {}", one_line(&body)))
                }
                _ => (false, format!("the endpoint's reply is not a chat completion ({e}): {}", one_line(&body))),
            },
            OpenAIError::Reqwest(e) if e.is_timeout() => {
                return Failure::timed_out(self.redact(&error_chain(&e)));
            }
            OpenAIError::Reqwest(e) => (!e.is_builder(), format!("request to {} failed: {}", self.config.base_url, error_chain(&e))),
            other => (false, other.to_string()),
        };
        Failure { retry, timed_out: false, retry_after, message: self.redact(&message) }
    }

    /// Removes the API key from text that may echo it, and keeps it short.
    fn redact(&self, text: &str) -> String {
        let mut text = one_line(text);
        if let Some(key) = self.config.api_key.as_deref().filter(|k| k.len() >= 8) {
            text = text.replace(key, "[redacted]");
        }
        text
    }
}

/// The HTTP status and `Retry-After` of a response.
#[derive(Clone, Copy)]
struct Observed {
    status: u16,
    retry_after: Option<Duration>,
}

/// What the transport saw last, shared between it and [`OpenAi::complete`].
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Option<Observed>>>);

impl Seen {
    fn set(&self, status: u16, retry_after: Option<Duration>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(Observed { status, retry_after });
    }

    fn take(&self) -> Option<Observed> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// A failed call.
struct Failure {
    retry: bool,
    timed_out: bool,
    retry_after: Option<Duration>,
    message: String,
}

impl Failure {
    fn timed_out(message: String) -> Failure {
        Failure { retry: true, timed_out: true, retry_after: None, message }
    }
}

fn retryable_status(status: u16) -> bool {
    status == 408 || status == 429 || status >= 500
}

/// The reply's text (`None` when empty) and whether it hit the token limit.
/// A refusal or a content-filter stop is an error: repairs cannot fix it.
fn reply_content(response: &CreateChatCompletionResponse) -> Result<(Option<String>, bool), Error> {
    let Some(choice) = response.choices.first() else {
        return Err(Error::Provider("the endpoint returned no choices".into()));
    };
    if let Some(refusal) = choice.message.refusal.as_deref().filter(|r| !r.trim().is_empty()) {
        return Err(Error::Refused(format!("the model declined: {}", one_line(refusal))));
    }
    let content = choice.message.content.clone().filter(|c| !c.trim().is_empty());
    let finish = choice.finish_reason;
    if content.is_none() && matches!(finish, Some(FinishReason::ContentFilter)) {
        return Err(Error::Refused("the endpoint's content filter withheld the reply".into()));
    }
    Ok((content, matches!(finish, Some(FinishReason::Length))))
}

/// The model's way of saying it cannot plan this: no components, questions
/// explaining why.
fn nothing_to_deploy(text: &str) -> Option<Vec<String>> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    if !value.get("components")?.as_array()?.is_empty() {
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
        spec::Error::Invalid(problems) => (Reason::Invalid, problems.iter().map(ToString::to_string).collect()),
    }
}

/// Text on one line without control characters, at most 500 characters.
fn one_line(text: &str) -> String {
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

/// An error with its sources, as `outer: inner: innermost`.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
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
        let c = OpenAiConfig::from_lookup(lookup(&[("OPENAI_API_KEY", "sk-test-123456")])).unwrap().unwrap();
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
        assert_eq!((c.base_url.as_str(), c.model.as_str()), ("http://localhost:11434/v1", "llama3.1"));
        assert_eq!(c.api_key.as_deref(), Some("local-key-1"));
        let local = [("GITINTENT_LLM_BASE_URL", "http://localhost:11434/v1")];
        assert_eq!(OpenAiConfig::from_lookup(lookup(&local)).unwrap().unwrap().api_key, None);
    }

    #[test]
    fn unusable_settings_are_config_errors_without_the_key() {
        let bad_url = [("GITINTENT_LLM_BASE_URL", "localhost:8080")];
        assert!(matches!(OpenAiConfig::from_lookup(lookup(&bad_url)), Err(Error::Config(_))));
        let bad_key = OpenAiConfig {
            api_key: Some("sk-secret\nvalue".into()),
            ..OpenAiConfig::new("http://127.0.0.1:1/v1", "m")
        };
        let err = OpenAi::new(bad_key).unwrap_err().to_string();
        assert!(err.contains("API key") && !err.contains("sk-secret"), "{err}");
        let zero = OpenAiConfig { max_attempts: 0, ..OpenAiConfig::new("http://127.0.0.1:1/v1", "m") };
        assert!(matches!(OpenAi::new(zero), Err(Error::Config(_))));
    }

    #[test]
    fn debug_output_hides_the_key() {
        let c = OpenAiConfig { api_key: Some("sk-very-secret".into()), ..OpenAiConfig::new("http://x/v1", "m") };
        assert!(!format!("{c:?}").contains("sk-very-secret"));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter() {
        let config = OpenAiConfig {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(400),
            ..OpenAiConfig::new("http://127.0.0.1:1/v1", "m")
        };
        let planner = OpenAi::new(config).unwrap();
        for (tries, full) in [(1, 100), (2, 200), (3, 400), (10, 400), (u32::MAX, 400)] {
            let d = planner.backoff(tries);
            let full = Duration::from_millis(full);
            assert!(d >= full / 2 && d <= full, "try {tries}: {d:?}");
        }
    }

    #[test]
    fn an_empty_component_list_with_questions_means_nothing_to_deploy() {
        let reply = r#"{"components": [], "questions": ["This asks to delete the cluster."]}"#;
        assert_eq!(nothing_to_deploy(reply), Some(vec!["This asks to delete the cluster.".to_string()]));
        assert_eq!(nothing_to_deploy(r#"{"components": [], "questions": []}"#), None);
        assert_eq!(nothing_to_deploy("not json"), None);
    }
}
