//! Who a service commit is by, and why a proposal was not pushed (SQLite
//! store: these need no PostgreSQL).

use serde_json::json;

use super::process::{config, Replica};
use crate::util::service::{client, send, Gitops, ADMIN, PLANNER};

/// Plans and proposes on `replica`; the proposal JSON.
async fn plan_and_propose(replica: &Replica) -> serde_json::Value {
    let made = send(
        client()
            .post(replica.url("/v1/plans"))
            .bearer_auth(ADMIN)
            .json(&json!({ "intent": "Deploy memcached in staging", "repo": "gitops" })),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.text);
    let id = made.json["id"].as_str().unwrap();
    let proposed = send(
        client()
            .post(replica.url(&format!("/v1/plans/{id}/proposal")))
            .bearer_auth(PLANNER),
    )
    .await;
    assert_eq!(proposed.status, 201, "{}", proposed.text);
    proposed.json["proposal"].clone()
}

fn signatures(gitops: &Gitops, branch: &str) -> ((String, String), (String, String)) {
    let repo = git2::Repository::open(gitops.work()).unwrap();
    let commit = repo
        .find_reference(&format!("refs/heads/{branch}"))
        .unwrap()
        .peel_to_commit()
        .unwrap();
    let who = |s: git2::Signature<'_>| (s.name().unwrap().to_string(), s.email().unwrap().to_string());
    (who(commit.author()), who(commit.committer()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_commits_are_by_the_configured_author_else_the_requester_with_the_service_committing() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("gitintent.db").display().to_string();
    // No author anywhere (the replica runs with an empty HOME): the requester.
    let gitops = Gitops::new();
    let replica = Replica::start(config(dir.path(), "a", &store, &gitops.repository_block())).await;
    let proposal = plan_and_propose(&replica).await;
    let (author, committer) = signatures(&gitops, proposal["branch"].as_str().unwrap());
    assert_eq!(
        author,
        ("admin".to_string(), "admin@gitintent.invalid".to_string())
    );
    assert_eq!(
        committer,
        ("gitintent".to_string(), "gitintent@localhost".to_string())
    );
    assert!(proposal["pushed"].as_bool().unwrap());
    assert!(proposal.get("pushed_reason").is_none(), "{proposal}");
    drop(replica);
    // The repository's git config names someone: they author and commit, as with the CLI.
    let named = Gitops::new();
    let repo = git2::Repository::open(named.work()).unwrap();
    let mut git_config = repo.config().unwrap();
    git_config.set_str("user.name", "Dana Ops").unwrap();
    git_config.set_str("user.email", "dana@example.com").unwrap();
    let store = dir.path().join("named.db").display().to_string();
    let replica = Replica::start(config(dir.path(), "b", &store, &named.repository_block())).await;
    let proposal = plan_and_propose(&replica).await;
    let (author, committer) = signatures(&named, proposal["branch"].as_str().unwrap());
    let dana = ("Dana Ops".to_string(), "dana@example.com".to_string());
    assert_eq!((author, committer), (dana.clone(), dana));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proposal_that_was_not_pushed_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let gitops = Gitops::new();
    git2::Repository::open(gitops.work())
        .unwrap()
        .remote_delete("origin")
        .unwrap();
    let store = dir.path().join("gitintent.db").display().to_string();
    let replica = Replica::start(config(dir.path(), "a", &store, &gitops.repository_block())).await;
    let proposal = plan_and_propose(&replica).await;
    assert_eq!(proposal["pushed"], false);
    let reason = proposal["pushed_reason"].as_str().unwrap();
    assert!(reason.contains("without an `origin` remote"), "{reason}");
}
