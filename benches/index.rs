//! Indexing a GitOps repository from git objects, and a whole `plan --repo`.
//!
//! The repository is synthetic: 10,000 manifests in 2,000 files (400 apps ×
//! 5 files × 5 documents, over two environments), committed with git2 into
//! a temporary repository as loose objects, as a fresh clone's checkout
//! would not be: the worst case for reads.
//!
//! Run with `cargo bench --bench index`; figures go in BENCHMARKS.md.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use gitintent::change::{self, Inventory, Scope};
use gitintent::pipeline::{self, Context};
use gitintent::plan::Planner;
use gitintent::repo::{diff, Index, IndexCache, Snapshot};
use gitintent::spec::{Change, Operation, Spec, Update};
use gitintent::Intent;

#[path = "support/synthetic.rs"]
mod synthetic;
use synthetic::deployment;

const APPS: usize = 400;
const FILES_PER_APP: usize = 5;

/// Commits the synthetic repository into `dir`.
fn synthetic_repo(dir: &Path) {
    let repo = git2::Repository::init_bare(dir).unwrap();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut add = |path: String, content: String| files.push((path, content.into_bytes()));
    for env in ["production", "staging"] {
        let apps: Vec<String> = (0..APPS / 2).map(|i| format!("app-{i}")).collect();
        let list: String = apps.iter().map(|a| format!("  - {a}\n")).collect();
        add(
            format!("clusters/{env}/apps/kustomization.yaml"),
            format!("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n{list}"),
        );
        for app in &apps {
            for part in 0..FILES_PER_APP {
                add(
                    format!("clusters/{env}/apps/{app}/part-{part}.yaml"),
                    deployment(app, part, env),
                );
            }
        }
    }
    add(
        ".gitintent.yaml".into(),
        "layout: clusters/{environment}/apps/{name}/\n".into(),
    );
    gitintent::repo::commit_files(&repo, "refs/heads/main", &files, "synthetic").unwrap();
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    synthetic_repo(dir.path());
    let root = dir.path();
    {
        let index = Index::build(&Snapshot::open_default(root).unwrap(), &mut IndexCache::new()).unwrap();
        assert_eq!(index.resources().len(), APPS * FILES_PER_APP * 5);
        assert_eq!(index.stats().files, APPS * FILES_PER_APP + 3);
    }

    let mut group = c.benchmark_group("index");
    group.sample_size(10);
    group.bench_function("cold: 10,000 manifests in 2,000 files", |b| {
        b.iter(|| {
            let snapshot = Snapshot::open_default(root).unwrap();
            Index::build(&snapshot, &mut IndexCache::new()).unwrap()
        })
    });
    let mut cache = IndexCache::new();
    Index::build(&Snapshot::open_default(root).unwrap(), &mut cache).unwrap();
    group.bench_function("warm: nothing changed", |b| {
        b.iter(|| {
            let snapshot = Snapshot::open_default(root).unwrap();
            let index = Index::build(&snapshot, &mut cache).unwrap();
            assert_eq!(index.stats().parsed, 0);
            index
        })
    });
    group.finish();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let intent = Intent::new(
        "Deploy a Redis cluster with 3 replicas, persistent storage and automatic failover in production",
        None,
    )
    .unwrap();
    let mut group = c.benchmark_group("plan");
    group.sample_size(10);
    let plan = |cache: &mut IndexCache| {
        let snapshot = Snapshot::open_default(root).unwrap();
        let index = Index::build(&snapshot, cache).unwrap();
        let ctx = Context::from_snapshot(&snapshot)
            .unwrap()
            .with_index(&snapshot, &index)
            .unwrap();
        let plan = runtime
            .block_on(pipeline::run(&intent, &Planner::Builtin, &ctx))
            .unwrap();
        let changes = diff(&index, &snapshot, &plan.files, &plan.in_place).unwrap();
        assert!(!changes.is_noop());
        changes
    };
    group.bench_function("builtin end to end, cold index (the CLI)", |b| {
        b.iter(|| plan(&mut IndexCache::new()))
    });
    group.bench_function("builtin end to end, warm index (a service)", |b| {
        b.iter(|| plan(&mut cache))
    });
    group.finish();

    // Day-2: the inventory a change resolves against, and one update.
    let snapshot = Snapshot::open_default(root).unwrap();
    let index = Index::build(&snapshot, &mut cache).unwrap();
    let envs = vec!["production".to_string(), "staging".to_string()];
    let mut group = c.benchmark_group("change");
    group.sample_size(10);
    group.bench_function("inventory of 2,000 workloads in 2,000 files", |b| {
        b.iter(|| Inventory::build(&snapshot, &index, &envs).unwrap())
    });
    let inventory = Inventory::build(&snapshot, &index, &envs).unwrap();
    assert_eq!(inventory.workloads().len(), APPS * FILES_PER_APP);
    let scale = Spec {
        environment: "production".into(),
        environments: vec![],
        namespace: "default".into(),
        components: vec![],
        changes: vec![Change {
            operation: Operation::Update,
            promote: None,
            target: "app-17-2".into(),
            kind: None,
            set: Some(Update {
                replicas: Some(5),
                image: Some("registry.example.com/shop/app-17:1.3.0".into()),
                ..Update::default()
            }),
        }],
        assumptions: vec![],
        questions: vec![],
        unsupported: vec![],
    };
    let labels = Default::default();
    group.bench_function("scale and bump one of 2,000 workloads", |b| {
        b.iter(|| change::apply(&scale, &inventory, Scope::Stated("production"), &labels).unwrap())
    });
    group.bench_function("inventory, then the update (the CLI's day-2 path)", |b| {
        b.iter(|| {
            let inventory = Inventory::build(&snapshot, &index, &envs).unwrap();
            change::apply(&scale, &inventory, Scope::Stated("production"), &labels).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
