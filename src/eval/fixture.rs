//! Repository fixtures for eval cases: a directory of files committed to a
//! throwaway bare repository, indexed, and turned into a planning
//! [`Context`] from a [`Workspace`], exactly as `plan --repo` builds one.

use std::path::Path;

use crate::pipeline::Context;
use crate::repo::IndexCache;
use crate::workspace::Workspace;

/// The context of a repository holding exactly the files under `dir`.
pub(super) fn context(dir: &Path) -> Result<Context, String> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let git_dir = std::env::temp_dir().join(format!("gitintent-eval-{}-{n}-{nanos}.git", std::process::id()));
    let built = build(dir, &git_dir);
    let _ = std::fs::remove_dir_all(&git_dir);
    built.map_err(|e| format!("repo fixture {}: {e}", dir.display()))
}

fn build(dir: &Path, git_dir: &Path) -> Result<Context, Box<dyn std::error::Error>> {
    let repo = git2::Repository::init_bare(git_dir)?;
    let mut files = Vec::new();
    walk(dir, dir, &mut files)?;
    crate::repo::commit_files(&repo, "refs/heads/main", &files, "fixture")?;
    let workspace = Workspace::open(git_dir, None, &mut IndexCache::new())?;
    Ok(workspace.context().clone())
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            walk(root, &path, out)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            let rel = rel.to_string_lossy().replace('\\', "/");
            out.push((rel, std::fs::read(&path)?));
        }
    }
    Ok(())
}
