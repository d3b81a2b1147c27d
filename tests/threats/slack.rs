//! Slack through the real service: the "Planning…" acknowledgement is
//! redacted, and `status <id>` shows nothing of a repository the user has no
//! grant on (issue 13, item 8).

use serde_json::{json, Value};

use crate::serve_slack::{receiver, SECRET};
use crate::util::service::{client, plan, send, token_blocks, Gitops, Service, ADMIN};
use crate::util::slack::form;

/// A signed slash command; the immediate (synchronous) reply's JSON.
async fn command(service: &Service, user: &str, text: &str, hooks: &str) -> Value {
    let body = form(&[
        ("team_id", "T0001"),
        ("channel_id", "C0001"),
        ("user_id", user),
        ("user_name", "someone"),
        ("command", "/gitintent"),
        ("text", text),
        ("response_url", &format!("{hooks}commands/1")),
        ("trigger_id", "1.2.3"),
    ]);
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let signature = gitintent::slack::verify::sign(SECRET, ts, body.as_bytes());
    let reply = send(
        client()
            .post(service.url("/slack/commands"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-slack-request-timestamp", ts.to_string())
            .header("x-slack-signature", signature)
            .body(body),
    )
    .await;
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
        "{}{other_block}{}\n[slack]\nsigning-secret = {SECRET:?}\nresponse-url-prefix = {hooks:?}\ndefault-repo = \"gitops\"\n\
         [slack.users.UPLAT]\nrepos = [\"gitops\"]\nenvs = [\"staging\"]\npropose = true\n",
        gitops.repository_block(),
        token_blocks()
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
