//! `/mcp` on `gitintent serve`: rmcp's Streamable HTTP transport behind the
//! service's bearer tokens. The token is checked before rmcp sees the
//! request (no token, or an unknown one, is a `401` in the API's error
//! shape, as for `/v1`); the [`Caller`] rides in the request's extensions,
//! where the handler reads its rights per request.
//!
//! Stateless: every POST carries its own JSON-RPC request and gets a JSON
//! reply, so no MCP session outlives a request and the service's limits
//! (body size, request timeout) apply as for `/v1`. Host checks are off:
//! the bearer token, not the Host header, is what protects the service.

use std::sync::Arc;

use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};

use super::handler::Handler;
use crate::serve::auth::Caller;
use crate::serve::state::AppState;

/// The `/mcp` route, for `serve`'s router to merge.
pub(crate) fn router(state: AppState) -> Router {
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_max_request_body_bytes(state.config.limits.body_bytes)
        .disable_allowed_hosts();
    let handler_state = state.clone();
    let service = StreamableHttpService::new(
        move || Ok(Handler::http(handler_state.clone())),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    Router::new()
        .route_service("/mcp", service)
        .layer(middleware::from_fn_with_state(state, authenticate))
}

/// Rejects requests without a valid token; hands the caller to the handler.
async fn authenticate(caller: Caller, mut req: Request, next: Next) -> Response {
    req.extensions_mut().insert(caller);
    next.run(req).await
}
