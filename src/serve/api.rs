//! The `/v1` handlers: plans (create, get, list, propose) and validation.
//!
//! Handlers check the caller's rights before any work, turn every refusal
//! into an [`ApiError`], and leave planning to [`super::work`]. Request
//! bodies are typed (`deny_unknown_fields`), so a misspelt field is a `400`
//! rather than silently ignored.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Caller;
use super::error::{ApiError, ApiJson};
use super::repos::Repository;
use super::state::AppState;
use super::store::{now_ms, AuditEvent, Filter, PlanRecord, Status};
use super::work::{self, Job};
use crate::intent::Intent;
use crate::plan::{Planner, PlannerName};
use crate::spec::secrets;
use crate::view::{AcceptedView, PlanListView, PlanView};

/// `POST /v1/plans` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreatePlan {
    #[schema(max_length = 4096)]
    intent: String,
    /// A configured repository name.
    repo: String,
    environment: Option<String>,
    /// A file or directory of the repository holding the workload to change,
    /// when its name alone is ambiguous (e.g. deploy/webapp).
    target_path: Option<String>,
    // Read as text so an unknown name is a precise `400`, not a body error.
    #[schema(value_type = Option<PlannerChoice>)]
    planner: Option<String>,
}

/// The planners a request may choose (the schema of `CreatePlan.planner`).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub(crate) enum PlannerChoice {
    Builtin,
    Openai,
}

pub(crate) async fn create_plan(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreatePlan>,
) -> Result<Response, ApiError> {
    let (id, task) = submit(
        &state,
        caller,
        &body.intent,
        &body.repo,
        body.environment.as_deref(),
        body.target_path.as_deref(),
        body.planner.as_deref(),
    )
    .await?;
    if prefers_async(&headers) {
        let location = format!("/v1/plans/{id}");
        let body = AcceptedView {
            id,
            status: Status::Pending,
            location: location.clone(),
        };
        return Ok((StatusCode::ACCEPTED, [(header::LOCATION, location)], Json(body)).into_response());
    }
    let record = task
        .await
        .map_err(|e| ApiError::internal("waiting for the plan", &e))?;
    respond_with(&record)
}

/// Checks a plan request, stores it as `pending` and starts planning as a
/// tracked background task; the plan id and the task (which yields the
/// final record). Shared by the HTTP API and the Slack backend.
pub(crate) async fn submit(
    state: &AppState,
    caller: Caller,
    intent: &str,
    repo: &str,
    environment: Option<&str>,
    target_path: Option<&str>,
    planner: Option<&str>,
) -> Result<(String, tokio::task::JoinHandle<PlanRecord>), ApiError> {
    let requested_at = Instant::now();
    let repo = readable_repository(state, &caller, repo)?;
    let intent = Intent::new(intent, environment)
        .and_then(|i| i.with_target(target_path))
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_intent", e.to_string()))?;
    if !caller.may_plan(repo.name(), intent.environment.as_deref()) {
        return Err(ApiError::forbidden(format!(
            "token {:?} may not plan for {}repository {:?}",
            caller.name,
            intent
                .environment
                .as_deref()
                .map(|e| format!("environment {e:?} of "))
                .unwrap_or_default(),
            repo.name()
        )));
    }
    let planner = choose_planner(state, planner)?;
    let Some(ticket) = state.admission.try_admit() else {
        state.metrics.rejected();
        return Err(ApiError::busy(retry_after(state)));
    };
    let record = store_pending(state, &caller, &repo, &intent, &planner).await?;
    let id = record.id.clone();
    let job = Job {
        record,
        repo,
        intent,
        planner,
        caller,
        ticket,
        requested_at,
    };
    let guard = state.tasks.start();
    let task = {
        let state = state.clone();
        tokio::spawn(async move {
            let record = work::run(state, job).await;
            drop(guard);
            record
        })
    };
    Ok((id, task))
}

/// The configured repository `name` if the caller may read it; else `404`
/// listing the repositories it may read.
pub(crate) fn readable_repository(
    state: &AppState,
    caller: &Caller,
    name: &str,
) -> Result<Arc<Repository>, ApiError> {
    state
        .repos
        .get(name)
        .filter(|_| caller.may_read(name))
        .ok_or_else(|| {
            let known: Vec<&str> = state.repos.names().filter(|n| caller.may_read(n)).collect();
            ApiError::not_found(
                "repo_not_found",
                format!("no repository {name:?} is configured for this token"),
            )
            .with_details(json!({ "repositories": known }))
        })
}

/// A new plan id, and the plan stored as `pending` with its
/// `plan.requested` audit event.
async fn store_pending(
    state: &AppState,
    caller: &Caller,
    repo: &Repository,
    intent: &Intent,
    planner: &Planner,
) -> Result<PlanRecord, ApiError> {
    let id = work::new_id().map_err(|e| ApiError::internal("generating a plan id", &e))?;
    let now = now_ms();
    let record = PlanRecord {
        environment: intent.environment.clone(),
        planner: Some(planner.name()),
        ..PlanRecord::pending(
            &id,
            repo.name(),
            &caller.name,
            &secrets::redact_text(&intent.text),
            now,
        )
    };
    let audit = AuditEvent {
        event: "plan.requested".into(),
        actor: caller.name.clone(),
        plan_id: Some(id.clone()),
        detail: json!({ "repo": record.repo, "environment": record.environment, "planner": record.planner })
            .to_string(),
        at_ms: now,
    };
    let store = state.store.clone();
    let inserted = record.clone();
    blocking(move || store.create(&inserted, &audit)).await?;
    Ok(record)
}

/// 201 with the plan, or the stored error with its status.
pub(crate) fn respond_with(record: &PlanRecord) -> Result<Response, ApiError> {
    if let Some(e) = stored_error(record) {
        return Err(e);
    }
    let location = format!("/v1/plans/{}", record.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(work::view(record)),
    )
        .into_response())
}

/// The error a failed plan was stored with (its status, code and message,
/// and the plan id in the details); `None` unless the plan failed.
pub(crate) fn stored_error(record: &PlanRecord) -> Option<ApiError> {
    if record.status != Status::Failed {
        return None;
    }
    let e = record.error.as_ref()?;
    let status = e
        .status
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let code = ApiError::stored_code(&e.code);
    let mut details = e.details.clone().unwrap_or(Value::Null);
    if !details.is_object() {
        details = json!({});
    }
    details["plan_id"] = json!(record.id);
    Some(ApiError::new(status, code, e.message.as_str()).with_details(details))
}

fn prefers_async(headers: &HeaderMap) -> bool {
    headers.get_all("prefer").iter().any(|v| {
        v.to_str().is_ok_and(|v| {
            v.split([',', ';'])
                .any(|p| p.trim().eq_ignore_ascii_case("respond-async"))
        })
    })
}

fn retry_after(state: &AppState) -> u64 {
    // A plan holds its slot for at most the model deadline; suggest a
    // fraction of it, between 1 and 30 seconds.
    let deadline = match (&state.openai, state.config.provider.deadline_secs) {
        (None, _) => 1,
        (Some(_), Some(secs)) => secs,
        (Some(_), None) => 120,
    };
    (deadline / 4).clamp(1, 30)
}

fn choose_planner(state: &AppState, name: Option<&str>) -> Result<Planner, ApiError> {
    let chosen = name
        .map(PlannerName::parse_choice)
        .transpose()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    match (chosen, &state.openai) {
        (Some(PlannerName::Openai) | None, Some(openai)) => Ok(Planner::OpenAi(openai.clone())),
        (Some(PlannerName::Openai), None) => Err(ApiError::bad_request(
            "planner \"openai\" is not available: this service has no model provider configured",
        )),
        _ => Ok(Planner::Builtin),
    }
}

/// A store fault: 503 with an error id when the database cannot be reached
/// (the request may be retried), else 500.
pub(crate) fn store_error(e: &super::store::Error) -> ApiError {
    if e.is_unavailable() {
        ApiError::upstream(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            "the store",
            e,
        )
    } else {
        ApiError::internal("store", e)
    }
}

/// Runs blocking store work off the runtime.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, super::store::Error> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(store_error(&e)),
        Err(e) => Err(ApiError::internal("store", &e)),
    }
}

/// A stored plan the caller may see, or 404 (also for other repositories'
/// plans, so ids of plans a token may not read are not confirmed).
pub(crate) async fn load_plan(state: &AppState, caller: &Caller, id: &str) -> Result<PlanRecord, ApiError> {
    let store = state.store.clone();
    let key = id.to_string();
    let found = blocking(move || store.get_plan(&key)).await?;
    found
        .filter(|p| caller.may_read(&p.repo))
        .ok_or_else(|| ApiError::not_found("plan_not_found", format!("no plan {id:?}")))
}

pub(crate) async fn get_plan(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<PlanView>, ApiError> {
    let record = load_plan(&state, &caller, &id).await?;
    Ok(Json(work::view(&record)))
}

/// `GET /v1/plans` query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    repo: Option<String>,
    status: Option<String>,
    limit: Option<usize>,
}

pub(crate) async fn list_plans(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<PlanListView>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let status = q
        .status
        .as_deref()
        .map(|s| {
            Status::parse(s).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "unknown status {s:?}; use pending, planned, failed, proposing or proposed"
                ))
            })
        })
        .transpose()?;
    let limit = q.limit.unwrap_or(20);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 200"));
    }
    let readable: Vec<String> = state
        .repos
        .names()
        .filter(|n| caller.may_read(n))
        .map(String::from)
        .collect();
    let filter = Filter {
        repo: q.repo,
        status,
        repos_allowed: Some(readable),
        limit,
    };
    let store = state.store.clone();
    let plans = blocking(move || store.list_plans(&filter)).await?;
    Ok(Json(PlanListView {
        plans: plans.iter().map(work::summary).collect(),
    }))
}

/// `POST /v1/validate` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ValidateRequest {
    /// YAML or JSON, multi-document allowed.
    manifests: String,
    /// Environment for the policies (production turns on availability rules).
    environment: Option<String>,
    /// Skip resources whose kind has no schema.
    #[serde(default)]
    #[schema(default = false)]
    ignore_missing_schemas: bool,
    /// Kinds to skip (`Kind` or `apiVersion/Kind`).
    #[serde(default)]
    skip: Vec<String>,
}

pub(crate) async fn validate(
    State(state): State<AppState>,
    _caller: Caller,
    ApiJson(body): ApiJson<ValidateRequest>,
) -> Result<Json<Value>, ApiError> {
    let ValidateRequest {
        manifests,
        environment,
        ignore_missing_schemas,
        skip,
    } = body;
    admitted_check(&state, manifests, environment, ignore_missing_schemas, skip)
        .await
        .map(Json)
}

/// [`check_manifests`] behind the validation admission (a slot per running
/// validation, a bounded queue, 429 beyond), as every front end runs it.
pub(crate) async fn admitted_check(
    state: &AppState,
    manifests: String,
    environment: Option<String>,
    ignore_missing_schemas: bool,
    skip: Vec<String>,
) -> Result<Value, ApiError> {
    if manifests.trim().is_empty() {
        return Err(ApiError::bad_request(
            "manifests is empty: send YAML or JSON text",
        ));
    }
    let Some(ticket) = state.validations.try_admit() else {
        state.metrics.validation_rejected();
        return Err(ApiError::busy_because(
            1,
            "validation is at capacity and its queue is full; retry later",
        ));
    };
    let slot = ticket.slot().await;
    tokio::task::spawn_blocking(move || {
        // Held until the work ends, even if the request times out meanwhile.
        let _admitted = (ticket, slot);
        check_manifests(manifests, environment, ignore_missing_schemas, skip)
    })
    .await
    .map_err(|e| ApiError::internal("validating", &e))
}

/// Schema and policy findings of manifest text (blocking): the
/// `POST /v1/validate` body, shared with the MCP `validate` tool.
pub(crate) fn check_manifests(
    manifests: String,
    environment: Option<String>,
    ignore_missing_schemas: bool,
    skip: Vec<String>,
) -> Value {
    let files = [crate::manifest::File {
        path: "request.yaml".into(),
        content: manifests,
    }];
    let options = crate::validate::Options {
        ignore_missing_schemas,
        skip,
    };
    // One parse for schema validation and the policies.
    let manifests = crate::validate::Manifests::parse(&files);
    let report = manifests.validate(&options);
    let settings = crate::policy::Settings {
        environment: environment.unwrap_or_default(),
        ..crate::policy::Settings::default()
    };
    let mut findings = report.findings();
    findings.extend(
        crate::pipeline::Context::default()
            .policies
            .check_parsed(&manifests, &settings),
    );
    let valid = !crate::finding::has_errors(&findings);
    json!({
        "valid": valid,
        "summary": report.summary(),
        "findings": findings,
        "report": report,
    })
}
