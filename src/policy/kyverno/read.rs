//! Reading what a Kyverno rule checks (its `validate` block, `context`
//! and `preconditions`, recursively for `foreach`) into a [`Check`], with
//! every `{{ }}` expression compiled. What gitintent cannot evaluate is
//! named in `skip` (the rule is then reported, not evaluated); what Kyverno
//! itself would refuse is an error.

use serde_json::Value;

use super::super::cel::Embedded;
use super::conditions::{Conditions, ReadError};
use super::jmes::CompileError;
use super::pss::PodSecurity;
use super::validate::{Body, Check, Foreach, Variable};
use super::vars::{has_variables, Queries};

/// Compiles expressions and collects unsupported features while reading.
pub(super) struct Reader<'a> {
    pub(super) queries: &'a mut Queries,
    pub(super) skip: &'a mut Vec<String>,
}

/// Validate features gitintent does not evaluate.
const UNSUPPORTED_VALIDATE: [&str; 2] = ["manifests", "assert"];

fn describe(e: CompileError) -> String {
    match e {
        CompileError::Syntax(message) => format!("JMESPath it cannot parse ({message})"),
        CompileError::Unsupported(what) => what,
    }
}

impl Reader<'_> {
    /// A rule's check: `context` and `preconditions` from the rule, the
    /// rest from its `validate` block. `Err` is a message for the user.
    /// `cel` is the rule's `validate.cel`, compiled; `podSecurity` goes
    /// first, as in Kyverno.
    pub(super) fn rule(
        &mut self,
        rule: &Value,
        validate: &Value,
        cel: Option<Embedded>,
    ) -> Result<Check, String> {
        for key in UNSUPPORTED_VALIDATE {
            if validate.get(key).is_some() {
                self.skip.push(format!("validate.{key}"));
            }
        }
        match cel {
            Some(cel) if validate.get("podSecurity").is_none() => {
                for function in cel.unsupported() {
                    self.skip.push(format!("the CEL function {function}"));
                }
                if validate.pointer("/cel/paramKind").is_some() {
                    self.skip
                        .push("validate.cel.paramKind (parameters from the cluster)".to_string());
                }
                Ok(Check {
                    context: self.context(rule.get("context"))?,
                    preconditions: self.conditions(rule.get("preconditions"))?,
                    body: Body::Cel(cel),
                })
            }
            _ => self.check(rule.get("context"), rule.get("preconditions"), validate),
        }
    }

    fn check(
        &mut self,
        context: Option<&Value>,
        preconditions: Option<&Value>,
        v: &Value,
    ) -> Result<Check, String> {
        let context = self.context(context)?;
        let preconditions = self.conditions(preconditions)?;
        let body = if let Some(pss) = v.get("podSecurity") {
            Body::PodSecurity(PodSecurity::read(pss)?)
        } else if let Some(deny) = v.get("deny") {
            Body::Deny(self.conditions(deny.get("conditions"))?)
        } else if let Some(p) = v.get("pattern") {
            if !p.is_object() {
                return Err("validate.pattern must be a map".into());
            }
            self.patterns(vec![p.clone()], false)
        } else if let Some(ps) = v.get("anyPattern") {
            match ps {
                Value::Array(ps) if !ps.is_empty() && ps.iter().all(Value::is_object) => {
                    self.patterns(ps.clone(), true)
                }
                _ => return Err("validate.anyPattern must be a list of maps".into()),
            }
        } else if let Some(entries) = v.get("foreach") {
            let entries = entries
                .as_array()
                .ok_or_else(|| "foreach must be a list".to_string())?;
            Body::Foreach(
                entries
                    .iter()
                    .map(|e| self.foreach(e))
                    .collect::<Result<_, _>>()?,
            )
        } else if !self.skip.is_empty() {
            Body::Nothing
        } else {
            return Err("validate needs a pattern map, an anyPattern list of maps, deny or foreach".into());
        };
        Ok(Check {
            context,
            preconditions,
            body,
        })
    }

    fn foreach(&mut self, entry: &Value) -> Result<Foreach, String> {
        let list = entry
            .get("list")
            .and_then(Value::as_str)
            .ok_or_else(|| "a foreach entry needs a list expression".to_string())?
            .trim();
        let list = list
            .strip_prefix("{{")
            .and_then(|l| l.strip_suffix("}}"))
            .unwrap_or(list)
            .trim()
            .to_string();
        if let Err(e) = self.queries.add_query(&list) {
            self.skip.push(describe(e));
        }
        let element_scope = entry.get("elementScope").and_then(Value::as_bool);
        let check = if entry.get("deny").is_none()
            && entry.get("pattern").is_none()
            && entry.get("anyPattern").is_none()
            && entry.get("foreach").is_none()
        {
            Check {
                context: self.context(entry.get("context"))?,
                preconditions: self.conditions(entry.get("preconditions"))?,
                body: Body::Foreach(Vec::new()),
            }
        } else {
            self.check(entry.get("context"), entry.get("preconditions"), entry)?
        };
        Ok(Foreach {
            list,
            element_scope,
            check,
        })
    }

    fn conditions(&mut self, raw: Option<&Value>) -> Result<Conditions, String> {
        match Conditions::read(raw, self.queries) {
            Ok(c) => Ok(c),
            Err(ReadError::Invalid(message)) => Err(message),
            Err(ReadError::Unsupported(e)) => {
                self.skip.push(describe(e));
                Ok(Conditions::default())
            }
        }
    }

    fn patterns(&mut self, patterns: Vec<Value>, any: bool) -> Body {
        for p in &patterns {
            let text = p.to_string();
            if text.contains("\"<(") {
                self.skip.push("global anchor <(key)".to_string());
            }
            if text.contains("$(") {
                self.skip.push("$(...) references in patterns".to_string());
            }
            if let Err(e) = self.queries.add_all(p) {
                self.skip.push(describe(e));
            }
        }
        let vars = patterns.iter().any(has_variables);
        Body::Patterns { patterns, any, vars }
    }

    /// `context` entries: `variable` is evaluated; the others need a
    /// cluster or a registry and make the rule unsupported.
    fn context(&mut self, raw: Option<&Value>) -> Result<Vec<Variable>, String> {
        let mut out = Vec::new();
        let entries = match raw {
            None | Some(Value::Null) => return Ok(out),
            Some(Value::Array(entries)) => entries,
            Some(_) => return Err("context must be a list".into()),
        };
        for entry in entries {
            let name = entry
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| "a context entry needs a name".to_string())?;
            let Some(var) = entry.get("variable") else {
                let kind = ["apiCall", "configMap", "imageRegistry", "globalReference"]
                    .into_iter()
                    .find(|k| entry.get(k).is_some())
                    .unwrap_or("entry");
                self.skip.push(format!(
                    "context.{kind} (context {name:?} needs a cluster or a registry)"
                ));
                continue;
            };
            let jmes_path = var.get("jmesPath").and_then(Value::as_str).map(str::to_string);
            if let Some(path) = &jmes_path {
                if path.contains("{{") {
                    self.skip.push("variables in a context jmesPath".to_string());
                } else if let Err(e) = self.queries.add_query(path) {
                    self.skip.push(describe(e));
                }
            }
            for part in [var.get("value"), var.get("default")].into_iter().flatten() {
                if let Err(e) = self.queries.add_all(part) {
                    self.skip.push(describe(e));
                }
            }
            out.push(Variable {
                name: name.to_string(),
                value: var.get("value").cloned(),
                jmes_path,
                default: var.get("default").cloned(),
            });
        }
        Ok(out)
    }
}
