//! Field comparison of a declared resource with its live object.
//!
//! Only what Git declares is compared: keys the server added (defaults,
//! `status`, managed metadata) are never looked at. Lists whose items all
//! carry a `name` (containers, env, ports, volumes) are matched by name, so
//! reordering is not drift and items injected by admission webhooks are
//! ignored; other lists are compared by position.

use serde_json::{Map, Value};

pub(crate) use crate::manifest::quantity;
pub(crate) use crate::yaml::edit::{display, Seg};

/// One declared field whose live value differs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Diff {
    pub(crate) path: Vec<Seg>,
    pub(crate) git: Value,
    pub(crate) live: Value,
}

/// Metadata the server manages, or that identifies the object: never drift.
const IGNORED_METADATA: &[&str] = &[
    "name",
    "namespace",
    "managedFields",
    "resourceVersion",
    "uid",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
    "ownerReferences",
    "finalizers",
];

/// Annotations tools write on the live object.
const IGNORED_ANNOTATIONS: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    "kubectl.kubernetes.io/restartedAt",
    "deployment.kubernetes.io/revision",
];

/// Compares the fields `git` declares with `live`.
pub(crate) fn compare(git: &Value, live: &Value) -> Vec<Diff> {
    let mut out = Vec::new();
    let Some(git) = git.as_object() else {
        return out;
    };
    let empty = Map::new();
    let live = live.as_object().unwrap_or(&empty);
    for (key, g) in git {
        if matches!(key.as_str(), "apiVersion" | "kind" | "status") {
            continue;
        }
        let mut path = vec![Seg::Key(key.clone())];
        if key == "metadata" {
            compare_metadata(g, live.get(key), &mut path, &mut out);
        } else {
            walk(g, live.get(key), &mut path, &mut out);
        }
    }
    out
}

fn compare_metadata(git: &Value, live: Option<&Value>, path: &mut Vec<Seg>, out: &mut Vec<Diff>) {
    let Some(git) = git.as_object() else {
        return;
    };
    for (key, g) in git {
        if IGNORED_METADATA.contains(&key.as_str()) {
            continue;
        }
        let l = live.and_then(|l| l.get(key));
        path.push(Seg::Key(key.clone()));
        if key == "annotations" {
            let filtered: Map<String, Value> = g
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter(|(k, _)| !IGNORED_ANNOTATIONS.contains(&k.as_str()))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                })
                .unwrap_or_default();
            walk(&Value::Object(filtered), l, path, out);
        } else {
            walk(g, l, path, out);
        }
        path.pop();
    }
}

/// An empty declaration (`null`, `{}`, `[]`) matches an absent live field.
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn named_items(list: &[Value]) -> Option<Vec<&str>> {
    if list.is_empty() {
        return None;
    }
    list.iter()
        .map(|item| item.get("name").and_then(Value::as_str))
        .collect()
}

fn walk(git: &Value, live: Option<&Value>, path: &mut Vec<Seg>, out: &mut Vec<Diff>) {
    let live_or_null = || live.cloned().unwrap_or(Value::Null);
    match (git, live) {
        (g, None) | (g, Some(Value::Null)) if is_empty(g) => {}
        (Value::Object(g), Some(Value::Object(_)) | None | Some(Value::Null)) => {
            // An absent live mapping is compared key by key, for precise paths.
            for (key, gv) in g {
                path.push(Seg::Key(key.clone()));
                walk(gv, live.and_then(|l| l.get(key)), path, out);
                path.pop();
            }
        }
        (Value::Array(g), Some(Value::Array(l))) => {
            if let Some(names) = named_items(g) {
                for (name, gv) in names.iter().zip(g) {
                    let lv = l
                        .iter()
                        .find(|item| item.get("name").and_then(Value::as_str) == Some(name));
                    path.push(Seg::Named((*name).to_string()));
                    walk(gv, lv, path, out);
                    path.pop();
                }
            } else if g.len() != l.len() {
                out.push(Diff {
                    path: path.clone(),
                    git: git.clone(),
                    live: live_or_null(),
                });
            } else {
                for (i, (gv, lv)) in g.iter().zip(l).enumerate() {
                    path.push(Seg::Index(i));
                    walk(gv, Some(lv), path, out);
                    path.pop();
                }
            }
        }
        (g, Some(l)) if scalar_eq(path, g, l) => {}
        _ => out.push(Diff {
            path: path.clone(),
            git: git.clone(),
            live: live_or_null(),
        }),
    }
}

/// Scalars are equal when identical, when a number and its string spelling
/// match (`8080` / `"8080"`), or, under `resources`, when both are the same
/// Kubernetes quantity (`0.5` / `500m`, `1Gi` / `1024Mi`).
fn scalar_eq(path: &[Seg], git: &Value, live: &Value) -> bool {
    if git == live {
        return true;
    }
    if let (Some(a), Some(b)) = (git.as_f64(), live.as_f64()) {
        return a == b || octal_mode_eq(path, git, live);
    }
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let (Some(a), Some(b)) = (text(git), text(live)) else {
        return false;
    };
    if a == b {
        return true;
    }
    let in_resources = path.iter().any(|s| *s == Seg::Key("resources".into()));
    match (quantity(&a), quantity(&b)) {
        (Some(x), Some(y)) if in_resources => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()),
        _ => false,
    }
}

/// File modes: Kubernetes reads YAML 1.1, where `0755` is octal (493), but
/// our YAML 1.2 parser reads it as 755. Under a `mode`/`defaultMode` key, a
/// Git integer whose digits are all octal also matches its octal value.
fn octal_mode_eq(path: &[Seg], git: &Value, live: &Value) -> bool {
    let is_mode = matches!(path.last(), Some(Seg::Key(k)) if k == "mode" || k == "defaultMode");
    let (Some(g), Some(l)) = (git.as_u64(), live.as_u64()) else {
        return false;
    };
    is_mode && u64::from_str_radix(&g.to_string(), 8).is_ok_and(|o| o == l)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(git: Value, live: Value) -> Vec<String> {
        compare(&git, &live).iter().map(|d| display(&d.path)).collect()
    }

    #[test]
    fn server_defaults_status_and_managed_metadata_are_not_drift() {
        let git = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "creationTimestamp": null, "labels": {"app": "web"}},
            "spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "web", "image": "web:1", "resources": {}}]}}},
            "status": {}});
        let live = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "uid": "x", "resourceVersion": "9", "generation": 4,
                "creationTimestamp": "2026-01-01T00:00:00Z", "labels": {"app": "web"},
                "annotations": {"deployment.kubernetes.io/revision": "3"}, "managedFields": []},
            "spec": {"replicas": 3, "progressDeadlineSeconds": 600, "template": {"spec": {
                "containers": [{"name": "istio-proxy", "image": "istio"}, {"name": "web", "image": "web:1",
                    "imagePullPolicy": "IfNotPresent", "terminationMessagePath": "/dev/termination-log"}]}}},
            "status": {"replicas": 3}});
        assert!(paths(git, live).is_empty());
    }

    #[test]
    fn drifted_fields_are_reported_with_named_paths() {
        let git = json!({"metadata": {"annotations": {"team.io/owner": "a"}},
            "spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "web", "image": "web:1",
                "env": [{"name": "A", "value": "1"}]}]}}}});
        let live = json!({"metadata": {},
            "spec": {"replicas": 5, "template": {"spec": {"containers": [{"name": "web", "image": "web:2",
                "env": [{"name": "A", "value": "2"}]}]}}}});
        assert_eq!(
            paths(git, live),
            [
                "metadata.annotations[\"team.io/owner\"]",
                "spec.replicas",
                "spec.template.spec.containers[name=web].image",
                "spec.template.spec.containers[name=web].env[name=A].value",
            ]
        );
    }

    #[test]
    fn quantities_and_number_spellings_compare_by_value() {
        let git = json!({"spec": {"resources": {"requests": {"cpu": 0.5, "memory": "1Gi"}}, "port": 80, "args": ["a", "b"]}});
        let live = json!({"spec": {"resources": {"requests": {"cpu": "500m", "memory": "1024Mi"}}, "port": "80", "args": ["a", "b"]}});
        assert!(paths(git.clone(), live).is_empty());
        let live = json!({"spec": {"resources": {"requests": {"cpu": "1", "memory": "1Gi"}}, "port": 80, "args": ["a"]}});
        assert_eq!(paths(git, live), ["spec.resources.requests.cpu", "spec.args"]);
        assert_eq!(quantity("2e3"), Some(2000.0));
        let modes = json!({"volumes": [{"name": "s", "configMap": {"defaultMode": 755}}], "replicas": 10});
        let live = json!({"volumes": [{"name": "s", "configMap": {"defaultMode": 493}}], "replicas": 8});
        assert_eq!(paths(modes, live), ["replicas"]);
        assert_eq!(quantity("1x"), None);
    }
}
