//! Assertions: a case's expectations against a plan (or a planning error).

use serde_json::Value;

use super::case::Expect;
use crate::pipeline::Plan;

/// The failed assertions of one case; empty when it passed.
pub(super) fn check(expect: &Expect, result: &Result<Plan, String>) -> Vec<String> {
    let plan = match (result, expect.rejected) {
        (Err(message), true) => return rejection(expect, message),
        (Err(message), false) => return vec![format!("planning failed: {message}")],
        (Ok(plan), true) => {
            let mut fails = vec!["expected a rejection, got a plan".to_string()];
            fails.extend(forbidden(plan, &expect.forbidden_strings));
            return fails;
        }
        (Ok(plan), false) => plan,
    };
    let (res, mut fails) = resources(plan);
    for k in &expect.kinds {
        if !res.iter().any(|(id, _)| same(id, k)) {
            fails.push(format!("missing {k}"));
        }
    }
    fails.extend(files(expect, plan));
    for k in &expect.absent_kinds {
        if res.iter().any(|(id, _)| same(id, k)) {
            fails.push(format!("unexpected {k}"));
        }
    }
    fails.extend(fields(expect, &res));
    fails.extend(forbidden(plan, &expect.forbidden_strings));
    fails.extend(notes_and_findings(expect, plan));
    fails.extend(notes(expect, &plan.spec));
    fails.extend(too_many_errors(expect, plan));
    fails
}

/// The files a plan must render, edit in place, or remove.
fn files(expect: &Expect, plan: &Plan) -> Vec<String> {
    let mut fails = Vec::new();
    for path in &expect.files {
        if !plan.files.iter().any(|f| &f.path == path) {
            fails.push(format!("file {path} was not rendered"));
        }
    }
    for path in &expect.modified {
        if !plan.in_place.changed.contains(path) || !plan.files.iter().any(|f| &f.path == path) {
            fails.push(format!("file {path} was not edited in place"));
        }
    }
    for path in &expect.deleted {
        if !plan.in_place.deleted.contains(path) {
            fails.push(format!("file {path} was not removed"));
        }
    }
    fails
}

/// The fields of resources (`res`: id and document) that must equal a value
/// or match a pattern.
fn fields(expect: &Expect, res: &[(String, Value)]) -> Vec<String> {
    let mut fails = Vec::new();
    for f in &expect.fields {
        let Some((_, doc)) = res.iter().find(|(id, _)| id == &f.resource) else {
            fails.push(format!("{}: no such resource", f.resource));
            continue;
        };
        let got = lookup(doc, &f.path);
        let shown = got.map_or_else(|| "nothing".to_string(), ToString::to_string);
        if let Some(want) = &f.equals {
            if got != Some(want) {
                fails.push(format!("{} {}: want {want}, got {shown}", f.resource, f.path));
            }
        }
        if let Some(pattern) = &f.matches {
            let text = got.map(|v| v.as_str().map_or_else(|| v.to_string(), String::from));
            if !text.is_some_and(|t| matches(pattern, &t)) {
                fails.push(format!(
                    "{} {}: {shown} does not match {pattern:?}",
                    f.resource, f.path
                ));
            }
        }
    }
    fails
}

/// More error findings than the case allows.
fn too_many_errors(expect: &Expect, plan: &Plan) -> Option<String> {
    let max = expect.max_error_findings?;
    let errors: Vec<String> = plan
        .findings
        .iter()
        .filter(|f| f.is_error())
        .map(ToString::to_string)
        .collect();
    (errors.len() > max).then(|| format!("{} error findings > {max}: {}", errors.len(), errors.join("; ")))
}

/// The finding rules and the assumptions or questions a plan must carry.
fn notes_and_findings(expect: &Expect, plan: &Plan) -> Vec<String> {
    let mut fails = Vec::new();
    for rule in &expect.findings {
        if !plan.findings.iter().any(|f| &f.rule == rule) {
            fails.push(format!("no {rule} finding"));
        }
    }
    let notes: Vec<&String> = plan.spec.assumptions.iter().chain(&plan.spec.questions).collect();
    for pattern in &expect.notes {
        if !notes.iter().any(|n| matches(pattern, n)) {
            fails.push(format!(
                "no assumption or question matches {pattern:?}: {notes:?}"
            ));
        }
    }
    fails
}

/// What the spec says it did not do, assumed and asks, against the case.
fn notes(expect: &Expect, spec: &crate::spec::Spec) -> Vec<String> {
    let mut fails = Vec::new();
    let not_done: Vec<String> = spec
        .unsupported
        .iter()
        .map(|u| format!("{}: {}", u.phrase, u.reason))
        .collect();
    for (what, patterns, list) in [
        ("unsupported", &expect.unsupported, &not_done),
        ("assumptions", &expect.assumptions, &spec.assumptions),
        ("questions", &expect.questions, &spec.questions),
    ] {
        for p in patterns {
            if !list.iter().any(|s| matches(p, s)) {
                fails.push(format!("no entry of {what} matches {p:?}: {list:?}"));
            }
        }
    }
    if let Some(max) = expect.max_unsupported {
        if not_done.len() > max {
            fails.push(format!(
                "{} unsupported entries > {max}: {not_done:?}",
                not_done.len()
            ));
        }
    }
    fails
}

fn rejection(expect: &Expect, message: &str) -> Vec<String> {
    match &expect.error_matches {
        Some(pattern) if !matches(pattern, message) => vec![format!(
            "rejected, but the error does not match {pattern:?}: {message}"
        )],
        _ => Vec::new(),
    }
}

/// `Kind/name` equals `want`, or `want` is a bare kind and the kinds match.
fn same(id: &str, want: &str) -> bool {
    id == want || (!want.contains('/') && id.split('/').next() == Some(want))
}

/// Patterns were compiled once at load time; a failure here cannot happen
/// for loaded cases and counts as no match.
fn matches(pattern: &str, text: &str) -> bool {
    regex_lite::Regex::new(pattern).is_ok_and(|re| re.is_match(text))
}

/// Rendered resources by `Kind/name` (kustomizations left out), and a
/// failure for any file that does not parse.
fn resources(plan: &Plan) -> (Vec<(String, Value)>, Vec<String>) {
    let mut out = Vec::new();
    let mut fails = Vec::new();
    for file in &plan.files {
        match crate::yaml::manifest_values(&file.content) {
            Ok(docs) => out.extend(
                docs.into_iter()
                    .filter(|d| d["kind"] != "Kustomization")
                    .map(|d| {
                        let id = format!(
                            "{}/{}",
                            d["kind"].as_str().unwrap_or(""),
                            d["metadata"]["name"].as_str().unwrap_or("")
                        );
                        (id, d)
                    }),
            ),
            Err(e) => fails.push(format!("{} is not YAML: {e}", file.path)),
        }
    }
    (out, fails)
}

/// The value at a dotted path; `\\.` is a literal dot inside a key
/// (`metadata.labels.app\\.kubernetes\\.io/name`).
fn lookup<'a>(value: &'a Value, dotted: &str) -> Option<&'a Value> {
    const DOT: char = '\u{0}';
    let escaped = dotted.replace("\\.", &DOT.to_string());
    escaped.split('.').try_fold(value, |v, key| {
        let key = key.replace(DOT, ".");
        match key.parse::<usize>() {
            Ok(i) if v.is_array() => v.get(i),
            _ => v.get(key.as_str()),
        }
    })
}

/// Forbidden strings found in the spec, the files or the echoed intent.
fn forbidden(plan: &Plan, strings: &[String]) -> Vec<String> {
    let spec = serde_json::to_string(&plan.spec).unwrap_or_default();
    strings
        .iter()
        .filter(|s| {
            spec.contains(s.as_str())
                || plan.intent.contains(s.as_str())
                || plan.files.iter().any(|f| f.content.contains(s.as_str()))
        })
        .map(|s| format!("forbidden string {s:?} appears in the output"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lookup_walks_objects_and_list_indexes() {
        let doc = json!({"spec": {"containers": [{"image": "redis:7"}], "0": "key"}});
        assert_eq!(lookup(&doc, "spec.containers.0.image"), Some(&json!("redis:7")));
        assert_eq!(lookup(&doc, "spec.0"), Some(&json!("key")));
        assert_eq!(lookup(&doc, "spec.containers.1.image"), None);
        let labels = json!({"metadata": {"labels": {"app.kubernetes.io/name": "web"}}});
        assert_eq!(
            lookup(&labels, "metadata.labels.app\\.kubernetes\\.io/name"),
            Some(&json!("web"))
        );
    }

    #[test]
    fn a_bare_kind_matches_any_name() {
        assert!(same("Service/redis", "Service"));
        assert!(same("Service/redis", "Service/redis"));
        assert!(!same("Service/redis-headless", "Service/redis"));
        assert!(!same("ServiceAccount/redis", "Service"));
    }

    #[test]
    fn a_rejection_can_say_which() {
        let expect = Expect {
            rejected: true,
            error_matches: Some("(?i)empty".into()),
            ..Expect::default()
        };
        assert!(check(&expect, &Err("the intent is empty".into())).is_empty());
        let fails = check(&expect, &Err("not understood".into()));
        assert!(fails[0].contains("does not match"), "{fails:?}");
        let plain = Expect::default();
        assert_eq!(check(&plain, &Err("boom".into())), ["planning failed: boom"]);
    }
}
