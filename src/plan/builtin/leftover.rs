//! Leftovers: the words no reader used, reported as `unsupported`.
//!
//! Every reader claims the words it reads ([`Words::claim`]). After all of
//! them have run, a word that is still free, names no workload, and is not a
//! function word or filler ("please", "deploy", "a simple") asked for
//! something the plan does not do. Runs of such words within one phrase
//! (punctuation ends a run) become one [`Unsupported`] entry each, with the
//! reason [`crate::plan::coverage::KNOWN`] gives for a known concept (a
//! canary rollout, a read replica) or a plain "not understood" otherwise.
//! This module decides nothing about the components.

use super::kind::Mention;
use super::lexicon::Class;
use super::text::Words;
use crate::plan::coverage;
use crate::spec::{Component, Unsupported};

/// Words that ask for nothing on their own: verbs of deploying, politeness,
/// vague adjectives and nouns that only restate a workload.
const FILLER: &[&str] = &[
    "bare",
    "replicaset",
    "replicationcontroller",
    "hi",
    "hey",
    "hello",
    "thanks",
    "thank",
    "thx",
    "pls",
    "plz",
    "kindly",
    "could",
    "you",
    "ok",
    "okay",
    "like",
    "i'd",
    "we'd",
    "i'm",
    "we're",
    "let's",
    "lets",
    "go",
    "going",
    "now",
    "asap",
    "today",
    "here",
    "there",
    "too",
    "again",
    "quickly",
    "already",
    "up",
    "out",
    "spin",
    "stand",
    "bring",
    "fire",
    "roll",
    "rolled",
    "deployed",
    "deploying",
    "install",
    "installed",
    "launch",
    "start",
    "started",
    "add",
    "added",
    "provision",
    "setup",
    "put",
    "ship",
    "host",
    "hosted",
    "stood",
    "spun",
    "creating",
    "needed",
    "required",
    "simple",
    "small",
    "tiny",
    "basic",
    "quick",
    "little",
    "standard",
    "plain",
    "normal",
    "default",
    "fresh",
    "another",
    "instance",
    "instances",
    "thing",
    "something",
    "copy",
    "one",
    "container",
    "containers",
    "pod",
    "pods",
    "workload",
    "workloads",
    "deployment",
    "deployments",
    "statefulset",
    "daemonset",
    "cluster",
    "ensemble",
    "quorum",
    "setup",
    "stack",
    "kubernetes",
    "k8s",
    "cluster's",
    "there's",
    "it's",
    "that's",
    "image",
    "images",
    "tag",
    "version",
    "latest",
    "stable",
    "same",
    "usual",
    "proper",
    "properly",
    "real",
    "actual",
    "named",
    "called",
    "name",
    "is",
    "was",
    "been",
    "being",
    "do",
    "does",
    "did",
    "have",
    "having",
    "has",
    "had",
    "may",
    "might",
    "shall",
    "what",
    "when",
    "where",
    "how",
    "if",
    "than",
    "not",
    "no",
    "any",
    "more",
    "most",
    "very",
    "really",
    "quite",
    "pretty",
    "etc",
    "things",
    "stuff",
    "ready",
    "running",
    "live",
    "working",
    "works",
    "work",
    "deploys",
    "want",
    "wanted",
    "needing",
    "team",
    "teams",
    "please",
    // Words readers consult around what they claim ("listening on port
    // 8080", "limit it to 1 cpu", "50Gi per node", "behind an ingress").
    "admin",
    "root",
    "user",
    "listening",
    "listens",
    "listen",
    "serving",
    "serves",
    "behind",
    "limit",
    "limits",
    "target",
    "node",
    "nodes",
    "own",
    "internally",
    "kick",
    "off",
    "request",
    "requests",
    "requested",
    "reserve",
    "reserved",
    "maximum",
    "minimum",
    "max",
    "min",
    "guaranteed",
    "capped",
    // What the workload itself does ("a worker that consumes from rabbitmq").
    "consumes",
    "consume",
    "processes",
    "process",
    "send",
    "sends",
    "backs",
    "back",
    "handle",
    "handles",
    "handling",
    "internet",
    // Cluster-internal is what every plan without an exposure is.
    "internal-only",
    "internal",
    "cluster-internal",
    "private",
    "internal-facing",
];

/// Words before a short description of what the workload is for ("for
/// analytics", "to process emails"): the image does that, not the plan.
const PURPOSE: &[&str] = &["for", "to", "that", "which", "who"];

/// Everything the plan ignored, one entry per phrase, in text order; then
/// any known concept the text names whose words a reader did claim.
pub(super) fn unsupported(
    w: &Words,
    mentions: &[Mention],
    components: &[Component],
    text: &str,
) -> Vec<Unsupported> {
    let mut out: Vec<Unsupported> = Vec::new();
    let mut run: Vec<usize> = Vec::new();
    for i in 0..w.len() {
        if open(w, mentions, components, i) {
            run.push(i);
            if w.pause(i) {
                flush(w, &mut run, &mut out);
            }
        } else {
            flush(w, &mut run, &mut out);
        }
    }
    flush(w, &mut run, &mut out);
    let missing = coverage::missing_from(text, &out);
    out.extend(missing);
    out
}

/// True when word `i` is free and names no workload and no component.
fn open(w: &Words, mentions: &[Mention], components: &[Component], i: usize) -> bool {
    if !w.free(i) || mentions.iter().any(|m| m.at.contains(&i)) {
        return false;
    }
    let low = w.low(i);
    !components.iter().any(|c| {
        c.name == low
            || c.image
                .as_deref()
                .is_some_and(|image| super::naming::image_basename(image) == low)
    })
}

/// True for a word that carries a request of its own.
fn meaningful(w: &Words, i: usize) -> bool {
    let low = w.low(i);
    !(w.is(i, Class::Stop) || w.is(i, FILLER) || low.chars().all(|c| !c.is_alphanumeric()))
}

/// Words that join two requests in one run ("blue/green deployments and a
/// sidecar"): each side becomes its own entry.
const JOINS: &[&str] = &["and", "plus", "&", "with", "also"];

/// Turns a run of free words into entries, one per part between [`JOINS`].
fn flush(w: &Words, run: &mut Vec<usize>, out: &mut Vec<Unsupported>) {
    let taken = std::mem::take(run);
    for part in taken.split(|&i| w.is(i, JOINS)) {
        entry(w, part, out);
    }
}

/// One entry for a part of a run, when it holds a meaningful word.
fn entry(w: &Words, taken: &[usize], out: &mut Vec<Unsupported>) {
    let Some(first) = taken.iter().position(|&i| meaningful(w, i)) else {
        return;
    };
    let last = taken.iter().rposition(|&i| meaningful(w, i)).unwrap_or(first);
    let span = &taken[first..=last];
    if described(w, span) {
        return;
    }
    let mut phrase = String::new();
    for &i in span {
        if !phrase.is_empty() && w.raw(i) != "%" {
            phrase.push(' ');
        }
        phrase.push_str(w.raw(i));
    }
    let lows: Vec<String> = span.iter().map(|&i| w.low(i).to_string()).collect();
    let reason = (0..lows.len())
        .find_map(|k| coverage::concept_at(&lows, k))
        .map_or_else(
            || {
                "the builtin planner did not understand these words, so the plan does not do what they ask; \
                 rephrase, plan with a model (the openai planner), or edit the manifests after review"
                    .to_string()
            },
            |(c, _)| c.reason.to_string(),
        );
    if let Some(same) = out
        .iter_mut()
        .find(|u| u.reason == reason && reason_is_known(&reason))
    {
        same.phrase = format!("{}; {phrase}", same.phrase);
        return;
    }
    out.push(Unsupported { phrase, reason });
}

/// True for a short, number-free description after "for"/"to"/"that" that
/// names no known concept.
fn described(w: &Words, span: &[usize]) -> bool {
    let Some(before) = w.before(span[0], 0) else {
        return false;
    };
    let short = span.iter().filter(|&&i| meaningful(w, i)).count() <= 3;
    let plain = span
        .iter()
        .all(|&i| !w.low(i).chars().any(|c| c.is_ascii_digit()) && w.low(i) != "%");
    let lows: Vec<String> = span.iter().map(|&i| w.low(i).to_string()).collect();
    let known = (0..lows.len()).any(|k| coverage::concept_at(&lows, k).is_some());
    w.is(before, PURPOSE) && short && plain && !known
}

fn reason_is_known(reason: &str) -> bool {
    coverage::KNOWN.iter().any(|c| c.reason == reason)
}

#[cfg(test)]
mod tests {
    use crate::intent::Intent;
    use crate::plan::builtin::plan;

    fn left(text: &str) -> Vec<String> {
        let spec = plan(&Intent::new(text, None).unwrap()).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        spec.unsupported.into_iter().map(|u| u.phrase).collect()
    }

    #[test]
    fn a_canary_rollout_is_reported_with_its_reason() {
        let text = "Deploy acme/api:1.2.0 as api with a canary rollout sending 10% traffic to the new version in staging";
        let spec = plan(&Intent::new(text, None).unwrap()).unwrap();
        assert_eq!(spec.unsupported.len(), 1, "{:#?}", spec.unsupported);
        assert!(spec.unsupported[0].phrase.contains("canary rollout"));
        assert!(spec.unsupported[0].phrase.contains("10%"));
        assert!(spec.unsupported[0].reason.contains("Argo Rollouts"));
    }

    #[test]
    fn a_read_replica_is_reported() {
        let found = left("a postgres with a read replica in staging");
        assert!(found.iter().any(|p| p.contains("read replica")), "{found:?}");
    }

    #[test]
    fn words_nothing_read_are_reported_and_filler_is_not() {
        assert_eq!(
            left("please deploy a simple redis in staging with a rainbow dashboard"),
            ["rainbow dashboard"]
        );
        assert_eq!(
            left("deploy acme/api:1.0 to staging with blue/green deployments and a sidecar for logging"),
            ["blue/green", "sidecar for logging"]
        );
        assert!(left(
            "Deploy a Redis cluster with 3 replicas, persistent storage and automatic failover in production"
        )
        .is_empty());
        assert!(
            left("Deploy a zookeeper ensemble with three replicas and 20Gi of storage in production")
                .is_empty()
        );
    }
}
