//! Evals and the cassette through the library: the openai planner scored
//! against the fake OpenAI server on loopback (tokens, cost), record and
//! replay through the same HTTP path, and the response cache. The CLI is in
//! `eval_cli.rs`. Offline, no API key.

use std::path::Path;
use std::time::Duration;

use gitintent::cassette::{Cassette, Mode};
use gitintent::eval::{self, Outcome, Prices};
use gitintent::pipeline::{self, Context};
use gitintent::plan::{OpenAi, OpenAiConfig, Planner};
use gitintent::Intent;
use serde_json::{json, Value};

use crate::util::fake_llm::{FakeLlm, Reply, COMPLETION_TOKENS, PROMPT_TOKENS};

pub(crate) const MODEL: &str = "gpt-test";

pub(crate) fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn component(name: &str, archetype: &str) -> Value {
    json!({
        "name": name, "archetype": archetype, "image": null, "replicas": null, "ports": [],
        "resources": null, "storage": null, "exposure": null, "autoscaling": null,
        "health_check": null, "env": [], "secret_refs": [], "schedule": null,
        "high_availability": null
    })
}

fn spec(environment: &str, namespace: &str, components: Vec<Value>) -> Value {
    json!({
        "environment": environment, "namespace": namespace, "components": components,
        "assumptions": [], "questions": [], "changes": []
    })
}

pub(crate) fn redis() -> Value {
    let mut c = component("redis", "redis");
    c["replicas"] = json!(3);
    c["storage"] = json!({"size": "10Gi", "class": null});
    c["high_availability"] = json!({"pod_disruption_budget": true, "spread": true, "failover": true});
    spec("production", "cache", vec![c])
}

fn shop() -> Value {
    let mut c = component("shop", "web_service");
    c["image"] = json!("acme/shop:2.1.0");
    c["replicas"] = json!(2);
    c["exposure"] = json!({"host": "shop.example.com", "path": null, "tls": true});
    spec("staging", "shop", vec![c])
}

/// A day-2 answer: scale the shop fixture's api-gateway.
fn scale_api_gateway() -> Value {
    let mut s = spec("production", "default", vec![]);
    s["changes"] = json!([{
        "operation": "update", "target": "api-gateway", "kind": null,
        "set": {"replicas": 5, "image": null, "container": null, "resources": null, "exposure": null}
    }]);
    s
}

/// The fake model's answers for `evals/recordings/cases.yaml`, in case order:
/// redis at once; the shop after one unparseable reply; nothing to deploy;
/// a day-2 scale of the shop fixture's api-gateway.
fn recorded_script() -> Vec<Reply> {
    vec![
        Reply::spec(&redis()),
        Reply::completion("{\"environment\": \"staging\", "),
        Reply::spec(&shop()),
        Reply::completion(
            &json!({"environment": "production", "namespace": "default", "components": [],
                    "assumptions": [], "changes": [], "questions": ["Removing resources is not something I can plan."]})
            .to_string(),
        ),
        Reply::spec(&scale_api_gateway()),
    ]
}

fn config(base_url: String) -> OpenAiConfig {
    OpenAiConfig {
        timeout: Duration::from_secs(5),
        deadline: Duration::from_secs(10),
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        ..OpenAiConfig::new(base_url, MODEL)
    }
}

fn planner(base_url: String) -> Planner {
    Planner::OpenAi(OpenAi::new(config(base_url)).unwrap())
}

fn recorded_cases() -> Vec<eval::Case> {
    eval::load(&[root().join("evals/recordings/cases.yaml")]).unwrap()
}

fn prices() -> Prices {
    // The answering model's name, and the configured one (used for a failed plan).
    Prices::parse(
        "[prices.\"fake-model-snapshot\"]\ninput = 2.0\noutput = 8.0\n\
         [prices.\"gpt-test\"]\ninput = 2.0\noutput = 8.0\n",
    )
    .unwrap()
}

/// A cassette over `dir` in `mode`, keyed by this build's prompt version.
async fn cassette(dir: &Path, mode: Mode) -> Cassette {
    Cassette::start(dir, mode, gitintent::plan::prompt_version())
        .await
        .unwrap()
}

/// A recording cassette over `dir` in front of `upstream`.
async fn recorder(dir: &Path, upstream: String) -> Cassette {
    cassette(dir, Mode::Record { upstream }).await
}

/// `evals/recordings/cases.yaml` run by the openai planner at `base_url`.
async fn run_recorded(base_url: String, prices: &Prices) -> eval::Report {
    eval::run(
        &recorded_cases(),
        &planner(base_url),
        &Context::default(),
        prices,
        |_, _| {},
    )
    .await
}

/// Checks a run of `evals/recordings/cases.yaml` with the recorded script.
fn assert_recorded_report(report: &eval::Report) {
    let t = &report.totals;
    assert_eq!((t.cases, t.passed), (4, 4), "{report:#?}");
    let [redis, shop, removal, scale] = &report.cases[..] else {
        panic!("four cases")
    };
    assert_eq!((scale.attempts, scale.error_findings), (1, 0));
    assert_eq!((redis.attempts, redis.repairs), (1, 0));
    assert_eq!((shop.attempts, shop.repairs), (2, 1));
    assert_eq!(
        (shop.input_tokens, shop.output_tokens),
        (2 * PROMPT_TOKENS, 2 * COMPLETION_TOKENS)
    );
    // 200 input tokens at $2/M + 100 output tokens at $8/M.
    assert!((shop.cost_usd.unwrap() - 0.0012).abs() < 1e-12, "{shop:?}");
    assert_eq!(shop.model.as_deref(), Some("fake-model-snapshot"));
    assert_eq!(removal.outcome, Outcome::Rejected);
    // A plan that failed after a model call still reports what it spent.
    assert_eq!((removal.attempts, removal.input_tokens), (1, PROMPT_TOKENS));
    assert!(redis.spec_tokens.unwrap() < redis.yaml_tokens.unwrap());
    assert_eq!(t.schema_valid_rate, Some(1.0));
    assert_eq!(report.planner, "openai");
    assert_eq!(report.model.as_deref(), Some(MODEL));
}

#[tokio::test]
async fn the_openai_planner_is_scored_with_tokens_and_cost_against_the_fake_server() {
    let server = FakeLlm::start(recorded_script()).await;
    let report = run_recorded(server.base_url(), &prices()).await;
    assert_recorded_report(&report);
    assert_eq!(server.request_count(), 5);
    let t = &report.totals;
    assert_eq!((t.input_tokens, t.output_tokens), (500, 250));
    // 500 input tokens at $2/M + 250 output tokens at $8/M.
    assert!((t.cost_usd.unwrap() - 0.003).abs() < 1e-12, "{t:?}");
    // The day-2 case's request told the model what the fixture holds.
    let scale = server.requests().pop().unwrap();
    let body = scale.body.to_string();
    assert!(
        body.contains("existing_workloads") && body.contains("api-gateway"),
        "{body}"
    );
    // A model missing from the price table has no cost, not a cost of 0.
    let server = FakeLlm::start(recorded_script()).await;
    let unpriced = run_recorded(server.base_url(), &Prices::default()).await;
    assert_eq!(unpriced.cases[0].cost_usd, None);
    assert_eq!(unpriced.totals.cost_usd, None);
}

#[tokio::test]
async fn the_committed_recordings_replay_offline_through_http() {
    let cassette = cassette(&root().join("evals/recordings"), Mode::Replay).await;
    let report = run_recorded(cassette.base_url(), &prices()).await;
    assert_recorded_report(&report);
    let stats = cassette.stats();
    assert_eq!((stats.hits, stats.misses, stats.stored), (5, 0, 0));
}

#[tokio::test]
async fn recording_then_replaying_gives_the_same_report_and_a_miss_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let server = FakeLlm::start(recorded_script()).await;
    let recorder = recorder(dir.path(), server.base_url()).await;
    let recorded = run_recorded(recorder.base_url(), &prices()).await;
    assert_recorded_report(&recorded);
    assert_eq!(recorder.stats().stored, 5);
    let files = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(files, 5);

    let player = cassette(dir.path(), Mode::Replay).await;
    let replayed = run_recorded(player.base_url(), &prices()).await;
    assert_recorded_report(&replayed);
    assert_eq!(server.request_count(), 5, "replay called the endpoint");
    let strip = |r: &eval::Report| -> Vec<(String, bool, u64)> {
        r.cases
            .iter()
            .map(|c| (c.name.clone(), c.passed, c.input_tokens))
            .collect()
    };
    assert_eq!(strip(&recorded), strip(&replayed));

    // Another model: no recording, and the error names the key.
    let other = Planner::OpenAi(
        OpenAi::new(OpenAiConfig {
            model: "another-model".into(),
            ..config(player.base_url())
        })
        .unwrap(),
    );
    let intent = Intent::new("Deploy redis in staging", None).unwrap();
    let err = pipeline::run(&intent, &other, &Context::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("replay miss") && err.contains("\"another-model\"") && err.contains("key "),
        "{err}"
    );
    let key = err
        .split("key ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    assert_eq!(key.len(), 64, "{err}");
}

#[tokio::test]
async fn an_identical_plan_is_answered_from_the_cache_without_calling_the_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let server = FakeLlm::start([Reply::spec(&redis())]).await;
    let cache = cassette(
        dir.path(),
        Mode::Cache {
            upstream: server.base_url(),
        },
    )
    .await;
    let planner = planner(cache.base_url());
    let intent = Intent::new(
        "Deploy a highly available redis cache with 3 replicas and 10Gi of storage in production",
        None,
    )
    .unwrap();
    let first = pipeline::run(&intent, &planner, &Context::default())
        .await
        .unwrap();
    assert_eq!(server.request_count(), 1);
    let second = pipeline::run(&intent, &planner, &Context::default())
        .await
        .unwrap();
    assert_eq!(server.request_count(), 1, "the second plan called the endpoint");
    assert_eq!(first.files, second.files);
    assert_eq!(cache.stats().hits, 1);
    // A different intent is a miss and goes to the endpoint (which has no more answers).
    let other = Intent::new("Deploy memcached in staging", None).unwrap();
    assert!(pipeline::run(&other, &planner, &Context::default())
        .await
        .is_err());
    assert_eq!(server.request_count(), 2);
}

/// Re-records `evals/recordings/` from the fake server's scripted answers.
/// Run it after a prompt or schema change makes the committed keys stale:
/// `cargo test --test integration rerecord -- --ignored`.
#[tokio::test]
#[ignore = "rewrites evals/recordings/; run after changing prompts/ or the spec schema"]
async fn rerecord_the_committed_recordings() {
    let dir = root().join("evals/recordings");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            std::fs::remove_file(path).unwrap();
        }
    }
    let server = FakeLlm::start(recorded_script()).await;
    let recorder = recorder(&dir, server.base_url()).await;
    let report = run_recorded(recorder.base_url(), &prices()).await;
    assert_recorded_report(&report);
}
