//! Promotion: what a workload runs with in one environment, written into
//! another environment's own files.
//!
//! Input is a `promote` change (a workload, or `*` for every workload both
//! environments run; the source environment; the fields: image, replicas,
//! resources) and the spec's environment as the destination. For each
//! workload it compares the two builds ([`effective`]) and writes only what
//! differs, into files of the destination alone:
//! - an image that an `images:` entry of a kustomization only the
//!   destination builds already sets is changed in that entry;
//! - otherwise the workload's own file when only the destination builds it,
//!   or a patch in the destination's overlay when a base is shared
//!   ([`super::overlay`]), as an update would.
//!
//! The destination's build is then computed again and must run exactly the
//! source's values, or the promotion is refused with what still differs.
//! Equal values are "nothing to promote", an error, never an empty commit.
//! The `images:` entries are written by `promote/images.rs`.
//! It never writes a file another environment builds (the pipeline's reach
//! check holds it to that) and never edits the source environment.

use std::collections::BTreeMap;

use serde_json::Value;

use super::effective;
use super::inventory::Workload;
use super::{overlay, resolve, update, Applied, Edits, Error, Outcome, Scope};
use crate::finding::{Finding, Severity};
use crate::spec::{Change, Field, Operation, Quantities, Resources, Update, EVERY};

mod images;

/// Applies one `promote` change into `to` (the spec's environment).
pub(super) fn apply(
    edits: &mut Edits<'_>,
    out: &mut Outcome,
    change: &Change,
    to: &str,
    namespace: &str,
    within: &[String],
) -> Result<(), Error> {
    let promotion = source(edits, change, to)?;
    let from = promotion.from.as_str();
    let pairs = pairs(edits, change, from, to, namespace, within)?;
    let every = change.target == EVERY;
    let jobs: Vec<Job<'_>> = pairs
        .into_iter()
        .map(|(src, dst)| Job {
            src,
            dst,
            envs: (from, to),
            every,
        })
        .collect();
    let same = promote_all(edits, out, &jobs, &promotion.fields)?;
    if !same.is_empty() {
        edits.notes.push(format!(
            "already the same in {to} as in {from}, left as is: {}",
            same.join("; ")
        ));
    }
    Ok(())
}

/// The promotion of `change`, once its source is known to be another
/// environment of the repository.
fn source<'c>(edits: &Edits<'_>, change: &'c Change, to: &str) -> Result<&'c crate::spec::Promotion, Error> {
    let target = change.target.clone();
    let Some(promotion) = &change.promote else {
        return Err(Error::NotApplicable {
            target,
            message: "a promote needs the environment to copy from".into(),
        });
    };
    let from = promotion.from.as_str();
    if from == to {
        return Err(Error::NotApplicable {
            target,
            message: format!(
                "promoting from {from} to {to} copies nothing; name both, e.g. \"promote {} from staging to production\"",
                if change.target == EVERY { "api" } else { &change.target }
            ),
        });
    }
    let known = &edits.inv.environments;
    if !known.is_empty() && !known.iter().any(|e| e == from) {
        return Err(Error::UnknownEnvironment {
            environment: from.to_string(),
            known: known.clone(),
        });
    }
    Ok(promotion)
}

/// Promotes every job; what was already equal, or `NothingToPromote` when
/// nothing differed at all.
fn promote_all(
    edits: &mut Edits<'_>,
    out: &mut Outcome,
    jobs: &[Job<'_>],
    fields: &[Field],
) -> Result<Vec<String>, Error> {
    // What differs before any edit: an `images:` entry written for one
    // workload may promote the next one too.
    let differed: Vec<bool> = jobs
        .iter()
        .map(|job| differs(edits, job, fields))
        .collect::<Result<_, _>>()?;
    let mut same: Vec<String> = Vec::new();
    let mut promoted = 0;
    let mut entries: Vec<String> = Vec::new();
    for (job, differed) in jobs.iter().zip(differed) {
        let before = edits.written.clone();
        let mut equal = Vec::new();
        let paths: Vec<String> = if one(edits, out, job, fields, &mut equal)? {
            edits
                .written
                .iter()
                .filter(|(p, text)| before.get(*p) != Some(*text))
                .map(|(p, _)| p.clone())
                .collect()
        } else if differed {
            edits.notes.push(format!(
                "{}/{} is promoted by the same images: entry ({})",
                job.dst.kind,
                job.dst.name,
                entries.join(", ")
            ));
            entries.clone()
        } else {
            same.extend(equal);
            continue;
        };
        promoted += 1;
        entries.extend(paths.iter().filter(|p| is_kustomization(p)).cloned());
        entries.sort();
        entries.dedup();
        record(edits, out, job.dst, paths);
    }
    if promoted == 0 {
        let (from, to) = jobs.first().map_or(("", ""), |j| j.envs);
        return Err(Error::NothingToPromote {
            from: from.to_string(),
            to: to.to_string(),
            same,
        });
    }
    Ok(same)
}

/// Records what one workload's promotion did, with the environments its
/// files reach.
fn record(edits: &Edits<'_>, out: &mut Outcome, dst: &Workload, paths: Vec<String>) {
    let mut reach: Vec<String> = paths.iter().flat_map(|p| edits.inv.reach(p)).collect();
    reach.sort();
    reach.dedup();
    out.applied.push(Applied {
        operation: Operation::Promote,
        target: format!("{}/{}", dst.kind, dst.name),
        namespace: dst.namespace.clone(),
        paths,
        reach,
    });
}

fn is_kustomization(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    matches!(name, "kustomization.yaml" | "kustomization.yml" | "Kustomization")
}

/// True when the destination's build differs from the source's in `fields`.
fn differs(edits: &Edits<'_>, job: &Job<'_>, fields: &[Field]) -> Result<bool, Error> {
    let s = effective::effective(edits, job.src, job.envs.0)?;
    let d = effective::effective(edits, job.dst, job.envs.1)?;
    Ok(!differences(&s, &d, fields, &job.dst.name, &mut Vec::new()).is_empty())
}

/// The (source, destination) workloads a promotion covers.
fn pairs<'i>(
    edits: &Edits<'i>,
    change: &Change,
    from: &str,
    to: &str,
    namespace: &str,
    within: &[String],
) -> Result<Vec<(&'i Workload, &'i Workload)>, Error> {
    let inv = edits.inv;
    if change.target != EVERY {
        let src = resolve::resolve(inv, change, Scope::Stated(from), namespace, within)?;
        let dst = resolve::resolve(inv, change, Scope::Stated(to), namespace, within)?;
        return Ok(vec![(src, dst)]);
    }
    let runs_in = |w: &Workload, env: &str| w.environments.iter().any(|e| e == env);
    let under = |w: &Workload| within.is_empty() || within.iter().any(|p| resolve::is_under(&w.path, p));
    let mut out = Vec::new();
    for src in inv.workloads.iter().filter(|w| runs_in(w, from) && under(w)) {
        let dst = inv
            .workloads
            .iter()
            .filter(|d| d.kind == src.kind && d.name == src.name && runs_in(d, to) && under(d))
            .min_by_key(|d| (d.path != src.path, d.namespace != src.namespace));
        if let Some(dst) = dst {
            out.push((src, dst));
        }
    }
    if out.is_empty() {
        return Err(Error::NotApplicable {
            target: EVERY.into(),
            message: format!("no workload runs in both {from} and {to}; name the workload to promote"),
        });
    }
    Ok(out)
}

/// What a promotion of one workload writes.
#[derive(Default)]
struct Wanted {
    replicas: Option<u64>,
    /// Container → (image in the destination, image to run).
    images: BTreeMap<String, (String, String)>,
    /// Container → requests and limits to set.
    resources: BTreeMap<String, Resources>,
}

impl Wanted {
    fn is_empty(&self) -> bool {
        self.replicas.is_none() && self.images.is_empty() && self.resources.is_empty()
    }
}

/// One workload's promotion: the source and destination workloads, the
/// environments (from, to), and whether the request promotes every workload.
struct Job<'i> {
    src: &'i Workload,
    dst: &'i Workload,
    envs: (&'i str, &'i str),
    every: bool,
}

/// Promotes `job.src` (as the source runs it) onto `job.dst`; false when
/// nothing differs (`same` gets what is equal).
fn one(
    edits: &mut Edits<'_>,
    out: &mut Outcome,
    job: &Job<'_>,
    fields: &[Field],
    same: &mut Vec<String>,
) -> Result<bool, Error> {
    let (from, to) = job.envs;
    let dst = job.dst;
    let s = effective::effective(edits, job.src, from)?;
    let d = effective::effective(edits, dst, to)?;
    let wanted = differences(&s, &d, fields, &dst.name, same);
    let init = |d: &Value| {
        if fields.contains(&Field::Image) {
            effective::init_differences(&s, d, from, to)
        } else {
            Vec::new()
        }
    };
    if wanted.is_empty() {
        return only_init_differs(dst, &init(&d));
    }
    for (container, mut set) in updates(edits, job, &wanted)? {
        set.container = Some(container).filter(|c| !c.is_empty());
        write(edits, out, dst, &set, to)?;
    }
    verify(edits, dst, to, &wanted, from)?;
    // An `images:` entry also renames init containers' images; anything else leaves them.
    let left = init(&effective::effective(edits, dst, to)?);
    if !left.is_empty() {
        out.findings.push(Finding::new(
            Severity::Warning,
            "promote-init-containers",
            format!("{}/{}", dst.kind, dst.name),
            "",
            format!(
                "init containers are not promoted and still differ: {}; change them by hand if they should follow",
                left.join("; ")
            ),
        ));
    }
    Ok(true)
}

/// When nothing a promotion copies differs: false ("nothing to do") unless
/// the init containers (`left`) differ, which a promotion does not copy.
fn only_init_differs(dst: &Workload, left: &[String]) -> Result<bool, Error> {
    if left.is_empty() {
        return Ok(false);
    }
    Err(Error::NotApplicable {
        target: format!("{}/{}", dst.kind, dst.name),
        message: format!(
            "only its init containers differ ({}); a promotion does not copy init containers, so change them by hand",
            left.join("; ")
        ),
    })
}

/// The updates, by container, that give `job.dst` what `wanted` holds (an
/// image an `images:` entry sets is written there instead), each said in a
/// note.
fn updates(edits: &mut Edits<'_>, job: &Job<'_>, wanted: &Wanted) -> Result<BTreeMap<String, Update>, Error> {
    let (from, dst) = (job.envs.0, job.dst);
    let mut updates: BTreeMap<String, Update> = BTreeMap::new();
    for (container, (old, new)) in &wanted.images {
        if !images::through_entry(edits, job, old, new)? {
            updates.entry(container.clone()).or_default().image = Some(new.clone());
        }
        edits.notes.push(format!(
            "{}/{}: image {old} → {new}, as {from} runs it",
            dst.kind, dst.name
        ));
    }
    for (container, r) in &wanted.resources {
        updates.entry(container.clone()).or_default().resources = Some(r.clone());
        edits.notes.push(format!(
            "{}/{}: the resources of container {container} copied from {from}",
            dst.kind, dst.name
        ));
    }
    if let Some(n) = wanted.replicas {
        let first = dst.containers.first().map(|c| c.name.clone()).unwrap_or_default();
        updates.entry(first).or_default().replicas = Some(n as u32);
        edits.notes.push(format!(
            "{}/{}: {n} replicas, as {from} runs it",
            dst.kind, dst.name
        ));
    }
    Ok(updates)
}

/// The values of `fields` where `d` (the destination's build) differs from `s`.
fn differences(s: &Value, d: &Value, fields: &[Field], name: &str, same: &mut Vec<String>) -> Wanted {
    let mut wanted = Wanted::default();
    let theirs = containers(d);
    for field in fields {
        match field {
            Field::Replicas => match (s["spec"]["replicas"].as_u64(), d["spec"]["replicas"].as_u64()) {
                (Some(a), b) if Some(a) != b => wanted.replicas = Some(a),
                (Some(a), _) => same.push(format!("{name} replicas {a}")),
                (None, _) => same.push(format!("{name} replicas (not set in the source)")),
            },
            Field::Image => {
                for (c, ours) in containers(s) {
                    let (Some(new), Some(old)) = (
                        ours["image"].as_str(),
                        theirs.get(&c).and_then(|t| t["image"].as_str()),
                    ) else {
                        continue;
                    };
                    if new == old {
                        same.push(format!("{name} image {new}"));
                    } else {
                        wanted.images.insert(c, (old.to_string(), new.to_string()));
                    }
                }
            }
            Field::Resources => {
                for (c, ours) in containers(s) {
                    let Some(t) = theirs.get(&c) else { continue };
                    let r = resources(&ours["resources"]);
                    let empty = r.requests == Quantities::default() && r.limits == Quantities::default();
                    if empty || resources(&t["resources"]) == r {
                        same.push(format!("{name} resources of {c}"));
                    } else {
                        wanted.resources.insert(c, r);
                    }
                }
            }
        }
    }
    wanted
}

/// A workload document's containers by name.
fn containers(doc: &Value) -> BTreeMap<String, Value> {
    let pod = if doc["kind"] == "CronJob" {
        &doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    } else {
        &doc["spec"]["template"]["spec"]
    };
    pod["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| Some((c["name"].as_str()?.to_string(), c.clone())))
        .collect()
}

/// CPU and memory requests and limits of a container's `resources`.
fn resources(r: &Value) -> Resources {
    let q = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let section = |s: &Value| Quantities {
        cpu: q(&s["cpu"]),
        memory: q(&s["memory"]),
    };
    Resources {
        requests: section(&r["requests"]),
        limits: section(&r["limits"]),
    }
}

/// Writes `set` as an update would: in `dst`'s file when only `to` builds
/// it, else as a patch in `to`'s overlay.
fn write(
    edits: &mut Edits<'_>,
    out: &mut Outcome,
    dst: &Workload,
    set: &Update,
    to: &str,
) -> Result<(), Error> {
    let reach = edits.inv.reach(&dst.path);
    if !reach.iter().any(|e| e != to) {
        return update::apply(edits, dst, set, &mut out.findings);
    }
    let Some(k) = overlay::overlay_for(edits, &dst.path, to) else {
        return Err(Error::Shared {
            target: format!("{}/{}", dst.kind, dst.name),
            path: dst.path.clone(),
            environments: reach,
            why: format!("{to} has no overlay kustomization to patch it in"),
        });
    };
    if set.replicas.is_some() {
        update::check_scalable(dst, &mut out.findings, edits)?;
    }
    let patched = overlay::update(edits, dst, set, &k, to)?;
    out.add_patches(patched.patches);
    match out.merged.iter_mut().find(|(_, a)| a.path == patched.after.path) {
        Some(entry) => entry.1 = patched.after,
        None => out.merged.push((patched.before, patched.after)),
    }
    Ok(())
}

/// Refuses when the destination's build still differs from what was asked.
fn verify(edits: &Edits<'_>, dst: &Workload, to: &str, wanted: &Wanted, from: &str) -> Result<(), Error> {
    let d = effective::effective(edits, dst, to)?;
    let theirs = containers(&d);
    let mut wrong: Vec<String> = Vec::new();
    if let Some(n) = wanted.replicas {
        if d["spec"]["replicas"].as_u64() != Some(n) {
            wrong.push(format!("replicas {} instead of {n}", d["spec"]["replicas"]));
        }
    }
    for (c, (_, new)) in &wanted.images {
        let now = theirs
            .get(c)
            .and_then(|t| t["image"].as_str())
            .unwrap_or_default();
        if now != new {
            wrong.push(format!("container {c} would run {now} instead of {new}"));
        }
    }
    for (c, r) in &wanted.resources {
        let now = resources(theirs.get(c).map_or(&Value::Null, |t| &t["resources"]));
        let differs = |a: &Quantities, b: &Quantities| {
            a.cpu.is_some() && a.cpu != b.cpu || a.memory.is_some() && a.memory != b.memory
        };
        if differs(&r.requests, &now.requests) || differs(&r.limits, &now.limits) {
            wrong.push(format!("container {c} would not get the resources {from} has"));
        }
    }
    if wrong.is_empty() {
        return Ok(());
    }
    let chain = effective::chain(edits, &dst.path, to);
    Err(Error::NotApplicable {
        target: format!("{}/{}", dst.kind, dst.name),
        message: format!(
            "after the edit, {to} would still differ from {from}: {}; something later in its build ({}) sets it, so change it by hand",
            wrong.join("; "),
            if chain.is_empty() { dst.path.clone() } else { chain.join(" → ") }
        ),
    })
}
