//! `POST /v1/plans/{id}/proposal`: turn a stored plan into a branch (and a
//! pull request), once.
//!
//! Refusals come first and are precise: `403` without the propose right for
//! the plan's environment, `409` when the plan is pending, failed, has error
//! findings, or was already proposed. The plan then moves atomically from
//! `planned` to `proposing` (so two concurrent requests cannot both
//! propose), the git work runs under the repository lock on a blocking
//! thread, and the result is stored with an audit event.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::api::{blocking, load_plan};
use super::auth::Caller;
use super::error::ApiError;
use super::repos::{self, Repository};
use super::state::AppState;
use super::store::{now_ms, AuditEvent, PlanRecord, Status};
use super::work;

/// Proposal faults.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error("git: {0}")]
    Git(#[from] git2::Error),
    #[error("repository: {0}")]
    Repo(#[from] repos::Error),
    #[error("the stored plan has no files")]
    NoFiles,
    #[error("push to {remote} rejected {reference}: {message}")]
    Rejected {
        remote: String,
        reference: String,
        message: String,
    },
}

pub(crate) async fn propose(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let record = load_plan(&state, &caller, &id).await?;
    let env = record.environment.clone().unwrap_or_default();
    if !caller.may_propose(&record.repo, &env) {
        state.metrics.proposal("refused");
        audit(
            &state,
            &caller,
            &record.id,
            "proposal.refused",
            json!({"reason": "forbidden"}),
        )
        .await;
        return Err(ApiError::forbidden(format!(
            "token {:?} may not propose to environment {env:?} of repository {:?}",
            caller.name, record.repo
        )));
    }
    let refusal = match record.status {
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
        Status::Planned if work::has_errors(&record) => Some((
            "plan_has_errors",
            "the plan has error findings; fix the intent and plan again".to_string(),
        )),
        Status::Planned => None,
    };
    if let Some((code, message)) = refusal {
        state.metrics.proposal("refused");
        audit(
            &state,
            &caller,
            &record.id,
            "proposal.refused",
            json!({"reason": code}),
        )
        .await;
        return Err(ApiError::conflict(code, message).with_details(json!({
            "plan_id": record.id, "status": record.status.as_str(), "proposal": record.proposal,
        })));
    }
    let store = state.store.clone();
    let key = record.id.clone();
    if !blocking(move || store.transition(&key, Status::Planned, Status::Proposing)).await? {
        state.metrics.proposal("refused");
        return Err(ApiError::conflict(
            "already_proposed",
            format!("plan {} is being or was already proposed", record.id),
        ));
    }
    let Some(repo) = state.repos.get(&record.repo) else {
        return Err(ApiError::conflict(
            "repo_not_configured",
            format!("repository {:?} is no longer configured", record.repo),
        ));
    };
    let guard = state.tasks.start();
    let result = {
        let mut lock = repo.lock().await;
        let repo = repo.clone();
        let record = record.clone();
        let requester = caller.name.clone();
        tokio::task::spawn_blocking(move || {
            repo.prepare(&mut lock, Instant::now())?;
            compose(&repo, &record, &requester)
        })
        .await
    };
    drop(guard);
    let mut updated = record.clone();
    updated.updated_ms = now_ms();
    let outcome = match result {
        Ok(Ok(proposal)) => Ok(proposal),
        Ok(Err(e)) => Err(ApiError::upstream(
            StatusCode::BAD_GATEWAY,
            "proposal_failed",
            "the proposal",
            &e,
        )),
        Err(e) => Err(ApiError::internal("proposing", &e)),
    };
    match outcome {
        Ok(proposal) => {
            updated.status = Status::Proposed;
            updated.proposal = Some(proposal.clone());
            let store = state.store.clone();
            let saved = updated.clone();
            blocking(move || store.update_plan(&saved)).await?;
            state.metrics.proposal("created");
            audit(&state, &caller, &record.id, "proposal.created", proposal.clone()).await;
            Ok((
                StatusCode::CREATED,
                Json(json!({ "id": record.id, "status": "proposed", "proposal": proposal })),
            )
                .into_response())
        }
        Err(e) => {
            updated.status = Status::Planned;
            let store = state.store.clone();
            let key = record.id.clone();
            let _ = blocking(move || store.transition(&key, Status::Proposing, Status::Planned)).await;
            state.metrics.proposal("failed");
            audit(
                &state,
                &caller,
                &record.id,
                "proposal.failed",
                json!({"code": e.code}),
            )
            .await;
            Err(e)
        }
    }
}

async fn audit(state: &AppState, caller: &Caller, plan: &str, event: &str, detail: Value) {
    let store = state.store.clone();
    let event = AuditEvent {
        event: event.into(),
        actor: caller.name.clone(),
        plan_id: Some(plan.into()),
        detail: detail.to_string(),
        at_ms: now_ms(),
    };
    if let Err(e) = blocking(move || store.append_audit(&event)).await {
        tracing::error!("audit event lost: {}", e.message);
    }
}

/// The branch name for a plan: `gitintent/<namespace>-<short id>`.
fn branch_name(record: &PlanRecord) -> String {
    let slug = record
        .spec
        .as_ref()
        .and_then(|s| s["components"][0]["name"].as_str().or(s["namespace"].as_str()))
        .and_then(|n| crate::spec::sanitize_name(n).ok())
        .unwrap_or_else(|| "plan".into());
    let short: String = record.id.trim_start_matches("pl_").chars().take(8).collect();
    format!("gitintent/{slug}-{short}")
}

/// Commits the plan's files on a new branch from the base branch and pushes it.
///
/// composition point: replace with `gitintent::propose::{commit, push,
/// open_pull_request}` when branch h-propose is merged (it also opens the
/// pull request through the configured forge). Until then this builds the
/// commit from the base tree plus new blobs (no working tree or index is
/// touched), creates the branch, and pushes it to the repository's remote:
/// the URL for mirrored repositories, `origin` for local ones that have it.
fn compose(repo: &Arc<Repository>, record: &PlanRecord, requester: &str) -> Result<Value, Error> {
    let files: Vec<crate::manifest::File> = record
        .files
        .as_ref()
        .and_then(|f| f.as_array())
        .map(|items| {
            items
                .iter()
                .filter_map(|f| {
                    Some(crate::manifest::File {
                        path: f["path"].as_str()?.to_string(),
                        content: f["content"].as_str()?.to_string(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    if files.is_empty() {
        return Err(Error::NoFiles);
    }
    let git = git2::Repository::open(repo.git_dir())?;
    let base = repo.check()?;
    let base_commit = git.find_commit(base)?;
    let base_tree = base_commit.tree()?;
    let mut update = git2::build::TreeUpdateBuilder::new();
    for f in &files {
        // Paths come from the repo layout, never the model; check them anyway.
        if crate::repo::join_inside(std::path::Path::new("/"), &f.path).is_err() {
            return Err(Error::Git(git2::Error::from_str("unsafe path in stored plan")));
        }
        let blob = git.blob(f.content.as_bytes())?;
        update.upsert(&f.path, blob, git2::FileMode::Blob);
    }
    let tree_id = update.create_updated(&git, &base_tree)?;
    let tree = git.find_tree(tree_id)?;
    let branch = branch_name(record);
    let signature = git2::Signature::now("gitintent", "gitintent@localhost")?;
    let summary = record
        .spec
        .as_ref()
        .and_then(|s| s["namespace"].as_str())
        .unwrap_or("plan");
    let message = format!(
        "gitintent: {summary} in {}\n\nIntent: {}\n\nPlan-Id: {}\nRequested-By: {requester}\nPlanner: {}\n",
        record.environment.as_deref().unwrap_or("?"),
        record.intent,
        record.id,
        record.planner.as_deref().unwrap_or("?"),
    );
    let commit = git.commit(None, &signature, &signature, &message, &tree, &[&base_commit])?;
    git.reference(
        &format!("refs/heads/{branch}"),
        commit,
        false,
        "gitintent proposal",
    )?;
    let refspec = format!("refs/heads/{branch}:refs/heads/{branch}");
    let remote = match &repo.config.url {
        Some(url) => Some(git.remote_anonymous(url)?),
        None => git.find_remote("origin").ok(),
    };
    let mut pushed_to = None;
    if let Some(mut remote) = remote {
        let name = strip_userinfo(remote.url().unwrap_or("remote"));
        let mut callbacks = repos::callbacks(&repo.config.credentials);
        let rejected = std::rc::Rc::new(std::cell::RefCell::new(None));
        let seen = rejected.clone();
        callbacks.push_update_reference(move |reference, status| {
            if let Some(message) = status {
                *seen.borrow_mut() = Some((reference.to_string(), message.to_string()));
            }
            Ok(())
        });
        let mut options = git2::PushOptions::new();
        options.remote_callbacks(callbacks);
        remote.push(&[&refspec], Some(&mut options))?;
        if let Some((reference, message)) = rejected.borrow_mut().take() {
            return Err(Error::Rejected {
                remote: name,
                reference,
                message,
            });
        }
        pushed_to = Some(name);
    }
    Ok(json!({
        "branch": branch,
        "commit": commit.to_string(),
        "base": base.to_string(),
        "pushed": pushed_to.is_some(),
        "remote": pushed_to,
        "pr_url": null,
    }))
}

/// A URL without `user:password@`, for storing and showing.
fn strip_userinfo(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('/') {
            Some((authority, path)) => {
                let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
                format!("{scheme}://{host}/{path}")
            }
            None => format!("{scheme}://{}", rest.rsplit_once('@').map_or(rest, |(_, h)| h)),
        },
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::strip_userinfo;

    #[test]
    fn credentials_in_remote_urls_are_dropped() {
        assert_eq!(
            strip_userinfo("https://bot:s3cret@git.example.com/a/b.git"),
            "https://git.example.com/a/b.git"
        );
        assert_eq!(strip_userinfo("/srv/remote.git"), "/srv/remote.git");
        assert_eq!(strip_userinfo("file:///srv/r.git"), "file:///srv/r.git");
    }
}
