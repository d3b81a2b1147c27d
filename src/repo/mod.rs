//! The target GitOps repository: its `.gitintent.yaml` and its files.
//!
//! - `config.rs`: `.gitintent.yaml`.
//! - [`Snapshot`]: the repository at a ref, read from git objects (no checkout).
//! - [`Index`]: the resources of a snapshot by identity, cached by blob id,
//!   and the [`Conventions`] they show.
//! - [`diff`]: a plan against a snapshot, as a [`Changeset`] (with conflicts
//!   and kustomization wiring).
//! - [`write_files`]: planned files into a working tree (`plan --write`),
//!   never outside the repository root, never through a symbolic link,
//!   never into `.git` (`write.rs`).
//!
//! Committing, pushing and pull requests are not here.

mod config;
mod conflicts;
mod conventions;
mod diff;
mod environments;
mod index;
mod parse;
mod settings;
mod snapshot;
#[cfg(test)]
pub(crate) mod testing;
pub(crate) mod wire;
mod write;

pub use config::{Layout, RepoConfig};
pub use conventions::Conventions;
pub use diff::{diff, Change, Changeset, FieldChange, ResourceChange, Status};
pub(crate) use environments::select as select_environments;
pub use environments::Environment;
pub(crate) use index::{join_relative, parent};
pub use index::{Identity, Index, IndexCache, Kustomization, Resource, SkipReason, Skipped, Stats};
pub(crate) use parse::values as parse_values;
pub use settings::{Author, ForgeAuth, ForgeConfig, ForgeKind};
pub use snapshot::{Base, Entry, Snapshot, DEFAULT_BASE};
pub use write::{remove_files, safe_target, write_files};

use std::path::{Component, Path, PathBuf};

/// Repository faults.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `.gitintent.yaml` could not be read.
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `.gitintent.yaml` is not valid.
    #[error("{path} is not a valid gitintent config: {message}")]
    Config { path: PathBuf, message: String },
    /// The repository path does not exist or is not a directory.
    #[error("{0} is not a directory")]
    NotADirectory(PathBuf),
    /// A planned path would leave the repository.
    #[error("refusing to write {0:?}: it is not a plain relative path inside the repository")]
    UnsafePath(String),
    /// The path is not a git repository (parent directories are not searched).
    #[error("{} is not a git repository: {message}", path.display())]
    NotARepository { path: PathBuf, message: String },
    /// The base ref does not exist.
    #[error("ref {reference:?} not found in {} (branches: {branches})", path.display())]
    MissingRef {
        reference: String,
        path: PathBuf,
        /// A few existing branches, for the message.
        branches: String,
    },
    /// A git object could not be read.
    #[error("cannot read {what} from the git object database")]
    Object {
        what: String,
        #[source]
        source: git2::Error,
    },
    /// A file that must be text (config, policy, kustomization) is not UTF-8.
    #[error("{0} is not UTF-8 text")]
    NotText(String),
    /// Indexing failed for a reason other than git.
    #[error("indexing failed: {0}")]
    Index(String),
    /// A planned path goes through a symbolic link, or its target is one:
    /// a committed link could send the write anywhere on the machine.
    #[error("refusing to write {path:?}: {link:?} is a symbolic link, and gitintent never writes through links (a committed link could point outside the repository); replace it with a directory or file and retry")]
    Symlink { path: String, link: String },
    /// A planned path reaches into `.git` (hooks, config): never written.
    #[error("refusing to write {0:?}: it is inside .git; check `layout:` in .gitintent.yaml")]
    GitDir(String),
    /// A directory on a planned path is a file, or the target is a directory.
    #[error("refusing to write {path:?}: {what:?} is in the way ({reason})")]
    InTheWay {
        path: String,
        what: String,
        reason: &'static str,
    },
    /// Writing a planned file failed.
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Checks that `rel` is a plain relative path (no `..`, no root, no prefix)
/// and joins it to `root`.
pub fn join_inside(root: &Path, rel: &str) -> Result<PathBuf, Error> {
    let p = Path::new(rel);
    let plain =
        !rel.is_empty() && !rel.contains('\\') && p.components().all(|c| matches!(c, Component::Normal(_)));
    if !plain {
        return Err(Error::UnsafePath(rel.to_string()));
    }
    Ok(root.join(p))
}

/// Commits exactly `files` (path, bytes) as a root commit on `reference`,
/// without a working tree or index file: for fixtures (eval repositories,
/// tests, benchmarks). The commit time is fixed, so the same files give the
/// same commit.
pub fn commit_files(
    repo: &git2::Repository,
    reference: &str,
    files: &[(String, Vec<u8>)],
    message: &str,
) -> Result<git2::Oid, git2::Error> {
    let mut index = git2::Index::new()?;
    for (path, bytes) in files {
        let blob = repo.blob(bytes)?;
        index.add(&git2::IndexEntry {
            ctime: git2::IndexTime::new(0, 0),
            mtime: git2::IndexTime::new(0, 0),
            dev: 0,
            ino: 0,
            mode: 0o100644,
            uid: 0,
            gid: 0,
            file_size: u32::try_from(bytes.len()).unwrap_or(u32::MAX),
            id: blob,
            flags: 0,
            flags_extended: 0,
            path: path.as_bytes().to_vec(),
        })?;
    }
    let tree = repo.find_tree(index.write_tree_to(repo)?)?;
    let sig = git2::Signature::new("gitintent", "gitintent@localhost", &git2::Time::new(0, 0))?;
    repo.commit(Some(reference), &sig, &sig, message, &tree, &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_leave_the_repo_are_refused() {
        let root = Path::new("/repo");
        for bad in ["../x", "a/../../x", "/etc/passwd", "", "a\\..\\b", "./a"] {
            assert!(join_inside(root, bad).is_err(), "{bad:?} was accepted");
        }
        assert_eq!(
            join_inside(root, "clusters/prod/a.yaml").unwrap(),
            Path::new("/repo/clusters/prod/a.yaml")
        );
    }
}
