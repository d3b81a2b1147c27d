//! Rego policies through regorus, conftest style.
//!
//! A [`Rego`] holds one compiled engine. Sources are parsed as Rego v1
//! (`deny contains msg if { ... }`); a file that does not parse as v1 but
//! does as v0 (`deny[msg] { ... }`, what conftest users have written for
//! years) is loaded as v0.
//! A file that parses as neither is an [`Error::Rego`] with file, line and
//! column, and nothing is loaded.
//!
//! Evaluation follows conftest: each document is `input`; in every package
//! asked for, `deny` and `violation` give errors and `warn` gives warnings.
//! A result is either a message string or an object
//! `{msg, rule?, path?, severity?}`. Settings and cross-resource facts are
//! `data.gitintent`.
//!
//! It does not run `opa test` style unit tests, `exception` rules or
//! conftest's `--combine` mode.

use regorus::{Engine, Value};

use super::Error;
use crate::finding::Severity;

/// One raw result of a rule, before it becomes a [`crate::Finding`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Hit {
    pub(crate) severity: Severity,
    pub(crate) rule: String,
    pub(crate) path: String,
    pub(crate) message: String,
}

/// A compiled set of Rego modules.
#[derive(Clone)]
pub(crate) struct Rego {
    engine: Engine,
    /// Every package loaded, without the `data.` prefix, e.g. `main`.
    packages: Vec<String>,
    /// `(package, file)` of every module that defines `deny`, `violation`
    /// or `warn`: the packages that make findings when selected.
    ruled: Vec<(String, String)>,
}

/// A package that defines `kind_findings`: `{"deny": …, "warn": …}` from
/// only the rules that can apply to the input's kind (see `policies/lib.rego`).
const COMBINED_PACKAGE: &str = "gitintent.builtin";
const COMBINED_RULE: &str = "data.gitintent.builtin.kind_findings";

/// Rule names that make findings, with the severity they default to.
const RULES: [(&str, Severity); 3] = [
    ("deny", Severity::Error),
    ("violation", Severity::Error),
    ("warn", Severity::Warning),
];

impl Rego {
    pub(crate) fn new() -> Rego {
        Rego {
            engine: Engine::new(),
            packages: Vec::new(),
            ruled: Vec::new(),
        }
    }

    /// True when no module has been added.
    pub(crate) fn is_empty(&self) -> bool {
        self.packages.is_empty()
    }

    /// Parses and adds one module; on error the set is unchanged.
    pub(crate) fn add(&mut self, file: &str, text: &str) -> Result<(), Error> {
        // Parse in a scratch engine first so that a failure cannot leave a
        // half-loaded module behind, and so that v0 and v1 can both be tried.
        // v1 first: v0 rule bodies without `if` do not parse as v1, while a
        // v1 file parsed as v0 would silently read `if` as an identifier.
        let as_v0 = match try_parse(file, text, false) {
            Ok(()) => false,
            Err(e1) => match try_parse(file, text, true) {
                Ok(()) => true,
                Err(e0) => {
                    // Report the error of the dialect the file seems to be written in.
                    // Comments are left out: "# allow if ..." says nothing.
                    let code: String = text
                        .lines()
                        .map(|l| l.split('#').next().unwrap_or(""))
                        .collect::<Vec<_>>()
                        .join("\n");
                    let looks_v1 =
                        code.contains(" if ") || code.contains(" contains ") || code.contains(" if{");
                    return Err(parse_error(file, if looks_v1 { &e1 } else { &e0 }));
                }
            },
        };
        self.engine.set_rego_v0(as_v0);
        let package = self
            .engine
            .add_policy(file.to_string(), text.to_string())
            .map_err(|e| parse_error(file, &e))?;
        let package = package.strip_prefix("data.").unwrap_or(&package).to_string();
        let defines_rules = text.lines().any(|l| {
            RULES.iter().any(|(rule, _)| {
                l.strip_prefix(rule)
                    .is_some_and(|rest| rest.starts_with([' ', '[', '{', ':']))
            })
        });
        if defines_rules {
            self.ruled.push((package.clone(), file.to_string()));
        }
        if !self.packages.contains(&package) {
            self.packages.push(package);
        }
        Ok(())
    }

    /// `(package, file)` of the modules defining `deny`/`violation`/`warn`.
    pub(crate) fn ruled(&self) -> &[(String, String)] {
        &self.ruled
    }

    /// Packages loaded, e.g. `main`, `kubernetes.security`.
    pub(crate) fn packages(&self) -> &[String] {
        &self.packages
    }

    /// An engine ready for one batch of documents: `data` from [`batch_data`].
    pub(crate) fn session(&self, data: &Value) -> Session {
        let mut engine = self.engine.clone();
        // Adding data can only fail on a non-object or a conflict; both are
        // impossible for a fresh `{gitintent: ...}` object.
        let _ = engine.add_data(data.clone());
        Session {
            engine,
            undefined: Vec::new(),
        }
    }
}

/// `data` for [`Rego::session`]: `{"gitintent": facts}`, converted once per
/// batch and shared by every session of it.
pub(crate) fn batch_data(facts: &serde_json::Value) -> Value {
    let mut root = serde_json::Map::new();
    root.insert("gitintent".to_string(), facts.clone());
    Value::from(serde_json::Value::Object(root))
}

/// One resource as Rego `input`, read from the borrowed document (no
/// clone first); `Undefined` where `Value::from` would give it.
pub(crate) fn input(doc: &serde_json::Value) -> Value {
    serde::Deserialize::deserialize(doc).unwrap_or(Value::Undefined)
}

/// A cloned engine with the batch's data, evaluated once per document.
pub(crate) struct Session {
    engine: Engine,
    /// Queries found undefined once; not asked again.
    undefined: Vec<String>,
}

impl Session {
    /// Evaluates `deny`, `violation` and `warn` of each package in
    /// `packages` against one document.
    pub(crate) fn eval(&mut self, input: Value, packages: &[String]) -> Vec<Hit> {
        self.engine.set_input(input);
        let mut hits = Vec::new();
        for package in packages {
            if package == COMBINED_PACKAGE {
                // The built-in pack: one evaluation for deny and warn.
                let combined = self.engine.eval_rule(COMBINED_RULE.to_string());
                // In unit tests, the kind dispatch must agree with the union of every rule.
                #[cfg(test)]
                if let Ok(value) = &combined {
                    let all = self.engine.eval_rule(format!("data.{package}.findings"));
                    assert_eq!(
                        Some(value),
                        all.as_ref().ok(),
                        "kind_findings and findings differ"
                    );
                }
                if let Ok(Value::Object(o)) = combined {
                    for (rule, severity) in RULES {
                        if let Some(v) = o.get(&Value::from(rule)) {
                            collect(v, package, severity, &mut hits);
                        }
                    }
                    continue;
                }
            }
            for (rule, severity) in RULES {
                let query = format!("data.{package}.{rule}");
                if self.undefined.contains(&query) {
                    continue;
                }
                let value = match self.engine.eval_rule(query.clone()) {
                    Ok(v) => v,
                    Err(e) => {
                        // A rule that is not defined is no finding; a rule
                        // that fails at run time is one, never a silent pass.
                        let text = e.to_string();
                        if is_undefined_rule(&text) {
                            self.undefined.push(query);
                            continue;
                        }
                        hits.push(Hit {
                            severity: Severity::Error,
                            rule: format!("{package}.{rule}"),
                            path: String::new(),
                            message: format!("policy evaluation failed: {}", last_line(&text)),
                        });
                        continue;
                    }
                };
                collect(&value, package, severity, &mut hits);
            }
        }
        hits
    }
}

impl Session {
    /// Evaluates one rule (e.g. a Gatekeeper `violation` set) against
    /// `input`: the `msg` of each result (or the result itself as text).
    /// An undefined rule gives nothing; a run-time error is `Err`.
    pub(crate) fn query(&mut self, input: Value, rule: &str) -> Result<Vec<String>, String> {
        self.engine.set_input(input);
        let value = match self.engine.eval_rule(rule.to_string()) {
            Ok(v) => v,
            Err(e) => {
                let text = e.to_string();
                if is_undefined_rule(&text) {
                    return Ok(Vec::new());
                }
                return Err(last_line(&text).to_string());
            }
        };
        let mut hits = Vec::new();
        collect(&value, "", Severity::Error, &mut hits);
        Ok(hits.into_iter().map(|h| h.message).collect())
    }
}

fn is_undefined_rule(text: &str) -> bool {
    text.contains("not a valid rule path") || text.contains("undefined") || text.contains("not found")
}

fn collect(value: &Value, package: &str, severity: Severity, hits: &mut Vec<Hit>) {
    let items: Vec<&Value> = match value {
        Value::Set(s) => s.iter().collect(),
        Value::Array(a) => a.iter().collect(),
        Value::Undefined | Value::Null => return,
        Value::Bool(false) => return,
        other => vec![other],
    };
    for item in items {
        hits.push(hit(item, package, severity));
    }
}

fn hit(item: &Value, package: &str, severity: Severity) -> Hit {
    let json = serde_json::to_value(item).unwrap_or(serde_json::Value::Null);
    let text = |key: &str| json.get(key).and_then(|v| v.as_str()).map(str::to_string);
    match &json {
        serde_json::Value::String(s) => Hit {
            severity,
            rule: package.to_string(),
            path: String::new(),
            message: s.clone(),
        },
        serde_json::Value::Object(_) => Hit {
            severity: match text("severity")
                .as_deref()
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                Some("error") | Some("deny") | Some("violation") => Severity::Error,
                Some("warning") | Some("warn") => Severity::Warning,
                Some("info") => Severity::Info,
                _ => severity,
            },
            rule: text("rule").unwrap_or_else(|| package.to_string()),
            path: text("path").unwrap_or_default(),
            message: text("msg")
                .or_else(|| text("message"))
                .unwrap_or_else(|| json.to_string()),
        },
        other => Hit {
            severity,
            rule: package.to_string(),
            path: String::new(),
            message: other.to_string(),
        },
    }
}

fn try_parse(file: &str, text: &str, v0: bool) -> Result<(), anyhow::Error> {
    let mut scratch = Engine::new();
    scratch.set_rego_v0(v0);
    scratch.add_policy(file.to_string(), text.to_string()).map(|_| ())
}

/// Turns regorus's `--> file:line:col ... error: msg` into [`Error::Rego`].
fn parse_error(file: &str, err: &anyhow::Error) -> Error {
    let text = err.to_string();
    let (line, column) = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("--> "))
        .and_then(|loc| {
            let mut parts = loc.rsplitn(3, ':');
            let col = parts.next()?.trim().parse().ok()?;
            let line = parts.next()?.trim().parse().ok()?;
            Some((line, col))
        })
        .unwrap_or((0, 0));
    Error::Rego {
        file: file.to_string(),
        line,
        column,
        message: last_line(&text).to_string(),
    }
}

fn last_line(text: &str) -> &str {
    let line = text.trim().lines().last().unwrap_or("").trim();
    line.strip_prefix("error: ").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(rego: &Rego, input: serde_json::Value) -> Vec<Hit> {
        let packages = rego.packages().to_vec();
        rego.session(&batch_data(&serde_json::json!({})))
            .eval(Value::from(input), &packages)
    }

    #[test]
    fn v0_and_v1_policies_both_load() {
        let mut rego = Rego::new();
        rego.add(
            "v0.rego",
            "package main\n\ndeny[msg] {\n  input.kind == \"Pod\"\n  msg := \"no pods\"\n}\n",
        )
        .unwrap();
        rego.add(
            "v1.rego",
            "package other\n\nwarn contains msg if {\n  input.kind == \"Pod\"\n  msg := \"careful\"\n}\n",
        )
        .unwrap();
        let hits = eval(&rego, serde_json::json!({"kind": "Pod"}));
        assert_eq!(hits.len(), 2, "{hits:?}");
        assert_eq!(
            hits[0],
            Hit {
                severity: Severity::Error,
                rule: "main".into(),
                path: String::new(),
                message: "no pods".into()
            }
        );
        assert_eq!(hits[1].severity, Severity::Warning);
        assert_eq!(hits[1].rule, "other");
    }

    #[test]
    fn object_results_carry_rule_path_and_severity() {
        let mut rego = Rego::new();
        let text = "package main\nimport rego.v1\nviolation contains {\"msg\": \"m\", \"rule\": \"r1\", \"path\": \"/spec\", \"severity\": \"warning\"} if input.x\n";
        rego.add("o.rego", text).unwrap();
        let hits = eval(&rego, serde_json::json!({"x": true}));
        assert_eq!(
            hits,
            vec![Hit {
                severity: Severity::Warning,
                rule: "r1".into(),
                path: "/spec".into(),
                message: "m".into()
            }]
        );
        assert!(eval(&rego, serde_json::json!({"x": false})).is_empty());
    }

    #[test]
    fn bad_rego_names_file_line_and_column() {
        let mut rego = Rego::new();
        let err = rego
            .add(
                "policies/bad.rego",
                "package main\n\ndeny[msg] {\n  input.kind == \n}\n",
            )
            .unwrap_err();
        match &err {
            Error::Rego {
                file, line, column, ..
            } => {
                assert_eq!(file, "policies/bad.rego");
                assert_eq!(*line, 3, "{err}");
                assert!(*column > 0, "{err}");
            }
            other => panic!("{other:?}"),
        }
        assert!(rego.is_empty());
    }
}
