//! Client mode: `gitintent plan ... --server URL` asks a running service
//! (`POST /v1/plans`) instead of planning in-process, reads its answer as
//! the shared [`PlanView`] and rebuilds the same [`Plan`] from it, so output
//! and exit codes match local mode.
//!
//! The token comes from `GITINTENT_TOKEN`; it is sent as a bearer token and
//! never printed.

use std::time::Duration;

use anyhow::Context as _;
use gitintent::pipeline::Plan;
use gitintent::view::{PlanView, ProposalResultView};
use serde_json::{json, Value};

use super::common::PlannerChoice;
use super::exit;

/// What the service answered: a plan, or an exit code and message.
pub(crate) enum Outcome {
    /// The plan, and the repository's base and changes as the service computed them.
    Planned {
        /// The service's plan id.
        id: String,
        plan: Box<Plan>,
        base: Option<Value>,
        changes: Option<Value>,
    },
    Refused {
        code: u8,
        message: String,
    },
}

/// What a plan request asks the service.
pub(crate) struct Ask<'a> {
    /// The service's name of the repository.
    pub(crate) repo: &'a str,
    pub(crate) intent: &'a str,
    pub(crate) environment: Option<&'a str>,
    pub(crate) target: Option<&'a str>,
    pub(crate) planner: Option<PlannerChoice>,
}

/// Sends one plan request and waits for the plan.
pub(crate) async fn plan(server: &str, ask: &Ask<'_>) -> anyhow::Result<Outcome> {
    let base = server.trim_end_matches('/');
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Ok(Outcome::Refused {
            code: exit::BAD_INPUT,
            message: format!("--server {server:?} must be an http:// or https:// URL"),
        });
    }
    let body = json!({
        "intent": ask.intent,
        "repo": ask.repo,
        "environment": ask.environment,
        "target_path": ask.target,
        "planner": ask.planner.map(PlannerChoice::name),
    });
    let (status, body) = post(base, "/v1/plans", Some(body)).await?;
    if status.is_success() {
        return planned(body);
    }
    Ok(refused(status, &body))
}

/// The service's plan view, read back as the plan local mode makes.
fn planned(body: Value) -> anyhow::Result<Outcome> {
    let view: PlanView =
        serde_json::from_value(body).context("the service's plan does not match this client's contract")?;
    let plan = view.to_plan().with_context(|| {
        format!(
            "the service's plan {} has no spec or planner (status {})",
            view.id,
            view.status.as_str()
        )
    })?;
    let base = view.base.as_ref().map(serde_json::to_value).transpose()?;
    let changes = base
        .as_ref()
        .map(|_| serde_json::to_value(&view.changes))
        .transpose()?;
    Ok(Outcome::Planned {
        id: view.id,
        plan: Box::new(plan),
        base,
        changes,
    })
}

/// A refusal's exit code (4xx but 429: bad input; else failure) and message.
fn refused(status: reqwest::StatusCode, body: &Value) -> Outcome {
    let message = body["error"]["message"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("the service answered HTTP {status}"));
    let code = if status.is_client_error() && status.as_u16() != 429 {
        exit::BAD_INPUT
    } else {
        exit::FAILURE
    };
    Outcome::Refused { code, message }
}

/// What the service said to a proposal.
pub(crate) enum Proposed {
    /// The proposal as `propose --format json` prints it.
    Made(Value),
    /// The base already holds the plan.
    NothingToChange,
    Refused {
        code: u8,
        message: String,
    },
}

/// `POST /v1/plans/{id}/proposal`.
pub(crate) async fn propose(server: &str, id: &str) -> anyhow::Result<Proposed> {
    let base = server.trim_end_matches('/');
    let (status, body) = post(base, &format!("/v1/plans/{id}/proposal"), None).await?;
    if status.is_success() {
        let result: ProposalResultView = serde_json::from_value(body)
            .context("the service's proposal does not match this client's contract")?;
        let mut proposal = serde_json::to_value(&result.proposal)?;
        if let Some(map) = proposal.as_object_mut() {
            // A convenience of the API, not part of the CLI's contract.
            map.remove("pr_url");
        }
        return Ok(Proposed::Made(proposal));
    }
    if body["error"]["code"] == "nothing_to_change" {
        return Ok(Proposed::NothingToChange);
    }
    Ok(match refused(status, &body) {
        Outcome::Refused { code, message } => Proposed::Refused { code, message },
        Outcome::Planned { .. } => unreachable!("refused() only refuses"),
    })
}

/// POSTs JSON (or nothing) with the bearer token from `GITINTENT_TOKEN`.
async fn post(base: &str, path: &str, body: Option<Value>) -> anyhow::Result<(reqwest::StatusCode, Value)> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()
        .context("building the HTTP client")?;
    let mut request = client.post(format!("{base}{path}"));
    if let Some(body) = body {
        request = request.json(&body);
    }
    if let Some(token) = std::env::var("GITINTENT_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty())
    {
        request = request.bearer_auth(token.trim());
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("cannot reach the gitintent service at {base}"))?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .with_context(|| format!("the service at {base} did not answer JSON (HTTP {status})"))?;
    Ok((status, body))
}
