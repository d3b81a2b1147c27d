//! Helm-rendered workloads end to end, on fluxcd/flux2-kustomize-helm-example:
//! the HelmRelease's values are changed in the asked environment's own
//! values patch, and `kubectl kustomize` shows only that environment changed.

use super::envs::read_at;
use super::podinfo::propose;
use super::*;

/// A copy of the example repository, committed on `main`.
fn flux_example() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    crate::util::tree::copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/gitops-repos/flux2-kustomize-helm-example"),
        dir.path(),
    );
    commit_working_tree(dir.path(), "flux2-kustomize-helm-example");
    dir
}

#[test]
fn a_helm_release_is_scaled_in_the_staging_values_patch_only() {
    let repo = flux_example();
    let branch = propose(&repo, "scale podinfo to 3 replicas in staging");
    let before = read_at(repo.path(), "main", "apps/staging/podinfo-values.yaml").unwrap();
    let after = read_at(repo.path(), &branch, "apps/staging/podinfo-values.yaml").unwrap();
    assert_eq!(after, format!("{before}    replicaCount: 3\n"));
    for p in [
        "apps/base/podinfo/release.yaml",
        "apps/production/podinfo-values.yaml",
    ] {
        assert_eq!(
            read_at(repo.path(), &branch, p).unwrap(),
            read_at(repo.path(), "main", p).unwrap(),
            "{p} changed"
        );
    }
    assert_builds_differ_only_in(&repo, &branch, "apps", &["staging", "production"], &["staging"]);
}

#[test]
fn a_helm_release_gets_a_new_image_in_production_as_repository_and_tag() {
    let repo = flux_example();
    let o = builtin_json(
        "plan",
        &repo,
        "bump podinfo to ghcr.io/stefanprodan/podinfo:6.15.0 in production",
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", text(&o.stdout), text(&o.stderr));
    let plan = json_of(&o);
    assert_eq!(plan["operations"][0]["target"], "HelmRelease/podinfo", "{plan}");
    assert_eq!(plan["operations"][0]["reach"], json!(["production"]));
    let content = plan["files"][0]["content"].as_str().unwrap();
    assert!(
        content.ends_with("    image:\n      repository: ghcr.io/stefanprodan/podinfo\n      tag: 6.15.0\n"),
        "{content}"
    );
    let rules: Vec<&str> = plan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"helm-values-unchecked"), "{rules:?}");
}
