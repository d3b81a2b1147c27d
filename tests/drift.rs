//! `gitintent drift` against a loopback Kubernetes API server
//! (`tests/util/kube_api.rs`) reached through a generated kubeconfig.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use gitintent::drift::{self, ClusterOptions, Status};
use serde_json::{json, Value};

use crate::util::kube_api::KubeApi;

const DEPLOYMENT: &str = "\
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

const SERVICE: &str = "\
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
fn repo() -> tempfile::TempDir {
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

fn parse(text: &str) -> Vec<Value> {
    text.split("\n---\n")
        .map(|d| serde_saphyr::from_str::<Value>(d).unwrap())
        .collect()
}

/// What the API server returns for a Git object: namespace, server-set
/// defaults, managed metadata, status, an injected sidecar, canonical quantities.
fn live(git: &Value) -> Value {
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
async fn cluster_in_sync() -> (KubeApi, Vec<Value>) {
    let api = KubeApi::start().await;
    let mut objects = parse(DEPLOYMENT);
    objects.extend(parse(SERVICE));
    let lives: Vec<Value> = objects.iter().map(live).collect();
    for o in &lives {
        api.put(o.clone());
    }
    (api, lives)
}

fn options(kubeconfig: PathBuf) -> ClusterOptions {
    ClusterOptions {
        kubeconfig: Some(kubeconfig),
        timeout: Duration::from_secs(10),
        ..ClusterOptions::default()
    }
}

async fn check(api: &KubeApi, repo: &Path) -> drift::Report {
    let tmp = tempfile::tempdir().unwrap();
    let config = api.kubeconfig(tmp.path());
    let report = drift::check(repo, "production", &options(config)).await.unwrap();
    assert_eq!(api.rejected(), Vec::<String>::new(), "unexpected requests");
    report
}

fn entry<'a>(report: &'a drift::Report, kind: &str, name: &str) -> &'a drift::Entry {
    report
        .resources
        .iter()
        .find(|e| e.kind == kind && e.name == name)
        .unwrap_or_else(|| panic!("{kind}/{name} not in {report:#?}"))
}

fn gitintent(args: Vec<String>) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_gitintent"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("KUBECONFIG")
        .output()
        .expect("the binary runs")
}

/// Runs the binary off the runtime, so the loopback server keeps serving.
async fn run(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || gitintent(args))
        .await
        .unwrap()
}

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
    let out = run(&[
        "drift",
        "--repo",
        dir.path().to_str().unwrap(),
        "--env",
        "production",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
    ])
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

    let out = run(&[
        "drift",
        "--repo",
        repo_arg,
        "--env",
        "production",
        "--kubeconfig",
        kc,
    ])
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("3 in-sync, 0 drifted, 0 missing, 0 extra, 0 unreadable; drift score 0"),
        "{stdout}"
    );

    lives[0]["spec"]["replicas"] = 5.into();
    api.put(lives[0].clone());
    let out = run(&[
        "drift",
        "--repo",
        repo_arg,
        "--env",
        "production",
        "--kubeconfig",
        kc,
        "--context",
        "loop",
        "--format",
        "json",
    ])
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
    let out = run(&[
        "drift",
        "--repo",
        repo_arg,
        "--env",
        "staging",
        "--kubeconfig",
        kc,
    ])
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("declares nothing for environment \"staging\""));
    let missing = tmp.path().join("no-such-kubeconfig");
    let out = run(&[
        "drift",
        "--repo",
        repo_arg,
        "--env",
        "production",
        "--kubeconfig",
        missing.to_str().unwrap(),
    ])
    .await;
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
    let out = run(&[
        "drift",
        "--repo",
        dir.path().to_str().unwrap(),
        "--env",
        "production",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--timeout",
        "5",
        "--format",
        "json",
    ])
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
    let proposal = drift::propose(dir.path(), &report, drift::Mode::Revert).unwrap();
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

/// The podinfo backend and a commented CronJob from `../shared/data`,
/// deployed in namespace `podinfo`.
fn podinfo_repo() -> tempfile::TempDir {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/gitops-repos/podinfo-deploy/bases");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn podinfo_drift_is_adopted_line_by_line() {
    let dir = podinfo_repo();
    let app = dir.path().join("clusters/production/podinfo");
    let api = KubeApi::start().await;
    let mut lives = Vec::new();
    for file in ["deployment.yaml", "service.yaml", "hpa.yaml", "cronjob.yaml"] {
        let git: Value = serde_saphyr::from_str(&std::fs::read_to_string(app.join(file)).unwrap()).unwrap();
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

    let proposal = drift::propose(dir.path(), &report, drift::Mode::Adopt).unwrap();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_cluster_dry_runs_every_manifest_and_reports_the_verdicts() {
    let api = KubeApi::start().await;
    api.deny(
        "deployments",
        "shop",
        400,
        "admission webhook \"validate.kyverno.svc\" denied the request: images must come from registry.acme.io",
    );
    let tmp = tempfile::tempdir().unwrap();
    let kubeconfig = api.kubeconfig(tmp.path());
    let gitops = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/gitops");
    let out = run(&[
        "plan",
        "Deploy a web app called shop using image nginx:1.27 with 2 replicas in staging",
        "--repo",
        gitops.to_str().unwrap(),
        "--planner",
        "builtin",
        "--format",
        "json",
        "--cluster",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
    ])
    .await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}\n{:#?}\n{}",
        String::from_utf8_lossy(&out.stderr),
        api.requests(),
        String::from_utf8_lossy(&out.stdout)
    );
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let verdicts: Vec<(String, String, String)> = plan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == drift::DRY_RUN_RULE)
        .map(|f| {
            (
                f["severity"].as_str().unwrap().to_string(),
                f["resource"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(verdicts.len(), 3, "{verdicts:#?}");
    assert!(verdicts.contains(&(
        "error".into(),
        "Deployment/shop".into(),
        "400 BadRequest: admission webhook \"validate.kyverno.svc\" denied the request: images must come from registry.acme.io".into()
    )));
    assert!(verdicts.iter().filter(|v| v.0 == "info").count() == 2);
    assert_eq!(api.rejected(), Vec::<String>::new());
    let patches: Vec<String> = api
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("PATCH"))
        .collect();
    assert_eq!(patches.len(), 3);
    assert!(patches.contains(
        &"PATCH /apis/apps/v1/namespaces/shop/deployments/shop?&dryRun=All&fieldManager=gitintent&fieldValidation=Strict".to_string()
    ), "{patches:#?}");
}
