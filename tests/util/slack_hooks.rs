//! Slack against the real service: a loopback receiver standing in for
//! Slack's `response_url`, and requests signed the way Slack signs them.
//! (`slack.rs` is the bench for the Slack router alone.)

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::Router;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::util::service::{client, send, Reply, Service};
use crate::util::slack::form;

/// A loopback `response_url` receiver: its URL prefix and the posted messages.
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

/// The next message posted to the receiver (30 s at most).
pub(crate) async fn next(rx: &mut mpsc::UnboundedReceiver<Value>) -> Value {
    tokio::time::timeout(Duration::from_secs(30), rx.recv())
        .await
        .expect("a post to response_url")
        .expect("the receiver is open")
}

/// The service's `[slack]` block: `secret`, `hooks` as the allowed
/// `response_url` prefix, `gitops` the default repository, then `users`
/// (`[slack.users.…]` tables).
pub(crate) fn slack_block(secret: &str, hooks: &str, users: &str) -> String {
    format!(
        "\n[slack]\nsigning-secret = {secret:?}\nresponse-url-prefix = {hooks:?}\ndefault-repo = \"gitops\"\n{users}"
    )
}

/// A form body POSTed to `path` with Slack's timestamp and signature headers.
pub(crate) async fn post_signed(service: &Service, secret: &str, path: &str, body: String) -> Reply {
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let signature = gitintent::slack::verify::sign(secret, ts, body.as_bytes());
    send(
        client()
            .post(service.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-slack-request-timestamp", ts.to_string())
            .header("x-slack-signature", signature)
            .body(body),
    )
    .await
}

/// A `/gitintent` slash command's form as Slack sends it, from `user`
/// (named `user_name`), answering to `{hooks}commands/1`.
pub(crate) fn slash_form(user: &str, user_name: &str, text: &str, hooks: &str) -> String {
    form(&[
        ("team_id", "T0001"),
        ("channel_id", "C0001"),
        ("user_id", user),
        ("user_name", user_name),
        ("command", "/gitintent"),
        ("text", text),
        ("response_url", &format!("{hooks}commands/1")),
        ("trigger_id", "1.2.3"),
    ])
}

/// A signed slash command from `user`: the service's immediate reply.
pub(crate) async fn slash(service: &Service, secret: &str, hooks: &str, user: &str, text: &str) -> Reply {
    let body = slash_form(user, "someone", text, hooks);
    post_signed(service, secret, "/slack/commands", body).await
}
