//! Load benchmark of two `gitintent serve` replicas on one PostgreSQL
//! database behind a round-robin client, beside one replica on SQLite:
//! `PLANS` concurrent `POST /v1/plans` (openai planner) while the fake model
//! answers each call after 500 ms.
//!
//! Run with `eval "$(.ci/postgres start)"; cargo bench --bench replicas`
//! (`GITINTENT_BENCH_PLANS` changes the count, default 400). Without
//! `GITINTENT_TEST_POSTGRES_URL` only the SQLite figure is taken. Before
//! each criterion group it prints one round's wall time, p50/p99 latency and
//! each replica's RSS; figures go in BENCHMARKS.md.

#[allow(dead_code, unreachable_pub)]
#[path = "../tests/util/fake_llm.rs"]
mod fake_llm;

mod support;

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use fake_llm::{FakeLlm, Reply};
use serde_json::json;
use support::{gitops, spec, TOKEN};

const MODEL_DELAY: Duration = Duration::from_millis(500);

fn plans() -> usize {
    std::env::var("GITINTENT_BENCH_PLANS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(400)
}

/// One replica: the real binary, its address read from its log.
struct Replica {
    child: Child,
    base: String,
}

impl Replica {
    fn start(dir: &Path, name: &str, store: &str, work: &Path, llm: &str) -> Replica {
        let n = plans();
        let config = dir.join(format!("{name}.toml"));
        std::fs::write(
            &config,
            format!(
                "listen = \"127.0.0.1:0\"\nstore = {store:?}\ndata-dir = {:?}\n\
                 [provider]\nbase-url = {llm:?}\nmodel = \"bench\"\n\
                 [[repository]]\nname = \"gitops\"\npath = {:?}\n\
                 [[token]]\nname = \"bench\"\nsha256 = {:?}\nrights = [\"plan\"]\n\
                 [limits]\nmax-model-calls = {n}\nqueue = {n}\nstore-connections = 32\n",
                dir.join(format!("data-{name}")).display().to_string(),
                work.display().to_string(),
                gitintent::serve::auth::hash(TOKEN),
            ),
        )
        .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_gitintent"))
            .args(["serve", "--config"])
            .arg(&config)
            .env("GITINTENT_LOG", "info")
            .env_remove("GITINTENT_LLM_BASE_URL")
            .env_remove("GITINTENT_STORE")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.split("listening on ").nth(1) {
                    let _ = tx.send(addr.trim().to_string());
                }
                // Faults the round would only show as a status: print them.
                if line.contains(" WARN ") || line.contains(" ERROR ") {
                    eprintln!("{line}");
                }
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the replica starts");
        Replica { child, base }
    }

    /// (current, peak) resident set size in MiB.
    fn rss_mib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        let field = |name: &str| -> u64 {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:") / 1024, field("VmHWM:") / 1024)
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One round: `n` plans spread round-robin over `bases`; (wall, sorted latencies).
async fn round(n: usize, client: &reqwest::Client, bases: &[String]) -> (Duration, Vec<Duration>) {
    let started = Instant::now();
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let client = client.clone();
            let url = format!("{}/v1/plans", bases[i % bases.len()]);
            tokio::spawn(async move {
                let t = Instant::now();
                let r = client
                    .post(url)
                    .bearer_auth(TOKEN)
                    .json(&json!({ "intent": format!("Run the shop api, request {i}"), "repo": "gitops" }))
                    .send()
                    .await
                    .expect("the service answers");
                assert_eq!(r.status().as_u16(), 201, "{}", r.text().await.unwrap_or_default());
                t.elapsed()
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(n);
    for h in handles {
        latencies.push(h.await.unwrap());
    }
    latencies.sort();
    (started.elapsed(), latencies)
}

/// Warm-up, one printed round, then a criterion group of rounds.
fn measure(c: &mut Criterion, runtime: &tokio::runtime::Runtime, name: &str, replicas: &[Replica]) {
    let n = plans();
    let bases: Vec<String> = replicas.iter().map(|r| r.base.clone()).collect();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(n)
        .timeout(Duration::from_secs(300))
        .build()
        .unwrap();
    runtime.block_on(round(n, &client, &bases));
    let (wall, latencies) = runtime.block_on(round(n, &client, &bases));
    let pct = |p: f64| latencies[((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1)];
    let rss: Vec<String> = replicas
        .iter()
        .map(|r| {
            let (now, peak) = r.rss_mib();
            format!("{now} MiB (peak {peak} MiB)")
        })
        .collect();
    println!(
        "replicas/{name}/{n}_concurrent_plans: wall {:.0} ms, p50 {:.0} ms, p99 {:.0} ms; RSS {}; model delay {} ms",
        wall.as_secs_f64() * 1e3,
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        rss.join(", "),
        MODEL_DELAY.as_millis(),
    );
    let mut group = c.benchmark_group(format!("replicas/{name}"));
    // One round of 400 plans takes seconds: flat sampling runs each of the
    // 10 samples as one round, where linear sampling would run 55 rounds.
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function(format!("{n}_concurrent_plans"), |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| runtime.block_on(round(n, &client, &bases)).0)
                .sum()
        })
    });
    group.finish();
}

/// A fresh database in the test cluster, dropped by the caller.
fn database(admin: &str, runtime: &tokio::runtime::Runtime, statement: &str) {
    runtime.block_on(async {
        let (client, conn) = tokio_postgres::connect(admin, tokio_postgres::NoTls)
            .await
            .unwrap();
        let task = tokio::spawn(conn);
        client.batch_execute(statement).await.unwrap();
        drop(client);
        let _ = task.await;
    });
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let llm = runtime.block_on(FakeLlm::start_with_fallback(
        [],
        Reply::spec(&spec()).after(MODEL_DELAY),
    ));
    let dir = tempfile::tempdir().unwrap();
    let work = gitops(dir.path());
    {
        let sqlite = dir.path().join("gitintent.db").display().to_string();
        let one = [Replica::start(
            dir.path(),
            "sqlite",
            &sqlite,
            &work,
            &llm.base_url(),
        )];
        measure(c, &runtime, "sqlite_1", &one);
    }
    let Ok(admin) = std::env::var("GITINTENT_TEST_POSTGRES_URL") else {
        eprintln!("skipped replicas/postgres_2: GITINTENT_TEST_POSTGRES_URL is not set (eval \"$(.ci/postgres start)\")");
        return;
    };
    let name = format!("gi_bench_{}", std::process::id());
    database(&admin, &runtime, &format!("CREATE DATABASE {name}"));
    let (base, query) = admin
        .split_once('?')
        .map_or((admin.as_str(), ""), |(b, q)| (b, q));
    let url = format!(
        "{}/{name}{}",
        &base[..base.rfind('/').unwrap()],
        if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        }
    );
    {
        let two = [
            Replica::start(dir.path(), "pg-a", &url, &work, &llm.base_url()),
            Replica::start(dir.path(), "pg-b", &url, &work, &llm.base_url()),
        ];
        measure(c, &runtime, "postgres_2", &two);
    }
    database(
        &admin,
        &runtime,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
