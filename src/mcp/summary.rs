//! The text half of a tool result: a short summary for people and models
//! that read text, in front of the structured JSON. A plan with open
//! questions says so first.

use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::Value;

/// A successful result: summary text, the JSON as text, and `structuredContent`.
pub(crate) fn result(tool: &str, value: Value) -> CallToolResult {
    let text = match tool {
        "plan" => plan(&value),
        "validate" => validate(&value),
        "list_workloads" => workloads(&value),
        "drift" => format!("Drift report: {}", value["summary"]),
        "propose" => propose(&value),
        _ => String::new(),
    };
    with_text(text, value)
}

/// A plan's result with a line on what the person was asked (after the
/// open questions, before the plan's summary).
pub(crate) fn plan_result(value: Value, note: &str) -> CallToolResult {
    with_text(plan_with(&value, Some(note)), value)
}

fn with_text(text: String, value: Value) -> CallToolResult {
    let json = serde_json::to_string(&value).unwrap_or_default();
    let mut result = CallToolResult::success(vec![ContentBlock::text(text), ContentBlock::text(json)]);
    result.structured_content = Some(value);
    result
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn plan(v: &Value) -> String {
    plan_with(v, None)
}

fn plan_with(v: &Value, note: Option<&str>) -> String {
    let mut lines = Vec::new();
    let questions = strings(&v["spec"]["questions"]);
    if !questions.is_empty() {
        lines.push(format!(
            "This plan has {} open question(s); ask the person, then plan again with the answers in the intent:",
            questions.len()
        ));
        lines.extend(questions.iter().map(|q| format!("  - {q}")));
    }
    let unsupported = v["spec"]["unsupported"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if !unsupported.is_empty() {
        lines.push(format!(
            "This plan does not do {} part(s) of the request (the spec cannot express them):",
            unsupported.len()
        ));
        lines.extend(unsupported.iter().map(|u| {
            format!(
                "  - \"{}\": {}",
                u["phrase"].as_str().unwrap_or_default(),
                u["reason"].as_str().unwrap_or_default()
            )
        }));
    }
    lines.extend(note.map(str::to_string));
    let findings = v["findings"].as_array().map(Vec::as_slice).unwrap_or_default();
    let errors = findings.iter().filter(|f| f["severity"] == "error").count();
    let files: Vec<&str> = v["files"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["path"].as_str()).collect())
        .unwrap_or_default();
    lines.push(format!(
        "Plan {} for repository {} ({}): {} file(s) [{}], {} finding(s), {} error(s){}.",
        v["id"].as_str().unwrap_or_default(),
        v["repo"].as_str().unwrap_or_default(),
        v["environment"].as_str().unwrap_or("no environment"),
        files.len(),
        files.join(", "),
        findings.len(),
        errors,
        if errors > 0 {
            "; it cannot be proposed until they are fixed"
        } else {
            ""
        },
    ));
    for f in findings.iter().filter(|f| f["severity"] == "error").take(5) {
        lines.push(format!("  error: {}", f["message"].as_str().unwrap_or_default()));
    }
    lines.join("\n")
}

fn validate(v: &Value) -> String {
    let findings = v["findings"].as_array().map(Vec::len).unwrap_or_default();
    let verdict = if v["valid"] == Value::Bool(true) {
        "valid"
    } else {
        "invalid"
    };
    format!("The manifests are {verdict}: {findings} finding(s).")
}

fn workloads(v: &Value) -> String {
    let list = v["workloads"].as_array().map(Vec::as_slice).unwrap_or_default();
    let mut lines = vec![format!(
        "{} workload(s) in repository {}:",
        list.len(),
        v["repo"].as_str().unwrap_or_default()
    )];
    lines.extend(list.iter().map(|w| {
        format!(
            "  {} {}/{} in {} ({})",
            w["kind"].as_str().unwrap_or_default(),
            w["namespace"].as_str().unwrap_or_default(),
            w["name"].as_str().unwrap_or_default(),
            strings(&w["environments"]).join(", "),
            w["path"].as_str().unwrap_or_default()
        )
    }));
    lines.join("\n")
}

fn propose(v: &Value) -> String {
    let p = &v["proposal"];
    let mut text = format!(
        "Plan {} proposed on branch {}.",
        v["id"].as_str().unwrap_or_default(),
        p["branch"].as_str().unwrap_or_default()
    );
    if let Some(url) = p["pull_request"]["url"].as_str() {
        text.push_str(&format!(" Pull request: {url}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn open_questions_come_first() {
        let v = json!({"id": "pl_1", "repo": "r", "environment": "staging",
            "spec": {"questions": ["Which port does it listen on?"]},
            "files": [{"path": "apps/web/deployment.yaml"}], "findings": []});
        let text = plan(&v);
        assert!(text.starts_with("This plan has 1 open question"), "{text}");
        assert!(text.contains("apps/web/deployment.yaml"), "{text}");
        let result = result("plan", v.clone());
        assert_eq!(result.structured_content, Some(v));
        assert_eq!(result.is_error, Some(false));
    }

    #[test]
    fn a_note_on_the_questions_follows_them() {
        let v = json!({"id": "pl_1", "repo": "r", "environment": null,
            "spec": {"questions": ["which environment is this for?"]}, "files": [], "findings": []});
        let result = plan_result(v, "The person declined to answer.");
        let text = result.content[0].as_text().unwrap().text.clone();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("This plan has 1 open question"), "{text}");
        assert_eq!(lines[2], "The person declined to answer.", "{text}");
        assert!(lines[3].starts_with("Plan pl_1"), "{text}");
    }

    #[test]
    fn what_the_plan_does_not_do_is_said() {
        let v = json!({"id": "pl_2", "repo": "r", "environment": "staging",
            "spec": {"questions": [], "unsupported": [{"phrase": "a read replica", "reason": "use CloudNativePG"}]},
            "files": [], "findings": []});
        let text = plan(&v);
        assert!(text.starts_with("This plan does not do 1 part(s)"), "{text}");
        assert!(text.contains("\"a read replica\": use CloudNativePG"), "{text}");
    }
}
