//! Promotion between environments, end to end: the CLI with both planners,
//! `POST /v1/plans`, and `kubectl kustomize` as the oracle that only the
//! destination's build changes, and changes to what the source runs.

use super::envs::read_at;
use super::podinfo::{podinfo_under_deploy, propose};
use super::*;
use crate::util::service::{plan, token_blocks, Service, ADMIN};

const API_BASE: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 2
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
        - name: api
          image: acme/api:1.0.0 # released by CI
          resources:
            requests:
              cpu: 100m
              memory: 128Mi
";

const STAGING_PATCH: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
        - name: api
          resources:
            requests:
              cpu: 500m
              memory: 512Mi
";

/// `envs/{staging-eu,prod-eu,prod-us}` over one base; each pins the tag.
fn regions() -> tempfile::TempDir {
    let overlay = |tag: &str| {
        format!("resources:\n  - ../../base\nimages:\n  - name: acme/api\n    newTag: {tag} # pinned per region\n")
    };
    write_repo(&[
        (
            "base/kustomization.yaml",
            "resources:\n  - deployment.yaml\n".into(),
        ),
        ("base/deployment.yaml", API_BASE.into()),
        ("envs/staging-eu/kustomization.yaml", overlay("1.2.0")),
        ("envs/prod-eu/kustomization.yaml", overlay("1.1.0")),
        ("envs/prod-us/kustomization.yaml", overlay("1.1.0")),
    ])
}

/// `overlays/{staging,production}`: staging runs a newer tag and a bigger size.
fn overlays() -> tempfile::TempDir {
    write_repo(&[
        ("base/kustomization.yaml", "resources:\n  - deployment.yaml\n".into()),
        ("base/deployment.yaml", API_BASE.into()),
        (
            "overlays/staging/kustomization.yaml",
            "resources:\n  - ../../base\npatches:\n  - path: size.yaml\nimages:\n  - name: acme/api\n    newTag: 1.3.0\n"
                .into(),
        ),
        ("overlays/staging/size.yaml", STAGING_PATCH.into()),
        (
            "overlays/production/kustomization.yaml",
            "# production\nresources:\n  - ../../base\n".into(),
        ),
    ])
}

fn write_repo(files: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    commit_working_tree(dir.path(), "layout");
    dir
}

/// `plan INTENT --format json` with the builtin planner.
fn plan_json(repo: &tempfile::TempDir, intent: &str) -> Output {
    builtin_json("plan", repo, intent)
}

/// podinfo under `deploy/` as it really is; staging runs a newer podinfo
/// through an `images:` entry, and the whole version goes to production.
#[test]
fn podinfo_the_version_running_in_staging_goes_to_production_only() {
    let repo = podinfo_under_deploy();
    let kust = repo.path().join("deploy/overlays/staging/kustomization.yaml");
    let old = std::fs::read_to_string(&kust).unwrap();
    std::fs::write(
        &kust,
        format!("{old}images:\n  - name: ghcr.io/stefanprodan/podinfo\n    newTag: 6.15.0\n"),
    )
    .unwrap();
    crate::util::tree::commit_all(&Repository::open(repo.path()).unwrap(), "staging runs 6.15.0");

    let branch = propose(&repo, "promote the version running in staging to production");
    let production = read_at(
        repo.path(),
        &branch,
        "deploy/overlays/production/kustomization.yaml",
    )
    .unwrap();
    assert!(
        production.ends_with("images:\n  - {name: \"ghcr.io/stefanprodan/podinfo\", newTag: \"6.15.0\"}\n"),
        "{production}"
    );
    for p in [
        "deploy/overlays/staging/kustomization.yaml",
        "deploy/overlays/dev/kustomization.yaml",
        "deploy/bases/backend/deployment.yaml",
    ] {
        assert_eq!(
            read_at(repo.path(), &branch, p).unwrap(),
            read_at(repo.path(), "main", p).unwrap(),
            "{p} changed"
        );
    }
    let envs = ["dev", "staging", "production"];
    if let Some(after) =
        assert_builds_differ_only_in(&repo, &branch, "deploy/overlays", &envs, &["production"])
    {
        let built = &after["production"];
        assert!(built.contains("ghcr.io/stefanprodan/podinfo:6.15.0"), "{built}");
        assert!(!built.contains("ghcr.io/stefanprodan/podinfo:6.14.1"), "{built}");
    }

    // dev and production ran the same before: nothing to promote, exit 2.
    let o = plan_json(&repo, "promote backend from dev to production");
    assert_eq!(o.status.code(), Some(2), "{}{}", text(&o.stdout), text(&o.stderr));
    let err = text(&o.stderr);
    assert!(err.contains("nothing to promote from dev to production"), "{err}");
    assert!(
        err.contains("backend image ghcr.io/stefanprodan/podinfo:6.14.1"),
        "{err}"
    );
}

/// Regions named as the repository names them: the tag goes into
/// `prod-eu`'s own `images:` entry, comment kept; `prod-us` is untouched.
#[test]
fn regions_the_version_in_staging_eu_goes_into_prod_eus_own_images_entry() {
    let repo = regions();
    let o = plan_json(&repo, "promote the version running in staging-eu to prod-eu");
    assert_eq!(o.status.code(), Some(0), "{}{}", text(&o.stdout), text(&o.stderr));
    let plan = json_of(&o);
    assert_eq!(plan["spec"]["environment"], "prod-eu");
    assert_eq!(plan["operations"][0]["operation"], "promote", "{plan}");
    assert_eq!(plan["operations"][0]["target"], "Deployment/api");
    assert_eq!(plan["operations"][0]["reach"], json!(["prod-eu"]));
    assert_eq!(plan["files"][0]["path"], "envs/prod-eu/kustomization.yaml");
    assert_eq!(
        plan["files"][0]["content"],
        "resources:\n  - ../../base\nimages:\n  - name: acme/api\n    newTag: 1.2.0 # pinned per region\n"
    );
    let branch = propose(&repo, "promote the version running in staging-eu to prod-eu");
    assert_builds_differ_only_in(
        &repo,
        &branch,
        "envs",
        &["staging-eu", "prod-eu", "prod-us"],
        &["prod-eu"],
    );
    // A source the repository does not have is named with the real ones.
    let o = plan_json(&repo, "promote api from staging to prod-eu");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("prod-eu, prod-us, staging-eu"),
        "{}",
        text(&o.stderr)
    );
}

/// "copy api's resources": the size staging's patch gives goes into a
/// production patch; the image stays.
#[test]
fn copying_resources_writes_a_production_patch_and_keeps_the_image() {
    let repo = overlays();
    let branch = propose(&repo, "copy api's resources from staging to production");
    let patch = read_at(repo.path(), &branch, "overlays/production/api-patch.yaml").unwrap();
    assert!(
        patch.contains("cpu: 500m") && patch.contains("memory: 512Mi"),
        "{patch}"
    );
    assert!(!patch.contains("image:"), "{patch}");
    let envs = ["staging", "production"];
    if let Some(after) = assert_builds_differ_only_in(&repo, &branch, "overlays", &envs, &["production"]) {
        let built = &after["production"];
        assert!(
            built.contains("cpu: 500m") && built.contains("image: acme/api:1.0.0"),
            "{built}"
        );
    }
}

/// The model fills the same typed operation; the plan is the builtin's.
#[tokio::test]
async fn the_model_promotes_with_the_same_operation() {
    let repo = overlays();
    let spec = change_spec(
        "production",
        json!([{"operation": "promote", "target": "api", "kind": null, "set": null,
                "promote": {"from": "staging", "fields": ["image"]}}]),
    );
    let server = FakeLlm::start([Reply::spec(&spec)]).await;
    let o = openai_json("plan", &repo, "promote api from staging to production", &server).await;
    assert_eq!(o.status.code(), Some(0), "{}{}", text(&o.stdout), text(&o.stderr));
    let plan = json_of(&o);
    assert_eq!(plan["operations"][0]["operation"], "promote", "{plan}");
    assert_eq!(plan["operations"][0]["reach"], json!(["production"]));
    assert_eq!(plan["files"][0]["path"], "overlays/production/kustomization.yaml");
    assert_eq!(
        plan["files"][0]["content"],
        "# production\nresources:\n  - ../../base\nimages:\n  - {name: \"acme/api\", newTag: \"1.3.0\"}\n"
    );
    // The model was told about the operation, in the prompt and the schema.
    let request = &server.requests()[0];
    let (_, system) = request.messages().into_iter().next().unwrap();
    assert!(system.contains("operation \"promote\""), "{system}");
    let sent = serde_json::to_string(&request.body["response_format"]).unwrap();
    assert!(sent.contains("\"promote\""), "{sent}");
}

/// `POST /v1/plans` gives the same promotion as the CLI.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promotion_over_http_is_the_cli_plan() {
    let repo = regions();
    let intent = "promote the version running in staging-eu to prod-eu";
    let block = format!(
        "[[repository]]\nname = \"gitops\"\npath = {:?}\n",
        repo.path().display().to_string()
    );
    let service = Service::start(&format!("{block}{}", token_blocks())).await;
    let r = plan(
        &service,
        ADMIN,
        json!({ "intent": intent, "repo": "gitops", "planner": "builtin" }),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let local = {
        let repo_path = repo.path().to_path_buf();
        tokio::task::spawn_blocking(move || {
            let o = gitintent(
                &[
                    "plan",
                    intent,
                    "--planner",
                    "builtin",
                    "--repo",
                    repo_path.to_str().unwrap(),
                    "--format",
                    "json",
                ],
                &[],
            );
            json_of(&o)
        })
        .await
        .unwrap()
    };
    for field in ["operations", "files", "spec"] {
        assert_eq!(r.json[field], local[field], "{field}");
    }
    assert_eq!(r.json["operations"][0]["reach"], json!(["prod-eu"]));
}
