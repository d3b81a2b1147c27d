//! Promotion through a kustomization `images:` entry: the entry of the
//! destination's own overlay that sets the image is changed, or the source's
//! entry is added to the destination's overlay, when no other workload of the
//! destination would change with it. It writes kustomizations only; patches
//! and workload files are [`super`]'s.

use serde_json::{json, Value};

use super::{containers, Job};
use crate::change::effective::{self, Image};
use crate::change::inventory::Workload;
use crate::change::{overlay, Edits, Error};
use crate::yaml::edit::{set_scalar, Seg};

/// Writes `new` through a kustomization `images:` entry of `to` alone,
/// rather than a patch: the entry that already turns `old` into what the
/// destination runs is changed, or, when the source runs `new` through an
/// entry of its own overlay, the same entry is added to the destination's.
/// Every other workload of `to` that the entry changes must be promoted to
/// the same image by this request; false when no entry fits (a patch does).
pub(super) fn through_entry(
    edits: &mut Edits<'_>,
    job: &Job<'_>,
    old: &str,
    new: &str,
) -> Result<bool, Error> {
    let (from, to) = job.envs;
    let old_name = Image::parse(old).name.to_string();
    let Some((k, entry)) = own_entry(edits, &job.dst.path, to, &old_name) else {
        return add_entry(edits, job, &old_name, new);
    };
    let unfair = shared_fairly(edits, job, &old_name, new)?;
    if !unfair.is_empty() {
        return Err(Error::NotApplicable {
            target: format!("{}/{}", job.dst.kind, job.dst.name),
            message: format!(
                "{to} sets its image {old_name} in {k} for {} too, which {from} does not run at {new}; \
                 promote them together (\"promote the version running in {from} to {to}\") or edit {k} by hand",
                unfair.join(", ")
            ),
        });
    }
    let name = entry["name"].as_str().unwrap_or_default().to_string();
    let image = Image::parse(new);
    let at = |key: &str| {
        vec![
            Seg::Key("images".into()),
            Seg::Named(name.clone()),
            Seg::Key(key.into()),
        ]
    };
    let not_editable = |why: &str| Error::NotEditable {
        path: k.clone(),
        field: format!("images[name={name}] ({why})"),
    };
    let mut sets: Vec<(&str, Value)> = Vec::new();
    if image.name != name || entry.get("newName").is_some() {
        sets.push(("newName", json!(image.name)));
    }
    match (image.tag, entry.get("newTag").is_some()) {
        (Some(t), _) => sets.push(("newTag", json!(t))),
        (None, true) => return Err(not_editable("the new image has no tag to replace newTag with")),
        (None, false) => {}
    }
    match (image.digest, entry.get("digest").is_some()) {
        (Some(d), _) => sets.push(("digest", json!(d))),
        (None, true) => return Err(not_editable("its digest would have to be removed")),
        (None, false) => {}
    }
    let mut text = edits.text(&k).unwrap_or_default();
    for (key, value) in sets {
        text = set_scalar(&text, &at(key), &value).ok_or_else(|| not_editable("not plain block YAML"))?;
    }
    edits.write(&k, text);
    Ok(true)
}

/// Adds to the destination's own overlay the `images:` entry the source
/// pins `new` with; false when the source has none or another workload of
/// the destination would change with it.
fn add_entry(edits: &mut Edits<'_>, job: &Job<'_>, old_name: &str, new: &str) -> Result<bool, Error> {
    let (from, to) = job.envs;
    let from_entry = own_entry(edits, &job.src.path, from, old_name);
    let overlay = overlay::overlay_for(edits, &job.dst.path, to);
    let (Some(_), Some(k)) = (from_entry, overlay) else {
        return Ok(false);
    };
    if !edits.inv.reach(&k).iter().all(|e| e == to) || !shared_fairly(edits, job, old_name, new)?.is_empty() {
        return Ok(false);
    }
    let image = Image::parse(new);
    let mut item = format!("{{name: {}", json!(old_name));
    if image.name != old_name {
        item.push_str(&format!(", newName: {}", json!(image.name)));
    }
    if let Some(t) = image.tag {
        item.push_str(&format!(", newTag: {}", json!(t)));
    }
    if let Some(d) = image.digest {
        item.push_str(&format!(", digest: {}", json!(d)));
    }
    item.push('}');
    edits.edit_kustomization(&k, "images", |text| crate::repo::wire::add_image(text, &item))?;
    Ok(true)
}

/// The `images:` entry, in a kustomization only `env` builds on `path`'s
/// way into it, that produces the image name `name`.
fn own_entry(edits: &Edits<'_>, path: &str, env: &str, name: &str) -> Option<(String, Value)> {
    let mut found = None;
    for k in effective::chain(edits, path, env) {
        if edits.inv.reach(&k) != [env.to_string()] {
            continue;
        }
        let Some(kust) = edits
            .text(&k)
            .and_then(|t| crate::repo::parse_values(&t).into_iter().next())
        else {
            continue;
        };
        for entry in kust["images"].as_array().into_iter().flatten() {
            let produces = entry["newName"].as_str().or(entry["name"].as_str());
            if produces == Some(name) {
                found = Some((k.clone(), entry.clone()));
            }
        }
    }
    found
}

/// The other workloads of the destination running image `name` that an
/// `images:` entry would change although the request does not promote them
/// to `new` (only a promotion of every workload may, and only when the
/// source runs `new` for them too).
fn shared_fairly(edits: &Edits<'_>, job: &Job<'_>, name: &str, new: &str) -> Result<Vec<String>, Error> {
    let (from, to) = job.envs;
    let runs = |w: &Workload, env: &str| w.environments.iter().any(|e| e == env);
    let mut unfair = Vec::new();
    for w in edits.inv.workloads.iter().filter(|w| runs(w, to)) {
        if std::ptr::eq(w, job.dst) {
            continue;
        }
        let Ok(d) = effective::effective(edits, w, to) else {
            continue;
        };
        let uses: Vec<String> = containers(&d)
            .into_iter()
            .filter(|(_, c)| c["image"].as_str().is_some_and(|i| Image::parse(i).name == name))
            .map(|(n, _)| n)
            .collect();
        if uses.is_empty() {
            continue;
        }
        let source = edits
            .inv
            .workloads
            .iter()
            .find(|s| s.kind == w.kind && s.name == w.name && runs(s, from))
            .and_then(|s| effective::effective(edits, s, from).ok());
        let same = source.is_some_and(|s| {
            let theirs = containers(&s);
            uses.iter()
                .all(|c| theirs.get(c).and_then(|x| x["image"].as_str()) == Some(new))
        });
        if !(job.every && same) {
            unfair.push(format!("{}/{}", w.kind, w.name));
        }
    }
    Ok(unfair)
}
