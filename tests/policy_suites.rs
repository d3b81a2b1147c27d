//! Conformance with the policy engines' own suites, vendored in
//! `tests/fixtures/policy-suites/`: every case of kyverno/policies
//! (`best-practices`, `pod-security` and their CEL `-vpol` versions, each
//! `.kyverno-test/kyverno-test.yaml`) and of gatekeeper-library
//! `library/general` (`suite.yaml`: template, constraint, objects and the
//! expected violations).
//!
//! Policies are loaded as enforcing (the suites' verdicts do not depend on
//! the action), so a rule gitintent cannot evaluate is an error finding:
//! such a case counts as "unsupported-reported", and a run of the gate on
//! it fails. A false pass (an expected failure with no finding and no such
//! report) fails the test; agreeing cases have a floor that may only rise.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gitintent::policy::{PolicySet, Settings};
use gitintent::{Finding, Severity};
use serde_json::{json, Value};

/// Agreeing cases reached; raise when more agree, never lower.
const KYVERNO_AGREEING_FLOOR: usize = 2935;
const GATEKEEPER_AGREEING_FLOOR: usize = 120;
/// The CEL suites, `ValidatingPolicy` (`best-practices-vpol`,
/// `pod-security-vpol`) and ClusterPolicy `validate.cel`
/// (`best-practices-cel`, `pod-security-cel`): cases evaluated and
/// agreeing; raise, never lower.
const KYVERNO_CEL_SUPPORTED_FLOOR: usize = 1917;
const KYVERNO_CEL_AGREEING_FLOOR: usize = 1917;
const CEL_SUITES: [&str; 4] = [
    "best-practices-vpol",
    "pod-security-vpol",
    "best-practices-cel",
    "pod-security-cel",
];

fn suites() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/policy-suites")
}

fn yaml(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    gitintent::yaml::values(&text)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_iter()
        .filter(Value::is_object)
        .collect()
}

/// Files named `name` under `dir`, hidden directories included, sorted.
fn find(dir: &Path, name: &str, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            find(&path, name, out);
        } else if path.file_name().is_some_and(|n| n == name) {
            out.push(path);
        }
    }
}

#[derive(Default, Debug)]
struct Counts {
    supported: usize,
    agreeing: usize,
    false_pass: Vec<String>,
    false_fail: Vec<String>,
    unsupported_reported: usize,
    rejected: usize,
}

impl Counts {
    fn print(&self, suite: &str) {
        println!(
            "{suite}: supported {}, agreeing {}, false pass {}, false fail {}, unsupported-reported {}, policy rejected {}",
            self.supported,
            self.agreeing,
            self.false_pass.len(),
            self.false_fail.len(),
            self.unsupported_reported,
            self.rejected
        );
        for case in &self.false_fail {
            println!("  false fail: {case}");
        }
    }

    /// One case: `expected_fail` from the suite, `flagged` by gitintent,
    /// `reported` as not evaluable (an error finding).
    fn add(&mut self, case: String, expected_fail: bool, flagged: bool, reported: bool) {
        if reported {
            self.unsupported_reported += 1;
            return;
        }
        self.supported += 1;
        match (expected_fail, flagged) {
            (true, false) => self.false_pass.push(case),
            (false, true) => self.false_fail.push(case),
            _ => self.agreeing += 1,
        }
    }
}

/// The policy documents of a Kyverno test, made enforcing, as one source.
fn enforcing(docs: Vec<Value>) -> String {
    let docs: Vec<String> = docs
        .into_iter()
        .map(|mut doc| {
            if let Some(spec) = doc.get_mut("spec").and_then(Value::as_object_mut) {
                if spec.contains_key("validationActions") {
                    spec.insert("validationActions".into(), json!(["Deny"]));
                } else {
                    spec.insert("validationFailureAction".into(), json!("Enforce"));
                }
                for rule in spec
                    .get_mut("rules")
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                {
                    if let Some(v) = rule.get_mut("validate").and_then(Value::as_object_mut) {
                        if v.contains_key("failureAction") {
                            v.insert("failureAction".into(), json!("Enforce"));
                        }
                    }
                }
            }
            doc.to_string()
        })
        .collect();
    docs.join("\n---\n")
}

fn unsupported(findings: &[Finding], resource: &str, rule: Option<&str>) -> bool {
    findings.iter().any(|f| {
        f.severity == Severity::Error
            && f.resource == resource
            && match f.rule.as_str() {
                "kyverno-unsupported" => rule.is_none_or(|r| f.message.contains(&format!("rule {r:?}"))),
                "policy-unsupported" | "gatekeeper-unsupported" => true,
                _ => false,
            }
    })
}

fn kyverno_case(test: &Path, counts: &mut Counts) {
    let dir = test.parent().unwrap();
    let spec = yaml(test).remove(0);
    let list = |key: &str| -> Vec<PathBuf> {
        spec.get(key)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(|p| dir.join(p)).collect())
            .unwrap_or_default()
    };
    let mut policy_docs = Vec::new();
    for p in list("policies") {
        policy_docs.extend(yaml(&p));
    }
    let kinds: BTreeMap<String, (String, Vec<Value>)> = policy_docs
        .iter()
        .filter_map(|d| {
            let name = d.pointer("/metadata/name")?.as_str()?.to_string();
            let kind = d.get("kind")?.as_str()?.to_string();
            let rules = d
                .pointer("/spec/rules")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            Some((name, (kind, rules)))
        })
        .collect();
    let results = spec
        .get("results")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let set =
        match PolicySet::empty().with_source(&format!("{}.yaml", test.display()), &enforcing(policy_docs)) {
            Ok(set) => set,
            Err(e) => {
                println!("  rejected {}: {e}", test.display());
                counts.rejected += results.len();
                return;
            }
        };
    let mut resources = Vec::new();
    for r in list("resources") {
        resources.extend(yaml(&r));
    }
    let docs: Vec<(Option<&str>, &Value)> = resources.iter().map(|d| (None, d)).collect();
    let findings = set.check_documents(&docs, &Settings::default());
    for result in results {
        let text = |k: &str| result.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let (policy, kind, verdict) = (text("policy"), text("kind"), text("result"));
        let rule = result.get("rule").and_then(Value::as_str);
        let base = rule.map(|r| {
            r.trim_start_matches("autogen-cronjob-")
                .trim_start_matches("autogen-")
        });
        let Some((policy_kind, rules)) = kinds.get(&policy) else {
            continue;
        };
        // Mutation and generation verdicts are not a gate's business.
        let validates = policy_kind.contains("Validating")
            || rules.iter().any(|r| {
                Some(r.get("name").and_then(Value::as_str).unwrap_or("")) == base
                    && r.get("validate").is_some()
            });
        if !validates || !matches!(verdict.as_str(), "pass" | "fail" | "skip") {
            continue;
        }
        let reported = unsupported(&findings, &format!("{policy_kind}/{policy}"), base);
        for name in result
            .get("resources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = name.as_str().unwrap_or("").rsplit('/').next().unwrap_or("");
            let resource = format!("{kind}/{name}");
            let flagged = findings.iter().any(|f| {
                f.resource == resource
                    && match base {
                        Some(r) => f.rule == format!("{policy}/{r}"),
                        None => f.rule.starts_with(&format!("{policy}/")),
                    }
            });
            let case = format!(
                "{} {policy}/{} {resource} expected {verdict}",
                dir.display(),
                base.unwrap_or("*")
            );
            counts.add(case, verdict == "fail", flagged, reported);
        }
    }
}

#[test]
fn kyverno_policies_suite_agrees_or_reports_what_it_cannot_evaluate() {
    let root = suites().join("kyverno-policies");
    let mut tests = Vec::new();
    find(&root, "kyverno-test.yaml", &mut tests);
    assert!(
        tests.len() >= 70,
        "kyverno-policies fixtures missing: {}",
        tests.len()
    );
    let mut counts = Counts::default();
    let mut by_suite: BTreeMap<String, Counts> = BTreeMap::new();
    for test in &tests {
        let suite = test.strip_prefix(&root).unwrap().iter().next().unwrap();
        let suite = suite.to_string_lossy().to_string();
        kyverno_case(test, by_suite.entry(suite).or_default());
    }
    for (suite, c) in by_suite {
        println!(
            "  {suite}: agreeing {}, false fail {}, unsupported-reported {}",
            c.agreeing,
            c.false_fail.len(),
            c.unsupported_reported
        );
        counts.supported += c.supported;
        counts.agreeing += c.agreeing;
        counts.false_pass.extend(c.false_pass);
        counts.false_fail.extend(c.false_fail);
        counts.unsupported_reported += c.unsupported_reported;
        counts.rejected += c.rejected;
    }
    counts.print("kyverno-policies");
    assert!(
        counts.false_pass.is_empty(),
        "false passes: {:#?}",
        counts.false_pass
    );
    assert!(
        counts.agreeing >= KYVERNO_AGREEING_FLOOR,
        "agreeing cases fell below the floor: {counts:?}"
    );
}

#[test]
fn kyverno_cel_suites_are_evaluated_and_agree() {
    for suite in CEL_SUITES {
        let mut tests = Vec::new();
        find(
            &suites().join("kyverno-policies").join(suite),
            "kyverno-test.yaml",
            &mut tests,
        );
        assert!(tests.len() >= 15, "{suite} fixtures missing: {}", tests.len());
    }
    let mut counts = Counts::default();
    for suite in CEL_SUITES {
        let mut tests = Vec::new();
        find(
            &suites().join("kyverno-policies").join(suite),
            "kyverno-test.yaml",
            &mut tests,
        );
        let mut own = Counts::default();
        for test in &tests {
            kyverno_case(test, &mut own);
        }
        own.print(suite);
        counts.supported += own.supported;
        counts.agreeing += own.agreeing;
        counts.false_pass.extend(own.false_pass);
        counts.false_fail.extend(own.false_fail);
        counts.unsupported_reported += own.unsupported_reported;
        counts.rejected += own.rejected;
    }
    assert!(
        counts.false_pass.is_empty(),
        "false passes: {:#?}",
        counts.false_pass
    );
    assert!(
        counts.supported >= KYVERNO_CEL_SUPPORTED_FLOOR && counts.agreeing >= KYVERNO_CEL_AGREEING_FLOOR,
        "CEL suites fell below the floor: {counts:?}"
    );
}

fn gatekeeper_suite(suite: &Path, counts: &mut Counts) {
    let dir = suite.parent().unwrap();
    let spec = yaml(suite).remove(0);
    for test in spec.get("tests").and_then(Value::as_array).into_iter().flatten() {
        let file = |k: &str| test.get(k).and_then(Value::as_str).map(|p| dir.join(p));
        let (Some(template), Some(constraint)) = (file("template"), file("constraint")) else {
            continue;
        };
        let cases = test
            .get("cases")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let load = |set: PolicySet, p: &Path| {
            set.with_source(&p.display().to_string(), &std::fs::read_to_string(p).unwrap())
        };
        let set = match load(PolicySet::empty(), &template).and_then(|s| load(s, &constraint)) {
            Ok(set) => set,
            Err(e) => {
                println!("  rejected {}: {e}", template.display());
                counts.rejected += cases.len();
                continue;
            }
        };
        let c = yaml(&constraint).remove(0);
        let rule = format!(
            "{}/{}",
            c["kind"].as_str().unwrap_or(""),
            c.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("")
        );
        for case in cases {
            gatekeeper_case(dir, &set, &rule, &case, counts);
        }
    }
}

fn gatekeeper_case(dir: &Path, set: &PolicySet, rule: &str, case: &Value, counts: &mut Counts) {
    let Some(object) = case.get("object").and_then(Value::as_str) else {
        return;
    };
    let objects = yaml(&dir.join(object));
    let Some(object) = objects.first() else {
        return;
    };
    let mut inventory = Vec::new();
    for p in case
        .get("inventory")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        inventory.extend(yaml(&dir.join(p.as_str().unwrap_or(""))));
    }
    let mut docs: Vec<(Option<&str>, &Value)> = vec![(Some("object"), object)];
    docs.extend(inventory.iter().map(|d| (None, d)));
    let findings = set.check_documents(&docs, &Settings::default());
    // The library's samples satisfy their templates' parameters schemas.
    let invalid: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.rule == "gatekeeper-invalid")
        .collect();
    assert!(invalid.is_empty(), "{invalid:#?}");
    let hits = findings
        .iter()
        .filter(|f| f.file.as_deref() == Some("object") && f.rule == rule)
        .count();
    let reported = unsupported(&findings, rule, None);
    for assertion in case
        .get("assertions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if assertion.get("message").is_some() {
            continue; // counts of one message: the total is asserted separately
        }
        let expected = match assertion.get("violations") {
            Some(Value::String(s)) if s.trim() == "yes" => None,
            Some(Value::String(s)) if s.trim() == "no" => Some(0),
            Some(Value::Bool(b)) => {
                if *b {
                    None
                } else {
                    Some(0)
                }
            }
            Some(Value::Number(n)) => n.as_u64().map(|n| n as usize),
            _ => continue,
        };
        let messages: Vec<&str> = findings
            .iter()
            .filter(|f| f.file.as_deref() == Some("object") && f.rule == rule)
            .map(|f| f.message.as_str())
            .collect();
        let name = format!(
            "{} {rule} {} {messages:?}",
            dir.display(),
            case["name"].as_str().unwrap_or("")
        );
        // A wrong count of violations (some, but not as many) is a false fail.
        let (expected_fail, flagged) = match expected {
            None => (true, hits > 0),
            Some(n) if hits == 0 || hits == n => (n > 0, hits > 0),
            Some(_) => (false, true),
        };
        counts.add(name, expected_fail, flagged, reported);
    }
}

#[test]
fn gatekeeper_library_suite_agrees_or_reports_what_it_cannot_evaluate() {
    let root = suites().join("gatekeeper-library/library/general");
    let mut suites = Vec::new();
    find(&root, "suite.yaml", &mut suites);
    assert!(
        suites.len() >= 25,
        "gatekeeper-library fixtures missing: {}",
        suites.len()
    );
    let mut counts = Counts::default();
    for suite in &suites {
        gatekeeper_suite(suite, &mut counts);
    }
    counts.print("gatekeeper-library");
    assert!(
        counts.false_pass.is_empty(),
        "false passes: {:#?}",
        counts.false_pass
    );
    assert!(
        counts.agreeing >= GATEKEEPER_AGREEING_FLOOR,
        "agreeing cases fell below the floor: {counts:?}"
    );
}
