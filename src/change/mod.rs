//! Day-2 changes: apply a spec's `changes` to the files the repository holds.
//!
//! Input is a checked [`Spec`] and the repository's [`Inventory`]; output is
//! the new full text of every file an update edits or an `expose` adds, and
//! the paths a delete removes. Each change first resolves its target
//! (`resolve.rs`: exact name, environment, namespace; otherwise an error
//! listing the closest matches, never a new app), then:
//! - `update.rs` writes the new values into the existing document line by
//!   line (`crate::yaml::edit`), so the diff shows only the intended lines;
//! - `expose.rs` edits or adds an Ingress and lists it in the kustomization;
//! - `delete.rs` removes the workload's files (or documents) and unwires them;
//! - `promote.rs` copies what a workload runs with in another environment
//!   (computed by `effective.rs`) into the destination's own files.
//! - `helm.rs` changes a workload a Helm chart renders through its values.
//!
//! A workload deployed by several environments through a shared Kustomize
//! base is refused for a one-environment change. Paths come from the
//! repository index only, never from the planner. This stage does not
//! render new components, validate, or diff; the pipeline does that with
//! what it returns.

mod delete;
mod effective;
mod envpatch;
mod expose;
mod helm;
mod inventory;
mod overlay;
mod place;
mod promote;
mod resolve;
mod several;
mod update;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

pub use inventory::{Container, Inventory, Workload};
pub use place::{place, Placement};
pub use resolve::Scope;
pub use several::asked as asked_environments;

use crate::finding::Finding;
use crate::manifest::File;
use crate::spec::{Operation, Spec, Update};

/// Why a change cannot be applied. Each names what exists instead.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "{operation} {target:?} changes an existing workload, and there is no repository to look it up in"
    )]
    NoRepository { target: String, operation: Operation },
    #[error("no workload named {target:?} in {environment}{}", closest_suffix(.closest))]
    NotFound {
        target: String,
        environment: String,
        closest: Vec<String>,
    },
    #[error("{target} is not in {environment}; it is in {}: say that environment, or pick a workload of {environment}", .found_in.join(", "))]
    WrongEnvironment {
        target: String,
        environment: String,
        found_in: Vec<String>,
    },
    #[error("{target:?} is ambiguous: {hint}; candidates:\n{}", bullets(.candidates))]
    Ambiguous {
        target: String,
        candidates: Vec<String>,
        hint: String,
        /// The path that picks each candidate (a front end offers them as
        /// its target option: `--target`, `target_path`).
        picks: Vec<String>,
    },
    #[error("{target} ({path}) is deployed by {} through a shared base, and {why}; changing that file would change them all. Change it by hand, or name every one of them in the intent (\"in {}\")", .environments.join(", "), .environments.join(" and "))]
    Shared {
        target: String,
        path: String,
        environments: Vec<String>,
        /// Why the change cannot go into the environment's own overlay.
        why: String,
    },
    /// The change would alter the build of environments it was not asked for.
    #[error("changing {target} for {environment} would also change {}: {}; a plan changes the build of the environments it names only, so name those too (\"in staging and production\", \"in all environments\") or edit the shared file by hand", .others.join(", "), .files.join(", "))]
    Reach {
        target: String,
        environment: String,
        /// The other environments touched.
        others: Vec<String>,
        /// Each file that would change, with the environments that build it.
        files: Vec<String>,
    },
    #[error("{path} is not a file or directory of the repository; give a path relative to its root, e.g. one of the workloads' directories")]
    NoSuchPath { path: String },
    #[error("no workload named {target:?} under {}; it is at:\n{}", .paths.join(", "), bullets(.found))]
    NotAtPath {
        target: String,
        paths: Vec<String>,
        found: Vec<String>,
        /// The path that picks each of `found` (a front end's target option).
        picks: Vec<String>,
    },
    #[error("cannot change {target}: {message}")]
    NotApplicable { target: String, message: String },
    #[error("cannot edit {field} in {path} without rewriting the file (it is not plain block YAML there); change it by hand")]
    NotEditable { path: String, field: String },
    #[error("there is no environment {environment:?} to promote from; the repository's environments: {}", .known.join(", "))]
    UnknownEnvironment { environment: String, known: Vec<String> },
    #[error("nothing to promote from {from} to {to}: {to} already runs what {from} runs:\n{}", bullets(.same))]
    NothingToPromote {
        from: String,
        to: String,
        /// What is the same, one line per workload and value.
        same: Vec<String>,
    },
    /// Several environments were asked for, and some are not the repository's.
    #[error("the plan is for {}, which this repository does not have; its environments: {}", .unknown.join(", "), if .known.is_empty() { "none found (name them in .gitintent.yaml under environments:)".to_string() } else { .known.join(", ") })]
    UnknownEnvironments {
        unknown: Vec<String>,
        known: Vec<String>,
    },
    #[error(transparent)]
    Render(#[from] crate::render::Error),
}

fn closest_suffix(closest: &[String]) -> String {
    if closest.is_empty() {
        String::new()
    } else {
        format!("; closest matches:\n{}", bullets(closest))
    }
}

fn bullets(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("  - {i}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl Error {
    /// True when the intent (or the planner) named something that is not
    /// there, as opposed to a file this stage cannot edit.
    pub fn is_bad_target(&self) -> bool {
        matches!(
            self,
            Error::NoRepository { .. }
                | Error::NotFound { .. }
                | Error::WrongEnvironment { .. }
                | Error::Ambiguous { .. }
                | Error::NoSuchPath { .. }
                | Error::NotAtPath { .. }
                | Error::UnknownEnvironment { .. }
                | Error::UnknownEnvironments { .. }
        )
    }
}

/// What one change did, for the plan's `operations` and the reviewer.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[schema(as = Operation)]
pub struct Applied {
    pub operation: Operation,
    /// `Deployment/api-gateway`.
    pub target: String,
    pub namespace: String,
    /// The files it edits, adds or removes.
    pub paths: Vec<String>,
    /// The environments whose build those files are part of
    /// ([`Inventory::reach`]); empty when the repository shows none.
    #[serde(default)]
    pub reach: Vec<String>,
}

impl Applied {
    /// The environments it reaches, for a person: `staging, production`, or
    /// what an empty reach means.
    pub fn reach_label(&self) -> String {
        if self.reach.is_empty() {
            "no environment the repository shows".to_string()
        } else {
            self.reach.join(", ")
        }
    }
}

/// The outcome of every change of a spec.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Full new content of every file edited or added, in path order.
    pub files: Vec<File>,
    /// Files removed.
    pub deleted: Vec<String>,
    /// Paths of `files` edited in place.
    pub modified: Vec<String>,
    /// Paths of `files` that are new (an Ingress added by `expose`).
    pub created: Vec<String>,
    pub applied: Vec<Applied>,
    /// Warnings about what a change does not control (an HPA, TLS).
    pub findings: Vec<Finding>,
    /// The environment of the targets, when the planner's was only assumed
    /// and the targets live in another one.
    pub environment: Option<String>,
    /// Overlay patches written (a subset of `files`): not manifests themselves.
    pub patches: Vec<String>,
    /// For each patch, the workload as the environment runs it, before and
    /// after the change (the base merged with the patch), for validation.
    pub merged: Vec<(File, File)>,
    /// What a change did that the user should know, for the spec's
    /// assumptions (an Ingress host kept beside the new one).
    pub notes: Vec<String>,
}

/// Where and how the changes apply, beyond the spec itself.
#[derive(Debug, Clone, Default)]
pub struct Aim {
    /// Files or directories the targets are looked for under (`--target`,
    /// paths the intent names).
    pub within: Vec<String>,
    /// An `expose` replaces the Ingress host it finds ("move", "instead of")
    /// rather than adding the new host beside it.
    pub replace_host: bool,
}

/// Edits in progress over the inventory's files.
pub(crate) struct Edits<'i> {
    inv: &'i Inventory,
    labels: BTreeMap<String, String>,
    written: BTreeMap<String, String>,
    created: BTreeSet<String>,
    deleted: BTreeSet<String>,
    /// See [`Aim::replace_host`].
    replace_host: bool,
    /// See [`Outcome::notes`].
    notes: Vec<String>,
}

impl<'i> Edits<'i> {
    fn text(&self, path: &str) -> Option<String> {
        if self.deleted.contains(path) {
            return None;
        }
        self.written
            .get(path)
            .cloned()
            .or_else(|| self.inv.text(path).map(String::from))
    }
    fn exists(&self, path: &str) -> bool {
        self.text(path).is_some()
    }
    fn write(&mut self, path: &str, text: String) {
        self.written.insert(path.to_string(), text);
    }
    fn create(&mut self, path: &str, text: String) {
        self.created.insert(path.to_string());
        self.write(path, text);
    }
    fn delete(&mut self, path: &str) {
        self.written.remove(path);
        self.created.remove(path);
        self.deleted.insert(path.to_string());
    }
    /// Applies a `wire` edit (`add_resource`, `remove_resource`, `add_patch`)
    /// to the kustomization at `path`; `list` names the edited key for errors.
    fn edit_kustomization(
        &mut self,
        path: &str,
        list: &str,
        edit: impl FnOnce(&str) -> Result<Option<String>, String>,
    ) -> Result<(), Error> {
        let Some(old) = self.text(path) else {
            return Ok(());
        };
        match edit(&old) {
            Ok(Some(new)) => {
                self.write(path, new);
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(message) => Err(Error::NotEditable {
                path: path.to_string(),
                field: format!("{list} ({message})"),
            }),
        }
    }

    /// Every path written or removed so far.
    fn touched(&self) -> BTreeSet<String> {
        self.written.keys().chain(self.deleted.iter()).cloned().collect()
    }

    /// The paths written or removed since `before` ([`Edits::touched`]).
    fn touched_since(&self, before: &BTreeSet<String>) -> Vec<String> {
        self.written
            .keys()
            .chain(self.deleted.iter())
            .filter(|p| !before.contains(*p))
            .cloned()
            .collect()
    }

    /// The kustomization file of `dir`, if it has one.
    fn kustomization_of(&self, dir: &str) -> Option<String> {
        ["kustomization.yaml", "kustomization.yml", "Kustomization"]
            .iter()
            .map(|f| format!("{dir}/{f}"))
            .find(|p| self.inv.kustomizations.contains_key(p) && self.exists(p))
    }
}

/// Applies every change of `spec` to the repository's files.
///
/// `labels` are the repository's extra labels, put on resources a change adds.
pub fn apply(
    spec: &Spec,
    inv: &Inventory,
    scope: Scope<'_>,
    labels: &BTreeMap<String, String>,
) -> Result<Outcome, Error> {
    apply_aimed(spec, inv, scope, &Aim::default(), labels)
}

/// [`apply`], with where the targets are looked for and how an `expose`
/// treats an existing host ([`Aim`]).
pub fn apply_aimed(
    spec: &Spec,
    inv: &Inventory,
    scope: Scope<'_>,
    aim: &Aim,
    labels: &BTreeMap<String, String>,
) -> Result<Outcome, Error> {
    let within = aim.within.as_slice();
    let mut out = Outcome::default();
    if spec.changes.is_empty() {
        return Ok(out);
    }
    let mut edits = Edits {
        inv,
        labels: labels.clone(),
        written: BTreeMap::new(),
        created: BTreeSet::new(),
        deleted: BTreeSet::new(),
        replace_host: aim.replace_host,
        notes: Vec::new(),
    };
    let asked = several::asked(spec, inv)?;
    let mut scope = scope;
    for change in &spec.changes {
        if asked.len() > 1 {
            several::apply(&mut edits, &mut out, change, &asked, &spec.namespace, within)?;
            continue;
        }
        if change.operation == Operation::Promote {
            promote::apply(
                &mut edits,
                &mut out,
                change,
                scope.environment(),
                &spec.namespace,
                within,
            )?;
            continue;
        }
        // A workload a Helm chart renders is changed through its values (see `helm`).
        if change.operation == Operation::Update && !inv.workloads.iter().any(|w| w.name == change.target) {
            if let Some(found) = helm::pick(&edits, &change.target, scope.environment())? {
                helm::apply(&mut edits, &mut out, change, &found, scope.environment())?;
                continue;
            }
        }
        scope = edit_target(&mut edits, &mut out, change, scope, &spec.namespace, within)?;
    }
    out.take_edits(edits);
    Ok(out)
}

/// Resolves the one workload `change` targets and edits it in the scope's
/// environment, recording what it did with its reach. Returns the scope for
/// the plan's later changes: an assumed environment the target is not in
/// gives way to the target's own.
fn edit_target<'i>(
    edits: &mut Edits<'i>,
    out: &mut Outcome,
    change: &crate::spec::Change,
    mut scope: Scope<'i>,
    namespace: &str,
    within: &[String],
) -> Result<Scope<'i>, Error> {
    let inv = edits.inv;
    let w = resolve::resolve(inv, change, scope, namespace, within)?;
    if !w.environments.is_empty() && !w.environments.iter().any(|e| e == scope.environment()) {
        // Only an assumed environment gets here: the target's own is used,
        // and later changes of the same plan stay in it.
        out.environment = Some(w.environments[0].clone());
        scope = Scope::Stated(&w.environments[0]);
    }
    let effective = scope.environment();
    let before = edits.touched();
    edit_in(edits, out, change, w, effective)?;
    let paths = edits.touched_since(&before);
    let target = format!("{}/{}", w.kind, w.name);
    out.applied.push(within_reach(
        inv,
        change.operation,
        target,
        &w.namespace,
        paths,
        &[effective.to_string()],
    )?);
    Ok(scope)
}

impl Outcome {
    /// Takes in the files `edits` wrote (those whose text differs from the
    /// repository's, new or modified), removed, and its notes.
    fn take_edits(&mut self, edits: Edits<'_>) {
        for (path, text) in edits.written {
            if edits.inv.text(&path) == Some(text.as_str()) {
                continue;
            }
            if edits.created.contains(&path) {
                self.created.push(path.clone());
            } else {
                self.modified.push(path.clone());
            }
            self.files.push(File { path, content: text });
        }
        self.deleted = edits.deleted.into_iter().collect();
        self.notes = edits.notes;
    }

    /// Takes in an overlay patch: its patch files (each once) and the
    /// workload before and after.
    fn take_patch(&mut self, patched: overlay::Patched) {
        self.add_patches(patched.patches);
        self.merged.push((patched.before, patched.after));
    }

    /// Adds the overlay patch files of `patches` not listed yet.
    fn add_patches(&mut self, patches: Vec<String>) {
        for p in patches {
            if !self.patches.contains(&p) {
                self.patches.push(p);
            }
        }
    }
}

/// Applies one update or delete of `w` for `environment` alone: an
/// `images:` entry of the environment takes a new image; a base other
/// environments share gets a patch in this environment's overlay; anything
/// else is edited where it is written. The reach is checked by the caller.
fn edit_in(
    edits: &mut Edits<'_>,
    out: &mut Outcome,
    change: &crate::spec::Change,
    w: &Workload,
    environment: &str,
) -> Result<(), Error> {
    let set = through_image_entry(edits, change, w, environment)?;
    let nothing_left = set.as_ref().is_some_and(|s| {
        s.image.is_none() && s.replicas.is_none() && s.resources.is_none() && s.exposure.is_none()
    });
    if nothing_left {
        return Ok(());
    }
    // A base shared by several environments is patched in this one's overlay.
    if w.environments.len() > 1 {
        return patch_overlay(edits, out, change.operation, set, w, environment);
    }
    match change.operation {
        Operation::Update => update::apply(edits, w, &set.unwrap_or_default(), &mut out.findings),
        Operation::Delete => delete::apply(edits, w, &mut out.findings),
        // Applied before resolving one target.
        Operation::Promote => Ok(()),
    }
}

/// What `change` still sets once a new image went into an `images:` entry
/// this environment's kustomization holds for the image (that entry decides
/// what runs).
fn through_image_entry(
    edits: &mut Edits<'_>,
    change: &crate::spec::Change,
    w: &Workload,
    environment: &str,
) -> Result<Option<Update>, Error> {
    let mut set = change.set.clone();
    if let (Operation::Update, Some(s)) = (change.operation, set.as_mut()) {
        if let Some(image) = s.image.clone() {
            let container = update::choose_container(w, s)?;
            if let Some((k, name)) = envpatch::image_entry(edits, w, &container.image, environment) {
                envpatch::set_image_entry(edits, &k, &name, &image)?;
                s.image = None;
            }
        }
    }
    Ok(set)
}

/// Writes `set` for a base several environments share as a patch in
/// `environment`'s overlay; an exposure change, a removal, or an
/// environment without an overlay is refused as shared.
fn patch_overlay(
    edits: &mut Edits<'_>,
    out: &mut Outcome,
    operation: Operation,
    set: Option<Update>,
    w: &Workload,
    environment: &str,
) -> Result<(), Error> {
    let (overlay, why) = match (operation, &set) {
        (Operation::Update, Some(s)) if s.exposure.is_some() => (
            None,
            format!("an exposure (Ingress) change cannot be written as a patch in {environment}'s overlay"),
        ),
        (Operation::Update, _) => (
            overlay::overlay_for(edits, &w.path, environment),
            format!("{environment} has no overlay kustomization to patch it in"),
        ),
        _ => (
            None,
            format!("a removal cannot be written as a patch in {environment}'s overlay"),
        ),
    };
    let Some(k) = overlay else {
        return Err(Error::Shared {
            target: format!("{}/{}", w.kind, w.name),
            path: w.path.clone(),
            environments: w.environments.clone(),
            why,
        });
    };
    let set = set.unwrap_or_default();
    if set.replicas.is_some() {
        update::check_scalable(w, &mut out.findings, edits)?;
    }
    let patched = overlay::update(edits, w, &set, &k, environment)?;
    out.take_patch(patched);
    Ok(())
}

/// The reach invariant: a change alters the build of the `asked`
/// environments and of no other. `paths` are what it wrote or removed.
fn within_reach(
    inv: &Inventory,
    operation: Operation,
    target: String,
    namespace: &str,
    paths: Vec<String>,
    asked: &[String],
) -> Result<Applied, Error> {
    let mut reach: Vec<String> = paths.iter().flat_map(|p| inv.reach(p)).collect();
    reach.sort();
    reach.dedup();
    let touched: Vec<String> = paths
        .iter()
        .filter_map(|p| {
            let r = inv.reach(p);
            r.iter()
                .any(|e| !asked.contains(e))
                .then(|| format!("{p} (built by {})", r.join(", ")))
        })
        .collect();
    if !touched.is_empty() {
        return Err(Error::Reach {
            target,
            environment: asked.join(", "),
            others: reach.iter().filter(|e| !asked.contains(e)).cloned().collect(),
            files: touched,
        });
    }
    Ok(Applied {
        operation,
        target,
        namespace: namespace.to_string(),
        paths,
        reach,
    })
}

#[cfg(test)]
mod tests;
