//! Pod affinity, anti-affinity and topology spread constraints to the
//! spec's `pod.pod_affinity` and `pod.topology_spread`. A selector equal to
//! the pod's own labels becomes the empty selector (the component's own
//! pods, whatever its labels are called after rendering); a term with a
//! field the spec does not have (namespaces, match label keys) stays.

use serde_json::{Map, Value};

use super::tree::Tree;
use crate::spec::{
    KeyValue, NodeRequirement, PodAffinityTerm, PodOptions, PodRelation, SelectorOperator, TopologySpread,
    Unsatisfiable,
};

/// Lifts the terms and constraints of the pod spec at `at`.
pub(super) fn lift(t: &mut Tree, at: &str, own: &Map<String, Value>, pod: &mut PodOptions) {
    for (relation, key) in [
        (PodRelation::Affinity, "podAffinity"),
        (PodRelation::AntiAffinity, "podAntiAffinity"),
    ] {
        let group = format!("{at}/affinity/{key}");
        for required in [true, false] {
            let list = if required {
                format!("{group}/requiredDuringSchedulingIgnoredDuringExecution")
            } else {
                format!("{group}/preferredDuringSchedulingIgnoredDuringExecution")
            };
            for i in 0..t.len(&list) {
                let p = format!("{list}/{i}");
                let Some(term) = t.get(&p).and_then(|v| affinity(v, relation, required, own)) else {
                    continue;
                };
                t.take(&p);
                pod.pod_affinity.push(term);
            }
        }
    }
    let list = format!("{at}/topologySpreadConstraints");
    for i in 0..t.len(&list) {
        let p = format!("{list}/{i}");
        let Some(s) = t.get(&p).and_then(|v| spread(v, own)) else {
            continue;
        };
        t.take(&p);
        pod.topology_spread.push(s);
    }
}

fn affinity(
    v: &Value,
    relation: PodRelation,
    required: bool,
    own: &Map<String, Value>,
) -> Option<PodAffinityTerm> {
    let (term, weight) = if required {
        (v.as_object()?, None)
    } else {
        let m = v.as_object()?;
        if m.len() != 2 {
            return None;
        }
        let w = u32::try_from(m.get("weight")?.as_u64()?).ok()?;
        (m.get("podAffinityTerm")?.as_object()?, Some(w))
    };
    if term
        .keys()
        .any(|k| !["labelSelector", "topologyKey"].contains(&k.as_str()))
    {
        return None;
    }
    let (match_labels, match_expressions) = selector(term.get("labelSelector")?, own, true)?;
    Some(PodAffinityTerm {
        relation,
        required,
        weight: weight.filter(|w| *w != 100),
        topology_key: term.get("topologyKey")?.as_str()?.to_string(),
        match_labels,
        match_expressions,
    })
}

fn spread(v: &Value, own: &Map<String, Value>) -> Option<TopologySpread> {
    let m = v.as_object()?;
    let known = ["maxSkew", "topologyKey", "whenUnsatisfiable", "labelSelector"];
    if m.keys().any(|k| !known.contains(&k.as_str())) {
        return None;
    }
    let (match_labels, _) = selector(m.get("labelSelector")?, own, false)?;
    Some(TopologySpread {
        max_skew: u32::try_from(m.get("maxSkew")?.as_u64()?).ok()?,
        topology_key: m.get("topologyKey")?.as_str()?.to_string(),
        when_unsatisfiable: match m.get("whenUnsatisfiable")?.as_str()? {
            "DoNotSchedule" => Unsatisfiable::DoNotSchedule,
            "ScheduleAnyway" => Unsatisfiable::ScheduleAnyway,
            _ => return None,
        },
        match_labels,
    })
}

/// A label selector: the pod's own labels read as empty; expressions only
/// where `expressions` allows them.
fn selector(
    v: &Value,
    own: &Map<String, Value>,
    expressions: bool,
) -> Option<(Vec<KeyValue>, Vec<NodeRequirement>)> {
    let m = v.as_object()?;
    if m.keys()
        .any(|k| !["matchLabels", "matchExpressions"].contains(&k.as_str()))
    {
        return None;
    }
    let labels = m
        .get("matchLabels")
        .map(Value::as_object)
        .unwrap_or(Some(&Map::new()))?
        .clone();
    let exprs: Vec<NodeRequirement> = match m.get("matchExpressions") {
        None => Vec::new(),
        Some(_) if !expressions => return None,
        Some(list) => list.as_array()?.iter().map(requirement).collect::<Option<_>>()?,
    };
    if exprs.is_empty() && (labels.is_empty() || labels == *own) {
        return (!labels.is_empty()).then(|| (Vec::new(), Vec::new()));
    }
    let labels = labels
        .iter()
        .map(|(k, v)| {
            Some(KeyValue {
                key: k.clone(),
                value: v.as_str()?.to_string(),
            })
        })
        .collect::<Option<_>>()?;
    Some((labels, exprs))
}

fn requirement(v: &Value) -> Option<NodeRequirement> {
    let m = v.as_object()?;
    if m.keys()
        .any(|k| !["key", "operator", "values"].contains(&k.as_str()))
    {
        return None;
    }
    let operator = match m.get("operator")?.as_str()? {
        "In" => SelectorOperator::In,
        "NotIn" => SelectorOperator::NotIn,
        "Exists" => SelectorOperator::Exists,
        "DoesNotExist" => SelectorOperator::DoesNotExist,
        _ => return None,
    };
    let values = match m.get("values") {
        None => Vec::new(),
        Some(list) => list
            .as_array()?
            .iter()
            .map(|x| x.as_str().map(str::to_string))
            .collect::<Option<_>>()?,
    };
    Some(NodeRequirement {
        key: m.get("key")?.as_str()?.to_string(),
        operator,
        values,
    })
}
