//! Reach: which environments each change alters, on a synthetic repository
//! of 2,000 workloads behind 50 overlays.
//!
//! 400 apps × 5 workload files live in Kustomize bases (`bases/app-N/`);
//! 50 overlays (`overlays/env-K/`) each build 40 of those bases, so every
//! base is shared by 5 overlays. Warm = the index and inventory are built
//! once, as the service keeps them; each figure is for every change.
//!
//! Run with `cargo bench --bench reach`; figures go in BENCHMARKS.md.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use gitintent::change::{self, Inventory, Scope};
use gitintent::repo::{Index, IndexCache, Snapshot};
use gitintent::spec::{Change, Operation, Spec, Update};

#[path = "support/synthetic.rs"]
mod synthetic;

const APPS: usize = 400;
const FILES_PER_APP: usize = 5;
const OVERLAYS: usize = 50;

/// The apps overlay `k` builds: those with `app % 10 == k % 10`.
fn apps_of(k: usize) -> impl Iterator<Item = usize> {
    (0..APPS).filter(move |a| a % 10 == k % 10)
}

fn synthetic_repo(dir: &Path) {
    let repo = git2::Repository::init_bare(dir).unwrap();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut add = |path: String, content: String| files.push((path, content.into_bytes()));
    for a in 0..APPS {
        let app = format!("app-{a}");
        let list: String = (0..FILES_PER_APP)
            .map(|p| format!("  - part-{p}.yaml\n"))
            .collect();
        add(
            format!("bases/{app}/kustomization.yaml"),
            format!("resources:\n{list}"),
        );
        for part in 0..FILES_PER_APP {
            add(
                format!("bases/{app}/part-{part}.yaml"),
                synthetic::deployment(&app, part, "base"),
            );
        }
    }
    for k in 0..OVERLAYS {
        let list: String = apps_of(k).map(|a| format!("  - ../../bases/app-{a}\n")).collect();
        add(
            format!("overlays/env-{k}/kustomization.yaml"),
            format!("namespace: env-{k}\nresources:\n{list}"),
        );
    }
    gitintent::repo::commit_files(&repo, "refs/heads/main", &files, "synthetic").unwrap();
}

/// One update per app: scale and bump its first part in the first overlay building it.
fn changes() -> Vec<(String, Spec)> {
    (0..APPS)
        .map(|a| {
            let env = format!("env-{}", a % 10);
            let spec = Spec {
                environment: env.clone(),
                environments: vec![],
                namespace: "default".into(),
                components: vec![],
                changes: vec![Change {
                    operation: Operation::Update,
                    target: format!("app-{a}-0"),
                    kind: None,
                    set: Some(Update {
                        replicas: Some(5),
                        image: Some(format!("registry.example.com/shop/app-{a}:2.0.0")),
                        ..Update::default()
                    }),
                    promote: None,
                }],
                assumptions: vec![],
                questions: vec![],
                unsupported: vec![],
            };
            (env, spec)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    synthetic_repo(dir.path());
    let snapshot = Snapshot::open_default(dir.path()).unwrap();
    let index = Index::build(&snapshot, &mut IndexCache::new()).unwrap();
    assert_eq!(index.environments().len(), OVERLAYS);
    let names: Vec<String> = index.environments().iter().map(|e| e.name.clone()).collect();
    let inventory = Inventory::build(&snapshot, &index, &names).unwrap();
    assert_eq!(inventory.workloads().len(), APPS * FILES_PER_APP);
    let paths: Vec<String> = inventory.workloads().iter().map(|w| w.path.clone()).collect();
    assert_eq!(inventory.reach(&paths[0]).len(), OVERLAYS / 10);

    let mut group = c.benchmark_group("reach");
    group.sample_size(10);
    group.bench_function("reach of all 2,000 workload files (50 overlays)", |b| {
        b.iter(|| paths.iter().map(|p| inventory.reach(p).len()).sum::<usize>())
    });
    let changes = changes();
    let labels = Default::default();
    group.bench_function("400 updates of shared bases, each patched in one overlay", |b| {
        b.iter(|| {
            for (env, spec) in &changes {
                let out = change::apply(spec, &inventory, Scope::Stated(env), &labels).unwrap();
                assert_eq!(out.applied[0].reach, std::slice::from_ref(env));
            }
        })
    });
    let mut cache = IndexCache::new();
    Index::build(&snapshot, &mut cache).unwrap();
    group.bench_function("environments and inventory (index cache warm)", |b| {
        b.iter(|| {
            let index = Index::build(&snapshot, &mut cache).unwrap();
            Inventory::build(&snapshot, &index, &names).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
