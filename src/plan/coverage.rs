//! Coverage: requests the spec cannot express, and the check that a plan
//! says so.
//!
//! [`KNOWN`] lists what people ask for that no spec field carries (a canary
//! rollout, a read replica, a service mesh), each with the words that name
//! it and the reason a reviewer reads. The builtin planner uses it to give
//! its leftover words a precise reason; the openai planner's critic uses
//! [`uncovered`] to tell the model which of them its `unsupported` list
//! misses, and [`complete`] adds whatever is still missing after the last
//! attempt, so a plan never silently differs from its intent.
//!
//! Matching is on lowercase words, never substrings of words ("replicas"
//! alone is supported; "read replica" is not). It does not read anything
//! else of the intent and does not change components.

use crate::spec::{Spec, Unsupported};

/// A request the spec cannot express.
pub(crate) struct Concept {
    /// Word sequences that name it (lowercase, as tokens).
    pub(crate) names: &'static [&'static [&'static str]],
    /// Why the plan does not do it, and what would.
    pub(crate) reason: &'static str,
}

/// What the spec cannot express, by the words that ask for it.
pub(crate) const KNOWN: &[Concept] = &[
    Concept {
        names: &[
            &["canary"],
            &["canaries"],
            &["blue-green"],
            &["blue", "green"],
            &["blue/green"],
            &["traffic", "split"],
            &["traffic", "splitting"],
            &["traffic", "shifting"],
            &["progressive", "delivery"],
            &["progressive", "rollout"],
            &["a/b", "test"],
            &["a/b", "testing"],
        ],
        reason:
            "progressive delivery (canary or blue-green rollouts, traffic weights) is not in the spec: the \
                 plan is a plain rolling update; use Argo Rollouts or Flagger for the traffic split",
    },
    Concept {
        names: &[
            &["read", "replica"],
            &["read", "replicas"],
            &["read-replica"],
            &["read-replicas"],
            &["streaming", "replication"],
            &["primary", "and", "replica"],
            &["primary/replica"],
            &["standby"],
            &["hot", "standby"],
        ],
        reason:
            "database replication (a primary with read replicas or a standby) is not set up by the plan: it \
                 runs independent instances; use an operator such as CloudNativePG (PostgreSQL) or the MySQL \
                 Operator",
    },
    Concept {
        names: &[
            &["service", "mesh"],
            &["istio"],
            &["linkerd"],
            &["mtls"],
            &["mutual", "tls"],
        ],
        reason:
            "a service mesh (mutual TLS between services, mesh routing) is not in the spec; enable it in the \
                 mesh's own configuration",
    },
    Concept {
        names: &[
            &["sidecar"],
            &["sidecars"],
            &["init", "container"],
            &["init", "containers"],
        ],
        reason: "extra containers (sidecars, init containers) are not in the spec: each component runs one \
                 container; add them by hand after review",
    },
    Concept {
        names: &[&["gpu"], &["gpus"], &["nvidia"]],
        reason: "GPU resources are not in the spec: the plan requests CPU and memory only",
    },
    Concept {
        names: &[
            &["scale", "to", "zero"],
            &["vertical", "autoscaling"],
            &["vpa"],
            &["keda"],
            &["queue", "length"],
            &["queue", "depth"],
        ],
        reason:
            "autoscaling other than on CPU (scale to zero, queue length, vertical) is not in the spec: the \
                 plan scales on CPU only or keeps a fixed count; use KEDA or a VerticalPodAutoscaler",
    },
    Concept {
        names: &[
            &["multi-region"],
            &["multi-cluster"],
            &["multiple", "regions"],
            &["every", "region"],
            &["each", "region"],
            &["across", "regions"],
        ],
        reason: "a plan targets one environment of one repository; plan each region or cluster separately",
    },
];

/// Lowercase words of `text`, punctuation stripped at both ends.
pub(crate) fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric() && c != '%')
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// The concept named at word `i` of `words`, with how many words name it.
pub(crate) fn concept_at(words: &[String], i: usize) -> Option<(&'static Concept, usize)> {
    KNOWN.iter().find_map(|c| {
        c.names
            .iter()
            .find(|name| {
                name.iter()
                    .enumerate()
                    .all(|(k, n)| words.get(i + k).is_some_and(|w| w == n))
            })
            .map(|name| (c, name.len()))
    })
}

/// Every known concept the intent asks for, as the phrase that names it.
fn asked(text: &str) -> Vec<Unsupported> {
    let words = words(text);
    let mut out: Vec<Unsupported> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        match concept_at(&words, i) {
            Some((c, len)) => {
                if !out.iter().any(|u| u.reason == c.reason) {
                    out.push(Unsupported {
                        phrase: words[i..i + len].join(" "),
                        reason: c.reason.to_string(),
                    });
                }
                i += len;
            }
            None => i += 1,
        }
    }
    out
}

/// The known concepts the intent asks for that `spec.unsupported` does not
/// mention (no entry whose phrase or reason names them).
pub fn uncovered(text: &str, spec: &Spec) -> Vec<Unsupported> {
    missing_from(text, &spec.unsupported)
}

/// [`uncovered`] over a list of entries.
pub(crate) fn missing_from(text: &str, list: &[Unsupported]) -> Vec<Unsupported> {
    asked(text)
        .into_iter()
        .filter(|a| {
            let named = |s: &str| {
                let w = words(s).join(" ");
                format!(" {w} ").contains(&format!(" {} ", a.phrase))
            };
            !list.iter().any(|u| named(&u.phrase) || named(&u.reason))
        })
        .collect()
}

/// Adds to `spec.unsupported` what [`uncovered`] finds missing.
pub fn complete(text: &str, spec: &mut Spec) {
    let missing = uncovered(text, spec);
    spec.unsupported.extend(missing);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Archetype;

    #[test]
    fn a_canary_and_a_read_replica_are_asked_for_but_plain_replicas_are_not() {
        let found = asked("Deploy api with a Canary rollout, 3 replicas and a read replica.");
        let phrases: Vec<&str> = found.iter().map(|u| u.phrase.as_str()).collect();
        assert_eq!(phrases, ["canary", "read replica"]);
        assert!(asked("redis with 3 replicas in production").is_empty());
    }

    #[test]
    fn a_plan_that_lists_the_concept_covers_it_and_one_that_does_not_is_completed() {
        let mut spec = Spec::test(Archetype::WebService);
        let text = "web app with a canary release at 10% traffic";
        assert_eq!(uncovered(text, &spec).len(), 1);
        spec.unsupported.push(Unsupported {
            phrase: "a Canary release at 10% traffic".into(),
            reason: "not in the spec".into(),
        });
        assert!(uncovered(text, &spec).is_empty());
        let mut bare = Spec::test(Archetype::WebService);
        complete(text, &mut bare);
        assert_eq!(bare.unsupported.len(), 1);
        assert!(bare.unsupported[0].reason.contains("Argo Rollouts"));
    }
}
