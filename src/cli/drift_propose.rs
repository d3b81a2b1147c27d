//! `gitintent drift --propose revert|adopt`: land the drift proposal as a normal
//! proposal — schemas and policies, a commit on a `gitintent/drift-…` branch,
//! then `--push` and `--pr` exactly as `gitintent propose` does them.
//!
//! The files come from `drift::propose`, read from the same snapshot of the
//! base (`--base`, default `main`, else HEAD) the report was built from; the
//! gate and the landing are the library's (`gitintent::drift::{gate, land}`,
//! on a `Workspace` of that commit),
//! so the working tree, the index and the base branch are never touched and
//! uncommitted edits never reach the commit. This file maps the flags onto
//! them and failures onto exit codes.

use std::path::Path;

use gitintent::drift::{self, Proposal as DriftProposal, Report};
use gitintent::finding::Finding;
use gitintent::propose::Proposal;
use gitintent::repo::{IndexCache, Snapshot};
use gitintent::Workspace;

use super::common::{error_chain, exit_code, forge_for, plan_id, publication, unpublished, PublishArgs};

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

/// Gates, commits, pushes and opens the pull request for `drifted`
/// (`gitintent::drift::{gate, land}`); the forge is checked (`--pr`) after
/// the gate and before anything is written.
pub(crate) async fn land(
    target: &Target<'_>,
    report: &Report,
    drifted: &DriftProposal,
) -> Result<Landed, Refusal> {
    let none: &[Finding] = &[];
    // The repository at the report's commit, with its context (config, policies).
    let workspace =
        Workspace::of(target.snapshot, &mut IndexCache::new()).map_err(|e| Refusal::from_error(e, none))?;
    let findings = drift::gate(&workspace, &report.environment, &drifted.files)
        .map_err(|e| Refusal::from_error(e, none))?;
    let config = &workspace.context().config;
    let forge = forge_for(config, target.repo, target.publish, &workspace.base().reference)
        .map_err(|e| Refusal::from_error(e, &findings))?;
    let landing = drift::Landing {
        plan_id: plan_id(),
        rebase: target.publish.rebase,
    };
    let publication = publication(target.publish, forge);
    match drift::land(&workspace, report, drifted, &findings, &publication, &landing).await {
        Ok(proposal) => Ok(Landed { findings, proposal }),
        Err(failed) => Err(Refusal::from_error(unpublished(*failed), &findings)),
    }
}
