//! Unit tests of CEL policies: Kyverno `ValidatingPolicy` and
//! `ValidatingAdmissionPolicy` with bindings and params, through
//! [`PolicySet`] as the gate uses them.

use crate::finding::{Finding, Severity};
use crate::policy::{Error, PolicySet, Settings};
use serde_json::{json, Value};

fn check(policies: &str, resources: &[Value]) -> Vec<Finding> {
    let set = PolicySet::empty().with_source("policies.yaml", policies).unwrap();
    let docs: Vec<(Option<&str>, &Value)> = resources.iter().map(|d| (Some("app.yaml"), d)).collect();
    set.check_documents(&docs, &Settings::default())
}

fn pod(name: &str, image: &str, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "apps", "labels": labels},
        "spec": {"containers": [{"name": "c", "image": image}]}})
}

const VPOL: &str = r#"
apiVersion: policies.kyverno.io/v1
kind: ValidatingPolicy
metadata:
  name: tagged
spec:
  validationActions: [Deny]
  matchConstraints:
    resourceRules:
      - apiGroups: [""]
        apiVersions: [v1]
        operations: [CREATE, UPDATE]
        resources: [pods]
  variables:
    - name: images
      expression: "object.spec.containers.map(c, c.image)"
  validations:
    - expression: "variables.images.all(i, i.contains(':') && !i.endsWith(':latest'))"
      messageExpression: "'untagged images: ' + variables.images.filter(i, !i.contains(':')).join(', ')"
"#;

#[test]
fn validating_policy_denies_failing_pods_and_their_controllers() {
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "apps"},
        "spec": {"template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}});
    let findings = check(
        VPOL,
        &[
            pod("good", "nginx:1.27", json!({})),
            pod("bad", "nginx", json!({})),
            deployment,
        ],
    );
    let hits: Vec<(&str, &str, Severity)> = findings
        .iter()
        .map(|f| (f.resource.as_str(), f.rule.as_str(), f.severity))
        .collect();
    assert_eq!(
        hits,
        [
            ("Pod/bad", "tagged/validations[0]", Severity::Error),
            ("Deployment/d", "tagged/validations[0]", Severity::Error)
        ]
    );
    assert_eq!(findings[0].message, "untagged images: nginx");
}

#[test]
fn audit_actions_warn_and_failed_expressions_never_pass() {
    let policy = VPOL
        .replace("[Deny]", "[Audit]")
        .replace("i.contains(':')", "i.contains(1)");
    let findings = check(&policy, &[pod("p", "nginx:1", json!({}))]);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].severity, Severity::Warning);
    assert!(
        findings[0].message.contains("failed to evaluate"),
        "{}",
        findings[0].message
    );
}

#[test]
fn functions_the_interpreter_lacks_are_reported_not_passed() {
    let policy = VPOL.replace("i.contains(':')", "url(i).getHost() != ''");
    let findings = check(&policy, &[pod("p", "nginx", json!({}))]);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(
        (f.severity, f.rule.as_str(), f.resource.as_str()),
        (Severity::Error, "policy-unsupported", "ValidatingPolicy/tagged")
    );
    assert!(f.message.contains("getHost, url"), "{}", f.message);
}

#[test]
fn a_cel_syntax_error_names_file_line_and_column() {
    let policy = VPOL.replace("variables.images.all(i,", "variables.images.all(i,,");
    let err = PolicySet::empty()
        .with_source("policies.yaml", &policy)
        .unwrap_err();
    let Error::Invalid {
        file,
        line,
        column,
        what,
        message,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(
        (file.as_str(), *line, what.as_str()),
        ("policies.yaml", 18, "CEL expression")
    );
    assert!(
        *column > 1 && message.contains("spec.validations[0].expression"),
        "{err}"
    );
}

const VAP: &str = r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: max-replicas
spec:
  failurePolicy: Fail
  paramKind:
    apiVersion: v1
    kind: ConfigMap
  matchConstraints:
    resourceRules:
      - apiGroups: [apps]
        apiVersions: [v1]
        operations: [CREATE, UPDATE]
        resources: [deployments]
  matchConditions:
    - name: not-exempt
      expression: "!has(object.metadata.labels) || !('exempt' in object.metadata.labels)"
  validations:
    - expression: "object.spec.replicas <= int(params.data.maxReplicas)"
      messageExpression: "'replicas must be at most ' + params.data.maxReplicas"
      reason: Invalid
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: max-replicas-prod
spec:
  policyName: max-replicas
  validationActions: [Deny]
  paramRef:
    name: replica-limits
    parameterNotFoundAction: Deny
  matchResources:
    namespaceSelector:
      matchLabels:
        kubernetes.io/metadata.name: prod
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: replica-limits
  namespace: prod
data:
  maxReplicas: "5"
"#;

fn deployment(namespace: &str, replicas: i64, labels: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": format!("web-{replicas}"), "namespace": namespace, "labels": labels},
        "spec": {"replicas": replicas}})
}

#[test]
fn admission_policy_with_binding_and_params_denies_what_breaks_it() {
    let findings = check(
        VAP,
        &[
            deployment("prod", 3, json!({})),
            deployment("prod", 9, json!({})),
            deployment("prod", 10, json!({"exempt": "yes"})),
            deployment("dev", 11, json!({})),
        ],
    );
    let hits: Vec<(&str, Severity, &str)> = findings
        .iter()
        .map(|f| (f.resource.as_str(), f.severity, f.message.as_str()))
        .collect();
    assert_eq!(
        hits,
        [(
            "Deployment/web-9",
            Severity::Error,
            "replicas must be at most 5 (reason: Invalid) (binding max-replicas-prod)"
        )]
    );
}

#[test]
fn missing_params_deny_and_unbound_policies_are_reported() {
    let without_params = VAP.replace("name: replica-limits\n  namespace", "name: other\n  namespace");
    let findings = check(&without_params, &[deployment("prod", 1, json!({}))]);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert!(
        findings[0].message.contains("no ConfigMap parameters found"),
        "{}",
        findings[0].message
    );
    assert_eq!(findings[0].severity, Severity::Error);

    let policy_only = VAP.split("\n---\n").next().unwrap();
    let findings = check(policy_only, &[deployment("prod", 9, json!({}))]);
    let rules: Vec<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(rules, ["cel-unbound"]);

    let binding_only = VAP.split("\n---\n").nth(1).unwrap();
    let findings = check(binding_only, &[]);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(
        (findings[0].severity, findings[0].rule.as_str()),
        (Severity::Error, "policy-unsupported")
    );
}

#[test]
fn warn_bindings_warn_and_params_come_from_the_checked_resources_too() {
    let policy = VAP.replace("validationActions: [Deny]", "validationActions: [Warn, Audit]");
    let mut parts: Vec<&str> = policy.split("\n---\n").collect();
    parts.pop(); // the ConfigMap moves to the checked resources
    let params = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "replica-limits", "namespace": "prod"},
        "data": {"maxReplicas": "2"}});
    let findings = check(
        &parts.join("\n---\n"),
        &[params, deployment("prod", 3, json!({}))],
    );
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].severity, Severity::Warning);
    assert!(findings[0].message.starts_with("replicas must be at most 2"));
}

#[test]
fn or_value_on_a_plain_value_is_the_value_as_kyverno_reads_it() {
    let policy = VPOL.replace(
        "variables.images.all(i, i.contains(':') && !i.endsWith(':latest'))",
        "object.spec.containers.orValue([]).size() == 1 && object.spec.?volumes.orValue([]).size() == 0",
    );
    let findings = check(&policy, &[pod("p", "nginx", json!({}))]);
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn kubernetes_quantity_and_regex_libraries_are_evaluated() {
    let policy = VPOL.replace(
        "variables.images.all(i, i.contains(':') && !i.endsWith(':latest'))",
        "object.spec.containers.all(c, quantity(c.resources.limits.memory).isLessThan(quantity('1Gi')) && c.image.find('[0-9]+') != '')",
    );
    let sized = |name: &str, memory: &str, image: &str| {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "apps"},
            "spec": {"containers": [{"name": "c", "image": image, "resources": {"limits": {"memory": memory}}}]}})
    };
    let findings = check(
        &policy,
        &[
            sized("small", "512Mi", "nginx:1"),
            sized("big", "2G", "nginx:1"),
            sized("untagged", "1M", "nginx"),
        ],
    );
    let resources: Vec<&str> = findings.iter().map(|f| f.resource.as_str()).collect();
    assert_eq!(resources, ["Pod/big", "Pod/untagged"], "{findings:#?}");
}

#[test]
fn a_policy_without_resource_rules_is_flagged_as_matching_nothing() {
    let policy = VPOL.replace("  matchConstraints:\n    resourceRules:\n      - apiGroups: [\"\"]\n        apiVersions: [v1]\n        operations: [CREATE, UPDATE]\n        resources: [pods]\n", "");
    assert!(!policy.contains("matchConstraints"), "{policy}");
    let findings = check(&policy, &[pod("bad", "nginx", json!({}))]);
    let rules: Vec<(&str, Severity)> = findings.iter().map(|f| (f.rule.as_str(), f.severity)).collect();
    assert_eq!(rules, [("cel-matches-nothing", Severity::Warning)]);
}
