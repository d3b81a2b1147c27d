//! The Kubernetes kinds an intent names, against the kinds the plan makes.
//!
//! "a pod", "a bare pod", "a ReplicaSet" and "a ReplicationController" set
//! the component's `workload.kind` ([`read`]). After the plan is built,
//! [`check`] refuses it when the text names a kind (a StatefulSet, a
//! DaemonSet, a ConfigMap, …) that no component would create: the builtin
//! planner read only part of the request and would plan something else (a
//! Deployment for a StatefulSet, a Kafka StatefulSet for a NodePort
//! Service). The refusal names what was understood.
//!
//! Only the text left after the option phrases is read (`options.rs` cuts
//! "a Role that can get pods" out first), and plural or qualified words
//! ("pods labelled", "pod disruption budget") name no kind, nor do a
//! negated one ("no StatefulSet") and a database's "replica set" (only the
//! one word `ReplicaSet` does). An Ingress or a NetworkPolicy is read by the
//! exposure and access readers, not here.

use crate::plan::Error;
use crate::spec::{Component, KindChoice, WorkloadKind};

/// A kind the text names, and how it is written.
const KINDS: &[(&[&str], &str)] = &[
    (&["pod"], "Pod"),
    (&["bare", "pod"], "Pod"),
    (&["statefulset"], "StatefulSet"),
    (&["stateful", "set"], "StatefulSet"),
    (&["daemonset"], "DaemonSet"),
    (&["daemon", "set"], "DaemonSet"),
    (&["replicaset"], "ReplicaSet"),
    (&["replicationcontroller"], "ReplicationController"),
    (&["replication", "controller"], "ReplicationController"),
    (&["cronjob"], "CronJob"),
    (&["configmap"], "ConfigMap"),
    (&["persistentvolume"], "PersistentVolume"),
    (&["storageclass"], "StorageClass"),
];

/// Words after "pod" that make it part of another name.
const POD_QUALIFIERS: &[&str] = &[
    "disruption",
    "security",
    "anti",
    "affinity",
    "template",
    "spec",
    "label",
    "labels",
    "labelled",
    "labeled",
    "ip",
];

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// Every kind the text names, once each, in order.
pub(super) fn named(text: &str) -> Vec<&'static str> {
    let w = words(text);
    let mut out: Vec<&'static str> = Vec::new();
    for i in 0..w.len() {
        for (pattern, kind) in KINDS {
            let end = i + pattern.len();
            if end > w.len() || w[i..end].iter().zip(*pattern).any(|(a, b)| a != b) {
                continue;
            }
            let before = i.checked_sub(1).map(|b| w[b].as_str());
            if before.is_some_and(|b| matches!(b, "no" | "not" | "without" | "never")) {
                continue;
            }
            let next = w.get(end).map(String::as_str);
            let qualified = *kind == "Pod" && next.is_some_and(|n| POD_QUALIFIERS.contains(&n));
            let claim = next == Some("claim") && *kind == "PersistentVolume";
            if !qualified && !claim && !out.contains(kind) {
                out.push(kind);
            }
        }
    }
    out
}

/// The workload kind the text asks for instead of the archetype's.
pub(super) fn read(text: &str) -> Option<KindChoice> {
    let named = named(text);
    [
        ("Pod", KindChoice::Pod),
        ("ReplicaSet", KindChoice::ReplicaSet),
        ("ReplicationController", KindChoice::ReplicationController),
    ]
    .into_iter()
    .find(|(k, _)| named.contains(k))
    .map(|(_, choice)| choice)
}

/// The kinds the components create.
fn made(components: &[Component]) -> Vec<&'static str> {
    let mut out = Vec::new();
    for c in components {
        out.push(match c.workload_kind() {
            Some(WorkloadKind::Deployment) => "Deployment",
            Some(WorkloadKind::StatefulSet) => "StatefulSet",
            Some(WorkloadKind::DaemonSet) => "DaemonSet",
            Some(WorkloadKind::CronJob) => "CronJob",
            Some(WorkloadKind::Job) => "Job",
            Some(WorkloadKind::Pod) => "Pod",
            Some(WorkloadKind::ReplicaSet) => "ReplicaSet",
            Some(WorkloadKind::ReplicationController) => "ReplicationController",
            None => "Service",
        });
        if c.exposure.is_some() {
            out.push("Ingress");
        }
        if !c.allow_from_namespaces.is_empty() {
            out.push("NetworkPolicy");
        }
        if let Some(o) = &c.objects {
            for (list, kind) in [
                (o.config_maps.is_empty(), "ConfigMap"),
                (o.persistent_volumes.is_empty(), "PersistentVolume"),
                (o.storage_classes.is_empty(), "StorageClass"),
            ] {
                if !list {
                    out.push(kind);
                }
            }
        }
    }
    out
}

/// Refuses a plan that leaves out a kind the text names.
pub(super) fn check(text: &str, components: &[Component], understood: &[String]) -> Result<(), Error> {
    let made = made(components);
    let missing: Vec<&str> = named(text).into_iter().filter(|k| !made.contains(k)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let planned: Vec<String> = components
        .iter()
        .map(|c| format!("{} {}", made_kind(c), c.name))
        .collect();
    let mut seen = understood.to_vec();
    seen.extend(planned.iter().map(|p| format!("would plan: {p}")));
    Err(Error::NotUnderstood {
        reason: format!(
            "the intent asks for a {} the builtin planner cannot read here, and planning {} instead would be \
             something else; rephrase, or plan with a model (the openai planner)",
            missing.join(" and a "),
            planned.join(" and ")
        ),
        understood: seen,
    })
}

fn made_kind(c: &Component) -> &'static str {
    made(std::slice::from_ref(c))[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_named_by_their_words_and_not_inside_other_names() {
        assert_eq!(named("create a bare pod running nginx:1.25"), ["Pod"]);
        assert_eq!(named("a Stateful Set web of nginx"), ["StatefulSet"]);
        assert!(named("a pod disruption budget for the pods labelled app=x").is_empty());
        assert!(named("10Gi on a persistent volume claim").is_empty());
        assert!(named("internal only, no ingress and no statefulset").is_empty());
        assert_eq!(
            read("a ReplicaSet of 3 busybox:1.36"),
            Some(KindChoice::ReplicaSet)
        );
        assert_eq!(read("deploy acme/web:1.0"), None);
    }

    fn plan(text: &str) -> Result<crate::spec::Spec, Error> {
        super::super::parse::plan(&crate::intent::Intent::new(text, None).unwrap())
    }

    #[test]
    fn a_request_read_in_half_is_refused_with_what_was_understood() {
        let err = plan("Create a StatefulSet web with 2 replicas of nginx:1.25 in dev")
            .unwrap_err()
            .to_string();
        assert!(err.contains("asks for a StatefulSet"), "{err}");
        assert!(err.contains("would plan: Deployment nginx"), "{err}");
        let err = plan("deploy acme/web:1.0 as web on port 8080 with a ConfigMap in dev")
            .unwrap_err()
            .to_string();
        assert!(err.contains("asks for a ConfigMap"), "{err}");
        assert!(
            plan("a MongoDB replica set in dev").is_ok(),
            "a database's replica set is not a ReplicaSet"
        );
    }

    #[test]
    fn a_service_for_labelled_pods_runs_no_workload_and_a_pod_is_a_pod() {
        let spec =
            plan("Create a NodePort service named kafka on port 9092 for pods labelled app=kafka in dev")
                .unwrap();
        let c = &spec.components[0];
        assert!(c.has_no_workload());
        let svc = c.service.as_ref().unwrap();
        assert_eq!(svc.selector[0].value, "kafka");
        assert_eq!(svc.ports.len(), 1);
        assert_eq!(svc.kind, crate::spec::ServiceType::NodePort);
        assert!(
            spec.assumptions.iter().all(|a| !a.contains("image")),
            "{:?}",
            spec.assumptions
        );
        let spec =
            plan("a service named frontend on port 80 for the pods labelled app=guestbook in dev").unwrap();
        assert!(
            spec.assumptions.iter().all(|a| !a.contains("none:0")),
            "{:?}",
            spec.assumptions
        );
        assert!(spec.components[0].image.is_none());
        let spec = plan("create a bare pod running nginx:1.25 in dev").unwrap();
        assert_eq!(spec.components[0].workload_kind(), Some(WorkloadKind::Pod));
        assert!(spec.unsupported.is_empty(), "{:?}", spec.unsupported);
    }
}
