//! Helpers every planning subcommand shares: reading the intent, choosing the
//! planner, mapping library errors to exit codes and printing failures, and
//! turning the publishing flags into `propose::publish`'s options and printing
//! a proposal.

use std::ffi::OsString;
use std::io::Read;
use std::path::Path;

use clap::ValueEnum;
use gitintent::plan::{self as planner, OpenAi, OpenAiConfig, Planner};
use gitintent::propose::{self, Credentials, ForgeConfig, Publish, PushOptions, Step, Unpublished};

use super::exit;
use super::output::Style;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PlannerChoice {
    /// Offline, deterministic parser.
    Builtin,
    /// An OpenAI-compatible endpoint (GITINTENT_LLM_BASE_URL, GITINTENT_LLM_MODEL, GITINTENT_LLM_API_KEY).
    Openai,
}

impl PlannerChoice {
    /// The planner's name, as the service's API takes it.
    pub(crate) fn name(self) -> planner::PlannerName {
        match self {
            PlannerChoice::Builtin => planner::PlannerName::Builtin,
            PlannerChoice::Openai => planner::PlannerName::Openai,
        }
    }
}

/// The async runtime for planning, the cluster and publishing: two workers.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    use anyhow::Context as _;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(2)
        .build()
        .context("starting the async runtime")
}

/// The async runtime for client mode (`--server`): one thread.
pub(crate) fn current_thread_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    use anyhow::Context as _;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
}

/// The intent text from the argument or stdin, refusing non-UTF-8 input.
pub(crate) fn read_intent(arg: OsString) -> Result<String, String> {
    let bytes = if arg == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .take(1 << 20)
            .read_to_end(&mut buf)
            .map_err(|e| format!("cannot read the intent from stdin: {e}"))?;
        buf
    } else {
        arg.into_encoded_bytes()
    };
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "the intent is not valid UTF-8 (invalid byte at offset {}); send plain text",
            e.utf8_error().valid_up_to()
        )
    })
}

pub(crate) fn choose_planner(choice: Option<PlannerChoice>) -> Result<Planner, planner::Error> {
    let config = OpenAiConfig::from_env()?;
    match (choice, config) {
        (Some(PlannerChoice::Builtin), _) | (None, None) => Ok(Planner::Builtin),
        (Some(PlannerChoice::Openai) | None, Some(config)) => Ok(Planner::OpenAi(OpenAi::new(config)?)),
        (Some(PlannerChoice::Openai), None) => Err(planner::Error::Config(
            "--planner openai needs GITINTENT_LLM_BASE_URL or an API key (GITINTENT_LLM_API_KEY or OPENAI_API_KEY)".into(),
        )),
    }
}

/// Exit code for a library error: error findings (1), bad input (2) or a fault (3).
pub(crate) fn exit_code(e: &gitintent::Error) -> u8 {
    exit_for(e.class())
}

/// Exit code for a class of error.
pub(crate) fn exit_for(class: gitintent::Class) -> u8 {
    match class {
        gitintent::Class::Findings => exit::FINDINGS,
        gitintent::Class::BadInput => exit::BAD_INPUT,
        gitintent::Class::Upstream | gitintent::Class::Fault => exit::FAILURE,
    }
}

pub(crate) fn fail(format: Format, code: u8, message: String) -> u8 {
    if format == Format::Json {
        let kind = if code == exit::BAD_INPUT {
            "bad_input"
        } else {
            "failure"
        };
        println!(
            "{}",
            serde_json::json!({"error": {"code": kind, "message": message}})
        );
    }
    eprintln!("error: {message}");
    code
}

/// The error and its causes, `: `-separated, with the flag that fixes it
/// when there is a hint for it.
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut message = cause_chain(e);
    // The library says what is wrong; the CLI adds which flag fixes it.
    if let Some(hint) = super::hints::hint(e) {
        message.push_str(&format!(" ({hint})"));
    }
    message
}

/// The error and its causes, `: `-separated (no hint).
pub(crate) fn cause_chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        message.push_str(&format!(": {s}"));
        source = s.source();
    }
    message
}

/// Publishing flags `propose` and `drift --propose` share.
#[derive(clap::Args, Clone, Debug, Default)]
pub(crate) struct PublishArgs {
    /// Push the branch (credentials: GITINTENT_GIT_TOKEN, GITINTENT_SSH_KEY or ssh-agent).
    #[arg(long)]
    pub(crate) push: bool,
    /// The remote to push to: a configured remote's name or a URL.
    #[arg(long, default_value = "origin")]
    pub(crate) remote: String,
    /// Rebuild a branch proposed on an older base, and replace it on the remote.
    #[arg(long)]
    pub(crate) rebase: bool,
    /// Open a pull request (GitHub) or merge request (GitLab); needs --push and GITINTENT_FORGE_TOKEN.
    #[arg(long, requires = "push")]
    pub(crate) pr: bool,
}

/// The forge and its token when `--pr` is asked for, checked before anything
/// is written: the forge's configuration and token ([`ForgeConfig::ready`]),
/// and a `base` (the snapshot's reference) that a pull request can merge into.
pub(crate) fn forge_for(
    config: &gitintent::repo::RepoConfig,
    repo: &Path,
    publish: &PublishArgs,
    base: &str,
) -> Result<Option<(ForgeConfig, String)>, propose::Error> {
    if !publish.pr {
        return Ok(None);
    }
    pr_base(repo, base)?;
    let forge = forge_config(config, repo, &publish.remote)?;
    let token = forge.ready()?;
    Ok(Some((forge, token)))
}

/// A pull request merges into a branch: `base` must be a local branch
/// (`refs/heads/…`) or a remote-tracking one (`origin/main`), not a tag or a commit.
fn pr_base(repo: &Path, base: &str) -> Result<(), propose::Error> {
    if base.starts_with("refs/heads/") {
        return Ok(());
    }
    let git = git2::Repository::open(repo).ok();
    let exists = |name: &str| git.as_ref().is_some_and(|g| g.find_reference(name).is_ok());
    if exists(&format!("refs/remotes/{base}")) || exists(&format!("refs/heads/{base}")) {
        return Ok(());
    }
    let what = if exists(&format!("refs/tags/{base}")) {
        "a tag"
    } else {
        "a commit, not a branch"
    };
    Err(propose::Error::ForgeConfig(format!(
        "--base {base} is {what}; a pull request can only merge into a branch: give a branch with --base, or drop --pr"
    )))
}

/// `forge:` from `.gitintent.yaml`, else inferred from the remote's URL.
fn forge_config(
    config: &gitintent::repo::RepoConfig,
    repo: &Path,
    remote: &str,
) -> Result<ForgeConfig, propose::Error> {
    if let Some(forge) = &config.forge {
        return Ok(forge.clone());
    }
    let url = git2::Repository::open(repo)
        .ok()
        .and_then(|r| {
            r.find_remote(remote)
                .ok()
                .and_then(|r| r.url().ok().map(String::from))
        })
        .unwrap_or_else(|| remote.to_string());
    propose::infer_forge(&url).ok_or_else(|| {
        propose::Error::ForgeConfig(format!(
            "cannot tell the forge from {url:?}: add `forge: {{kind: github|gitlab, url, repo}}` to .gitintent.yaml"
        ))
    })
}

/// What `--push`, `--rebase` and `--pr` ask of [`propose::publish`]: push to
/// `--remote` (replacing a rebuilt branch with a lease), then the pull request
/// with `forge` (from [`forge_for`]).
pub(crate) fn publication(publish: &PublishArgs, forge: Option<(ForgeConfig, String)>) -> Publish {
    Publish {
        push: publish.push.then(|| PushOptions {
            remote: publish.remote.clone(),
            credentials: Credentials::from_env(),
            force: publish.rebase,
            lease: None,
        }),
        forge,
    }
}

/// Tells what a failed publication left behind (a branch the rollback could
/// not remove; a pushed branch without its pull request) and returns its error.
pub(crate) fn unpublished(failed: Unpublished) -> propose::Error {
    let branch = failed.branch.as_deref().unwrap_or_default();
    if let Some(undo) = &failed.left_behind {
        eprintln!("warning: could not roll back {branch}: {undo}");
    }
    if failed.step == Step::PullRequest {
        eprintln!("note: {branch} is committed and pushed; re-run with --pr to retry the pull request");
    }
    failed.error
}

/// A random plan id (16 hex digits); the service's store assigns its own.
pub(crate) fn plan_id() -> String {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        bytes = (nanos as u64).to_be_bytes();
    }
    hex::encode(bytes)
}

/// Text output of a proposal's JSON (`propose`, its client mode, and `drift --propose`).
pub(crate) fn print_proposal(p: &serde_json::Value, remote: &str, s: Style) {
    let str_of = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let verb = match p["status"].as_str() {
        Some("created") => s.green("Created"),
        Some("updated") => s.yellow("Updated"),
        _ => s.dim("Already proposed:"),
    };
    println!("{verb} branch {}", s.bold(&str_of(&p["branch"])));
    println!("  commit  {}", str_of(&p["commit"]));
    let base_commit = str_of(&p["base_commit"]);
    println!(
        "  base    {} ({})",
        str_of(&p["base"]),
        &base_commit[..base_commit.len().min(12)]
    );
    let stat = |k: &str| p["stats"][k].as_u64().unwrap_or(0);
    println!(
        "  changes {} file(s) added, {} modified; +{} −{} lines",
        stat("files_added"),
        stat("files_modified"),
        stat("insertions"),
        stat("deletions")
    );
    if p["pushed"].as_bool() == Some(true) {
        println!("  pushed  to {remote}");
    }
    if let Some(pr) = p["pull_request"].as_object() {
        let existing = if pr.get("existing").and_then(|e| e.as_bool()) == Some(true) {
            " (already open)"
        } else {
            ""
        };
        println!(
            "  pull request #{} {}{existing}",
            pr.get("number").and_then(|n| n.as_u64()).unwrap_or(0),
            pr.get("url").and_then(|u| u.as_str()).unwrap_or_default()
        );
    }
}
