//! Finding the workload a change names, or saying precisely why not.
//!
//! A target resolves by exact name (and kind, when given) among the
//! workloads of the plan's environment. A workload no environment claims
//! matches any environment (a repository without environments), unless one
//! the environment does deploy has the same name. When the
//! intent did not state an environment and the target lives in exactly one,
//! that one is used. Anything else is an [`Error`] that lists what exists:
//! the closest names, the environments holding the target, or the
//! candidates to choose between. Nothing is guessed.

use super::inventory::{Inventory, Workload};
use super::Error;
use crate::spec::Change;

/// How far the plan's environment binds the search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// The intent (or the caller) named this environment.
    Stated(&'a str),
    /// The planner chose this environment; the target's own wins if it has one.
    Assumed(&'a str),
}

impl<'a> Scope<'a> {
    pub fn environment(&self) -> &'a str {
        match self {
            Scope::Stated(e) | Scope::Assumed(e) => e,
        }
    }
}

/// The workload `change` targets.
pub(crate) fn resolve<'i>(
    inv: &'i Inventory,
    change: &Change,
    scope: Scope<'_>,
    namespace: &str,
) -> Result<&'i Workload, Error> {
    if !inv.present {
        return Err(Error::NoRepository {
            target: change.target.clone(),
            operation: change.operation,
        });
    }
    let kind_ok = |w: &Workload| {
        change
            .kind
            .as_deref()
            .is_none_or(|k| w.kind.eq_ignore_ascii_case(k))
    };
    let named: Vec<&Workload> = inv
        .workloads
        .iter()
        .filter(|w| w.name == change.target && kind_ok(w))
        .collect();
    let env = scope.environment();
    let in_env = |w: &&Workload| w.environments.is_empty() || w.environments.iter().any(|e| e == env);
    if named.is_empty() {
        let pool: Vec<&Workload> = {
            let here: Vec<&Workload> = inv.workloads.iter().filter(in_env).collect();
            if here.is_empty() {
                inv.workloads.iter().collect()
            } else {
                here
            }
        };
        return Err(Error::NotFound {
            target: describe_target(change),
            environment: env.to_string(),
            closest: closest(&change.target, &pool),
        });
    }
    // Workloads the environment deploys win over ones no environment claims.
    let deployed: Vec<&Workload> = named
        .iter()
        .copied()
        .filter(|w| w.environments.iter().any(|e| e == env))
        .collect();
    let here: Vec<&Workload> = if deployed.is_empty() {
        named.iter().copied().filter(in_env).collect()
    } else {
        deployed
    };
    let candidates = if !here.is_empty() {
        here
    } else {
        let mut elsewhere: Vec<String> = named.iter().flat_map(|w| w.environments.clone()).collect();
        elsewhere.sort();
        elsewhere.dedup();
        match scope {
            Scope::Assumed(_) if elsewhere.len() == 1 => named,
            Scope::Assumed(_) => {
                return Err(Error::Ambiguous {
                    target: describe_target(change),
                    candidates: named.iter().map(|w| describe(w)).collect(),
                    hint: "it exists in several environments; say which, e.g. \"in staging\"".into(),
                })
            }
            Scope::Stated(_) => {
                return Err(Error::WrongEnvironment {
                    target: describe_target(change),
                    environment: env.to_string(),
                    found_in: elsewhere,
                })
            }
        }
    };
    let candidates = if candidates.len() > 1 {
        let same_ns: Vec<&Workload> = candidates
            .iter()
            .copied()
            .filter(|w| w.namespace == namespace)
            .collect();
        if same_ns.is_empty() {
            candidates
        } else {
            same_ns
        }
    } else {
        candidates
    };
    match candidates.as_slice() {
        [one] => Ok(one),
        many => Err(Error::Ambiguous {
            target: describe_target(change),
            candidates: many.iter().map(|w| describe(w)).collect(),
            hint: "name the kind or the namespace to choose one".into(),
        }),
    }
}

fn describe_target(change: &Change) -> String {
    match &change.kind {
        Some(kind) => format!("{kind}/{}", change.target),
        None => change.target.clone(),
    }
}

/// `Deployment/api in namespace shop (clusters/production/apps/api/deployment.yaml)`.
pub(crate) fn describe(w: &Workload) -> String {
    let ns = if w.namespace.is_empty() {
        String::new()
    } else {
        format!(" in namespace {}", w.namespace)
    };
    format!("{}/{}{ns} ({})", w.kind, w.name, w.path)
}

/// Up to five workloads whose names are nearest to `target`, nearest first.
fn closest(target: &str, pool: &[&Workload]) -> Vec<String> {
    let mut scored: Vec<(usize, &Workload)> = pool
        .iter()
        .map(|w| {
            let d = distance(target, &w.name);
            // A name containing the target (or the other way round) is close whatever its length.
            let d = if w.name.contains(target) || target.contains(w.name.as_str()) {
                d.min(2)
            } else {
                d
            };
            (d, *w)
        })
        .filter(|(d, w)| *d <= (w.name.len().max(target.len()) / 2).max(2))
        .collect();
    scored.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.name.cmp(&b.1.name)));
    let mut out: Vec<String> = Vec::new();
    for (_, w) in scored {
        let d = describe(w);
        if !out.contains(&d) {
            out.push(d);
        }
        if out.len() == 5 {
            break;
        }
    }
    out
}

/// Levenshtein distance over bytes (names are ASCII DNS labels).
fn distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            let next = (row[j] + 1).min(row[j + 1] + 1).min(prev + cost);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_edits() {
        assert_eq!(distance("checkout", "checkout"), 0);
        assert_eq!(distance("chekout", "checkout"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("api-gateway", "api-gw"), 5);
    }
}
