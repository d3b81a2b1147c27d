//! Day-2 changes against real temporary repositories, including manifests
//! from `../shared/data/gitops-repos/podinfo-deploy`.

use std::collections::BTreeMap;

use super::*;
use crate::repo::testing::repo_with;
use crate::repo::{Index, IndexCache, Snapshot};
use crate::spec::{Change, Exposure, Operation, Quantities, Resources, Spec, Update};

const SHARED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/gitops-repos/podinfo-deploy"
);

fn podinfo(path: &str) -> String {
    std::fs::read_to_string(format!("{SHARED}/{path}")).unwrap()
}

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
          resources: {}
";

const API_SERVICE: &str = "\
apiVersion: v1
kind: Service
metadata:
  name: api-gateway
  namespace: edge
spec:
  selector:
    app.kubernetes.io/name: api-gateway
  ports:
    - name: http
      port: 80
      targetPort: 8080
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
---
apiVersion: v1
kind: Service
metadata:
  name: memcached
  namespace: cache
spec:
  selector: {app: memcached}
  ports: [{port: 11211}]
";

struct Repo {
    _dir: tempfile::TempDir,
    inventory: Inventory,
}

fn repo(files: &[(&str, &str)]) -> Repo {
    let dir = tempfile::tempdir().unwrap();
    repo_with(dir.path(), "main", files, true);
    let snapshot = Snapshot::open_base(dir.path(), None).unwrap();
    let index = Index::build(&snapshot, &mut IndexCache::new()).unwrap();
    let envs = index.conventions().environments;
    let inventory = Inventory::build(&snapshot, &index, &envs).unwrap();
    Repo { _dir: dir, inventory }
}

fn shop() -> Repo {
    repo(&[
        (
            "clusters/production/apps/kustomization.yaml",
            "resources:\n  - api-gateway\n",
        ),
        (
            "clusters/production/apps/api-gateway/kustomization.yaml",
            "resources:\n  - deployment.yaml\n  - service.yaml\n",
        ),
        ("clusters/production/apps/api-gateway/deployment.yaml", API),
        ("clusters/production/apps/api-gateway/service.yaml", API_SERVICE),
        (
            "clusters/staging/apps/kustomization.yaml",
            "# staging apps\nresources:\n  - memcached # session cache\n  - orders-worker\n",
        ),
        (
            "clusters/staging/apps/memcached/kustomization.yaml",
            "resources: [memcached.yaml]\n",
        ),
        ("clusters/staging/apps/memcached/memcached.yaml", MEMCACHED),
        (
            "clusters/staging/apps/orders-worker/worker.yaml",
            &API.replace("api-gateway", "orders-worker")
                .replace("edge", "orders"),
        ),
    ])
}

fn spec(environment: &str, change: Change) -> Spec {
    Spec {
        environment: environment.into(),
        namespace: "default".into(),
        components: vec![],
        changes: vec![change],
        assumptions: vec![],
        questions: vec![],
    }
}

fn update(target: &str, set: Update) -> Change {
    Change {
        operation: Operation::Update,
        target: target.into(),
        kind: None,
        set: Some(set),
    }
}

fn delete(target: &str) -> Change {
    Change {
        operation: Operation::Delete,
        target: target.into(),
        kind: None,
        set: None,
    }
}

fn run(repo: &Repo, spec: &Spec, scope: Scope<'_>) -> Result<Outcome, Error> {
    apply(spec, &repo.inventory, scope, &BTreeMap::new())
}

/// The lines of `new` that are not in `old`, and the other way round.
fn line_diff(old: &str, new: &str) -> (Vec<String>, Vec<String>) {
    let diff = similar::TextDiff::from_lines(old, new);
    let mut added = Vec::new();
    let mut removed = Vec::new();
    for change in diff.iter_all_changes() {
        match change.tag() {
            similar::ChangeTag::Insert => added.push(change.value().trim_end().to_string()),
            similar::ChangeTag::Delete => removed.push(change.value().trim_end().to_string()),
            similar::ChangeTag::Equal => {}
        }
    }
    (added, removed)
}

#[test]
fn scaling_changes_one_line_and_keeps_its_comment() {
    let repo = shop();
    let set = Update {
        replicas: Some(5),
        ..Update::default()
    };
    let out = run(
        &repo,
        &spec("production", update("api-gateway", set)),
        Scope::Stated("production"),
    )
    .unwrap();
    assert_eq!(
        out.modified,
        ["clusters/production/apps/api-gateway/deployment.yaml"]
    );
    assert!(out.deleted.is_empty() && out.created.is_empty());
    let (added, removed) = line_diff(API, &out.files[0].content);
    assert_eq!(added, ["  replicas: 5 # raised for the autumn sale"]);
    assert_eq!(removed, ["  replicas: 3 # raised for the autumn sale"]);
    assert_eq!(out.applied[0].target, "Deployment/api-gateway");
    assert_eq!(out.applied[0].namespace, "edge");
}

#[test]
fn resources_are_added_under_an_empty_flow_mapping() {
    let repo = shop();
    let memory = Quantities {
        cpu: None,
        memory: Some("1Gi".into()),
    };
    let set = Update {
        resources: Some(Resources {
            requests: memory.clone(),
            limits: memory,
        }),
        ..Update::default()
    };
    let out = run(
        &repo,
        &spec("staging", update("orders-worker", set)),
        Scope::Stated("staging"),
    )
    .unwrap();
    let new = &out.files[0].content;
    assert!(
        new.contains("          resources:\n            requests:\n              memory: 1Gi\n            limits:\n              memory: 1Gi\n"),
        "{new}"
    );
    let parsed: serde_json::Value = serde_saphyr::from_str(new).unwrap();
    let c = &parsed["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["resources"]["limits"]["memory"], "1Gi");
    assert!(new.starts_with("# The public API gateway."));
}

#[test]
fn an_image_bump_on_a_commented_podinfo_cronjob_changes_only_the_image_line() {
    let cron = podinfo("bases/database/cronjob-backup-daily.yaml");
    let repo = repo(&[(
        "clusters/production/apps/database/cronjob-backup-daily.yaml",
        &cron,
    )]);
    let set = Update {
        image: Some("ghcr.io/stefanprodan/podinfo:6.15.0".into()),
        ..Update::default()
    };
    let out = run(
        &repo,
        &spec("production", update("backup-daily", set)),
        Scope::Stated("production"),
    )
    .unwrap();
    let (added, removed) = line_diff(&cron, &out.files[0].content);
    assert_eq!(added, ["            image: ghcr.io/stefanprodan/podinfo:6.15.0"]);
    assert_eq!(
        removed,
        ["            image: ghcr.io/stefanprodan/podinfo:6.14.1"]
    );
    assert!(out.files[0]
        .content
        .contains("  # Runs every day at midnight for 1 minute\n"));
    assert!(out.files[0].content.contains("      # Cleanup after 1 day\n"));
}

#[test]
fn podinfo_resources_change_only_the_memory_lines() {
    let deploy = podinfo("bases/backend/deployment.yaml");
    let repo = repo(&[("clusters/production/apps/backend/deployment.yaml", &deploy)]);
    let set = Update {
        resources: Some(Resources {
            requests: Quantities {
                cpu: None,
                memory: Some("256Mi".into()),
            },
            limits: Quantities {
                cpu: None,
                memory: Some("1Gi".into()),
            },
        }),
        ..Update::default()
    };
    let out = run(
        &repo,
        &spec("production", update("backend", set)),
        Scope::Stated("production"),
    )
    .unwrap();
    let (mut added, mut removed) = line_diff(&deploy, &out.files[0].content);
    added.sort();
    removed.sort();
    assert_eq!(added, ["            memory: 1Gi", "            memory: 256Mi"]);
    assert_eq!(removed, ["            memory: 32Mi", "            memory: 512Mi"]);
}

fn podinfo_overlays() -> Repo {
    let mut files: Vec<(String, String)> = Vec::new();
    for path in [
        "bases/backend/deployment.yaml",
        "bases/backend/service.yaml",
        "bases/backend/hpa.yaml",
        "bases/backend/kustomization.yaml",
        "overlays/dev/kustomization.yaml",
        "overlays/staging/kustomization.yaml",
        "overlays/production/kustomization.yaml",
    ] {
        files.push((path.to_string(), podinfo(path)));
    }
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    repo(&refs)
}

#[test]
fn a_podinfo_base_shared_by_three_overlays_is_patched_in_one() {
    let repo = podinfo_overlays();
    let w = repo
        .inventory
        .workloads()
        .iter()
        .find(|w| w.name == "backend")
        .unwrap();
    assert_eq!(w.environments, ["dev", "production", "staging"]);
    assert_eq!(w.namespace, "");
    let set = Update {
        replicas: Some(3),
        image: Some("ghcr.io/stefanprodan/podinfo:6.15.0".into()),
        ..Update::default()
    };
    let out = run(
        &repo,
        &spec("production", update("backend", set)),
        Scope::Stated("production"),
    )
    .unwrap();
    assert_eq!(out.created, ["overlays/production/backend-patch.yaml"]);
    assert_eq!(out.modified, ["overlays/production/kustomization.yaml"]);
    let by_path: BTreeMap<&str, &str> = out
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.content.as_str()))
        .collect();
    assert_eq!(
        by_path["overlays/production/backend-patch.yaml"],
        "# Changes for this environment only; the base is bases/backend/deployment.yaml.\n\
         apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: backend\n\
         spec:\n  template:\n    spec:\n      containers:\n        - name: backend\n          image: ghcr.io/stefanprodan/podinfo:6.15.0\n  replicas: 3\n"
    );
    let overlay = podinfo("overlays/production/kustomization.yaml");
    assert_eq!(
        by_path["overlays/production/kustomization.yaml"],
        format!("{overlay}patches:\n  - path: backend-patch.yaml\n")
    );
    // What production runs, for validation: the base with the patch merged in.
    let (before, after) = &out.merged[0];
    let before: serde_json::Value = serde_json::from_str(&before.content).unwrap();
    let after: serde_json::Value = serde_json::from_str(&after.content).unwrap();
    assert_eq!(before["spec"]["replicas"], serde_json::Value::Null);
    assert_eq!(after["spec"]["replicas"], 3);
    let c = &after["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["image"], "ghcr.io/stefanprodan/podinfo:6.15.0");
    assert_eq!(
        c["ports"][0]["containerPort"], 9898,
        "the rest of the base is kept"
    );
}

#[test]
fn a_shared_base_is_not_deleted_for_one_environment() {
    let repo = podinfo_overlays();
    let err = run(
        &repo,
        &spec("production", delete("backend")),
        Scope::Stated("production"),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Shared { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("bases/backend/deployment.yaml") && message.contains("dev, production, staging"),
        "{message}"
    );
}

#[test]
fn scaling_under_an_hpa_warns_that_the_hpa_decides() {
    let repo = repo(&[
        (
            "apps/production/backend/deployment.yaml",
            &podinfo("bases/backend/deployment.yaml"),
        ),
        (
            "apps/production/backend/hpa.yaml",
            &podinfo("bases/backend/hpa.yaml"),
        ),
    ]);
    let set = Update {
        replicas: Some(4),
        ..Update::default()
    };
    let out = run(
        &repo,
        &spec("production", update("backend", set)),
        Scope::Stated("production"),
    )
    .unwrap();
    // The podinfo deployment has no replicas: the key is added under spec.
    assert!(out.files[0].content.contains("spec:\n  minReadySeconds: 3\n"));
    let parsed: serde_json::Value = serde_saphyr::from_str(&out.files[0].content).unwrap();
    assert_eq!(parsed["spec"]["replicas"], 4);
    assert_eq!(out.findings[0].rule, "replicas-managed-by-hpa");
    assert!(
        out.findings[0].message.contains("between 1 and 2"),
        "{}",
        out.findings[0].message
    );
}

#[test]
fn an_unknown_target_lists_the_closest_matches_and_creates_nothing() {
    let repo = shop();
    let set = Update {
        replicas: Some(2),
        ..Update::default()
    };
    let err = run(
        &repo,
        &spec("production", update("api-gatway", set)),
        Scope::Stated("production"),
    )
    .unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with("no workload named \"api-gatway\" in production; closest matches:"),
        "{message}"
    );
    assert!(
        message.contains(
            "Deployment/api-gateway in namespace edge (clusters/production/apps/api-gateway/deployment.yaml)"
        ),
        "{message}"
    );
    assert!(err.is_bad_target());
}

#[test]
fn a_target_in_another_environment_is_named_not_guessed() {
    let repo = shop();
    let err = run(
        &repo,
        &spec("production", delete("memcached")),
        Scope::Stated("production"),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "memcached is not in production; it is in staging: say that environment, or pick a workload of production"
    );
    // When the environment was only assumed, the target's own is used.
    let out = run(
        &repo,
        &spec("production", delete("memcached")),
        Scope::Assumed("production"),
    )
    .unwrap();
    assert_eq!(out.environment.as_deref(), Some("staging"));
}

#[test]
fn without_a_repository_a_change_says_so() {
    let err = apply(
        &spec("production", delete("redis")),
        &Inventory::default(),
        Scope::Stated("production"),
        &BTreeMap::new(),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("there is no repository to look it up in"),
        "{err}"
    );
}

#[test]
fn the_same_name_in_two_namespaces_is_ambiguous_until_one_is_named() {
    let other = API.replace("namespace: edge", "namespace: partners");
    let repo = repo(&[
        ("clusters/production/edge/api-gateway.yaml", API),
        ("clusters/production/partners/api-gateway.yaml", &other),
    ]);
    let set = Update {
        replicas: Some(2),
        ..Update::default()
    };
    let mut s = spec("production", update("api-gateway", set));
    let err = run(&repo, &s, Scope::Stated("production")).unwrap_err();
    assert!(matches!(err, Error::Ambiguous { .. }), "{err}");
    assert!(err.to_string().contains("namespace partners"), "{err}");
    s.namespace = "partners".into();
    let out = run(&repo, &s, Scope::Stated("production")).unwrap();
    assert_eq!(out.modified, ["clusters/production/partners/api-gateway.yaml"]);
}

#[test]
fn deleting_an_app_directory_removes_it_and_unwires_it_keeping_comments() {
    let repo = shop();
    let out = run(
        &repo,
        &spec("staging", delete("memcached")),
        Scope::Stated("staging"),
    )
    .unwrap();
    assert_eq!(
        out.deleted,
        [
            "clusters/staging/apps/memcached/kustomization.yaml",
            "clusters/staging/apps/memcached/memcached.yaml"
        ]
    );
    assert_eq!(out.modified, ["clusters/staging/apps/kustomization.yaml"]);
    assert_eq!(
        out.files[0].content,
        "# staging apps\nresources:\n  - orders-worker\n"
    );
}

#[test]
fn deleting_keeps_the_volume_claim() {
    let claim = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: memcached-data\n  namespace: cache\nspec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: 1Gi\n";
    let repo = repo(&[
        (
            "clusters/staging/apps/kustomization.yaml",
            "resources:\n  - memcached\n",
        ),
        (
            "clusters/staging/apps/memcached/kustomization.yaml",
            "resources:\n  - memcached.yaml\n  - pvc.yaml\n",
        ),
        ("clusters/staging/apps/memcached/memcached.yaml", MEMCACHED),
        ("clusters/staging/apps/memcached/pvc.yaml", claim),
    ]);
    let out = run(
        &repo,
        &spec("staging", delete("memcached")),
        Scope::Stated("staging"),
    )
    .unwrap();
    assert_eq!(out.deleted, ["clusters/staging/apps/memcached/memcached.yaml"]);
    assert_eq!(
        out.modified,
        ["clusters/staging/apps/memcached/kustomization.yaml"]
    );
    assert_eq!(out.files[0].content, "resources:\n  - pvc.yaml\n");
    assert_eq!(out.findings[0].rule, "volume-kept");
}

#[test]
fn deleting_one_of_two_workloads_in_a_file_keeps_the_other() {
    let both = format!("{API}---\n{}", MEMCACHED.split("---\n").next().unwrap());
    let repo = repo(&[("clusters/production/apps/platform.yaml", &both)]);
    let out = run(
        &repo,
        &spec("production", delete("memcached")),
        Scope::Stated("production"),
    )
    .unwrap();
    assert!(out.deleted.is_empty());
    assert_eq!(out.files[0].content, API);
}

#[test]
fn expose_adds_an_ingress_for_the_service_and_lists_it() {
    let repo = shop();
    let set = Update {
        exposure: Some(Exposure {
            host: Some("api.example.com".into()),
            path: None,
            tls: true,
        }),
        ..Update::default()
    };
    let out = run(
        &repo,
        &spec("production", update("api-gateway", set)),
        Scope::Stated("production"),
    )
    .unwrap();
    assert_eq!(out.created, ["clusters/production/apps/api-gateway/ingress.yaml"]);
    assert_eq!(
        out.modified,
        ["clusters/production/apps/api-gateway/kustomization.yaml"]
    );
    let by_path: BTreeMap<&str, &str> = out
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.content.as_str()))
        .collect();
    assert_eq!(
        by_path["clusters/production/apps/api-gateway/kustomization.yaml"],
        "resources:\n  - deployment.yaml\n  - service.yaml\n  - ingress.yaml\n"
    );
    let ingress: serde_json::Value =
        serde_saphyr::from_str(by_path["clusters/production/apps/api-gateway/ingress.yaml"]).unwrap();
    assert_eq!(ingress["metadata"]["namespace"], "edge");
    assert_eq!(ingress["spec"]["rules"][0]["host"], "api.example.com");
    assert_eq!(ingress["spec"]["tls"][0]["secretName"], "api-gateway-tls");
    let backend = &ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"];
    assert_eq!(backend["name"], "api-gateway");
    assert_eq!(backend["port"]["name"], "http");
}

#[test]
fn expose_without_a_service_is_refused() {
    let repo = shop();
    let set = Update {
        exposure: Some(Exposure {
            host: Some("orders.example.com".into()),
            path: None,
            tls: false,
        }),
        ..Update::default()
    };
    let err = run(
        &repo,
        &spec("staging", update("orders-worker", set)),
        Scope::Stated("staging"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("there is no Service for it"), "{err}");
}

#[test]
fn a_sidecar_makes_the_container_a_question() {
    let two = API.replace(
        "          resources: {}\n",
        "          resources: {}\n        - name: envoy\n          image: envoyproxy/envoy:v1.31.0\n",
    );
    let repo = repo(&[(
        "clusters/production/apps/api/deployment.yaml",
        &two.replace("name: api-gateway\n  namespace", "name: api\n  namespace"),
    )]);
    let bump = |image: &str| Update {
        image: Some(image.into()),
        ..Update::default()
    };
    // The new image's repository picks the container.
    let out = run(
        &repo,
        &spec("production", update("api", bump("envoyproxy/envoy:v1.32.0"))),
        Scope::Stated("production"),
    )
    .unwrap();
    assert!(out.files[0].content.contains("image: envoyproxy/envoy:v1.32.0\n"));
    assert!(out.files[0]
        .content
        .contains("image: ghcr.io/acme/api-gateway:1.4.0"));
    let err = run(
        &repo,
        &spec("production", update("api", bump("busybox:1.36"))),
        Scope::Stated("production"),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("several containers (api-gateway, envoy)"),
        "{err}"
    );
}

#[test]
fn a_binary_file_next_to_a_workload_is_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let git = git2::Repository::init_bare(dir.path()).unwrap();
    let files = vec![
        (
            "clusters/production/apps/api-gateway/deployment.yaml".to_string(),
            API.as_bytes().to_vec(),
        ),
        (
            "clusters/production/apps/api-gateway/logo.png".to_string(),
            vec![0x89, b'P', b'N', b'G', 0xff, 0x00],
        ),
    ];
    crate::repo::commit_files(&git, "refs/heads/main", &files, "init").unwrap();
    let snapshot = Snapshot::open_base(dir.path(), None).unwrap();
    let index = Index::build(&snapshot, &mut IndexCache::new()).unwrap();
    let inventory = Inventory::build(&snapshot, &index, &["production".to_string()]).unwrap();
    assert_eq!(inventory.workloads().len(), 1);
    assert!(inventory
        .text("clusters/production/apps/api-gateway/logo.png")
        .is_none());
}
