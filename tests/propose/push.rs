//! Pushing to real remotes: a bare `file://` repository and `git daemon` on 127.0.0.1.

use gitintent::propose::{self, Credentials, Error, PushOptions, Status};

use super::{bare_remote, refs, request, GitDaemon, TestRepo};

fn options(remote: &str, force: bool) -> PushOptions {
    PushOptions {
        remote: remote.into(),
        credentials: Credentials::default(),
        force,
        lease: None,
    }
}

fn remote_branch(remote: &std::path::Path, branch: &str) -> Option<String> {
    refs(remote)
        .into_iter()
        .find(|(r, _)| *r == format!("refs/heads/{branch}"))
        .map(|(_, oid)| oid)
}

#[test]
fn a_branch_is_pushed_to_a_file_remote_by_url_and_by_name() {
    let t = TestRepo::new(false);
    let (_dir, remote) = bare_remote(&t);
    let url = format!("file://{}", remote.display());
    let p = propose::commit(&request(&t.path, "redis")).unwrap();
    propose::push(&t.path, &p.branch, &options(&url, false)).unwrap();
    assert_eq!(
        remote_branch(&remote, &p.branch).as_deref(),
        Some(p.commit.as_str())
    );
    super::fsck(&remote);

    // A configured remote: the remote-tracking ref follows.
    t.open().remote("origin", &url).unwrap();
    let q = propose::commit(&request(&t.path, "kafka")).unwrap();
    propose::push(&t.path, &q.branch, &options("origin", false)).unwrap();
    assert_eq!(
        remote_branch(&remote, &q.branch).as_deref(),
        Some(q.commit.as_str())
    );
    let tracking = t
        .open()
        .refname_to_id(&format!("refs/remotes/origin/{}", q.branch))
        .unwrap();
    assert_eq!(tracking.to_string(), q.commit);
    // Pushing the unchanged branch again is a no-op success.
    propose::push(&t.path, &q.branch, &options("origin", false)).unwrap();
}

#[test]
fn a_branch_is_pushed_to_git_daemon_over_tcp() {
    let t = TestRepo::new(true);
    let (dir, remote) = bare_remote(&t);
    let Some(daemon) = GitDaemon::start(dir.path()) else {
        return;
    };
    let url = format!("git://127.0.0.1:{}/remote.git", daemon.port);
    let p = propose::commit(&request(&t.path, "redis")).unwrap();
    propose::push(&t.path, &p.branch, &options(&url, false)).unwrap();
    assert_eq!(
        remote_branch(&remote, &p.branch).as_deref(),
        Some(p.commit.as_str())
    );
    super::fsck(&remote);
}

#[test]
fn non_fast_forward_is_rejected_clearly_and_rebase_replaces_the_branch() {
    let t = TestRepo::new(true);
    let (dir, remote) = bare_remote(&t);
    let file_url = format!("file://{}", remote.display());
    let first = propose::commit(&request(&t.path, "redis")).unwrap();
    propose::push(&t.path, &first.branch, &options(&file_url, false)).unwrap();

    // main moves on; the proposal is rebuilt on it (not a fast-forward of the pushed branch).
    t.advance_main("clusters/staging/apps/other/a.yaml");
    let mut rebase = request(&t.path, "redis");
    rebase.rebase = true;
    let rebuilt = propose::commit(&rebase).unwrap();
    assert_eq!(rebuilt.status, Status::Updated);

    let daemon = GitDaemon::start(dir.path());
    let mut urls = vec![file_url.clone()];
    if let Some(d) = &daemon {
        urls.push(format!("git://127.0.0.1:{}/remote.git", d.port));
    }
    for url in &urls {
        let err = propose::push(&t.path, &rebuilt.branch, &options(url, false)).unwrap_err();
        match &err {
            Error::Rejected { non_fast_forward, .. } => assert!(non_fast_forward, "{url}: {err}"),
            other => panic!("{url}: expected a rejection, got {other}"),
        }
        assert!(err.to_string().contains("commits this one lacks"), "{err}");
        assert_eq!(
            remote_branch(&remote, &first.branch).as_deref(),
            Some(first.commit.as_str()),
            "the remote branch is untouched"
        );
    }
    let url = urls.last().unwrap();
    // The lease: replaced only while the remote is where the first proposal left it.
    let mut leased = options(url, true);
    leased.lease = rebuilt.previous.clone();
    assert_eq!(leased.lease.as_deref(), Some(first.commit.as_str()));
    propose::push(&t.path, &rebuilt.branch, &leased).unwrap();
    assert_eq!(
        remote_branch(&remote, &rebuilt.branch).as_deref(),
        Some(rebuilt.commit.as_str())
    );
    super::fsck(&remote);
}

#[test]
fn a_rebase_never_overwrites_commits_someone_else_pushed() {
    let t = TestRepo::new(true);
    let (dir, remote) = bare_remote(&t);
    let url = format!("file://{}", remote.display());
    let first = propose::commit(&request(&t.path, "redis")).unwrap();
    propose::push(&t.path, &first.branch, &options(&url, false)).unwrap();
    // A reviewer pushes a fix-up on top of the proposal.
    let r = git2::Repository::open_bare(&remote).unwrap();
    let parent = r
        .find_commit(git2::Oid::from_str(&first.commit).unwrap())
        .unwrap();
    let sig = git2::Signature::now("Reviewer", "reviewer@example.com").unwrap();
    let theirs = r
        .commit(
            Some(&format!("refs/heads/{}", first.branch)),
            &sig,
            &sig,
            "fix-up",
            &parent.tree().unwrap(),
            &[&parent],
        )
        .unwrap()
        .to_string();
    t.advance_main("clusters/staging/apps/other/a.yaml");
    let mut rebase = request(&t.path, "redis");
    rebase.rebase = true;
    let rebuilt = propose::commit(&rebase).unwrap();
    let daemon = GitDaemon::start(dir.path());
    let mut urls = vec![url];
    if let Some(d) = &daemon {
        urls.push(format!("git://127.0.0.1:{}/remote.git", d.port));
    }
    for url in &urls {
        let mut leased = options(url, true);
        leased.lease = rebuilt.previous.clone();
        let err = propose::push(&t.path, &rebuilt.branch, &leased).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("someone pushed to it since"), "{url}: {message}");
        assert!(message.contains(&theirs), "{message}");
        assert_eq!(
            remote_branch(&remote, &first.branch).as_deref(),
            Some(theirs.as_str()),
            "{url}: their commit stays"
        );
    }
}

#[test]
fn an_http_remote_gets_the_token_as_basic_auth_once() {
    use crate::util::fake_forge::FakeForge;
    use serde_json::json;

    let t = TestRepo::new(true);
    let p = propose::commit(&request(&t.path, "redis")).unwrap();
    // 401 asks for credentials; the retry with the token is refused (403), so the push
    // fails after showing what was sent.
    let server = FakeForge::start(vec![(401, json!({})), (403, json!({"message": "read only"}))]);
    let url = format!("{}/acme/gitops.git", server.url);
    let opts = PushOptions {
        remote: url,
        credentials: Credentials {
            token: Some("tok-42".into()),
            username: None,
            ssh_key: None,
        },
        force: false,
        lease: None,
    };
    let err = propose::push(&t.path, &p.branch, &opts).unwrap_err();
    assert!(matches!(err, Error::Push { .. }), "{err}");
    assert!(!err.to_string().contains("tok-42"), "{err}");
    let requests = server.requests();
    assert!(requests.len() >= 2, "{requests:?}");
    assert_eq!(
        requests[0].path,
        "/acme/gitops.git/info/refs?service=git-receive-pack"
    );
    assert_eq!(requests[0].header("authorization"), "");
    // base64("x-access-token:tok-42")
    assert_eq!(
        requests[1].header("authorization"),
        "Basic eC1hY2Nlc3MtdG9rZW46dG9rLTQy"
    );
}

#[test]
fn an_http_remote_without_credentials_says_which_to_set() {
    use crate::util::fake_forge::FakeForge;

    let t = TestRepo::new(true);
    let p = propose::commit(&request(&t.path, "redis")).unwrap();
    let server = FakeForge::start(vec![(401, serde_json::json!({}))]);
    let url = format!("{}/acme/gitops.git", server.url);
    let err = propose::push(&t.path, &p.branch, &options(&url, false)).unwrap_err();
    let chain = format!("{err}: {}", std::error::Error::source(&err).unwrap());
    assert!(chain.contains("GITINTENT_GIT_TOKEN"), "{chain}");
    assert_eq!(server.requests().len(), 1, "no credential was guessed");
}
