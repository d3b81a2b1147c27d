//! `GET /v1/drift` on the real service (in-process on 127.0.0.1) against the
//! loopback Kubernetes API: in sync, drifted, a 403 on one kind, an
//! unreachable or silent cluster within bounded time, and every refusal.

use std::time::{Duration, Instant};

use gitintent::serve::auth::hash;
use serde_json::{json, Value};

use super::*;
use crate::util::service::{
    client, error_code, send, token_blocks, Reply, Service, ADMIN, OUTSIDER, PLANNER,
};

/// A token that may plan only in staging of `gitops`.
pub(super) const STAGING_ONLY: &str = "gi_staging_only_token_for_drift_tests_0123";

/// A service with `gitops` (the drift fixture, committed on main) whose
/// cluster is `api`, `dark` (a cluster nobody answers for), and `nocluster`.
pub(super) struct Setup {
    pub(super) service: Service,
    pub(super) repo: tempfile::TempDir,
    pub(super) main: git2::Oid,
    _tmp: tempfile::TempDir,
    _other: tempfile::TempDir,
}

/// A URL on which nothing listens any more.
pub(super) fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

pub(super) fn kubeconfig_for(dir: &Path, url: &str) -> PathBuf {
    let path = dir.join("dark-kubeconfig");
    std::fs::write(
        &path,
        format!("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {url}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n  user: {{}}\n"),
    )
    .unwrap();
    path
}

pub(super) async fn setup(api: &KubeApi, dark_url: &str, extra: &str) -> Setup {
    let (repo, main) = committed_repo();
    let (other, _) = committed_repo();
    let tmp = tempfile::tempdir().unwrap();
    let kubeconfig = api.kubeconfig(tmp.path());
    let dark = kubeconfig_for(tmp.path(), dark_url);
    let toml = format!(
        r#"{tokens}
[[token]]
name = "staging-only"
sha256 = "{staging}"
repos = ["gitops"]
envs = ["staging"]

[[repository]]
name = "gitops"
path = {repo:?}
[repository.cluster]
kubeconfig = {kubeconfig:?}
contexts = {{ production = "loop" }}
timeout-secs = 5

[[repository]]
name = "dark"
path = {other:?}
[repository.cluster]
kubeconfig = {dark:?}
timeout-secs = 2

[[repository]]
name = "nocluster"
path = {other:?}

[[repository]]
name = "broken"
path = {other:?}
[repository.cluster]
kubeconfig = "/nonexistent/gitintent-kubeconfig"
{extra}"#,
        tokens = token_blocks(),
        staging = hash(STAGING_ONLY),
        repo = repo.path().display().to_string(),
        other = other.path().display().to_string(),
        kubeconfig = kubeconfig.display().to_string(),
        dark = dark.display().to_string(),
    );
    Setup {
        service: Service::start(&toml).await,
        repo,
        main,
        _tmp: tmp,
        _other: other,
    }
}

pub(super) async fn get_drift(service: &Service, token: Option<&str>, query: &str) -> Reply {
    let mut req = client().get(service.url(&format!("/v1/drift{query}")));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    send(req).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_reports_drift_of_the_base_branch_against_the_cluster() {
    let (api, mut lives) = cluster_in_sync().await;
    let s = setup(&api, &dead_url(), "").await;
    // Uncommitted edits in the service's repository never count.
    let file = s.repo.path().join("clusters/production/apps/web/deployment.yaml");
    std::fs::write(&file, DEPLOYMENT.replace("replicas: 3 #", "replicas: 7 #")).unwrap();

    let reply = get_drift(&s.service, Some(PLANNER), "?repo=gitops&env=production").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let r = &reply.json;
    assert_eq!(
        r["summary"],
        json!({"in_sync": 3, "drifted": 0, "missing": 0, "extra": 0, "unreadable": 0})
    );
    assert_eq!(r["score"], 0);
    assert_eq!(r["environment"], "production");
    assert_eq!(r["server"], api.url);
    assert_eq!(
        r["base"],
        json!({"ref": "refs/heads/main", "commit": s.main.to_string()})
    );

    // Replicas drifted in the cluster: the same report as `drift --format json`.
    lives[0]["spec"]["replicas"] = 5.into();
    api.put(lives[0].clone());
    let reply = get_drift(&s.service, Some(ADMIN), "?repo=gitops&env=production").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let web = reply.json["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "Deployment")
        .unwrap()
        .clone();
    assert_eq!(web["status"], "drifted");
    assert_eq!(
        web["differences"],
        json!([{"path": "spec.replicas", "git": 3, "live": 5, "weight": 8}])
    );
    assert_eq!(web["file"], "clusters/production/apps/web/deployment.yaml");
    assert_eq!(reply.json["score"], 16);
    let tmp = tempfile::tempdir().unwrap();
    let kubeconfig = api.kubeconfig(tmp.path());
    let cli = drift(
        s.repo.path().to_str().unwrap(),
        "production",
        kubeconfig.to_str().unwrap(),
        &["--format", "json"],
    )
    .await;
    let mut cli: Value = serde_json::from_slice(&cli.stdout).unwrap();
    cli.as_object_mut().unwrap().remove("proposal");
    assert_eq!(cli, reply.json, "the service and the CLI give one contract");

    // A 403 from RBAC on one kind is inside the report, not an error.
    api.forbid("configmaps");
    let reply = get_drift(&s.service, Some(ADMIN), "?repo=gitops&env=production").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json["summary"]["unreadable"], 1);
    let config = reply.json["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "ConfigMap")
        .unwrap()
        .clone();
    assert_eq!(config["status"], "unreadable");
    assert!(config["message"].as_str().unwrap().contains("403"), "{config}");
    assert_eq!(api.rejected(), Vec::<String>::new());

    let metrics = send(client().get(s.service.url("/metrics"))).await.text;
    assert!(
        metrics.contains("route=\"/v1/drift\",method=\"GET\",status=\"200\"} 3"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_have_precise_statuses_and_nothing_reaches_the_cluster() {
    let (api, _) = cluster_in_sync().await;
    let s = setup(&api, &dead_url(), "").await;
    let cases: &[(Option<&str>, &str, u16, &str)] = &[
        (Some(ADMIN), "?env=production", 400, "bad_request"),
        (Some(ADMIN), "?repo=gitops", 400, "bad_request"),
        (Some(ADMIN), "?repo=gitops&env=", 400, "bad_request"),
        (Some(ADMIN), "?repo=gitops&env=../prod", 400, "bad_request"),
        (Some(ADMIN), "?repo=gitops&env=production&x=1", 400, "bad_request"),
        (Some(ADMIN), "?repo=nope&env=production", 404, "repo_not_found"),
        (
            Some(OUTSIDER),
            "?repo=gitops&env=production",
            404,
            "repo_not_found",
        ),
        (
            Some(STAGING_ONLY),
            "?repo=gitops&env=production",
            403,
            "forbidden",
        ),
        (
            Some(ADMIN),
            "?repo=gitops&env=staging",
            422,
            "unknown_environment",
        ),
        (
            Some(ADMIN),
            "?repo=nocluster&env=production",
            409,
            "drift_not_configured",
        ),
        (None, "?repo=gitops&env=production", 401, "unauthorized"),
        (
            Some(ADMIN),
            "?repo=broken&env=production",
            500,
            "cluster_misconfigured",
        ),
    ];
    for (token, query, status, code) in cases {
        let reply = get_drift(&s.service, *token, query).await;
        assert_eq!(error_code(&reply, *status), *code, "{query}: {}", reply.text);
    }
    let reply = get_drift(&s.service, Some(ADMIN), "?repo=gitops&env=staging").await;
    assert!(
        reply.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("declares nothing for environment \"staging\""),
        "{}",
        reply.text
    );
    // The operator's mistake: named as such, the path only in the log.
    let reply = get_drift(&s.service, Some(ADMIN), "?repo=broken&env=production").await;
    let message = reply.json["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("cluster settings for environment \"production\" of repository \"broken\"")
            && message.contains("quote error id")
            && !message.contains("/nonexistent"),
        "{message}"
    );
    assert!(reply.json["error"]["details"]["error_id"].is_string());
    assert_eq!(
        api.requests(),
        Vec::<String>::new(),
        "no refusal contacts the cluster"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_or_silent_cluster_answers_502_or_504_in_bounded_time() {
    let (api, _) = cluster_in_sync().await;
    // A cluster that accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    let held = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    {
        let held = held.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = silent.accept().await {
                held.lock().unwrap().push(socket);
            }
        });
    }
    let s = setup(&api, &dead_url(), "").await;
    let started = Instant::now();
    let reply = get_drift(&s.service, Some(ADMIN), "?repo=dark&env=production").await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(error_code(&reply, 502), "cluster_unreachable");
    let message = reply.json["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("environment \"production\" of repository \"dark\"")
            && message.contains("cannot reach the Kubernetes API server"),
        "{message}"
    );

    let s = setup(&api, &silent_url, "").await;
    let started = Instant::now();
    let reply = get_drift(&s.service, Some(ADMIN), "?repo=dark&env=production").await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(error_code(&reply, 504), "cluster_timeout", "{}", reply.text);
    assert!(
        reply.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("did not answer within 2 s"),
        "{}",
        reply.text
    );
}
