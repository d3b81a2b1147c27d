//! Files of manifests as they travel between stages.

use serde::{Deserialize, Serialize};

/// The kinds that run pods from a template of their own.
pub(crate) const WORKLOAD_KINDS: [&str; 6] = [
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "CronJob",
    "Job",
    "ReplicaSet",
];

/// The annotation that lists the policy rules a resource waives (see `policy::waiver`).
pub(crate) const WAIVE_ANNOTATION: &str = "gitintent.io/waive";
/// The annotation that says why; a waiver without one waives nothing.
pub(crate) const WAIVE_REASON_ANNOTATION: &str = "gitintent.io/waive-reason";

/// A file of Kubernetes manifests, with a path relative to the repo root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct File {
    /// Relative path with `/` separators, e.g. `clusters/production/apps/redis/statefulset.yaml`.
    pub path: String,
    /// YAML text.
    pub content: String,
}

/// Parses a Kubernetes quantity (`500m`, `1.5Gi`, `2e3`) into base units.
pub(crate) fn quantity(s: &str) -> Option<f64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        e if e.starts_with(['e', 'E']) => 10f64.powi(e[1..].parse().ok()?),
        _ => return None,
    };
    Some(n * factor)
}

/// The files a plan's day-2 changes produce (edited in place, or added next
/// to an existing workload) and remove. A diff treats them as edits of what
/// exists, not as a new app directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InPlace {
    /// Paths of files (in the plan's `files`) that changes edited or added.
    pub changed: Vec<String>,
    /// Paths the changes remove.
    pub deleted: Vec<String>,
    /// Overlay patches among `changed` (partial documents, not manifests).
    #[serde(default)]
    pub patches: Vec<String>,
    /// What each patch makes of its base: the workload as that environment
    /// runs it, for checks that need whole manifests (`plan --cluster`).
    #[serde(default)]
    pub patched: Vec<File>,
}

impl InPlace {
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.deleted.is_empty()
    }
}

/// A container of a workload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Container {
    pub name: String,
    pub image: String,
}

/// One workload the repository declares (`change::Inventory` finds them; the
/// planners are told about them).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workload {
    pub kind: String,
    pub name: String,
    /// Its `metadata.namespace`, else the namespace of the nearest kustomization
    /// above it; empty when neither sets one.
    pub namespace: String,
    /// Environments that deploy it (empty when the repository has none).
    pub environments: Vec<String>,
    /// The file, and the document inside it.
    pub path: String,
    #[serde(skip)]
    pub document: usize,
    pub containers: Vec<Container>,
    pub replicas: Option<u64>,
}
