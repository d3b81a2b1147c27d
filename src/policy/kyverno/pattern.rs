//! The Kyverno pattern language, with Kyverno's semantics: literals, nested
//! maps and arrays, wildcards in values and in keys, the operators `!`, `|`,
//! `&`, `<`, `>`, `<=`, `>=`, ranges `a-b` and `a!-b` on numbers, Kubernetes
//! quantities and durations, and the `(key)`, `=(key)`, `X(key)` and `^(key)`
//! anchors. A scalar pattern against an array applies to every element; an
//! array of maps whose conditional anchors hold for no element does not
//! apply (skip). Pure functions over JSON values; which resources a rule
//! applies to is decided in the parent module.

use serde_json::{Map, Value};

use super::operators::scalar_matches;

/// Result of matching a pattern.
#[derive(Debug, PartialEq)]
pub(super) enum Outcome {
    Pass,
    /// A conditional anchor did not hold: the pattern does not apply here.
    Skip,
    /// Failed at this JSON pointer.
    Fail(String),
}

#[derive(Clone, Copy)]
enum Anchor<'a> {
    Plain(&'a str),
    Condition(&'a str),
    Equality(&'a str),
    Negation(&'a str),
    Existence(&'a str),
}

impl<'a> Anchor<'a> {
    fn key(self) -> &'a str {
        match self {
            Anchor::Plain(k)
            | Anchor::Condition(k)
            | Anchor::Equality(k)
            | Anchor::Negation(k)
            | Anchor::Existence(k) => k,
        }
    }
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

fn child(path: &str, key: &str) -> String {
    format!("{path}/{}", key.replace('~', "~0").replace('/', "~1"))
}

/// Where the matcher is in the resource: written out as a JSON pointer
/// only when something fails there (most matches pass).
#[derive(Clone, Copy)]
enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl Path<'_> {
    fn render(&self) -> String {
        match self {
            Path::Root => String::new(),
            Path::Key(parent, key) => child(&parent.render(), key),
            Path::Index(parent, i) => format!("{}/{i}", parent.render()),
        }
    }
}

/// Matches `pattern` against `value` (the whole resource, or the element
/// a `foreach` applies to); a failure's pointer is relative to `value`.
pub(super) fn match_pattern(pattern: &Value, value: Option<&Value>) -> Outcome {
    match_value(pattern, value, &Path::Root)
}

fn match_value(pattern: &Value, value: Option<&Value>, path: &Path<'_>) -> Outcome {
    match (pattern, value) {
        (Value::Object(p), Some(Value::Object(v))) => match_map(p, v, path),
        (Value::Array(p), Some(Value::Array(v))) => match_array(p, v, path),
        (Value::Object(_) | Value::Array(_), _) => Outcome::Fail(path.render()),
        // A scalar pattern against an array holds for every element.
        (p, Some(Value::Array(items))) => {
            for (i, item) in items.iter().enumerate() {
                if !scalar_matches(p, item) {
                    return Outcome::Fail(Path::Index(path, i).render());
                }
            }
            Outcome::Pass
        }
        (p, v) if scalar_matches(p, v.unwrap_or(&Value::Null)) => Outcome::Pass,
        _ => Outcome::Fail(path.render()),
    }
}

/// The resource keys an anchor's key names: itself, or every key matching
/// it when it holds `*` or `?`.
fn keys_for<'a>(key: &'a str, value: &'a Map<String, Value>) -> Vec<&'a str> {
    if key.contains(['*', '?']) {
        value
            .keys()
            .filter(|k| wildcard(key, k))
            .map(String::as_str)
            .collect()
    } else {
        vec![key]
    }
}

fn match_map(pattern: &Map<String, Value>, value: &Map<String, Value>, path: &Path<'_>) -> Outcome {
    // Conditions first: if one does not hold, the rest does not apply.
    for (key, p) in pattern {
        if let Anchor::Condition(k) = anchor(key) {
            let keys = keys_for(k, value);
            if keys.iter().all(|k| value.get(*k).is_none()) {
                return Outcome::Skip;
            }
            for k in keys {
                if match_value(p, value.get(k), &Path::Key(path, k)) != Outcome::Pass {
                    return Outcome::Skip;
                }
            }
        }
    }
    let mut skipped = false;
    for (key, p) in pattern {
        let a = anchor(key);
        if let Anchor::Condition(_) = a {
            continue;
        }
        let keys = keys_for(a.key(), value);
        let outcome = if keys.is_empty() {
            // A wildcard key that names nothing present.
            match a {
                Anchor::Plain(k) => match_value(p, None, &Path::Key(path, k)),
                _ => Outcome::Pass,
            }
        } else {
            keys.iter()
                .map(|k| match_key(a, k, p, value, path))
                .find(|o| *o != Outcome::Pass)
                .unwrap_or(Outcome::Pass)
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

/// One non-conditional entry of a map pattern against the resource key `k`.
fn match_key(a: Anchor<'_>, k: &str, p: &Value, value: &Map<String, Value>, path: &Path<'_>) -> Outcome {
    let at = Path::Key(path, k);
    match a {
        Anchor::Condition(_) => Outcome::Pass,
        Anchor::Plain(_) => {
            if p.as_str() == Some("*") {
                // `*` asks for presence, whatever the value.
                return match value.get(k) {
                    Some(v) if !v.is_null() => Outcome::Pass,
                    _ => Outcome::Fail(at.render()),
                };
            }
            match_value(p, value.get(k), &at)
        }
        Anchor::Equality(_) => match value.get(k) {
            None => Outcome::Pass,
            some => match_value(p, some, &at),
        },
        Anchor::Negation(_) => match value.get(k) {
            None => Outcome::Pass,
            Some(_) => Outcome::Fail(at.render()),
        },
        Anchor::Existence(_) => existence(p, value.get(k), &at),
    }
}

/// `^(key)`: for each map of the pattern list, some element of the array matches.
fn existence(p: &Value, value: Option<&Value>, path: &Path<'_>) -> Outcome {
    let Some(value) = value else {
        return Outcome::Pass;
    };
    let (Value::Array(items), Value::Array(elements)) = (value, p) else {
        return Outcome::Fail(path.render());
    };
    for element in elements {
        let found = items
            .iter()
            .enumerate()
            .any(|(i, item)| match_value(element, Some(item), &Path::Index(path, i)) == Outcome::Pass);
        if !found {
            return Outcome::Fail(path.render());
        }
    }
    Outcome::Pass
}

fn match_array(pattern: &[Value], value: &[Value], path: &Path<'_>) -> Outcome {
    match pattern {
        [] => Outcome::Fail(path.render()),
        [Value::Object(_), ..] => {
            // Kyverno uses the first map for every element; an element whose
            // conditions do not hold is skipped, and if every element is
            // skipped the array does not apply.
            let element = &pattern[0];
            let (mut applied, mut skipped) = (0, 0);
            for (i, item) in value.iter().enumerate() {
                match match_value(element, Some(item), &Path::Index(path, i)) {
                    Outcome::Pass => applied += 1,
                    Outcome::Skip => skipped += 1,
                    fail => return fail,
                }
            }
            if applied == 0 && skipped > 0 {
                Outcome::Skip
            } else {
                Outcome::Pass
            }
        }
        [p, ..] if !p.is_array() => {
            for (i, item) in value.iter().enumerate() {
                if !scalar_matches(p, item) {
                    return Outcome::Fail(Path::Index(path, i).render());
                }
            }
            Outcome::Pass
        }
        _ => {
            if value.len() < pattern.len() {
                return Outcome::Fail(path.render());
            }
            let (mut applied, mut skipped) = (0, 0);
            for (i, (p, v)) in pattern.iter().zip(value).enumerate() {
                match match_value(p, Some(v), &Path::Index(path, i)) {
                    Outcome::Pass => applied += 1,
                    Outcome::Skip => skipped += 1,
                    fail => return fail,
                }
            }
            if applied == 0 && skipped > 0 {
                Outcome::Skip
            } else {
                Outcome::Pass
            }
        }
    }
}

/// Glob match with `*` (any run, including empty) and `?` (one character).
pub(super) fn wildcard(pattern: &str, text: &str) -> bool {
    if !pattern.bytes().any(|b| b == b'*' || b == b'?') {
        return pattern == text;
    }
    if pattern.is_ascii() && text.is_ascii() {
        // One byte per character: no copies.
        return glob(pattern.as_bytes(), text.as_bytes(), b'*', b'?');
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    glob(&p, &t, '*', '?')
}

fn glob<C: Copy + PartialEq>(p: &[C], t: &[C], any_run: C, any_one: C) -> bool {
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == any_one || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == any_run {
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
    p[pi..].iter().all(|&c| c == any_run)
}
