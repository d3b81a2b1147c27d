//! Kyverno variables: `{{ expr }}` in the strings (and map keys) of a rule.
//! A string that is one variable becomes the expression's value, whatever
//! its type; otherwise each variable is replaced by its value as text
//! (JSON for non-strings). `\{{` escapes. Every expression is compiled once,
//! when the rule is read, into a [`Queries`] table.

use std::borrow::Cow;
use std::collections::BTreeMap;

use jmespath::Rcvar;
use serde_json::{Map, Value};

use super::jmes::{to_value, CompileError, EvalError, Query};

/// How many rounds of nested variables are substituted.
const MAX_NESTING: usize = 8;

/// The compiled expressions of a rule, by their text.
#[derive(Clone, Debug, Default)]
pub(super) struct Queries(BTreeMap<String, Query>);

/// One `{{ … }}` in a string: its byte span and the expression inside.
struct Variable<'a> {
    start: usize,
    end: usize,
    expr: &'a str,
}

/// The variables of `s`, as Kyverno's regular expression finds them:
/// `{{`, then characters other than braces or one-level `{…}` groups,
/// then `}}`; a `{{` after a backslash is escaped.
fn variables(s: &str) -> Vec<Variable<'_>> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(at) = s[i..].find("{{").map(|p| p + i) {
        if at > 0 && bytes[at - 1] == b'\\' {
            i = at + 2;
            continue;
        }
        match closing(bytes, at + 2) {
            Some(end) => {
                out.push(Variable {
                    start: at,
                    end,
                    expr: &s[at + 2..end - 2],
                });
                i = end;
            }
            None => i = at + 1,
        }
    }
    out
}

/// The end (past `}}`) of a variable whose body starts at `j`.
fn closing(bytes: &[u8], mut j: usize) -> Option<usize> {
    while j < bytes.len() {
        match bytes[j] {
            b'}' => return (bytes.get(j + 1) == Some(&b'}')).then_some(j + 2),
            b'{' => {
                let close = bytes[j + 1..].iter().position(|&b| b == b'}' || b == b'{')?;
                if bytes[j + 1 + close] == b'{' {
                    return None;
                }
                j += close + 2;
            }
            _ => j += 1,
        }
    }
    None
}

/// The expression of a variable body: trimmed, without the `-` of a
/// shallow substitution.
fn expression(body: &str) -> &str {
    let body = body.trim();
    body.strip_prefix('-').map_or(body, str::trim)
}

/// True when `value` holds a variable anywhere.
pub(super) fn has_variables(value: &Value) -> bool {
    match value {
        Value::String(s) => !variables(s).is_empty(),
        Value::Array(items) => items.iter().any(has_variables),
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| !variables(k).is_empty() || has_variables(v)),
        _ => false,
    }
}

impl Queries {
    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Compiles the variables of every string and key of `value`.
    pub(super) fn add_all(&mut self, value: &Value) -> Result<(), CompileError> {
        match value {
            Value::String(s) => self.add_text(s),
            Value::Array(items) => items.iter().try_for_each(|v| self.add_all(v)),
            Value::Object(map) => map.iter().try_for_each(|(k, v)| {
                self.add_text(k)?;
                self.add_all(v)
            }),
            _ => Ok(()),
        }
    }

    fn add_text(&mut self, s: &str) -> Result<(), CompileError> {
        for var in variables(s) {
            let expr = expression(var.expr);
            if expr == "@" || expr.starts_with("@.") {
                return Err(CompileError::Unsupported(format!(
                    "{{{{{expr}}}}} (the current path)"
                )));
            }
            self.add_query(expr)?;
        }
        Ok(())
    }

    /// Compiles a bare expression (a `foreach` list, a context `jmesPath`).
    pub(super) fn add_query(&mut self, expr: &str) -> Result<(), CompileError> {
        if !self.0.contains_key(expr) {
            let query = Query::compile(expr)?;
            self.0.insert(expr.to_string(), query);
        }
        Ok(())
    }

    /// Evaluates a bare expression compiled with [`Queries::add_query`].
    /// An expression made by substituting a nested variable is compiled
    /// on the spot.
    pub(super) fn query(&self, expr: &str, root: &Rcvar) -> Result<Value, EvalError> {
        self.query_var(expr, root).map(|v| to_value(&v))
    }

    /// [`Queries::query`] with the result as JMESPath shares it.
    pub(super) fn query_var(&self, expr: &str, root: &Rcvar) -> Result<Rcvar, EvalError> {
        match self.0.get(expr) {
            Some(q) => q.search_var(root),
            None => Query::compile(expr)
                .map_err(|e| EvalError::Failed(format!("{expr:?}: {e:?}")))?
                .search_var(root),
        }
    }

    /// `value` with every variable replaced by its value in `root`.
    pub(super) fn substitute(&self, value: &Value, root: &Rcvar) -> Result<Value, EvalError> {
        match value {
            Value::String(s) => self.substitute_text(s, root),
            Value::Array(items) => items
                .iter()
                .map(|v| self.substitute(v, root))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Value::Object(map) => {
                let mut out = Map::new();
                for (k, v) in map {
                    let key = match self.substitute_text(k, root)? {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    out.insert(key, self.substitute(v, root)?);
                }
                Ok(Value::Object(out))
            }
            other => Ok(other.clone()),
        }
    }

    /// Substitutes until no variable is left, as Kyverno does for nested
    /// variables (`{{ a."{{ b }}" }}`: the inner one first).
    fn substitute_text(&self, s: &str, root: &Rcvar) -> Result<Value, EvalError> {
        let mut text = Cow::Borrowed(s);
        for _ in 0..MAX_NESTING {
            match self.substitute_once(&text, root)? {
                Value::String(next) if next != *text && !variables(&next).is_empty() => {
                    text = Cow::Owned(next);
                }
                Value::String(done) => return Ok(Value::String(unescape(&done))),
                other => return Ok(other),
            }
        }
        Err(EvalError::Failed(format!("variables nested too deeply in {s:?}")))
    }

    fn substitute_once(&self, s: &str, root: &Rcvar) -> Result<Value, EvalError> {
        let vars = variables(s);
        if vars.is_empty() {
            return Ok(Value::String(s.to_string()));
        }
        if let [only] = vars.as_slice() {
            if only.start == 0 && only.end == s.len() {
                return self.query(expression(only.expr), root);
            }
        }
        let mut out = String::new();
        let mut last = 0;
        for var in &vars {
            out.push_str(&s[last..var.start]);
            match self.query(expression(var.expr), root)? {
                Value::String(text) => out.push_str(&text),
                other => out.push_str(&other.to_string()),
            }
            last = var.end;
        }
        out.push_str(&s[last..]);
        Ok(Value::String(out))
    }
}

fn unescape(s: &str) -> String {
    s.replace("\\{{", "{{")
}

#[cfg(test)]
mod tests {
    use super::super::jmes::Scope;
    use super::*;
    use serde_json::json;

    #[test]
    fn whole_variables_keep_their_type_and_embedded_ones_become_text() {
        let raw = json!({
            "n": "{{ request.object.spec.replicas }}",
            "s": "{{request.object.kind}}/{{ request.object.spec.replicas }}",
            "{{ request.object.kind }}": "\\{{ kept }}",
            "q": "{{ request.object.spec.[a, b] }}"
        });
        let mut queries = Queries::default();
        queries.add_all(&raw).unwrap();
        let root =
            Scope::for_object(&json!({"kind": "Deployment", "spec": {"replicas": 3, "a": {"x": 1}, "b": 2}}))
                .root();
        assert_eq!(
            queries.substitute(&raw, &root).unwrap(),
            json!({"n": 3, "s": "Deployment/3", "Deployment": "{{ kept }}", "q": [{"x": 1}, 2]})
        );
        assert!(has_variables(&raw) && !has_variables(&json!({"a": "b"})));
        assert!(queries.add_all(&json!("{{@}}")).is_err());
        let nested = json!("{{ request.object.spec.\"{{ request.object.kind }}\" }}");
        queries.add_all(&nested).unwrap();
        let root = Scope::for_object(&json!({"kind": "web", "spec": {"web": 1}})).root();
        assert_eq!(queries.substitute(&nested, &root).unwrap(), json!(1));
    }
}
