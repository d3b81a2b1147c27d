//! A component's ConfigMaps, PersistentVolumes and StorageClasses for the
//! templates (`configmaps.yaml.j2`, `persistentvolumes.yaml.j2`,
//! `storageclasses.yaml.j2`), each field Kubernetes-shaped, and a warning
//! for a PersistentVolume on a node's host path.

use serde_json::{json, Map, Value};

use crate::finding::{Finding, Severity};
use crate::spec::{Component, ConfigEntry, PersistentVolume, PvSource};

/// `{config_maps, persistent_volumes, storage_classes}`, each a list.
pub(super) fn objects(comp: &Component, findings: &mut Vec<Finding>) -> Value {
    let empty = crate::spec::Objects::default();
    let o = comp.objects.as_ref().unwrap_or(&empty);
    let config_maps: Vec<Value> = o
        .config_maps
        .iter()
        .map(|cm| json!({"name": cm.name, "data": map(&cm.data)}))
        .collect();
    let persistent_volumes: Vec<Value> = o
        .persistent_volumes
        .iter()
        .map(|pv| {
            if pv.source == PvSource::HostPath {
                findings.push(host_path(pv));
            }
            json!({"name": pv.name, "spec": volume(pv)})
        })
        .collect();
    let storage_classes: Vec<Value> = o
        .storage_classes
        .iter()
        .map(|sc| {
            json!({
                "name": sc.name,
                "provisioner": sc.provisioner,
                "parameters": (!sc.parameters.is_empty()).then(|| map(&sc.parameters)),
                "reclaimPolicy": sc.reclaim_policy.map(|r| r.as_k8s()),
                "volumeBindingMode": sc.volume_binding_mode.map(|b| b.as_k8s()),
                "allowVolumeExpansion": sc.allow_volume_expansion,
            })
        })
        .collect();
    json!({
        "config_maps": config_maps,
        "persistent_volumes": persistent_volumes,
        "storage_classes": storage_classes,
    })
}

fn map(entries: &[ConfigEntry]) -> Map<String, Value> {
    entries.iter().map(|e| (e.key.clone(), json!(e.value))).collect()
}

/// A PersistentVolume's `spec`.
fn volume(pv: &PersistentVolume) -> Value {
    let modes: Vec<&str> = pv.access_modes.iter().map(|m| m.as_k8s()).collect();
    let mut spec = json!({"capacity": {"storage": pv.capacity}, "accessModes": modes});
    spec["persistentVolumeReclaimPolicy"] = json!(pv.reclaim_policy.map_or("Retain", |r| r.as_k8s()));
    if let Some(class) = &pv.storage_class {
        spec["storageClassName"] = json!(class);
    }
    if let Some(mode) = pv.volume_mode {
        spec["volumeMode"] = json!(mode.as_k8s());
    }
    let path = pv.path.clone().unwrap_or_default();
    match pv.source {
        PvSource::Nfs => spec["nfs"] = json!({"server": pv.server, "path": path}),
        PvSource::HostPath => spec["hostPath"] = json!({"path": path}),
        PvSource::Local => spec["local"] = json!({"path": path}),
        PvSource::Csi => spec["csi"] = json!({"driver": pv.driver, "volumeHandle": pv.volume_handle}),
    }
    if !pv.node_affinity.is_empty() {
        let expressions: Vec<Value> = pv
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
        spec["nodeAffinity"] =
            json!({"required": {"nodeSelectorTerms": [{"matchExpressions": expressions}]}});
    }
    spec
}

fn host_path(pv: &PersistentVolume) -> Finding {
    Finding::new(
        Severity::Warning,
        "host-path-volume",
        format!("PersistentVolume/{}", pv.name),
        "/spec/hostPath",
        format!(
            "PersistentVolume {} is a directory on whichever node mounts it, as asked: its data does not follow the pod \
             to another node; use it for tests only, or nfs, local or csi",
            pv.name
        ),
    )
}
