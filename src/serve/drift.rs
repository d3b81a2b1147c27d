//! `GET /v1/drift?repo=NAME&env=ENV`: the drift report of one environment of
//! a configured repository, the `gitintent drift --format json` contract.
//!
//! The repository is read at its base branch from git objects (fetched
//! first for mirrors, under the repository lock); the lock is released
//! before the cluster is contacted, through the repository's
//! `[repository.cluster]` settings (`super::cluster`), bounded by its
//! `timeout-secs`. Reading drift needs the caller's `plan` right for the
//! repository and environment. [`read`] is shared with the Slack backend.
//!
//! Refusals: 400 (missing or malformed `repo`/`env`), 404 (unknown
//! repository), 403 (no right), 409 (no cluster configured), 422 (the
//! repository declares nothing for that environment, or its files do not
//! parse), 502 (cluster unreachable), 504 (cluster too slow). An RBAC 403
//! on one kind is not a refusal: it is an `unreadable` entry of the report.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::api::readable_repository;
use super::auth::Caller;
use super::cluster::ClusterConfig;
use super::error::{chain, ApiError};
use super::repos::Repository;
use super::state::AppState;
use super::store::{now_ms, AuditEvent};
use crate::drift::{self, Declared, Report, Source};
use crate::repo::Base;

/// `GET /v1/drift` query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DriftQuery {
    repo: Option<String>,
    env: Option<String>,
}

pub(crate) async fn get_drift(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<DriftQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let nonempty = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let repo = nonempty(q.repo)
        .ok_or_else(|| ApiError::bad_request("repo is required: GET /v1/drift?repo=NAME&env=ENV"))?;
    let env = nonempty(q.env)
        .ok_or_else(|| ApiError::bad_request("env is required: GET /v1/drift?repo=NAME&env=ENV"))?;
    let report = read(&state, &caller, &repo, &env).await?;
    let value = serde_json::to_value(&report).map_err(|e| ApiError::internal("serialising drift", &e))?;
    Ok(Json(value))
}

fn valid_environment(env: &str) -> bool {
    !env.is_empty()
        && env.len() <= 63
        && env
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Checks rights, reads the repository at its base branch and compares it
/// with the environment's cluster.
pub(crate) async fn read(
    state: &AppState,
    caller: &Caller,
    repo: &str,
    env: &str,
) -> Result<Report, ApiError> {
    let requested_at = Instant::now();
    let (repository, cluster) = admit(state, caller, repo, env)?;
    let (declared, base) = declared_at_base(&repository, env, requested_at).await?;
    let report = compare(&cluster, repo, env, base, &declared).await?;
    audit_read(state, caller, repo, env, &report).await;
    Ok(report)
}

/// The request's checks before any work: a plain environment name, a
/// repository the caller may read and plan for there, and a cluster configured for it.
fn admit(
    state: &AppState,
    caller: &Caller,
    repo: &str,
    env: &str,
) -> Result<(Arc<Repository>, ClusterConfig), ApiError> {
    if !valid_environment(env) {
        return Err(ApiError::bad_request(format!(
            "env {env:?} is not an environment name (letters, digits, '-' and '_', at most 63)"
        )));
    }
    let repository = readable_repository(state, caller, repo)?;
    if !caller.may_plan(repo, Some(env)) {
        return Err(ApiError::forbidden(format!(
            "token {:?} may not read drift for environment {env:?} of repository {repo:?} (it needs the plan right there)",
            caller.name
        )));
    }
    let Some(cluster) = repository.config.cluster.clone() else {
        return Err(ApiError::conflict(
            "drift_not_configured",
            format!("repository {repo:?} has no cluster configured: add [repository.cluster] to the service config"),
        ));
    };
    Ok((repository, cluster))
}

/// What the repository declares for `env` at its base branch, and that
/// base; the git work runs under the repository lock on a blocking thread.
async fn declared_at_base(
    repository: &Arc<Repository>,
    env: &str,
    requested_at: Instant,
) -> Result<(Vec<Declared>, Base), ApiError> {
    let guard = repository.lock().await;
    let repository = repository.clone();
    let env = env.to_string();
    tokio::task::spawn_blocking(move || {
        let mut guard = guard;
        let prepared = repository.prepare(&mut guard, requested_at);
        drop(guard);
        let prepared = prepared.map_err(|e| ApiError::internal("preparing the repository", &e))?;
        let snapshot = prepared
            .snapshot()
            .map_err(|e| ApiError::internal("reading the base branch", &e))?;
        let source = Source::Git(snapshot);
        let declared = drift::collect(&source, &env).map_err(|e| git_side(&e))?;
        let base = prepared.base().clone();
        Ok::<_, ApiError>((declared, base))
    })
    .await
    .map_err(|e| ApiError::internal("reading the base branch", &e))?
}

/// The declared resources against the live cluster (the lock is no longer
/// held), bounded by the cluster's timeout.
async fn compare(
    cluster: &ClusterConfig,
    repo: &str,
    env: &str,
    base: Base,
    declared: &[Declared],
) -> Result<Report, ApiError> {
    let options = cluster.options(env);
    // drift::check bounds the conversation itself; this is a backstop for the connect step.
    let limit = cluster.timeout() + std::time::Duration::from_secs(5);
    let checked = tokio::time::timeout(limit, drift::check(env, Some(base), declared, &options)).await;
    match checked {
        Ok(Ok(report)) => Ok(report),
        Ok(Err(e)) => Err(cluster_side(&e, repo, env)),
        Err(_) => Err(ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "cluster_timeout",
            format!(
                "the Kubernetes API server of environment {env:?} (repository {repo:?}) did not answer within {} s",
                limit.as_secs()
            ),
        )),
    }
}

/// Records the read in the audit trail, best effort: a read changes nothing.
async fn audit_read(state: &AppState, caller: &Caller, repo: &str, env: &str, report: &Report) {
    let audit = AuditEvent {
        event: "drift.read".into(),
        actor: caller.name.clone(),
        plan_id: None,
        detail: json!({ "repo": repo, "environment": env, "score": report.score, "summary": report.summary })
            .to_string(),
        at_ms: now_ms(),
    };
    let store = state.store.clone();
    match tokio::task::spawn_blocking(move || store.append_audit(&audit)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!("drift audit: {}", chain(&e)),
        Err(e) => tracing::warn!("drift audit: {e}"),
    }
}

/// Faults reading the repository side.
fn git_side(e: &drift::Error) -> ApiError {
    match e {
        drift::Error::UnknownEnvironment { .. } => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_environment",
            e.to_string(),
        ),
        drift::Error::Yaml { .. } | drift::Error::Repo(crate::repo::Error::Config { .. }) => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_repository", chain(e))
        }
        _ => ApiError::internal("reading the base branch", e),
    }
}

/// Faults reaching the cluster.
fn cluster_side(e: &drift::Error, repo: &str, env: &str) -> ApiError {
    let prefix = format!("environment {env:?} of repository {repo:?}");
    match e {
        drift::Error::Unreachable { .. } => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "cluster_unreachable",
            format!("{prefix}: {e}"),
        ),
        drift::Error::Timeout { .. } => ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "cluster_timeout",
            format!("{prefix}: {e}"),
        ),
        // The service's own cluster settings are wrong: the operator's to fix.
        _ => {
            let internal = ApiError::internal("the cluster settings", e);
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "cluster_misconfigured",
                format!(
                    "the service's cluster settings for {prefix} are unusable; {}",
                    internal.message.trim_start_matches("internal error; ")
                ),
            )
            .with_details(internal.details.clone())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_names_are_plain() {
        for ok in ["production", "eu-1", "qa_2"] {
            assert!(valid_environment(ok), "{ok}");
        }
        for bad in ["", "../prod", "a b", "prod/x", &"x".repeat(64)] {
            assert!(!valid_environment(bad), "{bad}");
        }
    }
}
