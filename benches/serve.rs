//! Load benchmark of `gitintent serve`: 200 concurrent `POST /v1/plans`
//! (openai planner) while the fake model answers each call after 500 ms.
//!
//! Run with `cargo bench --bench serve`. The service is the real binary in a
//! child process (so its RSS can be read from /proc), the model is the fake
//! OpenAI-compatible server from `tests/util/fake_llm.rs` on loopback, and
//! the repository is a temporary git repository holding `examples/gitops`.
//! Before the criterion group it prints one round's p50/p99 latency, wall
//! time and the server's peak RSS; figures go in BENCHMARKS.md.

#[allow(dead_code, unreachable_pub)]
#[path = "../tests/util/fake_llm.rs"]
mod fake_llm;

mod support;

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use fake_llm::{FakeLlm, Reply};
use serde_json::json;
use support::{gitops, spec, TOKEN};

const CONCURRENT: usize = 200;
const MODEL_DELAY: Duration = Duration::from_millis(500);

struct Service {
    child: Child,
    base: String,
}

impl Service {
    fn start(dir: &Path, llm: &str) -> Service {
        let work = gitops(dir);
        let config = dir.join("gitintent.toml");
        std::fs::write(
            &config,
            format!(
                "listen = \"127.0.0.1:0\"\nstore = {:?}\n[provider]\nbase-url = {llm:?}\nmodel = \"bench\"\n\
                 [[repository]]\nname = \"gitops\"\npath = {:?}\n\
                 [[token]]\nname = \"bench\"\nsha256 = {:?}\nrights = [\"plan\"]\n\
                 [limits]\nmax-model-calls = {CONCURRENT}\nqueue = {CONCURRENT}\n",
                dir.join("gitintent.db").display().to_string(),
                work.display().to_string(),
                gitintent::serve::auth::hash(TOKEN),
            ),
        )
        .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_gitintent"))
            .args(["serve", "--config"])
            .arg(&config)
            .env("GITINTENT_LOG", "warn")
            .env_remove("GITINTENT_LLM_BASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The address is logged at info; with `warn` we find it by asking the OS.
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || for _ in std::io::BufReader::new(stderr).lines() {});
        let pid = child.id();
        let base = loop {
            if let Some(port) = listening_port(pid) {
                break format!("http://127.0.0.1:{port}");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        Service { child, base }
    }

    /// (current, peak) resident set size in KiB.
    fn rss_kib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The port a process listens on, from /proc/net/tcp and its socket inodes.
fn listening_port(pid: u32) -> Option<u16> {
    let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .ok()?
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter_map(|l| {
            let l = l.to_string_lossy().into_owned();
            l.strip_prefix("socket:[")?.strip_suffix(']').map(String::from)
        })
        .collect();
    let tcp = std::fs::read_to_string("/proc/net/tcp").ok()?;
    tcp.lines().skip(1).find_map(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        (cols.get(3) == Some(&"0A") && inodes.iter().any(|i| Some(&i.as_str()) == cols.get(9)))
            .then(|| u16::from_str_radix(cols[1].rsplit(':').next()?, 16).ok())
            .flatten()
    })
}

/// Fires one round of [`CONCURRENT`] plans; returns (wall time, sorted latencies).
async fn round(client: &reqwest::Client, base: &str) -> (Duration, Vec<Duration>) {
    round_of(CONCURRENT, client, base).await
}

async fn round_of(n: usize, client: &reqwest::Client, base: &str) -> (Duration, Vec<Duration>) {
    let started = Instant::now();
    let requests = (0..n).map(|i| {
        let client = client.clone();
        let url = format!("{base}/v1/plans");
        async move {
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
        }
    });
    let handles: Vec<_> = requests.map(tokio::spawn).collect();
    let mut latencies = Vec::with_capacity(n);
    for h in handles {
        latencies.push(h.await.unwrap());
    }
    latencies.sort();
    (started.elapsed(), latencies)
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
    let service = Service::start(dir.path(), &llm.base_url());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENT)
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    runtime.block_on(round(&client, &service.base));
    // One plan alone: the model's 500 ms plus the per-plan work.
    let (single, _) = runtime.block_on(round_of(1, &client, &service.base));
    let (wall, latencies) = runtime.block_on(round(&client, &service.base));
    let pct = |p: f64| latencies[((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1)];
    let (rss, peak) = service.rss_kib();
    println!(
        "serve/{CONCURRENT}_concurrent_plans: wall {:.0} ms, p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms; \
         server RSS {} MiB (peak {} MiB); model delay {} ms; one plan alone {:.0} ms",
        wall.as_secs_f64() * 1e3,
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        latencies[latencies.len() - 1].as_secs_f64() * 1e3,
        rss / 1024,
        peak / 1024,
        MODEL_DELAY.as_millis(),
        single.as_secs_f64() * 1e3
    );
    let mut group = c.benchmark_group("serve");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    group.bench_function(format!("{CONCURRENT}_concurrent_plans"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                total += runtime.block_on(round(&client, &service.base)).0;
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
