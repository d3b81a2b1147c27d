//! The messages gitintent sends to Slack, as Block Kit JSON.
//!
//! Everything shown comes from a [`PlanSummary`] or a [`ProposalSummary`];
//! text from users or the model is escaped (`&`, `<`, `>`) so it cannot
//! mention `@channel` or smuggle links, and long lists are cut to stay within
//! Slack's limits (3000 characters per section, 50 blocks per message).
//! Messages are built here and nowhere else; this module does no I/O.

use serde_json::{json, Value};

use super::backend::{PlanSummary, ProposalSummary};
use crate::finding::{Finding, Severity};

/// `action_id` of the Propose button.
pub(crate) const PROPOSE: &str = "gitintent_propose";
/// `action_id` of the Discard button.
pub(crate) const DISCARD: &str = "gitintent_discard";

/// Items shown per list before "…and N more".
const MAX_ITEMS: usize = 10;
/// Slack's limit on a section's text.
const MAX_SECTION: usize = 3000;

/// An ephemeral text-only message.
pub(crate) fn ephemeral(text: &str) -> Value {
    json!({ "response_type": "ephemeral", "text": text })
}

/// An ephemeral text-only message posted to a `response_url` without
/// replacing the message the button was on.
pub(crate) fn notice(text: &str) -> Value {
    json!({ "response_type": "ephemeral", "replace_original": false, "text": text })
}

/// The immediate acknowledgement of a plan request.
pub(crate) fn planning(intent: &str, repo: &str, env: Option<&str>) -> Value {
    let env = env.map(|e| format!(" ({})", escape(e))).unwrap_or_default();
    ephemeral(&format!(
        "Planning… `{}`{env}: {}\nThe plan will appear here in a moment.",
        escape(repo),
        escape(intent)
    ))
}

/// `/gitintent help`.
pub(crate) fn help(default_repo: Option<&str>) -> Value {
    let default = match default_repo {
        Some(r) => format!("Without `repo:`, plans go to `{}`.", escape(r)),
        None => "There is no default repository: always give `repo:NAME`.".to_string(),
    };
    let text = format!(
        "*gitintent* turns a plain-language request into Kubernetes manifests on a GitOps branch.\n\
         • `/gitintent <intent> [repo:NAME] [env:NAME]` plans: e.g. \
         `/gitintent deploy redis with 3 replicas env:staging`. \
         You get the plan privately, with *Propose* (branch + pull request) and *Discard* buttons.\n\
         • `/gitintent status <plan-id>` shows a plan again.\n\
         • `/gitintent help` shows this.\n\
         {default} Your rights (repositories, environments, proposing) come from the service's config; \
         ask the platform team to change them."
    );
    json!({
        "response_type": "ephemeral",
        "text": "gitintent: usage",
        "blocks": [section(&text)],
    })
}

/// A plan with its buttons (when it can still be proposed).
pub(crate) fn plan(p: &PlanSummary) -> Value {
    let mut blocks = vec![
        json!({
            "type": "header",
            "text": { "type": "plain_text", "text": truncate(&format!("Plan for {} / {}", p.repo, p.environment), 150) },
        }),
        section(&format!(
            "*Intent:* {}\n*Plan:* `{}`",
            escape(&p.intent),
            escape(&p.id)
        )),
    ];
    push_list(&mut blocks, "Summary", &p.summary, |s| escape(s));
    push_list(&mut blocks, "Assumptions", &p.assumptions, |s| escape(s));
    push_list(&mut blocks, "Questions", &p.questions, |s| escape(s));
    push_list(&mut blocks, "Files", &p.files, |f| {
        format!("`{}` {}", escape(&f.path), f.status)
    });
    for (severity, title) in [
        (Severity::Error, "Errors"),
        (Severity::Warning, "Warnings"),
        (Severity::Info, "Info"),
    ] {
        let group: Vec<&Finding> = p.findings.iter().filter(|f| f.severity == severity).collect();
        push_list(&mut blocks, title, &group, |f| finding(f));
    }
    if p.findings.is_empty() {
        blocks.push(section("*Findings:* none"));
    }
    if let Some(done) = &p.proposal {
        blocks.push(section(&proposal_text(done)));
    } else if p.has_errors() {
        let n = p.findings.iter().filter(|f| f.is_error()).count();
        blocks.push(context(&format!(
            "Cannot be proposed: {}. Change the intent and plan again.",
            plural(n, "error finding")
        )));
        blocks.push(actions(&p.id, false));
    } else {
        blocks.push(actions(&p.id, true));
    }
    let count = |severity| p.findings.iter().filter(|f| f.severity == severity).count();
    json!({
        "response_type": "ephemeral",
        "text": format!(
            "Plan {} for {} / {}: {}, {}, {}",
            p.id,
            p.repo,
            p.environment,
            plural(p.files.len(), "file"),
            plural(count(Severity::Error), "error"),
            plural(count(Severity::Warning), "warning"),
        ),
        "blocks": blocks,
    })
}

/// Replaces the plan message once it has been proposed.
pub(crate) fn proposed(p: &PlanSummary, done: &ProposalSummary, user_id: &str) -> Value {
    let text = format!(
        "<@{}> proposed plan `{}` for `{}` / `{}`.\n{}",
        escape(user_id),
        escape(&p.id),
        escape(&p.repo),
        escape(&p.environment),
        proposal_text(done)
    );
    json!({
        "response_type": "ephemeral",
        "replace_original": true,
        "text": format!("Proposed plan {} on branch {}", p.id, done.branch),
        "blocks": [section(&text)],
    })
}

/// Replaces the plan message once it has been discarded.
pub(crate) fn discarded(plan_id: &str) -> Value {
    json!({
        "response_type": "ephemeral",
        "replace_original": true,
        "text": format!("Discarded plan `{}`. Nothing was proposed.", escape(plan_id)),
    })
}

fn proposal_text(done: &ProposalSummary) -> String {
    let commit: String = done.commit.chars().take(12).collect();
    let pr = match &done.pr_url {
        Some(url) => format!("<{}|Pull request>", escape(url)),
        None => "no pull request (no forge configured for this repository)".to_string(),
    };
    format!(
        "*Proposed:* branch `{}`, commit `{}`. {pr}",
        escape(&done.branch),
        escape(&commit)
    )
}

fn finding(f: &Finding) -> String {
    let path = if f.path.is_empty() {
        String::new()
    } else {
        format!(" `{}`", escape(&f.path))
    };
    format!(
        "`{}`{path}: {} _({})_",
        escape(&f.resource),
        escape(&f.message),
        escape(&f.rule)
    )
}

fn actions(plan_id: &str, proposable: bool) -> Value {
    let mut elements = Vec::new();
    if proposable {
        elements.push(json!({
            "type": "button",
            "action_id": PROPOSE,
            "style": "primary",
            "text": { "type": "plain_text", "text": "Propose" },
            "value": plan_id,
            "confirm": {
                "title": { "type": "plain_text", "text": "Propose this plan?" },
                "text": { "type": "mrkdwn", "text": "gitintent will push a branch and open a pull request." },
                "confirm": { "type": "plain_text", "text": "Propose" },
                "deny": { "type": "plain_text", "text": "Cancel" },
            },
        }));
    }
    elements.push(json!({
        "type": "button",
        "action_id": DISCARD,
        "text": { "type": "plain_text", "text": "Discard" },
        "value": plan_id,
    }));
    json!({ "type": "actions", "block_id": "gitintent_plan", "elements": elements })
}

fn push_list<T>(blocks: &mut Vec<Value>, title: &str, items: &[T], show: impl Fn(&T) -> String) {
    if items.is_empty() {
        return;
    }
    let mut text = format!("*{title} ({})*", items.len());
    for item in items.iter().take(MAX_ITEMS) {
        text.push_str("\n• ");
        text.push_str(&show(item));
    }
    if items.len() > MAX_ITEMS {
        text.push_str(&format!("\n…and {} more", items.len() - MAX_ITEMS));
    }
    blocks.push(section(&text));
}

fn section(text: &str) -> Value {
    json!({ "type": "section", "text": { "type": "mrkdwn", "text": truncate(text, MAX_SECTION) } })
}

fn context(text: &str) -> Value {
    json!({ "type": "context", "elements": [{ "type": "mrkdwn", "text": truncate(text, MAX_SECTION) }] })
}

/// `1 file`, `2 files`.
fn plural(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// Cuts `text` to at most `max` characters, marking the cut with `…`.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

/// Escapes the three characters Slack's mrkdwn treats as control characters.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slack::backend::{ChangeStatus, FileChange};

    fn summary(findings: Vec<Finding>) -> PlanSummary {
        PlanSummary {
            id: "p1".into(),
            repo: "platform".into(),
            environment: "staging".into(),
            intent: "deploy <!channel> & friends".into(),
            summary: vec!["redis in namespace redis: redis".into()],
            assumptions: (0..12).map(|i| format!("a{i}")).collect(),
            questions: vec![],
            files: vec![FileChange {
                path: "a.yaml".into(),
                status: ChangeStatus::Modified,
            }],
            findings,
            proposal: None,
        }
    }

    #[test]
    fn user_text_cannot_mention_or_link() {
        let msg = plan(&summary(vec![])).to_string();
        assert!(!msg.contains("<!channel>"), "{msg}");
        assert!(msg.contains("deploy &lt;!channel&gt; &amp; friends"), "{msg}");
    }

    #[test]
    fn long_lists_are_cut_and_counted() {
        let msg = plan(&summary(vec![])).to_string();
        assert!(msg.contains("*Assumptions (12)*"), "{msg}");
        assert!(msg.contains("a9\\n…and 2 more"), "{msg}");
        assert!(!msg.contains("a10"), "{msg}");
        assert_eq!(truncate("abcdef", 4), "abc…");
    }

    #[test]
    fn error_findings_leave_only_discard() {
        let p = summary(vec![Finding::new(
            Severity::Error,
            "schema",
            "Deployment/x",
            "/spec",
            "bad",
        )]);
        let msg = plan(&p);
        let actions = msg["blocks"].as_array().unwrap().last().unwrap();
        let ids: Vec<&str> = actions["elements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [DISCARD]);
        assert!(msg.to_string().contains("Cannot be proposed: 1 error finding."));
    }
}
