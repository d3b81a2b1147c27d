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

pub(super) fn apply(edits: &mut Edits<'_>, w: &Workload, findings: &mut Vec<Finding>) -> Result<(), Error> {
    let dir = parent(&w.path).to_string();
    let prefix = format!("{}-", w.name);
    let named = |d: &Doc| {
        let name = d.name();
        let points_at = d.value["spec"]["scaleTargetRef"]["name"] == w.name.as_str();
        name == w.name || name.starts_with(&prefix) || points_at
    };
    // Data is never deleted: a claim stays, and the reviewer is told.
    let belongs = |d: &Doc| named(d) && d.kind() != "PersistentVolumeClaim";
    for claim in edits
        .inv
        .docs()
        .filter(|d| parent(&d.path) == dir && named(d) && !belongs(d))
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
    let in_dir: Vec<&Doc> = edits.inv.docs().filter(|d| parent(&d.path) == dir).collect();
    let whole_dir = !dir.is_empty() && !edits.inv.nested.contains(&dir) && in_dir.iter().all(|d| belongs(d));
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
        .filter(|d| belongs(d))
        .map(|d| d.path.as_str())
        .collect();
    for file in files {
        let docs: Vec<&&Doc> = in_dir.iter().filter(|d| d.path == file).collect();
        if docs.iter().all(|d| belongs(d)) {
            edits.delete(file);
            unwire(edits, file)?;
            continue;
        }
        let Some(text) = edits.text(file) else { continue };
        let ranges = split_documents(&text);
        let drop: BTreeSet<usize> = docs.iter().filter(|d| belongs(d)).map(|d| d.document).collect();
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
    Ok(())
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
