//! Slack through the real service: the "Planning…" acknowledgement is
//! redacted, and `status <id>` shows nothing of a repository the user has no
//! grant on (issue 13, item 8).

use serde_json::{json, Value};

use crate::serve_slack::{receiver, SECRET, UPLAT};
use crate::util::service::{plan, token_blocks, Gitops, Service, ADMIN};
use crate::util::slack_hooks::{slack_block, slash};

/// A signed slash command; the immediate (synchronous) reply's JSON.
async fn command(service: &Service, user: &str, text: &str, hooks: &str) -> Value {
    let reply = slash(service, SECRET, hooks, user, text).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json
}

/// The service with two repositories; UPLAT may use `gitops` only.
async fn two_repositories(hooks: &str) -> (Service, Gitops, Gitops) {
    let gitops = Gitops::new();
    let other = Gitops::new();
    let other_block = other
        .repository_block()
        .replace("name = \"gitops\"", "name = \"payments\"");
    let service = Service::start(&format!(
        "{}{other_block}{}{}",
        gitops.repository_block(),
        token_blocks(),
        slack_block(SECRET, hooks, UPLAT)
    ))
    .await;
    (service, gitops, other)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_of_another_repositorys_failed_plan_shows_nothing_of_it() {
    let (hooks, _posts) = receiver().await;
    let (service, _gitops, _other) = two_repositories(&hooks).await;
    // An API client's plan in `payments` fails; its message names the intent.
    let failed = plan(
        &service,
        ADMIN,
        json!({ "intent": "frobnicate the quantum payments ledger xyzzy", "repo": "payments" }),
    )
    .await;
    assert_eq!(failed.status, 422, "{}", failed.text);
    let id = failed.json["error"]["details"]["plan_id"]
        .as_str()
        .unwrap()
        .to_string();
    let message = failed.json["error"]["message"].as_str().unwrap().to_string();

    let reply = command(&service, "UPLAT", &format!("status {id}"), &hooks).await;
    let text = reply["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("not allowed to see plans for `payments`"),
        "{reply}"
    );
    assert!(!text.contains(&message) && !text.contains("xyzzy"), "{reply}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_planning_acknowledgement_echoes_the_intent_redacted() {
    let (hooks, _posts) = receiver().await;
    let (service, _gitops, _other) = two_repositories(&hooks).await;
    let reply = command(
        &service,
        "UPLAT",
        "deploy memcached in staging with password hunter2 and APP_KEY=base64Zm9vYmFy",
        &hooks,
    )
    .await;
    let text = reply["text"].as_str().unwrap_or_default();
    assert!(text.starts_with("Planning…"), "{reply}");
    assert!(text.contains("[redacted]"), "{reply}");
    assert!(
        !text.contains("hunter2") && !text.contains("base64Zm9vYmFy"),
        "{reply}"
    );
}
