//! `propose`: commits without a working tree, pushes, pull requests, faults, the CLI.
//!
//! Every test gets its own temporary git repository (and remotes), made with git2; the
//! `git` CLI is used only as an independent checker (`git fsck`, `git daemon`).

mod cli;
mod commit;
mod concurrency;
mod faults;
mod forge;
mod from_plan;
mod publish;
mod push;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use git2::{FileMode, Oid, Repository, Signature};
use gitintent::manifest::File;
use gitintent::propose::{Author, Request, Trailers};
use sha2::Digest;

/// A temporary repository whose `main` holds a README and one app.
pub(crate) struct TestRepo {
    _dir: tempfile::TempDir,
    pub(crate) path: PathBuf,
}

pub(crate) const EXISTING: &str = "clusters/staging/apps/web/deployment.yaml";

impl TestRepo {
    pub(crate) fn new(bare: bool) -> TestRepo {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(if bare { "gitops.git" } else { "gitops" });
        let mut opts = git2::RepositoryInitOptions::new();
        opts.bare(bare).initial_head("main");
        let repo = Repository::init_opts(&path, &opts).unwrap();
        commit_files(
            &repo,
            "refs/heads/main",
            &[("README.md", "# gitops\n"), (EXISTING, "kind: Deployment\n")],
            "initial",
        );
        if !bare {
            repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
                .unwrap();
        }
        TestRepo { _dir: dir, path }
    }

    pub(crate) fn open(&self) -> Repository {
        Repository::open(&self.path).unwrap()
    }

    /// Adds a commit on `main` (someone merged something).
    pub(crate) fn advance_main(&self, file: &str) -> Oid {
        commit_files(
            &self.open(),
            "refs/heads/main",
            &[(file, "moved: on\n")],
            "advance",
        )
    }

    /// Commits `.gitintent.yaml` on `main`: the config is read from the base commit.
    pub(crate) fn commit_config(&self, text: &str) {
        commit_files(
            &self.open(),
            "refs/heads/main",
            &[(".gitintent.yaml", text)],
            "config",
        );
    }

    /// Every ref and what it points at.
    pub(crate) fn refs(&self) -> Vec<(String, String)> {
        refs(&self.path)
    }
}

/// Commits `files` on top of `refname` (or as a root commit) without an index.
pub(crate) fn commit_files(repo: &Repository, refname: &str, files: &[(&str, &str)], message: &str) -> Oid {
    let parent = repo
        .find_reference(refname)
        .ok()
        .and_then(|r| r.peel_to_commit().ok());
    let base_tree = match &parent {
        Some(p) => p.tree().unwrap(),
        None => repo
            .find_tree(repo.treebuilder(None).unwrap().write().unwrap())
            .unwrap(),
    };
    let mut update = git2::build::TreeUpdateBuilder::new();
    for (path, content) in files {
        let blob = repo.blob(content.as_bytes()).unwrap();
        update.upsert(*path, blob, FileMode::Blob);
    }
    let tree = repo
        .find_tree(update.create_updated(repo, &base_tree).unwrap())
        .unwrap();
    let sig = Signature::now("Someone", "someone@example.com").unwrap();
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    repo.commit(Some(refname), &sig, &sig, message, &tree, &parents)
        .unwrap()
}

pub(crate) fn refs(path: &Path) -> Vec<(String, String)> {
    let repo = Repository::open(path).unwrap();
    let mut out: Vec<(String, String)> = repo
        .references()
        .unwrap()
        .map(|r| {
            let r = r.unwrap();
            let target = r
                .target()
                .map(|t| t.to_string())
                .or_else(|| r.symbolic_target().unwrap().map(String::from))
                .unwrap_or_default();
            (r.name().unwrap().to_string(), target)
        })
        .collect();
    out.sort();
    out
}

/// Planned files for an app called `name`.
pub(crate) fn files(name: &str) -> Vec<File> {
    ["deployment", "service"]
        .iter()
        .map(|kind| File {
            path: format!("clusters/production/apps/{name}/{kind}.yaml"),
            content: format!("kind: {kind}\nmetadata:\n  name: {name}\n"),
        })
        .collect()
}

pub(crate) fn author() -> Author {
    Author {
        name: "Gitintent Test".into(),
        email: "test@example.com".into(),
    }
}

/// A request for app `name` against `main`, as the CLI would build it.
pub(crate) fn request(repo: &Path, name: &str) -> Request {
    Request {
        repo: repo.to_path_buf(),
        base: "main".into(),
        base_commit: None,
        branch: None,
        files: files(name),
        delete: Vec::new(),
        summary: format!("Add {name} to production"),
        intent: format!("Deploy {name} in production"),
        trailers: Trailers {
            plan_id: format!("plan-{name}"),
            planner: gitintent::plan::PlannerName::Builtin,
            model: None,
            spec_sha256: hex::encode(sha2::Sha256::digest(name.as_bytes())),
        },
        findings: Vec::new(),
        protected: Vec::new(),
        author: Some(author()),
        committer: None,
        rebase: false,
    }
}

/// `git fsck --strict` must pass.
pub(crate) fn fsck(path: &Path) {
    let out = Command::new("git")
        .args(["fsck", "--strict", "--no-progress"])
        .current_dir(path)
        .output()
        .expect("git is installed");
    assert!(
        out.status.success(),
        "git fsck --strict failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A bare repository to push to, holding `main` from `source`.
pub(crate) fn bare_remote(source: &TestRepo) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("remote.git");
    let remote = Repository::init_bare(&path).unwrap();
    let url = format!("file://{}", path.display());
    let repo = source.open();
    let mut origin = repo.remote_anonymous(&url).unwrap();
    origin.push(&["refs/heads/main:refs/heads/main"], None).unwrap();
    drop(remote);
    (dir, path)
}

/// `git daemon --enable=receive-pack` serving `base` on 127.0.0.1; killed on drop.
pub(crate) struct GitDaemon {
    child: Child,
    pub(crate) port: u16,
}

impl GitDaemon {
    /// `None` (with a message) only when `git daemon` is not installed.
    pub(crate) fn start(base: &Path) -> Option<GitDaemon> {
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let child = Command::new("git")
                .arg("daemon")
                .arg("--reuseaddr")
                .arg("--export-all")
                .arg("--enable=receive-pack")
                .arg("--listen=127.0.0.1")
                .arg(format!("--port={port}"))
                .arg(format!("--base-path={}", base.display()))
                .arg(base)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn();
            let mut child = match child {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("skipping: cannot run `git daemon`: {e}");
                    return None;
                }
            };
            for _ in 0..100 {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Some(GitDaemon { child, port });
                }
                if let Ok(Some(status)) = child.try_wait() {
                    if status.code() == Some(129) || status.code() == Some(1) {
                        break; // port taken or bad usage: try another port
                    }
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        eprintln!("skipping: `git daemon` did not start (is it installed? `git daemon --help`)");
        None
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
