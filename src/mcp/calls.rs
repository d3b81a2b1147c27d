//! Each tool's work, on the service's own functions: `plan` and `propose`
//! through `api::submit` (stored, audited, admitted), `validate` through the
//! `/v1/validate` check, `drift` through `GET /v1/drift`'s reader. Refusals
//! are [`ApiError`]s with the service's precise message.

use std::sync::Arc;
use std::time::Instant;

use axum::http::StatusCode;
use serde_json::{json, Value};

use super::tools::{DriftInput, ListInput, PlanInput, ProposeInput, ValidateInput};
use crate::serve::api;
use crate::serve::auth::Caller;
use crate::serve::error::ApiError;
use crate::serve::repos::Repository;
use crate::serve::state::AppState;
use crate::serve::{drift, proposal, work};
use crate::view::{PlanView, PlannerName, ProposalResultView, Status};
use crate::workspace::Workspace as Prepared;

/// What a local (`gitintent mcp`) server applies when a call leaves it out.
#[derive(Debug, Clone, Default)]
pub(crate) struct Defaults {
    pub(crate) environment: Option<String>,
    pub(crate) planner: Option<PlannerName>,
}

/// The repository a call means: `target`, else the only one the caller may use.
pub(crate) fn repository(
    state: &AppState,
    caller: &Caller,
    target: Option<&str>,
) -> Result<String, ApiError> {
    if let Some(t) = target.map(str::trim).filter(|t| !t.is_empty()) {
        return Ok(t.to_string());
    }
    let readable: Vec<&str> = state.repos.names().filter(|n| caller.may_read(n)).collect();
    match readable.as_slice() {
        [one] => Ok((*one).to_string()),
        [] => Err(ApiError::forbidden(format!(
            "token {:?} may not use any repository",
            caller.name
        ))),
        many => Err(ApiError::bad_request(format!(
            "several repositories are configured; name one with target: {}",
            many.join(", ")
        ))),
    }
}

/// Plans an intent as `POST /v1/plans` does and waits for it: the stored plan's view.
pub(crate) async fn plan(
    state: &AppState,
    caller: &Caller,
    defaults: &Defaults,
    input: PlanInput,
) -> Result<PlanView, ApiError> {
    let repo = repository(state, caller, input.target.as_deref())?;
    let environment = input.environment.or_else(|| defaults.environment.clone());
    let (_, task) = api::submit(
        state,
        caller.clone(),
        &input.intent,
        &repo,
        environment.as_deref(),
        input.target_path.as_deref(),
        defaults.planner.map(PlannerName::as_str),
    )
    .await?;
    let record = task
        .await
        .map_err(|e| ApiError::internal("waiting for the plan", &e))?;
    match api::stored_error(&record) {
        Some(e) => Err(e),
        None => Ok(work::view(&record)),
    }
}

/// Schema and policy findings of manifest text, behind the same admission
/// as `POST /v1/validate`.
pub(crate) async fn validate(state: &AppState, input: ValidateInput) -> Result<Value, ApiError> {
    api::admitted_check(state, input.manifests, input.environment, false, vec![]).await
}

/// The repository `name`, when the caller may read it.
fn readable(state: &AppState, caller: &Caller, name: &str) -> Result<Arc<Repository>, ApiError> {
    state
        .repos
        .get(name)
        .filter(|_| caller.may_read(name))
        .ok_or_else(|| {
            ApiError::not_found(
                "repo_not_found",
                format!("no repository {name:?} is configured for this token"),
            )
        })
}

/// The repository read at its base branch (fetched first when it is a URL).
async fn prepared(repo: Arc<Repository>) -> Result<Prepared, ApiError> {
    let guard = repo.lock().await;
    let prepared = {
        let repo = repo.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = guard;
            repo.prepare(&mut guard, Instant::now())
        })
        .await
    };
    match prepared {
        Ok(Ok(p)) => Ok(p),
        Ok(Err(e)) => Err(work::repository_error("reading the repository", &e)),
        Err(e) => Err(ApiError::internal("reading the repository", &e)),
    }
}

/// The environments a repository declares (`.gitintent.yaml`, else its layout).
fn declared_environments(prepared: &Prepared) -> Vec<String> {
    let ctx = prepared.context();
    if ctx.config.environments.is_empty() {
        ctx.conventions.environments.clone()
    } else {
        ctx.config.environments.to_vec()
    }
}

/// The environments of `repo` the caller may plan for: the choices when a
/// plan's question asks which environment it is for.
pub(crate) async fn environments(
    state: &AppState,
    caller: &Caller,
    repo: &str,
) -> Result<Vec<String>, ApiError> {
    let prepared = prepared(readable(state, caller, repo)?).await?;
    let mut environments = declared_environments(&prepared);
    environments.retain(|e| caller.may_plan(repo, Some(e)));
    Ok(environments)
}

/// The repository's workloads at its base branch, optionally for one environment.
pub(crate) async fn list_workloads(
    state: &AppState,
    caller: &Caller,
    input: ListInput,
) -> Result<Value, ApiError> {
    let name = repository(state, caller, input.target.as_deref())?;
    let env = input
        .environment
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty());
    let repo = readable(state, caller, &name)?;
    if !caller.may_plan(&name, env) {
        return Err(ApiError::forbidden(format!(
            "token {:?} may not read the workloads of {}repository {name:?} (it needs the plan right there)",
            caller.name,
            env.map(|e| format!("environment {e:?} of ")).unwrap_or_default(),
        )));
    }
    let prepared = prepared(repo).await?;
    let environments = declared_environments(&prepared);
    if let Some(e) = env.filter(|e| !environments.iter().any(|x| x == e)) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_intent",
            format!(
                "unknown environment {e:?}: repository {name:?} has {}",
                if environments.is_empty() {
                    "none".to_string()
                } else {
                    environments.join(", ")
                }
            ),
        ));
    }
    let workloads: Vec<Value> = prepared
        .context()
        .inventory
        .workloads()
        .iter()
        .filter(|w| env.is_none_or(|e| w.environments.iter().any(|x| x == e)))
        .map(|w| {
            json!({
                "kind": w.kind, "name": w.name, "namespace": w.namespace,
                "environments": w.environments, "path": w.path,
                "images": w.containers.iter().map(|c| c.image.as_str()).collect::<Vec<_>>(),
                "containers": w.containers, "replicas": w.replicas,
            })
        })
        .collect();
    Ok(json!({ "repo": name, "environment": env, "environments": environments, "workloads": workloads }))
}

/// The drift report of one environment, when the repository has a cluster.
pub(crate) async fn drift(
    state: &AppState,
    caller: &Caller,
    local: bool,
    input: DriftInput,
) -> Result<Value, ApiError> {
    let repo = repository(state, caller, input.target.as_deref())?;
    let report = drift::read(state, caller, &repo, input.environment.trim()).await;
    let report = match report {
        Ok(r) => r,
        Err(e) if local && e.code == "drift_not_configured" => {
            return Err(ApiError::conflict(
                "drift_not_configured",
                "gitintent mcp has no cluster to compare with: run `gitintent drift --repo PATH --env ENV` \
                 with a kubeconfig, or use a shared `gitintent serve` whose repository has [repository.cluster]",
            ))
        }
        Err(e) => return Err(e),
    };
    serde_json::to_value(&report).map_err(|e| ApiError::internal("serialising drift", &e))
}

/// Proposes a stored plan, or plans an intent and proposes it.
pub(crate) async fn propose(
    state: &AppState,
    caller: &Caller,
    defaults: &Defaults,
    input: ProposeInput,
) -> Result<Value, ApiError> {
    let id = match (input.plan_id, input.intent) {
        (Some(id), None) => id,
        (None, Some(intent)) => {
            let plan_input = PlanInput {
                intent,
                environment: input.environment,
                target: input.target,
                target_path: None,
            };
            plan(state, caller, defaults, plan_input).await?.id
        }
        _ => {
            return Err(ApiError::bad_request(
                "give either plan_id (a plan from `plan`) or intent, not both",
            ))
        }
    };
    let proposal = proposal::propose_plan(state, caller, &id).await?;
    structured(&ProposalResultView {
        id,
        status: Status::Proposed,
        proposal,
    })
}

/// A view as a tool's `structuredContent`.
pub(crate) fn structured(view: &impl serde::Serialize) -> Result<Value, ApiError> {
    serde_json::to_value(view).map_err(|e| ApiError::internal("serialising the result", &e))
}
