//! A day-2 change from Slack: `/gitintent remove memcached env:staging`
//! plans with the builtin planner through the service, the message shows the
//! change and the removed files, and the Propose button pushes a branch that
//! removes the app and unwires it.

use serde_json::json;

use super::service::with_memcached;
use crate::serve_slack::{next, receiver, signed, uplat_service};
use crate::util::service::{client, send, Gitops, ADMIN};
use crate::util::slack::form;
use crate::util::slack_hooks::slash_form;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removal_from_slack_is_planned_shown_and_proposed() {
    let gitops = Gitops::new();
    with_memcached(&gitops);
    let (hooks, mut posts) = receiver().await;
    let service = uplat_service(&gitops, &hooks).await;
    let command = slash_form("UPLAT", "plat", "remove the memcached app env:staging", &hooks);
    assert_eq!(signed(&service, "/slack/commands", command).await, 200);
    let message = next(&mut posts).await;
    let shown = message.to_string();
    assert!(shown.contains("remove memcached"), "{shown}");
    assert!(
        shown.contains("clusters/staging/apps/memcached/deployment.yaml"),
        "{shown}"
    );
    let buttons = &message["blocks"].as_array().expect("Block Kit")[..]
        .last()
        .unwrap()["elements"];
    let propose = buttons
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["value"].as_str().is_some_and(|v| v.starts_with("pl_")))
        .unwrap_or_else(|| panic!("a Propose button: {shown}"));
    let id = propose["value"].as_str().unwrap().to_string();
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
    assert_eq!(
        signed(
            &service,
            "/slack/interactions",
            form(&[("payload", &click.to_string())])
        )
        .await,
        200
    );
    let mut proposed = next(&mut posts).await;
    while !proposed.to_string().contains("gitintent/") {
        proposed = next(&mut posts).await;
    }
    let read = send(
        client()
            .get(service.url(&format!("/v1/plans/{id}")))
            .bearer_auth(ADMIN),
    )
    .await;
    assert_eq!(read.json["status"], "proposed", "{}", read.text);
    let branch = read.json["proposal"]["branch"].as_str().unwrap();
    assert!(branch.starts_with("gitintent/remove-memcached"), "{branch}");
    let remote = git2::Repository::open_bare(gitops.remote()).unwrap();
    let tree = remote
        .find_reference(&format!("refs/heads/{branch}"))
        .unwrap()
        .peel_to_tree()
        .unwrap();
    assert!(tree
        .get_path(std::path::Path::new("clusters/staging/apps/memcached"))
        .is_err());
}
