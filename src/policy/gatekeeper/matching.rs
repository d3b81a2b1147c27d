//! Which resources a Gatekeeper constraint applies to: `spec.match` with
//! `kinds`, `scope`, `namespaces`, `excludedNamespaces`, `name`, and
//! `labelSelector`. `namespaceSelector` needs the labels of the live
//! namespace; offline it is taken to hold (the constraint applies) and the
//! constraint carries a note saying so.

use serde_json::Value;

/// Kinds that have no namespace; any other kind without
/// `metadata.namespace` is in `default`.
pub(in crate::policy) const CLUSTER_SCOPED: [&str; 14] = [
    "Namespace",
    "Node",
    "PersistentVolume",
    "StorageClass",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PriorityClass",
    "IngressClass",
    "RuntimeClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "APIService",
    "CSIDriver",
];

/// `spec.match` of a constraint, as read.
#[derive(Debug, Clone, Default)]
pub(super) struct Match {
    raw: Value,
}

impl Match {
    pub(super) fn new(raw: Option<&Value>) -> Match {
        Match {
            raw: raw.cloned().unwrap_or(Value::Null),
        }
    }

    /// True when `namespaceSelector` is set (unknowable offline).
    pub(super) fn has_namespace_selector(&self) -> bool {
        self.raw.get("namespaceSelector").is_some()
    }

    pub(super) fn matches(&self, doc: &Value) -> bool {
        let m = &self.raw;
        let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
        let api = doc.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let group = api.rsplit_once('/').map_or("", |(g, _)| g);
        let cluster_scoped = CLUSTER_SCOPED.contains(&kind);
        let namespace = match doc.pointer("/metadata/namespace").and_then(Value::as_str) {
            Some(ns) => Some(ns),
            None if cluster_scoped => None,
            None => Some("default"),
        };
        // A Namespace is matched by `namespaces` through its own name.
        let ns_for_match = if kind == "Namespace" {
            doc.pointer("/metadata/name").and_then(Value::as_str)
        } else {
            namespace
        };
        kinds_match(m.get("kinds"), group, kind)
            && scope_match(m.get("scope"), cluster_scoped)
            && list(m.get("namespaces"))
                .is_none_or(|ns| ns_for_match.is_some_and(|n| ns.iter().any(|p| prefix_glob(p, n))))
            && list(m.get("excludedNamespaces"))
                .is_none_or(|ns| !ns_for_match.is_some_and(|n| ns.iter().any(|p| prefix_glob(p, n))))
            && m.get("name").and_then(Value::as_str).is_none_or(|p| {
                prefix_glob(
                    p,
                    doc.pointer("/metadata/name")
                        .and_then(Value::as_str)
                        .unwrap_or(""),
                )
            })
            && m.get("labelSelector")
                .is_none_or(|s| selector_matches(s, doc.pointer("/metadata/labels")))
    }
}

fn list(v: Option<&Value>) -> Option<Vec<&str>> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
}

fn kinds_match(kinds: Option<&Value>, group: &str, kind: &str) -> bool {
    let Some(Value::Array(entries)) = kinds else {
        return true;
    };
    entries.iter().any(|e| {
        let groups = list(e.get("apiGroups")).unwrap_or_else(|| vec!["*"]);
        let kinds = list(e.get("kinds")).unwrap_or_else(|| vec!["*"]);
        groups.iter().any(|g| *g == "*" || *g == group) && kinds.iter().any(|k| *k == "*" || *k == kind)
    })
}

fn scope_match(scope: Option<&Value>, cluster_scoped: bool) -> bool {
    match scope.and_then(Value::as_str) {
        Some("Cluster") => cluster_scoped,
        Some("Namespaced") => !cluster_scoped,
        _ => true,
    }
}

/// Gatekeeper's namespace globs: an optional `*` at the start or the end.
fn prefix_glob(pattern: &str, text: &str) -> bool {
    if let Some(prefix) = pattern.strip_suffix('*') {
        text.starts_with(prefix)
    } else if let Some(suffix) = pattern.strip_prefix('*') {
        text.ends_with(suffix)
    } else {
        pattern == text
    }
}

/// A Kubernetes label selector (`matchLabels`, `matchExpressions`).
pub(in crate::policy) fn selector_matches(selector: &Value, labels: Option<&Value>) -> bool {
    let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    let labels_ok = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .is_none_or(|m| m.iter().all(|(k, v)| label(k) == v.as_str()));
    let expressions_ok = selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .is_none_or(|es| {
            es.iter().all(|e| {
                let key = e.get("key").and_then(Value::as_str).unwrap_or("");
                let values = list(e.get("values")).unwrap_or_default();
                match e.get("operator").and_then(Value::as_str).unwrap_or("") {
                    "In" => label(key).is_some_and(|v| values.contains(&v)),
                    "NotIn" => label(key).is_none_or(|v| !values.contains(&v)),
                    "Exists" => label(key).is_some(),
                    "DoesNotExist" => label(key).is_none(),
                    _ => false,
                }
            })
        });
    labels_ok && expressions_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds_namespaces_and_labels() {
        let m = Match::new(Some(&json!({
            "kinds": [{"apiGroups": ["apps"], "kinds": ["Deployment"]}],
            "excludedNamespaces": ["kube-*"],
            "labelSelector": {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["test"]}]}
        })));
        let d = |ns: &str, tier: &str| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "namespace": ns, "labels": {"tier": tier}}})
        };
        assert!(m.matches(&d("shop", "web")));
        assert!(!m.matches(&d("kube-system", "web")));
        assert!(!m.matches(&d("shop", "test")));
        assert!(!m.matches(&json!({"apiVersion": "v1", "kind": "Deployment", "metadata": {"name": "x"}})));
        let ns = Match::new(Some(&json!({"namespaces": ["default"]})));
        assert!(ns.matches(&json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}})));
    }
}
