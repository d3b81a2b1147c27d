//! Promotions between environments: the source's build, written into the
//! destination's own files.

use super::*;
use crate::spec::{Field, Promotion};

const CHECKOUT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
spec:
  replicas: 2
  selector:
    matchLabels: {app: checkout}
  template:
    metadata:
      labels: {app: checkout}
    spec:
      containers:
        - name: checkout
          image: acme/checkout:2.3.0
          resources:
            requests:
              cpu: 100m
              memory: 128Mi
";

fn overlay(tag: &str) -> String {
    format!("resources:\n  - ../../base\nimages:\n  - name: acme/checkout\n    newTag: {tag} # the release\n")
}

/// A base shared by three environments that pin the tag in `images:`.
fn regions() -> Repo {
    repo(&[
        ("base/kustomization.yaml", "resources:\n  - deployment.yaml\n"),
        ("base/deployment.yaml", CHECKOUT),
        ("envs/staging-eu/kustomization.yaml", &overlay("2.4.0")),
        ("envs/prod-eu/kustomization.yaml", &overlay("2.3.1")),
        ("envs/prod-us/kustomization.yaml", &overlay("2.3.1")),
    ])
}

fn promote(target: &str, from: &str, fields: &[Field]) -> Change {
    Change {
        operation: Operation::Promote,
        target: target.into(),
        kind: None,
        set: None,
        promote: Some(Promotion {
            from: from.into(),
            fields: fields.to_vec(),
        }),
    }
}

#[test]
fn the_version_is_promoted_in_the_destinations_own_images_entry() {
    let repo = regions();
    let s = spec("prod-eu", promote("*", "staging-eu", &[Field::Image]));
    let out = run(&repo, &s, Scope::Stated("prod-eu")).unwrap();
    assert_eq!(out.modified, ["envs/prod-eu/kustomization.yaml"]);
    assert!(out.created.is_empty() && out.patches.is_empty());
    assert_eq!(
        out.files[0].content,
        overlay("2.4.0"),
        "only the tag changes; the comment stays"
    );
    assert_eq!(out.applied.len(), 1);
    assert_eq!(out.applied[0].operation, Operation::Promote);
    assert_eq!(out.applied[0].target, "Deployment/checkout");
    assert_eq!(out.applied[0].reach, ["prod-eu"]);
    assert!(
        out.notes
            .iter()
            .any(|n| n.contains("acme/checkout:2.3.1 → acme/checkout:2.4.0")),
        "{:?}",
        out.notes
    );
}

#[test]
fn the_same_value_is_nothing_to_promote() {
    let repo = regions();
    let s = spec("prod-us", promote("checkout", "prod-eu", &[Field::Image]));
    let e = run(&repo, &s, Scope::Stated("prod-us")).unwrap_err();
    assert!(matches!(e, Error::NothingToPromote { .. }), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("nothing to promote from prod-eu to prod-us"),
        "{text}"
    );
    assert!(text.contains("checkout image acme/checkout:2.3.1"), "{text}");
}

#[test]
fn an_unknown_source_environment_lists_the_real_ones() {
    let repo = regions();
    let s = spec("prod-eu", promote("checkout", "staging", &[Field::Image]));
    let e = run(&repo, &s, Scope::Stated("prod-eu")).unwrap_err().to_string();
    assert!(e.contains("no environment \"staging\""), "{e}");
    assert!(e.contains("prod-eu, prod-us, staging-eu"), "{e}");
}

#[test]
fn replicas_and_resources_of_a_shared_base_go_into_a_patch_of_the_destination() {
    let staging_patch = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
spec:
  replicas: 4
  template:
    spec:
      containers:
        - name: checkout
          resources:
            requests:
              cpu: 500m
";
    let repo = repo(&[
        ("base/kustomization.yaml", "resources:\n  - deployment.yaml\n"),
        ("base/deployment.yaml", CHECKOUT),
        (
            "overlays/staging/kustomization.yaml",
            "resources:\n  - ../../base\npatches:\n  - path: bigger.yaml\n",
        ),
        ("overlays/staging/bigger.yaml", staging_patch),
        (
            "overlays/production/kustomization.yaml",
            "resources:\n  - ../../base\n",
        ),
    ]);
    let s = spec(
        "production",
        promote("checkout", "staging", &[Field::Replicas, Field::Resources]),
    );
    let out = run(&repo, &s, Scope::Stated("production")).unwrap();
    assert_eq!(out.created, ["overlays/production/checkout-patch.yaml"]);
    assert_eq!(out.modified, ["overlays/production/kustomization.yaml"]);
    let patch = &out
        .files
        .iter()
        .find(|f| f.path.ends_with("checkout-patch.yaml"))
        .unwrap()
        .content;
    assert!(patch.contains("  replicas: 4\n"), "{patch}");
    assert!(
        patch.contains("cpu: 500m") && patch.contains("memory: 128Mi"),
        "{patch}"
    );
    assert_eq!(out.applied[0].reach, ["production"]);
    // The merged workload, as production will run it, is what gets validated.
    let merged: serde_json::Value = serde_json::from_str(&out.merged[0].1.content).unwrap();
    assert_eq!(merged["spec"]["replicas"], 4);
}

#[test]
fn a_workload_each_environment_holds_is_edited_in_the_destinations_copy() {
    let staging = CHECKOUT.replace("2.3.0", "2.5.0");
    let repo = repo(&[
        ("clusters/staging/checkout.yaml", &staging),
        ("clusters/production/checkout.yaml", CHECKOUT),
    ]);
    let s = spec("production", promote("checkout", "staging", &[Field::Image]));
    let out = run(&repo, &s, Scope::Stated("production")).unwrap();
    assert_eq!(out.modified, ["clusters/production/checkout.yaml"]);
    let (added, removed) = line_diff(CHECKOUT, &out.files[0].content);
    assert_eq!(added, ["          image: acme/checkout:2.5.0"]);
    assert_eq!(removed, ["          image: acme/checkout:2.3.0"]);
}

#[test]
fn a_patch_in_the_destination_applies_after_the_bases_images_entry() {
    let repo = repo(&[
        (
            "base/kustomization.yaml",
            "resources:\n  - deployment.yaml\nimages:\n  - name: acme/checkout\n    newTag: 2.3.0\n",
        ),
        ("base/deployment.yaml", CHECKOUT),
        (
            "overlays/staging/kustomization.yaml",
            "resources:\n  - ../../base\nimages:\n  - name: acme/checkout\n    newName: reg.io/checkout\n    newTag: 3.0.0\n",
        ),
        ("overlays/production/kustomization.yaml", "resources:\n  - ../../base\n"),
    ]);
    let s = spec("production", promote("checkout", "staging", &[Field::Image]));
    let out = run(&repo, &s, Scope::Stated("production")).unwrap();
    // The base's images: entry applies before the overlay's patch, so the patch wins.
    let patch = &out
        .files
        .iter()
        .find(|f| f.path.ends_with("checkout-patch.yaml"))
        .unwrap()
        .content;
    assert!(patch.contains("image: reg.io/checkout:3.0.0"), "{patch}");
}

/// Two workloads of one image, pinned for staging in its overlay's `images:`.
fn podinfo_like(production_images: &str) -> Repo {
    let web = CHECKOUT
        .replace("name: checkout", "name: web")
        .replace("app: checkout", "app: web");
    repo(&[
        (
            "base/kustomization.yaml",
            "resources:\n  - deployment.yaml\n  - web.yaml\n",
        ),
        ("base/deployment.yaml", CHECKOUT),
        ("base/web.yaml", &web),
        ("overlays/staging/kustomization.yaml", &overlay("2.4.0")),
        (
            "overlays/production/kustomization.yaml",
            &format!("resources:\n  - ../../base\n{production_images}"),
        ),
        ("overlays/dev/kustomization.yaml", "resources:\n  - ../../base\n"),
    ])
}

#[test]
fn every_workload_promoted_through_the_sources_images_entry_gets_the_same_entry() {
    let repo = podinfo_like("");
    let s = spec("production", promote("*", "staging", &[Field::Image]));
    let out = run(&repo, &s, Scope::Stated("production")).unwrap();
    assert_eq!(out.modified, ["overlays/production/kustomization.yaml"]);
    assert_eq!(
        out.files[0].content,
        "resources:\n  - ../../base\nimages:\n  - {name: \"acme/checkout\", newTag: \"2.4.0\"}\n"
    );
    let targets: Vec<&str> = out.applied.iter().map(|a| a.target.as_str()).collect();
    assert_eq!(targets, ["Deployment/checkout", "Deployment/web"]);
}

#[test]
fn one_named_workload_of_a_shared_image_is_patched_not_given_an_images_entry() {
    let repo = podinfo_like("");
    let s = spec("production", promote("checkout", "staging", &[Field::Image]));
    let out = run(&repo, &s, Scope::Stated("production")).unwrap();
    assert_eq!(out.created, ["overlays/production/checkout-patch.yaml"]);
    let patch = &out
        .files
        .iter()
        .find(|f| f.path.ends_with("checkout-patch.yaml"))
        .unwrap()
        .content;
    assert!(patch.contains("image: acme/checkout:2.4.0"), "{patch}");
}

#[test]
fn an_images_entry_that_also_pins_another_workload_is_refused_for_one_workload() {
    let repo = podinfo_like("images:\n  - name: acme/checkout\n    newTag: 2.3.1\n");
    let s = spec("production", promote("checkout", "staging", &[Field::Image]));
    let e = run(&repo, &s, Scope::Stated("production"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("for Deployment/web too"), "{e}");
    assert!(
        e.contains("promote the version running in staging to production"),
        "{e}"
    );
}

/// A patch above a `namePrefix` names the workload as it is built there
/// (`eu-checkout`): the source's build counts it (as `kubectl kustomize`
/// does), so its replica count is what is promoted.
#[test]
fn a_patch_naming_the_prefixed_workload_is_part_of_the_build() {
    let patch =
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: eu-checkout\nspec:\n  replicas: 5\n";
    let repo = repo(&[
        ("base/kustomization.yaml", "resources:\n  - deployment.yaml\n"),
        ("base/deployment.yaml", CHECKOUT),
        (
            "regions/eu/kustomization.yaml",
            "resources:\n  - ../../base\nnamePrefix: eu-\n",
        ),
        (
            "envs/staging-eu/kustomization.yaml",
            "resources:\n  - ../../regions/eu\npatches:\n  - path: replicas.yaml\n",
        ),
        ("envs/staging-eu/replicas.yaml", patch),
        (
            "envs/prod-eu/kustomization.yaml",
            "resources:\n  - ../../regions/eu\n",
        ),
    ]);
    let s = spec("prod-eu", promote("checkout", "staging-eu", &[Field::Replicas]));
    let out = run(&repo, &s, Scope::Stated("prod-eu")).unwrap();
    assert_eq!(out.applied[0].reach, ["prod-eu"]);
    let written = out
        .files
        .iter()
        .find(|f| f.path == "envs/prod-eu/checkout-patch.yaml")
        .unwrap_or_else(|| panic!("{:?}", out.files));
    assert!(written.content.contains("replicas: 5"), "{}", written.content);
}

/// Init containers are not copied: a difference left after the promotion is
/// a warning naming it, and one that is the only difference is refused
/// rather than called "nothing to promote".
#[test]
fn init_containers_left_behind_are_said_never_silently_dropped() {
    let base = CHECKOUT.replace(
        "      containers:\n",
        "      initContainers:\n        - name: migrate\n          image: acme/migrate:1.0\n      containers:\n",
    );
    let patch = |init: &str, app: Option<&str>| {
        let app = app.map_or(String::new(), |a| {
            format!("        - name: checkout\n          image: {a}\n")
        });
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: checkout\nspec:\n  template:\n    spec:\n      initContainers:\n        - name: migrate\n          image: {init}\n      containers:\n{app}"
        )
    };
    let overlay = "resources:\n  - ../../base\npatches:\n  - path: checkout.yaml\n";
    let both = patch("acme/migrate:2.0", Some("acme/checkout:2.4.0"));
    let only_init = patch("acme/migrate:2.0", None).replace("      containers:\n", "");
    for (staging, refused) in [(both, false), (only_init, true)] {
        let repo = repo(&[
            ("base/kustomization.yaml", "resources:\n  - deployment.yaml\n"),
            ("base/deployment.yaml", &base),
            ("envs/staging/kustomization.yaml", overlay),
            ("envs/staging/checkout.yaml", &staging),
            (
                "envs/production/kustomization.yaml",
                "resources:\n  - ../../base\n",
            ),
        ]);
        let s = spec("production", promote("checkout", "staging", &[Field::Image]));
        let result = run(&repo, &s, Scope::Stated("production"));
        let expected =
            "init container migrate runs acme/migrate:2.0 in staging, acme/migrate:1.0 in production";
        if refused {
            let e = result.unwrap_err().to_string();
            assert!(
                e.contains("only its init containers differ") && e.contains(expected),
                "{e}"
            );
            continue;
        }
        let out = result.unwrap();
        let warning = out
            .findings
            .iter()
            .find(|f| f.rule == "promote-init-containers")
            .unwrap_or_else(|| panic!("{:?}", out.findings));
        assert!(warning.message.contains(expected), "{}", warning.message);
    }
}
