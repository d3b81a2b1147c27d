//! Policy-shaped documents gitintent does not evaluate, turned into
//! findings so that none is dropped in silence: Kyverno CEL policies other
//! than `ValidatingPolicy` (`policies.kyverno.io`: `ImageValidatingPolicy`,
//! `MutatingPolicy`, `GeneratingPolicy`, …; `cel/` evaluates
//! `ValidatingPolicy`), other `kyverno.io` kinds (cleanup policies,
//! exceptions), Kubernetes `MutatingAdmissionPolicy` and its bindings
//! (`ValidatingAdmissionPolicy` is evaluated by `cel/`), and Gatekeeper
//! mutation, expansion and config resources.
//!
//! A document that would deny requests is an error finding (the gate fails
//! rather than pass what it did not check); one that only audits, warns or
//! mutates is a warning. Evaluating these is not done here.

use serde_json::Value;

use crate::finding::{Finding, Severity};

/// The finding for `doc` when it is a policy-shaped document that is not
/// evaluated; `None` for any other document.
pub(crate) fn finding(file: &str, doc: &Value) -> Option<Finding> {
    let api = doc.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
    let name = doc
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("?");
    let group = api.split('/').next().unwrap_or("");
    let (severity, why) = match (group, kind) {
        ("policies.kyverno.io", k) if k.contains("Validating") => {
            let count = doc
                .pointer("/spec/validations")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            (
                denies(doc.pointer("/spec/validationActions")),
                format!("its {count} CEL validation(s) are not evaluated (Kyverno {k} is not supported)"),
            )
        }
        ("policies.kyverno.io" | "kyverno.io", _) => (
            Severity::Warning,
            format!("Kyverno {kind} is not evaluated by gitintent"),
        ),
        ("admissionregistration.k8s.io", k) if k.starts_with("MutatingAdmissionPolicy") => (
            Severity::Warning,
            format!("{kind} is not evaluated (mutation is not validation)"),
        ),
        ("mutations.gatekeeper.sh" | "expansion.gatekeeper.sh" | "config.gatekeeper.sh", _) => (
            Severity::Warning,
            format!("Gatekeeper {kind} is not evaluated by gitintent"),
        ),
        _ => return None,
    };
    let enforce = if severity == Severity::Error {
        " It denies requests, so the gate fails rather than pass unchecked resources."
    } else {
        ""
    };
    Some(
        Finding::new(
            severity,
            "policy-unsupported",
            format!("{kind}/{name}"),
            "",
            format!("{kind} {name:?}: {why}.{enforce}"),
        )
        .in_file(file),
    )
}

/// Error when `validationActions` holds `Deny` or is absent, else warning.
fn denies(actions: Option<&Value>) -> Severity {
    let deny = match actions.and_then(Value::as_array) {
        Some(list) => list.iter().any(|a| a.as_str() == Some("Deny")),
        None => true,
    };
    if deny {
        Severity::Error
    } else {
        Severity::Warning
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn enforcing_cel_policies_are_errors_and_audits_warnings() {
        let vpol = |actions: Value| {
            json!({"apiVersion": "policies.kyverno.io/v1alpha1", "kind": "ImageValidatingPolicy",
                "metadata": {"name": "p"}, "spec": {"validationActions": actions, "validations": [{"expression": "true"}]}})
        };
        let f = finding("p.yaml", &vpol(json!(["Deny"]))).unwrap();
        assert_eq!(
            (f.severity, f.rule.as_str(), f.resource.as_str()),
            (Severity::Error, "policy-unsupported", "ImageValidatingPolicy/p")
        );
        assert_eq!(
            finding("p.yaml", &vpol(json!(["Audit"]))).unwrap().severity,
            Severity::Warning
        );
        let binding = json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingAdmissionPolicyBinding",
            "metadata": {"name": "b"}, "spec": {"policyName": "x"}});
        assert_eq!(finding("b.yaml", &binding).unwrap().severity, Severity::Warning);
        assert!(finding("c.yaml", &json!({"apiVersion": "v1", "kind": "ConfigMap"})).is_none());
    }
}
