//! Unit tests of the built-in pack and of [`PolicySet`] over small resources.

use super::*;
use crate::finding::Severity;
use crate::repo::RepoConfig;

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
fn a_repeated_key_does_not_hide_a_file_from_the_policies() {
    // Read as validation reads it: the last value wins (validation reports
    // the repeated key as an error with its line); before, the whole file
    // was skipped with a `policy-skipped` warning.
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  greeting: hi\n  db_password: a\n  db_password: hunter2\n";
    let f = check(yaml, &Settings::default());
    assert!(!f.iter().any(|f| f.rule == "policy-skipped"), "{f:#?}");
    let paths: Vec<&str> = f.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["/data/db_password"]);
}

#[test]
fn a_flow_list_closed_at_its_key_column_is_checked_like_any_other() {
    // libyaml (kubectl) accepts the `]` at the key's column; so do the policies.
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {\n  db_password: hunter2\n}\n";
    let f = check(yaml, &Settings::default());
    let paths: Vec<&str> = f.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["/data/db_password"], "{f:#?}");
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
    assert_eq!(parse_stream(&text).unwrap(), crate::yaml::values(&text).unwrap());
}

#[test]
fn a_broken_document_in_a_big_stream_fails_the_whole_file_as_before() {
    let mut text = big_stream();
    text.push_str("---\nkind: ConfigMap\nmetadata: {name: [broken\n");
    let fast = parse_stream(&text).unwrap_err().to_string();
    assert_eq!(fast, crate::yaml::values(&text).unwrap_err().to_string());
}

#[test]
fn rego_rules_in_a_package_not_selected_are_reported_not_dropped() {
    let set = PolicySet::empty()
        .with_source(
            "org.rego",
            "package org.k8s\n\ndeny contains msg if {\n  input.kind == \"Pod\"\n  msg := \"no\"\n}\n",
        )
        .unwrap()
        .with_source(
            "lib.rego",
            "package lib.util\n\nis_pod if input.kind == \"Pod\"\n",
        )
        .unwrap();
    let pod = serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}});
    let findings = set.check_documents(&[(None, &pod)], &Settings::default());
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(
        (
            findings[0].severity,
            findings[0].rule.as_str(),
            findings[0].file.as_deref()
        ),
        (Severity::Warning, "rego-unselected", Some("org.rego"))
    );
    let selected = Settings {
        namespaces: vec!["org.k8s".into()],
        ..Settings::default()
    };
    let findings = set.check_documents(&[(None, &pod)], &selected);
    assert_eq!(rules(&findings, Severity::Error), vec!["org.k8s".to_string()]);
    assert!(rules(&findings, Severity::Warning).is_empty());
}

#[test]
fn gatekeeper_constraints_use_their_template_parameters_and_match() {
    let template = "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata: {name: k8srequiredlabels}\nspec:\n  crd: {spec: {names: {kind: K8sRequiredLabels}}}\n  targets:\n    - target: admission.k8s.gatekeeper.sh\n      libs:\n        - |\n          package lib.labels\n          missing(obj, key) { not obj.metadata.labels[key] }\n      rego: |\n        package k8srequiredlabels\n        import data.lib.labels\n        violation[{\"msg\": msg}] {\n          key := input.parameters.labels[_]\n          labels.missing(input.review.object, key)\n          msg := sprintf(\"missing label %v\", [key])\n        }\n";
    let constraint = "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sRequiredLabels\nmetadata: {name: need-team}\nspec:\n  enforcementAction: warn\n  match:\n    kinds: [{apiGroups: [''], kinds: [Pod]}]\n    excludedNamespaces: [kube-system]\n  parameters: {labels: [team, tier]}\n";
    let set = PolicySet::empty()
        .with_source("c.yaml", constraint)
        .unwrap()
        .with_source("t.yaml", template)
        .unwrap();
    let pod = |ns: &str| {
        serde_json::json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": ns, "labels": {"team": "a"}}})
    };
    let findings = set.check_documents(&[(None, &pod("shop"))], &Settings::default());
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(
        (
            findings[0].severity,
            findings[0].rule.as_str(),
            findings[0].message.as_str()
        ),
        (
            Severity::Warning,
            "K8sRequiredLabels/need-team",
            "missing label tier"
        )
    );
    assert!(set
        .check_documents(&[(None, &pod("kube-system"))], &Settings::default())
        .is_empty());
    let err = PolicySet::empty()
        .with_source("t.yaml", &template.replace("violation[", "violation[[["))
        .unwrap_err();
    assert!(
        matches!(err, Error::Rego { ref file, .. } if file == "t.yaml"),
        "{err}"
    );
}

#[test]
fn a_constraint_its_template_schema_rejects_is_an_error_naming_file_and_line() {
    let template = "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata: {name: t}\nspec:\n  crd:\n    spec:\n      names: {kind: K8sMax}\n      validation:\n        openAPIV3Schema:\n          type: object\n          properties: {max: {type: integer}}\n  targets:\n    - target: admission.k8s.gatekeeper.sh\n      rego: |\n        package k8smax\n        violation[{\"msg\": \"too many\"}] { input.review.object.spec.replicas > input.parameters.max }\n";
    let constraint = "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sMax\nmetadata: {name: m}\nspec:\n  parameters:\n    max: three\n";
    let set = PolicySet::empty()
        .with_source("t.yaml", template)
        .unwrap()
        .with_source("c.yaml", constraint)
        .unwrap();
    let findings = set.check_documents(&[], &Settings::default());
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(
        (f.severity, f.rule.as_str()),
        (Severity::Error, "gatekeeper-invalid")
    );
    assert!(
        f.message.starts_with("c.yaml:5:3: ") && f.message.contains("/max"),
        "{}",
        f.message
    );
}

#[test]
fn policy_keys_become_settings() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
            dir.path().join(".gitintent.yaml"),
            "required-labels: [team, cost-center]\nallowed-registries: [ghcr.io/acme]\npolicy-namespaces: [main, org.rules]\n",
        )
        .unwrap();
    let settings = Settings::for_repo(&RepoConfig::load(dir.path()).unwrap(), "production");
    assert_eq!(settings.required_labels, ["team", "cost-center"]);
    assert_eq!(settings.allowed_registries, ["ghcr.io/acme"]);
    assert_eq!(settings.namespaces, ["main", "org.rules"]);
    assert!(settings.is_production());
    let defaults = Settings::for_repo(&RepoConfig::default(), "dev");
    assert_eq!(defaults.namespaces, ["main"]);
}
