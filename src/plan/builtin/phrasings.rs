//! The builtin planner's phrasing tests, as data: each case in
//! `phrasings/*.yaml` is an intent (with, optionally, the repository's own
//! environment names) and what its plan must hold (a fragment of
//! the spec, an element some list must have, list lengths) or the text its
//! refusal must contain. One test runs every case and reports every
//! mismatch, then snapshots what each intent planned to, so a change in any
//! phrasing's full reading shows in review.
//!
//! Matching (see the data file's header): objects match on the keys given
//! (`null` also matches an absent key), lists element by element from the
//! start (`[]` only matches an empty list), texts exactly or, after `~`, by
//! containment.

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

use super::plan_knowing;
use crate::intent::Intent;

/// The data files, by name.
const FILES: &[(&str, &str)] = &[("platform", include_str!("phrasings/platform.yaml"))];

/// One case of a data file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    intent: String,
    /// The repository's own environment names the planner is given.
    #[serde(default)]
    environments: Vec<String>,
    #[serde(default)]
    spec: Option<Value>,
    #[serde(default)]
    some: BTreeMap<String, Value>,
    #[serde(default)]
    len: BTreeMap<String, usize>,
    #[serde(default)]
    error: Option<String>,
}

/// Whether `actual` matches the fragment `expected`; the first mismatch's
/// path otherwise.
fn matches(expected: &Value, actual: Option<&Value>, at: &str) -> Result<(), String> {
    let fail = || {
        Err(format!(
            "{at}: expected {expected}, got {}",
            actual.unwrap_or(&Value::Null)
        ))
    };
    match (expected, actual) {
        (Value::Null, None | Some(Value::Null)) => Ok(()),
        (Value::Object(want), Some(Value::Object(got))) => want
            .iter()
            .try_for_each(|(k, v)| matches(v, got.get(k), &format!("{at}.{k}"))),
        (Value::Array(want), Some(Value::Array(got))) => {
            if want.is_empty() && !got.is_empty() || want.len() > got.len() {
                return fail();
            }
            want.iter()
                .zip(got)
                .enumerate()
                .try_for_each(|(k, (w, g))| matches(w, Some(g), &format!("{at}.{k}")))
        }
        (Value::String(want), Some(Value::String(got))) => match want.strip_prefix('~') {
            Some(part) if got.contains(part) => Ok(()),
            None if want == got => Ok(()),
            _ => fail(),
        },
        (want, Some(got)) if want == got => Ok(()),
        _ => fail(),
    }
}

/// The value at a dotted path of keys and list indexes.
fn at<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |v, key| match v {
        Value::Array(items) => key.parse::<usize>().ok().and_then(|k| items.get(k)),
        _ => v.get(key),
    })
}

/// Checks one case; its mismatches, and what it planned to (for the snapshot).
fn check(case: &Case) -> (Vec<String>, Value) {
    let planned = Intent::new(&case.intent, None)
        .map_err(|e| e.to_string())
        .and_then(|i| plan_knowing(&i, &case.environments, &[]).map_err(|e| e.to_string()));
    let spec = match (planned, &case.error) {
        (Err(e), Some(want)) if e.contains(want.as_str()) => {
            return (vec![], Value::String(format!("error: {e}")))
        }
        (Err(e), _) => return (vec![format!("refused: {e}")], Value::Null),
        (Ok(_), Some(want)) => {
            return (
                vec![format!("planned, but a refusal with {want:?} was expected")],
                Value::Null,
            )
        }
        (Ok(spec), None) => serde_json::to_value(&spec).expect("a spec serialises"),
    };
    let mut wrong = Vec::new();
    if let Some(fragment) = &case.spec {
        wrong.extend(matches(fragment, Some(&spec), "spec").err());
    }
    for (path, fragment) in &case.some {
        let items = at(&spec, path)
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        if !items
            .iter()
            .any(|item| matches(fragment, Some(item), path).is_ok())
        {
            wrong.push(format!("no element of {path} matches {fragment}: {items:?}"));
        }
    }
    for (path, want) in &case.len {
        let got = at(&spec, path).and_then(Value::as_array).map(Vec::len);
        if got != Some(*want) {
            wrong.push(format!("{path} has {got:?} elements, expected {want}"));
        }
    }
    (wrong, spec)
}

#[test]
fn every_phrasing_plans_as_its_data_file_says() {
    for (name, text) in FILES {
        let cases: Vec<Case> = serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("{name}.yaml: {e}"));
        assert!(!cases.is_empty(), "{name}.yaml has no cases");
        let mut failures = Vec::new();
        let mut planned = Vec::new();
        for case in &cases {
            let (wrong, spec) = check(case);
            if !wrong.is_empty() {
                failures.push(format!("{:?}:\n  {}", case.intent, wrong.join("\n  ")));
            }
            let mut entry = serde_json::json!({"intent": case.intent, "planned": spec});
            if !case.environments.is_empty() {
                entry["environments"] = serde_json::json!(case.environments);
            }
            planned.push(entry);
        }
        assert!(failures.is_empty(), "{name}.yaml:\n{}", failures.join("\n"));
        insta::assert_yaml_snapshot!(format!("phrasings-{name}"), planned);
    }
}

#[test]
fn the_matcher_reads_fragments_as_the_header_says() {
    let got = serde_json::json!({"a": [{"b": "hello world", "c": null}], "d": []});
    let ok = |want: Value| matches(&want, Some(&got), "x").is_ok();
    assert!(ok(serde_json::json!({"a": [{"b": "~world"}]})));
    assert!(ok(serde_json::json!({"a": [{"c": null, "e": null}], "d": []})));
    assert!(!ok(serde_json::json!({"a": []})));
    assert!(!ok(serde_json::json!({"a": [{"b": "world"}]})));
    assert!(!ok(serde_json::json!({"a": [{}, {}]})));
    assert_eq!(at(&got, "a.0.b"), Some(&Value::String("hello world".into())));
}
