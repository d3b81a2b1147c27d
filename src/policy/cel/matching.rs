//! Which resources a CEL policy (or a binding) applies to:
//! `matchConstraints`/`matchResources` with `resourceRules` (API groups,
//! versions, resources, operations, resource names),
//! `excludeResourceRules`, `objectSelector` (the resource's own labels) and
//! `namespaceSelector` (the labels of the resource's Namespace when it is
//! among the checked resources; otherwise only `kubernetes.io/metadata.name`
//! is known, and a selector on other labels applies, fail closed).
//!
//! A manifest is about to be created or updated, so a rule applies when its
//! operations include `CREATE`, `UPDATE` or `*`.

use serde_json::Value;

use crate::policy::gatekeeper::matching::{selector_matches, CLUSTER_SCOPED};

/// `matchConstraints` (of a policy) or `matchResources` (of a binding).
#[derive(Debug, Clone, Default)]
pub(super) struct Constraints {
    rules: Vec<Rule>,
    excluded: Vec<Rule>,
    namespace_selector: Option<Value>,
    object_selector: Option<Value>,
}

#[derive(Debug, Clone)]
struct Rule {
    groups: Vec<String>,
    versions: Vec<String>,
    resources: Vec<String>,
    operations: Vec<String>,
    names: Vec<String>,
}

/// What a resource is, as an admission request names it.
pub(super) struct Target<'a> {
    pub(super) group: &'a str,
    pub(super) version: &'a str,
    /// Lower-case plural, e.g. `deployments`.
    pub(super) resource: String,
    pub(super) name: &'a str,
    pub(super) labels: Option<&'a Value>,
    /// The resource's Namespace labels, when known; `None` for cluster-scoped
    /// resources.
    pub(super) namespace_labels: Option<NamespaceLabels<'a>>,
}

/// What is known of a Namespace's labels.
#[derive(Clone, Copy)]
pub(super) enum NamespaceLabels<'a> {
    /// Its document is among the checked resources.
    Known(Option<&'a Value>),
    /// Only its name (`kubernetes.io/metadata.name`).
    Named(&'a str),
}

impl Constraints {
    pub(super) fn new(v: Option<&Value>) -> Constraints {
        let Some(v) = v else {
            return Constraints::default();
        };
        let selector = |k: &str| {
            v.get(k)
                .filter(|s| s.as_object().is_some_and(|o| !o.is_empty()))
                .cloned()
        };
        Constraints {
            rules: rules(v.get("resourceRules")),
            excluded: rules(v.get("excludeResourceRules")),
            namespace_selector: selector("namespaceSelector"),
            object_selector: selector("objectSelector"),
        }
    }

    /// True when no `resourceRules` are given (a binding's `matchResources`
    /// may leave them to the policy).
    pub(super) fn has_rules(&self) -> bool {
        !self.rules.is_empty()
    }

    /// True when every rule is about Pods only (what autogen extends to pod
    /// controllers).
    pub(super) fn pods_only(&self) -> bool {
        self.has_rules()
            && self
                .rules
                .iter()
                .all(|r| r.resources.iter().all(|x| x == "pods" || x.starts_with("pods/")))
    }

    /// Whether the constraints select `t`.
    pub(super) fn matches(&self, t: &Target<'_>) -> bool {
        self.rules.iter().any(|r| r.matches(t))
            && !self.excluded.iter().any(|r| r.matches(t))
            && self
                .object_selector
                .as_ref()
                .is_none_or(|s| selector_matches(s, t.labels))
            && self
                .namespace_selector
                .as_ref()
                .is_none_or(|s| namespace_matches(s, t))
    }

    /// The same filters without resource rules (a binding that leaves them
    /// to its policy).
    pub(super) fn selectors_match(&self, t: &Target<'_>) -> bool {
        !self.excluded.iter().any(|r| r.matches(t))
            && self
                .object_selector
                .as_ref()
                .is_none_or(|s| selector_matches(s, t.labels))
            && self
                .namespace_selector
                .as_ref()
                .is_none_or(|s| namespace_matches(s, t))
    }

    /// True when a namespaceSelector looks at labels other than the name.
    pub(super) fn has_offline_selector(&self) -> bool {
        self.namespace_selector.as_ref().is_some_and(names_other_labels)
    }
}

/// True when `selector` looks at labels other than `kubernetes.io/metadata.name`.
fn names_other_labels(selector: &Value) -> bool {
    const NAME: &str = "kubernetes.io/metadata.name";
    let labels = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .is_some_and(|m| m.keys().any(|k| k != NAME));
    let expressions = selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .is_some_and(|es| {
            es.iter()
                .any(|e| e.get("key").and_then(Value::as_str) != Some(NAME))
        });
    labels || expressions
}

fn namespace_matches(selector: &Value, t: &Target<'_>) -> bool {
    match t.namespace_labels {
        None => true,
        Some(NamespaceLabels::Known(labels)) => selector_matches(selector, labels),
        // Labels other than the name are unknown: the policy applies.
        Some(NamespaceLabels::Named(name)) => {
            names_other_labels(selector)
                || selector_matches(
                    selector,
                    Some(&serde_json::json!({ "kubernetes.io/metadata.name": name })),
                )
        }
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

fn rules(v: Option<&Value>) -> Vec<Rule> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|r| Rule {
            groups: strings(r.get("apiGroups")),
            versions: strings(r.get("apiVersions")),
            resources: strings(r.get("resources")),
            operations: strings(r.get("operations")),
            names: strings(r.get("resourceNames")),
        })
        .collect()
}

impl Rule {
    fn matches(&self, t: &Target<'_>) -> bool {
        let any = |list: &[String], x: &str| list.iter().any(|v| v == "*" || v == x);
        any(&self.groups, t.group)
            && any(&self.versions, t.version)
            && self
                .resources
                .iter()
                .any(|r| r == "*" || r == "*/*" || *r == t.resource)
            && (self.operations.is_empty()
                || self
                    .operations
                    .iter()
                    .any(|o| matches!(o.as_str(), "*" | "CREATE" | "UPDATE")))
            && (self.names.is_empty() || self.names.iter().any(|n| n == t.name))
    }
}

/// The target of `doc`, with what is known of its Namespace.
pub(super) fn target<'a>(doc: &'a Value, namespace: Option<NamespaceLabels<'a>>) -> Target<'a> {
    let api = doc.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let (group, version) = api.rsplit_once('/').unwrap_or(("", api));
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
    Target {
        group,
        version,
        resource: plural(kind),
        name: doc
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or(""),
        labels: doc.pointer("/metadata/labels"),
        namespace_labels: namespace,
    }
}

/// True for kinds that live outside namespaces.
pub(super) fn cluster_scoped(kind: &str) -> bool {
    CLUSTER_SCOPED.contains(&kind)
}

/// The resource name of a kind: lower case, plural (`Ingress` → `ingresses`,
/// `NetworkPolicy` → `networkpolicies`, `Endpoints` → `endpoints`).
pub(super) fn plural(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    if lower.ends_with("endpoints") {
        lower
    } else if lower.ends_with('s') || lower.ends_with('x') || lower.ends_with("ch") || lower.ends_with("sh") {
        format!("{lower}es")
    } else if let Some(stem) = lower
        .strip_suffix('y')
        .filter(|s| !s.ends_with(['a', 'e', 'i', 'o', 'u']))
    {
        format!("{stem}ies")
    } else {
        format!("{lower}s")
    }
}

/// Pod controllers and where their pod template is, for autogen.
pub(super) fn pod_template(kind: &str) -> Option<&'static str> {
    match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" | "ReplicationController" => {
            Some("/spec/template")
        }
        "CronJob" => Some("/spec/jobTemplate/spec/template"),
        _ => None,
    }
}

/// `doc` with `metadata` and `spec` taken from its pod template, as Kyverno's
/// autogen rewrites `object.spec`/`object.metadata` for pod controllers.
pub(super) fn as_pod(doc: &Value) -> Option<Value> {
    let kind = doc.get("kind").and_then(Value::as_str)?;
    let template = doc.pointer(pod_template(kind)?)?;
    let mut object = doc.clone();
    let map = object.as_object_mut()?;
    map.insert(
        "metadata".into(),
        template.get("metadata").cloned().unwrap_or(Value::Null),
    );
    map.insert(
        "spec".into(),
        template.get("spec").cloned().unwrap_or(Value::Null),
    );
    Some(object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plurals_follow_the_api_names() {
        for (kind, resource) in [
            ("Pod", "pods"),
            ("Ingress", "ingresses"),
            ("NetworkPolicy", "networkpolicies"),
            ("Endpoints", "endpoints"),
            ("Gateway", "gateways"),
        ] {
            assert_eq!(plural(kind), resource);
        }
    }

    #[test]
    fn rules_match_group_version_resource_and_operation() {
        let c = Constraints::new(Some(&json!({"resourceRules": [
            {"apiGroups": ["apps"], "apiVersions": ["v1"], "resources": ["deployments"], "operations": ["CREATE"]},
            {"apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"], "operations": ["DELETE"]}
        ], "objectSelector": {"matchLabels": {"team": "a"}}})));
        let deploy = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "labels": {"team": "a"}}});
        assert!(c.matches(&target(&deploy, None)));
        let other = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "labels": {"team": "b"}}});
        assert!(!c.matches(&target(&other, None)));
        let pod =
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"team": "a"}}});
        assert!(!c.matches(&target(&pod, None)), "DELETE only");
    }

    #[test]
    fn namespace_selectors_on_unknown_labels_apply() {
        let c = Constraints::new(Some(
            &json!({"resourceRules": [{"apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"]}],
            "namespaceSelector": {"matchLabels": {"env": "prod"}}}),
        ));
        let cm =
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "x"}});
        assert!(c.matches(&target(&cm, Some(NamespaceLabels::Named("x")))));
        let labels = json!({"env": "dev"});
        assert!(!c.matches(&target(&cm, Some(NamespaceLabels::Known(Some(&labels))))));
        assert!(c.has_offline_selector());
    }
}
