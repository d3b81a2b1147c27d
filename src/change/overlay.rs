//! Updates of a workload that a Kustomize base shares between environments.
//!
//! Editing the base would change every environment, so an update for one
//! environment goes into that environment's overlay instead: a
//! strategic-merge patch `<name>-patch.yaml` next to the overlay's
//! kustomization (created, or edited in place when it is already there) and
//! listed under its `patches:`. For validation, the patch is merged into the
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
use crate::yaml_edit::split_documents;

/// The kustomization of `environment` that deploys `path`, nearest first.
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
                if k.split('/').any(|seg| seg == environment) {
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

/// Writes `set` as a patch of `w` in `overlay` (a kustomization path) and
/// lists it. Returns the merged document for validation, before and after.
pub(super) fn update(
    edits: &mut Edits<'_>,
    w: &Workload,
    set: &Update,
    overlay: &str,
) -> Result<(File, File), Error> {
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
    let old_patch = edits.text(&patch_path);
    let mut text = match &old_patch {
        Some(text) => text.clone(),
        None => skeleton(&base_doc, w, container.as_deref()),
    };
    let pod = super::update::pod_path(&w.kind);
    let mut fields: Vec<(Vec<crate::yaml_edit::Seg>, Value)> = Vec::new();
    let key = |k: &str| crate::yaml_edit::Seg::Key(k.to_string());
    if let Some(n) = set.replicas {
        fields.push((vec![key("spec"), key("replicas")], Value::from(n)));
    }
    if let Some(name) = &container {
        let mut at = pod.clone();
        at.extend([key("containers"), crate::yaml_edit::Seg::Named(name.clone())]);
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
    for (path, value) in &fields {
        text = crate::yaml_edit::set_scalar(&text, path, value).ok_or_else(|| Error::NotEditable {
            path: patch_path.clone(),
            field: crate::yaml_edit::display(path),
        })?;
    }
    if old_patch.is_some() {
        edits.write(&patch_path, text.clone());
    } else {
        edits.create(&patch_path, text.clone());
    }
    let name = patch_path.rsplit('/').next().unwrap_or(&patch_path).to_string();
    edits.edit_kustomization(overlay, "patches", |text| {
        crate::repo::wire::add_patch(text, &name)
    })?;
    let merged = |patch: Option<&str>| {
        let mut doc = base_doc.clone();
        if let Some(patch) = patch.and_then(|p| split_documents(p).first().map(|r| p[r.clone()].to_string()))
        {
            if let Some(v) = crate::repo::parse_values(&patch).into_iter().next() {
                merge(&mut doc, &v);
            }
        }
        File {
            path: patch_path.clone(),
            content: serde_json::to_string_pretty(&doc).unwrap_or_default(),
        }
    };
    Ok((merged(old_patch.as_deref()), merged(Some(&text))))
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
