//! `gitintent drift` and `plan --cluster` against a loopback Kubernetes API
//! server (`tests/util/kube_api.rs`) reached through a generated kubeconfig.
//! Shared fixtures here; tests by role in `report.rs`, `propose.rs`, `dry_run.rs`.

mod dry_run;
mod propose;
mod report;
mod service;
mod slack;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use gitintent::drift::{self, ClusterOptions};
use serde_json::{json, Value};

use crate::util::kube_api::KubeApi;

pub(super) const DEPLOYMENT: &str = "\
# Web front end of the shop.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app.kubernetes.io/name: web
    app.kubernetes.io/managed-by: gitintent
spec:
  replicas: 3 # three for the holidays
  selector:
    matchLabels:
      app.kubernetes.io/name: web
  template:
    metadata:
      labels:
        app.kubernetes.io/name: web
    spec:
      containers:
        - name: web
          # pinned by the release pipeline
          image: ghcr.io/acme/web:1.4.2
          envFrom:
            - configMapRef:
                name: web-config
          ports:
            - name: http
              containerPort: 8080
          resources:
            requests:
              cpu: 0.25
              memory: 256Mi
";

pub(super) const SERVICE: &str = "\
apiVersion: v1
kind: Service
metadata:
  name: web
  labels:
    app.kubernetes.io/managed-by: gitintent
spec:
  selector:
    app.kubernetes.io/name: web
  ports:
    - name: http
      port: 80
      targetPort: http
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  labels:
    app.kubernetes.io/managed-by: gitintent
data:
  LOG_LEVEL: info
";

/// A GitOps repo with one app in `production` (namespace `shop`).
pub(super) fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("clusters/production/apps/web");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(
        dir.path().join(".gitintent.yaml"),
        "layout: clusters/{environment}/apps/{name}/\nenvironments: [production]\n",
    )
    .unwrap();
    std::fs::write(
        app.join("kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: shop\nresources:\n  - deployment.yaml\n  - service.yaml\n",
    )
    .unwrap();
    std::fs::write(app.join("deployment.yaml"), DEPLOYMENT).unwrap();
    std::fs::write(app.join("service.yaml"), SERVICE).unwrap();
    dir
}

pub(super) fn parse(text: &str) -> Vec<Value> {
    text.split("\n---\n")
        .map(|d| gitintent::yaml::value(d).unwrap())
        .collect()
}

/// What the API server returns for a Git object: namespace, server-set
/// defaults, managed metadata, status, an injected sidecar, canonical quantities.
pub(super) fn live(git: &Value) -> Value {
    let mut v = git.clone();
    let meta = v["metadata"].as_object_mut().unwrap();
    meta.insert("namespace".into(), "shop".into());
    meta.insert("uid".into(), "6f0d2c1e-0000-4000-8000-000000000001".into());
    meta.insert("resourceVersion".into(), "4242".into());
    meta.insert("generation".into(), 7.into());
    meta.insert("creationTimestamp".into(), "2026-11-01T10:00:00Z".into());
    meta.insert(
        "managedFields".into(),
        json!([{"manager": "kustomize-controller", "operation": "Apply"}]),
    );
    meta.insert(
        "annotations".into(),
        json!({"kubectl.kubernetes.io/last-applied-configuration": "{}"}),
    );
    match v["kind"].as_str().unwrap() {
        "Deployment" => {
            v["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "3".into();
            v["spec"]["progressDeadlineSeconds"] = 600.into();
            v["spec"]["revisionHistoryLimit"] = 10.into();
            v["spec"]["strategy"] = json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}});
            let pod = &mut v["spec"]["template"]["spec"];
            pod["restartPolicy"] = "Always".into();
            pod["dnsPolicy"] = "ClusterFirst".into();
            let containers = pod["containers"].as_array_mut().unwrap();
            for c in containers.iter_mut() {
                c["imagePullPolicy"] = "IfNotPresent".into();
                c["terminationMessagePath"] = "/dev/termination-log".into();
                c["ports"][0]["protocol"] = "TCP".into();
                c["resources"]["requests"]["cpu"] = "250m".into();
            }
            containers.insert(0, json!({"name": "istio-proxy", "image": "istio/proxyv2:1.24.0"}));
            v["status"] = json!({"replicas": 3, "readyReplicas": 3, "observedGeneration": 7});
        }
        "Service" => {
            v["spec"]["clusterIP"] = "10.96.12.34".into();
            v["spec"]["type"] = "ClusterIP".into();
            v["spec"]["ports"][0]["protocol"] = "TCP".into();
            v["status"] = json!({"loadBalancer": {}});
        }
        _ => {}
    }
    v
}

/// A loopback API server holding the live twin of every Git object.
pub(super) async fn cluster_in_sync() -> (KubeApi, Vec<Value>) {
    let api = KubeApi::start().await;
    let mut objects = parse(DEPLOYMENT);
    objects.extend(parse(SERVICE));
    let lives: Vec<Value> = objects.iter().map(live).collect();
    for o in &lives {
        api.put(o.clone());
    }
    (api, lives)
}

pub(super) fn options(kubeconfig: PathBuf) -> ClusterOptions {
    ClusterOptions {
        kubeconfig: Some(kubeconfig),
        timeout: Duration::from_secs(10),
        ..ClusterOptions::default()
    }
}

pub(super) async fn check(api: &KubeApi, repo: &Path) -> drift::Report {
    let tmp = tempfile::tempdir().unwrap();
    let config = api.kubeconfig(tmp.path());
    let report = drift::check_repo(repo, None, "production", &options(config))
        .await
        .unwrap();
    assert_eq!(api.rejected(), Vec::<String>::new(), "unexpected requests");
    report
}

pub(super) fn entry<'a>(report: &'a drift::Report, kind: &str, name: &str) -> &'a drift::Entry {
    report
        .resources
        .iter()
        .find(|e| e.kind == kind && e.name == name)
        .unwrap_or_else(|| panic!("{kind}/{name} not in {report:#?}"))
}

pub(super) fn gitintent(args: Vec<String>) -> Output {
    crate::util::bin::gitintent()
        .args(args)
        .output()
        .expect("the binary runs")
}

/// Runs the binary off the runtime, so the loopback server keeps serving.
pub(super) async fn run(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || gitintent(args))
        .await
        .unwrap()
}

/// `gitintent drift --repo repo --env env --kubeconfig kubeconfig extra…`.
pub(super) async fn drift(repo: &str, env: &str, kubeconfig: &str, extra: &[&str]) -> Output {
    let mut args = vec!["drift", "--repo", repo, "--env", env, "--kubeconfig", kubeconfig];
    args.extend(extra);
    run(&args).await
}

/// The podinfo backend and a commented CronJob from `tests/fixtures`,
/// deployed in namespace `podinfo`.
pub(super) fn podinfo_repo() -> tempfile::TempDir {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gitops-repos/podinfo-deploy/bases");
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("clusters/production/podinfo");
    std::fs::create_dir_all(&app).unwrap();
    for (from, to) in [
        ("backend/deployment.yaml", "deployment.yaml"),
        ("backend/service.yaml", "service.yaml"),
        ("backend/hpa.yaml", "hpa.yaml"),
        ("database/cronjob-backup-daily.yaml", "cronjob.yaml"),
    ] {
        std::fs::copy(data.join(from), app.join(to)).unwrap();
    }
    std::fs::write(
        app.join("kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: podinfo\nresources: [deployment.yaml, service.yaml, hpa.yaml, cronjob.yaml]\n",
    )
    .unwrap();
    dir
}

/// `repo()` committed on `main` (and `staging-branch` with 4 replicas).
pub(super) fn committed_repo() -> (tempfile::TempDir, git2::Oid) {
    let dir = repo();
    let git = git2::Repository::init_opts(
        dir.path(),
        git2::RepositoryInitOptions::new().initial_head("main"),
    )
    .unwrap();
    let sig = git2::Signature::now("Test", "test@example.com").unwrap();
    let mut index = git.index().unwrap();
    index.add_all(["*"], git2::IndexAddOption::FORCE, None).unwrap();
    index.write().unwrap();
    let tree = git.find_tree(index.write_tree().unwrap()).unwrap();
    let main = git
        .commit(Some("HEAD"), &sig, &sig, "initial", &tree, &[])
        .unwrap();
    // A second branch whose Deployment says 4 replicas, written as a blob only.
    let file = "clusters/production/apps/web/deployment.yaml";
    let blob = git
        .blob(DEPLOYMENT.replace("replicas: 3 #", "replicas: 4 #").as_bytes())
        .unwrap();
    let mut index = git2::Index::new().unwrap();
    index.read_tree(&tree).unwrap();
    let mut entry = index.get_path(std::path::Path::new(file), 0).unwrap();
    entry.id = blob;
    index.add(&entry).unwrap();
    let other = git.find_tree(index.write_tree_to(&git).unwrap()).unwrap();
    let parent = git.find_commit(main).unwrap();
    git.commit(
        Some("refs/heads/staging-branch"),
        &sig,
        &sig,
        "four",
        &other,
        &[&parent],
    )
    .unwrap();
    (dir, main)
}
