//! `POST /v1/plans/{id}/proposal`: turn a stored plan into a branch, a push
//! and (with a forge) a pull request, once.
//!
//! Refusals come first and are precise: `403` without the propose right for
//! the plan's environment, `409` when the plan is pending, failed, has error
//! findings, changes nothing, or was already proposed. The plan then moves
//! atomically from `planned` to `proposing` (so two concurrent requests
//! cannot both propose). The git work is `crate::propose` (commit from the
//! base tree plus new blobs on `gitintent/…`, CAS ref update, push, rollback
//! of the branch when the push fails), run under the repository lock on a
//! blocking thread; the pull request is opened afterwards. The result is
//! stored with an audit event. A failed attempt puts the plan back to
//! `planned`, and a retry is safe: the same files on the same base are
//! `unchanged`, not a second commit.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use tokio::sync::OwnedMutexGuard;

use super::api::{blocking, load_plan};
use super::auth::Caller;
use super::error::ApiError;
use super::repos::{RepoState, Repository};
use super::state::AppState;
use super::store::{now_ms, AuditEvent, PlanRecord, Status, Store};
use super::work;
use crate::finding::Finding;
use crate::manifest::File;
use crate::pipeline::Context;
use crate::propose::{self, Author, Credentials, PullRequestRequest, PushOptions, Request, Trailers};
use crate::spec::Spec;
use crate::view::{ChangeStatus, CommitFiles, ProposalResultView, ProposalView};

pub(crate) async fn propose(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let proposal = propose_plan(&state, &caller, &id).await?;
    let body = ProposalResultView {
        id,
        status: Status::Proposed,
        proposal,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Proposes stored plan `id` for `caller`; the stored proposal.
pub(crate) async fn propose_plan(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<ProposalView, ApiError> {
    let record = load_plan(state, caller, id).await?;
    let env = record.environment.clone().unwrap_or_default();
    if !caller.may_propose(&record.repo, &env) {
        refused(state, caller, &record.id, "forbidden").await;
        return Err(ApiError::forbidden(format!(
            "{:?} may not propose to environment {env:?} of repository {:?}",
            caller.name, record.repo
        )));
    }
    if let Some((code, message)) = refusal(&record) {
        refused(state, caller, &record.id, code).await;
        return Err(ApiError::conflict(code, message).with_details(json!({
            "plan_id": record.id, "status": record.status.as_str(), "proposal": record.proposal,
        })));
    }
    let Some(repo) = state.repos.get(&record.repo) else {
        return Err(ApiError::conflict(
            "repo_not_configured",
            format!("repository {:?} is no longer configured", record.repo),
        ));
    };
    claim(state, &record).await?;
    let guard = state.tasks.start();
    let outcome = make(state, &repo, &record).await;
    drop(guard);
    match outcome {
        Ok(proposal) => record_proposal(state, caller, &record, proposal).await,
        Err(e) => {
            release(state, caller, &record, &e).await;
            Err(e)
        }
    }
}

/// Why a plan the caller may propose cannot be proposed in its state: the
/// error code and message; `None` when it can.
fn refusal(record: &PlanRecord) -> Option<(&'static str, String)> {
    let nothing_to_change = record
        .changes
        .as_ref()
        .is_some_and(|c| c.iter().all(|c| c.status == ChangeStatus::Unchanged));
    match record.status {
        Status::Pending => Some((
            "plan_pending",
            "the plan is still being planned; poll it and retry".to_string(),
        )),
        Status::Failed => Some((
            "plan_failed",
            "the plan failed; there is nothing to propose".to_string(),
        )),
        Status::Proposing | Status::Proposed => Some((
            "already_proposed",
            format!("plan {} was already proposed", record.id),
        )),
        Status::Planned if work::has_errors(record) => Some((
            "plan_has_errors",
            "the plan has error findings; fix the intent and plan again".to_string(),
        )),
        Status::Planned if nothing_to_change => Some((
            "nothing_to_change",
            "the base branch already holds exactly this plan".to_string(),
        )),
        Status::Planned => None,
    }
}

/// Counts and audits a refused proposal (`reason` is the refusal's code).
async fn refused(state: &AppState, caller: &Caller, plan: &str, reason: &str) {
    state.metrics.proposal("refused");
    audit(
        state,
        caller,
        plan,
        "proposal.refused",
        json!({ "reason": reason }),
    )
    .await;
}

/// Moves the plan from `planned` to `proposing`, so that one request at a
/// time proposes it; `409` when another got there first.
async fn claim(state: &AppState, record: &PlanRecord) -> Result<(), ApiError> {
    let store = state.store.clone();
    let key = record.id.clone();
    if blocking(move || store.transition(&key, Status::Planned, Status::Proposing)).await? {
        return Ok(());
    }
    state.metrics.proposal("refused");
    Err(ApiError::conflict(
        "already_proposed",
        format!("plan {} is being or was already proposed", record.id),
    ))
}

/// Stores the plan as `proposed` with its proposal and the audit event.
async fn record_proposal(
    state: &AppState,
    caller: &Caller,
    record: &PlanRecord,
    proposal: ProposalView,
) -> Result<ProposalView, ApiError> {
    let mut updated = record.clone();
    updated.updated_ms = now_ms();
    updated.status = Status::Proposed;
    updated.proposal = Some(proposal.clone());
    let store = state.store.clone();
    let detail = serde_json::to_value(&proposal).unwrap_or_default();
    let event = event(caller, &record.id, "proposal.created", &detail);
    if let Err(e) = blocking(move || store.save(&updated, &event)).await {
        // Pushed but not recorded: the lease lapses and recovery puts the
        // plan back to `planned`; proposing again finds the same branch.
        state.store.forget(&record.id);
        return Err(e);
    }
    state.metrics.proposal("created");
    Ok(proposal)
}

/// After a failed attempt: the plan back to `planned`, counted and audited.
async fn release(state: &AppState, caller: &Caller, record: &PlanRecord, e: &ApiError) {
    let store = state.store.clone();
    let key = record.id.clone();
    let _ = blocking(move || store.transition(&key, Status::Proposing, Status::Planned)).await;
    state.metrics.proposal(if e.status.is_server_error() {
        "failed"
    } else {
        "refused"
    });
    audit(
        state,
        caller,
        &record.id,
        "proposal.failed",
        json!({"code": e.code}),
    )
    .await;
}

fn event(caller: &Caller, plan: &str, event: &str, detail: &Value) -> AuditEvent {
    AuditEvent {
        event: event.into(),
        actor: caller.name.clone(),
        plan_id: Some(plan.into()),
        detail: detail.to_string(),
        at_ms: now_ms(),
    }
}

async fn audit(state: &AppState, caller: &Caller, plan: &str, name: &str, detail: Value) {
    let store = state.store.clone();
    let event = event(caller, plan, name, &detail);
    if let Err(e) = blocking(move || store.append_audit(&event)).await {
        tracing::error!("audit event lost: {}", e.message);
    }
}

/// What a stored plan gives a proposal.
struct Input {
    spec: Spec,
    findings: Vec<Finding>,
    files: Vec<File>,
    delete: Vec<String>,
    base_commit: String,
    /// What each change of an existing workload does and reaches (the PR body).
    operations: Vec<crate::change::Applied>,
    planner: crate::plan::PlannerName,
}

fn input(record: &PlanRecord) -> Result<Input, ApiError> {
    let corrupt = |what: &str| {
        ApiError::internal(
            "reading a stored plan",
            &std::io::Error::other(format!("plan {} has no usable {what}", record.id)),
        )
    };
    let spec = record.spec.clone().ok_or_else(|| corrupt("spec"))?;
    let findings = record.findings.clone().ok_or_else(|| corrupt("findings"))?;
    let CommitFiles {
        files,
        delete,
        operations,
    } = record.commit_files.clone().ok_or_else(|| corrupt("files"))?;
    let base_commit = record
        .base
        .as_ref()
        .ok_or_else(|| corrupt("base"))?
        .commit
        .clone();
    let planner = record.planner.ok_or_else(|| corrupt("planner"))?;
    Ok(Input {
        spec,
        findings,
        files,
        delete,
        base_commit,
        operations,
        planner,
    })
}

/// Commit and push under the repository lock (this replica's, then the
/// store's across replicas), then the pull request.
async fn make(
    state: &AppState,
    repo: &Arc<Repository>,
    record: &PlanRecord,
) -> Result<ProposalView, ApiError> {
    let input = input(record)?;
    let summary = propose::summary(&input.spec);
    let request = request(repo, record, &input, summary.clone());
    let (mut proposal, ctx, push) = commit_and_push(state, repo, request, record.requester.clone()).await?;
    let forge = repo.config.forge.clone().or_else(|| ctx.config.forge.clone());
    if let (Some(forge), Some(push)) = (forge, push) {
        let forge = (forge.clone(), forge.ready().map_err(|e| propose_error(&e))?);
        let body = |proposal: &propose::Proposal, base: &str| PullRequestRequest {
            title: summary,
            body: propose::body(
                &record.intent,
                &input.spec,
                &input.operations,
                &input.findings,
                &proposal.stats,
            ),
            head: proposal.branch.clone(),
            base: base.to_string(),
        };
        propose::open_pull_request_for(&mut proposal, &forge, &push.remote, body)
            .await
            .map_err(|failed| unpublished(&failed))?;
    }
    let mut view = ProposalView::from(&proposal);
    if !proposal.pushed {
        view.pushed_reason = Some(format!(
            "repository {:?} is a local path without an `origin` remote: the branch was committed there and not pushed",
            repo.name()
        ));
    }
    Ok(view)
}

/// The commit request for a stored plan, before the repository's own
/// settings (protected branches, author) are known.
fn request(repo: &Repository, record: &PlanRecord, input: &Input, summary: String) -> Request {
    Request {
        repo: repo.git_dir().to_path_buf(),
        base: repo.config.base_branch.clone(),
        base_commit: Some(input.base_commit.clone()),
        branch: None,
        files: input.files.clone(),
        delete: input.delete.clone(),
        summary,
        intent: propose::with_reach(&record.intent, &input.operations),
        trailers: Trailers {
            plan_id: record.id.clone(),
            planner: input.planner,
            model: record.model.clone(),
            spec_sha256: propose::spec_sha256(&input.spec),
        },
        findings: input.findings.clone(),
        protected: Vec::new(),
        author: None,
        committer: None,
        rebase: false,
    }
}

/// What a landed commit leaves for the pull request: the proposal, the
/// repository's settings it was made with, and where it was pushed.
type Committed = (propose::Proposal, Arc<Context>, Option<PushOptions>);

/// Takes both repository locks and commits and pushes on a blocking thread;
/// each failure as the API's answer.
async fn commit_and_push(
    state: &AppState,
    repo: &Arc<Repository>,
    request: Request,
    requester: String,
) -> Result<Committed, ApiError> {
    let lock = repo.lock().await;
    let committed = {
        let repo = repo.clone();
        let store = state.store.clone();
        tokio::task::spawn_blocking(move || commit_locked(&repo, &*store, lock, request, &requester)).await
    };
    match committed {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(Failure::Repo(e))) => Err(ApiError::internal("preparing the repository", &e)),
        Ok(Err(Failure::Propose(e))) => Err(propose_error(&e)),
        Ok(Err(Failure::Publish(failed))) => Err(unpublished(&failed)),
        Ok(Err(Failure::Store(e))) => Err(super::api::store_error(&e)),
        Err(e) => Err(ApiError::internal("proposing", &e)),
    }
}

/// The blocking part of [`commit_and_push`]: the lock across replicas, the
/// repository at its current base, the forge checked before the first
/// write, then commit and push, all or nothing.
fn commit_locked(
    repo: &Repository,
    store: &dyn Store,
    mut lock: OwnedMutexGuard<RepoState>,
    request: Request,
    requester: &str,
) -> Result<Committed, Failure> {
    let across_replicas = store.lock_repo(repo.name()).map_err(Failure::Store)?;
    // Fetch mirrors and read the repository's own settings at its current base.
    let ctx = repo
        .prepare(&mut lock, Instant::now())
        .map_err(Failure::Repo)?
        .shared_context();
    // A pull request's configuration and token are checked before the first write.
    let forge = repo.config.forge.clone().or_else(|| ctx.config.forge.clone());
    if let (Some(forge), Some(_)) = (&forge, repo.push_remote()) {
        forge.ready().map_err(Failure::Propose)?;
    }
    let (author, committer) = identity(repo, ctx.config.author.clone(), requester);
    let request = Request {
        protected: ctx.config.protected_branches.clone(),
        author: Some(author),
        committer,
        ..request
    };
    let push = repo.push_remote().map(|remote| PushOptions {
        remote,
        credentials: Credentials::from_env(),
        force: false,
        lease: None,
    });
    // All or nothing: the branch only stays when the push landed.
    let proposal = propose::commit_and_push(&request, push.as_ref()).map_err(Failure::Publish)?;
    drop(lock);
    drop(across_replicas);
    Ok((proposal, ctx, push))
}

enum Failure {
    Repo(super::repos::Error),
    Propose(propose::Error),
    Publish(Box<propose::Unpublished>),
    Store(super::store::Error),
}

/// A failed publication as the API's answer; a branch the rollback could not remove is logged.
fn unpublished(failed: &propose::Unpublished) -> ApiError {
    if let Some(undo) = &failed.left_behind {
        let branch = failed.branch.as_deref().unwrap_or_default();
        tracing::warn!(branch = %branch, "could not roll back: {undo}");
    }
    propose_error(&failed.error)
}

/// Who a service commit is by: the configured author (`GITINTENT_AUTHOR_*`,
/// `.gitintent.yaml`, the repository's git config) as author and committer;
/// else the requester (token name or Slack user) as author and the service
/// as committer.
fn identity(repo: &Repository, configured: Option<Author>, requester: &str) -> (Author, Option<Author>) {
    let from_git = || {
        let git = git2::Repository::open(repo.git_dir()).ok()?;
        propose::author_from_git_config(&git.config().ok()?)
    };
    if let Some(author) = Author::from_env_or(configured).or_else(from_git) {
        return (author, None);
    }
    let local: String = requester
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let author = Author {
        name: requester.to_string(),
        email: format!("{local}@gitintent.invalid"),
    };
    (author, Some(service_author()))
}

/// The service's commit identity.
fn service_author() -> Author {
    Author {
        name: "gitintent".into(),
        email: "gitintent@localhost".into(),
    }
}

/// Refusals the caller can act on are `409` with their message; faults are 502.
fn propose_error(e: &propose::Error) -> ApiError {
    match e {
        propose::Error::Findings(_) => ApiError::conflict("plan_has_errors", e.to_string()),
        propose::Error::NothingToChange { .. } => ApiError::conflict("nothing_to_change", e.to_string()),
        propose::Error::Rejected { .. } => ApiError::conflict("push_rejected", e.to_string()),
        // Says when to retry; names the forge's URL and a time, nothing secret.
        propose::Error::RateLimited { .. } => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "forge_rate_limited",
            e.to_string(),
        ),
        e if e.is_bad_input() => ApiError::conflict("proposal_refused", e.to_string()),
        e => ApiError::upstream(StatusCode::BAD_GATEWAY, "proposal_failed", "the proposal", e),
    }
}
