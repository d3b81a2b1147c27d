//! `commit_plan`: the composition the CLI and the service share.

use gitintent::pipeline::{self, Context};
use gitintent::plan::Planner;
use gitintent::propose::{self, Error, Options, Status};
use gitintent::repo::{Index, IndexCache, Snapshot};
use gitintent::Intent;

use super::{author, TestRepo};

const REDIS: &str =
    "Deploy a Redis cluster with 3 replicas, persistent storage and automatic failover in production";

async fn plan_at(t: &TestRepo) -> (Snapshot, Index, pipeline::Plan) {
    let snapshot = Snapshot::open_base(&t.path, None).unwrap();
    let index = Index::build(&snapshot, &mut IndexCache::new()).unwrap();
    let ctx = Context::from_snapshot(&snapshot)
        .unwrap()
        .with_conventions(index.conventions());
    let intent = Intent::new(REDIS, None).unwrap();
    let plan = pipeline::run(&intent, &Planner::Builtin, &ctx).await.unwrap();
    (snapshot, index, plan)
}

fn options() -> Options {
    Options {
        plan_id: "plan-1".into(),
        author: Some(author()),
        ..Options::default()
    }
}

#[tokio::test]
async fn a_plan_is_committed_on_the_snapshot_it_was_diffed_against() {
    let t = TestRepo::new(true);
    let (snapshot, index, plan) = plan_at(&t).await;
    let committed = propose::commit_plan(&snapshot, &index, &plan, &options()).unwrap();
    let p = &committed.proposal;
    assert_eq!(p.status, Status::Created);
    assert_eq!(p.base, "main");
    assert_eq!(p.base_commit, snapshot.commit().to_string());
    assert_eq!(p.stats.files_added, committed.changeset.files().len());
    let repo = t.open();
    let commit = repo.find_commit(git2::Oid::from_str(&p.commit).unwrap()).unwrap();
    let message = commit.message().unwrap();
    assert!(message.contains("Gitintent-Plan-Id: plan-1"), "{message}");
    assert!(
        message.contains(&format!(
            "Gitintent-Spec-Sha256: {}",
            propose::spec_sha256(&plan.spec)
        )),
        "{message}"
    );
    for file in committed.changeset.files() {
        let entry = commit
            .tree()
            .unwrap()
            .get_path(std::path::Path::new(&file.path))
            .unwrap();
        assert_eq!(
            repo.find_blob(entry.id()).unwrap().content(),
            file.content.as_bytes()
        );
    }
    let pr = committed.pull_request(&plan, "main");
    assert_eq!(
        (pr.title.as_str(), pr.head.as_str(), pr.base.as_str()),
        ("Add redis to production", p.branch.as_str(), "main")
    );
    assert!(
        pr.body.contains("## Findings") && pr.body.contains("## Changes"),
        "{}",
        pr.body
    );

    // main moves on after the snapshot was taken: the same plan on the same snapshot is
    // still "already proposed", on the commit it was diffed against.
    t.advance_main("clusters/staging/apps/other/a.yaml");
    let again = propose::commit_plan(&snapshot, &index, &plan, &options()).unwrap();
    assert_eq!(
        (again.proposal.status, again.proposal.commit.as_str()),
        (Status::Unchanged, p.commit.as_str())
    );
}

#[tokio::test]
async fn a_plan_the_base_already_holds_is_nothing_to_change() {
    let t = TestRepo::new(true);
    let (_, _, plan) = plan_at(&t).await;
    let files: Vec<(&str, &str)> = plan
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.content.as_str()))
        .collect();
    super::commit_files(&t.open(), "refs/heads/main", &files, "already merged");
    let (snapshot, index, plan) = plan_at(&t).await;
    let before = t.refs();
    let err = propose::commit_plan(&snapshot, &index, &plan, &options()).unwrap_err();
    assert!(
        matches!(err, gitintent::Error::Propose(Error::NothingToChange { .. })),
        "{err}"
    );
    assert_eq!(t.refs(), before);
}
