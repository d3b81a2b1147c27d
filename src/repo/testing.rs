//! Test helpers: repositories built from git objects.

use std::path::Path;

use git2::{Oid, Repository};

/// A repository with one commit on `branch` holding `files`.
pub(crate) fn repo_with(dir: &Path, branch: &str, files: &[(&str, &str)], bare: bool) -> Oid {
    let repo = if bare {
        Repository::init_bare(dir).unwrap()
    } else {
        Repository::init(dir).unwrap()
    };
    let files: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
        .collect();
    super::commit_files(&repo, &format!("refs/heads/{branch}"), &files, "init").unwrap()
}
