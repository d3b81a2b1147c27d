//! The inventory: the workloads a repository holds, where, and for which
//! environments; what the planner is told and what changes resolve against.
//!
//! Built from the [`Index`] (identities) and the [`Snapshot`] (file text of
//! the directories that hold workloads). A workload's environments are those
//! whose roots ([`Environment`]: layout directories, Flux and Argo CD paths,
//! `.gitintent.yaml`) build its file: a root at or above the file, or above
//! a kustomization that includes it (as a resource, base, component, patch
//! or generator file), followed transitively, so a Kustomize base shared by
//! three overlays belongs to all three.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::repo::{Environment, Index, Snapshot};
use crate::yaml::edit::split_documents;

// The kinds a change can target.
use crate::manifest::WORKLOAD_KINDS as WORKLOADS;

/// The most workloads the planner is told about, and the most bytes of JSON they take.
const SUMMARY_LIMIT: usize = 150;
const SUMMARY_BYTES: usize = 24 << 10;

pub use crate::manifest::{Container, Workload};

/// One resource of a directory that holds a workload (for related-resource lookups).
#[derive(Debug, Clone)]
pub(crate) struct Doc {
    pub(crate) path: String,
    pub(crate) document: usize,
    pub(crate) value: Value,
}

impl Doc {
    pub(crate) fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or_default()
    }
    pub(crate) fn name(&self) -> &str {
        self.value["metadata"]["name"].as_str().unwrap_or_default()
    }
}

/// Everything a day-2 change may read: workloads, the resources next to them,
/// and the text of their files.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// False when there is no repository (a plan without `--repo`).
    pub(crate) present: bool,
    pub(crate) workloads: Vec<Workload>,
    /// The workload documents, parsed when the inventory is built.
    pub(crate) workload_docs: Vec<Doc>,
    /// Every other resource of those directories, parsed on first use
    /// (only applying a change needs them; planning does not).
    pub(crate) other_docs: std::sync::OnceLock<Vec<Doc>>,
    /// The YAML files of `texts` that the index parses (not skipped).
    pub(crate) yaml: Vec<String>,
    /// Text of every file in those directories (kustomizations and assets included).
    pub(crate) texts: BTreeMap<String, String>,
    /// Kustomization path → its `resources:` entries, as written.
    pub(crate) kustomizations: BTreeMap<String, Vec<String>>,
    /// Workload directories that have subdirectories (never removed whole).
    pub(crate) nested: BTreeSet<String>,
    /// A path (file or directory) → the kustomizations listing it.
    pub(crate) included_by: BTreeMap<String, Vec<String>>,
    /// The repository's environments (`.gitintent.yaml`, else learnt).
    pub(crate) environments: Vec<String>,
    /// A root path (directory or file; `""` the repository) → the
    /// environments whose build starts there.
    pub(crate) roots: BTreeMap<String, Vec<String>>,
    /// Every file and directory of the repository (for `--target` paths).
    pub(crate) paths: BTreeSet<String>,
}

impl Inventory {
    /// The inventory of the repository at `snapshot`, indexed as `index`;
    /// `environments` are the repository's names (`.gitintent.yaml`, else
    /// learnt), with the roots the index found for them.
    pub fn build(
        snapshot: &Snapshot,
        index: &Index,
        environments: &[String],
    ) -> Result<Inventory, crate::repo::Error> {
        let named: Vec<(String, Vec<String>)> =
            environments.iter().map(|e| (e.clone(), Vec::new())).collect();
        let envs = crate::repo::select_environments(snapshot, index.environments(), &named);
        Inventory::build_with(snapshot, index, &envs)
    }

    /// [`Inventory::build`] with the environments and their roots given.
    pub fn build_with(
        snapshot: &Snapshot,
        index: &Index,
        environments: &[Environment],
    ) -> Result<Inventory, crate::repo::Error> {
        let builds: BTreeMap<String, Vec<String>> = index
            .kustomizations()
            .iter()
            .map(|k| {
                (
                    k.path.clone(),
                    k.resources.iter().chain(&k.reads).cloned().collect(),
                )
            })
            .collect();
        let mut inv = Inventory {
            present: true,
            included_by: included_by(&builds),
            kustomizations: index
                .kustomizations()
                .iter()
                .map(|k| (k.path.clone(), k.resources.clone()))
                .collect(),
            environments: environments.iter().map(|e| e.name.clone()).collect(),
            roots: roots(environments),
            ..Inventory::default()
        };
        let wanted = inv.walk(snapshot, index);
        // Read on all cores; a file that is not UTF-8 (an image, an archive) is left out.
        let oids: Vec<git2::Oid> = wanted.iter().map(|e| e.blob).collect();
        let texts = snapshot.map_blobs(&oids, |bytes| std::str::from_utf8(bytes).ok().map(String::from))?;
        for (entry, text) in wanted.into_iter().zip(texts) {
            if let Some(text) = text {
                inv.texts.insert(entry.path.clone(), text);
            }
        }
        inv.yaml = inv
            .texts
            .keys()
            .filter(|path| {
                (path.ends_with(".yaml") || path.ends_with(".yml")) && index.skip_reason(path).is_none()
            })
            .cloned()
            .collect();
        // A document whose top-level kind is not a workload's waits for `docs()`.
        inv.workload_docs = parse_all(&inv.yaml_files(), |kind| {
            kind.is_none_or(|k| WORKLOADS.contains(&k))
        });
        inv.workloads = inv.find_workloads(index);
        Ok(inv)
    }

    /// Records every file and directory of the repository, and the workload
    /// directories that have subdirectories; returns the files to read:
    /// those of workload, kustomization (overlay) and Helm directories.
    fn walk<'s>(&mut self, snapshot: &'s Snapshot, index: &Index) -> Vec<&'s crate::repo::Entry> {
        let dirs: BTreeSet<&str> = index
            .resources()
            .iter()
            .filter(|r| WORKLOADS.contains(&r.identity().kind.as_str()))
            .map(|r| crate::repo::parent(r.path()))
            .collect();
        let kustomization_dirs: BTreeSet<String> = self
            .kustomizations
            .keys()
            .map(|k| crate::repo::parent(k).to_string())
            .collect();
        let chart_dirs = chart_dirs(snapshot, index);
        let mut wanted: Vec<&crate::repo::Entry> = Vec::new();
        self.paths.extend(snapshot.dirs().iter().cloned());
        for entry in snapshot.files() {
            self.paths.insert(entry.path.clone());
            let dir = crate::repo::parent(&entry.path);
            let mut above = dir;
            while !above.is_empty() {
                above = crate::repo::parent(above);
                if dirs.contains(above) {
                    self.nested.insert(above.to_string());
                }
            }
            // Overlay directories too: their patches may already change a workload.
            if !dirs.contains(dir) && !kustomization_dirs.contains(dir) && !chart_dirs.contains(dir) {
                continue;
            }
            wanted.push(entry);
        }
        wanted
    }

    /// The workloads among the parsed documents, each with its namespace (its
    /// own, else the nearest kustomization's) and the environments that build it.
    fn find_workloads(&self, index: &Index) -> Vec<Workload> {
        let namespaces: BTreeMap<&str, &str> = index
            .kustomizations()
            .iter()
            .filter_map(|k| Some((crate::repo::parent(&k.path), k.namespace.as_deref()?)))
            .collect();
        let envs_of = environments_by_path(&self.included_by, &self.roots);
        let mut workloads = Vec::new();
        for doc in self
            .workload_docs
            .iter()
            .filter(|d| WORKLOADS.contains(&d.kind()))
        {
            let own_ns = doc.value["metadata"]["namespace"].as_str();
            let namespace = own_ns
                .or_else(|| nearest(&namespaces, &doc.path))
                .unwrap_or_default()
                .to_string();
            workloads.push(Workload {
                kind: doc.kind().to_string(),
                name: doc.name().to_string(),
                namespace,
                environments: envs_of(&doc.path),
                path: doc.path.clone(),
                document: doc.document,
                containers: containers(&doc.value),
                replicas: doc.value["spec"]["replicas"].as_u64(),
            });
        }
        workloads
    }

    pub fn workloads(&self) -> &[Workload] {
        &self.workloads
    }

    /// True when `path` is a file or directory of the repository.
    pub fn has_path(&self, path: &str) -> bool {
        self.paths.contains(path)
    }

    /// The environments whose build includes `path` (a file or directory of
    /// the repository as it is): those named in its path, and those of every
    /// kustomization that lists it or a directory above it, transitively.
    /// Empty when the repository shows no environments.
    pub fn reach(&self, path: &str) -> Vec<String> {
        environments_by_path(&self.included_by, &self.roots)(path)
    }

    /// What the planner is told: kind, name, namespace, environments, path,
    /// containers (name and image) and replicas of at most 150 workloads and
    /// 24 KiB of JSON, those of `environment` first. Never file contents,
    /// variables, or anything from a Secret (a Secret is not a workload).
    pub fn summary(&self, environment: Option<&str>) -> Vec<&Workload> {
        let mut list: Vec<&Workload> = self.workloads.iter().collect();
        list.sort_by_key(|w| {
            let here = environment.is_some_and(|e| w.environments.iter().any(|x| x == e));
            (!here, w.name.clone(), w.path.clone())
        });
        let mut bytes = 0;
        let fits = list
            .iter()
            .take(SUMMARY_LIMIT)
            .take_while(|w| {
                bytes += serde_json::to_vec(w).map_or(usize::MAX / 2, |v| v.len() + 1);
                bytes <= SUMMARY_BYTES
            })
            .count();
        list.truncate(fits);
        list
    }

    /// Every resource document of the workload directories (and overlays).
    pub(crate) fn docs(&self) -> impl Iterator<Item = &Doc> {
        let others = self.other_docs.get_or_init(|| {
            parse_all(&self.yaml_files(), |kind| {
                kind.is_some_and(|k| !WORKLOADS.contains(&k))
            })
        });
        self.workload_docs.iter().chain(others.iter())
    }

    fn yaml_files(&self) -> Vec<(&String, &String)> {
        self.yaml
            .iter()
            .filter_map(|p| self.texts.get_key_value(p))
            .collect()
    }

    /// The repository's environments (`.gitintent.yaml`, else learnt).
    pub fn environments(&self) -> &[String] {
        &self.environments
    }

    /// The `namePrefix`/`nameSuffix` pairs of the kustomizations only
    /// `environment` builds (a workload there is called prefix + name + suffix).
    pub(crate) fn name_affixes(&self, environment: &str) -> Vec<(String, String)> {
        self.kustomizations
            .keys()
            .filter_map(|k| {
                let text = self.text(k)?;
                if !text.contains("namePrefix") && !text.contains("nameSuffix") {
                    return None;
                }
                if self.reach(k) != [environment] {
                    return None;
                }
                let value = crate::repo::parse_values(text).into_iter().next()?;
                let field = |key: &str| value[key].as_str().unwrap_or_default().to_string();
                Some((field("namePrefix"), field("nameSuffix")))
            })
            .collect()
    }

    /// The `namespace:` the kustomization at `path` sets, if any.
    pub(crate) fn kustomization_namespace(&self, path: &str) -> Option<String> {
        let value = crate::repo::parse_values(self.text(path)?).into_iter().next()?;
        value["namespace"].as_str().map(String::from)
    }

    /// The text of a file the inventory read.
    pub(crate) fn text(&self, path: &str) -> Option<&str> {
        self.texts.get(path).map(String::as_str)
    }
}

/// The document's top-level `kind:` as written on its own line, without
/// parsing; `None` when there is no such line (flow style, JSON, anchors).
fn top_kind(doc: &str) -> Option<&str> {
    doc.lines().find_map(|line| {
        let rest = line.strip_prefix("kind:")?;
        let value = rest.split(" #").next().unwrap_or(rest).trim();
        let value = value.trim_matches(|c| c == '"' || c == '\'');
        (!value.is_empty()).then_some(value)
    })
}

/// The resource documents of `files` whose top-level kind `wanted` accepts,
/// parsed on all cores with the validator's fast block-YAML parser
/// (serde-saphyr as its fallback).
fn parse_all(files: &[(&String, &String)], wanted: impl Fn(Option<&str>) -> bool + Sync) -> Vec<Doc> {
    let parse = |chunk: &[(&String, &String)]| -> Vec<Doc> {
        let mut out = Vec::new();
        for (path, text) in chunk {
            for (document, range) in split_documents(text).into_iter().enumerate() {
                if !wanted(top_kind(&text[range.clone()])) {
                    continue;
                }
                let Some(value) = crate::repo::parse_values(&text[range]).into_iter().next() else {
                    continue;
                };
                if value["kind"].is_string() && value["metadata"]["name"].is_string() {
                    out.push(Doc {
                        path: (*path).clone(),
                        document,
                        value,
                    });
                }
            }
        }
        out
    };
    if files.len() < 64 {
        return parse(files);
    }
    crate::par::map_runs(files, 1, parse)
}

/// The containers (`name`, `image`) of a workload's pod template.
fn containers(workload: &Value) -> Vec<Container> {
    let spec = &workload["spec"];
    let pod = if workload["kind"] == "CronJob" {
        &spec["jobTemplate"]["spec"]["template"]["spec"]
    } else {
        &spec["template"]["spec"]
    };
    pod["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| Container {
            name: c["name"].as_str().unwrap_or_default().to_string(),
            image: c["image"].as_str().unwrap_or_default().to_string(),
        })
        .collect()
}

/// Root path → the environments whose build starts there.
fn roots(environments: &[Environment]) -> BTreeMap<String, Vec<String>> {
    let mut roots: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for env in environments {
        for root in &env.roots {
            roots.entry(root.clone()).or_default().push(env.name.clone());
        }
    }
    roots
}

/// Helm chart directories and release objects' directories: what a change
/// of a chart edits.
fn chart_dirs<'a>(snapshot: &'a Snapshot, index: &'a Index) -> BTreeSet<&'a str> {
    snapshot
        .files()
        .iter()
        .filter(|e| e.path == "Chart.yaml" || e.path.ends_with("/Chart.yaml"))
        .map(|e| crate::repo::parent(&e.path))
        .chain(
            index
                .resources()
                .iter()
                .filter(|r| ["HelmRelease", "Application"].contains(&r.identity().kind.as_str()))
                .map(|r| crate::repo::parent(r.path())),
        )
        .collect()
}

/// The value for the nearest directory at or above `path`'s directory.
fn nearest<'a>(by_dir: &BTreeMap<&str, &'a str>, path: &str) -> Option<&'a str> {
    let mut dir = crate::repo::parent(path);
    loop {
        if let Some(v) = by_dir.get(dir) {
            return Some(v);
        }
        if dir.is_empty() {
            return None;
        }
        dir = crate::repo::parent(dir);
    }
}

/// Included path (file or directory) → the kustomization files listing it.
fn included_by(kustomizations: &BTreeMap<String, Vec<String>>) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, resources) in kustomizations {
        let dir = crate::repo::parent(k);
        for r in resources {
            if let Some(target) = crate::repo::join_relative(dir, r) {
                out.entry(target).or_default().push(k.clone());
            }
        }
    }
    out
}

/// Which environments deploy a file: those with a root at or above it, or
/// at or above a kustomization that includes it or a directory above it,
/// transitively.
fn environments_by_path<'a>(
    included_by: &'a BTreeMap<String, Vec<String>>,
    roots: &'a BTreeMap<String, Vec<String>>,
) -> impl Fn(&str) -> Vec<String> + 'a {
    move |path: &str| {
        let mut envs: BTreeSet<String> = BTreeSet::new();
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut todo: Vec<String> = vec![path.to_string()];
        while let Some(p) = todo.pop() {
            if !seen.insert(p.clone()) {
                continue;
            }
            // The path itself and every directory above it may be a root or included.
            let mut at = p.as_str();
            loop {
                envs.extend(roots.get(at).into_iter().flatten().cloned());
                for k in included_by.get(at).into_iter().flatten() {
                    todo.push(k.to_string());
                }
                if at.is_empty() {
                    break;
                }
                at = crate::repo::parent(at);
            }
        }
        envs.into_iter().collect()
    }
}
