//! `gitintent eval` and `plan --cache` as a user runs them: the JSON report,
//! exit codes, progress, comparison, replay of the committed recordings, and
//! the response cache against the fake OpenAI server. Offline, no API key.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{json, Value};

use crate::eval::{redis, root, MODEL};
use crate::util::fake_llm::{FakeLlm, Reply};

fn gitintent(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = crate::util::bin::gitintent();
    cmd.args(args);
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
    let o = gitintent(&["eval", path(&missing), "--format", "json"], &[]);
    assert_eq!(o.status.code(), Some(2));
    let error: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(error["error"]["code"], "bad_input");
    assert!(
        error["error"]["message"].as_str().unwrap().contains("missing"),
        "{error}"
    );
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
    let o = gitintent(&["eval", path(cases.path()), "--replay", path(&missing)], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("not a directory of recordings"),
        "{}",
        text(&o.stderr)
    );
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
    assert_eq!(report["totals"]["input_tokens"], 500);
    assert!(
        text(&o.stderr).contains("recordings: 5 served, 0 missing"),
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
