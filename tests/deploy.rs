//! gitintent's own deployment (`deploy/`): it passes its own production
//! gate, kustomize lists every file, the Deployment is what the README
//! promises, and the shipped `gitintent.toml` loads.

use std::path::Path;
use std::process::Command;

fn deploy() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

fn yaml(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(deploy().join(name)).unwrap();
    gitintent::yaml::value(&text).unwrap()
}

#[test]
fn the_deploy_package_passes_the_production_gate_with_no_findings() {
    let out = Command::new(env!("CARGO_BIN_EXE_gitintent"))
        .args([
            "validate",
            "--builtin-policies",
            "--env",
            "production",
            "--format",
            "json",
        ])
        .arg(deploy())
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{report}");
    assert_eq!(report["summary"]["valid"], 7, "{report}");
    assert_eq!(report["findings"], serde_json::json!([]), "{report}");
    // Kustomize builds exactly the files that were validated.
    let kustomization = yaml("Kustomization");
    let mut listed: Vec<String> = kustomization["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    let mut files: Vec<String> = std::fs::read_dir(deploy())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    listed.sort();
    files.sort();
    assert_eq!(listed, files);
}

#[test]
fn the_deployment_runs_two_restricted_replicas_with_probes_metrics_and_named_secrets() {
    let d = yaml("deployment.yaml");
    assert_eq!(d["spec"]["replicas"], 2);
    let pod = &d["spec"]["template"];
    assert_eq!(pod["metadata"]["annotations"]["prometheus.io/scrape"], "true");
    let c = &pod["spec"]["containers"][0];
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(c["securityContext"]["capabilities"]["drop"][0], "ALL");
    assert_eq!(
        pod["spec"]["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    let secrets: Vec<&str> = c["env"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["valueFrom"]["secretKeyRef"]["name"].as_str())
        .collect();
    for name in [
        "gitintent-database",
        "gitintent-model",
        "gitintent-git",
        "gitintent-forge",
        "gitintent-slack",
    ] {
        assert!(secrets.contains(&name), "{name} in {secrets:?}");
    }
    let ns = yaml("namespace.yaml");
    assert_eq!(
        ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "restricted"
    );
    assert_eq!(yaml("pdb.yaml")["spec"]["maxUnavailable"], 1);
}

#[test]
fn the_shipped_service_config_loads_with_a_postgres_store() {
    let text = yaml("configmap.yaml")["data"]["gitintent.toml"]
        .as_str()
        .unwrap()
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gitintent.toml");
    std::fs::write(&path, text).unwrap();
    let env = |name: &str| match name {
        "GITINTENT_STORE" => Some("postgres://gitintent@db:5432/gitintent?sslmode=verify-full".to_string()),
        _ => None,
    };
    let config = gitintent::serve::Config::load(Some(&path), env, Default::default()).unwrap();
    assert!(matches!(
        config.store_location().unwrap(),
        gitintent::serve::Location::Postgres(_)
    ));
    assert_eq!(
        config.mirror_dir().unwrap(),
        Path::new("/var/lib/gitintent/mirrors")
    );
    assert_eq!(config.limits.plan_lease_secs, 30);
}
