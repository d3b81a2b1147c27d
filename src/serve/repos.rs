//! The service's GitOps repositories: local paths (bare or not) or URLs
//! mirrored under the data dir, always read at their base branch from git
//! objects (never from a working tree, which may hold anyone's edits).
//!
//! [`Repository::prepare`] fetches a mirror (coalesced: requests that queued
//! behind one fetch reuse it), resolves the base branch, and returns the
//! pipeline [`Context`] for that commit, cached per commit. [`Repository::changes`]
//! compares planned files with the base tree. Callers hold the repository's
//! lock ([`Repository::lock`]) while doing git work, so git work on one
//! repository is serialised while repositories run in parallel.
//!
//! It does not write to repositories; proposals do (see `super::api`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::config::{Credentials, RepositoryConfig};
use crate::manifest::File;
use crate::pipeline::Context;

/// Repository faults.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("git: {0}")]
    Git(#[from] git2::Error),
    #[error("repository {repo:?} has no branch {branch:?}")]
    NoBaseBranch { repo: String, branch: String },
    #[error("cannot prepare the configuration of repository {repo:?}")]
    Io {
        repo: String,
        #[source]
        source: std::io::Error,
    },
    #[error("repository {repo:?}: {source}")]
    Context {
        repo: String,
        #[source]
        source: Box<crate::Error>,
    },
}

/// What a planned file does to the base branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub path: String,
    /// `added`, `modified` or `unchanged`.
    pub status: String,
    /// Unified diff against the base branch (empty when unchanged).
    pub diff: String,
}

/// Mutable per-repository state, behind the repository lock.
#[derive(Default)]
pub struct RepoState {
    synced_at: Option<Instant>,
    cached: Option<(git2::Oid, Arc<Context>)>,
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

    /// Fetches (mirrors only, unless a fetch finished after `requested_at`),
    /// resolves the base branch and returns its commit and pipeline context.
    pub fn prepare(
        &self,
        state: &mut RepoState,
        requested_at: Instant,
    ) -> Result<(git2::Oid, Arc<Context>), Error> {
        if let Some(url) = &self.config.url {
            if state.synced_at.is_none_or(|t| t < requested_at) {
                self.fetch(url)?;
                state.synced_at = Some(Instant::now());
            }
        }
        let repo = git2::Repository::open(&self.git_dir)?;
        let commit = self.base_commit(&repo)?;
        if let Some((oid, ctx)) = &state.cached {
            if *oid == commit {
                return Ok((commit, ctx.clone()));
            }
        }
        let ctx = Arc::new(self.context_at(&repo, commit)?);
        state.cached = Some((commit, ctx.clone()));
        Ok((commit, ctx))
    }

    /// Opens the repository and resolves its base branch (readiness).
    pub fn check(&self) -> Result<git2::Oid, Error> {
        let repo = git2::Repository::open(&self.git_dir)?;
        self.base_commit(&repo)
    }

    fn base_commit(&self, repo: &git2::Repository) -> Result<git2::Oid, Error> {
        let branch = &self.config.base_branch;
        let reference = repo
            .find_reference(&format!("refs/heads/{branch}"))
            .or_else(|_| repo.find_reference(&format!("refs/remotes/origin/{branch}")))
            .map_err(|_| Error::NoBaseBranch {
                repo: self.config.name.clone(),
                branch: branch.clone(),
            })?;
        Ok(reference.peel_to_commit()?.id())
    }

    fn fetch(&self, url: &str) -> Result<(), Error> {
        let repo = match git2::Repository::open_bare(&self.git_dir) {
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
        let mut remote = repo.remote_anonymous(url)?;
        let mut options = git2::FetchOptions::new();
        options.remote_callbacks(callbacks(&self.config.credentials));
        options.prune(git2::FetchPrune::On);
        remote.fetch(&["+refs/heads/*:refs/heads/*"], Some(&mut options), None)?;
        Ok(())
    }

    /// The pipeline context for `commit`: `.gitintent.yaml` and the policy
    /// directories, read from git objects.
    ///
    /// composition point: when `crate::repo::Snapshot` and
    /// `pipeline::Context::from_snapshot` land (branch h-index), replace the
    /// body with `Context::from_snapshot(&Snapshot::at(repo, commit)?)`.
    fn context_at(&self, repo: &git2::Repository, commit: git2::Oid) -> Result<Context, Error> {
        let tree = repo.find_commit(commit)?.tree()?;
        let scratch = Scratch::new().map_err(|source| Error::Io {
            repo: self.config.name.clone(),
            source,
        })?;
        let io = |source| Error::Io {
            repo: self.config.name.clone(),
            source,
        };
        extract(repo, &tree, ".gitintent.yaml", &scratch.0).map_err(io)?;
        let config = crate::repo::RepoConfig::load(&scratch.0).map_err(|e| Error::Context {
            repo: self.config.name.clone(),
            source: Box::new(e.into()),
        })?;
        let dirs = if config.policies.is_empty() {
            vec!["policies".to_string()]
        } else {
            config.policies.clone()
        };
        for dir in dirs {
            extract(repo, &tree, dir.trim_end_matches('/'), &scratch.0).map_err(io)?;
        }
        Context::load(&scratch.0).map_err(|e| Error::Context {
            repo: self.config.name.clone(),
            source: Box::new(e),
        })
    }

    /// Compares planned files with the base tree at `commit`.
    ///
    /// composition point: the index helper's diff (branch h-index) can
    /// replace this with per-resource changes.
    pub fn changes(&self, commit: git2::Oid, files: &[File]) -> Result<Vec<Change>, Error> {
        let repo = git2::Repository::open(&self.git_dir)?;
        let tree = repo.find_commit(commit)?.tree()?;
        files
            .iter()
            .map(|f| {
                let old = match tree.get_path(Path::new(&f.path)) {
                    Ok(entry) => {
                        let blob = entry.to_object(&repo)?.peel_to_blob()?;
                        Some(String::from_utf8_lossy(blob.content()).into_owned())
                    }
                    Err(_) => None,
                };
                let (status, diff) = match old {
                    None => ("added", unified("/dev/null", &f.path, "", &f.content)),
                    Some(old) if old == f.content => ("unchanged", String::new()),
                    Some(old) => ("modified", unified(&f.path, &f.path, &old, &f.content)),
                };
                Ok(Change {
                    path: f.path.clone(),
                    status: status.to_string(),
                    diff,
                })
            })
            .collect()
    }
}

fn unified(old_name: &str, new_name: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .header(
            &if old_name == "/dev/null" {
                old_name.to_string()
            } else {
                format!("a/{old_name}")
            },
            &format!("b/{new_name}"),
        )
        .to_string()
}

/// Git credentials from the environment variables the config names.
pub fn callbacks(credentials: &Credentials) -> git2::RemoteCallbacks<'static> {
    let credentials = credentials.clone();
    let mut callbacks = git2::RemoteCallbacks::new();
    callbacks.credentials(move |_url, username, allowed| {
        let var = |name: &Option<String>| name.as_deref().and_then(|n| std::env::var(n).ok());
        if allowed.contains(git2::CredentialType::SSH_KEY) {
            if let Some(key) = var(&credentials.ssh_key_env) {
                return git2::Cred::ssh_key(username.unwrap_or("git"), None, Path::new(&key), None);
            }
        }
        if allowed.contains(git2::CredentialType::USER_PASS_PLAINTEXT) {
            if let Some(password) = var(&credentials.password_env) {
                let user = var(&credentials.username_env).unwrap_or_else(|| "git".into());
                return git2::Cred::userpass_plaintext(&user, &password);
            }
        }
        Err(git2::Error::from_str(
            "no credentials configured for this repository (repository.credentials)",
        ))
    });
    callbacks
}

/// Copies `rel` (a blob or a tree) from `tree` into `dest`, if it exists.
fn extract(repo: &git2::Repository, tree: &git2::Tree<'_>, rel: &str, dest: &Path) -> std::io::Result<()> {
    let Ok(entry) = tree.get_path(Path::new(rel)) else {
        return Ok(());
    };
    let target = crate::repo::join_inside(dest, rel).map_err(std::io::Error::other)?;
    let object = entry.to_object(repo).map_err(std::io::Error::other)?;
    write_object(repo, &object, &target)
}

fn write_object(repo: &git2::Repository, object: &git2::Object<'_>, target: &Path) -> std::io::Result<()> {
    if let Some(blob) = object.as_blob() {
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir)?;
        }
        return std::fs::write(target, blob.content());
    }
    if let Some(tree) = object.as_tree() {
        std::fs::create_dir_all(target)?;
        for entry in tree.iter() {
            let Some(name) = entry
                .name()
                .ok()
                .filter(|n| !n.contains(['/', '\\']) && *n != ".." && *n != ".")
            else {
                continue;
            };
            let child = entry.to_object(repo).map_err(std::io::Error::other)?;
            write_object(repo, &child, &target.join(name))?;
        }
    }
    Ok(())
}

/// A temporary directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> std::io::Result<Scratch> {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).map_err(std::io::Error::other)?;
        let dir = std::env::temp_dir().join(format!("gitintent-ctx-{}", hex::encode(bytes)));
        std::fs::create_dir_all(&dir)?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
