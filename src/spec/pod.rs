//! Pod and container options beyond the archetype's defaults: command and
//! arguments, scheduling, volumes and mounts, ConfigMap references, DNS,
//! host aliases, lifecycle hooks and the image pull policy.
//!
//! Every field is optional (empty or null keeps the default the templates
//! render). This module holds the types and their checks; rendering lives in
//! `render/pod.rs`, reading them back from manifests in `lift/`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::affinity::{PodAffinityTerm, TopologySpread};
use super::check::Checker;

/// Container and pod options; null keeps every default.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PodOptions {
    /// The container's command (entrypoint), e.g. `["python", "manage.py"]`; empty keeps the image's.
    pub command: Vec<String>,
    /// The container's arguments, e.g. `["migrate"]`; empty keeps the image's (or the archetype's).
    pub args: Vec<String>,
    /// When the kubelet pulls the image; null means `if_not_present`.
    pub image_pull_policy: Option<PullPolicy>,
    /// Node labels the pod must run on, e.g. `gpu=true`.
    pub node_selector: Vec<KeyValue>,
    /// Required node affinity: every term must hold.
    pub node_affinity: Vec<NodeRequirement>,
    /// Taints the pod tolerates.
    pub tolerations: Vec<Toleration>,
    /// PriorityClass name; null uses the cluster default.
    pub priority_class_name: Option<String>,
    /// Pod affinity and anti-affinity, e.g. never two replicas on one node.
    pub pod_affinity: Vec<PodAffinityTerm>,
    /// Topology spread constraints beyond `high_availability.spread`.
    pub topology_spread: Vec<TopologySpread>,
    /// Volumes mounted into the container.
    pub volumes: Vec<Volume>,
    /// Environment variables read from ConfigMap keys.
    pub config_map_refs: Vec<ConfigMapRef>,
    /// Every key of these ConfigMaps or Secrets as environment variables.
    pub env_from: Vec<EnvFrom>,
    /// Extra `/etc/hosts` entries.
    pub host_aliases: Vec<HostAlias>,
    /// DNS policy; null means `cluster_first`.
    pub dns_policy: Option<DnsPolicy>,
    /// Extra name servers for the pod's resolver (`dnsConfig.nameservers`).
    pub dns_nameservers: Vec<String>,
    /// Extra search domains (`dnsConfig.searches`).
    pub dns_searches: Vec<String>,
    /// Seconds between SIGTERM and SIGKILL; null means 30.
    pub termination_grace_period_seconds: Option<u32>,
    /// Command run right after the container starts (`lifecycle.postStart.exec`); empty means none.
    pub post_start: Vec<String>,
    /// Command run before the container stops (`lifecycle.preStop.exec`); empty means none.
    pub pre_stop: Vec<String>,
}

/// When the image is pulled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
}

/// A pod's DNS policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DnsPolicy {
    ClusterFirst,
    ClusterFirstWithHostNet,
    Default,
    None,
}

/// A label or selector entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyValue {
    /// Label key, e.g. `gpu` or `kubernetes.io/arch`.
    pub key: String,
    /// Label value, e.g. `true`.
    pub value: String,
}

/// A required node-affinity expression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeRequirement {
    /// Node label key, e.g. `topology.kubernetes.io/zone`.
    pub key: String,
    pub operator: SelectorOperator,
    /// Values for `in`/`not_in`; empty for `exists`/`does_not_exist`.
    pub values: Vec<String>,
}

/// A node selector operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SelectorOperator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

/// A toleration of a node taint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Toleration {
    /// Taint key, e.g. `dedicated`; null tolerates every taint (with `exists`).
    pub key: Option<String>,
    /// `equal` compares the value; `exists` matches any value.
    pub operator: TolerationOperator,
    /// Taint value for `equal`, e.g. `batch`; null for `exists`.
    pub value: Option<String>,
    /// Taint effect; null tolerates every effect.
    pub effect: Option<TaintEffect>,
    /// For `no_execute`: how long the pod stays bound after the taint appears; null means forever.
    pub toleration_seconds: Option<u32>,
}

/// How a toleration matches a taint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TolerationOperator {
    Equal,
    Exists,
}

/// A taint effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaintEffect {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

/// A volume and where the container mounts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Volume {
    /// Volume name (DNS-1123 label), e.g. `config`.
    pub name: String,
    /// What backs the volume.
    pub source: VolumeSource,
    /// ConfigMap, Secret or claim name for those sources; null for `empty_dir`.
    pub from: Option<String>,
    /// Absolute path in the container, e.g. `/etc/app`.
    pub mount_path: String,
    /// Mount only this file or directory of the volume; null mounts it whole.
    pub sub_path: Option<String>,
    /// Mount read-only.
    pub read_only: bool,
}

/// What backs a volume. Host paths are not offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VolumeSource {
    /// Scratch space that lives as long as the pod.
    EmptyDir,
    /// A ConfigMap's keys as files.
    ConfigMap,
    /// A Secret's keys as files.
    Secret,
    /// An existing PersistentVolumeClaim.
    Claim,
}

/// An environment variable read from a ConfigMap key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigMapRef {
    /// Variable name in the container, e.g. `LOG_LEVEL`.
    pub env: String,
    /// ConfigMap name, e.g. `app-config`.
    pub config_map: String,
    /// Key inside the ConfigMap, e.g. `log-level`.
    pub key: String,
}

/// Every key of a ConfigMap or Secret as environment variables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvFrom {
    pub source: EnvFromSource,
    /// ConfigMap or Secret name.
    pub name: String,
}

/// Where `env_from` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EnvFromSource {
    ConfigMap,
    Secret,
}

/// An `/etc/hosts` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HostAlias {
    /// IP address, e.g. `10.0.0.5`.
    pub ip: String,
    /// Host names for the address.
    pub hostnames: Vec<String>,
}

impl PullPolicy {
    /// The Kubernetes spelling.
    pub fn as_k8s(self) -> &'static str {
        match self {
            PullPolicy::Always => "Always",
            PullPolicy::IfNotPresent => "IfNotPresent",
            PullPolicy::Never => "Never",
        }
    }
}

impl DnsPolicy {
    /// The Kubernetes spelling.
    pub fn as_k8s(self) -> &'static str {
        match self {
            DnsPolicy::ClusterFirst => "ClusterFirst",
            DnsPolicy::ClusterFirstWithHostNet => "ClusterFirstWithHostNet",
            DnsPolicy::Default => "Default",
            DnsPolicy::None => "None",
        }
    }
}

impl SelectorOperator {
    /// The Kubernetes spelling.
    pub fn as_k8s(self) -> &'static str {
        match self {
            SelectorOperator::In => "In",
            SelectorOperator::NotIn => "NotIn",
            SelectorOperator::Exists => "Exists",
            SelectorOperator::DoesNotExist => "DoesNotExist",
        }
    }
}

impl TaintEffect {
    /// The Kubernetes spelling.
    pub fn as_k8s(self) -> &'static str {
        match self {
            TaintEffect::NoSchedule => "NoSchedule",
            TaintEffect::PreferNoSchedule => "PreferNoSchedule",
            TaintEffect::NoExecute => "NoExecute",
        }
    }
}

/// Most entries in any one list of the options.
const MAX_ITEMS: usize = 32;

/// Checks what the schema cannot: lengths, names, label keys, paths.
pub(super) fn check(c: &mut Checker, at: &str, pod: &mut PodOptions) {
    for (key, list) in [
        ("command", &pod.command),
        ("args", &pod.args),
        ("post_start", &pod.post_start),
        ("pre_stop", &pod.pre_stop),
    ] {
        words(c, &format!("{at}/{key}"), list);
    }
    sizes(c, at, pod);
    scheduling(c, at, pod);
    volumes(c, at, &mut pod.volumes);
    config_refs(c, at, pod);
    dns(c, at, pod);
    if pod.termination_grace_period_seconds.is_some_and(|s| s > 86_400) {
        c.fail(
            format!("{at}/termination_grace_period_seconds"),
            "more than a day (86400 seconds)",
        );
    }
}

/// At most [`MAX_ITEMS`] entries in each list.
fn sizes(c: &mut Checker, at: &str, pod: &PodOptions) {
    for (key, len) in [
        ("node_selector", pod.node_selector.len()),
        ("node_affinity", pod.node_affinity.len()),
        ("tolerations", pod.tolerations.len()),
        ("pod_affinity", pod.pod_affinity.len()),
        ("topology_spread", pod.topology_spread.len()),
        ("volumes", pod.volumes.len()),
        ("config_map_refs", pod.config_map_refs.len()),
        ("env_from", pod.env_from.len()),
        ("host_aliases", pod.host_aliases.len()),
        ("dns_nameservers", pod.dns_nameservers.len()),
        ("dns_searches", pod.dns_searches.len()),
    ] {
        if len > MAX_ITEMS {
            c.fail(format!("{at}/{key}"), format!("more than {MAX_ITEMS} entries"));
        }
    }
}

/// Where the pod may run: node selector and affinity labels, tolerations,
/// pod affinity and spread, priority class.
fn scheduling(c: &mut Checker, at: &str, pod: &PodOptions) {
    for (i, kv) in pod.node_selector.iter().enumerate() {
        label(c, &format!("{at}/node_selector/{i}"), &kv.key, Some(&kv.value));
    }
    for (i, r) in pod.node_affinity.iter().enumerate() {
        let here = format!("{at}/node_affinity/{i}");
        label(c, &here, &r.key, None);
        let needs_values = matches!(r.operator, SelectorOperator::In | SelectorOperator::NotIn);
        if needs_values == r.values.is_empty() {
            c.fail(
                format!("{here}/values"),
                "in/not_in need values; exists/does_not_exist take none",
            );
        }
        for (j, v) in r.values.iter().enumerate() {
            label(c, &format!("{here}/values/{j}"), &r.key, Some(v));
        }
    }
    for (i, t) in pod.tolerations.iter().enumerate() {
        toleration(c, &format!("{at}/tolerations/{i}"), t);
    }
    super::affinity::check(c, at, &pod.pod_affinity, &pod.topology_spread);
    if let Some(p) = &pod.priority_class_name {
        if !super::values::is_dns_subdomain(p) {
            c.fail(
                format!("{at}/priority_class_name"),
                format!("{p:?} is not a PriorityClass name"),
            );
        }
    }
}

/// ConfigMap keys read into variables (variable names, ConfigMap names
/// sanitised, keys) and the sources `env_from` loads whole.
fn config_refs(c: &mut Checker, at: &str, pod: &mut PodOptions) {
    for (i, r) in pod.config_map_refs.iter_mut().enumerate() {
        let here = format!("{at}/config_map_refs/{i}");
        if !super::values::is_env_name(&r.env) {
            c.fail(
                format!("{here}/env"),
                format!("{:?} is not a valid variable name", r.env),
            );
        }
        c.name(&format!("{here}/config_map"), &mut r.config_map);
        if !is_config_key(&r.key) {
            c.fail(
                format!("{here}/key"),
                format!("{:?} is not a valid ConfigMap key", r.key),
            );
        }
    }
    for (i, e) in pod.env_from.iter_mut().enumerate() {
        c.name(&format!("{at}/env_from/{i}/name"), &mut e.name);
    }
}

/// Host aliases, name servers, search domains, and a `none` DNS policy's
/// name servers.
fn dns(c: &mut Checker, at: &str, pod: &PodOptions) {
    for (i, h) in pod.host_aliases.iter().enumerate() {
        let here = format!("{at}/host_aliases/{i}");
        if h.ip.parse::<std::net::IpAddr>().is_err() {
            c.fail(format!("{here}/ip"), format!("{:?} is not an IP address", h.ip));
        }
        if h.hostnames.is_empty() {
            c.fail(format!("{here}/hostnames"), "at least one host name");
        }
        for (j, n) in h.hostnames.iter().enumerate() {
            if !super::values::is_dns_subdomain(n) {
                c.fail(
                    format!("{here}/hostnames/{j}"),
                    format!("{n:?} is not a host name"),
                );
            }
        }
    }
    for (i, ns) in pod.dns_nameservers.iter().enumerate() {
        if ns.parse::<std::net::IpAddr>().is_err() {
            c.fail(
                format!("{at}/dns_nameservers/{i}"),
                format!("{ns:?} is not an IP address"),
            );
        }
    }
    for (i, s) in pod.dns_searches.iter().enumerate() {
        if !super::values::is_dns_subdomain(s) {
            c.fail(format!("{at}/dns_searches/{i}"), format!("{s:?} is not a domain"));
        }
    }
    if pod.dns_policy == Some(DnsPolicy::None) && pod.dns_nameservers.is_empty() {
        c.fail(
            format!("{at}/dns_policy"),
            "dns_policy none needs at least one name server",
        );
    }
}

/// A command line: bounded, no control characters except tab and newline.
fn words(c: &mut Checker, at: &str, list: &[String]) {
    if list.len() > 64 {
        c.fail(at, "more than 64 words");
    }
    for (i, w) in list.iter().enumerate() {
        c.text(&format!("{at}/{i}"), w, 4096);
    }
}

fn toleration(c: &mut Checker, here: &str, t: &Toleration) {
    if let Some(k) = &t.key {
        label(c, here, k, t.value.as_deref());
    }
    match (t.operator, &t.key, &t.value) {
        (TolerationOperator::Exists, _, Some(_)) => c.fail(
            format!("{here}/value"),
            "an exists toleration has no value; use null",
        ),
        (TolerationOperator::Equal, None, _) => {
            c.fail(format!("{here}/key"), "an equal toleration needs a key")
        }
        _ => {}
    }
    if t.toleration_seconds.is_some() && t.effect != Some(TaintEffect::NoExecute) {
        c.fail(
            format!("{here}/toleration_seconds"),
            "toleration_seconds only applies to the no_execute effect",
        );
    }
}

fn volumes(c: &mut Checker, at: &str, volumes: &mut [Volume]) {
    let mut names = std::collections::HashSet::new();
    for (i, v) in volumes.iter_mut().enumerate() {
        let here = format!("{at}/volumes/{i}");
        c.name(&format!("{here}/name"), &mut v.name);
        if matches!(v.name.as_str(), "data" | "tmp" | "scripts" | "sentinel-config") {
            c.fail(
                format!("{here}/name"),
                format!("{:?} is a volume name the templates use", v.name),
            );
        }
        if !names.insert(v.name.clone()) {
            c.fail(
                format!("{here}/name"),
                format!("duplicate volume name {:?}", v.name),
            );
        }
        match (v.source, &mut v.from) {
            (VolumeSource::EmptyDir, Some(_)) => c.fail(
                format!("{here}/from"),
                "an empty_dir volume reads from nothing; use null",
            ),
            (VolumeSource::EmptyDir, None) => {}
            (_, None) => c.fail(format!("{here}/from"), "name the ConfigMap, Secret or claim"),
            (_, Some(from)) => c.name(&format!("{here}/from"), from),
        }
        if !is_mount_path(&v.mount_path) {
            c.fail(
                format!("{here}/mount_path"),
                format!("{:?} is not an absolute path", v.mount_path),
            );
        }
        if let Some(sub) = &v.sub_path {
            if sub.is_empty() || sub.starts_with('/') || sub.split('/').any(|s| s == "..") || !is_plain(sub) {
                c.fail(
                    format!("{here}/sub_path"),
                    format!("{sub:?} is not a relative path inside the volume"),
                );
            }
        }
    }
}

pub(super) fn label(c: &mut Checker, at: &str, key: &str, value: Option<&str>) {
    let (prefix, name) = key.rsplit_once('/').map_or(("", key), |(p, n)| (p, n));
    let name_ok = !name.is_empty() && name.len() <= 63 && is_label_value(name);
    if !name_ok || (!prefix.is_empty() && !super::values::is_dns_subdomain(prefix)) {
        c.fail(format!("{at}/key"), format!("{key:?} is not a label key"));
    }
    if let Some(v) = value {
        if v.len() > 63 || !(v.is_empty() || is_label_value(v)) {
            c.fail(format!("{at}/value"), format!("{v:?} is not a label value"));
        }
    }
}

/// A label value: alphanumerics with `-`, `_`, `.` inside.
fn is_label_value(v: &str) -> bool {
    v.starts_with(|c: char| c.is_ascii_alphanumeric())
        && v.ends_with(|c: char| c.is_ascii_alphanumeric())
        && v.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn is_config_key(k: &str) -> bool {
    !k.is_empty() && k.len() <= 253 && k.chars().all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
}

fn is_plain(s: &str) -> bool {
    s.len() <= 1024 && s.chars().all(|c| !c.is_control() && c != '\\')
}

fn is_mount_path(p: &str) -> bool {
    p.starts_with('/') && is_plain(p) && !p.contains(':') && !p.split('/').any(|s| s == "..")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Archetype, Spec};

    fn problems(pod: PodOptions) -> Vec<String> {
        let mut spec = Spec::test(Archetype::Worker).with(|c| {
            c.image = Some("acme/worker:1.0".into());
            c.pod = Some(pod);
        });
        match spec.normalize() {
            Ok(()) => vec![],
            Err(crate::spec::Error::Invalid(p)) => p.iter().map(ToString::to_string).collect(),
            Err(e) => vec![e.to_string()],
        }
    }

    #[test]
    fn good_options_pass_and_bad_ones_are_each_named() {
        let good = PodOptions {
            command: vec!["python".into(), "manage.py".into()],
            node_selector: vec![KeyValue {
                key: "gpu".into(),
                value: "true".into(),
            }],
            volumes: vec![Volume {
                name: "config".into(),
                source: VolumeSource::ConfigMap,
                from: Some("app-config".into()),
                mount_path: "/etc/app".into(),
                sub_path: None,
                read_only: true,
            }],
            ..Default::default()
        };
        assert!(problems(good).is_empty());
        let bad = PodOptions {
            node_selector: vec![KeyValue {
                key: "bad key".into(),
                value: "x".into(),
            }],
            tolerations: vec![Toleration {
                key: None,
                operator: TolerationOperator::Equal,
                value: Some("x".into()),
                effect: None,
                toleration_seconds: Some(5),
            }],
            volumes: vec![Volume {
                name: "cfg".into(),
                source: VolumeSource::Secret,
                from: None,
                mount_path: "etc/../x".into(),
                sub_path: Some("../up".into()),
                read_only: false,
            }],
            host_aliases: vec![HostAlias {
                ip: "not-an-ip".into(),
                hostnames: vec![],
            }],
            ..Default::default()
        };
        let found = problems(bad).join("\n");
        for expected in [
            "node_selector/0/key",
            "tolerations/0/key",
            "tolerations/0/toleration_seconds",
            "volumes/0/from",
            "volumes/0/mount_path",
            "volumes/0/sub_path",
            "host_aliases/0/ip",
            "host_aliases/0/hostnames",
        ] {
            assert!(found.contains(expected), "{expected} in\n{found}");
        }
    }
}
