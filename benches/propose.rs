//! Propose: one commit on a new branch in a repository of 2,000 files.
//!
//! Run with `cargo bench --bench propose`; figures go in BENCHMARKS.md.
//! - `commit/new_branch`: blobs + trees + commit + ref create for a 7-file app;
//! - `commit/unchanged`: re-proposing the same files (tree build, branch check, no write);
//! - `push/file_remote`: pushing a fresh branch to a bare `file://` remote.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use git2::{FileMode, Repository, Signature};
use gitintent::manifest::File;
use gitintent::propose::{self, Author, Credentials, PushOptions, Request, Trailers};

/// A bare repository whose `main` holds 2,000 files in 400 app directories.
fn repository(path: &Path) {
    let repo = Repository::init_bare(path).unwrap();
    let empty = repo.treebuilder(None).unwrap().write().unwrap();
    let empty = repo.find_tree(empty).unwrap();
    let mut update = git2::build::TreeUpdateBuilder::new();
    for app in 0..400 {
        for kind in ["deployment", "service", "configmap", "pdb", "kustomization"] {
            let text = format!("kind: {kind}\nmetadata:\n  name: app-{app}\n");
            let blob = repo.blob(text.as_bytes()).unwrap();
            let env = ["production", "staging"][app % 2];
            update.upsert(
                format!("clusters/{env}/apps/app-{app}/{kind}.yaml"),
                blob,
                FileMode::Blob,
            );
        }
    }
    let tree = repo
        .find_tree(update.create_updated(&repo, &empty).unwrap())
        .unwrap();
    let sig = Signature::now("bench", "bench@example.com").unwrap();
    repo.commit(Some("refs/heads/main"), &sig, &sig, "initial", &tree, &[])
        .unwrap();
}

fn request(repo: &Path, n: u64) -> Request {
    let files = [
        "statefulset",
        "service",
        "headless",
        "pdb",
        "configmap",
        "serviceaccount",
        "kustomization",
    ]
    .iter()
    .map(|kind| File {
        path: format!("clusters/production/apps/redis-{n}/{kind}.yaml"),
        content: format!("kind: {kind}\nmetadata:\n  name: redis-{n}\nspec:\n  replicas: 3\n"),
    })
    .collect();
    Request {
        repo: repo.to_path_buf(),
        base: "main".into(),
        base_commit: None,
        branch: None,
        files,
        delete: Vec::new(),
        summary: format!("Add redis-{n} to production"),
        intent: "Deploy a Redis cluster with 3 replicas in production".into(),
        trailers: Trailers {
            plan_id: format!("bench-{n}"),
            planner: gitintent::plan::PlannerName::Builtin,
            model: None,
            spec_sha256: format!("{n:064x}"),
        },
        findings: Vec::new(),
        protected: Vec::new(),
        author: Some(Author {
            name: "bench".into(),
            email: "bench@example.com".into(),
        }),
        committer: None,
        rebase: false,
    }
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gitops.git");
    repository(&path);
    let remote = dir.path().join("remote.git");
    Repository::init_bare(&remote).unwrap();
    let push_options = PushOptions {
        remote: format!("file://{}", remote.display()),
        credentials: Credentials::default(),
        force: false,
        lease: None,
    };

    let mut group = c.benchmark_group("commit");
    group.sample_size(30);
    let mut n = 0u64;
    group.bench_function("new_branch", |b| {
        b.iter(|| {
            n += 1;
            propose::commit(&request(&path, n)).unwrap()
        })
    });
    let same = request(&path, 0);
    propose::commit(&same).unwrap();
    group.bench_function("unchanged", |b| b.iter(|| propose::commit(&same).unwrap()));
    group.finish();

    let mut group = c.benchmark_group("push");
    group.sample_size(20);
    let mut m = 1_000_000u64;
    group.bench_function("file_remote", |b| {
        b.iter_batched(
            || {
                m += 1;
                propose::commit(&request(&path, m)).unwrap().branch
            },
            |branch| propose::push(&path, &branch, &push_options).unwrap(),
            criterion::BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
