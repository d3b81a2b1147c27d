//! The repository index: every manifest of a [`Snapshot`], by identity.
//!
//! [`Index::build`] reads each YAML/JSON file of a snapshot and records the
//! Kubernetes resources it holds, identified by [`Identity`] (API group, kind,
//! namespace, name; the namespace is empty when the file does not set one).
//! Multi-document files and `kind: List` are expanded. Flux and Argo CD
//! objects (HelmRelease, Flux Kustomization, Application, GitRepository, …)
//! are ordinary custom resources here.
//!
//! Files that are not Kubernetes resources are recorded in
//! [`Index::skipped`] with a reason and otherwise ignored, never fatal: Helm
//! templates (`{{`), values files, kustomize `kustomization.yaml` files and
//! components (also listed in [`Index::kustomizations`]: wiring needs them),
//! the patches those kustomizations apply, and files that do not parse.
//!
//! Parsed results are cached by blob id in an [`IndexCache`] the caller
//! keeps, so indexing a newer commit re-parses only the blobs that changed.
//! Blobs are read and parsed on all cores. The index keeps identities and
//! labels, not whole documents; [`super::diff`] re-reads the few files a plan
//! touches.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;
use std::sync::Arc;

use git2::Oid;
use serde::Serialize;

use super::conventions::Conventions;
use super::environments::Environment;
use super::parse::{parse_blobs, Blob, Meta};
use super::snapshot::{Entry, Snapshot};
use super::Error;

/// What identifies a resource in a cluster.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Identity {
    /// API group; empty for the core group (`v1`).
    pub group: String,
    pub kind: String,
    /// Empty when the manifest does not set one (cluster-scoped, or set by a kustomization).
    pub namespace: String,
    pub name: String,
}

impl Identity {
    /// The identity of a resource with `apiVersion`.
    pub fn new(api_version: &str, kind: &str, namespace: &str, name: &str) -> Identity {
        Identity {
            group: api_version
                .rsplit_once('/')
                .map_or("", |(group, _)| group)
                .to_string(),
            kind: kind.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.kind, self.name)?;
        if !self.namespace.is_empty() {
            write!(f, " in namespace {}", self.namespace)?;
        }
        Ok(())
    }
}

/// One resource of the index.
#[derive(Debug, Clone)]
pub struct Resource {
    path: Arc<str>,
    meta: Arc<Meta>,
}

impl Resource {
    /// The file the resource is in.
    pub fn path(&self) -> &str {
        &self.path
    }
    pub fn identity(&self) -> &Identity {
        &self.meta.identity
    }
    pub fn api_version(&self) -> &str {
        &self.meta.api_version
    }
    /// True when it carries `app.kubernetes.io/managed-by: gitintent`.
    pub fn is_managed(&self) -> bool {
        self.meta.managed
    }
    /// The keys of its labels.
    pub fn label_keys(&self) -> &[String] {
        &self.meta.labels
    }
}

/// Why a file holds no resources of the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipReason {
    /// A Helm (Go) template: it contains `{{` and is not plain YAML.
    HelmTemplate,
    /// Helm values (`values.yaml`, `values-prod.yaml`, `podinfo-values.yaml`, …).
    ValuesFile,
    /// A kustomize `kustomization.yaml`.
    Kustomization,
    /// A kustomize `Component`.
    KustomizeComponent,
    /// A patch a kustomization applies: a partial resource.
    Patch,
    /// Some or all documents do not parse.
    Unparseable,
    /// Parses, but no document has `apiVersion`, `kind` and `metadata.name`.
    NotAResource,
    /// Not UTF-8, or too big.
    NotText,
}

/// A file the index records but holds no resources for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub path: String,
    pub reason: SkipReason,
    pub detail: String,
}

/// A kustomize file, as wiring and conventions need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Kustomization {
    pub path: String,
    /// `Kustomization` or `Component`.
    pub kind: String,
    pub namespace: Option<String>,
    /// The `resources:`, then `bases:` and `components:` entries, as written.
    pub resources: Vec<String>,
    /// The patch files it applies (`patches`, `patchesStrategicMerge`,
    /// `patchesJson6902`), then the other files its build reads
    /// (transformers, generators and their files, replacements), as written.
    pub reads: Vec<String>,
}

/// What the last [`Index::build`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// YAML/JSON files looked at.
    pub files: usize,
    pub resources: usize,
    /// Blobs read and parsed by this build.
    pub parsed: usize,
    /// Blobs whose parse came from the cache.
    pub reused: usize,
}

/// Parsed blobs by id; keep one per repository across builds.
#[derive(Debug, Default)]
pub struct IndexCache {
    blobs: HashMap<Oid, Arc<Blob>>,
}

impl IndexCache {
    pub fn new() -> IndexCache {
        IndexCache::default()
    }
    /// Blobs held.
    pub fn len(&self) -> usize {
        self.blobs.len()
    }
    pub fn is_empty(&self) -> bool {
        self.blobs.is_empty()
    }
}

/// The resources of a snapshot.
#[derive(Debug)]
pub struct Index {
    commit: Oid,
    /// Indexed files in path order, with their range of `resources`.
    files: Vec<(Arc<str>, Range<usize>)>,
    resources: Vec<Resource>,
    skipped: Vec<Skipped>,
    kustomizations: Vec<Kustomization>,
    /// Layout, Flux and Argo CD environments with their roots.
    environments: Vec<Environment>,
    stats: Stats,
}

impl Index {
    /// Indexes every YAML/JSON file of `snapshot`, parsing only the blobs
    /// `cache` does not hold; afterwards `cache` holds exactly this
    /// snapshot's blobs.
    pub fn build(snapshot: &Snapshot, cache: &mut IndexCache) -> Result<Index, Error> {
        let entries: Vec<&Entry> = snapshot
            .files()
            .iter()
            .filter(|e| is_manifest_path(&e.path))
            .collect();
        let mut todo: Vec<Oid> = entries
            .iter()
            .map(|e| e.blob)
            .filter(|b| !cache.blobs.contains_key(b))
            .collect();
        todo.sort();
        todo.dedup();
        let parsed = todo.len();
        for (oid, blob) in parse_blobs(snapshot, todo)? {
            cache.blobs.insert(oid, Arc::new(blob));
        }
        let used: std::collections::HashSet<Oid> = entries.iter().map(|e| e.blob).collect();
        cache.blobs.retain(|oid, _| used.contains(oid));

        let blobs: Vec<(&Entry, Arc<Blob>)> = entries
            .iter()
            .filter_map(|e| Some((*e, Arc::clone(cache.blobs.get(&e.blob)?))))
            .collect();
        let mut index = Index {
            commit: snapshot.commit(),
            files: Vec::with_capacity(blobs.len()),
            resources: Vec::new(),
            skipped: Vec::new(),
            kustomizations: Vec::new(),
            environments: Vec::new(),
            stats: Stats {
                files: entries.len(),
                parsed,
                reused: used.len() - parsed,
                resources: 0,
            },
        };
        let patches = index.collect_kustomizations(&blobs);
        for (entry, blob) in &blobs {
            index.add_file(entry, blob, &patches);
        }
        index.stats.resources = index.resources.len();
        index.environments = super::environments::discover(snapshot, &index);
        Ok(index)
    }

    /// Records kustomize files; returns the patch files they name.
    fn collect_kustomizations(&mut self, blobs: &[(&Entry, Arc<Blob>)]) -> BTreeMap<String, String> {
        let mut patches = BTreeMap::new();
        for (entry, blob) in blobs {
            let Some(k) = &blob.kustomize else { continue };
            if k.kind.is_none() && !is_kustomization_name(&entry.path) {
                continue;
            }
            let dir = parent(&entry.path);
            for patch in &k.patches {
                if let Some(path) = join_relative(dir, patch) {
                    patches.insert(path, entry.path.clone());
                }
            }
            self.kustomizations.push(Kustomization {
                path: entry.path.clone(),
                kind: k.kind.clone().unwrap_or_else(|| "Kustomization".into()),
                namespace: k.namespace.clone(),
                resources: k.resources.clone(),
                reads: k.patches.iter().chain(&k.uses).cloned().collect(),
            });
        }
        patches
    }

    fn add_file(&mut self, entry: &Entry, blob: &Blob, patches: &BTreeMap<String, String>) {
        let path: Arc<str> = Arc::from(entry.path.as_str());
        let start = self.resources.len();
        let mut skip = |reason, detail: String| {
            self.skipped.push(Skipped {
                path: entry.path.clone(),
                reason,
                detail,
            });
        };
        let kustomization = self.kustomizations.iter().find(|k| k.path == entry.path);
        if let Some(problem) = &blob.not_text {
            skip(SkipReason::NotText, problem.clone());
        } else if let Some(k) = kustomization {
            let (reason, what) = if k.kind == "Component" {
                (SkipReason::KustomizeComponent, "kustomize component")
            } else {
                (SkipReason::Kustomization, "kustomization")
            };
            skip(
                reason,
                format!("{what} with {} resource entries", k.resources.len()),
            );
        } else if let Some(by) = patches.get(&entry.path) {
            skip(SkipReason::Patch, format!("a patch applied by {by}"));
        } else if blob.template
            && (blob.broken.is_some() || blob.resources.is_empty() || blob.templated_identity)
        {
            skip(
                SkipReason::HelmTemplate,
                "contains template expressions ({{ }})".into(),
            );
        } else if !blob.resources.is_empty() {
            self.resources.extend(blob.resources.iter().map(|meta| Resource {
                path: Arc::clone(&path),
                meta: Arc::clone(meta),
            }));
            if let Some((error, n)) = &blob.broken {
                skip(
                    SkipReason::Unparseable,
                    format!("{n} document(s) skipped, the others indexed: {error}"),
                );
            }
        } else if let Some((error, _)) = &blob.broken {
            skip(SkipReason::Unparseable, error.clone());
        } else if is_values_name(&entry.path) {
            skip(SkipReason::ValuesFile, "Helm values".into());
        } else {
            skip(
                SkipReason::NotAResource,
                "no document has apiVersion, kind and metadata.name".into(),
            );
        }
        self.files.push((path, start..self.resources.len()));
    }

    /// The commit indexed.
    pub fn commit(&self) -> Oid {
        self.commit
    }

    /// Every resource, in path order.
    pub fn resources(&self) -> &[Resource] {
        &self.resources
    }

    /// The resources of the file at `path` (none when it is not indexed).
    pub fn resources_in(&self, path: &str) -> &[Resource] {
        self.files
            .binary_search_by(|(p, _)| (**p).cmp(path))
            .map_or(&[], |i| &self.resources[self.files[i].1.clone()])
    }

    /// Resources with this identity, wherever they are.
    pub fn find<'a>(&'a self, identity: &'a Identity) -> impl Iterator<Item = &'a Resource> + 'a {
        self.resources.iter().filter(move |r| r.identity() == identity)
    }

    /// Files recorded but not indexed, in path order.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// Why `path` was skipped, if it was.
    pub fn skip_reason(&self, path: &str) -> Option<&Skipped> {
        self.skipped.iter().find(|s| s.path == path)
    }

    /// The kustomize files, in path order.
    pub fn kustomizations(&self) -> &[Kustomization] {
        &self.kustomizations
    }

    /// The kustomization at `path`.
    pub fn kustomization(&self, path: &str) -> Option<&Kustomization> {
        self.kustomizations.iter().find(|k| k.path == path)
    }

    /// The environments the repository shows (layout, Flux, Argo CD), with
    /// the roots each builds, sorted by name.
    pub fn environments(&self) -> &[Environment] {
        &self.environments
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// What the repository's layout and manifests say about how it works.
    pub fn conventions(&self) -> Conventions {
        let mut namespaces = BTreeSet::new();
        let mut namespace_files = Vec::new();
        let mut labels: BTreeMap<&str, usize> = BTreeMap::new();
        let mut operators = BTreeSet::new();
        for r in &self.resources {
            let id = r.identity();
            // A resource of the operator's group, or its CRD (`clusters.postgresql.cnpg.io`).
            let crd =
                (id.kind == "CustomResourceDefinition").then(|| id.name.split_once('.').map(|(_, g)| g));
            let group = crd.flatten().unwrap_or(id.group.as_str());
            if let Some(op) = crate::spec::OPERATORS.iter().find(|o| o.group == group) {
                operators.insert(op.group.to_string());
            }
            if !id.namespace.is_empty() {
                namespaces.insert(id.namespace.clone());
            }
            if id.kind == "Namespace" && id.group.is_empty() {
                namespaces.insert(id.name.clone());
                namespace_files.push((id.name.clone(), r.path().to_string()));
            }
            for key in r.label_keys() {
                *labels.entry(key).or_default() += 1;
            }
        }
        namespaces.extend(self.kustomizations.iter().filter_map(|k| k.namespace.clone()));
        let mut labels: Vec<(String, usize)> = labels.into_iter().map(|(k, n)| (k.to_string(), n)).collect();
        labels.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Conventions {
            environments: self.environments.iter().map(|e| e.name.clone()).collect(),
            namespaces: namespaces.into_iter().collect(),
            namespace_files,
            labels,
            resources: self.resources.len(),
            refused: self
                .skipped
                .iter()
                .filter(|s| s.reason == SkipReason::Unparseable)
                .filter(|s| {
                    [crate::limits::TOO_DEEP, crate::limits::ALIAS_BOMB]
                        .iter()
                        .any(|m| s.detail.contains(m))
                })
                .map(|s| (s.path.clone(), s.detail.clone()))
                .collect(),
            operators: operators.into_iter().collect(),
        }
    }
}

/// YAML and JSON files, and kustomize's extension-less `Kustomization`.
fn is_manifest_path(path: &str) -> bool {
    let name = file_name(path).to_ascii_lowercase();
    name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json") || name == "kustomization"
}

fn is_kustomization_name(path: &str) -> bool {
    matches!(
        file_name(path),
        "kustomization.yaml" | "kustomization.yml" | "Kustomization"
    )
}

fn is_values_name(path: &str) -> bool {
    let name = file_name(path).to_ascii_lowercase();
    let stem = name.trim_end_matches(".yaml").trim_end_matches(".yml");
    stem == "values"
        || stem.starts_with("values-")
        || stem.starts_with("values.")
        || stem.ends_with("-values")
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The directory of `path` (`""` at the root).
pub(crate) fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// `rel` (as written in a kustomization in `dir`) as a repo path; `None` when
/// it leaves the repository or is a URL.
pub(crate) fn join_relative(dir: &str, rel: &str) -> Option<String> {
    if rel.contains("://") || rel.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
    for seg in rel.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::testing::repo_with;

    const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\n  labels:\n    app.kubernetes.io/managed-by: gitintent\n    team: a\nspec: {}\n";

    fn build(files: &[(&str, &str)]) -> Index {
        let dir = tempfile::tempdir().unwrap();
        repo_with(dir.path(), "main", files, false);
        let snap = Snapshot::open_default(dir.path()).unwrap();
        Index::build(&snap, &mut IndexCache::new()).unwrap()
    }

    fn reason(index: &Index, path: &str) -> Option<SkipReason> {
        index.skip_reason(path).map(|s| s.reason)
    }

    #[test]
    fn resources_are_identified_by_group_kind_namespace_name() {
        let list = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: web}\n";
        let index = build(&[
            ("a/deploy.yaml", DEPLOY),
            ("a/list.yaml", list),
            ("b/two.yml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n# nothing\n---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: {name: src, namespace: flux-system}\n"),
            ("c/x.json", r#"{"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "app"}}"#),
        ]);
        let ids: Vec<String> = index
            .resources()
            .iter()
            .map(|r| {
                format!(
                    "{}|{}|{}|{}",
                    r.identity().group,
                    r.identity().kind,
                    r.identity().namespace,
                    r.identity().name
                )
            })
            .collect();
        assert_eq!(
            ids,
            [
                "apps|Deployment|shop|web",
                "|Service||web",
                "|Namespace||shop",
                "source.toolkit.fluxcd.io|GitRepository|flux-system|src",
                "argoproj.io|Application||app"
            ]
        );
        assert!(index.resources()[0].is_managed());
        assert!(index.skipped().is_empty(), "{:?}", index.skipped());
        let conv = index.conventions();
        assert_eq!(conv.namespaces, ["flux-system", "shop"]);
        assert!(conv.labels.contains(&("team".to_string(), 1)));
    }

    #[test]
    fn files_that_are_not_resources_are_recorded_with_a_reason() {
        let index = build(&[
            (
                "chart/templates/svc.yaml",
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ include \"x\" . }}\n",
            ),
            ("chart/values.yaml", "replicas: 2\n"),
            (
                "apps/kustomization.yaml",
                "resources:\n  - web\npatches:\n  - path: patch.yaml\n",
            ),
            ("apps/patch.yaml", DEPLOY),
            (
                "apps/comp/kustomization.yaml",
                "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n",
            ),
            ("broken.yaml", "a: [1\n"),
            ("mixed.yaml", "a: [1\n---\n"),
            ("notes.yaml", "title: hello\n"),
        ]);
        assert_eq!(
            reason(&index, "chart/templates/svc.yaml"),
            Some(SkipReason::HelmTemplate)
        );
        assert_eq!(reason(&index, "chart/values.yaml"), Some(SkipReason::ValuesFile));
        assert_eq!(
            reason(&index, "apps/kustomization.yaml"),
            Some(SkipReason::Kustomization)
        );
        assert_eq!(reason(&index, "apps/patch.yaml"), Some(SkipReason::Patch));
        assert_eq!(
            reason(&index, "apps/comp/kustomization.yaml"),
            Some(SkipReason::KustomizeComponent)
        );
        assert_eq!(reason(&index, "broken.yaml"), Some(SkipReason::Unparseable));
        assert_eq!(reason(&index, "notes.yaml"), Some(SkipReason::NotAResource));
        assert!(index.resources().is_empty());
        let k = index.kustomization("apps/kustomization.yaml").unwrap();
        assert_eq!(k.resources, ["web"]);
    }

    #[test]
    fn quoted_template_text_in_a_real_resource_is_kept() {
        let rule = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: alerts}\ndata:\n  msg: \"{{ $labels.pod }} is down\"\n";
        let index = build(&[("alerts.yaml", rule)]);
        assert_eq!(index.resources().len(), 1);
    }

    #[test]
    fn relative_paths_resolve_inside_the_repository() {
        assert_eq!(
            join_relative("apps/prod", "../base/x").as_deref(),
            Some("apps/base/x")
        );
        assert_eq!(join_relative("apps", "./web/").as_deref(), Some("apps/web"));
        assert_eq!(join_relative("apps", "../../x"), None);
        assert_eq!(join_relative("", "https://x/y"), None);
    }
}
