//! ConfigMaps, PersistentVolumes and StorageClasses to a component's
//! `objects`: on the workload that mounts or reads the ConfigMap, else the
//! first workload lifted with it, else a component of their own without a
//! workload (`workload.kind: none`), which is also what a Service over pods
//! no lifted workload runs becomes.
//!
//! A ConfigMap with binary data, a key that names a credential (a Secret in
//! disguise) or a PersistentVolume on a source the spec lacks stays
//! unsupported as a whole.

use serde_json::{Map, Value};

use super::tree::Tree;
use super::Draft;
use crate::spec::{
    AccessMode, Archetype, BindingMode, Component, ConfigEntry, ConfigMapObject, KindChoice, Objects,
    PersistentVolume, PvSource, ReclaimPolicy, StorageClass, VolumeMode, WorkloadOptions,
};

/// A component without a workload, named after the resource at `index`.
pub(super) fn standalone(t: &Tree, drafts: &mut Vec<Draft>, index: usize, kind: &str) {
    let name = t
        .get("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let comp_name = crate::spec::sanitize_name(&name).unwrap_or(name.clone());
    let mut component = Component::new(&comp_name, Archetype::WebService);
    component.workload = Some(WorkloadOptions {
        kind: Some(KindChoice::None),
        ..Default::default()
    });
    drafts.push(Draft {
        component,
        index,
        pod_labels: Map::new(),
        kind: kind.to_string(),
        name,
        selector: Vec::new(),
    });
}

/// Folds a ConfigMap, PersistentVolume or StorageClass into a draft.
pub(super) fn fold(t: &mut Tree, kind: &str, drafts: &mut Vec<Draft>, index: usize) -> Result<usize, String> {
    let name = t
        .get("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let mut objects = Objects::default();
    match kind {
        "ConfigMap" => objects.config_maps.push(config_map(t, &name)?),
        "PersistentVolume" => objects.persistent_volumes.push(volume(t, &name)?),
        _ => objects.storage_classes.push(storage_class(t, &name)?),
    }
    for p in [
        "/metadata/name",
        "/metadata/namespace",
        "/metadata/labels",
        "/metadata/annotations",
    ] {
        t.take(p);
    }
    let uses = |d: &Draft| {
        kind == "ConfigMap"
            && d.component.pod.as_ref().is_some_and(|p| {
                p.volumes.iter().any(|v| v.from.as_deref() == Some(name.as_str()))
                    || p.env_from.iter().any(|e| e.name == name)
                    || p.config_map_refs.iter().any(|r| r.config_map == name)
            })
    };
    let workload = |d: &Draft| !d.component.has_no_workload();
    let d = match drafts
        .iter()
        .position(uses)
        .or_else(|| drafts.iter().position(workload))
        .or_else(|| (!drafts.is_empty()).then_some(0))
    {
        Some(d) => d,
        None => {
            standalone(t, drafts, index, kind);
            drafts.len() - 1
        }
    };
    let into = drafts[d].component.objects.get_or_insert_with(Objects::default);
    into.config_maps.extend(objects.config_maps);
    into.persistent_volumes.extend(objects.persistent_volumes);
    into.storage_classes.extend(objects.storage_classes);
    Ok(d)
}

fn v1(t: &Tree, api: &str) -> Result<(), String> {
    match t.get("/apiVersion").and_then(Value::as_str) {
        Some(a) if a == api => Ok(()),
        _ => Err(format!("only {api} is lifted")),
    }
}

fn config_map(t: &mut Tree, name: &str) -> Result<ConfigMapObject, String> {
    v1(t, "v1")?;
    let data = t
        .get("/data")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut entries = Vec::new();
    for (key, value) in &data {
        let value = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return Err(format!("the value of {key:?} is not text")),
        };
        if crate::spec::secrets::is_secret_name(&key.replace(['-', '.'], "_")) {
            return Err(format!(
                "key {key:?} names a credential: it belongs in a Secret, which the spec only references"
            ));
        }
        entries.push(ConfigEntry {
            key: key.clone(),
            value,
        });
    }
    t.take("/data");
    Ok(ConfigMapObject {
        name: name.to_string(),
        data: entries,
    })
}

/// Lifts a PersistentVolume; the fields read are taken from the tree.
fn volume(t: &mut Tree, name: &str) -> Result<PersistentVolume, String> {
    v1(t, "v1")?;
    let capacity = match t.get("/spec/capacity/storage") {
        Some(Value::String(c)) => c.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err("a PersistentVolume without a storage capacity".into()),
    };
    let access_modes = t
        .get("/spec/accessModes")
        .and_then(Value::as_array)
        .map(|l| l.iter().map(access_mode).collect::<Option<Vec<_>>>())
        .unwrap_or(Some(Vec::new()))
        .ok_or("an access mode the spec does not have")?;
    let source = pv_source(t)?;
    let pv = PersistentVolume {
        name: name.to_string(),
        capacity,
        access_modes,
        reclaim_policy: reclaim(t.get("/spec/persistentVolumeReclaimPolicy")),
        storage_class: string_at(t, "/spec/storageClassName"),
        volume_mode: match t.get("/spec/volumeMode").and_then(Value::as_str) {
            Some("Filesystem") => Some(VolumeMode::Filesystem),
            Some("Block") => Some(VolumeMode::Block),
            _ => None,
        },
        source: source.kind,
        server: source.server,
        path: source.path,
        driver: source.driver,
        volume_handle: source.handle,
        node_affinity: Vec::new(),
    };
    take_volume_fields(t, &pv);
    Ok(pv)
}

/// The string at `pointer`, if it is one.
fn string_at(t: &Tree, pointer: &str) -> Option<String> {
    t.get(pointer).and_then(Value::as_str).map(str::to_string)
}

/// Where a PersistentVolume's storage is, as the spec holds it.
struct SourceFields {
    kind: PvSource,
    server: Option<String>,
    path: Option<String>,
    driver: Option<String>,
    handle: Option<String>,
}

/// The PersistentVolume's source: nfs, hostPath, local or csi.
fn pv_source(t: &Tree) -> Result<SourceFields, String> {
    let none = |kind| SourceFields {
        kind,
        server: None,
        path: None,
        driver: None,
        handle: None,
    };
    Ok(if t.get("/spec/nfs").is_some() {
        SourceFields {
            server: string_at(t, "/spec/nfs/server"),
            path: string_at(t, "/spec/nfs/path"),
            ..none(PvSource::Nfs)
        }
    } else if t.get("/spec/hostPath").is_some() {
        SourceFields {
            path: string_at(t, "/spec/hostPath/path"),
            ..none(PvSource::HostPath)
        }
    } else if t.get("/spec/local").is_some() {
        SourceFields {
            path: string_at(t, "/spec/local/path"),
            ..none(PvSource::Local)
        }
    } else if t.get("/spec/csi").is_some() {
        SourceFields {
            driver: string_at(t, "/spec/csi/driver"),
            handle: string_at(t, "/spec/csi/volumeHandle"),
            ..none(PvSource::Csi)
        }
    } else {
        return Err(
            "a PersistentVolume source the spec does not have (nfs, hostPath, local, csi are)".into(),
        );
    })
}

/// Takes the fields `pv` holds from the tree.
fn take_volume_fields(t: &mut Tree, pv: &PersistentVolume) {
    for p in [
        "/spec/capacity/storage",
        "/spec/accessModes",
        "/spec/storageClassName",
        "/spec/nfs/server",
        "/spec/nfs/path",
        "/spec/hostPath/path",
        "/spec/local/path",
        "/spec/csi/driver",
        "/spec/csi/volumeHandle",
    ] {
        t.take(p);
    }
    if pv.reclaim_policy.is_some() {
        t.take("/spec/persistentVolumeReclaimPolicy");
    }
    if pv.volume_mode.is_some() {
        t.take("/spec/volumeMode");
    }
}

fn access_mode(v: &Value) -> Option<AccessMode> {
    Some(match v.as_str()? {
        "ReadWriteOnce" => AccessMode::ReadWriteOnce,
        "ReadOnlyMany" => AccessMode::ReadOnlyMany,
        "ReadWriteMany" => AccessMode::ReadWriteMany,
        "ReadWriteOncePod" => AccessMode::ReadWriteOncePod,
        _ => return None,
    })
}

fn reclaim(v: Option<&Value>) -> Option<ReclaimPolicy> {
    Some(match v?.as_str()? {
        "Retain" => ReclaimPolicy::Retain,
        "Delete" => ReclaimPolicy::Delete,
        "Recycle" => ReclaimPolicy::Recycle,
        _ => return None,
    })
}

fn storage_class(t: &mut Tree, name: &str) -> Result<StorageClass, String> {
    v1(t, "storage.k8s.io/v1")?;
    let provisioner = t
        .get("/provisioner")
        .and_then(Value::as_str)
        .ok_or("a StorageClass without a provisioner")?
        .to_string();
    let parameters = t
        .get("/parameters")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|(key, v)| {
            v.as_str().map(|value| ConfigEntry {
                key,
                value: value.to_string(),
            })
        })
        .collect::<Option<Vec<_>>>()
        .ok_or("a StorageClass parameter that is not text")?;
    let sc = StorageClass {
        name: name.to_string(),
        provisioner,
        parameters,
        reclaim_policy: reclaim(t.get("/reclaimPolicy")),
        volume_binding_mode: match t.get("/volumeBindingMode").and_then(Value::as_str) {
            Some("Immediate") => Some(BindingMode::Immediate),
            Some("WaitForFirstConsumer") => Some(BindingMode::WaitForFirstConsumer),
            _ => None,
        },
        allow_volume_expansion: t.get("/allowVolumeExpansion").and_then(Value::as_bool),
    };
    t.take("/provisioner");
    t.take("/parameters");
    for (p, set) in [
        ("/reclaimPolicy", sc.reclaim_policy.is_some()),
        ("/volumeBindingMode", sc.volume_binding_mode.is_some()),
        ("/allowVolumeExpansion", sc.allow_volume_expansion.is_some()),
    ] {
        if set {
            t.take(p);
        }
    }
    Ok(sc)
}
