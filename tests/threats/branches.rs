//! A `propose --push` killed with SIGKILL while pushing leaves its local
//! branch behind; the next run of the same proposal adopts it: the branch is
//! found unchanged and pushed (issue 13, item 8).

use std::time::{Duration, Instant};

use crate::propose::{bare_remote, TestRepo};

const REDIS: &str = "Deploy redis with 3 replicas and automatic failover in production";

fn local_branches(repo: &git2::Repository) -> Vec<(String, git2::Oid)> {
    repo.references_glob("refs/heads/gitintent/*")
        .unwrap()
        .map(|r| {
            let r = r.unwrap();
            (r.name().unwrap().to_string(), r.target().unwrap())
        })
        .collect()
}

#[test]
fn a_branch_left_by_a_killed_push_is_adopted_by_the_next_run() {
    let t = TestRepo::new(false);
    let (_dir, remote) = bare_remote(&t);
    // A remote that accepts the connection and never answers: the push hangs.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (accepted, connected) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept() {
            let _ = accepted.send(());
            held.push(stream);
        }
    });
    t.open()
        .remote("origin", &format!("git://127.0.0.1:{port}/remote.git"))
        .unwrap();
    let path = t.path.to_str().unwrap().to_string();
    let mut child = crate::util::bin::gitintent()
        .args(["propose", REDIS, "--repo", &path, "--push"])
        .env("GITINTENT_GIT_TIMEOUT_SECS", "120")
        .env("GITINTENT_AUTHOR_NAME", "Killed")
        .env("GITINTENT_AUTHOR_EMAIL", "killed@example.com")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    connected
        .recv_timeout(Duration::from_secs(60))
        .expect("the push connects");
    child.kill().unwrap(); // SIGKILL: no rollback runs.
    child.wait().unwrap();
    let repo = t.open();
    let stale = local_branches(&repo);
    assert_eq!(stale.len(), 1, "the killed push left its branch: {stale:?}");

    // The next run, with a reachable remote, adopts the branch and pushes it.
    repo.remote_set_url("origin", &format!("file://{}", remote.display()))
        .unwrap();
    let started = Instant::now();
    let out = super::gitintent(
        &["propose", REDIS, "--repo", &path, "--push", "--format", "json"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", super::stderr(&out));
    assert!(started.elapsed() < Duration::from_secs(120));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "unchanged", "{v}");
    assert_eq!(v["pushed"], true, "{v}");
    let (name, commit) = &stale[0];
    assert_eq!(v["commit"], commit.to_string());
    let pushed = git2::Repository::open_bare(&remote)
        .unwrap()
        .refname_to_id(name)
        .unwrap();
    assert_eq!(&pushed, commit);
    assert_eq!(local_branches(&repo), stale, "no second branch");
}
