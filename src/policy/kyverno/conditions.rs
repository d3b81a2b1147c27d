//! Kyverno conditions, as `preconditions` and `deny.conditions` write them:
//! `{any: [...], all: [...]}` (every `all` holds and, when `any` is given,
//! one of `any` holds) or the legacy bare list (all hold). Each condition
//! is `{key, operator, value, message}`; key and value may hold variables,
//! substituted before the operator (see `condops`) compares them. A
//! variable that cannot be resolved is an error, as in Kyverno.

use jmespath::Rcvar;
use serde_json::Value;

use super::condops::Operator;
use super::jmes::{CompileError, EvalError};
use super::vars::Queries;

#[derive(Clone, Debug)]
struct Condition {
    key: Value,
    operator: Operator,
    value: Value,
    message: String,
}

/// A set of conditions.
#[derive(Clone, Debug, Default)]
pub(super) struct Conditions {
    /// `None` when `any` is absent (it then holds).
    any: Option<Vec<Condition>>,
    all: Vec<Condition>,
}

/// Why conditions cannot be read.
#[derive(Debug)]
pub(super) enum ReadError {
    /// Not the shape Kyverno accepts (unknown operator, ...).
    Invalid(String),
    /// A variable gitintent cannot evaluate.
    Unsupported(CompileError),
}

impl From<CompileError> for ReadError {
    fn from(e: CompileError) -> Self {
        ReadError::Unsupported(e)
    }
}

impl Conditions {
    /// Reads `raw` (absent: no conditions, which hold), compiling its
    /// variables into `queries`.
    pub(super) fn read(raw: Option<&Value>, queries: &mut Queries) -> Result<Conditions, ReadError> {
        let list = |v: Option<&Value>, queries: &mut Queries| -> Result<Vec<Condition>, ReadError> {
            match v {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(items)) => items.iter().map(|c| condition(c, queries)).collect(),
                Some(other) => Err(ReadError::Invalid(format!(
                    "conditions must be a list, not {other}"
                ))),
            }
        };
        match raw {
            None | Some(Value::Null) => Ok(Conditions::default()),
            Some(Value::Array(_)) => Ok(Conditions {
                any: None,
                all: list(raw, queries)?,
            }),
            Some(Value::Object(map)) => {
                if let Some(key) = map.keys().find(|k| *k != "any" && *k != "all") {
                    return Err(ReadError::Invalid(format!("unknown conditions key {key:?}")));
                }
                Ok(Conditions {
                    any: match map.get("any") {
                        Some(v) => Some(list(Some(v), queries)?),
                        None => None,
                    },
                    all: list(map.get("all"), queries)?,
                })
            }
            Some(other) => Err(ReadError::Invalid(format!(
                "conditions must be a map of any/all or a list, not {other}"
            ))),
        }
    }

    /// Whether the conditions hold in `root`, with the messages of the
    /// conditions that decided it.
    pub(super) fn holds(&self, queries: &Queries, root: &Rcvar) -> Result<(bool, String), EvalError> {
        let mut messages = Vec::new();
        if let Some(any) = &self.any {
            let mut one = false;
            for c in any {
                if c.holds(queries, root)? {
                    one = true;
                    break;
                }
                messages.push(c.message.clone());
            }
            if !one {
                return Ok((false, join(&messages)));
            }
            messages.clear();
        }
        for c in &self.all {
            if !c.holds(queries, root)? {
                return Ok((false, c.message.clone()));
            }
        }
        Ok((true, join(&messages)))
    }
}

fn join(messages: &[String]) -> String {
    messages
        .iter()
        .filter(|m| !m.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join("; ")
}

fn condition(raw: &Value, queries: &mut Queries) -> Result<Condition, ReadError> {
    let name = raw
        .get("operator")
        .and_then(Value::as_str)
        .ok_or_else(|| ReadError::Invalid(format!("condition {raw} has no operator")))?;
    let operator = Operator::parse(name)
        .ok_or_else(|| ReadError::Invalid(format!("unknown condition operator {name:?}")))?;
    let key = raw.get("key").cloned().unwrap_or(Value::Null);
    let value = raw.get("value").cloned().unwrap_or(Value::Null);
    queries.add_all(&key)?;
    queries.add_all(&value)?;
    Ok(Condition {
        key,
        operator,
        value,
        message: raw
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
    })
}

impl Condition {
    fn holds(&self, queries: &Queries, root: &Rcvar) -> Result<bool, EvalError> {
        let key = queries.substitute(&self.key, root)?;
        let value = queries.substitute(&self.value, root)?;
        Ok(self.operator.holds(&key, &value))
    }
}

#[cfg(test)]
mod tests {
    use super::super::jmes::Scope;
    use super::*;
    use serde_json::json;

    fn holds(raw: Value, object: Value) -> Result<bool, EvalError> {
        let mut queries = Queries::default();
        let c =
            Conditions::read(Some(&raw), &mut queries).map_err(|e| EvalError::Failed(format!("{e:?}")))?;
        c.holds(&queries, &Scope::for_object(&object).root())
            .map(|(b, _)| b)
    }

    #[test]
    fn any_all_and_legacy_lists() {
        let pod = json!({"kind": "Pod", "apiVersion": "v1"});
        let op = |k: &str, o: &str, v: Value| json!({"key": k, "operator": o, "value": v});
        let not_delete = op(
            "{{ request.operation || 'BACKGROUND' }}",
            "NotEquals",
            json!("DELETE"),
        );
        let v1 = op("{{request.object.apiVersion}}", "AnyIn", json!(["v1"]));
        let beta = op("{{request.object.apiVersion}}", "AnyIn", json!(["v1beta1"]));
        assert_eq!(
            holds(json!({"all": [not_delete.clone(), v1.clone()]}), pod.clone()),
            Ok(true)
        );
        assert_eq!(
            holds(json!({"all": [not_delete.clone(), beta.clone()]}), pod.clone()),
            Ok(false)
        );
        assert_eq!(
            holds(json!({"any": [beta.clone(), v1.clone()]}), pod.clone()),
            Ok(true)
        );
        assert_eq!(holds(json!({"any": []}), pod.clone()), Ok(false));
        assert_eq!(holds(json!([v1, not_delete]), pod.clone()), Ok(true));
        assert_eq!(holds(json!({}), pod.clone()), Ok(true));
        assert!(matches!(
            holds(
                json!([op("{{ request.object.metadata.name }}", "Equals", json!("x"))]),
                pod
            ),
            Err(EvalError::NotFound(_))
        ));
        let mut q = Queries::default();
        assert!(matches!(
            Conditions::read(
                Some(&json!([{"key": 1, "operator": "Bogus", "value": 1}])),
                &mut q
            ),
            Err(ReadError::Invalid(_))
        ));
    }
}
