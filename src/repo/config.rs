//! `.gitintent.yaml`: how a GitOps repository wants its manifests laid out.

use serde::Deserialize;
use std::path::Path;

use super::Error;

/// The repo's own configuration, read from `.gitintent.yaml` at its root.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RepoConfig {
    /// Where an app's files go; `{environment}`, `{namespace}` and `{name}`
    /// are substituted. Default `clusters/{environment}/apps/{name}/`.
    #[serde(default = "default_layout")]
    pub layout: String,
    /// Environments this repo deploys to; empty allows any. A list of
    /// names, or a map of name → the paths (Kustomize roots) its build
    /// starts from, which then decide each change's reach.
    #[serde(default)]
    pub environments: Environments,
    /// The environment used when the intent names none.
    #[serde(default)]
    pub default_environment: Option<String>,
    /// Labels every resource must carry, added by the renderer.
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
    /// Directories of the repo's own policies (used by the policy gate).
    #[serde(default)]
    pub policies: Vec<String>,
    /// Label keys every resource must carry (policy rule `required-labels`).
    #[serde(default)]
    pub required_labels: Vec<String>,
    /// Registries (or `registry/path` prefixes) images must come from;
    /// empty allows any (policy rule `allowed-registries`).
    #[serde(default)]
    pub allowed_registries: Vec<String>,
    /// Rego packages of the repo's own policies that are evaluated;
    /// default `main`, as conftest.
    #[serde(default)]
    pub policy_namespaces: Vec<String>,
    /// Branches `propose` must never write (globs: `*` within a segment, `**` across);
    /// `main`, `master` and the base are always protected.
    #[serde(default)]
    pub protected_branches: Vec<String>,
    /// Author and committer of proposals; `GITINTENT_AUTHOR_NAME`/`_EMAIL` override it,
    /// git config `user.name`/`user.email` is the fallback.
    #[serde(default)]
    pub author: Option<super::Author>,
    /// Where `propose --pr` opens pull requests; inferred from the remote URL when absent.
    #[serde(default)]
    pub forge: Option<super::ForgeConfig>,
}

fn default_layout() -> String {
    "clusters/{environment}/apps/{name}/".to_string()
}

impl Default for RepoConfig {
    fn default() -> Self {
        RepoConfig {
            layout: default_layout(),
            environments: Environments::default(),
            default_environment: None,
            labels: Default::default(),
            policies: Vec::new(),
            required_labels: Vec::new(),
            allowed_registries: Vec::new(),
            policy_namespaces: Vec::new(),
            protected_branches: Vec::new(),
            author: None,
            forge: None,
        }
    }
}

/// `environments:` of `.gitintent.yaml`: names in order, each with the
/// roots the file gives it (none for the list form). Dereferences to the names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environments {
    names: Vec<String>,
    roots: Vec<Vec<String>>,
}

impl Environments {
    /// Each environment with its configured roots (empty: not given).
    pub fn with_roots(&self) -> Vec<(String, Vec<String>)> {
        self.names
            .iter()
            .cloned()
            .zip(self.roots.iter().cloned())
            .collect()
    }
}

impl std::ops::Deref for Environments {
    type Target = Vec<String>;
    fn deref(&self) -> &Vec<String> {
        &self.names
    }
}

impl From<Vec<String>> for Environments {
    fn from(names: Vec<String>) -> Self {
        let roots = vec![Vec::new(); names.len()];
        Environments { names, roots }
    }
}

impl<'de> Deserialize<'de> for Environments {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(EnvironmentsVisitor)
    }
}

struct EnvironmentsVisitor;

/// One environment's paths: a string or a list of strings.
#[derive(Deserialize)]
#[serde(untagged)]
enum Paths {
    One(String),
    Many(Vec<String>),
}

impl<'de> serde::de::Visitor<'de> for EnvironmentsVisitor {
    type Value = Environments;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of environment names, or a map of environment name to a list of paths")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Environments, A::Error> {
        let mut names = Vec::new();
        while let Some(name) = seq.next_element::<String>()? {
            names.push(name);
        }
        Ok(names.into())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Environments, A::Error> {
        let mut out = Environments::default();
        while let Some(name) = map.next_key::<String>()? {
            let paths = match map.next_value::<Paths>() {
                Ok(Paths::One(p)) => vec![p],
                Ok(Paths::Many(p)) => p,
                Err(_) => {
                    return Err(serde::de::Error::custom(format!(
                        "environments.{name} must be a path or a list of paths"
                    )))
                }
            };
            let mut roots = Vec::new();
            for p in paths {
                roots.push(root_path(&p).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "environments.{name}: {p:?} is not a plain relative path inside the repository"
                    ))
                })?);
            }
            if roots.is_empty() {
                return Err(serde::de::Error::custom(format!(
                    "environments.{name} lists no paths"
                )));
            }
            if out.names.contains(&name) {
                return Err(serde::de::Error::custom(format!(
                    "environments.{name} is given twice"
                )));
            }
            out.names.push(name);
            out.roots.push(roots);
        }
        Ok(out)
    }
}

/// A configured root as a repository path (`.` and `./` are the root):
/// relative, no `..`, not into `.git`.
fn root_path(p: &str) -> Option<String> {
    let p = p.trim();
    if p.starts_with('/') || p.contains('\\') {
        return None;
    }
    let mut segs = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => return None,
            s if s.eq_ignore_ascii_case(".git") => return None,
            s => segs.push(s),
        }
    }
    Some(segs.join("/"))
}

/// A checked layout pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pattern: String,
}

impl Layout {
    /// Checks a pattern: relative, no `..`, no `.git`, and it must contain `{name}`.
    pub fn new(pattern: &str) -> Result<Layout, String> {
        let trimmed = pattern.trim_matches('/');
        if trimmed.is_empty() || pattern.starts_with('/') || pattern.contains('\\') {
            return Err(format!("layout {pattern:?} must be a relative path"));
        }
        if trimmed
            .split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == "..")
        {
            return Err(format!(
                "layout {pattern:?} must not contain empty, '.' or '..' segments"
            ));
        }
        if trimmed.split('/').any(|seg| seg.eq_ignore_ascii_case(".git")) {
            return Err(format!(
                "layout {pattern:?} reaches into .git; gitintent never writes there"
            ));
        }
        if !trimmed.contains("{name}") {
            return Err(format!("layout {pattern:?} must contain {{name}}"));
        }
        let known = ["{environment}", "{namespace}", "{name}"];
        let mut rest = trimmed.to_string();
        for k in known {
            rest = rest.replace(k, "");
        }
        if rest.contains('{') || rest.contains('}') {
            return Err(format!(
                "layout {pattern:?} uses an unknown placeholder; known: {}",
                known.join(", ")
            ));
        }
        Ok(Layout {
            pattern: trimmed.to_string(),
        })
    }

    /// The directory for one app. Every value must already be a DNS-1123
    /// label (the spec checks guarantee it), so the result cannot escape.
    pub fn directory(&self, environment: &str, namespace: &str, name: &str) -> String {
        self.pattern
            .replace("{environment}", environment)
            .replace("{namespace}", namespace)
            .replace("{name}", name)
    }
}

impl Default for Layout {
    fn default() -> Self {
        Layout::new(&default_layout()).expect("default layout is valid")
    }
}

impl RepoConfig {
    /// Reads `.gitintent.yaml` from `root`; a missing file gives the defaults.
    pub fn load(root: &Path) -> Result<RepoConfig, Error> {
        if !root.is_dir() {
            return Err(Error::NotADirectory(root.to_path_buf()));
        }
        let path = root.join(".gitintent.yaml");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(RepoConfig::default()),
            Err(source) => return Err(Error::Read { path, source }),
        };
        RepoConfig::parse(&text, &path)
    }

    /// Parses the text of `.gitintent.yaml` (read from `path`, for messages).
    pub fn parse(text: &str, path: &Path) -> Result<RepoConfig, Error> {
        let config: RepoConfig = if text.trim().is_empty() {
            RepoConfig::default()
        } else {
            crate::yaml::saphyr::typed(text).map_err(|e| Error::Config {
                path: path.to_path_buf(),
                message: crate::yaml::saphyr::message(&e),
            })?
        };
        config.layout().map_err(|message| Error::Config {
            path: path.to_path_buf(),
            message,
        })?;
        Ok(config)
    }

    /// The checked layout.
    pub fn layout(&self) -> Result<Layout, String> {
        Layout::new(&self.layout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_that_could_escape_are_refused() {
        for bad in [
            "../{name}",
            "/abs/{name}",
            "apps/{nme}",
            "apps",
            "a//{name}",
            "a/./{name}",
            ".git/hooks/{name}/",
            "apps/.GIT/{name}",
        ] {
            assert!(Layout::new(bad).is_err(), "{bad:?}");
        }
        let l = Layout::new("apps/{environment}/{name}/").unwrap();
        assert_eq!(l.directory("prod", "default", "redis"), "apps/prod/redis");
    }

    #[test]
    fn environments_are_a_list_of_names_or_a_map_of_paths() {
        let at = Path::new(".gitintent.yaml");
        let list = RepoConfig::parse("environments: [qa, prod-us]\n", at).unwrap();
        assert_eq!(*list.environments, ["qa", "prod-us"]);
        assert_eq!(list.environments.with_roots()[0], ("qa".to_string(), vec![]));
        let map = RepoConfig::parse(
            "environments:\n  staging-eu: [envs/staging-eu/, ./extra]\n  qa: envs/qa\n  all: .\n",
            at,
        )
        .unwrap();
        assert_eq!(
            map.environments.with_roots(),
            [
                (
                    "staging-eu".to_string(),
                    vec!["envs/staging-eu".to_string(), "extra".to_string()]
                ),
                ("qa".to_string(), vec!["envs/qa".to_string()]),
                ("all".to_string(), vec![String::new()]),
            ]
        );
        for (bad, says) in [
            (
                "environments:\n  qa: ../elsewhere\n",
                "environments.qa: \"../elsewhere\"",
            ),
            ("environments:\n  qa: [/etc]\n", "not a plain relative path"),
            (
                "environments:\n  qa: {a: b}\n",
                "environments.qa must be a path or a list of paths",
            ),
            ("environments:\n  qa: []\n", "environments.qa lists no paths"),
        ] {
            let err = RepoConfig::parse(bad, at).unwrap_err().to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn unknown_config_keys_are_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".gitintent.yaml"), "layot: x/{name}\n").unwrap();
        let err = RepoConfig::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("layot"), "{err}");
    }
}
