//! `gitintent mcp`: the MCP server over stdio, for AI assistants
//! (`crate::mcp`). stdout carries protocol messages only; logs go to stderr.

use std::path::PathBuf;

use anyhow::Context as _;
use gitintent::mcp::{serve_stdio, Options};
use gitintent::plan::PlannerName;

use super::common::PlannerChoice;
use super::exit;

/// Arguments of `gitintent mcp`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The GitOps repository, read at its base branch (`main`, else HEAD).
    #[arg(long)]
    repo: PathBuf,
    /// The environment when a tool call gives none.
    #[arg(long = "env")]
    environment: Option<String>,
    /// Planner; defaults to openai when an endpoint is configured, else builtin.
    #[arg(long, value_enum)]
    planner: Option<PlannerChoice>,
    /// Offer the `propose` tool (branch, commit, push, pull request).
    #[arg(long)]
    allow_propose: bool,
}

pub(crate) fn run(args: Args) -> anyhow::Result<u8> {
    super::serve::init_logging();
    let options = Options {
        repo: args.repo,
        environment: args.environment,
        planner: args.planner.map(|p| match p {
            PlannerChoice::Builtin => PlannerName::Builtin,
            PlannerChoice::Openai => PlannerName::Openai,
        }),
        allow_propose: args.allow_propose,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    match runtime.block_on(serve_stdio(options)) {
        Ok(()) => Ok(exit::OK),
        Err(e) if e.is_bad_input() => {
            eprintln!("error: {:#}", anyhow::Error::new(e));
            Ok(exit::BAD_INPUT)
        }
        Err(e) => Err(anyhow::Error::new(e)),
    }
}
