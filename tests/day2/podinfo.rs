//! podinfo-deploy's Kustomize bases and overlays: a change for one environment.

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

#[test]
fn podinfo_a_base_shared_by_overlays_is_bumped_in_one_overlay_by_a_patch() {
    let repo = podinfo();
    let intent = "bump backend to ghcr.io/stefanprodan/podinfo:6.15.0 in staging";
    let o = gitintent(
        &[
            "propose",
            intent,
            "--planner",
            "builtin",
            "--repo",
            path(repo.path()),
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", text(&o.stdout), text(&o.stderr));
    let proposal = json_of(&o);
    let branch = proposal["proposal"]["branch"]
        .as_str()
        .or_else(|| proposal["branch"].as_str())
        .unwrap_or_else(|| panic!("{proposal}"))
        .to_string();
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
