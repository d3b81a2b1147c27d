//! The tree a proposal commits: the planned files written and the deleted
//! ones removed on top of the base tree ([`build_tree`]), refusing unsafe
//! paths and anything in the way, and the change's [`DiffStats`]. It writes
//! blobs and trees to the object database only; no reference moves here.

use std::collections::HashSet;

use git2::{FileMode, Oid, Repository};

use super::commit::DiffStats;
use super::Error;
use crate::manifest::File;

/// Writes one blob per file and the trees above them, removes `delete`; returns the new root tree.
pub(super) fn build_tree(
    repo: &Repository,
    base: &git2::Tree<'_>,
    files: &[File],
    delete: &[String],
) -> Result<Oid, Error> {
    let mut seen = HashSet::new();
    let mut update = git2::build::TreeUpdateBuilder::new();
    for path in delete {
        if !plain_path(path) || !seen.insert(path.as_str()) {
            return Err(Error::UnsafePath(path.clone()));
        }
        update.remove(path.as_str());
    }
    for file in files {
        if !plain_path(&file.path) || !seen.insert(file.path.as_str()) {
            return Err(Error::UnsafePath(file.path.clone()));
        }
        in_the_way(base, &file.path)?;
        let blob = repo
            .blob(file.content.as_bytes())
            .map_err(Error::git(format!("write the blob for {}", file.path)))?;
        update.upsert(file.path.as_str(), blob, FileMode::Blob);
    }
    update.create_updated(repo, base).map_err(Error::git(
        "build the tree (does a planned directory collide with a file?)",
    ))
}

/// Refuses `path` when the base tree has a symbolic link (or a file) on the
/// way to it, or a link or directory where it goes: the same refusal as
/// `plan --write` (`repo::safe_target`), instead of libgit2's bare error.
fn in_the_way(base: &git2::Tree<'_>, path: &str) -> Result<(), Error> {
    let segments: Vec<&str> = path.split('/').collect();
    for end in 1..=segments.len() {
        let prefix = segments[..end].join("/");
        let Ok(entry) = base.get_path(std::path::Path::new(&prefix)) else {
            return Ok(());
        };
        let last = end == segments.len();
        let reason = match (entry.filemode(), last) {
            (0o120000, _) => "a symbolic link; gitintent never writes through links",
            (0o040000, true) => "a directory",
            (0o040000, false) => continue,
            (0o160000, _) => "a submodule",
            (_, false) => "a file, not a directory",
            (_, true) => continue,
        };
        return Err(Error::InTheWay {
            path: path.to_string(),
            what: prefix,
            reason,
        });
    }
    Ok(())
}

/// A relative path of normal segments, none of them `.git`.
fn plain_path(path: &str) -> bool {
    !path.is_empty()
        && !path.contains(['\\', '\0'])
        && path
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != ".." && !s.eq_ignore_ascii_case(".git"))
}

/// What the change from `old` to `new` adds, modifies and deletes, in files and lines.
pub(super) fn stats(
    repo: &Repository,
    old: &git2::Tree<'_>,
    new: &git2::Tree<'_>,
) -> Result<DiffStats, Error> {
    let diff = repo
        .diff_tree_to_tree(Some(old), Some(new), None)
        .map_err(Error::git("diff the trees"))?;
    let lines = diff.stats().map_err(Error::git("count changed lines"))?;
    let mut stats = DiffStats {
        insertions: lines.insertions(),
        deletions: lines.deletions(),
        ..DiffStats::default()
    };
    for delta in diff.deltas() {
        match delta.status() {
            git2::Delta::Added => stats.files_added += 1,
            _ => stats.files_modified += 1,
        }
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_could_escape_or_touch_git_are_refused() {
        for bad in [
            "",
            "/abs",
            "a//b",
            "./a",
            "a/../b",
            ".git/config",
            "x/.GIT/hooks/a",
            "a\\b",
        ] {
            assert!(!plain_path(bad), "{bad:?}");
        }
        assert!(plain_path("clusters/production/apps/redis/statefulset.yaml"));
    }
}
