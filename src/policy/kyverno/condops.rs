//! The operators of Kyverno conditions (`preconditions`, `deny.conditions`),
//! with Kyverno's semantics over JSON values: `Equals`/`NotEquals` (and
//! the legacy `Equal`/`NotEqual`) with durations, quantities and wildcards;
//! `In`/`NotIn` (legacy), `AnyIn`/`AllIn`/`AnyNotIn`/`AllNotIn` with
//! wildcards both ways and ranges `a-b`; `GreaterThan`, `LessThan` and
//! their `OrEquals` on numbers, durations, quantities and versions; the
//! `Duration…` operators. A key or value of a type an operator does not
//! take makes the condition false, as in Kyverno.

use std::cmp::Ordering;

use serde_json::Value;

use super::operators::{duration, quantity_of, range, scalar_matches};
use super::pattern::wildcard;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Operator {
    Equals,
    NotEquals,
    In,
    NotIn,
    AnyIn,
    AllIn,
    AnyNotIn,
    AllNotIn,
    Numeric(Cmp),
    Duration(Cmp),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Cmp {
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
}

impl Cmp {
    fn holds(self, o: Ordering) -> bool {
        match self {
            Cmp::Greater => o == Ordering::Greater,
            Cmp::GreaterOrEqual => o != Ordering::Less,
            Cmp::Less => o == Ordering::Less,
            Cmp::LessOrEqual => o != Ordering::Greater,
        }
    }

    fn floats(self, a: f64, b: f64) -> bool {
        a.partial_cmp(&b).is_some_and(|o| self.holds(o))
    }
}

impl Operator {
    /// The operator named `name` (case-insensitive, as Kyverno reads it).
    pub(super) fn parse(name: &str) -> Option<Operator> {
        use Cmp::*;
        Some(match name.to_ascii_lowercase().as_str() {
            "equal" | "equals" => Operator::Equals,
            "notequal" | "notequals" => Operator::NotEquals,
            "in" => Operator::In,
            "notin" => Operator::NotIn,
            "anyin" => Operator::AnyIn,
            "allin" => Operator::AllIn,
            "anynotin" => Operator::AnyNotIn,
            "allnotin" => Operator::AllNotIn,
            "greaterthan" => Operator::Numeric(Greater),
            "greaterthanorequals" => Operator::Numeric(GreaterOrEqual),
            "lessthan" => Operator::Numeric(Less),
            "lessthanorequals" => Operator::Numeric(LessOrEqual),
            "durationgreaterthan" => Operator::Duration(Greater),
            "durationgreaterthanorequals" => Operator::Duration(GreaterOrEqual),
            "durationlessthan" => Operator::Duration(Less),
            "durationlessthanorequals" => Operator::Duration(LessOrEqual),
            _ => return None,
        })
    }

    /// True when `key` and `value` satisfy the operator.
    pub(super) fn holds(self, key: &Value, value: &Value) -> bool {
        match self {
            Operator::Equals => equals(key, value).unwrap_or(false),
            Operator::NotEquals => not_equals(key, value),
            Operator::In | Operator::NotIn => legacy_in(key, value, self == Operator::NotIn),
            Operator::AnyIn | Operator::AnyNotIn => {
                membership(key, value, self == Operator::AnyNotIn, Quantifier::Any)
            }
            Operator::AllIn | Operator::AllNotIn => {
                membership(key, value, self == Operator::AllNotIn, Quantifier::All)
            }
            Operator::Numeric(cmp) => numeric(key, value, cmp),
            Operator::Duration(cmp) => match (as_duration(key), as_duration(value)) {
                (Some(k), Some(v)) => cmp.floats(k, v),
                _ => false,
            },
        }
    }
}

/// Go's `time.Duration(n) * time.Second` or `time.ParseDuration`.
fn as_duration(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64().map(f64::trunc),
        Value::String(s) => duration(s),
        _ => None,
    }
}

/// Kyverno's `parseDuration`: both as seconds when one is a duration
/// string (other than `"0"`) and the other a duration or a number.
fn durations(key: &Value, value: &Value) -> Option<(f64, f64)> {
    let parse = |v: &Value| match v {
        Value::String(s) if s != "0" => duration(s),
        _ => None,
    };
    let (k, v) = (parse(key), parse(value));
    if k.is_none() && v.is_none() {
        return None;
    }
    let seconds = |d: Option<f64>, raw: &Value| d.or_else(|| raw.as_f64().map(f64::trunc));
    Some((seconds(k, key)?, seconds(v, value)?))
}

/// `Equals`; `None` where Kyverno's `NotEquals` differs from its negation.
fn equals(key: &Value, value: &Value) -> Option<bool> {
    match key {
        Value::Bool(k) => value.as_bool().map(|v| v == *k),
        Value::Number(k) => {
            let k = k.as_f64()?;
            match value {
                Value::Number(v) => Some(v.as_f64() == Some(k)),
                Value::String(s) => s.parse::<f64>().ok().map(|v| v == k),
                _ => None,
            }
        }
        Value::String(k) => {
            if let Some((a, b)) = durations(key, value) {
                return Some(a == b);
            }
            if let (Some(a), Value::String(v)) = (quantity_of(k), value) {
                if !(v.is_empty()) {
                    return quantity_of(v).map(|b| a == b);
                }
            }
            value.as_str().map(|v| wildcard(v, k))
        }
        Value::Object(_) => value.is_object().then(|| key == value),
        Value::Array(_) => value.is_array().then(|| key == value),
        Value::Null => Some(false),
    }
}

fn not_equals(key: &Value, value: &Value) -> bool {
    if key.is_null() {
        return false;
    }
    equals(key, value).is_none_or(|e| !e)
}

/// Go's `fmt.Sprint` of a JSON value.
pub(super) fn sprint(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_f64() {
            Some(f) => go_float(f),
            None => n.to_string(),
        },
        Value::Bool(b) => b.to_string(),
        Value::Null => "<nil>".into(),
        other => other.to_string(),
    }
}

/// `%v` of a float64: the shortest digits, in exponent form when the
/// decimal exponent is below -4 or at least 6 (Go's `%g` rule).
fn go_float(f: f64) -> String {
    let s = format!("{f:e}");
    let (mantissa, e) = s.split_once('e').unwrap_or((&s, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    if f != 0.0 && !(-4..6).contains(&e) {
        return format!("{mantissa}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
    }
    f.to_string()
}

fn is_range(s: &str) -> bool {
    range(s, "!-").is_none() && range(s, "-").is_some()
}

/// A key in a range pattern `a-b` (or `a!-b`), as Kyverno's pattern check.
fn in_range(key: &str, pattern: &str) -> bool {
    scalar_matches(
        &Value::String(pattern.to_string()),
        &Value::String(key.to_string()),
    )
}

fn both_ways(a: &str, b: &str) -> bool {
    wildcard(a, b) || wildcard(b, a)
}

/// A string value read as a list: a JSON array of strings, or itself.
/// `None` when it is JSON but not an array of strings.
fn as_list(s: &str) -> Option<Vec<String>> {
    match serde_json::from_str::<Value>(s) {
        Ok(Value::Array(items)) => items.iter().map(|v| v.as_str().map(str::to_string)).collect(),
        Ok(_) => None,
        Err(_) => Some(vec![s.to_string()]),
    }
}

/// The deprecated `In`/`NotIn`: exact set membership.
fn legacy_in(key: &Value, value: &Value, not: bool) -> bool {
    match key {
        Value::Array(keys) => {
            let Some(keys) = keys
                .iter()
                .map(|k| k.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
            else {
                return false;
            };
            let set: Option<Vec<String>> = match value {
                Value::Array(vs) => vs.iter().map(|v| v.as_str().map(str::to_string)).collect(),
                Value::String(s) if keys.len() == 1 && keys[0] == *s => return true,
                Value::String(s) => serde_json::from_str(s).ok(),
                _ => None,
            };
            let Some(set) = set else { return false };
            let missing = keys.iter().any(|k| !set.contains(k));
            if not {
                missing
            } else {
                !missing
            }
        }
        Value::Null | Value::Object(_) => false,
        scalar => {
            let key = sprint(scalar);
            let found = match value {
                Value::Array(vs) => Some(vs.iter().any(|v| both_ways(&sprint(v), &key))),
                Value::String(s) if wildcard(s, &key) => Some(true),
                Value::String(s) => serde_json::from_str::<Vec<String>>(s)
                    .ok()
                    .map(|a| a.contains(&key)),
                _ => None,
            };
            found.is_some_and(|f| f != not)
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Quantifier {
    Any,
    All,
}

/// `AnyIn`, `AllIn`, `AnyNotIn` and `AllNotIn`.
fn membership(key: &Value, value: &Value, not: bool, q: Quantifier) -> bool {
    match key {
        Value::Array(keys) => {
            let keys: Vec<String> = keys.iter().map(sprint).collect();
            set_membership(&keys, value, not, q).unwrap_or(false)
        }
        Value::Null | Value::Object(_) => false,
        scalar => key_in(&sprint(scalar), value).is_some_and(|found| found != not),
    }
}

/// One key against the values; `None` for a value of the wrong type.
fn key_in(key: &str, value: &Value) -> Option<bool> {
    match value {
        Value::Array(vs) => Some(vs.iter().any(|v| both_ways(&sprint(v), key))),
        Value::String(s) => {
            if wildcard(s, key) {
                return Some(true);
            }
            if is_range(s) {
                return Some(in_range(key, s));
            }
            Some(as_list(s)?.iter().any(|v| v == key))
        }
        _ => None,
    }
}

fn set_membership(keys: &[String], value: &Value, not: bool, q: Quantifier) -> Option<bool> {
    let values: Vec<String> = match value {
        Value::Array(vs) => vs.iter().map(sprint).collect(),
        Value::Number(_) | Value::Bool(_) if q == Quantifier::Any => vec![sprint(value)],
        Value::String(s) => {
            if keys.len() == 1 && keys[0] == *s {
                return Some(!not);
            }
            if is_range(s) {
                return Some(range_membership(keys, s, not, q));
            }
            as_list(s)?
        }
        _ => return None,
    };
    let found = |k: &String| values.iter().any(|v| both_ways(k, v));
    Some(match (q, not) {
        (Quantifier::Any, false) => keys.iter().any(found),
        (Quantifier::Any, true) => !keys.iter().all(found),
        (Quantifier::All, false) => keys.iter().all(found),
        (Quantifier::All, true) => !keys.iter().any(found),
    })
}

fn range_membership(keys: &[String], pattern: &str, not: bool, q: Quantifier) -> bool {
    match (q, not) {
        (Quantifier::Any, false) => keys.iter().any(|k| in_range(k, pattern)),
        (Quantifier::Any, true) => {
            let outside = pattern.replacen('-', "!-", 1);
            keys.iter().any(|k| in_range(k, &outside))
        }
        (Quantifier::All, false) => keys.iter().all(|k| in_range(k, pattern)),
        (Quantifier::All, true) => !keys.iter().any(|k| in_range(k, pattern)),
    }
}

/// `GreaterThan`, `LessThan` and their `OrEquals`.
fn numeric(key: &Value, value: &Value, cmp: Cmp) -> bool {
    match key {
        Value::Number(k) => k.as_f64().is_some_and(|k| number_against(k, key, value, cmp)),
        Value::String(k) => {
            if let Some((a, b)) = durations(key, value) {
                return cmp.floats(a, b);
            }
            if let (Some(a), Some(b)) = (quantity_of(k), value.as_str().and_then(quantity_of)) {
                return cmp.floats(a, b);
            }
            if let Ok(f) = k.trim().parse::<f64>() {
                return number_against(f, key, value, cmp);
            }
            match (version(k), value.as_str().and_then(version)) {
                (Some(a), Some(b)) => cmp.holds(a.cmp(&b)),
                _ => false,
            }
        }
        _ => false,
    }
}

fn number_against(k: f64, key: &Value, value: &Value, cmp: Cmp) -> bool {
    match value {
        Value::Number(v) => v.as_f64().is_some_and(|v| cmp.floats(k, v)),
        Value::String(s) => {
            if let Some((a, b)) = durations(key, value) {
                return cmp.floats(a, b);
            }
            s.trim().parse::<f64>().is_ok_and(|v| cmp.floats(k, v))
        }
        _ => false,
    }
}

/// A semantic version `major.minor.patch` (pre-release and build ignored).
fn version(s: &str) -> Option<(u64, u64, u64)> {
    let core = s.split(['-', '+']).next()?;
    let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
    let v = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn op(name: &str, key: Value, value: Value) -> bool {
        Operator::parse(name).unwrap().holds(&key, &value)
    }

    #[test]
    fn membership_follows_kyverno() {
        let allowed = json!(["CHOWN", "KILL", "NET_*"]);
        assert!(op("AnyNotIn", json!(["CHOWN", "SYS_ADMIN"]), allowed.clone()));
        assert!(!op(
            "AnyNotIn",
            json!(["CHOWN", "NET_BIND_SERVICE"]),
            allowed.clone()
        ));
        assert!(!op("AnyNotIn", json!([]), allowed.clone()));
        assert!(op("AllNotIn", json!("livenessProbe"), json!(["name", "image"])));
        assert!(!op("AllNotIn", json!("livenessProbe"), json!(["livenessProbe"])));
        assert!(op("AnyIn", json!("CREATE"), json!(["CREATE", "UPDATE"])));
        assert!(op("AllIn", json!(["a", "b"]), json!(["*"])));
        assert!(op("AnyNotIn", json!("ALL"), json!([])));
        assert!(!op("AnyNotIn", json!("ALL"), json!(["ALL"])));
        assert!(op("AnyNotIn", json!([80, 5500]), json!("5000-6000")));
        assert!(!op("AnyNotIn", json!([5100, 5500]), json!("5000-6000")));
        assert!(op("AnyIn", json!([8080]), json!("8000-9000")));
        assert!(op("NotIn", json!("a"), json!(["b"])) && !op("In", json!("a"), json!(["b"])));
        assert!(!op("AnyIn", Value::Null, json!(["a"])) && !op("AnyNotIn", Value::Null, json!(["a"])));
    }

    #[test]
    fn equality_and_ordering_follow_kyverno() {
        assert!(op("Equals", json!("nginx:1"), json!("nginx:*")));
        assert!(op("Equals", json!("1Gi"), json!("1024Mi")));
        assert!(op("Equals", json!(3), json!("3")));
        assert!(op("NotEquals", json!("DELETE"), json!("CREATE")));
        assert!(!op("NotEquals", Value::Null, json!("x")) && !op("Equals", Value::Null, Value::Null));
        assert!(op("NotEquals", json!(2), json!(3)));
        assert!(op("NotEquals", json!(true), json!("true")));
        assert!(op("GreaterThan", json!("2Gi"), json!("1Gi")));
        assert!(op("LessThanOrEquals", json!(3), json!("3")));
        assert!(op("GreaterThan", json!("1h"), json!("30m")));
        assert!(op("GreaterThan", json!("1.10.0"), json!("1.9.3")));
        assert!(op("DurationLessThan", json!("10s"), json!(11)));
        assert!(Operator::parse("Bogus").is_none());
    }

    #[test]
    fn go_formats_floats_as_kyverno_sees_them() {
        assert_eq!(sprint(&json!(5000)), "5000");
        assert_eq!(sprint(&json!(1.5)), "1.5");
        assert_eq!(sprint(&json!(true)), "true");
        assert_eq!(sprint(&json!(1_000_000)), "1e+06");
        assert_eq!(sprint(&json!(0.00001)), "1e-05");
    }
}
