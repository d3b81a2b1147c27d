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
//! "us" ("give me a redis", "set up") is a create. The verbs and clauses
//! are read by [`verbs`]; the values, with the same readers as for a create,
//! and the change they make by [`update`]; the workload by [`target`].
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
use super::lexicon::Class;
use super::parse::Notes;
use super::target::{self, Missing, Target};
use super::text::Words;
use super::verbs::Verb;
use super::{credentials, naming, parse, scope, update, verbs};
use crate::intent::Intent;
use crate::plan::Error;
use crate::spec::{Change, Spec};

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
/// What a removal may not name as its object, besides namespaces.
const SCOPES: &[&str] = &["cluster", "clusters", "node", "nodes", "environment"];
/// Words that make a removal about everything, which is refused.
const BULK: &[&str] = &["everything", "all", "every", "whole", "entire", "anything"];

/// Plans a day-2 intent; `None` when the intent is not one (a create).
/// `workloads` are the repository's workload names (common words among them
/// are names, not vague words).
pub(super) fn plan(
    intent: &Intent,
    environments: &[String],
    workloads: &[String],
) -> Option<Result<Spec, Error>> {
    // "promote checkout from staging to production" (see `promote`).
    if let Some(promotion) = super::promote::plan(intent, environments, workloads) {
        return Some(promotion);
    }
    let w = Words::new(&intent.text);
    let start = verbs::first_word(&w, 0);
    if w.is(start, WIPES) {
        return Some(Err(wipe()));
    }
    let (verb, len) = verbs::verb_at(&w, start)?;
    if verbs::creates(&w, start, len, verb) {
        return None;
    }
    // "expose the shop using image acme/shop:1": a new component, exposed.
    if matches!(verb, Verb::Expose | Verb::Scale | Verb::Resources) {
        let mut probe = Words::new(&intent.text);
        let first = match verbs::clauses(&probe) {
            Ok(c) => c.first().map_or(0..0, |(_, r)| r.clone()),
            Err(e) => return Some(Err(e)),
        };
        if naming::image(&mut probe, &first).is_some() {
            return None;
        }
    }
    // "roll out acme/api:1.2 to production" names no workload: a create.
    let rollout = w.phrase(start, &["roll", "out"]) || w.is(start, &["rollout"]);
    read(intent, w, rollout, environments, workloads).transpose()
}

fn wipe() -> Error {
    Error::Refused(
        "gitintent never deletes data, volumes, clusters or namespaces; to remove one workload, say \
         \"remove NAME\""
            .into(),
    )
}

/// Reads the clauses into changes; `Ok(None)` when a roll-out names no
/// workload, which makes it a create.
fn read(
    intent: &Intent,
    mut w: Words,
    rollout: bool,
    environments: &[String],
    workloads: &[String],
) -> Result<Option<Spec>, Error> {
    let clauses = verbs::clauses(&w)?;
    claim_verbs(&mut w, &clauses, environments)?;
    refuse_variables(&mut w)?;
    let (place, mut notes) = place(intent, &mut w, environments)?;
    let Some(changes) = changes(&mut w, &clauses, workloads, rollout, &mut notes)? else {
        return Ok(None);
    };
    finish(place, changes, notes).map(Some)
}

/// Where the change goes.
struct Place {
    namespace: Option<String>,
    environment: String,
    /// The spec's `environments` (see [`scope::Environment::several`]).
    several: Vec<String>,
}

/// The environment a change for every environment is planned in: `--env`,
/// else the repository's first, else `default`.
fn first_environment(intent: &Intent, environments: &[String]) -> String {
    intent
        .environment
        .clone()
        .or_else(|| environments.first().cloned())
        .unwrap_or_else(|| "default".to_string())
}

/// Claims the verbs, and the kept-data phrases of a removal; refuses a
/// destructive removal.
fn claim_verbs(
    w: &mut Words,
    clauses: &[(Verb, Range<usize>)],
    environments: &[String],
) -> Result<(), Error> {
    // The verbs are read; the clause keeps them for "limit"/"request" (sizing).
    w.claim(0..verbs::first_word(w, 0));
    for ((verb, r), (at, len)) in clauses.iter().zip(verbs::verbs(w, clauses)) {
        if *verb == Verb::Remove {
            destructive(w, at + len..r.end, environments)?;
            for p in kept(w, r) {
                w.claim(p);
            }
        }
        w.claim(at..at + len);
    }
    Ok(())
}

/// Refuses credentials and variables: a change does not edit them.
fn refuse_variables(w: &mut Words) -> Result<(), Error> {
    let (credentials, _) = credentials::credentials(w);
    let vars = credentials::env_vars(w);
    if credentials.is_empty() && vars.is_empty() {
        return Ok(());
    }
    Err(Error::NotUnderstood {
        reason: "the builtin planner does not change an existing workload's variables or credentials; \
                 edit them in a pull request (credentials belong in a Secret)"
            .into(),
        understood: vec![],
    })
}

/// Reads the paths, namespace and environments the change is for.
fn place(intent: &Intent, w: &mut Words, environments: &[String]) -> Result<(Place, Notes), Error> {
    // "the backend in deploy/webapp": a path, read before images and names.
    let paths = scope::paths(w);
    let namespace = match scope::namespace(w)? {
        Some(ns) => Some(ns),
        None => scope::team(w)?,
    };
    let mut env = scope::environment(w, environments)?;
    let mut notes = Notes {
        understood: paths.iter().map(|p| format!("under: {p}")).collect(),
        ..Notes::default()
    };
    // "in staging and production", "everywhere": the change is for all of them.
    let several = env.several();
    let stated = intent.environment.is_some() || env.name.is_some() || env.every;
    if env.every && env.name.is_none() {
        env.name = Some(first_environment(intent, environments));
    }
    (env.others, env.every) = (Vec::new(), false);
    if !several.is_empty() {
        notes
            .understood
            .push(format!("environments: {}", several.join(", ")));
    }
    let Notes {
        understood,
        assumptions,
        questions,
    } = &mut notes;
    let environment = parse::choose_environment(intent, env, understood, assumptions, questions);
    if !stated {
        // The change stage finds the workload's own environment; nothing to ask.
        assumptions.clear();
        questions.clear();
        assumptions.push(
            "no environment given; the workload is changed in the environment that holds it".to_string(),
        );
    }
    if let Some(ns) = &namespace {
        understood.push(format!("namespace: {ns}"));
    }
    let place = Place {
        namespace,
        environment,
        several,
    };
    Ok((place, notes))
}

/// Reads each clause's values and targets into changes; `Ok(None)` when a
/// roll-out names no workload.
fn changes(
    w: &mut Words,
    clauses: &[(Verb, Range<usize>)],
    workloads: &[String],
    rollout: bool,
    notes: &mut Notes,
) -> Result<Option<Vec<Change>>, Error> {
    let mut changes: Vec<Change> = Vec::new();
    let mut previous: Option<Vec<Target>> = None;
    for (verb, r) in clauses {
        let mut d = update::values(w, r, *verb).map_err(|e| context(e, &notes.understood))?;
        let targets = match (target::read(w, r, workloads), &previous) {
            (Ok(t), _) => t,
            (Err(Missing::Pronoun), Some(p)) => p.clone(),
            (Err(Missing::Nothing), _) if rollout && changes.is_empty() && d.image.is_some() => {
                return Ok(None);
            }
            (Err(m), _) => {
                let mut seen = notes.understood.clone();
                seen.extend(d.understood());
                return Err(Error::NotUnderstood {
                    reason: missing(m, *verb),
                    understood: seen,
                });
            }
        };
        unread_number(w, r, *verb, &notes.understood)?;
        for t in &targets {
            change_target(*verb, t, &mut d, notes, &mut changes)?;
        }
        previous = Some(targets);
    }
    Ok(Some(changes))
}

/// Refuses a number nothing read ("expose api to 2"): it is not dropped silently.
fn unread_number(w: &Words, r: &Range<usize>, verb: Verb, understood: &[String]) -> Result<(), Error> {
    let Some(k) = r.clone().find(|&k| w.free(k) && w.number(k, false).is_some()) else {
        return Ok(());
    };
    Err(Error::NotUnderstood {
        reason: format!(
            "{:?} was not understood; say what it is, e.g. \"{}\"",
            w.raw(k),
            verb.example()
        ),
        understood: understood.to_vec(),
    })
}

/// Adds the change a clause's values make to one target, with its notes.
fn change_target(
    verb: Verb,
    t: &Target,
    d: &mut Draft,
    notes: &mut Notes,
    changes: &mut Vec<Change>,
) -> Result<(), Error> {
    notes.understood.push(format!("target: {}", t.name));
    if !t.dropped.is_empty() {
        note(
            &mut notes.assumptions,
            format!(
                "\"{}\" read as the workload {}; {} taken as a description, not part of the name",
                t.written,
                t.name,
                t.dropped.join(", ")
            ),
        );
    }
    // Each target gets the same values; a note said once is kept once.
    let change = update::change(verb, t, d, &notes.understood)?;
    for a in d.assumptions.drain(..) {
        note(&mut notes.assumptions, a);
    }
    for q in d.questions.drain(..) {
        note(&mut notes.questions, q);
    }
    update::merge(changes, change, &mut notes.questions);
    Ok(())
}

/// Builds and checks the spec of the changes.
fn finish(place: Place, changes: Vec<Change>, notes: Notes) -> Result<Spec, Error> {
    let Notes {
        understood,
        mut assumptions,
        questions,
    } = notes;
    let namespace = place.namespace.unwrap_or_else(|| {
        assumptions
            .push("no namespace given; each workload is changed in the namespace that holds it".to_string());
        "default".to_string()
    });
    let spec = Spec {
        environment: place.environment,
        environments: place.several,
        namespace,
        components: Vec::new(),
        changes,
        assumptions: parse::cap(assumptions),
        questions: parse::cap(questions),
        unsupported: Vec::new(),
    };
    parse::normalized(spec, &understood)
}

/// "but keep the data", "without its volumes": phrases that keep data.
fn kept(w: &Words, r: &Range<usize>) -> Vec<Range<usize>> {
    /// Words that keep data in a removal ("but keep the data").
    const KEEP: &[&str] = &["keep", "keeping", "retain", "preserve", "without", "except"];
    r.clone()
        .filter(|&k| w.is(k, KEEP))
        .filter_map(|k| {
            let end = (k + 1..(k + 5).min(r.end)).find(|&j| w.is(j, DATA))?;
            let start = if k > r.start && w.is(k - 1, &["but", "and"]) {
                k - 1
            } else {
                k
            };
            Some(start..end + 1)
        })
        .collect()
}

/// Refuses removals of clusters, namespaces, data or "everything";
/// `environments` are the repository's own environment names.
fn destructive(w: &Words, r: Range<usize>, environments: &[String]) -> Result<(), Error> {
    let kept = kept(w, &r);
    if r.clone()
        .any(|k| w.is(k, DATA) && !kept.iter().any(|p| p.contains(&k)))
    {
        return Err(wipe());
    }
    // The object: the first word after articles, environments and "the whole".
    let object = r.clone().find(|&k| {
        !w.is(k, Class::Determiner)
            && scope::named(w.low(k), environments).is_none()
            && !w.is(k, &["whole", "entire", "of"])
    });
    // "delete the staging cluster", "delete namespace payments", "remove the payments namespace"
    let scope = |k: usize| w.is(k, SCOPES) || w.is(k, Class::NamespaceNoun);
    if object.is_some_and(|k| scope(k) || !w.is(k, Class::Stop) && scope(k + 1)) {
        return Err(wipe());
    }
    // "in all environments" says where, not what: the environment reader takes it.
    let where_all = |k: usize| w.is(k + 1, &["environments", "envs"]);
    if r.clone().any(|k| w.is(k, BULK) && !where_all(k)) {
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
        Missing::Qualified(i) => format!(
            "{i:?} is not a workload name; give the namespace separately, e.g. \"{} in namespace {}\"",
            example,
            i.split('/').next().unwrap_or_default()
        ),
        Missing::Image(i) if i.contains([':', '@']) => format!(
            "{i:?} is an image, not a workload; name the workload it goes to, e.g. \"bump checkout to \
             acme/checkout:2.4.0\""
        ),
        Missing::Image(i) => format!(
            "{i:?} looks like an image without a pinned tag; give name:tag, e.g. \"bump checkout to \
             acme/checkout:2.4.0\""
        ),
        Missing::Invalid(why) => format!("the workload name is not acceptable: {why}"),
    }
}

/// Adds a note unless it is already there.
fn note(notes: &mut Vec<String>, n: String) {
    if !notes.contains(&n) {
        notes.push(n);
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
