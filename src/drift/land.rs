//! Gate and land a drift proposal ([`super::propose`]'s files) as a normal
//! proposal: schemas and policies on the changed files ([`gate`]), then a
//! commit on a `gitintent/drift-<mode>-<env>-<hash>` branch built on the
//! commit the report was read from, a push and a pull request, through
//! `crate::propose::publish` ([`land`]). Both read the repository as a
//! [`Workspace`] on that commit (its context: config, policies).
//!
//! The working tree, the index and the base branch are never touched, so
//! uncommitted edits never reach the commit. What it does not do: decide
//! whether to push or open a pull request, or check a forge's token (the
//! caller hands a checked [`Publish`]), or print anything.

use sha2::{Digest, Sha256};

use super::{Mode, Proposal as Drifted, Report};
use crate::finding::Finding;
use crate::manifest::File;
use crate::pipeline;
use crate::propose::{self, Author, Proposal, Publish, PullRequestRequest, Request, Trailers, Unpublished};
use crate::repo::Snapshot;
use crate::workspace::Workspace;

/// How to commit a drift proposal.
#[derive(Debug, Clone, Default)]
pub struct Landing {
    /// Recorded as the `Gitintent-Plan-Id` trailer.
    pub plan_id: String,
    /// Rebuild a branch proposed on an older base.
    pub rebase: bool,
}

/// Schemas and policies on the changed files, with the other manifests of
/// their directories (at the base) as context, so rules that look across
/// resources (a PodDisruptionBudget for a Deployment) see the whole app.
/// Only findings about the changed files (or about no file) are kept.
pub fn gate(
    workspace: &Workspace,
    environment: &str,
    files: &[File],
) -> Result<Vec<Finding>, crate::repo::Error> {
    let changed: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let mut all = files.to_vec();
    all.extend(neighbours(&workspace.snapshot()?, &changed)?);
    let mut findings = pipeline::check_files(&all, workspace.context(), environment);
    findings.retain(|f| f.file.as_deref().is_none_or(|p| changed.contains(&p)));
    Ok(findings)
}

/// The manifests at the base beside the `changed` files (same directory, not
/// a kustomization, not itself changed).
fn neighbours(snapshot: &Snapshot, changed: &[&str]) -> Result<Vec<File>, crate::repo::Error> {
    let mut dirs: Vec<&str> = changed
        .iter()
        .filter_map(|p| p.rsplit_once('/').map(|(d, _)| d))
        .collect();
    dirs.sort_unstable();
    dirs.dedup();
    let mut out = Vec::new();
    for dir in dirs {
        for entry in snapshot.files_under(dir) {
            let rest = &entry.path[dir.len() + 1..];
            let manifest = (rest.ends_with(".yaml") || rest.ends_with(".yml"))
                && !rest.contains('/')
                && rest != "kustomization.yaml"
                && rest != "kustomization.yml";
            if !manifest || changed.contains(&entry.path.as_str()) {
                continue;
            }
            if let Some(content) = snapshot.read(&entry.path)? {
                out.push(File {
                    path: entry.path.clone(),
                    content,
                });
            }
        }
    }
    Ok(out)
}

/// Commits `drifted` (gated into `findings`, which refuse it when any is an
/// error) on the workspace's base commit and publishes it. `Ok(None)`: the
/// base already holds these files.
pub async fn land(
    workspace: &Workspace,
    report: &Report,
    drifted: &Drifted,
    findings: &[Finding],
    publish: &Publish,
    landing: &Landing,
) -> Result<Option<Proposal>, Box<Unpublished>> {
    let report_json = serde_json::to_vec(report).unwrap_or_default();
    let digest = hex::encode(Sha256::digest(&report_json));
    let mode = match drifted.mode {
        Mode::Revert => "revert",
        Mode::Adopt => "adopt",
    };
    let body = drifted
        .message
        .strip_prefix(drifted.title.as_str())
        .unwrap_or(&drifted.message)
        .trim()
        .to_string();
    let request = Request {
        repo: workspace.root().to_path_buf(),
        base: propose::base_name(&workspace.base().reference),
        base_commit: Some(workspace.base().commit.clone()),
        branch: Some(format!(
            "gitintent/drift-{mode}-{}-{}",
            report.environment,
            &digest[..8]
        )),
        files: drifted.files.clone(),
        delete: Vec::new(),
        summary: drifted.title.clone(),
        intent: body.clone(),
        trailers: Trailers {
            plan_id: landing.plan_id.clone(),
            planner: crate::plan::PlannerName::Drift,
            model: None,
            spec_sha256: digest,
        },
        findings: findings.to_vec(),
        protected: workspace.context().config.protected_branches.clone(),
        author: Author::from_env_or(workspace.context().config.author.clone()),
        committer: None,
        rebase: landing.rebase,
    };
    let title = drifted.title.clone();
    let published = propose::publish(request, publish, |proposal, base| PullRequestRequest {
        title,
        body: format!("{body}\n\nProposed by `gitintent drift --propose {mode}`."),
        head: proposal.branch.clone(),
        base: base.to_string(),
    })
    .await;
    match published {
        Ok(proposal) => Ok(Some(proposal)),
        Err(failed) if matches!(failed.error, propose::Error::NothingToChange { .. }) => Ok(None),
        Err(failed) => Err(failed),
    }
}
