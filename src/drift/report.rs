//! The drift report: one entry per resource, the dependents of each, and
//! the drift score.
//!
//! Score. Each drifted path weighs by what it changes:
//! image 10, replicas 8, anything under `resources` 5, labels and
//! annotations 1, any other field 3. A drifted resource scores the sum of
//! its paths times `1 + dependents`, where dependents are the other
//! declared resources that rely on it: the Services, PodDisruptionBudgets
//! and NetworkPolicies whose selector matches a workload's pod labels, the
//! HorizontalPodAutoscalers that scale it, the Ingresses that route to a
//! Service, and the workloads that mount or reference a ConfigMap, PVC or
//! ServiceAccount. A missing resource scores `10 × (1 + dependents)`, an
//! extra one 5, an unreadable one 0. The report's score is the sum.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

use super::cluster::{identity, Live, Observed};
use super::compare::{compare, display, Seg};
use super::declared::{str_at, Declared};

/// Verdict for one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Every declared field has its Git value.
    InSync,
    /// Some declared fields differ.
    Drifted,
    /// Declared in Git, absent from the cluster.
    Missing,
    /// In the cluster with the Git-tracked label, absent from Git.
    Extra,
    /// The cluster refused or failed to answer for it (e.g. 403).
    Unreadable,
}

/// One drifted field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    /// `spec.template.spec.containers[name=web].image`.
    pub path: String,
    /// The value in Git.
    pub git: Value,
    /// The live value (`null` when the field is absent).
    pub live: Value,
    /// Its weight in the score.
    pub weight: u32,
    #[serde(skip)]
    pub(crate) segments: Vec<Seg>,
}

/// One resource of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    /// The file declaring it (none for extra objects).
    pub file: Option<String>,
    /// Index of its YAML document in `file`.
    #[serde(skip)]
    pub document: usize,
    pub status: Status,
    pub differences: Vec<Difference>,
    /// `Kind/name` of the declared resources that depend on it.
    pub dependents: Vec<String>,
    pub score: u32,
    /// Why it is unreadable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Counts per status.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    pub in_sync: usize,
    pub drifted: usize,
    pub missing: usize,
    pub extra: usize,
    pub unreadable: usize,
}

/// The whole drift report (the `drift --format json` contract).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub environment: String,
    /// The ref and commit the Git side was read at (`null` for a plain
    /// directory that is not a git repository).
    pub base: Option<crate::repo::Base>,
    pub server: String,
    pub selector: String,
    pub resources: Vec<Entry>,
    pub summary: Summary,
    pub score: u32,
    /// Lists that failed, so extra objects may be unreported.
    pub warnings: Vec<String>,
}

impl Report {
    /// True when anything is drifted, missing or extra.
    pub fn has_drift(&self) -> bool {
        let s = &self.summary;
        s.drifted + s.missing + s.extra > 0
    }
}

/// Weight of one drifted path (see the module doc).
pub(crate) fn weight(path: &[Seg]) -> u32 {
    let keys: Vec<&str> = path
        .iter()
        .filter_map(|s| match s {
            Seg::Key(k) => Some(k.as_str()),
            _ => None,
        })
        .collect();
    match keys.as_slice() {
        [.., "image"] => 10,
        ["spec", "replicas"] => 8,
        k if k.contains(&"resources") => 5,
        k if k.iter().any(|k| *k == "labels" || *k == "annotations") => 1,
        _ => 3,
    }
}

const WORKLOADS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
];

fn pod_spec(v: &Value) -> Option<&Value> {
    v.pointer("/spec/template/spec")
        .or_else(|| v.pointer("/spec/jobTemplate/spec/template/spec"))
}

fn labels_match(selector: Option<&Value>, labels: Option<&Value>) -> bool {
    let (Some(sel), Some(labels)) = (selector.and_then(Value::as_object), labels) else {
        return false;
    };
    !sel.is_empty() && sel.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// Collects `(kind, name)` of the objects `value` names below it: ConfigMaps
/// (`configMap`, `configMapRef`, `configMapKeyRef`), PVCs
/// (`persistentVolumeClaim.claimName`) and Services (`service.name`, Ingress
/// backends).
fn named_refs(value: &Value, out: &mut Vec<(&'static str, String)>) {
    match value {
        Value::Object(m) => {
            for (k, v) in m {
                let target = match k.as_str() {
                    "configMap" | "configMapRef" | "configMapKeyRef" => Some(("ConfigMap", "name")),
                    "persistentVolumeClaim" => Some(("PersistentVolumeClaim", "claimName")),
                    "service" => Some(("Service", "name")),
                    _ => None,
                };
                if let Some(name) = target.and_then(|(_, key)| v.get(key)).and_then(Value::as_str) {
                    out.push((target.map(|t| t.0).unwrap_or_default(), name.to_string()));
                }
                named_refs(v, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| named_refs(v, out)),
        _ => {}
    }
}

/// The `(kind, name)` of the objects `resource` depends on by name.
fn references(resource: &Value) -> Vec<(&'static str, String)> {
    let kind = str_at(resource, &["kind"]).unwrap_or_default();
    let mut out = Vec::new();
    if WORKLOADS.contains(&kind) {
        if let Some(pod) = pod_spec(resource) {
            named_refs(pod, &mut out);
            out.retain(|(k, _)| *k != "Service");
            if let Some(sa) = pod.get("serviceAccountName").and_then(Value::as_str) {
                out.push(("ServiceAccount", sa.to_string()));
            }
        }
    } else if kind == "Ingress" {
        named_refs(resource.get("spec").unwrap_or(&Value::Null), &mut out);
        out.retain(|(k, _)| *k == "Service");
    } else if kind == "HorizontalPodAutoscaler" {
        let target = (
            str_at(resource, &["spec", "scaleTargetRef", "kind"]),
            str_at(resource, &["spec", "scaleTargetRef", "name"]),
        );
        if let (Some(k), Some(n)) = target {
            if let Some(k) = WORKLOADS.iter().find(|w| **w == k) {
                out.push((k, n.to_string()));
            }
        }
    }
    out
}

/// The label selector with which `resource` picks pods, if it is a
/// Service, PodDisruptionBudget or NetworkPolicy.
fn pod_selector(resource: &Value) -> Option<&Value> {
    match str_at(resource, &["kind"])? {
        "Service" => resource.pointer("/spec/selector"),
        "PodDisruptionBudget" => resource.pointer("/spec/selector/matchLabels"),
        "NetworkPolicy" => resource.pointer("/spec/podSelector/matchLabels"),
        _ => None,
    }
}

/// For each declared resource, the `Kind/name` of the others in its
/// namespace that depend on it, in declaration order. Linear in the number
/// of resources, plus selectors × workloads within each namespace.
fn all_dependents(declared: &[Declared]) -> Vec<Vec<String>> {
    let mut by_ref: HashMap<(Option<&str>, &str, String), Vec<usize>> = HashMap::new();
    let mut selectors: HashMap<Option<&str>, Vec<(usize, &Value)>> = HashMap::new();
    for (j, d) in declared.iter().enumerate() {
        let ns = d.namespace.as_deref();
        for (kind, name) in references(&d.resource) {
            by_ref.entry((ns, kind, name)).or_default().push(j);
        }
        if let Some(sel) = pod_selector(&d.resource) {
            selectors.entry(ns).or_default().push((j, sel));
        }
    }
    declared
        .iter()
        .enumerate()
        .map(|(i, target)| {
            let ns = target.namespace.as_deref();
            let mut deps: Vec<usize> = by_ref
                .get(&(ns, target.kind(), target.name().to_string()))
                .cloned()
                .unwrap_or_default();
            if WORKLOADS.contains(&target.kind()) {
                let pod_labels = target
                    .resource
                    .pointer("/spec/template/metadata/labels")
                    .or_else(|| {
                        target
                            .resource
                            .pointer("/spec/jobTemplate/spec/template/metadata/labels")
                    });
                for (j, sel) in selectors.get(&ns).into_iter().flatten() {
                    if labels_match(Some(sel), pod_labels) {
                        deps.push(*j);
                    }
                }
            }
            deps.sort_unstable();
            deps.dedup();
            deps.retain(|&j| j != i);
            deps.iter()
                .map(|&j| format!("{}/{}", declared[j].kind(), declared[j].name()))
                .collect()
        })
        .collect()
}

/// Compares declared resources with live objects already fetched (`None`:
/// absent from the cluster), e.g. from `kubectl get -o json`; `live` is
/// parallel to `declared`. [`check`](super::check) does the same after
/// reading the cluster.
pub fn compare_objects(environment: &str, declared: &[Declared], live: Vec<Option<Value>>) -> Report {
    let observed = Observed {
        live: declared
            .iter()
            .zip(live)
            .map(|(d, l)| (d.namespace.clone(), l.map_or(Live::NotFound, Live::Found)))
            .collect(),
        ..Observed::default()
    };
    build(environment, "", "", declared, observed)
}

/// The report: one entry per declared resource (parallel to
/// `observed.live`), then one per extra object, with the summary and score.
pub(crate) fn build(
    environment: &str,
    server: &str,
    selector: &str,
    declared: &[Declared],
    observed: Observed,
) -> Report {
    let dependents = all_dependents(declared);
    let mut resources: Vec<Entry> = declared
        .iter()
        .zip(observed.live)
        .zip(dependents)
        .map(|((d, (namespace, live)), deps)| entry(d, namespace, live, deps))
        .collect();
    resources.extend(observed.extras.iter().map(extra_entry));
    let summary = summarize(&resources);
    Report {
        environment: environment.to_string(),
        base: None,
        server: server.to_string(),
        selector: selector.to_string(),
        score: resources.iter().map(|r| r.score).sum(),
        resources,
        summary,
        warnings: observed.warnings,
    }
}

/// A declared resource's entry: in sync, drifted (with its differences),
/// missing or unreadable; scored by its differences' weights (10 when
/// missing) times one plus its dependents.
fn entry(d: &Declared, namespace: Option<String>, live: Live, deps: Vec<String>) -> Entry {
    let factor = 1 + deps.len() as u32;
    let (status, differences, message) = match live {
        Live::Found(live) => {
            let differences: Vec<Difference> = compare(&d.resource, &live)
                .into_iter()
                .map(|diff| Difference {
                    path: display(&diff.path),
                    git: diff.git,
                    live: diff.live,
                    weight: weight(&diff.path),
                    segments: diff.path,
                })
                .collect();
            let status = if differences.is_empty() {
                Status::InSync
            } else {
                Status::Drifted
            };
            (status, differences, None)
        }
        Live::NotFound => (Status::Missing, Vec::new(), None),
        Live::Failed(message) => (Status::Unreadable, Vec::new(), Some(message)),
    };
    let score = match status {
        Status::Drifted => differences.iter().map(|d| d.weight).sum::<u32>() * factor,
        Status::Missing => 10 * factor,
        _ => 0,
    };
    Entry {
        api_version: d.api_version().to_string(),
        kind: d.kind().to_string(),
        namespace,
        name: d.name().to_string(),
        file: Some(d.path.clone()),
        document: d.document,
        status,
        differences,
        dependents: deps,
        score,
        message,
    }
}

/// An extra object's entry (tracked in the cluster, absent from Git): score 5.
fn extra_entry(extra: &Value) -> Entry {
    let (api_version, kind, namespace, name) = identity(extra);
    Entry {
        api_version,
        kind,
        namespace,
        name,
        file: None,
        document: 0,
        status: Status::Extra,
        differences: Vec::new(),
        dependents: Vec::new(),
        score: 5,
        message: None,
    }
}

/// How many entries have each status.
fn summarize(resources: &[Entry]) -> Summary {
    let mut summary = Summary::default();
    for r in resources {
        *match r.status {
            Status::InSync => &mut summary.in_sync,
            Status::Drifted => &mut summary.drifted,
            Status::Missing => &mut summary.missing,
            Status::Extra => &mut summary.extra,
            Status::Unreadable => &mut summary.unreadable,
        } += 1;
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn k(keys: &[&str]) -> Vec<Seg> {
        keys.iter().map(|k| Seg::Key(k.to_string())).collect()
    }

    #[test]
    fn image_and_replicas_weigh_more_than_resources_and_labels() {
        let mut image = k(&["spec", "template", "spec", "containers"]);
        image.push(Seg::Named("web".into()));
        image.push(Seg::Key("image".into()));
        assert_eq!(weight(&image), 10);
        assert_eq!(weight(&k(&["spec", "replicas"])), 8);
        assert_eq!(weight(&k(&["spec", "resources", "limits", "cpu"])), 5);
        assert_eq!(weight(&k(&["metadata", "labels", "team"])), 1);
        assert_eq!(weight(&k(&["spec", "paused"])), 3);
    }

    #[test]
    fn services_hpas_and_ingresses_are_dependents() {
        let decl = |kind: &str, name: &str, resource: Value| Declared {
            path: format!("{kind}.yaml"),
            document: 0,
            namespace: Some("shop".into()),
            resource: {
                let mut r = resource;
                r["kind"] = kind.into();
                r["metadata"] = json!({"name": name});
                r
            },
        };
        let declared = vec![
            decl(
                "Deployment",
                "web",
                json!({"spec": {"template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"serviceAccountName": "web", "volumes": [{"name": "c", "configMap": {"name": "web-conf"}}]}}}}),
            ),
            decl("Service", "web", json!({"spec": {"selector": {"app": "web"}}})),
            decl(
                "Service",
                "other",
                json!({"spec": {"selector": {"app": "other"}}}),
            ),
            decl(
                "HorizontalPodAutoscaler",
                "web",
                json!({"spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}}}),
            ),
            decl(
                "Ingress",
                "web",
                json!({"spec": {"rules": [{"http": {"paths": [{"backend": {"service": {"name": "web"}}}]}}]}}),
            ),
            decl("ConfigMap", "web-conf", json!({})),
        ];
        let dependents = |i: usize| all_dependents(&declared)[i].clone();
        assert_eq!(dependents(0), ["Service/web", "HorizontalPodAutoscaler/web"]);
        assert_eq!(dependents(1), ["Ingress/web"]);
        assert_eq!(dependents(5), ["Deployment/web"]);
        assert!(dependents(2).is_empty());
    }
}
