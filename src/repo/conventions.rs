//! Conventions learnt from a repository: environments, namespaces, labels.
//!
//! Environments by the layout come from directory names alone (`clusters/*`,
//! `environments/*`, `envs/*`, `overlays/*`, and `apps/*` entries that are
//! environment-like), so [`environments`] needs only a [`Snapshot`] (Flux
//! and Argo CD objects add more in `environments.rs`);
//! namespaces and labels come from the [`super::Index`]
//! ([`super::Index::conventions`]). [`Conventions::review`]
//! turns them into findings for a spec. The repository's `.gitintent.yaml`
//! always wins: when it lists environments, the learnt ones are not consulted.

use serde::Serialize;

use super::environments::Environment;
use super::snapshot::Snapshot;
use super::RepoConfig;
use crate::finding::{Finding, Severity};
use crate::spec::Spec;

/// Directories whose children are environments.
const ENV_ROOTS: [&str; 5] = ["clusters", "environments", "envs", "env", "overlays"];
/// Directories whose children may be environments or apps.
const MIXED_ROOTS: [&str; 1] = ["apps"];
/// Names that say "environment" wherever they appear.
pub(crate) const ENV_WORDS: [&str; 12] = [
    "production",
    "prod",
    "staging",
    "stage",
    "dev",
    "development",
    "qa",
    "test",
    "testing",
    "sandbox",
    "preview",
    "uat",
];
/// Children of an environment root that are not environments.
const NOT_ENVS: [&str; 6] = ["base", "bases", "common", "components", "shared", "templates"];

/// What a repository's layout and manifests show about how it is organised.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Conventions {
    /// Environment directories found, sorted.
    pub environments: Vec<String>,
    /// Namespaces set by manifests, Namespace objects or kustomizations, sorted.
    pub namespaces: Vec<String>,
    /// Namespace objects: (name, file), in path order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub namespace_files: Vec<(String, String)>,
    /// Label keys in use, with how many resources carry each; most used first.
    pub labels: Vec<(String, usize)>,
    /// Resources indexed (the denominator of `labels`).
    pub resources: usize,
    /// Files the index refused past `crate::limits` (too deep, alias bombs):
    /// path and reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<(String, String)>,
    /// API groups of the data-store operators whose resources (or CRDs) the
    /// repository holds (`spec::OPERATORS`), sorted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub operators: Vec<String>,
}

/// Environment names from the directory layout of `snapshot`: the children
/// of an environment root at any depth (`overlays/staging`, and as well
/// `deploy/overlays/staging`), and environment-like children of `apps/`.
pub(crate) fn environments(snapshot: &Snapshot) -> Vec<String> {
    let mut found: Vec<String> = layout_roots(snapshot).into_iter().map(|e| e.name).collect();
    found.dedup();
    found
}

/// The layout's environments with their directories, sorted by name.
pub(crate) fn layout_roots(snapshot: &Snapshot) -> Vec<Environment> {
    let mut found: Vec<(String, String)> = Vec::new();
    let roots = snapshot.dirs().iter().filter(|d| {
        let name = d.rsplit('/').next().unwrap_or(d);
        ENV_ROOTS.contains(&name) && !d.split('/').any(|seg| seg.starts_with('.'))
    });
    for root in roots {
        found.extend(
            snapshot
                .subdirs(root)
                .filter(|d| !NOT_ENVS.contains(d) && !d.starts_with(['.', '_']))
                .map(|d| (d.to_string(), format!("{root}/{d}"))),
        );
    }
    for root in MIXED_ROOTS {
        let children: Vec<&str> = snapshot.subdirs(root).collect();
        for child in children {
            if ENV_WORDS.contains(&child) || found.iter().any(|(f, _)| f == child) {
                found.push((child.to_string(), format!("{root}/{child}")));
            }
        }
    }
    found.sort();
    found.dedup();
    let mut out: Vec<Environment> = Vec::new();
    for (name, dir) in found {
        match out.last_mut() {
            Some(last) if last.name == name => last.roots.push(dir),
            _ => out.push(Environment {
                name,
                roots: vec![dir],
            }),
        }
    }
    out
}

/// The environment a directory path is in by the layout: the first child
/// of an environment root on it (`clusters/staging/flux-system` → staging),
/// or an environment-like child of `apps/`.
pub(crate) fn env_in_path(dir: &str) -> Option<String> {
    let segs: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
    if segs.iter().any(|s| s.starts_with('.')) {
        return None;
    }
    segs.windows(2).find_map(|w| {
        let env_root = ENV_ROOTS.contains(&w[0]) && !NOT_ENVS.contains(&w[1]) && !w[1].starts_with('_');
        let mixed = MIXED_ROOTS.contains(&w[0]) && ENV_WORDS.contains(&w[1]);
        (env_root || mixed).then(|| w[1].to_string())
    })
}

impl Conventions {
    /// True when a plan should create `namespace` with its file at `file`:
    /// the repository does not use it yet, or only that file declares it
    /// (an earlier plan created it there).
    pub fn creates_namespace(&self, namespace: &str, file: &str) -> bool {
        !self.namespaces.iter().any(|n| n == namespace)
            || self
                .namespace_files
                .iter()
                .any(|(n, f)| n == namespace && f == file)
    }

    /// What the directory layout alone shows: the environments.
    pub fn from_layout(snapshot: &Snapshot) -> Conventions {
        Conventions {
            environments: environments(snapshot),
            ..Conventions::default()
        }
    }

    /// Findings for `spec` against what the repository does:
    /// - a warning when the environment is not one the repository has
    ///   (only when `.gitintent.yaml` lists no environments; when it does,
    ///   the pipeline's own check applies);
    /// - an info when the namespace is new to the repository;
    /// - an info for a label most resources carry that the plan will not set;
    /// - a warning per file refused past `crate::limits`.
    pub fn review(&self, spec: &Spec, config: &RepoConfig) -> Vec<Finding> {
        let mut out = Vec::new();
        if config.environments.is_empty()
            && !self.environments.is_empty()
            && !self.environments.contains(&spec.environment)
        {
            out.push(Finding::new(
                Severity::Warning,
                "environment-not-in-repo",
                format!("environment/{}", spec.environment),
                "/environment",
                format!(
                    "the repository has no {:?} environment (found: {}); list environments in .gitintent.yaml to make this an error",
                    spec.environment,
                    self.environments.join(", ")
                ),
            ));
        }
        if !self.namespaces.is_empty() && !self.namespaces.contains(&spec.namespace) {
            out.push(Finding::new(
                Severity::Info,
                "namespace-new",
                format!("namespace/{}", spec.namespace),
                "/namespace",
                format!(
                    "namespace {:?} is not used in the repository yet; the plan creates it (in use: {})",
                    spec.namespace,
                    shorten(&self.namespaces, 8)
                ),
            ));
        }
        out.extend(self.label_findings(config));
        for (path, reason) in &self.refused {
            out.push(
                Finding::new(
                    Severity::Warning,
                    "input-limit",
                    path.clone(),
                    "",
                    format!("not read: {reason}; plans treat the file as absent"),
                )
                .in_file(path),
            );
        }
        out
    }

    /// An info for each label most resources carry (more than half of at
    /// least 4) that is not ours and that `.gitintent.yaml` does not set.
    fn label_findings(&self, config: &RepoConfig) -> Vec<Finding> {
        let mut out = Vec::new();
        for (key, count) in &self.labels {
            let common = self.resources >= 4 && count * 2 > self.resources;
            let ours = key.starts_with("app.kubernetes.io/") || key.starts_with("gitintent.io/");
            if common && !ours && !config.labels.contains_key(key) {
                out.push(Finding::new(
                    Severity::Info,
                    "label-convention",
                    format!("label/{key}"),
                    "",
                    format!(
                        "{count} of {} resources in the repository carry label {key:?}; add it under labels: in .gitintent.yaml to follow suit",
                        self.resources
                    ),
                ));
            }
        }
        out
    }
}

fn shorten(items: &[String], n: usize) -> String {
    let mut s = items.iter().take(n).cloned().collect::<Vec<_>>().join(", ");
    if items.len() > n {
        s.push_str(&format!(" and {} more", items.len() - n));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::testing::repo_with;

    #[test]
    fn environments_come_from_the_layout() {
        let dir = tempfile::tempdir().unwrap();
        repo_with(
            dir.path(),
            "main",
            &[
                ("clusters/production/a.yaml", ""),
                ("clusters/staging/a.yaml", ""),
                ("apps/base/podinfo/a.yaml", ""),
                ("apps/staging/a.yaml", ""),
                ("apps/podinfo/a.yaml", ""),
                ("overlays/dev/a.yaml", ""),
            ],
            false,
        );
        let snap = Snapshot::open_default(dir.path()).unwrap();
        assert_eq!(environments(&snap), ["dev", "production", "staging"]);
    }

    /// podinfo keeps its overlays under `deploy/`; nested roots count too,
    /// hidden directories do not.
    #[test]
    fn environment_roots_are_found_at_any_depth() {
        let dir = tempfile::tempdir().unwrap();
        repo_with(
            dir.path(),
            "main",
            &[
                ("deploy/bases/backend/a.yaml", ""),
                ("deploy/overlays/dev/kustomization.yaml", ""),
                ("deploy/overlays/staging-eu/kustomization.yaml", ""),
                ("platform/envs/prod-us/kustomization.yaml", ""),
                (".github/overlays/ci/a.yaml", ""),
            ],
            false,
        );
        let snap = Snapshot::open_default(dir.path()).unwrap();
        assert_eq!(environments(&snap), ["dev", "prod-us", "staging-eu"]);
    }
}
