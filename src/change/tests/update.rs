//! Updates: in-place edits, overlays, HPAs, containers.

use super::*;

#[test]
fn scaling_changes_one_line_and_keeps_its_comment() {
    let repo = shop();
    let set = Update {
        replicas: Some(5),
        ..Update::default()
    };
    let out = run(
        &repo,
        &spec("production", update("api-gateway", set)),
        Scope::Stated("production"),
    )
    .unwrap();
    assert_eq!(
        out.modified,
        ["clusters/production/apps/api-gateway/deployment.yaml"]
    );
    assert!(out.deleted.is_empty() && out.created.is_empty());
    let (added, removed) = line_diff(API, &out.files[0].content);
    assert_eq!(added, ["  replicas: 5 # raised for the autumn sale"]);
    assert_eq!(removed, ["  replicas: 3 # raised for the autumn sale"]);
    assert_eq!(out.applied[0].target, "Deployment/api-gateway");
    assert_eq!(out.applied[0].namespace, "edge");
}

#[test]
fn resources_are_added_under_an_empty_flow_mapping() {
    let repo = shop();
    let memory = Quantities {
        cpu: None,
        memory: Some("1Gi".into()),
    };
    let set = Update {
        resources: Some(Resources {
            requests: memory.clone(),
            limits: memory,
        }),
        ..Update::default()
    };
    let out = run(
        &repo,
        &spec("staging", update("orders-worker", set)),
        Scope::Stated("staging"),
    )
    .unwrap();
    let new = &out.files[0].content;
    assert!(
        new.contains("          resources:\n            requests:\n              memory: 1Gi\n            limits:\n              memory: 1Gi\n"),
        "{new}"
    );
    let parsed: serde_json::Value = crate::yaml::value(new).unwrap();
    let c = &parsed["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["resources"]["limits"]["memory"], "1Gi");
    assert!(new.starts_with("# The public API gateway."));
}

#[test]
fn an_image_bump_on_a_commented_podinfo_cronjob_changes_only_the_image_line() {
    let cron = podinfo("bases/database/cronjob-backup-daily.yaml");
    let repo = repo(&[(
        "clusters/production/apps/database/cronjob-backup-daily.yaml",
        &cron,
    )]);
    let set = Update {
        image: Some("ghcr.io/stefanprodan/podinfo:6.15.0".into()),
        ..Update::default()
    };
    let out = run(
        &repo,
        &spec("production", update("backup-daily", set)),
        Scope::Stated("production"),
    )
    .unwrap();
    let (added, removed) = line_diff(&cron, &out.files[0].content);
    assert_eq!(added, ["            image: ghcr.io/stefanprodan/podinfo:6.15.0"]);
    assert_eq!(
        removed,
        ["            image: ghcr.io/stefanprodan/podinfo:6.14.1"]
    );
    assert!(out.files[0]
        .content
        .contains("  # Runs every day at midnight for 1 minute\n"));
    assert!(out.files[0].content.contains("      # Cleanup after 1 day\n"));
}

#[test]
fn podinfo_resources_change_only_the_memory_lines() {
    let deploy = podinfo("bases/backend/deployment.yaml");
    let repo = repo(&[("clusters/production/apps/backend/deployment.yaml", &deploy)]);
    let set = Update {
        resources: Some(Resources {
            requests: Quantities {
                cpu: None,
                memory: Some("256Mi".into()),
            },
            limits: Quantities {
                cpu: None,
                memory: Some("1Gi".into()),
            },
        }),
        ..Update::default()
    };
    let out = run(
        &repo,
        &spec("production", update("backend", set)),
        Scope::Stated("production"),
    )
    .unwrap();
    let (mut added, mut removed) = line_diff(&deploy, &out.files[0].content);
    added.sort();
    removed.sort();
    assert_eq!(added, ["            memory: 1Gi", "            memory: 256Mi"]);
    assert_eq!(removed, ["            memory: 32Mi", "            memory: 512Mi"]);
}

fn podinfo_overlays() -> Repo {
    let mut files: Vec<(String, String)> = Vec::new();
    for path in [
        "bases/backend/deployment.yaml",
        "bases/backend/service.yaml",
        "bases/backend/hpa.yaml",
        "bases/backend/kustomization.yaml",
        "overlays/dev/kustomization.yaml",
        "overlays/staging/kustomization.yaml",
        "overlays/production/kustomization.yaml",
    ] {
        files.push((path.to_string(), podinfo(path)));
    }
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    repo(&refs)
}

#[test]
fn a_podinfo_base_shared_by_three_overlays_is_patched_in_one() {
    let repo = podinfo_overlays();
    let w = repo
        .inventory
        .workloads()
        .iter()
        .find(|w| w.name == "backend")
        .unwrap();
    assert_eq!(w.environments, ["dev", "production", "staging"]);
    assert_eq!(w.namespace, "");
    let set = Update {
        replicas: Some(3),
        image: Some("ghcr.io/stefanprodan/podinfo:6.15.0".into()),
        ..Update::default()
    };
    let out = run(
        &repo,
        &spec("production", update("backend", set)),
        Scope::Stated("production"),
    )
    .unwrap();
    assert_eq!(out.created, ["overlays/production/backend-patch.yaml"]);
    assert_eq!(out.modified, ["overlays/production/kustomization.yaml"]);
    // Reach: the patch and the overlay are built by production alone.
    assert_eq!(out.applied[0].reach, ["production"]);
    let by_path: BTreeMap<&str, &str> = out
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.content.as_str()))
        .collect();
    assert_eq!(
        by_path["overlays/production/backend-patch.yaml"],
        "# Changes for this environment only; the base is bases/backend/deployment.yaml.\n\
         apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: backend\n\
         spec:\n  template:\n    spec:\n      containers:\n        - name: backend\n          image: ghcr.io/stefanprodan/podinfo:6.15.0\n  replicas: 3\n"
    );
    let overlay = podinfo("overlays/production/kustomization.yaml");
    assert_eq!(
        by_path["overlays/production/kustomization.yaml"],
        format!("{overlay}patches:\n  - path: backend-patch.yaml\n")
    );
    // What production runs, for validation: the base with the patch merged in.
    let (before, after) = &out.merged[0];
    let before: serde_json::Value = serde_json::from_str(&before.content).unwrap();
    let after: serde_json::Value = serde_json::from_str(&after.content).unwrap();
    assert_eq!(before["spec"]["replicas"], serde_json::Value::Null);
    assert_eq!(after["spec"]["replicas"], 3);
    let c = &after["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["image"], "ghcr.io/stefanprodan/podinfo:6.15.0");
    assert_eq!(
        c["ports"][0]["containerPort"], 9898,
        "the rest of the base is kept"
    );
    // podinfo's base has an HPA for backend: the reviewer is told it decides.
    assert_eq!(out.findings[0].rule, "replicas-managed-by-hpa");
}

#[test]
fn a_shared_base_is_not_deleted_for_one_environment() {
    let repo = podinfo_overlays();
    let err = run(
        &repo,
        &spec("production", delete("backend")),
        Scope::Stated("production"),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Shared { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("bases/backend/deployment.yaml") && message.contains("dev, production, staging"),
        "{message}"
    );
}

#[test]
fn scaling_under_an_hpa_warns_that_the_hpa_decides() {
    let repo = repo(&[
        (
            "apps/production/backend/deployment.yaml",
            &podinfo("bases/backend/deployment.yaml"),
        ),
        (
            "apps/production/backend/hpa.yaml",
            &podinfo("bases/backend/hpa.yaml"),
        ),
    ]);
    let set = Update {
        replicas: Some(4),
        ..Update::default()
    };
    let out = run(
        &repo,
        &spec("production", update("backend", set)),
        Scope::Stated("production"),
    )
    .unwrap();
    // The podinfo deployment has no replicas: the key is added under spec.
    assert!(out.files[0].content.contains("spec:\n  minReadySeconds: 3\n"));
    let parsed: serde_json::Value = crate::yaml::value(&out.files[0].content).unwrap();
    assert_eq!(parsed["spec"]["replicas"], 4);
    assert_eq!(out.findings[0].rule, "replicas-managed-by-hpa");
    assert!(
        out.findings[0].message.contains("between 1 and 2"),
        "{}",
        out.findings[0].message
    );
}

#[test]
fn a_sidecar_makes_the_container_a_question() {
    let two = API.replace(
        "          resources: {}\n",
        "          resources: {}\n        - name: envoy\n          image: envoyproxy/envoy:v1.31.0\n",
    );
    let repo = repo(&[(
        "clusters/production/apps/api/deployment.yaml",
        &two.replace("name: api-gateway\n  namespace", "name: api\n  namespace"),
    )]);
    let bump = |image: &str| Update {
        image: Some(image.into()),
        ..Update::default()
    };
    // The new image's repository picks the container.
    let out = run(
        &repo,
        &spec("production", update("api", bump("envoyproxy/envoy:v1.32.0"))),
        Scope::Stated("production"),
    )
    .unwrap();
    assert!(out.files[0].content.contains("image: envoyproxy/envoy:v1.32.0\n"));
    assert!(out.files[0]
        .content
        .contains("image: ghcr.io/acme/api-gateway:1.4.0"));
    let err = run(
        &repo,
        &spec("production", update("api", bump("busybox:1.36"))),
        Scope::Stated("production"),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("several containers (api-gateway, envoy)"),
        "{err}"
    );
}
