//! Names and images: what a clause calls its workload and which image it runs.
//!
//! [`image`] reads `using image X`, `Deploy acme/api:1.2` or any tagged
//! reference; [`tag`] and [`image_basename`] take images apart. [`version`]
//! reads `postgres 16` as a tag for the data store's official image. [`name`]
//! reads `called X`, `named X`, `as X`, a hyphenated workload word
//! (`orders-api`) or the word before a generic workload noun ("the checkout
//! service"). Names are returned as written: sanitising, and refusing
//! `../../etc`, is the caller's job.

use std::ops::Range;

use super::kind::Mention;
use super::lexicon::Class;
use super::text::Words;
use crate::spec::Archetype;

/// Words after which a number is a count or a size, not a version.
const NOT_VERSION: &[&str] = &[
    "replica",
    "replicas",
    "instance",
    "instances",
    "node",
    "nodes",
    "broker",
    "brokers",
    "member",
    "members",
    "pod",
    "pods",
    "copies",
    "server",
    "servers",
    "gb",
    "gi",
    "gib",
    "mb",
    "mi",
    "mib",
    "tb",
    "ti",
    "g",
    "m",
    "cpu",
    "cpus",
    "core",
    "cores",
    "%",
    "percent",
    "minutes",
    "hours",
    "x",
    "gigs",
    "gig",
];

/// Reads a version after a data store's name: `postgres 16`, `redis version 7.2`.
pub(super) fn version(w: &mut Words, r: &Range<usize>, mentions: &[Mention]) -> Option<String> {
    let m = mentions.iter().find(|m| {
        r.contains(&m.at.start) && !m.dependency && m.archetype().is_some_and(|a| !a.is_generic())
    })?;
    let k = w.skip(m.at.end, &["version", "v"], 1);
    let raw = w.low(k).strip_prefix('v').unwrap_or(w.low(k)).to_string();
    let parts: Vec<&str> = raw.split('.').collect();
    let numeric = !raw.is_empty()
        && parts.len() <= 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    // "PostgreSQL 16 instance": a singular noun after a number other than
    // one names the thing, so the number is a version; "redis 3 node
    // cluster" is still a count.
    let singular = raw != "1"
        && w.is(k + 1, &["instance", "server", "node", "pod", "member", "broker"])
        && !w.is(
            k + 2,
            &[
                "cluster",
                "setup",
                "deployment",
                "replica",
                "set",
                "ring",
                "ensemble",
                "quorum",
            ],
        );
    let counted = w.is(k + 1, NOT_VERSION) && !singular;
    if !numeric || !w.all_free(m.at.end..k + 1) || counted || w.pause(m.at.end - 1) {
        return None;
    }
    w.claim(m.at.end..k + 1);
    Some(raw)
}

/// Nouns that introduce an image ("image acme/x:1"): the image reader's pattern.
const IMAGE_WORDS: &[&str] = &["image", "img", "container", "docker"];
/// Words an image may follow ("using", "runs"): the image reader's pattern.
const IMAGE_VERBS: &[&str] = &[
    "using", "use", "from", "run", "runs", "deploy", "deploys", "ship", "of", "with",
];

/// Reads the clause's image and claims it.
pub(super) fn image(w: &mut Words, r: &Range<usize>) -> Option<String> {
    for i in r.clone() {
        if !w.free(i) || !w.is(i, IMAGE_WORDS) {
            continue;
        }
        let j = w.skip(
            i + 1,
            &["image", "=", "of", "the", "is", "named", "called", "tag", "ref"],
            3,
        );
        if r.contains(&j) && w.free(j) && !w.is(j, Class::Stop) && plausible_image(w.raw(j)) {
            let image = w.raw(j).to_string();
            w.claim(i..j + 1);
            return Some(image);
        }
    }
    for i in r.clone() {
        let raw = w.raw(i);
        let after_verb = i > r.start && w.is(i - 1, IMAGE_VERBS);
        if w.free(i) && (tagged(raw) || after_verb && raw.contains('/') && plausible_image(raw)) {
            let image = raw.to_string();
            w.claim(i..i + 1);
            return Some(image);
        }
    }
    None
}

/// Servers asked for by name alone ("2 nginx pods"): the word, a pinned
/// image that runs under the security defaults, and why that image.
const WELL_KNOWN: &[(&str, &str, &str)] = &[
    (
        "nginx",
        "nginxinc/nginx-unprivileged:1.27.3",
        "the official unprivileged build runs as a non-root user on port 8080, as the security defaults require; \
         give an image to choose another",
    ),
    (
        "wordpress",
        "bitnami/wordpress:6.7.1",
        "the Bitnami build runs as a non-root user on port 8080 and reads its database from WORDPRESS_DATABASE_* \
         variables; give an image to choose another",
    ),
];

/// A well-known server named without an image: (word, image, why). The
/// word stays unclaimed, so "2 nginx pods" still reads as 2 replicas. Not
/// when it only says what something sits behind ("behind nginx").
pub(super) fn well_known(w: &Words, r: &Range<usize>) -> Option<(&'static str, &'static str, &'static str)> {
    for i in r.clone() {
        let Some(&(word, image, why)) = WELL_KNOWN.iter().find(|(k, _, _)| w.low(i) == *k) else {
            continue;
        };
        let behind = w
            .before(i, r.start)
            .is_some_and(|b| w.is(b, &["behind", "via", "through", "fronted", "proxied"]));
        if w.free(i) && !behind && !w.is(i + 1, &["ingress", "ingress-controller", "controller"]) {
            return Some((word, image, why));
        }
    }
    None
}

/// Characters and shape of an image reference (`nginx`, `acme/api:1.2`).
fn plausible_image(s: &str) -> bool {
    !s.contains("://")
        && !s.contains("..")
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars().any(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/:@".contains(c))
        && !(s.contains('/')
            && !s.contains([':', '@'])
            && s.split('/').next().is_some_and(|h| h.contains('.')))
}

/// An image reference with a tag or digest, but not a clock (`6:30`) or a
/// host and port (`api.example.com:443`).
fn tagged(s: &str) -> bool {
    if !plausible_image(s) || !s.contains([':', '@']) {
        return false;
    }
    match s.rsplit_once(':') {
        Some((head, port)) if !head.contains('/') && head.contains('.') => {
            !port.chars().all(|c| c.is_ascii_digit())
        }
        _ => true,
    }
}

/// The image's tag, if it has one (`None` for `nginx` or a digest).
pub(super) fn tag(image: &str) -> Option<&str> {
    let (repo, tag) = image.rsplit_once(':')?;
    (!tag.contains('/') && !repo.contains('@')).then_some(tag)
}

/// The last path segment of an image's repository (`acme/checkout:2` → `checkout`).
pub(super) fn image_basename(image: &str) -> &str {
    let repo = image.split('@').next().unwrap_or(image);
    let repo = match repo.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => r,
        _ => repo,
    };
    repo.rsplit('/').next().unwrap_or(repo)
}

/// Words that follow "as" without being a name.
const NOT_AS_NAMES: &[&str] = &[
    "well",
    "needed",
    "usual",
    "before",
    "possible",
    "soon",
    "follows",
    "root",
    "statefulset",
    "deployment",
    "daemonset",
    "cronjob",
    "part",
    "much",
    "many",
    "long",
    "described",
    "required",
    "default",
    "normal",
    "such",
];
/// Adjectives that precede "service" or "worker" without naming it.
const NOT_NOUN_NAMES: &[&str] = &[
    "simple",
    "small",
    "tiny",
    "basic",
    "stateless",
    "public",
    "private",
    "internal",
    "external",
    "web",
    "http",
    "https",
    "rest",
    "restful",
    "grpc",
    "python",
    "node",
    "nodejs",
    "go",
    "golang",
    "java",
    "rust",
    "ruby",
    "php",
    "django",
    "flask",
    "rails",
    "spring",
    "express",
    "react",
    "static",
    "single",
    "highly",
    "available",
    "background",
    "scheduled",
    "nightly",
    "daily",
    "hourly",
    "weekly",
    "monthly",
    "one-off",
    "batch",
    "replicated",
    "redundant",
    "containerized",
    "dockerized",
    "new",
    "existing",
    "second",
    "another",
    "other",
    "main",
    "production",
    "staging",
    "dev",
    "prod",
    "queue",
    "log",
    "logging",
    "metrics",
    "monitoring",
    "long-running",
    "lightweight",
    "add",
    "spin",
    "up",
    "launch",
    "start",
    "provision",
    "install",
    "bring",
    "stand",
    "roll",
    "out",
    "ship",
    "host",
    "put",
    "setup",
    "create",
    "deploy",
    "run",
    "need",
    "want",
    "schedule",
    "expose",
];

/// Reads an explicit name ("called X", "named X", "as X") or the word before
/// the workload noun ("the checkout service"). Returns the raw word and
/// whether it was given explicitly.
/// A data store (`archetype` not generic) is only named explicitly.
pub(super) fn name(
    w: &mut Words,
    r: &Range<usize>,
    mentions: &[Mention],
    archetype: Option<Archetype>,
) -> Option<(String, bool)> {
    if let Some(named) = explicit(w, r, mentions) {
        return Some((named, true));
    }
    let first = mentions
        .iter()
        .find(|m| r.contains(&m.at.start) && !m.dependency)?;
    if first.named && w.free(first.at.start) {
        return Some((w.raw(first.at.start).to_string(), false));
    }
    // "the frontend": a noun that is a fine name on its own.
    let noun = first.at.len() == 1
        && w.is(
            first.at.start,
            &["frontend", "backend", "front-end", "back-end", "website"],
        );
    // Data stores are named after their archetype unless named explicitly.
    if archetype.is_none_or(|a| !a.is_generic()) || first.archetype().is_none_or(|a| !a.is_generic()) {
        return None;
    }
    match (r.start..first.at.start)
        .rev()
        .find(|&j| !w.is(j, Class::Determiner))
        .filter(|&j| usable(w, j, mentions))
    {
        Some(before) => {
            w.claim(before..before + 1);
            Some((w.raw(before).to_string(), false))
        }
        None if noun => Some((w.low(first.at.start).to_string(), false)),
        None => None,
    }
}

/// Reads and claims a name given explicitly: "called X", "named X", "name
/// it X", "call it X", "name X", "as X".
fn explicit(w: &mut Words, r: &Range<usize>, mentions: &[Mention]) -> Option<String> {
    for i in r.clone() {
        if !w.free(i) {
            continue;
        }
        let Some(j) = named_at(w, i, mentions) else {
            continue;
        };
        if r.contains(&j) && w.free(j) && !w.raw(j).is_empty() {
            let name = w.raw(j).to_string();
            w.claim(i..j + 1);
            return Some(name);
        }
    }
    None
}

/// Where the name introduced by the word at `i` is, if `i` introduces one.
fn named_at(w: &Words, i: usize, mentions: &[Mention]) -> Option<usize> {
    // "port 8443 named https" names the port, not the workload.
    if i >= 2 && w.is(i - 2, Class::PortNoun) && w.whole(i - 1).is_some() {
        return None;
    }
    if w.is(i, &["called", "named"]) {
        return Some(w.skip(i + 1, &["=", ":"], 1));
    }
    if w.phrase(i, &["name", "it"]) || w.phrase(i, &["call", "it"]) {
        return Some(w.skip(i + 2, &["=", ":"], 1));
    }
    if w.is(i, &["name"]) && w.free(i + 1) && !w.is(i + 1, Class::Stop) {
        return Some(i + 1);
    }
    if !w.is(i, &["as"]) {
        return None;
    }
    let next = w.low(i + 1);
    let name_like = w.free(i + 1)
        && !w.is(i + 1, Class::Stop)
        && !w.is(i + 1, NOT_AS_NAMES)
        && !next.starts_with(|c: char| c.is_ascii_digit())
        && !mentions.iter().any(|m| m.at.contains(&(i + 1)));
    name_like.then_some(i + 1)
}

/// Whether the word at `j`, before the workload noun, can be its name: a
/// free lowercase word that is not an adjective, a stop word, a number or
/// another mention.
fn usable(w: &Words, j: usize, mentions: &[Mention]) -> bool {
    let low = w.low(j);
    let word_like = low.starts_with(|c: char| c.is_ascii_lowercase())
        && low
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    w.free(j)
        && word_like
        && !adjective(low)
        && !w.is(j, Class::Stop)
        && !w.is(j, NOT_NOUN_NAMES)
        && w.number(j, false).is_none()
        && !mentions.iter().any(|m| m.at.contains(&j))
}

/// A compound adjective ("internal-only", "public-facing", "gpu-heavy"):
/// it describes the workload, so the name comes from elsewhere (the image).
fn adjective(low: &str) -> bool {
    /// Endings that make a compound word an adjective.
    const SUFFIXES: &[&str] = &[
        "-only",
        "-facing",
        "-grade",
        "-ready",
        "-based",
        "-critical",
        "-sensitive",
        "-native",
        "-friendly",
        "-heavy",
        "-safe",
        "-side",
        "-level",
        "-powered",
        "-scale",
        "-wide",
        "-bound",
        "-intensive",
    ];
    SUFFIXES.iter().any(|s| low.ends_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::builtin::kind::mentions;

    #[test]
    fn images_are_read_after_keywords_or_by_shape() {
        let img = |t: &str| {
            let mut w = Words::new(t);
            let r = 0..w.len();
            image(&mut w, &r)
        };
        assert_eq!(img("using image nginx:1.27.3").as_deref(), Some("nginx:1.27.3"));
        assert_eq!(img("image nginx").as_deref(), Some("nginx"));
        assert_eq!(
            img("Deploy acme/checkout:2.4.0 as checkout").as_deref(),
            Some("acme/checkout:2.4.0")
        );
        assert_eq!(
            img("deploy ghcr.io/acme/api@sha256:abc").as_deref(),
            Some("ghcr.io/acme/api@sha256:abc")
        );
        assert_eq!(img("at api.example.com:443 daily at 6:30"), None);
        assert_eq!(img("expose at example.com/api"), None);
    }

    #[test]
    fn tags_and_basenames_are_read_from_images() {
        assert_eq!(tag("acme/api:1.2"), Some("1.2"));
        assert_eq!(tag("localhost:5000/api"), None);
        assert_eq!(tag("acme/api"), None);
        assert_eq!(image_basename("ghcr.io/acme/checkout:2.4.0"), "checkout");
        assert_eq!(image_basename("localhost:5000/api"), "api");
    }

    #[test]
    fn names_come_from_called_named_as_or_the_noun_before_the_workload() {
        let name_of = |t: &str| {
            let mut w = Words::new(t);
            let m = mentions(&w);
            let r = 0..w.len();
            name(&mut w, &r, &m, Some(Archetype::WebService)).map(|n| n.0)
        };
        assert_eq!(
            name_of("a redis called session-cache").as_deref(),
            Some("session-cache")
        );
        assert_eq!(
            name_of("a worker named Orders_Worker").as_deref(),
            Some("Orders_Worker")
        );
        assert_eq!(
            name_of("Deploy acme/x:1 as checkout").as_deref(),
            Some("checkout")
        );
        assert_eq!(name_of("the checkout service").as_deref(), Some("checkout"));
        assert_eq!(name_of("a simple web app"), None);
        assert_eq!(name_of("an internal-only service for acme/ledger:1.4.0"), None);
        assert_eq!(name_of("redis as well"), None);
        assert_eq!(name_of("postgres called ../../etc").as_deref(), Some("../../etc"));
        assert_eq!(
            name_of("deploy the orders-api with 3 replicas").as_deref(),
            Some("orders-api")
        );
    }

    #[test]
    fn versions_follow_data_store_names_but_counts_do_not() {
        let v = |t: &str| {
            let mut w = Words::new(t);
            let m = mentions(&w);
            let r = 0..w.len();
            version(&mut w, &r, &m)
        };
        assert_eq!(v("postgres 16 in prod").as_deref(), Some("16"));
        assert_eq!(v("redis version 7.2").as_deref(), Some("7.2"));
        assert_eq!(v("redis v7.2.4").as_deref(), Some("7.2.4"));
        assert_eq!(v("redis 3 replicas"), None);
        assert_eq!(v("kafka 3 brokers"), None);
    }
}
