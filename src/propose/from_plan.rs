//! The composition every front end shares: a [`Plan`] diffed against the repository's
//! base, committed as a proposal, and described as a pull request.
//!
//! The caller opens the [`Snapshot`] and builds the [`Index`] (the service keeps an
//! `IndexCache`), plans with `Context::from_snapshot`, and hands all three here.

use crate::finding::Finding;
use crate::pipeline::Plan;
use crate::repo::{self, Changeset, Index, Snapshot};

use super::{Author, Proposal, PullRequestRequest, Request, Trailers};

/// How to commit a plan.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The branch; default `gitintent/<slug>-<hash>`.
    pub branch: Option<String>,
    /// Rebuild a branch proposed on an older base.
    pub rebase: bool,
    /// Recorded as the `Gitintent-Plan-Id` trailer (the store's id, or a random one).
    pub plan_id: String,
    /// Author and committer; `None` uses git config.
    pub author: Option<Author>,
    /// Protected branch globs (usually `RepoConfig::protected_branches`).
    pub protected: Vec<String>,
}

/// A plan made a commit request, with what it was diffed into.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// What [`super::commit`] (or [`super::publish`]) needs.
    pub request: Request,
    pub changeset: Changeset,
    /// The plan's findings plus the diff's (conflicts, wiring notes), errors first.
    pub findings: Vec<Finding>,
    /// The commit subject and pull request title.
    pub summary: String,
}

/// A committed plan, with what it was diffed into.
#[derive(Debug, Clone)]
pub struct Committed {
    pub proposal: Proposal,
    pub changeset: Changeset,
    /// The plan's findings plus the diff's (conflicts, wiring notes), errors first.
    pub findings: Vec<Finding>,
    /// The commit subject and pull request title.
    pub summary: String,
}

/// Diffs `plan` against `snapshot` and makes the commit request for the
/// changeset (files, wiring edits, deletions) on top of the snapshot's commit.
///
/// A plan identical to the base is [`super::Error::NothingToChange`] (unless it
/// has error findings, which [`super::commit`] refuses with their count).
pub fn prepare_plan(
    snapshot: &Snapshot,
    index: &Index,
    plan: &Plan,
    options: &Options,
) -> Result<Prepared, crate::Error> {
    let changeset = repo::diff(index, snapshot, &plan.files, &plan.in_place)?;
    let mut findings = plan.findings.clone();
    findings.extend(changeset.findings.iter().cloned());
    crate::finding::sort(&mut findings);
    let base = base_name(snapshot.reference());
    let summary = super::summary(&plan.spec);
    let request = Request {
        repo: snapshot.root().to_path_buf(),
        base: base.clone(),
        base_commit: Some(snapshot.commit().to_string()),
        branch: options.branch.clone(),
        files: changeset.files(),
        delete: changeset.deleted(),
        summary: summary.clone(),
        intent: with_reach(&plan.intent, &plan.operations),
        trailers: Trailers {
            plan_id: options.plan_id.clone(),
            planner: plan.planner,
            model: plan.model.clone(),
            spec_sha256: super::spec_sha256(&plan.spec),
        },
        findings: findings.clone(),
        protected: options.protected.clone(),
        author: options.author.clone(),
        committer: None,
        rebase: options.rebase,
    };
    if changeset.is_noop() && !crate::finding::has_errors(&findings) {
        return Err(super::Error::NothingToChange { base }.into());
    }
    Ok(Prepared {
        request,
        changeset,
        findings,
        summary,
    })
}

/// [`prepare_plan`], then [`super::commit`]; see there for the rules.
/// Error findings, including conflicts found by the diff, are [`super::Error::Findings`].
pub fn commit_plan(
    snapshot: &Snapshot,
    index: &Index,
    plan: &Plan,
    options: &Options,
) -> Result<Committed, crate::Error> {
    let Prepared {
        request,
        changeset,
        findings,
        summary,
    } = prepare_plan(snapshot, index, plan, options)?;
    let proposal = super::commit(&request)?;
    Ok(Committed {
        proposal,
        changeset,
        findings,
        summary,
    })
}

impl Committed {
    /// The pull request for this proposal into `base` (a branch name on the forge).
    pub fn pull_request(&self, plan: &Plan, base: &str) -> PullRequestRequest {
        pull_request(plan, &self.summary, &self.findings, &self.proposal, base)
    }
}

impl Prepared {
    /// The pull request for `proposal` (this request, committed) into `base`.
    pub fn pull_request(&self, plan: &Plan, proposal: &Proposal, base: &str) -> PullRequestRequest {
        pull_request(plan, &self.summary, &self.findings, proposal, base)
    }
}

fn pull_request(
    plan: &Plan,
    summary: &str,
    findings: &[Finding],
    proposal: &Proposal,
    base: &str,
) -> PullRequestRequest {
    PullRequestRequest {
        title: summary.to_string(),
        body: super::body(
            &plan.intent,
            &plan.spec,
            &plan.operations,
            findings,
            &proposal.stats,
        ),
        head: proposal.branch.clone(),
        base: base.to_string(),
    }
}

/// The commit message body: the intent, then the environments each change
/// reaches (`Reach:` and one line per change), when there are changes.
pub fn with_reach(intent: &str, operations: &[crate::change::Applied]) -> String {
    if operations.is_empty() {
        return intent.to_string();
    }
    let mut out = format!("{}\n\nReach:", intent.trim());
    for op in operations {
        let reach = op.reach_label();
        out.push_str(&format!(
            "\n- {} {}: {reach} ({})",
            op.operation,
            op.target,
            op.paths.join(", ")
        ));
    }
    out
}

/// `refs/heads/main` → `main`; `refs/remotes/origin/main` → `origin/main`.
pub fn base_name(reference: &str) -> String {
    reference
        .strip_prefix("refs/heads/")
        .or_else(|| reference.strip_prefix("refs/remotes/"))
        .unwrap_or(reference)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_names_drop_the_ref_namespace() {
        assert_eq!(base_name("refs/heads/main"), "main");
        assert_eq!(base_name("refs/remotes/origin/main"), "origin/main");
        assert_eq!(base_name("v1.2"), "v1.2");
    }
}
