//! The service's GitOps repositories: local paths (bare or not) or URLs
//! mirrored under the data dir, always read at their base branch from git
//! objects (never from a working tree, which may hold anyone's edits).
//!
//! [`Repository::prepare`] fetches a mirror (coalesced: requests that queued
//! behind one fetch reuse it), resolves the base branch and opens a
//! [`Workspace`] at that commit (indexed with a per-repository
//! [`IndexCache`]), cached per commit. [`Repository::absorb`] diffs a plan
//! against the same commit. Callers
//! hold the repository's lock ([`Repository::lock`]) while doing git work,
//! so git work on one repository is serialised while repositories run in
//! parallel.
//!
//! It does not write to repositories; proposals do (`super::proposal`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use super::config::RepositoryConfig;
use crate::pipeline::Plan;
use crate::repo::{Changeset, IndexCache};
use crate::workspace::Workspace;

/// Repository faults.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("git: {0}")]
    Git(#[from] git2::Error),
    #[error("cannot create the mirror directory of repository {repo:?}")]
    Io {
        repo: String,
        #[source]
        source: std::io::Error,
    },
    #[error("repository {repo:?}")]
    Repo {
        repo: String,
        #[source]
        source: Box<crate::Error>,
    },
}

/// Mutable per-repository state, behind the repository lock.
#[derive(Default)]
pub struct RepoState {
    synced_at: Option<Instant>,
    cache: IndexCache,
    /// The workspace of the last base commit, shared by every plan on it.
    current: Option<Workspace>,
}

/// One configured repository.
pub struct Repository {
    pub config: RepositoryConfig,
    git_dir: PathBuf,
    lock: Arc<tokio::sync::Mutex<RepoState>>,
}

/// Every configured repository, by name.
#[derive(Default)]
pub struct Repositories {
    map: BTreeMap<String, Arc<Repository>>,
}

impl Repositories {
    /// Builds the set; mirrors of URL repositories live under `mirror_dir`.
    pub fn new(configs: &[RepositoryConfig], mirror_dir: &Path) -> Repositories {
        let map = configs
            .iter()
            .map(|c| {
                let git_dir = match (&c.path, &c.url) {
                    (Some(path), _) => path.clone(),
                    _ => mirror_dir.join(format!("{}.git", c.name)),
                };
                let repo = Repository {
                    config: c.clone(),
                    git_dir,
                    lock: Arc::default(),
                };
                (c.name.clone(), Arc::new(repo))
            })
            .collect();
        Repositories { map }
    }

    pub fn get(&self, name: &str) -> Option<Arc<Repository>> {
        self.map.get(name).cloned()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }

    pub fn all(&self) -> impl Iterator<Item = &Arc<Repository>> {
        self.map.values()
    }
}

impl Repository {
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// The lock serialising git work on this repository.
    pub async fn lock(&self) -> tokio::sync::OwnedMutexGuard<RepoState> {
        self.lock.clone().lock_owned().await
    }

    /// Where the git objects are (the path, or the mirror).
    pub fn git_dir(&self) -> &Path {
        &self.git_dir
    }

    /// Where to push: the URL for mirrors, `origin` for local repositories
    /// that have it, nothing otherwise (the branch stays local).
    pub fn push_remote(&self) -> Option<String> {
        if let Some(url) = &self.config.url {
            return Some(url.clone());
        }
        let git = git2::Repository::open(&self.git_dir).ok()?;
        git.find_remote("origin").ok().map(|_| "origin".to_string())
    }

    fn fail(&self, e: impl Into<crate::Error>) -> Error {
        Error::Repo {
            repo: self.config.name.clone(),
            source: Box::new(e.into()),
        }
    }

    /// Fetches (mirrors only, unless a fetch finished after `requested_at`),
    /// resolves the base branch and returns what planning on it needs. Only a
    /// new base commit costs more than a ref lookup: then it is snapshotted
    /// and indexed (reusing parsed blobs) and its context read.
    pub fn prepare(&self, state: &mut RepoState, requested_at: Instant) -> Result<Workspace, Error> {
        if let Some(url) = &self.config.url {
            if state.synced_at.is_none_or(|t| t < requested_at) {
                self.fetch(url)?;
                state.synced_at = Some(Instant::now());
            }
        }
        let commit = self.check()?.to_string();
        if let Some(w) = &state.current {
            if w.base().commit == commit {
                return Ok(w.clone());
            }
        }
        let reference = format!("refs/heads/{}", self.config.base_branch);
        let workspace = Workspace::open_at(&self.git_dir, &reference, &commit, &mut state.cache)
            .map_err(|e| self.fail(e))?;
        state.current = Some(workspace.clone());
        Ok(workspace)
    }

    /// Diffs a plan against the commit `workspace` was read at, folding the
    /// diff's findings into the plan. Needs no lock: it opens its own
    /// snapshot of that (immutable) commit.
    pub fn absorb(&self, workspace: &Workspace, plan: &mut Plan) -> Result<Changeset, Error> {
        workspace.absorb(plan).map_err(|e| self.fail(e))
    }

    /// Opens the repository and resolves its base branch (readiness).
    pub fn check(&self) -> Result<git2::Oid, Error> {
        let git = git2::Repository::open(&self.git_dir)?;
        let branch = &self.config.base_branch;
        let commit = git
            .revparse_single(&format!("refs/heads/{branch}"))
            .or_else(|_| git.revparse_single(branch))?
            .peel_to_commit()?;
        Ok(commit.id())
    }

    fn fetch(&self, url: &str) -> Result<(), Error> {
        let git = match git2::Repository::open_bare(&self.git_dir) {
            Ok(r) => r,
            Err(_) => {
                if let Some(parent) = self.git_dir.parent() {
                    std::fs::create_dir_all(parent).map_err(|source| Error::Io {
                        repo: self.config.name.clone(),
                        source,
                    })?;
                }
                git2::Repository::init_bare(&self.git_dir)?
            }
        };
        let mut remote = git.remote_anonymous(url)?;
        let mut options = git2::FetchOptions::new();
        options.remote_callbacks(callbacks());
        options.prune(git2::FetchPrune::On);
        remote.fetch(&["+refs/heads/*:refs/heads/*"], Some(&mut options), None)?;
        Ok(())
    }
}

/// Fetch credentials from the same environment variables pushes use
/// (`GITINTENT_GIT_TOKEN`, `GITINTENT_GIT_USERNAME`, `GITINTENT_SSH_KEY`, ssh-agent).
fn callbacks() -> git2::RemoteCallbacks<'static> {
    let credentials = crate::propose::Credentials::from_env();
    let mut callbacks = git2::RemoteCallbacks::new();
    let mut attempt = 0;
    callbacks.credentials(move |url, username, allowed| {
        use crate::propose::CredentialChoice as C;
        let choice = crate::propose::select_credential(&credentials, username, allowed, attempt);
        attempt += 1;
        match choice {
            C::Username(user) => git2::Cred::username(&user),
            C::SshKey { username, path } => git2::Cred::ssh_key(&username, None, &path, None),
            C::SshAgent { username } => git2::Cred::ssh_key_from_agent(&username),
            C::Token { username } => {
                git2::Cred::userpass_plaintext(&username, credentials.token.as_deref().unwrap_or_default())
            }
            C::Helper => git2::Cred::credential_helper(&git2::Config::open_default()?, url, username),
            C::Default => git2::Cred::default(),
            C::Nothing => Err(git2::Error::from_str(
                "no credentials for this remote: set GITINTENT_GIT_TOKEN or GITINTENT_SSH_KEY",
            )),
        }
    });
    callbacks
}
