//! The diff against the index: conflicts, nothing to change, clean-up, the
//! cache, conventions, the base commit's policies, and `--write`.

use super::*;

const FOREIGN_STS: &str = "apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: redis
  namespace: redis
spec:
  serviceName: redis
  selector: {matchLabels: {app: redis}}
  template:
    metadata: {labels: {app: redis}}
    spec: {containers: [{name: redis, image: redis:7}]}
";

#[test]
fn the_same_resource_under_another_path_is_a_conflict() {
    let dir = git_repo(None, &[("legacy/redis.yaml", FOREIGN_STS)]);
    let (_, _, changes) = plan_against(dir.path(), REDIS);
    let conflict = changes
        .findings
        .iter()
        .find(|f| f.rule == "conflict-resource-elsewhere")
        .expect("a conflict");
    assert_eq!(conflict.severity, Severity::Error);
    assert!(
        conflict.message.contains("legacy/redis.yaml"),
        "{}",
        conflict.message
    );
    assert_eq!(
        conflict.file.as_deref(),
        Some("clusters/production/apps/redis/statefulset.yaml")
    );
    let out = gitintent(&["plan", REDIS, "--repo", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("conflict-resource-elsewhere"));
}

#[test]
fn a_workload_of_another_kind_with_the_same_name_is_a_conflict() {
    let deployment = FOREIGN_STS
        .replace("kind: StatefulSet", "kind: Deployment")
        .replace("  serviceName: redis\n", "");
    let dir = git_repo(None, &[("legacy/redis.yaml", &deployment)]);
    let (_, _, changes) = plan_against(dir.path(), REDIS);
    assert_eq!(rules(&changes), [(Severity::Error, "conflict-name-kind")]);
    assert!(changes.findings[0].message.contains("Deployment/redis"));
}

#[test]
fn a_file_gitintent_did_not_write_is_not_overwritten() {
    let service = "apiVersion: v1\nkind: Service\nmetadata: {name: redis, namespace: redis}\nspec: {ports: [{port: 6379}]}\n";
    let dir = git_repo(None, &[("clusters/production/apps/redis/service.yaml", service)]);
    let (_, _, changes) = plan_against(dir.path(), REDIS);
    let finding = changes
        .findings
        .iter()
        .find(|f| f.rule == "conflict-foreign-file")
        .expect("a foreign-file conflict");
    assert_eq!(finding.severity, Severity::Error);
    assert_eq!(
        finding.file.as_deref(),
        Some("clusters/production/apps/redis/service.yaml")
    );
}

#[test]
fn a_plan_already_in_the_repository_is_nothing_to_change_and_an_edit_is_a_field_diff() {
    let dir = git_repo(None, &[("README.md", "gitops\n")]);
    let (plan, _, changes) = plan_against(dir.path(), REDIS);
    assert!(!changes.is_noop());
    write(
        dir.path(),
        &plan
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.content.as_str()))
            .collect::<Vec<_>>(),
    );
    commit_all(&Repository::open(dir.path()).unwrap(), "redis");

    let (_, _, again) = plan_against(dir.path(), REDIS);
    assert!(
        again.is_noop(),
        "{:?}",
        again
            .changes
            .iter()
            .map(|c| (&c.path, c.status))
            .collect::<Vec<_>>()
    );
    assert!(again.files().iter().all(|f| plan.files.contains(f)));
    assert!(again.findings.is_empty(), "{:?}", again.findings);
    let out = gitintent(&["plan", REDIS, "--repo", dir.path().to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing to change"));

    let five = REDIS.replace("3 replicas", "5 replicas");
    let (_, _, edit) = plan_against(dir.path(), &five);
    assert!(
        edit.findings.is_empty(),
        "our own files are not foreign: {:?}",
        edit.findings
    );
    let sts = edit
        .changes
        .iter()
        .find(|c| c.path.ends_with("/statefulset.yaml"))
        .unwrap();
    assert_eq!(sts.status, Status::Modified);
    let replicas = sts.resources[0]
        .fields
        .iter()
        .find(|f| f.path == "/spec/replicas")
        .expect("a replicas change");
    assert_eq!(
        (replicas.old.clone(), replicas.new.clone()),
        (Some(serde_json::json!(3)), Some(serde_json::json!(5)))
    );
}

#[test]
fn files_the_plan_no_longer_produces_are_deleted_when_they_are_ours() {
    let dir = git_repo(None, &[("README.md", "gitops\n")]);
    let (plan, _, _) = plan_against(dir.path(), REDIS);
    let mut files: Vec<(&str, &str)> = plan
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.content.as_str()))
        .collect();
    let stale = plan.files.iter().find(|f| f.path.ends_with("/pdb.yaml")).unwrap();
    let stale_path = stale.path.replace("/pdb.yaml", "/old-pdb.yaml");
    files.push((&stale_path, &stale.content));
    files.push(("clusters/production/apps/redis/notes.yaml", "title: keep me\n"));
    write(dir.path(), &files);
    commit_all(&Repository::open(dir.path()).unwrap(), "redis with a stale file");
    let (_, _, changes) = plan_against(dir.path(), REDIS);
    assert_eq!(changes.deleted(), [stale_path]);
}

#[test]
fn the_cache_reparses_only_changed_blobs() {
    let dir = git_repo(Some(&shared("flux2-kustomize-helm-example")), &[]);
    let mut cache = IndexCache::new();
    let first = Index::build(&Snapshot::open_default(dir.path()).unwrap(), &mut cache).unwrap();
    assert!(first.stats().parsed > 10);
    assert_eq!(first.stats().reused, 0);
    let second = Index::build(&Snapshot::open_default(dir.path()).unwrap(), &mut cache).unwrap();
    assert_eq!(second.stats().parsed, 0);
    assert_eq!(second.stats().reused, first.stats().parsed);

    let release = dir.path().join("apps/base/podinfo/release.yaml");
    let text = std::fs::read_to_string(&release).unwrap();
    std::fs::write(&release, text.replace("interval:", "timeout: 5m\n  interval:")).unwrap();
    commit_all(&Repository::open(dir.path()).unwrap(), "edit");
    let third = Index::build(&Snapshot::open_default(dir.path()).unwrap(), &mut cache).unwrap();
    assert_eq!(third.stats().parsed, 1);
    assert_eq!(third.resources().len(), first.resources().len());
    // The cache holds this snapshot's blobs only.
    assert_eq!(cache.len(), third.stats().parsed + third.stats().reused);
}

#[test]
fn an_environment_the_repository_does_not_have_is_a_warning() {
    let dir = git_repo(Some(&shared("flux2-kustomize-helm-example")), &[]);
    let (plan, _, _) = plan_against(dir.path(), &REDIS.replace("in production", "in qa"));
    let finding = plan
        .findings
        .iter()
        .find(|f| f.rule == "environment-not-in-repo")
        .expect("a warning");
    assert_eq!(finding.severity, Severity::Warning);
    assert!(
        finding.message.contains("production, staging"),
        "{}",
        finding.message
    );
    let (plan, _, _) = plan_against(dir.path(), REDIS);
    assert!(plan.findings.iter().all(|f| f.rule != "environment-not-in-repo"));
}

#[test]
fn policies_and_config_are_read_from_the_base_commit() {
    let policy = "package main\n\ndeny contains msg if {\n  input.kind == \"StatefulSet\"\n  msg := \"no statefulsets here\"\n}\n";
    let dir = git_repo(
        None,
        &[
            (
                ".gitintent.yaml",
                "layout: apps/{environment}/{name}/\nenvironments: [production]\n",
            ),
            ("policies/no-sts.rego", policy),
        ],
    );
    // A working-tree edit that is not committed does not count.
    std::fs::write(dir.path().join(".gitintent.yaml"), "layout: elsewhere/{name}/\n").unwrap();
    let (plan, _, _) = plan_against(dir.path(), REDIS);
    assert!(plan
        .files
        .iter()
        .all(|f| f.path.starts_with("apps/production/redis/")));
    assert!(
        plan.findings
            .iter()
            .any(|f| f.is_error() && f.message.contains("no statefulsets here")),
        "{:?}",
        plan.findings
    );
}

#[test]
fn plan_write_wires_the_app_unless_the_kustomization_has_local_edits() {
    let dir = git_repo(
        Some(&shared("flux2-kustomize-helm-example")),
        &[(".gitintent.yaml", "layout: apps/{environment}/{name}/\n")],
    );
    let root = dir.path().to_str().unwrap();
    let kustomization = dir.path().join("apps/production/kustomization.yaml");
    let committed = std::fs::read_to_string(&kustomization).unwrap();
    let out = gitintent(&["plan", REDIS, "--repo", root, "--write"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir
        .path()
        .join("apps/production/redis/statefulset.yaml")
        .is_file());
    assert_eq!(
        std::fs::read_to_string(&kustomization).unwrap(),
        committed.replace("  - ../base/podinfo\n", "  - ../base/podinfo\n  - redis\n")
    );

    let local = "# mine\nresources: [../base/podinfo]\n";
    std::fs::write(&kustomization, local).unwrap();
    let out = gitintent(&["plan", REDIS, "--repo", root, "--write"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&kustomization).unwrap(), local);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not wiring apps/production/kustomization.yaml"));
}

#[test]
fn a_missing_object_is_a_clear_error() {
    let dir = git_repo(
        None,
        &[(
            "apps/web.yaml",
            "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n",
        )],
    );
    let snapshot = Snapshot::open_default(dir.path()).unwrap();
    let blob = snapshot.file("apps/web.yaml").unwrap().blob.to_string();
    std::fs::remove_file(dir.path().join(".git/objects").join(&blob[..2]).join(&blob[2..])).unwrap();
    let err = Index::build(&snapshot, &mut IndexCache::new()).unwrap_err();
    assert!(matches!(err, repo::Error::Object { .. }), "{err}");
    assert!(err.to_string().contains(&blob), "{err}");
    let out = gitintent(&["plan", REDIS, "--repo", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read blob"));
}
