//! The resources a repository declares for one environment, read from its
//! working tree.
//!
//! composition point: repo index — once `repo::Snapshot`/`Index` (reading a
//! ref straight from git objects) is on main, [`collect`] should read the
//! environment's files from it instead of walking the working tree.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::yaml_edit::split_documents;
use super::Error;
use crate::repo::RepoConfig;

/// One resource declared in Git.
#[derive(Debug, Clone, PartialEq)]
pub struct Declared {
    /// File path relative to the repository root, `/`-separated.
    pub path: String,
    /// Index of the YAML document inside the file (`---`-separated).
    pub document: usize,
    /// The namespace the resource lands in: its own `metadata.namespace`,
    /// else the outermost `kustomization.yaml` `namespace:` above it, else
    /// none (the context's default namespace, for namespaced kinds).
    pub namespace: Option<String>,
    /// The resource as written in Git.
    pub resource: Value,
}

impl Declared {
    /// `apiVersion` of the resource.
    pub fn api_version(&self) -> &str {
        str_at(&self.resource, &["apiVersion"]).unwrap_or_default()
    }
    /// `kind` of the resource.
    pub fn kind(&self) -> &str {
        str_at(&self.resource, &["kind"]).unwrap_or_default()
    }
    /// `metadata.name` of the resource.
    pub fn name(&self) -> &str {
        str_at(&self.resource, &["metadata", "name"]).unwrap_or_default()
    }
}

pub(crate) fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

/// The directories that hold an environment: `clusters/ENV/`, `apps/ENV/`,
/// and the layout's directory above `{name}` when it names the environment.
fn environment_dirs(config: &RepoConfig, environment: &str) -> Vec<String> {
    let mut dirs = vec![format!("clusters/{environment}"), format!("apps/{environment}")];
    let pattern = config.layout.trim_matches('/');
    if pattern.contains("{environment}") {
        let prefix: Vec<&str> = pattern
            .split('/')
            .take_while(|s| !s.contains("{name}") && !s.contains("{namespace}"))
            .collect();
        if prefix.iter().any(|s| s.contains("{environment}")) {
            dirs.push(prefix.join("/").replace("{environment}", environment));
        }
    }
    dirs.sort();
    dirs.dedup();
    // Keep only the outermost directories.
    let outer: Vec<String> = dirs
        .iter()
        .filter(|d| !dirs.iter().any(|o| o != *d && d.starts_with(&format!("{o}/"))))
        .cloned()
        .collect();
    outer
}

/// Collects every resource the repository at `root` declares for
/// `environment`. Kustomize files, `Secret`s and documents without
/// `apiVersion`, `kind` and `metadata.name` are skipped.
pub fn collect(root: &Path, environment: &str) -> Result<Vec<Declared>, Error> {
    let config = RepoConfig::load(root)?;
    let valid_env = !environment.is_empty()
        && environment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let dirs = environment_dirs(&config, environment);
    let existing: Vec<&String> = dirs.iter().filter(|d| root.join(d).is_dir()).collect();
    if !valid_env || existing.is_empty() {
        return Err(Error::UnknownEnvironment {
            environment: environment.to_string(),
            searched: dirs,
        });
    }
    let mut out = Vec::new();
    for dir in existing {
        let mut files = Vec::new();
        walk(&root.join(dir), &mut files)?;
        files.sort();
        for file in files {
            read_file(root, &root.join(dir), &file, &mut out)?;
        }
    }
    Ok(out)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), Error> {
    let read = |source| Error::Read {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(read)? {
        let entry = entry.map_err(read)?;
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        let kind = entry.file_type().map_err(read)?;
        if hidden || kind.is_symlink() {
            continue;
        }
        if kind.is_dir() {
            walk(&path, files)?;
        } else if matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
            files.push(path);
        }
    }
    Ok(())
}

fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn parse_one(text: &str, path: &str) -> Result<Option<Value>, Error> {
    let docs = crate::policy::parse_yaml(text).map_err(|e| Error::Yaml {
        path: path.to_string(),
        message: e.to_string(),
    })?;
    Ok(docs.into_iter().find(|d| !d.is_null()))
}

/// The namespace set by the outermost `kustomization.yaml` between the
/// environment directory and the file.
fn kustomize_namespace(env_dir: &Path, file: &Path) -> Option<String> {
    let mut dirs: Vec<&Path> = file
        .ancestors()
        .skip(1)
        .take_while(|d| d.starts_with(env_dir))
        .collect();
    dirs.reverse();
    dirs.into_iter().find_map(|d| {
        let text = std::fs::read_to_string(d.join("kustomization.yaml")).ok()?;
        let doc = parse_one(&text, "").ok()??;
        str_at(&doc, &["namespace"]).map(str::to_string)
    })
}

fn read_file(root: &Path, env_dir: &Path, file: &Path, out: &mut Vec<Declared>) -> Result<(), Error> {
    let text = std::fs::read_to_string(file).map_err(|source| Error::Read {
        path: file.to_path_buf(),
        source,
    })?;
    let path = relative(root, file);
    for (document, range) in split_documents(&text).into_iter().enumerate() {
        let Some(resource) = parse_one(&text[range], &path)? else {
            continue;
        };
        let api_version = str_at(&resource, &["apiVersion"]).unwrap_or_default();
        let kind = str_at(&resource, &["kind"]).unwrap_or_default();
        let named = str_at(&resource, &["metadata", "name"]).is_some_and(|n| !n.is_empty());
        if api_version.is_empty()
            || kind.is_empty()
            || !named
            || api_version.starts_with("kustomize.config.k8s.io/")
            || (api_version == "v1" && kind == "Secret")
        {
            continue;
        }
        let namespace = str_at(&resource, &["metadata", "namespace"])
            .map(str::to_string)
            .or_else(|| kustomize_namespace(env_dir, file));
        out.push(Declared {
            path: path.clone(),
            document,
            namespace,
            resource,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_dirs_follow_the_layout_and_conventions() {
        let config = RepoConfig::default();
        assert_eq!(
            environment_dirs(&config, "prod"),
            vec!["apps/prod".to_string(), "clusters/prod".to_string()]
        );
        let config = RepoConfig {
            layout: "envs/{environment}/{namespace}/{name}".into(),
            ..RepoConfig::default()
        };
        assert!(environment_dirs(&config, "prod").contains(&"envs/prod".to_string()));
    }

    #[test]
    fn collects_resources_with_kustomize_namespace_and_skips_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("clusters/prod/apps/web");
        std::fs::create_dir_all(&app).unwrap();
        std::fs::write(
            app.join("kustomization.yaml"),
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: shop\nresources: [all.yaml]\n",
        )
        .unwrap();
        std::fs::write(
            app.join("all.yaml"),
            "# web\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: other\n",
        )
        .unwrap();
        let got = collect(dir.path(), "prod").unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].kind(), "Service");
        assert_eq!(got[0].namespace.as_deref(), Some("shop"));
        assert_eq!(got[0].path, "clusters/prod/apps/web/all.yaml");
        assert_eq!(got[1].document, 2);
        assert_eq!(got[1].namespace.as_deref(), Some("other"));
        assert!(matches!(
            collect(dir.path(), "nope"),
            Err(Error::UnknownEnvironment { .. })
        ));
        assert!(collect(dir.path(), "../prod").is_err());
    }
}
