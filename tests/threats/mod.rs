//! Issue 13's attacks, each reproduced first, then refused: writes through
//! committed symbolic links, secrets a hostile model echoes, Slack replays
//! and cross-repository reads, bidi text, and the forges' failure modes.
//!
//! The binary runs against temporary git repositories made with git2 (links
//! committed as links and checked out as links), the model is the loopback
//! fake (`tests/util/fake_llm.rs`), the forges the loopback fake forge.

mod auth;
mod branches;
mod forges;
mod input;
mod secrets;
mod slack;
mod symlinks;
mod wiring;

use std::path::Path;
use std::process::Output;

use git2::{FileMode, Repository, Signature};

/// Runs the binary with a clean environment plus `envs`.
pub(crate) fn gitintent(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = crate::util::bin::gitintent();
    cmd.args(args)
        .env("GITINTENT_AUTHOR_NAME", "Hostile Test")
        .env("GITINTENT_AUTHOR_EMAIL", "hostile@example.com");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("the binary runs")
}

/// [`gitintent`] from async tests (the fake servers run on the test's runtime).
pub(crate) async fn gitintent_async(args: Vec<String>, envs: Vec<(String, String)>) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        gitintent(&args, &envs)
    })
    .await
    .unwrap()
}

pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A working repository whose `main` commits `files` and symbolic `links`
/// (path → target, mode 120000), checked out so the links are real links.
pub(crate) fn committed(dir: &Path, files: &[(&str, &str)], links: &[(&str, &str)]) -> Repository {
    let mut opts = git2::RepositoryInitOptions::new();
    opts.initial_head("main");
    let repo = Repository::init_opts(dir, &opts).unwrap();
    let empty = repo.treebuilder(None).unwrap().write().unwrap();
    let base = repo.find_tree(empty).unwrap();
    let mut update = git2::build::TreeUpdateBuilder::new();
    for (path, content) in files {
        update.upsert(*path, repo.blob(content.as_bytes()).unwrap(), FileMode::Blob);
    }
    for (path, target) in links {
        update.upsert(*path, repo.blob(target.as_bytes()).unwrap(), FileMode::Link);
    }
    let tree = update.create_updated(&repo, &base).unwrap();
    drop(base);
    {
        let tree = repo.find_tree(tree).unwrap();
        let sig = Signature::now("Someone", "someone@example.com").unwrap();
        repo.commit(Some("refs/heads/main"), &sig, &sig, "hostile", &tree, &[])
            .unwrap();
    }
    repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
        .unwrap();
    repo
}

/// Every path under `root` (links listed, not followed), relative, sorted.
pub(crate) fn tree(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}
