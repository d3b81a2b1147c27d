//! Deletes: whole directories, single documents, kept claims.

use super::*;

#[test]
fn deleting_an_app_directory_removes_it_and_unwires_it_keeping_comments() {
    let repo = shop();
    let out = run(
        &repo,
        &spec("staging", delete("memcached")),
        Scope::Stated("staging"),
    )
    .unwrap();
    assert_eq!(
        out.deleted,
        [
            "clusters/staging/apps/memcached/kustomization.yaml",
            "clusters/staging/apps/memcached/memcached.yaml"
        ]
    );
    assert_eq!(out.modified, ["clusters/staging/apps/kustomization.yaml"]);
    assert_eq!(
        out.files[0].content,
        "# staging apps\nresources:\n  - orders-worker\n"
    );
}

#[test]
fn deleting_keeps_the_volume_claim() {
    let claim = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: memcached-data\n  namespace: cache\nspec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: 1Gi\n";
    let repo = repo(&[
        (
            "clusters/staging/apps/kustomization.yaml",
            "resources:\n  - memcached\n",
        ),
        (
            "clusters/staging/apps/memcached/kustomization.yaml",
            "resources:\n  - memcached.yaml\n  - pvc.yaml\n",
        ),
        ("clusters/staging/apps/memcached/memcached.yaml", MEMCACHED),
        ("clusters/staging/apps/memcached/pvc.yaml", claim),
    ]);
    let out = run(
        &repo,
        &spec("staging", delete("memcached")),
        Scope::Stated("staging"),
    )
    .unwrap();
    assert_eq!(out.deleted, ["clusters/staging/apps/memcached/memcached.yaml"]);
    assert_eq!(
        out.modified,
        ["clusters/staging/apps/memcached/kustomization.yaml"]
    );
    assert_eq!(out.files[0].content, "resources:\n  - pvc.yaml\n");
    assert_eq!(out.findings[0].rule, "volume-kept");
}

#[test]
fn deleting_one_of_two_workloads_in_a_file_keeps_the_other() {
    let both = format!("{API}---\n{}", MEMCACHED.split("---\n").next().unwrap());
    let repo = repo(&[("clusters/production/apps/platform.yaml", &both)]);
    let out = run(
        &repo,
        &spec("production", delete("memcached")),
        Scope::Stated("production"),
    )
    .unwrap();
    assert!(out.deleted.is_empty());
    assert_eq!(out.files[0].content, API);
}
