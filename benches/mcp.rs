//! Load benchmark of MCP over HTTP: 50 concurrent `tools/call plan` on
//! `serve`'s `/mcp` (builtin planner, bearer token), each a full plan:
//! token check, rmcp's Streamable HTTP transport (stateless JSON), admission,
//! store insert, repository snapshot (cached per commit), the pipeline, the
//! diff, the store update and the audit trail.
//!
//! Run with `cargo bench --bench mcp`. The service runs in-process on
//! `127.0.0.1:0` over a temporary git repository holding `examples/gitops`.
//! Before the criterion group it prints one round's p50/p99 latency and wall
//! time; figures go in BENCHMARKS.md.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use gitintent::serve::{Config, Overrides, Server};
use serde_json::json;
use support::{gitops, TOKEN};

const CONCURRENT: usize = 50;

/// Starts the service; its `/mcp` URL.
async fn start(dir: &Path) -> String {
    let work = gitops(dir);
    let toml = format!(
        "listen = \"127.0.0.1:0\"\nstore = {:?}\n[limits]\nqueue = 1000\n[[repository]]\nname = \"gitops\"\npath = {:?}\n\
         [[token]]\nname = \"bench\"\nsha256 = \"{}\"\nrights = [\"plan\"]\n",
        dir.join("gitintent.db").display().to_string(),
        work.display().to_string(),
        gitintent::serve::auth::hash(TOKEN)
    );
    let path = dir.join("gitintent.toml");
    std::fs::write(&path, toml).unwrap();
    let config = Config::load(Some(&path), |_| None, Overrides::default()).unwrap();
    let server = Server::bind(config).await.unwrap();
    let url = format!("http://{}/mcp", server.local_addr().unwrap());
    tokio::spawn(server.run(std::future::pending()));
    url
}

async fn call(client: &reqwest::Client, url: &str, i: usize) -> Duration {
    let started = Instant::now();
    let body = json!({
        "jsonrpc": "2.0", "id": i, "method": "tools/call",
        "params": {"name": "plan", "arguments": {"intent": format!("Deploy nginx:1.27 as web{i} with 2 replicas in staging")}}
    });
    let reply: serde_json::Value = client
        .post(url)
        .bearer_auth(TOKEN)
        .header("accept", "application/json, text/event-stream")
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reply["result"]["isError"], false, "{reply}");
    started.elapsed()
}

/// One round of CONCURRENT calls: sorted latencies and the wall time.
async fn round(client: &reqwest::Client, url: &str) -> (Vec<Duration>, Duration) {
    let started = Instant::now();
    let tasks: Vec<_> = (0..CONCURRENT)
        .map(|i| {
            let (client, url) = (client.clone(), url.to_string());
            tokio::spawn(async move { call(&client, &url, i).await })
        })
        .collect();
    let mut latencies = Vec::with_capacity(CONCURRENT);
    for t in tasks {
        latencies.push(t.await.unwrap());
    }
    latencies.sort();
    (latencies, started.elapsed())
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = runtime.block_on(start(dir.path()));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let (latencies, wall) = runtime.block_on(round(&client, &url));
    let pct = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
    println!(
        "mcp: {CONCURRENT} concurrent tools/call plan: p50 {:?}, p99 {:?}, wall {:?}",
        pct(50),
        pct(99),
        wall
    );
    let mut group = c.benchmark_group("mcp");
    group.sample_size(10);
    group.bench_function("50_concurrent_tools_call_plan", |b| {
        b.iter(|| runtime.block_on(round(&client, &url)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
