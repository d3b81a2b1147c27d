//! Kubernetes `ValidatingAdmissionPolicyBinding`s: which policy they bind,
//! the extra `matchResources`, `validationActions` (`Deny` → error, `Warn`
//! and `Audit` → warning) and `paramRef` (by name and namespace, or by label
//! selector, with `parameterNotFoundAction`), and the parameters they find
//! among the repository's documents.

use serde_json::Value;

use super::matching::Constraints;
use super::policy::Source;
use crate::finding::Severity;
use crate::policy::gatekeeper::matching::selector_matches;
use crate::policy::Error;

/// One binding, read.
#[derive(Debug, Clone)]
pub(super) struct Binding {
    pub(super) name: String,
    pub(super) file: String,
    pub(super) policy: String,
    pub(super) severity: Severity,
    pub(super) resources: Option<Constraints>,
    pub(super) param_ref: Option<ParamRef>,
}

/// `spec.paramRef`.
#[derive(Debug, Clone)]
pub(super) struct ParamRef {
    name: Option<String>,
    namespace: Option<String>,
    selector: Option<Value>,
    /// `parameterNotFoundAction: Deny` (the default).
    pub(super) deny_when_missing: bool,
}

/// Reads a binding document.
pub(super) fn binding(doc: &Value, src: &Source<'_>) -> Result<Binding, Error> {
    let name = doc
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let spec = doc
        .get("spec")
        .filter(|s| s.is_object())
        .ok_or_else(|| src.invalid("spec", "spec must be a map".into()))?;
    let policy = spec
        .get("policyName")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| src.invalid("spec", "spec.policyName is required".into()))?
        .to_string();
    let severity = actions(spec.get("validationActions")).map_err(|m| src.invalid("validationActions", m))?;
    let param_ref = spec.get("paramRef").map(|p| ParamRef {
        name: p.get("name").and_then(Value::as_str).map(str::to_string),
        namespace: p.get("namespace").and_then(Value::as_str).map(str::to_string),
        selector: p.get("selector").cloned(),
        deny_when_missing: p.get("parameterNotFoundAction").and_then(Value::as_str) != Some("Allow"),
    });
    Ok(Binding {
        name,
        file: src.file.to_string(),
        policy,
        severity,
        resources: spec.get("matchResources").map(|m| Constraints::new(Some(m))),
        param_ref,
    })
}

/// `validationActions`: error when it holds `Deny`, warning for `Warn` or
/// `Audit`; anything else (or none) is refused, as the API server does.
pub(super) fn actions(v: Option<&Value>) -> Result<Severity, String> {
    let list: Vec<&str> = v
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if list.is_empty() {
        return Err("validationActions must list Deny, Warn or Audit".into());
    }
    if let Some(bad) = list.iter().find(|a| !matches!(**a, "Deny" | "Warn" | "Audit")) {
        return Err(format!("unknown validationAction {bad:?} (Deny, Warn or Audit)"));
    }
    Ok(if list.contains(&"Deny") {
        Severity::Error
    } else {
        Severity::Warning
    })
}

impl ParamRef {
    /// The parameters among `candidates` (already of the policy's
    /// `paramKind`) for a resource in `namespace`.
    pub(super) fn find<'a>(&self, candidates: &[&'a Value], namespace: Option<&str>) -> Vec<&'a Value> {
        let wanted_ns = self.namespace.as_deref().or(namespace);
        candidates
            .iter()
            .copied()
            .filter(|p| {
                let ns = p.pointer("/metadata/namespace").and_then(Value::as_str);
                ns.is_none() || ns == wanted_ns
            })
            .filter(|p| match (&self.name, &self.selector) {
                (Some(name), _) => p.pointer("/metadata/name").and_then(Value::as_str) == Some(name),
                (None, Some(selector)) => selector_matches(selector, p.pointer("/metadata/labels")),
                (None, None) => false,
            })
            .collect()
    }
}
