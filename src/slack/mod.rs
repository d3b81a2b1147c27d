//! The Slack slash command: `/gitintent <intent>` in chat, plans back as Block Kit.
//!
//! [`router`] serves `POST /slack/commands` (the slash command, form-encoded)
//! and `POST /slack/interactions` (the Propose and Discard buttons). Every
//! request is verified first — HMAC-SHA256 over the raw body with the app's
//! signing secret, constant-time compare, 5-minute window ([`verify`]) — and
//! a request that fails gets `401` and nothing else. Rights come from
//! [`SlackConfig`]: Slack users and channels map to repositories,
//! environments and whether they may propose; a refused user gets a polite
//! message and the backend is never called. Slow work (plan, propose, drift) runs
//! in a spawned task and posts to the request's `response_url`, which must
//! start with `response-url-prefix` (default `https://hooks.slack.com/`).
//!
//! Public API, for the service that mounts the router:
//! - [`router`]`(backend: Arc<B>, config: SlackConfig) -> axum::Router`
//! - [`SlackBackend`]: `plan(Requester, intent, repo, env)`, `propose(Requester, plan_id)`,
//!   `status(plan_id)`, `drift(Requester, repo, env)` (a `drift::Report`; default: not available), returning [`PlanSummary`] / [`ProposalSummary`] or [`BackendError`];
//!   optionally `spawn(task)` to track deferred work for a graceful shutdown.
//!   [`PlanSummary::from_plan`] maps a `pipeline::Plan`.
//! - [`SlackConfig`] (with [`Grant`]s) deserialised from the service's `[slack]` TOML table
//!
//! This module does not plan, store, or touch git: the backend does. It does
//! not depend on the HTTP API (`serve`), and the router has no state of its own
//! beyond the config, so replicas can serve it side by side.

mod backend;
mod blocks;
mod command;
mod config;
mod handlers;
pub mod verify;

use std::sync::Arc;

use axum::routing::post;
use axum::Router;

pub use crate::grant::Grant;
pub use backend::{
    BackendError, ChangeStatus, FileChange, PlanSummary, ProposalSummary, Requester, SlackBackend,
};
pub use config::{ConfigError, SlackConfig, SLACK_HOOKS};
pub use verify::Clock;

/// The Slack routes, ready to be merged into the service's router.
pub fn router<B: SlackBackend>(backend: Arc<B>, config: SlackConfig) -> Router {
    Router::new()
        .route("/slack/commands", post(handlers::command::<B>))
        .route("/slack/interactions", post(handlers::interaction::<B>))
        .with_state(handlers::App::new(backend, config))
}
