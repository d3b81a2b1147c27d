//! Publish: the one composition of a proposal's git and forge work that the
//! CLI (`propose`, `drift --propose`) and the service (`POST /v1/plans/{id}/proposal`)
//! share — commit, push with a lease, roll the local branch back when the push
//! fails, then open the pull request.
//!
//! It is split in two halves because the service holds its repository locks
//! only around the git work: [`commit_and_push`] (blocking, under the caller's
//! locks) and [`open_pull_request_for`] (async, after them). [`publish`] runs
//! both for callers that hold no lock.
//!
//! What it does not do: decide *whether* to push or open a pull request (the
//! caller's flags or configuration, handed in as [`Publish`]), check a forge's
//! configuration and token (the caller does that with `ForgeConfig::ready`
//! before anything is written), or print anything: a branch left behind by a
//! failed rollback and the step that failed are in [`Unpublished`].

use super::{
    commit, open_pull_request, push, rollback, Error, ForgeConfig, Proposal, PullRequestRequest, PushOptions,
    Request,
};

/// Where a committed proposal goes after the commit.
#[derive(Debug, Clone, Default)]
pub struct Publish {
    /// Push the branch with these options; `None` commits only. The lease is
    /// always the branch's value before this commit ([`Proposal::previous`]),
    /// whatever `lease` says: with `force`, someone else's commits are never overwritten.
    pub push: Option<PushOptions>,
    /// Open a pull request after a push, with this forge and its token.
    pub forge: Option<(ForgeConfig, String)>,
}

/// The step a publication failed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Nothing was written (or only unreachable objects).
    Commit,
    /// The push failed; the local branch was rolled back unless `left_behind` says otherwise.
    Push,
    /// The branch is committed and pushed; only the pull request failed.
    PullRequest,
}

/// Why a proposal was not (fully) published.
#[derive(Debug)]
pub struct Unpublished {
    pub error: Error,
    pub step: Step,
    /// The branch, once committed.
    pub branch: Option<String>,
    /// After a failed push: why the local branch could not be rolled back (it is left behind).
    pub left_behind: Option<Error>,
}

impl Unpublished {
    fn at(step: Step, error: Error, branch: Option<&str>) -> Box<Unpublished> {
        Box::new(Unpublished {
            error,
            step,
            branch: branch.map(String::from),
            left_behind: None,
        })
    }
}

/// Commits `request` and, with `push`, pushes the branch all or nothing: a
/// failed push rolls the local branch back, so the branch only stays when the
/// push landed (`proposal.pushed`). Blocking (git2).
pub fn commit_and_push(
    request: &Request,
    push_to: Option<&PushOptions>,
) -> Result<Proposal, Box<Unpublished>> {
    let mut proposal = commit(request).map_err(|e| Unpublished::at(Step::Commit, e, None))?;
    let Some(options) = push_to else {
        return Ok(proposal);
    };
    let options = PushOptions {
        lease: proposal.previous.clone(),
        ..options.clone()
    };
    if let Err(error) = push(&request.repo, &proposal.branch, &options) {
        let left_behind = rollback(&request.repo, &proposal).err();
        let mut failed = Unpublished::at(Step::Push, error, Some(&proposal.branch));
        failed.left_behind = left_behind;
        return Err(failed);
    }
    proposal.pushed = true;
    Ok(proposal)
}

/// Opens the pull request of a pushed proposal (`proposal.pull_request` is set);
/// a proposal that was not pushed is left as it is. `pull_request` builds the
/// request from the forge's name of the base ([`forge_base`]).
pub async fn open_pull_request_for(
    proposal: &mut Proposal,
    (forge, token): &(ForgeConfig, String),
    remote: &str,
    pull_request: impl FnOnce(&Proposal, &str) -> PullRequestRequest,
) -> Result<(), Box<Unpublished>> {
    if !proposal.pushed {
        return Ok(());
    }
    let request = pull_request(proposal, &forge_base(&proposal.base, remote));
    match open_pull_request(forge, token, &request).await {
        Ok(opened) => {
            proposal.pull_request = Some(opened);
            Ok(())
        }
        Err(e) => Err(Unpublished::at(Step::PullRequest, e, Some(&proposal.branch))),
    }
}

/// [`commit_and_push`] on a blocking thread, then [`open_pull_request_for`].
pub async fn publish(
    request: Request,
    publish: &Publish,
    pull_request: impl FnOnce(&Proposal, &str) -> PullRequestRequest,
) -> Result<Proposal, Box<Unpublished>> {
    let push_to = publish.push.clone();
    let landed = tokio::task::spawn_blocking(move || commit_and_push(&request, push_to.as_ref())).await;
    let mut proposal = match landed {
        Ok(landed) => landed?,
        Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
        Err(_) => {
            let cancelled = git2::Error::from_str("the runtime shut down before the commit finished");
            return Err(Unpublished::at(
                Step::Commit,
                Error::git("commit the proposal")(cancelled),
                None,
            ));
        }
    };
    if let Some(forge) = &publish.forge {
        let remote = publish
            .push
            .as_ref()
            .map(|p| p.remote.as_str())
            .unwrap_or_default();
        open_pull_request_for(&mut proposal, forge, remote, pull_request).await?;
    }
    Ok(proposal)
}

/// The forge's name of a proposal's base: `origin/main` pushed to `origin` → `main`.
pub fn forge_base(base: &str, remote: &str) -> String {
    base.strip_prefix(&format!("{remote}/"))
        .unwrap_or(base)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forge_names_the_base_without_the_remote() {
        assert_eq!(forge_base("origin/main", "origin"), "main");
        assert_eq!(forge_base("main", "origin"), "main");
        assert_eq!(forge_base("main", "https://example.com/gitops.git"), "main");
        assert_eq!(forge_base("upstream/main", "origin"), "upstream/main");
    }
}
