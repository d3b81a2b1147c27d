//! Pull requests against a loopback forge that checks the exact requests.

use gitintent::propose::{self, Error, ForgeConfig, ForgeKind, PullRequest, PullRequestRequest};
use serde_json::json;

use crate::util::fake_forge::FakeForge;

fn pr() -> PullRequestRequest {
    PullRequestRequest {
        title: "Add redis to production".into(),
        body: "## Intent\n\n> Deploy redis\n".into(),
        head: "gitintent/add-redis-to-production-1a2b3c4d".into(),
        base: "main".into(),
    }
}

fn github(url: &str) -> ForgeConfig {
    ForgeConfig {
        kind: ForgeKind::Github,
        url: Some(url.into()),
        repo: "acme/gitops".into(),
        fork: None,
        auth: None,
    }
}

fn gitlab(url: &str) -> ForgeConfig {
    ForgeConfig {
        kind: ForgeKind::Gitlab,
        url: Some(url.into()),
        repo: "platform/infra/gitops".into(),
        fork: None,
        auth: None,
    }
}

#[tokio::test]
async fn github_pull_requests_are_created_with_the_documented_request() {
    let forge = FakeForge::start(vec![(
        201,
        json!({"number": 42, "html_url": "https://ghe.example.com/acme/gitops/pull/42", "state": "open"}),
    )]);
    let got = propose::open_pull_request(&github(&forge.url), "ghp_token", &pr())
        .await
        .unwrap();
    assert_eq!(
        got,
        PullRequest {
            number: 42,
            url: "https://ghe.example.com/acme/gitops/pull/42".into(),
            existing: false
        }
    );
    let requests = forge.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("POST", "/api/v3/repos/acme/gitops/pulls")
    );
    assert_eq!(r.header("authorization"), "Bearer ghp_token");
    assert_eq!(r.header("accept"), "application/vnd.github+json");
    assert_eq!(r.header("x-github-api-version"), "2022-11-28");
    assert!(
        r.header("user-agent").starts_with("gitintent/"),
        "{}",
        r.header("user-agent")
    );
    assert_eq!(r.header("content-type"), "application/json");
    assert_eq!(
        r.body,
        json!({
            "title": "Add redis to production",
            "head": "gitintent/add-redis-to-production-1a2b3c4d",
            "base": "main",
            "body": "## Intent\n\n> Deploy redis\n"
        })
    );
}

#[tokio::test]
async fn an_existing_github_pull_request_is_found_and_returned() {
    let forge = FakeForge::start(vec![
        (
            422,
            json!({"message": "Validation Failed", "errors": [{"resource": "PullRequest", "code": "custom",
                   "message": "A pull request already exists for acme:gitintent/add-redis-to-production-1a2b3c4d."}]}),
        ),
        (
            200,
            json!([{"number": 7, "html_url": "https://github.com/acme/gitops/pull/7"}]),
        ),
    ]);
    let got = propose::open_pull_request(&github(&forge.url), "t", &pr())
        .await
        .unwrap();
    assert_eq!((got.number, got.existing), (7, true));
    let requests = forge.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].method, "GET");
    assert_eq!(
        requests[1].path,
        "/api/v3/repos/acme/gitops/pulls?head=acme%3Agitintent%2Fadd-redis-to-production-1a2b3c4d&base=main&state=open"
    );
    assert_eq!(requests[1].header("authorization"), "Bearer t");
}

#[tokio::test]
async fn github_errors_keep_the_forges_message_and_never_the_token() {
    let forge = FakeForge::start(vec![(401, json!({"message": "Bad credentials"}))]);
    let err = propose::open_pull_request(&github(&forge.url), "secret-token", &pr())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Forge { status: 401, .. }), "{text}");
    assert!(text.contains("Bad credentials"), "{text}");
    assert!(!text.contains("secret-token"), "{text}");
}

#[tokio::test]
async fn gitlab_merge_requests_are_created_with_the_documented_request() {
    let forge = FakeForge::start(vec![(
        201,
        json!({"iid": 5, "web_url": "https://gitlab.example.com/platform/infra/gitops/-/merge_requests/5"}),
    )]);
    let got = propose::open_pull_request(&gitlab(&forge.url), "glpat-x", &pr())
        .await
        .unwrap();
    assert_eq!((got.number, got.existing), (5, false));
    let r = &forge.requests()[0];
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        (
            "POST",
            "/api/v4/projects/platform%2Finfra%2Fgitops/merge_requests"
        )
    );
    assert_eq!(r.header("private-token"), "glpat-x");
    assert_eq!(r.header("authorization"), "");
    assert_eq!(
        r.body,
        json!({
            "source_branch": "gitintent/add-redis-to-production-1a2b3c4d",
            "target_branch": "main",
            "title": "Add redis to production",
            "description": "## Intent\n\n> Deploy redis\n",
            "remove_source_branch": true
        })
    );
}

#[tokio::test]
async fn an_existing_gitlab_merge_request_is_found_and_returned() {
    let forge = FakeForge::start(vec![
        (
            409,
            json!({"message": ["Another open merge request already exists for this source branch: !3"]}),
        ),
        (
            200,
            json!([{"iid": 3, "web_url": "https://gitlab.example.com/p/-/merge_requests/3"}]),
        ),
    ]);
    let got = propose::open_pull_request(&gitlab(&forge.url), "t", &pr())
        .await
        .unwrap();
    assert_eq!((got.number, got.existing), (3, true));
    let r = &forge.requests()[1];
    assert_eq!(r.method, "GET");
    assert_eq!(
        r.path,
        "/api/v4/projects/platform%2Finfra%2Fgitops/merge_requests?source_branch=gitintent%2Fadd-redis-to-production-1a2b3c4d&target_branch=main&state=opened"
    );
}

#[tokio::test]
async fn an_unreachable_forge_is_a_clear_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = propose::open_pull_request(&github(&format!("http://127.0.0.1:{port}")), "t", &pr())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ForgeHttp { .. }), "{err}");
    assert!(err.to_string().contains("cannot reach the forge"), "{err}");
}
