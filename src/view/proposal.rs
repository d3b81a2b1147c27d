//! The proposal views: what `POST /v1/plans/{id}/proposal` answers and what
//! a plan's `proposal` field holds (`propose::Proposal` plus `pr_url`, and
//! `pushed_reason` when the branch was not pushed).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What happened to the proposal branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BranchStatus {
    /// A new branch.
    Created,
    /// The branch existed and moved.
    Updated,
    /// The branch already held exactly these files on this base.
    Unchanged,
}

/// Added/modified files and line counts between the base and the proposal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = DiffStats)]
pub struct DiffStatsView {
    pub files_added: usize,
    pub files_modified: usize,
    pub insertions: usize,
    pub deletions: usize,
}

/// An opened (or found) pull request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = PullRequest)]
pub struct PullRequestView {
    /// GitHub's number or GitLab's `iid`.
    pub number: u64,
    /// The web page of the request.
    pub url: String,
    /// True when it already existed.
    pub existing: bool,
}

/// A plan's proposal: the branch, its commit, the push and the pull request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = Proposal)]
pub struct ProposalView {
    pub branch: String,
    pub commit: String,
    pub status: BranchStatus,
    /// The base branch name.
    pub base: String,
    /// The base commit the proposal sits on.
    pub base_commit: String,
    pub stats: DiffStatsView,
    pub pushed: bool,
    pub pull_request: Option<PullRequestView>,
    /// The pull request's URL (a convenience of the API; null without one).
    pub pr_url: Option<String>,
    /// Why the branch was not pushed; absent when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub pushed_reason: Option<String>,
}

impl From<&crate::propose::Proposal> for ProposalView {
    fn from(p: &crate::propose::Proposal) -> ProposalView {
        use crate::propose::Status as S;
        let pull_request = p.pull_request.as_ref().map(|pr| PullRequestView {
            number: pr.number,
            url: pr.url.clone(),
            existing: pr.existing,
        });
        ProposalView {
            branch: p.branch.clone(),
            commit: p.commit.clone(),
            status: match p.status {
                S::Created => BranchStatus::Created,
                S::Updated => BranchStatus::Updated,
                S::Unchanged => BranchStatus::Unchanged,
            },
            base: p.base.clone(),
            base_commit: p.base_commit.clone(),
            stats: DiffStatsView {
                files_added: p.stats.files_added,
                files_modified: p.stats.files_modified,
                insertions: p.stats.insertions,
                deletions: p.stats.deletions,
            },
            pushed: p.pushed,
            pr_url: pull_request.as_ref().map(|pr| pr.url.clone()),
            pull_request,
            pushed_reason: None,
        }
    }
}

/// The `201` of `POST /v1/plans/{id}/proposal` (and the MCP `propose` tool).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = ProposalResult)]
pub struct ProposalResultView {
    pub id: String,
    /// Always `proposed`.
    pub status: super::Status,
    pub proposal: ProposalView,
}
