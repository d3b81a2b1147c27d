//! Day-2 changes against real temporary repositories, including manifests
//! from `tests/fixtures/gitops-repos/podinfo-deploy`.

use std::collections::BTreeMap;

use super::*;
use crate::repo::testing::repo_with;
use crate::repo::{Index, IndexCache, Snapshot};
use crate::spec::{Change, Exposure, Operation, Quantities, Resources, Spec, Update};

const SHARED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/gitops-repos/podinfo-deploy"
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
        environments: vec![],
        namespace: "default".into(),
        components: vec![],
        changes: vec![change],
        assumptions: vec![],
        questions: vec![],
        unsupported: vec![],
    }
}

fn update(target: &str, set: Update) -> Change {
    Change {
        operation: Operation::Update,
        promote: None,
        target: target.into(),
        kind: None,
        set: Some(set),
    }
}

fn delete(target: &str) -> Change {
    Change {
        operation: Operation::Delete,
        promote: None,
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

mod delete;
mod expose;
mod helm;
mod promote;
mod resolve;
mod update;
