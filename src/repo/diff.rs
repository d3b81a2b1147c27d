//! The diff: what a plan changes in the repository, and what it collides with.
//!
//! [`diff`] compares planned files with a [`Snapshot`] and its [`Index`]:
//! - per file: added, modified, unchanged or deleted (our own files the plan
//!   no longer produces in the app's directory), with a unified diff;
//! - per resource: the JSON pointers whose values change, old and new;
//! - conflicts, as error [`Finding`]s: the same resource already lives under
//!   another path (`conflict-resource-elsewhere`), the name is taken by a
//!   different kind of workload (`conflict-name-kind`), or the target path
//!   holds a file gitintent did not write (`conflict-foreign-file`; ours carry
//!   `app.kubernetes.io/managed-by: gitintent`);
//! - wiring: a new app directory is added to its parent's
//!   `kustomization.yaml` (see `wire.rs`), shown as a `modified` change.
//!
//! The result, a [`Changeset`], holds the full content of every file to write,
//! so a proposal commits exactly [`Changeset::files`]. Nothing here writes.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::conflicts::conflicts;
use super::index::{parent, Identity, Index};
use super::parse;
use super::snapshot::Snapshot;
use super::{join_inside, wire, Error};
use crate::finding::{Finding, Severity};
use crate::manifest::{File, InPlace};

/// What happens to a file or a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Added,
    Modified,
    Unchanged,
    Deleted,
}

/// One value that changes inside a resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    /// JSON pointer, e.g. `/spec/replicas`.
    pub path: String,
    /// `None` when the field is new.
    pub old: Option<Value>,
    /// `None` when the field goes away.
    pub new: Option<Value>,
}

/// What happens to one resource of a file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceChange {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub status: Status,
    /// Empty unless `modified`.
    pub fields: Vec<FieldChange>,
}

/// What happens to one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub path: String,
    pub status: Status,
    /// Unified diff (empty when unchanged).
    pub diff: String,
    pub resources: Vec<ResourceChange>,
    /// Why a file the plan did not render changes (`wiring`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// The full new content; `None` when deleted.
    #[serde(skip)]
    pub content: Option<String>,
}

/// Everything a plan changes in the repository. Serialises as the `changes` array.
#[derive(Debug, Clone, Default)]
pub struct Changeset {
    /// Files in plan order, then wiring edits, then deletions.
    pub changes: Vec<Change>,
    /// Conflicts and wiring notes.
    pub findings: Vec<Finding>,
}

impl Serialize for Changeset {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.changes.serialize(serializer)
    }
}

impl Changeset {
    /// Every file to write (added and modified, wiring edits included), with its full content.
    pub fn files(&self) -> Vec<File> {
        self.files_where(|c| matches!(c.status, Status::Added | Status::Modified))
    }

    /// The wiring edits: parent kustomizations listing a new app directory.
    pub fn wiring_files(&self) -> Vec<File> {
        self.files_where(|c| c.reason.is_some() && c.status == Status::Modified)
    }

    /// The new content of the changes `keep` selects (deletions have none).
    fn files_where(&self, keep: impl Fn(&Change) -> bool) -> Vec<File> {
        self.changes
            .iter()
            .filter(|c| keep(c))
            .filter_map(|c| {
                Some(File {
                    path: c.path.clone(),
                    content: c.content.clone()?,
                })
            })
            .collect()
    }

    /// Paths to delete.
    pub fn deleted(&self) -> Vec<String> {
        self.changes
            .iter()
            .filter(|c| c.status == Status::Deleted)
            .map(|c| c.path.clone())
            .collect()
    }

    /// True when the plan is exactly what the repository already holds.
    pub fn is_noop(&self) -> bool {
        self.changes.iter().all(|c| c.status == Status::Unchanged)
    }

    /// True when any finding is an error (a conflict).
    pub fn has_conflicts(&self) -> bool {
        crate::finding::has_errors(&self.findings)
    }
}

/// Compares `planned` with the repository at `snapshot` (indexed as `index`).
///
/// `in_place` names the files of `planned` that day-2 changes produced (edits
/// of existing files, or files added next to an existing workload) and the
/// files they remove: those are shown as they are, never treated as a new
/// app directory (no wiring, no foreign-file conflict, no clean-up).
pub fn diff(
    index: &Index,
    snapshot: &Snapshot,
    planned: &[File],
    in_place: &InPlace,
) -> Result<Changeset, Error> {
    let mut set = Changeset::default();
    let planned_paths: BTreeSet<&str> = planned.iter().map(|f| f.path.as_str()).collect();
    for path in planned.iter().map(|f| &f.path).chain(&in_place.deleted) {
        join_inside(std::path::Path::new(""), path)?;
    }
    let edited = |path: &str| in_place.changed.iter().any(|p| p == path);
    let app_dirs: BTreeSet<&str> = planned
        .iter()
        .filter(|f| !edited(&f.path))
        .map(|f| parent(&f.path))
        .collect();
    let mut planned_ids: Vec<(Identity, &str)> = Vec::new();
    for file in planned {
        let old = snapshot.read(&file.path)?;
        let new_values = parse::values(&file.content);
        planned_ids.extend(
            new_values
                .iter()
                .filter_map(identity)
                .map(|id| (id, file.path.as_str())),
        );
        let overwrites = old.as_ref().is_some_and(|old| *old != file.content);
        if overwrites && !edited(&file.path) && !is_ours(index, snapshot, &file.path) {
            set.findings.push(foreign_file(&file.path));
        }
        set.changes
            .push(Change::written(file, old.as_deref(), &new_values));
    }
    planned_ids.retain(|(_, path)| !edited(path));
    set.findings
        .extend(conflicts(index, &planned_ids, &planned_paths, &app_dirs));
    wiring(index, snapshot, &app_dirs, &planned_paths, &mut set)?;
    stale_files(index, snapshot, &app_dirs, &planned_paths, &mut set)?;
    for path in &in_place.deleted {
        if let Some(old) = snapshot.read(path)? {
            set.changes.push(Change::deleted(path, &old));
        }
    }
    Ok(set)
}

impl Change {
    /// The planned `file`: added, unchanged or modified from `old`.
    fn written(file: &File, old: Option<&str>, new_values: &[Value]) -> Change {
        let (status, diff, old_values) = match old {
            None => (
                Status::Added,
                unified(None, Some(&file.content), &file.path),
                Vec::new(),
            ),
            Some(old) if old == file.content => (Status::Unchanged, String::new(), parse::values(old)),
            Some(old) => (
                Status::Modified,
                unified(Some(old), Some(&file.content), &file.path),
                parse::values(old),
            ),
        };
        Change {
            path: file.path.clone(),
            status,
            diff,
            resources: resource_changes(&old_values, new_values),
            reason: None,
            content: Some(file.content.clone()),
        }
    }

    /// The file at `path`, which held `old`, deleted.
    fn deleted(path: &str, old: &str) -> Change {
        Change {
            path: path.to_string(),
            status: Status::Deleted,
            diff: unified(Some(old), None, path),
            resources: resource_changes(&parse::values(old), &[]),
            reason: None,
            content: None,
        }
    }
}

/// The error for a planned file that would overwrite one gitintent did not write.
fn foreign_file(path: &str) -> Finding {
    Finding::new(
        Severity::Error,
        "conflict-foreign-file",
        path,
        "",
        format!(
            "{path} already exists and was not written by gitintent (no app.kubernetes.io/managed-by: gitintent); refusing to overwrite it"
        ),
    )
    .in_file(path)
}

/// Deletes our own files in the app directories that the plan no longer produces.
fn stale_files(
    index: &Index,
    snapshot: &Snapshot,
    app_dirs: &BTreeSet<&str>,
    planned_paths: &BTreeSet<&str>,
    set: &mut Changeset,
) -> Result<(), Error> {
    for dir in app_dirs {
        for entry in snapshot.files().iter().filter(|e| parent(&e.path) == *dir) {
            if planned_paths.contains(entry.path.as_str()) || !is_ours(index, snapshot, &entry.path) {
                continue;
            }
            let old = snapshot.read(&entry.path)?.unwrap_or_default();
            set.changes.push(Change::deleted(&entry.path, &old));
        }
    }
    Ok(())
}

/// Adds each new app directory to its parent's kustomization.
fn wiring(
    index: &Index,
    snapshot: &Snapshot,
    app_dirs: &BTreeSet<&str>,
    planned_paths: &BTreeSet<&str>,
    set: &mut Changeset,
) -> Result<(), Error> {
    let mut by_parent: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for dir in app_dirs.iter().filter(|d| !d.is_empty()) {
        let name = dir.rsplit('/').next().unwrap_or(dir);
        by_parent.entry(parent(dir)).or_default().push(name);
    }
    for (dir, names) in by_parent {
        let Some(path) = parent_kustomization(index, dir) else {
            continue;
        };
        if planned_paths.contains(path.as_str()) {
            continue;
        }
        let Some(old) = snapshot.read(&path)? else {
            continue;
        };
        if let Some(reason) = wire::ambiguous(&old, "resources") {
            // Editing it could wire the app into a list nobody reads: stop here.
            let message = format!("cannot add {} to {path}: {reason}", names.join(", "));
            set.findings.push(
                Finding::new(
                    Severity::Error,
                    "kustomization-ambiguous",
                    &path,
                    "/resources",
                    message,
                )
                .in_file(&path),
            );
            continue;
        }
        let text = add_names(&old, &path, &names, &mut set.findings);
        if text != old {
            set.changes.push(Change {
                diff: unified(Some(&old), Some(&text), &path),
                path,
                status: Status::Modified,
                resources: Vec::new(),
                reason: Some("wiring"),
                content: Some(text),
            });
        }
    }
    Ok(())
}

/// The path of the `Kustomization` in `dir` (`kustomization.yaml`, `.yml` or
/// `Kustomization`), if the index knows one.
fn parent_kustomization(index: &Index, dir: &str) -> Option<String> {
    let candidates = ["kustomization.yaml", "kustomization.yml", "Kustomization"].map(|f| {
        if dir.is_empty() {
            f.to_string()
        } else {
            format!("{dir}/{f}")
        }
    });
    candidates
        .into_iter()
        .find(|p| index.kustomization(p).is_some_and(|k| k.kind == "Kustomization"))
}

/// `old` (the kustomization at `path`) with each of `names` in its
/// resources; a name that cannot be added is a `wiring-skipped` warning.
fn add_names(old: &str, path: &str, names: &[&str], findings: &mut Vec<Finding>) -> String {
    let mut text = old.to_string();
    for name in names {
        match wire::add_resource(&text, name) {
            Ok(Some(new)) => text = new,
            Ok(None) => {}
            Err(message) => findings.push(
                Finding::new(
                    Severity::Warning,
                    "wiring-skipped",
                    path,
                    "/resources",
                    format!("add {name} to the resources of {path} by hand: {message}"),
                )
                .in_file(path),
            ),
        }
    }
    text
}

/// True when gitintent wrote the file at `path`: every resource in it is
/// labelled managed-by gitintent, or it is the kustomization of a directory
/// whose other manifests all are.
fn is_ours(index: &Index, snapshot: &Snapshot, path: &str) -> bool {
    let managed = |p: &str| {
        let rs = index.resources_in(p);
        !rs.is_empty() && rs.iter().all(|r| r.is_managed())
    };
    if !index.resources_in(path).is_empty() {
        return managed(path);
    }
    if index.kustomization(path).is_none() {
        return false;
    }
    let dir = parent(path);
    let mut siblings = snapshot
        .files()
        .iter()
        .filter(|e| e.path != path && parent(&e.path) == dir && !index.resources_in(&e.path).is_empty())
        .peekable();
    siblings.peek().is_some() && siblings.all(|e| managed(&e.path))
}

fn unified(old: Option<&str>, new: Option<&str>, path: &str) -> String {
    let a = if old.is_some() {
        format!("a/{path}")
    } else {
        "/dev/null".into()
    };
    let b = if new.is_some() {
        format!("b/{path}")
    } else {
        "/dev/null".into()
    };
    similar::TextDiff::from_lines(old.unwrap_or(""), new.unwrap_or(""))
        .unified_diff()
        .context_radius(3)
        .header(&a, &b)
        .to_string()
}

fn identity(v: &Value) -> Option<Identity> {
    let s = |p: &str| v.pointer(p).and_then(Value::as_str);
    Some(Identity::new(
        s("/apiVersion")?,
        s("/kind")?,
        s("/metadata/namespace").unwrap_or(""),
        s("/metadata/name")?,
    ))
}

fn resource_changes(old: &[Value], new: &[Value]) -> Vec<ResourceChange> {
    let old: Vec<(Identity, &Value)> = old.iter().filter_map(|v| Some((identity(v)?, v))).collect();
    let new: Vec<(Identity, &Value)> = new.iter().filter_map(|v| Some((identity(v)?, v))).collect();
    let api = |v: &Value| v["apiVersion"].as_str().unwrap_or_default().to_string();
    let change = |id: &Identity, v: &Value, status, fields| ResourceChange {
        api_version: api(v),
        kind: id.kind.clone(),
        namespace: id.namespace.clone(),
        name: id.name.clone(),
        status,
        fields,
    };
    let mut out = Vec::new();
    for (id, v) in &new {
        match old.iter().find(|(o, _)| o == id) {
            None => out.push(change(id, v, Status::Added, Vec::new())),
            Some((_, before)) => {
                let mut fields = Vec::new();
                field_diff(&mut String::new(), before, v, &mut fields);
                let status = if fields.is_empty() {
                    Status::Unchanged
                } else {
                    Status::Modified
                };
                out.push(change(id, v, status, fields));
            }
        }
    }
    for (id, v) in &old {
        if !new.iter().any(|(n, _)| n == id) {
            out.push(change(id, v, Status::Deleted, Vec::new()));
        }
    }
    out
}

/// The leaves that differ between `old` and `new`, as JSON pointers under `at`.
fn field_diff(at: &mut String, old: &Value, new: &Value, out: &mut Vec<FieldChange>) {
    let len = at.len();
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                push_segment(at, k);
                match b.get(k) {
                    Some(vb) => field_diff(at, va, vb, out),
                    None => out.push(FieldChange {
                        path: at.clone(),
                        old: Some(va.clone()),
                        new: None,
                    }),
                }
                at.truncate(len);
            }
            for (k, vb) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
                push_segment(at, k);
                out.push(FieldChange {
                    path: at.clone(),
                    old: None,
                    new: Some(vb.clone()),
                });
                at.truncate(len);
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for i in 0..a.len().max(b.len()) {
                at.push_str(&format!("/{i}"));
                match (a.get(i), b.get(i)) {
                    (Some(va), Some(vb)) => field_diff(at, va, vb, out),
                    (va, vb) => out.push(FieldChange {
                        path: at.clone(),
                        old: va.cloned(),
                        new: vb.cloned(),
                    }),
                }
                at.truncate(len);
            }
        }
        (a, b) if a != b => out.push(FieldChange {
            path: at.clone(),
            old: Some(a.clone()),
            new: Some(b.clone()),
        }),
        _ => {}
    }
}

fn push_segment(at: &mut String, key: &str) {
    at.push('/');
    at.push_str(&key.replace('~', "~0").replace('/', "~1"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn field_diff_reports_pointers_with_old_and_new_values() {
        let old = json!({"spec": {"replicas": 2, "a/b": 1, "gone": true, "list": [1, 2]}});
        let new = json!({"spec": {"replicas": 3, "a/b": 1, "list": [1, 2, 3], "new": "x"}});
        let mut out = Vec::new();
        field_diff(&mut String::new(), &old, &new, &mut out);
        let got: Vec<(String, Option<Value>, Option<Value>)> =
            out.into_iter().map(|c| (c.path, c.old, c.new)).collect();
        assert_eq!(
            got,
            [
                ("/spec/replicas".into(), Some(json!(2)), Some(json!(3))),
                ("/spec/gone".into(), Some(json!(true)), None),
                ("/spec/list/2".into(), None, Some(json!(3))),
                ("/spec/new".into(), None, Some(json!("x"))),
            ]
        );
    }

    #[test]
    fn resources_match_by_identity() {
        let a = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"}, "spec": {"x": 1}});
        let b = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "b"}});
        let a2 = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"}, "spec": {"x": 2}});
        let changes = resource_changes(&[a, b], &[a2]);
        let got: Vec<(&str, Status, usize)> = changes
            .iter()
            .map(|c| (c.name.as_str(), c.status, c.fields.len()))
            .collect();
        assert_eq!(got, [("a", Status::Modified, 1), ("b", Status::Deleted, 0)]);
    }
}
