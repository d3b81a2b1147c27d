//! Environments as repositories name and deploy them (Flux, Argo CD,
//! `envs/<name>` overlays with per-environment patches), checked with a
//! real Kustomize build of every environment before and after.

use super::*;
use gitintent::change::Inventory;
use gitintent::repo::{Index, IndexCache, Snapshot};

/// A copy of a vendored GitOps tree, committed on `main`.
fn fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    crate::util::tree::copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/gitops-repos")
            .join(name),
        dir.path(),
    );
    commit_working_tree(dir.path(), name);
    dir
}

fn inventory(repo: &Path) -> (Vec<gitintent::repo::Environment>, Inventory) {
    let snapshot = Snapshot::open_base(repo, None).unwrap();
    let index = Index::build(&snapshot, &mut IndexCache::new()).unwrap();
    let envs = index.environments().to_vec();
    let names: Vec<String> = envs.iter().map(|e| e.name.clone()).collect();
    let inventory = Inventory::build(&snapshot, &index, &names).unwrap();
    (envs, inventory)
}

fn roots_of<'a>(envs: &'a [gitintent::repo::Environment], name: &str) -> &'a [String] {
    &envs
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("{name}: {envs:?}"))
        .roots
}

/// flux2-multi-tenancy: each cluster's Flux Kustomizations name the paths
/// its environment builds; the tenant base reaches both, a tenant overlay one.
#[test]
fn flux_multi_tenancy_environments_come_from_the_flux_kustomizations() {
    let repo = fixture("flux2-multi-tenancy");
    let (envs, inv) = inventory(repo.path());
    assert_eq!(
        envs.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        ["production", "staging"]
    );
    for root in [
        "clusters/staging",
        "infrastructure/kyverno",
        "infrastructure/kyverno-policies",
        "tenants/staging",
    ] {
        assert!(
            roots_of(&envs, "staging").iter().any(|r| r == root),
            "{root}: {envs:?}"
        );
    }
    assert_eq!(
        inv.reach("tenants/base/dev-team/rbac.yaml"),
        ["production", "staging"]
    );
    assert_eq!(inv.reach("tenants/staging/dev-team-patch.yaml"), ["staging"]);
    assert_eq!(
        inv.reach("infrastructure/kyverno-policies/verify-flux-images.yaml"),
        ["production", "staging"]
    );
}

/// flux2-kustomize-helm-example: `ExternalArtifact` paths map back to the
/// repository through the `ArtifactGenerator`.
#[test]
fn flux_helm_example_artifacts_map_to_repository_paths() {
    let repo = fixture("flux2-kustomize-helm-example");
    let (envs, inv) = inventory(repo.path());
    for root in [
        "apps/staging",
        "infrastructure/configs",
        "infrastructure/controllers",
    ] {
        assert!(
            roots_of(&envs, "staging").iter().any(|r| r == root),
            "{root}: {envs:?}"
        );
    }
    assert_eq!(
        inv.reach("apps/base/podinfo/release.yaml"),
        ["production", "staging"]
    );
    assert_eq!(inv.reach("apps/staging/podinfo-values.yaml"), ["staging"]);
    assert_eq!(
        inv.reach("infrastructure/configs/cluster-issuers.yaml"),
        ["production", "staging"]
    );
}

const BASE: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: simple-deployment
spec:
  replicas: 2
  selector:
    matchLabels: {app: simple}
  template:
    metadata:
      labels: {app: simple}
    spec:
      containers:
      - name: webserver-simple
        image: docker.io/acme/simple-env-app:1.0
        ports:
        - containerPort: 8080
";

/// An `envs/<name>` layout with per-environment patches (`version.yml`,
/// `replicas.yml`) and shared Kustomize components, like
/// kostis-codefresh/gitops-environment-promotion (written for this test).
pub(super) fn promotion_layout(extra: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let patch = |body: &str| {
        format!(
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: simple-deployment\nspec:\n{body}"
        )
    };
    let version = |v: &str| {
        patch(&format!(
            "  template:\n    spec:\n      containers:\n      - name: webserver-simple\n        image: docker.io/acme/simple-env-app:{v}\n"
        ))
    };
    let mut files: Vec<(String, String)> = vec![
        ("base/deployment.yml".into(), BASE.into()),
        (
            "base/kustomization.yml".into(),
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- deployment.yml\n".into(),
        ),
        (
            "variants/non-prod/kustomization.yml".into(),
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatchesStrategicMerge:\n- replicas.yml\n".into(),
        ),
        ("variants/non-prod/replicas.yml".into(), patch("  replicas: 3\n")),
        (
            "variants/prod/kustomization.yml".into(),
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatchesStrategicMerge:\n- prod.yml\n".into(),
        ),
        ("variants/prod/prod.yml".into(), patch("  minReadySeconds: 10\n")),
    ];
    for (env, variant, replicas) in [
        ("qa", "non-prod", None),
        ("staging-eu", "non-prod", Some(3)),
        ("prod-us", "prod", Some(8)),
        ("prod-eu", "prod", Some(8)),
    ] {
        let mut smp = "- version.yml\n".to_string();
        if let Some(n) = replicas {
            smp.push_str("- replicas.yml\n");
            files.push((
                format!("envs/{env}/replicas.yml"),
                patch(&format!("  replicas: {n} # sized for {env}\n")),
            ));
        }
        files.push((format!("envs/{env}/version.yml"), version("2.0")));
        files.push((
            format!("envs/{env}/kustomization.yml"),
            format!(
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n\nnamespace: {env}\nnamePrefix: {env}-\n\nresources:\n- ../../base\n\ncomponents:\n  - ../../variants/{variant}\n\npatchesStrategicMerge:\n{smp}"
            ),
        ));
    }
    for (p, t) in extra {
        files.push((p.to_string(), t.to_string()));
    }
    for (p, t) in &files {
        let path = dir.path().join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, t).unwrap();
    }
    commit_working_tree(dir.path(), "environments");
    dir
}

pub(super) const ENVS: [&str; 4] = ["prod-eu", "prod-us", "qa", "staging-eu"];

/// Reads `path` at `rev`.
pub(super) fn read_at(repo: &Path, rev: &str, path: &str) -> Option<String> {
    let git = Repository::open(repo).unwrap();
    let tree = git.revparse_single(rev).unwrap().peel_to_tree().unwrap();
    let entry = tree.get_path(Path::new(path)).ok()?;
    let blob = entry.to_object(&git).ok()?.peel_to_blob().ok()?;
    Some(String::from_utf8(blob.content().to_vec()).unwrap())
}

/// The files that differ between `main` and `branch`.
pub(super) fn changed_files(repo: &Path, branch: &str) -> Vec<String> {
    let git = Repository::open(repo).unwrap();
    let a = git.revparse_single("main").unwrap().peel_to_tree().unwrap();
    let b = git.revparse_single(branch).unwrap().peel_to_tree().unwrap();
    let diff = git.diff_tree_to_tree(Some(&a), Some(&b), None).unwrap();
    diff.deltas()
        .map(|d| d.new_file().path().unwrap().to_str().unwrap().to_string())
        .collect()
}

/// "prod-us" is an environment; its own `replicas.yml` already sets the
/// count, so that line is edited in place, and only prod-us builds differently.
#[test]
fn an_environments_own_replicas_patch_is_edited_in_place() {
    let repo = promotion_layout(&[]);
    let branch = super::podinfo::propose(&repo, "scale simple-deployment to 5 replicas in prod-us");
    assert_eq!(changed_files(repo.path(), &branch), ["envs/prod-us/replicas.yml"]);
    let patch = read_at(repo.path(), &branch, "envs/prod-us/replicas.yml").unwrap();
    assert!(patch.contains("  replicas: 5 # sized for prod-us\n"), "{patch}");
    let git = Repository::open(repo.path()).unwrap();
    let message = git
        .revparse_single(&branch)
        .unwrap()
        .peel_to_commit()
        .unwrap()
        .message()
        .unwrap()
        .to_string();
    assert!(
        message
            .contains("Reach:\n- update Deployment/simple-deployment: prod-us (envs/prod-us/replicas.yml)"),
        "{message}"
    );
    assert_builds_differ_only_in(&repo, &branch, "envs", &ENVS, &["prod-us"]);
}

/// The image is bumped in the environment's `version.yml`, not the base.
#[test]
fn an_environments_own_version_patch_takes_the_new_image() {
    let repo = promotion_layout(&[]);
    let branch = super::podinfo::propose(
        &repo,
        "bump simple-deployment to docker.io/acme/simple-env-app:3.0 in staging-eu",
    );
    assert_eq!(
        changed_files(repo.path(), &branch),
        ["envs/staging-eu/version.yml"]
    );
    assert_builds_differ_only_in(&repo, &branch, "envs", &ENVS, &["staging-eu"]);
}

/// qa takes its replica count from a component other environments share:
/// the change is a new patch of qa's own, listed in its kustomization.
#[test]
fn a_field_set_by_a_shared_component_gets_the_environments_own_patch() {
    let repo = promotion_layout(&[]);
    let branch = super::podinfo::propose(&repo, "scale simple-deployment to 4 replicas in qa");
    assert_eq!(
        changed_files(repo.path(), &branch),
        [
            "envs/qa/kustomization.yml",
            "envs/qa/simple-deployment-patch.yaml"
        ]
    );
    if let Some(after) = assert_builds_differ_only_in(&repo, &branch, "envs", &ENVS, &["qa"]) {
        assert!(after["qa"].contains("replicas: 4"), "{}", after["qa"]);
    }
}

/// An overlay's `images:` entry decides the image: it is the line changed.
#[test]
fn an_overlay_images_entry_is_changed_rather_than_the_deployment() {
    let overlay = "resources:\n- ../../base\nimages:\n- name: docker.io/acme/simple-env-app\n  newTag: \"2.1\" # pinned for the demo\n";
    let repo = promotion_layout(&[("envs/demo/kustomization.yaml", overlay)]);
    let branch = super::podinfo::propose(
        &repo,
        "bump simple-deployment to docker.io/acme/simple-env-app:2.2 in demo",
    );
    assert_eq!(
        changed_files(repo.path(), &branch),
        ["envs/demo/kustomization.yaml"]
    );
    let k = read_at(repo.path(), &branch, "envs/demo/kustomization.yaml").unwrap();
    assert!(k.contains("  newTag: \"2.2\" # pinned for the demo\n"), "{k}");
    let mut all = ENVS.to_vec();
    all.push("demo");
    assert_builds_differ_only_in(&repo, &branch, "envs", &all, &["demo"]);
}

/// `.gitintent.yaml` maps environments to their roots: names that are no
/// environment words, in a directory no layout rule knows.
#[test]
fn configured_environment_roots_decide_the_reach() {
    let config = "environments:\n  blue: [envs/prod-us]\n  green: envs/prod-eu\n";
    let repo = promotion_layout(&[(".gitintent.yaml", config)]);
    let o = builtin_json("plan", &repo, "scale simple-deployment to 6 replicas in green");
    assert_eq!(o.status.code(), Some(0), "{}{}", text(&o.stdout), text(&o.stderr));
    let plan = json_of(&o);
    assert_eq!(plan["operations"][0]["reach"], json!(["green"]), "{plan}");
    assert_eq!(
        plan["operations"][0]["paths"],
        json!(["envs/prod-eu/replicas.yml"]),
        "{plan}"
    );
}

/// Argo CD: an ApplicationSet's list generator names the environments and
/// the paths they build.
#[test]
fn an_argo_application_set_names_the_environments() {
    let appset = "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata: {name: simple}\nspec:\n  generators:\n  - list:\n      elements:\n      - {cluster: eu-central}\n      - {cluster: us-east}\n  template:\n    metadata: {name: 'simple-{{cluster}}'}\n    spec:\n      project: default\n      source: {repoURL: 'https://example.com/simple.git', path: 'regions/{{cluster}}'}\n      destination: {name: '{{cluster}}', namespace: simple}\n";
    let overlay = "resources:\n- ../../base\n";
    let repo = promotion_layout(&[
        ("argocd/simple.yaml", appset),
        ("regions/eu-central/kustomization.yaml", overlay),
        ("regions/us-east/kustomization.yaml", overlay),
    ]);
    let (envs, inv) = inventory(repo.path());
    assert_eq!(roots_of(&envs, "eu-central"), ["regions/eu-central"]);
    assert_eq!(inv.reach("regions/us-east/kustomization.yaml"), ["us-east"]);
    let mut all: Vec<String> = ENVS.iter().map(|e| e.to_string()).collect();
    all.extend(["eu-central".to_string(), "us-east".to_string()]);
    all.sort();
    assert_eq!(inv.reach("base/deployment.yml"), all);
    let branch = super::podinfo::propose(&repo, "scale simple-deployment to 7 replicas in eu-central");
    assert_eq!(
        changed_files(repo.path(), &branch),
        [
            "regions/eu-central/kustomization.yaml",
            "regions/eu-central/simple-deployment-patch.yaml"
        ]
    );
    assert_builds_differ_only_in(
        &repo,
        &branch,
        "regions",
        &["eu-central", "us-east"],
        &["eu-central"],
    );
}

/// A new app planned for staging in podinfo's real layout is wired into
/// `deploy/overlays/staging`, and only that build gains it.
#[test]
fn a_new_app_for_staging_is_reachable_from_the_staging_overlay() {
    let repo = super::podinfo::podinfo_under_deploy();
    let branch = super::podinfo::propose(
        &repo,
        "deploy the orders api using ghcr.io/acme/orders:1.2.3 in staging",
    );
    let changed = changed_files(repo.path(), &branch);
    assert!(
        changed
            .iter()
            .any(|p| p == "deploy/overlays/staging/kustomization.yaml"),
        "{changed:?}"
    );
    assert!(
        changed.iter().all(|p| p.starts_with("deploy/overlays/staging/")),
        "{changed:?}"
    );
    let envs = ["dev", "production", "staging"];
    if let Some(after) = assert_builds_differ_only_in(&repo, &branch, "deploy/overlays", &envs, &["staging"])
    {
        let built = &after["staging"];
        assert!(built.contains("image: ghcr.io/acme/orders:1.2.3"), "{built}");
    }
}

/// The name an environment's build gives a workload (`namePrefix`) finds
/// the base workload, edited for that environment only.
#[test]
fn a_workload_named_with_its_environments_prefix_is_found() {
    let repo = promotion_layout(&[]);
    let o = builtin_json(
        "plan",
        &repo,
        "scale prod-us-simple-deployment to 6 replicas in prod-us",
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", text(&o.stdout), text(&o.stderr));
    let plan = json_of(&o);
    assert_eq!(
        plan["operations"][0]["target"], "Deployment/simple-deployment",
        "{plan}"
    );
    assert_eq!(
        plan["operations"][0]["paths"],
        json!(["envs/prod-us/replicas.yml"]),
        "{plan}"
    );
    assert_eq!(plan["operations"][0]["reach"], json!(["prod-us"]), "{plan}");
}

/// A layout the repository chose that no environment builds: an error
/// finding naming the kustomization to list the app in; one that other
/// environments build too: refused, exit 2, naming them.
#[test]
fn a_new_app_the_environment_cannot_reach_is_an_error_naming_where_to_wire_it() {
    let repo = promotion_layout(&[(".gitintent.yaml", "layout: apps/{environment}-{name}/\n")]);
    let plan = |repo: &tempfile::TempDir| {
        builtin_json(
            "plan",
            repo,
            "deploy the orders api using ghcr.io/acme/orders:1.2.3 in qa",
        )
    };
    let o = plan(&repo);
    let out = json_of(&o);
    let finding = out["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "new-app-unreachable")
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(finding["severity"], "error");
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains("list it under resources: in envs/qa/kustomization.yml"),
        "{finding}"
    );

    let shared = promotion_layout(&[(".gitintent.yaml", "layout: base/{name}/\n")]);
    let o = plan(&shared);
    assert_eq!(o.status.code(), Some(2), "{}{}", text(&o.stdout), text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains("would also change prod-eu, prod-us, staging-eu") && err.contains(": base/"),
        "{err}"
    );
}

/// A JSON 6902 patch of the environment that replaces the field: its
/// `value` is the line changed (a patch of ours would come before it).
#[test]
fn an_environments_json6902_patch_gets_the_new_value() {
    let overlay = "resources:\n- ../../base\npatchesJson6902:\n- target: {group: apps, version: v1, kind: Deployment, name: simple-deployment}\n  path: replicas.yaml\n";
    let ops = "- op: replace\n  path: /spec/replicas\n  value: 9\n";
    let repo = promotion_layout(&[
        ("envs/perf/kustomization.yaml", overlay),
        ("envs/perf/replicas.yaml", ops),
    ]);
    let branch = super::podinfo::propose(&repo, "scale simple-deployment to 12 replicas in perf");
    assert_eq!(changed_files(repo.path(), &branch), ["envs/perf/replicas.yaml"]);
    let patch = read_at(repo.path(), &branch, "envs/perf/replicas.yaml").unwrap();
    assert_eq!(patch, "- op: replace\n  path: /spec/replicas\n  value: 12\n");
    let mut all = ENVS.to_vec();
    all.push("perf");
    assert_builds_differ_only_in(&repo, &branch, "envs", &all, &["perf"]);
}
