//! The repository side of `gitintent plan --repo`: index the base, diff, show.
//!
//! Opens the repository at the base ref from git objects (the working tree,
//! index and HEAD are not touched), indexes it, and diffs the plan against
//! it. Text output is a per-file summary and a coloured unified diff; JSON
//! output adds `base` and `changes` to the plan's contract.

use std::path::Path;

use gitintent::repo::{self, Changeset, IndexCache, Snapshot};
use gitintent::Workspace;

use super::output::Style;

/// A repository read at its base ref: the library's [`Workspace`], and the
/// snapshot it was read from (for comparing with the working tree).
pub(crate) struct Base {
    pub(crate) workspace: Workspace,
    pub(crate) snapshot: Snapshot,
}

impl Base {
    /// The repository at `root` and `base` (default `main`, else HEAD), with
    /// the context read from that commit. `Ok(None)` when `root` is not a git
    /// repository and no base was asked for: the plan then reads the
    /// directory as before and shows no diff.
    pub(crate) fn open(root: &Path, base: Option<&str>) -> Result<Option<Base>, gitintent::Error> {
        let snapshot = match Snapshot::open_base(root, base) {
            Ok(s) => s,
            Err(repo::Error::NotARepository { .. }) if base.is_none() => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let workspace = Workspace::of(&snapshot, &mut IndexCache::new())?;
        Ok(Some(Base { workspace, snapshot }))
    }

    /// `{"ref", "commit"}` for JSON output.
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::to_value(self.workspace.base()).unwrap_or_default()
    }
}

/// The paths among `paths` that the base holds and whose working-tree copy
/// differs from it (or is gone): `--write` must not overwrite or remove them.
pub(crate) fn locally_changed(root: &Path, base: &Base, paths: &[String]) -> Vec<String> {
    paths
        .iter()
        .filter(|path| {
            let Ok(Some(committed)) = base.snapshot.read(path) else {
                return false;
            };
            let local = repo::join_inside(root, path).and_then(|p| {
                std::fs::read_to_string(&p).map_err(|source| repo::Error::Read { path: p, source })
            });
            !local.is_ok_and(|local| local == committed)
        })
        .cloned()
        .collect()
}

/// The wiring edits `--write` may apply: only to files whose working-tree
/// copy is exactly the base's, so local edits are never overwritten.
pub(crate) fn wiring_to_write(
    root: &Path,
    base: &Base,
    changes: &Changeset,
) -> Vec<gitintent::manifest::File> {
    let mut out = Vec::new();
    for change in changes.changes.iter().filter(|c| c.reason.is_some()) {
        let (Some(content), Ok(Some(committed))) = (&change.content, base.snapshot.read(&change.path)) else {
            continue;
        };
        let local = repo::join_inside(root, &change.path).and_then(|p| {
            std::fs::read_to_string(&p).map_err(|source| repo::Error::Read { path: p, source })
        });
        if local.is_ok_and(|local| local == committed) {
            out.push(gitintent::manifest::File {
                path: change.path.clone(),
                content: content.clone(),
            });
        } else {
            eprintln!(
                "note: not wiring {}: the working-tree copy differs from {}; add the app to its resources by hand",
                change.path,
                describe(&base.json())
            );
        }
    }
    out
}

/// The Changes section of text output: `base` is [`Base::json`] and
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
