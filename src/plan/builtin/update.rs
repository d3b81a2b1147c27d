//! Updates: the values a day-2 clause sets, and the change it becomes.
//!
//! [`values`] runs the create path's readers (`naming::image`,
//! `network::exposure`, `sizing::resources`, `scaling::replicas`) over one
//! clause, plus the day-2 forms they do not know ("scale X down to 2", "set
//! replicas of X to 3"). It refuses what an update cannot express
//! (autoscaling bounds, ports, storage) and a bare tag where an image is
//! needed. [`change`] builds the [`Change`] with the same defaults as a new
//! component (a value said once is both request and limit; a host gets TLS),
//! each recorded as an assumption, and [`merge`] folds two clauses about
//! one workload into one change.

use std::ops::Range;

use super::draft::Draft;
use super::lexicon::Class;
use super::target::{Target, DATA_STORES};
use super::text::Words;
use super::verbs::Verb;
use super::{naming, network, scaling, sizing};
use crate::plan::Error;
use crate::spec::{Change, Exposure, Operation, Quantities, Resources, Update};

/// Reads the values a clause sets.
pub(super) fn values(w: &mut Words, r: &Range<usize>, verb: Verb) -> Result<Draft, Error> {
    if verb == Verb::Remove {
        return Ok(Draft::default());
    }
    // Only a pinned reference is an image here ("set the image of checkout
    // to acme/checkout:2.4.0": `checkout` is the workload, not an image).
    let pinned: Vec<usize> = r.clone().filter(|&k| w.raw(k).contains([':', '@'])).collect();
    let image = pinned.into_iter().find_map(|k| naming::image(w, &(k..k + 1)));
    let mut d = Draft {
        image,
        expose: verb == Verb::Expose,
        ..Draft::default()
    };
    // "autoscaler" and "between 2 and 5" only ask for bounds in a change.
    if w.has(r.clone(), Class::AutoscaleWord) || w.has(r.clone(), &["autoscaler", "between"]) {
        return Err(unsupported("autoscaling bounds"));
    }
    if w.has(r.clone(), Class::PortNoun) {
        return Err(unsupported("container ports"));
    }
    network::exposure(w, r, &mut d);
    sizing::set_to(w, r, &mut d);
    sizing::resources(w, r, &mut d);
    if d.storage_size.is_some() || d.storage_class.is_some() {
        return Err(unsupported(
            "storage (a volume claim cannot be resized through its template)",
        ));
    }
    scaling::replicas(w, r, &mut d);
    if d.replicas.is_none() {
        replica_count(w, r, verb, &mut d)?;
    }
    if d.image.is_none() {
        bare_tag(w, r, verb)?;
    }
    Ok(d)
}

fn unsupported(what: &str) -> Error {
    Error::NotUnderstood {
        reason: format!(
            "the builtin planner does not change {what} of an existing workload; it changes replicas, the \
             image, CPU and memory, and exposure — edit the rest in a pull request or use the model planner"
        ),
        understood: vec![],
    }
}

/// "scale X to 3", "scale X down to 2", "set replicas of X to 3".
fn replica_count(w: &mut Words, r: &Range<usize>, verb: Verb, d: &mut Draft) -> Result<(), Error> {
    let noun = w.has(r.clone(), Class::ReplicaNoun);
    if verb != Verb::Scale && !noun {
        return Ok(());
    }
    let numbers: Vec<(usize, u32, usize)> = r
        .clone()
        .filter(|&k| w.free(k))
        .filter_map(|k| w.whole(k).map(|(n, len)| (k, n, len)))
        .filter(|&(k, _, len)| w.all_free(k..k + len))
        .collect();
    match numbers[..] {
        [] => Ok(()),
        [(k, n, len)] => {
            d.replicas = Some(n);
            let to = usize::from(k > r.start && w.is(k - 1, &["to", "="]));
            w.claim(k - to..k + len);
            Ok(())
        }
        _ => Err(Error::NotUnderstood {
            reason: "more than one replica count was given; say one, e.g. \"scale api to 3\"".into(),
            understood: vec![],
        }),
    }
}

/// Refuses "upgrade grafana to 10.4.1": a tag alone is not an image.
fn bare_tag(w: &Words, r: &Range<usize>, verb: Verb) -> Result<(), Error> {
    let about_image =
        matches!(verb, Verb::Image | Verb::Update) || w.has(r.clone(), &["image", "version", "tag"]);
    if !about_image {
        return Ok(());
    }
    for k in r.clone() {
        let raw = w.raw(k);
        let version = raw.strip_prefix(['v', 'V']).unwrap_or(raw);
        let looks = version.starts_with(|c: char| c.is_ascii_digit())
            && version.contains('.')
            && version
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        if w.free(k) && (looks || w.is(k.wrapping_sub(1), &["tag", "version"]) && w.is(k, &["latest"])) {
            return Err(Error::NotUnderstood {
                reason: format!(
                    "{raw:?} is a tag, not an image: give the full image with its tag (name:tag), e.g. \
                     \"upgrade grafana to grafana/grafana:{raw}\""
                ),
                understood: vec![],
            });
        }
    }
    Ok(())
}

/// Builds one change from a clause's target and values.
pub(super) fn change(verb: Verb, t: &Target, d: &mut Draft, understood: &[String]) -> Result<Change, Error> {
    let base = Change {
        operation: Operation::Delete,
        promote: None,
        target: t.name.clone(),
        kind: t.kind.map(str::to_string),
        set: None,
    };
    if verb == Verb::Remove {
        return Ok(base);
    }
    let resources = resources(d);
    let exposure = exposure(d, t, understood)?;
    let set = Update {
        replicas: d.replicas,
        image: d.image.clone(),
        container: None,
        resources,
        exposure,
    };
    if set.is_empty() {
        let mut seen = understood.to_vec();
        seen.extend(d.understood());
        return Err(Error::NotUnderstood {
            reason: format!(
                "nothing to change was understood for {}; say what to set, e.g. \"scale {0} to 3\", \"bump {0} \
                 to IMAGE:TAG\", \"give {0} 1Gi of memory\" or \"expose {0} at HOST\"",
                t.name
            ),
            understood: seen,
        });
    }
    Ok(Change {
        operation: Operation::Update,
        promote: None,
        set: Some(set),
        ..base
    })
}

/// The Ingress exposure asked for, if any; refused for a data store.
fn exposure(d: &mut Draft, t: &Target, understood: &[String]) -> Result<Option<Exposure>, Error> {
    if !d.expose && d.host.is_none() {
        return Ok(None);
    }
    if DATA_STORES.contains(&t.name.as_str()) {
        return Err(Error::NotUnderstood {
            reason: format!(
                "{} is a data store and is not served over HTTP through an Ingress; it cannot be exposed",
                t.name
            ),
            understood: understood.to_vec(),
        });
    }
    Ok(Some(super::draft::exposure_of(d, &t.name)))
}

/// CPU and memory as read; a value said once sets request and limit both.
fn resources(d: &mut Draft) -> Option<Resources> {
    let (req, lim) = (d.requests.clone(), d.limits.clone());
    if [&req.cpu, &req.memory, &lim.cpu, &lim.memory]
        .iter()
        .all(|q| q.is_none())
    {
        return None;
    }
    for (what, r, l) in [("cpu", &req.cpu, &lim.cpu), ("memory", &req.memory, &lim.memory)] {
        if let (Some(r), Some(l)) = (r, l) {
            if r == l {
                d.assumptions.push(format!(
                    "{what} request and limit both set to {r}; say \"request\" or \"limit\" to set only one"
                ));
            }
        }
    }
    Some(Resources {
        requests: req,
        limits: lim,
    })
}

/// Adds `change`, folding an update of the same target into the earlier one.
pub(super) fn merge(changes: &mut Vec<Change>, change: Change, questions: &mut Vec<String>) {
    let same = changes
        .iter_mut()
        .find(|c| c.target == change.target && c.kind == change.kind);
    let Some(old) = same else {
        changes.push(change);
        return;
    };
    match (&mut old.set, change.set) {
        (Some(a), Some(b)) => {
            let mut clash = |what: &str| {
                questions.push(format!(
                    "{} is given two {what} values; the first was used",
                    old.target
                ))
            };
            if a.replicas.is_some() && b.replicas.is_some() {
                clash("replica");
            }
            if a.image.is_some() && b.image.is_some() {
                clash("image");
            }
            if a.exposure.is_some() && b.exposure.is_some() {
                clash("exposure");
            }
            a.replicas = a.replicas.or(b.replicas);
            a.image = a.image.take().or(b.image);
            a.exposure = a.exposure.take().or(b.exposure);
            a.resources = merge_resources(a.resources.take(), b.resources);
        }
        // A delete and an update of the same workload: the delete wins, and it is said.
        (_, set) => {
            if set.is_some() || old.set.is_some() {
                questions.push(format!(
                    "{} is both changed and removed; the plan removes it",
                    old.target
                ));
            }
            old.operation = Operation::Delete;
            old.set = None;
        }
    }
}

/// Two clauses' resources for one target: the first's values, the second's
/// where the first has none.
fn merge_resources(x: Option<Resources>, y: Option<Resources>) -> Option<Resources> {
    match (x, y) {
        (Some(x), Some(y)) => Some(Resources {
            requests: Quantities {
                cpu: x.requests.cpu.or(y.requests.cpu),
                memory: x.requests.memory.or(y.requests.memory),
            },
            limits: Quantities {
                cpu: x.limits.cpu.or(y.limits.cpu),
                memory: x.limits.memory.or(y.limits.memory),
            },
        }),
        (x, y) => x.or(y),
    }
}
