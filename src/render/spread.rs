//! Pod affinity, anti-affinity and topology spread for the templates: an
//! empty label selector in the spec is the component's own pods (its
//! selector labels).

use serde_json::{json, Map, Value};

use crate::spec::{Component, KeyValue, NodeRequirement, PodAffinityTerm, PodRelation, TopologySpread};

/// The component's own pods, as the workload's selector names them.
fn own(comp: &Component) -> Value {
    json!({"app.kubernetes.io/name": comp.name, "app.kubernetes.io/instance": comp.name})
}

fn label_selector(comp: &Component, labels: &[KeyValue], expressions: &[NodeRequirement]) -> Value {
    if labels.is_empty() && expressions.is_empty() {
        return json!({"matchLabels": own(comp)});
    }
    let mut out = Map::new();
    if !labels.is_empty() {
        let m: Map<String, Value> = labels
            .iter()
            .map(|kv| (kv.key.clone(), json!(kv.value)))
            .collect();
        out.insert("matchLabels".into(), Value::Object(m));
    }
    if !expressions.is_empty() {
        let list: Vec<Value> = expressions
            .iter()
            .map(|r| {
                let mut e = json!({"key": r.key, "operator": r.operator.as_k8s()});
                if !r.values.is_empty() {
                    e["values"] = json!(r.values);
                }
                e
            })
            .collect();
        out.insert("matchExpressions".into(), Value::Array(list));
    }
    Value::Object(out)
}

/// Adds `podAffinity` and `podAntiAffinity` to `affinity`.
pub(super) fn pod_affinity(comp: &Component, terms: &[PodAffinityTerm], affinity: &mut Map<String, Value>) {
    for (relation, key) in [
        (PodRelation::Affinity, "podAffinity"),
        (PodRelation::AntiAffinity, "podAntiAffinity"),
    ] {
        let mut required = Vec::new();
        let mut preferred = Vec::new();
        for t in terms.iter().filter(|t| t.relation == relation) {
            let term = json!({
                "labelSelector": label_selector(comp, &t.match_labels, &t.match_expressions),
                "topologyKey": t.topology_key,
            });
            if t.required {
                required.push(term);
            } else {
                preferred.push(json!({"weight": t.weight.unwrap_or(100), "podAffinityTerm": term}));
            }
        }
        let mut group = Map::new();
        if !required.is_empty() {
            group.insert(
                "requiredDuringSchedulingIgnoredDuringExecution".into(),
                Value::Array(required),
            );
        }
        if !preferred.is_empty() {
            group.insert(
                "preferredDuringSchedulingIgnoredDuringExecution".into(),
                Value::Array(preferred),
            );
        }
        if !group.is_empty() {
            affinity.insert(key.into(), Value::Object(group));
        }
    }
}

/// The spec's topology spread constraints (after `high_availability.spread`'s, in the template).
pub(super) fn topology_spread(comp: &Component, spread: &[TopologySpread]) -> Vec<Value> {
    spread
        .iter()
        .map(|s| {
            json!({
                "maxSkew": s.max_skew,
                "topologyKey": s.topology_key,
                "whenUnsatisfiable": s.when_unsatisfiable.as_k8s(),
                "labelSelector": label_selector(comp, &s.match_labels, &[]),
            })
        })
        .collect()
}
