//! The service as the Slack front end's [`SlackBackend`]: the slash command
//! plans, proposes, reads plans and reads drift (`super::drift::read`) through exactly the code paths the HTTP
//! API uses (admission, store, audit, metrics, per-repository locks), and
//! its deferred work is tracked so graceful shutdown drains it.
//!
//! The Slack router has already checked the user's or channel's grant
//! before calling here, so the backend acts with a caller named
//! `slack:<user id>` (the requester recorded in the store) that has every
//! right; the grant check is the router's.

use std::future::Future;

use super::api::{load_plan, submit};
use super::auth::Caller;
use super::error::ApiError;
use super::proposal::propose_plan;
use super::state::AppState;
use super::store::{PlanRecord, Status};
use crate::grant::{Grant, Right};
use crate::slack::{BackendError, ChangeStatus, PlanSummary, ProposalSummary, Requester, SlackBackend};
use crate::view;

/// [`AppState`] seen from the Slack router.
pub(crate) struct Backend(pub(crate) AppState);

fn caller(requester: &Requester) -> Caller {
    Caller::new(
        &requester.audit_name(),
        Grant::everything(&[Right::Plan, Right::Propose]),
    )
}

fn system() -> Caller {
    Caller::new("slack", Grant::everything(&[]))
}

/// API errors as the Slack front end classifies them; 5xx details stay in the log.
fn backend_error(e: &ApiError) -> BackendError {
    match e.status.as_u16() {
        404 => BackendError::NotFound(e.message.clone()),
        403 | 409 | 429 => BackendError::Refused(e.message.clone()),
        400..=499 => BackendError::Invalid(e.message.clone()),
        _ => BackendError::Internal(format!("{}: {}", e.code, e.message)),
    }
}

fn summary(r: &PlanRecord) -> Result<PlanSummary, BackendError> {
    let unfinished = |message: String| BackendError::Unfinished {
        repo: r.repo.clone(),
        environment: r.environment.clone(),
        message,
    };
    if r.status == Status::Pending {
        return Err(unfinished(format!(
            "plan {} is still being planned; try again in a moment",
            r.id
        )));
    }
    if r.status == Status::Failed {
        let message = r.error.as_ref().map_or("planning failed", |e| e.message.as_str());
        return Err(unfinished(format!("plan {} failed: {message}", r.id)));
    }
    let view = super::work::view(r);
    let plan = view
        .to_plan()
        .ok_or_else(|| BackendError::Internal(format!("plan {} is unreadable", r.id)))?;
    let mut s = PlanSummary::from_plan(&r.id, &r.repo, &plan);
    // Real statuses against the base branch (wiring edits and deletions included).
    if r.changes.is_some() {
        s.files = view
            .changes
            .iter()
            .map(|c| crate::slack::FileChange {
                path: c.path.clone(),
                status: match c.status {
                    view::ChangeStatus::Added => ChangeStatus::Added,
                    view::ChangeStatus::Modified => ChangeStatus::Modified,
                    view::ChangeStatus::Deleted => ChangeStatus::Deleted,
                    view::ChangeStatus::Unchanged => ChangeStatus::Unchanged,
                },
            })
            .collect();
    }
    s.proposal = view.proposal.as_ref().map(proposal_summary);
    Ok(s)
}

fn proposal_summary(p: &view::ProposalView) -> ProposalSummary {
    ProposalSummary {
        branch: p.branch.clone(),
        commit: p.commit.clone(),
        pr_url: p.pr_url.clone(),
    }
}

impl SlackBackend for Backend {
    fn plan(
        &self,
        requester: Requester,
        intent: String,
        repo: String,
        env: Option<String>,
    ) -> impl Future<Output = Result<PlanSummary, BackendError>> + Send {
        let state = self.0.clone();
        async move {
            let (_, task) = submit(
                &state,
                caller(&requester),
                &intent,
                &repo,
                env.as_deref(),
                None,
                None,
            )
            .await
            .map_err(|e| backend_error(&e))?;
            let record = task
                .await
                .map_err(|e| BackendError::Internal(format!("planning task: {e}")))?;
            if record.status == Status::Failed {
                if let Err(e) = super::api::respond_with(&record) {
                    return Err(backend_error(&e));
                }
            }
            summary(&record)
        }
    }

    fn propose(
        &self,
        requester: Requester,
        plan_id: String,
    ) -> impl Future<Output = Result<ProposalSummary, BackendError>> + Send {
        let state = self.0.clone();
        async move {
            let proposal = propose_plan(&state, &caller(&requester), &plan_id)
                .await
                .map_err(|e| backend_error(&e))?;
            Ok(proposal_summary(&proposal))
        }
    }

    fn status(&self, plan_id: String) -> impl Future<Output = Result<PlanSummary, BackendError>> + Send {
        let state = self.0.clone();
        async move {
            let record = load_plan(&state, &system(), &plan_id)
                .await
                .map_err(|e| backend_error(&e))?;
            summary(&record)
        }
    }

    fn drift(
        &self,
        requester: Requester,
        repo: String,
        env: String,
    ) -> impl Future<Output = Result<crate::drift::Report, BackendError>> + Send {
        let state = self.0.clone();
        async move {
            super::drift::read(&state, &caller(&requester), &repo, &env)
                .await
                .map_err(|e| match e.status.as_u16() {
                    // A cluster that cannot be reached or is too slow: say so plainly.
                    502 | 504 => BackendError::Refused(e.message.clone()),
                    _ => backend_error(&e),
                })
        }
    }

    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let guard = self.0.tasks.start();
        tokio::spawn(async move {
            task.await;
            drop(guard);
        });
    }
}
