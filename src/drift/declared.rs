//! The resources a repository declares for one environment, read from a
//! [`Source`]: a ref read from git objects (so uncommitted edits never
//! count), or a plain directory that is not a git repository.

use serde_json::Value;

use super::edit::split_documents;
use super::source::Source;
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

/// Collects every resource `source` declares for `environment`. Kustomize
/// files, `Secret`s and documents without `apiVersion`, `kind` and
/// `metadata.name` are skipped.
pub fn collect(source: &Source, environment: &str) -> Result<Vec<Declared>, Error> {
    let config = source.config()?;
    let valid_env = !environment.is_empty()
        && environment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let dirs = environment_dirs(&config, environment);
    let existing: Vec<&String> = if valid_env {
        dirs.iter().filter(|d| source.is_dir(d)).collect()
    } else {
        Vec::new()
    };
    if existing.is_empty() {
        return Err(Error::UnknownEnvironment {
            environment: environment.to_string(),
            searched: dirs,
        });
    }
    let mut out = Vec::new();
    let mut namespaces = Namespaces::new();
    for dir in existing {
        for file in source.yaml_files_under(dir)? {
            read_file(source, dir, &file, &mut namespaces, &mut out)?;
        }
    }
    Ok(out)
}

fn parse_one(text: &str, path: &str) -> Result<Option<Value>, Error> {
    let docs = crate::yaml::manifest_values(text).map_err(|e| Error::Yaml {
        path: path.to_string(),
        message: crate::yaml::saphyr::message(&e),
    })?;
    Ok(docs.into_iter().find(|d| !d.is_null()))
}

/// `namespace:` of each directory's `kustomization.yaml`, read once per directory.
type Namespaces = std::collections::HashMap<String, Option<String>>;

/// The namespace set by the outermost `kustomization.yaml` between the
/// environment directory and the file.
fn kustomize_namespace(source: &Source, env_dir: &str, file: &str, known: &mut Namespaces) -> Option<String> {
    let parent = file.rsplit_once('/').map(|(d, _)| d)?;
    let rest = parent.strip_prefix(env_dir)?;
    let mut dir = env_dir.to_string();
    let mut dirs = vec![dir.clone()];
    for seg in rest.split('/').filter(|s| !s.is_empty()) {
        dir = format!("{dir}/{seg}");
        dirs.push(dir.clone());
    }
    dirs.into_iter().find_map(|d| {
        known
            .entry(d)
            .or_insert_with_key(|d| {
                let text = source.read(&format!("{d}/kustomization.yaml")).ok()??;
                let doc = parse_one(&text, "").ok()??;
                str_at(&doc, &["namespace"]).map(str::to_string)
            })
            .clone()
    })
}

fn read_file(
    source: &Source,
    env_dir: &str,
    path: &str,
    namespaces: &mut Namespaces,
    out: &mut Vec<Declared>,
) -> Result<(), Error> {
    let Some(text) = source.read(path)? else {
        return Ok(());
    };
    for (document, range) in split_documents(&text).into_iter().enumerate() {
        let Some(resource) = parse_one(&text[range], path)? else {
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
            .or_else(|| kustomize_namespace(source, env_dir, path, namespaces));
        out.push(Declared {
            path: path.to_string(),
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
        let source = Source::open(dir.path(), None).unwrap();
        let got = collect(&source, "prod").unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].kind(), "Service");
        assert_eq!(got[0].namespace.as_deref(), Some("shop"));
        assert_eq!(got[0].path, "clusters/prod/apps/web/all.yaml");
        assert_eq!(got[1].document, 2);
        assert_eq!(got[1].namespace.as_deref(), Some("other"));
        assert!(matches!(
            collect(&source, "nope"),
            Err(Error::UnknownEnvironment { .. })
        ));
        assert!(collect(&source, "../prod").is_err());
    }
}
