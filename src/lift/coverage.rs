//! The round trip that measures lift: render the lifted spec, then check
//! that every key-value of each original resource is in the output of its
//! component (our defaults may sit around it). Labels, names, namespaces and
//! annotations are not compared. A resource is covered when nothing is lost;
//! a loss that `unsupported` does not list is a bug in lift, and is counted
//! apart so a test can refuse it.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::tree::same;
use super::Lifted;
use crate::repo::Layout;

/// One lost key-value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Loss {
    pub resource: String,
    /// JSON pointer into the original resource.
    pub path: String,
    /// Whether `unsupported` lists it (the path or one of its parents).
    pub listed: bool,
}

/// The round trip of one resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceCoverage {
    pub resource: String,
    pub file: String,
    pub covered: bool,
    pub losses: Vec<Loss>,
}

/// The round trip of a lift.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    pub resources: Vec<ResourceCoverage>,
}

impl Coverage {
    /// Resources whose every key-value came back.
    pub fn covered(&self) -> usize {
        self.resources.iter().filter(|r| r.covered).count()
    }

    /// Losses `unsupported` does not list.
    pub fn unlisted(&self) -> Vec<&Loss> {
        self.resources
            .iter()
            .flat_map(|r| &r.losses)
            .filter(|l| !l.listed)
            .collect()
    }
}

/// Renders `lifted.spec` and compares each resource with the output of its
/// component. A render failure counts every resource as lost (and listed
/// nowhere), so a test sees it.
pub fn coverage(lifted: &Lifted) -> Coverage {
    let layout = Layout::default();
    let rendered = if lifted.spec.components.is_empty() {
        Ok(Vec::new())
    } else {
        crate::render::render(&lifted.spec, &layout, &BTreeMap::new()).map(|r| r.files)
    };
    let mut by_component: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let rendered_ok = rendered.is_ok();
    for file in rendered.unwrap_or_default() {
        let dir = file.path.rsplit_once('/').map_or("", |(d, _)| d).to_string();
        let docs = crate::yaml::manifest_values(&file.content).unwrap_or_default();
        by_component.entry(dir).or_default().extend(docs);
    }
    let env = &lifted.spec.environment;
    let ns = &lifted.spec.namespace;
    let resources = lifted
        .resources
        .iter()
        .map(|r| {
            let out: &[Value] = r
                .component
                .as_ref()
                .and_then(|c| by_component.get(&layout.directory(env, ns, c)))
                .map_or(&[], Vec::as_slice);
            let kind = r.original.get("kind");
            let candidates: Vec<&Value> = out.iter().filter(|d| d.get("kind") == kind).collect();
            let mut best: Option<Vec<String>> = None;
            for c in &candidates {
                let mut lost = Vec::new();
                compare(&r.original, c, "", &mut lost);
                if best.as_ref().is_none_or(|b| lost.len() < b.len()) {
                    best = Some(lost);
                }
            }
            let paths = match best {
                Some(lost) if rendered_ok => lost,
                _ => vec![String::new()],
            };
            let losses: Vec<Loss> = paths
                .into_iter()
                .map(|path| Loss {
                    resource: r.resource.clone(),
                    listed: r.unsupported.iter().any(|u| is_under(&path, &u.path)),
                    path,
                })
                .collect();
            ResourceCoverage {
                resource: r.resource.clone(),
                file: r.file.clone(),
                covered: losses.is_empty(),
                losses,
            }
        })
        .collect();
    Coverage { resources }
}

/// `path` is `parent` or inside it (segment-wise).
fn is_under(path: &str, parent: &str) -> bool {
    path == parent || path.starts_with(parent) && path[parent.len()..].starts_with('/')
}

/// Keys not compared: names, namespaces, labels, annotations, and the
/// selectors and references that only repeat them.
fn aside(path: &str, key: &str) -> bool {
    let meta = path.ends_with("/metadata") || path == "/metadata";
    (meta
        && matches!(
            key,
            "name" | "namespace" | "labels" | "annotations" | "generateName"
        ))
        || ((path.ends_with("/selector") || path.ends_with("/labelSelector")) && key == "matchLabels")
        || (path == "/spec" && key == "selector" && !path.contains("template"))
        || (path.ends_with("/containers/0") && key == "name")
        || (path.ends_with("/spec") && matches!(key, "serviceAccountName" | "serviceAccount" | "serviceName"))
        || (path == "/spec/scaleTargetRef" && key == "name")
}

/// Records under `at` every key-value of `original` missing from `out`.
fn compare(original: &Value, out: &Value, at: &str, lost: &mut Vec<String>) {
    match (original, out) {
        (Value::Null, _) => {}
        (Value::Object(o), Value::Object(r)) => {
            for (k, v) in o {
                if aside(at, k) || v.is_null() {
                    continue;
                }
                let key = k.replace('~', "~0").replace('/', "~1");
                let here = format!("{at}/{key}");
                match r.get(k) {
                    Some(rv) => compare(v, rv, &here, lost),
                    None => lost.push(here),
                }
            }
        }
        (Value::Array(o), Value::Array(r)) if o.iter().all(|v| !v.is_object()) => {
            if o.len() != r.len() || !o.iter().zip(r).all(|(a, b)| same(a, b)) {
                lost.push(at.to_string());
            }
        }
        (Value::Array(o), Value::Array(r)) => {
            for (i, v) in o.iter().enumerate() {
                let here = format!("{at}/{i}");
                let named = v.get("name").filter(|_| !at.ends_with("/containers"));
                let by_name = named.and_then(|n| r.iter().find(|x| x.get("name") == Some(n)));
                let candidates: Vec<&Value> = match (by_name, at.ends_with("/containers")) {
                    (Some(x), _) => vec![x],
                    (None, true) => r.get(i).into_iter().collect(),
                    (None, false) => r.iter().collect(),
                };
                let mut best: Option<Vec<String>> = None;
                for c in candidates {
                    let mut l = Vec::new();
                    compare(v, c, &here, &mut l);
                    if best.as_ref().is_none_or(|b| l.len() < b.len()) {
                        best = Some(l);
                    }
                }
                lost.extend(best.unwrap_or_else(|| vec![here]));
            }
        }
        (o, r) if same(o, r) => {}
        _ => lost.push(at.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_around_the_original_are_allowed_and_changes_are_losses() {
        let original = json!({"metadata": {"name": "x", "labels": {"a": "b"}}, "spec": {"ports": [{"port": 80}], "args": ["a", "b"], "c": 1}});
        let out = json!({"metadata": {"name": "y"}, "spec": {"ports": [{"name": "p", "port": 80, "protocol": "TCP"}], "args": ["a", "b"], "c": "1", "d": 2}});
        let mut lost = Vec::new();
        compare(&original, &out, "", &mut lost);
        assert!(lost.is_empty(), "{lost:?}");
        let changed = json!({"spec": {"ports": [{"port": 81}], "args": ["b", "a"], "c": 1}});
        compare(&changed, &out, "", &mut lost);
        assert_eq!(lost, ["/spec/ports/0/port", "/spec/args"]);
        assert!(is_under("/spec/a/b", "/spec/a") && is_under("/x", "") && !is_under("/spec/ab", "/spec/a"));
    }
}
