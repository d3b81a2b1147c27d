//! A fake forge (GitHub / GitLab REST): real HTTP (axum) on `127.0.0.1:0`.
//!
//! It answers every request from a scripted queue of `(status, JSON)` replies and
//! records method, path with query, headers and body, so tests can check exactly what
//! gitintent sent. It runs on its own thread and runtime, so both in-process async
//! tests and a spawned `gitintent` binary can talk to it. When the script runs dry it
//! answers 418 naming the unexpected request. A 401 carries `WWW-Authenticate: Basic`,
//! so git clients (libgit2 over HTTP) retry with credentials.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::Value;

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) method: String,
    /// Path and query, exactly as sent (percent-encoding kept).
    pub(crate) path: String,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Value,
}

impl Recorded {
    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

/// One scripted answer: status, extra response headers, JSON body.
type Scripted = (u16, Vec<(String, String)>, Value);
/// [`Scripted`] as tests write it.
pub(crate) type WithHeaders<'a> = (u16, Vec<(&'a str, &'a str)>, Value);

#[derive(Default)]
struct Shared {
    replies: VecDeque<Scripted>,
    requests: Vec<Recorded>,
}

/// A running fake forge; stops when dropped.
pub(crate) struct FakeForge {
    pub(crate) url: String,
    shared: Arc<Mutex<Shared>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeForge {
    pub(crate) fn start(replies: Vec<(u16, Value)>) -> FakeForge {
        FakeForge::start_with_headers(replies.into_iter().map(|(s, v)| (s, vec![], v)).collect())
    }

    /// Like [`FakeForge::start`], each reply with extra headers (rate limits).
    pub(crate) fn start_with_headers(replies: Vec<WithHeaders<'_>>) -> FakeForge {
        let replies: VecDeque<Scripted> = replies
            .into_iter()
            .map(|(status, headers, body)| {
                let headers = headers
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                (status, headers, body)
            })
            .collect();
        let shared = Arc::new(Mutex::new(Shared {
            replies,
            requests: Vec::new(),
        }));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let state = shared.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                ready_tx.send(listener.local_addr().unwrap()).unwrap();
                let app = Router::new().fallback(answer).with_state(state);
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        let addr = ready_rx.recv().unwrap();
        FakeForge {
            url: format!("http://{addr}"),
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Every request received so far.
    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().unwrap().requests.clone()
    }
}

impl Drop for FakeForge {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn answer(
    State(shared): State<Arc<Mutex<Shared>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let mut shared = shared.lock().unwrap();
    shared.requests.push(Recorded {
        method: method.to_string(),
        path: path.clone(),
        headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    match shared.replies.pop_front() {
        Some((status, extra, json)) => {
            let mut response = (StatusCode::from_u16(status).unwrap(), axum::Json(json)).into_response();
            for (name, value) in extra {
                response.headers_mut().insert(
                    axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    axum::http::HeaderValue::from_str(&value).unwrap(),
                );
            }
            if status == 401 {
                // Ask for basic auth, as git hosts do.
                response.headers_mut().insert(
                    axum::http::header::WWW_AUTHENTICATE,
                    axum::http::HeaderValue::from_static("Basic realm=\"fake\""),
                );
            }
            response
        }
        None => (
            StatusCode::IM_A_TEAPOT,
            format!("fake forge: unexpected {method} {path}"),
        )
            .into_response(),
    }
}
