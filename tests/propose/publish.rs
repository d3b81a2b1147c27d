//! `propose::publish`: commit, push with lease and rollback, pull request — the
//! composition the CLI and the service share, against a bare `file://` remote and
//! a loopback forge.

use gitintent::propose::{
    self, Credentials, ForgeConfig, ForgeKind, Publish, PullRequestRequest, PushOptions, Step,
};
use serde_json::json;

use super::{bare_remote, files, refs, request, TestRepo};
use crate::util::fake_forge::FakeForge;

fn publication(remote: &str, forge: Option<&FakeForge>) -> Publish {
    Publish {
        push: Some(PushOptions {
            remote: remote.into(),
            credentials: Credentials::default(),
            force: false,
            lease: None,
        }),
        forge: forge.map(|f| {
            let config = ForgeConfig {
                kind: ForgeKind::Github,
                url: Some(f.url.clone()),
                repo: "acme/gitops".into(),
                fork: None,
                auth: None,
            };
            (config, "ghp_token".to_string())
        }),
    }
}

fn pull_request(proposal: &propose::Proposal, base: &str) -> PullRequestRequest {
    PullRequestRequest {
        title: "Add redis to production".into(),
        body: format!("{} file(s) added", proposal.stats.files_added),
        head: proposal.branch.clone(),
        base: base.to_string(),
    }
}

fn has_branch(path: &std::path::Path, branch: &str) -> bool {
    refs(path)
        .iter()
        .any(|(r, _)| *r == format!("refs/heads/{branch}"))
}

#[tokio::test]
async fn a_published_proposal_is_pushed_and_its_pull_request_opened_into_the_base() {
    let t = TestRepo::new(false);
    let (_dir, remote) = bare_remote(&t);
    let git = t.open();
    git.remote("origin", &format!("file://{}", remote.display()))
        .unwrap();
    // The remote-tracking base a fetch would have made.
    let main = git.refname_to_id("refs/heads/main").unwrap();
    git.reference("refs/remotes/origin/main", main, false, "fetch")
        .unwrap();
    let forge = FakeForge::start(vec![(
        201,
        json!({"number": 7, "html_url": "https://github.com/acme/gitops/pull/7", "state": "open"}),
    )]);
    let mut req = request(&t.path, "redis");
    req.base = "origin/main".into();
    let p = propose::publish(req, &publication("origin", Some(&forge)), pull_request)
        .await
        .unwrap();
    assert!(p.pushed);
    assert_eq!(p.pull_request.as_ref().map(|pr| pr.number), Some(7));
    assert!(has_branch(&remote, &p.branch), "the branch reached the remote");
    let requests = forge.requests();
    assert_eq!(requests.len(), 1);
    // The forge's name of `origin/main` pushed to `origin` is `main`.
    assert_eq!(requests[0].body["base"], "main");
    assert_eq!(requests[0].body["head"], p.branch.as_str());
    // The request is built from the committed proposal.
    let added = format!("{} file(s) added", files("redis").len());
    assert_eq!(requests[0].body["body"], added.as_str());
}

#[tokio::test]
async fn a_failed_push_rolls_the_local_branch_back_and_opens_no_pull_request() {
    let t = TestRepo::new(false);
    let forge = FakeForge::start(vec![]);
    let missing = t.path.join("no-such-remote.git");
    let publication = publication(&format!("file://{}", missing.display()), Some(&forge));
    let failed = propose::publish(request(&t.path, "redis"), &publication, pull_request)
        .await
        .unwrap_err();
    assert_eq!(failed.step, Step::Push);
    assert!(
        matches!(failed.error, propose::Error::Push { .. }),
        "{:?}",
        failed.error
    );
    assert!(failed.left_behind.is_none(), "{:?}", failed.left_behind);
    let branch = failed.branch.expect("the branch was committed before the push");
    assert!(!has_branch(&t.path, &branch), "the local branch was rolled back");
    assert!(forge.requests().is_empty());
}

#[tokio::test]
async fn a_failed_pull_request_leaves_the_pushed_branch_and_says_so() {
    let t = TestRepo::new(false);
    let (_dir, remote) = bare_remote(&t);
    let url = format!("file://{}", remote.display());
    let forge = FakeForge::start(vec![(500, json!({"message": "boom"}))]);
    let failed = propose::publish(
        request(&t.path, "redis"),
        &publication(&url, Some(&forge)),
        pull_request,
    )
    .await
    .unwrap_err();
    assert_eq!(failed.step, Step::PullRequest);
    assert!(
        matches!(failed.error, propose::Error::Forge { status: 500, .. }),
        "{:?}",
        failed.error
    );
    let branch = failed.branch.expect("committed");
    assert!(has_branch(&t.path, &branch), "the pushed branch stays");
    assert!(has_branch(&remote, &branch));
}

#[tokio::test]
async fn without_a_push_the_branch_is_committed_and_no_pull_request_is_opened() {
    let t = TestRepo::new(false);
    let forge = FakeForge::start(vec![]);
    let publication = Publish {
        push: None,
        ..publication("origin", Some(&forge))
    };
    let p = propose::publish(request(&t.path, "redis"), &publication, pull_request)
        .await
        .unwrap();
    assert!(!p.pushed);
    assert!(p.pull_request.is_none());
    assert!(has_branch(&t.path, &p.branch));
    assert!(forge.requests().is_empty());
}
