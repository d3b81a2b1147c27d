//! The built-in pack over one big mixed batch, pinned by a snapshot.
//!
//! The snapshot was taken with the pack and `PolicySet` as they were before
//! the policy gate was made fast (one session, every rule, every resource),
//! so it holds the fast path (kind dispatch, regex pre-filters, several
//! threads) to byte-identical findings: same rules, paths, messages, order.
//! The batch is big enough (over 128 resources) to be split across threads.

use std::path::Path;

use gitintent::manifest::File;
use gitintent::policy::{PolicySet, Settings};

/// Apps like those of `benches/policy.rs`: Deployment, Service, ConfigMap
/// and PodDisruptionBudget, some untagged, some with one replica.
fn apps(n: usize) -> String {
    let mut out = String::new();
    for i in 0..n {
        out.push_str(&format!(
            r#"---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: app-{i}, namespace: ns-{ns}, labels: {{app: app-{i}, team: t}}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: app-{i}}}}}
  template:
    metadata: {{labels: {{app: app-{i}}}}}
    spec:
      securityContext: {{runAsNonRoot: true, runAsUser: 1000}}
      containers:
        - name: app
          image: {image}
          resources: {{requests: {{cpu: 100m, memory: 64Mi}}, limits: {{cpu: 200m, memory: 128Mi}}}}
          readinessProbe: {{httpGet: {{path: /ready, port: 8080}}}}
          livenessProbe: {{httpGet: {{path: /live, port: 8080}}}}
          securityContext: {{allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {{drop: [ALL]}}}}
          env:
            - {{name: LOG_LEVEL, value: info}}
            - {{name: DB_PASSWORD, valueFrom: {{secretKeyRef: {{name: db, key: password}}}}}}
---
apiVersion: v1
kind: Service
metadata: {{name: app-{i}, namespace: ns-{ns}, labels: {{app: app-{i}{team}}}}}
spec:
  selector: {{app: app-{i}}}
  ports: [{{name: http, port: 80, targetPort: 8080}}]
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: app-{i}, namespace: ns-{ns}, labels: {{app: app-{i}, team: t}}}}
data: {{greeting: hello, url: "https://example.com/{i}"}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {{name: app-{pdb}, namespace: ns-{ns}, labels: {{app: app-{i}, team: t}}}}
spec: {{maxUnavailable: 1, selector: {{matchLabels: {{app: app-{pdb}}}}}}}
"#,
            ns = i % 10,
            replicas = 1 + i % 3,
            image = match i % 7 {
                0 => "nginx".to_string(),
                3 => format!("docker.io/acme/app-{i}:latest"),
                _ => format!("ghcr.io/acme/app-{i}:1.{i}.0"),
            },
            team = if i % 11 == 0 { "" } else { ", team: t" },
            pdb = if i % 5 == 0 { format!("other-{i}") } else { i.to_string() },
        ));
    }
    out
}

/// Resources that break the rules the apps do not: credentials of every
/// pattern, host namespaces, capabilities, init containers, Ingress TLS.
const ODD_ONES: &str = r#"---
apiVersion: v1
kind: Pod
metadata: {name: bad, labels: {team: t}}
spec:
  hostNetwork: true
  hostPID: true
  hostIPC: true
  volumes: [{name: root, hostPath: {path: /}}, {name: scratch, emptyDir: {}}]
  initContainers:
    - name: init
      image: busybox:latest
      securityContext: {privileged: true, capabilities: {add: [CAP_SYS_ADMIN, NET_ADMIN, chown]}}
  containers:
    - image: quay.io/x/y@sha256:0123
      env:
        - {name: API_TOKEN, value: abc}
        - {name: TOKEN_FILE, value: /run/token}
        - {name: UPSTREAM, value: "https://user:hunter2@db.example.com/x"}
        - {name: GH, value: ghp_0123456789abcdefghijklmnopqrstuvwxyz}
        - {name: SLACK, value: xoxb-1234567890-abcdef}
        - {name: AWS, value: AKIAABCDEFGHIJKLMNOP}
        - {name: my.access_key.v2, value: x}
        - {name: "", value: ""}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: creds, labels: {team: t}, annotations: {gitintent.io/waive: "plaintext-credential"}}
data:
  db_password: hunter2
  api-key-path: /etc/key
  key: "-----BEGIN RSA PRIVATE KEY-----"
  notes: "AKIA0123456789ABCDEF in a note"
  empty_secret: ""
  Credential_Name: ok
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: open, labels: {team: t}}
spec:
  rules: [{host: a.example.com}, {host: b.example.com}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: partial, labels: {team: t}}
spec:
  tls: [{hosts: [a.example.com], secretName: a}]
  rules: [{host: a.example.com}, {host: b.example.com}, {}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: data, labels: {team: t}}
spec:
  replicas: 3
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db, tier: data}}
    spec:
      containers: [{name: db, image: "postgres:16", securityContext: {runAsUser: 0}}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: data-tier, namespace: data}
spec:
  minAvailable: 1
  selector: {matchExpressions: [{key: tier, operator: In, values: [cache]}]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, labels: {team: t}}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: job, image: "ghcr.io/acme/job:1", resources: {limits: {cpu: 1}}}]
---
apiVersion: v1
kind: List
items:
  - {apiVersion: v1, kind: Namespace, metadata: {name: listed}}
  - {apiVersion: v1, kind: ServiceAccount, metadata: {name: listed, labels: {team: t}}}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: custom}
spec: {containers: [{name: not-a-pod}]}
"#;

/// Every Polaris fixture, one file each, in path order.
fn polaris() -> Vec<File> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/polaris-checks");
    let mut paths = Vec::new();
    for check in std::fs::read_dir(&root).expect("Polaris fixtures") {
        let check = check.unwrap().path();
        if !check.is_dir() {
            continue; // LICENSE
        }
        for file in std::fs::read_dir(check).unwrap() {
            let path = file.unwrap().path();
            if path.extension().is_some_and(|x| x == "yaml") {
                paths.push(path);
            }
        }
    }
    paths.sort();
    paths
        .into_iter()
        .map(|p| File {
            path: p.strip_prefix(&root).unwrap().display().to_string(),
            content: std::fs::read_to_string(&p).unwrap(),
        })
        .collect()
}

fn render(findings: &[gitintent::Finding]) -> String {
    findings
        .iter()
        .map(|f| format!("{} {f}\n", f.file.as_deref().unwrap_or("-")))
        .collect()
}

#[test]
fn a_big_mixed_batch_gives_the_same_findings_as_before() {
    let mut files = vec![File {
        path: "apps.yaml".into(),
        content: format!("{}{ODD_ONES}", apps(60)),
    }];
    files.extend(polaris());
    let settings = Settings {
        environment: "production".into(),
        required_labels: vec!["team".into()],
        allowed_registries: vec!["ghcr.io/acme".into(), "quay.io/x/".into()],
        ..Settings::default()
    };
    let set = PolicySet::builtin().unwrap();
    let findings = set.check(&files, &settings);
    insta::assert_snapshot!("builtin_batch_production", render(&findings));

    let findings = set.check(&files, &Settings::default());
    insta::assert_snapshot!("builtin_batch_defaults", render(&findings));
}
