//! Slack front end: how long the router takes to answer, which bounds the
//! slash command's acknowledgement (Slack's limit is 3 s).
//!
//! Run with `cargo bench --bench slack`; figures go in BENCHMARKS.md. Requests
//! go through the real router in-process (`tower::ServiceExt::oneshot`), so the
//! figures are signature verification + form parsing + access + Block Kit,
//! without the network. Each request is signed outside the timed section.

use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use gitintent::finding::{Finding, Severity};
use gitintent::slack::{
    self, BackendError, ChangeStatus, FileChange, PlanSummary, ProposalSummary, Requester, SlackBackend,
    SlackConfig,
};
use tower::ServiceExt;

const SECRET: &str = "bench-secret";

/// Answers `status` from memory with a plan the size of a typical one.
struct Memory(PlanSummary);

impl SlackBackend for Memory {
    async fn plan(
        &self,
        _: Requester,
        _: String,
        _: String,
        _: Option<String>,
    ) -> Result<PlanSummary, BackendError> {
        Ok(self.0.clone())
    }

    async fn propose(&self, _: Requester, id: String) -> Result<ProposalSummary, BackendError> {
        Err(BackendError::Refused(format!("{id}: benchmarks do not propose")))
    }

    async fn status(&self, _: String) -> Result<PlanSummary, BackendError> {
        Ok(self.0.clone())
    }
}

fn typical_plan() -> PlanSummary {
    let files = [
        "statefulset",
        "service",
        "pdb",
        "configmap",
        "serviceaccount",
        "kustomization",
    ];
    PlanSummary {
        id: "3f9c2a1b7e40".into(),
        repo: "platform".into(),
        environment: "production".into(),
        intent:
            "Deploy a Redis cluster with 3 replicas, persistent storage and automatic failover in production"
                .into(),
        summary: vec!["redis in namespace redis: redis, 3 replicas, 8Gi storage".into()],
        assumptions: (0..5)
            .map(|i| format!("assumption number {i} about defaults"))
            .collect(),
        questions: vec!["Which storage class?".into()],
        unsupported: vec![],
        files: files
            .iter()
            .map(|f| FileChange {
                path: format!("clusters/production/apps/redis/{f}.yaml"),
                status: ChangeStatus::Added,
            })
            .collect(),
        findings: (0..4)
            .map(|i| {
                Finding::new(
                    Severity::Warning,
                    "read-only-root-filesystem",
                    format!("StatefulSet/redis-{i}"),
                    "/spec/template/spec/containers/0/securityContext",
                    "container has a writable root filesystem",
                )
            })
            .collect(),
        proposal: None,
    }
}

fn config() -> SlackConfig {
    let mut config: SlackConfig = toml::from_str(
        r#"
        default-repo = "platform"
        [users.U1]
        repos = ["platform"]
        envs = ["*"]
        "#,
    )
    .unwrap();
    config.signing_secret = SECRET.into();
    config
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let router = slack::router(Arc::new(Memory(typical_plan())), config());
    let serial = AtomicUsize::new(0);
    let request = |text: &str| {
        let n = serial.fetch_add(1, Ordering::Relaxed);
        let body = format!(
            "team_id=T1&channel_id=C1&user_id=U1&user_name=ada&command=%2Fgitintent&text={text}\
             &response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1%2F1%2Fx&trigger_id=1.2.{n}"
        );
        let ts = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        Request::post("/slack/commands")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-slack-request-timestamp", ts.to_string())
            .header(
                "x-slack-signature",
                slack::verify::sign(SECRET, ts, body.as_bytes()),
            )
            .body(Body::from(body))
            .unwrap()
    };
    let mut group = c.benchmark_group("slack");
    for (name, text) in [
        ("help", "help"),
        ("status_block_kit", "status+3f9c2a1b7e40"),
        ("refusal", "deploy+redis+repo%3Apayments"),
    ] {
        group.bench_function(name, |b| {
            b.iter_batched(
                || request(text),
                |req| {
                    let resp = rt.block_on(router.clone().oneshot(req)).unwrap();
                    assert!(resp.status().is_success());
                    black_box(resp)
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
