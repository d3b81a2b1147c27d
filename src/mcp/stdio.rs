//! `gitintent mcp`: the MCP server over stdio (newline-delimited JSON-RPC on
//! stdin/stdout; logs go to stderr). It runs the service in-process on one
//! repository, named `local`, with an in-memory store: plans made here are
//! kept (and audited) for the life of the process, so `propose` can take a
//! `plan_id` from an earlier `plan`.

use std::path::PathBuf;
use std::sync::Arc;

use rmcp::ServiceExt;

use super::calls::Defaults;
use super::handler::{Handler, Local};
use crate::grant::{Grant, Right};
use crate::plan::OpenAi;
use crate::serve::auth::{Auth, Caller};
use crate::serve::config::{Config, Overrides};
use crate::serve::repos::Repositories;
use crate::serve::state::{Admission, AppState, Inner, Tracker};
use crate::serve::{SqliteStore, Store};

/// The repository name plans made by `gitintent mcp` carry.
const LOCAL: &str = "local";

/// How `gitintent mcp` runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The GitOps repository (read at its base branch: `main`, else HEAD).
    pub repo: PathBuf,
    /// The environment when a call gives none.
    pub environment: Option<String>,
    /// `builtin` or `openai`; default openai when a provider is configured.
    pub planner: Option<crate::plan::PlannerName>,
    /// Offer the `propose` tool.
    pub allow_propose: bool,
}

/// Start-up and transport faults of `gitintent mcp`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The repository is not a git repository.
    #[error("{} is not a git repository", path.display())]
    NotARepository {
        path: PathBuf,
        #[source]
        source: git2::Error,
    },
    /// The settings (provider, planner) do not hold together.
    #[error(transparent)]
    Config(#[from] crate::serve::config::Error),
    /// `--planner openai` without a provider.
    #[error(
        "planner \"openai\" needs a model provider: set GITINTENT_LLM_BASE_URL or GITINTENT_LLM_API_KEY"
    )]
    NoProvider,
    #[error("model provider: {0}")]
    Provider(#[from] crate::plan::Error),
    #[error("opening the in-memory store")]
    Store(#[source] crate::serve::store::Error),
    /// The MCP conversation on stdio failed.
    #[error("MCP over stdio: {0}")]
    Transport(String),
}

impl Error {
    /// True when the user's settings are at fault (exit 2), not the process.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            Error::NotARepository { .. } | Error::Config(_) | Error::NoProvider
        )
    }
}

/// The branch plans start from: `main` when it exists, else what HEAD names.
fn base_branch(path: &std::path::Path) -> Result<String, Error> {
    let repo = git2::Repository::open(path).map_err(|source| Error::NotARepository {
        path: path.to_path_buf(),
        source,
    })?;
    if repo.find_reference("refs/heads/main").is_ok() {
        return Ok("main".into());
    }
    let head = repo.find_reference("HEAD").ok();
    let target = head
        .as_ref()
        .and_then(|h| h.symbolic_target().ok().flatten())
        .unwrap_or("refs/heads/main");
    Ok(target.strip_prefix("refs/heads/").unwrap_or(target).to_string())
}

/// The in-process service over `options.repo`.
fn state(options: &Options, env: impl Fn(&str) -> Option<String>) -> Result<AppState, Error> {
    let branch = base_branch(&options.repo)?;
    let overrides = Overrides {
        listen: None,
        repos: vec![format!("{LOCAL}={}", options.repo.display())],
        insecure_no_auth: true,
        store: Some(PathBuf::from(":memory:")),
    };
    let mut config = Config::load(None, &env, overrides)?;
    for repo in &mut config.repositories {
        repo.base_branch = branch.clone();
    }
    let openai = config.openai(&env)?.map(OpenAi::new).transpose()?;
    if options.planner == Some(crate::plan::PlannerName::Openai) && openai.is_none() {
        return Err(Error::NoProvider);
    }
    let store = SqliteStore::open(std::path::Path::new(":memory:")).map_err(Error::Store)?;
    let repos = Repositories::new(&config.repositories, &std::env::temp_dir());
    Ok(AppState(Arc::new(Inner {
        auth: Auth::new(&[], true),
        admission: Admission::new(config.limits.max_model_calls, config.limits.queue),
        validations: Admission::new(config.limits.max_validations, config.limits.validate_queue),
        store: Arc::new(store) as Arc<dyn Store>,
        repos,
        openai,
        metrics: crate::serve::metrics::Metrics::default(),
        tasks: Tracker::default(),
        config,
    })))
}

/// Serves MCP on stdin/stdout until the client closes stdin.
pub async fn serve_stdio(options: Options) -> Result<(), Error> {
    let state = state(&options, |n| std::env::var(n).ok())?;
    let rights: &[Right] = if options.allow_propose {
        &[Right::Plan, Right::Propose]
    } else {
        &[Right::Plan]
    };
    let local = Local {
        caller: Caller::new(LOCAL, Grant::everything(rights)),
        allow_propose: options.allow_propose,
        defaults: Defaults {
            environment: options.environment.clone(),
            planner: options.planner,
        },
    };
    let handler = Handler::local(state.clone(), local);
    let running = handler
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| Error::Transport(e.to_string()))?;
    running
        .waiting()
        .await
        .map_err(|e| Error::Transport(e.to_string()))?;
    state.tasks.wait_idle().await;
    Ok(())
}
