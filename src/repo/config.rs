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
    /// Environments this repo deploys to; empty allows any.
    #[serde(default)]
    pub environments: Vec<String>,
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
    pub author: Option<crate::propose::Author>,
    /// Where `propose --pr` opens pull requests; inferred from the remote URL when absent.
    #[serde(default)]
    pub forge: Option<crate::propose::ForgeConfig>,
}

fn default_layout() -> String {
    "clusters/{environment}/apps/{name}/".to_string()
}

impl Default for RepoConfig {
    fn default() -> Self {
        RepoConfig {
            layout: default_layout(),
            environments: Vec::new(),
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
            crate::limits::yaml_typed(text).map_err(|e| Error::Config {
                path: path.to_path_buf(),
                message: crate::limits::yaml_message(&e),
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

    /// What the policy gate needs to know of this repo, for one environment.
    pub fn policy_settings(&self, environment: &str) -> crate::policy::Settings {
        let defaults = crate::policy::Settings::default();
        crate::policy::Settings {
            required_labels: self.required_labels.clone(),
            allowed_registries: self.allowed_registries.clone(),
            environment: environment.to_string(),
            namespaces: if self.policy_namespaces.is_empty() {
                defaults.namespaces
            } else {
                self.policy_namespaces.clone()
            },
        }
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
    fn policy_keys_become_settings() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(".gitintent.yaml"),
            "required-labels: [team, cost-center]\nallowed-registries: [ghcr.io/acme]\npolicy-namespaces: [main, org.rules]\n",
        )
        .unwrap();
        let settings = RepoConfig::load(dir.path())
            .unwrap()
            .policy_settings("production");
        assert_eq!(settings.required_labels, ["team", "cost-center"]);
        assert_eq!(settings.allowed_registries, ["ghcr.io/acme"]);
        assert_eq!(settings.namespaces, ["main", "org.rules"]);
        assert!(settings.is_production());
        let defaults = RepoConfig::default().policy_settings("dev");
        assert_eq!(defaults.namespaces, ["main"]);
    }

    #[test]
    fn unknown_config_keys_are_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".gitintent.yaml"), "layot: x/{name}\n").unwrap();
        let err = RepoConfig::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("layot"), "{err}");
    }
}
