//! The router and the server: routes, limits, metrics, shutdown.
//!
//! [`Server::bind`] opens the store (recovering plans a previous process
//! left unfinished), builds the planner and repositories, and binds the
//! listener; [`Server::run`] serves until the shutdown future resolves, then
//! drains in-flight requests and background plans. Every route is listed in
//! [`route_table`], which the OpenAPI sync test compares with the document.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use serde_json::json;

use super::auth::Auth;
use super::config::Config;
use super::error::{chain, ApiError};
use super::metrics::Metrics;
use super::repos::Repositories;
use super::state::{Admission, AppState, Inner, Tracker};
use super::store::{self, Lease, PostgresOptions, Store};
use super::{api, drift, openapi, proposal};
use crate::plan::OpenAi;

/// Start-up faults.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] super::config::Error),
    #[error("cannot open the store ({target})")]
    Store {
        /// The store, without a password.
        target: String,
        #[source]
        source: super::store::Error,
    },
    #[error("model provider: {0}")]
    Provider(#[from] crate::plan::Error),
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("server")]
    Serve(#[source] std::io::Error),
}

/// Every route: path template, method and handler.
fn routes() -> Vec<(&'static str, &'static str, MethodRouter<AppState>)> {
    vec![
        ("/healthz", "get", get(healthz)),
        ("/readyz", "get", get(readyz)),
        ("/metrics", "get", get(metrics)),
        ("/openapi.json", "get", get(openapi_json)),
        ("/v1/plans", "post", post(api::create_plan)),
        ("/v1/plans", "get", get(api::list_plans)),
        ("/v1/plans/{id}", "get", get(api::get_plan)),
        ("/v1/plans/{id}/proposal", "post", post(proposal::propose)),
        ("/v1/validate", "post", post(api::validate)),
        ("/v1/drift", "get", get(drift::get_drift)),
    ]
}

/// Routes served by `crate::slack::router` (mounted in [`app`]).
const SLACK_ROUTES: &[(&str, &str)] = &[("/slack/commands", "post"), ("/slack/interactions", "post")];

/// `(path, method)` of every route the router serves.
pub fn route_table() -> Vec<(&'static str, &'static str)> {
    let mut table: Vec<_> = routes().into_iter().map(|(p, m, _)| (p, m)).collect();
    table.extend_from_slice(SLACK_ROUTES);
    table
}

/// The application router over `state`.
fn app(state: AppState) -> Router {
    let mut router: Router<AppState> = Router::new();
    for (path, _, handler) in routes() {
        // Tag responses with the route template for the metrics.
        let tag = middleware::map_response(move |mut response: Response| async move {
            response.extensions_mut().insert(RouteName(path));
            response
        });
        router = router.route(path, handler.layer(tag));
    }
    // Slack: its own router and state; tag its responses for the metrics too.
    let slack = crate::slack::router(
        Arc::new(super::slack_backend::Backend(state.clone())),
        state.config.slack.clone(),
    )
    .layer(middleware::map_response(|mut response: Response| async move {
        response.extensions_mut().insert(RouteName("/slack/*"));
        response
    }));
    let limits = &state.config.limits;
    router
        .with_state(state.clone())
        .merge(slack)
        .merge(crate::mcp::router(state.clone()))
        .fallback(|| async { ApiError::not_found("route_not_found", "no such endpoint; see /openapi.json") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not accept that method; see /openapi.json",
            )
        })
        .layer(DefaultBodyLimit::max(limits.body_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), timeout))
        .layer(middleware::from_fn_with_state(state, observe))
}

/// Per-request timeout, in the API's error shape.
async fn timeout(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = state.config.limits.request_timeout();
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            format!(
                "the request took longer than {} s; a plan keeps running and can be read from GET /v1/plans",
                limit.as_secs()
            ),
        )
        .into_response(),
    }
}

/// The route template a response came from.
#[derive(Clone, Copy)]
struct RouteName(&'static str);

/// Request metrics and one log line per request (route template, never the body or headers).
async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    // Only known methods by name: the log and the metrics must not grow with made-up ones.
    let method = super::metrics::method_label(req.method().as_str());
    let response = next.run(req).await;
    let route = response
        .extensions()
        .get::<RouteName>()
        .map_or("unmatched", |r| r.0);
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    state.metrics.request(route, method, status, elapsed);
    tracing::info!(%method, %route, status, ms = elapsed.as_millis() as u64, "request");
    response
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> Response {
    let mut checks = serde_json::Map::new();
    let mut ready = true;
    let store = state.store.clone();
    let store_ok = matches!(
        tokio::task::spawn_blocking(move || store.ping()).await,
        Ok(Ok(()))
    );
    ready &= store_ok;
    checks.insert("store".into(), json!(if store_ok { "ok" } else { "unavailable" }));
    for repo in state.repos.all() {
        let repo = repo.clone();
        let mut lock = repo.lock().await;
        let name = repo.name().to_string();
        let result = tokio::task::spawn_blocking(move || {
            repo.check()
                .map(|_| ())
                .or_else(|_| repo.prepare(&mut lock, Instant::now()).map(|_| ()))
        })
        .await;
        let ok = match result {
            Ok(Ok(_)) => true,
            Ok(Err(e)) => {
                tracing::warn!(repo = %name, "not ready: {}", chain(&e));
                false
            }
            Err(_) => false,
        };
        ready &= ok;
        checks.insert(
            format!("repo:{name}"),
            json!(if ok { "ok" } else { "unreachable" }),
        );
    }
    if ready {
        Json(json!({ "status": "ready", "checks": checks })).into_response()
    } else {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "a dependency is unavailable",
        )
        .with_details(json!({ "checks": checks }))
        .into_response()
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    let (running, queued) = state.admission.load();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.metrics.render(running, queued),
    )
        .into_response()
}

async fn openapi_json() -> Json<serde_json::Value> {
    Json(openapi::document_json())
}

/// A bound, not yet serving, service.
pub struct Server {
    listener: tokio::net::TcpListener,
    state: AppState,
}

impl Server {
    /// Opens the store, builds the planner and binds `config.listen`.
    pub async fn bind(config: Config) -> Result<Server, Error> {
        let addr = config.listen_addr()?;
        let store = open_store(&config).await?;
        let openai = config
            .openai(|n| std::env::var(n).ok())?
            .map(OpenAi::new)
            .transpose()?;
        let repos = Repositories::new(&config.repositories, &config.mirror_dir()?);
        let names: Vec<&str> = repos.names().collect();
        tracing::info!(store = %store.describe(), repositories = %names.join(", "), "serving");
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| Error::Bind { addr, source })?;
        let state = AppState(Arc::new(Inner {
            auth: Auth::new(&config.tokens, config.insecure_no_auth),
            admission: Admission::new(config.limits.max_model_calls, config.limits.queue),
            validations: Admission::new(config.limits.max_validations, config.limits.validate_queue),
            store,
            repos,
            openai,
            metrics: Metrics::default(),
            tasks: Tracker::default(),
            config,
        }));
        Ok(Server { listener, state })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves, then waits for in-flight requests
    /// and background plans to finish. Connections are capped and timed out
    /// by `super::listen`.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), Error> {
        let Server { listener, state } = self;
        if state.config.insecure_no_auth {
            tracing::warn!("serving WITHOUT authentication (--insecure-no-auth, loopback only)");
        }
        let app = app(state.clone());
        let leases = tokio::spawn(super::replicas::keep_leases(state.clone()));
        let limits = &state.config.limits;
        let conn_limits = super::listen::ConnLimits {
            max_connections: limits.max_connections,
            header_read_timeout: limits.header_read_timeout(),
            idle_timeout: limits.idle_timeout(),
        };
        super::listen::serve(listener, app, conn_limits, shutdown).await;
        leases.abort();
        let pending = state.tasks.running();
        if pending > 0 {
            tracing::info!(pending, "waiting for background plans to finish");
        }
        state.tasks.wait_idle().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Opens the store the config names and closes plans interrupted before
/// (each audited); a database that is down fails here after a bounded wait.
async fn open_store(config: &Config) -> Result<Arc<dyn Store>, Error> {
    let location = config.store_location()?;
    let target = location.redacted();
    let hostname = std::env::var("HOSTNAME").ok();
    let lease = Lease::new(hostname.as_deref(), config.limits.plan_lease());
    let options = PostgresOptions {
        pool_size: config.limits.store_connections,
        ..PostgresOptions::default()
    };
    let opened = tokio::task::spawn_blocking(move || {
        let store = store::open(&location, lease, options)?;
        let recovered = store.recover_interrupted()?;
        Ok::<_, super::store::Error>((store, recovered))
    })
    .await
    .map_err(|e| Error::Serve(std::io::Error::other(e)))?;
    let (store, recovered) = opened.map_err(|source| Error::Store { target, source })?;
    if !recovered.is_empty() {
        tracing::warn!(
            recovered = recovered.len(),
            "plans interrupted by a stopped replica were closed"
        );
    }
    Ok(Arc::from(store))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use tower::ServiceExt;

    const TOKEN: &str = "gi_test_token_for_the_validate_gate_0123456";

    async fn bound(limits: &str) -> (Server, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gitintent.toml");
        let toml = format!(
            "listen = \"127.0.0.1:0\"\nstore = {:?}\n[[token]]\nname = \"t\"\nsha256 = \"{}\"\nrights = [\"plan\"]\n{limits}",
            dir.path().join("gitintent.db").display().to_string(),
            super::super::auth::hash(TOKEN)
        );
        std::fs::write(&path, toml).unwrap();
        let config = Config::load(Some(&path), |_| None, super::super::Overrides::default()).unwrap();
        (Server::bind(config).await.unwrap(), dir)
    }

    fn validate_request() -> Request {
        Request::post("/v1/validate")
            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                r#"{"manifests": "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"}"#,
            ))
            .unwrap()
    }

    #[tokio::test]
    async fn validations_past_the_slots_and_the_queue_get_429() {
        let (server, _dir) = bound("[limits]\nmax-validations = 1\nvalidate-queue = 0\n").await;
        let app = app(server.state.clone());
        let ok = app.clone().oneshot(validate_request()).await.unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
        // Someone else holds the only slot: the next one is refused at once.
        let held = server.state.validations.try_admit().unwrap();
        let busy = app.clone().oneshot(validate_request()).await.unwrap();
        assert_eq!(busy.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(busy.headers().contains_key(header::RETRY_AFTER));
        drop(held);
        let ok = app.oneshot(validate_request()).await.unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
        let metrics = server.state.metrics.render(0, 0);
        assert!(
            metrics.contains("gitintent_validations_rejected_total 1"),
            "{metrics}"
        );
    }
}
