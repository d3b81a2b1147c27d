//! The HTTP side of the openai planner: one model call, retried until a deadline.
//!
//! [`Transport`] holds the endpoint settings and a connection pool; each plan
//! opens a [`Session`], whose [`Session::complete`] makes one chat-completions
//! call and retries it with exponential backoff and jitter on 429, 408, 5xx,
//! connection errors and per-call timeouts, honouring `Retry-After`, and
//! never past the plan's deadline. 401, 400 and other answers fail at once.
//!
//! async-openai's own retry layer is replaced (its `middleware` feature) by a
//! plain transport that makes exactly one HTTP call per request and notes the
//! response's status and `Retry-After`, so retries never double up. This
//! module does not look at what the model said; the planner does.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::middleware::{HttpRequestFactory, ReqwestService};
use async_openai::types::chat::{CreateChatCompletionRequest, CreateChatCompletionResponse};
use async_openai::Client;
use tower::ServiceExt;

use super::{one_line, OpenAiConfig};
use crate::plan::Error;

/// Endpoint settings and a connection pool, shared by every plan.
pub(super) struct Transport {
    config: OpenAiConfig,
    endpoint: OpenAIConfig,
    http: ReqwestService,
}

impl Transport {
    /// `config` must already be checked.
    pub(super) fn new(config: &OpenAiConfig) -> Transport {
        let endpoint = OpenAIConfig::new()
            .with_api_base(config.base_url.trim_end_matches('/'))
            .with_api_key(config.api_key.clone().unwrap_or_default());
        Transport {
            config: config.clone(),
            endpoint,
            http: ReqwestService::default(),
        }
    }

    /// A client for one plan, whose HTTP calls report to this session only.
    pub(super) fn session(&self) -> Session<'_> {
        let seen = Seen::default();
        let http = self.http.clone();
        let observed = seen.clone();
        let service = tower::service_fn(move |request: HttpRequestFactory| {
            let http = http.clone();
            let observed = observed.clone();
            async move {
                let response = http.oneshot(request).await?;
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                observed.set(response.status().as_u16(), retry_after);
                Ok::<_, OpenAIError>(response)
            }
        });
        let client = Client::with_config(self.endpoint.clone()).with_http_service(service);
        Session {
            transport: self,
            client,
            seen,
        }
    }

    /// Exponential backoff for the given try (1-based), with jitter in [d/2, d].
    fn backoff(&self, tries: u32) -> Duration {
        let factor = 2u32.saturating_pow(tries.saturating_sub(1));
        let full = self
            .config
            .initial_backoff
            .saturating_mul(factor)
            .min(self.config.max_backoff);
        let half = full / 2;
        let random = std::hash::BuildHasher::hash_one(&std::collections::hash_map::RandomState::new(), tries);
        let span = u64::try_from(half.as_nanos())
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        half + Duration::from_nanos(random % span)
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

/// The calls of one plan.
pub(super) struct Session<'a> {
    transport: &'a Transport,
    client: Client<OpenAIConfig>,
    seen: Seen,
}

impl Session<'_> {
    /// One model call, retried on transient failures until `deadline`.
    pub(super) async fn complete(
        &self,
        request: &CreateChatCompletionRequest,
        deadline: Instant,
    ) -> Result<CreateChatCompletionResponse, Error> {
        let config = &self.transport.config;
        let mut tries: u32 = 0;
        // The last failure with an answer (a status, a refused connection),
        // reported instead of a call the deadline cut short.
        let mut answered: Option<Failure> = None;
        loop {
            tries += 1;
            let limit = config
                .timeout
                .min(deadline.saturating_duration_since(Instant::now()));
            self.seen.take();
            let chat = self.client.chat();
            let failure = match tokio::time::timeout(limit, chat.create(request.clone())).await {
                Ok(Ok(response)) => return Ok(response),
                Ok(Err(e)) => self.classify(e),
                Err(_) => Failure::timed_out(format!("no reply within {limit:?}")),
            };
            if !failure.retry {
                return Err(Error::Provider(failure.message));
            }
            let wait = failure
                .retry_after
                .unwrap_or_else(|| self.transport.backoff(tries));
            if wait >= deadline.saturating_duration_since(Instant::now()) {
                let cut_short = failure.timed_out && limit < config.timeout;
                let failure = match answered {
                    Some(earlier) if cut_short => earlier,
                    _ => failure,
                };
                return Err(give_up(failure, tries, config.deadline));
            }
            if !failure.timed_out {
                answered = Some(failure);
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Decides whether a failed call is worth retrying, with a message fit
    /// for the user.
    fn classify(&self, error: OpenAIError) -> Failure {
        let seen = self.seen.take();
        let retry_after = seen.and_then(|o| o.retry_after);
        let (retry, message) = match error {
            OpenAIError::ApiError(e) => {
                let status = e.status_code.as_u16();
                let quota = e.api_error.r#type.as_deref() == Some("insufficient_quota");
                // async-openai keeps a 5xx body as raw text; show its message.
                let detail = serde_json::from_str::<serde_json::Value>(&e.api_error.message)
                    .ok()
                    .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
                    .unwrap_or_else(|| e.api_error.to_string());
                (
                    retryable_status(status) && !quota,
                    format!("{}: {detail}", e.status_code),
                )
            }
            OpenAIError::JSONDeserialize(e, body) => match seen.map(|o| o.status) {
                Some(status) if !(200..300).contains(&status) => {
                    (retryable_status(status), format!("HTTP {status}: {body}"))
                }
                _ => (
                    false,
                    format!("the endpoint's reply is not a chat completion ({e}): {body}"),
                ),
            },
            OpenAIError::Reqwest(e) if e.is_timeout() => {
                return Failure::timed_out(self.transport.redact(&error_chain(&e)));
            }
            OpenAIError::Reqwest(e) => (
                !e.is_builder(),
                format!("cannot reach the endpoint: {}", error_chain(&e)),
            ),
            other => (false, other.to_string()),
        };
        let message = self.transport.redact(&message);
        Failure {
            retry,
            timed_out: false,
            retry_after,
            message,
        }
    }
}

/// The error for a retryable failure that the deadline leaves no time for.
fn give_up(failure: Failure, tries: u32, total: Duration) -> Error {
    match failure.retry_after {
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
    }
}

fn retryable_status(status: u16) -> bool {
    status == 408 || status == 429 || status >= 500
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
        Failure {
            retry: true,
            timed_out: true,
            retry_after: None,
            message,
        }
    }
}

/// The HTTP status and `Retry-After` of a response.
#[derive(Clone, Copy)]
struct Observed {
    status: u16,
    retry_after: Option<Duration>,
}

/// What the transport saw last, shared between it and its [`Session`].
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

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter() {
        let config = OpenAiConfig {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(400),
            ..OpenAiConfig::new("http://127.0.0.1:1/v1", "m")
        };
        let transport = Transport::new(&config);
        for (tries, full) in [(1, 100), (2, 200), (3, 400), (10, 400), (u32::MAX, 400)] {
            let d = transport.backoff(tries);
            let full = Duration::from_millis(full);
            assert!(d >= full / 2 && d <= full, "try {tries}: {d:?}");
        }
    }

    #[test]
    fn only_transient_statuses_are_retried() {
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(retryable_status(status), "{status}");
        }
        for status in [400, 401, 403, 404, 409, 422] {
            assert!(!retryable_status(status), "{status}");
        }
    }

    #[test]
    fn the_key_is_redacted_from_messages() {
        let config = OpenAiConfig {
            api_key: Some("sk-abcdefgh12345".into()),
            ..OpenAiConfig::new("http://127.0.0.1:1/v1", "m")
        };
        let text = Transport::new(&config).redact("Incorrect API key provided: sk-abcdefgh12345.\n");
        assert_eq!(text, "Incorrect API key provided: [redacted].");
    }
}
