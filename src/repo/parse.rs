//! Reading blobs for the index: what one file's bytes hold.
//!
//! [`parse_blob`] turns a blob into resource identities and labels, the
//! kustomize fields wiring needs, and parse problems; it never looks at the
//! path, so results can be cached by blob id. [`parse_blobs`] reads and
//! parses many blobs on all cores. Documents go through the same splitter and
//! parsers as `gitintent validate` (fast block-YAML path, serde-saphyr
//! fallback, JSON).

use std::sync::Arc;

use git2::Oid;

use super::index::Identity;
use super::snapshot::Snapshot;
use super::Error;
use crate::validate::{resources as parse_documents, Parsed};
use crate::yaml::parse::documents;

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
    if bytes.len() > MAX_BLOB {
        return Blob {
            not_text: Some(format!(
                "{} bytes, more than the {} MiB limit",
                bytes.len(),
                MAX_BLOB >> 20
            )),
            ..Blob::default()
        };
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Blob {
            not_text: Some("not UTF-8 text".into()),
            ..Blob::default()
        };
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
                Parsed::Object { tree, root, .. } => {
                    let str_at = |node: Option<u32>| node.and_then(|n| tree.as_str(n));
                    let api_version = str_at(tree.get(root, "apiVersion"));
                    let kind = str_at(tree.get(root, "kind"));
                    let metadata = tree.get(root, "metadata");
                    let field = |key| str_at(metadata.and_then(|m| tree.get(m, key)));
                    let kustomize = api_version.is_some_and(|v| v.starts_with("kustomize.config.k8s.io/"));
                    if kustomize || (kind.is_none() && blob.kustomize.is_none()) {
                        if blob.kustomize.is_none() {
                            let strings = |key| {
                                tree.get(root, key)
                                    .and_then(|n| tree.elements(n))
                                    .unwrap_or_default()
                                    .iter()
                                    .filter_map(|&e| tree.as_str(e).map(String::from))
                                    .collect::<Vec<_>>()
                            };
                            let mut patches = strings("patchesStrategicMerge");
                            patches.retain(|p| !p.contains('\n'));
                            for key in ["patches", "patchesJson6902"] {
                                for &p in tree
                                    .get(root, key)
                                    .and_then(|n| tree.elements(n))
                                    .unwrap_or_default()
                                {
                                    patches.extend(str_at(tree.get(p, "path")).map(String::from));
                                }
                            }
                            let mut uses: Vec<String> = [
                                "transformers",
                                "generators",
                                "validators",
                                "configurations",
                                "crds",
                            ]
                            .into_iter()
                            .flat_map(strings)
                            .filter(|s| !s.contains('\n'))
                            .collect();
                            for key in ["configMapGenerator", "secretGenerator", "replacements"] {
                                for &g in tree
                                    .get(root, key)
                                    .and_then(|n| tree.elements(n))
                                    .unwrap_or_default()
                                {
                                    for list in ["files", "envs"] {
                                        for &f in tree
                                            .get(g, list)
                                            .and_then(|n| tree.elements(n))
                                            .unwrap_or_default()
                                        {
                                            let f = str_at(Some(f)).unwrap_or_default();
                                            let file = f.split_once('=').map_or(f, |(_, p)| p);
                                            if !file.is_empty() {
                                                uses.push(file.to_string());
                                            }
                                        }
                                    }
                                    for one in ["env", "path"] {
                                        uses.extend(str_at(tree.get(g, one)).map(String::from));
                                    }
                                }
                            }
                            blob.kustomize = Some(KustomizeDoc {
                                kind: kustomize.then(|| kind.unwrap_or("Kustomization").to_string()),
                                namespace: str_at(tree.get(root, "namespace")).map(String::from),
                                // `bases` (deprecated) and `components` are built in as resources are.
                                resources: ["resources", "bases", "components"]
                                    .into_iter()
                                    .flat_map(strings)
                                    .collect(),
                                patches,
                                uses,
                            });
                        }
                        if kustomize {
                            continue;
                        }
                    }
                    let (Some(api_version), Some(kind), Some(name)) = (api_version, kind, field("name"))
                    else {
                        continue;
                    };
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
                    let identity = Identity::new(api_version, kind, namespace, name);
                    blob.templated_identity |= [api_version, kind, namespace, name]
                        .iter()
                        .any(|s| s.contains("{{"));
                    blob.resources.push(Arc::new(Meta {
                        identity,
                        api_version: api_version.to_string(),
                        managed,
                        labels: labels.keys().cloned().collect(),
                    }));
                }
            }
        }
    }
    blob
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
