//! `gitintent token create`: a new random bearer token, printed once, and
//! the `[[token]]` config block holding only its SHA-256.

use gitintent::serve::auth;

use super::exit;

/// Arguments of `gitintent token`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Create a token; prints it once plus the config block to add to gitintent.toml.
    Create(Create),
}

#[derive(clap::Args)]
struct Create {
    /// Who the token is for; recorded as the requester of its plans.
    #[arg(long)]
    name: String,
    /// Repositories it may use (default: all).
    #[arg(long, value_delimiter = ',')]
    repos: Vec<String>,
    /// Environments it may plan for (default: all).
    #[arg(long, value_delimiter = ',')]
    envs: Vec<String>,
    /// Also allow proposals (branch, push, pull request) in those environments.
    #[arg(long)]
    propose: bool,
}

pub(crate) fn run(args: Args) -> anyhow::Result<u8> {
    let Command::Create(c) = args.command;
    if c.name.trim().is_empty() || c.name.chars().any(char::is_control) {
        eprintln!("error: --name must be a printable, non-empty name");
        return Ok(exit::BAD_INPUT);
    }
    let token = auth::generate().map_err(|e| anyhow::anyhow!("no randomness available: {e}"))?;
    println!(
        "Token (shown once; give it to {} and do not store it):\n\n  {token}\n",
        c.name
    );
    println!("Add this block to gitintent.toml (it holds only the token's SHA-256):\n");
    print!(
        "{}",
        auth::config_block(&c.name, &token, &c.repos, &c.envs, c.propose)
    );
    Ok(exit::OK)
}
