//! The Slack slash command served by the real service: a signed command
//! plans through the same pipeline and store as the HTTP API, the result is
//! posted to a loopback `response_url`, and the Propose button pushes a
//! branch to the bare remote.

use serde_json::json;

use crate::util::service::{client, send, token_blocks, Gitops, Service, ADMIN};
use crate::util::slack::form;
pub(crate) use crate::util::slack_hooks::{next, receiver};
use crate::util::slack_hooks::{post_signed, slack_block, slash_form};

pub(crate) const SECRET: &str = "serve-slack-signing-secret";

/// The Uplat user's service: `gitops` with the admin tokens, and a Slack
/// app whose UPLAT may plan and propose in staging.
pub(crate) async fn uplat_service(gitops: &Gitops, hooks: &str) -> Service {
    Service::start(&format!(
        "{}{}{}",
        gitops.repository_block(),
        token_blocks(),
        slack_block(SECRET, hooks, UPLAT)
    ))
    .await
}

/// UPLAT's grant: plan and propose in `gitops`' staging.
pub(crate) const UPLAT: &str =
    "[slack.users.UPLAT]\nrepos = [\"gitops\"]\nenvs = [\"staging\"]\npropose = true\n";

/// A form signed with this file's secret; the status it was answered with.
pub(crate) async fn signed(service: &Service, path: &str, body: String) -> u16 {
    post_signed(service, SECRET, path, body).await.status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slash_command_plans_and_its_button_proposes_through_the_service() {
    let gitops = Gitops::new();
    let (hooks, mut posts) = receiver().await;
    let service = uplat_service(&gitops, &hooks).await;
    let command = slash_form("UPLAT", "plat", "Deploy memcached in staging", &hooks);
    assert_eq!(signed(&service, "/slack/commands", command.clone()).await, 200);
    let message = next(&mut posts).await;
    let buttons = &message["blocks"].as_array().expect("Block Kit")[..]
        .last()
        .unwrap()["elements"];
    let propose = buttons
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["value"].as_str().is_some_and(|v| v.starts_with("pl_")))
        .expect("a Propose button carrying the plan id");
    let id = propose["value"].as_str().unwrap().to_string();
    // The plan is the service's: stored, readable over HTTP, requested by the Slack user.
    let stored = send(
        client()
            .get(service.url(&format!("/v1/plans/{id}")))
            .bearer_auth(ADMIN),
    )
    .await;
    assert_eq!(stored.status, 200, "{}", stored.text);
    assert_eq!(stored.json["requester"], "slack:UPLAT");
    assert_eq!(stored.json["status"], "planned");
    assert!(message
        .to_string()
        .contains("clusters/staging/apps/memcached/deployment.yaml"));

    let click = json!({
        "type": "block_actions",
        "user": { "id": "UPLAT", "username": "plat", "name": "plat", "team_id": "T0001" },
        "container": { "type": "message", "channel_id": "C0001", "is_ephemeral": true },
        "trigger_id": "1.2.4",
        "team": { "id": "T0001" },
        "channel": { "id": "C0001" },
        "response_url": format!("{hooks}actions/1"),
        "actions": [{ "action_id": propose["action_id"], "block_id": "gitintent_plan",
                      "value": id, "type": "button", "action_ts": "1700000001.000001" }]
    });
    let body = form(&[("payload", &click.to_string())]);
    assert_eq!(signed(&service, "/slack/interactions", body).await, 200);
    let mut proposed = next(&mut posts).await;
    // The router may acknowledge first ("proposing…"); wait for the branch.
    while !proposed.to_string().contains("gitintent/") {
        proposed = next(&mut posts).await;
    }
    let read = send(
        client()
            .get(service.url(&format!("/v1/plans/{id}")))
            .bearer_auth(ADMIN),
    )
    .await;
    assert_eq!(read.json["status"], "proposed");
    let branch = read.json["proposal"]["branch"].as_str().unwrap();
    assert!(proposed.to_string().contains(branch), "{proposed}");
    assert!(gitops.remote_branches().contains(&branch.to_string()));

    // Unsigned or replayed requests are refused before anything runs.
    let unsigned = send(
        client()
            .post(service.url("/slack/commands"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(command),
    )
    .await;
    assert_eq!(unsigned.status, 401);
    let metrics = send(client().get(service.url("/metrics"))).await.text;
    assert!(
        metrics.contains("route=\"/slack/*\",method=\"POST\",status=\"401\"} 1"),
        "{metrics}"
    );
}
