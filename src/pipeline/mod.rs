//! The pipeline: intent -> spec -> manifests -> findings, shared by every front end.
//!
//! [`run`] plans with the chosen planner, moves plaintext credentials out of
//! the spec, renders, and validates. The same render-and-validate step is the
//! [`Critic`](crate::plan::Critic) the openai planner's repair loop consults, so the model sees
//! exactly the findings the user would. Nothing here writes files or talks to
//! git; front ends decide what to do with a [`Plan`].
//!
//! Files: `context.rs` (the [`Context`] and its loading), `review.rs`
//! ([`review`] and the whole-plan checks: several environments, not done,
//! blast radius), `check.rs` ([`check_files`], the gate), `critic.rs` (the
//! repair loop's critics), `tests.rs`.

use serde::Serialize;

use crate::change;
use crate::finding::Finding;
use crate::intent::Intent;
use crate::manifest::{File, InPlace};
use crate::plan::{Planner, Usage};
use crate::spec::{secrets, Spec};
use crate::Result;

mod check;
mod context;
mod critic;
mod review;

pub use check::check_files;
pub use context::Context;
pub use review::{review, Reviewed};

use critic::Remembering;
use review::review_in;

/// The outcome of planning one intent: the stable `plan --format json` contract.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// The intent as given, with credential-looking values redacted.
    pub intent: String,
    pub planner: crate::plan::PlannerName,
    pub model: Option<String>,
    pub prompt_version: Option<String>,
    pub spec: Spec,
    /// Every file the plan adds or modifies, with its full new content.
    pub files: Vec<File>,
    /// What each update or delete of an existing workload did.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<change::Applied>,
    /// Which of `files` the changes edited in place, and which files they
    /// remove (shown in `changes`, not in `files`).
    #[serde(skip)]
    pub in_place: InPlace,
    pub findings: Vec<Finding>,
    pub usage: Usage,
    pub attempts: u32,
    /// The model's last raw reply, for the service's audit trail; not part
    /// of the JSON contract (it may hold values the pipeline redacted).
    #[serde(skip)]
    pub raw_reply: Option<String>,
}

impl Plan {
    /// True when any finding is an error.
    pub fn has_errors(&self) -> bool {
        crate::finding::has_errors(&self.findings)
    }

    /// Takes in what the diff against the repository found: its conflicts and
    /// notes join the findings (errors first), and the kustomizations it wires
    /// join `files`, so `files` holds every file the plan adds or modifies.
    pub fn absorb(&mut self, changes: &crate::repo::Changeset) {
        self.findings.extend(changes.findings.iter().cloned());
        crate::finding::sort(&mut self.findings);
        for wired in changes.wiring_files() {
            if !self.files.iter().any(|f| f.path == wired.path) {
                self.files.push(wired);
            }
        }
    }
}

/// Plans, renders and validates one intent.
pub async fn run(intent: &Intent, planner: &Planner, ctx: &Context) -> Result<Plan> {
    let stated = intent.environment.is_some() || mentions_environment(&intent.text, ctx);
    let intent = match (&intent.environment, &ctx.config.default_environment) {
        (None, Some(default)) if !stated => Intent {
            environment: Some(default.clone()),
            ..intent.clone()
        },
        _ => intent.clone(),
    };
    // What the intent gave as credentials stays secret wherever the planner puts it.
    let known = secrets::credentials(&intent.text);
    let mut critic = Remembering::new(ctx, stated)
        .knowing(known.clone())
        .covering(&intent.text);
    // Where to look for the targets: `--target` and the paths the intent names.
    critic.aim.within = intent.target.iter().cloned().collect();
    critic
        .aim
        .within
        .extend(crate::plan::builtin::paths_in(&intent.text));
    critic.aim.replace_host = crate::plan::builtin::replaces_host(&intent.text);
    let existing = ctx.inventory.summary(intent.environment.as_deref());
    let planned = planner.plan(&intent, &existing, &critic).await?;
    let mut spec = planned.spec;
    if let Some(env) = &intent.environment {
        spec.environment = env.clone();
    }
    // What the planner did not list but the intent plainly asks for is still not done.
    crate::plan::coverage::complete(&intent.text, &mut spec);
    spec.normalize()?;
    let reviewed = match critic.take(&spec) {
        Some((final_spec, reviewed)) => {
            spec = final_spec;
            reviewed
        }
        None => review_in(&mut spec, ctx, stated, &known, &critic.aim)?,
    };
    Ok(Plan {
        intent: secrets::redact_text(&intent.text),
        planner: planned.planner,
        model: planned.model,
        prompt_version: planned.prompt_version,
        spec,
        files: reviewed.files,
        operations: reviewed.operations,
        in_place: reviewed.in_place,
        findings: reviewed.findings,
        usage: planned.usage,
        attempts: planned.attempts,
        raw_reply: planned.raw_reply.map(|raw| secrets::redact_known(&raw, &known)),
    })
}

/// Renders and validates a spec given as is (`plan --spec`): it is checked
/// as a model's reply would be ([`Spec::from_untrusted_json`] upstream), then
/// reviewed like any planned spec. The plan's planner is `spec`.
pub fn run_spec(mut spec: Spec, ctx: &Context) -> Result<Plan> {
    spec.normalize()?;
    let reviewed = review(&mut spec, ctx)?;
    Ok(Plan {
        intent: String::new(),
        planner: crate::plan::PlannerName::Spec,
        model: None,
        prompt_version: None,
        spec,
        files: reviewed.files,
        operations: reviewed.operations,
        in_place: reviewed.in_place,
        findings: reviewed.findings,
        usage: Usage::default(),
        attempts: 0,
        raw_reply: None,
    })
}

/// Whether the intent itself names an environment: the builtin planner's
/// one environment reader, plus the environments the repository has.
fn mentions_environment(text: &str, ctx: &Context) -> bool {
    let known: Vec<String> = ctx
        .config
        .environments
        .iter()
        .chain(&ctx.conventions.environments)
        .cloned()
        .collect();
    crate::plan::builtin::mentions_environment(text, &known)
}

#[cfg(test)]
mod tests;
