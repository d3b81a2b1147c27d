//! Command-line front end: one file per subcommand.
//!
//! This is the binary's edge: `anyhow` is allowed here and nowhere else.
//! Each subcommand returns an exit code; [`main`] prints errors with their
//! whole cause chain.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod changes;
mod client;
mod common;
mod drift;
mod drift_propose;
mod eval;
mod hints;
mod lift;
mod mcp;
mod output;
mod plan;
mod plan_spec;
mod plan_text;
mod propose;
mod recording;
mod schemas;
mod serve;
mod token;
mod validate;

/// Exit codes shared by every subcommand.
pub(crate) mod exit {
    /// Success.
    pub(crate) const OK: u8 = 0;
    /// Ran, but found error findings (or invalid manifests).
    pub(crate) const FINDINGS: u8 = 1;
    /// Bad input: empty or not understood intent, bad flags, bad files.
    pub(crate) const BAD_INPUT: u8 = 2;
    /// Provider or I/O failure.
    pub(crate) const FAILURE: u8 = 3;
}

#[derive(Parser)]
#[command(
    name = "gitintent",
    version,
    about = "Plain-language intents to validated Kubernetes manifests on a GitOps branch"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Plan an intent: spec, manifests and findings.
    Plan(plan::Args),
    /// Plan an intent and commit it to a gitintent/ branch; optionally push and open a PR.
    Propose(propose::Args),
    /// Validate Kubernetes manifests strictly (files, directories, or - for stdin).
    Validate(validate::Args),
    /// Print or regenerate the committed JSON schemas.
    Schemas(schemas::Args),
    /// Run the HTTP service (API, metrics, OpenAPI document).
    Serve(serve::Args),
    /// Manage the service's bearer tokens.
    Token(token::Args),
    /// Score a planner on eval cases (evals/*.yaml), or compare two reports.
    Eval(eval::Args),
    /// Compare what the repo declares for an environment with the live cluster.
    Drift(drift::Args),
    /// Serve MCP tools (plan, validate, list_workloads, drift, propose) over stdio for AI assistants.
    Mcp(mcp::Args),
    /// Read existing manifests and print the spec that renders them, with what it cannot carry.
    Lift(lift::Args),
}

/// How long git may wait to connect to a remote, and for each read or write
/// once connected: 15 s and 60 s, or `GITINTENT_GIT_TIMEOUT_SECS` for both.
fn git_timeouts() -> (std::time::Duration, std::time::Duration) {
    let secs = std::env::var("GITINTENT_GIT_TIMEOUT_SECS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|s| (1..=3600).contains(s));
    match secs {
        Some(s) => (
            std::time::Duration::from_secs(s),
            std::time::Duration::from_secs(s),
        ),
        None => (
            std::time::Duration::from_secs(15),
            std::time::Duration::from_secs(60),
        ),
    }
}

pub(crate) fn main() -> ExitCode {
    // Before any thread starts: git network waits are process-wide settings.
    let (connect, io) = git_timeouts();
    if let Err(e) = gitintent::propose::bound_network_waits(connect, io) {
        eprintln!("warning: git network timeouts not set: {}", e.message());
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { exit::BAD_INPUT } else { exit::OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Plan(args) => plan::run(args),
        Command::Propose(args) => propose::run(args),
        Command::Validate(args) => Ok(validate::run(args)),
        Command::Schemas(args) => schemas::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Token(args) => token::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Drift(args) => drift::run(args),
        Command::Mcp(args) => mcp::run(args),
        Command::Lift(args) => lift::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit::FAILURE)
        }
    }
}
