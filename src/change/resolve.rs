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

/// The workload `change` targets; `within` are files or directories of the
/// repository (`--target`, or paths the intent names) that narrow the
/// candidates to the workloads under them.
pub(crate) fn resolve<'i>(
    inv: &'i Inventory,
    change: &Change,
    scope: Scope<'_>,
    namespace: &str,
    within: &[String],
) -> Result<&'i Workload, Error> {
    if !inv.present {
        return Err(Error::NoRepository {
            target: change.target.clone(),
            operation: change.operation,
        });
    }
    if let Some(p) = within.iter().find(|p| !inv.has_path(p)) {
        return Err(Error::NoSuchPath { path: p.clone() });
    }
    let env = scope.environment();
    let named = named(inv, change, env);
    if named.is_empty() {
        return Err(not_found(inv, change, env));
    }
    let named = under_paths(named, change, within)?;
    let candidates = in_environment(named, change, scope)?;
    only_one(prefer_namespace(candidates, namespace), change, env)
}

/// The workloads named (and of the kind) `change` targets, or, when none
/// is, those the name `env`'s build gives (`namePrefix`/`nameSuffix`).
fn named<'i>(inv: &'i Inventory, change: &Change, env: &str) -> Vec<&'i Workload> {
    let kind_ok = |w: &Workload| {
        change
            .kind
            .as_deref()
            .is_none_or(|k| w.kind.eq_ignore_ascii_case(k))
    };
    let by_name = |name: &str| -> Vec<&Workload> {
        inv.workloads
            .iter()
            .filter(|w| w.name == name && kind_ok(w))
            .collect()
    };
    let named = by_name(&change.target);
    if !named.is_empty() {
        return named;
    }
    for (prefix, suffix) in inv.name_affixes(env) {
        let base = change
            .target
            .strip_prefix(prefix.as_str())
            .and_then(|t| t.strip_suffix(suffix.as_str()));
        if let Some(base) = base.filter(|b| !b.is_empty()) {
            let mut named = by_name(base);
            named.retain(|w| w.environments.iter().any(|e| e == env));
            if !named.is_empty() {
                return named;
            }
        }
    }
    Vec::new()
}

/// No workload has the name: the closest names among those `env` deploys
/// (all workloads when it deploys none).
fn not_found(inv: &Inventory, change: &Change, env: &str) -> Error {
    let in_env = |w: &&Workload| w.environments.is_empty() || w.environments.iter().any(|e| e == env);
    let here: Vec<&Workload> = inv.workloads.iter().filter(in_env).collect();
    let pool = if here.is_empty() {
        inv.workloads.iter().collect()
    } else {
        here
    };
    Error::NotFound {
        target: describe_target(change),
        environment: env.to_string(),
        closest: closest(&change.target, &pool),
    }
}

/// The workloads of `named` under one of `within` (all of them when
/// `within` is empty); none is an error listing where they are.
fn under_paths<'i>(
    named: Vec<&'i Workload>,
    change: &Change,
    within: &[String],
) -> Result<Vec<&'i Workload>, Error> {
    if within.is_empty() {
        return Ok(named);
    }
    let under: Vec<&Workload> = named
        .iter()
        .copied()
        .filter(|w| within.iter().any(|p| is_under(&w.path, p)))
        .collect();
    if under.is_empty() {
        let (found, picks) = choices(&named);
        return Err(Error::NotAtPath {
            target: describe_target(change),
            paths: within.to_vec(),
            found,
            picks,
        });
    }
    Ok(under)
}

/// Of several candidates, those in the spec's `namespace` when there are any.
fn prefer_namespace<'i>(candidates: Vec<&'i Workload>, namespace: &str) -> Vec<&'i Workload> {
    if candidates.len() <= 1 {
        return candidates;
    }
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
}

/// The one candidate left, or an ambiguity: several workloads, or one that
/// several environments deploy when `env` (only assumed) is not one of them.
fn only_one<'i>(candidates: Vec<&'i Workload>, change: &Change, env: &str) -> Result<&'i Workload, Error> {
    match candidates.as_slice() {
        // An assumed environment, and a target several environments deploy.
        [one] if one.environments.len() > 1 && !one.environments.iter().any(|e| e == env) => {
            let (candidates, picks) = choices(&[one]);
            Err(Error::Ambiguous {
                target: describe_target(change),
                candidates,
                picks,
                hint: format!(
                    "it is deployed by {}; say which environment, e.g. \"in {}\"",
                    one.environments.join(", "),
                    one.environments[0]
                ),
            })
        }
        [one] => Ok(one),
        many => {
            let (candidates, picks) = choices(many);
            Err(Error::Ambiguous {
                target: describe_target(change),
                candidates,
                hint: "several workloads have that name; pick one with the words after it or its path, or \
                       name its environment or namespace"
                    .into(),
                picks,
            })
        }
    }
}

/// The workloads of `named` that the scope's environment deploys (those no
/// environment claims when none does). When the environment was only
/// assumed and deploys none of them, all of them: the target's own
/// environment is used, and several are an ambiguity to resolve.
fn in_environment<'i>(
    named: Vec<&'i Workload>,
    change: &Change,
    scope: Scope<'_>,
) -> Result<Vec<&'i Workload>, Error> {
    let env = scope.environment();
    // Workloads the environment deploys win over ones no environment claims.
    let deployed: Vec<&Workload> = named
        .iter()
        .copied()
        .filter(|w| w.environments.iter().any(|e| e == env))
        .collect();
    if !deployed.is_empty() {
        return Ok(deployed);
    }
    if let Scope::Assumed(_) = scope {
        return Ok(named);
    }
    let here: Vec<&Workload> = named
        .iter()
        .copied()
        .filter(|w| w.environments.is_empty())
        .collect();
    if !here.is_empty() {
        return Ok(here);
    }
    let mut elsewhere: Vec<String> = named.iter().flat_map(|w| w.environments.clone()).collect();
    elsewhere.sort();
    elsewhere.dedup();
    Err(Error::WrongEnvironment {
        target: describe_target(change),
        environment: env.to_string(),
        found_in: elsewhere,
    })
}

/// True when `path` is `at` or lies under the directory `at`.
pub(crate) fn is_under(path: &str, at: &str) -> bool {
    path == at || path.strip_prefix(at).is_some_and(|rest| rest.starts_with('/'))
}

/// Each candidate with its path, kind, namespace and environments, and the
/// words that pick it; and the path that picks it (a front end's target
/// option): the directory that holds it when no other candidate shares that
/// directory, else its file.
fn choices(candidates: &[&Workload]) -> (Vec<String>, Vec<String>) {
    candidates
        .iter()
        .map(|w| {
            let dir = crate::repo::parent(&w.path);
            let shared = candidates
                .iter()
                .filter(|o| crate::repo::parent(&o.path) == dir)
                .count()
                > 1;
            let pick = if shared || dir.is_empty() {
                w.path.as_str()
            } else {
                dir
            };
            let ns = if w.namespace.is_empty() {
                "(none)"
            } else {
                w.namespace.as_str()
            };
            let envs = if w.environments.is_empty() {
                "none".to_string()
            } else {
                w.environments.join(", ")
            };
            let choice = format!(
                "{}/{} at {}, namespace {ns}, environments: {envs}: say \"{} in {pick}\"",
                w.kind, w.name, w.path, w.name
            );
            (choice, pick.to_string())
        })
        .unzip()
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
