//! The target GitOps repository: its `.gitintent.yaml` and its files.
//!
//! - `config.rs`: `.gitintent.yaml`.
//! - [`Snapshot`]: the repository at a ref, read from git objects (no checkout).
//! - [`Index`]: the resources of a snapshot by identity, cached by blob id,
//!   and the [`Conventions`] they show.
//! - [`diff`]: a plan against a snapshot, as a [`Changeset`] (with conflicts
//!   and kustomization wiring).
//! - [`write_files`]: planned files into a working tree (`plan --write`),
//!   never outside the repository root.
//!
//! Committing, pushing and pull requests are not here.

mod config;
mod conventions;
mod diff;
mod index;
mod parse;
mod snapshot;
#[cfg(test)]
pub(crate) mod testing;
pub(crate) mod wire;

pub use config::{Layout, RepoConfig};
pub use conventions::Conventions;
pub use diff::{diff, Change, Changeset, FieldChange, ResourceChange, Status};
pub(crate) use index::{join_relative, parent};
pub use index::{Identity, Index, IndexCache, Kustomization, Resource, SkipReason, Skipped, Stats};
pub(crate) use parse::values as parse_values;
pub use snapshot::{Entry, Snapshot, DEFAULT_BASE};

use std::path::{Component, Path, PathBuf};

use crate::manifest::File;

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

/// Writes planned files into a working tree, all or nothing.
///
/// Every path is checked before the first write; each file is written to a
/// temporary sibling and renamed into place.
pub fn write_files(root: &Path, files: &[File]) -> Result<Vec<PathBuf>, Error> {
    if !root.is_dir() {
        return Err(Error::NotADirectory(root.to_path_buf()));
    }
    let targets: Vec<PathBuf> = files
        .iter()
        .map(|f| join_inside(root, &f.path))
        .collect::<Result<_, _>>()?;
    for (file, target) in files.iter().zip(&targets) {
        let write = |path: &Path| -> std::io::Result<()> {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let tmp = path.with_extension("gitintent.tmp");
            std::fs::write(&tmp, &file.content)?;
            std::fs::rename(&tmp, path)
        };
        write(target).map_err(|source| Error::Write {
            path: target.clone(),
            source,
        })?;
    }
    Ok(targets)
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

    #[test]
    fn nothing_is_written_when_one_path_is_bad() {
        let dir = tempfile::tempdir().unwrap();
        let files = [
            File {
                path: "ok.yaml".into(),
                content: "a: 1\n".into(),
            },
            File {
                path: "../escape.yaml".into(),
                content: "b: 1\n".into(),
            },
        ];
        assert!(write_files(dir.path(), &files).is_err());
        assert!(!dir.path().join("ok.yaml").exists());
    }
}
