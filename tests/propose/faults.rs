//! Faults: each gives a clear error and leaves no half-written branch or stray ref.

use std::os::unix::fs::PermissionsExt;

use gitintent::propose::{self, Credentials, Error, PushOptions};

use super::{request, TestRepo};

fn push_options(remote: &str) -> PushOptions {
    PushOptions {
        remote: remote.into(),
        credentials: Credentials::default(),
        force: false,
        lease: None,
    }
}

#[test]
fn a_directory_that_is_not_a_repository_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = propose::commit(&request(dir.path(), "redis")).unwrap_err();
    assert!(matches!(err, Error::NotARepository { .. }), "{err}");
    assert!(err.to_string().contains("is not a git repository"), "{err}");
    assert!(err.is_bad_input());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing was created"
    );
    let missing = dir.path().join("missing");
    assert!(matches!(
        propose::commit(&request(&missing, "redis")),
        Err(Error::NotARepository { .. })
    ));
}

#[test]
fn a_missing_base_is_refused() {
    let t = TestRepo::new(true);
    let before = t.refs();
    let mut req = request(&t.path, "redis");
    req.base = "release-9".into();
    let err = propose::commit(&req).unwrap_err();
    assert!(err.to_string().contains("base \"release-9\" not found"), "{err}");
    assert_eq!(t.refs(), before);
}

#[test]
fn a_held_ref_lock_is_reported_and_the_branch_is_not_created() {
    let t = TestRepo::new(true);
    let req = request(&t.path, "redis");
    let branch = propose::default_branch(&req.summary, &req.trailers.spec_sha256, "main");
    let lock = t.path.join(format!("refs/heads/{branch}.lock"));
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    std::fs::write(&lock, "").unwrap();
    let before = t.refs();
    let err = propose::commit(&req).unwrap_err();
    assert!(matches!(err, Error::Locked { .. }), "{err}");
    assert!(err.to_string().contains(".lock file exists"), "{err}");
    assert_eq!(t.refs(), before);
    assert!(lock.exists(), "someone else's lock is left alone");
    std::fs::remove_file(&lock).unwrap();
    assert!(propose::commit(&req).is_ok(), "works once the lock is gone");
}

/// True when permission bits are enforced for this user (not root).
fn permissions_enforced(dir: &std::path::Path) -> bool {
    let probe = dir.join("probe");
    std::fs::create_dir(&probe).unwrap();
    std::fs::set_permissions(&probe, std::fs::Permissions::from_mode(0o555)).unwrap();
    let enforced = std::fs::write(probe.join("x"), "").is_err();
    std::fs::set_permissions(&probe, std::fs::Permissions::from_mode(0o755)).unwrap();
    enforced
}

/// Makes directories read-only for the duration of a test: chmod for ordinary users,
/// `chattr +i` for root (whom chmod does not stop). Undone on drop, even on panic.
struct ReadOnly {
    dirs: Vec<std::path::PathBuf>,
    immutable: bool,
}

impl ReadOnly {
    /// `None` when neither works here (root without `chattr`).
    fn apply(dirs: Vec<std::path::PathBuf>) -> Option<ReadOnly> {
        let scratch = tempfile::tempdir().unwrap();
        let immutable = !permissions_enforced(scratch.path());
        let guard = ReadOnly { dirs, immutable };
        for dir in &guard.dirs {
            if immutable {
                let ok = std::process::Command::new("chattr")
                    .arg("+i")
                    .arg(dir)
                    .status()
                    .is_ok_and(|s| s.success());
                if !ok || std::fs::write(dir.join("probe"), "").is_ok() {
                    let _ = std::fs::remove_file(dir.join("probe"));
                    return None; // dropping the guard undoes what was applied
                }
            } else {
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
            }
        }
        Some(guard)
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        for dir in &self.dirs {
            if self.immutable {
                let _ = std::process::Command::new("chattr").arg("-i").arg(dir).status();
            } else {
                let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755));
            }
        }
    }
}

#[test]
fn a_read_only_repository_is_a_clear_error() {
    let t = TestRepo::new(true);
    let before = t.refs();
    let dirs = ["objects", "refs/heads"].map(|d| t.path.join(d)).to_vec();
    let Some(read_only) = ReadOnly::apply(dirs) else {
        eprintln!(
            "skipping: running as root without a working `chattr +i`; cannot make the repository read-only"
        );
        return;
    };
    let result = propose::commit(&request(&t.path, "redis"));
    drop(read_only);
    let err = result.unwrap_err();
    assert!(matches!(err, Error::Git { .. }), "{err}");
    assert!(err.to_string().starts_with("git: cannot"), "{err}");
    assert_eq!(t.refs(), before);
}

#[test]
fn an_unreachable_remote_is_a_clear_error_and_rollback_removes_the_branch() {
    let t = TestRepo::new(true);
    let before = t.refs();
    let p = propose::commit(&request(&t.path, "redis")).unwrap();
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let missing = tempfile::tempdir().unwrap();
    for remote in [
        format!("git://127.0.0.1:{port}/gitops.git"),
        format!("file://{}/nowhere.git", missing.path().display()),
    ] {
        let err = propose::push(&t.path, &p.branch, &push_options(&remote)).unwrap_err();
        assert!(matches!(err, Error::Push { .. }), "{remote}: {err}");
        assert!(
            err.to_string().contains(&format!("cannot push {}", p.branch)),
            "{err}"
        );
    }
    let err = propose::push(&t.path, &p.branch, &push_options("upstream")).unwrap_err();
    assert!(matches!(err, Error::RemoteNotFound(_)), "{err}");
    propose::rollback(&t.path, &p).unwrap();
    assert_eq!(t.refs(), before, "the failed proposal left no ref behind");
}

#[test]
fn rollback_of_an_update_restores_the_previous_commit_and_spares_moved_branches() {
    let t = TestRepo::new(true);
    let first = propose::commit(&request(&t.path, "redis")).unwrap();
    let mut changed = request(&t.path, "redis");
    changed.files[0].content.push_str("# v2\n");
    let second = propose::commit(&changed).unwrap();
    propose::rollback(&t.path, &second).unwrap();
    let refname = format!("refs/heads/{}", first.branch);
    assert_eq!(
        t.open().refname_to_id(&refname).unwrap().to_string(),
        first.commit
    );
    // The branch has moved on since `first` was made: rollback leaves it alone.
    let third = propose::commit(&changed).unwrap();
    propose::rollback(&t.path, &first).unwrap();
    assert_eq!(
        t.open().refname_to_id(&refname).unwrap().to_string(),
        third.commit
    );
}
