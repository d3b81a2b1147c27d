//! A repository read at one ref, straight from git objects.
//!
//! [`Snapshot::open`] resolves a ref to a commit and lists its tree once:
//! every regular file with its blob id, and every directory. Files are read
//! from the object database on demand. Nothing here checks anything out: the
//! working tree, the index and `HEAD` are never touched, so it works the same
//! on bare repositories and on a checkout with uncommitted changes.
//!
//! It does not parse files (see [`super::Index`]) and never writes.

use std::path::{Path, PathBuf};

use git2::{ObjectType, Oid, Repository, RepositoryOpenFlags, TreeWalkMode, TreeWalkResult};

use super::Error;

/// The base used when none is given and the repository has a `main` branch.
pub const DEFAULT_BASE: &str = "main";

/// The ref and commit something (a plan, a drift report, a proposal) was
/// read at; `{"ref", "commit"}` in JSON (the `Base` component of the
/// service's OpenAPI document).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Base {
    /// The ref as resolved, e.g. `refs/heads/main`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The commit id, hex.
    pub commit: String,
}

/// One regular file of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Repo-relative path with `/` separators.
    pub path: String,
    /// The blob holding its content.
    pub blob: Oid,
}

/// A repository's tree at one commit.
pub struct Snapshot {
    repo: Repository,
    root: PathBuf,
    reference: String,
    commit: Oid,
    tree: Oid,
    /// Sorted by path.
    files: Vec<Entry>,
    /// Every directory, sorted, without a trailing `/`.
    dirs: Vec<String>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("root", &self.root)
            .field("reference", &self.reference)
            .field("commit", &self.commit)
            .field("files", &self.files.len())
            .finish()
    }
}

impl Snapshot {
    /// Opens the repository at `path` (a working tree's root, its `.git`, or a
    /// bare repository; parent directories are not searched) and reads the
    /// tree of `reference`: a branch name, a full `refs/...` name, a tag, or
    /// any commit-ish git understands (`HEAD~2`, a commit id).
    pub fn open(path: &Path, reference: &str) -> Result<Snapshot, Error> {
        let repo = open_repository(path)?;
        let (name, commit) = resolve(&repo, path, reference)?;
        Snapshot::load(repo, path, name, commit)
    }

    /// Opens the repository at its default base: `main` when that branch
    /// exists, otherwise whatever `HEAD` points at (e.g. `master`).
    pub fn open_default(path: &Path) -> Result<Snapshot, Error> {
        let repo = open_repository(path)?;
        let base = default_base(&repo, path)?;
        let (name, commit) = resolve(&repo, path, &base)?;
        Snapshot::load(repo, path, name, commit)
    }

    /// [`Snapshot::open`] with `reference`, or [`Snapshot::open_default`] without.
    pub fn open_base(path: &Path, reference: Option<&str>) -> Result<Snapshot, Error> {
        match reference {
            Some(r) => Snapshot::open(path, r),
            None => Snapshot::open_default(path),
        }
    }

    fn load(repo: Repository, path: &Path, reference: String, commit: Oid) -> Result<Snapshot, Error> {
        let object = |what: String| move |source| Error::Object { what, source };
        let tree = repo
            .find_commit(commit)
            .and_then(|c| c.tree())
            .map_err(object(format!("the tree of commit {commit}")))?;
        let mut files = Vec::new();
        let mut dirs = Vec::new();
        tree.walk(TreeWalkMode::PreOrder, |parent, entry| {
            let Ok(name) = entry.name() else {
                // Not UTF-8: no manifest path we could ever produce.
                return TreeWalkResult::Skip;
            };
            let path = format!("{parent}{name}");
            match entry.kind() {
                Some(ObjectType::Tree) => dirs.push(path),
                // Regular files only: symlinks (0o120000) and submodules are not content.
                Some(ObjectType::Blob) if matches!(entry.filemode(), 0o100644 | 0o100755) => {
                    files.push(Entry {
                        path,
                        blob: entry.id(),
                    });
                }
                _ => {}
            }
            TreeWalkResult::Ok
        })
        .map_err(object(format!("the tree of commit {commit}")))?;
        files.sort_by(|a, b| a.path.cmp(&b.path));
        dirs.sort();
        let tree_id = tree.id();
        drop(tree);
        Ok(Snapshot {
            repo,
            root: path.to_path_buf(),
            reference,
            commit,
            tree: tree_id,
            files,
            dirs,
        })
    }

    /// The repository as given to [`Snapshot::open`].
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The ref as resolved, e.g. `refs/heads/main`, or the commit-ish as given.
    pub fn reference(&self) -> &str {
        &self.reference
    }

    /// The commit the snapshot was read at.
    pub fn commit(&self) -> Oid {
        self.commit
    }

    /// The same snapshot, named by `reference`: the ref its commit was
    /// resolved from earlier (a snapshot opened at an exact commit).
    pub fn named(mut self, reference: &str) -> Snapshot {
        self.reference = reference.to_string();
        self
    }

    /// The ref and commit the snapshot was read at.
    pub fn base(&self) -> Base {
        Base {
            reference: self.reference.clone(),
            commit: self.commit.to_string(),
        }
    }

    /// The commit's root tree.
    pub fn tree(&self) -> Oid {
        self.tree
    }

    /// The underlying repository, for building commits on top of this one.
    pub fn repository(&self) -> &Repository {
        &self.repo
    }

    /// Every regular file, sorted by path.
    pub fn files(&self) -> &[Entry] {
        &self.files
    }

    /// Every directory, sorted, without a trailing `/`.
    pub fn dirs(&self) -> &[String] {
        &self.dirs
    }

    /// The file at `path`, if the snapshot has one.
    pub fn file(&self, path: &str) -> Option<&Entry> {
        self.files
            .binary_search_by(|e| e.path.as_str().cmp(path))
            .ok()
            .map(|i| &self.files[i])
    }

    /// True when `path` is a directory of the snapshot.
    pub fn is_dir(&self, path: &str) -> bool {
        self.dirs.binary_search_by(|d| d.as_str().cmp(path)).is_ok()
    }

    /// The names of the directories directly under `dir` (`""` for the root).
    pub fn subdirs<'a>(&'a self, dir: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.dirs.iter().filter_map(move |d| {
            let rest = if dir.is_empty() {
                d.as_str()
            } else {
                d.strip_prefix(dir)?.strip_prefix('/')?
            };
            (!rest.contains('/')).then_some(rest)
        })
    }

    /// The files under `dir` (recursively), in path order.
    pub fn files_under<'a>(&'a self, dir: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.files
            .iter()
            .filter(move |e| e.path.strip_prefix(dir).is_some_and(|rest| rest.starts_with('/')))
    }

    /// The raw content of a blob.
    pub fn read_blob(&self, blob: Oid) -> Result<Vec<u8>, Error> {
        self.repo
            .find_blob(blob)
            .map(|b| b.content().to_vec())
            .map_err(|source| Error::Object {
                what: format!("blob {blob}"),
                source,
            })
    }

    /// `f` of the content of every blob of `oids`, in order, read and run on
    /// all cores (one repository handle per thread; a handle is not `Sync`).
    pub(crate) fn map_blobs<T: Send>(
        &self,
        oids: &[Oid],
        f: impl Fn(&[u8]) -> T + Sync,
    ) -> Result<Vec<T>, Error> {
        if oids.len() < 64 || crate::par::threads() == 1 {
            return oids.iter().map(|&oid| Ok(f(&self.read_blob(oid)?))).collect();
        }
        let gitdir = self.repo.path().to_path_buf();
        let f = &f;
        let runs = crate::par::map_runs(oids, 1, |oids| {
            let run = || -> Result<Vec<T>, Error> {
                let repo = Repository::open(&gitdir).map_err(|e| Error::NotARepository {
                    path: gitdir.clone(),
                    message: e.message().to_string(),
                })?;
                oids.iter()
                    .map(|&oid| {
                        let blob = repo.find_blob(oid).map_err(|source| Error::Object {
                            what: format!("blob {oid}"),
                            source,
                        })?;
                        Ok(f(blob.content()))
                    })
                    .collect()
            };
            vec![run()]
        });
        let mut out = Vec::with_capacity(oids.len());
        for run in runs {
            out.extend(run?);
        }
        Ok(out)
    }

    /// The text of the file at `path`; `None` when there is no such file.
    pub fn read(&self, path: &str) -> Result<Option<String>, Error> {
        let Some(entry) = self.file(path) else {
            return Ok(None);
        };
        let bytes = self.read_blob(entry.blob)?;
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| Error::NotText(path.to_string()))
    }
}

fn open_repository(path: &Path) -> Result<Repository, Error> {
    Repository::open_ext(
        path,
        RepositoryOpenFlags::NO_SEARCH,
        std::iter::empty::<&std::ffi::OsStr>(),
    )
    .map_err(|e| Error::NotARepository {
        path: path.to_path_buf(),
        message: e.message().to_string(),
    })
}

/// `main` if it exists, else the branch `HEAD` points at (even when unborn).
fn default_base(repo: &Repository, path: &Path) -> Result<String, Error> {
    if repo.find_reference("refs/heads/main").is_ok() {
        return Ok(DEFAULT_BASE.to_string());
    }
    match repo
        .find_reference("HEAD")
        .ok()
        .and_then(|h| h.symbolic_target().ok().flatten().map(String::from))
    {
        Some(target) => Ok(target),
        None if repo.head().is_ok() => Ok("HEAD".to_string()),
        None => Err(missing(repo, path, DEFAULT_BASE)),
    }
}

/// A ref or commit-ish to `(resolved name, commit)`.
fn resolve(repo: &Repository, path: &Path, reference: &str) -> Result<(String, Oid), Error> {
    if reference.is_empty() || reference.starts_with('-') {
        return Err(missing(repo, path, reference));
    }
    let branch = format!("refs/heads/{reference}");
    let (name, object) = match repo.find_reference(&branch) {
        Ok(r) => (branch, r.peel(ObjectType::Commit)),
        Err(_) => match repo.revparse_single(reference) {
            Ok(o) => (reference.to_string(), o.peel(ObjectType::Commit)),
            Err(_) => return Err(missing(repo, path, reference)),
        },
    };
    match object {
        Ok(commit) => Ok((name, commit.id())),
        Err(_) => Err(missing(repo, path, reference)),
    }
}

fn missing(repo: &Repository, path: &Path, reference: &str) -> Error {
    let mut branches: Vec<String> = repo
        .branches(Some(git2::BranchType::Local))
        .map(|bs| {
            bs.filter_map(|b| b.ok()?.0.name().ok().flatten().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    branches.sort();
    let total = branches.len();
    branches.truncate(8);
    let mut list = if branches.is_empty() {
        "none".to_string()
    } else {
        branches.join(", ")
    };
    if total > branches.len() {
        list.push_str(&format!(" and {} more", total - branches.len()));
    }
    Error::MissingRef {
        reference: reference.to_string(),
        path: path.to_path_buf(),
        branches: list,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::testing::repo_with;

    #[test]
    fn lists_files_and_dirs_of_a_bare_repository() {
        let dir = tempfile::tempdir().unwrap();
        let commit = repo_with(
            dir.path(),
            "main",
            &[("apps/prod/a.yaml", "a: 1\n"), ("README.md", "hi\n")],
            true,
        );
        let snap = Snapshot::open_default(dir.path()).unwrap();
        assert_eq!(snap.commit(), commit);
        assert_eq!(snap.reference(), "refs/heads/main");
        let paths: Vec<&str> = snap.files().iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["README.md", "apps/prod/a.yaml"]);
        assert_eq!(snap.dirs(), ["apps", "apps/prod"]);
        assert_eq!(snap.subdirs("apps").collect::<Vec<_>>(), ["prod"]);
        assert_eq!(snap.read("apps/prod/a.yaml").unwrap().as_deref(), Some("a: 1\n"));
        assert_eq!(snap.read("nope").unwrap(), None);
    }

    #[test]
    fn default_base_follows_head_without_main() {
        let dir = tempfile::tempdir().unwrap();
        repo_with(dir.path(), "master", &[("a.yaml", "a: 1\n")], false);
        let snap = Snapshot::open_default(dir.path()).unwrap();
        assert_eq!(snap.reference(), "refs/heads/master");
    }

    #[test]
    fn missing_ref_names_it_and_lists_branches() {
        let dir = tempfile::tempdir().unwrap();
        repo_with(dir.path(), "main", &[("a.yaml", "a: 1\n")], false);
        let err = Snapshot::open(dir.path(), "nope").unwrap_err().to_string();
        assert!(err.contains("\"nope\"") && err.contains("main"), "{err}");
    }
}
