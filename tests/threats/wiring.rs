//! Wiring refuses kustomizations it could misread: two `resources:` keys, or
//! a merge key (issue 13, item 8). An error finding, never "Plan is valid".

use super::{committed, gitintent, stderr};

const CONFIG: &str = "layout: clusters/{environment}/apps/{name}/\nenvironments: [production, staging]\n";
const REDIS: &str = "Deploy redis with 3 replicas and automatic failover in staging";

#[test]
fn duplicate_resources_keys_and_merge_keys_are_error_findings() {
    for kustomization in [
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- web\nresources:\n- worker\n",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\ncommon: &c\n  resources: [web]\n<<: *c\n",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("gitops");
        committed(
            &repo,
            &[
                (".gitintent.yaml", CONFIG),
                ("clusters/staging/apps/kustomization.yaml", kustomization),
            ],
            &[],
        );
        let root = repo.to_str().unwrap();
        let out = gitintent(&["plan", REDIS, "--repo", root], &[]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{stdout}\n{}", stderr(&out));
        assert!(stdout.contains("kustomization-ambiguous"), "{stdout}");
        assert!(!stdout.contains("Plan is valid"), "{stdout}");
        // And --write writes nothing.
        let out = gitintent(&["plan", REDIS, "--repo", root, "--write"], &[]);
        assert_eq!(out.status.code(), Some(1));
        assert!(!repo.join("clusters/staging/apps/redis").exists());
        let kept = std::fs::read_to_string(repo.join("clusters/staging/apps/kustomization.yaml")).unwrap();
        assert_eq!(kept, kustomization);
    }
}
