//! The loopback OpenAI-protocol server that records, replays or caches.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

use super::store::{key, Exchange, Store};
use super::Error;

/// What the cassette does with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Forward every request to `upstream` (a base URL such as
    /// `https://api.openai.com/v1`) and store each 200 answer.
    Record { upstream: String },
    /// Answer only from stored exchanges; a miss is a 404 naming the key.
    Replay,
    /// Answer from stored exchanges, else forward to `upstream` and store.
    Cache { upstream: String },
}

/// Counters of what a cassette did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests answered from a stored exchange.
    pub hits: u64,
    /// Requests with no stored exchange (forwarded, or refused in replay).
    pub misses: u64,
    /// Exchanges written.
    pub stored: u64,
}

struct Shared {
    store: Store,
    mode: Mode,
    prompt_version: String,
    http: reqwest::Client,
    hits: AtomicU64,
    misses: AtomicU64,
    stored: AtomicU64,
}

/// A running loopback server; stops when dropped.
pub struct Cassette {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Cassette {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cassette")
            .field("addr", &self.addr)
            .field("mode", &self.shared.mode)
            .field("dir", &self.shared.store.dir())
            .finish()
    }
}

impl Cassette {
    /// Binds `127.0.0.1:0` and serves `dir` in `mode`. Record and cache
    /// create `dir`; replay needs it to exist. Must run inside a tokio runtime.
    ///
    /// `prompt_version` is part of every key: pass [`crate::plan::prompt_version`].
    pub async fn start(dir: &std::path::Path, mode: Mode, prompt_version: &str) -> Result<Cassette, Error> {
        if let Mode::Record { upstream } | Mode::Cache { upstream } = &mode {
            let rest = upstream
                .strip_prefix("http://")
                .or_else(|| upstream.strip_prefix("https://"));
            if rest.is_none_or(|r| r.is_empty() || r.contains(char::is_whitespace)) {
                return Err(Error::Upstream(upstream.clone()));
            }
        }
        let store = Store::open(dir, mode != Mode::Replay)?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(600))
            .build()
            .map_err(|e| Error::Bind(std::io::Error::other(e)))?;
        let shared = Arc::new(Shared {
            store,
            mode,
            prompt_version: prompt_version.to_string(),
            http,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            stored: AtomicU64::new(0),
        });
        let app = Router::new()
            .route("/v1/chat/completions", post(chat))
            .route("/chat/completions", post(chat))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(Error::Bind)?;
        let addr = listener.local_addr().map_err(Error::Bind)?;
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!("cassette server stopped: {e}");
            }
        });
        Ok(Cassette { addr, shared, task })
    }

    /// The base URL to give the openai planner, ending in `/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn stats(&self) -> Stats {
        Stats {
            hits: self.shared.hits.load(Ordering::Relaxed),
            misses: self.shared.misses.load(Ordering::Relaxed),
            stored: self.shared.stored.load(Ordering::Relaxed),
        }
    }
}

impl Drop for Cassette {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An OpenAI-shaped error answer.
fn error(status: StatusCode, kind: &str, message: String) -> Response {
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": null}});
    (status, axum::Json(body)).into_response()
}

async fn chat(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "the request body is not a JSON object".into(),
            )
        }
    };
    let model = request["model"].as_str().unwrap_or_default();
    let key = key(model, &shared.prompt_version, &request["messages"]);
    let stored = match shared.mode {
        // Recording always asks the endpoint, replacing an older recording.
        Mode::Record { .. } => Ok(None),
        _ => shared.store.get(&key),
    };
    match stored {
        Ok(Some(exchange)) => {
            shared.hits.fetch_add(1, Ordering::Relaxed);
            return (StatusCode::OK, axum::Json(exchange.response)).into_response();
        }
        Ok(None) => {}
        Err(e) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "cassette_error",
                error_chain(&e),
            )
        }
    }
    shared.misses.fetch_add(1, Ordering::Relaxed);
    let upstream = match &shared.mode {
        Mode::Record { upstream } | Mode::Cache { upstream } => upstream,
        Mode::Replay => {
            return error(
                StatusCode::NOT_FOUND,
                "replay_miss",
                format!(
                    "replay miss: no recording for key {key} (model {model:?}, prompt version {}) in {}; \
                     record it with --record",
                    shared.prompt_version,
                    shared.store.dir().display()
                ),
            )
        }
    };
    forward(&shared, upstream, &headers, body, request).await
}

/// Sends the request upstream unchanged and stores a 200 JSON answer.
async fn forward(
    shared: &Shared,
    upstream: &str,
    headers: &HeaderMap,
    body: Bytes,
    request: Value,
) -> Response {
    let url = format!("{}/chat/completions", upstream.trim_end_matches('/'));
    let mut call = shared
        .http
        .post(&url)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body);
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        call = call.header(header::AUTHORIZATION, auth.clone());
    }
    let answer = match call.send().await {
        Ok(a) => a,
        Err(e) => {
            // A 502 is retried by the planner, as a refused connection would be.
            return error(
                StatusCode::BAD_GATEWAY,
                "upstream_unreachable",
                format!("cannot reach {url}: {}", error_chain(&e)),
            );
        }
    };
    let status = answer.status();
    let retry_after = answer.headers().get("retry-after").cloned();
    let bytes = match answer.bytes().await {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::BAD_GATEWAY,
                "upstream_unreachable",
                format!("reading the answer from {url}: {}", error_chain(&e)),
            )
        }
    };
    if status == reqwest::StatusCode::OK {
        if let Ok(response) = serde_json::from_slice::<Value>(&bytes) {
            let exchange = Exchange::new(&shared.prompt_version, request, response);
            match shared.store.put(&exchange) {
                Ok(_) => {
                    shared.stored.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => tracing::warn!("{}", error_chain(&e)),
            }
        }
    }
    let status = StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut response = (status, bytes).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(value) = retry_after.and_then(|v| HeaderValue::from_bytes(v.as_bytes()).ok()) {
        response.headers_mut().insert("retry-after", value);
    }
    response
}

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
