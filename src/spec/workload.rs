//! Workload options: the Kubernetes kind when the archetype's is not what
//! was asked (a bare Pod, a ReplicaSet, a ReplicationController, or no
//! workload at all: a Service over pods that already run), a bare pod's
//! restart policy, and a Deployment's rollout (strategy, surge,
//! unavailability, readiness and history).
//!
//! Types and checks only. `render/workload.rs` resolves them and gives a
//! finding when a kind loosens the default (nothing recreates a bare Pod);
//! `lift/workload.rs` reads them back.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::check::Checker;
use super::{Component, WorkloadKind};

/// How the workload itself is built; null keeps the archetype's kind and the default rollout.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkloadOptions {
    /// The Kubernetes kind; null uses the archetype's (a Deployment for web_service and worker).
    pub kind: Option<KindChoice>,
    /// A bare pod's restart policy; null means `always`. Only with kind `pod`.
    pub restart_policy: Option<PodRestartPolicy>,
    /// Deployment rollout: `rolling_update` or `recreate`; null means rolling_update (recreate with storage).
    pub strategy: Option<Strategy>,
    /// Rolling update: extra pods allowed, a number (`1`) or a percentage (`25%`); null means 25%.
    pub max_surge: Option<String>,
    /// Rolling update: pods that may be unavailable, a number (`0`) or a percentage; null means 25%.
    pub max_unavailable: Option<String>,
    /// Seconds a new pod must be ready before it counts as available; null means 0.
    pub min_ready_seconds: Option<u32>,
    /// Seconds before a stuck rollout is reported failed; null means 600.
    pub progress_deadline_seconds: Option<u32>,
    /// Old ReplicaSets kept for rollback; null means 5.
    pub revision_history_limit: Option<u32>,
}

/// A workload kind other than the archetype's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum KindChoice {
    /// A Deployment (the default of web_service and worker).
    Deployment,
    /// A bare Pod: nothing recreates it when it fails or its node goes away.
    Pod,
    /// A ReplicaSet without a Deployment (no rollouts).
    ReplicaSet,
    /// A ReplicationController (the legacy ReplicaSet).
    ReplicationController,
    /// No workload: only the Service over pods that already run (`service.selector`) and the component's `objects`.
    None,
}

/// A bare pod's restart policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PodRestartPolicy {
    Always,
    OnFailure,
    Never,
}

/// A Deployment's rollout strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Replace pods a few at a time.
    RollingUpdate,
    /// Stop every old pod before starting new ones.
    Recreate,
}

impl PodRestartPolicy {
    /// The Kubernetes spelling.
    pub fn as_k8s(self) -> &'static str {
        match self {
            PodRestartPolicy::Always => "Always",
            PodRestartPolicy::OnFailure => "OnFailure",
            PodRestartPolicy::Never => "Never",
        }
    }
}

impl Strategy {
    /// The Kubernetes spelling.
    pub fn as_k8s(self) -> &'static str {
        match self {
            Strategy::RollingUpdate => "RollingUpdate",
            Strategy::Recreate => "Recreate",
        }
    }
}

impl Component {
    /// The workload kind this component renders to: the archetype's unless
    /// `workload.kind` chose another; `None` when it has no workload.
    pub fn workload_kind(&self) -> Option<WorkloadKind> {
        match self.workload.as_ref().and_then(|w| w.kind) {
            None | Some(KindChoice::Deployment) => Some(self.archetype.workload()),
            Some(KindChoice::Pod) => Some(WorkloadKind::Pod),
            Some(KindChoice::ReplicaSet) => Some(WorkloadKind::ReplicaSet),
            Some(KindChoice::ReplicationController) => Some(WorkloadKind::ReplicationController),
            Some(KindChoice::None) => None,
        }
    }

    /// True when the component runs no workload of its own.
    pub fn has_no_workload(&self) -> bool {
        self.workload_kind().is_none()
    }
}

/// A surge or unavailability: a count or a percentage up to 100%.
fn is_count_or_percent(s: &str) -> bool {
    match s.strip_suffix('%') {
        Some(p) => p.parse::<u32>().is_ok_and(|n| n <= 100),
        None => s.parse::<u32>().is_ok_and(|n| n <= 10_000),
    }
}

/// Checks which kinds the archetype allows and which options the kind takes.
pub(super) fn check(c: &mut Checker, at: &str, comp: &Component) {
    let Some(w) = &comp.workload else { return };
    let generic = comp.archetype.workload() == WorkloadKind::Deployment;
    if w.kind.is_some() && !generic {
        c.fail(
            format!("{at}/kind"),
            format!(
                "a {} is always a {:?}; kind is only for web_service and worker",
                comp.archetype,
                comp.archetype.workload()
            ),
        );
    }
    if let Some(kind) = w.kind.filter(|k| *k != KindChoice::Deployment) {
        kind_options(c, at, comp, kind);
    }
    if w.restart_policy.is_some() && w.kind != Some(KindChoice::Pod) {
        c.fail(
            format!("{at}/restart_policy"),
            "only a bare pod (kind pod) has this option; jobs use batch.restart_policy",
        );
    }
    rollout(c, at, comp, w);
}

/// The rollout options: a Deployment's only, surge and unavailability as a
/// count or percentage (not both 0, none for a recreate rollout), bounded
/// durations and history.
fn rollout(c: &mut Checker, at: &str, comp: &Component, w: &WorkloadOptions) {
    let deployment = comp.workload_kind() == Some(WorkloadKind::Deployment);
    let rollout = [
        ("strategy", w.strategy.is_some()),
        ("max_surge", w.max_surge.is_some()),
        ("max_unavailable", w.max_unavailable.is_some()),
        ("progress_deadline_seconds", w.progress_deadline_seconds.is_some()),
        ("revision_history_limit", w.revision_history_limit.is_some()),
    ];
    for (key, set) in rollout {
        if set && !deployment {
            c.fail(format!("{at}/{key}"), "only a Deployment has a rollout; use null");
        }
    }
    for (key, value) in [
        ("max_surge", &w.max_surge),
        ("max_unavailable", &w.max_unavailable),
    ] {
        if let Some(v) = value {
            if !is_count_or_percent(v) {
                c.fail(
                    format!("{at}/{key}"),
                    format!("{v:?} is not a count such as 1 or a percentage such as 25%"),
                );
            }
            if w.strategy == Some(Strategy::Recreate) {
                c.fail(
                    format!("{at}/{key}"),
                    "a recreate rollout has no surge or unavailability; use null",
                );
            }
        }
    }
    if w.max_surge.as_deref().is_some_and(is_zero) && w.max_unavailable.as_deref().is_some_and(is_zero) {
        c.fail(
            format!("{at}/max_surge"),
            "max_surge and max_unavailable cannot both be 0",
        );
    }
    for (key, value, max) in [
        ("min_ready_seconds", w.min_ready_seconds, 3_600),
        ("progress_deadline_seconds", w.progress_deadline_seconds, 86_400),
        ("revision_history_limit", w.revision_history_limit, 100),
    ] {
        if value.is_some_and(|v| v > max) {
            c.fail(format!("{at}/{key}"), format!("more than {max}"));
        }
    }
}

fn is_zero(s: &str) -> bool {
    s.trim_end_matches('%') == "0"
}

/// What a pod, a ReplicaSet or no workload cannot carry.
fn kind_options(c: &mut Checker, at: &str, comp: &Component, kind: KindChoice) {
    let parent = at.rsplit_once('/').map_or("", |(p, _)| p);
    if comp.autoscaling.is_some() {
        c.fail(
            format!("{parent}/autoscaling"),
            "only a Deployment is autoscaled here; set autoscaling to null",
        );
    }
    match kind {
        KindChoice::Pod if comp.replicas.is_some_and(|r| r != 1) => c.fail(
            format!("{parent}/replicas"),
            "a bare pod is one pod; use a Deployment (kind null) for replicas",
        ),
        KindChoice::None => {
            let selects = comp.service.as_ref().is_some_and(|s| !s.selector.is_empty());
            let external = comp
                .service
                .as_ref()
                .is_some_and(|s| s.kind == super::ServiceType::ExternalName);
            let objects = comp.objects.as_ref().is_some_and(|o| !o.is_empty());
            if !(selects || external || objects) {
                c.fail(
                    format!("{at}/kind"),
                    "no workload leaves nothing to render: give service.selector (a Service over existing pods) or objects",
                );
            }
            for (key, set) in [
                ("image", comp.image.is_some()),
                ("replicas", comp.replicas.is_some()),
                ("storage", comp.storage.is_some()),
                ("pod", comp.pod.is_some()),
                ("rbac", comp.rbac.is_some()),
                ("probes", comp.probes.is_some()),
                ("health_check", comp.health_check.is_some()),
                ("high_availability", comp.high_availability.is_some()),
                ("ports", !comp.ports.is_empty()),
                ("env", !comp.env.is_empty()),
                ("secret_refs", !comp.secret_refs.is_empty()),
            ] {
                if set {
                    c.fail(
                        format!("{parent}/{key}"),
                        "a component without a workload runs no container; use null (or empty)",
                    );
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::spec::*;

    fn problems(spec: Spec) -> String {
        let mut spec = spec;
        match spec.normalize() {
            Ok(()) => String::new(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn kinds_take_only_the_options_that_fit_them() {
        let bad_pod = Spec::test(Archetype::Worker).with(|c| {
            c.image = Some("acme/w:1".into());
            c.replicas = Some(3);
            c.workload = Some(WorkloadOptions {
                kind: Some(KindChoice::Pod),
                strategy: Some(Strategy::Recreate),
                max_surge: Some("lots".into()),
                ..Default::default()
            });
        });
        let found = problems(bad_pod);
        for expected in ["/replicas", "/workload/strategy", "/workload/max_surge"] {
            assert!(found.contains(expected), "{expected} in {found}");
        }
        let redis_pod = Spec::test(Archetype::Redis).with(|c| {
            c.workload = Some(WorkloadOptions {
                kind: Some(KindChoice::Pod),
                ..Default::default()
            });
        });
        assert!(problems(redis_pod).contains("/workload/kind"));
        let redis_deployment = Spec::test(Archetype::Redis).with(|c| {
            c.workload = Some(WorkloadOptions {
                kind: Some(KindChoice::Deployment),
                ..Default::default()
            });
        });
        assert!(problems(redis_deployment).contains("always a StatefulSet"));
        let restart = Spec::test(Archetype::Worker).with(|c| {
            c.image = Some("acme/w:1".into());
            c.workload = Some(WorkloadOptions {
                restart_policy: Some(PodRestartPolicy::Never),
                ..Default::default()
            });
        });
        assert!(problems(restart).contains("/workload/restart_policy"));
    }

    #[test]
    fn no_workload_needs_something_to_render_and_runs_no_container() {
        let empty = Spec::test(Archetype::WebService).with(|c| {
            c.workload = Some(WorkloadOptions {
                kind: Some(KindChoice::None),
                ..Default::default()
            });
        });
        let found = problems(empty.clone());
        assert!(found.contains("/workload/kind"), "{found}");
        assert!(!found.contains("/image"), "no image is needed: {found}");
        let with_image = empty.with(|c| {
            c.image = Some("acme/w:1".into());
            c.objects = Some(Objects {
                config_maps: vec![ConfigMapObject {
                    name: "cfg".into(),
                    data: vec![ConfigEntry {
                        key: "db-password".into(),
                        value: "x".into(),
                    }],
                }],
                ..Default::default()
            });
        });
        let found = problems(with_image);
        assert!(found.contains("/components/0/image"), "{found}");
        assert!(
            found.contains("config_maps/0/data/0/key") && found.contains("Secret"),
            "{found}"
        );
    }
}
