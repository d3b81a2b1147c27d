//! Finding the target, and what the inventory reads.

use super::*;

#[test]
fn an_unknown_target_lists_the_closest_matches_and_creates_nothing() {
    let repo = shop();
    let set = Update {
        replicas: Some(2),
        ..Update::default()
    };
    let err = run(
        &repo,
        &spec("production", update("api-gatway", set)),
        Scope::Stated("production"),
    )
    .unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with("no workload named \"api-gatway\" in production; closest matches:"),
        "{message}"
    );
    assert!(
        message.contains(
            "Deployment/api-gateway in namespace edge (clusters/production/apps/api-gateway/deployment.yaml)"
        ),
        "{message}"
    );
    assert!(err.is_bad_target());
}

#[test]
fn a_target_in_another_environment_is_named_not_guessed() {
    let repo = shop();
    let err = run(
        &repo,
        &spec("production", delete("memcached")),
        Scope::Stated("production"),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "memcached is not in production; it is in staging: say that environment, or pick a workload of production"
    );
    // When the environment was only assumed, the target's own is used.
    let out = run(
        &repo,
        &spec("production", delete("memcached")),
        Scope::Assumed("production"),
    )
    .unwrap();
    assert_eq!(out.environment.as_deref(), Some("staging"));
}

#[test]
fn without_a_repository_a_change_says_so() {
    let err = apply(
        &spec("production", delete("redis")),
        &Inventory::default(),
        Scope::Stated("production"),
        &BTreeMap::new(),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("there is no repository to look it up in"),
        "{err}"
    );
}

#[test]
fn the_same_name_in_two_namespaces_is_ambiguous_until_one_is_named() {
    let other = API.replace("namespace: edge", "namespace: partners");
    let repo = repo(&[
        ("clusters/production/edge/api-gateway.yaml", API),
        ("clusters/production/partners/api-gateway.yaml", &other),
    ]);
    let set = Update {
        replicas: Some(2),
        ..Update::default()
    };
    let mut s = spec("production", update("api-gateway", set));
    let err = run(&repo, &s, Scope::Stated("production")).unwrap_err();
    assert!(matches!(err, Error::Ambiguous { .. }), "{err}");
    assert!(err.to_string().contains("namespace partners"), "{err}");
    s.namespace = "partners".into();
    let out = run(&repo, &s, Scope::Stated("production")).unwrap();
    assert_eq!(out.modified, ["clusters/production/partners/api-gateway.yaml"]);
}

#[test]
fn a_binary_file_next_to_a_workload_is_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let git = git2::Repository::init_bare(dir.path()).unwrap();
    let files = vec![
        (
            "clusters/production/apps/api-gateway/deployment.yaml".to_string(),
            API.as_bytes().to_vec(),
        ),
        (
            "clusters/production/apps/api-gateway/logo.png".to_string(),
            vec![0x89, b'P', b'N', b'G', 0xff, 0x00],
        ),
    ];
    crate::repo::commit_files(&git, "refs/heads/main", &files, "init").unwrap();
    let snapshot = Snapshot::open_base(dir.path(), None).unwrap();
    let index = Index::build(&snapshot, &mut IndexCache::new()).unwrap();
    let inventory = Inventory::build(&snapshot, &index, &["production".to_string()]).unwrap();
    assert_eq!(inventory.workloads().len(), 1);
    assert!(inventory
        .text("clusters/production/apps/api-gateway/logo.png")
        .is_none());
}
