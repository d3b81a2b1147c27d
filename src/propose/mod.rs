//! Propose: turn planned files into a reviewable branch, push it, open a pull request.
//!
//! - [`commit`] builds one commit from the base tree plus new blobs with git2. It never
//!   touches a working tree, the index or `HEAD`, so it works on bare repositories and
//!   leaves a user's checkout alone. Branches live under `refs/heads/gitintent/`; the
//!   ref update is a compare-and-swap, so concurrent proposals never lose a ref.
//! - [`push`] pushes that branch with git2 (`file://`, `git://`, HTTPS with a token, SSH
//!   with ssh-agent or a key) and reports a rejection (non-fast-forward) clearly.
//! - [`commit_plan`] / [`prepare_plan`]: a plan diffed against the base snapshot
//!   (`crate::repo::diff`), made a commit request, and described as a pull request.
//! - [`publish`] is the composition the CLI and the service share: commit, push with a
//!   lease, roll the local branch back when the push fails, open the pull request.
//! - [`open_pull_request`] opens a pull request (GitHub) or merge request (GitLab)
//!   through the [`Forge`] trait, reusing the one that already exists.
//!
//! What it does not do: plan, render, validate or diff (the caller hands it files and
//! findings), choose paths (the renderer did, and every path is checked again here), or
//! run any `git` command.

mod branch;
mod commit;
mod forge;
mod from_plan;
mod publish;
mod push;
mod tree;

pub use branch::{default_branch, slug};
pub(crate) use commit::author_from_git_config;
pub use commit::{commit, rollback, spec_sha256, Author, DiffStats, Proposal, Request, Status, Trailers};
pub use forge::{
    body, describe_change, infer_forge, open_pull_request, summary, Forge, ForgeAuth, ForgeConfig,
    ForgeFuture, ForgeKind, GitHub, GitLab, PullRequest, PullRequestRequest,
};
pub use from_plan::{base_name, commit_plan, prepare_plan, with_reach, Committed, Options, Prepared};
pub use publish::{commit_and_push, forge_base, open_pull_request_for, publish, Publish, Step, Unpublished};
pub use push::{bound_network_waits, push, select_credential, CredentialChoice, Credentials, PushOptions};

use std::path::PathBuf;

/// Why a proposal could not be made. [`Error::is_bad_input`] tells a refusal the
/// caller can fix (exit 2 / HTTP 4xx) from a fault (exit 3 / HTTP 5xx).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The repository path is not a git repository.
    #[error("{path} is not a git repository")]
    NotARepository {
        path: PathBuf,
        #[source]
        source: GitError,
    },
    /// The base ref does not resolve to a commit.
    #[error("base {base:?} not found in the repository (no branch, remote branch or commit of that name)")]
    BaseNotFound {
        base: String,
        #[source]
        source: GitError,
    },
    /// The plan has error findings; nothing was committed.
    #[error("refusing to propose a plan with {0} error finding(s); fix them first")]
    Findings(usize),
    /// The branch is protected (the base, main, master, or a configured pattern).
    #[error("refusing to commit to protected branch {branch:?} (matches {pattern:?})")]
    Protected { branch: String, pattern: String },
    /// The branch name is not valid or not in the `gitintent/` namespace.
    #[error("invalid branch name {name:?}: {reason}")]
    InvalidBranch { name: String, reason: String },
    /// A planned path is not a plain relative path (or points into `.git`).
    #[error("refusing to commit {0:?}: not a plain relative path inside the repository")]
    UnsafePath(String),
    /// Something in the base tree stands where a planned file goes: a
    /// symbolic link (never written through, even in a commit), a file where
    /// a directory must be, or a directory where the file must be.
    #[error("refusing to commit {path:?}: {what:?} in the base is {reason}")]
    InTheWay {
        path: String,
        what: String,
        reason: &'static str,
    },
    /// The base already holds exactly these files.
    #[error("nothing to change: {base} already holds these files")]
    NothingToChange { base: String },
    /// The branch exists but holds commits gitintent did not make, or is not based on the base.
    #[error(
        "branch {branch:?} exists and {reason}; refusing to touch it (delete it or choose another branch)"
    )]
    NotOurs { branch: String, reason: String },
    /// The branch was proposed on an older base; rebuilding it needs consent.
    #[error("branch {branch:?} was proposed on an older {base}; rebuilding it on the current {base} needs consent")]
    Stale { branch: String, base: String },
    /// A ref lock is held (another git process, or a stale `.lock` file).
    #[error("{reference} is locked (a {reference}.lock file exists): another git process is running, or it crashed and left the lock behind")]
    Locked { reference: String },
    /// The branch kept moving under us.
    #[error("branch {0:?} kept changing while proposing; try again")]
    Contended(String),
    /// No author: none configured, none in the environment, none in git config.
    #[error("no commit author: set `author: {{name, email}}` in .gitintent.yaml, GITINTENT_AUTHOR_NAME and GITINTENT_AUTHOR_EMAIL, or git config user.name and user.email")]
    NoAuthor,
    /// A git operation failed (I/O, permissions, corrupt objects).
    #[error("git: cannot {action}")]
    Git {
        action: String,
        #[source]
        source: GitError,
    },
    /// The remote is not configured and is not a URL.
    #[error("remote {0:?} is neither a configured remote nor a URL")]
    RemoteNotFound(String),
    /// The push failed before the remote answered (unreachable, auth, protocol).
    #[error("cannot push {branch} to {remote}")]
    Push {
        branch: String,
        remote: String,
        #[source]
        source: GitError,
    },
    /// The remote refused the update.
    #[error("{remote} rejected {branch}: {reason}{}", if *.non_fast_forward { " (the remote branch has commits this one lacks)" } else { "" })]
    Rejected {
        branch: String,
        remote: String,
        reason: String,
        non_fast_forward: bool,
    },
    /// Forge configuration is missing or wrong (no token, unknown host, bad repo path).
    #[error("forge configuration: {0}")]
    ForgeConfig(String),
    /// The forge could not be reached.
    #[error("cannot reach the forge at {url}")]
    ForgeHttp {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// The forge's rate limit is exhausted for longer than gitintent waits.
    #[error("the forge at {url} is rate-limiting this token; retry in {retry_after} s (at {at})")]
    RateLimited {
        url: String,
        retry_after: u64,
        at: String,
    },
    /// The forge answered with an error.
    #[error("the forge answered {status} to {method} {url}: {message}")]
    Forge {
        method: &'static str,
        url: String,
        status: u16,
        message: String,
    },
}

impl Error {
    /// True for refusals the caller can fix by changing the request; false for faults.
    pub fn is_bad_input(&self) -> bool {
        self.class() == crate::Class::BadInput
    }

    fn git(action: impl Into<String>) -> impl FnOnce(git2::Error) -> Error {
        let action = action.into();
        move |source| Error::Git {
            action,
            source: GitError(source),
        }
    }
}

/// A libgit2 error that displays its message only; libgit2's class and code stay
/// available through the inner [`git2::Error`] (and `Debug`).
#[derive(Debug)]
pub struct GitError(pub git2::Error);

impl std::fmt::Display for GitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.message().trim_end_matches(['.', '\n']))
    }
}

impl std::error::Error for GitError {}

impl From<git2::Error> for GitError {
    fn from(e: git2::Error) -> GitError {
        GitError(e)
    }
}
