//! Helm-rendered workloads: flux2-kustomize-helm-example's HelmRelease, a
//! local chart, and an Argo CD Application, changed through their values.

use super::*;

const FLUX: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/gitops-repos/flux2-kustomize-helm-example"
);

fn flux_file(path: &str) -> String {
    std::fs::read_to_string(format!("{FLUX}/{path}")).unwrap()
}

/// The example's apps tree: a base HelmRelease and a values patch per environment.
fn flux() -> Repo {
    let files: Vec<(&str, String)> = [
        "apps/base/podinfo/kustomization.yaml",
        "apps/base/podinfo/namespace.yaml",
        "apps/base/podinfo/release.yaml",
        "apps/base/podinfo/repository.yaml",
        "apps/staging/kustomization.yaml",
        "apps/staging/podinfo-values.yaml",
        "apps/production/kustomization.yaml",
        "apps/production/podinfo-values.yaml",
    ]
    .iter()
    .map(|p| (*p, flux_file(p)))
    .collect();
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    repo(&refs)
}

fn scale_to(target: &str, n: u32) -> Change {
    update(
        target,
        Update {
            replicas: Some(n),
            ..Update::default()
        },
    )
}

#[test]
fn a_flux_helm_release_is_scaled_in_the_environments_own_values_patch() {
    let repo = flux();
    let out = run(
        &repo,
        &spec("staging", scale_to("podinfo", 3)),
        Scope::Stated("staging"),
    )
    .unwrap();
    assert_eq!(out.modified, ["apps/staging/podinfo-values.yaml"]);
    let before = flux_file("apps/staging/podinfo-values.yaml");
    let (added, removed) = line_diff(&before, &out.files[0].content);
    assert_eq!(added, ["    replicaCount: 3"]);
    assert!(removed.is_empty());
    assert_eq!(out.applied[0].target, "HelmRelease/podinfo");
    assert_eq!(out.applied[0].reach, ["staging"]);
    assert!(out.findings.iter().any(|f| f.rule == "helm-values-unchecked"));
}

#[test]
fn a_flux_helm_release_gets_a_new_image_as_repository_and_tag() {
    let repo = flux();
    let set = Update {
        image: Some("ghcr.io/stefanprodan/podinfo:6.15.0".into()),
        ..Update::default()
    };
    let out = run(
        &repo,
        &spec("production", update("podinfo", set)),
        Scope::Stated("production"),
    )
    .unwrap();
    assert_eq!(out.modified, ["apps/production/podinfo-values.yaml"]);
    let text = &out.files[0].content;
    assert!(
        text.ends_with("    image:\n      repository: ghcr.io/stefanprodan/podinfo\n      tag: 6.15.0\n"),
        "{text}"
    );
}

const CHART: &str = "apiVersion: v2\nname: web\nversion: 0.1.0\n";
const VALUES: &str = "\
# Default values for web.
replicaCount: 1 # one is enough by default
image:
  repository: acme/web
  tag: \"1.0.0\"
resources: {}
";

#[test]
fn a_local_chart_is_changed_in_the_environments_values_file_when_it_has_one() {
    let repo = repo(&[
        ("charts/web/Chart.yaml", CHART),
        ("charts/web/values.yaml", VALUES),
        (
            "charts/web/values-production.yaml",
            "# production\nreplicaCount: 3\n",
        ),
    ]);
    let out = run(
        &repo,
        &spec("production", scale_to("web", 5)),
        Scope::Stated("production"),
    )
    .unwrap();
    assert_eq!(out.modified, ["charts/web/values-production.yaml"]);
    assert_eq!(out.files[0].content, "# production\nreplicaCount: 5\n");
    assert!(out.findings.iter().all(|f| f.rule != "helm-values-unchecked"));
    let set = Update {
        image: Some("acme/web:1.1.0".into()),
        ..Update::default()
    };
    let out = run(
        &repo,
        &spec("staging", update("web", set)),
        Scope::Stated("staging"),
    )
    .unwrap();
    assert_eq!(out.modified, ["charts/web/values.yaml"]);
    assert_eq!(
        out.files[0].content,
        VALUES.replace("tag: \"1.0.0\"", "tag: \"1.1.0\"")
    );
}

#[test]
fn a_key_the_local_chart_does_not_have_names_the_values_file() {
    let repo = repo(&[
        ("charts/web/Chart.yaml", CHART),
        (
            "charts/web/values.yaml",
            "# no replica count here\nimage:\n  repository: acme/web\n",
        ),
    ]);
    let e = run(
        &repo,
        &spec("production", scale_to("web", 5)),
        Scope::Stated("production"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("no value replicaCount in charts/web/values.yaml"),
        "{e}"
    );
}

const APP: &str = "\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: grafana
  namespace: argocd
spec:
  project: default
  source:
    repoURL: https://grafana.github.io/helm-charts
    chart: grafana
    targetRevision: 8.5.0
    helm:
      valuesObject:
        replicas: 1
        replicaCount: 1 # set by the platform team
  destination:
    server: https://kubernetes.default.svc
    namespace: monitoring
";

#[test]
fn an_argo_application_is_changed_in_its_values_object_and_a_values_string_is_refused() {
    let repo = repo(&[("argocd/apps/grafana.yaml", APP)]);
    let out = run(
        &repo,
        &spec("production", scale_to("grafana", 2)),
        Scope::Stated("production"),
    )
    .unwrap();
    assert_eq!(out.modified, ["argocd/apps/grafana.yaml"]);
    let (added, removed) = line_diff(APP, &out.files[0].content);
    assert_eq!(added, ["        replicaCount: 2 # set by the platform team"]);
    assert_eq!(removed, ["        replicaCount: 1 # set by the platform team"]);
    let string = APP.replace(
        "      valuesObject:\n        replicas: 1\n        replicaCount: 1 # set by the platform team\n",
        "      values: |\n        replicaCount: 1\n",
    );
    let repo = self::repo(&[("argocd/apps/grafana.yaml", string.as_str())]);
    let e = run(
        &repo,
        &spec("production", scale_to("grafana", 2)),
        Scope::Stated("production"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("spec.source.helm.values in argocd/apps/grafana.yaml"),
        "{e}"
    );
}
