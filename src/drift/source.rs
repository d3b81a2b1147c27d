//! Where drift reads the repository from: a git ref read straight from git
//! objects ([`Snapshot`]), or — only for a plain directory that is not a
//! git repository — the directory itself.
//!
//! Reading a ref means uncommitted edits in a working tree never change
//! what drift compares, and the revert/adopt proposal is built from the
//! same bytes the report was made from. It never writes.

use std::path::{Path, PathBuf};

use super::Error;
use crate::repo::{self, Base, RepoConfig, Snapshot};

/// The repository contents drift reads.
pub enum Source {
    /// A commit, read from git objects.
    Git(Snapshot),
    /// A plain directory that is not a git repository.
    Directory(PathBuf),
}

impl Source {
    /// The repository at `root` and `base` (default `main`, else `HEAD`),
    /// from git objects. A `root` that is not a git repository is read as a
    /// plain directory when no `base` was asked for.
    pub fn open(root: &Path, base: Option<&str>) -> Result<Source, Error> {
        match Snapshot::open_base(root, base) {
            Ok(s) => Ok(Source::Git(s)),
            Err(repo::Error::NotARepository { .. }) if base.is_none() && root.is_dir() => {
                Ok(Source::Directory(root.to_path_buf()))
            }
            Err(repo::Error::NotARepository { .. }) if !root.is_dir() => {
                Err(repo::Error::NotADirectory(root.to_path_buf()).into())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The snapshot, when reading git objects.
    pub fn snapshot(&self) -> Option<&Snapshot> {
        match self {
            Source::Git(s) => Some(s),
            Source::Directory(_) => None,
        }
    }

    /// The ref and commit, when reading git objects.
    pub fn base(&self) -> Option<Base> {
        self.snapshot().map(Snapshot::base)
    }

    /// `.gitintent.yaml` (defaults when absent).
    pub(crate) fn config(&self) -> Result<RepoConfig, Error> {
        match self {
            Source::Directory(root) => Ok(RepoConfig::load(root)?),
            Source::Git(s) => match s.read(".gitintent.yaml")? {
                Some(text) => Ok(RepoConfig::parse(&text, Path::new(".gitintent.yaml"))?),
                None => Ok(RepoConfig::default()),
            },
        }
    }

    /// True when `dir` (repo-relative, `/`-separated) is a directory.
    pub(crate) fn is_dir(&self, dir: &str) -> bool {
        match self {
            Source::Git(s) => s.is_dir(dir),
            Source::Directory(root) => repo::join_inside(root, dir).is_ok_and(|p| p.is_dir()),
        }
    }

    /// The `.yaml`/`.yml` files under `dir`, recursively, in path order,
    /// skipping hidden files and directories (and symlinks in a directory).
    pub(crate) fn yaml_files_under(&self, dir: &str) -> Result<Vec<String>, Error> {
        let yaml = |p: &str| p.ends_with(".yaml") || p.ends_with(".yml");
        let mut files: Vec<String> = match self {
            Source::Git(s) => s
                .files_under(dir)
                .map(|e| e.path.clone())
                .filter(|p| yaml(p) && !p[dir.len() + 1..].split('/').any(|seg| seg.starts_with('.')))
                .collect(),
            Source::Directory(root) => {
                let mut out = Vec::new();
                walk(root, &root.join(dir), &mut out)?;
                out.retain(|p| yaml(p));
                out
            }
        };
        files.sort();
        Ok(files)
    }

    /// The text of `path`; `None` when there is no such file.
    pub fn read(&self, path: &str) -> Result<Option<String>, Error> {
        match self {
            Source::Git(s) => Ok(s.read(path)?),
            Source::Directory(root) => {
                let full = repo::join_inside(root, path)?;
                match std::fs::read_to_string(&full) {
                    Ok(t) => Ok(Some(t)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(source) => Err(Error::Read { path: full, source }),
                }
            }
        }
    }
}

fn walk(root: &Path, dir: &Path, files: &mut Vec<String>) -> Result<(), Error> {
    let read = |source| Error::Read {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(read)? {
        let entry = entry.map_err(read)?;
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        let kind = entry.file_type().map_err(read)?;
        if hidden || kind.is_symlink() {
            continue;
        }
        if kind.is_dir() {
            walk(root, &path, files)?;
        } else {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            files.push(
                rel.components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/"),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::testing::repo_with;

    #[test]
    fn a_git_repository_is_read_at_its_base_and_a_directory_as_is() {
        let dir = tempfile::tempdir().unwrap();
        repo_with(
            dir.path(),
            "main",
            &[("apps/prod/a.yaml", "a: 1\n"), ("apps/prod/.x/b.yaml", "b: 1\n")],
            false,
        );
        std::fs::create_dir_all(dir.path().join("apps/prod")).unwrap();
        std::fs::write(dir.path().join("apps/prod/a.yaml"), "a: 2\n").unwrap();
        let source = Source::open(dir.path(), None).unwrap();
        assert_eq!(
            source.read("apps/prod/a.yaml").unwrap().as_deref(),
            Some("a: 1\n")
        );
        assert_eq!(
            source.yaml_files_under("apps/prod").unwrap(),
            ["apps/prod/a.yaml"]
        );
        assert_eq!(source.base().unwrap().reference, "refs/heads/main");

        let plain = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(plain.path().join("apps/prod")).unwrap();
        std::fs::write(plain.path().join("apps/prod/a.yaml"), "a: 3\n").unwrap();
        let source = Source::open(plain.path(), None).unwrap();
        assert!(source.base().is_none() && source.is_dir("apps/prod"));
        assert_eq!(
            source.read("apps/prod/a.yaml").unwrap().as_deref(),
            Some("a: 3\n")
        );
        assert!(Source::open(plain.path(), Some("main")).is_err());
        assert!(Source::open(&plain.path().join("nope"), None).is_err());
    }
}
