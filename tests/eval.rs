//! `gitintent eval` and the cassette: library runs with the openai planner
//! against the fake OpenAI server on loopback (tokens, cost), record and
//! replay through the same HTTP path, the `plan --cache` response cache, and
//! the CLI's report, exit codes and comparison. Offline, no API key.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use gitintent::cassette::{Cassette, Mode};
use gitintent::eval::{self, Outcome, Prices};
use gitintent::pipeline::{self, Context};
use gitintent::plan::{OpenAi, OpenAiConfig, Planner};
use gitintent::Intent;
use serde_json::{json, Value};

use crate::util::fake_llm::{FakeLlm, Reply, COMPLETION_TOKENS, PROMPT_TOKENS};

const MODEL: &str = "gpt-test";

fn root() -> &'static Path {
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
        "assumptions": [], "questions": []
    })
}

fn redis() -> Value {
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

/// The fake model's answers for `evals/recordings/cases.yaml`, in case order:
/// redis at once; the shop after one unparseable reply; nothing to deploy.
fn recorded_script() -> Vec<Reply> {
    vec![
        Reply::spec(&redis()),
        Reply::completion("{\"environment\": \"staging\", "),
        Reply::spec(&shop()),
        Reply::completion(
            &json!({"environment": "production", "namespace": "default", "components": [],
                    "assumptions": [], "questions": ["Removing resources is not something I can plan."]})
            .to_string(),
        ),
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

/// Checks a run of `evals/recordings/cases.yaml` with the recorded script.
fn assert_recorded_report(report: &eval::Report) {
    let t = &report.totals;
    assert_eq!((t.cases, t.passed), (3, 3), "{report:#?}");
    let [redis, shop, removal] = &report.cases[..] else {
        panic!("three cases")
    };
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
    let report = eval::run(
        &recorded_cases(),
        &planner(server.base_url()),
        &Context::default(),
        &prices(),
        |_, _| {},
    )
    .await;
    assert_recorded_report(&report);
    assert_eq!(server.request_count(), 4);
    let t = &report.totals;
    assert_eq!((t.input_tokens, t.output_tokens), (400, 200));
    // 400 input tokens at $2/M + 200 output tokens at $8/M.
    assert!((t.cost_usd.unwrap() - 0.0024).abs() < 1e-12, "{t:?}");
    // A model missing from the price table has no cost, not a cost of 0.
    let server = FakeLlm::start(recorded_script()).await;
    let unpriced = eval::run(
        &recorded_cases(),
        &planner(server.base_url()),
        &Context::default(),
        &Prices::default(),
        |_, _| {},
    )
    .await;
    assert_eq!(unpriced.cases[0].cost_usd, None);
    assert_eq!(unpriced.totals.cost_usd, None);
}

#[tokio::test]
async fn the_committed_recordings_replay_offline_through_http() {
    let cassette = Cassette::start(
        &root().join("evals/recordings"),
        Mode::Replay,
        gitintent::plan::prompt_version(),
    )
    .await
    .unwrap();
    let report = eval::run(
        &recorded_cases(),
        &planner(cassette.base_url()),
        &Context::default(),
        &prices(),
        |_, _| {},
    )
    .await;
    assert_recorded_report(&report);
    let stats = cassette.stats();
    assert_eq!((stats.hits, stats.misses, stats.stored), (4, 0, 0));
}

#[tokio::test]
async fn recording_then_replaying_gives_the_same_report_and_a_miss_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let server = FakeLlm::start(recorded_script()).await;
    let recorder = Cassette::start(
        dir.path(),
        Mode::Record {
            upstream: server.base_url(),
        },
        gitintent::plan::prompt_version(),
    )
    .await
    .unwrap();
    let recorded = eval::run(
        &recorded_cases(),
        &planner(recorder.base_url()),
        &Context::default(),
        &prices(),
        |_, _| {},
    )
    .await;
    assert_recorded_report(&recorded);
    assert_eq!(recorder.stats().stored, 4);
    let files = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(files, 4);

    let player = Cassette::start(dir.path(), Mode::Replay, gitintent::plan::prompt_version())
        .await
        .unwrap();
    let replayed = eval::run(
        &recorded_cases(),
        &planner(player.base_url()),
        &Context::default(),
        &prices(),
        |_, _| {},
    )
    .await;
    assert_recorded_report(&replayed);
    assert_eq!(server.request_count(), 4, "replay called the endpoint");
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
    let cache = Cassette::start(
        dir.path(),
        Mode::Cache {
            upstream: server.base_url(),
        },
        gitintent::plan::prompt_version(),
    )
    .await
    .unwrap();
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
    let recorder = Cassette::start(
        &dir,
        Mode::Record {
            upstream: server.base_url(),
        },
        gitintent::plan::prompt_version(),
    )
    .await
    .unwrap();
    let report = eval::run(
        &recorded_cases(),
        &planner(recorder.base_url()),
        &Context::default(),
        &prices(),
        |_, _| {},
    )
    .await;
    assert_recorded_report(&report);
}

// --- the CLI ---------------------------------------------------------------

fn gitintent(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gitintent"));
    cmd.args(args)
        .env_remove("GITINTENT_LLM_BASE_URL")
        .env_remove("GITINTENT_LLM_API_KEY")
        .env_remove("GITINTENT_LLM_MODEL")
        .env_remove("OPENAI_API_KEY")
        .env("NO_COLOR", "1");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A case directory with one passing and, optionally, one failing case.
fn case_dir(failing: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut cases = String::from(
        "- name: redis-staging\n  intent: Deploy redis with 3 replicas in staging\n  expect:\n    kinds: [StatefulSet/redis]\n    fields: [{resource: StatefulSet/redis, path: spec.replicas, equals: 3}]\n- name: empty\n  intent: ''\n  expect: {rejected: true, error_matches: empty}\n",
    );
    if failing {
        cases.push_str("- name: wrong-replicas\n  intent: Deploy redis with 2 replicas in staging\n  expect:\n    fields: [{resource: StatefulSet/redis, path: spec.replicas, equals: 5}]\n");
    }
    std::fs::write(dir.path().join("cases.yaml"), cases).unwrap();
    dir
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn the_cli_writes_a_versioned_json_report_and_exits_0_when_all_pass() {
    let dir = case_dir(false);
    let out = dir.path().join("report.json");
    let o = gitintent(
        &["eval", path(dir.path()), "--format", "json", "--out", path(&out)],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        report,
        serde_json::from_str::<Value>(&std::fs::read_to_string(&out).unwrap()).unwrap()
    );
    assert_eq!(report["version"], 1);
    assert_eq!(report["planner"], "builtin");
    assert_eq!(report["totals"]["cases"], 2);
    assert_eq!(report["totals"]["pass_rate"], 1.0);
    let case = &report["cases"][0];
    for key in [
        "name",
        "file",
        "passed",
        "failures",
        "outcome",
        "error",
        "latency_ms",
        "attempts",
        "repairs",
        "input_tokens",
        "output_tokens",
        "cost_usd",
        "model",
        "error_findings",
        "schema_valid",
        "policy_clean",
        "spec_tokens",
        "yaml_tokens",
    ] {
        assert!(case.get(key).is_some(), "case result lacks {key}: {case}");
    }
    assert_eq!(case["outcome"], "planned");
    assert_eq!(report["cases"][1]["outcome"], "rejected");
    assert!(report["totals"]["yaml_per_spec_token"].as_f64().unwrap() > 1.0);
    // Progress: one line per case on stderr.
    let stderr = text(&o.stderr);
    assert!(
        stderr.contains("[1/2] pass  redis-staging") && stderr.contains("[2/2] pass  empty"),
        "{stderr}"
    );
}

#[test]
fn the_cli_exits_1_on_a_failed_case_and_shows_the_failed_assertion() {
    let dir = case_dir(true);
    let o = gitintent(&["eval", path(dir.path())], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    assert!(
        stdout.contains("wrong-replicas") && stdout.contains("FAIL"),
        "{stdout}"
    );
    assert!(
        stdout.contains("StatefulSet/redis spec.replicas: want 5, got 2"),
        "{stdout}"
    );
    assert!(stdout.contains("passed         2/3"), "{stdout}");
    assert!(stdout.contains("token economy"), "{stdout}");
}

#[test]
fn bad_case_files_and_flags_exit_2_naming_the_file_and_case() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "- name: typo-case\n  intent: deploy redis\n  expect: {kinds: [x], absnt_kinds: [y]}\n",
    )
    .unwrap();
    let o = gitintent(&["eval", path(&bad)], &[]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = text(&o.stderr);
    assert!(
        stderr.contains("bad.yaml") && stderr.contains("absnt_kinds"),
        "{stderr}"
    );
    std::fs::write(&bad, "- name: regex-case\n  intent: deploy redis\n  expect:\n    fields: [{resource: Service/r, path: x, matches: '[z'}]\n").unwrap();
    let stderr = text(&gitintent(&["eval", path(&bad)], &[]).stderr);
    assert!(
        stderr.contains("bad.yaml") && stderr.contains("\"regex-case\""),
        "{stderr}"
    );

    let missing = dir.path().join("missing");
    assert_eq!(gitintent(&["eval", path(&missing)], &[]).status.code(), Some(2));
    let prices = dir.path().join("prices.toml");
    std::fs::write(&prices, "[prices.m]\ninput = 'free'\noutput = 1.0\n").unwrap();
    let cases = case_dir(false);
    let o = gitintent(&["eval", path(cases.path()), "--prices", path(&prices)], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("prices.toml"), "{}", text(&o.stderr));
    let o = gitintent(&["eval", path(cases.path()), "--planner", "openai"], &[]);
    assert_eq!(o.status.code(), Some(2));
    let o = gitintent(&["eval", "--compare", path(&prices), path(&prices)], &[]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn compare_sets_two_reports_side_by_side() {
    let dir = case_dir(true);
    let a = dir.path().join("a.json");
    assert_eq!(
        gitintent(&["eval", path(dir.path()), "--out", path(&a)], &[])
            .status
            .code(),
        Some(1)
    );
    // Report b: the same run with the failing case fixed.
    let mut report: Value = serde_json::from_str(&std::fs::read_to_string(&a).unwrap()).unwrap();
    report["model"] = json!("better-model");
    report["planner"] = json!("openai");
    report["cases"][2]["passed"] = json!(true);
    report["cases"][2]["failures"] = json!([]);
    report["totals"]["passed"] = json!(3);
    report["totals"]["failed"] = json!(0);
    report["totals"]["pass_rate"] = json!(1.0);
    let b = dir.path().join("b.json");
    std::fs::write(&b, report.to_string()).unwrap();

    let o = gitintent(&["eval", "--compare", path(&a), path(&b)], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    let row = stdout.lines().find(|l| l.starts_with("wrong-replicas")).unwrap();
    assert!(
        row.contains("FAIL") && row.contains("pass") && row.ends_with("fixed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("openai better-model") && stdout.contains("passed         3/3"),
        "{stdout}"
    );

    let o = gitintent(
        &["eval", "--compare", path(&a), path(&b), "--format", "json"],
        &[],
    );
    let c: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(c["fixed"], json!(["wrong-replicas"]));
    assert_eq!(c["cases"].as_array().unwrap().len(), 3);
    assert_eq!(c["totals_b"]["pass_rate"], 1.0);
}

#[test]
fn the_cli_replays_the_committed_recordings_offline() {
    let cases = root().join("evals/recordings/cases.yaml");
    let recordings = root().join("evals/recordings");
    let o = gitintent(
        &[
            "eval",
            path(&cases),
            "--replay",
            path(&recordings),
            "--model",
            MODEL,
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}\n{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["planner"], "openai");
    assert_eq!(report["totals"]["input_tokens"], 400);
    assert!(
        text(&o.stderr).contains("recordings: 4 served, 0 missing"),
        "{}",
        text(&o.stderr)
    );
    // Another model is a miss: the case fails and names the key.
    let o = gitintent(
        &[
            "eval",
            path(&cases),
            "--replay",
            path(&recordings),
            "--model",
            "other",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stdout).contains("replay miss: no recording for key"),
        "{}",
        text(&o.stdout)
    );
}

/// Runs the binary on a blocking thread so the fake server keeps serving.
async fn gitintent_async(args: Vec<String>, envs: Vec<(String, String)>) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        gitintent(&args, &envs)
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn plan_cache_answers_a_repeated_intent_without_a_second_request() {
    let server = FakeLlm::start([Reply::spec(&redis())]).await;
    let cache_dir = tempfile::tempdir().unwrap();
    let cache: PathBuf = cache_dir.path().join("responses");
    let args: Vec<String> = [
        "plan",
        "Deploy a highly available redis cache with 3 replicas and 10Gi of storage in production",
        "--planner",
        "openai",
        "--format",
        "json",
        "--cache",
        path(&cache),
    ]
    .map(String::from)
    .to_vec();
    let envs = vec![
        ("GITINTENT_LLM_BASE_URL".to_string(), server.base_url()),
        ("GITINTENT_LLM_MODEL".to_string(), MODEL.to_string()),
    ];
    let first = gitintent_async(args.clone(), envs.clone()).await;
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert_eq!(server.request_count(), 1);
    let second = gitintent_async(args, envs).await;
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    assert_eq!(server.request_count(), 1, "the cached plan called the endpoint");
    let files = |o: &Output| serde_json::from_slice::<Value>(&o.stdout).unwrap()["files"].clone();
    assert_eq!(files(&first), files(&second));
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 1);
}
