//! The Kyverno pattern language: literals, nested maps and arrays, wildcards,
//! `!`, `|`, numeric and quantity comparisons, and the `(key)`, `=(key)`,
//! `X(key)` and `^(key)` anchors. Pure functions over JSON values; which
//! resources a rule applies to is decided in the parent module.

use serde_json::{Map, Value};

/// Result of matching a pattern.
#[derive(Debug, PartialEq)]
pub(super) enum Outcome {
    Pass,
    /// A conditional anchor did not hold: the pattern does not apply here.
    Skip,
    /// Failed at this JSON pointer.
    Fail(String),
}

enum Anchor<'a> {
    Plain(&'a str),
    Condition(&'a str),
    Equality(&'a str),
    Negation(&'a str),
    Existence(&'a str),
}

fn anchor(key: &str) -> Anchor<'_> {
    let inner = |prefix: &str| key.strip_prefix(prefix).and_then(|k| k.strip_suffix(')'));
    if let Some(k) = inner("=(") {
        Anchor::Equality(k)
    } else if let Some(k) = inner("X(") {
        Anchor::Negation(k)
    } else if let Some(k) = inner("^(") {
        Anchor::Existence(k)
    } else if let Some(k) = inner("(") {
        Anchor::Condition(k)
    } else {
        Anchor::Plain(key)
    }
}

pub(super) fn child(path: &str, key: &str) -> String {
    format!("{path}/{}", key.replace('~', "~0").replace('/', "~1"))
}

pub(super) fn match_value(pattern: &Value, value: Option<&Value>, path: String) -> Outcome {
    match (pattern, value) {
        (Value::Object(p), Some(Value::Object(v))) => match_map(p, v, &path),
        (Value::Array(p), Some(Value::Array(v))) => match_array(p, v, &path),
        (Value::Object(_) | Value::Array(_), _) => Outcome::Fail(path),
        (Value::Null, None | Some(Value::Null)) => Outcome::Pass,
        (_, None) => Outcome::Fail(path),
        (p, Some(v)) if scalar_matches(p, v) => Outcome::Pass,
        _ => Outcome::Fail(path),
    }
}

fn match_map(pattern: &Map<String, Value>, value: &Map<String, Value>, path: &str) -> Outcome {
    // Conditions first: if one does not hold, the rest does not apply.
    for (key, p) in pattern {
        if let Anchor::Condition(k) = anchor(key) {
            match match_value(p, value.get(k), child(path, k)) {
                Outcome::Pass => {}
                Outcome::Skip | Outcome::Fail(_) => return Outcome::Skip,
            }
        }
    }
    let mut skipped = false;
    for (key, p) in pattern {
        let outcome = match anchor(key) {
            Anchor::Condition(_) => continue,
            Anchor::Plain(k) => match_value(p, value.get(k), child(path, k)),
            Anchor::Equality(k) => match value.get(k) {
                None => Outcome::Pass,
                some => match_value(p, some, child(path, k)),
            },
            Anchor::Negation(k) => match value.get(k) {
                None => Outcome::Pass,
                Some(_) => Outcome::Fail(child(path, k)),
            },
            Anchor::Existence(k) => {
                let element = match p {
                    Value::Array(ps) if ps.len() == 1 => &ps[0],
                    other => other,
                };
                match value.get(k) {
                    Some(Value::Array(items))
                        if items.iter().enumerate().any(|(i, item)| {
                            match_value(element, Some(item), child(&child(path, k), &i.to_string()))
                                == Outcome::Pass
                        }) =>
                    {
                        Outcome::Pass
                    }
                    _ => Outcome::Fail(child(path, k)),
                }
            }
        };
        match outcome {
            Outcome::Pass => {}
            Outcome::Skip => skipped = true,
            fail => return fail,
        }
    }
    if skipped {
        Outcome::Skip
    } else {
        Outcome::Pass
    }
}

fn match_array(pattern: &[Value], value: &[Value], path: &str) -> Outcome {
    if let [element] = pattern {
        for (i, item) in value.iter().enumerate() {
            // A skipped element is one the pattern does not apply to.
            if let Outcome::Fail(p) = match_value(element, Some(item), child(path, &i.to_string())) {
                return Outcome::Fail(p);
            }
        }
        return Outcome::Pass;
    }
    if pattern.len() != value.len() {
        return Outcome::Fail(path.to_string());
    }
    for (i, (p, v)) in pattern.iter().zip(value).enumerate() {
        if let Outcome::Fail(f) = match_value(p, Some(v), child(path, &i.to_string())) {
            return Outcome::Fail(f);
        }
    }
    Outcome::Pass
}

fn scalar_matches(pattern: &Value, value: &Value) -> bool {
    match pattern {
        Value::Bool(b) => {
            value.as_bool() == Some(*b) || value.as_str() == Some(if *b { "true" } else { "false" })
        }
        Value::Number(n) => match (n.as_f64(), number(value)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        },
        Value::String(s) => s.split('|').any(|alt| string_matches(alt.trim(), value)),
        _ => false,
    }
}

fn string_matches(pattern: &str, value: &Value) -> bool {
    if let Some(rest) = pattern.strip_prefix('!') {
        return !string_matches(rest, value);
    }
    for op in [">=", "<=", ">", "<"] {
        if let Some(rest) = pattern.strip_prefix(op) {
            let (Some(limit), Some(actual)) = (quantity(rest.trim()), number(value)) else {
                return false;
            };
            return match op {
                ">=" => actual >= limit,
                "<=" => actual <= limit,
                ">" => actual > limit,
                _ => actual < limit,
            };
        }
    }
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return false,
    };
    wildcard(pattern, &text)
}

/// A number or a Kubernetes quantity string (`500m`, `2Gi`, `1e3`).
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => quantity(s),
        _ => None,
    }
}

use crate::manifest::quantity;

/// Glob match with `*` (any run, including empty) and `?` (one character).
pub(super) fn wildcard(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}
