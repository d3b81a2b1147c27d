//! Resources that belong to a workload folded into its component: the
//! Service that selects its pods (`service`), its HorizontalPodAutoscaler
//! (`autoscaling`), its PodDisruptionBudget (`high_availability`) and its
//! ServiceAccount. Every other kind is unsupported as a whole.

use serde_json::{json, Map, Value};

use super::tree::Tree;
use super::{whole, Draft, Resource};
use crate::spec::{
    Autoscaling, HighAvailability, KeyValue, Protocol, ServiceOptions, ServicePort, ServiceType,
};

/// Folds what belongs to a draft into it; marks the rest unsupported.
pub(super) fn fold(resources: &mut [Resource], trees: &mut [Option<Tree>], drafts: &mut Vec<Draft>) {
    let owner_of = |drafts: &[Draft], i: usize| drafts.iter().position(|d| d.index == i);
    for i in 0..resources.len() {
        if owner_of(drafts, i).is_some() || !resources[i].unsupported.is_empty() {
            continue;
        }
        let Some(t) = trees[i].as_mut() else { continue };
        let kind = t.get("/kind").and_then(Value::as_str).unwrap_or("").to_string();
        let folded = match kind.as_str() {
            "Service" => service(t, drafts, i),
            "ConfigMap" | "PersistentVolume" | "StorageClass" => super::objects::fold(t, &kind, drafts, i),
            "HorizontalPodAutoscaler" => hpa(t, drafts),
            "PodDisruptionBudget" => pdb(t, drafts),
            "ServiceAccount" => service_account(t, drafts),
            "Kustomization"
                if t.get("/apiVersion")
                    .and_then(Value::as_str)
                    .is_some_and(|a| a.starts_with("kustomize.config")) =>
            {
                Err("not a resource".into())
            }
            _ => Err(format!("{kind} objects are not in the spec")),
        };
        match folded {
            Ok(d) => {
                t.take("/apiVersion");
                t.take("/kind");
                resources[i].component = Some(drafts[d].name.clone());
            }
            Err(reason) => {
                let entry = whole(&resources[i], reason);
                resources[i].unsupported.push(entry);
                trees[i] = None;
            }
        }
    }
}

/// Names, namespaces, labels and annotations of an attached resource.
fn take_meta(t: &mut Tree) -> String {
    let name = t
        .get("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    for p in [
        "/metadata/name",
        "/metadata/namespace",
        "/metadata/labels",
        "/metadata/annotations",
    ] {
        t.take(p);
    }
    name
}

fn selects(selector: &Map<String, Value>, labels: &Map<String, Value>) -> bool {
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// Lifts a Service into the service options of the draft whose pods it
/// selects (or of a standalone draft): the index of that draft, or why the
/// spec cannot express it.
fn service(t: &mut Tree, drafts: &mut Vec<Draft>, index: usize) -> Result<usize, String> {
    if t.get("/apiVersion").and_then(Value::as_str) != Some("v1") {
        return Err("not a v1 Service".into());
    }
    let selector = t
        .get("/spec/selector")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let kind = service_type(t)?;
    let external = kind == ServiceType::ExternalName;
    let ports = service_ports(t, kind)?;
    let d = service_draft(t, drafts, index, &selector, external)?;
    take_meta(t);
    t.take("/spec/selector");
    t.take_if("/spec/type", &json!(kind.as_k8s()));
    let cluster_ip = match kind {
        ServiceType::Headless => {
            t.take("/spec/clusterIP");
            None
        }
        _ => t.string("/spec/clusterIP"),
    };
    let external_name = if external {
        t.string("/spec/externalName")
    } else {
        None
    };
    let selector = std::mem::take(&mut drafts[d].selector);
    let comp = &mut drafts[d].component;
    comp.service = Some(ServiceOptions {
        kind,
        ports,
        cluster_ip,
        selector,
        external_name,
    });
    if comp.archetype == crate::spec::Archetype::Worker {
        comp.archetype = crate::spec::Archetype::WebService;
    }
    Ok(d)
}

/// The Service's type from `type` and `clusterIP` (`None` is headless).
fn service_type(t: &Tree) -> Result<ServiceType, String> {
    Ok(
        match (
            t.get("/spec/type").and_then(Value::as_str),
            t.get("/spec/clusterIP").and_then(Value::as_str),
        ) {
            (None | Some("ClusterIP"), Some("None")) => ServiceType::Headless,
            (None | Some("ClusterIP"), _) => ServiceType::ClusterIp,
            (Some("NodePort"), _) => ServiceType::NodePort,
            (Some("LoadBalancer"), _) => ServiceType::LoadBalancer,
            (Some("ExternalName"), _) => ServiceType::ExternalName,
            (Some(other), _) => return Err(format!("a Service of type {other} is not in the spec")),
        },
    )
}

/// The Service's ports; none only for an `ExternalName` Service.
fn service_ports(t: &mut Tree, kind: ServiceType) -> Result<Vec<ServicePort>, String> {
    let mut ports = Vec::new();
    for i in 0..t.len("/spec/ports") {
        let Some(p) = port(t, &format!("/spec/ports/{i}"), kind) else {
            return Err("a Service port the spec cannot express (named target, unknown fields)".into());
        };
        ports.push(p);
    }
    if ports.is_empty() && kind != ServiceType::ExternalName {
        return Err("a Service without ports".into());
    }
    Ok(ports)
}

/// The draft a Service belongs to: the first workload it selects that has
/// no Service yet, else a new standalone draft selecting by its labels.
fn service_draft(
    t: &mut Tree,
    drafts: &mut Vec<Draft>,
    index: usize,
    selector: &Map<String, Value>,
    external: bool,
) -> Result<usize, String> {
    let owner = drafts
        .iter()
        .position(|d| selects(selector, &d.pod_labels) && d.component.service.is_none());
    let selected = drafts.iter().any(|d| selects(selector, &d.pod_labels));
    match owner {
        Some(d) if !external => Ok(d),
        None if selected => Err("a second Service over one workload's pods".into()),
        _ if selector.is_empty() && !external => {
            Err("a Service without a selector (endpoints managed by hand) is not in the spec".into())
        }
        _ => {
            let labels = selector
                .iter()
                .map(|(k, v)| {
                    v.as_str().map(|v| KeyValue {
                        key: k.clone(),
                        value: v.to_string(),
                    })
                })
                .collect::<Option<Vec<_>>>()
                .ok_or("a Service selector with a value that is not text")?;
            super::objects::standalone(t, drafts, index, "Service");
            let last = drafts.len() - 1;
            drafts[last].selector = labels;
            Ok(last)
        }
    }
}

fn port(t: &mut Tree, at: &str, kind: ServiceType) -> Option<ServicePort> {
    let v = t.get(at)?.as_object()?.clone();
    let known = ["name", "port", "targetPort", "nodePort", "protocol"];
    if v.keys().any(|k| !known.contains(&k.as_str())) {
        return None;
    }
    let number = u32::try_from(v.get("port")?.as_u64()?).ok()?;
    let name = match v.get("name").and_then(Value::as_str) {
        Some(n) if crate::spec::sanitize_name(n).as_deref() == Ok(n) && n.len() <= 15 => n.to_string(),
        Some(_) => return None,
        None => format!("port-{number}"),
    };
    let target_port = match v.get("targetPort") {
        None => None,
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return None,
    };
    let protocol = match v.get("protocol").and_then(Value::as_str) {
        None | Some("TCP") => Protocol::Tcp,
        Some("UDP") => Protocol::Udp,
        Some("SCTP") => Protocol::Sctp,
        Some(_) => return None,
    };
    let node_port = match v.get("nodePort") {
        None => None,
        Some(n) if matches!(kind, ServiceType::NodePort | ServiceType::LoadBalancer) => {
            Some(u32::try_from(n.as_u64()?).ok()?)
        }
        Some(_) => return None,
    };
    t.take(at);
    Some(ServicePort {
        name,
        port: number,
        target_port,
        node_port,
        protocol,
    })
}

fn target(t: &Tree, drafts: &[Draft], kinds: &[&str]) -> Result<usize, String> {
    let kind = t
        .get("/spec/scaleTargetRef/kind")
        .and_then(Value::as_str)
        .unwrap_or("");
    let name = t
        .get("/spec/scaleTargetRef/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    drafts
        .iter()
        .position(|d| d.kind == kind && d.name == name && kinds.contains(&kind))
        .ok_or_else(|| "scales a workload that is not among the lifted Deployments".to_string())
}

fn hpa(t: &mut Tree, drafts: &mut [Draft]) -> Result<usize, String> {
    if t.get("/apiVersion").and_then(Value::as_str) != Some("autoscaling/v2") {
        return Err("only autoscaling/v2 HorizontalPodAutoscalers are lifted".into());
    }
    let d = target(t, drafts, &["Deployment"])?;
    if !drafts[d].component.archetype.autoscales() {
        return Err("the spec autoscales only stateless Deployments".into());
    }
    let min = t.get("/spec/minReplicas").and_then(Value::as_u64).unwrap_or(1);
    let max = t
        .get("/spec/maxReplicas")
        .and_then(Value::as_u64)
        .ok_or("no maxReplicas")?;
    let m = "/spec/metrics/0/resource";
    let cpu_only = t.len("/spec/metrics") == 1
        && t.get("/spec/metrics/0/type") == Some(&json!("Resource"))
        && t.get(&format!("{m}/name")) == Some(&json!("cpu"))
        && t.get(&format!("{m}/target/type")) == Some(&json!("Utilization"));
    let cpu = t
        .get(&format!("{m}/target/averageUtilization"))
        .and_then(Value::as_u64);
    let (Some(cpu), true) = (cpu, cpu_only) else {
        return Err("only one CPU-utilisation metric is in the spec".into());
    };
    take_meta(t);
    for p in [
        "/spec/scaleTargetRef/name",
        "/spec/scaleTargetRef/kind",
        "/spec/minReplicas",
        "/spec/maxReplicas",
        "/spec/metrics",
    ] {
        t.take(p);
    }
    t.take_if("/spec/scaleTargetRef/apiVersion", &json!("apps/v1"));
    let to_u32 = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
    drafts[d].component.autoscaling = Some(Autoscaling {
        min_replicas: to_u32(min),
        max_replicas: to_u32(max),
        cpu_target_percent: to_u32(cpu),
    });
    Ok(d)
}

fn pdb(t: &mut Tree, drafts: &mut [Draft]) -> Result<usize, String> {
    if t.get("/apiVersion").and_then(Value::as_str) != Some("policy/v1") {
        return Err("only policy/v1 PodDisruptionBudgets are lifted".into());
    }
    let selector = t
        .get("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let d = drafts
        .iter()
        .position(|d| selects(&selector, &d.pod_labels))
        .ok_or("a PodDisruptionBudget over pods no lifted workload runs")?;
    if t.get("/spec/maxUnavailable") != Some(&json!(1)) || t.get("/spec/minAvailable").is_some() {
        return Err("the spec's PodDisruptionBudget is maxUnavailable: 1".into());
    }
    take_meta(t);
    t.take("/spec/selector/matchLabels");
    t.take("/spec/maxUnavailable");
    let ha = drafts[d]
        .component
        .high_availability
        .get_or_insert(HighAvailability {
            pod_disruption_budget: false,
            spread: false,
            failover: false,
        });
    ha.pod_disruption_budget = true;
    Ok(d)
}

fn service_account(t: &mut Tree, drafts: &[Draft]) -> Result<usize, String> {
    if t.get("/apiVersion").and_then(Value::as_str) != Some("v1") {
        return Err("not a v1 ServiceAccount".into());
    }
    let name = t.get("/metadata/name").and_then(Value::as_str).unwrap_or("");
    let d = drafts
        .iter()
        .position(|d| d.name == name)
        .ok_or("a ServiceAccount of no lifted workload (each component has its own)")?;
    take_meta(t);
    t.take_if("/automountServiceAccountToken", &json!(false));
    Ok(d)
}
