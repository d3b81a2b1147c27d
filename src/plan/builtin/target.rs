//! Targets: which existing workload a day-2 clause is about.
//!
//! [`read`] runs after the value readers have claimed the numbers, images,
//! hosts and environment words, so what is left of the clause is the name.
//! The rule, in order:
//! 1. the first run of up to four plain words (letters, digits, `-`, `_`)
//!    that are not function words, verbs or field nouns (`image`, `memory`,
//!    `replicas`, …) is the name as written: "the orders worker" →
//!    `orders-worker`, "set replicas of api to 3" → `api`;
//! 2. a kind noun in it is taken off and kept as the change's kind: "the api
//!    deployment" → `api`, `Deployment` (also `statefulset`, `daemonset`,
//!    `cronjob`, `job`, leading or trailing);
//! 3. trailing descriptive nouns are taken off (`app`, `application`,
//!    `service`, `svc`, `workload`, `pods`, `component`): "the memcached
//!    app" → `memcached`, "the legacy-billing service" → `legacy-billing`;
//!    after a data-store word, so are `database`, `db`, `cache`, `cluster`,
//!    `server`, `broker`, `queue` ("the redis cluster" → `redis`). Each
//!    dropped word is recorded as an assumption. Nouns that often end a real
//!    name (`worker`, `api`, `db` after a non-store word) are kept;
//! 4. nothing left, or only a pronoun or a generic noun ("the app", "it",
//!    "the worker") is no target: the caller asks which workload;
//! 5. a list ("remove redis, memcached and kafka", "scale api and web to
//!    3") is one target per name; two names not joined as a list ("scale api
//!    to 3 quickly") are refused rather than one silently dropped.
//!
//! It never guesses from the repository: resolving the name against what the
//! repository holds, with closest matches, is `crate::change`.

use std::ops::Range;

use super::lexicon::Class;
use super::text::Words;
use crate::spec::sanitize_name;

/// A workload named by the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Target {
    /// Sanitised DNS label.
    pub(super) name: String,
    /// The kind the user wrote (`Deployment`), if any.
    pub(super) kind: Option<&'static str>,
    /// The words as written, for assumptions and errors.
    pub(super) written: String,
    /// Descriptive words dropped from the name.
    pub(super) dropped: Vec<String>,
}

/// What [`read`] found instead of a single target.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Missing {
    /// No name at all, or only "it", "the app", "everything".
    Nothing,
    /// A pronoun ("it", "its") that may refer to the previous clause.
    Pronoun,
    /// More than one name: the words as written.
    Several(Vec<String>),
    /// An image-like word where a name was expected (`acme/api`, no tag).
    Image(String),
    /// `namespace/name` where a name was expected.
    Qualified(String),
    /// A name that cannot be a DNS label; the message says why.
    Invalid(String),
}

const KINDS: &[(&str, &str)] = &[
    ("deployment", "Deployment"),
    ("deployments", "Deployment"),
    ("statefulset", "StatefulSet"),
    ("statefulsets", "StatefulSet"),
    ("sts", "StatefulSet"),
    ("daemonset", "DaemonSet"),
    ("daemonsets", "DaemonSet"),
    ("ds", "DaemonSet"),
    ("cronjob", "CronJob"),
    ("cronjobs", "CronJob"),
    ("job", "Job"),
];
/// Nouns that describe rather than name: dropped from the end of a name.
const DESCRIPTIVE: &[&str] = &[
    "app",
    "apps",
    "application",
    "service",
    "svc",
    "workload",
    "pod",
    "pods",
    "component",
    "microservice",
];
/// Nouns that describe a data store ("the redis cluster").
const STORE_NOUNS: &[&str] = &[
    "database", "db", "cache", "cluster", "server", "broker", "brokers", "queue", "instance",
];
/// Data stores the builtin planner knows by name.
pub(super) const DATA_STORES: &[&str] = &[
    "redis",
    "postgres",
    "postgresql",
    "mysql",
    "mariadb",
    "mongodb",
    "mongo",
    "memcached",
    "rabbitmq",
    "kafka",
    "elasticsearch",
    "zookeeper",
];
/// Words that alone never name a workload.
const GENERIC: &[&str] = &[
    "worker",
    "workers",
    "database",
    "db",
    "cache",
    "thing",
    "stuff",
    "one",
    "container",
    "containers",
    "deployment",
    "deployments",
];
/// Pronouns that point back at the previous clause's target.
pub(super) const PRONOUNS: &[&str] = &["it", "its", "it's", "them", "their", "this", "that"];
/// Field nouns and fillers that are never part of a name.
pub(super) const FILLER: &[&str] = &[
    "image",
    "images",
    "version",
    "tag",
    "replicas",
    "replica",
    "instances",
    "copies",
    "memory",
    "ram",
    "mem",
    "cpu",
    "cpus",
    "resources",
    "resource",
    "limit",
    "limits",
    "request",
    "requests",
    "count",
    "size",
    "up",
    "down",
    "out",
    "back",
    "now",
    "asap",
    "immediately",
    "right",
    "away",
    "today",
    "publicly",
    "public",
    "externally",
    "ingress",
    "nothing",
    "host",
    "hostname",
    "domain",
    "url",
    "current",
    "existing",
    "running",
    "there",
    "here",
    "pls",
    "more",
    "less",
    "extra",
    "env",
    "environment",
    "variable",
    "variables",
    "var",
    "vars",
];

/// True when token `k` may be part of a workload name.
pub(super) fn namey(w: &Words, k: usize) -> bool {
    let low = w.low(k);
    w.free(k)
        && !w.is(k, Class::Stop)
        && !w.is(k, Class::Determiner)
        && !w.is(k, FILLER)
        && !w.is(k, PRONOUNS)
        && low.chars().any(|c| c.is_ascii_alphabetic())
        && low
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// True when token `k` looks like an image reference rather than a name.
fn imagey(w: &Words, k: usize) -> bool {
    let raw = w.raw(k);
    w.free(k)
        && raw.contains(['/', ':', '@'])
        && raw.chars().any(|c| c.is_ascii_alphabetic())
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/:@".contains(c))
}

/// The runs of name words in `r`: (start, end) token ranges.
fn runs(w: &Words, r: &Range<usize>) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut i = r.start;
    while i < r.end {
        if !namey(w, i) {
            i += 1;
            continue;
        }
        let start = i;
        while i < r.end && namey(w, i) && i - start < 4 {
            i += 1;
            if w.pause(i - 1) {
                break;
            }
        }
        out.push(start..i);
    }
    out
}

/// Reads the targets of the clause `r` and claims their words: one name,
/// or a list joined by commas and "and" ("remove redis and memcached").
/// `known` are the repository's workload names: one of them is a name even
/// when it is a generic word ("scale cache to 2").
pub(super) fn read(w: &mut Words, r: &Range<usize>, known: &[String]) -> Result<Vec<Target>, Missing> {
    if let Some(k) = r.clone().find(|&k| imagey(w, k)) {
        let raw = w.raw(k).to_string();
        let as_value = k > r.start && w.is(k - 1, &["to", "image", "=", "with", "using"]);
        let qualified = !raw.contains([':', '@', '.']) && raw.matches('/').count() == 1;
        return Err(if qualified && !as_value {
            Missing::Qualified(raw)
        } else {
            Missing::Image(raw)
        });
    }
    let found = runs(w, r);
    if found.is_empty() {
        let pronoun = r.clone().any(|k| w.free(k) && w.is(k, PRONOUNS));
        return Err(if pronoun {
            Missing::Pronoun
        } else {
            Missing::Nothing
        });
    }
    let listed = found.windows(2).all(|pair| {
        (pair[0].end..pair[1].start).all(|k| w.is(k, &["and", "&"]) || w.is(k, Class::Determiner))
    });
    if !listed {
        return Err(Missing::Several(
            found.iter().map(|run| written(w, run)).collect(),
        ));
    }
    found.iter().map(|run| one(w, run.clone(), known)).collect()
}

/// One run of name words as a target.
fn one(w: &mut Words, first: Range<usize>, known: &[String]) -> Result<Target, Missing> {
    let mut words: Vec<String> = first.clone().map(|k| w.low(k).to_string()).collect();
    let raw: Vec<String> = first.clone().map(|k| w.raw(k).to_string()).collect();
    let mut kind = None;
    let mut dropped = Vec::new();
    // "statefulset redis", "the api deployment": the kind noun, either end.
    if words.len() > 1 {
        for at in [words.len() - 1, 0] {
            if let Some((_, k)) = KINDS.iter().find(|(word, _)| *word == words[at]) {
                kind = Some(*k);
                words.remove(at);
                break;
            }
        }
    }
    while words.len() > 1 {
        let last = words[words.len() - 1].as_str();
        let store = DATA_STORES.contains(&words[0].as_str()) && STORE_NOUNS.contains(&last);
        if !(DESCRIPTIVE.contains(&last) || store) {
            break;
        }
        dropped.push(words.pop().unwrap_or_default());
    }
    w.claim(first.clone());
    let only = words.join(" ");
    if words.len() == 1 && known.contains(&only) {
        return Ok(Target {
            name: only,
            kind,
            written: raw.join(" "),
            dropped,
        });
    }
    if words.len() == 1 && (GENERIC.contains(&only.as_str()) || DESCRIPTIVE.contains(&only.as_str())) {
        return Err(Missing::Nothing);
    }
    if words.len() == 1 && KINDS.iter().any(|(k, _)| *k == only) {
        return Err(Missing::Nothing);
    }
    let name = sanitize_name(&words.join("-")).map_err(Missing::Invalid)?;
    dropped.reverse();
    Ok(Target {
        name,
        kind,
        written: raw.join(" "),
        dropped,
    })
}

fn written(w: &Words, run: &Range<usize>) -> String {
    run.clone().map(|k| w.raw(k)).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(text: &str) -> Result<Target, Missing> {
        let mut w = Words::new(text);
        let r = 0..w.len();
        let mut all = read(&mut w, &r, &[])?;
        assert_eq!(all.len(), 1, "{text:?}: {all:?}");
        Ok(all.remove(0))
    }

    fn name(text: &str) -> (String, Option<&'static str>) {
        let t = target(text).unwrap_or_else(|e| panic!("{text:?}: {e:?}"));
        (t.name, t.kind)
    }

    #[test]
    fn multi_word_names_are_joined_with_hyphens() {
        assert_eq!(name("the orders worker").0, "orders-worker");
        assert_eq!(name("api-gateway").0, "api-gateway");
        assert_eq!(name("the Legacy_Billing service").0, "legacy-billing");
    }

    #[test]
    fn descriptive_nouns_are_dropped_and_kinds_kept() {
        assert_eq!(name("the memcached app"), ("memcached".into(), None));
        assert_eq!(name("the api deployment"), ("api".into(), Some("Deployment")));
        assert_eq!(name("statefulset redis"), ("redis".into(), Some("StatefulSet")));
        assert_eq!(name("the redis cluster"), ("redis".into(), None));
        assert_eq!(name("the orders db").0, "orders-db");
        let t = target("the memcached app").unwrap();
        assert_eq!(t.dropped, ["app"]);
        assert!(target("the api deployment").unwrap().dropped.is_empty());
    }

    #[test]
    fn generic_nouns_and_pronouns_are_not_targets() {
        assert_eq!(target("the app"), Err(Missing::Nothing));
        assert_eq!(target("the worker"), Err(Missing::Nothing));
        assert_eq!(target("the deployment"), Err(Missing::Nothing));
        assert_eq!(target("it"), Err(Missing::Pronoun));
        assert_eq!(target("the image"), Err(Missing::Nothing));
    }

    #[test]
    fn a_common_word_the_repository_holds_as_a_workload_is_a_target() {
        for word in ["cache", "worker", "app", "deployment"] {
            let mut w = Words::new(&format!("the {word}"));
            let r = 0..w.len();
            let known = [word.to_string()];
            let all = read(&mut w, &r, &known).unwrap_or_else(|e| panic!("{word}: {e:?}"));
            assert_eq!(all[0].name, word);
        }
    }

    #[test]
    fn a_list_is_several_targets_but_two_loose_names_are_refused() {
        assert_eq!(
            target("api to 3 quickly"),
            Err(Missing::Several(vec!["api".into(), "quickly".into()]))
        );
        let mut w = Words::new("redis, the memcached app and kafka");
        let r = 0..w.len();
        let names: Vec<String> = read(&mut w, &r, &[])
            .unwrap()
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(names, ["redis", "memcached", "kafka"]);
        assert_eq!(target("to acme/api"), Err(Missing::Image("acme/api".into())));
        assert_eq!(target("shop/api"), Err(Missing::Qualified("shop/api".into())));
    }
}
