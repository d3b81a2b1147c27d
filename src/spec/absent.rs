//! Fields added to the spec after replies were recorded: absent reads as null.
//!
//! The strict schema requires every property, so a model asked with today's
//! schema always sends them. Replies recorded before a field existed (the
//! cassettes under `evals/recordings/`, test fixtures) and specs written by
//! hand or by `gitintent lift` (which leaves empty options out) would fail
//! the schema for a field they could not know; [`fill`] adds exactly the
//! listed fields, as null, where they are missing, and nothing else, so a
//! missing older field is still a schema violation. Fields added inside an
//! option group (`pod`, `service`) are listed with their group.

use serde_json::Value;

/// Component fields added after the first schema, each null when absent.
const COMPONENT: &[&str] = &["pod", "service", "batch", "rbac", "workload", "probes", "objects"];

/// Component fields added by issue 15 with their empty values.
fn component_defaults() -> [(&'static str, Value); 1] {
    [("allow_from_namespaces", Value::Array(Vec::new()))]
}

/// Fields added inside an option group after replies were recorded with it:
/// (group, field, empty value).
fn nested_defaults() -> [(&'static str, &'static str, Value); 4] {
    [
        ("pod", "pod_affinity", Value::Array(Vec::new())),
        ("pod", "topology_spread", Value::Array(Vec::new())),
        ("service", "selector", Value::Array(Vec::new())),
        ("service", "external_name", Value::Null),
    ]
}

/// Adds the later fields a reply left out, as null (or empty).
pub(super) fn fill(spec: &mut Value) {
    let Some(obj) = spec.as_object_mut() else {
        return;
    };
    obj.entry("unsupported")
        .or_insert_with(|| Value::Array(Vec::new()));
    // Added by issue 14: the several environments a plan is meant for.
    obj.entry("environments")
        .or_insert_with(|| Value::Array(Vec::new()));
    // Added by issue 14: a change's `promote`.
    if let Some(changes) = obj.get_mut("changes").and_then(Value::as_array_mut) {
        for change in changes.iter_mut().filter_map(Value::as_object_mut) {
            change.entry("promote").or_insert(Value::Null);
        }
    }
    let Some(components) = obj.get_mut("components").and_then(Value::as_array_mut) else {
        return;
    };
    for comp in components.iter_mut().filter_map(Value::as_object_mut) {
        for key in COMPONENT {
            comp.entry(*key).or_insert(Value::Null);
        }
        for (key, empty) in component_defaults() {
            comp.entry(key).or_insert(empty);
        }
        for (group, key, empty) in nested_defaults() {
            if let Some(g) = comp.get_mut(group).and_then(Value::as_object_mut) {
                g.entry(key).or_insert(empty);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::spec::Spec;

    #[test]
    fn a_reply_without_the_later_fields_reads_as_null_but_older_fields_stay_required() {
        let old = r#"{"environment":"dev","namespace":"default","components":[{"name":"api","archetype":"web_service",
            "image":"acme/api:1.0","replicas":null,"ports":[],"resources":null,"storage":null,"exposure":null,
            "autoscaling":null,"health_check":null,"env":[],"secret_refs":[],"schedule":null,"high_availability":null}],
            "changes":[],"assumptions":[],"questions":[]}"#;
        let spec = Spec::from_untrusted_json(old).unwrap();
        assert!(spec.components[0].pod.is_none() && spec.components[0].rbac.is_none());
        let missing_older = old.replace(r#""schedule":null,"#, "");
        let err = Spec::from_untrusted_json(&missing_older).unwrap_err().to_string();
        assert!(err.contains("schedule"), "{err}");
    }
}
