//! The HTTP side of the openai planner: one model call, retried until a deadline.
//!
//! [`Transport::complete`] POSTs one chat-completions request with reqwest and
//! retries it on 429, 408, 5xx, connection errors and per-call timeouts, at
//! most `max_retries` times, with exponential backoff and jitter, honouring
//! `retry-after-ms`, then a decimal `retry-after`, then an HTTP-date
//! `retry-after` (the most precise the endpoint sent), and never past the
//! plan's deadline. 401, 400 and other answers fail at once, with a message
//! saying which setting to change when the endpoint refused the response
//! format or answered with a stream.
//!
//! Authentication is a bearer token, an `api-key` header on Azure's classic
//! API (a URL with `/openai/deployments/`), or no header at all without a key. This module does not look at what
//! the model said; the planner does.

use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE};
use serde_json::Value;

use super::config::{OpenAiConfig, ResponseFormat};
use super::one_line;
use super::wire::Completion;
use crate::plan::Error;

/// Endpoint settings and a connection pool, shared by every plan.
pub(super) struct Transport {
    config: OpenAiConfig,
    url: reqwest::Url,
    /// Azure's classic API (a deployment URL): the key goes in `api-key`.
    azure_classic: bool,
    http: reqwest::Client,
}

impl Transport {
    /// `config` must already be checked.
    pub(super) fn new(config: &OpenAiConfig) -> Result<Transport, Error> {
        let url = config.endpoint().map_err(Error::Config)?;
        let http = reqwest::Client::builder()
            .build()
            .map_err(|e| Error::Config(format!("cannot set up the HTTP client: {}", error_chain(&e))))?;
        Ok(Transport {
            config: config.clone(),
            azure_classic: url.path().contains("/openai/deployments/"),
            url,
            http,
        })
    }

    /// One model call, retried on transient failures until `deadline`.
    pub(super) async fn complete(&self, body: &Value, deadline: Instant) -> Result<Completion, Error> {
        let config = &self.config;
        let mut tries: u32 = 0;
        // The last failure with an answer (a status, a refused connection),
        // reported instead of a call the deadline cut short.
        let mut answered: Option<Failure> = None;
        loop {
            tries += 1;
            let limit = config
                .timeout
                .min(deadline.saturating_duration_since(Instant::now()));
            let failure = match tokio::time::timeout(limit, self.call(body)).await {
                Ok(Ok(completion)) => return Ok(completion),
                Ok(Err(failure)) => failure,
                Err(_) => Failure::timed_out(format!("no reply within {limit:?}")),
            };
            if !failure.retry {
                return Err(Error::Provider(failure.message));
            }
            let cut_short = failure.timed_out && limit < config.timeout;
            if tries > config.max_retries && !cut_short {
                return Err(Error::Provider(format!(
                    "{}; gave up after {tries} {} ({} {} allowed)",
                    failure.message,
                    plural(tries, "try", "tries"),
                    config.max_retries,
                    plural(config.max_retries, "retry", "retries"),
                )));
            }
            let wait = failure.retry_after.unwrap_or_else(|| self.backoff(tries));
            if cut_short || wait >= deadline.saturating_duration_since(Instant::now()) {
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

    /// Exactly one HTTP request.
    async fn call(&self, body: &Value) -> Result<Completion, Failure> {
        let mut request = self.http.post(self.url.clone()).json(body);
        if let Some(key) = &self.config.api_key {
            request = match self.azure_classic {
                true => request.header("api-key", key),
                false => request.header(AUTHORIZATION, format!("Bearer {key}")),
            };
        }
        let response = request.send().await.map_err(|e| self.unreachable(&e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(|e| self.unreachable(&e))?;
        let text = String::from_utf8_lossy(&bytes);
        if !(200..300).contains(&status) {
            return Err(self.refused(status, &headers, &text));
        }
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if content_type.starts_with("text/event-stream") || text.trim_start().starts_with("data:") {
            return Err(Failure::fatal(
                "the endpoint answered with a stream (text/event-stream) although the request said \
                 \"stream\": false; streaming replies are not supported: use an endpoint or server \
                 setting that returns one JSON chat completion"
                    .into(),
            ));
        }
        let not_completion = |e: &dyn std::fmt::Display| {
            Failure::fatal(self.redact(&format!(
                "the endpoint's reply is not a chat completion ({e}): {text}"
            )))
        };
        let value: Value = serde_json::from_str(&text).map_err(|e| not_completion(&e))?;
        if value.get("choices").is_none() && value.get("error").is_some() {
            let detail = error_detail(&text);
            return Err(Failure::fatal(self.redact(&format!("HTTP {status}: {detail}"))));
        }
        serde_json::from_value(value).map_err(|e| not_completion(&e))
    }

    /// A failure without an HTTP answer.
    fn unreachable(&self, e: &reqwest::Error) -> Failure {
        if e.is_timeout() {
            return Failure::timed_out(self.redact(&error_chain(e)));
        }
        let mut f = Failure::fatal(self.redact(&format!("cannot reach the endpoint: {}", error_chain(e))));
        f.retry = !e.is_builder();
        f
    }

    /// A non-2xx answer: retryable or not, with the endpoint's own message.
    fn refused(&self, status: u16, headers: &HeaderMap, text: &str) -> Failure {
        let detail = error_detail(text);
        let reason = reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("");
        let mut message = self.redact(&format!("{status} {reason}: {detail}"));
        let lower = detail.to_ascii_lowercase();
        let format_refused = (400..=500).contains(&status) && lower.contains("response_format");
        if format_refused {
            message.push_str(&self.format_advice(&lower));
        }
        let quota = lower.contains("insufficient_quota") || lower.contains("exceeded your current quota");
        Failure {
            retry: retryable_status(status) && !quota && !format_refused,
            timed_out: false,
            retry_after: retry_after(headers, SystemTime::now()),
            message,
        }
    }

    /// What to configure when the endpoint refuses the response format.
    fn format_advice(&self, detail: &str) -> String {
        let now = self.config.response_format.as_str();
        let next = match self.config.response_format {
            _ if detail.contains("invalid schema") => {
                return " (the endpoint refused gitintent's spec schema: please report this; \
                        response-format = \"json_object\" in [provider] or \
                        GITINTENT_LLM_RESPONSE_FORMAT=json_object works around it)"
                    .to_string();
            }
            ResponseFormat::JsonSchema => "\"json_object\" (or \"none\" if it refuses that too)",
            ResponseFormat::JsonObject => "\"none\"",
            ResponseFormat::None => return String::new(),
        };
        format!(
            " (the endpoint does not accept response_format \"{now}\": set response-format = {next} \
             in [provider], or GITINTENT_LLM_RESPONSE_FORMAT)"
        )
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

/// How long the endpoint asked to wait: `retry-after-ms`, else
/// `retry-after` in (decimal) seconds, else `retry-after` as an HTTP date.
fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let number = |v: &str| v.parse::<f64>().ok().filter(|n| n.is_finite() && *n >= 0.0);
    if let Some(ms) = header("retry-after-ms").and_then(number) {
        return Duration::try_from_secs_f64(ms / 1000.0).ok();
    }
    let value = header("retry-after")?;
    if let Some(secs) = number(value) {
        return Duration::try_from_secs_f64(secs).ok();
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The message in an error body: OpenAI's `{"error": {"message"}}`,
/// `{"error": "text"}`, vLLM's top-level `message`, FastAPI's `detail`, or
/// the body itself. An OpenAI error `type`/`code` is appended in brackets.
fn error_detail(text: &str) -> String {
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return text.to_string();
    };
    let error = &value["error"];
    let message = error["message"]
        .as_str()
        .or_else(|| error.as_str())
        .or_else(|| value["message"].as_str())
        .or_else(|| value["detail"].as_str())
        .map(str::to_string)
        .unwrap_or_else(|| text.to_string());
    let kind = error["code"]
        .as_str()
        .or_else(|| error["type"].as_str())
        .filter(|k| !message.contains(k));
    match kind {
        Some(kind) => format!("{message} [{kind}]"),
        None => message,
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
            plural(tries, "try", "tries")
        )),
    }
}

fn plural(n: u32, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
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

    fn fatal(message: String) -> Failure {
        Failure {
            retry: false,
            timed_out: false,
            retry_after: None,
            message,
        }
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

    fn transport(config: OpenAiConfig) -> Transport {
        Transport::new(&config).unwrap()
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter() {
        let t = transport(OpenAiConfig {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(400),
            ..OpenAiConfig::new("http://127.0.0.1:1/v1", "m")
        });
        for (tries, full) in [(1, 100), (2, 200), (3, 400), (10, 400), (u32::MAX, 400)] {
            let d = t.backoff(tries);
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
    fn the_most_precise_retry_after_wins() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000);
        let headers = |pairs: &[(&'static str, &str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, v.parse().unwrap());
            }
            h
        };
        let date = httpdate::fmt_http_date(now + Duration::from_secs(7));
        type Headers<'a> = &'a [(&'static str, &'a str)];
        let cases: [(Headers, Option<Duration>); 7] = [
            (
                &[("retry-after-ms", "1500"), ("retry-after", "2")],
                Some(Duration::from_millis(1500)),
            ),
            (&[("retry-after", "0.25")], Some(Duration::from_millis(250))),
            (&[("retry-after", "3")], Some(Duration::from_secs(3))),
            (&[("retry-after", date.as_str())], Some(Duration::from_secs(7))),
            (
                &[("retry-after", "Thu, 01 Jan 1970 00:00:00 GMT")],
                Some(Duration::ZERO),
            ),
            (&[("retry-after", "soon"), ("retry-after-ms", "-5")], None),
            (&[], None),
        ];
        for (pairs, want) in cases {
            assert_eq!(retry_after(&headers(pairs), now), want, "{pairs:?}");
        }
    }

    #[test]
    fn error_bodies_of_every_provider_give_their_message() {
        let openai = r#"{"error": {"message": "Rate limit reached", "type": "requests", "param": null, "code": "rate_limit_exceeded"}}"#;
        assert_eq!(error_detail(openai), "Rate limit reached [rate_limit_exceeded]");
        let vllm = r#"{"object": "error", "message": "bad request", "type": "BadRequestError", "param": null, "code": 400}"#;
        assert_eq!(error_detail(vllm), "bad request");
        assert_eq!(error_detail(r#"{"error": "model not found"}"#), "model not found");
        assert_eq!(error_detail(r#"{"detail": "Not Found"}"#), "Not Found");
        assert_eq!(error_detail("<html>502</html>"), "<html>502</html>");
    }

    #[test]
    fn the_key_is_redacted_from_messages() {
        let t = transport(OpenAiConfig {
            api_key: Some("sk-abcdefgh12345".into()),
            ..OpenAiConfig::new("http://127.0.0.1:1/v1", "m")
        });
        let text = t.redact("Incorrect API key provided: sk-abcdefgh12345.\n");
        assert_eq!(text, "Incorrect API key provided: [redacted].");
    }
}
