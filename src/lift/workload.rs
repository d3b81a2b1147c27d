//! A workload manifest (Deployment, StatefulSet, DaemonSet, Job, CronJob)
//! to a component: the kind decides the archetype, the workload's own
//! fields (replicas, job and cron options) are read here, the pod template
//! in `pod.rs`.

use serde_json::{json, Value};

use super::tree::Tree;
use super::Draft;
use crate::spec::{
    Archetype, BatchOptions, Component, ConcurrencyPolicy, KindChoice, PodRestartPolicy, Strategy,
    WorkloadOptions,
};

/// Data-store archetypes recognised from a StatefulSet's image.
const STORES: &[(&str, Archetype)] = &[
    ("redis", Archetype::Redis),
    ("postgres", Archetype::Postgres),
    ("mysql", Archetype::Mysql),
    ("mongo", Archetype::Mongodb),
    ("memcached", Archetype::Memcached),
    ("rabbitmq", Archetype::Rabbitmq),
    ("kafka", Archetype::Kafka),
    ("elasticsearch", Archetype::Elasticsearch),
    ("zookeeper", Archetype::Zookeeper),
    ("minio", Archetype::Minio),
    ("grafana", Archetype::Grafana),
];

/// Lifts a workload. `Ok(None)`: not a workload kind (another stage may
/// fold it); `Err`: a workload the spec cannot hold at all, with why.
pub(super) fn lift(t: &mut Tree, index: usize) -> Result<Option<Draft>, String> {
    let kind = text(t, "/kind");
    let Some(pod_at) = pod_template(&kind, &text(t, "/apiVersion"))? else {
        return Ok(None);
    };
    let name = text(t, "/metadata/name");
    let image = text(t, &format!("{pod_at}/spec/containers/0/image"));
    let archetype = archetype(
        &kind,
        &image,
        t.len(&format!("{pod_at}/spec/containers/0/ports")) > 0,
    )?;
    let pod_labels = t
        .get(&format!("{pod_at}/metadata/labels"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    take_names(t, pod_at);
    let comp_name = crate::spec::sanitize_name(&name).unwrap_or(name.clone());
    let mut comp = Component::new(&comp_name, archetype);
    workload_fields(t, &kind, &mut comp);
    t.take(&format!("{pod_at}/metadata/labels"));
    t.take(&format!("{pod_at}/metadata/annotations"));
    t.take(&format!("{pod_at}/metadata/name"));
    super::pod::lift(t, &format!("{pod_at}/spec"), &pod_labels, &mut comp);
    Ok(Some(Draft {
        component: comp,
        index,
        pod_labels,
        kind,
        name,
        selector: Vec::new(),
    }))
}

/// The string at `pointer`, or empty.
fn text(t: &Tree, pointer: &str) -> String {
    t.get(pointer).and_then(Value::as_str).unwrap_or("").to_string()
}

/// Where a workload `kind` of `api` (its apiVersion) keeps its pod template
/// (`""` for a bare Pod); `None` for a kind that is not a workload, an error
/// for a workload kind in a version the API server does not serve.
fn pod_template(kind: &str, api: &str) -> Result<Option<&'static str>, String> {
    Ok(Some(match (kind, api) {
        ("Deployment" | "StatefulSet" | "DaemonSet", "apps/v1") | ("Job", "batch/v1") => "/spec/template",
        ("CronJob", "batch/v1") => "/spec/jobTemplate/spec/template",
        ("ReplicaSet", "apps/v1") | ("ReplicationController", "v1") => "/spec/template",
        ("Pod", "v1") => "",
        (
            "Deployment"
            | "StatefulSet"
            | "DaemonSet"
            | "Job"
            | "CronJob"
            | "ReplicaSet"
            | "ReplicationController"
            | "Pod",
            _,
        ) => return Err(format!("{api} is not a served version of {kind}")),
        _ => return Ok(None),
    }))
}

/// The workload's own fields: replicas, rollout, job and cron options.
fn workload_fields(t: &mut Tree, kind: &str, comp: &mut Component) {
    if matches!(
        kind,
        "Deployment" | "StatefulSet" | "ReplicaSet" | "ReplicationController"
    ) {
        comp.replicas = t.number("/spec/replicas");
    }
    let w = rollout(t, kind);
    comp.workload = (w != WorkloadOptions::default()).then_some(w);
    match kind {
        "Job" => comp.batch = Some(job(t, "/spec")),
        "CronJob" => {
            comp.schedule = t.string("/spec/schedule");
            let mut b = job(t, "/spec/jobTemplate/spec");
            cron(t, &mut b);
            comp.batch = Some(b);
        }
        _ => {}
    }
    comp.batch = comp.batch.take().filter(|b| *b != BatchOptions::default());
}

fn archetype(kind: &str, image: &str, has_ports: bool) -> Result<Archetype, String> {
    Ok(match kind {
        "Deployment" | "Pod" | "ReplicaSet" | "ReplicationController" if has_ports => Archetype::WebService,
        "Deployment" | "Pod" | "ReplicaSet" | "ReplicationController" => Archetype::Worker,
        "DaemonSet" => Archetype::Daemon,
        "Job" => Archetype::Job,
        "CronJob" => Archetype::CronJob,
        _ => {
            let repo = image.split([':', '@']).next().unwrap_or("");
            let base = repo.rsplit('/').next().unwrap_or("");
            STORES
                .iter()
                .find(|(prefix, _)| base.starts_with(prefix))
                .map(|(_, a)| *a)
                .ok_or_else(|| {
                    format!("a StatefulSet of {image:?}: the spec has StatefulSets only for the data-store archetypes")
                })?
        }
    })
}

/// Names, namespaces, labels and annotations are not compared; they are
/// taken without a word.
fn take_names(t: &mut Tree, pod_at: &str) {
    for p in [
        "/metadata/name",
        "/metadata/namespace",
        "/metadata/labels",
        "/metadata/annotations",
    ] {
        t.take(p);
    }
    t.take("/spec/selector/matchLabels");
    if t.get("/kind") == Some(&json!("ReplicationController")) {
        t.take("/spec/selector");
    }
    if t.get("/spec/selector")
        .and_then(Value::as_object)
        .is_some_and(|m| m.is_empty())
    {
        t.take("/spec/selector");
    }
    t.take("/spec/serviceName");
    t.take(&format!("{pod_at}/spec/containers/0/name"));
    t.take(&format!("{pod_at}/spec/serviceAccountName"));
    t.take(&format!("{pod_at}/spec/serviceAccount"));
}

/// Job fields under `at` (a Job's `spec` or a CronJob's job template spec).
fn job(t: &mut Tree, at: &str) -> BatchOptions {
    let cron = at != "/spec";
    let ttl = t.number(&format!("{at}/ttlSecondsAfterFinished"));
    let mut b = BatchOptions {
        backoff_limit: t.number(&format!("{at}/backoffLimit")).filter(|n| *n != 2),
        completions: t.number(&format!("{at}/completions")),
        parallelism: t.number(&format!("{at}/parallelism")),
        active_deadline_seconds: t.number(&format!("{at}/activeDeadlineSeconds")),
        ttl_seconds_after_finished: ttl.filter(|n| cron || *n != 86_400),
        ..Default::default()
    };
    if !cron {
        b.suspend = t.take_if("/spec/suspend", &json!(true));
    }
    b
}

/// CronJob-only fields.
fn cron(t: &mut Tree, b: &mut BatchOptions) {
    b.concurrency_policy = match t.get("/spec/concurrencyPolicy").and_then(Value::as_str) {
        Some("Allow") => Some(ConcurrencyPolicy::Allow),
        Some("Replace") => Some(ConcurrencyPolicy::Replace),
        Some("Forbid") => None,
        _ => return cron_rest(t, b),
    };
    t.take("/spec/concurrencyPolicy");
    cron_rest(t, b);
}

fn cron_rest(t: &mut Tree, b: &mut BatchOptions) {
    b.starting_deadline_seconds = t.number("/spec/startingDeadlineSeconds");
    b.successful_jobs_history_limit = t.number("/spec/successfulJobsHistoryLimit").filter(|n| *n != 3);
    b.failed_jobs_history_limit = t.number("/spec/failedJobsHistoryLimit").filter(|n| *n != 3);
    b.time_zone = t.string("/spec/timeZone");
    b.suspend = t.take_if("/spec/suspend", &json!(true));
    t.take("/spec/jobTemplate/metadata/labels");
    t.take("/spec/jobTemplate/metadata/annotations");
}

/// The kind when it is not the archetype's, a bare pod's restart policy,
/// and a Deployment's rollout.
fn rollout(t: &mut Tree, kind: &str) -> WorkloadOptions {
    let mut w = WorkloadOptions {
        kind: match kind {
            "Pod" => Some(KindChoice::Pod),
            "ReplicaSet" => Some(KindChoice::ReplicaSet),
            "ReplicationController" => Some(KindChoice::ReplicationController),
            _ => None,
        },
        ..Default::default()
    };
    if kind == "Pod" {
        w.restart_policy = restart_policy(t);
    }
    if matches!(kind, "Deployment" | "ReplicaSet" | "ReplicationController") {
        w.min_ready_seconds = t.number("/spec/minReadySeconds");
    }
    if kind == "Deployment" {
        w.progress_deadline_seconds = t.number("/spec/progressDeadlineSeconds");
        w.revision_history_limit = t.number("/spec/revisionHistoryLimit").filter(|n| *n != 5);
        strategy(t, &mut w);
    }
    w
}

/// A bare pod's restart policy when it is not the default `Always` (taken
/// when it is either).
fn restart_policy(t: &mut Tree) -> Option<PodRestartPolicy> {
    let policy = match t.get("/spec/restartPolicy").and_then(Value::as_str) {
        Some("OnFailure") => Some(PodRestartPolicy::OnFailure),
        Some("Never") => Some(PodRestartPolicy::Never),
        _ => None,
    };
    if policy.is_some() || t.get("/spec/restartPolicy") == Some(&json!("Always")) {
        t.take("/spec/restartPolicy");
    }
    policy
}

/// A Deployment's strategy: `Recreate`, or a rolling update with its
/// `maxSurge`/`maxUnavailable` (left in place when both are zero, which the
/// API server refuses).
fn strategy(t: &mut Tree, w: &mut WorkloadOptions) {
    match t.get("/spec/strategy/type").and_then(Value::as_str) {
        Some("Recreate") => {
            w.strategy = Some(Strategy::Recreate);
            t.take("/spec/strategy/type");
        }
        Some("RollingUpdate") | None if t.get("/spec/strategy").is_some() => {
            let surge = t.get("/spec/strategy/rollingUpdate/maxSurge").and_then(count);
            let unavailable = t
                .get("/spec/strategy/rollingUpdate/maxUnavailable")
                .and_then(count);
            let zero = |v: &Option<String>| v.as_deref().is_some_and(|s| s.trim_end_matches('%') == "0");
            if zero(&surge) && zero(&unavailable) {
                return;
            }
            if surge.is_some() {
                t.take("/spec/strategy/rollingUpdate/maxSurge");
            }
            if unavailable.is_some() {
                t.take("/spec/strategy/rollingUpdate/maxUnavailable");
            }
            w.max_surge = surge;
            w.max_unavailable = unavailable;
            w.strategy = t.take("/spec/strategy/type").map(|_| Strategy::RollingUpdate);
        }
        _ => {}
    }
}

/// A rollout count as the spec holds it: a number up to 10,000 or a
/// percentage up to 100%.
fn count(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => n.as_u64().filter(|n| *n <= 10_000).map(|n| n.to_string()),
        Value::String(s) => s
            .strip_suffix('%')
            .and_then(|p| p.parse::<u32>().ok())
            .filter(|p| *p <= 100)
            .map(|_| s.clone()),
        _ => None,
    }
}
