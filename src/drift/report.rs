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

/// True when `value` holds `{outer: {inner: name}}` anywhere below it.
fn references(value: &Value, outer: &[&str], inner: &str, name: &str) -> bool {
    match value {
        Value::Object(m) => m.iter().any(|(k, v)| {
            (outer.contains(&k.as_str()) && v.get(inner).and_then(Value::as_str) == Some(name))
                || (outer.is_empty() && k == inner && v.as_str() == Some(name))
                || references(v, outer, inner, name)
        }),
        Value::Array(a) => a.iter().any(|v| references(v, outer, inner, name)),
        _ => false,
    }
}

/// Does `other` depend on `target`? Both are in the same namespace.
fn depends_on(other: &Value, target: &Value) -> bool {
    let kind = str_at(target, &["kind"]).unwrap_or_default();
    let name = str_at(target, &["metadata", "name"]).unwrap_or_default();
    let other_kind = str_at(other, &["kind"]).unwrap_or_default();
    if WORKLOADS.contains(&kind) {
        let pod_labels = target
            .pointer("/spec/template/metadata/labels")
            .or_else(|| target.pointer("/spec/jobTemplate/spec/template/metadata/labels"));
        return match other_kind {
            "Service" => labels_match(other.pointer("/spec/selector"), pod_labels),
            "PodDisruptionBudget" => labels_match(other.pointer("/spec/selector/matchLabels"), pod_labels),
            "NetworkPolicy" => labels_match(other.pointer("/spec/podSelector/matchLabels"), pod_labels),
            "HorizontalPodAutoscaler" => {
                str_at(other, &["spec", "scaleTargetRef", "kind"]) == Some(kind)
                    && str_at(other, &["spec", "scaleTargetRef", "name"]) == Some(name)
            }
            _ => false,
        };
    }
    let Some(pod) = (WORKLOADS.contains(&other_kind))
        .then(|| pod_spec(other))
        .flatten()
    else {
        return other_kind == "Ingress" && kind == "Service" && references(other, &["service"], "name", name);
    };
    match kind {
        "ConfigMap" => references(
            pod,
            &["configMap", "configMapRef", "configMapKeyRef"],
            "name",
            name,
        ),
        "PersistentVolumeClaim" => references(pod, &["persistentVolumeClaim"], "claimName", name),
        "ServiceAccount" => pod.get("serviceAccountName").and_then(Value::as_str) == Some(name),
        _ => false,
    }
}

fn dependents(declared: &[Declared], i: usize) -> Vec<String> {
    let target = &declared[i];
    declared
        .iter()
        .enumerate()
        .filter(|(j, d)| {
            *j != i && d.namespace == target.namespace && depends_on(&d.resource, &target.resource)
        })
        .map(|(_, d)| format!("{}/{}", d.kind(), d.name()))
        .collect()
}

pub(crate) fn build(
    environment: &str,
    server: &str,
    selector: &str,
    declared: &[Declared],
    observed: Observed,
) -> Report {
    let mut resources = Vec::new();
    for (i, (d, (namespace, live))) in declared.iter().zip(observed.live).enumerate() {
        let deps = dependents(declared, i);
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
        resources.push(Entry {
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
        });
    }
    for extra in observed.extras {
        let (api_version, kind, namespace, name) = identity(&extra);
        resources.push(Entry {
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
        });
    }
    let mut summary = Summary::default();
    for r in &resources {
        *match r.status {
            Status::InSync => &mut summary.in_sync,
            Status::Drifted => &mut summary.drifted,
            Status::Missing => &mut summary.missing,
            Status::Extra => &mut summary.extra,
            Status::Unreadable => &mut summary.unreadable,
        } += 1;
    }
    Report {
        environment: environment.to_string(),
        server: server.to_string(),
        selector: selector.to_string(),
        score: resources.iter().map(|r| r.score).sum(),
        resources,
        summary,
        warnings: observed.warnings,
    }
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
        assert_eq!(
            dependents(&declared, 0),
            ["Service/web", "HorizontalPodAutoscaler/web"]
        );
        assert_eq!(dependents(&declared, 1), ["Ingress/web"]);
        assert_eq!(dependents(&declared, 5), ["Deployment/web"]);
        assert!(dependents(&declared, 2).is_empty());
    }
}
