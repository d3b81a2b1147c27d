//! `--propose adopt|revert`: the files and message of the proposed commit.

use gitintent::drift;
use serde_json::{json, Value};

use super::*;
use crate::util::kube_api::KubeApi;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adopt_writes_live_values_keeping_comments_and_then_is_in_sync() {
    let (api, mut lives) = cluster_in_sync().await;
    lives[0]["spec"]["replicas"] = 5.into();
    lives[0]["spec"]["template"]["spec"]["containers"][1]["image"] = "ghcr.io/acme/web:1.5.0".into();
    api.put(lives[0].clone());
    let dir = repo();
    let tmp = tempfile::tempdir().unwrap();
    let kubeconfig = api.kubeconfig(tmp.path());
    let args = [
        "drift",
        "--repo",
        dir.path().to_str().unwrap(),
        "--env",
        "production",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
    ];
    let mut adopt = args.to_vec();
    adopt.extend(["--propose", "adopt", "--write", "--format", "json"]);
    let out = run(&adopt).await;
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let proposal = &json["proposal"];
    assert_eq!(proposal["mode"], "adopt");
    assert_eq!(
        proposal["title"],
        "drift(production): adopt live values of 1 drifted resource(s)"
    );
    assert_eq!(proposal["files"].as_array().unwrap().len(), 1);
    let path = dir.path().join("clusters/production/apps/web/deployment.yaml");
    let written = std::fs::read_to_string(&path).unwrap();
    assert_eq!(written, proposal["files"][0]["content"].as_str().unwrap());
    let expected = DEPLOYMENT
        .replace("replicas: 3 # three", "replicas: 5 # three")
        .replace("web:1.4.2", "web:1.5.0");
    assert_eq!(written, expected, "only the two drifted lines change");

    let out = run(&args).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revert_keeps_git_values_and_records_the_drift() {
    let (api, mut lives) = cluster_in_sync().await;
    lives[0]["spec"]["replicas"] = 5.into();
    api.put(lives[0].clone());
    let dir = repo();
    let report = check(&api, dir.path()).await;
    let proposal = drift::propose(dir.path(), &report, drift::Mode::Revert).unwrap();
    assert_eq!(
        proposal.title,
        "drift(production): restore Git values of 1 drifted resource(s)"
    );
    assert!(proposal.message.contains("- Deployment shop/web (clusters/production/apps/web/deployment.yaml):\n    spec.replicas: git 3, live 5\n"), "{}", proposal.message);
    assert!(proposal
        .message
        .contains("reconciliation restores the Git values"));
    assert_eq!(proposal.files.len(), 1);
    let content = &proposal.files[0].content;
    assert!(
        content.contains("  replicas: 3 # three for the holidays\n"),
        "Git's value stays"
    );
    assert!(content.contains("metadata:\n  annotations:\n    gitintent.io/drift: \"spec.replicas: git 3, live 5\"\n  name: web\n"), "{content}");
    assert!(content.starts_with("# Web front end of the shop.\n"));
    // Nothing is written without --write.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("clusters/production/apps/web/deployment.yaml")).unwrap(),
        DEPLOYMENT
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn podinfo_drift_is_adopted_line_by_line() {
    let dir = podinfo_repo();
    let app = dir.path().join("clusters/production/podinfo");
    let api = KubeApi::start().await;
    let mut lives = Vec::new();
    for file in ["deployment.yaml", "service.yaml", "hpa.yaml", "cronjob.yaml"] {
        let git: Value = serde_saphyr::from_str(&std::fs::read_to_string(app.join(file)).unwrap()).unwrap();
        let mut v = git.clone();
        v["metadata"]["namespace"] = "podinfo".into();
        v["metadata"]["uid"] = "u-1".into();
        v["status"] = json!({});
        lives.push(v);
    }
    // Canonical forms the API server returns: 2000m → "2", octal 0755 → 493.
    lives[0]["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] = "2".into();
    lives[3]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["volumes"][0]["configMap"]["defaultMode"] =
        493.into();
    // Hand edits.
    lives[0]["spec"]["template"]["spec"]["containers"][0]["image"] =
        "ghcr.io/stefanprodan/podinfo:6.15.0".into();
    lives[0]["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = "1Gi".into();
    lives[3]["spec"]["schedule"] = "30 1 * * *".into();
    for v in &lives {
        api.put(v.clone());
    }
    let report = check(&api, dir.path()).await;
    let backend = entry(&report, "Deployment", "backend");
    let paths: Vec<&str> = backend.differences.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "spec.template.spec.containers[name=backend].image",
            "spec.template.spec.containers[name=backend].resources.limits.memory",
        ]
    );
    let mut deps = backend.dependents.clone();
    deps.sort();
    assert_eq!(deps, ["HorizontalPodAutoscaler/backend", "Service/backend"]);
    assert_eq!(backend.score, (10 + 5) * 3);
    let cron = entry(&report, "CronJob", "backup-daily");
    assert_eq!(cron.differences.len(), 1, "{:#?}", cron.differences);
    assert_eq!(cron.differences[0].path, "spec.schedule");

    let proposal = drift::propose(dir.path(), &report, drift::Mode::Adopt).unwrap();
    assert!(proposal.skipped.is_empty(), "{:#?}", proposal.skipped);
    let by_path = |p: &str| {
        proposal
            .files
            .iter()
            .find(|f| f.path == format!("clusters/production/podinfo/{p}"))
            .unwrap()
            .content
            .clone()
    };
    let original = |p: &str| std::fs::read_to_string(app.join(p)).unwrap();
    let changed = |p: &str| -> Vec<(String, String)> {
        original(p)
            .lines()
            .zip(by_path(p).lines())
            .filter(|(a, b)| a != b)
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    assert_eq!(
        changed("deployment.yaml"),
        [
            (
                "        image: ghcr.io/stefanprodan/podinfo:6.14.1".into(),
                "        image: ghcr.io/stefanprodan/podinfo:6.15.0".into()
            ),
            (
                "            memory: 512Mi".into(),
                "            memory: 1Gi".into()
            ),
        ]
    );
    assert_eq!(
        changed("cronjob.yaml"),
        [(
            "  schedule: \"0 0 * * *\"".into(),
            "  schedule: \"30 1 * * *\"".into()
        )]
    );
    assert!(by_path("cronjob.yaml").contains("  # Runs every day at midnight for 1 minute\n"));
    assert_eq!(
        original("deployment.yaml").lines().count(),
        by_path("deployment.yaml").lines().count()
    );
}
