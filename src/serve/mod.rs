//! The HTTP service behind `gitintent serve`: the same pipeline as the CLI,
//! shared by a team over HTTP.
//!
//! - `config`: `gitintent.toml` < `GITINTENT_*` < flags;
//! - `auth`: bearer tokens stored as SHA-256 hashes, plan/propose rights per
//!   repository and environment;
//! - `store`: plans and an append-only audit trail ([`Store`]; [`SqliteStore`]
//!   or, for several replicas on one database, [`PostgresStore`]);
//! - `replicas`: lease renewal and recovery of plans a stopped replica left;
//! - `server`: the axum router, limits, metrics, graceful shutdown;
//! - `listen`: the accept loop (connection cap, header-read and idle timeouts);
//! - `api`, `proposal`, `work`: the `/v1` endpoints and the planning work;
//! - `drift`, `cluster`: `GET /v1/drift` and the per-repository cluster settings;
//! - `openapi`: the OpenAPI 3 document, kept in sync with the router by a test.
//!
//! Slack is `crate::slack`'s router, mounted at `/slack/*` with this
//! service as its backend (`slack_backend`). The service never lets the model choose a path, a command or raw YAML: it calls the
//! pipeline and stores what the pipeline returns.

pub(crate) mod api;
pub mod auth;
pub mod cluster;
pub mod config;
pub(crate) mod drift;
pub(crate) mod error;
mod listen;
pub(crate) mod metrics;
pub mod openapi;
pub(crate) mod proposal;
mod replicas;
pub mod repos;
mod server;
mod slack_backend;
pub(crate) mod state;
pub mod store;
pub(crate) mod work;

pub use config::{Config, Overrides};
pub use server::{route_table, Error, Server};
pub use store::{Location, PostgresStore, SqliteStore, Store};

/// The HTTP status the service answers a library error with.
#[cfg(test)]
pub(crate) fn library_error_status(e: &crate::Error) -> axum::http::StatusCode {
    work::library_error(e).status
}
