//! Service options: the Service in front of a component when the archetype's
//! default (a ClusterIP Service with one port per container port, each
//! targeting the port of the same name) is not what was asked.
//!
//! Types and checks only; `templates/service.yaml.j2` renders them. An
//! exposed type (node port, load balancer) is rendered as asked and reported
//! by a policy finding (`render/pod.rs`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::check::Checker;
use super::pod::KeyValue;

/// How the component's Service is built; null keeps the default ClusterIP Service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceOptions {
    /// Service type.
    #[serde(rename = "type")]
    pub kind: ServiceType,
    /// Service ports; empty uses one port per container port.
    pub ports: Vec<ServicePort>,
    /// A fixed cluster IP, e.g. `10.96.0.50`; null lets the cluster choose.
    pub cluster_ip: Option<String>,
    /// Labels of the pods it sends traffic to, when the component has no
    /// workload of its own (`workload.kind: none`); empty selects the component's own pods.
    pub selector: Vec<KeyValue>,
    /// `external_name` only: the DNS name the Service aliases, e.g. `db.example.com`; null otherwise.
    pub external_name: Option<String>,
}

/// The Service type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ServiceType {
    /// Reachable inside the cluster only.
    ClusterIp,
    /// Also on a port of every node.
    NodePort,
    /// Also through the cloud's load balancer.
    LoadBalancer,
    /// No cluster IP: DNS returns the pods' addresses.
    Headless,
    /// A DNS alias (CNAME) for `external_name`; needs `workload.kind: none`.
    ExternalName,
}

/// One Service port.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServicePort {
    /// Port name (at most 15 characters), e.g. `http`.
    pub name: String,
    /// The port clients connect to, e.g. `80`.
    pub port: u32,
    /// The container port traffic goes to: a number (`8080`) or a port name; null means the same as `port`.
    pub target_port: Option<String>,
    /// For `node_port` and `load_balancer`: the node port (30000-32767); null lets the cluster choose.
    pub node_port: Option<u32>,
    /// `tcp` unless the intent says UDP.
    pub protocol: Protocol,
}

/// A port's protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl ServiceType {
    /// The Kubernetes spelling (`Headless` is a ClusterIP Service without an IP).
    pub fn as_k8s(self) -> &'static str {
        match self {
            ServiceType::ClusterIp | ServiceType::Headless => "ClusterIP",
            ServiceType::NodePort => "NodePort",
            ServiceType::LoadBalancer => "LoadBalancer",
            ServiceType::ExternalName => "ExternalName",
        }
    }
}

impl Protocol {
    /// The Kubernetes spelling.
    pub fn as_k8s(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}

/// Checks port numbers and names, node ports and the cluster IP; the
/// selector and an external name only without a workload (`no_workload`).
pub(super) fn check(c: &mut Checker, at: &str, s: &mut ServiceOptions, no_workload: bool) {
    routing(c, at, s, no_workload);
    if s.ports.len() > 32 {
        c.fail(format!("{at}/ports"), "more than 32 ports");
    }
    let mut names = std::collections::HashSet::new();
    for (i, p) in s.ports.iter_mut().enumerate() {
        port(c, &format!("{at}/ports/{i}"), p, s.kind, &mut names);
    }
    if let Some(ip) = &s.cluster_ip {
        if matches!(s.kind, ServiceType::Headless | ServiceType::ExternalName) {
            c.fail(
                format!("{at}/cluster_ip"),
                "a headless or external_name Service has no cluster IP; use null",
            );
        } else if ip.parse::<std::net::IpAddr>().is_err() {
            c.fail(format!("{at}/cluster_ip"), format!("{ip:?} is not an IP address"));
        }
    }
}

/// One Service port at `here`: its name (sanitised, at most 15 characters,
/// not in `names` yet), number, target port, and node port.
fn port(
    c: &mut Checker,
    here: &str,
    p: &mut ServicePort,
    kind: ServiceType,
    names: &mut std::collections::HashSet<String>,
) {
    c.name(&format!("{here}/name"), &mut p.name);
    if p.name.len() > 15 {
        c.fail(format!("{here}/name"), "port names are at most 15 characters");
    }
    if !names.insert(p.name.clone()) {
        c.fail(
            format!("{here}/name"),
            format!("duplicate port name {:?}", p.name),
        );
    }
    if !(1..=65535).contains(&p.port) {
        c.fail(
            format!("{here}/port"),
            format!("{} is not a port number (1-65535)", p.port),
        );
    }
    if let Some(t) = &p.target_port {
        if !super::check::is_port_ref(t) {
            c.fail(
                format!("{here}/target_port"),
                format!("{t:?} is not a port number or name"),
            );
        }
    }
    if let Some(n) = p.node_port {
        if !matches!(kind, ServiceType::NodePort | ServiceType::LoadBalancer) {
            c.fail(
                format!("{here}/node_port"),
                "only node_port and load_balancer Services have node ports",
            );
        } else if !(30000..=32767).contains(&n) {
            c.fail(
                format!("{here}/node_port"),
                format!("{n} is outside the node port range 30000-32767"),
            );
        }
    }
}

/// Where the Service sends traffic: its own pods, selected pods, or a DNS name.
fn routing(c: &mut Checker, at: &str, s: &ServiceOptions, no_workload: bool) {
    let external = s.kind == ServiceType::ExternalName;
    match (no_workload, external, s.selector.is_empty()) {
        (false, true, _) => c.fail(
            format!("{at}/type"),
            "an external_name Service runs no pods of its own: set workload.kind to none",
        ),
        (false, false, false) => c.fail(
            format!("{at}/selector"),
            "a component with a workload selects its own pods; use [] (or workload.kind none)",
        ),
        (true, false, true) => c.fail(
            format!("{at}/selector"),
            "without a workload, name the labels of the pods the Service sends traffic to",
        ),
        (_, true, false) => c.fail(
            format!("{at}/selector"),
            "an external_name Service selects no pods; use []",
        ),
        _ => {}
    }
    if no_workload && !external && s.ports.is_empty() {
        c.fail(
            format!("{at}/ports"),
            "without a workload, give the Service's ports",
        );
    }
    match (&s.external_name, external) {
        (Some(n), true) if !super::values::is_dns_subdomain(n) || !n.contains('.') => {
            c.fail(format!("{at}/external_name"), format!("{n:?} is not a host name"))
        }
        (None, true) => c.fail(format!("{at}/external_name"), "name the host the Service aliases"),
        (Some(_), false) => c.fail(
            format!("{at}/external_name"),
            "only an external_name Service has one; use null",
        ),
        _ => {}
    }
    for (i, kv) in s.selector.iter().enumerate() {
        super::pod::label(c, &format!("{at}/selector/{i}"), &kv.key, Some(&kv.value));
    }
    if s.selector.len() > 16 {
        c.fail(format!("{at}/selector"), "more than 16 labels");
    }
}
