//! Workspace: a repository opened at a base for planning — the composition
//! the CLI (`plan --repo`, `propose`, `drift --propose`), the service (and
//! through it Slack and MCP) and the eval fixtures share.
//!
//! [`Workspace::open`] resolves the base (a branch, tag or commit; default
//! `main`, else `HEAD`), snapshots it from git objects (no checkout), indexes
//! it (reusing parsed blobs from an [`IndexCache`]) and reads its context
//! (`.gitintent.yaml`, policies, conventions, the inventory of workloads).
//! It then plans against that base ([`Workspace::plan`] for an intent,
//! [`Workspace::plan_spec`] for a given spec), diffs a plan against it
//! ([`Workspace::diff`]), folds the diff's findings into the plan
//! ([`Workspace::absorb`]), and makes a plan a commit request
//! ([`Workspace::prepare_proposal`], for `crate::propose::publish`).
//!
//! A workspace is cheap to clone and shareable between threads (the index and
//! context are behind `Arc`); git2's repository handle is not, so the snapshot
//! is reopened at the exact base commit when one is needed. It never writes
//! and never touches a working tree. A plain directory that is not a git
//! repository is not a workspace: callers read it with `Context::load`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::intent::Intent;
use crate::pipeline::{self, Context, Plan};
use crate::plan::Planner;
use crate::propose;
use crate::repo::{self, Base, Changeset, Index, IndexCache, Snapshot};
use crate::spec::Spec;

/// A repository at one base commit, ready to plan against.
#[derive(Clone)]
pub struct Workspace {
    root: PathBuf,
    base: Base,
    index: Arc<Index>,
    ctx: Arc<Context>,
}

impl std::fmt::Debug for Workspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workspace")
            .field("root", &self.root)
            .field("base", &self.base)
            .finish()
    }
}

impl Workspace {
    /// The repository at `root` at `base` (default `main`, else `HEAD`).
    pub fn open(root: &Path, base: Option<&str>, cache: &mut IndexCache) -> Result<Workspace, crate::Error> {
        let snapshot = Snapshot::open_base(root, base)?;
        Workspace::of(&snapshot, cache)
    }

    /// The repository at `root` at exactly `commit`, named `reference` (the
    /// ref the caller resolved it from, e.g. `refs/heads/main`): a base that
    /// moves meanwhile does not move the workspace.
    pub fn open_at(
        root: &Path,
        reference: &str,
        commit: &str,
        cache: &mut IndexCache,
    ) -> Result<Workspace, crate::Error> {
        let snapshot = Snapshot::open(root, commit)?.named(reference);
        Workspace::of(&snapshot, cache)
    }

    /// A workspace on an open snapshot.
    pub fn of(snapshot: &Snapshot, cache: &mut IndexCache) -> Result<Workspace, crate::Error> {
        let index = Index::build(snapshot, cache)?;
        let ctx = Context::from_snapshot(snapshot)?.with_index(snapshot, &index)?;
        Ok(Workspace {
            root: snapshot.root().to_path_buf(),
            base: snapshot.base(),
            index: Arc::new(index),
            ctx: Arc::new(ctx),
        })
    }

    /// The repository as given.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The ref and commit the workspace was read at.
    pub fn base(&self) -> &Base {
        &self.base
    }

    /// The base's resources.
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// What planning on the base reads: config, policies, conventions, inventory.
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// The planning context, shared (for a planner running on another thread).
    pub fn shared_context(&self) -> Arc<Context> {
        self.ctx.clone()
    }

    /// The snapshot of the base commit, opened again (named as the base).
    pub fn snapshot(&self) -> Result<Snapshot, repo::Error> {
        Ok(Snapshot::open(&self.root, &self.base.commit)?.named(&self.base.reference))
    }

    /// Plans `intent` against the base (`pipeline::run`).
    pub async fn plan(&self, intent: &Intent, planner: &Planner) -> Result<Plan, crate::Error> {
        pipeline::run(intent, planner, &self.ctx).await
    }

    /// Renders and checks a given `spec` against the base (`pipeline::run_spec`),
    /// as a model's reply is.
    pub fn plan_spec(&self, spec: Spec) -> Result<Plan, crate::Error> {
        pipeline::run_spec(spec, &self.ctx)
    }

    /// The plan's files and in-place edits against the base, as a changeset.
    pub fn diff(&self, plan: &Plan) -> Result<Changeset, repo::Error> {
        let snapshot = self.snapshot()?;
        repo::diff(&self.index, &snapshot, &plan.files, &plan.in_place)
    }

    /// [`Workspace::diff`], with the diff's findings (conflicts, wiring notes)
    /// folded into the plan (`Plan::absorb`), as `plan --repo` and the service show them.
    pub fn absorb(&self, plan: &mut Plan) -> Result<Changeset, repo::Error> {
        let changeset = self.diff(plan)?;
        plan.absorb(&changeset);
        Ok(changeset)
    }

    /// The plan as a commit request on the base (`propose::prepare_plan`).
    pub fn prepare_proposal(
        &self,
        plan: &Plan,
        options: &propose::Options,
    ) -> Result<propose::Prepared, crate::Error> {
        let snapshot = self.snapshot()?;
        propose::prepare_plan(&snapshot, &self.index, plan, options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::testing::repo_with;

    const INTENT: &str = "Deploy acme/checkout:2.4.0 as checkout in staging with 3 replicas";

    /// A repository whose `.gitintent.yaml` puts apps under `apps/{environment}/{name}/`.
    fn laid_out_repo() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        repo_with(
            dir.path(),
            "main",
            &[
                (".gitintent.yaml", "layout: apps/{environment}/{name}/\n"),
                ("apps/staging/.keep", ""),
            ],
            false,
        );
        dir
    }

    #[tokio::test]
    async fn plan_reads_the_base_s_layout_and_plan_spec_renders_the_same_files() {
        let dir = laid_out_repo();
        let ws = Workspace::open(dir.path(), None, &mut IndexCache::new()).unwrap();
        let intent = Intent::new(INTENT, None).unwrap();
        let plan = ws.plan(&intent, &Planner::Builtin).await.unwrap();
        assert!(!plan.has_errors(), "{:?}", plan.findings);
        let paths: Vec<&str> = plan.files.iter().map(|f| f.path.as_str()).collect();
        assert!(
            paths.iter().all(|p| p.starts_with("apps/staging/checkout/")),
            "{paths:?}"
        );

        let again = ws.plan_spec(plan.spec.clone()).unwrap();
        let again_paths: Vec<&str> = again.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(again_paths, paths);
        // Without the repository's context the default layout is used.
        let bare = pipeline::run_spec(plan.spec.clone(), &Context::default()).unwrap();
        assert_ne!(bare.files[0].path, plan.files[0].path);
    }

    #[tokio::test]
    async fn plan_spec_refuses_a_spec_that_fails_its_checks() {
        let dir = laid_out_repo();
        let ws = Workspace::open(dir.path(), Some("main"), &mut IndexCache::new()).unwrap();
        let intent = Intent::new(INTENT, None).unwrap();
        let mut spec = ws.plan(&intent, &Planner::Builtin).await.unwrap().spec;
        spec.components.clear();
        let err = ws.plan_spec(spec).unwrap_err();
        assert!(format!("{err:?}").contains("at least one component"), "{err:?}");
    }

    #[test]
    fn a_base_that_does_not_exist_is_refused() {
        let dir = laid_out_repo();
        let err = Workspace::open(dir.path(), Some("nope"), &mut IndexCache::new()).unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
    }
}
