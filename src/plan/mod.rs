//! Planners: turn an [`Intent`] into a [`Spec`].
//!
//! Two planners share one entry point, [`Planner::plan`]:
//! - `builtin`: an offline, deterministic parser for common phrasing;
//! - `openai`: any OpenAI-compatible endpoint, with strict structured output,
//!   retries, and a bounded repair loop fed by a [`Critic`].
//!
//! A planner returns a checked spec or an error; it never returns YAML, file
//! paths or anything else the pipeline would use unchecked.

pub(crate) mod builtin;
pub mod coverage;
mod openai;
mod prompt;

pub use openai::{OpenAi, OpenAiConfig, ResponseFormat, TokenLimit};
pub use prompt::version as prompt_version;

use serde::{Deserialize, Serialize};

use crate::finding::Finding;
use crate::intent::Intent;
use crate::manifest::Workload;
use crate::spec::Spec;

/// Why planning failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The builtin planner could not find a deployable request in the text.
    #[error("the intent was not understood: {reason}{}", understood_suffix(.understood))]
    NotUnderstood {
        reason: String,
        /// What the parser did recognise, to help the user rephrase.
        understood: Vec<String>,
    },
    /// The intent asks for something gitintent refuses to do.
    #[error("the intent was refused: {0}")]
    Refused(String),
    /// The planner configuration is incomplete or wrong.
    #[error("planner configuration: {0}")]
    Config(String),
    /// A prompt template failed to render.
    #[error("prompt template {name}")]
    Prompt {
        name: String,
        #[source]
        source: minijinja::Error,
    },
    /// The model endpoint failed in a way retries did not fix.
    #[error("model endpoint: {0}")]
    Provider(String),
    /// The total deadline passed before the model answered.
    #[error("the model did not answer within {0:?}")]
    Timeout(std::time::Duration),
    /// The model kept returning output that is not a valid spec.
    #[error("the model's output was still invalid after {attempts} attempts; last problem:\n{last}")]
    RepairExhausted { attempts: u32, last: String },
}

fn understood_suffix(items: &[String]) -> String {
    if items.is_empty() {
        String::new()
    } else {
        format!(" (understood so far: {})", items.join("; "))
    }
}

/// Token usage reported by the model endpoint, summed over every call.
///
/// Some servers send no `usage` (or no `completion_tokens`): such calls are
/// counted in `unreported_calls`, the sums cover only the other calls, and
/// the JSON form writes the sums as `null` (unknown), never as 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "UsageJson", from = "UsageJson")]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Calls whose reply did not report both token counts.
    pub unreported_calls: u32,
}

impl Usage {
    /// Whether every call reported its tokens, so the sums are exact.
    pub fn is_known(&self) -> bool {
        self.unreported_calls == 0
    }
}

/// [`Usage`] as JSON: unknown sums are `null`.
#[derive(Serialize, Deserialize)]
struct UsageJson {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "is_zero")]
    unreported_calls: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl From<Usage> for UsageJson {
    fn from(u: Usage) -> UsageJson {
        let known = u.is_known();
        UsageJson {
            input_tokens: known.then_some(u.input_tokens),
            output_tokens: known.then_some(u.output_tokens),
            unreported_calls: u.unreported_calls,
        }
    }
}

impl From<UsageJson> for Usage {
    fn from(u: UsageJson) -> Usage {
        let unknown = u.input_tokens.is_none() || u.output_tokens.is_none();
        Usage {
            input_tokens: u.input_tokens.unwrap_or(0),
            output_tokens: u.output_tokens.unwrap_or(0),
            unreported_calls: u.unreported_calls.max(u32::from(unknown)),
        }
    }
}

/// Which planner made a plan: the `planner` field of every plan, stored
/// row, commit trailer and eval report. `builtin` and `openai` are the
/// planners a request may choose ([`PlannerName::parse_choice`]); `spec`
/// marks a plan rendered from a given spec (`plan --spec`) and `drift` a
/// proposal that restores drifted values (`drift --propose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = Planner)]
pub enum PlannerName {
    Builtin,
    Openai,
    Spec,
    Drift,
}

impl PlannerName {
    pub fn as_str(self) -> &'static str {
        match self {
            PlannerName::Builtin => "builtin",
            PlannerName::Openai => "openai",
            PlannerName::Spec => "spec",
            PlannerName::Drift => "drift",
        }
    }

    /// A planner a request may choose: `builtin` or `openai`.
    pub fn parse_choice(text: &str) -> Result<PlannerName, UnknownPlanner> {
        match text {
            "builtin" => Ok(PlannerName::Builtin),
            "openai" => Ok(PlannerName::Openai),
            other => Err(UnknownPlanner(other.to_string())),
        }
    }
}

impl std::fmt::Display for PlannerName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for PlannerName {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// A planner name no request may choose.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown planner {0:?}; use \"builtin\" or \"openai\"")]
pub struct UnknownPlanner(pub String);

/// A spec plus how it was made.
#[derive(Debug, Clone, Serialize)]
pub struct Planned {
    pub spec: Spec,
    /// `builtin` or `openai`.
    pub planner: PlannerName,
    /// The model name, for the openai planner.
    pub model: Option<String>,
    /// The prompt version, for the openai planner.
    pub prompt_version: Option<String>,
    pub usage: Usage,
    /// Model calls made, including repairs (0 for builtin).
    pub attempts: u32,
    /// The model's last raw reply, for the audit trail.
    #[serde(skip)]
    pub raw_reply: Option<String>,
}

/// Reviews a candidate spec (render + validate) for the repair loop.
///
/// The openai planner sends error findings back to the model and asks for a
/// corrected spec. The builtin planner does not use it.
pub trait Critic: Send + Sync {
    fn review(&self, spec: &Spec) -> Vec<Finding>;
}

/// A critic that finds nothing; for callers that validate afterwards.
pub struct NoCritic;

impl Critic for NoCritic {
    fn review(&self, _: &Spec) -> Vec<Finding> {
        Vec::new()
    }
}

/// The planner chosen for a request.
pub enum Planner {
    Builtin,
    OpenAi(OpenAi),
}

impl Planner {
    /// The planner's name as it appears in plans and trailers.
    pub fn name(&self) -> PlannerName {
        match self {
            Planner::Builtin => PlannerName::Builtin,
            Planner::OpenAi(_) => PlannerName::Openai,
        }
    }

    /// Plans one intent. `existing` are the workloads the repository holds
    /// (see `change::Inventory::summary`), which the model may change; the
    /// builtin planner reads targets from the words alone.
    pub async fn plan(
        &self,
        intent: &Intent,
        existing: &[&Workload],
        critic: &dyn Critic,
    ) -> Result<Planned, Error> {
        match self {
            Planner::Builtin => {
                let mut environments: Vec<String> = existing
                    .iter()
                    .flat_map(|w| w.environments.iter().cloned())
                    .collect();
                environments.sort();
                environments.dedup();
                let mut workloads: Vec<String> = existing.iter().map(|w| w.name.clone()).collect();
                workloads.sort();
                workloads.dedup();
                let spec = builtin::plan_knowing(intent, &environments, &workloads)?;
                Ok(Planned {
                    spec,
                    planner: PlannerName::Builtin,
                    model: None,
                    prompt_version: None,
                    usage: Usage::default(),
                    attempts: 0,
                    raw_reply: None,
                })
            }
            Planner::OpenAi(p) => p.plan(intent, existing, critic).await,
        }
    }
}
