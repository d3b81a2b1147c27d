//! Spelling: close misspellings corrected out loud, before any reader runs.
//!
//! A word that is not in the vocabulary but within a small edit distance
//! (optimal string alignment: a swapped pair counts once) of exactly one
//! vocabulary word, a repository environment or a workload the repository
//! holds, is replaced by it, and the plan says so in an assumption
//! ("replcias" read as "replicas"). When two candidates are equally close,
//! nothing is replaced and a question lists them. Short words (under five
//! letters), words with digits or punctuation, quoted words and the words
//! after a credential keyword are never touched; the distance is at most 1
//! for words under eight letters and 2 from eight on, and the first letter
//! must match. It does not read the intent otherwise.

use super::lexicon::Class;

/// Words the readers know and people misspell.
const VOCABULARY: &[&str] = &[
    "replicas",
    "replica",
    "instances",
    "production",
    "staging",
    "development",
    "preprod",
    "sandbox",
    "memory",
    "storage",
    "persistent",
    "namespace",
    "postgres",
    "postgresql",
    "mysql",
    "mariadb",
    "mongodb",
    "memcached",
    "rabbitmq",
    "kafka",
    "elasticsearch",
    "zookeeper",
    "grafana",
    "minio",
    "redis",
    "autoscaling",
    "autoscale",
    "schedule",
    "scheduled",
    "database",
    "worker",
    "workers",
    "service",
    "cronjob",
    "ingress",
    "failover",
    "available",
    "availability",
    "highly",
    "every",
    "daily",
    "hourly",
    "weekly",
    "monthly",
    "nightly",
    "deploy",
    "healthcheck",
    "readiness",
    "liveness",
    "request",
    "gigabytes",
    "megabytes",
    "loadbalancer",
    "daemonset",
    "statefulset",
    "deployment",
    "replicaset",
    "replicationcontroller",
    "daemonset",
    "configmap",
    "persistentvolume",
    "storageclass",
    "networkpolicy",
    "pod",
    "bare",
];

/// Real words close to a vocabulary word, never corrected.
const REAL: &[&str] = &[
    "stating",
    "state",
    "stage",
    "stages",
    "staged",
    "stored",
    "stores",
    "store",
    "served",
    "server",
    "serves",
    "servers",
    "worked",
    "works",
    "deployed",
    "deploys",
    "requests",
    "requested",
    "schedules",
    "replicate",
    "replicated",
    "available",
    "instance",
    "databases",
    "services",
    "memory",
    "reddit",
    "minion",
    "minions",
    "daily",
    "dairy",
    "early",
    "every",
    "event",
    "events",
    "evenly",
    "hours",
    "hourly",
    "weekly",
    "weekday",
    "monthly",
    "nightly",
    "nights",
    "kafkaesque",
    "deployer",
    "deploying",
    "request",
];

/// Words after which a value may be a credential: the lexicon's password
/// and secret words, and these.
const OTHER_KEYS: &[&str] = &["key", "pass"];

/// Whether a value may follow `low` as a credential (and must not be corrected).
fn credential_key(low: &str) -> bool {
    Class::PasswordWord.holds(low) || Class::SecretWord.holds(low) || OTHER_KEYS.contains(&low)
}

/// What [`correct`] did: the corrected text and what to tell the reader.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Corrected {
    pub(super) text: String,
    pub(super) assumptions: Vec<String>,
    pub(super) questions: Vec<String>,
}

/// Corrects close misspellings in `text`; `known` are the repository's
/// environments and workload names (hyphenated words are compared with
/// these only).
pub(super) fn correct(text: &str, known: &[String]) -> Corrected {
    let mut out = Corrected::default();
    let mut lines = Vec::new();
    let mut after_key = 0usize;
    for line in text.split('\n') {
        let mut pieces = Vec::new();
        for piece in line.split(' ') {
            let (head, word, tail) = strip(piece);
            let low = word.to_lowercase();
            let protected = after_key > 0 || head.contains(['"', '\'', '`']);
            after_key = if credential_key(&low) {
                3
            } else {
                after_key.saturating_sub(1)
            };
            match (!protected).then(|| candidates(&low, known)).flatten() {
                Some(Found::One(c)) => {
                    note(
                        &mut out.assumptions,
                        format!("\"{word}\" read as \"{c}\" (a close misspelling)"),
                    );
                    pieces.push(format!("{head}{c}{tail}"));
                }
                Some(Found::Tie(list)) => {
                    note(
                        &mut out.questions,
                        format!("\"{word}\" could be {}; say which", list.join(" or ")),
                    );
                    pieces.push(piece.to_string());
                }
                None => pieces.push(piece.to_string()),
            }
        }
        lines.push(pieces.join(" "));
    }
    out.text = lines.join("\n");
    out
}

fn note(list: &mut Vec<String>, s: String) {
    if !list.contains(&s) {
        list.push(s);
    }
}

/// Leading punctuation, the word, trailing punctuation.
fn strip(piece: &str) -> (&str, &str, &str) {
    let start = piece.len() - piece.trim_start_matches(|c: char| !c.is_alphanumeric()).len();
    let word = piece[start..].trim_end_matches(|c: char| !c.is_alphanumeric());
    (&piece[..start], word, &piece[start + word.len()..])
}

enum Found {
    One(String),
    Tie(Vec<String>),
}

/// The closest candidates for `low`, when it is a plausible misspelling.
fn candidates(low: &str, known: &[String]) -> Option<Found> {
    let letters = low.chars().count();
    let alpha = low.chars().all(|c| c.is_ascii_lowercase());
    let hyphened = low.chars().all(|c| c.is_ascii_lowercase() || c == '-') && low.contains('-');
    if letters < 5 || !(alpha || hyphened) || REAL.contains(&low) {
        return None;
    }
    let known_low: Vec<String> = known.iter().map(|k| k.to_lowercase()).collect();
    if VOCABULARY.contains(&low) || known_low.iter().any(|k| k == low) || is_stop(low) || inflected(low) {
        return None;
    }
    let bound = if letters >= 8 { 2 } else { 1 };
    let pool = known_low
        .iter()
        .map(String::as_str)
        .chain(VOCABULARY.iter().copied().filter(|_| alpha));
    let mut best: Vec<&str> = Vec::new();
    let mut best_d = usize::MAX;
    for c in pool {
        if c.chars().next() != low.chars().next() || c.chars().count() < 4 {
            continue;
        }
        let d = distance(low, c);
        if d > bound || d > best_d {
            continue;
        }
        if d < best_d {
            best.clear();
            best_d = d;
        }
        if !best.contains(&c) {
            best.push(c);
        }
    }
    match best.len() {
        0 => None,
        1 => Some(Found::One(best[0].to_string())),
        _ => Some(Found::Tie(best.iter().map(|s| s.to_string()).collect())),
    }
}

/// A vocabulary word with an ending ("deployments", "scheduling",
/// "workers'"): a real word, not a misspelling.
fn inflected(low: &str) -> bool {
    /// Inflections that make a word a form of a vocabulary word.
    const ENDINGS: &[&str] = &["s", "es", "d", "ed", "ing", "er", "ers", "ly"];
    VOCABULARY.iter().any(|v| {
        let stem = v.strip_suffix('e').unwrap_or(v);
        [*v, stem]
            .iter()
            .any(|base| low.strip_prefix(base).is_some_and(|rest| ENDINGS.contains(&rest)))
    })
}

fn is_stop(low: &str) -> bool {
    Class::Stop.holds(low)
}

/// Optimal string alignment distance (Levenshtein plus adjacent swaps).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swapped_and_dropped_letters_are_corrected_out_loud() {
        let c = correct("redis with 3 replcias in prodution.", &[]);
        assert_eq!(c.text, "redis with 3 replicas in production.");
        assert_eq!(
            c.assumptions,
            [
                "\"replcias\" read as \"replicas\" (a close misspelling)",
                "\"prodution\" read as \"production\" (a close misspelling)"
            ]
        );
        assert!(c.questions.is_empty());
    }

    #[test]
    fn repository_names_are_candidates_and_a_tie_is_a_question() {
        let known = vec!["prod-us".to_string(), "api-gateway".to_string()];
        let c = correct("scale api-gatewy to 5 in prod-ux", &known);
        assert_eq!(c.text, "scale api-gateway to 5 in prod-us");
        assert_eq!(c.assumptions.len(), 2);
        let known = vec!["orders-api".to_string(), "orders-app".to_string()];
        let c = correct("scale orders-apx to 5", &known);
        assert_eq!(c.text, "scale orders-apx to 5");
        assert_eq!(
            c.questions,
            ["\"orders-apx\" could be orders-api or orders-app; say which"]
        );
    }

    #[test]
    fn short_real_quoted_and_secret_words_are_left_alone() {
        for text in [
            "redis in stage",
            "stating the obvious",
            "password replcias",
            "called \"replcias\"",
            "acme/replcias:1.0",
            "blue/green deployments",
            "servicing the scheduling",
        ] {
            let c = correct(text, &[]);
            assert_eq!(c.text, text);
            assert!(c.assumptions.is_empty(), "{text}: {:?}", c.assumptions);
        }
    }

    #[test]
    fn distance_counts_a_swap_once() {
        assert_eq!(distance("replcias", "replicas"), 1);
        assert_eq!(distance("prodution", "production"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
