//! Gatekeeper `ConstraintTemplate`s and their constraints, evaluated as
//! Gatekeeper does: the template's Rego (with its `libs`) through regorus,
//! `input.review.object` the resource, `input.parameters` the constraint's
//! `spec.parameters`, `data.<package>.violation` the results. Templates that
//! read `data.inventory` get the repository's own resources as the
//! inventory, and a note says so.
//!
//! A template with a `K8sNativeValidation` code block is evaluated with
//! that CEL (see `cel::Embedded`), as Gatekeeper's driver priority has it,
//! even when it also has Rego; should its CEL call a function gitintent
//! lacks, its Rego is evaluated instead and an info finding says so.
//!
//! Not evaluated, and reported as a finding on each constraint (an error
//! when `enforcementAction` is `deny`, the default): templates whose only
//! code is CEL that calls such functions, constraints whose template is
//! missing. It does not
//! check `parameters` against the template's schema, run mutation
//! (`Assign*`) resources, or read `Config` sync settings.

pub(super) mod matching;

use std::collections::HashMap;

use serde_json::Value;

use super::cel::Embedded;
use super::rego::{self, Hit, Rego};
use super::Error;
use crate::finding::{Finding, Severity};
use matching::Match;

/// A compiled `ConstraintTemplate`.
#[derive(Clone)]
pub(crate) struct Template {
    /// The constraint kind it defines (`spec.crd.spec.names.kind`).
    kind: String,
    engine: Engine,
    /// Why the template's CEL is not used, when its Rego is used instead.
    note: Option<String>,
    uses_inventory: bool,
    /// `spec.crd.spec.validation.openAPIV3Schema`: what `parameters` must be.
    schema: Option<Value>,
}

/// What evaluates a template's constraints: the engine Gatekeeper would
/// choose (`K8sNativeValidation` before Rego), or why there is none.
#[derive(Clone)]
enum Engine {
    /// The Rego and its package.
    Rego(Box<Rego>, String),
    Cel(Embedded),
    None(String),
}

/// One constraint: an instance of a template's kind.
#[derive(Debug, Clone)]
pub(crate) struct Constraint {
    kind: String,
    name: String,
    file: String,
    severity: Severity,
    matcher: Match,
    parameters: Value,
    /// Whether `spec.parameters` is given (CEL's `variables.params` is null
    /// otherwise).
    parameters_set: bool,
    /// Line and column of `parameters:` in the constraint's file.
    parameters_at: (usize, usize),
}

/// True for `templates.gatekeeper.sh` `ConstraintTemplate`s.
pub(crate) fn is_template(doc: &Value) -> bool {
    api(doc).starts_with("templates.gatekeeper.sh/") && kind(doc) == "ConstraintTemplate"
}

/// True for documents of `constraints.gatekeeper.sh`.
pub(crate) fn is_constraint(doc: &Value) -> bool {
    api(doc).starts_with("constraints.gatekeeper.sh/")
}

fn api(doc: &Value) -> &str {
    doc.get("apiVersion").and_then(Value::as_str).unwrap_or("")
}

fn kind(doc: &Value) -> &str {
    doc.get("kind").and_then(Value::as_str).unwrap_or("")
}

fn invalid(file: &str, text: &str, needle: &str, message: String) -> Error {
    let (line, column) = super::source::locate(text, needle);
    Error::Invalid {
        file: file.to_string(),
        line,
        column,
        what: "Gatekeeper policy".to_string(),
        message,
    }
}

/// Reads and compiles one template; Rego that does not parse is an error.
pub(crate) fn template(file: &str, text: &str, doc: &Value) -> Result<Template, Error> {
    let kind = doc
        .pointer("/spec/crd/spec/names/kind")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| invalid(file, text, "spec:", "spec.crd.spec.names.kind is required".into()))?
        .to_string();
    let target = doc
        .pointer("/spec/targets")
        .and_then(Value::as_array)
        .and_then(|t| {
            t.iter()
                .find(|t| t.get("target").and_then(Value::as_str) == Some("admission.k8s.gatekeeper.sh"))
        })
        .ok_or_else(|| {
            invalid(
                file,
                text,
                "targets",
                "no admission.k8s.gatekeeper.sh target".into(),
            )
        })?;
    let schema = doc.pointer("/spec/crd/spec/validation/openAPIV3Schema").cloned();
    let template = |engine, note, uses_inventory| Template {
        kind: kind.clone(),
        engine,
        note,
        uses_inventory,
        schema: schema.clone(),
    };
    // Gatekeeper prefers the K8sNativeValidation driver to Rego.
    let cel = code(target, "K8sNativeValidation")
        .map(|source| Embedded::gatekeeper(file, text, format!("ConstraintTemplate for {kind}"), source))
        .transpose()?;
    let cel_gap = cel.as_ref().map(|c| c.unsupported().join(", "));
    if let Some(cel) = cel.filter(|c| c.unsupported().is_empty()) {
        return Ok(template(Engine::Cel(cel), None, false));
    }
    let why_not_cel = cel_gap.map(|calls| {
        format!(
            "its K8sNativeValidation code calls {calls}, which gitintent's CEL interpreter does not provide"
        )
    });
    let rego_source = target
        .get("rego")
        .map(|r| (r, target.get("libs")))
        .or_else(|| code(target, "Rego").and_then(|s| s.get("rego").map(|r| (r, s.get("libs")))));
    let Some((rego_text, libs)) = rego_source else {
        let why = why_not_cel
            .unwrap_or_else(|| "the template has neither Rego nor K8sNativeValidation code".into());
        return Ok(template(Engine::None(why), None, false));
    };
    let (engine, package, uses_inventory) = compile_rego(file, text, rego_text.as_str().unwrap_or(""), libs)?;
    let note = why_not_cel.map(|why| format!("{why}; its Rego is evaluated instead"));
    Ok(template(
        Engine::Rego(Box::new(engine), package),
        note,
        uses_inventory,
    ))
}

/// The `source` of the target's `code` entry for `engine`.
fn code<'a>(target: &'a Value, engine: &str) -> Option<&'a Value> {
    target
        .get("code")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c.get("engine").and_then(Value::as_str) == Some(engine))
        .and_then(|c| c.get("source"))
}

/// A template's Rego and `libs` compiled: the engine, its package, and
/// whether it reads `data.inventory`.
fn compile_rego(
    file: &str,
    text: &str,
    rego_text: &str,
    libs: Option<&Value>,
) -> Result<(Rego, String, bool), Error> {
    let offset = super::source::locate(text, "rego:").0;
    let shift = |e: Error| match e {
        Error::Rego {
            file,
            line,
            column,
            message,
        } => Error::Rego {
            file,
            line: line + offset,
            column,
            message,
        },
        other => other,
    };
    let mut engine = Rego::new();
    engine.add(file, rego_text).map_err(shift)?;
    let package = engine.packages().first().cloned().unwrap_or_default();
    let libs: Vec<&str> = libs
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut uses_inventory = rego_text.contains("data.inventory");
    for (i, lib) in libs.iter().enumerate() {
        engine.add(&format!("{file}#libs[{i}]"), lib)?;
        uses_inventory |= lib.contains("data.inventory");
    }
    Ok((engine, package, uses_inventory))
}

/// Reads one constraint.
pub(crate) fn constraint(file: &str, text: &str, doc: &Value) -> Result<Constraint, Error> {
    let name = doc
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| invalid(file, text, "metadata", "constraint needs metadata.name".into()))?
        .to_string();
    let severity = match doc.pointer("/spec/enforcementAction").and_then(Value::as_str) {
        None | Some("deny") => Severity::Error,
        Some("warn" | "dryrun") => Severity::Warning,
        Some(other) => {
            return Err(invalid(
                file,
                text,
                "enforcementAction",
                format!("constraint {name:?}: unknown enforcementAction {other:?}"),
            ))
        }
    };
    Ok(Constraint {
        kind: kind(doc).to_string(),
        name,
        file: file.to_string(),
        severity,
        matcher: Match::new(doc.pointer("/spec/match")),
        parameters: doc
            .pointer("/spec/parameters")
            .cloned()
            .unwrap_or_else(|| serde_json::json!({})),
        parameters_set: doc.pointer("/spec/parameters").is_some_and(|p| !p.is_null()),
        parameters_at: super::source::locate(text, "parameters:"),
    })
}

/// Templates and constraints of a policy set, ready to check resources.
#[derive(Clone, Default)]
pub(crate) struct Gatekeeper {
    templates: Vec<Template>,
    constraints: Vec<Constraint>,
}

impl Gatekeeper {
    pub(crate) fn is_empty(&self) -> bool {
        self.templates.is_empty() && self.constraints.is_empty()
    }

    pub(crate) fn add_template(&mut self, t: Template) {
        self.templates.push(t);
    }

    pub(crate) fn add_constraint(&mut self, c: Constraint) {
        self.constraints.push(c);
    }

    fn template_of(&self, c: &Constraint) -> Option<&Template> {
        self.templates.iter().rev().find(|t| t.kind == c.kind)
    }

    /// Findings about the set itself: constraints that cannot be evaluated
    /// (an error when they deny), and notes.
    pub(crate) fn findings(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        for c in &self.constraints {
            let resource = format!("{}/{}", c.kind, c.name);
            let template = self.template_of(c);
            if let Some(why) = template.and_then(|t| rejected_parameters(t, c)) {
                out.push(
                    Finding::new(
                        Severity::Error,
                        "gatekeeper-invalid",
                        &resource,
                        "/spec/parameters",
                        why,
                    )
                    .in_file(&c.file),
                );
            }
            let (severity, message) = match template {
                None => (c.severity, format!("constraint {:?} is not evaluated: no ConstraintTemplate defines kind {}", c.name, c.kind)),
                Some(Template {
                    engine: Engine::None(why),
                    ..
                }) => (c.severity, format!("constraint {:?} is not evaluated: {why}", c.name)),
                Some(Template { note: Some(note), .. }) => (
                    Severity::Info,
                    format!("constraint {:?}: {note}", c.name),
                ),
                Some(t) if t.uses_inventory => (
                    Severity::Info,
                    format!("constraint {:?} reads data.inventory: the repository's own resources are the inventory, not the cluster's", c.name),
                ),
                Some(_) if c.matcher.has_namespace_selector() => (
                    Severity::Info,
                    format!("constraint {:?} has a namespaceSelector, which cannot be known offline: it applies to every namespace", c.name),
                ),
                Some(_) => continue,
            };
            let rule = if severity == Severity::Info {
                "gatekeeper-offline"
            } else {
                "gatekeeper-unsupported"
            };
            out.push(Finding::new(severity, rule, resource, "", message).in_file(&c.file));
        }
        out
    }

    /// `data` for a check: the inventory of every resource checked.
    pub(crate) fn data(&self, resources: &[(Option<&str>, &Value)]) -> regorus::Value {
        if !self.templates.iter().any(|t| t.uses_inventory) {
            return regorus::Value::from(serde_json::json!({}));
        }
        regorus::Value::from(serde_json::json!({ "inventory": inventory(resources) }))
    }

    /// A session for one run of resources (engines are cloned lazily).
    pub(crate) fn session<'a>(&'a self, data: &'a regorus::Value) -> Session<'a> {
        Session {
            set: self,
            data,
            engines: HashMap::new(),
        }
    }
}

/// Why the template's parameters schema rejects the constraint, if it does
/// (Gatekeeper would refuse the constraint: nothing it asks for is enforced).
fn rejected_parameters(t: &Template, c: &Constraint) -> Option<String> {
    let schema = t.schema.as_ref()?;
    let validator = match jsonschema::validator_for(schema) {
        Ok(v) => v,
        Err(e) => {
            return Some(format!(
                "the parameters schema of its template does not compile: {e}"
            ))
        }
    };
    let error = validator.iter_errors(&c.parameters).next()?;
    let (line, column) = c.parameters_at;
    Some(format!(
        "{}:{line}:{column}: constraint {:?} is rejected by its template's parameters schema at spec.parameters{}: {}",
        c.file,
        c.name,
        error.instance_path(),
        error.masked()
    ))
}

/// `data.inventory` as Gatekeeper syncs it: `cluster[apiVersion][kind][name]`
/// and `namespace[ns][apiVersion][kind][name]`.
fn inventory(resources: &[(Option<&str>, &Value)]) -> Value {
    let mut root = serde_json::json!({"cluster": {}, "namespace": {}});
    for (_, doc) in resources {
        let (Some(api), Some(kind), Some(name)) = (
            doc.get("apiVersion").and_then(Value::as_str),
            doc.get("kind").and_then(Value::as_str),
            doc.pointer("/metadata/name").and_then(Value::as_str),
        ) else {
            continue;
        };
        let slot = match doc.pointer("/metadata/namespace").and_then(Value::as_str) {
            Some(ns) => &mut root["namespace"][ns],
            None => &mut root["cluster"],
        };
        slot[api][kind][name] = (*doc).clone();
    }
    root
}

/// Evaluates constraints against resources, one engine per template.
pub(crate) struct Session<'a> {
    set: &'a Gatekeeper,
    data: &'a regorus::Value,
    engines: HashMap<usize, rego::Session>,
}

impl Session<'_> {
    pub(crate) fn check(&mut self, doc: &Value) -> Vec<Hit> {
        let mut hits = Vec::new();
        for c in &self.set.constraints {
            if !c.matcher.matches(doc) {
                continue;
            }
            let Some(index) = self.set.templates.iter().rposition(|t| t.kind == c.kind) else {
                continue;
            };
            let rule = format!("{}/{}", c.kind, c.name);
            let (engine, package) = match &self.set.templates[index].engine {
                Engine::Rego(engine, package) => (engine, package),
                Engine::Cel(cel) => {
                    hits.extend(cel_hits(cel, c, doc, &rule));
                    continue;
                }
                Engine::None(_) => continue,
            };
            let session = self
                .engines
                .entry(index)
                .or_insert_with(|| engine.session(self.data));
            let input = regorus::Value::from(serde_json::json!({
                "review": review(doc),
                "parameters": c.parameters,
            }));
            match session.query(input, &format!("data.{package}.violation")) {
                Ok(results) => hits.extend(results.into_iter().map(|message| Hit {
                    severity: c.severity,
                    rule: rule.clone(),
                    path: String::new(),
                    message,
                })),
                Err(e) => hits.push(Hit {
                    severity: Severity::Error,
                    rule,
                    path: String::new(),
                    message: format!("policy evaluation failed: {e}"),
                }),
            }
        }
        hits
    }
}

/// A constraint of a K8sNativeValidation template on `doc`: one hit per
/// failed validation, with Gatekeeper's variables `anyObject` (the object
/// being created) and `params` (the constraint's parameters, or null).
fn cel_hits(cel: &Embedded, c: &Constraint, doc: &Value, rule: &str) -> Vec<Hit> {
    let params = if c.parameters_set {
        &c.parameters
    } else {
        &Value::Null
    };
    cel.violations(doc, &[("anyObject", doc), ("params", params)])
        .into_iter()
        .map(|message| Hit {
            severity: c.severity,
            rule: rule.to_string(),
            path: String::new(),
            message,
        })
        .collect()
}

/// `input.review` for a resource being created.
fn review(doc: &Value) -> Value {
    let api = doc.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let (group, version) = api.rsplit_once('/').unwrap_or(("", api));
    serde_json::json!({
        "kind": {"group": group, "version": version, "kind": kind(doc)},
        "name": doc.pointer("/metadata/name").cloned().unwrap_or(Value::Null),
        "namespace": doc.pointer("/metadata/namespace").cloned().unwrap_or(Value::Null),
        "operation": "CREATE",
        "object": doc,
    })
}

#[cfg(test)]
mod tests;
