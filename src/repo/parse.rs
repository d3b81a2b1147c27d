//! Reading blobs for the index: what one file's bytes hold.
//!
//! [`parse_blob`] turns a blob into resource identities and labels, the
//! kustomize fields wiring needs, and parse problems; it never looks at the
//! path, so results can be cached by blob id. [`parse_blobs`] reads and
//! parses many blobs on all cores. Documents go through the same splitter and
//! parsers as `gitintent validate` (`yaml::resources`: fast block-YAML path,
//! serde-saphyr fallback, JSON; `List`s expanded).

use std::sync::Arc;

use git2::Oid;

use super::index::Identity;
use super::snapshot::Snapshot;
use super::Error;
use crate::yaml::parse::documents;
use crate::yaml::resources::{resources as parse_documents, Parsed};
use crate::yaml::tree::Tree;

/// Blobs bigger than this are recorded as skipped, not parsed.
const MAX_BLOB: usize = 16 << 20;

/// One resource's identity and labels.
#[derive(Debug)]
pub(super) struct Meta {
    pub(super) identity: Identity,
    pub(super) api_version: String,
    pub(super) managed: bool,
    pub(super) labels: Vec<String>,
}

/// What one blob holds; independent of its path, so it can be cached by id.
#[derive(Debug, Default)]
pub(super) struct Blob {
    pub(super) resources: Vec<Arc<Meta>>,
    pub(super) kustomize: Option<KustomizeDoc>,
    /// The first parse error, and how many documents failed.
    pub(super) broken: Option<(String, usize)>,
    /// Contains `{{`.
    pub(super) template: bool,
    /// Not UTF-8 or too big.
    pub(super) not_text: Option<String>,
    /// A string identity field contains `{{`.
    pub(super) templated_identity: bool,
}

#[derive(Debug, Default)]
pub(super) struct KustomizeDoc {
    /// `Kustomization`/`Component` from a kustomize apiVersion; `None` when
    /// the document has no kind (only a `kustomization.yaml` name makes it one).
    pub(super) kind: Option<String>,
    pub(super) namespace: Option<String>,
    pub(super) resources: Vec<String>,
    pub(super) patches: Vec<String>,
    /// Other files the build reads: transformers, generators, generator
    /// `files`/`envs`, replacements, configurations, CRDs.
    pub(super) uses: Vec<String>,
}

/// Reads and parses `todo` on all cores.
pub(super) fn parse_blobs(snapshot: &Snapshot, todo: Vec<Oid>) -> Result<Vec<(Oid, Blob)>, Error> {
    let parsed = snapshot.map_blobs(&todo, parse_blob)?;
    Ok(todo.into_iter().zip(parsed).collect())
}

/// Everything the index needs from one blob.
pub(super) fn parse_blob(bytes: &[u8]) -> Blob {
    let text = match text_of(bytes) {
        Ok(text) => text,
        Err(not_text) => {
            return Blob {
                not_text: Some(not_text),
                ..Blob::default()
            }
        }
    };
    let mut blob = Blob {
        template: text.contains("{{"),
        ..Blob::default()
    };
    for doc in documents(text, text) {
        for parsed in parse_documents(doc) {
            match parsed {
                Parsed::Broken(message) => {
                    if message.starts_with("not a Kubernetes resource") {
                        continue;
                    }
                    let broken = blob.broken.get_or_insert((message, 0));
                    broken.1 += 1;
                }
                Parsed::Object { tree, root, .. } => add_object(&mut blob, &tree, root),
            }
        }
    }
    blob
}

/// The blob as text, or why it is not read: too big, or not UTF-8.
fn text_of(bytes: &[u8]) -> Result<&str, String> {
    if bytes.len() > MAX_BLOB {
        return Err(format!(
            "{} bytes, more than the {} MiB limit",
            bytes.len(),
            MAX_BLOB >> 20
        ));
    }
    std::str::from_utf8(bytes).map_err(|_| "not UTF-8 text".into())
}

/// Records one object of the blob: its kustomize fields when it is the
/// blob's first kustomization (or kind-less document), else its identity.
fn add_object(blob: &mut Blob, tree: &Tree<'_>, root: u32) {
    let api_version = str_at(tree, tree.get(root, "apiVersion"));
    let kind = str_at(tree, tree.get(root, "kind"));
    let kustomize = api_version.is_some_and(|v| v.starts_with("kustomize.config.k8s.io/"));
    if kustomize || (kind.is_none() && blob.kustomize.is_none()) {
        if blob.kustomize.is_none() {
            blob.kustomize = Some(kustomize_doc(
                tree,
                root,
                kustomize.then(|| kind.unwrap_or("Kustomization")),
            ));
        }
        if kustomize {
            return;
        }
    }
    let (Some(api_version), Some(kind)) = (api_version, kind) else {
        return;
    };
    if let Some(meta) = meta(tree, root, api_version, kind) {
        let id = &meta.identity;
        blob.templated_identity |= [api_version, kind, id.namespace.as_str(), id.name.as_str()]
            .iter()
            .any(|s| s.contains("{{"));
        blob.resources.push(Arc::new(meta));
    }
}

/// The string at `node`, if it is one.
fn str_at<'t>(tree: &'t Tree<'_>, node: Option<u32>) -> Option<&'t str> {
    node.and_then(|n| tree.as_str(n))
}

/// The strings of the list at `key` of `node` (anything else in it left out).
fn strings(tree: &Tree<'_>, node: u32, key: &str) -> Vec<String> {
    elements(tree, node, key)
        .iter()
        .filter_map(|&e| tree.as_str(e).map(String::from))
        .collect()
}

/// The elements of the list at `key` of `node`; none when it is not a list.
fn elements<'t>(tree: &'t Tree<'_>, node: u32, key: &str) -> &'t [u32] {
    tree.get(node, key)
        .and_then(|n| tree.elements(n))
        .unwrap_or_default()
}

/// The kustomize fields wiring needs from a kustomization at `root`; `kind`
/// is `Some` when it has a kustomize apiVersion.
fn kustomize_doc(tree: &Tree<'_>, root: u32, kind: Option<&str>) -> KustomizeDoc {
    KustomizeDoc {
        kind: kind.map(String::from),
        namespace: str_at(tree, tree.get(root, "namespace")).map(String::from),
        // `bases` (deprecated) and `components` are built in as resources are.
        resources: ["resources", "bases", "components"]
            .into_iter()
            .flat_map(|key| strings(tree, root, key))
            .collect(),
        patches: patch_files(tree, root),
        uses: used_files(tree, root),
    }
}

/// The patch files a kustomization names: `patchesStrategicMerge` entries
/// that are paths (not inline patches), and the `path` of `patches` and
/// `patchesJson6902` entries.
fn patch_files(tree: &Tree<'_>, root: u32) -> Vec<String> {
    let mut patches = strings(tree, root, "patchesStrategicMerge");
    patches.retain(|p| !p.contains('\n'));
    for key in ["patches", "patchesJson6902"] {
        for &p in elements(tree, root, key) {
            patches.extend(str_at(tree, tree.get(p, "path")).map(String::from));
        }
    }
    patches
}

/// Other files the build reads: transformers, generators, validators,
/// configurations, CRDs, and the `files`/`envs`/`env`/`path` of generators
/// and replacements.
fn used_files(tree: &Tree<'_>, root: u32) -> Vec<String> {
    let mut uses: Vec<String> = [
        "transformers",
        "generators",
        "validators",
        "configurations",
        "crds",
    ]
    .into_iter()
    .flat_map(|key| strings(tree, root, key))
    .filter(|s| !s.contains('\n'))
    .collect();
    for key in ["configMapGenerator", "secretGenerator", "replacements"] {
        for &g in elements(tree, root, key) {
            for list in ["files", "envs"] {
                for &f in elements(tree, g, list) {
                    let f = str_at(tree, Some(f)).unwrap_or_default();
                    let file = f.split_once('=').map_or(f, |(_, p)| p);
                    if !file.is_empty() {
                        uses.push(file.to_string());
                    }
                }
            }
            for one in ["env", "path"] {
                uses.extend(str_at(tree, tree.get(g, one)).map(String::from));
            }
        }
    }
    uses
}

/// The identity and labels of the resource at `root`; `None` without a name.
fn meta(tree: &Tree<'_>, root: u32, api_version: &str, kind: &str) -> Option<Meta> {
    let metadata = tree.get(root, "metadata");
    let field = |key| str_at(tree, metadata.and_then(|m| tree.get(m, key)));
    let name = field("name")?;
    let namespace = field("namespace").unwrap_or("");
    let labels = metadata.and_then(|m| tree.get(m, "labels"));
    let labels = match labels.map(|l| tree.to_value(l)) {
        Some(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    let managed = labels
        .get("app.kubernetes.io/managed-by")
        .and_then(|v| v.as_str())
        == Some("gitintent");
    Some(Meta {
        identity: Identity::new(api_version, kind, namespace, name),
        api_version: api_version.to_string(),
        managed,
        labels: labels.keys().cloned().collect(),
    })
}

/// Every resource document of `text` as JSON values (`kind: List`
/// expanded); documents that do not parse are left out.
pub(crate) fn values(text: &str) -> Vec<serde_json::Value> {
    documents(text, text)
        .into_iter()
        .flat_map(parse_documents)
        .filter_map(|p| match p {
            Parsed::Object { tree, root, .. } => Some(tree.to_value(root)),
            Parsed::Broken(_) => None,
        })
        .collect()
}
