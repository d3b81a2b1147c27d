//! Template values for the options issue 16 added to a component: pod and
//! container options, Service options, job options and RBAC rights.
//!
//! Every key is always present (null or empty when not asked for) so the
//! templates, which treat an undefined value as an error, stay simple. A
//! choice that loosens a secure default (a node port or load balancer, a
//! mounted ServiceAccount token, cluster-wide rights, a scratch volume on a
//! read-only root) gives a finding here, next to the value that caused it.

use serde_json::{json, Map, Value};

use crate::finding::{Finding, Severity};
use crate::spec::{
    Component, EnvFromSource, PodOptions, RbacRule, ServiceOptions, ServiceType, TolerationOperator,
    VolumeSource,
};

/// `command`, `args`, scheduling, volumes, DNS and hooks for the pod template.
pub(super) fn pod(comp: &Component) -> Value {
    let empty = PodOptions::default();
    let p = comp.pod.as_ref().unwrap_or(&empty);
    let some_list = |v: &[String]| (!v.is_empty()).then(|| json!(v));
    let node_selector: Map<String, Value> = p
        .node_selector
        .iter()
        .map(|kv| (kv.key.clone(), json!(kv.value)))
        .collect();
    let affinity = affinity(comp, p);
    let tolerations: Vec<Value> = p.tolerations.iter().map(toleration).collect();
    let lifecycle = lifecycle(p);
    let dns_config = dns_config(p);
    let env_from: Vec<Value> = p
        .env_from
        .iter()
        .map(|e| match e.source {
            EnvFromSource::ConfigMap => json!({"configMapRef": {"name": e.name}}),
            EnvFromSource::Secret => json!({"secretRef": {"name": e.name}}),
        })
        .collect();
    let (volumes, mounts) = volumes(p);
    json!({
        "command": some_list(&p.command),
        "args": some_list(&p.args),
        "image_pull_policy": p.image_pull_policy.map_or("IfNotPresent", |x| x.as_k8s()),
        "node_selector": (!node_selector.is_empty()).then_some(node_selector),
        "affinity": (!affinity.is_empty()).then_some(affinity),
        "topology_spread": super::spread::topology_spread(comp, &p.topology_spread),
        "tolerations": (!tolerations.is_empty()).then_some(tolerations),
        "priority_class_name": p.priority_class_name,
        "host_aliases": (!p.host_aliases.is_empty()).then(|| json!(p.host_aliases.iter().map(|h| json!({"ip": h.ip, "hostnames": h.hostnames})).collect::<Vec<_>>())),
        "dns_policy": p.dns_policy.map(|d| d.as_k8s()),
        "dns_config": (!dns_config.is_empty()).then_some(dns_config),
        "termination_grace_period_seconds": p.termination_grace_period_seconds,
        "lifecycle": (!lifecycle.is_empty()).then_some(lifecycle),
        "env_from": (!env_from.is_empty()).then_some(env_from),
        "volumes": volumes,
        "mounts": mounts,
        "automount_token": comp.rbac.is_some(),
    })
}

/// The node affinity (required node selector terms) and the pod
/// (anti-)affinity ([`super::spread::pod_affinity`]).
fn affinity(comp: &Component, p: &PodOptions) -> Map<String, Value> {
    let node_affinity = (!p.node_affinity.is_empty()).then(|| {
        let expressions: Vec<Value> = p
            .node_affinity
            .iter()
            .map(|r| {
                let mut e = json!({"key": r.key, "operator": r.operator.as_k8s()});
                if !r.values.is_empty() {
                    e["values"] = json!(r.values);
                }
                e
            })
            .collect();
        json!({"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": expressions}]}})
    });
    let mut affinity = Map::new();
    if let Some(n) = node_affinity {
        affinity.insert("nodeAffinity".into(), n);
    }
    super::spread::pod_affinity(comp, &p.pod_affinity, &mut affinity);
    affinity
}

/// The container's `postStart` and `preStop` exec hooks.
fn lifecycle(p: &PodOptions) -> Map<String, Value> {
    let hook = |cmd: &[String]| (!cmd.is_empty()).then(|| json!({"exec": {"command": cmd}}));
    let mut lifecycle = Map::new();
    if let Some(h) = hook(&p.post_start) {
        lifecycle.insert("postStart".into(), h);
    }
    if let Some(h) = hook(&p.pre_stop) {
        lifecycle.insert("preStop".into(), h);
    }
    lifecycle
}

/// The pod's `dnsConfig`: name servers and search domains.
fn dns_config(p: &PodOptions) -> Map<String, Value> {
    let mut dns_config = Map::new();
    if !p.dns_nameservers.is_empty() {
        dns_config.insert("nameservers".into(), json!(p.dns_nameservers));
    }
    if !p.dns_searches.is_empty() {
        dns_config.insert("searches".into(), json!(p.dns_searches));
    }
    dns_config
}

fn toleration(t: &crate::spec::Toleration) -> Value {
    let mut v = Map::new();
    if let Some(k) = &t.key {
        v.insert("key".into(), json!(k));
    }
    v.insert(
        "operator".into(),
        json!(match t.operator {
            TolerationOperator::Equal => "Equal",
            TolerationOperator::Exists => "Exists",
        }),
    );
    if let Some(val) = &t.value {
        v.insert("value".into(), json!(val));
    }
    if let Some(e) = t.effect {
        v.insert("effect".into(), json!(e.as_k8s()));
    }
    if let Some(s) = t.toleration_seconds {
        v.insert("tolerationSeconds".into(), json!(s));
    }
    Value::Object(v)
}

/// The pod's volumes and the container's mounts, in the spec's order.
fn volumes(p: &PodOptions) -> (Vec<Value>, Vec<Value>) {
    let volumes = p
        .volumes
        .iter()
        .map(|v| {
            let from = v.from.clone().unwrap_or_default();
            let source = match v.source {
                VolumeSource::EmptyDir => json!({"emptyDir": {}}),
                VolumeSource::ConfigMap => json!({"configMap": {"name": from}}),
                VolumeSource::Secret => json!({"secret": {"secretName": from}}),
                VolumeSource::Claim => json!({"persistentVolumeClaim": {"claimName": from}}),
            };
            let mut out = json!({"name": v.name});
            if let (Value::Object(o), Value::Object(s)) = (&mut out, source) {
                o.extend(s);
            }
            out
        })
        .collect();
    let mounts = p
        .volumes
        .iter()
        .map(|v| {
            let mut m = json!({"name": v.name, "mountPath": v.mount_path});
            if let Some(sub) = &v.sub_path {
                m["subPath"] = json!(sub);
            }
            if v.read_only {
                m["readOnly"] = json!(true);
            }
            m
        })
        .collect();
    (volumes, mounts)
}

/// The Service's type, cluster IP and ports; `ports` are the container ports
/// as (name, number) for the default mapping.
pub(super) fn service(comp: &Component, ports: &[(String, u32)], findings: &mut Vec<Finding>) -> Value {
    let Some(s) = &comp.service else {
        let ports: Vec<Value> = ports
            .iter()
            .map(|(n, p)| json!({"name": n, "port": p, "targetPort": n, "protocol": "TCP"}))
            .collect();
        return json!({"type": "ClusterIP", "headless": false, "cluster_ip": null, "ports": ports,
            "selector": null, "external_name": null});
    };
    exposed(comp, s, findings);
    let ports: Vec<Value> = if s.ports.is_empty() {
        ports
            .iter()
            .map(|(n, p)| json!({"name": n, "port": p, "targetPort": n, "protocol": "TCP"}))
            .collect()
    } else {
        s.ports
            .iter()
            .map(|p| {
                let target = match &p.target_port {
                    Some(t) => t.parse::<u32>().map_or_else(|_| json!(t), |n| json!(n)),
                    None => json!(p.port),
                };
                let mut v = json!({"name": p.name, "port": p.port, "targetPort": target, "protocol": p.protocol.as_k8s()});
                if let Some(n) = p.node_port {
                    v["nodePort"] = json!(n);
                }
                v
            })
            .collect()
    };
    let selector: Map<String, Value> = s
        .selector
        .iter()
        .map(|kv| (kv.key.clone(), json!(kv.value)))
        .collect();
    json!({
        "type": s.kind.as_k8s(),
        "headless": s.kind == ServiceType::Headless,
        "cluster_ip": s.cluster_ip,
        "ports": ports,
        "selector": (!selector.is_empty()).then_some(selector),
        "external_name": s.external_name,
    })
}

fn exposed(comp: &Component, s: &ServiceOptions, findings: &mut Vec<Finding>) {
    if matches!(s.kind, ServiceType::NodePort | ServiceType::LoadBalancer) {
        findings.push(Finding::new(
            Severity::Warning,
            "service-exposed",
            format!("Service/{}", comp.name),
            "/spec/type",
            format!(
                "{} is reachable from outside the cluster (type {}), as asked; the default is ClusterIP behind an Ingress",
                comp.name,
                s.kind.as_k8s()
            ),
        ));
    }
}

/// Job and cron job settings, with the templates' defaults filled in.
pub(super) fn batch(comp: &Component) -> Value {
    let b = comp.batch.clone().unwrap_or_default();
    json!({
        "restart_policy": b.restart_policy.map_or("OnFailure", |r| r.as_k8s()),
        "completions": b.completions,
        "parallelism": b.parallelism,
        "backoff_limit": b.backoff_limit.unwrap_or(2),
        "active_deadline_seconds": b.active_deadline_seconds,
        // No default TTL: Flux or Argo CD would re-create a Job deleted after it (issue 15).
        "ttl_seconds_after_finished": b.ttl_seconds_after_finished,
        "concurrency_policy": b.concurrency_policy.map_or("Forbid", |c| c.as_k8s()),
        "starting_deadline_seconds": b.starting_deadline_seconds,
        "successful_jobs_history_limit": b.successful_jobs_history_limit.unwrap_or(3),
        "failed_jobs_history_limit": b.failed_jobs_history_limit.unwrap_or(3),
        "time_zone": b.time_zone,
        "suspend": b.suspend,
    })
}

/// The Role (or ClusterRole) and its binding; null without rights.
pub(super) fn rbac(comp: &Component, findings: &mut Vec<Finding>) -> Value {
    let Some(r) = &comp.rbac else {
        return Value::Null;
    };
    let (role, binding) = if r.cluster_wide {
        ("ClusterRole", "ClusterRoleBinding")
    } else {
        ("Role", "RoleBinding")
    };
    findings.push(Finding::new(
        if r.cluster_wide { Severity::Warning } else { Severity::Info },
        "serviceaccount-token-mounted",
        format!("ServiceAccount/{}", comp.name),
        "/automountServiceAccountToken",
        format!(
            "{} gets API rights through a {role}, so its ServiceAccount token is mounted (the default mounts none){}",
            comp.name,
            if r.cluster_wide { "; the rights apply in every namespace" } else { "" }
        ),
    ));
    let rules: Vec<Value> = r.rules.iter().map(rule).collect();
    json!({"role_kind": role, "binding_kind": binding, "cluster_wide": r.cluster_wide, "rules": rules})
}

fn rule(r: &RbacRule) -> Value {
    let verbs: Vec<&str> = r.verbs.iter().map(|v| v.as_k8s()).collect();
    let mut v = json!({"apiGroups": r.api_groups, "resources": r.resources, "verbs": verbs});
    if !r.resource_names.is_empty() {
        v["resourceNames"] = json!(r.resource_names);
    }
    v
}
