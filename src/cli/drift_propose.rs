//! `gitintent drift --propose revert|adopt`: land the drift proposal as a normal
//! proposal — schemas and policies, a commit on a `gitintent/drift-…` branch,
//! then `--push` and `--pr` exactly as `gitintent propose` does them.
//!
//! The files come from `drift::propose`, read from the same snapshot of the
//! base (`--base`, default `main`, else HEAD) the report was built from; the
//! commit is built on that snapshot's commit with `gitintent::propose::commit`,
//! so the working tree, the index and the base branch are never touched and
//! uncommitted edits never reach the commit.

use std::path::Path;

use gitintent::drift::{Mode, Proposal as DriftProposal, Report};
use gitintent::finding::Finding;
use gitintent::manifest::File;
use gitintent::pipeline::{self, Context};
use gitintent::propose::{self, Author, Proposal, PullRequestRequest, Request, Trailers};
use gitintent::repo::Snapshot;
use sha2::{Digest, Sha256};

use super::common::{error_chain, exit_code, forge_for, plan_id, publish, PublishArgs};

/// What landed: the gate's findings and the branch (`None`: the base already
/// holds these files).
pub(crate) struct Landed {
    pub(crate) findings: Vec<Finding>,
    pub(crate) proposal: Option<Proposal>,
}

/// Why nothing (or only a rolled-back branch) landed, with its exit code.
pub(crate) struct Refusal {
    pub(crate) code: u8,
    pub(crate) message: String,
    pub(crate) findings: Vec<Finding>,
}

impl Refusal {
    fn from_error(error: impl Into<gitintent::Error>, findings: &[Finding]) -> Refusal {
        let error = error.into();
        Refusal {
            code: exit_code(&error),
            message: error_chain(&error),
            findings: findings.to_vec(),
        }
    }
}

/// Where and how to land a drift proposal.
pub(crate) struct Target<'a> {
    pub(crate) repo: &'a Path,
    /// The base the report and the proposal's files were read from.
    pub(crate) snapshot: &'a Snapshot,
    pub(crate) publish: &'a PublishArgs,
}

/// Gates, commits, pushes and opens the pull request for `drifted`.
pub(crate) async fn land(
    target: &Target<'_>,
    report: &Report,
    drifted: &DriftProposal,
) -> Result<Landed, Refusal> {
    let none: &[Finding] = &[];
    let snapshot = target.snapshot;
    let ctx = Context::from_snapshot(snapshot).map_err(|e| Refusal::from_error(e, none))?;
    let findings = gate(snapshot, &ctx, &report.environment, &drifted.files)
        .map_err(|e| Refusal::from_error(e, none))?;
    let forge = forge_for(&ctx.config, target.repo, target.publish, snapshot.reference())
        .map_err(|e| Refusal::from_error(e, &findings))?;
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
        repo: snapshot.root().to_path_buf(),
        base: propose::base_name(snapshot.reference()),
        base_commit: Some(snapshot.commit().to_string()),
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
            plan_id: plan_id(),
            planner: gitintent::plan::PlannerName::Drift,
            model: None,
            spec_sha256: digest,
        },
        findings: findings.clone(),
        protected: ctx.config.protected_branches.clone(),
        author: Author::from_env_or(ctx.config.author.clone()),
        committer: None,
        rebase: target.publish.rebase,
    };
    let mut proposal = match tokio::task::block_in_place(|| propose::commit(&request)) {
        Ok(p) => p,
        Err(propose::Error::NothingToChange { .. }) => {
            return Ok(Landed {
                findings,
                proposal: None,
            })
        }
        Err(e) => return Err(Refusal::from_error(e, &findings)),
    };
    let title = drifted.title.clone();
    let head = proposal.branch.clone();
    publish(target.repo, &mut proposal, target.publish, forge, |base| {
        PullRequestRequest {
            title,
            body: format!("{body}\n\nProposed by `gitintent drift --propose {mode}`."),
            head,
            base: base.to_string(),
        }
    })
    .await
    .map_err(|e| Refusal::from_error(e, &findings))?;
    Ok(Landed {
        findings,
        proposal: Some(proposal),
    })
}

/// Schemas and policies on the changed files, with the other manifests of
/// their directories (at the base) as context, so rules that look across
/// resources (a PodDisruptionBudget for a Deployment) see the whole app.
/// Only findings about the changed files (or about no file) are kept.
fn gate(
    snapshot: &Snapshot,
    ctx: &Context,
    environment: &str,
    files: &[File],
) -> Result<Vec<Finding>, gitintent::repo::Error> {
    let changed: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let mut all = files.to_vec();
    let mut dirs: Vec<&str> = changed
        .iter()
        .filter_map(|p| p.rsplit_once('/').map(|(d, _)| d))
        .collect();
    dirs.sort_unstable();
    dirs.dedup();
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
                all.push(File {
                    path: entry.path.clone(),
                    content,
                });
            }
        }
    }
    let mut findings = pipeline::check_files(&all, ctx, environment);
    findings.retain(|f| f.file.as_deref().is_none_or(|p| changed.contains(&p)));
    Ok(findings)
}
