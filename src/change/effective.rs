//! A workload as one environment's build runs it, without running Kustomize.
//!
//! Input is a workload of the [`Inventory`] and an environment; output is
//! its document after every kustomization that takes it into that
//! environment's build has applied, in Kustomize's order (the kustomization
//! listing the file first, the environment's root last; in each, its patches
//! and then its `replicas:` and `images:` transformers). It reads the files
//! being edited ([`Edits::text`]), so a promotion can check its own result.
//! Patches are strategic-merge documents (`patches:`, `patchesStrategicMerge`)
//! matched by kind and name, or JSON 6902 operations (`patchesJson6902`,
//! `patches:` with a `target`). A kustomization's `namePrefix`/`nameSuffix`
//! renames the workload after its own patches: a kustomization above it
//! matches the new name or any earlier one, as Kustomize does. It does not
//! template or run generators, and a patch it cannot read is an error, never
//! skipped.

use std::collections::BTreeMap;

use serde_json::Value;

use super::inventory::Workload;
use super::{Edits, Error};
use crate::repo::{join_relative, parent};

/// The kustomizations that take `path` into `environment`'s build, the one
/// listing it first and the environment's root last.
pub(super) fn chain(edits: &Edits<'_>, path: &str, environment: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut at = path.to_string();
    loop {
        let mut probe = at.as_str();
        let next = loop {
            let found = edits
                .inv
                .included_by
                .get(probe)
                .into_iter()
                .flatten()
                .find(|k| !out.contains(k) && edits.inv.reach(k).iter().any(|e| e == environment));
            if found.is_some() || probe.is_empty() {
                break found;
            }
            probe = parent(probe);
        };
        match next {
            Some(k) => {
                out.push(k.clone());
                at = parent(k).to_string();
            }
            None => return out,
        }
    }
}

/// `w`'s document as `environment` builds it (see the module docs).
pub(super) fn effective(edits: &Edits<'_>, w: &Workload, environment: &str) -> Result<Value, Error> {
    let unreadable = |path: &str, what: &str| Error::NotEditable {
        path: path.to_string(),
        field: what.to_string(),
    };
    let text = edits
        .text(&w.path)
        .ok_or_else(|| unreadable(&w.path, "the workload"))?;
    let ranges = crate::yaml::edit::split_documents(&text);
    let range = ranges
        .get(w.document)
        .ok_or_else(|| unreadable(&w.path, "the workload document"))?;
    let mut doc = crate::repo::parse_values(&text[range.clone()])
        .into_iter()
        .next()
        .ok_or_else(|| unreadable(&w.path, "the workload document"))?;
    // Every name the workload has had along the chain, the latest last.
    let mut names = vec![w.name.clone()];
    for k in chain(edits, &w.path, environment) {
        let Some(text) = edits.text(&k) else { continue };
        let Some(kust) = crate::repo::parse_values(&text).into_iter().next() else {
            return Err(unreadable(&k, "the kustomization"));
        };
        for patch in patches(edits, &k, &kust)? {
            apply_patch(&mut doc, w, &names, &patch);
        }
        for r in kust["replicas"].as_array().into_iter().flatten() {
            let named = r["name"].as_str().is_some_and(|n| names.iter().any(|x| x == n));
            if named && r["count"].is_u64() {
                doc["spec"]["replicas"] = r["count"].clone();
            }
        }
        for entry in kust["images"].as_array().into_iter().flatten() {
            for c in containers_mut(&mut doc) {
                if let Some(new) = c["image"].as_str().and_then(|i| transform_image(i, entry)) {
                    c["image"] = Value::from(new);
                }
            }
        }
        let affix = |key: &str| kust[key].as_str().unwrap_or_default().to_string();
        let (prefix, suffix) = (affix("namePrefix"), affix("nameSuffix"));
        if !prefix.is_empty() || !suffix.is_empty() {
            let last = names.last().cloned().unwrap_or_default();
            names.push(format!("{prefix}{last}{suffix}"));
        }
    }
    Ok(doc)
}

/// One patch of a kustomization: its content and the `target` selector.
struct Patch {
    content: Vec<Value>,
    target: Value,
}

/// Every patch `kust` (at path `k`) lists, read from its file or inline.
fn patches(edits: &Edits<'_>, k: &str, kust: &Value) -> Result<Vec<Patch>, Error> {
    let dir = parent(k);
    let read = |entry: &Value| -> Result<Vec<Value>, Error> {
        if let Some(inline) = entry["patch"].as_str() {
            return Ok(crate::repo::parse_values(inline));
        }
        let Some(rel) = entry["path"].as_str().or_else(|| entry.as_str()) else {
            return Ok(Vec::new());
        };
        // `patchesStrategicMerge` also takes a patch written inline as a string.
        if rel.contains('\n') {
            return Ok(crate::repo::parse_values(rel));
        }
        let path = join_relative(dir, rel).unwrap_or_else(|| rel.to_string());
        let text = edits.text(&path).ok_or_else(|| Error::NotEditable {
            path: path.clone(),
            field: format!("the patch listed by {k} (not a file gitintent read)"),
        })?;
        Ok(crate::repo::parse_values(&text))
    };
    let mut out = Vec::new();
    for key in ["patchesStrategicMerge", "patches", "patchesJson6902"] {
        for entry in kust[key].as_array().into_iter().flatten() {
            out.push(Patch {
                content: read(entry)?,
                target: entry["target"].clone(),
            });
        }
    }
    Ok(out)
}

/// Applies `patch` to `doc` when it is about `w`, known by any of `names`.
fn apply_patch(doc: &mut Value, w: &Workload, names: &[String], patch: &Patch) {
    let selected = |kind: &Value, name: &Value| {
        kind.as_str().is_none_or(|k| k == w.kind)
            && name.as_str().is_none_or(|n| names.iter().any(|x| x == n))
    };
    let has_target = patch.target.is_object();
    if has_target && !selected(&patch.target["kind"], &patch.target["name"]) {
        return;
    }
    for value in &patch.content {
        match value {
            // JSON 6902: a list of operations, for the target's resource.
            Value::Array(ops) if has_target => json_patch(doc, ops),
            Value::Object(_) => {
                let named = selected(&value["kind"], &value["metadata"]["name"]);
                if named && (has_target || value["metadata"]["name"].is_string()) {
                    super::overlay::merge(doc, value);
                }
            }
            _ => {}
        }
    }
}

/// The `add`, `replace` and `remove` operations of a JSON patch.
fn json_patch(doc: &mut Value, ops: &[Value]) {
    for op in ops {
        let (Some(kind), Some(path)) = (op["op"].as_str(), op["path"].as_str()) else {
            continue;
        };
        let Some((parent_ptr, last)) = path.rsplit_once('/') else {
            continue;
        };
        let last = last.replace("~1", "/").replace("~0", "~");
        let Some(target) = doc.pointer_mut(parent_ptr) else {
            continue;
        };
        match (kind, target) {
            ("add" | "replace", Value::Object(map)) => {
                map.insert(last, op["value"].clone());
            }
            ("remove", Value::Object(map)) => {
                map.remove(&last);
            }
            ("add", Value::Array(list)) if last == "-" => list.push(op["value"].clone()),
            (kind, Value::Array(list)) => {
                let Ok(i) = last.parse::<usize>() else { continue };
                match kind {
                    "add" if i <= list.len() => list.insert(i, op["value"].clone()),
                    "replace" if i < list.len() => list[i] = op["value"].clone(),
                    "remove" if i < list.len() => {
                        list.remove(i);
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
}

/// The containers and init containers of a workload document.
pub(super) fn containers_mut(doc: &mut Value) -> Vec<&mut Value> {
    let pod = if doc["kind"] == "CronJob" {
        doc.pointer_mut("/spec/jobTemplate/spec/template/spec")
    } else {
        doc.pointer_mut("/spec/template/spec")
    };
    let Some(Value::Object(pod)) = pod else {
        return Vec::new();
    };
    pod.iter_mut()
        .filter(|(k, _)| *k == "containers" || *k == "initContainers")
        .filter_map(|(_, v)| v.as_array_mut())
        .flatten()
        .collect()
}

/// The init containers whose image `d` (the destination's build, `to`)
/// runs differently from `s` (the source's, `from`), one line each.
pub(super) fn init_differences(s: &Value, d: &Value, from: &str, to: &str) -> Vec<String> {
    let images = |doc: &Value| -> BTreeMap<String, String> {
        let pod = if doc["kind"] == "CronJob" {
            &doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        } else {
            &doc["spec"]["template"]["spec"]
        };
        pod["initContainers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| Some((c["name"].as_str()?.to_string(), c["image"].as_str()?.to_string())))
            .collect()
    };
    let theirs = images(d);
    images(s)
        .into_iter()
        .filter_map(|(name, ours)| {
            let now = theirs.get(&name)?;
            (*now != ours).then(|| format!("init container {name} runs {ours} in {from}, {now} in {to}"))
        })
        .collect()
}

/// An image split into name, tag and digest: `ghcr.io/a/b:1.2@sha256:…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Image<'a> {
    pub(super) name: &'a str,
    pub(super) tag: Option<&'a str>,
    pub(super) digest: Option<&'a str>,
}

impl<'a> Image<'a> {
    pub(super) fn parse(image: &'a str) -> Image<'a> {
        let (rest, digest) = match image.split_once('@') {
            Some((r, d)) => (r, Some(d)),
            None => (image, None),
        };
        match rest.rsplit_once(':') {
            Some((name, tag)) if !tag.contains('/') => Image {
                name,
                tag: Some(tag),
                digest,
            },
            _ => Image {
                name: rest,
                tag: None,
                digest,
            },
        }
    }
}

impl std::fmt::Display for Image<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)?;
        if let Some(t) = self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// What a kustomization `images:` entry makes of `image`; `None` when the
/// entry is about another image.
pub(super) fn transform_image(image: &str, entry: &Value) -> Option<String> {
    let old = Image::parse(image);
    if entry["name"].as_str() != Some(old.name) {
        return None;
    }
    let new_tag = entry["newTag"]
        .as_str()
        .map(String::from)
        .or_else(|| entry["newTag"].as_u64().map(|n| n.to_string()));
    let digest = entry["digest"].as_str();
    let new = Image {
        name: entry["newName"].as_str().unwrap_or(old.name),
        tag: match (&new_tag, digest) {
            (Some(t), _) => Some(t.as_str()),
            (None, Some(_)) => None,
            (None, None) => old.tag,
        },
        digest: match (&new_tag, digest) {
            (_, Some(d)) => Some(d),
            (Some(_), None) => None,
            (None, None) => old.digest,
        },
    };
    Some(new.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_images_entry_changes_only_its_own_image() {
        let entry = json!({"name": "acme/api", "newTag": "2.0"});
        assert_eq!(
            transform_image("acme/api:1.0", &entry).as_deref(),
            Some("acme/api:2.0")
        );
        assert_eq!(
            transform_image("acme/api", &entry).as_deref(),
            Some("acme/api:2.0")
        );
        assert_eq!(transform_image("acme/web:1.0", &entry), None);
        let renamed = json!({"name": "acme/api", "newName": "reg.io/acme/api", "digest": "sha256:ab"});
        assert_eq!(
            transform_image("acme/api:1.0", &renamed).as_deref(),
            Some("reg.io/acme/api@sha256:ab")
        );
        let numeric = json!({"name": "acme/api", "newTag": 7});
        assert_eq!(
            transform_image("acme/api:1", &numeric).as_deref(),
            Some("acme/api:7")
        );
    }

    #[test]
    fn an_image_with_a_registry_port_keeps_its_name() {
        let i = Image::parse("localhost:5000/acme/api:1.2@sha256:ff");
        assert_eq!(i.name, "localhost:5000/acme/api");
        assert_eq!(i.tag, Some("1.2"));
        assert_eq!(i.digest, Some("sha256:ff"));
        assert_eq!(Image::parse("localhost:5000/acme/api").tag, None);
        assert_eq!(i.to_string(), "localhost:5000/acme/api:1.2@sha256:ff");
    }

    #[test]
    fn json_patches_replace_add_and_remove() {
        let mut doc = json!({"spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "a", "image": "x:1"}]}}}});
        json_patch(
            &mut doc,
            &[
                json!({"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "x:2"}),
                json!({"op": "add", "path": "/spec/paused", "value": true}),
                json!({"op": "remove", "path": "/spec/replicas"}),
            ],
        );
        assert_eq!(doc["spec"]["template"]["spec"]["containers"][0]["image"], "x:2");
        assert_eq!(doc["spec"]["paused"], true);
        assert!(doc["spec"].get("replicas").is_none());
    }
}
