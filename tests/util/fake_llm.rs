//! A fake OpenAI-compatible endpoint: real HTTP (axum) on `127.0.0.1:0`.
//!
//! It serves `POST /v1/chat/completions` (and `/chat/completions`, for base
//! URLs without `/v1`), answers from a scripted queue of [`Reply`]s, and
//! records every request so tests can check what the planner sent. When the
//! script runs dry it answers a fallback: by default a non-retryable 418
//! naming the unexpected call, so a missing script entry fails fast and
//! clearly instead of hanging.
//!
//! Real providers' behaviours are replies too, with their own texts and
//! headers: servers without `json_schema` ([`Reply::llama_cpp_no_json_schema`],
//! [`Reply::openai_no_json_schema`]), fenced and `<think>` replies, truncation
//! ([`Reply::finish`]), missing usage ([`Reply::without_usage`]), a
//! streaming-only server ([`Reply::stream`]), `retry-after` variants
//! ([`Reply::with_header`]); [`FakeLlm::start_azure`] plays Azure OpenAI's
//! classic API (deployment path, `api-version`, `api-key` header).
//!
//! It is not a model: it never looks at the prompt to decide what to say.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

/// One scripted answer.
#[derive(Debug, Clone)]
pub(crate) enum Reply {
    /// Answer with a status, extra headers and a JSON body.
    Http {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
        content_type: &'static str,
    },
    /// Never answer (the handler sleeps until the test's runtime ends).
    Hang,
    /// Answer with the inner reply after a delay (a slow model).
    Delayed(Duration, Box<Reply>),
}

/// Tokens the fake reports for every completion.
pub(crate) const PROMPT_TOKENS: u64 = 100;
pub(crate) const COMPLETION_TOKENS: u64 = 50;

impl Reply {
    /// A 200 chat completion whose message content is `content`.
    pub(crate) fn completion(content: &str) -> Reply {
        Reply::message(
            json!({ "role": "assistant", "content": content, "refusal": null }),
            "stop",
        )
    }

    /// A 200 chat completion with the content set to `spec` serialised.
    pub(crate) fn spec(spec: &Value) -> Reply {
        Reply::completion(&spec.to_string())
    }

    /// A 200 chat completion in which the model refuses.
    pub(crate) fn refusal(text: &str) -> Reply {
        Reply::message(
            json!({ "role": "assistant", "content": null, "refusal": text }),
            "stop",
        )
    }

    /// An OpenAI-style error: `{"error": {"message": ..., "type": ...}}`.
    pub(crate) fn error(status: u16, message: &str) -> Reply {
        let body = json!({
            "error": { "message": message, "type": "fake_error", "param": null, "code": null }
        });
        Reply::json(status, &body)
    }

    /// A status with a JSON body, exactly as given.
    pub(crate) fn json(status: u16, body: &Value) -> Reply {
        Reply::Http {
            status,
            headers: Vec::new(),
            body: body.to_string(),
            content_type: "application/json",
        }
    }

    /// OpenAI's answer when a model has no structured outputs.
    pub(crate) fn openai_no_json_schema() -> Reply {
        Reply::json(
            400,
            &json!({ "error": {
                "message": "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model.",
                "type": "invalid_request_error", "param": "response_format", "code": null
            }}),
        )
    }

    /// OpenAI's answer to a schema with a keyword beside a `$ref`.
    pub(crate) fn openai_ref_with_sibling() -> Reply {
        Reply::json(
            400,
            &json!({ "error": {
                "message": "Invalid schema for response_format 'gitintent_spec': In context=('properties', 'archetype'), $ref cannot have keywords {'description'}.",
                "type": "invalid_request_error", "param": "response_format", "code": null
            }}),
        )
    }

    /// llama.cpp's server before `json_schema` support: a 500.
    pub(crate) fn llama_cpp_no_json_schema() -> Reply {
        Reply::json(
            500,
            &json!({ "error": {
                "code": 500,
                "message": "response_format type must be one of \"text\" or \"json_object\", but got: json_schema",
                "type": "server_error"
            }}),
        )
    }

    /// LM Studio's answer to `json_object` (a bare string error).
    pub(crate) fn lm_studio_no_json_object() -> Reply {
        Reply::json(
            400,
            &json!({ "error": "'response_format.type' must be 'json_schema' or 'text'" }),
        )
    }

    /// OpenAI's rate limit answer.
    pub(crate) fn openai_rate_limited() -> Reply {
        Reply::json(
            429,
            &json!({ "error": {
                "message": "Rate limit reached for gpt-4o-mini in organization org-fake on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.",
                "type": "requests", "param": null, "code": "rate_limit_exceeded"
            }}),
        )
    }

    /// Azure OpenAI's rate limit answer, with its `retry-after` and
    /// `retry-after-ms` headers.
    pub(crate) fn azure_rate_limited(retry_after: &str, retry_after_ms: &str) -> Reply {
        Reply::json(
            429,
            &json!({ "error": {
                "code": "429",
                "message": "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 1 second."
            }}),
        )
        .with_header("retry-after", retry_after)
        .with_header("retry-after-ms", retry_after_ms)
    }

    /// A streaming-only server: the completion as server-sent events.
    pub(crate) fn stream(content: &str) -> Reply {
        let chunk = json!({
            "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1_790_000_000,
            "model": "fake-model-snapshot",
            "choices": [{ "index": 0, "delta": { "role": "assistant", "content": content }, "finish_reason": null }]
        });
        Reply::Http {
            status: 200,
            headers: Vec::new(),
            body: format!("data: {chunk}\n\ndata: [DONE]\n\n"),
            content_type: "text/event-stream",
        }
    }

    /// The same completion with another `finish_reason` (`length`, `eos`, ...).
    pub(crate) fn finish(self, reason: &str) -> Reply {
        self.map_body(|b| b["choices"][0]["finish_reason"] = json!(reason))
    }

    /// The same completion without `usage`.
    pub(crate) fn without_usage(self) -> Reply {
        self.map_body(|b| {
            b.as_object_mut().map(|o| o.remove("usage"));
        })
    }

    /// The same completion with `usage` and `created` as a local server may
    /// send them: no `completion_tokens`, a decimal timestamp.
    pub(crate) fn loose_fields(self) -> Reply {
        self.map_body(|b| {
            b["usage"] = json!({ "prompt_tokens": PROMPT_TOKENS });
            b["created"] = json!(1_790_000_000.5);
            b["choices"][0]["message"]
                .as_object_mut()
                .map(|m| m.remove("refusal"));
        })
    }

    fn map_body(self, change: impl FnOnce(&mut Value)) -> Reply {
        match self {
            Reply::Http {
                status,
                headers,
                body,
                content_type,
            } => {
                let mut value: Value = serde_json::from_str(&body).expect("a JSON reply");
                change(&mut value);
                Reply::Http {
                    status,
                    headers,
                    body: value.to_string(),
                    content_type,
                }
            }
            other => other,
        }
    }

    /// The same reply with one more response header.
    pub(crate) fn with_header(self, name: &'static str, value: &str) -> Reply {
        match self {
            Reply::Http {
                status,
                mut headers,
                body,
                content_type,
            } => {
                headers.push((name, value.to_string()));
                Reply::Http {
                    status,
                    headers,
                    body,
                    content_type,
                }
            }
            Reply::Hang => Reply::Hang,
            Reply::Delayed(d, inner) => Reply::Delayed(d, Box::new(inner.with_header(name, value))),
        }
    }

    /// The same reply, sent after `delay`.
    pub(crate) fn after(self, delay: Duration) -> Reply {
        Reply::Delayed(delay, Box::new(self))
    }

    fn message(message: Value, finish_reason: &str) -> Reply {
        let body = json!({
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 1_790_000_000,
            "model": "fake-model-snapshot",
            "choices": [{ "index": 0, "message": message, "finish_reason": finish_reason, "logprobs": null }],
            "usage": {
                "prompt_tokens": PROMPT_TOKENS,
                "completion_tokens": COMPLETION_TOKENS,
                "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS
            }
        });
        Reply::json(200, &body)
    }
}

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) path: String,
    /// The query string, if any (`api-version=…`).
    pub(crate) query: Option<String>,
    pub(crate) authorization: Option<String>,
    /// The `api-key` header (Azure).
    pub(crate) api_key: Option<String>,
    /// The JSON body, or `{"unparseable": ...}` when it was not JSON.
    pub(crate) body: Value,
}

impl Recorded {
    /// The request's messages as (role, content) pairs.
    pub(crate) fn messages(&self) -> Vec<(String, String)> {
        self.body["messages"]
            .as_array()
            .expect("messages is an array")
            .iter()
            .map(|m| {
                let role = m["role"].as_str().unwrap_or_default().to_string();
                (role, m["content"].as_str().unwrap_or_default().to_string())
            })
            .collect()
    }
}

struct Shared {
    script: Mutex<VecDeque<Reply>>,
    fallback: Option<Reply>,
    requests: Mutex<Vec<Recorded>>,
    azure: Option<Azure>,
}

/// What Azure OpenAI's classic API requires of a request.
#[derive(Clone)]
pub(crate) struct Azure {
    pub(crate) deployment: &'static str,
    pub(crate) api_version: &'static str,
    pub(crate) api_key: &'static str,
}

impl Azure {
    /// Azure's own answer to a request it would refuse, if this one is.
    fn refuse(&self, deployment: &str, query: Option<&str>, api_key: Option<&str>) -> Option<Reply> {
        let error = |status, code: &str, message: &str| {
            Reply::json(status, &json!({ "error": { "code": code, "message": message } }))
        };
        let version = format!("api-version={}", self.api_version);
        if !query.is_some_and(|q| q.split('&').any(|p| p == version)) {
            return Some(error(404, "404", "Resource not found"));
        }
        if api_key != Some(self.api_key) {
            return Some(error(401, "401", "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."));
        }
        if deployment != self.deployment {
            return Some(error(404, "DeploymentNotFound", "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again."));
        }
        None
    }
}

/// A running fake endpoint; stops when dropped.
pub(crate) struct FakeLlm {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl FakeLlm {
    /// Serves `script` in order, then a 418 for any further call.
    pub(crate) async fn start(script: impl IntoIterator<Item = Reply>) -> FakeLlm {
        FakeLlm::serve(script, None).await
    }

    /// Serves `script` in order, then `fallback` for every further call.
    pub(crate) async fn start_with_fallback(
        script: impl IntoIterator<Item = Reply>,
        fallback: Reply,
    ) -> FakeLlm {
        FakeLlm::serve(script, Some(fallback)).await
    }

    /// Plays Azure OpenAI's classic API: serves
    /// `/openai/deployments/{deployment}/chat/completions` and answers as
    /// Azure does without the `api-version` or the `api-key`, or for another
    /// deployment; base URL: [`FakeLlm::root_url`].
    pub(crate) async fn start_azure(azure: Azure, script: impl IntoIterator<Item = Reply>) -> FakeLlm {
        FakeLlm::serve_as(script, None, Some(azure)).await
    }

    async fn serve(script: impl IntoIterator<Item = Reply>, fallback: Option<Reply>) -> FakeLlm {
        FakeLlm::serve_as(script, fallback, None).await
    }

    async fn serve_as(
        script: impl IntoIterator<Item = Reply>,
        fallback: Option<Reply>,
        azure: Option<Azure>,
    ) -> FakeLlm {
        let shared = Arc::new(Shared {
            script: Mutex::new(script.into_iter().collect()),
            fallback,
            requests: Mutex::new(Vec::new()),
            azure,
        });
        let app = Router::new()
            .route("/v1/chat/completions", post(chat))
            .route("/chat/completions", post(chat))
            .route("/openai/v1/chat/completions", post(chat))
            .route("/openai/deployments/{deployment}/chat/completions", post(chat))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("bound address");
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fake LLM server runs");
        });
        FakeLlm { addr, shared, server }
    }

    /// The base URL to configure, ending in `/v1`.
    pub(crate) fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The server's root URL, as an Azure resource's `https://NAME.openai.azure.com`.
    pub(crate) fn root_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far, in order.
    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// How many requests were received.
    pub(crate) fn request_count(&self) -> usize {
        self.shared.requests.lock().unwrap().len()
    }
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn chat(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let body = serde_json::from_slice(&body).unwrap_or_else(|e| json!({ "unparseable": e.to_string() }));
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let recorded = Recorded {
        path: uri.path().to_string(),
        query: uri.query().map(str::to_string),
        authorization: get(header::AUTHORIZATION.as_str()),
        api_key: get("api-key"),
        body,
    };
    let refused = shared.azure.as_ref().and_then(|azure| {
        let deployment = recorded
            .path
            .strip_prefix("/openai/deployments/")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_default();
        azure.refuse(deployment, recorded.query.as_deref(), recorded.api_key.as_deref())
    });
    let number = {
        let mut requests = shared.requests.lock().unwrap();
        requests.push(recorded);
        requests.len()
    };
    let next = match refused {
        Some(reply) => Some(reply),
        None => shared.script.lock().unwrap().pop_front(),
    };
    let reply = next
        .or_else(|| shared.fallback.clone())
        .unwrap_or_else(|| Reply::error(418, &format!("fake LLM: request #{number} was not scripted")));
    let reply = match reply {
        Reply::Delayed(delay, inner) => {
            tokio::time::sleep(delay).await;
            *inner
        }
        other => other,
    };
    match reply {
        Reply::Delayed(..) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        Reply::Http {
            status,
            headers,
            body,
            content_type,
        } => {
            let status = StatusCode::from_u16(status).expect("a valid status");
            let mut response = (status, [(header::CONTENT_TYPE, content_type)], body).into_response();
            for (name, value) in headers {
                let value = HeaderValue::from_str(&value).expect("a valid header value");
                response
                    .headers_mut()
                    .insert(HeaderName::from_static(name), value);
            }
            response
        }
    }
}
