//! What an environment's own Kustomize files already say about a workload,
//! so a change for that environment edits them in place.
//!
//! - [`patch_setting`]: a patch the environment's overlay applies to the
//!   workload (`patches`, `patchesStrategicMerge`) that already sets the
//!   field (an overlay's `replicas.yml` or `version.yml`), and that no other
//!   environment builds;
//! - [`image_entry`]: an `images:` entry for the container's image in a
//!   kustomization only this environment builds; the image is changed there
//!   (`newTag`, `newName`, `digest`), not in the Deployment, since that entry
//!   would override the Deployment anyway.
//!
//! Strategic-merge and JSON 6902 patches in files are read; inline patches
//! are left alone (a change then writes its own patch).

use std::collections::{BTreeSet, VecDeque};

use serde_json::Value;

use super::inventory::Workload;
use super::{Edits, Error};
use crate::repo::{join_relative, parent};
use crate::yaml::edit::{set_scalar, split_documents, Seg};

/// A patch already setting a field: the file, the document's index, and
/// where the value is inside that document (the field itself in a
/// strategic-merge patch, `[i].value` in a JSON 6902 one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Setting {
    pub(super) path: String,
    pub(super) document: usize,
    pub(super) field: Vec<Seg>,
}

/// The kustomization's parsed text, as edited so far.
fn kustomization(edits: &Edits<'_>, path: &str) -> Option<Value> {
    crate::repo::parse_values(&edits.text(path)?).into_iter().next()
}

/// The patch files `overlay` applies, with their `target:` when given.
fn patch_files(edits: &Edits<'_>, overlay: &str) -> Vec<(String, Value)> {
    let Some(k) = kustomization(edits, overlay) else {
        return Vec::new();
    };
    let dir = parent(overlay);
    let mut out = Vec::new();
    for p in k["patches"].as_array().into_iter().flatten() {
        if let Some(path) = p["path"].as_str().and_then(|f| join_relative(dir, f)) {
            out.push((path, p["target"].clone()));
        }
    }
    for p in k["patchesJson6902"].as_array().into_iter().flatten() {
        if let Some(path) = p["path"].as_str().and_then(|f| join_relative(dir, f)) {
            out.push((path, p["target"].clone()));
        }
    }
    for p in k["patchesStrategicMerge"].as_array().into_iter().flatten() {
        if let Some(path) = p
            .as_str()
            .filter(|f| !f.contains('\n'))
            .and_then(|f| join_relative(dir, f))
        {
            out.push((path, Value::Null));
        }
    }
    out
}

/// The value at `field` in `doc`, if any.
fn lookup<'v>(doc: &'v Value, field: &[Seg]) -> Option<&'v Value> {
    field.iter().try_fold(doc, |v, seg| match seg {
        Seg::Key(k) => v.get(k),
        Seg::Named(n) => v.as_array()?.iter().find(|i| i["name"] == n.as_str()),
        Seg::Index(i) => v.get(i),
    })
}

/// `field` of `w`'s document as a JSON pointer (`/spec/template/spec/containers/0/image`),
/// list items by their position in the workload as the repository has it.
fn pointer(edits: &Edits<'_>, w: &Workload, field: &[Seg]) -> Option<String> {
    let doc = edits
        .inv
        .docs()
        .find(|d| d.path == w.path && d.document == w.document)?;
    let mut at = &doc.value;
    let mut out = String::new();
    for seg in field {
        let step = match seg {
            Seg::Key(k) => {
                at = at.get(k).unwrap_or(&Value::Null);
                k.replace('~', "~0").replace('/', "~1")
            }
            Seg::Named(n) => {
                let i = at.as_array()?.iter().position(|i| i["name"] == n.as_str())?;
                at = &at[i];
                i.to_string()
            }
            Seg::Index(i) => {
                at = &at[*i];
                i.to_string()
            }
        };
        out.push('/');
        out.push_str(&step);
    }
    Some(out)
}

/// A patch of `overlay` for `w` that already sets `field`, when only
/// `environment` builds that patch file: a strategic-merge document for
/// `w` with the field, or a JSON 6902 `replace`/`add` of its pointer.
pub(super) fn patch_setting(
    edits: &Edits<'_>,
    overlay: &str,
    w: &Workload,
    field: &[Seg],
    environment: &str,
) -> Option<Setting> {
    for (path, target) in patch_files(edits, overlay) {
        if edits.inv.reach(&path) != [environment] {
            continue;
        }
        let Some(text) = edits.text(&path) else { continue };
        let targets_w = target["kind"].as_str().is_none_or(|k| k == w.kind)
            && target["name"].as_str().is_none_or(|n| n == w.name);
        for (document, range) in split_documents(&text).into_iter().enumerate() {
            let Some(doc) = crate::yaml::saphyr::typed::<Value>(&text[range]).ok() else {
                continue;
            };
            if let Some(ops) = doc.as_array().filter(|_| target.is_object() && targets_w) {
                let at = pointer(edits, w, field)?;
                let op = ops.iter().position(|o| {
                    o["path"] == at.as_str()
                        && matches!(o["op"].as_str(), Some("replace" | "add"))
                        && (o["value"].is_string() || o["value"].is_number())
                });
                if let Some(i) = op {
                    let field = vec![Seg::Index(i), Seg::Key("value".into())];
                    return Some(Setting {
                        path,
                        document,
                        field,
                    });
                }
                continue;
            }
            let aimed = if target.is_object() {
                targets_w
            } else {
                doc["kind"] == w.kind.as_str() && doc["metadata"]["name"] == w.name.as_str()
            };
            if aimed && lookup(&doc, field).is_some_and(|v| !v.is_object() && !v.is_array()) {
                return Some(Setting {
                    path,
                    document,
                    field: field.to_vec(),
                });
            }
        }
    }
    None
}

/// Sets `field` to `value` in one document of the file at `path`.
pub(super) fn set_in(
    edits: &mut Edits<'_>,
    path: &str,
    document: usize,
    field: &[Seg],
    value: &Value,
) -> Result<(), Error> {
    let not_editable = || Error::NotEditable {
        path: path.to_string(),
        field: crate::yaml::edit::display(field),
    };
    let text = edits.text(path).ok_or_else(not_editable)?;
    let range = split_documents(&text)
        .get(document)
        .cloned()
        .ok_or_else(not_editable)?;
    let doc = set_scalar(&text[range.clone()], field, value).ok_or_else(not_editable)?;
    edits.write(
        path,
        format!("{}{doc}{}", &text[..range.start], &text[range.end..]),
    );
    Ok(())
}

/// An `images:` entry a kustomization building `w` for `environment` holds
/// for `image`'s repository: the kustomization and the entry's `name`. The
/// outermost one only `environment` builds wins (Kustomize applies it last).
pub(super) fn image_entry(
    edits: &Edits<'_>,
    w: &Workload,
    image: &str,
    environment: &str,
) -> Option<(String, String)> {
    let repository = super::update::image_repository(image);
    let mut queue = VecDeque::from([w.path.clone()]);
    let mut seen = BTreeSet::new();
    let mut found = None;
    while let Some(p) = queue.pop_front() {
        if !seen.insert(p.clone()) {
            continue;
        }
        let mut at = p.as_str();
        loop {
            for k in edits.inv.included_by.get(at).into_iter().flatten() {
                let reach = edits.inv.reach(k);
                if !reach.iter().any(|e| e == environment) {
                    continue;
                }
                let entry = kustomization(edits, k).and_then(|v| {
                    v["images"]
                        .as_array()?
                        .iter()
                        .filter_map(|i| i["name"].as_str())
                        .find(|n| *n == repository)
                        .map(String::from)
                });
                if let Some(name) = entry.filter(|_| reach == [environment]) {
                    found = Some((k.clone(), name));
                }
                queue.push_back(k.clone());
            }
            if at.is_empty() {
                break;
            }
            at = parent(at);
        }
    }
    found
}

/// Writes `image` into the `images:` entry `name` of `kustomization`:
/// `newTag` (or `digest`), and `newName` when the repository changes.
pub(super) fn set_image_entry(
    edits: &mut Edits<'_>,
    kustomization: &str,
    name: &str,
    image: &str,
) -> Result<(), Error> {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    let repository = super::update::image_repository(rest);
    let tag = rest
        .strip_prefix(repository)
        .and_then(|t| t.strip_prefix(':'))
        .filter(|t| !t.is_empty());
    let at = |key: &str| {
        vec![
            Seg::Key("images".into()),
            Seg::Named(name.into()),
            Seg::Key(key.into()),
        ]
    };
    let mut fields: Vec<(Vec<Seg>, String)> = Vec::new();
    let current = kustomization_entry(edits, kustomization, name);
    let current_name = current["newName"].as_str().unwrap_or(name);
    if repository != current_name {
        fields.push((at("newName"), repository.to_string()));
    }
    match (tag, digest) {
        (_, Some(d)) => fields.push((at("digest"), d.to_string())),
        (Some(t), None) => fields.push((at("newTag"), t.to_string())),
        (None, None) => fields.push((at("newTag"), "latest".to_string())),
    }
    for (field, value) in fields {
        set_in(edits, kustomization, 0, &field, &Value::String(value))?;
    }
    Ok(())
}

fn kustomization_entry(edits: &Edits<'_>, kustomization_path: &str, name: &str) -> Value {
    kustomization(edits, kustomization_path)
        .and_then(|v| {
            v["images"]
                .as_array()?
                .iter()
                .find(|i| i["name"] == name)
                .cloned()
        })
        .unwrap_or(Value::Null)
}
