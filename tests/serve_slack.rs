//! The Slack slash command served by the real service: a signed command
//! plans through the same pipeline and store as the HTTP API, the result is
//! posted to a loopback `response_url`, and the Propose button pushes a
//! branch to the bare remote.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::util::service::{client, send, token_blocks, Gitops, Service, ADMIN};
use crate::util::slack::form;

pub(crate) const SECRET: &str = "serve-slack-signing-secret";

pub(crate) async fn receiver() -> (String, mpsc::UnboundedReceiver<Value>) {
    async fn receive(State(tx): State<mpsc::UnboundedSender<Value>>, body: Bytes) -> &'static str {
        let _ = tx.send(serde_json::from_slice(&body).unwrap_or(Value::Null));
        "ok"
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let app = Router::new().fallback(receive).with_state(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/"), rx)
}

pub(crate) async fn signed(service: &Service, path: &str, body: String) -> u16 {
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let signature = gitintent::slack::verify::sign(SECRET, ts, body.as_bytes());
    send(
        client()
            .post(service.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-slack-request-timestamp", ts.to_string())
            .header("x-slack-signature", signature)
            .body(body),
    )
    .await
    .status
}

pub(crate) async fn next(rx: &mut mpsc::UnboundedReceiver<Value>) -> Value {
    tokio::time::timeout(Duration::from_secs(30), rx.recv())
        .await
        .expect("a post to response_url")
        .expect("the receiver is open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slash_command_plans_and_its_button_proposes_through_the_service() {
    let gitops = Gitops::new();
    let (hooks, mut posts) = receiver().await;
    let service = Service::start(&format!(
        "{}{}\n[slack]\nsigning-secret = {SECRET:?}\nresponse-url-prefix = {hooks:?}\ndefault-repo = \"gitops\"\n\
         [slack.users.UPLAT]\nrepos = [\"gitops\"]\nenvs = [\"staging\"]\npropose = true\n",
        gitops.repository_block(),
        token_blocks()
    ))
    .await;
    let command = form(&[
        ("team_id", "T0001"),
        ("channel_id", "C0001"),
        ("user_id", "UPLAT"),
        ("user_name", "plat"),
        ("command", "/gitintent"),
        ("text", "Deploy memcached in staging"),
        ("response_url", &format!("{hooks}commands/1")),
        ("trigger_id", "1.2.3"),
    ]);
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
