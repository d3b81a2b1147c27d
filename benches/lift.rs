//! `gitintent lift` over the synthetic 2,000-workload repository: every app
//! directory read, lifted into a spec, and (second measure) rendered back
//! and compared key by key, as the round-trip test does.
//!
//! The manifests are those of `benches/index.rs` and `benches/reach.rs`
//! (`support/synthetic.rs`: 400 apps × 5 files, each a Deployment, Service,
//! ServiceAccount, ConfigMap and PodDisruptionBudget), written as plain
//! files, since lift reads a directory, not git objects.
//!
//! Run with `cargo bench --bench lift`; figures go in BENCHMARKS.md.

use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion};
use gitintent::lift;

const APPS: usize = 400;
const FILES_PER_APP: usize = 5;

#[path = "support/synthetic.rs"]
mod synthetic;

/// Writes the repository; returns its app directories.
fn synthetic_repo(root: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for env in ["production", "staging"] {
        for i in 0..APPS / 2 {
            let app = format!("app-{i}");
            let dir = root.join(format!("clusters/{env}/apps/{app}"));
            std::fs::create_dir_all(&dir).unwrap();
            for part in 0..FILES_PER_APP {
                std::fs::write(
                    dir.join(format!("part-{part}.yaml")),
                    synthetic::deployment(&app, part, env),
                )
                .unwrap();
            }
            dirs.push(dir);
        }
    }
    dirs
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let apps = synthetic_repo(dir.path());
    let lift_all = |round_trip: bool| {
        let mut workloads = 0;
        let mut covered = 0;
        for app in &apps {
            let docs = lift::read_paths(std::slice::from_ref(app)).unwrap();
            let lifted = lift::lift(&docs, "production");
            workloads += lifted.spec.components.len();
            if round_trip {
                covered += lift::coverage(&lifted).covered();
            }
        }
        (workloads, covered)
    };
    let (workloads, covered) = lift_all(true);
    assert_eq!(workloads, APPS * FILES_PER_APP);
    eprintln!(
        "lift: {workloads} workloads lifted, {covered} of {} resources round-trip",
        workloads * 5
    );
    let mut group = c.benchmark_group("lift");
    group.sample_size(10);
    group.bench_function("read + lift: 2,000 workloads in 400 directories", |b| {
        b.iter(|| lift_all(false))
    });
    group.bench_function("read + lift + round trip (render, compare)", |b| {
        b.iter(|| lift_all(true))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
