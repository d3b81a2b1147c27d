//! One CEL policy, compiled: the `spec` that Kyverno's `ValidatingPolicy`
//! and Kubernetes' `ValidatingAdmissionPolicy` share (`matchConstraints`,
//! `matchConditions`, `variables`, `validations`, `failurePolicy`,
//! `paramKind`), and its evaluation against one resource.
//!
//! Evaluation follows the API server: match conditions all true (an error
//! follows `failurePolicy`), variables evaluated in order (one that fails is
//! an error only where it is used), then each validation: `true` passes,
//! `false` is a violation with `messageExpression`, `message` or the
//! expression as its message, an error is a violation unless `failurePolicy`
//! is `Ignore`. It does not run `auditAnnotations` or mutations.

use std::sync::Arc;

use cel::common::value::Val;
use cel::{Context, ExecutionError, Value as CelValue};
use serde_json::Value;

use super::env::{self, to_val};
use super::matching::Constraints;
use crate::policy::source::locate;
use crate::policy::Error;

/// A compiled expression with its source.
#[derive(Debug, Clone)]
pub(super) struct Expr {
    pub(super) source: String,
    program: Arc<cel::Program>,
}

#[derive(Debug, Clone)]
pub(super) struct Validation {
    expr: Expr,
    message: Option<String>,
    message_expr: Option<Expr>,
    reason: Option<String>,
}

/// The evaluable part of a CEL policy.
#[derive(Debug, Clone)]
pub(super) struct Compiled {
    pub(super) constraints: Constraints,
    conditions: Vec<(String, Expr)>,
    variables: Vec<(String, Expr)>,
    validations: Vec<Validation>,
    fail_open: bool,
    /// `paramKind`: apiVersion and kind of its parameters.
    pub(super) param_kind: Option<(String, String)>,
    /// Functions the expressions call that gitintent does not provide.
    pub(super) unsupported: Vec<String>,
}

/// What one validation concluded about a resource.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Violation {
    /// Index of the validation, `None` for a match condition.
    pub(super) index: Option<usize>,
    pub(super) message: String,
}

/// Where a policy document came from, to place its errors.
pub(super) struct Source<'a> {
    pub(super) file: &'a str,
    pub(super) text: &'a str,
    /// `Kind "name"`, for messages.
    pub(super) what: String,
}

impl Source<'_> {
    pub(super) fn invalid(&self, needle: &str, message: String) -> Error {
        let (line, column) = locate(self.text, needle);
        Error::Invalid {
            file: self.file.to_string(),
            line,
            column,
            what: "CEL policy".to_string(),
            message: format!("{}: {message}", self.what),
        }
    }

    /// Compiles `source` (the value of `field`); a syntax error names the
    /// file, the line and column in it, and the expression's own position.
    pub(super) fn compile(&self, field: &str, source: &str) -> Result<Expr, Error> {
        match env::env().compile(source) {
            Ok(program) => Ok(Expr {
                source: source.to_string(),
                program: Arc::new(program),
            }),
            Err(errors) => {
                let first = errors.errors.first();
                let (line, column) =
                    first.map_or((1, 0), |e| (e.pos.0.max(1) as usize, e.pos.1.max(0) as usize));
                let message = first.map_or_else(|| errors.to_string(), |e| e.msg.clone());
                // The expression's line `line` as written in the file.
                let wanted = source.lines().nth(line - 1).unwrap_or(source).trim();
                let needle: String = wanted.chars().take(40).collect();
                let (file_line, file_column) = locate(self.text, &needle);
                Err(Error::Invalid {
                    file: self.file.to_string(),
                    line: file_line,
                    column: file_column + column,
                    what: "CEL expression".to_string(),
                    message: format!(
                        "{}: {field}: {message} (at {line}:{} of the expression)",
                        self.what,
                        column + 1
                    ),
                })
            }
        }
    }
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// Where a policy keeps its lists of expressions: per list, its key in the
/// map [`compile_in`] reads and the field name (`spec.validations`) errors
/// give, whose last part is also what locates them in the file.
pub(super) struct Layout {
    pub(super) conditions: (&'static str, &'static str),
    pub(super) variables: (&'static str, &'static str),
    pub(super) validations: (&'static str, &'static str),
}

/// A `ValidatingAdmissionPolicy` or Kyverno `ValidatingPolicy` spec.
const SPEC: Layout = Layout {
    conditions: ("matchConditions", "spec.matchConditions"),
    variables: ("variables", "spec.variables"),
    validations: ("validations", "spec.validations"),
};

/// Reads and compiles `spec`.
pub(super) fn compile(spec: &Value, src: &Source<'_>) -> Result<Compiled, Error> {
    compile_in(spec, src, &SPEC)
}

/// Reads and compiles the lists of `spec` where `layout` says they are.
pub(super) fn compile_in(spec: &Value, src: &Source<'_>, layout: &Layout) -> Result<Compiled, Error> {
    let conditions = named(spec, src, layout.conditions)?;
    let variables = named(spec, src, layout.variables)?;
    let validations = validations(spec, src, layout.validations)?;
    let param_kind = spec.get("paramKind").map(|p| {
        (
            text(p, "apiVersion").unwrap_or("").to_string(),
            text(p, "kind").unwrap_or("").to_string(),
        )
    });
    let mut unsupported: Vec<String> = conditions
        .iter()
        .chain(&variables)
        .map(|(_, e)| e)
        .chain(
            validations
                .iter()
                .flat_map(|v| std::iter::once(&v.expr).chain(&v.message_expr)),
        )
        .flat_map(|e| env::unknown_functions(&e.program))
        .collect();
    unsupported.sort();
    unsupported.dedup();
    Ok(Compiled {
        constraints: Constraints::new(spec.get("matchConstraints")),
        conditions,
        variables,
        validations,
        fail_open: text(spec, "failurePolicy") == Some("Ignore"),
        param_kind,
        unsupported,
    })
}

/// The last segment of a field path (`spec.validations` → `validations`),
/// which the source lookup searches for.
fn needle(field: &'static str) -> &'static str {
    field.rsplit('.').next().unwrap_or(field)
}

/// The list at `key` of `spec` (none when absent or null); `field` names it in errors.
fn list<'v>(
    spec: &'v Value,
    src: &Source<'_>,
    (key, field): (&str, &'static str),
) -> Result<&'v [Value], Error> {
    match spec.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(src.invalid(needle(field), format!("{field} must be a list"))),
    }
}

/// A list of `{name, expression}` (match conditions, variables), compiled.
fn named(spec: &Value, src: &Source<'_>, at: (&str, &'static str)) -> Result<Vec<(String, Expr)>, Error> {
    let (_, list_field) = at;
    list(spec, src, at)?
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let name = text(item, "name").unwrap_or_default().to_string();
            let field = format!("{list_field}[{i}].expression");
            let expr = text(item, "expression")
                .ok_or_else(|| src.invalid(needle(list_field), format!("{field} is required")))?;
            Ok((name, src.compile(&field, expr)?))
        })
        .collect()
}

/// The validations: each expression compiled, with its message, message
/// expression and reason.
fn validations(spec: &Value, src: &Source<'_>, at: (&str, &'static str)) -> Result<Vec<Validation>, Error> {
    let (_, validations_field) = at;
    let mut validations = Vec::new();
    for (i, v) in list(spec, src, at)?.iter().enumerate() {
        let field = format!("{validations_field}[{i}]");
        let expr = text(v, "expression").ok_or_else(|| {
            src.invalid(
                needle(validations_field),
                format!("{field}.expression is required"),
            )
        })?;
        validations.push(Validation {
            expr: src.compile(&format!("{field}.expression"), expr)?,
            message: text(v, "message").map(str::to_string),
            message_expr: text(v, "messageExpression")
                .map(|m| src.compile(&format!("{field}.messageExpression"), m))
                .transpose()?,
            reason: text(v, "reason").map(str::to_string),
        });
    }
    Ok(validations)
}

/// What an evaluation sees besides `object`.
pub(super) struct Inputs<'a> {
    pub(super) object: &'a Value,
    pub(super) params: Option<&'a Value>,
    pub(super) namespace: Option<&'a Value>,
    pub(super) request: &'a Value,
    /// Variables bound before the policy's own (Gatekeeper's `anyObject`
    /// and `params`).
    pub(super) bound: &'a [(&'a str, &'a Value)],
}

impl Compiled {
    /// Evaluates the policy on one resource; empty when it passes or its
    /// match conditions exclude the resource.
    pub(super) fn evaluate(&self, inputs: &Inputs<'_>) -> Vec<Violation> {
        let env = env::env();
        let mut root = Context::with_env(env);
        root.add_variable_as_val("object", to_val(inputs.object));
        root.add_variable_as_val("oldObject", Box::new(cel::common::types::CelNull));
        root.add_variable_as_val("request", to_val(inputs.request));
        root.add_variable_as_val("params", to_val(inputs.params.unwrap_or(&Value::Null)));
        root.add_variable_as_val(
            "namespaceObject",
            to_val(inputs.namespace.unwrap_or(&Value::Null)),
        );
        let mut values: Vec<(String, Box<dyn Val + '_>)> = inputs
            .bound
            .iter()
            .map(|(name, v)| (name.to_string(), to_val(v)))
            .collect();
        root.add_variable_as_val("variables", env::map_of(&values));
        match self.matches(&root) {
            Ok(true) => {}
            Ok(false) => return Vec::new(),
            Err(violation) => return vec![violation],
        }
        // Variables in order; a failed one is left out, with its error kept
        // for the message of an expression that uses it.
        let mut failed: Vec<(String, String)> = Vec::new();
        for (name, expr) in &self.variables {
            let mut scope = root.new_inner_scope();
            scope.add_variable_as_val("variables", env::map_of(&values));
            match expr.program.execute(&scope) {
                Ok(v) => match Box::<dyn Val>::try_from(v) {
                    Ok(v) => values.push((name.clone(), v)),
                    Err(e) => failed.push((name.clone(), e.to_string())),
                },
                Err(e) => failed.push((name.clone(), e.to_string())),
            }
        }
        root.add_variable_as_val("variables", env::map_of(&values));
        self.validate(&root, &failed)
    }

    /// Whether the match conditions take the resource in `cx`; a condition
    /// that fails to evaluate is a violation (or excludes it, fail-open).
    fn matches(&self, cx: &Context<'_, '_>) -> Result<bool, Violation> {
        for (name, expr) in &self.conditions {
            match boolean(&expr.program.execute(cx)) {
                Ok(true) => {}
                Ok(false) => return Ok(false),
                Err(_) if self.fail_open => return Ok(false),
                Err(e) => {
                    return Err(Violation {
                        index: None,
                        message: format!("match condition {name:?} failed to evaluate: {e}"),
                    })
                }
            }
        }
        Ok(true)
    }

    /// The validations that fail in `cx`, each with its message; `failed`
    /// holds the variables that failed to evaluate, for the messages.
    fn validate(&self, cx: &Context<'_, '_>, failed: &[(String, String)]) -> Vec<Violation> {
        let mut out = Vec::new();
        for (index, v) in self.validations.iter().enumerate() {
            let message = match boolean(&v.expr.program.execute(cx)) {
                Ok(true) => continue,
                Ok(false) => v.message(cx),
                Err(_) if self.fail_open => continue,
                Err(e) => format!(
                    "validation failed to evaluate ({}): {}",
                    v.expr.source.trim(),
                    explain(&e, failed)
                ),
            };
            out.push(Violation {
                index: Some(index),
                message,
            });
        }
        out
    }
}

impl Validation {
    fn message(&self, cx: &Context<'_, '_>) -> String {
        let from_expr = self
            .message_expr
            .as_ref()
            .and_then(|m| match m.program.execute(cx) {
                Ok(CelValue::String(s)) if !s.trim().is_empty() => Some(s.to_string()),
                _ => None,
            });
        let message = from_expr
            .or_else(|| self.message.clone())
            .unwrap_or_else(|| format!("failed expression: {}", self.expr.source.trim()));
        match &self.reason {
            Some(reason) => format!("{} (reason: {reason})", message.trim()),
            None => message.trim().to_string(),
        }
    }
}

/// A result that must be a boolean.
fn boolean(result: &Result<CelValue, ExecutionError>) -> Result<bool, String> {
    match result {
        Ok(CelValue::Bool(b)) => Ok(*b),
        Ok(other) => Err(format!("it returned {}, not a bool", env::text(other))),
        Err(e) => Err(describe(e)),
    }
}

fn describe(e: &ExecutionError) -> String {
    match e {
        ExecutionError::UndeclaredReference(name) => {
            format!("{name} is not provided by gitintent's CEL interpreter")
        }
        other => other.to_string(),
    }
}

/// The error of a failed variable when `e` is its missing key.
fn explain(e: &str, failed: &[(String, String)]) -> String {
    failed
        .iter()
        .find(|(name, _)| e == format!("No such key: {name}"))
        .map(|(name, why)| format!("variables.{name} failed: {why}"))
        .unwrap_or_else(|| e.to_string())
}
