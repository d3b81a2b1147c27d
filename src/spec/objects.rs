//! Objects a component carries beside its workload: ConfigMaps with their
//! data, PersistentVolumes and StorageClasses. A component with no workload
//! (`workload.kind: none`) may carry only these.
//!
//! Secrets are never objects here: a ConfigMap key that names a credential
//! (`password`, `api_key`, …) is refused, and `secrets::scrub` redacts any
//! credential-shaped value wherever it is. A PersistentVolume on a host path
//! is rendered as asked with a warning (`render/objects.rs`).
//!
//! Types and checks only; `templates/objects.yaml.j2` renders them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::check::Checker;
use super::pod::NodeRequirement;

/// ConfigMaps, PersistentVolumes and StorageClasses; null means none.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Objects {
    /// ConfigMaps with literal, non-secret data.
    pub config_maps: Vec<ConfigMapObject>,
    /// PersistentVolumes (cluster-wide storage an administrator provides).
    pub persistent_volumes: Vec<PersistentVolume>,
    /// StorageClasses (how claims get volumes).
    pub storage_classes: Vec<StorageClass>,
}

/// A ConfigMap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigMapObject {
    /// DNS-1123 name, e.g. `app-config`.
    pub name: String,
    /// Keys and their text values; a key may be a file name such as `app.properties`.
    pub data: Vec<ConfigEntry>,
}

/// One key of a ConfigMap or StorageClass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigEntry {
    pub key: String,
    /// Text, possibly several lines. Never a credential.
    pub value: String,
}

/// A PersistentVolume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PersistentVolume {
    /// DNS-1123 name, e.g. `pv0001`.
    pub name: String,
    /// Size, e.g. `10Gi`.
    pub capacity: String,
    /// How nodes may mount it; at least one.
    pub access_modes: Vec<AccessMode>,
    /// What happens when its claim is deleted; null means `retain`.
    pub reclaim_policy: Option<ReclaimPolicy>,
    /// StorageClass name claims must ask for; null means none.
    pub storage_class: Option<String>,
    /// `filesystem` or `block`; null means filesystem.
    pub volume_mode: Option<VolumeMode>,
    /// What backs it.
    pub source: PvSource,
    /// `nfs`: the server, e.g. `nfs.example.com`; null otherwise.
    pub server: Option<String>,
    /// `nfs`, `host_path`, `local`: the path, e.g. `/exports/data`; null for `csi`.
    pub path: Option<String>,
    /// `csi`: the driver, e.g. `ebs.csi.aws.com`; null otherwise.
    pub driver: Option<String>,
    /// `csi`: the volume's id in the driver; null otherwise.
    pub volume_handle: Option<String>,
    /// Nodes that can reach it (required for `local`): every term must hold.
    pub node_affinity: Vec<NodeRequirement>,
}

/// How a volume may be mounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccessMode {
    ReadWriteOnce,
    ReadOnlyMany,
    ReadWriteMany,
    ReadWriteOncePod,
}

/// What happens to a released volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReclaimPolicy {
    Retain,
    Delete,
    Recycle,
}

/// A volume's mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VolumeMode {
    Filesystem,
    Block,
}

/// What backs a PersistentVolume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PvSource {
    /// An NFS export (`server`, `path`).
    Nfs,
    /// A directory on one node (`path`); for tests only, reported by a warning.
    HostPath,
    /// A local disk of the nodes in `node_affinity` (`path`).
    Local,
    /// A CSI driver's volume (`driver`, `volume_handle`).
    Csi,
}

/// A StorageClass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StorageClass {
    /// DNS-1123 name, e.g. `fast`.
    pub name: String,
    /// The provisioner, e.g. `ebs.csi.aws.com` or `kubernetes.io/no-provisioner`.
    pub provisioner: String,
    /// Provisioner parameters, e.g. `type=gp3`.
    pub parameters: Vec<ConfigEntry>,
    /// What happens to a released volume; null means `delete`.
    pub reclaim_policy: Option<ReclaimPolicy>,
    /// `immediate` or `wait_for_first_consumer`; null means immediate.
    pub volume_binding_mode: Option<BindingMode>,
    /// Whether claims may grow; null leaves it unset (false).
    pub allow_volume_expansion: Option<bool>,
}

/// When a claim is bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BindingMode {
    Immediate,
    WaitForFirstConsumer,
}

impl Objects {
    /// True when it holds no object.
    pub fn is_empty(&self) -> bool {
        self.config_maps.is_empty() && self.persistent_volumes.is_empty() && self.storage_classes.is_empty()
    }
}

impl AccessMode {
    /// The Kubernetes spelling.
    pub fn as_k8s(self) -> &'static str {
        match self {
            AccessMode::ReadWriteOnce => "ReadWriteOnce",
            AccessMode::ReadOnlyMany => "ReadOnlyMany",
            AccessMode::ReadWriteMany => "ReadWriteMany",
            AccessMode::ReadWriteOncePod => "ReadWriteOncePod",
        }
    }
}

impl ReclaimPolicy {
    /// The Kubernetes spelling.
    pub fn as_k8s(self) -> &'static str {
        match self {
            ReclaimPolicy::Retain => "Retain",
            ReclaimPolicy::Delete => "Delete",
            ReclaimPolicy::Recycle => "Recycle",
        }
    }
}

impl VolumeMode {
    /// The Kubernetes spelling.
    pub fn as_k8s(self) -> &'static str {
        match self {
            VolumeMode::Filesystem => "Filesystem",
            VolumeMode::Block => "Block",
        }
    }
}

impl BindingMode {
    /// The Kubernetes spelling.
    pub fn as_k8s(self) -> &'static str {
        match self {
            BindingMode::Immediate => "Immediate",
            BindingMode::WaitForFirstConsumer => "WaitForFirstConsumer",
        }
    }
}

/// Most objects of one kind, and most keys in one object.
const MAX: usize = 16;
const MAX_KEYS: usize = 64;

/// Checks names, data keys (never a credential), sizes and volume sources.
pub(super) fn check(c: &mut Checker, at: &str, o: &mut Objects) {
    for (key, len) in [
        ("config_maps", o.config_maps.len()),
        ("persistent_volumes", o.persistent_volumes.len()),
        ("storage_classes", o.storage_classes.len()),
    ] {
        if len > MAX {
            c.fail(format!("{at}/{key}"), format!("more than {MAX} entries"));
        }
    }
    for (i, cm) in o.config_maps.iter_mut().enumerate() {
        let here = format!("{at}/config_maps/{i}");
        c.name(&format!("{here}/name"), &mut cm.name);
        entries(c, &format!("{here}/data"), &cm.data, true);
    }
    for (i, pv) in o.persistent_volumes.iter_mut().enumerate() {
        volume(c, &format!("{at}/persistent_volumes/{i}"), pv);
    }
    for (i, sc) in o.storage_classes.iter_mut().enumerate() {
        let here = format!("{at}/storage_classes/{i}");
        c.name(&format!("{here}/name"), &mut sc.name);
        if !is_qualified(&sc.provisioner) {
            c.fail(
                format!("{here}/provisioner"),
                format!("{:?} is not a provisioner name", sc.provisioner),
            );
        }
        entries(c, &format!("{here}/parameters"), &sc.parameters, false);
    }
}

/// Keys unique and well-formed, values bounded text; in a ConfigMap a
/// credential's name is refused: it belongs in a Secret.
fn entries(c: &mut Checker, at: &str, data: &[ConfigEntry], config_map: bool) {
    if data.len() > MAX_KEYS {
        c.fail(at, format!("more than {MAX_KEYS} keys"));
    }
    let mut seen = std::collections::HashSet::new();
    for (j, e) in data.iter().enumerate() {
        let here = format!("{at}/{j}");
        let ok = !e.key.is_empty()
            && e.key.len() <= 253
            && e.key
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "-._".contains(ch))
            && !matches!(e.key.as_str(), "." | "..");
        if !ok {
            c.fail(format!("{here}/key"), format!("{:?} is not a valid key", e.key));
        }
        if !seen.insert(e.key.as_str()) {
            c.fail(format!("{here}/key"), format!("duplicate key {:?}", e.key));
        }
        if config_map && super::secrets::is_secret_name(&e.key.replace(['-', '.'], "_")) {
            c.fail(
                format!("{here}/key"),
                format!(
                    "{:?} names a credential: a ConfigMap is plaintext in Git; put it in a Secret created outside Git and reference it",
                    e.key
                ),
            );
        }
        c.text(&format!("{here}/value"), &e.value, 64 * 1024);
    }
}

/// Checks one PersistentVolume: name, capacity, access modes, class, source.
fn volume(c: &mut Checker, here: &str, pv: &mut PersistentVolume) {
    c.name(&format!("{here}/name"), &mut pv.name);
    if !super::values::is_memory(&pv.capacity) {
        c.fail(
            format!("{here}/capacity"),
            format!("{:?} is not a size such as 10Gi", pv.capacity),
        );
    }
    if pv.access_modes.is_empty() {
        c.fail(format!("{here}/access_modes"), "at least one access mode");
    }
    if let Some(class) = &pv.storage_class {
        if !super::values::is_dns_subdomain(class) {
            c.fail(
                format!("{here}/storage_class"),
                format!("{class:?} is not a StorageClass name"),
            );
        }
    }
    source_fields(c, here, pv);
    source_values(c, here, pv);
    for (j, r) in pv.node_affinity.iter().enumerate() {
        super::pod::label(c, &format!("{here}/node_affinity/{j}"), &r.key, None);
    }
}

/// The fields the volume's source needs, set, and those it does not use, unset.
fn source_fields(c: &mut Checker, here: &str, pv: &PersistentVolume) {
    let needs = |field: &str, set: bool, wanted: bool| -> Option<(String, &'static str)> {
        match (set, wanted) {
            (false, true) => Some((format!("{here}/{field}"), "this source needs it")),
            (true, false) => Some((format!("{here}/{field}"), "this source does not use it; use null")),
            _ => None,
        }
    };
    let (server, path, csi) = match pv.source {
        PvSource::Nfs => (true, true, false),
        PvSource::HostPath | PvSource::Local => (false, true, false),
        PvSource::Csi => (false, false, true),
    };
    let problems = [
        needs("server", pv.server.is_some(), server),
        needs("path", pv.path.is_some(), path),
        needs("driver", pv.driver.is_some(), csi),
        needs("volume_handle", pv.volume_handle.is_some(), csi),
        needs(
            "node_affinity",
            !pv.node_affinity.is_empty(),
            pv.source == PvSource::Local,
        )
        .filter(|_| pv.source == PvSource::Local),
    ];
    for (path, message) in problems.into_iter().flatten() {
        c.fail(path, message);
    }
}

/// The source's values: an absolute path, a host name or IP, a qualified
/// driver name and a bounded volume handle.
fn source_values(c: &mut Checker, here: &str, pv: &PersistentVolume) {
    if let Some(p) = &pv.path {
        if !p.starts_with('/')
            || p.split('/').any(|s| s == "..")
            || p.chars().any(char::is_control)
            || p.len() > 1024
        {
            c.fail(format!("{here}/path"), format!("{p:?} is not an absolute path"));
        }
    }
    if let Some(s) = &pv.server {
        let ip = s.parse::<std::net::IpAddr>().is_ok();
        if !ip && !super::values::is_dns_subdomain(s) {
            c.fail(
                format!("{here}/server"),
                format!("{s:?} is not a host name or IP"),
            );
        }
    }
    for (key, value) in [("driver", &pv.driver), ("volume_handle", &pv.volume_handle)] {
        if let Some(v) = value {
            c.text(&format!("{here}/{key}"), v, 253);
            if key == "driver" && !is_qualified(v) {
                c.fail(format!("{here}/driver"), format!("{v:?} is not a driver name"));
            }
        }
    }
}

/// A provisioner or driver: a domain-like name with an optional path (`kubernetes.io/aws-ebs`).
fn is_qualified(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "-._/".contains(ch))
        && !s.starts_with(['/', '.', '-'])
        && !s.contains("..")
}
