//! Day-2 intents end to end: the binary plans against a real temporary git
//! repository with the openai planner talking HTTP to a loopback model
//! server, and `propose` commits the change to a branch.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use git2::{Repository, Signature};
use serde_json::{json, Value};

use crate::util::fake_llm::{FakeLlm, Reply};

const API: &str = "\
# The public API gateway. Owned by team edge.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api-gateway
  namespace: edge
  labels:
    app.kubernetes.io/name: api-gateway
spec:
  replicas: 3 # raised for the autumn sale
  selector:
    matchLabels:
      app.kubernetes.io/name: api-gateway
  template:
    metadata:
      labels:
        app.kubernetes.io/name: api-gateway
    spec:
      containers:
        - name: api-gateway
          image: ghcr.io/acme/api-gateway:1.4.0   # pinned by release
          env:
            - name: DB_PASSWORD
              value: s3cr3t-from-the-manifest
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {cpu: 500m, memory: 256Mi}
          securityContext:
            runAsNonRoot: true
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL]}
";

const SECRET: &str = "\
apiVersion: v1
kind: Secret
metadata:
  name: api-gateway-db
  namespace: edge
stringData:
  password: hunter2-in-a-secret
";

const MEMCACHED: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: memcached
  namespace: cache
spec:
  replicas: 1
  selector:
    matchLabels: {app: memcached}
  template:
    metadata:
      labels: {app: memcached}
    spec:
      containers:
        - name: memcached
          image: memcached:1.6.29
";

/// A git repository (with a working tree) on `main` holding the shop.
fn shop() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        (
            "clusters/production/apps/kustomization.yaml",
            "resources:\n  - api-gateway\n",
        ),
        (
            "clusters/production/apps/api-gateway/kustomization.yaml",
            "resources:\n  - deployment.yaml\n  - secret.yaml\n",
        ),
        ("clusters/production/apps/api-gateway/deployment.yaml", API),
        ("clusters/production/apps/api-gateway/secret.yaml", SECRET),
        (
            "clusters/staging/apps/kustomization.yaml",
            "# staging apps\nresources:\n  - memcached # session cache\n  - api-gateway\n",
        ),
        (
            "clusters/staging/apps/memcached/kustomization.yaml",
            "resources: [deployment.yaml]\n",
        ),
        ("clusters/staging/apps/memcached/deployment.yaml", MEMCACHED),
        ("clusters/staging/apps/api-gateway/deployment.yaml", API),
    ];
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    commit_working_tree(dir.path(), "shop");
    dir
}

/// Makes `dir` a git repository whose `main` holds everything in it, checked out.
fn commit_working_tree(dir: &Path, message: &str) {
    let repo = Repository::init(dir).unwrap();
    let mut index = repo.index().unwrap();
    index.add_all(["*"], git2::IndexAddOption::DEFAULT, None).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = Signature::now("Test", "test@example.com").unwrap();
    let commit = repo.commit(None, &sig, &sig, message, &tree, &[]).unwrap();
    repo.reference("refs/heads/main", commit, true, "main").unwrap();
    repo.set_head("refs/heads/main").unwrap();
}

fn change_spec(environment: &str, changes: Value) -> Value {
    json!({
        "environment": environment,
        "namespace": "default",
        "components": [],
        "changes": changes,
        "assumptions": [],
        "questions": []
    })
}

fn scale(target: &str, replicas: u32) -> Value {
    json!([{
        "operation": "update", "target": target, "kind": null,
        "set": {"replicas": replicas, "image": null, "container": null, "resources": null, "exposure": null}
    }])
}

fn gitintent(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = crate::util::bin::gitintent();
    cmd.args(args)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("the binary runs")
}

/// `gitintent COMMAND INTENT --planner builtin --repo REPO --format json`,
/// COMMAND being `plan` or `propose`.
fn builtin_json(command: &str, repo: &tempfile::TempDir, intent: &str) -> Output {
    gitintent(
        &[
            command,
            intent,
            "--planner",
            "builtin",
            "--repo",
            path(repo.path()),
            "--format",
            "json",
        ],
        &[],
    )
}

/// `gitintent COMMAND INTENT --planner openai --repo REPO --format json`
/// against the fake model `server` (see [`run`]).
async fn openai_json(command: &str, repo: &tempfile::TempDir, intent: &str, server: &FakeLlm) -> Output {
    run(
        &[
            command,
            intent,
            "--planner",
            "openai",
            "--repo",
            path(repo.path()),
            "--format",
            "json",
        ],
        server,
    )
    .await
}

/// Runs the binary on a blocking thread so the fake model keeps serving.
async fn run(args: &[&str], server: &FakeLlm) -> Output {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let url = server.base_url();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        gitintent(
            &args,
            &[
                ("GITINTENT_LLM_BASE_URL", &url),
                ("GITINTENT_LLM_MODEL", "gpt-test"),
            ],
        )
    })
    .await
    .unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", text(&o.stdout), text(&o.stderr)))
}

#[tokio::test]
async fn scaling_modifies_one_line_of_the_existing_file_and_the_model_sees_no_secrets() {
    let repo = shop();
    let server = FakeLlm::start([Reply::spec(&change_spec("production", scale("api-gateway", 5)))]).await;
    let intent = "scale api-gateway to 5 replicas in production";
    let o = openai_json("plan", &repo, intent, &server).await;
    assert_eq!(o.status.code(), Some(0), "{}{}", text(&o.stdout), text(&o.stderr));
    let plan = json_of(&o);
    let target = "clusters/production/apps/api-gateway/deployment.yaml";
    let files = plan["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0]["path"], target);
    assert_eq!(
        files[0]["content"].as_str().unwrap(),
        API.replace("replicas: 3 # raised", "replicas: 5 # raised")
    );
    let changes = plan["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["status"], "modified");
    let diff = changes[0]["diff"].as_str().unwrap();
    let changed: Vec<&str> = diff
        .lines()
        .filter(|l| {
            (l.starts_with('+') || l.starts_with('-')) && !l.starts_with("+++") && !l.starts_with("---")
        })
        .collect();
    assert_eq!(
        changed,
        [
            "-  replicas: 3 # raised for the autumn sale",
            "+  replicas: 5 # raised for the autumn sale"
        ]
    );
    assert_eq!(changes[0]["resources"][0]["fields"][0]["path"], "/spec/replicas");
    assert_eq!(plan["operations"][0]["target"], "Deployment/api-gateway");

    // The model was told what exists, and nothing secret.
    let request = &server.requests()[0];
    let body = request.body.to_string();
    assert!(body.contains("existing_workloads"), "{body}");
    assert!(body.contains("clusters/production/apps/api-gateway/deployment.yaml"));
    for secret in ["s3cr3t-from-the-manifest", "hunter2-in-a-secret", "DB_PASSWORD"] {
        assert!(!body.contains(secret), "{secret} reached the model");
    }
}

#[tokio::test]
async fn an_unknown_target_goes_back_to_the_model_with_the_closest_matches() {
    let repo = shop();
    let server = FakeLlm::start([
        Reply::spec(&change_spec("production", scale("api-gw", 5))),
        Reply::spec(&change_spec("production", scale("api-gateway", 5))),
    ])
    .await;
    let o = openai_json("plan", &repo, "scale the gateway to 5 in production", &server).await;
    assert_eq!(o.status.code(), Some(0), "{}{}", text(&o.stdout), text(&o.stderr));
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let repair = requests[1].messages().last().unwrap().1.clone();
    assert!(
        repair.contains("no workload named \\\"api-gw\\\"")
            || repair.contains("no workload named \"api-gw\""),
        "{repair}"
    );
    assert!(
        repair.contains("Deployment/api-gateway in namespace edge"),
        "{repair}"
    );
}

#[tokio::test]
async fn a_target_in_the_wrong_environment_exits_2_and_writes_nothing() {
    let repo = shop();
    let script: Vec<Reply> = (0..4)
        .map(|_| {
            Reply::spec(&change_spec(
                "production",
                json!([{"operation": "delete", "target": "memcached", "kind": null, "set": null}]),
            ))
        })
        .collect();
    let server = FakeLlm::start(script).await;
    let o = run(
        &[
            "plan",
            "remove memcached from production",
            "--planner",
            "openai",
            "--repo",
            path(repo.path()),
            "--write",
        ],
        &server,
    )
    .await;
    assert_eq!(o.status.code(), Some(2), "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(
        text(&o.stderr).contains("memcached is not in production; it is in staging"),
        "{}",
        text(&o.stderr)
    );
    assert!(repo
        .path()
        .join("clusters/staging/apps/memcached/deployment.yaml")
        .exists());
    let status = Command::new("git")
        .args(["status", "--porcelain"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert_eq!(text(&status.stdout), "", "the working tree is untouched");
}

#[tokio::test]
async fn a_delete_is_proposed_as_a_commit_that_removes_and_unwires_the_app() {
    let repo = shop();
    let delete = change_spec(
        "staging",
        json!([{"operation": "delete", "target": "memcached", "kind": null, "set": null}]),
    );
    let server = FakeLlm::start([Reply::spec(&delete), Reply::spec(&delete)]).await;
    let intent = "remove the memcached app from staging";
    let o = openai_json("plan", &repo, intent, &server).await;
    assert_eq!(o.status.code(), Some(0), "{}{}", text(&o.stdout), text(&o.stderr));
    let plan = json_of(&o);
    let files: Vec<&str> = plan["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        ["clusters/staging/apps/kustomization.yaml"],
        "deleted files appear in changes only"
    );
    let statuses: Vec<(String, String)> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["path"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            (
                "clusters/staging/apps/kustomization.yaml".to_string(),
                "modified".to_string()
            ),
            (
                "clusters/staging/apps/memcached/deployment.yaml".to_string(),
                "deleted".to_string()
            ),
            (
                "clusters/staging/apps/memcached/kustomization.yaml".to_string(),
                "deleted".to_string()
            ),
        ]
    );

    let o = openai_json("propose", &repo, intent, &server).await;
    assert_eq!(o.status.code(), Some(0), "{}{}", text(&o.stdout), text(&o.stderr));
    let proposal = json_of(&o);
    let branch = proposal["proposal"]["branch"]
        .as_str()
        .or_else(|| proposal["branch"].as_str())
        .unwrap_or_else(|| panic!("{proposal}"))
        .to_string();
    let git = Repository::open(repo.path()).unwrap();
    let tree = git.revparse_single(&branch).unwrap().peel_to_tree().unwrap();
    assert!(tree
        .get_path(Path::new("clusters/staging/apps/memcached"))
        .is_err());
    let blob = tree
        .get_path(Path::new("clusters/staging/apps/kustomization.yaml"))
        .unwrap()
        .to_object(&git)
        .unwrap()
        .peel_to_blob()
        .unwrap();
    assert_eq!(
        std::str::from_utf8(blob.content()).unwrap(),
        "# staging apps\nresources:\n  - api-gateway\n"
    );
    // main and the working tree are untouched.
    assert!(repo
        .path()
        .join("clusters/staging/apps/memcached/deployment.yaml")
        .exists());
    let main = git.revparse_single("main").unwrap().peel_to_tree().unwrap();
    assert!(main
        .get_path(Path::new("clusters/staging/apps/memcached/deployment.yaml"))
        .is_ok());
}

#[tokio::test]
async fn write_applies_an_update_and_refuses_over_local_edits() {
    let repo = shop();
    let spec = change_spec("staging", scale("api-gateway", 2));
    let server = FakeLlm::start([Reply::spec(&spec), Reply::spec(&spec)]).await;
    let file = repo
        .path()
        .join("clusters/staging/apps/api-gateway/deployment.yaml");
    std::fs::write(&file, format!("{API}# a local note\n")).unwrap();
    let args = [
        "plan",
        "scale api-gateway to 2 in staging",
        "--planner",
        "openai",
        "--repo",
        path(repo.path()),
        "--write",
    ];
    let o = run(&args, &server).await;
    assert_eq!(o.status.code(), Some(2), "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(
        text(&o.stderr).contains("differ from refs/heads/main in the working tree"),
        "{}",
        text(&o.stderr)
    );
    assert!(std::fs::read_to_string(&file)
        .unwrap()
        .ends_with("# a local note\n"));
    std::fs::write(&file, API).unwrap();
    let o = run(&args, &server).await;
    assert_eq!(o.status.code(), Some(0), "{}{}", text(&o.stdout), text(&o.stderr));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        API.replace("replicas: 3 #", "replicas: 2 #")
    );
}

mod envs;
mod helm;
mod podinfo;
mod promote;
mod service;
mod several;
mod slack;
mod target;

/// Writes the tree of `rev` into `to`.
fn checkout(git: &Repository, rev: &str, to: &Path) {
    let tree = git.revparse_single(rev).unwrap().peel_to_tree().unwrap();
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        if let Some(git2::ObjectType::Blob) = entry.kind() {
            let file = to.join(dir).join(entry.name().unwrap());
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            let blob = entry.to_object(git).unwrap().peel_to_blob().unwrap();
            std::fs::write(file, blob.content()).unwrap();
        }
        git2::TreeWalkResult::Ok
    })
    .unwrap();
}

/// `kubectl kustomize DIR`: what an environment builds.
fn kustomize(dir: &Path) -> String {
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}: {}", dir.display(), text(&out.stderr));
    text(&out.stdout)
}

/// True when `kubectl` runs; otherwise says why the oracle is skipped.
fn have_kubectl() -> bool {
    let ok = Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipping the Kustomize oracle: kubectl is not installed");
    }
    ok
}

/// `kubectl kustomize {root}/{env}` for every environment of `envs` in the
/// tree of `rev`: the oracle for what each environment builds. None (said on
/// stderr) when kubectl is not installed.
pub(crate) fn build_all_environments(
    repo: &Path,
    rev: &str,
    root: &str,
    envs: &[&str],
) -> Option<BTreeMap<String, String>> {
    if !have_kubectl() {
        return None;
    }
    let git = Repository::open(repo).unwrap();
    let tree = tempfile::tempdir().unwrap();
    checkout(&git, rev, tree.path());
    let built = envs
        .iter()
        .map(|env| (env.to_string(), kustomize(&tree.path().join(root).join(env))))
        .collect();
    Some(built)
}

/// Builds every environment of `envs` (`{root}/{env}`) at `main` and at
/// `branch`, asserts that exactly those of `changed` differ, and returns
/// the builds at `branch` (None when kubectl is not installed).
fn assert_builds_differ_only_in(
    repo: &tempfile::TempDir,
    branch: &str,
    root: &str,
    envs: &[&str],
    changed: &[&str],
) -> Option<BTreeMap<String, String>> {
    let before = build_all_environments(repo.path(), "main", root, envs)?;
    let after = build_all_environments(repo.path(), branch, root, envs)?;
    for env in envs {
        if changed.contains(env) {
            assert_ne!(before[*env], after[*env], "{env} did not change");
        } else {
            assert_eq!(before[*env], after[*env], "{env} changed");
        }
    }
    Some(after)
}
