//! `plan --cluster`: server-side apply dry run, verdicts as findings.

use std::path::Path;

use gitintent::drift;
use serde_json::Value;

use super::*;
use crate::util::kube_api::KubeApi;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_cluster_dry_runs_every_manifest_and_reports_the_verdicts() {
    let api = KubeApi::start().await;
    api.deny(
        "deployments",
        "shop",
        400,
        "admission webhook \"validate.kyverno.svc\" denied the request: images must come from registry.acme.io",
    );
    let tmp = tempfile::tempdir().unwrap();
    let kubeconfig = api.kubeconfig(tmp.path());
    let gitops = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/gitops");
    let out = run(&[
        "plan",
        "Deploy a web app called shop using image nginx:1.27 with 2 replicas in staging",
        "--repo",
        gitops.to_str().unwrap(),
        "--planner",
        "builtin",
        "--format",
        "json",
        "--cluster",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
    ])
    .await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}\n{:#?}\n{}",
        String::from_utf8_lossy(&out.stderr),
        api.requests(),
        String::from_utf8_lossy(&out.stdout)
    );
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let verdicts: Vec<(String, String, String)> = plan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == drift::DRY_RUN_RULE)
        .map(|f| {
            (
                f["severity"].as_str().unwrap().to_string(),
                f["resource"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // The Deployment, its Service and ServiceAccount, and the new Namespace.
    assert_eq!(verdicts.len(), 4, "{verdicts:#?}");
    assert!(verdicts.contains(&(
        "error".into(),
        "Deployment/shop".into(),
        "400 BadRequest: admission webhook \"validate.kyverno.svc\" denied the request: images must come from registry.acme.io".into()
    )));
    assert!(verdicts.iter().filter(|v| v.0 == "info").count() == 3);
    assert_eq!(api.rejected(), Vec::<String>::new());
    let patches: Vec<String> = api
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("PATCH"))
        .collect();
    assert_eq!(patches.len(), 4);
    assert!(patches.contains(
        &"PATCH /apis/apps/v1/namespaces/shop/deployments/shop?&dryRun=All&fieldManager=gitintent&fieldValidation=Strict".to_string()
    ), "{patches:#?}");
}
