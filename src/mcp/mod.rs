//! The MCP server: gitintent as a tool for AI assistants (Claude, Cursor,
//! VS Code…), over stdio (`gitintent mcp`) and over Streamable HTTP at
//! `/mcp` on `gitintent serve`.
//!
//! Both transports drive the service's own code: a plan made over MCP goes
//! through `serve::api::submit` (stored, audited, admitted like any `POST
//! /v1/plans`), and its result is the `/v1/plans` JSON view. `gitintent mcp`
//! runs that service in-process on one repository with an in-memory store
//! (`stdio`); `serve` mounts the HTTP transport behind its bearer tokens
//! (`http`), and the token's rights decide which tools are offered.
//!
//! - `tools`: the tool definitions (input and output schemas, hints);
//! - `handler`: the rmcp `ServerHandler` (tools, resources);
//! - `calls`: each tool's work, errors as [`ApiError`](crate::serve) values
//!   that become `isError` tool results carrying the service's message.
//!
//! It does not apply anything to a cluster: the only write is `propose`,
//! a branch and a pull request, offered only with `--allow-propose` or the
//! token's propose right.
//!
//! A plan with open questions says so first in its text and lists them in
//! `spec.questions`; when the client declared the `elicitation` capability
//! (stdio), `elicit` asks the person those questions and the tool returns
//! the plan made again with the answers.

mod calls;
mod elicit;
mod handler;
mod http;
mod stdio;
mod summary;
mod tools;

pub(crate) use http::router;
pub use stdio::{serve_stdio, Error, Options};
