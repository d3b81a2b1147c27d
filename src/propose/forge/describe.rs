//! The words of a proposal: its summary line and its pull request body (markdown).

use crate::finding::Finding;
use crate::propose::DiffStats;
use crate::spec::{Change, Operation, Spec};

/// One line naming what the spec adds and where: `Add redis to production`.
pub fn summary(spec: &Spec) -> String {
    let list = |names: &[&str]| match names {
        [] => "nothing".to_string(),
        [one] => one.to_string(),
        [first @ .., last] if names.len() <= 3 => format!("{} and {last}", first.join(", ")),
        [a, b, rest @ ..] => format!("{a}, {b} and {} more", rest.len()),
    };
    let names: Vec<&str> = spec.components.iter().map(|c| c.name.as_str()).collect();
    let mut parts: Vec<String> = Vec::new();
    if !names.is_empty() || spec.changes.is_empty() {
        parts.push(format!("add {}", list(&names)));
    }
    match spec.changes.as_slice() {
        [] => {}
        [one] => parts.push(describe_change(one)),
        many => {
            for op in [Operation::Update, Operation::Delete, Operation::Promote] {
                let names: Vec<&str> = many
                    .iter()
                    .filter(|c| c.operation == op)
                    .map(|c| c.target.as_str())
                    .collect();
                if !names.is_empty() {
                    let verb = match op {
                        Operation::Update => "change",
                        Operation::Delete => "remove",
                        Operation::Promote => "promote",
                    };
                    parts.push(format!("{verb} {}", list(&names)));
                }
            }
        }
    }
    let preposition = if spec.changes.is_empty() { "to" } else { "in" };
    let text = format!("{} {preposition} {}", parts.join(", "), spec.environment);
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or(text)
}

/// One line for a change: `scale api to 5`, `update api to acme/api:2`,
/// `remove memcached`.
pub fn describe_change(change: &Change) -> String {
    let target = &change.target;
    if let Some(p) = change
        .promote
        .as_ref()
        .filter(|_| change.operation == Operation::Promote)
    {
        let what: Vec<&str> = p.fields.iter().map(|f| f.as_str()).collect();
        let whom = if target == crate::spec::EVERY {
            "every workload"
        } else {
            target.as_str()
        };
        return format!("promote {whom} ({}) from {}", what.join(", "), p.from);
    }
    let Some(set) = change
        .set
        .as_ref()
        .filter(|_| change.operation == Operation::Update)
    else {
        return format!("remove {target}");
    };
    let mut what: Vec<String> = Vec::new();
    if let Some(r) = set.replicas {
        what.push(format!("scale {target} to {r}"));
    }
    if let Some(image) = &set.image {
        what.push(format!("update {target} to {image}"));
    }
    if set.resources.is_some() {
        what.push(format!("resize {target}"));
    }
    if let Some(e) = &set.exposure {
        what.push(format!("expose {target} at {}", e.host.as_deref().unwrap_or("*")));
    }
    if what.is_empty() {
        format!("change {target}")
    } else {
        what.join(", ")
    }
}

/// The pull request body: intent, spec summary, the environments each change of an
/// existing workload reaches, assumptions, questions, findings table, and diff stats.
/// Every user-supplied string is escaped for markdown tables or quoted.
pub fn body(
    intent: &str,
    spec: &Spec,
    operations: &[crate::change::Applied],
    findings: &[Finding],
    stats: &DiffStats,
) -> String {
    let mut out = String::new();
    out.push_str("## Intent\n\n");
    for line in intent.lines() {
        out.push_str(&format!("> {line}\n"));
    }
    spec_section(&mut out, spec);
    if !operations.is_empty() {
        reach_section(&mut out, operations);
    }
    notes_sections(&mut out, spec);
    findings_section(&mut out, findings);
    out.push_str(&format!(
        "\n## Changes\n\n{} file(s) added, {} modified; +{} −{} lines.\n\n\
         <sub>Proposed by gitintent. Review the spec first: the manifests are rendered from it.</sub>\n",
        stats.files_added, stats.files_modified, stats.insertions, stats.deletions
    ));
    out
}

/// `## Spec`: environment, namespace, one line per component and per change.
fn spec_section(out: &mut String, spec: &Spec) {
    out.push_str(&format!(
        "\n## Spec\n\n- environment: `{}`\n- namespace: `{}`\n",
        code(&spec.environment),
        code(&spec.namespace)
    ));
    for c in &spec.components {
        let replicas = c.replicas.map(|r| format!(", {r} replicas")).unwrap_or_default();
        out.push_str(&format!("- `{}`: {}{replicas}\n", code(&c.name), c.archetype));
    }
    for c in &spec.changes {
        out.push_str(&format!(
            "- {} `{}`: {}\n",
            c.operation,
            code(&c.target),
            code(&describe_change(c))
        ));
    }
}

/// `## Reach`: the environments and files each change of an existing workload reaches.
fn reach_section(out: &mut String, operations: &[crate::change::Applied]) {
    out.push_str("\n## Reach\n\n");
    for op in operations {
        let reach = op.reach_label();
        out.push_str(&format!(
            "- {} `{}`: reaches {} (files: {})\n",
            op.operation,
            code(&op.target),
            code(&reach),
            op.paths
                .iter()
                .map(|p| format!("`{}`", code(p)))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
}

/// `## Assumptions`, `## Questions` and `## Not done`, each only when it has items.
fn notes_sections(out: &mut String, spec: &Spec) {
    for (title, items) in [("Assumptions", &spec.assumptions), ("Questions", &spec.questions)] {
        if !items.is_empty() {
            out.push_str(&format!("\n## {title}\n\n"));
            for item in items {
                out.push_str(&format!("- {}\n", item.replace('\n', " ")));
            }
        }
    }
    if !spec.unsupported.is_empty() {
        out.push_str("\n## Not done\n\nThe intent asks for these, but the spec cannot express them; this pull request does not do them.\n\n");
        for u in &spec.unsupported {
            out.push_str(&format!(
                "- `{}`: {}\n",
                code(&u.phrase.replace('\n', " ")),
                u.reason.replace('\n', " ")
            ));
        }
    }
}

/// `## Findings`: a table of every finding, or `None.`
fn findings_section(out: &mut String, findings: &[Finding]) {
    out.push_str("\n## Findings\n\n");
    if findings.is_empty() {
        out.push_str("None.\n");
        return;
    }
    out.push_str("| severity | rule | resource | path | message |\n|---|---|---|---|---|\n");
    for f in findings {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            f.severity,
            cell(&f.rule),
            cell(&f.resource),
            cell(&f.path),
            cell(&f.message)
        ));
    }
}

/// A markdown table cell: no pipes, no newlines.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Text inside backticks.
fn code(s: &str) -> String {
    s.replace('`', "'")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;

    fn spec(names: &[&str]) -> Spec {
        let mut spec: Spec = serde_json::from_value(serde_json::json!({
            "environment": "production", "namespace": "cache", "components": [],
            "assumptions": ["3 replicas for HA"], "questions": [], "changes": []
        }))
        .unwrap();
        for n in names {
            let mut c: crate::spec::Component = serde_json::from_value(serde_json::json!({
                "name": n, "archetype": "redis", "image": null, "replicas": 3, "ports": [],
                "resources": null, "storage": null, "exposure": null, "schedule": null,
                "autoscaling": null, "high_availability": null, "env": [], "secret_refs": [],
                "health_check": null
            }))
            .unwrap_or_else(|e| panic!("component fixture: {e}"));
            c.name = n.to_string();
            spec.components.push(c);
        }
        spec
    }

    #[test]
    fn summaries_name_components_and_environment() {
        assert_eq!(summary(&spec(&["redis"])), "Add redis to production");
        assert_eq!(summary(&spec(&["a", "b", "c"])), "Add a, b and c to production");
        let mut scale = spec(&[]);
        scale.changes.push(Change {
            operation: Operation::Update,
            promote: None,
            target: "api".into(),
            kind: None,
            set: Some(crate::spec::Update {
                replicas: Some(5),
                ..Default::default()
            }),
        });
        assert_eq!(summary(&scale), "Scale api to 5 in production");
        scale.changes.push(Change {
            operation: Operation::Delete,
            promote: None,
            target: "memcached".into(),
            kind: None,
            set: None,
        });
        assert_eq!(summary(&scale), "Change api, remove memcached in production");
        assert_eq!(
            summary(&spec(&["a", "b", "c", "d"])),
            "Add a, b and 2 more to production"
        );
    }

    #[test]
    fn body_has_intent_spec_findings_table_and_stats() {
        let findings = [Finding::new(
            Severity::Warning,
            "no-limits",
            "StatefulSet/redis",
            "/spec",
            "a | pipe\nand newline",
        )];
        let stats = DiffStats {
            files_added: 6,
            files_modified: 1,
            insertions: 120,
            deletions: 2,
        };
        let b = body(
            "Deploy redis\nin production",
            &spec(&["redis"]),
            &[],
            &findings,
            &stats,
        );
        assert!(!b.contains("## Reach"), "{b}");
        let scaled = crate::change::Applied {
            operation: crate::spec::Operation::Update,
            target: "Deployment/cache".into(),
            namespace: String::new(),
            paths: vec!["deploy/overlays/staging/cache-patch.yaml".into()],
            reach: vec!["staging".into()],
        };
        let with_reach = body("scale cache to 2 in staging", &spec(&[]), &[scaled], &[], &stats);
        assert!(
            with_reach.contains(
                "## Reach\n\n- update `Deployment/cache`: reaches staging (files: `deploy/overlays/staging/cache-patch.yaml`)\n"
            ),
            "{with_reach}"
        );
        assert!(b.contains("> Deploy redis\n> in production\n"), "{b}");
        assert!(b.contains("- `redis`: redis, 3 replicas"), "{b}");
        assert!(b.contains("## Assumptions\n\n- 3 replicas for HA"), "{b}");
        assert!(
            b.contains("| warning | no-limits | StatefulSet/redis | /spec | a \\| pipe and newline |"),
            "{b}"
        );
        assert!(b.contains("6 file(s) added, 1 modified; +120 −2 lines."), "{b}");
    }

    #[test]
    fn body_lists_what_the_plan_does_not_do() {
        let mut with = spec(&["api"]);
        with.unsupported.push(crate::spec::Unsupported {
            phrase: "a `canary` rollout".into(),
            reason: "not in the spec; use Argo Rollouts".into(),
        });
        let stats = DiffStats {
            files_added: 1,
            files_modified: 0,
            insertions: 1,
            deletions: 0,
        };
        let b = body("Deploy api with a canary rollout", &with, &[], &[], &stats);
        assert!(b.contains("## Not done\n"), "{b}");
        assert!(
            b.contains("- `a 'canary' rollout`: not in the spec; use Argo Rollouts\n"),
            "{b}"
        );
        assert!(!body("x", &spec(&["api"]), &[], &[], &stats).contains("Not done"));
    }
}
