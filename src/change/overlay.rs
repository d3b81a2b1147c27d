//! Updates of a workload that a Kustomize base shares between environments.
//!
//! Editing the base would change every environment, so an update for one
//! environment goes into that environment's overlay instead (the nearest
//! kustomization that only this environment builds): a field one of the
//! overlay's own patches already sets is edited in that patch
//! (`envpatch.rs`); the others go into a strategic-merge patch
//! `<name>-patch.yaml` next to the overlay's kustomization (created, or
//! edited in place when it is already there) and listed under its
//! `patches:`. For validation, the patches are merged into the
//! base document in memory ([`merge`]: mappings merge, lists of named items
//! merge by `name`, anything else is replaced), so schemas and policies see
//! the workload as the environment will run it.

use std::collections::{BTreeSet, VecDeque};

use serde_json::Value;

use super::inventory::Workload;
use super::{Edits, Error};
use crate::manifest::File;
use crate::repo::parent;
use crate::spec::Update;
use crate::yaml::edit::{split_documents, Seg};

/// The kustomization that deploys `path` for `environment` and for no
/// other environment, nearest first.
pub(super) fn overlay_for(edits: &Edits<'_>, path: &str, environment: &str) -> Option<String> {
    let mut queue = VecDeque::from([path.to_string()]);
    let mut seen = BTreeSet::new();
    while let Some(p) = queue.pop_front() {
        if !seen.insert(p.clone()) {
            continue;
        }
        let mut at = p.as_str();
        loop {
            for k in edits.inv.included_by.get(at).into_iter().flatten() {
                // Only a kustomization's resources build a workload (not its patches).
                let lists = edits.inv.kustomizations.get(k).is_some_and(|resources| {
                    resources
                        .iter()
                        .any(|r| crate::repo::join_relative(parent(k), r).as_deref() == Some(at))
                });
                if !lists {
                    continue;
                }
                if edits.inv.reach(k) == [environment] {
                    return Some(k.clone());
                }
                queue.push_back(k.clone());
            }
            if at.is_empty() {
                break;
            }
            at = parent(at);
        }
    }
    None
}

/// What an overlay update wrote: the patch files it edited or created, and
/// the workload as the environment runs it, before and after (the base
/// merged with those patches), for validation.
pub(super) struct Patched {
    pub(super) patches: Vec<String>,
    pub(super) before: File,
    pub(super) after: File,
}

/// The fields `set` changes, as paths into the workload and their values.
fn fields(w: &Workload, set: &Update, container: Option<&str>) -> Vec<(Vec<Seg>, Value)> {
    let pod = super::update::pod_path(&w.kind);
    let mut fields: Vec<(Vec<Seg>, Value)> = Vec::new();
    let key = |k: &str| Seg::Key(k.to_string());
    if let Some(n) = set.replicas {
        fields.push((vec![key("spec"), key("replicas")], Value::from(n)));
    }
    if let Some(name) = container {
        let mut at = pod.clone();
        at.extend([key("containers"), Seg::Named(name.to_string())]);
        if let Some(image) = &set.image {
            fields.push((
                [at.clone(), vec![key("image")]].concat(),
                Value::from(image.clone()),
            ));
        }
        if let Some(r) = &set.resources {
            for (section, q) in [("requests", &r.requests), ("limits", &r.limits)] {
                for (name, value) in [("cpu", &q.cpu), ("memory", &q.memory)] {
                    if let Some(v) = value {
                        let path = [at.clone(), vec![key("resources"), key(section), key(name)]].concat();
                        fields.push((path, Value::from(v.clone())));
                    }
                }
            }
        }
    }
    fields
}

/// Writes `set` for `w` in `overlay` (a kustomization path that only
/// `environment` builds): fields an existing patch of the overlay sets are
/// edited there, the rest go into `<name>-patch.yaml`, listed under
/// `patches:`.
pub(super) fn update(
    edits: &mut Edits<'_>,
    w: &Workload,
    set: &Update,
    overlay: &str,
    environment: &str,
) -> Result<Patched, Error> {
    let dir = parent(overlay);
    let patch_path = format!("{dir}/{}-patch.yaml", w.name);
    let base_doc = edits
        .inv
        .docs()
        .find(|d| d.path == w.path && d.document == w.document)
        .map(|d| d.value.clone())
        .ok_or_else(|| Error::NotEditable {
            path: w.path.clone(),
            field: "the workload document".into(),
        })?;
    let container = if set.image.is_some() || set.resources.is_some() {
        Some(super::update::choose_container(w, set)?.name.clone())
    } else {
        None
    };
    let mut touched: Vec<(String, Option<String>)> = Vec::new();
    let mut own: Vec<(Vec<Seg>, Value)> = Vec::new();
    for (field, value) in fields(w, set, container.as_deref()) {
        match super::envpatch::patch_setting(edits, overlay, w, &field, environment) {
            Some(at) => {
                if !touched.iter().any(|(p, _)| *p == at.path) {
                    touched.push((at.path.clone(), edits.text(&at.path)));
                }
                super::envpatch::set_in(edits, &at.path, at.document, &at.field, &value)?;
            }
            None => own.push((field, value)),
        }
    }
    if !own.is_empty() {
        touched.push((patch_path.clone(), edits.text(&patch_path)));
        let skeleton = skeleton(&base_doc, w, container.as_deref());
        write_patch(edits, overlay, &patch_path, &own, skeleton)?;
    }
    // The workload as the environment runs it: the base with the patches merged.
    let path = touched.first().map_or(patch_path.clone(), |(p, _)| p.clone());
    let before = merged(&base_doc, w, &path, touched.iter().map(|(_, old)| old.clone()));
    let after = merged(&base_doc, w, &path, touched.iter().map(|(p, _)| edits.text(p)));
    Ok(Patched {
        patches: touched.into_iter().map(|(p, _)| p).collect(),
        before,
        after,
    })
}

/// Sets `own` in the overlay's own patch `patch_path` (a new file from
/// `skeleton` when there is none yet), listed under the overlay's `patches:`.
fn write_patch(
    edits: &mut Edits<'_>,
    overlay: &str,
    patch_path: &str,
    own: &[(Vec<Seg>, Value)],
    skeleton: String,
) -> Result<(), Error> {
    let old_patch = edits.text(patch_path);
    let mut text = old_patch.clone().unwrap_or(skeleton);
    for (path, value) in own {
        text = crate::yaml::edit::set_scalar(&text, path, value).ok_or_else(|| Error::NotEditable {
            path: patch_path.to_string(),
            field: crate::yaml::edit::display(path),
        })?;
    }
    if old_patch.is_some() {
        edits.write(patch_path, text);
    } else {
        edits.create(patch_path, text);
    }
    let name = patch_path.rsplit('/').next().unwrap_or(patch_path).to_string();
    edits.edit_kustomization(overlay, "patches", |text| {
        crate::repo::wire::add_patch(text, &name)
    })?;
    Ok(())
}

/// The workload `w` as `base` with every document of `texts` that names it
/// merged in, as a file at `path`.
fn merged(base: &Value, w: &Workload, path: &str, texts: impl Iterator<Item = Option<String>>) -> File {
    let mut doc = base.clone();
    for text in texts.flatten() {
        for range in split_documents(&text) {
            for v in crate::repo::parse_values(&text[range]) {
                if v["kind"] == w.kind.as_str() && v["metadata"]["name"] == w.name.as_str() {
                    merge(&mut doc, &v);
                }
            }
        }
    }
    File {
        path: path.to_string(),
        content: serde_json::to_string_pretty(&doc).unwrap_or_default(),
    }
}

/// A new patch naming the workload, with its container when one is changed.
fn skeleton(base: &Value, w: &Workload, container: Option<&str>) -> String {
    let api_version = base["apiVersion"].as_str().unwrap_or("apps/v1");
    let mut text = format!(
        "# Changes for this environment only; the base is {}.\napiVersion: {api_version}\nkind: {}\nmetadata:\n  name: {}\n",
        w.path, w.kind, w.name
    );
    if let Some(c) = container {
        let pod = if w.kind == "CronJob" {
            "spec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n            - name: "
        } else {
            "spec:\n  template:\n    spec:\n      containers:\n        - name: "
        };
        text.push_str(&format!("{pod}{c}\n"));
    }
    text
}

/// A strategic merge of `patch` into `base`, for the fields a patch of ours
/// holds: mappings merge, lists of items with a `name` merge by name, a
/// `null` removes a key, anything else replaces.
pub(crate) fn merge(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    b.remove(k);
                } else {
                    merge(b.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (Value::Array(b), Value::Array(p)) if p.iter().all(|i| i["name"].is_string()) => {
            for item in p {
                match b.iter_mut().find(|x| x["name"] == item["name"]) {
                    Some(existing) => merge(existing, item),
                    None => b.push(item.clone()),
                }
            }
        }
        (b, p) => *b = p.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::merge;
    use serde_json::json;

    #[test]
    fn named_lists_merge_by_name() {
        let mut base = json!({"spec": {"replicas": 1, "template": {"spec": {"containers": [
            {"name": "app", "image": "a:1", "resources": {"limits": {"cpu": "1"}}},
            {"name": "sidecar", "image": "s:1"}
        ]}}}});
        merge(
            &mut base,
            &json!({"spec": {"replicas": 3, "template": {"spec": {"containers": [
                {"name": "app", "image": "a:2", "resources": {"limits": {"memory": "1Gi"}}}
            ]}}}}),
        );
        assert_eq!(base["spec"]["replicas"], 3);
        let c = &base["spec"]["template"]["spec"]["containers"];
        assert_eq!(
            c[0],
            json!({"name": "app", "image": "a:2", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}})
        );
        assert_eq!(c[1]["image"], "s:1");
    }
}
