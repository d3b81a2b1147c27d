//! `Workspace`: a repository opened at a base, planned and diffed against,
//! as `plan --repo`, `propose` and the service use it.

use git2::Repository;
use gitintent::plan::Planner;
use gitintent::repo::{diff, IndexCache, Snapshot};
use gitintent::{Intent, Workspace};

use super::{commit_all, git_repo, shared, write, FLUX_PRODUCTION, REDIS};

fn flux_repo() -> tempfile::TempDir {
    git_repo(
        Some(&shared("flux2-kustomize-helm-example")),
        &[
            ("apps/production/kustomization.yaml", FLUX_PRODUCTION),
            (".gitintent.yaml", "layout: apps/{environment}/{name}/\n"),
        ],
    )
}

#[tokio::test]
async fn a_workspace_plans_diffs_and_absorbs_as_the_separate_steps_do() {
    let dir = flux_repo();
    let ws = Workspace::open(dir.path(), None, &mut IndexCache::new()).unwrap();
    assert_eq!(ws.base().reference, "refs/heads/main");
    let head = Repository::open(dir.path())
        .unwrap()
        .refname_to_id("refs/heads/main")
        .unwrap();
    assert_eq!(ws.base().commit, head.to_string());
    let intent = Intent::new(REDIS, None).unwrap();
    let mut plan = ws.plan(&intent, &Planner::Builtin).await.unwrap();
    assert!(!plan.has_errors(), "{:?}", plan.findings);

    // The same diff as repo::diff on a snapshot opened by hand.
    let snapshot = Snapshot::open_default(dir.path()).unwrap();
    let by_hand = diff(ws.index(), &snapshot, &plan.files, &plan.in_place).unwrap();
    let before = plan.findings.len();
    let absorbed = ws.absorb(&mut plan).unwrap();
    assert_eq!(
        serde_json::to_value(&absorbed).unwrap(),
        serde_json::to_value(&by_hand).unwrap()
    );
    assert!(absorbed
        .changes
        .iter()
        .any(|c| c.path == "apps/production/kustomization.yaml"));
    assert_eq!(plan.findings.len(), before + by_hand.findings.len());
}

#[test]
fn a_workspace_opened_at_a_commit_stays_there_when_the_branch_moves() {
    let dir = flux_repo();
    let git = Repository::open(dir.path()).unwrap();
    let first = git.refname_to_id("refs/heads/main").unwrap().to_string();
    let ws = Workspace::open_at(dir.path(), "refs/heads/main", &first, &mut IndexCache::new()).unwrap();
    write(dir.path(), &[("apps/production/later.yaml", "kind: ConfigMap\n")]);
    let second = commit_all(&git, "later").to_string();
    assert_ne!(first, second);
    // Reopened for a diff or a proposal: the same commit, named as the base.
    let snapshot = ws.snapshot().unwrap();
    assert_eq!(snapshot.commit().to_string(), first);
    assert_eq!(snapshot.reference(), "refs/heads/main");
    assert!(snapshot.read("apps/production/later.yaml").unwrap().is_none());
    let clone = ws.clone();
    assert_eq!(clone.base(), ws.base());
}
