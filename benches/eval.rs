//! Evals: the whole builtin suite, one case, and the o200k token count.
//!
//! Run with `cargo bench --bench eval`. `builtin/suite` is what the CI floor
//! test costs; `tokens/yaml_redis` is the token-economy overhead per plan.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use gitintent::eval::{self, tokens, Prices};
use gitintent::pipeline::{self, Context};
use gitintent::plan::Planner;
use gitintent::Intent;

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let cases = eval::load(&[Path::new(env!("CARGO_MANIFEST_DIR")).join("evals")]).expect("cases load");
    let ctx = Context::default();
    let prices = Prices::default();
    // Load the BPE tables outside the measurements.
    tokens::count("warm up");

    let mut group = c.benchmark_group("builtin");
    group.sample_size(10);
    group.bench_function("suite", |b| {
        b.iter(|| runtime.block_on(eval::run(&cases, &Planner::Builtin, &ctx, &prices, |_, _| {})))
    });
    let redis = cases
        .iter()
        .find(|c| c.name == "redis-ha-production")
        .expect("the redis case");
    group.bench_function("case_redis", |b| {
        b.iter(|| runtime.block_on(eval::run_case(redis, &Planner::Builtin, &ctx, &prices)))
    });
    group.finish();

    let intent = Intent::new(&redis.intent_text(), None).expect("a valid intent");
    let plan = runtime
        .block_on(pipeline::run(&intent, &Planner::Builtin, &ctx))
        .expect("redis plans");
    let yaml: String = plan.files.iter().map(|f| f.content.as_str()).collect();
    let spec = serde_json::to_string(&plan.spec).expect("the spec serialises");
    let mut group = c.benchmark_group("tokens");
    group.bench_function("yaml_redis", |b| b.iter(|| tokens::count(&yaml)));
    group.bench_function("spec_redis", |b| b.iter(|| tokens::count(&spec)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
