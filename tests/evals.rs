//! The eval floor: every case in `evals/*.yaml` through the builtin planner.
//!
//! The case format is documented in `evals/README.md`. The floor starts at the
//! builtin planner's current pass rate and is only ever raised.

use gitintent::pipeline::{self, Context};
use gitintent::plan::Planner;
use gitintent::Intent;
use serde::Deserialize;
use serde_json::Value;
use std::path::Path;

/// Minimum share of cases that must pass. Never lower it; raise it when the planner improves.
const FLOOR: f64 = 1.0;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[serde(default)]
    intent: Option<String>,
    #[serde(default)]
    intent_repeat: Option<Repeat>,
    #[serde(default)]
    environment: Option<String>,
    #[serde(default)]
    expect: Expect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Repeat {
    text: String,
    times: usize,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Expect {
    #[serde(default)]
    kinds: Vec<String>,
    #[serde(default)]
    fields: Vec<Field>,
    #[serde(default)]
    absent_kinds: Vec<String>,
    #[serde(default)]
    forbidden_strings: Vec<String>,
    #[serde(default)]
    rejected: bool,
    #[serde(default)]
    max_error_findings: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Field {
    resource: String,
    path: String,
    #[serde(default)]
    equals: Option<Value>,
    #[serde(default)]
    matches: Option<String>,
}

fn load_cases() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("evals");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    paths
        .iter()
        .flat_map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            serde_saphyr::from_str::<Vec<Case>>(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        })
        .collect()
}

/// Resources by `Kind/name`.
fn resources(plan: &pipeline::Plan) -> Vec<(String, Value)> {
    plan.files
        .iter()
        .flat_map(|f| serde_saphyr::from_multiple::<Value>(&f.content).unwrap())
        .filter(|d| d["kind"] != "Kustomization")
        .map(|d| {
            (
                format!(
                    "{}/{}",
                    d["kind"].as_str().unwrap_or(""),
                    d["metadata"]["name"].as_str().unwrap_or("")
                ),
                d,
            )
        })
        .collect()
}

fn lookup<'a>(value: &'a Value, dotted: &str) -> Option<&'a Value> {
    dotted
        .split('.')
        .try_fold(value, |v, key| match key.parse::<usize>() {
            Ok(i) if v.is_array() => v.get(i),
            _ => v.get(key),
        })
}

/// The failed assertions of one case; empty when it passed.
fn check(case: &Case, runtime: &tokio::runtime::Runtime) -> Vec<String> {
    let text = match (&case.intent, &case.intent_repeat) {
        (Some(t), _) => t.clone(),
        (None, Some(r)) => r.text.repeat(r.times),
        (None, None) => return vec!["case has neither intent nor intent_repeat".into()],
    };
    let e = &case.expect;
    let result = Intent::new(&text, case.environment.as_deref())
        .map_err(gitintent::Error::from)
        .and_then(|intent| runtime.block_on(pipeline::run(&intent, &Planner::Builtin, &Context::default())));
    let plan = match (result, e.rejected) {
        (Err(_), true) => return vec![],
        (Err(err), false) => return vec![format!("planning failed: {err}")],
        (Ok(plan), true) => {
            let mut fails = vec!["expected a rejection, got a plan".to_string()];
            fails.extend(forbidden(&plan, &e.forbidden_strings));
            return fails;
        }
        (Ok(plan), false) => plan,
    };
    let res = resources(&plan);
    let mut fails = Vec::new();
    for k in &e.kinds {
        if !res.iter().any(|(id, _)| id == k) {
            fails.push(format!("missing {k}"));
        }
    }
    for k in &e.absent_kinds {
        if res
            .iter()
            .any(|(id, _)| id.split('/').next() == Some(k.as_str()) || id == k)
        {
            fails.push(format!("unexpected {k}"));
        }
    }
    for f in &e.fields {
        let Some((_, doc)) = res.iter().find(|(id, _)| id == &f.resource) else {
            fails.push(format!("{}: no such resource", f.resource));
            continue;
        };
        let got = lookup(doc, &f.path);
        if let Some(want) = &f.equals {
            if got != Some(want) {
                fails.push(format!("{} {}: want {want}, got {got:?}", f.resource, f.path));
            }
        }
        if let Some(pattern) = &f.matches {
            let re = regex_lite::Regex::new(pattern).unwrap();
            let s = got.map(|v| v.as_str().map(String::from).unwrap_or_else(|| v.to_string()));
            if !s.as_deref().is_some_and(|s| re.is_match(s)) {
                fails.push(format!(
                    "{} {}: {got:?} does not match {pattern}",
                    f.resource, f.path
                ));
            }
        }
    }
    fails.extend(forbidden(&plan, &e.forbidden_strings));
    let errors = plan.findings.iter().filter(|f| f.is_error()).count();
    if let Some(max) = e.max_error_findings {
        if errors > max {
            fails.push(format!("{errors} error findings > {max}: {:?}", plan.findings));
        }
    }
    fails
}

fn forbidden(plan: &pipeline::Plan, strings: &[String]) -> Vec<String> {
    let spec = serde_json::to_string(&plan.spec).unwrap();
    let files: String = plan.files.iter().map(|f| f.content.as_str()).collect();
    strings
        .iter()
        .filter(|s| {
            spec.contains(s.as_str()) || files.contains(s.as_str()) || plan.intent.contains(s.as_str())
        })
        .map(|s| format!("forbidden string {s:?} appears in the output"))
        .collect()
}

#[test]
fn builtin_planner_stays_above_the_eval_floor() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let cases = load_cases();
    assert!(cases.len() >= 25, "only {} eval cases", cases.len());
    let mut failed = Vec::new();
    for case in &cases {
        let fails = check(case, &runtime);
        if !fails.is_empty() {
            failed.push(format!("{}:\n    {}", case.name, fails.join("\n    ")));
        }
    }
    let rate = (cases.len() - failed.len()) as f64 / cases.len() as f64;
    eprintln!(
        "eval pass rate: {}/{} = {:.1}%",
        cases.len() - failed.len(),
        cases.len(),
        rate * 100.0
    );
    assert!(
        rate >= FLOOR,
        "pass rate {rate:.3} is under the floor {FLOOR}; failures:\n{}",
        failed.join("\n")
    );
}
