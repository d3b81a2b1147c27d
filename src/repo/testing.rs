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
    let mut index = git2::Index::new().unwrap();
    for (path, content) in files {
        let blob = repo.blob(content.as_bytes()).unwrap();
        let entry = git2::IndexEntry {
            ctime: git2::IndexTime::new(0, 0),
            mtime: git2::IndexTime::new(0, 0),
            dev: 0,
            ino: 0,
            mode: 0o100644,
            uid: 0,
            gid: 0,
            file_size: content.len() as u32,
            id: blob,
            flags: 0,
            flags_extended: 0,
            path: path.as_bytes().to_vec(),
        };
        index.add(&entry).unwrap();
    }
    let tree = index.write_tree_to(&repo).unwrap();
    let tree = repo.find_tree(tree).unwrap();
    let sig = git2::Signature::now("t", "t@example.com").unwrap();
    repo.commit(
        Some(&format!("refs/heads/{branch}")),
        &sig,
        &sig,
        "init",
        &tree,
        &[],
    )
    .unwrap()
}
