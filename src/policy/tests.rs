//! Unit tests of the built-in pack and of [`PolicySet`] over small resources.

use super::*;
use crate::finding::Severity;

fn prod() -> Settings {
    Settings {
        environment: "production".into(),
        ..Settings::default()
    }
}

fn check(yaml: &str, settings: &Settings) -> Vec<Finding> {
    let files = [File {
        path: "t.yaml".into(),
        content: yaml.into(),
    }];
    PolicySet::builtin().unwrap().check(&files, settings)
}

fn rules(findings: &[Finding], severity: Severity) -> Vec<String> {
    let mut r: Vec<String> = findings
        .iter()
        .filter(|f| f.severity == severity)
        .map(|f| f.rule.clone())
        .collect();
    r.sort();
    r.dedup();
    r
}

const GOOD: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, labels: {app: web, team: a}}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      securityContext: {runAsNonRoot: true}
      containers:
        - name: web
          image: ghcr.io/acme/web:1.2.3
          resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {cpu: 200m, memory: 128Mi}}
          readinessProbe: {httpGet: {path: /, port: 8080}}
          livenessProbe: {httpGet: {path: /, port: 8080}}
          securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
          env:
            - {name: GREETING, value: hello}
            - {name: DB_PASSWORD, valueFrom: {secretKeyRef: {name: db, key: password}}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: shop, labels: {app: web, team: a}}
spec: {maxUnavailable: 1, selector: {matchLabels: {app: web}}}
"#;

#[test]
fn a_hardened_deployment_with_a_pdb_has_no_findings() {
    let settings = Settings {
        required_labels: vec!["team".into()],
        allowed_registries: vec!["ghcr.io/acme".into()],
        ..prod()
    };
    let findings = check(GOOD, &settings);
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn an_insecure_pod_breaks_every_rule_it_should() {
    let yaml = r#"
apiVersion: v1
kind: Pod
metadata: {name: bad}
spec:
  hostNetwork: true
  hostPID: true
  hostIPC: true
  volumes: [{name: h, hostPath: {path: /var}}]
  containers:
    - name: c
      image: nginx
      securityContext: {privileged: true, capabilities: {add: [sys_admin]}}
      env: [{name: API_TOKEN, value: abc}]
"#;
    let settings = Settings {
        required_labels: vec!["team".into()],
        allowed_registries: vec!["ghcr.io".into()],
        ..Settings::default()
    };
    let findings = check(yaml, &settings);
    assert_eq!(
        rules(&findings, Severity::Error),
        [
            "cpu-limits",
            "cpu-requests",
            "dangerous-capabilities",
            "host-ipc",
            "host-network",
            "host-path",
            "host-pid",
            "image-registry",
            "image-tag",
            "memory-limits",
            "memory-requests",
            "plaintext-credential",
            "privilege-escalation",
            "privileged",
            "required-labels",
            "run-as-non-root"
        ]
    );
    assert_eq!(
        rules(&findings, Severity::Warning),
        ["liveness-probe", "read-only-root-filesystem", "readiness-probe"]
    );
    let tag = findings.iter().find(|f| f.rule == "image-tag").unwrap();
    assert_eq!(tag.resource, "Pod/bad");
    assert_eq!(tag.path, "/spec/containers/0/image");
    assert_eq!(tag.file.as_deref(), Some("t.yaml"));
}

#[test]
fn availability_rules_apply_only_in_production() {
    let yaml = GOOD
        .split("---")
        .next()
        .unwrap()
        .replace("replicas: 3", "replicas: 2");
    assert!(check(&yaml, &Settings::default()).is_empty());
    assert_eq!(
        rules(&check(&yaml, &prod()), Severity::Error),
        ["pod-disruption-budget"]
    );
    let one = yaml.replace("replicas: 2", "replicas: 1");
    let f = check(&one, &prod());
    assert_eq!(rules(&f, Severity::Warning), ["replicas"]);
    assert!(rules(&f, Severity::Error).is_empty());
    let ingress = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web}\nspec:\n  rules: [{host: a.example.com}]\n";
    assert!(check(ingress, &Settings::default()).is_empty());
    assert_eq!(check(ingress, &prod())[0].path, "/spec/tls");
    let partial = format!("{ingress}  tls: [{{hosts: [b.example.com], secretName: t}}]\n");
    assert_eq!(check(&partial, &prod())[0].path, "/spec/rules/0/host");
}

#[test]
fn cronjob_pod_specs_are_found_and_probes_not_required() {
    let yaml = r#"
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 1 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: job, image: "busybox:latest"}]
"#;
    let f = check(yaml, &Settings::default());
    let tag = f.iter().find(|f| f.rule == "image-tag").unwrap();
    assert_eq!(
        tag.path,
        "/spec/jobTemplate/spec/template/spec/containers/0/image"
    );
    assert!(!f.iter().any(|f| f.rule.ends_with("-probe")), "{f:#?}");
}

#[test]
fn credentials_in_configmaps_are_flagged() {
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  db_password: hunter2\n  url: postgres://u:pw@db/x\n  greeting: hi\n  token_file: /run/token\n";
    let f = check(yaml, &Settings::default());
    let paths: Vec<&str> = f.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["/data/db_password", "/data/url"]);
}

#[test]
fn waivers_downgrade_builtin_findings() {
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations: {gitintent.io/waive: plaintext-credential, gitintent.io/waive-reason: test fixture}\ndata: {db_password: hunter2}\n";
    let f = check(yaml, &Settings::default());
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity, Severity::Info);
}

#[test]
fn a_policy_set_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<PolicySet>();
}

/// A stream well over the size at which it is cut into runs.
fn big_stream() -> String {
    (0..4000)
        .map(|i| format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c-{i}, labels: {{n: \"{i}\"}}}}\ndata: {{k: \"--- not a marker\", text: |\n    ---x\n    line {i}\n}}\n"))
        .collect()
}

#[test]
fn big_streams_are_parsed_in_runs_with_the_same_result() {
    let text = big_stream();
    assert!(text.len() > 2 * 256 * 1024);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runs = runs_of_documents(&text);
    assert_eq!(runs.len(), cores.min(text.len() / (256 * 1024)).max(1));
    assert_eq!(runs.concat(), text);
    assert!(runs.iter().all(|r| r.starts_with("---\n")));
    assert_eq!(parse_stream(&text).unwrap(), parse_yaml(&text).unwrap());
}

#[test]
fn a_broken_document_in_a_big_stream_fails_the_whole_file_as_before() {
    let mut text = big_stream();
    text.push_str("---\nkind: ConfigMap\nmetadata: {name: [broken\n");
    let fast = parse_stream(&text).unwrap_err().to_string();
    assert_eq!(fast, parse_yaml(&text).unwrap_err().to_string());
}
