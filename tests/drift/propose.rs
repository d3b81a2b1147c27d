//! `--propose adopt|revert`: the files and message of the proposed commit, and
//! landing it as a normal proposal (policies, branch, push).

use std::path::Path;
use std::process::Output;

use gitintent::drift;
use serde_json::{json, Value};

use super::*;
use crate::util::kube_api::KubeApi;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adopt_writes_live_values_keeping_comments_and_then_is_in_sync() {
    let (api, mut lives) = cluster_in_sync().await;
    lives[0]["spec"]["replicas"] = 5.into();
    lives[0]["spec"]["template"]["spec"]["containers"][1]["image"] = "ghcr.io/acme/web:1.5.0".into();
    api.put(lives[0].clone());
    let dir = repo();
    let tmp = tempfile::tempdir().unwrap();
    let kubeconfig = api.kubeconfig(tmp.path());
    let args = [
        "drift",
        "--repo",
        dir.path().to_str().unwrap(),
        "--env",
        "production",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
    ];
    let mut adopt = args.to_vec();
    adopt.extend(["--propose", "adopt", "--write", "--format", "json"]);
    let out = run(&adopt).await;
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let proposal = &json["proposal"];
    assert_eq!(proposal["mode"], "adopt");
    assert_eq!(
        proposal["title"],
        "drift(production): adopt live values of 1 drifted resource(s)"
    );
    assert_eq!(proposal["files"].as_array().unwrap().len(), 1);
    let path = dir.path().join("clusters/production/apps/web/deployment.yaml");
    let written = std::fs::read_to_string(&path).unwrap();
    assert_eq!(written, proposal["files"][0]["content"].as_str().unwrap());
    let expected = DEPLOYMENT
        .replace("replicas: 3 # three", "replicas: 5 # three")
        .replace("web:1.4.2", "web:1.5.0");
    assert_eq!(written, expected, "only the two drifted lines change");

    let out = run(&args).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revert_keeps_git_values_and_records_the_drift() {
    let (api, mut lives) = cluster_in_sync().await;
    lives[0]["spec"]["replicas"] = 5.into();
    api.put(lives[0].clone());
    let dir = repo();
    let report = check(&api, dir.path()).await;
    let proposal = drift::propose(
        &drift::Source::open(dir.path(), None).unwrap(),
        &report,
        drift::Mode::Revert,
    )
    .unwrap();
    assert_eq!(
        proposal.title,
        "drift(production): restore Git values of 1 drifted resource(s)"
    );
    assert!(proposal.message.contains("- Deployment shop/web (clusters/production/apps/web/deployment.yaml):\n    spec.replicas: git 3, live 5\n"), "{}", proposal.message);
    assert!(proposal
        .message
        .contains("reconciliation restores the Git values"));
    assert_eq!(proposal.files.len(), 1);
    let content = &proposal.files[0].content;
    assert!(
        content.contains("  replicas: 3 # three for the holidays\n"),
        "Git's value stays"
    );
    assert!(content.contains("metadata:\n  annotations:\n    gitintent.io/drift: \"spec.replicas: git 3, live 5\"\n  name: web\n"), "{content}");
    assert!(content.starts_with("# Web front end of the shop.\n"));
    // Nothing is written without --write.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("clusters/production/apps/web/deployment.yaml")).unwrap(),
        DEPLOYMENT
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn podinfo_drift_is_adopted_line_by_line() {
    let dir = podinfo_repo();
    let app = dir.path().join("clusters/production/podinfo");
    let api = KubeApi::start().await;
    let mut lives = Vec::new();
    for file in ["deployment.yaml", "service.yaml", "hpa.yaml", "cronjob.yaml"] {
        let git: Value = gitintent::yaml::value(&std::fs::read_to_string(app.join(file)).unwrap()).unwrap();
        let mut v = git.clone();
        v["metadata"]["namespace"] = "podinfo".into();
        v["metadata"]["uid"] = "u-1".into();
        v["status"] = json!({});
        lives.push(v);
    }
    // Canonical forms the API server returns: 2000m → "2", octal 0755 → 493.
    lives[0]["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] = "2".into();
    lives[3]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["volumes"][0]["configMap"]["defaultMode"] =
        493.into();
    // Hand edits.
    lives[0]["spec"]["template"]["spec"]["containers"][0]["image"] =
        "ghcr.io/stefanprodan/podinfo:6.15.0".into();
    lives[0]["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = "1Gi".into();
    lives[3]["spec"]["schedule"] = "30 1 * * *".into();
    for v in &lives {
        api.put(v.clone());
    }
    let report = check(&api, dir.path()).await;
    let backend = entry(&report, "Deployment", "backend");
    let paths: Vec<&str> = backend.differences.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "spec.template.spec.containers[name=backend].image",
            "spec.template.spec.containers[name=backend].resources.limits.memory",
        ]
    );
    let mut deps = backend.dependents.clone();
    deps.sort();
    assert_eq!(deps, ["HorizontalPodAutoscaler/backend", "Service/backend"]);
    assert_eq!(backend.score, (10 + 5) * 3);
    let cron = entry(&report, "CronJob", "backup-daily");
    assert_eq!(cron.differences.len(), 1, "{:#?}", cron.differences);
    assert_eq!(cron.differences[0].path, "spec.schedule");

    let proposal = drift::propose(
        &drift::Source::open(dir.path(), None).unwrap(),
        &report,
        drift::Mode::Adopt,
    )
    .unwrap();
    assert!(proposal.skipped.is_empty(), "{:#?}", proposal.skipped);
    let by_path = |p: &str| {
        proposal
            .files
            .iter()
            .find(|f| f.path == format!("clusters/production/podinfo/{p}"))
            .unwrap()
            .content
            .clone()
    };
    let original = |p: &str| std::fs::read_to_string(app.join(p)).unwrap();
    let changed = |p: &str| -> Vec<(String, String)> {
        original(p)
            .lines()
            .zip(by_path(p).lines())
            .filter(|(a, b)| a != b)
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    assert_eq!(
        changed("deployment.yaml"),
        [
            (
                "        image: ghcr.io/stefanprodan/podinfo:6.14.1".into(),
                "        image: ghcr.io/stefanprodan/podinfo:6.15.0".into()
            ),
            (
                "            memory: 512Mi".into(),
                "            memory: 1Gi".into()
            ),
        ]
    );
    assert_eq!(
        changed("cronjob.yaml"),
        [(
            "  schedule: \"0 0 * * *\"".into(),
            "  schedule: \"30 1 * * *\"".into()
        )]
    );
    assert!(by_path("cronjob.yaml").contains("  # Runs every day at midnight for 1 minute\n"));
    assert_eq!(
        original("deployment.yaml").lines().count(),
        by_path("deployment.yaml").lines().count()
    );
}

/// A Deployment the built-in policies accept in production (one replica, so
/// no PodDisruptionBudget is needed).
const COMPLIANT: &str = "\
# Web front end of the shop.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app.kubernetes.io/name: web
    app.kubernetes.io/managed-by: gitintent
spec:
  replicas: 1 # one until the PDB lands
  selector:
    matchLabels:
      app.kubernetes.io/name: web
  template:
    metadata:
      labels:
        app.kubernetes.io/name: web
    spec:
      securityContext:
        runAsNonRoot: true
      containers:
        - name: web
          # pinned by the release pipeline
          image: ghcr.io/acme/web:1.4.2
          ports:
            - name: http
              containerPort: 8080
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
          resources:
            requests:
              cpu: 250m
              memory: 256Mi
            limits:
              cpu: 500m
              memory: 256Mi
";

/// `repo()` with the compliant Deployment, as a git repository on `main`.
fn git_repo() -> (tempfile::TempDir, git2::Oid) {
    let dir = repo();
    std::fs::write(dir.path().join(WEB), COMPLIANT).unwrap();
    let repo = git2::Repository::init_opts(
        dir.path(),
        git2::RepositoryInitOptions::new().initial_head("main"),
    )
    .unwrap();
    let mut index = repo.index().unwrap();
    index.add_all(["*"], git2::IndexAddOption::FORCE, None).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::now("Test", "test@example.com").unwrap();
    let head = repo
        .commit(Some("HEAD"), &sig, &sig, "initial", &tree, &[])
        .unwrap();
    (dir, head)
}

/// The live twins of the compliant Deployment, the Service and the ConfigMap.
async fn compliant_cluster() -> (KubeApi, Vec<Value>) {
    let api = KubeApi::start().await;
    let mut objects = parse(COMPLIANT);
    objects.extend(parse(SERVICE));
    let lives: Vec<Value> = objects.iter().map(live).collect();
    for o in &lives {
        api.put(o.clone());
    }
    (api, lives)
}

/// `gitintent drift --propose MODE ARGS…` with a commit author.
async fn drift_propose(api: &KubeApi, dir: &Path, mode: &str, extra: &[&str]) -> Output {
    let tmp = tempfile::tempdir().unwrap();
    let kubeconfig = api.kubeconfig(tmp.path());
    let mut args: Vec<String> = [
        "drift",
        "--repo",
        dir.to_str().unwrap(),
        "--env",
        "production",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--propose",
        mode,
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    args.extend(extra.iter().map(|a| a.to_string()));
    tokio::task::spawn_blocking(move || {
        crate::util::bin::gitintent()
            .args(args)
            .env("GITINTENT_AUTHOR_NAME", "Drift Bot")
            .env("GITINTENT_AUTHOR_EMAIL", "drift@example.com")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

/// [`drift_propose`] with `--format json`, parsed.
async fn land(api: &KubeApi, dir: &Path, mode: &str, extra: &[&str]) -> (Output, Value) {
    let mut args = vec!["--format", "json"];
    args.extend(extra);
    let out = drift_propose(api, dir, mode, &args).await;
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out, json)
}

fn branches(dir: &Path) -> Vec<String> {
    let repo = git2::Repository::open(dir).unwrap();
    let mut names: Vec<String> = repo
        .branches(Some(git2::BranchType::Local))
        .unwrap()
        .map(|b| b.unwrap().0.name().unwrap().unwrap().to_string())
        .collect();
    names.sort();
    names
}

/// The content of `path` in `commit`.
fn blob(repo: &git2::Repository, commit: &str, path: &str) -> String {
    let commit = repo.find_commit(git2::Oid::from_str(commit).unwrap()).unwrap();
    let entry = commit.tree().unwrap().get_path(Path::new(path)).unwrap();
    let blob = repo.find_blob(entry.id()).unwrap();
    String::from_utf8(blob.content().to_vec()).unwrap()
}

const WEB: &str = "clusters/production/apps/web/deployment.yaml";

/// The working tree, the index and `main` are as they were.
fn untouched(dir: &Path, main: git2::Oid) {
    let repo = git2::Repository::open(dir).unwrap();
    assert_eq!(repo.head().unwrap().name().unwrap(), "refs/heads/main");
    assert_eq!(repo.head().unwrap().target(), Some(main));
    assert_eq!(std::fs::read_to_string(dir.join(WEB)).unwrap(), COMPLIANT);
    let statuses = repo.statuses(None).unwrap();
    assert_eq!(statuses.len(), 0, "the working tree is clean");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revert_lands_a_branch_with_the_annotation_and_the_drift_in_the_message() {
    let (api, mut lives) = compliant_cluster().await;
    lives[0]["spec"]["replicas"] = 3.into();
    api.put(lives[0].clone());
    let (dir, main) = git_repo();
    let (out, json) = land(&api, dir.path(), "revert", &[]).await;
    assert_eq!(out.status.code(), Some(1), "drift found: {json:#}");
    let p = &json["proposal"];
    assert_eq!(json["error"], Value::Null, "{json:#}");
    assert_eq!(p["status"], "created");
    assert_eq!(p["base"], "main");
    assert_eq!(p["base_commit"], main.to_string());
    assert_eq!(p["pushed"], false);
    assert_eq!(p["pull_request"], Value::Null);
    let branch = p["branch"].as_str().unwrap();
    assert!(
        regex_lite::Regex::new(r"^gitintent/drift-revert-production-[0-9a-f]{8}$")
            .unwrap()
            .is_match(branch),
        "{branch}"
    );
    assert_eq!(branches(dir.path()), [branch, "main"]);
    let repo = git2::Repository::open(dir.path()).unwrap();
    let commit = repo
        .find_commit(git2::Oid::from_str(p["commit"].as_str().unwrap()).unwrap())
        .unwrap();
    assert_eq!(commit.parent_id(0).unwrap(), main);
    assert_eq!(commit.author().email().unwrap(), "drift@example.com");
    let message = commit.message().unwrap();
    assert!(
        message.starts_with(
            "drift(production): restore Git values of 1 drifted resource(s)\n\nDrift found in production"
        ),
        "{message}"
    );
    assert!(
        message.contains("    spec.replicas: git 1, live 3\n"),
        "{message}"
    );
    let trailers = git2::message_trailers_strs(message).unwrap();
    let trailers: Vec<(&str, &str)> = trailers.iter().collect();
    assert_eq!(trailers[1], ("Gitintent-Planner", "drift"));
    assert_eq!(trailers[2], ("Gitintent-Model", "none"));
    assert_eq!(trailers[3].1.len(), 64, "sha256 of the report");
    let content = blob(&repo, p["commit"].as_str().unwrap(), WEB);
    assert_eq!(content, p["files"][0]["content"].as_str().unwrap());
    assert!(
        content.contains("    gitintent.io/drift: \"spec.replicas: git 1, live 3\"\n"),
        "{content}"
    );
    assert!(content.contains("  replicas: 1 # one until the PDB lands\n"));
    untouched(dir.path(), main);

    // The same drift again: already proposed, same branch.
    let (out, again) = land(&api, dir.path(), "revert", &[]).await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(again["proposal"]["branch"], branch);
    assert_eq!(again["proposal"]["status"], "unchanged");
    let text = drift_propose(&api, dir.path(), "revert", &[]).await;
    assert_eq!(text.status.code(), Some(1));
    let stdout = String::from_utf8(text.stdout).unwrap();
    assert!(
        stdout.contains(&format!(
            "Already proposed: branch {branch}\n  commit  {}\n",
            p["commit"].as_str().unwrap()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("  changes 0 file(s) added, 1 modified; +2 −0 lines\n"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adopt_lands_the_live_values_and_pushes_to_a_bare_remote() {
    let (api, mut lives) = compliant_cluster().await;
    lives[0]["spec"]["template"]["spec"]["containers"][1]["image"] = "ghcr.io/acme/web:1.5.0".into();
    api.put(lives[0].clone());
    let (dir, main) = git_repo();
    let remote = tempfile::tempdir().unwrap();
    git2::Repository::init_bare(remote.path()).unwrap();
    let url = format!("file://{}", remote.path().display());
    let (out, json) = land(&api, dir.path(), "adopt", &["--push", "--remote", &url]).await;
    assert_eq!(out.status.code(), Some(1), "drift found: {json:#}");
    let p = &json["proposal"];
    assert_eq!(json["error"], Value::Null, "{json:#}");
    assert_eq!(p["pushed"], true);
    let branch = p["branch"].as_str().unwrap();
    assert!(
        branch.starts_with("gitintent/drift-adopt-production-"),
        "{branch}"
    );
    let expected = COMPLIANT.replace("web:1.4.2", "web:1.5.0");
    let bare = git2::Repository::open_bare(remote.path()).unwrap();
    let pushed = bare
        .find_reference(&format!("refs/heads/{branch}"))
        .unwrap()
        .target()
        .unwrap();
    assert_eq!(pushed.to_string(), p["commit"].as_str().unwrap());
    assert_eq!(blob(&bare, &pushed.to_string(), WEB), expected);
    let message = bare.find_commit(pushed).unwrap().message().unwrap().to_string();
    assert!(
        message.starts_with("drift(production): adopt live values of 1 drifted resource(s)\n"),
        "{message}"
    );
    assert!(message.contains("The live values above are written into Git."));
    untouched(dir.path(), main);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proposal_breaking_a_policy_is_refused_and_nothing_is_committed() {
    // Three replicas in production need a PodDisruptionBudget: adopting them breaks a policy.
    let (api, mut lives) = compliant_cluster().await;
    lives[0]["spec"]["replicas"] = 3.into();
    api.put(lives[0].clone());
    let (dir, main) = git_repo();
    let (out, json) = land(&api, dir.path(), "adopt", &[]).await;
    assert_eq!(out.status.code(), Some(1), "{json:#}");
    assert_eq!(json["error"]["code"], "findings", "{json:#}");
    assert!(
        json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("error finding"),
        "{json:#}"
    );
    let findings = json["proposal"]["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f["severity"] == "error" && f["rule"] == "pod-disruption-budget"),
        "{findings:#?}"
    );
    assert_eq!(json["proposal"]["branch"], Value::Null);
    assert_eq!(branches(dir.path()), ["main"]);
    untouched(dir.path(), main);
    let text = drift_propose(&api, dir.path(), "adopt", &[]).await;
    assert_eq!(text.status.code(), Some(1));
    let stdout = String::from_utf8(text.stdout).unwrap();
    assert!(
        stdout.contains("\nFindings\n  error [pod-disruption-budget] Deployment/web /spec/replicas: 3 replicas in production"),
        "{stdout}"
    );
    assert!(!stdout.contains("branch gitintent/"), "{stdout}");
    assert!(String::from_utf8(text.stderr)
        .unwrap()
        .contains("error: refusing to propose a plan with 1 error finding(s)"),);
    assert_eq!(branches(dir.path()), ["main"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uncommitted_edits_never_reach_the_commit_and_write_refuses_to_overwrite_them() {
    let (api, mut lives) = compliant_cluster().await;
    lives[0]["spec"]["replicas"] = 3.into();
    api.put(lives[0].clone());
    let (dir, main) = git_repo();
    let edited = COMPLIANT
        .replace("# Web front end", "# The web front end")
        .replace("replicas: 1 #", "replicas: 3 #");
    std::fs::write(dir.path().join(WEB), &edited).unwrap();
    // The report and the proposal come from main: the local edit (which
    // would hide the drift) changes neither.
    let (out, json) = land(&api, dir.path(), "revert", &[]).await;
    assert_eq!(out.status.code(), Some(1), "{json:#}");
    assert_eq!(json["error"], Value::Null, "{json:#}");
    assert_eq!(json["base"]["ref"], "refs/heads/main");
    assert_eq!(json["base"]["commit"], main.to_string());
    assert_eq!(json["summary"]["drifted"], 1, "{json:#}");
    let repo = git2::Repository::open(dir.path()).unwrap();
    let content = blob(&repo, json["proposal"]["commit"].as_str().unwrap(), WEB);
    assert!(content.starts_with("# Web front end"), "{content}");
    assert!(
        content.contains("  replicas: 1 # one until the PDB lands\n"),
        "{content}"
    );
    assert!(content.contains("gitintent.io/drift: \"spec.replicas: git 1, live 3\""));
    assert_eq!(std::fs::read_to_string(dir.path().join(WEB)).unwrap(), edited);

    // --write would overwrite the local edit: refused, nothing written.
    let (out, json) = land(&api, dir.path(), "revert", &["--write"]).await;
    assert_eq!(out.status.code(), Some(2), "{json:#}");
    assert_eq!(
        json["summary"]["drifted"], 1,
        "the report is still printed: {json:#}"
    );
    assert_eq!(json["error"]["code"], "bad_input");
    assert!(
        json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("differs between the working tree and main"),
        "{json:#}"
    );
    assert_eq!(std::fs::read_to_string(dir.path().join(WEB)).unwrap(), edited);
}

/// `drift --propose --write` into a directory reached through a symbolic link
/// (issue 13): refused with exit 2, the linked-to file untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_never_goes_through_a_linked_directory() {
    let (api, mut lives) = cluster_in_sync().await;
    lives[0]["spec"]["replicas"] = 5.into();
    api.put(lives[0].clone());
    let dir = repo();
    let elsewhere = tempfile::tempdir().unwrap();
    let production = dir.path().join("clusters/production");
    std::fs::rename(&production, elsewhere.path().join("production")).unwrap();
    std::os::unix::fs::symlink(elsewhere.path().join("production"), &production).unwrap();
    let outside = elsewhere.path().join("production/apps/web/deployment.yaml");
    let before = std::fs::read_to_string(&outside).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let kubeconfig = api.kubeconfig(tmp.path());
    let out = drift(
        dir.path().to_str().unwrap(),
        "production",
        kubeconfig.to_str().unwrap(),
        &["--propose", "adopt", "--write"],
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("\"clusters/production\" is a symbolic link"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), before);
}
