//! Changes meant for several environments ("in staging and production",
//! "in all environments").
//!
//! The asked set is the spec's `environment` with its `environments`
//! ([`asked`]: `*` reads as every environment the repository has; a name
//! the repository does not have is an error). A change then resolves its
//! target in each asked environment and alters exactly the asked set's
//! builds:
//! - a shared base that only asked environments build is edited once,
//!   where it is written; an asked environment whose own patch or `images:`
//!   entry would still hide the new value gets that value written there too;
//! - any other workload gets what a one-environment change writes, once per
//!   environment: its own `images:` entry, its overlay's patch, or its own
//!   file;
//! - whatever would also change an environment not asked for is refused
//!   ([`Error::Reach`], [`Error::Shared`]), naming those environments.
//!
//! A promotion and a new component go to one environment (the spec check
//! refuses them with several); this module does not handle them.

use std::collections::BTreeSet;

use serde_json::Value;

use super::inventory::{Inventory, Workload};
use super::{delete, edit_in, effective, helm, resolve, update, within_reach, Edits, Error, Outcome, Scope};
use crate::spec::{Change, Operation, Spec, Update, ALL_ENVIRONMENTS};

/// The environments `spec` is meant for, `environment` first; `*` expanded
/// to the repository's environments. One environment is returned as it is
/// (the one-environment path checks it); for several, each must be one the
/// repository has.
pub fn asked(spec: &Spec, inv: &Inventory) -> Result<Vec<String>, Error> {
    let listed = spec.asked_environments();
    let known = inv.environments();
    if listed.iter().any(|e| e == ALL_ENVIRONMENTS) {
        if known.is_empty() {
            return Err(Error::UnknownEnvironments {
                unknown: vec!["all environments".into()],
                known: Vec::new(),
            });
        }
        let mut all: Vec<String> = known
            .iter()
            .filter(|e| **e == spec.environment)
            .cloned()
            .collect();
        all.extend(known.iter().filter(|e| **e != spec.environment).cloned());
        return Ok(all);
    }
    if listed.len() < 2 {
        return Ok(listed);
    }
    let unknown: Vec<String> = listed.iter().filter(|e| !known.contains(e)).cloned().collect();
    if !unknown.is_empty() {
        return Err(Error::UnknownEnvironments {
            unknown,
            known: known.to_vec(),
        });
    }
    Ok(listed)
}

/// Applies one update or delete for every environment of `asked` (two or
/// more); see the module docs.
pub(super) fn apply(
    edits: &mut Edits<'_>,
    out: &mut Outcome,
    change: &Change,
    asked: &[String],
    namespace: &str,
    within: &[String],
) -> Result<(), Error> {
    let inv = edits.inv;
    if change.operation == Operation::Promote {
        return Err(Error::NotApplicable {
            target: change.target.clone(),
            message: "a promotion goes into one environment; name one".into(),
        });
    }
    let before = edits.touched();
    let helm_from = out.applied.len();
    let mut found: Vec<(&str, &Workload)> = Vec::new();
    for env in asked {
        // A workload a Helm chart renders is changed through its values.
        if change.operation == Operation::Update && !inv.workloads.iter().any(|w| w.name == change.target) {
            if let Some(release) = helm::pick(edits, &change.target, env)? {
                helm::apply(edits, out, change, &release, env)?;
                continue;
            }
        }
        found.push((
            env,
            resolve::resolve(inv, change, Scope::Stated(env), namespace, within)?,
        ));
    }
    // Each Helm change pushed its own entry: they become the one of this change.
    let helm_applied: Vec<super::Applied> = out.applied.drain(helm_from..).collect();
    let set = change.set.clone().unwrap_or_default();
    let based = edit_bases(edits, out, change, &set, asked, &found)?;
    for (env, w) in &found {
        if based.contains(&w.path) && (change.operation == Operation::Delete || runs(edits, w, &set, env)?) {
            continue;
        }
        edit_in(edits, out, change, w, env)?;
    }
    let paths = edits.touched_since(&before);
    let (target, ns) = match found.first() {
        Some((_, w)) => (format!("{}/{}", w.kind, w.name), w.namespace.clone()),
        None => match helm_applied.first() {
            Some(a) => (a.target.clone(), a.namespace.clone()),
            None => (change.target.clone(), String::new()),
        },
    };
    out.applied
        .push(within_reach(inv, change.operation, target, &ns, paths, asked)?);
    Ok(())
}

/// Edits each shared base of `found` that only `asked` environments build,
/// once; returns their paths.
fn edit_bases(
    edits: &mut Edits<'_>,
    out: &mut Outcome,
    change: &Change,
    set: &Update,
    asked: &[String],
    found: &[(&str, &Workload)],
) -> Result<BTreeSet<String>, Error> {
    let mut based = BTreeSet::new();
    for (_, w) in found {
        let shared = w.environments.len() > 1;
        if !shared || !w.environments.iter().all(|e| asked.contains(e)) || based.contains(&w.path) {
            continue;
        }
        match change.operation {
            Operation::Update => update::apply(edits, w, set, &mut out.findings)?,
            Operation::Delete => delete::apply(edits, w, &mut out.findings)?,
            Operation::Promote => continue,
        }
        based.insert(w.path.clone());
        edits.notes.push(format!(
            "{}/{}: the shared {} is edited once; {} build it",
            w.kind,
            w.name,
            w.path,
            w.environments.join(", ")
        ));
    }
    Ok(based)
}

/// True when `environment` runs `w` with every value of `set` after the
/// edits so far (its own patches and `images:` entries applied).
fn runs(edits: &Edits<'_>, w: &Workload, set: &Update, environment: &str) -> Result<bool, Error> {
    let doc = effective::effective(edits, w, environment)?;
    if let Some(n) = set.replicas {
        if doc["spec"]["replicas"].as_u64() != Some(u64::from(n)) {
            return Ok(false);
        }
    }
    if set.image.is_none() && set.resources.is_none() {
        return Ok(true);
    }
    let name = update::choose_container(w, set)?.name.clone();
    let pod = update::pod_path(&w.kind).iter().fold(&doc, |v, seg| match seg {
        crate::yaml::edit::Seg::Key(k) => &v[k.as_str()],
        _ => v,
    });
    let Some(c) = pod["containers"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == name.as_str()))
    else {
        return Ok(false);
    };
    if set.image.as_ref().is_some_and(|i| c["image"] != i.as_str()) {
        return Ok(false);
    }
    if let Some(r) = &set.resources {
        for (section, q) in [("requests", &r.requests), ("limits", &r.limits)] {
            for (key, value) in [("cpu", &q.cpu), ("memory", &q.memory)] {
                let have = &c["resources"][section][key];
                if value.as_ref().is_some_and(|v| !same_quantity(have, v)) {
                    return Ok(false);
                }
            }
        }
    }
    Ok(true)
}

/// A quantity as written (`500m`, `1`, `1.0`) against the wanted one.
fn same_quantity(have: &Value, want: &str) -> bool {
    match have {
        Value::String(s) => s == want,
        Value::Number(n) => n.to_string() == want,
        _ => false,
    }
}
