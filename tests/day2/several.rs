//! Changes meant for several environments ("in staging and production",
//! "in all environments"), on podinfo's real layout under `deploy/` and an
//! `envs/<name>` layout: every environment is built with `kubectl
//! kustomize` before and after, and exactly the asked set changed.

use super::envs::{changed_files, promotion_layout, ENVS};
use super::podinfo::{podinfo_under_deploy, propose};
use super::*;

const PODINFO: [&str; 3] = ["dev", "production", "staging"];

/// Builds every environment at `main` and at `branch`; asserts that exactly
/// `asked` changed and that each of them builds with `expect`.
fn assert_exactly(
    repo: &tempfile::TempDir,
    branch: &str,
    root: &str,
    envs: &[&str],
    asked: &[&str],
    expect: &str,
) {
    let (Some(before), Some(after)) = (
        build_all_environments(repo.path(), "main", root, envs),
        build_all_environments(repo.path(), branch, root, envs),
    ) else {
        return;
    };
    for env in envs {
        if asked.contains(env) {
            assert_ne!(before[*env], after[*env], "{env} did not change");
            assert!(
                after[*env].contains(expect),
                "{env} lacks {expect:?}:\n{}",
                after[*env]
            );
        } else {
            assert_eq!(before[*env], after[*env], "{env} changed");
        }
    }
}

fn plan_builtin(repo: &tempfile::TempDir, intent: &str) -> Output {
    builtin_json("plan", repo, intent)
}

/// dev builds the backend base too, so the base stays as it is: staging and
/// production each get their own patch, and dev builds the same.
#[test]
fn staging_and_production_get_their_own_patch_and_dev_builds_the_same() {
    let repo = podinfo_under_deploy();
    let intent = "bump backend to ghcr.io/stefanprodan/podinfo:6.15.0 in staging and production";
    let plan = json_of(&plan_builtin(&repo, intent));
    assert_eq!(
        plan["spec"]["environments"],
        json!(["staging", "production"]),
        "{plan}"
    );
    assert_eq!(
        plan["operations"][0]["reach"],
        json!(["production", "staging"]),
        "{plan}"
    );
    let branch = propose(&repo, intent);
    assert_eq!(
        changed_files(repo.path(), &branch),
        [
            "deploy/overlays/production/backend-patch.yaml",
            "deploy/overlays/production/kustomization.yaml",
            "deploy/overlays/staging/backend-patch.yaml",
            "deploy/overlays/staging/kustomization.yaml",
        ]
    );
    assert_exactly(
        &repo,
        &branch,
        "deploy/overlays",
        &PODINFO,
        &["production", "staging"],
        "image: ghcr.io/stefanprodan/podinfo:6.15.0",
    );
}

/// Every environment builds the base: it is edited once, and the plan says
/// which environments "all" means.
#[test]
fn all_environments_edit_the_shared_base_once_and_say_which() {
    let repo = podinfo_under_deploy();
    let intent = "bump the frontend to ghcr.io/stefanprodan/podinfo:6.15.0 in all environments";
    let plan = json_of(&plan_builtin(&repo, intent));
    assert_eq!(plan["spec"]["environments"], json!(PODINFO), "{plan}");
    let assumptions = plan["spec"]["assumptions"].to_string();
    assert!(
        assumptions.contains("all environments: dev, production, staging"),
        "{assumptions}"
    );
    assert_eq!(plan["operations"][0]["reach"], json!(PODINFO), "{plan}");
    let branch = propose(&repo, intent);
    assert_eq!(
        changed_files(repo.path(), &branch),
        ["deploy/bases/frontend/deployment.yaml"]
    );
    let git = Repository::open(repo.path()).unwrap();
    let message = git.revparse_single(&branch).unwrap().peel_to_commit().unwrap();
    let message = message.message().unwrap();
    assert!(
        message.contains("dev, production, staging (deploy/bases/frontend/deployment.yaml)"),
        "{message}"
    );
    assert_exactly(
        &repo,
        &branch,
        "deploy/overlays",
        &PODINFO,
        &PODINFO,
        "image: ghcr.io/stefanprodan/podinfo:6.15.0",
    );
}

/// prod-us has its own replicas patch (edited in place); qa takes its count
/// from a component staging-eu shares (a patch of qa's own).
#[test]
fn two_environments_of_an_envs_layout_each_change_in_their_own_files() {
    let repo = promotion_layout(&[]);
    let branch = propose(&repo, "scale simple-deployment to 5 replicas in prod-us and qa");
    assert_eq!(
        changed_files(repo.path(), &branch),
        [
            "envs/prod-us/replicas.yml",
            "envs/qa/kustomization.yml",
            "envs/qa/simple-deployment-patch.yaml",
        ]
    );
    assert_exactly(&repo, &branch, "envs", &ENVS, &["prod-us", "qa"], "replicas: 5");
}

/// Everywhere: the base is edited, and each environment whose own
/// `version.yml` would still decide the image gets the new one there too.
#[test]
fn everywhere_reaches_environments_whose_own_patch_sets_the_value() {
    let repo = promotion_layout(&[]);
    let branch = propose(
        &repo,
        "bump simple-deployment to docker.io/acme/simple-env-app:3.0 everywhere",
    );
    let changed = changed_files(repo.path(), &branch);
    for env in ENVS {
        assert!(
            changed.contains(&format!("envs/{env}/version.yml")),
            "{changed:?}"
        );
    }
    assert_exactly(
        &repo,
        &branch,
        "envs",
        &ENVS,
        &ENVS,
        "image: docker.io/acme/simple-env-app:3.0",
    );
}

/// A removal on a shared base cannot be patched into one overlay: the
/// refusal says so and names the environments to list.
#[test]
fn a_removal_of_a_shared_base_for_some_environments_is_refused_naming_them() {
    let repo = podinfo_under_deploy();
    for intent in [
        "remove the backend in staging",
        "remove the backend in staging and production",
    ] {
        let o = plan_builtin(&repo, intent);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{intent}: {}{}",
            text(&o.stdout),
            text(&o.stderr)
        );
        let err = text(&o.stderr);
        assert!(
            err.contains("a removal cannot be written as a patch in staging's overlay")
                && err.contains("deployed by dev, production, staging")
                && !err.contains("has no overlay kustomization"),
            "{intent}: {err}"
        );
    }
}

/// The model names the set; a name the repository does not have is refused
/// with exit 2 and the repository's environments, nothing written.
#[tokio::test]
async fn the_model_names_the_set_and_an_unknown_one_is_refused() {
    let repo = podinfo_under_deploy();
    let change = |envs: Value| {
        let mut spec = change_spec("staging", scale("frontend", 4));
        spec["environments"] = envs;
        Reply::spec(&spec)
    };
    let server = FakeLlm::start([
        change(json!(["staging", "production"])),
        // Shown the error, the model repeats it until the attempts run out.
        change(json!(["staging", "moon"])),
        change(json!(["staging", "moon"])),
        change(json!(["staging", "moon"])),
    ])
    .await;
    let o = openai_json(
        "plan",
        &repo,
        "scale the frontend to 4 in staging and production",
        &server,
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}{}", text(&o.stdout), text(&o.stderr));
    let plan = json_of(&o);
    assert_eq!(
        plan["operations"][0]["reach"],
        json!(["production", "staging"]),
        "{plan}"
    );
    let o = openai_json(
        "plan",
        &repo,
        "scale the frontend to 4 in staging and on the moon",
        &server,
    )
    .await;
    assert_eq!(o.status.code(), Some(2), "{}{}", text(&o.stdout), text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains("the plan is for moon, which this repository does not have; its environments: dev, production, staging"),
        "{err}"
    );
}

/// Every environment that builds the shared base was asked for: the base is
/// removed and unwired once, and no environment builds the cache any more.
#[test]
fn a_removal_in_all_environments_removes_the_shared_base_once() {
    let repo = podinfo_under_deploy();
    let branch = propose(&repo, "remove the cache in all environments");
    let changed = changed_files(repo.path(), &branch);
    assert!(
        changed
            .iter()
            .all(|p| p.starts_with("deploy/bases/cache/") || p.starts_with("deploy/overlays/")),
        "{changed:?}"
    );
    if let Some(after) = build_all_environments(repo.path(), &branch, "deploy/overlays", &PODINFO) {
        for (env, built) in &after {
            assert!(
                !built.contains("name: cache\n"),
                "{env} still builds the cache:\n{built}"
            );
        }
        let before = build_all_environments(repo.path(), "main", "deploy/overlays", &PODINFO).unwrap();
        assert!(before.values().all(|b| b.contains("name: cache\n")));
    }
}
