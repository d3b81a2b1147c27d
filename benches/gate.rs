//! The validate gate with and without policies, on one input, in one run.
//!
//! Input: 1,000 Deployment+Service pairs in one file (`benches/gate/pair.yaml`,
//! the same as `benches/gate/process.sh` feeds the release binary). Each
//! `gate/*` benchmark does what `gitintent validate` does after reading the
//! file: parse once, schema validation, then the policies asked for (none, the
//! built-in pack, or the 20 Kyverno policies of `benches/gate/kyverno-20.txt`).
//! The `stage/*` benchmarks split that into its parts. `*(Rego only)` runs
//! the built-in pack through the interpreter alone (the native pack of
//! `src/policy/native/` turned off): the figure before it, in the same run.
//!
//! Run with `cargo bench --bench gate`; figures and ratios go in BENCHMARKS.md.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use gitintent::manifest::File;
use gitintent::policy::{PolicySet, Settings};
use gitintent::validate::{Manifests, Options, Status};

const PAIRS: usize = 1000;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The 2,000-resource stream.
fn stream() -> File {
    let template = std::fs::read_to_string(root().join("benches/gate/pair.yaml")).expect("pair.yaml");
    let pair: String = template
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let docs: Vec<String> = (0..PAIRS)
        .map(|i| {
            pair.replace("@I@", &i.to_string())
                .replace("@TEAM@", &(i % 7).to_string())
        })
        .collect();
    File {
        path: "bench.yaml".into(),
        content: docs.join("---\n"),
    }
}

/// The 20 Kyverno policies.
fn kyverno() -> PolicySet {
    let list = std::fs::read_to_string(root().join("benches/gate/kyverno-20.txt")).expect("kyverno-20.txt");
    let dir = root().join("tests/fixtures/policy-suites/kyverno-policies");
    let paths: Vec<&str> = list
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    assert_eq!(paths.len(), 20);
    paths.iter().fold(PolicySet::empty(), |set, p| {
        set.with_path(&dir.join(p)).expect("policy loads")
    })
}

/// `gitintent validate`'s work after reading the files.
fn gate(files: &[File], policies: Option<&PolicySet>) -> usize {
    let manifests = Manifests::parse(files);
    let report = manifests.validate(&Options::default());
    let findings = policies.map_or(0, |set| set.check_parsed(&manifests, &Settings::default()).len());
    report.resources.len() + findings
}

fn bench(c: &mut Criterion) {
    let files = [stream()];
    let builtin = PolicySet::builtin().expect("built-in pack compiles");
    let builtin_rego = builtin.clone().interpreted();
    let kyverno = kyverno();
    // Sanity: the input is what it claims to be, all valid, and the policies run.
    let report = Manifests::parse(&files).validate(&Options::default());
    assert_eq!(report.resources.len(), 2 * PAIRS);
    assert!(report.resources.iter().all(|r| r.status == Status::Valid));
    // The pairs pass every policy; one pod with a `latest` tag does not.
    assert_eq!(gate(&files, Some(&kyverno)), 2 * PAIRS);
    let latest = File {
        path: "latest.yaml".into(),
        content: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: nginx:latest\n".into(),
    };
    assert!(gate(&[latest], Some(&kyverno)) > 1, "the Kyverno policies run");
    let parsed = Manifests::parse(&files);
    assert_eq!(
        builtin.check_parsed(&parsed, &Settings::default()),
        builtin_rego.check_parsed(&parsed, &Settings::default()),
        "the native and Rego packs agree"
    );

    let mut group = c.benchmark_group("gate");
    group.sample_size(10);
    group.bench_function("schema-only", |b| b.iter(|| gate(&files, None)));
    group.bench_function("builtin-policies", |b| b.iter(|| gate(&files, Some(&builtin))));
    group.bench_function("builtin-policies (Rego only)", |b| {
        b.iter(|| gate(&files, Some(&builtin_rego)))
    });
    group.bench_function("kyverno-20", |b| b.iter(|| gate(&files, Some(&kyverno))));
    group.finish();

    let manifests = Manifests::parse(&files);
    let settings = Settings::default();
    let mut group = c.benchmark_group("stage");
    group.sample_size(10);
    group.bench_function("parse", |b| b.iter(|| Manifests::parse(&files).files().len()));
    group.bench_function("schema (parsed)", |b| {
        b.iter(|| manifests.validate(&Options::default()))
    });
    group.bench_function("builtin-policies (parsed)", |b| {
        b.iter(|| builtin.check_parsed(&manifests, &settings))
    });
    group.bench_function("builtin-policies (parsed, Rego only)", |b| {
        b.iter(|| builtin_rego.check_parsed(&manifests, &settings))
    });
    group.bench_function("kyverno-20 (parsed)", |b| {
        b.iter(|| kyverno.check_parsed(&manifests, &settings))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
