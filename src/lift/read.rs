//! Reading manifests for lift: files and directories (`.yaml`, `.yml`,
//! `.json`, recursively, in name order) to parsed documents, under the
//! shared parse limits.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{Error, Resource};

/// A parsed document and the file it came from.
pub type Source = (String, Value);

/// Most files read from one directory tree.
const MAX_FILES: usize = 20_000;

/// Reads every manifest under `paths`; a directory is read recursively.
pub fn read_paths(paths: &[PathBuf]) -> Result<Vec<Source>, Error> {
    let mut files = Vec::new();
    for p in paths {
        collect(p, &mut files)?;
    }
    let mut out = Vec::new();
    for f in &files {
        let name = f.display().to_string();
        let text = std::fs::read_to_string(f).map_err(|source| Error::Read {
            path: name.clone(),
            source,
        })?;
        out.extend(parse(&name, &text)?);
    }
    if out.iter().all(|(_, d)| !is_resource(d)) {
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(Error::Empty(names.join(", ")));
    }
    Ok(out)
}

/// Parses one file's documents.
pub(crate) fn parse(name: &str, text: &str) -> Result<Vec<Source>, Error> {
    let docs = crate::yaml::manifest_values(text).map_err(|e| Error::Parse {
        path: name.to_string(),
        message: crate::yaml::saphyr::message(&e),
    })?;
    Ok(docs
        .into_iter()
        .filter(|d| !d.is_null())
        .map(|d| (name.to_string(), d))
        .collect())
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let read_err = |source| Error::Read {
        path: path.display().to_string(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read_err)?;
    if meta.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(read_err)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for e in entries {
        let name = e.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') || out.len() >= MAX_FILES {
            continue;
        }
        if e.is_dir() {
            collect(&e, out)?;
        } else if name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json") {
            out.push(e);
        }
    }
    Ok(())
}

/// A Kubernetes object (not a kustomization, not a values file).
pub(crate) fn is_resource(doc: &Value) -> bool {
    let kind = doc.get("kind").and_then(Value::as_str);
    let api = doc.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    kind.is_some() && !api.is_empty() && !api.starts_with("kustomize.config.k8s.io/")
}

/// `Kind/name` (or `Kind/generateName*`).
pub(crate) fn identity(doc: &Value) -> String {
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("?");
    let meta = doc.get("metadata");
    let name = meta
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| {
            meta.and_then(|m| m.get("generateName"))
                .and_then(Value::as_str)
                .map(|g| format!("{g}*"))
        })
        .unwrap_or_default();
    format!("{kind}/{name}")
}

/// The namespace most resources name, else `default`.
pub(super) fn namespace(resources: &[Resource]) -> String {
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for r in resources {
        if let Some(ns) = r.original.pointer("/metadata/namespace").and_then(Value::as_str) {
            *counts.entry(ns).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .and_then(|(ns, _)| crate::spec::sanitize_name(ns).ok())
        .unwrap_or_else(|| "default".to_string())
}
