//! The messages gitintent sends to Slack, as Block Kit JSON.
//!
//! Everything shown comes from a [`PlanSummary`] or a [`ProposalSummary`];
//! text from users or the model is escaped (`&`, `<`, `>`) so it cannot
//! mention `@channel` or smuggle links, and long lists are cut to stay within
//! Slack's limits (3000 characters per section, 50 blocks per message).
//! Messages are built here and nowhere else; this module does no I/O.

use serde_json::{json, Value};

use super::backend::{PlanSummary, ProposalSummary};
use crate::drift::{Entry, Report, Status};
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
         `/gitintent deploy redis with 3 replicas env:staging`, or a change to what the repository holds: \
         `/gitintent scale api-gateway to 5 in production`. \
         You get the plan privately, with *Propose* (branch + pull request) and *Discard* buttons.\n\
         • `/gitintent status <plan-id>` shows a plan again.\n\
         • `/gitintent drift <env> [repo:NAME]` compares the repository's base branch with the live cluster \
         of that environment: counts, drift score and the most drifted resources.\n\
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

/// The immediate acknowledgement of a drift request.
pub(crate) fn drifting(repo: &str, env: &str) -> Value {
    ephemeral(&format!(
        "Reading drift of `{}` / `{}` from the cluster…\nThe report will appear here in a moment.",
        escape(repo),
        escape(env)
    ))
}

/// Drifted resources shown in full (paths, Git and live values).
const MAX_DRIFTED: usize = 8;
/// Differences shown per resource.
const MAX_DIFFERENCES: usize = 3;
/// Characters of a Git or live value shown.
const MAX_VALUE: usize = 80;

/// A drift report: counts, score, the top drifted resources with their
/// paths and values, then missing, extra and unreadable resources.
pub(crate) fn drift(repo: &str, r: &Report) -> Value {
    let s = &r.summary;
    let mut blocks = vec![
        json!({
            "type": "header",
            "text": { "type": "plain_text", "text": truncate(&format!("Drift in {repo} / {}", r.environment), 150) },
        }),
        section(&format!(
            "*{}* in sync · *{}* drifted · *{}* missing · *{}* extra · *{}* unreadable\n*Drift score:* {}",
            s.in_sync, s.drifted, s.missing, s.extra, s.unreadable, r.score
        )),
    ];
    push_drifted(&mut blocks, r);
    for (status, title) in [
        (Status::Missing, "Missing in the cluster"),
        (Status::Extra, "In the cluster, not in Git"),
        (Status::Unreadable, "Unreadable"),
    ] {
        let group: Vec<&Entry> = r.resources.iter().filter(|e| e.status == status).collect();
        push_list(&mut blocks, title, &group, |e| match &e.message {
            Some(m) => format!("{}: {}", escape(&label(e)), escape(&truncate(m, 200))),
            None => escape(&label(e)),
        });
    }
    if !r.warnings.is_empty() {
        blocks.push(context(&escape(&r.warnings.join("\n"))));
    }
    blocks.push(context(&format!(
        "Git side: `{}`{}. Cluster: {}",
        escape(repo),
        drift_base(r),
        escape(&r.server)
    )));
    json!({
        "response_type": "ephemeral",
        "text": format!(
            "Drift in {repo} / {}: {} in sync, {} drifted, {} missing, {} extra, {} unreadable; score {}",
            r.environment, s.in_sync, s.drifted, s.missing, s.extra, s.unreadable, r.score
        ),
        "blocks": blocks,
    })
}

/// ` at `BRANCH` (`COMMIT`)` for a report read at a known base, else nothing.
fn drift_base(r: &Report) -> String {
    r.base
        .as_ref()
        .map(|b| {
            let commit: String = b.commit.chars().take(12).collect();
            format!(
                " at `{}` (`{commit}`)",
                escape(b.reference.trim_start_matches("refs/heads/"))
            )
        })
        .unwrap_or_default()
}

/// The most drifted resources (highest score first), one section each, and
/// a line counting the rest.
fn push_drifted(blocks: &mut Vec<Value>, r: &Report) {
    let mut drifted: Vec<&Entry> = r
        .resources
        .iter()
        .filter(|e| e.status == Status::Drifted)
        .collect();
    drifted.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| label(a).cmp(&label(b))));
    for e in drifted.iter().take(MAX_DRIFTED) {
        blocks.push(section(&drifted_entry(e)));
    }
    if drifted.len() > MAX_DRIFTED {
        blocks.push(context(&format!(
            "…and {} more drifted; run `gitintent drift --env {}` for the full report.",
            drifted.len() - MAX_DRIFTED,
            escape(&r.environment)
        )));
    }
}

/// One drifted resource: its label, score and file, and its first differences.
fn drifted_entry(e: &Entry) -> String {
    let mut text = format!("*{}* (score {})", escape(&label(e)), e.score);
    if let Some(file) = &e.file {
        text.push_str(&format!(" `{}`", escape(file)));
    }
    for d in e.differences.iter().take(MAX_DIFFERENCES) {
        text.push_str(&format!(
            "\n• `{}`: Git `{}` → live `{}`",
            escape(&truncate(&d.path, MAX_VALUE)),
            escape(&value(&d.git)),
            escape(&value(&d.live))
        ));
    }
    if e.differences.len() > MAX_DIFFERENCES {
        text.push_str(&format!("\n…and {} more", e.differences.len() - MAX_DIFFERENCES));
    }
    text
}

fn label(e: &Entry) -> String {
    match &e.namespace {
        Some(ns) => format!("{} {ns}/{}", e.kind, e.name),
        None => format!("{} {}", e.kind, e.name),
    }
}

/// A Git or live value on one line, cut to [`MAX_VALUE`]; backticks become
/// quotes so they cannot close the code span.
fn value(v: &Value) -> String {
    let text = match v {
        Value::Null => "(absent)".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    truncate(&text.replace('`', "'").replace('\n', " "), MAX_VALUE)
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
    push_list(&mut blocks, "Not done", &p.unsupported, |s| escape(s));
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
            unsupported: vec![],
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
    fn what_the_plan_does_not_do_is_shown_escaped() {
        let mut p = summary(vec![]);
        p.unsupported = vec!["\"canary <rollout>\": use Argo Rollouts".into()];
        let msg = plan(&p).to_string();
        assert!(msg.contains("*Not done (1)*"), "{msg}");
        assert!(msg.contains("canary &lt;rollout&gt;"), "{msg}");
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

    /// Drifted resource `i` of [`large_report`]: even ones drifted in six
    /// long differences, odd ones missing; a name that tries to mention.
    fn large_entry(i: u32) -> crate::drift::Entry {
        let v = serde_json::json!("x".repeat(500));
        crate::drift::Entry {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            namespace: Some("shop".into()),
            name: format!("app-{i:02}-<!channel>"),
            file: Some(format!("clusters/prod/app-{i}.yaml")),
            document: 0,
            status: if i.is_multiple_of(2) {
                Status::Drifted
            } else {
                Status::Missing
            },
            differences: (0..6)
                .map(|_| crate::drift::Difference {
                    path: "spec.template.spec.containers[name=web].image".into(),
                    git: v.clone(),
                    live: serde_json::Value::Null,
                    weight: 10,
                    segments: Vec::new(),
                })
                .collect(),
            dependents: Vec::new(),
            score: i,
            message: None,
        }
    }

    /// Forty resources (twenty drifted, twenty missing) and a long warning.
    fn large_report() -> Report {
        Report {
            environment: "prod".into(),
            base: None,
            server: "https://k8s.example".into(),
            selector: "a=b".into(),
            resources: (0..40).map(large_entry).collect(),
            summary: crate::drift::Summary {
                drifted: 20,
                missing: 20,
                ..Default::default()
            },
            score: 780,
            warnings: vec!["w".repeat(5000)],
        }
    }

    #[test]
    fn a_large_drift_report_stays_within_slack_limits() {
        let report = large_report();
        let msg = drift("platform", &report);
        let blocks = msg["blocks"].as_array().unwrap();
        assert!(blocks.len() <= 50, "{}", blocks.len());
        for b in blocks {
            let text = b["text"]["text"]
                .as_str()
                .or_else(|| b["elements"][0]["text"].as_str())
                .unwrap_or_default();
            assert!(text.chars().count() <= MAX_SECTION, "{text}");
        }
        let text = msg.to_string();
        // Highest score first; at most MAX_DRIFTED shown in full.
        assert!(
            text.contains("*Deployment shop/app-38-&lt;!channel&gt;* (score 38)"),
            "{text}"
        );
        assert!(!text.contains("<!channel>"));
        assert!(text.contains("…and 12 more drifted"), "{text}");
        assert!(text.contains("→ live `(absent)`"), "{text}");
        assert!(text.contains("…and 3 more"), "{text}");
        assert!(text.contains("*Missing in the cluster (20)*"), "{text}");
    }
}
