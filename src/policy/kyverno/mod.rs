//! Kyverno `ClusterPolicy`/`Policy` validate rules, evaluated natively.
//!
//! Supported: `match`/`exclude` (see `filter`); `validate.podSecurity`
//! (the Pod Security Standards with exclusions, see `pss`);
//! `validate.cel` (expressions, variables, `celPreconditions`, through
//! `cel::Embedded`; the first failed expression's message is the
//! finding's); `validate.pattern` and
//! `validate.anyPattern` with the whole pattern language (see `pattern` and
//! `operators`); `validate.deny.conditions` and `preconditions` (`any`/`all`
//! or the legacy list, every Kyverno operator: see `conditions`, `condops`);
//! `foreach` (nested, with `element`/`elementIndex`, `pattern`, `anyPattern`,
//! `deny`, `preconditions` and `context` inside: see `validate`); `context`
//! entries of kind `variable`; `{{ }}` variables anywhere in a rule, with
//! JMESPath and Kyverno's custom functions (see `jmes`, `functions`, `vars`),
//! where `request.object` is the resource, `request.operation` is `CREATE`
//! (`request.oldObject` is null) and `images` lists its pod's images (see
//! `images`). Pod rules also apply to the pod template of Deployments,
//! StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs, as Kyverno's
//! auto-generation does. `validate.message` (variables substituted) is the
//! finding's message; `validationFailureAction` (or the rule's
//! `failureAction`) `Enforce` gives errors and `Audit` (the default)
//! warnings, per namespace when `validationFailureActionOverrides` (or
//! `failureActionOverrides`) say so. A rule that cannot be evaluated on a
//! resource (a variable that does not resolve, a function given the wrong
//! type) is a finding for that resource, as Kyverno reports an error.
//!
//! Not supported, and reported as one `kyverno-unsupported` finding per
//! rule (an error when the rule enforces, else a warning) instead of being
//! skipped in silence: CEL functions gitintent's interpreter lacks and
//! `validate.cel.paramKind` (parameters from the cluster), `manifests`,
//! `assert`, `context` entries that need a cluster or a registry
//! (`apiCall`, `configMap`, `imageRegistry`, `globalReference`), Kyverno
//! functions gitintent does not implement, `{{@}}` and `$(...)` references
//! in patterns, the global anchor `<(key)`, label selectors in `match`, and
//! mutate/generate/verifyImages rules. A rule using any of these is not
//! evaluated. `subjects`, `roles` and `clusterRoles` in `match`/`exclude`
//! name who makes a request, which is unknown offline: an `exclude` entry
//! naming them never matches (the rule applies) and a `kyverno-offline` info
//! finding says so.

use serde_json::Value;

mod conditions;
mod condops;
mod filter;
mod functions;
mod images;
mod index;
mod jmes;
mod operators;
mod pattern;
mod pss;
mod read;
mod rule;
mod validate;
mod vars;

use filter::Filter;
use index::View;
pub(crate) use index::{Index, Target};
use jmes::Scope;
use pattern::wildcard;
use rule::{read_rule, RuleContext};
use validate::{Check, Eval, Verdict};
use vars::Queries;

use super::rego::Hit;
use super::Error;
use crate::finding::{Finding, Severity};

/// One policy document.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    kind: String,
    name: String,
    file: String,
    /// `Some(ns)` for a namespaced `Policy`.
    namespace: Option<String>,
    rules: Vec<Rule>,
    /// Rules that are not evaluated, and why.
    unsupported: Vec<Unsupported>,
    /// Rules that are evaluated with a caveat (subjects unknown offline).
    notes: Vec<String>,
}

/// A rule that is not evaluated: its name, what it uses, how it enforces.
#[derive(Debug, Clone)]
struct Unsupported {
    rule: String,
    feature: String,
    severity: Severity,
}

#[derive(Debug, Clone)]
struct Rule {
    name: String,
    severity: Severity,
    matches: Filter,
    excludes: Option<Filter>,
    /// `validate.message`, which may hold variables (`message_vars`).
    message: String,
    message_vars: bool,
    check: Check,
    queries: Queries,
    autogen: bool,
    /// `failureActionOverrides`: the action in some namespaces.
    overrides: Vec<Override>,
}

/// An action that applies to resources of some namespaces.
#[derive(Debug, Clone)]
struct Override {
    severity: Severity,
    namespaces: Vec<String>,
}

/// `validationFailureActionOverrides` (or a rule's `failureActionOverrides`).
fn overrides(v: Option<&Value>) -> Vec<Override> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|o| {
            Some(Override {
                severity: action(o.get("action")?)?,
                namespaces: o
                    .get("namespaces")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
                    .unwrap_or_default(),
            })
        })
        .collect()
}

const POD_CONTROLLERS: [&str; 6] = [
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
];

/// True for the documents [`policy`] reads: `kyverno.io` `ClusterPolicy`
/// and `Policy`.
pub(crate) fn is_policy(doc: &Value) -> bool {
    let api = doc.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
    api.starts_with("kyverno.io/") && (kind == "ClusterPolicy" || kind == "Policy")
}

/// Parses a YAML file; documents that are not Kyverno policies are ignored.
#[cfg(test)]
pub(crate) fn parse(file: &str, text: &str) -> Result<Vec<Policy>, Error> {
    let docs = super::source::documents(file, text)?;
    docs.iter()
        .filter(|d| is_policy(d))
        .map(|d| policy(file, text, d))
        .collect()
}

/// One `ClusterPolicy` or `Policy` document of `file` (whose `text` is used
/// to locate errors).
pub(crate) fn policy(file: &str, text: &str, doc: &Value) -> Result<Policy, Error> {
    let name = doc
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let invalid = |needle: &str, message: String| {
        let (line, column) = locate(text, needle);
        Error::Kyverno {
            file: file.to_string(),
            line,
            column,
            message: format!("policy {name:?}: {message}"),
        }
    };
    if name.is_empty() {
        return Err(invalid("metadata:", "metadata.name is required".into()));
    }
    let spec = doc
        .get("spec")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid("spec:", "spec must be a map".into()))?;
    let default_action = match spec.get("validationFailureAction") {
        None => Severity::Warning,
        Some(v) => action(v).ok_or_else(|| {
            invalid(
                "validationFailureAction",
                format!("unknown validationFailureAction {v}"),
            )
        })?,
    };
    let rules = spec
        .get("rules")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("rules:", "spec.rules must be a list".into()))?;
    let mut out = Policy::empty(file, &name, doc);
    let autogen_off = doc
        .pointer("/metadata/annotations/pod-policies.kyverno.io~1autogen-controllers")
        .and_then(Value::as_str)
        .is_some_and(|v| v == "none");
    for (i, rule) in rules.iter().enumerate() {
        let rule_name = rule.get("name").and_then(Value::as_str).unwrap_or("").to_string();
        if rule_name.is_empty() {
            return Err(invalid("rules:", format!("rule {i} has no name")));
        }
        let context = RuleContext {
            name: &rule_name,
            default_action,
            autogen: !autogen_off,
            overrides: overrides(spec.get("validationFailureActionOverrides")),
            file,
            text,
        };
        read_rule(rule, &context, &mut out, &invalid)?;
    }
    Ok(out)
}

/// A `failureAction` / `validationFailureAction`: `Enforce` is an error, `Audit` a warning.
fn action(v: &Value) -> Option<Severity> {
    match v.as_str()?.to_ascii_lowercase().as_str() {
        "enforce" => Some(Severity::Error),
        "audit" => Some(Severity::Warning),
        _ => None,
    }
}

use super::source::locate;

impl Policy {
    /// A policy named `name` read from `doc`, with no rules yet.
    fn empty(file: &str, name: &str, doc: &Value) -> Policy {
        let kind = doc
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("ClusterPolicy")
            .to_string();
        let namespace = (kind == "Policy").then(|| {
            doc.pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("default")
                .to_string()
        });
        Policy {
            kind,
            name: name.to_string(),
            file: file.to_string(),
            namespace,
            rules: Vec::new(),
            unsupported: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// What loading found: one `kyverno-unsupported` finding per rule that
    /// is not evaluated (an error when it enforces), one `kyverno-offline`
    /// note per rule whose subjects cannot be known.
    pub(crate) fn findings(&self) -> Vec<Finding> {
        let resource = format!("{}/{}", self.kind, self.name);
        let mut out = Vec::new();
        let mut rules: Vec<&str> = self.unsupported.iter().map(|u| u.rule.as_str()).collect();
        rules.dedup();
        for rule in rules {
            let of_rule: Vec<&Unsupported> = self.unsupported.iter().filter(|u| u.rule == rule).collect();
            let features: Vec<&str> = of_rule.iter().map(|u| u.feature.as_str()).collect();
            let severity = of_rule
                .iter()
                .map(|u| u.severity)
                .max()
                .unwrap_or(Severity::Warning);
            out.push(
                Finding::new(
                    severity,
                    "kyverno-unsupported",
                    &resource,
                    "",
                    format!(
                        "rule {rule:?} of {} {:?} is not evaluated: gitintent does not support {}{}",
                        self.kind,
                        self.name,
                        features.join(", "),
                        if severity == Severity::Error {
                            " (the rule enforces, so the gate fails)"
                        } else {
                            ""
                        }
                    ),
                )
                .in_file(&self.file),
            );
        }
        for rule in &self.notes {
            out.push(
                Finding::new(
                    Severity::Info,
                    "kyverno-offline",
                    &resource,
                    "",
                    format!(
                        "rule {rule:?} of {} {:?} names subjects, roles or clusterRoles, which cannot be known offline: its match ignores them and its exclude entries naming them exclude nothing",
                        self.kind, self.name
                    ),
                )
                .in_file(&self.file),
            );
        }
        out
    }

    /// Lists `features` of `rule` as not evaluated.
    fn unsupported_all(&mut self, rule: &str, features: Vec<String>, severity: Severity) {
        self.unsupported
            .extend(features.into_iter().map(|feature| Unsupported {
                rule: rule.to_string(),
                feature,
                severity,
            }));
    }

    /// Validates one resource against every matching rule.
    #[cfg(test)]
    pub(crate) fn check(&self, doc: &Value) -> Vec<Hit> {
        self.check_target(&Target::new(doc))
    }

    /// [`Policy::check`] of a resource whose pod view the policies share.
    pub(crate) fn check_target(&self, target: &Target<'_>) -> Vec<Hit> {
        let doc = target.doc;
        let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
        if let Some(ns) = &self.namespace {
            if doc
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("default")
                != ns
            {
                return Vec::new();
            }
        }
        // The pod of a controller and the variables of each view are built
        // once per resource, for every policy (see `Target`).
        let mut hits = Vec::new();
        for rule in &self.rules {
            let (object, prefix, view) = if rule.matches.matches(doc, kind) {
                (doc, "", View::Resource)
            } else if rule.autogen && POD_CONTROLLERS.contains(&kind) && rule.matches.matches(doc, "Pod") {
                match target.pod(kind) {
                    Some((pod, prefix)) => (pod, prefix, View::Pod),
                    None => continue,
                }
            } else {
                continue;
            };
            if rule.excludes.as_ref().is_some_and(|e| e.excludes(doc, kind)) {
                continue;
            }
            let scope = if rule.queries.is_empty() {
                // Rules without variables never read the scope.
                Scope::default()
            } else {
                target.scope(view, object)
            };
            hits.extend(rule.run(&self.name, doc, object, prefix, scope));
        }
        hits
    }
}

impl Rule {
    /// The rule on `target` (the resource, or the pod of a controller at
    /// `prefix` of `doc`): a hit when it fails or cannot be evaluated.
    fn run(&self, policy: &str, doc: &Value, target: &Value, prefix: &str, scope: Scope) -> Option<Hit> {
        let mut eval = Eval {
            queries: &self.queries,
            scope,
            target: std::borrow::Cow::Borrowed(target),
            nesting: 0,
        };
        let verdict = eval.run(&self.check);
        // The message sees the rule's context variables.
        let root = eval.scope.root();
        let (path, message) = match verdict {
            Verdict::Pass | Verdict::Skip | Verdict::Nothing => return None,
            Verdict::Fail { path, detail } => {
                let message = self.message(&root);
                let message = if detail.is_empty() {
                    message
                } else {
                    format!("{message}; {detail}")
                };
                (path, message)
            }
            Verdict::Denied(message) => (String::new(), message),
            Verdict::Error(e) => (
                String::new(),
                format!("{} (the rule could not be evaluated: {e})", self.message(&root)),
            ),
        };
        Some(Hit {
            severity: self.severity_in(doc),
            rule: format!("{policy}/{}", self.name),
            path: format!("{prefix}{path}"),
            message,
        })
    }

    /// `validate.message` with its variables, or as written when they
    /// cannot be resolved.
    fn message(&self, root: &jmespath::Rcvar) -> String {
        if self.message_vars {
            if let Ok(Value::String(s)) = self
                .queries
                .substitute(&Value::String(self.message.clone()), root)
            {
                return s;
            }
        }
        self.message.clone()
    }

    /// The rule's action for a resource: its namespace's override, if any.
    fn severity_in(&self, doc: &Value) -> Severity {
        let namespace = doc
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("default");
        self.overrides
            .iter()
            .find(|o| o.namespaces.iter().any(|p| wildcard(p, namespace)))
            .map_or(self.severity, |o| o.severity)
    }
}

/// The pod template of a controller as a Pod, with the JSON pointer prefix.
fn pod_of(doc: &Value, kind: &str) -> Option<(Value, &'static str)> {
    let prefix = if kind == "CronJob" {
        "/spec/jobTemplate/spec/template"
    } else {
        "/spec/template"
    };
    let template = doc.pointer(prefix)?;
    // Built field by field: `json!` would copy the template twice.
    let mut pod = serde_json::Map::new();
    pod.insert("apiVersion".into(), Value::from("v1"));
    pod.insert("kind".into(), Value::from("Pod"));
    let metadata = template.get("metadata").cloned();
    pod.insert(
        "metadata".into(),
        metadata.unwrap_or_else(|| Value::Object(Default::default())),
    );
    pod.insert(
        "spec".into(),
        template.get("spec").cloned().unwrap_or(Value::Null),
    );
    Some((Value::Object(pod), prefix))
}

#[cfg(test)]
mod tests;
