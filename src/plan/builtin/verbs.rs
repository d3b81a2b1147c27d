//! Verbs: whether an intent is a day-2 change, and its clauses.
//!
//! [`verb_at`] recognises the day-2 verbs (`scale`, `bump`, `give`,
//! `expose`, `remove`, …, and "run N replicas of X"); [`clauses`] cuts a
//! day-2 intent where a new verb starts after "and", "then" or a comma, and
//! refuses a clause that creates instead. [`change_inside_create`] finds a
//! change hidden in a create ("deploy redis and scale api to 3"). A verb
//! followed by "a", "an", "new", "me" or "us" ("give me a redis", "set up")
//! is a create, not a change.

use std::ops::Range;

use super::lexicon::Class;
use super::target::{self, FILLER, PRONOUNS};
use super::text::Words;
use crate::plan::Error;

/// What a clause's verb asks for; it decides the examples in errors and
/// which bare numbers are replica counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verb {
    Scale,
    Image,
    Resources,
    Expose,
    Update,
    Remove,
}

impl Verb {
    pub(super) fn example(self) -> &'static str {
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
/// The day-2 verb at token `i` and how many tokens it spans.
pub(super) fn verb_at(w: &Words, i: usize) -> Option<(Verb, usize)> {
    if let Some((_, _, v)) = PHRASES.iter().find(|(a, b, _)| w.phrase(i, &[a, b])) {
        return Some((*v, 2));
    }
    if let Some((_, v)) = VERBS.iter().find(|(word, _)| w.low(i) == *word) {
        // "scale down api", "scale api down": the particle goes with the verb.
        let particle = *v == Verb::Scale && w.is(i + 1, &["up", "down", "out", "in"]);
        return Some((*v, 1 + usize::from(particle)));
    }
    // "run 4 replicas of the orders worker"
    if w.is(i, &["run", "keep"]) {
        let (_, len) = w.whole(i + 1)?;
        if w.is(i + 1 + len, Class::ReplicaNoun) && w.is(i + 2 + len, &["of"]) {
            return Some((Verb::Scale, 1));
        }
    }
    None
}

/// The first token after the polite lead-in ("please", "can you").
pub(super) fn first_word(w: &Words, from: usize) -> usize {
    w.skip(from, Class::LeadIn, 8)
}

/// True when the verb at `i` (spanning `len`) starts a create instead.
pub(super) fn creates(w: &Words, i: usize, len: usize, verb: Verb) -> bool {
    verb != Verb::Remove && (w.is(i + len, CREATES) || w.phrase(i, &["set", "up"]))
}

/// The clauses of a day-2 intent: token ranges, each starting with its verb.
pub(super) fn clauses(w: &Words) -> Result<Vec<(Verb, Range<usize>)>, Error> {
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
pub(super) fn verbs(w: &Words, clauses: &[(Verb, Range<usize>)]) -> Vec<(usize, usize)> {
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
        let object = w.skip(k + len, Class::Determiner, 2);
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
