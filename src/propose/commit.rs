//! The commit: base tree + new blobs → one commit on a `gitintent/` branch.
//!
//! Objects are written straight into the object database and the branch is moved with
//! a compare-and-swap; the working tree, the index and `HEAD` are never read or written.
//! A failure before the ref update leaves only unreachable objects (as any git command
//! would); a failure at the ref update leaves the ref as it was.

use std::path::{Path, PathBuf};
use std::time::Duration;

use git2::{ErrorCode, Oid, Repository, Signature};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::branch;
use super::tree::{build_tree, stats};
use super::{Error, PullRequest};
use crate::finding::Finding;
use crate::manifest::File;
pub use crate::repo::Author;
use crate::spec::Spec;

/// How often a ref update is retried when another proposal moved the ref or held its lock.
const ATTEMPTS: u32 = 8;
/// How far back the branch history is checked for commits gitintent did not make.
const MAX_OWN_COMMITS: usize = 100;

/// Everything [`commit`] needs. Paths in `files` are relative to the repository root.
#[derive(Debug, Clone)]
pub struct Request {
    /// The repository (a working tree's root or a bare repository's directory).
    pub repo: PathBuf,
    /// The base: a branch (`main`), a remote branch (`origin/main`) or a revision.
    pub base: String,
    /// The exact base commit the files were diffed against (`Snapshot::commit`); when set
    /// the proposal is built on it even if `base` has moved since. `None`: resolve `base`.
    pub base_commit: Option<String>,
    /// The branch to write; default [`super::default_branch`]. Must start with `gitintent/`.
    pub branch: Option<String>,
    /// The files to add or replace on top of the base tree.
    pub files: Vec<File>,
    /// Paths to delete from the base tree (`Changeset::deleted`).
    pub delete: Vec<String>,
    /// One line: the commit subject and pull request title.
    pub summary: String,
    /// The intent as the user wrote it (already redacted).
    pub intent: String,
    pub trailers: Trailers,
    /// The plan's findings; any error finding refuses the proposal.
    pub findings: Vec<Finding>,
    /// Protected branch globs (from `.gitintent.yaml`), on top of main, master and the base.
    pub protected: Vec<String>,
    /// The author and committer; `None` falls back to git config `user.name`/`user.email`.
    pub author: Option<Author>,
    /// A committer other than the author (the service committing for a requester).
    pub committer: Option<Author>,
    /// Rebuild a branch proposed on an older base on the current base.
    pub rebase: bool,
}

/// Provenance recorded as commit trailers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trailers {
    pub plan_id: String,
    pub planner: crate::plan::PlannerName,
    pub model: Option<String>,
    /// [`spec_sha256`] of the planned spec.
    pub spec_sha256: String,
}

impl Author {
    /// `GITINTENT_AUTHOR_NAME` + `GITINTENT_AUTHOR_EMAIL` when both are set, else `configured`.
    pub fn from_env_or(configured: Option<Author>) -> Option<Author> {
        let var = |k| std::env::var(k).ok().filter(|v: &String| !v.trim().is_empty());
        match (var("GITINTENT_AUTHOR_NAME"), var("GITINTENT_AUTHOR_EMAIL")) {
            (Some(name), Some(email)) => Some(Author { name, email }),
            _ => configured,
        }
    }
}

/// What happened to the branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// A new branch.
    Created,
    /// The branch existed (ours) and moved: a new commit on it, or rebuilt on a new base.
    Updated,
    /// The branch already holds exactly these files on this base: already proposed.
    Unchanged,
}

/// Added/modified files and line counts between the base and the proposal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DiffStats {
    pub files_added: usize,
    pub files_modified: usize,
    pub insertions: usize,
    pub deletions: usize,
}

/// The outcome of a proposal; `pushed` and `pull_request` are filled in by the caller.
#[derive(Debug, Clone, Serialize)]
pub struct Proposal {
    pub branch: String,
    pub commit: String,
    pub status: Status,
    /// The base branch name (`main`).
    pub base: String,
    /// The base commit the proposal sits on.
    pub base_commit: String,
    /// Where the branch pointed before an update (for [`rollback`]).
    #[serde(skip)]
    pub previous: Option<String>,
    pub stats: DiffStats,
    pub pushed: bool,
    pub pull_request: Option<PullRequest>,
}

/// The sha256 of a spec's canonical JSON, as hex.
pub fn spec_sha256(spec: &Spec) -> String {
    let json = serde_json::to_vec(spec).unwrap_or_default();
    hex::encode(Sha256::digest(json))
}

/// Commits `req.files` on top of `req.base` to the proposal branch (blocking; git2).
///
/// Refuses error findings, protected or foreign branches, unsafe paths, an unchanged
/// tree, and a branch holding commits gitintent did not make. Re-proposing the same
/// files on the same base returns [`Status::Unchanged`]; different files on the same
/// base add a commit ([`Status::Updated`]); a branch made on an older base is rebuilt
/// on the current one only with `req.rebase`, and is [`Error::Stale`] otherwise.
pub fn commit(req: &Request) -> Result<Proposal, Error> {
    let errors = req.findings.iter().filter(|f| f.is_error()).count();
    if errors > 0 {
        return Err(Error::Findings(errors));
    }
    let repo = open(&req.repo)?;
    let base = base_commit(&repo, req)?;
    let base_name = req
        .base
        .strip_prefix("refs/heads/")
        .unwrap_or(&req.base)
        .to_string();
    let branch = match &req.branch {
        Some(b) => b.clone(),
        None => super::default_branch(&req.summary, &req.trailers.spec_sha256, &base_name),
    };
    branch::check(&branch, &base_name, &req.protected)?;
    let refname = format!("refs/heads/{branch}");
    if checked_out(&repo, &refname) {
        // Moving it would leave that working tree and index out of step with HEAD.
        return Err(Error::NotOurs {
            branch,
            reason: "is checked out in the working tree".into(),
        });
    }
    let base_tree = base.tree().map_err(Error::git("read the base tree"))?;
    let tree_id = build_tree(&repo, &base_tree, &req.files, &req.delete)?;
    if tree_id == base_tree.id() {
        return Err(Error::NothingToChange { base: base_name });
    }
    let tree = repo.find_tree(tree_id).map_err(Error::git("read the new tree"))?;
    let stats = stats(&repo, &base_tree, &tree)?;
    let target = Target {
        refname: &refname,
        branch: &branch,
        base_name: &base_name,
        base: &base,
    };
    let (commit, status, previous) = write_branch(&repo, req, &target, &tree)?;
    Ok(Proposal {
        commit: commit.to_string(),
        status,
        base_commit: base.id().to_string(),
        previous: previous.map(|p| p.to_string()),
        stats,
        pushed: false,
        pull_request: None,
        branch,
        base: base_name,
    })
}

/// The commit the proposal sits on: `req.base_commit` when given, else `req.base` resolved.
fn base_commit<'r>(repo: &'r Repository, req: &Request) -> Result<git2::Commit<'r>, Error> {
    match &req.base_commit {
        Some(id) => Oid::from_str(id)
            .and_then(|id| repo.find_commit(id))
            .map_err(|source| Error::BaseNotFound {
                base: id.clone(),
                source: source.into(),
            }),
        None => resolve_base(repo, &req.base),
    }
}

/// The branch a proposal moves, and the base it starts from.
struct Target<'a, 'r> {
    refname: &'a str,
    branch: &'a str,
    base_name: &'a str,
    base: &'a git2::Commit<'r>,
}

/// Commits `tree` on the proposal branch and moves the branch to it, or
/// finds the branch already holds it: the new (or unchanged) tip, its
/// status, and where an updated branch pointed before. Retries when the
/// branch moves under it.
fn write_branch(
    repo: &Repository,
    req: &Request,
    target: &Target<'_, '_>,
    tree: &git2::Tree<'_>,
) -> Result<(Oid, Status, Option<Oid>), Error> {
    let signature = signature(repo, req.author.as_ref())?;
    let committer = match &req.committer {
        Some(c) => self::signature(repo, Some(c))?,
        None => signature.clone(),
    };
    let message = message(req);
    let branch = (target.branch, target.base_name);
    for attempt in 0..ATTEMPTS {
        let tip = branch_tip(repo, target)?;
        let parent = match tip {
            None => target.base.clone(),
            Some(tip) => match decide(repo, branch, tip, target.base, tree.id(), req.rebase)? {
                Decision::Unchanged => return Ok((tip, Status::Unchanged, None)),
                Decision::CommitOn(p) => repo
                    .find_commit(p)
                    .map_err(Error::git("read the parent commit"))?,
            },
        };
        let id = repo
            .commit(None, &signature, &committer, &message, tree, &[&parent])
            .map_err(Error::git("write the commit"))?;
        let log = format!("gitintent: propose {}", one_line(&req.summary));
        if move_branch(repo, target.refname, tip, id, &log, attempt)? {
            let status = if tip.is_some() {
                Status::Updated
            } else {
                Status::Created
            };
            return Ok((id, status, tip));
        }
    }
    Err(Error::Contended(target.branch.to_string()))
}

/// Where the proposal branch points now; `None` when it does not exist.
fn branch_tip(repo: &Repository, target: &Target<'_, '_>) -> Result<Option<Oid>, Error> {
    match repo.find_reference(target.refname) {
        Ok(r) => Ok(Some(r.target().ok_or_else(|| Error::NotOurs {
            branch: target.branch.to_string(),
            reason: "is a symbolic ref".into(),
        })?)),
        Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
        Err(e) => Err(Error::git(format!("read {}", target.refname))(e)),
    }
}

/// Moves `refname` from `tip` (or creates it when `None`) to `id`; `false`
/// when someone else created, moved or held the branch first (look again),
/// after a short wait when it was locked.
fn move_branch(
    repo: &Repository,
    refname: &str,
    tip: Option<Oid>,
    id: Oid,
    log: &str,
    attempt: u32,
) -> Result<bool, Error> {
    // Create-if-absent, checked under the ref lock: a zero expected id
    // means "must not exist". (`reference(force = false)` checks before
    // taking the lock, so two racing creators could both succeed.)
    let expected = tip.unwrap_or(git2::Oid::ZERO_SHA1);
    match repo.reference_matching(refname, id, true, expected, log) {
        Ok(_) => Ok(true),
        // Someone else created or moved the branch first: look again.
        Err(e) if matches!(e.code(), ErrorCode::Exists | ErrorCode::Modified) => Ok(false),
        Err(e) if e.code() == ErrorCode::Locked => {
            if attempt + 1 == ATTEMPTS {
                return Err(Error::Locked {
                    reference: refname.to_string(),
                });
            }
            std::thread::sleep(Duration::from_millis(10 << attempt.min(4)));
            Ok(false)
        }
        Err(e) => Err(Error::git(format!("update {refname}"))(e)),
    }
}

/// Undoes [`commit`] after a later step (push) failed: deletes a created branch or moves
/// an updated one back, but only if it still points at the proposal's commit.
pub fn rollback(repo: &Path, proposal: &Proposal) -> Result<(), Error> {
    if proposal.status == Status::Unchanged {
        return Ok(());
    }
    let repo = open(repo)?;
    let refname = format!("refs/heads/{}", proposal.branch);
    let ours = Oid::from_str(&proposal.commit).map_err(Error::git("parse the commit id"))?;
    let mut reference = match repo.find_reference(&refname) {
        Ok(r) => r,
        Err(e) if e.code() == ErrorCode::NotFound => return Ok(()),
        Err(e) => return Err(Error::git(format!("read {refname}"))(e)),
    };
    if reference.target() != Some(ours) {
        return Ok(());
    }
    match &proposal.previous {
        None => reference
            .delete()
            .map_err(Error::git(format!("delete {refname}"))),
        Some(prev) => {
            let prev = Oid::from_str(prev).map_err(Error::git("parse the commit id"))?;
            repo.reference_matching(&refname, prev, true, ours, "gitintent: roll back")
                .map(drop)
                .map_err(Error::git(format!("restore {refname}")))
        }
    }
}

/// True when the repository's `HEAD` is the branch (read only; HEAD is never written).
fn checked_out(repo: &Repository, refname: &str) -> bool {
    !repo.is_bare()
        && repo
            .find_reference("HEAD")
            .ok()
            .and_then(|head| head.symbolic_target().ok().flatten().map(|t| t == refname))
            .unwrap_or(false)
}

pub(crate) fn open(path: &Path) -> Result<Repository, Error> {
    Repository::open(path).map_err(|source| Error::NotARepository {
        path: path.to_path_buf(),
        source: source.into(),
    })
}

/// `main` → `refs/heads/main`, then `refs/remotes/main` (for `origin/main`), then any revision.
pub(crate) fn resolve_base<'r>(repo: &'r Repository, base: &str) -> Result<git2::Commit<'r>, Error> {
    let not_found = |source: git2::Error| Error::BaseNotFound {
        base: base.to_string(),
        source: source.into(),
    };
    let candidates = [format!("refs/heads/{base}"), format!("refs/remotes/{base}")];
    for name in &candidates {
        if let Ok(r) = repo.find_reference(name) {
            return r.peel_to_commit().map_err(not_found);
        }
    }
    repo.revparse_single(base)
        .and_then(|o| o.peel_to_commit())
        .map_err(not_found)
}

/// The author: as given, else git config `user.name` + `user.email`, else [`Error::NoAuthor`].
fn signature(repo: &Repository, author: Option<&Author>) -> Result<Signature<'static>, Error> {
    let author = match author {
        Some(a) => a.clone(),
        None => {
            let config = repo.config().map_err(Error::git("read git config"))?;
            author_from_git_config(&config).ok_or(Error::NoAuthor)?
        }
    };
    if author.name.trim().is_empty() || author.email.trim().is_empty() {
        return Err(Error::NoAuthor);
    }
    Signature::now(&author.name, &author.email).map_err(Error::git("make the commit signature"))
}

pub(crate) fn author_from_git_config(config: &git2::Config) -> Option<Author> {
    let name = config.get_string("user.name").ok()?;
    let email = config.get_string("user.email").ok()?;
    (!name.trim().is_empty() && !email.trim().is_empty()).then_some(Author { name, email })
}

/// Whitespace (newlines included) collapsed to single spaces.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Summary line, blank, intent, blank, trailers.
fn message(req: &Request) -> String {
    let line = one_line;
    let t = &req.trailers;
    format!(
        "{}\n\n{}\n\nGitintent-Plan-Id: {}\nGitintent-Planner: {}\nGitintent-Model: {}\nGitintent-Spec-Sha256: {}\n",
        line(&req.summary),
        req.intent.trim(),
        line(&t.plan_id),
        t.planner,
        line(t.model.as_deref().unwrap_or("none")),
        line(&t.spec_sha256),
    )
}

enum Decision {
    Unchanged,
    CommitOn(Oid),
}

/// What to do with an existing branch at `tip`: walk back through gitintent's own
/// commits until the base (or an older base) and refuse anything else.
fn decide(
    repo: &Repository,
    (branch, base_name): (&str, &str),
    tip: Oid,
    base: &git2::Commit<'_>,
    tree: Oid,
    rebase: bool,
) -> Result<Decision, Error> {
    let not_ours = |reason: String| Error::NotOurs {
        branch: branch.to_string(),
        reason,
    };
    let mut current = repo
        .find_commit(tip)
        .map_err(|_| not_ours(format!("points at {tip}, which is not a commit")))?;
    for _ in 0..MAX_OWN_COMMITS {
        if current.id() == base.id() {
            return Err(not_ours("points at the base itself".into()));
        }
        if !made_by_gitintent(&current) || current.parent_count() != 1 {
            return Err(not_ours(format!(
                "holds commit {} that gitintent did not make",
                short(current.id())
            )));
        }
        let parent = current.parent_id(0).map_err(Error::git("read a parent"))?;
        if parent == base.id() {
            let tip_tree = repo
                .find_commit(tip)
                .and_then(|c| c.tree())
                .map_err(Error::git("read the branch tree"))?;
            return Ok(if tip_tree.id() == tree {
                Decision::Unchanged
            } else {
                Decision::CommitOn(tip)
            });
        }
        if repo.graph_descendant_of(base.id(), parent).unwrap_or(false) {
            return if rebase {
                Ok(Decision::CommitOn(base.id()))
            } else {
                Err(Error::Stale {
                    branch: branch.to_string(),
                    base: base_name.to_string(),
                })
            };
        }
        current = repo.find_commit(parent).map_err(Error::git("read a parent"))?;
    }
    Err(not_ours(format!(
        "has more than {MAX_OWN_COMMITS} commits or is not based on the base"
    )))
}

fn made_by_gitintent(commit: &git2::Commit<'_>) -> bool {
    let Ok(message) = commit.message() else {
        return false;
    };
    let Ok(trailers) = git2::message_trailers_strs(message) else {
        return false;
    };
    let keys: Vec<&str> = trailers.iter().map(|(k, _)| k).collect();
    keys.contains(&"Gitintent-Plan-Id") && keys.contains(&"Gitintent-Spec-Sha256")
}

fn short(id: Oid) -> String {
    id.to_string()[..10].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn author_falls_back_to_git_config_then_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, "[user]\n\tname = Ada\n\temail = ada@example.com\n").unwrap();
        let config = git2::Config::open(&path).unwrap();
        assert_eq!(
            author_from_git_config(&config),
            Some(Author {
                name: "Ada".into(),
                email: "ada@example.com".into()
            })
        );
        std::fs::write(&path, "[user]\n\tname = Ada\n").unwrap();
        let config = git2::Config::open(&path).unwrap();
        assert_eq!(author_from_git_config(&config), None);
    }

    #[test]
    fn message_has_summary_intent_and_trailers() {
        let req = Request {
            repo: PathBuf::new(),
            base: "main".into(),
            base_commit: None,
            branch: None,
            files: vec![],
            delete: vec![],
            summary: "Add redis\nto production".into(),
            intent: "Deploy redis".into(),
            trailers: Trailers {
                plan_id: "p1".into(),
                planner: crate::plan::PlannerName::Builtin,
                model: None,
                spec_sha256: "ab".into(),
            },
            findings: vec![],
            protected: vec![],
            author: None,
            committer: None,
            rebase: false,
        };
        let m = message(&req);
        assert!(
            m.starts_with("Add redis to production\n\nDeploy redis\n\nGitintent-Plan-Id: p1\n"),
            "{m}"
        );
        let trailers = git2::message_trailers_strs(&m).unwrap();
        let pairs: Vec<_> = trailers.iter().collect();
        assert_eq!(
            pairs,
            [
                ("Gitintent-Plan-Id", "p1"),
                ("Gitintent-Planner", "builtin"),
                ("Gitintent-Model", "none"),
                ("Gitintent-Spec-Sha256", "ab")
            ]
        );
    }
}
