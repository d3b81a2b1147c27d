//! A fake OpenAI-compatible endpoint: real HTTP (axum) on `127.0.0.1:0`.
//!
//! It serves `POST /v1/chat/completions` (and `/chat/completions`, for base
//! URLs without `/v1`), answers from a scripted queue of [`Reply`]s, and
//! records every request so tests can check what the planner sent. When the
//! script runs dry it answers a fallback: by default a non-retryable 418
//! naming the unexpected call, so a missing script entry fails fast and
//! clearly instead of hanging.
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
        Reply::Http {
            status,
            headers: Vec::new(),
            body: body.to_string(),
        }
    }

    /// The same reply with one more response header.
    pub(crate) fn with_header(self, name: &'static str, value: &str) -> Reply {
        match self {
            Reply::Http {
                status,
                mut headers,
                body,
            } => {
                headers.push((name, value.to_string()));
                Reply::Http {
                    status,
                    headers,
                    body,
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
        Reply::Http {
            status: 200,
            headers: Vec::new(),
            body: body.to_string(),
        }
    }
}

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) path: String,
    pub(crate) authorization: Option<String>,
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

    async fn serve(script: impl IntoIterator<Item = Reply>, fallback: Option<Reply>) -> FakeLlm {
        let shared = Arc::new(Shared {
            script: Mutex::new(script.into_iter().collect()),
            fallback,
            requests: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/v1/chat/completions", post(chat))
            .route("/chat/completions", post(chat))
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
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let number = {
        let mut requests = shared.requests.lock().unwrap();
        requests.push(Recorded {
            path: uri.path().to_string(),
            authorization,
            body,
        });
        requests.len()
    };
    let next = shared.script.lock().unwrap().pop_front();
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
        } => {
            let status = StatusCode::from_u16(status).expect("a valid status");
            let mut response = (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
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
