//! Evaluating one validate rule against one resource, in Kyverno's order:
//! context variables, then `preconditions` (false: skip; error: error),
//! then `deny.conditions`, `pattern`/`anyPattern` (variables substituted
//! first) or `foreach` (each element of each list, with `element`,
//! `elementIndex` and their nested `elementN`/`elementIndexN`, patterns
//! applying to the element when it is a map). A foreach entry whose list
//! has an unknown key is skipped; elements that skip, or whose
//! preconditions fail to evaluate, do not count; a foreach that applies to
//! nothing gives no result. Reading rules is `read`'s business.

use std::borrow::Cow;

use jmespath::Rcvar;
use serde_json::Value;

use super::conditions::Conditions;
use super::jmes::{to_value, EvalError, Scope};
use super::pattern::{match_pattern, Outcome};
use super::pss::PodSecurity;
use super::vars::Queries;
use crate::policy::cel::Embedded;

/// What a rule, or one `foreach` entry, checks.
#[derive(Clone, Debug, Default)]
pub(super) struct Check {
    pub(super) context: Vec<Variable>,
    pub(super) preconditions: Conditions,
    pub(super) body: Body,
}

#[derive(Clone, Debug, Default)]
pub(super) enum Body {
    /// `pattern` (one) or `anyPattern` (`any`); `vars` when they hold
    /// variables to substitute first.
    Patterns {
        patterns: Vec<Value>,
        any: bool,
        vars: bool,
    },
    Deny(Conditions),
    Foreach(Vec<Foreach>),
    /// `podSecurity`: the Pod Security Standards on the pod.
    PodSecurity(PodSecurity),
    /// `cel`: CEL expressions on the resource (or the pod).
    Cel(Embedded),
    #[default]
    Nothing,
}

impl Check {
    /// Whether evaluating it may read its target (what patterns apply to);
    /// a nested `foreach` whose elements may not be its target reads its
    /// parent's.
    fn reads_target(&self) -> bool {
        match &self.body {
            Body::Patterns { .. } | Body::PodSecurity(_) | Body::Cel(_) => true,
            Body::Foreach(entries) => entries
                .iter()
                .any(|e| e.element_scope != Some(true) && e.check.reads_target()),
            Body::Deny(_) | Body::Nothing => false,
        }
    }
}

/// One `foreach` entry.
#[derive(Clone, Debug)]
pub(super) struct Foreach {
    pub(super) list: String,
    pub(super) element_scope: Option<bool>,
    pub(super) check: Check,
}

/// A `context` entry of kind `variable`.
#[derive(Clone, Debug)]
pub(super) struct Variable {
    pub(super) name: String,
    pub(super) value: Option<Value>,
    pub(super) jmes_path: Option<String>,
    pub(super) default: Option<Value>,
}

/// The result of a rule on a resource.
#[derive(Debug, PartialEq)]
pub(super) enum Verdict {
    Pass,
    Skip,
    /// Failed at this JSON pointer (relative to what the pattern applied
    /// to), with the messages of the deny conditions that held.
    Fail {
        path: String,
        detail: String,
    },
    /// Failed with this message instead of the rule's (CEL expressions).
    Denied(String),
    /// Could not be evaluated (what Kyverno reports as an error).
    Error(String),
    /// A foreach that applied to nothing.
    Nothing,
}

/// Where a check runs: the variables, the compiled expressions and what
/// patterns apply to.
pub(super) struct Eval<'a> {
    pub(super) queries: &'a Queries,
    pub(super) scope: Scope,
    pub(super) target: Cow<'a, Value>,
    pub(super) nesting: usize,
}

const PRECONDITIONS_FAILED: &str = "failed to evaluate preconditions";

impl Eval<'_> {
    pub(super) fn run(&mut self, check: &Check) -> Verdict {
        for var in &check.context {
            match self.variable(var) {
                Ok(value) => self.scope.set(&var.name, &value),
                Err(e) => return Verdict::Error(format!("failed to load context {:?}: {e}", var.name)),
            }
        }
        let root = self.scope.root();
        match check.preconditions.holds(self.queries, &root) {
            Err(e) => return Verdict::Error(format!("{PRECONDITIONS_FAILED}: {e}")),
            Ok((false, _)) => return Verdict::Skip,
            Ok((true, _)) => {}
        }
        match &check.body {
            Body::Deny(conditions) => match conditions.holds(self.queries, &root) {
                Err(e) => Verdict::Error(format!("failed to check deny conditions: {e}")),
                Ok((true, detail)) => Verdict::Fail {
                    path: String::new(),
                    detail,
                },
                Ok((false, _)) => Verdict::Pass,
            },
            Body::Patterns { patterns, any, vars } => self.patterns(patterns, *any, *vars, &root),
            Body::Foreach(entries) => self.foreach(entries, &root),
            Body::PodSecurity(pss) => match pss.evaluate(&self.target) {
                Ok(()) => Verdict::Pass,
                Err((path, detail)) => Verdict::Fail { path, detail },
            },
            // Kyverno reports the first denied expression's message.
            Body::Cel(cel) => match cel.violations(&self.target, &[]).into_iter().next() {
                None => Verdict::Pass,
                Some(message) => Verdict::Denied(message),
            },
            Body::Nothing => Verdict::Nothing,
        }
    }

    /// Kyverno's variable loader: `value` (substituted), then `jmesPath`
    /// over it (or over every variable), then `default`.
    fn variable(&self, var: &Variable) -> Result<Value, EvalError> {
        let root = self.scope.root();
        let default = match &var.default {
            Some(d) => Some(self.queries.substitute(d, &root)?),
            None => None,
        };
        let output = match (&var.value, &var.jmes_path) {
            (Some(value), path) => {
                let value = self.queries.substitute(value, &root)?;
                match path {
                    None => Some(value),
                    Some(path) => match self.queries.query(path, &value_root(&value)) {
                        Ok(v) => Some(v),
                        Err(e) if default.is_none() => return Err(e),
                        Err(_) => default,
                    },
                }
            }
            (None, Some(path)) => match self.queries.query(path, &root) {
                Ok(Value::Null) => default,
                Ok(v) => Some(v),
                Err(e) if default.is_none() => return Err(e),
                Err(_) => default,
            },
            (None, None) => default,
        };
        match output {
            Some(Value::Null) | None => Err(EvalError::Failed(format!(
                "variable {:?} evaluated to null",
                var.name
            ))),
            Some(v) => Ok(v),
        }
    }

    fn patterns(&self, patterns: &[Value], any: bool, vars: bool, root: &Rcvar) -> Verdict {
        let (mut failed, mut skipped) = (None, false);
        for pattern in patterns {
            let pattern = match vars {
                false => Cow::Borrowed(pattern),
                true => match self.queries.substitute(pattern, root) {
                    Ok(p) => Cow::Owned(p),
                    Err(e) => return Verdict::Error(format!("variable substitution failed: {e}")),
                },
            };
            match match_pattern(&pattern, Some(&self.target)) {
                Outcome::Pass if any => return Verdict::Pass,
                Outcome::Pass => {}
                Outcome::Skip if any => skipped = true,
                Outcome::Skip => return Verdict::Skip,
                Outcome::Fail(path) if any => {
                    failed.get_or_insert(path);
                }
                Outcome::Fail(path) => {
                    return Verdict::Fail {
                        path,
                        detail: String::new(),
                    }
                }
            }
        }
        match failed {
            Some(path) => Verdict::Fail {
                path,
                detail: String::new(),
            },
            None if skipped => Verdict::Skip,
            None => Verdict::Pass,
        }
    }

    fn foreach(&self, entries: &[Foreach], root: &Rcvar) -> Verdict {
        let (mut applied, mut list_error) = (0, None);
        for entry in entries {
            // Elements stay JMESPath values: the scope takes them as they
            // are, and only a check that reads its target converts one.
            let elements = match self.queries.query_var(&entry.list, root) {
                Ok(list) => match list.as_array() {
                    Some(items) => items.clone(),
                    None => vec![list],
                },
                Err(EvalError::NotFound(_)) => continue,
                Err(e) => {
                    list_error = Some(e);
                    continue;
                }
            };
            match self.elements(entry, &elements) {
                (Verdict::Pass, count) => applied += count,
                (other, _) => return other,
            }
        }
        match (applied, list_error) {
            (0, Some(e)) => Verdict::Error(format!("failed to evaluate list: {e}")),
            (0, None) => Verdict::Nothing,
            _ => Verdict::Pass,
        }
    }

    fn elements(&self, entry: &Foreach, elements: &[Rcvar]) -> (Verdict, usize) {
        let mut applied = 0;
        let reads_target = entry.check.reads_target();
        for (index, element) in elements.iter().enumerate() {
            if element.is_null() {
                continue;
            }
            let scoped = entry.element_scope.unwrap_or(element.is_object());
            if scoped && !element.is_object() {
                let message = "elementScope is true but the element is not a map";
                return (Verdict::Error(message.into()), applied);
            }
            let mut scope = self.scope.clone();
            let n = self.nesting;
            let index_var = Rcvar::new(jmespath::Variable::Number(index.into()));
            scope.set_var("element", element.clone());
            scope.set_var(&format!("element{n}"), element.clone());
            scope.set_var("elementIndex", index_var.clone());
            scope.set_var(&format!("elementIndex{n}"), index_var);
            let mut inner = Eval {
                queries: self.queries,
                scope,
                // A check that does not read its target is given its
                // parent's, unconverted.
                target: if scoped && reads_target {
                    Cow::Owned(to_value(element))
                } else {
                    Cow::Borrowed(self.target.as_ref())
                },
                nesting: n + 1,
            };
            match inner.run(&entry.check) {
                Verdict::Pass => applied += 1,
                Verdict::Nothing | Verdict::Skip => {}
                Verdict::Error(e) if e.starts_with(PRECONDITIONS_FAILED) => {}
                // A path inside an element is not a path of the resource.
                Verdict::Fail { detail, .. } => {
                    let path = String::new();
                    return (Verdict::Fail { path, detail }, applied);
                }
                other => return (other, applied),
            }
        }
        (Verdict::Pass, applied)
    }
}

/// The root for a `jmesPath` applied to a context variable's own value.
fn value_root(value: &Value) -> Rcvar {
    Rcvar::new(jmespath::Variable::try_from(value).unwrap_or(jmespath::Variable::Null))
}
