//! CEL policies, evaluated: Kyverno `ValidatingPolicy` (and
//! `NamespacedValidatingPolicy`) and Kubernetes `ValidatingAdmissionPolicy`
//! with its `ValidatingAdmissionPolicyBinding`s, through the `cel` crate
//! (standard library, strings and lists extensions, optional values, regular
//! expressions; see `env.rs`) plus the Kubernetes quantity and regex
//! libraries (`k8s.rs`). CEL embedded in other policies (a Kyverno rule's
//! `validate.cel`, a Gatekeeper template's `K8sNativeValidation` code) is
//! compiled and evaluated here too, by [`Embedded`] (`embedded.rs`).
//!
//! Input is the policy documents (plus any other document of the policy
//! directories, as candidate `params`) and, per check, a resource; output is
//! [`Hit`]s (one per failed validation: an error when the policy's — or the
//! binding's — `validationActions` hold `Deny`, else a warning) and findings
//! about the policies themselves. Kyverno's autogen applies pods-only
//! policies to the pod template of Deployments, StatefulSets, DaemonSets,
//! ReplicaSets, Jobs and CronJobs (or the controllers of
//! `spec.autogen.podControllers`), as `object.spec`/`object.metadata` of
//! the template. `namespaceObject` is the Namespace document when it is
//! among the checked resources, else one carrying only its name.
//!
//! Fail closed: a policy calling a function the interpreter lacks (the
//! Kubernetes `url`, `ip`/`cidr`, `authorizer` libraries,
//! Kyverno's `resource`, `http`, `image` libraries, …) is not evaluated and
//! is a `policy-unsupported` finding (an error when it denies); an
//! expression that fails at run time is a violation (unless `failurePolicy:
//! Ignore`); a CEL syntax error is an [`Error`] with file and position. A
//! binding of a missing policy, or without the `paramRef` its policy needs,
//! is reported likewise. It does not run `auditAnnotations`, mutating
//! policies or Kyverno's policy exceptions; `request.userInfo` is empty.

mod admission;
mod embedded;
mod env;
mod k8s;
mod matching;
mod policy;

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Value};

use super::rego::Hit;
use super::Error;
use crate::finding::{Finding, Severity};
use admission::Binding;
pub(crate) use embedded::Embedded;
use matching::{NamespaceLabels, Target};
use policy::{Compiled, Inputs, Source, Violation};

/// Kyverno's default autogen controllers.
const CONTROLLERS: [&str; 6] = [
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
];

/// True for the documents this module evaluates.
pub(crate) fn handles(doc: &Value) -> bool {
    let api = doc.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
    match api.split('/').next().unwrap_or("") {
        "policies.kyverno.io" => matches!(kind, "ValidatingPolicy" | "NamespacedValidatingPolicy"),
        "admissionregistration.k8s.io" => {
            matches!(
                kind,
                "ValidatingAdmissionPolicy" | "ValidatingAdmissionPolicyBinding"
            )
        }
        _ => false,
    }
}

/// One CEL policy document.
#[derive(Debug, Clone)]
struct Policy {
    kind: String,
    name: String,
    file: String,
    /// A `ValidatingAdmissionPolicy`: its bindings decide what it does.
    admission: bool,
    /// Kyverno: the action of `validationActions`.
    severity: Severity,
    /// Kyverno `NamespacedValidatingPolicy`: its namespace.
    namespace: Option<String>,
    /// Kinds autogen extends the policy to.
    autogen: Vec<String>,
    compiled: Arc<Compiled>,
}

/// The CEL policies of a policy set.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cel {
    policies: Vec<Policy>,
    bindings: Vec<Binding>,
    /// Other documents of the policy sources: candidate `params`.
    params: Vec<Value>,
}

/// What a check of many resources shares: Namespaces and candidate params.
pub(crate) struct Batch<'a> {
    namespaces: HashMap<&'a str, &'a Value>,
    params: Vec<&'a Value>,
}

/// A finding about a policy file itself (no path inside a resource).
fn finding(severity: Severity, rule: &str, resource: &str, file: &str, message: String) -> Finding {
    Finding::new(severity, rule, resource, "", message).in_file(file)
}

/// The pod controllers a pods-only policy is also applied to: its
/// `autogen.podControllers.controllers`, else all of [`CONTROLLERS`].
fn autogen_controllers(spec: &Value) -> Vec<String> {
    match spec
        .pointer("/autogen/podControllers/controllers")
        .and_then(Value::as_array)
    {
        Some(list) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        None => CONTROLLERS.iter().map(|c| c.to_string()).collect(),
    }
}

impl Cel {
    pub(crate) fn is_empty(&self) -> bool {
        self.policies.is_empty() && self.bindings.is_empty()
    }

    /// Reads one document [`handles`] accepts.
    pub(crate) fn add(&mut self, file: &str, text: &str, doc: &Value) -> Result<(), Error> {
        let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("").to_string();
        let name = doc
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let src = Source {
            file,
            text,
            what: format!("{kind} {name:?}"),
        };
        if name.is_empty() {
            return Err(src.invalid("metadata", "metadata.name is required".into()));
        }
        if kind == "ValidatingAdmissionPolicyBinding" {
            self.bindings.push(admission::binding(doc, &src)?);
            return Ok(());
        }
        let spec = doc
            .get("spec")
            .filter(|s| s.is_object())
            .ok_or_else(|| src.invalid("spec", "spec must be a map".into()))?;
        let admission = kind == "ValidatingAdmissionPolicy";
        let severity = match spec.get("validationActions") {
            None => Severity::Error,
            v => admission::actions(v).map_err(|m| src.invalid("validationActions", m))?,
        };
        let compiled = policy::compile(spec, &src)?;
        let autogen = if admission || !compiled.constraints.pods_only() {
            Vec::new()
        } else {
            autogen_controllers(spec)
        };
        let namespace = (kind == "NamespacedValidatingPolicy").then(|| {
            doc.pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("default")
                .to_string()
        });
        self.policies.push(Policy {
            kind,
            name,
            file: file.to_string(),
            admission,
            severity,
            namespace,
            autogen,
            compiled: Arc::new(compiled),
        });
        Ok(())
    }

    /// Keeps a document of a policy source that is not a policy: it may be
    /// the `params` of a binding.
    pub(crate) fn add_document(&mut self, doc: &Value) {
        if doc.pointer("/metadata/name").is_some_and(Value::is_string) {
            self.params.push(doc.clone());
        }
    }

    /// Findings about the policies themselves.
    pub(crate) fn findings(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        for p in &self.policies {
            self.policy_findings(p, &mut out);
        }
        out.extend(self.bindings.iter().filter_map(|b| self.binding_finding(b)));
        out
    }

    /// What keeps policy `p` from checking what it says: functions the
    /// interpreter lacks, no resource rules, no binding, an offline selector.
    fn policy_findings(&self, p: &Policy, out: &mut Vec<Finding>) {
        let resource = format!("{}/{}", p.kind, p.name);
        let bindings: Vec<&Binding> = self.bindings.iter().filter(|b| b.policy == p.name).collect();
        let severity = match p.admission {
            true => bindings
                .iter()
                .map(|b| b.severity)
                .max()
                .unwrap_or(Severity::Warning),
            false => p.severity,
        };
        if !p.compiled.unsupported.is_empty() {
            let calls = p.compiled.unsupported.join(", ");
            let message = format!("{} {:?} is not evaluated: it calls {calls}, which gitintent's CEL interpreter does not provide.{}", p.kind, p.name, denies(severity));
            out.push(finding(
                severity,
                "policy-unsupported",
                &resource,
                &p.file,
                message,
            ));
        }
        if !p.compiled.constraints.has_rules() {
            let message = format!(
                "{} {:?} has no matchConstraints.resourceRules: it applies to no resource",
                p.kind, p.name
            );
            out.push(finding(
                Severity::Warning,
                "cel-matches-nothing",
                &resource,
                &p.file,
                message,
            ));
        }
        if p.admission && bindings.is_empty() {
            let message = format!("ValidatingAdmissionPolicy {:?} has no ValidatingAdmissionPolicyBinding among the policies: it checks nothing (as in a cluster)", p.name);
            out.push(finding(
                Severity::Warning,
                "cel-unbound",
                &resource,
                &p.file,
                message,
            ));
        }
        if p.compiled.constraints.has_offline_selector() {
            let message = format!("{} {:?} has a namespaceSelector on labels that are only known when the Namespace is among the checked resources; otherwise it applies", p.kind, p.name);
            out.push(finding(
                Severity::Info,
                "cel-offline",
                &resource,
                &p.file,
                message,
            ));
        }
    }

    /// Why binding `b` is not evaluated: its policy is missing, or needs
    /// params the binding does not reference.
    fn binding_finding(&self, b: &Binding) -> Option<Finding> {
        let why = match self.policies.iter().find(|p| p.admission && p.name == b.policy) {
            None => format!(
                "it binds ValidatingAdmissionPolicy {:?}, which is not among the policies",
                b.policy
            ),
            Some(p) if p.compiled.param_kind.is_some() && b.param_ref.is_none() => {
                format!(
                    "its policy {:?} has a paramKind but the binding has no paramRef",
                    b.policy
                )
            }
            Some(_) => return None,
        };
        let message = format!(
            "ValidatingAdmissionPolicyBinding {:?} is not evaluated: {why}.{}",
            b.name,
            denies(b.severity)
        );
        let resource = format!("ValidatingAdmissionPolicyBinding/{}", b.name);
        Some(finding(
            b.severity,
            "policy-unsupported",
            &resource,
            &b.file,
            message,
        ))
    }

    /// The shared part of a check of `resources`.
    pub(crate) fn batch<'a>(&'a self, resources: &[(Option<&'a str>, &'a Value)]) -> Batch<'a> {
        let kinds: Vec<(&str, &str)> = self
            .policies
            .iter()
            .filter_map(|p| p.compiled.param_kind.as_ref())
            .map(|(a, k)| (a.as_str(), k.as_str()))
            .collect();
        let is_param = |d: &Value| {
            let api = d.get("apiVersion").and_then(Value::as_str).unwrap_or("");
            let kind = d.get("kind").and_then(Value::as_str).unwrap_or("");
            kinds.contains(&(api, kind))
        };
        let mut namespaces = HashMap::new();
        let mut params: Vec<&Value> = self.params.iter().filter(|d| is_param(d)).collect();
        for (_, doc) in resources {
            if doc.get("kind").and_then(Value::as_str) == Some("Namespace") {
                if let Some(name) = doc.pointer("/metadata/name").and_then(Value::as_str) {
                    namespaces.insert(name, *doc);
                }
            }
            if !kinds.is_empty() && is_param(doc) {
                params.push(doc);
            }
        }
        Batch { namespaces, params }
    }

    /// Evaluates every CEL policy that applies to `doc`.
    pub(crate) fn check(&self, doc: &Value, batch: &Batch<'_>) -> Vec<Hit> {
        if self.policies.is_empty() {
            return Vec::new();
        }
        let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
        let namespace = (!matching::cluster_scoped(kind)).then(|| {
            doc.pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("default")
        });
        let (namespace_object, labels) = match namespace.map(|ns| (ns, batch.namespaces.get(ns))) {
            None => (Value::Null, None),
            Some((_, Some(known))) => (
                (*known).clone(),
                Some(NamespaceLabels::Known(known.pointer("/metadata/labels"))),
            ),
            Some((ns, None)) => (
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}}}),
                Some(NamespaceLabels::Named(ns)),
            ),
        };
        let target = matching::target(doc, labels);
        let request = request(doc, &target, namespace);
        let mut hits = Vec::new();
        for p in self.policies.iter().filter(|p| p.compiled.unsupported.is_empty()) {
            if p.namespace.as_deref().is_some_and(|ns| Some(ns) != namespace) {
                continue;
            }
            let base = Inputs {
                object: doc,
                params: None,
                namespace: Some(&namespace_object),
                request: &request,
                bound: &[],
            };
            if p.admission {
                self.check_bound(p, &target, &base, batch, namespace, &mut hits);
            } else if p.compiled.constraints.matches(&target) {
                hits.extend(violations(p, p.severity, &p.compiled.evaluate(&base), ""));
            } else if let Some(pod) = autogen(p, doc, &target) {
                let inputs = Inputs { object: &pod, ..base };
                hits.extend(violations(p, p.severity, &p.compiled.evaluate(&inputs), ""));
            }
        }
        hits
    }

    /// A `ValidatingAdmissionPolicy` through each of its bindings.
    fn check_bound(
        &self,
        p: &Policy,
        target: &Target<'_>,
        base: &Inputs<'_>,
        batch: &Batch<'_>,
        namespace: Option<&str>,
        hits: &mut Vec<Hit>,
    ) {
        if !p.compiled.constraints.matches(target) {
            return;
        }
        for b in self.bindings.iter().filter(|b| b.policy == p.name) {
            let selected = match &b.resources {
                None => true,
                Some(r) if r.has_rules() => r.matches(target),
                Some(r) => r.selectors_match(target),
            };
            if !selected {
                continue;
            }
            let via = format!(" (binding {})", b.name);
            let Some((api, kind)) = &p.compiled.param_kind else {
                hits.extend(violations(p, b.severity, &p.compiled.evaluate(base), &via));
                continue;
            };
            let Some(param_ref) = &b.param_ref else {
                continue; // reported by `findings`
            };
            let candidates: Vec<&Value> = batch
                .params
                .iter()
                .copied()
                .filter(|d| {
                    d.get("apiVersion").and_then(Value::as_str) == Some(api)
                        && d.get("kind").and_then(Value::as_str) == Some(kind)
                })
                .collect();
            let found = param_ref.find(&candidates, namespace);
            if found.is_empty() && param_ref.deny_when_missing {
                let missing = Violation {
                    index: None,
                    message: format!("no {kind} parameters found for the binding's paramRef (parameterNotFoundAction: Deny)"),
                };
                hits.extend(violations(p, b.severity, &[missing], &via));
            }
            for params in found {
                let inputs = Inputs {
                    params: Some(params),
                    ..*base
                };
                hits.extend(violations(p, b.severity, &p.compiled.evaluate(&inputs), &via));
            }
        }
    }
}

/// The pod-template view of `doc` when autogen extends `p` to its kind.
fn autogen(p: &Policy, doc: &Value, target: &Target<'_>) -> Option<Value> {
    let kind = doc.get("kind").and_then(Value::as_str)?;
    let listed = p
        .autogen
        .iter()
        .any(|c| c == kind || *c == matching::plural(kind));
    if !listed {
        return None;
    }
    let pod = Target {
        group: "",
        version: "v1",
        resource: "pods".into(),
        name: target.name,
        labels: target.labels,
        namespace_labels: target.namespace_labels,
    };
    if !p.compiled.constraints.matches(&pod) {
        return None;
    }
    matching::as_pod(doc)
}

/// `request` as the API server would send it for creating `doc`.
fn request(doc: &Value, t: &Target<'_>, namespace: Option<&str>) -> Value {
    json!({
        "operation": "CREATE",
        "kind": {"group": t.group, "version": t.version, "kind": doc.get("kind").cloned().unwrap_or(Value::Null)},
        "resource": {"group": t.group, "version": t.version, "resource": t.resource},
        "name": t.name,
        "namespace": namespace,
        "userInfo": {},
        "dryRun": false,
    })
}

fn violations(p: &Policy, severity: Severity, found: &[Violation], via: &str) -> Vec<Hit> {
    found
        .iter()
        .map(|v| Hit {
            severity,
            rule: match v.index {
                Some(i) => format!("{}/validations[{i}]", p.name),
                None => format!("{}/matchConditions", p.name),
            },
            path: String::new(),
            message: format!("{}{via}", v.message),
        })
        .collect()
}

fn denies(severity: Severity) -> &'static str {
    if severity == Severity::Error {
        " It denies requests, so the gate fails rather than pass unchecked resources."
    } else {
        ""
    }
}

#[cfg(test)]
mod tests;
