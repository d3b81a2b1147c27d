//! Record, replay and cache model exchanges at the HTTP level.
//!
//! A [`Cassette`] is a loopback HTTP server on `127.0.0.1` that speaks the
//! OpenAI chat-completions protocol. The openai planner is pointed at it
//! through its base URL, so a replayed or cached answer goes through exactly
//! the same HTTP, parsing, retry and repair path as a live one. Each exchange
//! is stored as one JSON file named after its [`key`]: the SHA-256 of the
//! model, the prompt version and the messages.
//!
//! - [`Mode::Record`] forwards every call to the upstream endpoint and stores
//!   each successful exchange;
//! - [`Mode::Replay`] answers only from the files and never opens a network
//!   connection; a miss is an HTTP 404 whose message names the key;
//! - [`Mode::Cache`] answers from the files when it can and otherwise forwards
//!   and stores, so an identical request never pays twice.
//!
//! It does not look at what the model said, store request headers (the API
//! key is forwarded, never written), or expire cache entries.

mod server;
mod store;

pub use server::{Cassette, Mode, Stats};
pub use store::{key, Exchange, Store};

use std::path::PathBuf;

/// Why a cassette could not start or store an exchange.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The recordings directory cannot be created or read.
    #[error("recordings directory {path}")]
    Dir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A recording cannot be written.
    #[error("cannot write recording {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A recording exists but is not a valid exchange file.
    #[error("recording {path} is not a valid exchange: {message}")]
    Corrupt { path: PathBuf, message: String },
    /// The loopback listener cannot be bound.
    #[error("cannot listen on 127.0.0.1")]
    Bind(#[source] std::io::Error),
    /// The upstream URL is not an http(s) URL.
    #[error("upstream base URL {0:?} must be an http:// or https:// URL")]
    Upstream(String),
}
