//! `delete`: remove a workload and what belongs to it.
//!
//! What belongs to it: the resources in its directory named after it
//! (`api`, `api-headless`, …) or pointing at it (an HPA or PDB). When that
//! is everything in the directory, the whole directory goes and every
//! kustomization listing it is unwired; otherwise only those files (or the
//! documents, in a file shared with other resources) go, and the directory's
//! kustomization stops listing the removed files. PersistentVolumeClaims
//! are never removed (a warning says they were kept): deleting one from Git
//! would let a pruning controller delete the data.

use std::collections::BTreeSet;

use super::inventory::{Doc, Workload};
use super::{Edits, Error};
use crate::finding::{Finding, Severity};
use crate::repo::{join_relative, parent};
use crate::yaml::edit::split_documents;

/// Removes `w` and what belongs to it (see the module doc); a claim kept is
/// a `volume-kept` warning in `findings`.
pub(super) fn apply(edits: &mut Edits<'_>, w: &Workload, findings: &mut Vec<Finding>) -> Result<(), Error> {
    let dir = parent(&w.path).to_string();
    let owner = Owner {
        name: &w.name,
        prefix: format!("{}-", w.name),
    };
    keep_claims(edits, &dir, &owner, findings);
    let in_dir: Vec<&Doc> = edits.inv.docs().filter(|d| parent(&d.path) == dir).collect();
    let whole_dir =
        !dir.is_empty() && !edits.inv.nested.contains(&dir) && in_dir.iter().all(|d| owner.takes(d));
    if whole_dir {
        let files: Vec<String> = edits
            .inv
            .texts
            .keys()
            .filter(|p| parent(p) == dir)
            .cloned()
            .collect();
        for path in files {
            edits.delete(&path);
        }
        unwire(edits, &dir)?;
        return Ok(());
    }
    let files: BTreeSet<&str> = in_dir
        .iter()
        .filter(|d| owner.takes(d))
        .map(|d| d.path.as_str())
        .collect();
    for file in files {
        let docs: Vec<&Doc> = in_dir.iter().copied().filter(|d| d.path == file).collect();
        if docs.iter().all(|d| owner.takes(d)) {
            edits.delete(file);
            unwire(edits, file)?;
            continue;
        }
        remove_documents(edits, file, &docs, &owner);
    }
    Ok(())
}

/// The workload being removed, and what belongs to it.
struct Owner<'a> {
    name: &'a str,
    /// `<name>-`, the prefix of the resources named after it.
    prefix: String,
}

impl Owner<'_> {
    /// Named after the workload (`api`, `api-headless`, …) or pointing at it
    /// (an HPA's `scaleTargetRef`).
    fn names(&self, d: &Doc) -> bool {
        let name = d.name();
        let points_at = d.value["spec"]["scaleTargetRef"]["name"] == self.name;
        name == self.name || name.starts_with(&self.prefix) || points_at
    }

    /// Removed with the workload: named after it, and not a claim (data is
    /// never deleted).
    fn takes(&self, d: &Doc) -> bool {
        self.names(d) && d.kind() != "PersistentVolumeClaim"
    }
}

/// A `volume-kept` warning for each claim of `dir` named after the workload:
/// data is never deleted, and the reviewer is told.
fn keep_claims(edits: &Edits<'_>, dir: &str, owner: &Owner<'_>, findings: &mut Vec<Finding>) {
    for claim in edits
        .inv
        .docs()
        .filter(|d| parent(&d.path) == dir && owner.names(d) && !owner.takes(d))
    {
        findings.push(
            Finding::new(
                Severity::Warning,
                "volume-kept",
                format!("PersistentVolumeClaim/{}", claim.name()),
                "",
                format!(
                    "PersistentVolumeClaim/{} ({}) is kept: gitintent never deletes data; remove it by hand once the data is safe",
                    claim.name(),
                    claim.path
                ),
            )
            .in_file(&claim.path),
        );
    }
}

/// Rewrites `file` without the documents of `docs` that belong to the
/// workload; the others are kept as they were written.
fn remove_documents(edits: &mut Edits<'_>, file: &str, docs: &[&Doc], owner: &Owner<'_>) {
    let Some(text) = edits.text(file) else { return };
    let ranges = split_documents(&text);
    let drop: BTreeSet<usize> = docs
        .iter()
        .filter(|d| owner.takes(d))
        .map(|d| d.document)
        .collect();
    let kept: Vec<&str> = ranges
        .iter()
        .enumerate()
        .filter(|(i, _)| !drop.contains(i))
        .map(|(_, r)| text[r.clone()].trim_end_matches('\n'))
        .filter(|t| !t.trim().is_empty())
        .collect();
    let mut new = kept.join("\n---\n");
    new.push('\n');
    edits.write(file, new);
}

/// Takes `path` (a file or directory) out of every kustomization listing it.
fn unwire(edits: &mut Edits<'_>, path: &str) -> Result<(), Error> {
    let listing: Vec<(String, String)> = edits
        .inv
        .kustomizations
        .iter()
        .flat_map(|(k, resources)| {
            resources
                .iter()
                .filter(|r| join_relative(parent(k), r).as_deref() == Some(path))
                .map(move |r| (k.clone(), r.clone()))
        })
        .collect();
    for (k, entry) in listing {
        edits.edit_kustomization(&k, "resources", |text| {
            crate::repo::wire::remove_resource(text, &entry)
        })?;
    }
    Ok(())
}
