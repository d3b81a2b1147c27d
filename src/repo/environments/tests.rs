//! Unit tests of environment discovery: layout, Flux, Argo CD and `.gitintent.yaml`.

use super::*;
use crate::repo::testing::repo_with;
use crate::repo::IndexCache;

fn discover_in(files: &[(&str, &str)]) -> Vec<Environment> {
    let dir = tempfile::tempdir().unwrap();
    repo_with(dir.path(), "main", files, false);
    let snap = Snapshot::open_default(dir.path()).unwrap();
    let index = Index::build(&snap, &mut IndexCache::new()).unwrap();
    index.environments().to_vec()
}

fn env(name: &str, roots: &[&str]) -> Environment {
    Environment {
        name: name.into(),
        roots: roots.iter().map(|r| r.to_string()).collect(),
    }
}

const KUSTOMIZATION: &str = "resources: [deployment.yaml]\n";

/// Flux: the cluster directory names the environment; a GitRepository of
/// another repository (a tenant's) deploys nothing from this one.
#[test]
fn flux_kustomizations_give_their_cluster_the_paths_they_build() {
    let sync = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps, namespace: flux-system}\nspec:\n  sourceRef: {kind: GitRepository, name: flux-system}\n  path: ./platform/apps/eu-west\n---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: infra, namespace: flux-system}\nspec:\n  sourceRef: {kind: GitRepository, name: flux-system}\n  path: ./infrastructure\n";
    let tenant = "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: {name: team, namespace: apps}\nspec: {url: https://example.com/team}\n---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: team, namespace: apps}\nspec:\n  sourceRef: {kind: GitRepository, name: team}\n  path: ./infrastructure\n";
    let found = discover_in(&[
        ("clusters/prod-eu/sync.yaml", sync),
        ("platform/apps/eu-west/kustomization.yaml", KUSTOMIZATION),
        ("infrastructure/kustomization.yaml", KUSTOMIZATION),
        ("tenants/team.yaml", tenant),
    ]);
    assert_eq!(
        found,
        [env(
            "prod-eu",
            &["clusters/prod-eu", "infrastructure", "platform/apps/eu-west"]
        )]
    );
}

/// flux2-kustomize-helm-example: `ExternalArtifact` sources copied out of
/// the repository by an `ArtifactGenerator`.
#[test]
fn flux_external_artifacts_map_back_to_the_repository() {
    let generator = "apiVersion: source.extensions.fluxcd.io/v1beta1\nkind: ArtifactGenerator\nmetadata: {name: g}\nspec:\n  artifacts:\n    - name: apps\n      copy:\n        - from: \"@monorepo/apps/base/**\"\n          to: \"@artifact/base/\"\n        - from: \"@monorepo/apps/staging/**\"\n          to: \"@artifact/staging/\"\n    - name: infrastructure\n      copy:\n        - from: \"@monorepo/infrastructure/**\"\n          to: \"@artifact/\"\n";
    let apps = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps}\nspec:\n  sourceRef: {kind: ExternalArtifact, name: apps}\n  path: ./staging\n---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: infra-configs}\nspec:\n  sourceRef: {kind: ExternalArtifact, name: infrastructure}\n  path: ./configs\n";
    let found = discover_in(&[
        ("clusters/staging/artifacts.yaml", generator),
        ("clusters/staging/apps.yaml", apps),
        ("apps/staging/kustomization.yaml", KUSTOMIZATION),
        ("infrastructure/configs/kustomization.yaml", KUSTOMIZATION),
    ]);
    assert_eq!(
        found,
        [env(
            "staging",
            &["apps/staging", "clusters/staging", "infrastructure/configs"]
        )]
    );
}

/// Argo CD: Applications name their environment by their path; an
/// ApplicationSet's list elements and git directories each make one.
#[test]
fn argo_applications_and_application_sets_name_environments() {
    let app = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: shop-qa}\nspec:\n  source: {repoURL: https://x/y.git, path: deploy/qa}\n  destination: {namespace: qa}\n";
    let list = "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata: {name: regions}\nspec:\n  generators:\n    - list:\n        elements:\n          - {region: staging-eu}\n          - {region: prod-us}\n          - {region: missing}\n  template:\n    metadata: {name: 'shop-{{region}}'}\n    spec:\n      source: {repoURL: https://x/y.git, path: 'regions/{{.region}}'}\n";
    let dirs = "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata: {name: load}\nspec:\n  generators:\n    - git:\n        repoURL: https://x/y.git\n        directories:\n          - path: tests/load-*\n          - path: tests/load-skip\n            exclude: true\n  template:\n    spec:\n      source: {path: '{{path}}'}\n";
    let found = discover_in(&[
        ("argocd/shop-qa.yaml", app),
        ("argocd/regions.yaml", list),
        ("argocd/load.yaml", dirs),
        ("deploy/qa/kustomization.yaml", KUSTOMIZATION),
        ("regions/staging-eu/kustomization.yaml", KUSTOMIZATION),
        ("regions/prod-us/kustomization.yaml", KUSTOMIZATION),
        ("tests/load-gpu/kustomization.yaml", KUSTOMIZATION),
        ("tests/load-skip/kustomization.yaml", KUSTOMIZATION),
    ]);
    assert_eq!(
        found,
        [
            env("load-gpu", &["tests/load-gpu"]),
            env("prod-us", &["regions/prod-us"]),
            env("qa", &["deploy/qa"]),
            env("staging-eu", &["regions/staging-eu"]),
        ]
    );
}

/// `.gitintent.yaml` wins: its roots when given, else what was found, else
/// the directories with the environment's name.
#[test]
fn configured_environments_win_over_what_is_found() {
    let dir = tempfile::tempdir().unwrap();
    repo_with(
        dir.path(),
        "main",
        &[
            ("overlays/staging/kustomization.yaml", KUSTOMIZATION),
            ("k8s/qa/kustomization.yaml", KUSTOMIZATION),
        ],
        false,
    );
    let snap = Snapshot::open_default(dir.path()).unwrap();
    let index = Index::build(&snap, &mut IndexCache::new()).unwrap();
    let found = index.environments();
    assert_eq!(found, [env("staging", &["overlays/staging"])]);
    assert_eq!(select(&snap, found, &[]), found);
    let configured = [
        ("staging".to_string(), vec![]),
        ("qa".to_string(), vec![]),
        ("prod".to_string(), vec!["k8s/prod".to_string()]),
    ];
    assert_eq!(
        select(&snap, found, &configured),
        [
            env("staging", &["overlays/staging"]),
            env("qa", &["k8s/qa"]),
            env("prod", &["k8s/prod"]),
        ]
    );
}

#[test]
fn templates_and_globs() {
    let params = BTreeMap::from([("env".to_string(), "qa".to_string())]);
    assert_eq!(
        expand("envs/{{ env }}/{{.env}}", &params),
        Some(("envs/qa/qa".to_string(), Some("qa".to_string())))
    );
    assert_eq!(expand("envs/{{cluster}}", &params), None);
    assert!(glob("envs/*", "envs/prod-us"));
    assert!(glob("envs/prod-*", "envs/prod-us"));
    assert!(!glob("envs/*", "envs/prod-us/x"));
    assert!(!glob("envs/staging-*", "envs/prod-us"));
}
