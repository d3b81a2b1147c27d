//! Choosing the target (issue 14, point 3) on podinfo as it really is, under
//! `deploy/`: `backend` exists in `deploy/bases`, `deploy/secure` and
//! `deploy/webapp`; a path in the intent or `--target` picks one.

use super::podinfo::{podinfo_under_deploy, propose};
use super::*;

const BUMP: &str = "ghcr.io/stefanprodan/podinfo:6.15.0";

/// `plan ARGS… --repo REPO --planner builtin --format json`.
fn plan(repo: &tempfile::TempDir, args: &[&str]) -> Output {
    let mut all: Vec<&str> = vec!["plan"];
    all.extend(args);
    all.extend([
        "--repo",
        path(repo.path()),
        "--planner",
        "builtin",
        "--format",
        "json",
    ]);
    gitintent(&all, &[])
}

/// The files the plan's operations touch.
fn touched(o: &Output) -> Vec<String> {
    assert_eq!(o.status.code(), Some(0), "{}{}", text(&o.stdout), text(&o.stderr));
    let plan = json_of(o);
    plan["operations"]
        .as_array()
        .unwrap_or_else(|| panic!("{plan}"))
        .iter()
        .flat_map(|op| op["paths"].as_array().unwrap().iter())
        .map(|p| p.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn an_ambiguous_name_lists_each_candidate_with_the_words_and_the_flag_that_pick_it() {
    let repo = podinfo_under_deploy();
    let o = plan(&repo, &[&format!("bump backend to {BUMP}")]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stdout));
    let message = format!("{}{}", text(&o.stdout), text(&o.stderr));
    for dir in [
        "deploy/bases/backend",
        "deploy/secure/backend",
        "deploy/webapp/backend",
    ] {
        assert!(
            message.contains(&format!("Deployment/backend at {dir}/deployment.yaml"))
                && message.contains(&format!("say \"backend in {dir}\""))
                && message.contains(&format!("--target {dir}")),
            "{dir}: {message}"
        );
    }
    assert!(
        message.contains("environments: dev, production, staging"),
        "{message}"
    );
    assert!(message.contains("namespace webapp"), "{message}");
    // Each way out the message offers works, and picks that one only.
    let by_flag = plan(
        &repo,
        &[
            &format!("bump backend to {BUMP}"),
            "--target",
            "deploy/webapp/backend",
        ],
    );
    assert_eq!(touched(&by_flag), ["deploy/webapp/backend/deployment.yaml"]);
    let by_words = plan(&repo, &[&format!("bump the backend in deploy/secure to {BUMP}")]);
    assert_eq!(touched(&by_words), ["deploy/secure/backend/deployment.yaml"]);
    let by_dir = plan(
        &repo,
        &[&format!("bump backend to {BUMP}"), "--target", "./deploy/secure/"],
    );
    assert_eq!(touched(&by_dir), ["deploy/secure/backend/deployment.yaml"]);
}

#[test]
fn a_target_path_that_is_not_in_the_repository_or_holds_no_such_workload_is_refused() {
    let repo = podinfo_under_deploy();
    let o = plan(
        &repo,
        &[&format!("bump backend to {BUMP}"), "--target", "deploy/nowhere"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("deploy/nowhere is not a file or directory of the repository"),
        "{}",
        text(&o.stderr)
    );
    let o = plan(
        &repo,
        &[
            &format!("bump backend to {BUMP}"),
            "--target",
            "deploy/bases/cache",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let message = text(&o.stderr);
    assert!(
        message.contains("no workload named \"backend\" under deploy/bases/cache")
            && message.contains("deploy/webapp/backend/deployment.yaml")
            && message.contains("--target deploy/webapp/backend"),
        "{message}"
    );
    let o = plan(&repo, &[&format!("bump backend to {BUMP}"), "--target", "../etc"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("is not a path inside the repository"),
        "{}",
        text(&o.stderr)
    );
}

/// A workload literally named `cache`, and "in namespace default" read as a
/// namespace: the staging build changes, no other.
#[test]
fn a_workload_named_cache_is_a_target_and_only_the_staging_build_changes() {
    let repo = podinfo_under_deploy();
    let o = plan(&repo, &["scale cache to 2 in staging"]);
    assert_eq!(touched(&o).len(), 2, "{}", text(&o.stdout));
    assert_eq!(json_of(&o)["operations"][0]["reach"], json!(["staging"]));
    let o = plan(
        &repo,
        &["scale the backend in deploy/webapp to 3 in namespace webapp"],
    );
    assert_eq!(touched(&o), ["deploy/webapp/backend/deployment.yaml"]);
    let branch = propose(&repo, "scale cache to 2 in staging");
    assert_builds_differ_only_in(
        &repo,
        &branch,
        "deploy/overlays",
        &["dev", "staging", "production"],
        &["staging"],
    );
}
