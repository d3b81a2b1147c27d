//! The commit: contents, untouched checkout, idempotence, updates, refusals.

use git2::Oid;
use gitintent::finding::{Finding, Severity};
use gitintent::propose::{self, Error, Status};

use super::{request, TestRepo, EXISTING};

fn blob_at(repo: &git2::Repository, commit: &str, path: &str) -> Option<String> {
    let commit = repo.find_commit(Oid::from_str(commit).unwrap()).unwrap();
    let entry = commit.tree().unwrap().get_path(std::path::Path::new(path)).ok()?;
    let blob = repo.find_blob(entry.id()).unwrap();
    Some(String::from_utf8(blob.content().to_vec()).unwrap())
}

#[test]
fn proposal_is_one_commit_on_the_base_and_leaves_the_checkout_alone() {
    let t = TestRepo::new(false);
    // A user mid-work: a modified tracked file and a staged new file.
    std::fs::write(t.path.join("README.md"), "local edit\n").unwrap();
    std::fs::write(t.path.join("staged.txt"), "staged\n").unwrap();
    let repo = t.open();
    let mut index = repo.index().unwrap();
    index.add_path(std::path::Path::new("staged.txt")).unwrap();
    index.write().unwrap();
    let index_before = std::fs::read(t.path.join(".git/index")).unwrap();
    let head_before = std::fs::read_to_string(t.path.join(".git/HEAD")).unwrap();
    let main = repo.refname_to_id("refs/heads/main").unwrap();

    let p = propose::commit(&request(&t.path, "redis")).unwrap();

    assert_eq!(p.status, Status::Created);
    assert!(
        p.branch.starts_with("gitintent/add-redis-to-production-"),
        "{}",
        p.branch
    );
    assert_eq!(p.base_commit, main.to_string());
    let commit = repo.find_commit(Oid::from_str(&p.commit).unwrap()).unwrap();
    assert_eq!(commit.parent_ids().collect::<Vec<_>>(), [main]);
    assert_eq!(
        repo.refname_to_id(&format!("refs/heads/{}", p.branch)).unwrap(),
        commit.id()
    );
    // Base files kept, planned files added.
    assert_eq!(
        blob_at(&repo, &p.commit, EXISTING).as_deref(),
        Some("kind: Deployment\n")
    );
    assert_eq!(
        blob_at(&repo, &p.commit, "README.md").as_deref(),
        Some("# gitops\n")
    );
    assert_eq!(
        blob_at(&repo, &p.commit, "clusters/production/apps/redis/service.yaml").as_deref(),
        Some("kind: service\nmetadata:\n  name: redis\n")
    );
    assert_eq!((p.stats.files_added, p.stats.files_modified), (2, 0));
    let message = commit.message().unwrap();
    assert!(
        message.starts_with("Add redis to production\n\nDeploy redis in production\n\n"),
        "{message}"
    );
    for trailer in [
        "Gitintent-Plan-Id: plan-redis",
        "Gitintent-Planner: builtin",
        "Gitintent-Model: none",
    ] {
        assert!(message.contains(trailer), "{message}");
    }
    assert_eq!(commit.author().name().unwrap(), "Gitintent Test");
    assert_eq!(commit.committer().email().unwrap(), "test@example.com");
    // Working tree, index and HEAD untouched.
    assert_eq!(
        std::fs::read_to_string(t.path.join("README.md")).unwrap(),
        "local edit\n"
    );
    assert!(!t.path.join("clusters/production").exists());
    assert_eq!(std::fs::read(t.path.join(".git/index")).unwrap(), index_before);
    assert_eq!(
        std::fs::read_to_string(t.path.join(".git/HEAD")).unwrap(),
        head_before
    );
    super::fsck(&t.path);
}

#[test]
fn bare_repositories_work() {
    let t = TestRepo::new(true);
    let p = propose::commit(&request(&t.path, "redis")).unwrap();
    assert_eq!(p.status, Status::Created);
    let repo = t.open();
    assert!(repo.is_bare());
    assert_eq!(
        blob_at(&repo, &p.commit, "clusters/production/apps/redis/deployment.yaml").as_deref(),
        Some("kind: deployment\nmetadata:\n  name: redis\n")
    );
    super::fsck(&t.path);
}

#[test]
fn the_same_proposal_twice_is_unchanged_and_new_files_add_a_commit() {
    let t = TestRepo::new(true);
    let first = propose::commit(&request(&t.path, "redis")).unwrap();
    let again = propose::commit(&request(&t.path, "redis")).unwrap();
    assert_eq!(again.status, Status::Unchanged);
    assert_eq!(
        (again.branch.as_str(), again.commit.as_str()),
        (first.branch.as_str(), first.commit.as_str())
    );

    // Same branch, different content (e.g. a template fix): a commit on top, fast-forward.
    let mut changed = request(&t.path, "redis");
    changed.files[0].content.push_str("  labels: {a: b}\n");
    let updated = propose::commit(&changed).unwrap();
    assert_eq!(updated.status, Status::Updated);
    assert_eq!(updated.branch, first.branch);
    assert_eq!(updated.previous.as_deref(), Some(first.commit.as_str()));
    let repo = t.open();
    let tip = repo.find_commit(Oid::from_str(&updated.commit).unwrap()).unwrap();
    assert_eq!(tip.parent_id(0).unwrap().to_string(), first.commit);
    let branches: Vec<_> = t
        .refs()
        .into_iter()
        .filter(|(r, _)| r.contains("gitintent/"))
        .collect();
    assert_eq!(branches.len(), 1, "{branches:?}");
}

#[test]
fn a_branch_on_an_older_base_is_rebuilt_only_when_asked() {
    let t = TestRepo::new(true);
    let first = propose::commit(&request(&t.path, "redis")).unwrap();
    let new_main = t.advance_main("clusters/staging/apps/other/a.yaml");
    let before = t.refs();
    let err = propose::commit(&request(&t.path, "redis")).unwrap_err();
    assert!(matches!(err, Error::Stale { .. }), "{err}");
    assert!(err.to_string().contains("needs consent"), "{err}");
    assert_eq!(t.refs(), before);

    let mut rebase = request(&t.path, "redis");
    rebase.rebase = true;
    let rebuilt = propose::commit(&rebase).unwrap();
    assert_eq!(rebuilt.status, Status::Updated);
    assert_eq!(rebuilt.branch, first.branch);
    let repo = t.open();
    let tip = repo.find_commit(Oid::from_str(&rebuilt.commit).unwrap()).unwrap();
    assert_eq!(tip.parent_ids().collect::<Vec<_>>(), [new_main]);
    assert!(blob_at(&repo, &rebuilt.commit, "clusters/staging/apps/other/a.yaml").is_some());
}

#[test]
fn a_branch_holding_someone_elses_commit_is_never_touched() {
    let t = TestRepo::new(true);
    let p = propose::commit(&request(&t.path, "redis")).unwrap();
    let refname = format!("refs/heads/{}", p.branch);
    super::commit_files(&t.open(), &refname, &[("fixup.txt", "human\n")], "reviewer fixup");
    let before = t.refs();
    let mut changed = request(&t.path, "redis");
    changed.files[0].content.push_str("# more\n");
    let err = propose::commit(&changed).unwrap_err();
    assert!(matches!(err, Error::NotOurs { .. }), "{err}");
    assert!(err.to_string().contains("did not make"), "{err}");
    assert_eq!(t.refs(), before);

    // A branch someone created by hand at the base is not ours either.
    let repo = t.open();
    let main = repo.refname_to_id("refs/heads/main").unwrap();
    repo.reference("refs/heads/gitintent/manual", main, false, "by hand")
        .unwrap();
    let mut manual = request(&t.path, "redis");
    manual.branch = Some("gitintent/manual".into());
    let err = propose::commit(&manual).unwrap_err();
    assert!(err.to_string().contains("points at the base itself"), "{err}");
}

#[test]
fn refusals_leave_every_ref_as_it_was() {
    let t = TestRepo::new(true);
    let before = t.refs();
    let cases: Vec<(gitintent::propose::Request, &str)> = vec![
        (
            {
                let mut r = request(&t.path, "redis");
                r.findings = vec![Finding::new(
                    Severity::Error,
                    "schema",
                    "StatefulSet/redis",
                    "/spec",
                    "bad",
                )];
                r
            },
            "1 error finding",
        ),
        (
            {
                let mut r = request(&t.path, "redis");
                r.branch = Some("main".into());
                r
            },
            "protected branch \"main\"",
        ),
        (
            {
                let mut r = request(&t.path, "redis");
                r.protected = vec!["gitintent/add-*".into()];
                r
            },
            "matches \"gitintent/add-*\"",
        ),
        (
            {
                let mut r = request(&t.path, "redis");
                r.branch = Some("feature/redis".into());
                r
            },
            "only writes branches under gitintent/",
        ),
        (
            {
                let mut r = request(&t.path, "redis");
                r.files[1].path = "../../outside.yaml".into();
                r
            },
            "not a plain relative path",
        ),
        (
            {
                let mut r = request(&t.path, "redis");
                r.files[1].path = ".git/hooks/post-checkout".into();
                r
            },
            "not a plain relative path",
        ),
        (
            {
                let mut r = request(&t.path, "redis");
                r.files = vec![gitintent::manifest::File {
                    path: EXISTING.into(),
                    content: "kind: Deployment\n".into(),
                }];
                r
            },
            "nothing to change",
        ),
        (
            {
                let mut r = request(&t.path, "redis");
                r.files[0].path = "README.md/x.yaml".into();
                r
            },
            "\"README.md\" in the base is a file, not a directory",
        ),
    ];
    for (req, want) in cases {
        let err = propose::commit(&req).unwrap_err();
        let chain = format!("{err}");
        assert!(chain.contains(want), "want {want:?} in {chain}");
        assert_eq!(t.refs(), before, "after {want:?}");
    }
}

#[test]
fn a_proposal_branch_checked_out_in_the_working_tree_is_left_alone() {
    let t = TestRepo::new(false);
    let p = propose::commit(&request(&t.path, "redis")).unwrap();
    let repo = t.open();
    repo.set_head(&format!("refs/heads/{}", p.branch)).unwrap();
    let before = t.refs();
    let mut changed = request(&t.path, "redis");
    changed.files[0].content.push_str("# v2\n");
    let err = propose::commit(&changed).unwrap_err();
    assert!(
        err.to_string().contains("is checked out in the working tree"),
        "{err}"
    );
    assert_eq!(t.refs(), before);
}
