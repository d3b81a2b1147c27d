//! The forges around their happy path (issue 13): configuration checked
//! before the first write, error answers shown as text, tokens trimmed,
//! rate limits waited out within a bound, forks, the GitLab lookup filtered
//! on the source project, OAuth tokens. Real HTTP against the fake forge.

use gitintent::propose::{self, Error, ForgeAuth, ForgeConfig, ForgeKind, PullRequestRequest};
use serde_json::json;

use super::{gitintent, stderr};
use crate::propose::{bare_remote, refs, TestRepo};
use crate::util::fake_forge::FakeForge;

const HEAD: &str = "gitintent/add-redis-to-production-1a2b3c4d";
const REDIS: &str =
    "Deploy a Redis cluster with 3 replicas, persistent storage and automatic failover in production";

fn pr() -> PullRequestRequest {
    PullRequestRequest {
        title: "Add redis to production".into(),
        body: "body".into(),
        head: HEAD.into(),
        base: "main".into(),
    }
}

fn config(kind: ForgeKind, url: &str, repo: &str) -> ForgeConfig {
    ForgeConfig {
        kind,
        url: Some(url.into()),
        repo: repo.into(),
        fork: None,
        auth: None,
    }
}

#[tokio::test]
async fn github_422_and_gitlab_messages_read_as_text() {
    let forge = FakeForge::start(vec![(
        422,
        json!({"message": "Validation Failed", "errors": [{"resource": "PullRequest", "code": "custom",
               "message": "No commits between main and gitintent/add-redis"}]}),
    )]);
    let err = propose::open_pull_request(&config(ForgeKind::Github, &forge.url, "acme/gitops"), "t", &pr())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Validation Failed: No commits between main and gitintent/add-redis"),
        "{err}"
    );

    let forge = FakeForge::start(vec![
        (
            422,
            json!({"message": ["Source branch does not exist", "Target branch is invalid"]}),
        ),
        (
            401,
            json!({"error": "invalid_token", "error_description": "Token is expired. You can either do re-authorization or token refresh."}),
        ),
    ]);
    let gitlab = config(ForgeKind::Gitlab, &forge.url, "platform/gitops");
    let err = propose::open_pull_request(&gitlab, "t", &pr())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(": Source branch does not exist; Target branch is invalid"),
        "{err}"
    );
    assert!(!err.contains("[\""), "raw JSON: {err}");
    let err = propose::open_pull_request(&gitlab, "t", &pr())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("invalid_token: Token is expired"), "{err}");
    assert!(err.contains("the token was refused"), "{err}");
}

#[tokio::test]
async fn rate_limits_are_waited_out_within_a_bound_then_reported_with_a_time() {
    let reset = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1)
    .to_string();
    let forge = FakeForge::start_with_headers(vec![
        (
            403,
            vec![("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", &reset)],
            json!({"message": "API rate limit exceeded"}),
        ),
        (
            201,
            vec![],
            json!({"number": 4, "html_url": "https://github.com/acme/gitops/pull/4"}),
        ),
    ]);
    let github = config(ForgeKind::Github, &forge.url, "acme/gitops");
    let got = propose::open_pull_request(&github, "t", &pr()).await.unwrap();
    assert_eq!(got.number, 4);
    assert_eq!(forge.requests().len(), 2, "retried once");

    let forge = FakeForge::start_with_headers(vec![
        (
            429,
            vec![("retry-after", "1")],
            json!({"message": "429 Too Many Requests"}),
        ),
        (
            201,
            vec![],
            json!({"iid": 2, "web_url": "https://gitlab.example.com/p/-/merge_requests/2"}),
        ),
    ]);
    let gitlab = config(ForgeKind::Gitlab, &forge.url, "platform/gitops");
    assert_eq!(
        propose::open_pull_request(&gitlab, "t", &pr())
            .await
            .unwrap()
            .number,
        2
    );

    // Longer than the bound: no wait, a message saying when to retry.
    let forge = FakeForge::start_with_headers(vec![(
        429,
        vec![("retry-after", "3600")],
        json!({"message": "slow down"}),
    )]);
    let started = std::time::Instant::now();
    let err = propose::open_pull_request(&config(ForgeKind::Github, &forge.url, "acme/gitops"), "t", &pr())
        .await
        .unwrap_err();
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert!(
        matches!(
            err,
            Error::RateLimited {
                retry_after: 3600,
                ..
            }
        ),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("retry in 3600 s (at ") && text.ends_with(" UTC)"),
        "{text}"
    );
}

#[tokio::test]
async fn github_forks_send_owner_branch_and_head_repo() {
    let forge = FakeForge::start(vec![
        (
            422,
            json!({"message": "Validation Failed", "errors": [{"message": "A pull request already exists for someone:x."}]}),
        ),
        (
            200,
            json!([{"number": 8, "html_url": "https://github.com/acme/gitops/pull/8"}]),
        ),
    ]);
    let mut github = config(ForgeKind::Github, &forge.url, "acme/gitops");
    github.fork = Some("someone/gitops-fork".into());
    let got = propose::open_pull_request(&github, "t", &pr()).await.unwrap();
    assert_eq!((got.number, got.existing), (8, true));
    let requests = forge.requests();
    assert_eq!(requests[0].path, "/api/v3/repos/acme/gitops/pulls");
    assert_eq!(requests[0].body["head"], format!("someone:{HEAD}"));
    assert_eq!(requests[0].body["head_repo"], "someone/gitops-fork");
    assert!(
        requests[1].path.contains("head=someone%3Agitintent%2F"),
        "{}",
        requests[1].path
    );
}

#[tokio::test]
async fn gitlab_forks_target_the_upstream_project_and_lookups_filter_the_source() {
    // From a fork: the upstream's id, then the merge request from the fork's project.
    let forge = FakeForge::start(vec![
        (200, json!({"id": 10, "path_with_namespace": "platform/gitops"})),
        (
            201,
            json!({"iid": 6, "web_url": "https://gitlab.example.com/platform/gitops/-/merge_requests/6"}),
        ),
    ]);
    let mut gitlab = config(ForgeKind::Gitlab, &forge.url, "platform/gitops");
    gitlab.fork = Some("someone/gitops".into());
    gitlab.auth = Some(ForgeAuth::Oauth);
    assert_eq!(
        propose::open_pull_request(&gitlab, "oauth-tok", &pr())
            .await
            .unwrap()
            .number,
        6
    );
    let requests = forge.requests();
    assert_eq!(requests[0].path, "/api/v4/projects/platform%2Fgitops");
    assert_eq!(
        requests[1].path,
        "/api/v4/projects/someone%2Fgitops/merge_requests"
    );
    assert_eq!(requests[1].body["target_project_id"], 10);
    for r in &requests {
        assert_eq!(r.header("authorization"), "Bearer oauth-tok");
        assert_eq!(r.header("private-token"), "");
    }

    // Not from a fork: a fork's open request with the same branch name is not ours.
    let forge = FakeForge::start(vec![
        (
            409,
            json!({"message": ["Another open merge request already exists for this source branch: !3"]}),
        ),
        (
            200,
            json!([
                {"iid": 9, "web_url": "https://gitlab.example.com/p/-/merge_requests/9", "source_project_id": 99, "target_project_id": 10},
                {"iid": 3, "web_url": "https://gitlab.example.com/p/-/merge_requests/3", "source_project_id": 10, "target_project_id": 10}
            ]),
        ),
    ]);
    let gitlab = config(ForgeKind::Gitlab, &forge.url, "platform/gitops");
    let got = propose::open_pull_request(&gitlab, "t", &pr()).await.unwrap();
    assert_eq!((got.number, got.existing), (3, true));
    assert_eq!(forge.requests()[0].header("private-token"), "t");
}

/// A working repository with `origin` at a fresh bare remote and `.gitintent.yaml` committed.
fn repo_with(config: &str) -> (TestRepo, tempfile::TempDir, std::path::PathBuf) {
    let t = TestRepo::new(false);
    let (dir, remote) = bare_remote(&t);
    t.open()
        .remote("origin", &format!("file://{}", remote.display()))
        .unwrap();
    t.commit_config(config);
    (t, dir, remote)
}

#[test]
fn forge_configuration_errors_are_found_before_anything_is_written() {
    // .gitintent.yaml, extra flags, the token variable, the message expected.
    type Case<'a> = (&'a str, Vec<&'a str>, (&'a str, &'a str), &'a str);
    let cases: Vec<Case<'_>> = vec![
        (
            "forge: {kind: github, url: \"ftp://ghe.example.com\", repo: acme/gitops}\n",
            vec![],
            ("GITINTENT_FORGE_TOKEN", "t"),
            "must start with https://",
        ),
        (
            "forge: {kind: github, url: \"http://ghe.example.com\", repo: acme/gitops}\n",
            vec![],
            ("GITINTENT_FORGE_TOKEN", "t"),
            "http:// only for a loopback address",
        ),
        (
            "forge: {kind: github, repo: acme}\n",
            vec![],
            ("GITINTENT_FORGE_TOKEN", "t"),
            "is not an owner/name path",
        ),
        (
            "forge: {kind: github, repo: acme/gitops/extra}\n",
            vec![],
            ("GITINTENT_FORGE_TOKEN", "t"),
            "must be owner/name",
        ),
        (
            "forge: {kind: github, repo: acme/gitops}\n",
            vec![],
            ("GITINTENT_FORGE_TOKEN", "ghp_one\nghp_two"),
            "contains whitespace (U+000A)",
        ),
        (
            "forge: {kind: github, repo: acme/gitops}\n",
            vec!["--base", "v1"],
            ("GITINTENT_FORGE_TOKEN", "t"),
            "--base v1 is a tag",
        ),
    ];
    for (config, extra, env, want) in cases {
        let (t, _dir, remote) = repo_with(config);
        let repo = t.open();
        let main = repo.refname_to_id("refs/heads/main").unwrap();
        repo.reference("refs/tags/v1", main, false, "tag").unwrap();
        let (before, remote_before) = (t.refs(), refs(&remote));
        let root = t.path.to_str().unwrap().to_string();
        let mut args = vec!["propose", REDIS, "--repo", &root, "--push", "--pr"];
        args.extend(extra);
        let out = gitintent(&args, &[env]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{config}: {err}");
        assert!(err.contains(want), "{want:?} not in: {err}");
        assert!(!err.contains("ghp_one"), "the token is shown: {err}");
        assert_eq!(
            (t.refs(), refs(&remote)),
            (before, remote_before),
            "{config}: written"
        );
    }
}

#[test]
fn a_token_with_a_trailing_newline_is_trimmed() {
    let forge = FakeForge::start(vec![(
        201,
        json!({"number": 1, "html_url": "https://github.example.com/acme/gitops/pull/1"}),
    )]);
    let (t, _dir, _remote) = repo_with(&format!(
        "forge:\n  kind: github\n  url: {}\n  repo: acme/gitops\n",
        forge.url
    ));
    let root = t.path.to_str().unwrap().to_string();
    let out = gitintent(
        &["propose", REDIS, "--repo", &root, "--push", "--pr"],
        &[("GITINTENT_FORGE_TOKEN", "tok-123\n")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(forge.requests()[0].header("authorization"), "Bearer tok-123");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_checks_the_forge_before_it_commits_or_pushes() {
    use crate::util::service::{client, plan, send, token_blocks, Gitops, Service, ADMIN};
    let gitops = Gitops::new();
    let block = format!(
        "{}forge = {{ kind = \"gitlab\", url = \"ftp://gitlab.example.com\", repo = \"platform/gitops\" }}\n",
        gitops.repository_block()
    );
    let service = Service::start(&format!("{block}{}", token_blocks())).await;
    let made = plan(
        &service,
        ADMIN,
        json!({ "intent": "Deploy memcached in staging", "repo": "gitops" }),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.text);
    let id = made.json["id"].as_str().unwrap();
    let before = refs(&gitops.work());
    let proposed = send(
        client()
            .post(service.url(&format!("/v1/plans/{id}/proposal")))
            .bearer_auth(ADMIN),
    )
    .await;
    assert_eq!(proposed.status, 409, "{}", proposed.text);
    assert_eq!(proposed.json["error"]["code"], "proposal_refused");
    assert!(proposed.text.contains("forge"), "{}", proposed.text);
    assert_eq!(gitops.remote_branches(), ["main"], "pushed before the check");
    assert_eq!(refs(&gitops.work()), before, "committed before the check");
}
