//! The several environments a spec is meant for (`Spec::environments`,
//! issue 14): what a schema cannot check about them. Which environments
//! exist is the change stage's question (`change::asked_environments`),
//! not this module's.

use super::check::Checker;
use super::Spec;

/// The several environments of a plan: names (or `*` alone), `environment`
/// among them, changes only (a new component is placed in one environment).
pub(super) fn check(c: &mut Checker, spec: &mut Spec) {
    let all = spec.environments.iter().any(|e| e == super::ALL_ENVIRONMENTS);
    if all && spec.environments.len() > 1 {
        c.fail("/environments", "\"*\" (every environment) stands alone");
    }
    for (i, e) in spec.environments.iter_mut().enumerate() {
        if e != super::ALL_ENVIRONMENTS {
            c.name(&format!("/environments/{i}"), e);
        }
    }
    let mut seen = std::collections::HashSet::new();
    spec.environments.retain(|e| seen.insert(e.clone()));
    if !all && !spec.environments.is_empty() && !spec.environments.contains(&spec.environment) {
        c.fail(
            "/environments",
            format!(
                "lists the environments the plan is for, so it holds environment {:?} too",
                spec.environment
            ),
        );
    }
    if spec.environments.len() > 1 || all {
        if !spec.components.is_empty() {
            c.fail(
                "/environments",
                "new components are created in one environment (`environment`); plan each environment separately",
            );
        }
        if let Some(i) = spec
            .changes
            .iter()
            .position(|ch| ch.operation == super::Operation::Promote)
        {
            c.fail(
                format!("/changes/{i}"),
                "a promotion goes into one environment (`environment`); leave `environments` empty",
            );
        }
    }
}
