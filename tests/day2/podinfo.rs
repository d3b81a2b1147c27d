//! podinfo-deploy's Kustomize bases and overlays: a change for one environment.

use super::envs::read_at;
use super::*;

/// A copy of the shared podinfo-deploy tree, committed on `main`.
fn podinfo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    crate::util::tree::copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gitops-repos/podinfo-deploy"),
        dir.path(),
    );
    commit_working_tree(dir.path(), "podinfo");
    dir
}

/// `propose INTENT` with the builtin planner; the branch it made.
pub(super) fn propose(repo: &tempfile::TempDir, intent: &str) -> String {
    let o = builtin_json("propose", repo, intent);
    assert_eq!(o.status.code(), Some(0), "{}{}", text(&o.stdout), text(&o.stderr));
    let proposal = json_of(&o);
    proposal["branch"]
        .as_str()
        .unwrap_or_else(|| panic!("{proposal}"))
        .to_string()
}

#[test]
fn podinfo_a_base_shared_by_overlays_is_bumped_in_one_overlay_by_a_patch() {
    let repo = podinfo();
    let branch = propose(
        &repo,
        "bump backend to ghcr.io/stefanprodan/podinfo:6.15.0 in staging",
    );
    let git = Repository::open(repo.path()).unwrap();
    let branch_tree = git.revparse_single(&branch).unwrap().peel_to_tree().unwrap();
    let main_tree = git.revparse_single("main").unwrap().peel_to_tree().unwrap();
    let read = |tree: &git2::Tree, p: &str| -> Option<String> {
        let entry = tree.get_path(Path::new(p)).ok()?;
        let blob = entry.to_object(&git).ok()?.peel_to_blob().ok()?;
        Some(String::from_utf8(blob.content().to_vec()).unwrap())
    };
    // The base and the other overlays are untouched.
    for p in [
        "bases/backend/deployment.yaml",
        "overlays/production/kustomization.yaml",
        "overlays/dev/kustomization.yaml",
    ] {
        assert_eq!(read(&branch_tree, p), read(&main_tree, p), "{p} changed");
    }
    let patch = read(&branch_tree, "overlays/staging/backend-patch.yaml").expect("the patch is committed");
    assert!(
        patch.contains("kind: Deployment\nmetadata:\n  name: backend\n"),
        "{patch}"
    );
    assert!(
        patch.contains("        - name: backend\n          image: ghcr.io/stefanprodan/podinfo:6.15.0\n"),
        "{patch}"
    );
    let overlay = read(&branch_tree, "overlays/staging/kustomization.yaml").unwrap();
    let before = read(&main_tree, "overlays/staging/kustomization.yaml").unwrap();
    assert_eq!(
        overlay,
        format!("{before}patches:\n  - path: backend-patch.yaml\n")
    );
}

/// The podinfo tree where it really lives: under `deploy/`.
pub(super) fn podinfo_under_deploy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gitops-repos/podinfo-deploy");
    for sub in ["bases", "overlays", "secure", "webapp"] {
        crate::util::tree::copy_dir(&from.join(sub), &dir.path().join("deploy").join(sub));
    }
    // The fixture keeps podinfo's YAML only; Kustomize needs the files its
    // configMapGenerators read to build, so stand-ins are committed too.
    for script in [
        "bases/database/scripts/rollup.sh",
        "bases/database/scripts/backup.sh",
        "bases/frontend/scripts/warm-cache.sh",
        "bases/frontend/scripts/warm-cache-init.sh",
    ] {
        let file = dir.path().join("deploy").join(script);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, "# stand-in for the upstream file\n").unwrap();
    }
    commit_working_tree(dir.path(), "podinfo under deploy/");
    dir
}

/// The dangerous case of issue 14: with the overlays under `deploy/`, a
/// staging change used to edit the shared base and ship to every
/// environment. Checked with a real Kustomize build of every overlay.
#[test]
fn podinfo_under_deploy_a_staging_bump_changes_the_staging_build_only() {
    let repo = podinfo_under_deploy();
    let branch = propose(&repo, "bump the database-primary to postgres:16.4 in staging");
    let base = "deploy/bases/database/statefulset-primary.yaml";
    assert_eq!(
        read_at(repo.path(), "main", base),
        read_at(repo.path(), &branch, base),
        "the shared base was edited"
    );
    let envs = ["dev", "staging", "production"];
    if let Some(after) = assert_builds_differ_only_in(&repo, &branch, "deploy/overlays", &envs, &["staging"])
    {
        assert!(
            after["staging"].contains("image: postgres:16.4"),
            "{}",
            after["staging"]
        );
    }
}
