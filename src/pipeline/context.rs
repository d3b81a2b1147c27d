//! The [`Context`]: what the repository contributes to a plan, and its loading
//! from a working tree ([`Context::load`]) or from git objects
//! ([`Context::from_snapshot`], [`Context::with_index`]).
//!
//! It reads `.gitintent.yaml` and the policy directories and builds the
//! inventory; it does not plan, render or validate.

use std::sync::LazyLock;

use crate::change::Inventory;
use crate::policy::PolicySet;
use crate::repo::{Conventions, Index, Layout, RepoConfig, Snapshot};
use crate::Result;

/// The built-in policy pack, compiled once per process.
static BUILTIN: LazyLock<PolicySet> =
    LazyLock::new(|| PolicySet::builtin().expect("the built-in policy pack compiles"));

/// What the repository contributes to a plan.
#[derive(Debug, Clone)]
pub struct Context {
    pub layout: Layout,
    pub config: RepoConfig,
    /// The built-in pack plus the repository's own policies.
    pub policies: PolicySet,
    /// What the repository's layout and manifests show (empty without a repository).
    pub conventions: Conventions,
    /// The workloads the repository holds, for day-2 changes and the planner
    /// (empty without a repository at a ref).
    pub inventory: std::sync::Arc<Inventory>,
}

impl Default for Context {
    fn default() -> Self {
        Context {
            layout: Layout::default(),
            config: RepoConfig::default(),
            policies: BUILTIN.clone(),
            conventions: Conventions::default(),
            inventory: Default::default(),
        }
    }
}

impl Context {
    /// Checks a repo config into a context.
    pub fn new(config: RepoConfig) -> Result<Context, crate::repo::Error> {
        let layout = config.layout().map_err(|message| crate::repo::Error::Config {
            path: ".gitintent.yaml".into(),
            message,
        })?;
        Ok(Context {
            layout,
            config,
            policies: BUILTIN.clone(),
            conventions: Conventions::default(),
            inventory: Default::default(),
        })
    }

    /// Like [`Context::load`], but from git objects at `snapshot`'s commit:
    /// `.gitintent.yaml`, the policy directories, and the environments the
    /// layout shows (add the index's namespaces and labels with
    /// [`Context::with_conventions`]).
    pub fn from_snapshot(snapshot: &Snapshot) -> Result<Context> {
        let config = match snapshot.read(".gitintent.yaml")? {
            Some(text) => RepoConfig::parse(&text, std::path::Path::new(".gitintent.yaml"))?,
            None => RepoConfig::default(),
        };
        let mut ctx = Context::new(config)?;
        for dir in ctx.policy_dirs() {
            let dir = dir.trim_end_matches('/');
            crate::repo::join_inside(std::path::Path::new(""), dir)?;
            if !snapshot.is_dir(dir) {
                if ctx.config.policies.is_empty() {
                    continue;
                }
                return Err(crate::repo::Error::NotADirectory(snapshot.root().join(dir)).into());
            }
            ctx.policies = policies_under(ctx.policies, snapshot, dir)?;
        }
        ctx.conventions = Conventions::from_layout(snapshot);
        Ok(ctx)
    }

    /// The policy directories `.gitintent.yaml` names (`policies:`), or
    /// `policies` when it names none.
    fn policy_dirs(&self) -> Vec<String> {
        if self.config.policies.is_empty() {
            vec!["policies".to_string()]
        } else {
            self.config.policies.clone()
        }
    }

    /// The same context, with conventions learnt from an index.
    pub fn with_conventions(mut self, conventions: Conventions) -> Context {
        self.conventions = conventions;
        self
    }

    /// The same context, with what `index` (of `snapshot`) shows: conventions,
    /// and the inventory of workloads that day-2 changes resolve against.
    pub fn with_index(self, snapshot: &Snapshot, index: &Index) -> Result<Context> {
        let conventions = index.conventions();
        // `.gitintent.yaml` wins; otherwise the layout, Flux and Argo CD objects.
        let environments = crate::repo::select_environments(
            snapshot,
            index.environments(),
            &self.config.environments.with_roots(),
        );
        let inventory = Inventory::build_with(snapshot, index, &environments)?;
        let mut ctx = self.with_conventions(conventions);
        ctx.inventory = std::sync::Arc::new(inventory);
        Ok(ctx)
    }

    /// Reads `.gitintent.yaml` and the repository's policy directories
    /// (`policies:`, default `policies/` when it exists) from `root`.
    pub fn load(root: &std::path::Path) -> Result<Context> {
        let mut ctx = Context::new(RepoConfig::load(root)?)?;
        for dir in ctx.policy_dirs() {
            let path = crate::repo::join_inside(root, dir.trim_end_matches('/'))?;
            if path.is_dir() || path.is_file() {
                ctx.policies = ctx.policies.with_path(&path)?;
            } else if !ctx.config.policies.is_empty() {
                return Err(crate::repo::Error::NotADirectory(path).into());
            }
        }
        Ok(ctx)
    }
}

/// `policies` plus those under `dir` at `snapshot`'s commit: `.rego` (not
/// `_test.rego`) and YAML files, skipping hidden files and directories.
fn policies_under(mut policies: PolicySet, snapshot: &Snapshot, dir: &str) -> Result<PolicySet> {
    for entry in snapshot.files_under(dir) {
        let rel = &entry.path[dir.len() + 1..];
        let name = rel.rsplit('/').next().unwrap_or(rel);
        let policy = (name.ends_with(".rego") && !name.ends_with("_test.rego"))
            || name.ends_with(".yaml")
            || name.ends_with(".yml");
        if !policy || rel.split('/').any(|seg| seg.starts_with('.')) {
            continue;
        }
        let text = snapshot
            .read(&entry.path)?
            .ok_or_else(|| crate::repo::Error::NotText(entry.path.clone()))?;
        policies = policies.with_source(&entry.path, &text)?;
    }
    Ok(policies)
}
