//! Kyverno `ClusterPolicy`/`Policy` validate rules, matched natively.
//!
//! Supported: `match`/`exclude` with `any`/`all` (or the legacy bare
//! `resources`) on `kinds`, `names` and `namespaces`; `validate.pattern` and
//! `validate.anyPattern` with literals, nested maps and arrays, wildcards `*`
//! and `?` (so `?*` is "non-empty"), `!` negation, `|` alternatives, `>`,
//! `<`, `>=`, `<=` on numbers and Kubernetes quantities, and the anchors
//! `(key)` (conditional), `=(key)` (equality), `X(key)` (negation) and
//! `^(key)` (existence). Pod rules also apply to the pod template of
//! Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs, as
//! Kyverno's auto-generation does. `validate.message` is the finding's
//! message; `validationFailureAction` (or the rule's `failureAction`)
//! `Enforce` gives errors and `Audit` (the default) warnings, per namespace
//! when `validationFailureActionOverrides` (or `failureActionOverrides`) say so.
//!
//! Not supported, and reported as one `kyverno-unsupported` finding per
//! rule (an error when the rule enforces, else a warning) instead of being
//! skipped in silence: CEL (`validate.cel`), `deny` conditions, `foreach`,
//! `podSecurity`, `preconditions`, `context`, JMESPath `{{ }}` in patterns,
//! the global anchor `<(key)`, label selectors in `match`, and
//! mutate/generate/verifyImages rules. A rule using any of these is not
//! evaluated. `subjects`, `roles` and `clusterRoles` in `match`/`exclude`
//! name who makes a request, which is unknown offline: an `exclude` entry
//! naming them never matches (the rule applies) and a `kyverno-offline` info
//! finding says so.

use serde_json::Value;

mod index;
mod operators;
mod pattern;

pub(crate) use index::{Index, Target};

use pattern::{match_value, wildcard, Outcome};

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
    message: String,
    patterns: Vec<Value>,
    any: bool,
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

/// `match` or `exclude`: `any` of these, and `all` of those.
#[derive(Debug, Clone, Default)]
struct Filter {
    any: Vec<Entry>,
    all: Vec<Entry>,
}

/// One resource filter: its `resources` block, and whether it also names
/// `subjects`/`roles`/`clusterRoles` (unknowable offline).
#[derive(Debug, Clone)]
struct Entry {
    resources: Option<Value>,
    user: bool,
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
    let autogen_off = doc
        .pointer("/metadata/annotations/pod-policies.kyverno.io~1autogen-controllers")
        .and_then(Value::as_str)
        .is_some_and(|v| v == "none");
    let mut out = Policy {
        kind,
        name: name.clone(),
        file: file.to_string(),
        namespace,
        rules: Vec::new(),
        unsupported: Vec::new(),
        notes: Vec::new(),
    };
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
        };
        read_rule(rule, &context, &mut out, &invalid)?;
    }
    Ok(out)
}

/// What a rule inherits from its policy.
struct RuleContext<'a> {
    name: &'a str,
    default_action: Severity,
    autogen: bool,
    overrides: Vec<Override>,
}

/// Adds one rule to `out`: evaluated, or listed as unsupported.
fn read_rule(
    rule: &Value,
    cx: &RuleContext<'_>,
    out: &mut Policy,
    invalid: &dyn Fn(&str, String) -> Error,
) -> Result<(), Error> {
    let rule_name = cx.name;
    let mut skip = Vec::new();
    for key in ["mutate", "generate", "verifyImages", "preconditions", "context"] {
        if rule.get(key).is_some() {
            skip.push(key.to_string());
        }
    }
    let Some(validate) = rule.get("validate") else {
        // verifyImages enforces like a validation; mutate and generate
        // change or create resources, which a gate of manifests cannot do.
        let severity = if rule.get("verifyImages").is_some() {
            cx.default_action
        } else {
            Severity::Warning
        };
        out.unsupported
            .extend(skip.into_iter().map(|feature| Unsupported {
                rule: rule_name.to_string(),
                feature,
                severity,
            }));
        return Ok(());
    };
    for key in ["cel", "deny", "foreach", "podSecurity", "manifests", "assert"] {
        if validate.get(key).is_some() {
            skip.push(format!("validate.{key}"));
        }
    }
    let (patterns, any) = match (validate.get("pattern"), validate.get("anyPattern")) {
        (Some(p), None) if p.is_object() => (vec![p.clone()], false),
        (None, Some(Value::Array(ps))) if !ps.is_empty() && ps.iter().all(Value::is_object) => {
            (ps.clone(), true)
        }
        (None, None) if !skip.is_empty() => (Vec::new(), false),
        _ => {
            return Err(invalid(
                rule_name,
                format!("rule {rule_name:?}: validate needs a pattern map or an anyPattern list of maps"),
            ))
        }
    };
    if patterns.iter().any(|p| p.to_string().contains("{{")) {
        skip.push("JMESPath {{ }} in pattern".to_string());
    }
    if patterns.iter().any(|p| p.to_string().contains("\"<(")) {
        skip.push("global anchor <(key)".to_string());
    }
    let mut user = false;
    let matches = filter(rule.get("match"), &mut skip, &mut user).ok_or_else(|| {
        invalid(
            rule_name,
            format!("rule {rule_name:?}: match must name resources"),
        )
    })?;
    let excludes = rule
        .get("exclude")
        .map(|e| filter(Some(e), &mut skip, &mut user).unwrap_or_default());
    let severity = match validate.get("failureAction") {
        None => cx.default_action,
        Some(v) => action(v).ok_or_else(|| invalid("failureAction", format!("unknown failureAction {v}")))?,
    };
    let rule_overrides = match validate.get("failureActionOverrides") {
        Some(v) => overrides(Some(v)),
        None => cx.overrides.clone(),
    };
    if !skip.is_empty() {
        // Enforced in some namespace: not evaluating it is an error.
        let severity = rule_overrides.iter().map(|o| o.severity).fold(severity, Ord::max);
        out.unsupported
            .extend(skip.into_iter().map(|feature| Unsupported {
                rule: rule_name.to_string(),
                feature,
                severity,
            }));
        return Ok(());
    }
    if user {
        out.notes.push(rule_name.to_string());
    }
    let message = validate
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| format!("validation rule {rule_name:?} failed"));
    out.rules.push(Rule {
        name: rule_name.to_string(),
        severity,
        matches,
        excludes,
        message,
        patterns,
        any,
        autogen: cx.autogen,
        overrides: rule_overrides,
    });
    Ok(())
}

fn action(v: &Value) -> Option<Severity> {
    match v.as_str()?.to_ascii_lowercase().as_str() {
        "enforce" => Some(Severity::Error),
        "audit" => Some(Severity::Warning),
        _ => None,
    }
}

/// Reads `match`/`exclude`; `None` when it names no resources at all.
/// Sets `user` when an entry names subjects, roles or cluster roles.
fn filter(m: Option<&Value>, skip: &mut Vec<String>, user: &mut bool) -> Option<Filter> {
    let m = m?;
    let entry = |e: &Value| Entry {
        resources: e.get("resources").cloned(),
        user: ["subjects", "roles", "clusterRoles"]
            .iter()
            .any(|k| e.get(k).is_some()),
    };
    let list = |key: &str| -> Vec<Entry> {
        m.get(key)
            .and_then(Value::as_array)
            .map(|a| a.iter().map(entry).collect())
            .unwrap_or_default()
    };
    let mut f = Filter {
        any: list("any"),
        all: list("all"),
    };
    if m.get("resources").is_some()
        || m.get("subjects").is_some()
        || m.get("roles").is_some()
        || m.get("clusterRoles").is_some()
    {
        f.all.push(entry(m));
    }
    for e in f.any.iter().chain(&f.all) {
        *user |= e.user;
        for key in ["selector", "namespaceSelector", "annotations"] {
            if e.resources.as_ref().is_some_and(|r| r.get(key).is_some()) {
                skip.push(format!("match.resources.{key}"));
            }
        }
    }
    f.any
        .iter()
        .chain(&f.all)
        .any(|e| e.resources.is_some())
        .then_some(f)
}

use super::source::locate;

impl Policy {
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
        let mut hits = Vec::new();
        for rule in &self.rules {
            let (target, prefix) = if rule.matches.matches(doc, kind) {
                (std::borrow::Cow::Borrowed(doc), "")
            } else if rule.autogen && POD_CONTROLLERS.contains(&kind) && rule.matches.matches(doc, "Pod") {
                match target.pod(kind) {
                    Some((pod, prefix)) => (std::borrow::Cow::Borrowed(pod), prefix),
                    None => continue,
                }
            } else {
                continue;
            };
            if rule.excludes.as_ref().is_some_and(|e| e.excludes(doc, kind)) {
                continue;
            }
            let mut first_failure = None;
            let mut passed = false;
            for pattern in &rule.patterns {
                match match_value(pattern, Some(&target), prefix.to_string()) {
                    Outcome::Fail(path) => {
                        first_failure.get_or_insert(path);
                        if !rule.any {
                            break;
                        }
                    }
                    Outcome::Pass | Outcome::Skip => {
                        passed = true;
                        if rule.any {
                            break;
                        }
                    }
                }
            }
            let failed = if rule.any {
                !passed
            } else {
                first_failure.is_some()
            };
            if failed {
                hits.push(Hit {
                    severity: rule.severity_in(doc),
                    rule: format!("{}/{}", self.name, rule.name),
                    path: first_failure.unwrap_or_default(),
                    message: rule.message.clone(),
                });
            }
        }
        hits
    }
}

impl Rule {
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
    let pod = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": template.get("metadata").cloned().unwrap_or_else(|| serde_json::json!({})),
        "spec": template.get("spec").cloned().unwrap_or(Value::Null),
    });
    Some((pod, prefix))
}

impl Filter {
    /// As `match`: entries naming subjects are taken to hold.
    fn matches(&self, doc: &Value, kind: &str) -> bool {
        let hit = |e: &Entry| {
            e.resources
                .as_ref()
                .is_none_or(|r| resource_matches(r, doc, kind))
        };
        (self.any.is_empty() || self.any.iter().any(hit)) && self.all.iter().all(hit)
    }

    /// As `exclude`: an entry naming subjects, or no resources, never
    /// matches offline, and an empty exclude excludes nothing.
    fn excludes(&self, doc: &Value, kind: &str) -> bool {
        let hit = |e: &Entry| {
            !e.user
                && e.resources
                    .as_ref()
                    .is_some_and(|r| resource_matches(r, doc, kind))
        };
        if self.any.is_empty() && self.all.is_empty() {
            return false;
        }
        (self.any.is_empty() || self.any.iter().any(hit)) && self.all.iter().all(hit)
    }
}

fn resource_matches(r: &Value, doc: &Value, kind: &str) -> bool {
    let strings = |key: &str| -> Option<Vec<&str>> {
        r.get(key)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
    };
    let kinds_ok = strings("kinds").is_none_or(|kinds| {
        kinds.iter().any(|k| {
            let k = k.rsplit('/').next().unwrap_or(k);
            wildcard(k, kind)
        })
    });
    let name = doc
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let names_ok = strings("names").is_none_or(|ns| ns.iter().any(|p| wildcard(p, name)))
        && r.get("name")
            .and_then(Value::as_str)
            .is_none_or(|p| wildcard(p, name));
    let namespace = doc
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("");
    let namespaces_ok = strings("namespaces").is_none_or(|ns| ns.iter().any(|p| wildcard(p, namespace)));
    kinds_ok && names_ok && namespaces_ok
}

#[cfg(test)]
mod tests;
