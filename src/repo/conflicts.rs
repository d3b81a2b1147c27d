//! Conflicts of a plan with what the repository already holds, as error
//! (or warning) [`Finding`]s: the same resource already lives under another
//! path (`conflict-resource-elsewhere`), or its name is taken by a different
//! kind of workload (`conflict-name-kind`). Used by [`super::diff`]; it does
//! not look at file contents, only at the [`Index`].

use std::collections::BTreeSet;

use super::index::{self, parent, Identity, Index};
use crate::finding::{Finding, Severity};

/// Workload kinds whose names must not collide (a HelmRelease deploys one too).
fn is_workload(kind: &str) -> bool {
    crate::manifest::WORKLOAD_KINDS.contains(&kind) || kind == "HelmRelease"
}

/// A resource of a file lives elsewhere too, or its workload name is taken.
pub(super) fn conflicts(
    index: &Index,
    planned: &[(Identity, &str)],
    planned_paths: &BTreeSet<&str>,
    app_dirs: &BTreeSet<&str>,
) -> Vec<Finding> {
    // Our own earlier files in the same app directory are being replaced, not duplicated.
    let replaced = |r: &index::Resource| {
        planned_paths.contains(r.path()) || (r.is_managed() && app_dirs.contains(parent(r.path())))
    };
    let mut out = Vec::new();
    for (id, file) in planned {
        for r in index.resources() {
            if replaced(r) || r.identity().name != id.name {
                continue;
            }
            out.extend(conflict(id, file, r));
        }
    }
    out
}

/// The conflict of the planned resource `id` (in `file`) with the indexed
/// resource `r` of the same name, if any.
fn conflict(id: &Identity, file: &str, r: &index::Resource) -> Option<Finding> {
    let other = r.identity();
    let same_ns = other.namespace == id.namespace;
    let unset_ns = other.namespace.is_empty() && !id.namespace.is_empty();
    let subject = format!("{}/{}", id.kind, id.name);
    if other.group == id.group && other.kind == id.kind && (same_ns || unset_ns) {
        let (severity, note) = if same_ns {
            (Severity::Error, "")
        } else {
            (
                Severity::Warning,
                " (it sets no namespace, so a kustomization may put it in the same one)",
            )
        };
        let message = format!("{id} already exists in {}{note}", r.path());
        return Some(
            Finding::new(severity, "conflict-resource-elsewhere", subject, "", message).in_file(file),
        );
    }
    let taken = is_workload(&id.kind) && is_workload(&other.kind) && other.kind != id.kind;
    if !(taken && (same_ns || unset_ns)) {
        return None;
    }
    let message = format!(
        "the name {:?} is already used by {}/{} in {}; pick another name",
        id.name,
        other.kind,
        other.name,
        r.path()
    );
    Some(Finding::new(Severity::Error, "conflict-name-kind", subject, "", message).in_file(file))
}
