//! Lift: existing Kubernetes manifests back to the spec that renders them.
//!
//! [`lift`] reads parsed documents field by field (`tree.rs`): every field
//! the spec can carry is taken into a [`Component`], and every field left
//! over is listed in [`Lifted::unsupported`] with its path, value and why, so
//! nothing is dropped without a word. Workloads become components
//! (`workload.rs`); a Service, HorizontalPodAutoscaler or ServiceAccount that
//! belongs to one is folded into it (`attach.rs`); any other kind is
//! unsupported as a whole. [`coverage`] is the round trip that measures it:
//! render the lifted spec and check that every key-value of each original
//! (labels, names, namespaces and annotations aside) is in the output.
//!
//! Lift does not plan, validate or write anything, and never reads a
//! repository's conventions: the spec it prints renders with the default
//! layout.

mod attach;
mod coverage;
mod objects;
mod pod;
mod probe;
mod read;
mod spread;
mod tree;
mod workload;

use serde::Serialize;
use serde_json::Value;

use crate::spec::{Component, Spec};

pub use coverage::{coverage, Coverage, Loss, ResourceCoverage};
pub use read::{read_paths, Source};

/// Lift failures: only reading and parsing; what cannot be lifted is data.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A path could not be read.
    #[error("cannot read {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A file is not YAML.
    #[error("{path} is not YAML: {message}")]
    Parse { path: String, message: String },
    /// No manifests under the given paths.
    #[error("no Kubernetes manifests under {0}")]
    Empty(String),
}

/// One field the spec cannot carry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unsupported {
    /// `Kind/name` of the resource.
    pub resource: String,
    /// JSON pointer inside the resource; empty for the whole resource.
    pub path: String,
    /// The value that was not lifted.
    pub value: Value,
    /// Why the spec cannot carry it.
    pub reason: String,
}

/// One input resource and where it went.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resource {
    /// `Kind/name`.
    pub resource: String,
    /// The file it came from.
    pub file: String,
    /// The component it was lifted into; none when unsupported as a whole.
    pub component: Option<String>,
    /// The document as read.
    #[serde(skip)]
    pub original: Value,
    /// Its unsupported fields.
    #[serde(skip)]
    pub unsupported: Vec<Unsupported>,
}

/// What lift made of the input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lifted {
    /// The spec; `components` is empty when no workload could be lifted.
    pub spec: Spec,
    /// Every field the spec cannot carry, over all resources.
    pub unsupported: Vec<Unsupported>,
    /// Every input resource, in input order.
    pub resources: Vec<Resource>,
}

/// A workload being lifted, with the trees of the resources folded into it.
pub(crate) struct Draft {
    pub(crate) component: Component,
    /// Index of the workload in the input.
    pub(crate) index: usize,
    /// The pod template's labels, which a Service selects.
    pub(crate) pod_labels: serde_json::Map<String, Value>,
    /// The workload's kind and original name.
    pub(crate) kind: String,
    pub(crate) name: String,
    /// Without a workload: the labels its Service selects.
    pub(crate) selector: Vec<crate::spec::KeyValue>,
}

/// Lifts parsed documents (each with the file it came from) into a spec.
///
/// `environment` names the spec's environment. The spec's namespace is the
/// one most resources name (else `default`).
pub fn lift(docs: &[(String, Value)], environment: &str) -> Lifted {
    let mut resources: Vec<Resource> = docs
        .iter()
        .filter(|(_, d)| read::is_resource(d))
        .map(|(file, doc)| Resource {
            resource: read::identity(doc),
            file: file.clone(),
            component: None,
            original: doc.clone(),
            unsupported: Vec::new(),
        })
        .collect();
    let mut drafts: Vec<Draft> = Vec::new();
    let mut trees: Vec<Option<tree::Tree>> = Vec::new();
    for (i, r) in resources.iter_mut().enumerate() {
        let mut t = tree::Tree::new(r.resource.clone(), &r.original);
        match workload::lift(&mut t, i) {
            Ok(Some(d)) => {
                t.take("/apiVersion");
                t.take("/kind");
                drafts.push(d);
            }
            Ok(None) => {}
            Err(reason) => r.unsupported.push(whole(r, reason)),
        }
        trees.push(Some(t));
    }
    attach::fold(&mut resources, &mut trees, &mut drafts);
    let namespace = read::namespace(&resources);
    let mut spec = Spec {
        environment: environment.to_string(),
        environments: vec![],
        namespace,
        components: Vec::new(),
        changes: Vec::new(),
        assumptions: Vec::new(),
        questions: Vec::new(),
        unsupported: Vec::new(),
    };
    accept(&mut spec, drafts, &mut resources, &mut trees);
    for (r, t) in resources.iter_mut().zip(trees) {
        if let (Some(t), true) = (t, r.unsupported.is_empty()) {
            r.unsupported = t.leftovers(reason_for);
        }
    }
    let unsupported = resources.iter().flat_map(|r| r.unsupported.clone()).collect();
    Lifted {
        spec,
        unsupported,
        resources,
    }
}

/// Keeps each draft whose component passes the spec's checks on its own;
/// a draft that fails makes its resources unsupported, with the problems.
fn accept(spec: &mut Spec, drafts: Vec<Draft>, resources: &mut [Resource], trees: &mut [Option<tree::Tree>]) {
    for d in drafts {
        let mut alone = Spec {
            components: vec![d.component.clone()],
            ..spec.clone()
        };
        let taken = spec.components.iter().any(|c| c.name == d.component.name);
        match alone.normalize() {
            Ok(()) if !taken && spec.components.len() < 20 => {
                let comp = alone.components.remove(0);
                for r in resources
                    .iter_mut()
                    .filter(|r| r.component.as_deref() == Some(&d.name))
                {
                    r.component = Some(comp.name.clone());
                }
                resources[d.index].component = Some(comp.name.clone());
                spec.components.push(comp);
            }
            outcome => {
                let reason = match outcome {
                    Err(e) => format!("the lifted component fails the spec's checks: {e}"),
                    Ok(()) if taken => "a second workload of the same name".to_string(),
                    Ok(()) => "more than 20 workloads in one spec; lift fewer paths".to_string(),
                };
                for (i, r) in resources.iter_mut().enumerate() {
                    let mine = i == d.index || r.component.as_deref() == Some(&d.name);
                    if mine {
                        r.component = None;
                        r.unsupported = vec![whole(r, reason.clone())];
                        trees[i] = None;
                    }
                }
            }
        }
    }
}

/// The whole resource as one unsupported entry.
fn whole(r: &Resource, reason: String) -> Unsupported {
    Unsupported {
        resource: r.resource.clone(),
        path: String::new(),
        value: Value::Null,
        reason,
    }
}

/// Why a leftover field is not in the spec, by where it is.
fn reason_for(path: &str) -> String {
    let last = path.rsplit('/').next().unwrap_or("");
    let reason = match last {
        "initContainers" => "init containers are not in the spec",
        "securityContext" | "capabilities" | "runAsUser" | "runAsGroup" | "fsGroup" | "privileged" => {
            "security contexts beyond the secure defaults are not in the spec"
        }
        "readinessProbe"
        | "livenessProbe"
        | "startupProbe"
        | "initialDelaySeconds"
        | "periodSeconds"
        | "timeoutSeconds"
        | "failureThreshold"
        | "successThreshold"
        | "exec" => "probe options beyond an HTTP path or TCP port are not in the spec",
        "hostPath" | "hostPort" | "hostNetwork" | "hostPID" | "hostIPC" => {
            "host access stays behind a waived policy"
        }
        "strategy" | "revisionHistoryLimit" | "minReadySeconds" | "progressDeadlineSeconds" => {
            "rollout options are not in the spec"
        }
        "topologySpreadConstraints" | "podAntiAffinity" | "podAffinity" => {
            "spreading is only the spec's high_availability.spread"
        }
        _ if path.contains("/containers/") && !path.contains("/containers/0") => {
            "only one container per pod (no sidecars)"
        }
        _ => "not in the spec",
    };
    reason.to_string()
}

#[cfg(test)]
mod tests;
