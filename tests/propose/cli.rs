//! `gitintent propose` end to end: the built binary against temporary repositories.

use std::path::Path;
use std::process::Output;

use serde_json::{json, Value};

use super::{bare_remote, refs, TestRepo};
use crate::util::fake_forge::FakeForge;

const REDIS: &str =
    "Deploy a Redis cluster with 3 replicas, persistent storage and automatic failover in production";

fn gitintent(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = crate::util::bin::gitintent();
    cmd.args(args)
        .env("GITINTENT_AUTHOR_NAME", "CLI Test")
        .env("GITINTENT_AUTHOR_EMAIL", "cli@example.com");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("the binary runs")
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn code(out: &Output) -> Option<i32> {
    out.status.code()
}

/// A working-tree repo with an `origin` pointing at a fresh bare remote.
fn repo_with_origin() -> (TestRepo, tempfile::TempDir, std::path::PathBuf) {
    let t = TestRepo::new(false);
    let (dir, remote) = bare_remote(&t);
    t.open()
        .remote("origin", &format!("file://{}", remote.display()))
        .unwrap();
    (t, dir, remote)
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn propose_push_lands_the_branch_on_the_remote_and_is_idempotent() {
    let (t, _dir, remote) = repo_with_origin();
    let out = gitintent(
        &[
            "propose",
            REDIS,
            "--repo",
            path(&t.path),
            "--push",
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(code(&out), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json_of(&out);
    for key in ["branch", "commit", "pushed", "pull_request", "status"] {
        assert!(v.get(key).is_some(), "{key} missing from {v}");
    }
    assert_eq!(v["status"], "created");
    assert_eq!(v["pushed"], true);
    assert_eq!(v["pull_request"], Value::Null);
    let branch = v["branch"].as_str().unwrap();
    assert!(
        branch.starts_with("gitintent/add-redis-to-production-"),
        "{branch}"
    );
    let on_remote = refs(&remote)
        .into_iter()
        .find(|(r, _)| *r == format!("refs/heads/{branch}"))
        .map(|(_, oid)| oid);
    assert_eq!(on_remote.as_deref(), v["commit"].as_str());

    let again = gitintent(
        &[
            "propose",
            REDIS,
            "--repo",
            path(&t.path),
            "--push",
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(
        code(&again),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let w = json_of(&again);
    assert_eq!(
        (w["status"].clone(), w["branch"].clone(), w["commit"].clone()),
        (json!("unchanged"), v["branch"].clone(), v["commit"].clone())
    );
    super::fsck(&remote);

    let text = gitintent(&["propose", REDIS, "--repo", path(&t.path)], &[]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout.contains(&format!("Already proposed: branch {branch}")),
        "{stdout}"
    );
}

#[test]
fn propose_pr_opens_a_pull_request_with_the_plan_in_its_body() {
    let (t, _dir, _remote) = repo_with_origin();
    let forge = FakeForge::start(vec![(
        201,
        json!({"number": 12, "html_url": "https://github.example.com/acme/gitops/pull/12"}),
    )]);
    t.commit_config(&format!(
        "forge:\n  kind: github\n  url: {}\n  repo: acme/gitops\n",
        forge.url
    ));
    let out = gitintent(
        &[
            "propose",
            REDIS,
            "--repo",
            path(&t.path),
            "--push",
            "--pr",
            "--format",
            "json",
        ],
        &[("GITINTENT_FORGE_TOKEN", "tok-123")],
    );
    assert_eq!(code(&out), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json_of(&out);
    assert_eq!(
        v["pull_request"],
        json!({"number": 12, "url": "https://github.example.com/acme/gitops/pull/12", "existing": false})
    );
    let requests = forge.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.path, "/api/v3/repos/acme/gitops/pulls");
    assert_eq!(r.header("authorization"), "Bearer tok-123");
    assert_eq!(r.body["title"], "Add redis to production");
    assert_eq!(r.body["head"], v["branch"]);
    assert_eq!(r.body["base"], "main");
    let body = r.body["body"].as_str().unwrap();
    for part in [
        "## Intent",
        "> Deploy a Redis cluster",
        "## Spec",
        "`redis`",
        "## Findings",
        "## Changes",
        "file(s) added",
    ] {
        assert!(body.contains(part), "{part:?} missing from\n{body}");
    }
}

#[test]
fn propose_pr_without_a_token_fails_clearly() {
    let (t, _dir, remote) = repo_with_origin();
    t.commit_config("forge: {kind: gitlab, repo: a/b}\n");
    let (before, remote_before) = (t.refs(), refs(&remote));
    let out = gitintent(
        &["propose", REDIS, "--repo", path(&t.path), "--push", "--pr"],
        &[],
    );
    assert_eq!(code(&out), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("GITINTENT_FORGE_TOKEN"));
    assert_eq!(
        (t.refs(), refs(&remote)),
        (before, remote_before),
        "checked before writing"
    );
}

#[test]
fn a_plan_with_error_findings_is_not_proposed() {
    let t = TestRepo::new(false);
    t.commit_config("environments: [staging]\n");
    let before = t.refs();
    let out = gitintent(
        &["propose", REDIS, "--repo", path(&t.path), "--format", "json"],
        &[],
    );
    assert_eq!(code(&out), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json_of(&out);
    assert!(
        v["error"]["message"].as_str().unwrap().contains("error finding"),
        "{v}"
    );
    assert_eq!(t.refs(), before);
}

#[test]
fn bad_repositories_bases_and_branches_exit_2_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = gitintent(
        &["propose", REDIS, "--repo", path(dir.path()), "--format", "json"],
        &[],
    );
    assert_eq!(code(&out), Some(2));
    assert_eq!(json_of(&out)["error"]["code"], "bad_input");
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a git repository"));

    let t = TestRepo::new(true);
    let before = t.refs();
    for (args, want) in [
        (vec!["--base", "nope"], "ref \"nope\" not found"),
        (vec!["--branch", "main"], "protected branch"),
        (vec!["--branch", "wip/x"], "only writes branches under gitintent/"),
    ] {
        let mut all = vec!["propose", REDIS, "--repo", path(&t.path)];
        all.extend(args);
        let out = gitintent(&all, &[]);
        assert_eq!(code(&out), Some(2), "{want}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(want),
            "{want}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(t.refs(), before);
}

#[test]
fn a_failed_push_exits_3_and_leaves_no_local_branch() {
    let t = TestRepo::new(true);
    let before = t.refs();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("git://127.0.0.1:{port}/gitops.git");
    let out = gitintent(
        &[
            "propose",
            REDIS,
            "--repo",
            path(&t.path),
            "--push",
            "--remote",
            &url,
        ],
        &[],
    );
    assert_eq!(code(&out), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot push gitintent/"), "{stderr}");
    assert_eq!(t.refs(), before, "the branch was rolled back");
}

#[test]
fn a_remote_that_never_answers_fails_the_push_in_bounded_time() {
    let t = TestRepo::new(true);
    let before = t.refs();
    // Accepts connections and never says a word.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let url = format!("git://127.0.0.1:{port}/gitops.git");
    let mut child = crate::util::bin::gitintent()
        .args([
            "propose",
            REDIS,
            "--repo",
            path(&t.path),
            "--push",
            "--remote",
            &url,
        ])
        .env("GITINTENT_AUTHOR_NAME", "CLI Test")
        .env("GITINTENT_AUTHOR_EMAIL", "cli@example.com")
        .env("GITINTENT_GIT_TIMEOUT_SECS", "2")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Without the bound the push would wait forever; give it generous room.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the push to a silent remote did not give up");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(code(&out), Some(3), "{stderr}");
    assert!(stderr.contains("cannot push gitintent/"), "{stderr}");
    assert_eq!(t.refs(), before, "the branch was rolled back");
}

/// Every file under `dir`, relative, with its text.
fn read_tree(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            read_tree(root, &path, out);
        } else if let Ok(text) = std::fs::read_to_string(&path) {
            let rel = path.strip_prefix(root).unwrap().to_str().unwrap().to_string();
            out.push((rel, text));
        }
    }
}

#[test]
fn proposing_into_the_flux_example_wires_the_app_into_its_kustomization() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/gitops-repos/flux2-kustomize-helm-example");
    let t = TestRepo::new(true);
    let mut files = Vec::new();
    read_tree(&data, &data, &mut files);
    files.push((
        ".gitintent.yaml".into(),
        "layout: apps/{environment}/{name}/\n".into(),
    ));
    let pairs: Vec<(&str, &str)> = files.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
    super::commit_files(&t.open(), "refs/heads/main", &pairs, "import flux example");

    let out = gitintent(
        &["propose", REDIS, "--repo", path(&t.path), "--format", "json"],
        &[],
    );
    assert_eq!(code(&out), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json_of(&out);
    assert_eq!(v["stats"]["files_modified"], 1, "{v}");
    let repo = t.open();
    let commit = repo
        .find_commit(git2::Oid::from_str(v["commit"].as_str().unwrap()).unwrap())
        .unwrap();
    let tree = commit.tree().unwrap();
    let read = |p: &str| {
        let entry = tree.get_path(Path::new(p)).unwrap();
        String::from_utf8(repo.find_blob(entry.id()).unwrap().content().to_vec()).unwrap()
    };
    let kustomization = read("apps/production/kustomization.yaml");
    assert!(kustomization.contains("../base/podinfo"), "{kustomization}");
    assert!(kustomization.contains("podinfo-values.yaml"), "{kustomization}");
    assert!(
        kustomization.contains("redis"),
        "the app is wired in:\n{kustomization}"
    );
    assert!(read("apps/production/redis/statefulset.yaml").contains("kind: StatefulSet"));
    // Proposing again: already proposed, same branch.
    let again = gitintent(
        &["propose", REDIS, "--repo", path(&t.path), "--format", "json"],
        &[],
    );
    assert_eq!(json_of(&again)["status"], "unchanged");
    super::fsck(&t.path);
}
