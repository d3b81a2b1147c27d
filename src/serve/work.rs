//! The work behind `POST /v1/plans`: admission, repository preparation under
//! the repository lock, the pipeline on a blocking thread, the store, the
//! audit trail and metrics. Also the [`crate::view`]s of stored plans and
//! the redaction applied before anything reaches the store.
//!
//! Every plan runs as a tracked background task: a synchronous request just
//! awaits it, so a request that times out or disconnects still leaves a
//! finished plan behind, and shutdown waits for it.

use std::sync::Arc;
use std::time::Instant;

use axum::http::StatusCode;
use serde_json::{json, Value};

use super::auth::Caller;
use super::error::{chain, ApiError};
use super::repos::Repository;
use super::state::{AppState, Ticket};
use super::store::{now_ms, AuditEvent, PlanRecord, Status};
use crate::intent::Intent;
use crate::pipeline;
use crate::plan::Planner;
use crate::spec::secrets;
use crate::view::{self, rfc3339, CommitFiles, ErrorView, PlanSummaryView, PlanView};
use crate::workspace::Workspace;
use crate::Class;

/// One admitted plan request.
pub(crate) struct Job {
    pub(crate) record: PlanRecord,
    pub(crate) repo: Arc<Repository>,
    pub(crate) intent: Intent,
    pub(crate) planner: Planner,
    pub(crate) caller: Caller,
    pub(crate) ticket: Ticket,
    pub(crate) requested_at: Instant,
}

/// Runs a job to completion and stores the result; returns the final record.
pub(crate) async fn run(state: AppState, job: Job) -> PlanRecord {
    let Job {
        mut record,
        repo,
        intent,
        planner,
        caller,
        ticket,
        requested_at,
    } = job;
    let outcome = plan(&repo, intent, planner, &caller, &ticket, requested_at).await;
    drop(ticket);
    record.updated_ms = now_ms();
    let (event, detail) = match outcome {
        Ok(done) => {
            let has_errors = done.plan.has_errors();
            state.metrics.plan(if has_errors { "invalid" } else { "valid" });
            if done.plan.planner == crate::plan::PlannerName::Openai {
                let u = done.plan.usage;
                state
                    .metrics
                    .model(u.input_tokens, u.output_tokens, done.plan.attempts, done.elapsed);
            }
            fill(&mut record, done);
            let detail = json!({
                "planner": record.planner, "model": record.model,
                "environment": record.environment, "has_errors": has_errors,
            });
            ("plan.completed", detail)
        }
        Err(e) => {
            state.metrics.plan("failed");
            record.status = Status::Failed;
            record.error = Some(ErrorView {
                status: Some(e.status.as_u16()),
                code: e.code.to_string(),
                message: e.message.clone(),
                details: Some(e.details.clone()),
            });
            (
                "plan.failed",
                json!({ "code": e.code, "status": e.status.as_u16() }),
            )
        }
    };
    let store = state.store.clone();
    let audit = AuditEvent {
        event: event.to_string(),
        actor: caller.name.clone(),
        plan_id: Some(record.id.clone()),
        detail: detail.to_string(),
        at_ms: record.updated_ms,
    };
    save(store, &record, audit).await;
    tracing::info!(plan = %record.id, repo = %record.repo, status = record.status.as_str(), "plan finished");
    record
}

/// Stores the finished plan with its audit event (one transaction). A store
/// that is briefly away gets a few tries; after that the plan's lease is let
/// go, so recovery marks it failed instead of it staying `pending`.
async fn save(store: std::sync::Arc<dyn super::store::Store>, record: &PlanRecord, audit: AuditEvent) {
    let waits = [1, 2, 4];
    for (attempt, wait) in waits.iter().enumerate() {
        let (s, saved, event) = (store.clone(), record.clone(), audit.clone());
        let result = tokio::task::spawn_blocking(move || s.save(&saved, &event)).await;
        match result {
            Ok(Ok(())) => return,
            Ok(Err(e)) if e.is_unavailable() && attempt + 1 < waits.len() => {
                tracing::warn!(plan = %record.id, "store unavailable, retrying: {}", chain(&e));
                tokio::time::sleep(std::time::Duration::from_secs(*wait)).await;
            }
            Ok(Err(e)) => {
                tracing::error!(plan = %record.id, "cannot store the plan: {}", chain(&e));
                break;
            }
            Err(e) => {
                tracing::error!(plan = %record.id, "cannot store the plan: {e}");
                break;
            }
        }
    }
    store.forget(&record.id);
}

struct Done {
    plan: pipeline::Plan,
    base: crate::repo::Base,
    changeset: crate::repo::Changeset,
    elapsed: std::time::Duration,
}

/// Waits for a model slot, then prepares the repository, plans, checks the
/// planned environment against the caller's rights and compares the plan
/// with the base branch.
async fn plan(
    repo: &Arc<Repository>,
    intent: Intent,
    planner: Planner,
    caller: &Caller,
    ticket: &Ticket,
    requested_at: Instant,
) -> Result<Done, ApiError> {
    let _slot = ticket.slot().await.ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "the service is stopping",
        )
    })?;
    let prepared = prepare(repo, requested_at).await?;
    let started = Instant::now();
    let plan = run_pipeline(&prepared, intent, planner).await;
    let elapsed = started.elapsed();
    let plan = plan?;
    if !caller.may_plan(repo.name(), Some(&plan.spec.environment)) {
        return Err(ApiError::forbidden(format!(
            "token {:?} may not plan for environment {:?} of repository {:?}",
            caller.name,
            plan.spec.environment,
            repo.name()
        )));
    }
    let (plan, changeset) = absorb(repo, &prepared, plan).await?;
    Ok(Done {
        plan,
        base: prepared.base().clone(),
        changeset,
        elapsed,
    })
}

/// The repository at its base branch: git work under the repository lock
/// (repositories run in parallel) on a blocking thread.
async fn prepare(repo: &Arc<Repository>, requested_at: Instant) -> Result<Workspace, ApiError> {
    let mut guard = repo.lock().await;
    let prepared = {
        let repo = repo.clone();
        tokio::task::spawn_blocking(move || {
            let r = repo.prepare(&mut guard, requested_at);
            drop(guard);
            r
        })
        .await
    };
    match prepared {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(repository_error("preparing the repository", &e)),
        Err(e) => Err(ApiError::internal("preparing the repository", &e)),
    }
}

/// Plans the intent against the prepared repository.
///
/// The pipeline (and the critic inside the openai planner) is CPU-heavy
/// and partly synchronous: it runs on a blocking thread that drives the
/// async planner through the runtime handle.
async fn run_pipeline(
    prepared: &Workspace,
    intent: Intent,
    planner: Planner,
) -> Result<pipeline::Plan, ApiError> {
    let handle = tokio::runtime::Handle::current();
    let workspace = prepared.clone();
    let run = tokio::task::spawn_blocking(move || handle.block_on(workspace.plan(&intent, &planner))).await;
    match run {
        Ok(Ok(plan)) => Ok(plan),
        Ok(Err(e)) => Err(library_error(&e)),
        Err(e) => Err(ApiError::internal("planning", &e)),
    }
}

/// As `plan --repo` does: the plan compared with the base branch, its
/// conflicts and wiring notes joining the findings; the changeset.
async fn absorb(
    repo: &Arc<Repository>,
    prepared: &Workspace,
    plan: pipeline::Plan,
) -> Result<(pipeline::Plan, crate::repo::Changeset), ApiError> {
    let absorbed = {
        let repo = repo.clone();
        let workspace = prepared.clone();
        let mut plan = plan;
        tokio::task::spawn_blocking(move || {
            let changeset = repo.absorb(&workspace, &mut plan);
            (plan, changeset)
        })
        .await
    };
    match absorbed {
        Ok((plan, Ok(c))) => Ok((plan, c)),
        Ok((_, Err(e))) => Err(repository_error("comparing with the base branch", &e)),
        Err(e) => Err(ApiError::internal("comparing with the base branch", &e)),
    }
}

/// A repository that cannot be planned against: its own fault (a bad
/// `.gitintent.yaml`, a policy that does not parse) is a 422 naming the
/// repository, as the CLI exits 2 for it; anything else is a 500.
pub(crate) fn repository_error(what: &str, e: &super::repos::Error) -> ApiError {
    match e {
        super::repos::Error::Repo { repo, source } if source.class() == Class::BadInput => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_repository",
            format!(
                "repository {repo:?}: {}",
                secrets::redact_text(&chain(source.as_ref()))
            ),
        ),
        _ => ApiError::internal(what, e),
    }
}

/// Maps a pipeline error to a response by its [`Class`]: the user's fault is
/// a precise 422 (coded by the stage that refused), findings a 422, an upstream
/// failure a 502 (504 for a timeout), anything else a 500; 5xx causes go to the
/// log only.
pub(crate) fn library_error(e: &crate::Error) -> ApiError {
    use crate::Error as E;
    let stage = match e {
        E::Intent(_) | E::Spec(_) | E::Plan(_) => ("invalid_intent", "model_failed", "the model"),
        E::Change(_) => ("invalid_change", "internal", "planning"),
        E::Repo(_) | E::Drift(_) => ("invalid_repository", "internal", "reading the repository"),
        E::Policy(_) => ("invalid_policy", "internal", "loading policies"),
        E::Render(_) => ("invalid_intent", "internal", "rendering"),
        E::Propose(_) => ("proposal_refused", "proposal_failed", "the proposal"),
        E::Lift(_) => ("invalid_manifests", "internal", "lifting manifests"),
    };
    let (refused, failed, what) = stage;
    match e.class() {
        Class::BadInput => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            refused,
            secrets::redact_text(&format!("{}{}", chain(e), field_hint(e))),
        ),
        Class::Findings => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "plan_has_errors", chain(e)),
        Class::Upstream if e.is_timeout() => {
            ApiError::upstream(StatusCode::GATEWAY_TIMEOUT, "model_timeout", what, e)
        }
        Class::Upstream => ApiError::upstream(StatusCode::BAD_GATEWAY, failed, what, e),
        Class::Fault => ApiError::internal(what, e),
    }
}

/// Which request field fixes a refusal, as the CLI names its flag
/// (`cli/hints.rs`): the paths that pick an ambiguous or misplaced target.
fn field_hint(e: &crate::Error) -> String {
    use crate::change::Error as C;
    match e {
        crate::Error::Change(C::Ambiguous { picks, .. }) if !picks.is_empty() => {
            format!(" (or set target_path to one of: {})", picks.join(", "))
        }
        crate::Error::Change(C::NotAtPath { picks, .. }) if !picks.is_empty() => {
            format!(" (set target_path to one of: {})", picks.join(", "))
        }
        _ => String::new(),
    }
}

fn fill(record: &mut PlanRecord, done: Done) {
    let Done {
        plan,
        base,
        changeset,
        ..
    } = done;
    let secrets_seen = plan.raw_reply.as_deref().map(secret_values).unwrap_or_default();
    let mut intent = plan.intent.clone();
    for s in &secrets_seen {
        intent = intent.replace(s.as_str(), "[redacted]");
    }
    record.status = Status::Planned;
    record.intent = intent;
    record.environment = Some(plan.spec.environment.clone());
    record.planner = Some(plan.planner);
    record.model = plan.model.clone();
    record.prompt_version = plan.prompt_version.clone();
    record.raw_reply = plan.raw_reply.as_deref().map(redact_reply);
    record.changes = Some(view::changes(&changeset));
    record.base = Some(base.clone());
    record.commit_files = Some(CommitFiles {
        files: changeset.files(),
        delete: changeset.deleted(),
        operations: plan.operations,
    });
    record.usage = Some(plan.usage);
    record.attempts = plan.attempts;
    record.spec = Some(plan.spec);
    record.files = Some(plan.files);
    record.findings = Some(plan.findings);
}

/// Values a model reply carries in credential-named env vars or that look
/// like credentials.
fn secret_values(raw: &str) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                if let (Some(Value::String(name)), Some(Value::String(value))) =
                    (map.get("name"), map.get("value"))
                {
                    if !value.is_empty() && (secrets::is_secret_name(name) || secrets::is_secret_value(value))
                    {
                        out.push(value.clone());
                    }
                }
                map.values().for_each(|v| walk(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            Value::String(s) if secrets::is_secret_value(s) => out.push(s.clone()),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(v) = serde_json::from_str::<Value>(raw) {
        walk(&v, &mut out);
    }
    out
}

/// The raw model reply with credential-looking values replaced.
pub(crate) fn redact_reply(raw: &str) -> String {
    let Ok(mut v) = serde_json::from_str::<Value>(raw) else {
        return secrets::redact_text(raw);
    };
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                let secret_name = map
                    .get("name")
                    .and_then(Value::as_str)
                    .is_some_and(secrets::is_secret_name);
                for (key, value) in map.iter_mut() {
                    if key == "value" && secret_name && value.as_str().is_some_and(|s| !s.is_empty()) {
                        *value = Value::String("[redacted]".into());
                    } else {
                        walk(value);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            Value::String(s) => {
                if secrets::is_secret_value(s) {
                    *s = "[redacted]".into();
                } else {
                    *s = secrets::redact_text(s);
                }
            }
            _ => {}
        }
    }
    walk(&mut v);
    v.to_string()
}

/// The full view of a stored plan: `plan --format json` fields plus id,
/// status, repo, requester, changes, proposal, error and timestamps.
pub(crate) fn view(r: &PlanRecord) -> PlanView {
    PlanView {
        id: r.id.clone(),
        status: r.status,
        repo: r.repo.clone(),
        environment: r.environment.clone(),
        requester: r.requester.clone(),
        intent: r.intent.clone(),
        planner: r.planner,
        model: r.model.clone(),
        prompt_version: r.prompt_version.clone(),
        spec: r.spec.clone(),
        files: r.files.clone().unwrap_or_default(),
        findings: r.findings.clone().unwrap_or_default(),
        usage: r.usage.unwrap_or_default(),
        attempts: r.attempts,
        base: r.base.clone(),
        changes: r.changes.clone().unwrap_or_default(),
        operations: r
            .commit_files
            .as_ref()
            .map(|c| c.operations.clone())
            .unwrap_or_default(),
        has_errors: has_errors(r),
        proposal: r.proposal.clone(),
        error: r.error.clone(),
        created_at: rfc3339(r.created_ms),
        updated_at: rfc3339(r.updated_ms),
    }
}

/// The short view used in lists.
pub(crate) fn summary(r: &PlanRecord) -> PlanSummaryView {
    PlanSummaryView {
        id: r.id.clone(),
        status: r.status,
        repo: r.repo.clone(),
        environment: r.environment.clone(),
        requester: r.requester.clone(),
        intent: r.intent.clone(),
        planner: r.planner,
        has_errors: has_errors(r),
        proposal: r.proposal.clone(),
        created_at: rfc3339(r.created_ms),
        updated_at: rfc3339(r.updated_ms),
    }
}

/// True when the stored findings include an error.
pub(crate) fn has_errors(r: &PlanRecord) -> bool {
    r.findings.as_deref().is_some_and(crate::finding::has_errors)
}

/// A new plan id: `pl_` and 12 random bytes in hex.
pub(crate) fn new_id() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes)?;
    Ok(format!("pl_{}", hex::encode(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_lose_their_credentials() {
        let raw = r#"{"components":[{"env":[{"name":"DB_PASSWORD","value":"Tr0ub4dor&3xyz"},{"name":"MODE","value":"fast"}]}],
                      "assumptions":["password hunter2 was given"]}"#;
        let out = redact_reply(raw);
        assert!(!out.contains("Tr0ub4dor"), "{out}");
        assert!(!out.contains("hunter2"), "{out}");
        assert!(out.contains("fast"));
        assert_eq!(secret_values(raw), vec!["Tr0ub4dor&3xyz".to_string()]);
        assert!(!redact_reply("not json password hunter2").contains("hunter2"));
    }
}
