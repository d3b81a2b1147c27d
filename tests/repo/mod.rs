//! The repo side against real git repositories: snapshots at a ref, the
//! index and its cache, the diff with conflicts and wiring, and `plan --repo`.
//!
//! Each test copies a directory (often one of the GitOps repositories in tests/fixtures)
//! into a temporary directory and commits it with git2 on `main`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use git2::{Repository, RepositoryInitOptions};
use gitintent::pipeline::{self, Context};
use gitintent::plan::Planner;
use gitintent::repo::{self, diff, Changeset, Index, IndexCache, SkipReason, Snapshot, Status};
use gitintent::{Intent, Severity};

pub(crate) use crate::util::tree::commit_all;

const REDIS: &str =
    "Deploy a Redis cluster with 3 replicas, persistent storage and automatic failover in production";

fn shared(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/gitops-repos")
        .join(name)
}

/// A git repository on `main` holding a copy of `from` plus `extra` files.
fn git_repo(from: Option<&Path>, extra: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    if let Some(from) = from {
        crate::util::tree::copy_dir(from, dir.path());
    }
    write(dir.path(), extra);
    let repo = Repository::init_opts(dir.path(), RepositoryInitOptions::new().initial_head("main")).unwrap();
    commit_all(&repo, "initial");
    dir
}

fn write(root: &Path, files: &[(&str, &str)]) {
    for (path, content) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
}

/// What the propose step will do: snapshot → context → plan → index → diff.
fn plan_against(root: &Path, intent: &str) -> (pipeline::Plan, Index, Changeset) {
    let snapshot = Snapshot::open_default(root).unwrap();
    let index = Index::build(&snapshot, &mut IndexCache::new()).unwrap();
    let ctx = Context::from_snapshot(&snapshot)
        .unwrap()
        .with_conventions(index.conventions());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let intent = Intent::new(intent, None).unwrap();
    let plan = runtime
        .block_on(pipeline::run(&intent, &Planner::Builtin, &ctx))
        .unwrap();
    let changes = diff(&index, &snapshot, &plan.files, &plan.in_place).unwrap();
    (plan, index, changes)
}

fn gitintent(args: &[&str]) -> Output {
    crate::util::bin::gitintent()
        .args(args)
        .output()
        .expect("the binary runs")
}

/// `gitintent plan REDIS --repo root --format json`, which must succeed.
fn plan_redis_json(root: &Path) -> serde_json::Value {
    let out = gitintent(&[
        "plan",
        REDIS,
        "--repo",
        root.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn rules(changes: &Changeset) -> Vec<(Severity, &str)> {
    changes
        .findings
        .iter()
        .map(|f| (f.severity, f.rule.as_str()))
        .collect()
}

const FLUX_PRODUCTION: &str = "\
# Apps deployed to the production cluster.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../base/podinfo # the demo app
  # - ../base/retired
patches:
  - path: podinfo-values.yaml
    target:
      kind: HelmRelease
";

#[test]
fn wiring_adds_the_app_to_the_flux_production_kustomization_keeping_comments() {
    let dir = git_repo(
        Some(&shared("flux2-kustomize-helm-example")),
        &[
            ("apps/production/kustomization.yaml", FLUX_PRODUCTION),
            (".gitintent.yaml", "layout: apps/{environment}/{name}/\n"),
        ],
    );
    let (plan, index, changes) = plan_against(dir.path(), REDIS);
    assert!(!plan.has_errors(), "{:?}", plan.findings);
    assert!(!changes.has_conflicts(), "{:?}", changes.findings);
    let wiring = changes
        .changes
        .iter()
        .find(|c| c.path == "apps/production/kustomization.yaml")
        .expect("a wiring change");
    assert_eq!(wiring.status, Status::Modified);
    assert_eq!(wiring.reason, Some("wiring"));
    // The plan's files then hold every file it adds or modifies, the wiring edit included.
    let mut absorbed = plan.clone();
    absorbed.absorb(&changes);
    let wired: Vec<&gitintent::manifest::File> = absorbed
        .files
        .iter()
        .filter(|f| f.path == "apps/production/kustomization.yaml")
        .collect();
    assert_eq!(wired.len(), 1);
    assert_eq!(Some(wired[0].content.as_str()), wiring.content.as_deref());
    assert_eq!(absorbed.files.len(), plan.files.len() + 1);
    assert_eq!(
        wiring.content.as_deref(),
        Some(
            "\
# Apps deployed to the production cluster.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../base/podinfo # the demo app
  # - ../base/retired
  - redis
patches:
  - path: podinfo-values.yaml
    target:
      kind: HelmRelease
"
        )
    );
    assert!(wiring.diff.contains("+  - redis\n"), "{}", wiring.diff);
    // Every rendered file is new, and the wiring edit is among the files to commit.
    let files = changes.files();
    assert_eq!(files.len(), plan.files.len() + 1);
    assert!(plan.files.iter().all(|f| changes
        .changes
        .iter()
        .any(|c| c.path == f.path && c.status == Status::Added)));
    // The flux repo's values patch is a patch, not a second HelmRelease.
    assert_eq!(
        index
            .skip_reason("apps/production/podinfo-values.yaml")
            .map(|s| s.reason),
        Some(SkipReason::Patch)
    );
    assert!(index
        .resources()
        .iter()
        .any(|r| r.identity().kind == "HelmRelease" && r.path() == "apps/base/podinfo/release.yaml"));
}

#[test]
fn wiring_adds_the_app_to_the_podinfo_production_overlay() {
    let dir = git_repo(
        Some(&shared("podinfo-deploy")),
        &[(".gitintent.yaml", "layout: overlays/{environment}/{name}/\n")],
    );
    let (_, _, changes) = plan_against(dir.path(), REDIS);
    let wiring = changes
        .changes
        .iter()
        .find(|c| c.reason == Some("wiring"))
        .expect("a wiring change");
    assert_eq!(wiring.path, "overlays/production/kustomization.yaml");
    assert_eq!(
        wiring.content.as_deref(),
        Some(
            "\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: production
resources:
  - ../../bases/backend
  - ../../bases/frontend
  - ../../bases/cache
  - ../../bases/database
  - namespace.yaml
  - redis
transformers:
  - labels.yaml
"
        )
    );
}

#[test]
fn a_bare_repository_is_read_from_git_objects() {
    let work = git_repo(Some(&shared("podinfo-deploy")), &[]);
    let bare = tempfile::tempdir().unwrap();
    let status = Command::new("git")
        .args(["clone", "-q", "--bare"])
        .arg(work.path())
        .arg(bare.path().join("repo.git"))
        .status()
        .unwrap();
    assert!(status.success());
    let snapshot = Snapshot::open_default(&bare.path().join("repo.git")).unwrap();
    assert_eq!(snapshot.reference(), "refs/heads/main");
    let index = Index::build(&snapshot, &mut IndexCache::new()).unwrap();
    assert!(index
        .resources()
        .iter()
        .any(|r| r.identity().kind == "Deployment" && r.identity().name == "frontend"));
    assert!(index
        .kustomization("overlays/production/kustomization.yaml")
        .is_some());
    // The conventions: overlays are environments, namespaces from the overlays.
    let conventions = index.conventions();
    assert_eq!(conventions.environments, ["dev", "production", "staging"]);
    assert!(conventions.namespaces.contains(&"production".to_string()));
}

fn fingerprint(root: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap().display().to_string();
                out.push((rel, std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

#[test]
fn a_plan_leaves_head_index_and_working_tree_untouched() {
    let dir = git_repo(
        Some(&shared("flux2-kustomize-helm-example")),
        &[(".gitintent.yaml", "layout: apps/{environment}/{name}/\n")],
    );
    // A dirty state: an uncommitted edit, a staged file and an untracked file.
    let kustomization = dir.path().join("apps/production/kustomization.yaml");
    std::fs::write(&kustomization, "# local edit\nresources: []\n").unwrap();
    write(
        dir.path(),
        &[("staged.yaml", "a: 1\n"), ("untracked.yaml", "b: 2\n")],
    );
    let repo = Repository::open(dir.path()).unwrap();
    let mut idx = repo.index().unwrap();
    idx.add_path(Path::new("staged.yaml")).unwrap();
    idx.write().unwrap();
    let head = repo.head().unwrap().target();
    let before = fingerprint(dir.path());

    let json = plan_redis_json(dir.path());

    assert_eq!(
        fingerprint(dir.path()),
        before,
        "the working tree or .git changed"
    );
    assert_eq!(repo.head().unwrap().target(), head);
    // The diff is against the committed base, not the local edit.
    let wiring = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["path"] == "apps/production/kustomization.yaml")
        .unwrap();
    assert!(wiring["diff"]
        .as_str()
        .unwrap()
        .contains(" - ../base/podinfo\n+  - redis"));
}

#[test]
fn plan_json_adds_base_and_changes() {
    let dir = git_repo(Some(&shared("podinfo-deploy")), &[]);
    let json = plan_redis_json(dir.path());
    assert_eq!(json["base"]["ref"], "refs/heads/main");
    assert_eq!(json["base"]["commit"].as_str().unwrap().len(), 40);
    let changes = json["changes"].as_array().unwrap();
    assert_eq!(changes.len(), json["files"].as_array().unwrap().len());
    let sts = changes
        .iter()
        // podinfo's production build is overlays/production: the new app goes there.
        .find(|c| c["path"] == "overlays/production/redis/statefulset.yaml")
        .unwrap_or_else(|| panic!("{changes:?}"));
    assert_eq!(sts["status"], "added");
    assert!(sts["diff"]
        .as_str()
        .unwrap()
        .starts_with("--- /dev/null\n+++ b/overlays/production/redis/statefulset.yaml\n"));
    assert_eq!(sts["resources"][0]["kind"], "StatefulSet");
    assert_eq!(sts["resources"][0]["status"], "added");
    // Existing fields stay.
    for key in [
        "intent", "planner", "spec", "files", "findings", "usage", "attempts",
    ] {
        assert!(json.get(key).is_some(), "{key} missing");
    }
}

#[test]
fn a_missing_base_ref_is_named_with_the_branches_that_exist() {
    let dir = git_repo(None, &[("a.yaml", "a: 1\n")]);
    let err = Snapshot::open(dir.path(), "release").unwrap_err();
    assert!(matches!(err, repo::Error::MissingRef { .. }), "{err}");
    let out = gitintent(&[
        "plan",
        REDIS,
        "--repo",
        dir.path().to_str().unwrap(),
        "--base",
        "release",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ref \"release\" not found") && stderr.contains("branches: main"),
        "{stderr}"
    );
}

#[test]
fn a_directory_that_is_not_a_git_repository_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = Snapshot::open_default(dir.path()).unwrap_err();
    assert!(matches!(err, repo::Error::NotARepository { .. }), "{err}");
    let out = gitintent(&[
        "plan",
        REDIS,
        "--repo",
        dir.path().to_str().unwrap(),
        "--base",
        "main",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["error"]["code"], "bad_input");
    assert!(json["error"]["message"]
        .as_str()
        .unwrap()
        .contains("is not a git repository"));
    // Without --base, a plain directory plans as before, without a diff.
    let out = gitintent(&[
        "plan",
        REDIS,
        "--repo",
        dir.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json.get("changes").is_none());
}

#[test]
fn unparseable_yaml_and_helm_templates_are_recorded_not_fatal() {
    let dir = git_repo(
        Some(&shared("podinfo-deploy")),
        &[
            (
                "broken/bad.yaml",
                "apiVersion: v1\nkind: Service\nmetadata: {name: x\n",
            ),
            (
                "charts/web/templates/svc.yaml",
                "{{- if .Values.service }}\napiVersion: v1\nkind: Service\n{{- end }}\n",
            ),
            ("charts/web/values.yaml", "service: true\n"),
        ],
    );
    let (plan, index, changes) = plan_against(dir.path(), REDIS);
    assert!(!plan.has_errors());
    assert!(!changes.has_conflicts());
    let bad = index.skip_reason("broken/bad.yaml").unwrap();
    assert_eq!(bad.reason, SkipReason::Unparseable);
    assert!(bad.detail.contains("line"), "{}", bad.detail);
    assert_eq!(
        index.skip_reason("charts/web/templates/svc.yaml").unwrap().reason,
        SkipReason::HelmTemplate
    );
    assert_eq!(
        index.skip_reason("charts/web/values.yaml").unwrap().reason,
        SkipReason::ValuesFile
    );
    let out = gitintent(&["plan", REDIS, "--repo", dir.path().to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

mod diff;
mod workspace;
