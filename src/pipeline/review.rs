//! [`review`]: what the pipeline makes of a spec once planned. Secrets are
//! extracted, changes applied to the repository's workloads, new components
//! placed and rendered, and everything checked ([`super::check_files`]).
//!
//! The review also adds the findings only a whole plan shows: an environment
//! the repository does not have, parts of the intent not done, and changes
//! that reach environments nobody asked for (the blast radius). It writes
//! nothing.

use crate::change::{self, Inventory, Scope};
use crate::finding::{Finding, Severity};
use crate::manifest::{File, InPlace};
use crate::repo::{Layout, RepoConfig};
use crate::spec::{secrets, Spec};
use crate::{render, Result};

use super::check::gate;
use super::Context;

/// What [`review`] makes of a spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Reviewed {
    /// Rendered files of new components, then the files changes edit or add.
    pub files: Vec<File>,
    /// Sorted, errors first.
    pub findings: Vec<Finding>,
    pub operations: Vec<change::Applied>,
    pub in_place: InPlace,
}

/// Extracts secrets, applies changes, renders and validates; the spec's
/// environment is taken as stated.
pub fn review(spec: &mut Spec, ctx: &Context) -> Result<Reviewed> {
    review_in(spec, ctx, true, &[], &change::Aim::default())
}

/// [`review`], where `stated` says whether the intent named the environment
/// (when it did not, changes may move the spec to their targets' environment)
/// `known` holds the credentials the intent gave, and `aim` where the
/// changes' targets are looked for and how an existing host is treated.
pub(super) fn review_in(
    spec: &mut Spec,
    ctx: &Context,
    stated: bool,
    known: &[String],
    aim: &change::Aim,
) -> Result<Reviewed> {
    let mut findings = secrets::extract(spec, known);
    let asked = several_environments(spec, &ctx.inventory)?;
    let outcome = apply_changes(spec, ctx, stated || asked.len() > 1, aim)?;
    let asked = if asked.len() > 1 {
        asked
    } else {
        vec![spec.environment.clone()]
    };
    findings.extend(blast_radius(&outcome, &ctx.inventory, &asked));
    findings.extend(unknown_environment(spec, &ctx.config));
    if !spec.components.is_empty() {
        findings.extend(ctx.conventions.review(spec, &ctx.config));
    }
    findings.extend(not_done(spec));
    let rendered = render_new(spec, ctx, &mut findings)?;
    findings.extend(gate(&rendered.files, &outcome, ctx, &spec.environment));
    findings.extend(outcome.findings);
    crate::finding::sort(&mut findings);
    let mut files = rendered.files;
    files.extend(outcome.files);
    Ok(Reviewed {
        files,
        findings,
        operations: outcome.applied,
        in_place: InPlace {
            changed: outcome.modified.into_iter().chain(outcome.created).collect(),
            deleted: outcome.deleted,
            patches: outcome.patches,
            patched: outcome.merged.into_iter().map(|(_, after)| after).collect(),
        },
    })
}

/// Applies the spec's changes to the inventory. With `stated` false the
/// environment was only assumed, and the changes may move the spec to
/// where their targets live (said in an assumption).
fn apply_changes(spec: &mut Spec, ctx: &Context, stated: bool, aim: &change::Aim) -> Result<change::Outcome> {
    let scope = if stated {
        Scope::Stated(&spec.environment)
    } else {
        Scope::Assumed(&spec.environment)
    };
    let outcome = change::apply_aimed(spec, &ctx.inventory, scope, aim, &ctx.config.labels)?;
    spec.assumptions.extend(outcome.notes.iter().cloned());
    if let Some(env) = &outcome.environment {
        spec.assumptions.push(format!(
            "environment {env}: where {} lives (the intent named none)",
            outcome
                .applied
                .iter()
                .map(|a| a.target.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        spec.environment = env.clone();
    }
    Ok(outcome)
}

/// Places the spec's new components where the environment's build reaches
/// them and renders them there; the placement's findings, then render's,
/// join `findings`.
fn render_new(spec: &Spec, ctx: &Context, findings: &mut Vec<Finding>) -> Result<render::Rendered> {
    let placement = match spec.components.first() {
        Some(c) => {
            let configured = ctx.config.layout != RepoConfig::default().layout;
            let at = (spec.environment.as_str(), spec.namespace.as_str());
            Some(change::place(
                &ctx.inventory,
                &ctx.layout,
                configured,
                at,
                &c.name,
            )?)
        }
        None => None,
    };
    let layout = placement.as_ref().map_or(&ctx.layout, |p| &p.layout);
    let new_namespace = creates_namespace(spec, ctx, layout, placement.as_ref());
    findings.extend(placement.iter().flat_map(|p| p.findings.iter().cloned()));
    let mut rendered = render::render_in(
        spec,
        layout,
        &ctx.config.labels,
        &ctx.conventions.operators,
        new_namespace,
    )?;
    findings.append(&mut rendered.findings);
    Ok(rendered)
}

/// Whether the new app renders its own Namespace object: not when the
/// overlay it is placed in sets the namespace of everything it builds, and
/// otherwise as the repository's conventions say.
fn creates_namespace(
    spec: &Spec,
    ctx: &Context,
    layout: &Layout,
    placement: Option<&change::Placement>,
) -> bool {
    spec.components.first().is_some_and(|c| {
        let dir = layout.directory(&spec.environment, &spec.namespace, &c.name);
        placement.is_none_or(|p| p.namespace.is_none())
            && ctx
                .conventions
                .creates_namespace(&spec.namespace, &format!("{dir}/namespace.yaml"))
    })
}

/// An error when the repository lists its environments and the spec's is
/// not one of them.
fn unknown_environment(spec: &Spec, config: &RepoConfig) -> Option<Finding> {
    if config.environments.is_empty() || config.environments.contains(&spec.environment) {
        return None;
    }
    Some(Finding::new(
        Severity::Error,
        "environment-unknown",
        format!("environment/{}", spec.environment),
        "/environment",
        format!(
            "environment {:?} is not one of this repository's environments: {}",
            spec.environment,
            config.environments.join(", ")
        ),
    ))
}

/// The environments a spec is meant for ([`change::asked_environments`]);
/// `*` ("in all environments") is replaced in the spec by the repository's
/// environments, said in an assumption.
fn several_environments(spec: &mut Spec, inventory: &Inventory) -> Result<Vec<String>> {
    let asked = change::asked_environments(spec, inventory)?;
    if spec
        .environments
        .iter()
        .any(|e| e == crate::spec::ALL_ENVIRONMENTS)
    {
        spec.assumptions.push(format!(
            "all environments: {} (every environment this repository has)",
            asked.join(", ")
        ));
        spec.environment = asked[0].clone();
        spec.environments = asked.clone();
    }
    Ok(asked)
}

/// One warning per part of the intent the plan does not do.
fn not_done(spec: &Spec) -> Vec<Finding> {
    spec.unsupported
        .iter()
        .enumerate()
        .map(|(i, u)| {
            Finding::new(
                Severity::Warning,
                "not-done",
                "spec",
                format!("/unsupported/{i}"),
                format!("not done: \"{}\": {}", u.phrase, u.reason),
            )
        })
        .collect()
}

/// The reach invariant: a change alters the build of the environments it
/// was asked for (`asked`) and of no other. Each existing file the changes
/// edit or remove is checked against the environments that build it; one
/// that other environments build too is an error finding, so the plan
/// cannot be proposed (the change stage patches each environment's own
/// overlay instead whenever it can).
pub(super) fn blast_radius(
    outcome: &change::Outcome,
    inventory: &Inventory,
    asked: &[String],
) -> Vec<Finding> {
    let environment = asked.join(", ");
    let mut out = Vec::new();
    for path in outcome.modified.iter().chain(&outcome.deleted) {
        let reach = inventory.reach(path);
        let others: Vec<&String> = reach.iter().filter(|e| !asked.contains(e)).collect();
        if others.is_empty() {
            continue;
        }
        let mut finding = Finding::new(
            Severity::Error,
            "reach",
            format!("file/{path}"),
            "",
            format!(
                "{path} is part of the build of {}; a change asked for {environment} would also change {}",
                reach.join(", "),
                others.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", "),
            ),
        );
        finding.file = Some(path.clone());
        out.push(finding);
    }
    out
}
