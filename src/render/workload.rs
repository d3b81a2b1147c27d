//! The workload's kind, a bare pod's restart policy and a Deployment's
//! rollout for the templates, with a finding when the kind loosens what a
//! Deployment guarantees (a bare Pod is not recreated; a ReplicaSet or a
//! ReplicationController does not roll out a new image).

use serde_json::{json, Value};

use crate::finding::{Finding, Severity};
use crate::spec::{Component, KindChoice, Strategy, WorkloadKind};

/// The template name of the component's workload (`deployment`, `pod`, …),
/// or `none` when it runs none.
pub(super) fn name(kind: Option<WorkloadKind>) -> &'static str {
    match kind {
        Some(WorkloadKind::Deployment) => "deployment",
        Some(WorkloadKind::StatefulSet) => "statefulset",
        Some(WorkloadKind::DaemonSet) => "daemonset",
        Some(WorkloadKind::CronJob) => "cronjob",
        Some(WorkloadKind::Job) => "job",
        Some(WorkloadKind::Pod) => "pod",
        Some(WorkloadKind::ReplicaSet) => "replicaset",
        Some(WorkloadKind::ReplicationController) => "replicationcontroller",
        None => "none",
    }
}

/// `strategy`, `min_ready_seconds`, `progress_deadline_seconds` and
/// `revision_history_limit` of a Deployment; `storage`: the pods share a
/// claim, so the default strategy is Recreate.
pub(super) fn rollout(comp: &Component, storage: bool) -> Value {
    let w = comp.workload.clone().unwrap_or_default();
    let strategy = match (w.strategy, storage) {
        (Some(Strategy::Recreate), _) | (None, true) => json!({"type": "Recreate"}),
        (Some(Strategy::RollingUpdate), _) | (None, false)
            if w.max_surge.is_some() || w.max_unavailable.is_some() =>
        {
            let mut rolling = serde_json::Map::new();
            for (key, value) in [("maxSurge", &w.max_surge), ("maxUnavailable", &w.max_unavailable)] {
                if let Some(v) = value {
                    rolling.insert(
                        key.into(),
                        v.parse::<u32>().map_or_else(|_| json!(v), |n| json!(n)),
                    );
                }
            }
            json!({"type": "RollingUpdate", "rollingUpdate": rolling})
        }
        (Some(Strategy::RollingUpdate), _) => json!({"type": "RollingUpdate"}),
        (None, false) => Value::Null,
    };
    json!({
        "strategy": strategy,
        "min_ready_seconds": w.min_ready_seconds,
        "progress_deadline_seconds": w.progress_deadline_seconds,
        "revision_history_limit": w.revision_history_limit.unwrap_or(5),
    })
}

/// A bare pod's `restartPolicy`, when the spec sets one.
pub(super) fn restart_policy(comp: &Component) -> Option<&'static str> {
    comp.workload
        .as_ref()
        .and_then(|w| w.restart_policy)
        .map(|r| r.as_k8s())
}

/// What a kind other than the archetype's gives up, as a finding.
pub(super) fn findings(comp: &Component, findings: &mut Vec<Finding>) {
    let Some(kind) = comp.workload.as_ref().and_then(|w| w.kind) else {
        return;
    };
    let (resource, message) = match kind {
        KindChoice::Pod => (
            "Pod",
            "is a bare Pod, as asked: nothing recreates it if it fails or its node goes away, and it cannot be \
             updated in place; a Deployment (kind null) would",
        ),
        KindChoice::ReplicaSet => (
            "ReplicaSet",
            "is a ReplicaSet without a Deployment, as asked: a new image does not roll out to running pods; a \
             Deployment (kind null) would",
        ),
        KindChoice::ReplicationController => (
            "ReplicationController",
            "is a ReplicationController, as asked: the legacy form of a ReplicaSet, without rollouts or set-based \
             selectors; a Deployment (kind null) would",
        ),
        KindChoice::Deployment | KindChoice::None => return,
    };
    findings.push(Finding::new(
        Severity::Warning,
        "workload-without-controller",
        format!("{resource}/{}", comp.name),
        "/kind",
        format!("{} {message}", comp.name),
    ));
}
