//! Scalar patterns, as Kyverno compares them: `|` alternatives of `&`
//! conjunctions of conditions; a condition is an operator (`>=`, `<=`, `>`,
//! `<`, `!`, ranges `a-b` and `a!-b`, or equality) and an operand compared as
//! a duration, else a Kubernetes quantity, else a string with wildcards.

use serde_json::Value;

use super::pattern::wildcard;
use crate::manifest::quantity;

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Equal,
    NotEqual,
    More,
    Less,
    MoreEqual,
    LessEqual,
}

/// True when the scalar `value` (`Null` when absent) satisfies `pattern`.
pub(super) fn scalar_matches(pattern: &Value, value: &Value) -> bool {
    match pattern {
        Value::Null => match value {
            Value::Null => true,
            Value::Bool(b) => !b,
            Value::Number(n) => n.as_f64() == Some(0.0),
            Value::String(s) => s.is_empty(),
            _ => false,
        },
        Value::Bool(b) => value.as_bool() == Some(*b),
        Value::Number(n) => match (n.as_f64(), value) {
            (Some(a), Value::Number(v)) => v.as_f64() == Some(a),
            (Some(a), Value::String(s)) => s.trim().parse::<f64>().ok() == Some(a),
            _ => false,
        },
        Value::String(s) => {
            if let Value::String(v) = value {
                if v == s {
                    return true;
                }
            }
            s.split('|')
                .any(|alt| alt.trim().split('&').all(|cond| condition(cond.trim(), value)))
        }
        _ => false,
    }
}

fn condition(pattern: &str, value: &Value) -> bool {
    if pattern.len() >= 2 {
        for (prefix, op) in [
            (">=", Op::MoreEqual),
            ("<=", Op::LessEqual),
            (">", Op::More),
            ("<", Op::Less),
            ("!", Op::NotEqual),
        ] {
            if let Some(rest) = pattern.strip_prefix(prefix) {
                return compare(value, rest.trim(), op);
            }
        }
        if let Some((low, high)) = range(pattern, "!-") {
            return compare(value, low, Op::Less) || compare(value, high, Op::More);
        }
        if let Some((low, high)) = range(pattern, "-") {
            return compare(value, low, Op::MoreEqual) && compare(value, high, Op::LessEqual);
        }
    }
    compare(value, pattern, Op::Equal)
}

/// `low<sep>high` where both ends are numbers with an optional unit suffix.
pub(super) fn range<'a>(pattern: &'a str, sep: &str) -> Option<(&'a str, &'a str)> {
    // The separator is searched after a possible sign of the low end.
    let start = usize::from(pattern.starts_with(['-', '+']));
    let at = pattern.get(start..)?.find(sep)? + start;
    let (low, high) = (&pattern[..at], &pattern[at + sep.len()..]);
    if sep == "-" && low.ends_with('!') {
        return None;
    }
    (is_bound(low) && is_bound(high)).then_some((low, high))
}

/// `[-+]?digits(.digits)?letters*`.
fn is_bound(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let digits_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if digits_end == 0 {
        return false;
    }
    let mut rest = &s[digits_end..];
    if let Some(frac) = rest.strip_prefix('.') {
        let end = frac.find(|c: char| !c.is_ascii_digit()).unwrap_or(frac.len());
        if end == 0 {
            return false;
        }
        rest = &frac[end..];
    }
    rest.chars().all(|c| c.is_ascii_alphabetic())
}

fn compare(value: &Value, operand: &str, op: Op) -> bool {
    let as_text = match value {
        Value::Null => Some("0".to_string()),
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    if let (Some(p), Some(v)) = (duration(operand), as_text.as_deref().and_then(duration)) {
        return ordered(v.partial_cmp(&p), op);
    }
    if let (Some(p), Some(v)) = (quantity_of(operand), as_text.as_deref().and_then(quantity_of)) {
        return ordered(v.partial_cmp(&p), op);
    }
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return false,
    };
    match op {
        Op::Equal => wildcard(operand, &text),
        Op::NotEqual => !wildcard(operand, &text),
        _ => false,
    }
}

fn ordered(ordering: Option<std::cmp::Ordering>, op: Op) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let Some(o) = ordering else {
        return false;
    };
    match op {
        Op::Equal => o == Equal,
        Op::NotEqual => o != Equal,
        Op::More => o == Greater,
        Op::Less => o == Less,
        Op::MoreEqual => o != Less,
        Op::LessEqual => o != Greater,
    }
}

/// A Kubernetes quantity (`500m`, `2Gi`, `1e3`), never a bare word.
pub(super) fn quantity_of(s: &str) -> Option<f64> {
    let s = s.trim();
    if !s.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+' || c == '.') {
        return None;
    }
    quantity(s)
}

/// A Go duration (`300ms`, `1h30m`, `-2s`, `0`) in seconds.
pub(super) fn duration(s: &str) -> Option<f64> {
    let s = s.trim();
    let (sign, mut rest) = match s.strip_prefix('-') {
        Some(r) => (-1.0, r),
        None => (1.0, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Some(0.0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .filter(|&e| e > 0)?;
        let number: f64 = rest[..end].parse().ok()?;
        let tail = &rest[end..];
        let unit_end = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let scale = match &tail[..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += number * scale;
        rest = &tail[unit_end..];
    }
    Some(sign * total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(p: &str, v: Value) -> bool {
        scalar_matches(&json!(p), &v)
    }

    #[test]
    fn operators_follow_kyverno() {
        assert!(m("32000-33000", json!(32500)) && !m("32000-33000", json!(31999)));
        assert!(m("32000!-33000", json!(31999)) && !m("32000!-33000", json!(32500)));
        assert!(m("1Gi-2Gi", json!("1500Mi")));
        assert!(m("!*:latest & ?*", json!("a:1")) && !m("!*:latest & ?*", json!("a:latest")));
        assert!(m(">0", json!("1")) && !m(">0", json!(0)));
        assert!(m("<=1h", json!("30m")) && !m("<=1h", json!("2h")));
        assert!(m("1Gi", json!("1024Mi")));
        assert!(m("<10", Value::Null), "an absent value compares as 0");
        assert!(!m("?*", Value::Null));
        assert!(m("Always | OnFailure", json!("OnFailure")));
        assert!(scalar_matches(&Value::Null, &json!(false)));
        assert!(!scalar_matches(&json!(true), &json!("true")));
    }
}
