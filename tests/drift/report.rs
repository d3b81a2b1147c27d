//! Drift reports: in sync, drifted, missing, extra, unreadable, unreachable; CLI exit codes.

use std::time::{Duration, Instant};

use gitintent::drift::Status;
use serde_json::{json, Value};

use super::*;
use crate::util::kube_api::KubeApi;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_sync_when_only_server_defaults_differ() {
    let (api, _) = cluster_in_sync().await;
    let dir = repo();
    let report = check(&api, dir.path()).await;
    assert!(!report.has_drift(), "{report:#?}");
    assert_eq!(report.summary.in_sync, 3);
    assert_eq!(report.score, 0);
    assert_eq!(report.server, api.url);
    assert!(report
        .resources
        .iter()
        .all(|e| e.namespace.as_deref() == Some("shop")));
    // Exactly the calls the README lists: discovery per group-version, one
    // get per declared object, one labelled list per kind and namespace.
    let mut requests = api.requests();
    requests.sort();
    assert_eq!(
        requests,
        [
            "GET /api/v1",
            "GET /api/v1/namespaces/shop/configmaps/web-config",
            "GET /api/v1/namespaces/shop/configmaps?&labelSelector=app.kubernetes.io%2Fmanaged-by%3Dgitintent",
            "GET /api/v1/namespaces/shop/services/web",
            "GET /api/v1/namespaces/shop/services?&labelSelector=app.kubernetes.io%2Fmanaged-by%3Dgitintent",
            "GET /apis/apps/v1",
            "GET /apis/apps/v1/namespaces/shop/deployments/web",
            "GET /apis/apps/v1/namespaces/shop/deployments?&labelSelector=app.kubernetes.io%2Fmanaged-by%3Dgitintent",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_drift_is_reported_with_git_and_live_values() {
    let (api, mut lives) = cluster_in_sync().await;
    lives[0]["spec"]["replicas"] = 5.into();
    api.put(lives[0].clone());
    let dir = repo();
    let report = check(&api, dir.path()).await;
    let web = entry(&report, "Deployment", "web");
    assert_eq!(web.status, Status::Drifted);
    assert_eq!(web.differences.len(), 1);
    let d = &web.differences[0];
    assert_eq!(
        (d.path.as_str(), &d.git, &d.live),
        ("spec.replicas", &json!(3), &json!(5))
    );
    assert_eq!(web.dependents, ["Service/web"]);
    // replicas weigh 8, times (1 + one dependent Service).
    assert_eq!(web.score, 16);
    assert_eq!(report.score, 16);
    assert_eq!(
        web.file.as_deref(),
        Some("clusters/production/apps/web/deployment.yaml")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_drift_weighs_more_than_a_label() {
    let (api, mut lives) = cluster_in_sync().await;
    lives[0]["spec"]["template"]["spec"]["containers"][1]["image"] = "ghcr.io/acme/web:1.4.3-hotfix".into();
    lives[2]["metadata"]["labels"]["app.kubernetes.io/managed-by"] = "helm".into();
    lives[2]["metadata"]["labels"]["extra"] = "x".into();
    api.put(lives[0].clone());
    api.put(lives[2].clone());
    let dir = repo();
    let report = check(&api, dir.path()).await;
    let web = entry(&report, "Deployment", "web");
    assert_eq!(
        web.differences[0].path,
        "spec.template.spec.containers[name=web].image"
    );
    assert_eq!(web.differences[0].live, json!("ghcr.io/acme/web:1.4.3-hotfix"));
    assert_eq!(web.score, 20);
    let config = entry(&report, "ConfigMap", "web-config");
    assert_eq!(
        config.differences[0].path,
        "metadata.labels[\"app.kubernetes.io/managed-by\"]"
    );
    // a label weighs 1, times (1 + the Deployment that reads the ConfigMap).
    assert_eq!(config.dependents, ["Deployment/web"]);
    assert_eq!(config.score, 2);
    // Relabelled away from gitintent, it is not listed as extra either.
    assert_eq!(report.summary.extra, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_object_is_reported() {
    let api = KubeApi::start().await;
    let objects = parse(DEPLOYMENT);
    api.put(live(&objects[0]));
    let dir = repo();
    let report = check(&api, dir.path()).await;
    assert_eq!(entry(&report, "Service", "web").status, Status::Missing);
    assert_eq!(entry(&report, "ConfigMap", "web-config").status, Status::Missing);
    assert_eq!(entry(&report, "Deployment", "web").status, Status::InSync);
    // missing weighs 10 × (1 + dependents): the Deployment depends on the ConfigMap.
    assert_eq!(entry(&report, "ConfigMap", "web-config").score, 20);
    assert_eq!(entry(&report, "Service", "web").score, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_extra_tracked_object_is_reported_and_others_are_not() {
    let (api, lives) = cluster_in_sync().await;
    let mut old = lives[0].clone();
    old["metadata"]["name"] = "web-old".into();
    api.put(old.clone());
    let mut untracked = old.clone();
    untracked["metadata"]["name"] = "hand-made".into();
    untracked["metadata"]["labels"] = json!({"app": "hand-made"});
    api.put(untracked);
    let mut owned = old.clone();
    owned["metadata"]["name"] = "child".into();
    owned["metadata"]["ownerReferences"] =
        json!([{"apiVersion": "v1", "kind": "Thing", "name": "p", "uid": "u"}]);
    api.put(owned);
    let mut elsewhere = old;
    elsewhere["metadata"]["namespace"] = "other".into();
    api.put(elsewhere);
    let dir = repo();
    let report = check(&api, dir.path()).await;
    let extras: Vec<_> = report
        .resources
        .iter()
        .filter(|e| e.status == Status::Extra)
        .collect();
    assert_eq!(extras.len(), 1, "{extras:#?}");
    assert_eq!(
        (
            extras[0].kind.as_str(),
            extras[0].namespace.as_deref(),
            extras[0].name.as_str()
        ),
        ("Deployment", Some("shop"), "web-old")
    );
    assert_eq!(extras[0].file, None);
    assert_eq!(report.score, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_403_from_rbac_is_reported_per_resource_without_crashing() {
    let (api, _) = cluster_in_sync().await;
    api.forbid("configmaps");
    let dir = repo();
    let report = check(&api, dir.path()).await;
    let config = entry(&report, "ConfigMap", "web-config");
    assert_eq!(config.status, Status::Unreadable);
    let message = config.message.as_deref().unwrap();
    assert!(
        message.contains("403") && message.contains("cannot get resource \"configmaps\""),
        "{message}"
    );
    assert_eq!(entry(&report, "Deployment", "web").status, Status::InSync);
    assert!(
        report.warnings[0].contains("cannot list configmaps in namespace shop"),
        "{:?}",
        report.warnings
    );

    let tmp = tempfile::tempdir().unwrap();
    let kubeconfig = api.kubeconfig(tmp.path());
    let out = drift(
        dir.path().to_str().unwrap(),
        "production",
        kubeconfig.to_str().unwrap(),
        &[],
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(
        stdout.contains("unreadable ConfigMap shop/web-config"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_exit_codes_in_sync_drifted_and_bad_input() {
    let (api, mut lives) = cluster_in_sync().await;
    let dir = repo();
    let tmp = tempfile::tempdir().unwrap();
    let kubeconfig = api.kubeconfig(tmp.path());
    let (repo_arg, kc) = (dir.path().to_str().unwrap(), kubeconfig.to_str().unwrap());

    let out = drift(repo_arg, "production", kc, &[]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("3 in-sync, 0 drifted, 0 missing, 0 extra, 0 unreadable; drift score 0"),
        "{stdout}"
    );

    lives[0]["spec"]["replicas"] = 5.into();
    api.put(lives[0].clone());
    let out = drift(
        repo_arg,
        "production",
        kc,
        &["--context", "loop", "--format", "json"],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["summary"]["drifted"], 1);
    assert_eq!(json["resources"][0]["status"], "drifted");
    assert_eq!(
        json["resources"][0]["differences"][0],
        json!({"path": "spec.replicas", "git": 3, "live": 5, "weight": 8})
    );
    assert_eq!(json["proposal"], Value::Null);

    let bad = [
        (vec!["--context", "nope"], "context \"nope\" not found"),
        (vec!["--selector", "a=b&c"], "invalid label selector"),
    ];
    for (extra, expected) in bad {
        let mut args = vec![
            "drift",
            "--repo",
            repo_arg,
            "--env",
            "production",
            "--kubeconfig",
            kc,
        ];
        args.extend(extra);
        let out = run(&args).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
    }
    let out = drift(repo_arg, "staging", kc, &[]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("declares nothing for environment \"staging\""));
    let missing = tmp.path().join("no-such-kubeconfig");
    let out = drift(repo_arg, "production", missing.to_str().unwrap(), &[]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-kubeconfig"));
    assert_eq!(api.rejected(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_cluster_is_a_clear_error_within_a_bounded_time() {
    // A port that was just free: nothing listens there any more.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let tmp = tempfile::tempdir().unwrap();
    let kubeconfig = tmp.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {url}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n  user: {{}}\n"),
    )
    .unwrap();
    let dir = repo();
    let started = Instant::now();
    let out = drift(
        dir.path().to_str().unwrap(),
        "production",
        kubeconfig.to_str().unwrap(),
        &["--timeout", "5", "--format", "json"],
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(3));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["error"]["code"], "failure");
    let message = json["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("cannot reach the Kubernetes API server at {url}")),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_reads_the_base_from_git_objects_and_ignores_uncommitted_edits() {
    let (api, _) = cluster_in_sync().await;
    let (dir, main) = committed_repo();
    let file = dir.path().join("clusters/production/apps/web/deployment.yaml");
    // Uncommitted edits: a different replica count and a broken file elsewhere.
    std::fs::write(&file, DEPLOYMENT.replace("replicas: 3 #", "replicas: 9 #")).unwrap();
    std::fs::write(
        dir.path().join("clusters/production/apps/web/broken.yaml"),
        "kind: [unclosed\n",
    )
    .unwrap();
    let report = check(&api, dir.path()).await;
    assert!(!report.has_drift(), "{report:#?}");
    assert_eq!(report.summary.in_sync, 3);
    let base = report.base.as_ref().unwrap();
    assert_eq!(
        (base.reference.as_str(), base.commit.clone()),
        ("refs/heads/main", main.to_string())
    );

    let tmp = tempfile::tempdir().unwrap();
    let kubeconfig = api.kubeconfig(tmp.path());
    let (repo_arg, kc) = (
        dir.path().to_str().unwrap().to_string(),
        kubeconfig.to_str().unwrap().to_string(),
    );
    let args = move |base: &'static str| {
        let mut a = vec![
            "drift".to_string(),
            "--repo".into(),
            repo_arg.clone(),
            "--env".into(),
            "production".into(),
            "--kubeconfig".into(),
            kc.clone(),
            "--format".into(),
            "json".into(),
        ];
        if !base.is_empty() {
            a.extend(["--base".to_string(), base.to_string()]);
        }
        a
    };
    let out = tokio::task::spawn_blocking(move || {
        (
            gitintent(args("")),
            gitintent(args("staging-branch")),
            gitintent(args("nope")),
        )
    })
    .await
    .unwrap();
    let (default, other, missing) = out;
    assert_eq!(
        default.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&default.stdout)
    );
    // At another base, Git says 4 replicas: drifted against the live 3.
    assert_eq!(other.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&other.stdout).unwrap();
    assert_eq!(json["base"]["ref"], "refs/heads/staging-branch");
    assert_eq!(
        json["resources"][0]["differences"][0],
        json!({"path": "spec.replicas", "git": 4, "live": 3, "weight": 8})
    );
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("ref \"nope\" not found"));
}
