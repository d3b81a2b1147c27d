//! The repository side of `gitintent plan --repo`: plan against the base, diff, show.
//!
//! Opens the repository at the base ref from git objects through the
//! library's `Workspace` (the working tree, index and HEAD are not touched),
//! which plans against it and diffs the plan with it; a plain directory is
//! read as before (`Context::load`). For `--write` it checks the working
//! tree against the base so local edits are never overwritten. Text output is a per-file summary and a coloured unified diff; JSON
//! output adds `base` and `changes` to the plan's contract.

use std::path::Path;

use gitintent::manifest::File;
use gitintent::pipeline::{Context, Plan};
use gitintent::plan::Planner;
use gitintent::repo::{self, Changeset, IndexCache, Snapshot};
use gitintent::{Intent, Spec, Workspace};

use super::common::error_chain;
use super::exit;
use super::output::Style;

/// What `plan` plans against: a git repository at its base (the library's
/// [`Workspace`], which plans, diffs and absorbs), or the context of a plain
/// directory (or the defaults without `--repo`), which shows no diff.
pub(crate) enum Repo {
    Git(Workspace),
    Directory(Box<Context>),
}

impl Repo {
    /// The repository at `root` and `base` (default `main`, else HEAD), with
    /// the context read from that commit. A `root` that is not a git
    /// repository, when no base was asked for, is read as a directory
    /// (`Context::load`) as before; no `root` gives the default context.
    pub(crate) fn open(root: Option<&Path>, base: Option<&str>) -> Result<Repo, gitintent::Error> {
        let Some(root) = root else {
            return Ok(Repo::Directory(Box::default()));
        };
        match Workspace::open(root, base, &mut IndexCache::new()) {
            Ok(workspace) => Ok(Repo::Git(workspace)),
            Err(gitintent::Error::Repo(repo::Error::NotARepository { .. })) if base.is_none() => {
                Ok(Repo::Directory(Box::new(Context::load(root)?)))
            }
            Err(e) => Err(e),
        }
    }

    /// The workspace, for a git repository.
    pub(crate) fn workspace(&self) -> Option<&Workspace> {
        match self {
            Repo::Git(workspace) => Some(workspace),
            Repo::Directory(_) => None,
        }
    }

    /// Plans `intent` against the base, or with the directory's context.
    pub(crate) async fn plan(&self, intent: &Intent, planner: &Planner) -> gitintent::Result<Plan> {
        match self {
            Repo::Git(workspace) => workspace.plan(intent, planner).await,
            Repo::Directory(ctx) => gitintent::pipeline::run(intent, planner, ctx).await,
        }
    }

    /// Renders and checks a given spec against the base, or with the directory's context.
    pub(crate) fn plan_spec(&self, spec: Spec) -> gitintent::Result<Plan> {
        match self {
            Repo::Git(workspace) => workspace.plan_spec(spec),
            Repo::Directory(ctx) => gitintent::pipeline::run_spec(spec, ctx),
        }
    }

    /// Diffs the plan against the base and folds the diff's findings
    /// (conflicts, wiring notes) into it; a directory only sorts the findings.
    pub(crate) fn absorb(&self, plan: &mut Plan) -> Result<Option<Changeset>, repo::Error> {
        match self {
            Repo::Git(workspace) => workspace.absorb(plan).map(Some),
            Repo::Directory(_) => {
                gitintent::finding::sort(&mut plan.findings);
                Ok(None)
            }
        }
    }
}

/// `{"ref", "commit"}` of the workspace's base, for JSON output.
pub(crate) fn base_json(workspace: &Workspace) -> serde_json::Value {
    serde_json::to_value(workspace.base()).unwrap_or_default()
}

/// The files `--write` writes for `plan` into the working tree at `root`:
/// refused (exit code and message) when a file the plan edits or deletes
/// differs there from the base; wiring edits only over untouched copies.
pub(crate) fn files_to_write(
    root: &Path,
    workspace: &Workspace,
    plan: &Plan,
    changes: &Changeset,
) -> Result<Vec<File>, (u8, String)> {
    let snapshot = workspace
        .snapshot()
        .map_err(|e| (exit::FAILURE, error_chain(&e)))?;
    let in_place = &plan.in_place;
    let touched: Vec<String> = in_place
        .changed
        .iter()
        .chain(&in_place.deleted)
        .cloned()
        .collect();
    let dirty = locally_changed(root, &snapshot, &touched);
    if !dirty.is_empty() {
        return Err((
            exit::BAD_INPUT,
            format!(
                "not writing files: {} differ from {} in the working tree; commit or stash them first",
                dirty.join(", "),
                workspace.base().reference
            ),
        ));
    }
    let mut files = plan.files.clone();
    // Wiring edits are written only over an untouched working copy.
    let wired: Vec<String> = changes.wiring_files().into_iter().map(|f| f.path).collect();
    files.retain(|f| !wired.contains(&f.path));
    files.extend(wiring_to_write(root, &snapshot, changes));
    Ok(files)
}

/// True when the working-tree copy of `path` under `root` is exactly `committed`.
fn untouched(root: &Path, path: &str, committed: &str) -> bool {
    let local = repo::join_inside(root, path)
        .and_then(|p| std::fs::read_to_string(&p).map_err(|source| repo::Error::Read { path: p, source }));
    local.is_ok_and(|local| local == committed)
}

/// The paths among `paths` that the base holds and whose working-tree copy
/// differs from it (or is gone): `--write` must not overwrite or remove them.
fn locally_changed(root: &Path, snapshot: &Snapshot, paths: &[String]) -> Vec<String> {
    paths
        .iter()
        .filter(|path| match snapshot.read(path) {
            Ok(Some(committed)) => !untouched(root, path, &committed),
            _ => false,
        })
        .cloned()
        .collect()
}

/// The wiring edits `--write` may apply: only to files whose working-tree
/// copy is exactly the base's, so local edits are never overwritten.
fn wiring_to_write(root: &Path, snapshot: &Snapshot, changes: &Changeset) -> Vec<File> {
    let mut out = Vec::new();
    for change in changes.changes.iter().filter(|c| c.reason.is_some()) {
        let (Some(content), Ok(Some(committed))) = (&change.content, snapshot.read(&change.path)) else {
            continue;
        };
        if untouched(root, &change.path, &committed) {
            out.push(File {
                path: change.path.clone(),
                content: content.clone(),
            });
        } else {
            let base = serde_json::to_value(snapshot.base()).unwrap_or_default();
            eprintln!(
                "note: not wiring {}: the working-tree copy differs from {}; add the app to its resources by hand",
                change.path,
                describe(&base)
            );
        }
    }
    out
}

/// The Changes section of text output: `base` is [`base_json`] and
/// `changes` the serialised `Changeset`, so client mode (`--server`), which
/// only has the service's JSON, prints exactly what local mode prints.
pub(crate) fn print(base: &serde_json::Value, changes: &serde_json::Value, s: Style) {
    println!("\n{} against {}", s.bold("Changes"), describe(base));
    let items = changes.as_array().map(Vec::as_slice).unwrap_or_default();
    let status = |c: &serde_json::Value| c["status"].as_str().unwrap_or_default().to_string();
    if items.iter().all(|c| status(c) == "unchanged") {
        println!(
            "  {}",
            s.green("nothing to change: the repository already holds this plan")
        );
        return;
    }
    for c in items {
        let label = match status(c).as_str() {
            "added" => s.green("added    "),
            "modified" => s.yellow("modified "),
            "deleted" => s.red("deleted  "),
            _ => s.dim("unchanged"),
        };
        let reason = c["reason"]
            .as_str()
            .map(|r| s.dim(&format!(" ({r})")))
            .unwrap_or_default();
        println!("  {label} {}{reason}", c["path"].as_str().unwrap_or_default());
    }
    for c in items.iter().filter(|c| status(c) != "unchanged") {
        println!();
        for line in c["diff"].as_str().unwrap_or_default().lines() {
            let painted = if line.starts_with("+++") || line.starts_with("---") {
                s.bold(line)
            } else if line.starts_with('+') {
                s.green(line)
            } else if line.starts_with('-') {
                s.red(line)
            } else if line.starts_with("@@") {
                s.dim(line)
            } else {
                line.to_string()
            };
            println!("{painted}");
        }
    }
}

/// `refs/heads/main (1a2b3c4)` from `{"ref", "commit"}`.
pub(crate) fn describe(base: &serde_json::Value) -> String {
    let commit = base["commit"].as_str().unwrap_or_default();
    format!(
        "{} ({})",
        base["ref"].as_str().unwrap_or_default(),
        &commit[..7.min(commit.len())]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A git repository with `files` committed on `main`, and the same files in its working tree.
    fn git_repo(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let git = git2::Repository::init(dir.path()).unwrap();
        let mut index = git.index().unwrap();
        for (path, content) in files {
            let full = dir.path().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(&full, content).unwrap();
            index.add_path(Path::new(path)).unwrap();
        }
        let tree = git.find_tree(index.write_tree().unwrap()).unwrap();
        let who = git2::Signature::now("t", "t@example.com").unwrap();
        git.commit(Some("refs/heads/main"), &who, &who, "init", &tree, &[])
            .unwrap();
        dir
    }

    #[test]
    fn a_git_repository_is_a_workspace_and_a_plain_directory_its_context() {
        let layout = "layout: apps/{environment}/{name}/\n";
        let repo = git_repo(&[(".gitintent.yaml", layout)]);
        // An uncommitted edit does not change what is read: the base is.
        std::fs::write(repo.path().join(".gitintent.yaml"), "layout: [\n").unwrap();
        let Repo::Git(workspace) = Repo::open(Some(repo.path()), None).unwrap() else {
            panic!("a git repository is read at its base");
        };
        assert_eq!(workspace.base().reference, "refs/heads/main");

        let plain = tempfile::tempdir().unwrap();
        std::fs::write(plain.path().join(".gitintent.yaml"), layout).unwrap();
        let opened = Repo::open(Some(plain.path()), None).unwrap();
        assert!(matches!(opened, Repo::Directory(_)) && opened.workspace().is_none());
        // A base names a commit: a plain directory has none.
        assert!(Repo::open(Some(plain.path()), Some("main")).is_err());
        assert!(matches!(Repo::open(None, None).unwrap(), Repo::Directory(_)));
    }

    #[test]
    fn locally_changed_names_the_files_whose_working_copy_differs_from_the_base() {
        let repo = git_repo(&[("apps/a.yaml", "a: 1\n"), ("apps/b.yaml", "b: 1\n")]);
        std::fs::write(repo.path().join("apps/b.yaml"), "b: 2\n").unwrap();
        let Repo::Git(workspace) = Repo::open(Some(repo.path()), None).unwrap() else {
            panic!("a git repository is read at its base");
        };
        let snapshot = workspace.snapshot().unwrap();
        let paths = [
            "apps/a.yaml".to_string(),
            "apps/b.yaml".to_string(),
            "apps/new.yaml".to_string(),
        ];
        assert_eq!(locally_changed(repo.path(), &snapshot, &paths), ["apps/b.yaml"]);
    }
}
