//! What the Slack front end needs from the service, as a trait and plain data.
//!
//! The service implements [`SlackBackend`] and maps its own plan and proposal
//! types into [`PlanSummary`] and [`ProposalSummary`]; this module never sees
//! the store, git or the service's config. [`PlanSummary::from_plan`] does the
//! mapping from a [`pipeline::Plan`](crate::pipeline::Plan) for callers that have one.

use std::future::Future;

use serde::Serialize;

use crate::drift::Report;
use crate::finding::Finding;
use crate::pipeline::Plan;
use crate::spec::Component;

/// Who asked, as Slack says (already verified by signature).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Requester {
    pub user_id: String,
    pub user_name: String,
    pub channel_id: String,
}

impl Requester {
    /// How audit records name this requester: `slack:<user_id>`.
    pub fn audit_name(&self) -> String {
        format!("slack:{}", self.user_id)
    }
}

/// How a file in a plan relates to the repository's base branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeStatus {
    Added,
    Modified,
    Deleted,
    Unchanged,
}

impl ChangeStatus {
    fn as_str(self) -> &'static str {
        match self {
            ChangeStatus::Added => "added",
            ChangeStatus::Modified => "modified",
            ChangeStatus::Deleted => "deleted",
            ChangeStatus::Unchanged => "unchanged",
        }
    }
}

impl std::fmt::Display for ChangeStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One file of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileChange {
    /// Path relative to the repository root.
    pub path: String,
    pub status: ChangeStatus,
}

/// A plan as Slack shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanSummary {
    /// The service's plan id; the value of the Propose button.
    pub id: String,
    pub repo: String,
    pub environment: String,
    /// The intent as recorded (credentials redacted).
    pub intent: String,
    /// One line per component: what will run.
    pub summary: Vec<String>,
    pub assumptions: Vec<String>,
    /// What a person should confirm.
    pub questions: Vec<String>,
    /// What the intent asks for that the plan does not do: "phrase: reason".
    pub unsupported: Vec<String>,
    pub files: Vec<FileChange>,
    /// Sorted errors first, as the pipeline returns them.
    pub findings: Vec<Finding>,
    /// Set once the plan has been proposed.
    pub proposal: Option<ProposalSummary>,
}

impl PlanSummary {
    /// A summary of a freshly planned [`Plan`], every file marked `added`
    /// (callers with a diff against the repository set real statuses).
    pub fn from_plan(id: impl Into<String>, repo: impl Into<String>, plan: &Plan) -> PlanSummary {
        let spec = &plan.spec;
        PlanSummary {
            id: id.into(),
            repo: repo.into(),
            environment: spec.environment.clone(),
            intent: plan.intent.clone(),
            summary: spec
                .components
                .iter()
                .map(|c| describe(c, &spec.namespace))
                .chain(spec.changes.iter().map(crate::propose::describe_change))
                .collect(),
            assumptions: spec.assumptions.clone(),
            questions: spec.questions.clone(),
            unsupported: spec
                .unsupported
                .iter()
                .map(|u| format!("\"{}\": {}", u.phrase, u.reason))
                .collect(),
            files: plan
                .files
                .iter()
                .map(|f| FileChange {
                    path: f.path.clone(),
                    status: ChangeStatus::Added,
                })
                .collect(),
            findings: plan.findings.clone(),
            proposal: None,
        }
    }

    /// True when any finding is an error: such a plan cannot be proposed.
    pub fn has_errors(&self) -> bool {
        crate::finding::has_errors(&self.findings)
    }
}

fn describe(c: &Component, namespace: &str) -> String {
    let mut parts = vec![c.archetype.to_string()];
    if let Some(n) = c.replicas {
        parts.push(format!("{n} replica{}", if n == 1 { "" } else { "s" }));
    }
    if let Some(s) = &c.storage {
        parts.push(format!("{} storage", s.size));
    }
    if let Some(e) = &c.exposure {
        let host = e.host.as_deref().unwrap_or("any host");
        let path = e.path.as_deref().unwrap_or("/");
        let scheme = if e.tls { "https" } else { "http" };
        parts.push(format!("exposed at {scheme}://{host}{path}"));
    }
    if let Some(image) = &c.image {
        parts.push(format!("image {image}"));
    }
    format!("{} in namespace {namespace}: {}", c.name, parts.join(", "))
}

/// The result of proposing a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProposalSummary {
    pub branch: String,
    pub commit: String,
    /// The pull request, when a forge is configured.
    pub pr_url: Option<String>,
}

/// Why the backend could not do what was asked.
///
/// `NotFound`, `Refused` and `Invalid` messages are shown to the Slack user and
/// must be safe to show; `Unfinished` only after a rights check; `Internal` is logged and replaced by a polite apology.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// No plan with this id.
    #[error("no plan with id {0}")]
    NotFound(String),
    /// The request is understood but not allowed now, e.g. already proposed.
    #[error("{0}")]
    Refused(String),
    /// The request itself is wrong, e.g. an empty or oversized intent, an unknown repo.
    #[error("{0}")]
    Invalid(String),
    /// The plan exists but has no result to show: still pending, or failed.
    /// `message` says which (a failure's cause); the router shows it only to
    /// someone whose grant covers `repo` (and `environment`, when known).
    #[error("{message}")]
    Unfinished {
        repo: String,
        environment: Option<String>,
        message: String,
    },
    /// Anything else: the model, git, the store. Never shown to users.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The service behind the slash command.
///
/// Implementations must be cheap to share (`Arc`) and do their own
/// per-repository serialisation; the router calls them from spawned tasks.
pub trait SlackBackend: Send + Sync + 'static {
    /// Plans `intent` for `repo`; `env` is the environment given in the command, if any.
    fn plan(
        &self,
        requester: Requester,
        intent: String,
        repo: String,
        env: Option<String>,
    ) -> impl Future<Output = Result<PlanSummary, BackendError>> + Send;

    /// Proposes a stored plan: branch, commit, push, pull request.
    fn propose(
        &self,
        requester: Requester,
        plan_id: String,
    ) -> impl Future<Output = Result<ProposalSummary, BackendError>> + Send;

    /// Reads a stored plan.
    fn status(&self, plan_id: String) -> impl Future<Output = Result<PlanSummary, BackendError>> + Send;

    /// The drift report of `env` in `repo` (the router has checked the grant).
    /// The default answers that this backend does not read clusters.
    fn drift(
        &self,
        requester: Requester,
        repo: String,
        env: String,
    ) -> impl Future<Output = Result<Report, BackendError>> + Send {
        let _ = (requester, env);
        async move {
            Err(BackendError::Refused(format!(
                "drift is not available for repository {repo} on this service"
            )))
        }
    }

    /// Runs one piece of deferred work (a plan or proposal and the post of its
    /// result). The default detaches it with `tokio::spawn`; a service that
    /// drains work on shutdown overrides this to track the task.
    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        tokio::spawn(task);
    }
}
