//! Day-2 intents: changes to workloads the repository already holds.
//!
//! [`plan`] recognises an intent that starts (after "please", "can you", …)
//! with a day-2 verb and turns it into a spec whose `changes` update or
//! delete named workloads; it returns `None` for everything else, which is a
//! create. The verbs:
//! - scale: `scale X to 5`, `scale X down to 2`, `run 4 replicas of X`,
//!   `set replicas of X to 3`;
//! - image: `bump|update|upgrade|roll out X to acme/x:2.4.0` (a full image
//!   with a pinned tag; a bare tag such as `10.4.1` is refused, since the
//!   repository part is not known here);
//! - resources: `give X 1Gi of memory` (request and limit, said in an
//!   assumption), `set cpu of X to 500m`, `limit X to 1Gi memory` (limit
//!   only), `request 250m cpu for X` (request only);
//! - expose: `expose X at host.example.com[/path] [with tls]`, TLS on by
//!   default for a host, as for a new component;
//! - remove: `remove|delete|decommission|uninstall|tear down X`.
//!
//! Several clauses joined by "and", "then" or a comma each start with a verb
//! ("scale api to 3 and bump web to acme/web:2"); "it" refers back to the
//! previous clause's target. A verb followed by "a", "an", "new", "me" or
//! "us" ("give me a redis", "set up") is a create. Values are read by the
//! same readers as for a create (`sizing`, `scaling`, `network`, `naming`);
//! the target by [`target`].
//!
//! It refuses rather than guesses: no target or a vague one ("scale the
//! app", "bump it"), two names in one clause, a change it cannot express
//! (autoscaling bounds, storage size, ports, variables), a create mixed with
//! a change ("deploy redis and scale api to 3": two requests), exposing a
//! data store through an Ingress, and destructive removals (a cluster, a
//! namespace, data or volumes, "everything"). It never checks that the
//! target exists: that is `crate::change`, against the repository.

use std::ops::Range;

use super::draft::Draft;
use super::target::{self, Missing, Target, DATA_STORES, FILLER, PRONOUNS};
use super::text::{Words, DETERMINERS, STOP};
use super::{credentials, naming, network, parse, scaling, scope, sizing};
use crate::intent::Intent;
use crate::plan::Error;
use crate::spec::{Change, Exposure, Operation, Quantities, Resources, Spec, Update};

/// What a clause's verb asks for; it decides the examples in errors and
/// which bare numbers are replica counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Scale,
    Image,
    Resources,
    Expose,
    Update,
    Remove,
}

impl Verb {
    fn example(self) -> &'static str {
        match self {
            Verb::Scale => "scale api-gateway to 5",
            Verb::Image => "bump checkout to acme/checkout:2.4.0",
            Verb::Resources => "give orders-worker 1Gi of memory",
            Verb::Expose => "expose grafana at grafana.example.com",
            Verb::Update => "set replicas of api to 3",
            Verb::Remove => "remove memcached from staging",
        }
    }
}

const VERBS: &[(&str, Verb)] = &[
    ("scale", Verb::Scale),
    ("rescale", Verb::Scale),
    ("bump", Verb::Image),
    ("upgrade", Verb::Image),
    ("downgrade", Verb::Image),
    ("rollout", Verb::Image),
    ("update", Verb::Update),
    ("change", Verb::Update),
    ("set", Verb::Update),
    ("modify", Verb::Update),
    ("adjust", Verb::Update),
    ("give", Verb::Resources),
    ("limit", Verb::Resources),
    ("cap", Verb::Resources),
    ("request", Verb::Resources),
    ("resize", Verb::Resources),
    ("increase", Verb::Resources),
    ("raise", Verb::Resources),
    ("lower", Verb::Resources),
    ("reduce", Verb::Resources),
    ("decrease", Verb::Resources),
    ("allocate", Verb::Resources),
    ("expose", Verb::Expose),
    ("publish", Verb::Expose),
    ("remove", Verb::Remove),
    ("delete", Verb::Remove),
    ("destroy", Verb::Remove),
    ("uninstall", Verb::Remove),
    ("decommission", Verb::Remove),
    ("undeploy", Verb::Remove),
    ("teardown", Verb::Remove),
    ("retire", Verb::Remove),
];
/// Two-word verbs.
const PHRASES: &[(&str, &str, Verb)] = &[
    ("roll", "out", Verb::Image),
    ("roll", "back", Verb::Image),
    ("tear", "down", Verb::Remove),
    ("take", "down", Verb::Remove),
];
/// Words before the verb that do not change the request.
const LEAD_IN: &[&str] = &[
    "please", "pls", "can", "could", "would", "will", "you", "kindly", "now", "lets", "let's", "let", "us",
    "i", "we", "want", "need", "to", "go", "ahead", "and", "hey", "just", "also", "then", "i'd", "we'd",
    "like", "ok", "okay",
];
/// Words after a verb that make it a create ("give me a redis", "set up").
const CREATES: &[&str] = &["a", "an", "new", "another", "me", "us", "up"];
/// Verbs that start a create clause.
const CREATE_VERBS: &[&str] = &[
    "deploy",
    "create",
    "add",
    "install",
    "launch",
    "provision",
    "spin",
    "stand",
];
/// Verbs that destroy data: never planned.
const WIPES: &[&str] = &["drop", "purge", "wipe", "erase", "truncate", "nuke"];
/// What a removal may not take away.
const DATA: &[&str] = &[
    "data",
    "pvc",
    "pvcs",
    "pv",
    "pvs",
    "persistentvolume",
    "persistentvolumes",
    "persistentvolumeclaim",
    "persistentvolumeclaims",
    "volume",
    "volumes",
    "disk",
    "disks",
    "storage",
    "backup",
    "backups",
    "table",
    "tables",
];
const SCOPES: &[&str] = &[
    "cluster",
    "clusters",
    "namespace",
    "namespaces",
    "ns",
    "node",
    "nodes",
    "environment",
];
const BULK: &[&str] = &["everything", "all", "every", "whole", "entire", "anything"];
const REPLICA_NOUNS: &[&str] = &[
    "replica",
    "replicas",
    "instance",
    "instances",
    "copies",
    "copy",
    "pods",
    "pod",
];

/// The day-2 verb at token `i` and how many tokens it spans.
fn verb_at(w: &Words, i: usize) -> Option<(Verb, usize)> {
    if let Some((_, _, v)) = PHRASES.iter().find(|(a, b, _)| w.phrase(i, &[a, b])) {
        return Some((*v, 2));
    }
    if let Some((_, v)) = VERBS.iter().find(|(word, _)| w.is(i, &[word])) {
        // "scale down api", "scale api down": the particle goes with the verb.
        let particle = *v == Verb::Scale && w.is(i + 1, &["up", "down", "out", "in"]);
        return Some((*v, 1 + usize::from(particle)));
    }
    // "run 4 replicas of the orders worker"
    if w.is(i, &["run", "keep"]) {
        let (_, len) = w.whole(i + 1)?;
        if w.is(i + 1 + len, REPLICA_NOUNS) && w.is(i + 2 + len, &["of"]) {
            return Some((Verb::Scale, 1));
        }
    }
    None
}

/// The first token after the polite lead-in ("please", "can you").
fn first_word(w: &Words, from: usize) -> usize {
    w.skip(from, LEAD_IN, 8)
}

/// True when the verb at `i` (spanning `len`) starts a create instead.
fn creates(w: &Words, i: usize, len: usize, verb: Verb) -> bool {
    verb != Verb::Remove && (w.is(i + len, CREATES) || w.phrase(i, &["set", "up"]))
}

/// The clauses of a day-2 intent: token ranges, each starting with its verb.
fn clauses(w: &Words) -> Result<Vec<(Verb, Range<usize>)>, Error> {
    let start = first_word(w, 0);
    let mut starts: Vec<(Verb, usize, usize)> = Vec::new();
    let Some((verb, len)) = verb_at(w, start) else {
        return Ok(Vec::new());
    };
    starts.push((verb, start, len));
    let mut i = start + len;
    while i < w.len() {
        let joined = w.pause(i - 1) || w.is(i - 1, &["and", "then", "&", "also"]);
        let k = w.skip(i, &["then", "also", "please", "and"], 3);
        if joined {
            if let Some((v, len)) = verb_at(w, k).filter(|(v, len)| !creates(w, k, *len, *v)) {
                starts.push((v, k, len));
                i = k + len;
                continue;
            }
            if w.is(k, CREATE_VERBS) || w.phrase(k, &["set", "up"]) {
                return Err(mixed(w, k));
            }
        }
        i += 1;
    }
    let mut out = Vec::new();
    for (n, (v, at, _)) in starts.iter().enumerate() {
        let end = starts.get(n + 1).map_or(w.len(), |next| next.1);
        out.push((*v, *at..end));
    }
    Ok(out)
}

/// Where each clause's verb is and how long it is.
fn verbs(w: &Words, clauses: &[(Verb, Range<usize>)]) -> Vec<(usize, usize)> {
    clauses
        .iter()
        .filter_map(|(_, r)| verb_at(w, r.start).map(|(_, len)| (r.start, len)))
        .collect()
}

fn mixed(w: &Words, at: usize) -> Error {
    let words: Vec<&str> = (at..w.len().min(at + 4)).map(|k| w.raw(k)).collect();
    Error::NotUnderstood {
        reason: format!(
            "the intent both creates something (\"{}\") and changes what exists; send them as two requests, \
             e.g. \"deploy redis in staging\" and then \"scale api to 3 in staging\"",
            words.join(" ")
        ),
        understood: vec![],
    }
}

/// In a create intent, a later clause that changes an existing workload
/// ("deploy redis and scale api to 3"): the error to return.
pub(super) fn change_inside_create(w: &Words) -> Option<Error> {
    for i in 1..w.len() {
        if !(w.pause(i - 1) || w.is(i - 1, &["and", "then", "&"])) {
            continue;
        }
        let k = w.skip(i, &["then", "also", "please", "and"], 3);
        let Some((verb, len)) = verb_at(w, k) else {
            continue;
        };
        if creates(w, k, len, verb) {
            continue;
        }
        // "... and limit it to 1 cpu" is about the new component.
        let object = w.skip(k + len, DETERMINERS, 2);
        if target::namey(w, object) && !w.is(object, FILLER) && !w.is(object, PRONOUNS) {
            return Some(Error::NotUnderstood {
                reason: format!(
                    "the intent both creates something and changes an existing workload (\"{} {}\"); send them \
                     as two requests, e.g. \"deploy redis in staging\" and then \"{}\"",
                    w.raw(k),
                    w.raw(object),
                    verb.example()
                ),
                understood: vec![],
            });
        }
    }
    None
}

/// Plans a day-2 intent; `None` when the intent is not one (a create).
pub(super) fn plan(intent: &Intent) -> Option<Result<Spec, Error>> {
    let w = Words::new(&intent.text);
    let start = first_word(&w, 0);
    if w.is(start, WIPES) {
        return Some(Err(wipe()));
    }
    let (verb, len) = verb_at(&w, start)?;
    if creates(&w, start, len, verb) {
        return None;
    }
    // "expose the shop using image acme/shop:1": a new component, exposed.
    if matches!(verb, Verb::Expose | Verb::Scale | Verb::Resources) {
        let mut probe = Words::new(&intent.text);
        let first = match clauses(&probe) {
            Ok(c) => c.first().map_or(0..0, |(_, r)| r.clone()),
            Err(e) => return Some(Err(e)),
        };
        if naming::image(&mut probe, &first).is_some() {
            return None;
        }
    }
    // "roll out acme/api:1.2 to production" names no workload: a create.
    let rollout = w.phrase(start, &["roll", "out"]) || w.is(start, &["rollout"]);
    read(intent, w, rollout).transpose()
}

fn wipe() -> Error {
    Error::Refused(
        "gitintent never deletes data, volumes, clusters or namespaces; to remove one workload say \
         \"remove NAME\" (its volumes are kept)"
            .into(),
    )
}

/// Reads the clauses into changes; `Ok(None)` when a roll-out names no
/// workload, which makes it a create.
fn read(intent: &Intent, mut w: Words, rollout: bool) -> Result<Option<Spec>, Error> {
    let clauses = clauses(&w)?;
    // The verbs are read; the clause keeps them for "limit"/"request" (sizing).
    w.claim(0..first_word(&w, 0));
    for ((verb, r), (at, len)) in clauses.iter().zip(verbs(&w, &clauses)) {
        if *verb == Verb::Remove {
            destructive(&w, at + len..r.end)?;
        }
        w.claim(at..at + len);
    }
    let (credentials, _) = credentials::credentials(&mut w);
    let vars = credentials::env_vars(&mut w);
    if !credentials.is_empty() || !vars.is_empty() {
        return Err(Error::NotUnderstood {
            reason: "the builtin planner does not change an existing workload's variables or credentials; \
                     edit them in a pull request (credentials belong in a Secret)"
                .into(),
            understood: vec![],
        });
    }
    let namespace = scope::namespace(&mut w)?;
    let env = scope::environment(&mut w)?;
    let mut understood = Vec::new();
    let mut assumptions = Vec::new();
    let mut questions = Vec::new();
    let environment =
        parse::choose_environment(intent, env, &mut understood, &mut assumptions, &mut questions);
    if let Some(ns) = &namespace {
        understood.push(format!("namespace: {ns}"));
    }
    let mut changes: Vec<Change> = Vec::new();
    let mut previous: Option<Target> = None;
    for (verb, r) in &clauses {
        let mut d = values(&mut w, r, *verb).map_err(|e| context(e, &understood))?;
        let t = match (target::read(&mut w, r), &previous) {
            (Ok(t), _) => t,
            (Err(Missing::Pronoun), Some(p)) => p.clone(),
            (Err(Missing::Nothing), _) if rollout && changes.is_empty() && d.image.is_some() => {
                return Ok(None);
            }
            (Err(m), _) => {
                let mut seen = understood.clone();
                seen.extend(d.understood());
                return Err(Error::NotUnderstood {
                    reason: missing(m, *verb),
                    understood: seen,
                });
            }
        };
        understood.push(format!("target: {}", t.name));
        if !t.dropped.is_empty() {
            assumptions.push(format!(
                "\"{}\" read as the workload {}; {} taken as a description, not part of the name",
                t.written,
                t.name,
                t.dropped.join(", ")
            ));
        }
        let change = change(*verb, &t, &mut d, &understood)?;
        assumptions.append(&mut d.assumptions);
        questions.append(&mut d.questions);
        merge(&mut changes, change, &mut questions);
        previous = Some(t);
    }
    let namespace = namespace.unwrap_or_else(|| {
        assumptions
            .push("no namespace given; each workload is changed in the namespace that holds it".to_string());
        "default".to_string()
    });
    let mut spec = Spec {
        environment,
        namespace,
        components: Vec::new(),
        changes,
        assumptions: parse::cap(assumptions),
        questions: parse::cap(questions),
    };
    spec.normalize().map_err(|e| Error::NotUnderstood {
        reason: format!("the intent gives values that are not acceptable: {e}"),
        understood,
    })?;
    Ok(Some(spec))
}

/// Refuses removals of clusters, namespaces, data or "everything".
fn destructive(w: &Words, r: Range<usize>) -> Result<(), Error> {
    if r.clone().any(|k| w.is(k, DATA)) {
        return Err(wipe());
    }
    // The object: the first word after articles, environment words and "the whole".
    let object = r.clone().find(|&k| {
        !w.is(k, DETERMINERS)
            && !w.is(
                k,
                &["staging", "production", "prod", "dev", "whole", "entire", "of"],
            )
    });
    // "delete the staging cluster", "delete namespace payments", "remove the payments namespace"
    if object.is_some_and(|k| w.is(k, SCOPES) || !w.is(k, STOP) && w.is(k + 1, SCOPES)) {
        return Err(wipe());
    }
    if r.clone().any(|k| w.is(k, BULK)) {
        return Err(Error::NotUnderstood {
            reason:
                "a removal names one workload; gitintent does not remove everything or all apps at once — \
                     name it, e.g. \"remove memcached from staging\""
                    .into(),
            understood: vec![],
        });
    }
    Ok(())
}

/// Reads the values a clause sets.
fn values(w: &mut Words, r: &Range<usize>, verb: Verb) -> Result<Draft, Error> {
    if verb == Verb::Remove {
        return Ok(Draft::default());
    }
    let mut d = Draft {
        image: naming::image(w, r),
        expose: verb == Verb::Expose,
        ..Draft::default()
    };
    const AUTOSCALE: &[&str] = &["autoscale", "autoscaling", "autoscaler", "hpa", "between"];
    if w.has(r.clone(), AUTOSCALE) {
        return Err(unsupported("autoscaling bounds"));
    }
    if w.has(r.clone(), &["port", "ports"]) {
        return Err(unsupported("container ports"));
    }
    network::exposure(w, r, &mut d);
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
    let noun = w.has(r.clone(), REPLICA_NOUNS);
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
    let about_image = matches!(verb, Verb::Image) || w.has(r.clone(), &["image", "version", "tag"]);
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

/// Why no target was read, with an example that would work.
fn missing(m: Missing, verb: Verb) -> String {
    let example = verb.example();
    match m {
        Missing::Nothing | Missing::Pronoun => {
            format!("which workload? name it, e.g. \"{example}\"")
        }
        Missing::Several(names) => format!(
            "one workload per change, but {} were named; say each, e.g. \"{example} and …\"",
            names
                .iter()
                .map(|n| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(" and ")
        ),
        Missing::Image(i) => format!(
            "{i:?} looks like an image without a pinned tag; give name:tag, e.g. \"bump checkout to \
             acme/checkout:2.4.0\""
        ),
        Missing::Invalid(why) => format!("the workload name is not acceptable: {why}"),
    }
}

/// Builds one change from a clause's target and values.
fn change(verb: Verb, t: &Target, d: &mut Draft, understood: &[String]) -> Result<Change, Error> {
    let base = Change {
        operation: Operation::Delete,
        target: t.name.clone(),
        kind: t.kind.map(str::to_string),
        set: None,
    };
    if verb == Verb::Remove {
        return Ok(base);
    }
    let resources = resources(d);
    let exposure = if d.expose || d.host.is_some() {
        if DATA_STORES.contains(&t.name.as_str()) {
            return Err(Error::NotUnderstood {
                reason: format!(
                    "{} is a data store and is not served over HTTP through an Ingress; it cannot be exposed",
                    t.name
                ),
                understood: understood.to_vec(),
            });
        }
        Some(exposure(d, &t.name))
    } else {
        None
    };
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
        set: Some(set),
        ..base
    })
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

/// The Ingress exposure, with the same defaults as for a new component.
fn exposure(d: &mut Draft, name: &str) -> Exposure {
    let tls = d.tls.unwrap_or_else(|| {
        if let Some(h) = &d.host {
            d.assumptions.push(format!(
                "TLS enabled for {h}; a public host is served over HTTPS by default"
            ));
        }
        d.host.is_some()
    });
    if d.host.is_none() {
        d.questions.push(format!(
            "which host name should {name} be served at? the Ingress matches any host until one is given"
        ));
    }
    Exposure {
        host: d.host.clone(),
        path: d.path.clone(),
        tls,
    }
}

/// Adds `change`, folding an update of the same target into the earlier one.
fn merge(changes: &mut Vec<Change>, change: Change, questions: &mut Vec<String>) {
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
            a.resources = match (a.resources.take(), b.resources) {
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
            };
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

/// Adds what was already understood to an error.
fn context(e: Error, understood: &[String]) -> Error {
    match e {
        Error::NotUnderstood {
            reason,
            understood: more,
        } => Error::NotUnderstood {
            reason,
            understood: understood.iter().cloned().chain(more).collect(),
        },
        other => other,
    }
}
