//! Command-line front end: one file per subcommand.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

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
#[command(name = "gitintent", version, about = "Plain-language intents to validated Kubernetes manifests on a GitOps branch")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate Kubernetes manifests strictly (files, directories, or - for stdin).
    Validate(validate::Args),
}

pub(crate) fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { exit::BAD_INPUT } else { exit::OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let code = match cli.command {
        Command::Validate(args) => validate::run(args),
    };
    ExitCode::from(code)
}
