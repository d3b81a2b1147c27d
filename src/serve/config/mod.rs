//! Service configuration: `gitintent.toml`, then `GITINTENT_*` environment
//! variables, then command-line flags (CLI > environment > file).
//!
//! [`Config::load`] reads and checks everything once at start-up; unknown
//! keys are errors that name the key. Secrets are never in the file: tokens
//! are stored as SHA-256 hashes, and API keys, git credentials and forge
//! tokens come from the environment (`GITINTENT_LLM_API_KEY` or the variable
//! `provider.api-key-env` names, `GITINTENT_GIT_TOKEN`/`GITINTENT_SSH_KEY` for
//! git, `GITINTENT_FORGE_TOKEN` for pull requests). The Slack
//! signing secret may be in the file but is better given by
//! `GITINTENT_SLACK_SIGNING_SECRET`.
//!
//! It does not open repositories or the store; [`super::Server`] does.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::store::Location;
use crate::plan::OpenAiConfig;

/// Why the configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The config file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The config file is not valid TOML or has unknown or mistyped keys.
    #[error("{} is not a valid gitintent service config: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    /// A value is present but unusable; `key` names it.
    #[error("config key {key}: {message}")]
    Invalid { key: String, message: String },
}

fn invalid(key: impl Into<String>, message: impl Into<String>) -> Error {
    Error::Invalid {
        key: key.into(),
        message: message.into(),
    }
}

/// The whole service configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Address to listen on (`GITINTENT_LISTEN`, `--listen`); default `127.0.0.1:8080`.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// The model provider; without one, plans use the builtin planner.
    #[serde(default)]
    pub provider: ProviderConfig,
    /// GitOps repositories plans may target (`--repo NAME=PATH_OR_URL`).
    #[serde(default, rename = "repository")]
    pub repositories: Vec<RepositoryConfig>,
    /// Bearer tokens (hashes only); see `gitintent token create`.
    #[serde(default, rename = "token")]
    pub tokens: Vec<TokenConfig>,
    /// The Slack slash command (`crate::slack::SlackConfig`: signing secret,
    /// default repository, user and channel grants).
    #[serde(default)]
    pub slack: crate::slack::SlackConfig,
    /// Plans and the audit trail (`GITINTENT_STORE`): a SQLite file (a path or
    /// `sqlite://PATH`), or `postgres://…`/`postgresql://…` for several replicas
    /// (`sslmode=disable|prefer|require`, `sslrootcert`, `connect_timeout`); default
    /// `$XDG_DATA_HOME/gitintent/gitintent.db` or `~/.local/share/gitintent/gitintent.db`.
    pub store: Option<PathBuf>,
    /// Where mirrors of remote repositories are kept; default: next to a SQLite
    /// store, else `$XDG_DATA_HOME/gitintent` or `~/.local/share/gitintent`.
    pub data_dir: Option<PathBuf>,
    /// Request and concurrency limits.
    #[serde(default)]
    pub limits: Limits,
    /// Serve without authentication (loopback only). Only from `--insecure-no-auth`.
    #[serde(skip)]
    pub insecure_no_auth: bool,
}

fn default_listen() -> String {
    "127.0.0.1:8080".to_string()
}

/// The model provider.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ProviderConfig {
    /// OpenAI-compatible base URL (`GITINTENT_LLM_BASE_URL`).
    pub base_url: Option<String>,
    /// Model name (`GITINTENT_LLM_MODEL`).
    pub model: Option<String>,
    /// Name of the environment variable holding the API key; default
    /// `GITINTENT_LLM_API_KEY` (then `OPENAI_API_KEY`).
    pub api_key_env: Option<String>,
    /// Total budget for one plan, seconds (default 120).
    pub deadline_secs: Option<u64>,
    /// Model replies per plan, repairs included (default 3).
    pub max_attempts: Option<u32>,
    /// `json_schema` (default), `json_object` or `none`, for servers without
    /// structured outputs (`GITINTENT_LLM_RESPONSE_FORMAT`).
    pub response_format: Option<crate::plan::ResponseFormat>,
    /// Output token cap, sent as `max_completion_tokens`
    /// (`GITINTENT_LLM_MAX_COMPLETION_TOKENS`).
    pub max_completion_tokens: Option<u32>,
    /// Output token cap sent as `max_tokens` instead, for servers that only
    /// know that name (`GITINTENT_LLM_MAX_TOKENS`).
    pub max_tokens: Option<u32>,
    /// Sampling temperature, 0 to 2 (`GITINTENT_LLM_TEMPERATURE`).
    pub temperature: Option<f32>,
    /// Sampling seed (`GITINTENT_LLM_SEED`).
    pub seed: Option<i64>,
    /// Retries of one failed call, default 2 (`GITINTENT_LLM_MAX_RETRIES`).
    pub max_retries: Option<u32>,
    /// `api-version` query parameter, Azure's classic API (`GITINTENT_LLM_API_VERSION`).
    pub api_version: Option<String>,
    /// Azure classic deployment name: deployment URL and `api-key` header
    /// (`GITINTENT_LLM_AZURE_DEPLOYMENT`).
    pub azure_deployment: Option<String>,
}

/// The `[provider]` settings of what a request asks of the model.
fn apply_request_settings(p: &ProviderConfig, config: &mut OpenAiConfig) {
    use crate::plan::TokenLimit;
    if let Some(f) = p.response_format {
        config.response_format = f;
    }
    config.token_limit = p
        .max_completion_tokens
        .map(TokenLimit::MaxCompletionTokens)
        .or(p.max_tokens.map(TokenLimit::MaxTokens))
        .or(config.token_limit);
    config.temperature = p.temperature.or(config.temperature);
    config.seed = p.seed.or(config.seed);
    config.max_retries = p.max_retries.unwrap_or(config.max_retries);
    config.api_version = p.api_version.clone().or(config.api_version.take());
    config.azure_deployment = p.azure_deployment.clone().or(config.azure_deployment.take());
}

/// One GitOps repository.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RepositoryConfig {
    /// The name requests use (`"repo": "platform"`).
    pub name: String,
    /// A remote URL; a bare mirror is kept under the data dir and fetched before planning.
    pub url: Option<String>,
    /// A local repository (bare or not); plans read its base branch from git objects.
    pub path: Option<PathBuf>,
    /// The branch plans start from and proposals target (default `main`).
    #[serde(default = "default_branch")]
    pub base_branch: String,
    /// Where pull requests are opened (`{kind = "github"|"gitlab", url?, repo}`);
    /// overrides `forge:` in the repository's `.gitintent.yaml`. The token comes
    /// from `GITINTENT_FORGE_TOKEN` (else `GITHUB_TOKEN`/`GITLAB_TOKEN`).
    pub forge: Option<crate::propose::ForgeConfig>,
    /// How to reach this repository's clusters for `GET /v1/drift`
    /// (`[repository.cluster]`, see `super::cluster`); without it, drift is off.
    pub cluster: Option<super::cluster::ClusterConfig>,
}

fn default_branch() -> String {
    "main".to_string()
}

/// One bearer token: its hash and what it may do.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TokenConfig {
    /// Who the token belongs to; recorded as the requester.
    pub name: String,
    /// SHA-256 of the token, lowercase hex (64 characters).
    pub sha256: String,
    /// Repositories it may use; `["*"]` for all.
    #[serde(default = "all")]
    pub repos: Vec<String>,
    /// Environments it may plan for; `["*"]` for all.
    #[serde(default = "all")]
    pub envs: Vec<String>,
    /// `plan` and/or `propose`.
    #[serde(default = "plan_only")]
    pub rights: Vec<Right>,
    /// Environments it may propose to, when narrower than `envs`.
    pub propose_envs: Option<Vec<String>>,
}

fn all() -> Vec<String> {
    vec!["*".to_string()]
}

fn plan_only() -> Vec<Right> {
    vec![Right::Plan]
}

pub use crate::grant::Right;

impl TokenConfig {
    /// What the token may do.
    pub fn grant(&self) -> crate::grant::Grant {
        crate::grant::Grant {
            repos: self.repos.clone(),
            envs: self.envs.clone(),
            rights: self.rights.clone(),
            propose_envs: self.propose_envs.clone(),
        }
    }
}

/// Request and concurrency limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Limits {
    /// Largest request body, bytes (default 64 KiB).
    #[serde(default = "default_body_bytes")]
    pub body_bytes: usize,
    /// Longest a request may take, seconds (default 150).
    #[serde(default = "default_timeout")]
    pub request_timeout_secs: u64,
    /// Plans (model calls) running at once (default 16).
    #[serde(default = "default_model_calls")]
    pub max_model_calls: usize,
    /// Plans allowed to wait for a slot; beyond it, `429` (default 64).
    #[serde(default = "default_queue")]
    pub queue: usize,
    /// `POST /v1/validate` requests running at once (default 4).
    #[serde(default = "default_validations")]
    pub max_validations: usize,
    /// Validations allowed to wait for a slot; beyond it, `429` (default 16).
    #[serde(default = "default_validate_queue")]
    pub validate_queue: usize,
    /// Open connections at once; beyond it, new ones wait in the kernel's
    /// backlog until one closes (default 512, below the usual 1024 file descriptors).
    #[serde(default = "default_connections")]
    pub max_connections: usize,
    /// A connection must send a whole request head within this many seconds
    /// of opening or of its previous response, else it is closed (default 10).
    #[serde(default = "default_header_read_timeout")]
    pub header_read_timeout_secs: u64,
    /// A connection with no request running and no byte read or written for
    /// this many seconds is closed (default 60).
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout_secs: u64,
    /// PostgreSQL store: connections in the pool at most (default 16).
    #[serde(default = "default_store_connections")]
    pub store_connections: usize,
    /// Seconds a replica's claim on an in-flight plan lasts unless renewed
    /// (renewed every third of it); another replica recovers the plan after it (default 30).
    #[serde(default = "default_lease")]
    pub plan_lease_secs: u64,
}

fn default_body_bytes() -> usize {
    64 * 1024
}
fn default_timeout() -> u64 {
    150
}
fn default_model_calls() -> usize {
    16
}
fn default_queue() -> usize {
    64
}
fn default_validations() -> usize {
    4
}
fn default_validate_queue() -> usize {
    16
}
fn default_connections() -> usize {
    512
}
fn default_header_read_timeout() -> u64 {
    10
}
fn default_idle_timeout() -> u64 {
    60
}
fn default_store_connections() -> usize {
    16
}
fn default_lease() -> u64 {
    30
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_bytes: default_body_bytes(),
            request_timeout_secs: default_timeout(),
            max_model_calls: default_model_calls(),
            queue: default_queue(),
            max_validations: default_validations(),
            validate_queue: default_validate_queue(),
            max_connections: default_connections(),
            header_read_timeout_secs: default_header_read_timeout(),
            idle_timeout_secs: default_idle_timeout(),
            store_connections: default_store_connections(),
            plan_lease_secs: default_lease(),
        }
    }
}

impl Limits {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_secs)
    }

    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }

    pub fn plan_lease(&self) -> Duration {
        Duration::from_secs(self.plan_lease_secs)
    }
}

/// What the command line says; each `Some` wins over file and environment.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub listen: Option<String>,
    /// `NAME=PATH_OR_URL` pairs from `--repo`.
    pub repos: Vec<String>,
    pub insecure_no_auth: bool,
    pub store: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: default_listen(),
            provider: ProviderConfig::default(),
            repositories: Vec::new(),
            tokens: Vec::new(),
            slack: crate::slack::SlackConfig::default(),
            store: None,
            data_dir: None,
            limits: Limits::default(),
            insecure_no_auth: false,
        }
    }
}

impl Config {
    /// Parses TOML text; `path` is only used in messages.
    pub fn from_toml(text: &str, path: &Path) -> Result<Config, Error> {
        toml::from_str(text).map_err(|e| Error::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })
    }

    /// File (if any) < environment (`env` looks variables up) < `overrides`; then checked.
    pub fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
        overrides: Overrides,
    ) -> Result<Config, Error> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                Config::from_toml(&text, path)?
            }
            None => Config::default(),
        };
        let env = |name: &str| env(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        if let Some(listen) = env("GITINTENT_LISTEN") {
            config.listen = listen;
        }
        if let Some(secret) = env("GITINTENT_SLACK_SIGNING_SECRET") {
            config.slack.signing_secret = secret;
        }
        if let Some(store) = env("GITINTENT_STORE") {
            config.store = Some(PathBuf::from(store));
        }
        if let Some(url) = env("GITINTENT_LLM_BASE_URL") {
            config.provider.base_url = Some(url);
        }
        if let Some(model) = env("GITINTENT_LLM_MODEL") {
            config.provider.model = Some(model);
        }
        if let Some(listen) = overrides.listen {
            config.listen = listen;
        }
        if let Some(store) = overrides.store {
            config.store = Some(store);
        }
        for pair in &overrides.repos {
            config.repositories.push(repo_flag(pair)?);
        }
        config.insecure_no_auth = overrides.insecure_no_auth;
        if config.store.is_none() {
            config.store = default_store(&env);
        }
        let postgres = matches!(config.store_location(), Ok(Location::Postgres(_)));
        if postgres && config.data_dir.is_none() {
            config.data_dir = default_store(&env).and_then(|p| p.parent().map(Path::to_path_buf));
        }
        config.check()?;
        Ok(config)
    }

    /// The listen address, parsed.
    pub fn listen_addr(&self) -> Result<SocketAddr, Error> {
        self.listen.parse().map_err(|_| {
            invalid(
                "listen",
                format!("{:?} is not an address such as 127.0.0.1:8080", self.listen),
            )
        })
    }

    /// Where the store is (always set after [`Config::load`]): a SQLite path
    /// or a PostgreSQL URL; any other URL scheme is refused, naming the supported ones.
    pub fn store_location(&self) -> Result<Location, Error> {
        let store = self.store.as_deref().ok_or_else(|| {
            invalid(
                "store",
                "no store: set store, GITINTENT_STORE, or HOME/XDG_DATA_HOME",
            )
        })?;
        let text = store
            .to_str()
            .ok_or_else(|| invalid("store", format!("{} is not valid UTF-8", store.display())))?;
        Location::parse(text).map_err(|e| invalid("store", e.to_string()))
    }

    /// Where remote mirrors live.
    pub fn mirror_dir(&self) -> Result<PathBuf, Error> {
        if let Some(dir) = &self.data_dir {
            return Ok(dir.join("mirrors"));
        }
        match self.store_location()? {
            Location::Sqlite(path) => Ok(path.parent().unwrap_or_else(|| Path::new(".")).join("mirrors")),
            Location::Postgres(_) => Err(invalid(
                "data-dir",
                "with a PostgreSQL store, set data-dir (or HOME/XDG_DATA_HOME) for the repository mirrors",
            )),
        }
    }

    /// The openai planner settings, or `None` for builtin only. The key is
    /// read from the environment variable the config names.
    pub fn openai(&self, env: impl Fn(&str) -> Option<String>) -> Result<Option<OpenAiConfig>, Error> {
        let p = &self.provider;
        let key_var = p.api_key_env.as_deref().unwrap_or("GITINTENT_LLM_API_KEY");
        let get = |n: &str| env(n).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let api_key =
            get(key_var).or_else(|| p.api_key_env.is_none().then(|| get("OPENAI_API_KEY")).flatten());
        if p.base_url.is_none() && api_key.is_none() {
            return Ok(None);
        }
        let mut config = OpenAiConfig::new(
            p.base_url
                .clone()
                .unwrap_or_else(|| OpenAiConfig::DEFAULT_BASE_URL.into()),
            p.model
                .clone()
                .unwrap_or_else(|| OpenAiConfig::DEFAULT_MODEL.into()),
        );
        config.api_key = api_key;
        if let Some(secs) = p.deadline_secs {
            config.deadline = Duration::from_secs(secs);
            config.timeout = config.timeout.min(config.deadline);
        }
        if let Some(n) = p.max_attempts {
            config.max_attempts = n;
        }
        apply_request_settings(p, &mut config);
        config
            .apply_env(&env)
            .and_then(|()| config.check())
            .map_err(|e| invalid("provider", e.to_string()))?;
        Ok(Some(config))
    }
}

/// `NAME=PATH_OR_URL` from `--repo`.
fn repo_flag(pair: &str) -> Result<RepositoryConfig, Error> {
    let Some((name, target)) = pair
        .split_once('=')
        .filter(|(n, t)| !n.is_empty() && !t.is_empty())
    else {
        return Err(invalid("--repo", format!("{pair:?} is not NAME=PATH_OR_URL")));
    };
    let is_url = target.contains("://") || (target.contains('@') && target.contains(':'));
    Ok(RepositoryConfig {
        name: name.to_string(),
        url: is_url.then(|| target.to_string()),
        path: (!is_url).then(|| PathBuf::from(target)),
        base_branch: default_branch(),
        forge: None,
        cluster: None,
    })
}

fn default_store(env: &impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let data = env("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| Path::new(&h).join(".local/share")))?;
    Some(data.join("gitintent/gitintent.db"))
}

mod check;
#[cfg(test)]
mod tests;
