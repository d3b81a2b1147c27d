//! Environments: which Kustomize roots (directories or files) each
//! environment of a repository builds.
//!
//! Found, and merged by name, from:
//! - the layout ([`super::conventions::environments`]): the children of
//!   `clusters/`, `envs/`, `overlays/`, … at any depth, environment-like
//!   children of `apps/`;
//! - Flux `Kustomization` objects (`kustomize.toolkit.fluxcd.io`): their
//!   `spec.path` in this repository (a `GitRepository` source that is this
//!   repository, or an `ExternalArtifact` an `ArtifactGenerator` copies from
//!   it), named after the cluster directory that holds the object, else after
//!   the path;
//! - Argo CD `Application` (`spec.source.path`, `spec.sources[].path`) and
//!   `ApplicationSet` objects (list and git-directory generators, with
//!   `{{key}}`/`{{.key}}`, `{{path}}`, `{{path.basename}}` templates);
//! - every directory named like an environment found above.
//!
//! `.gitintent.yaml` `environments:` wins ([`select`]): a map gives each
//! environment's roots exactly; a list names the environments, whose roots
//! are then those found here. A root must exist in the snapshot. This module
//! does not evaluate Helm, Jsonnet or any other templating, nor follow
//! sources in other repositories.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::conventions::{env_in_path, ENV_WORDS};
use super::index::{join_relative, parent, Index};
use super::snapshot::Snapshot;

/// One environment and the roots its build starts from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Environment {
    pub name: String,
    /// Repository paths (directories, or kustomization files); `""` is the root.
    pub roots: Vec<String>,
}

/// Every environment `snapshot` shows (layout, Flux, Argo CD, directory
/// names), sorted by name; `index` is the snapshot's.
pub(crate) fn discover(snapshot: &Snapshot, index: &Index) -> Vec<Environment> {
    let mut by_name: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for env in super::conventions::layout_roots(snapshot) {
        by_name.entry(env.name).or_default().extend(env.roots);
    }
    for (name, root) in deployed(snapshot, index) {
        by_name.entry(name).or_default().insert(root);
    }
    let names: Vec<String> = by_name.keys().cloned().collect();
    for (name, roots) in named_dirs(snapshot, &names) {
        by_name.entry(name).or_default().extend(roots);
    }
    by_name
        .into_iter()
        .map(|(name, roots)| Environment {
            name,
            roots: roots.into_iter().collect(),
        })
        .collect()
}

/// The environments a plan works with: `.gitintent.yaml`'s when it lists
/// any (`configured`: names, with their roots when it gives them), else
/// `discovered`. A configured name without roots takes the discovered
/// environment's, else the directories with its name.
pub(crate) fn select(
    snapshot: &Snapshot,
    discovered: &[Environment],
    configured: &[(String, Vec<String>)],
) -> Vec<Environment> {
    if configured.is_empty() {
        return discovered.to_vec();
    }
    configured
        .iter()
        .map(|(name, roots)| {
            let roots = if !roots.is_empty() {
                roots.clone()
            } else if let Some(found) = discovered.iter().find(|e| e.name == *name) {
                found.roots.clone()
            } else {
                named_dirs(snapshot, std::slice::from_ref(name))
                    .into_iter()
                    .flat_map(|(_, r)| r)
                    .collect()
            };
            Environment {
                name: name.clone(),
                roots,
            }
        })
        .collect()
}

/// For each name, the directories so named (not under hidden directories).
fn named_dirs(snapshot: &Snapshot, names: &[String]) -> Vec<(String, Vec<String>)> {
    let wanted: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for dir in snapshot.dirs() {
        let base = dir.rsplit('/').next().unwrap_or(dir);
        if wanted.contains(base) && !dir.split('/').any(|s| s.starts_with('.')) {
            out.entry(base.to_string()).or_default().push(dir.clone());
        }
    }
    out.into_iter().collect()
}

/// Kinds read here, as (API group, kind).
const DEPLOYERS: [(&str, &str); 5] = [
    ("kustomize.toolkit.fluxcd.io", "Kustomization"),
    ("argoproj.io", "Application"),
    ("argoproj.io", "ApplicationSet"),
    ("source.extensions.fluxcd.io", "ArtifactGenerator"),
    ("source.toolkit.fluxcd.io", "GitRepository"),
];

/// A Flux or Argo CD object read from the repository, with its file.
struct Object {
    file: String,
    value: Value,
}

impl Object {
    fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or_default()
    }
    fn name(&self) -> &str {
        self.value["metadata"]["name"].as_str().unwrap_or_default()
    }
}

/// (environment, root) pairs from the Flux and Argo CD objects of the repository.
fn deployed(snapshot: &Snapshot, index: &Index) -> Vec<(String, String)> {
    let files: BTreeSet<&str> = index
        .resources()
        .iter()
        .filter(|r| {
            let id = r.identity();
            DEPLOYERS.iter().any(|(g, k)| id.group == *g && id.kind == *k)
        })
        .map(|r| r.path())
        .collect();
    let mut objects = Vec::new();
    for file in files {
        let Ok(Some(text)) = snapshot.read(file) else {
            continue;
        };
        for value in super::parse::values(&text) {
            let group = value["apiVersion"].as_str().and_then(|v| v.rsplit_once('/'));
            let kind = value["kind"].as_str().unwrap_or_default();
            if group.is_some_and(|(g, _)| DEPLOYERS.contains(&(g, kind))) {
                objects.push(Object {
                    file: file.to_string(),
                    value,
                });
            }
        }
    }
    let exists = |p: &str| p.is_empty() || snapshot.is_dir(p) || snapshot.file(p).is_some();
    let mut out = Vec::new();
    for o in &objects {
        let found = match o.kind() {
            "Kustomization" => flux_root(o, &objects)
                .filter(|r| exists(r))
                .and_then(|root| Some((object_env(o, &root)?, root)))
                .into_iter()
                .collect(),
            "Application" => argo_paths(&o.value["spec"])
                .into_iter()
                .filter(|r| exists(r))
                .filter_map(|root| Some((object_env(o, &root)?, root)))
                .collect(),
            "ApplicationSet" => application_set(o, snapshot)
                .into_iter()
                .filter(|(_, r)| exists(r))
                .collect(),
            _ => Vec::new(),
        };
        out.extend(found);
    }
    out
}

/// The environment an object that deploys `root` belongs to: the cluster
/// directory holding the object (`clusters/staging/apps.yaml`), else the
/// environment its path names (`apps/staging`, `envs/prod-us`).
fn object_env(o: &Object, root: &str) -> Option<String> {
    env_in_path(parent(&o.file)).or_else(|| env_of_root(root, None))
}

/// The environment a root names: a child of an environment directory, else
/// an environment word among its segments, else `fallback`.
fn env_of_root(root: &str, fallback: Option<&str>) -> Option<String> {
    env_in_path(root)
        .or_else(|| {
            root.rsplit('/')
                .find(|seg| ENV_WORDS.contains(seg))
                .map(String::from)
        })
        .or_else(|| fallback.map(String::from))
}

/// A `./path` as a repository path (`""` for the root); `None` when it leaves it.
fn repo_path(p: &str) -> Option<String> {
    join_relative("", p.trim())
}

/// The repository path a Flux `Kustomization` builds, when its source is
/// this repository.
fn flux_root(o: &Object, objects: &[Object]) -> Option<String> {
    let spec = &o.value["spec"];
    let path = spec["path"].as_str();
    let source = &spec["sourceRef"];
    let name = source["name"].as_str().unwrap_or_default();
    match source["kind"].as_str().unwrap_or("GitRepository") {
        "GitRepository" => {
            let defined = objects
                .iter()
                .find(|g| g.kind() == "GitRepository" && g.name() == name);
            // A GitRepository this repository defines, other than its own
            // bootstrap source, is another repository (a tenant's).
            let other = defined
                .is_some_and(|g| g.name() != "flux-system" && !g.file.split('/').any(|s| s == "flux-system"));
            if other || (path.is_none() && name != "flux-system") {
                return None;
            }
            repo_path(path.unwrap_or("./"))
        }
        "ExternalArtifact" => artifact_path(objects, name, path.unwrap_or("./")),
        _ => None,
    }
}

/// Where `path` inside the artifact `artifact` comes from in this
/// repository, through an `ArtifactGenerator`'s `copy` entries
/// (`@monorepo/apps/staging/**` → `@artifact/staging/`).
fn artifact_path(objects: &[Object], artifact: &str, path: &str) -> Option<String> {
    let path = repo_path(path)?;
    let mut best: Option<(usize, String)> = None;
    for g in objects.iter().filter(|g| g.kind() == "ArtifactGenerator") {
        let artifacts = g.value["spec"]["artifacts"].as_array().into_iter().flatten();
        for a in artifacts.filter(|a| a["name"] == artifact) {
            for copy in a["copy"].as_array().into_iter().flatten() {
                let (Some(from), Some(to)) = (copy["from"].as_str(), copy["to"].as_str()) else {
                    continue;
                };
                let strip = |s: &str| -> Option<String> {
                    let rest = s.strip_prefix('@')?.split_once('/').map_or("", |(_, r)| r);
                    repo_path(rest.trim_end_matches("**").trim_end_matches('*'))
                };
                let (Some(from), Some(to)) = (strip(from), strip(to)) else {
                    continue;
                };
                let rest = if to.is_empty() {
                    Some(path.as_str())
                } else if path == to {
                    Some("")
                } else {
                    path.strip_prefix(&format!("{to}/"))
                };
                let Some(rest) = rest else { continue };
                if best.as_ref().is_none_or(|(len, _)| to.len() >= *len) {
                    let joined = [from.as_str(), rest]
                        .iter()
                        .filter(|s| !s.is_empty())
                        .copied()
                        .collect::<Vec<_>>()
                        .join("/");
                    best = Some((to.len(), joined));
                }
            }
        }
    }
    best.map(|(_, p)| p)
}

/// The paths of an Argo CD Application spec: `source.path`, `sources[].path`.
fn argo_paths(spec: &Value) -> Vec<String> {
    let sources = spec["sources"].as_array().into_iter().flatten();
    std::iter::once(&spec["source"])
        .chain(sources)
        .filter_map(|s| s["path"].as_str())
        .filter_map(repo_path)
        .collect()
}

/// (environment, root) pairs an `ApplicationSet` generates with its list
/// and git-directory generators.
fn application_set(o: &Object, snapshot: &Snapshot) -> Vec<(String, String)> {
    let spec = &o.value["spec"];
    let template = &spec["template"]["spec"];
    let paths: Vec<&str> = std::iter::once(&template["source"])
        .chain(template["sources"].as_array().into_iter().flatten())
        .filter_map(|s| s["path"].as_str())
        .collect();
    let mut out = Vec::new();
    for generator in spec["generators"].as_array().into_iter().flatten() {
        for params in parameters(generator, snapshot) {
            for path in &paths {
                let Some((expanded, last)) = expand(path, &params) else {
                    continue;
                };
                let Some(root) = repo_path(&expanded) else {
                    continue;
                };
                let last = last.as_deref().map(|l| l.rsplit('/').next().unwrap_or(l));
                if let Some(env) = env_of_root(&root, last) {
                    out.push((env, root));
                }
            }
        }
    }
    out
}

/// The parameter sets of one generator: a list's elements, or a git
/// generator's matching directories (`path`, `path.basename`, …).
fn parameters(generator: &Value, snapshot: &Snapshot) -> Vec<BTreeMap<String, String>> {
    let mut out = Vec::new();
    for element in generator["list"]["elements"].as_array().into_iter().flatten() {
        let Some(map) = element.as_object() else { continue };
        out.push(
            map.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect(),
        );
    }
    let dirs = generator["git"]["directories"].as_array();
    let (include, exclude): (Vec<&Value>, Vec<&Value>) = dirs
        .into_iter()
        .flatten()
        .partition(|d| d["exclude"].as_bool() != Some(true));
    let globs = |list: &[&Value]| -> Vec<String> {
        list.iter()
            .filter_map(|d| d["path"].as_str().and_then(repo_path))
            .collect()
    };
    let (include, exclude) = (globs(&include), globs(&exclude));
    for dir in snapshot.dirs() {
        let matches = |g: &String| glob(g, dir);
        if include.iter().any(matches) && !exclude.iter().any(matches) {
            let base = dir.rsplit('/').next().unwrap_or(dir);
            let mut params = BTreeMap::from([
                ("path".to_string(), dir.clone()),
                ("path.path".to_string(), dir.clone()),
                ("path.basename".to_string(), base.to_string()),
                (
                    "path.basenameNormalized".to_string(),
                    base.replace(['_', '.'], "-"),
                ),
            ]);
            for (i, seg) in dir.split('/').enumerate() {
                params.insert(format!("path[{i}]"), seg.to_string());
                params.insert(format!("path.segments[{i}]"), seg.to_string());
            }
            out.push(params);
        }
    }
    out
}

/// `template` with every `{{ key }}` / `{{ .key }}` replaced from `params`,
/// and the last value substituted; `None` when a key is unknown.
fn expand(template: &str, params: &BTreeMap<String, String>) -> Option<(String, Option<String>)> {
    let mut out = String::new();
    let mut last = None;
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}")? + start;
        let key = rest[start + 2..end].trim().trim_start_matches('.');
        let value = params.get(key)?;
        out.push_str(value);
        last = Some(value.clone());
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    Some((out, last))
}

/// A git generator's path pattern against a directory: segment by
/// segment, `*` matching within one segment.
fn glob(pattern: &str, dir: &str) -> bool {
    let (p, d): (Vec<&str>, Vec<&str>) = (pattern.split('/').collect(), dir.split('/').collect());
    p.len() == d.len() && p.iter().zip(&d).all(|(p, d)| segment_matches(p, d))
}

fn segment_matches(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            let Some(rest) = text.strip_prefix(head) else {
                return false;
            };
            (0..=rest.len())
                .filter(|i| rest.is_char_boundary(*i))
                .any(|i| segment_matches(tail, &rest[i..]))
        }
    }
}

#[cfg(test)]
mod tests;
