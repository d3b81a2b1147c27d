//! Where pods run relative to other pods: pod affinity and anti-affinity
//! terms (e.g. never two replicas on one node) and topology spread
//! constraints. Both sit in `pod` options; the simple
//! `high_availability.spread` keeps its two default constraints.
//!
//! Types and checks only; `render/pod.rs` renders them, with an empty label
//! selector meaning the component's own pods.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::check::Checker;
use super::pod::{label, KeyValue, NodeRequirement, SelectorOperator};

/// A pod (anti-)affinity term.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PodAffinityTerm {
    /// `anti_affinity` keeps away from the selected pods; `affinity` runs next to them.
    pub relation: PodRelation,
    /// True: the scheduler must obey (required); false: it prefers to (preferred, with `weight`).
    pub required: bool,
    /// Preferred terms only: 1-100; null means 100.
    pub weight: Option<u32>,
    /// The node label that defines "next to", e.g. `kubernetes.io/hostname` or `topology.kubernetes.io/zone`.
    pub topology_key: String,
    /// Labels of the pods; empty (with no expressions) means this component's own pods.
    pub match_labels: Vec<KeyValue>,
    /// Label expressions of the pods, e.g. `app in (cache)`.
    pub match_expressions: Vec<NodeRequirement>,
}

/// Next to, or away from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PodRelation {
    Affinity,
    AntiAffinity,
}

/// A topology spread constraint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TopologySpread {
    /// Most pods one domain may have above another, at least 1.
    pub max_skew: u32,
    /// The node label of a domain, e.g. `topology.kubernetes.io/zone`.
    pub topology_key: String,
    /// What to do when the spread cannot hold.
    pub when_unsatisfiable: Unsatisfiable,
    /// Labels of the pods counted; empty means this component's own pods.
    pub match_labels: Vec<KeyValue>,
}

/// When a spread constraint cannot hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Unsatisfiable {
    DoNotSchedule,
    ScheduleAnyway,
}

impl Unsatisfiable {
    /// The Kubernetes spelling.
    pub fn as_k8s(self) -> &'static str {
        match self {
            Unsatisfiable::DoNotSchedule => "DoNotSchedule",
            Unsatisfiable::ScheduleAnyway => "ScheduleAnyway",
        }
    }
}

/// Checks topology keys, selectors, weights and skews.
pub(super) fn check(c: &mut Checker, at: &str, terms: &[PodAffinityTerm], spread: &[TopologySpread]) {
    for (i, t) in terms.iter().enumerate() {
        let here = format!("{at}/pod_affinity/{i}");
        label(c, &format!("{here}/topology_key"), &t.topology_key, None);
        match (t.required, t.weight) {
            (true, Some(_)) => c.fail(
                format!("{here}/weight"),
                "a required term has no weight; use null",
            ),
            (false, Some(w)) if !(1..=100).contains(&w) => {
                c.fail(format!("{here}/weight"), "a weight is 1 to 100")
            }
            _ => {}
        }
        selector(c, &here, &t.match_labels, &t.match_expressions);
    }
    for (i, s) in spread.iter().enumerate() {
        let here = format!("{at}/topology_spread/{i}");
        label(c, &format!("{here}/topology_key"), &s.topology_key, None);
        if !(1..=100).contains(&s.max_skew) {
            c.fail(format!("{here}/max_skew"), "a skew is 1 to 100");
        }
        selector(c, &here, &s.match_labels, &[]);
    }
}

fn selector(c: &mut Checker, here: &str, labels: &[KeyValue], expressions: &[NodeRequirement]) {
    for (j, kv) in labels.iter().enumerate() {
        label(c, &format!("{here}/match_labels/{j}"), &kv.key, Some(&kv.value));
    }
    for (j, r) in expressions.iter().enumerate() {
        let at = format!("{here}/match_expressions/{j}");
        label(c, &at, &r.key, None);
        let needs_values = matches!(r.operator, SelectorOperator::In | SelectorOperator::NotIn);
        if needs_values == r.values.is_empty() {
            c.fail(
                format!("{at}/values"),
                "in/not_in need values; exists/does_not_exist take none",
            );
        }
    }
}
