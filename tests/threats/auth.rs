//! `--insecure-no-auth` with tokens configured: a wrong token is a 401, not
//! an anonymous caller with every right (issue 13, item 8).

use serde_json::json;

use crate::util::service::{client, send, token_blocks, Gitops, Service, ADMIN};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_is_refused_even_in_insecure_mode() {
    let gitops = Gitops::new();
    let service = Service::start_with(
        &format!("{}{}", gitops.repository_block(), token_blocks()),
        gitintent::serve::Overrides {
            insecure_no_auth: true,
            ..Default::default()
        },
    )
    .await;
    let body = json!({ "intent": "Deploy memcached in staging", "repo": "gitops" });
    let wrong = send(
        client()
            .post(service.url("/v1/plans"))
            .bearer_auth("gi_wrong_token_0000")
            .json(&body),
    )
    .await;
    assert_eq!(wrong.status, 401, "{}", wrong.text);
    let listed = send(
        client()
            .get(service.url("/v1/plans"))
            .bearer_auth("gi_wrong_token_0000"),
    )
    .await;
    assert_eq!(listed.status, 401, "{}", listed.text);
    // A valid token is its own caller; no token is the anonymous one.
    let valid = send(
        client()
            .post(service.url("/v1/plans"))
            .bearer_auth(ADMIN)
            .json(&body),
    )
    .await;
    assert_eq!(
        (valid.status, valid.json["requester"].clone()),
        (201, json!("admin")),
        "{}",
        valid.text
    );
    let none = send(client().post(service.url("/v1/plans")).json(&body)).await;
    assert_eq!(
        (none.status, none.json["requester"].clone()),
        (201, json!("anonymous")),
        "{}",
        none.text
    );
}
