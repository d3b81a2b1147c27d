//! The native pack against the Rego pack, one document at a time.

use serde_json::{json, Value as Json};

use super::{credential_value, eval, quote, sensitive_name, Facts, Fallback};
use crate::policy::rego::{batch_data as rego_data, input, Hit};
use crate::policy::{batch_data, builtin, Settings};

/// The Rego pack's hits on `doc`, with `others` in the same batch.
fn interpreted(doc: &Json, others: &[Json], settings: &Settings) -> Vec<Hit> {
    let rego = builtin::compile().unwrap();
    let mut batch: Vec<(Option<&str>, &Json)> = others.iter().map(|d| (None, d)).collect();
    batch.push((None, doc));
    let data = rego_data(&batch_data(&batch, settings));
    rego.session(&data).eval(input(doc), rego.packages())
}

fn native(doc: &Json, others: &[Json], settings: &Settings) -> Result<Vec<Hit>, Fallback> {
    let mut batch: Vec<(Option<&str>, &Json)> = others.iter().map(|d| (None, d)).collect();
    batch.push((None, doc));
    let facts = batch_data(&batch, settings);
    eval(doc, &Facts::new(settings, &facts))
}

/// Native and Rego agree on `doc`; returns the native hits (an error if the
/// native path fell back).
fn agree(doc: Json, others: &[Json], settings: &Settings) -> Result<Vec<Hit>, Fallback> {
    let native = native(&doc, others, settings);
    if let Ok(hits) = &native {
        assert_eq!(hits, &interpreted(&doc, others, settings), "{doc}");
    }
    native
}

fn production() -> Settings {
    Settings {
        environment: "production".into(),
        required_labels: vec!["team".into(), "a/b~c".into()],
        allowed_registries: vec!["ghcr.io/acme/".into(), "docker.io".into()],
        ..Settings::default()
    }
}

fn deployment(replicas: Json, pod: Json) -> Json {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"team": "t", "a/b~c": "x"}},
        "spec": {"replicas": replicas, "template": {"metadata": {"labels": {"app": "web", "tier": "front"}}, "spec": pod}}
    })
}

#[test]
fn quote_is_go_quoting_for_printable_ascii_only() {
    assert_eq!(quote("a\"b\\c").unwrap(), r#""a\"b\\c""#);
    assert_eq!(quote("tab\t"), Err(Fallback));
    assert_eq!(quote("café"), Err(Fallback));
}

#[test]
fn sensitive_names_and_credential_values() {
    for name in [
        "DB_PASSWORD",
        "api-key",
        "GITHUB_PAT",
        "my.access_key.v2",
        "Secret",
    ] {
        assert!(sensitive_name(name), "{name}");
    }
    for name in ["TOKEN_FILE", "key_path", "RUST_LOG", "PATH", "pattern", "", "_"] {
        assert!(!sensitive_name(name), "{name}");
    }
    assert!(credential_value("https://u:p@h/").unwrap());
    assert!(credential_value("-----BEGIN RSA PRIVATE KEY-----").unwrap());
    assert!(!credential_value("see @mention").unwrap());
}

#[test]
fn a_clean_and_a_dirty_workload_agree_with_rego() {
    let settings = production();
    let clean = json!({
        "securityContext": {"runAsNonRoot": true},
        "containers": [{"name": "app", "image": "ghcr.io/acme/app:1",
            "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
            "readinessProbe": {"httpGet": {"port": 80}}, "livenessProbe": {"httpGet": {"port": 80}},
            "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true}}]
    });
    let pdb = json!({"kind": "PodDisruptionBudget", "metadata": {"namespace": "shop"},
        "spec": {"selector": {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["back"]}]}}});
    assert_eq!(
        agree(deployment(json!(3), clean.clone()), &[pdb], &settings),
        Ok(vec![])
    );
    assert_eq!(
        agree(deployment(json!(3), clean.clone()), &[], &settings)
            .unwrap()
            .len(),
        1
    );
    let dirty = json!({
        "hostPID": true,
        "volumes": [{"name": "root", "hostPath": {"path": "/"}}, {"hostPath": "x"}, "odd"],
        "securityContext": {"runAsUser": 1000},
        "initContainers": [{"image": "nginx", "securityContext": {"capabilities": {"add": ["cap_sys_admin", 3]}}}],
        "containers": [{"name": "a\"b", "image": "library/redis:latest",
            "env": [{"name": "API_TOKEN", "value": "abc"}, {"name": "X", "value": "AKIAABCDEFGHIJKLMNOP"}, {"value": "ghp_x"}, "odd"],
            "resources": {"requests": {"cpu": "", "memory": null}}}]
    });
    let hits = agree(deployment(json!(1), dirty), &[], &settings).unwrap();
    assert!(hits.len() > 15, "{hits:?}");
}

#[test]
fn other_kinds_agree_with_rego() {
    let settings = production();
    let docs = [
        json!({"kind": "Ingress", "metadata": {"namespace": "kube-system"}, "spec": {"rules": [{"host": "a"}]}}),
        json!({"kind": "Ingress", "spec": {"tls": [{"hosts": ["a"]}, "x"], "rules": [{"host": "a"}, {"host": "b"}, {}]}}),
        json!({"kind": "Ingress", "metadata": {"labels": {"team": ""}}}),
        json!({"kind": "ConfigMap", "data": {"db_password": "x", "url": "https://u:p@h/", "key": "", "n": 1}}),
        json!({"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "j"}]}}}}}}),
        json!({"kind": "Pod", "spec": {"restartPolicy": "Never", "containers": [{"name": "p"}]}}),
        json!({"kind": "Service", "metadata": {"labels": {"team": "t", "a/b~c": "x"}}}),
    ];
    for doc in docs {
        assert!(agree(doc.clone(), &[], &settings).is_ok(), "{doc}");
        assert!(agree(doc, &[], &Settings::default()).is_ok());
    }
}

#[test]
fn shapes_it_does_not_model_fall_back() {
    let settings = production();
    let odd = [
        json!({"kind": 3}),
        json!({"kind": "Pod", "metadata": []}),
        json!({"kind": "Pod", "spec": {"containers": {"a": {}}}}),
        json!({"kind": "Pod", "spec": {"containers": [{"name": "é"}]}}),
        deployment(json!(2.5), json!({})),
        deployment(json!(-1), json!({})),
        json!({"kind": "Ingress", "spec": {"tls": null}}),
    ];
    for doc in odd {
        assert_eq!(native(&doc, &[], &settings), Err(Fallback), "{doc}");
    }
    // A PDB selector of an odd shape sends PDB checks to Rego.
    let pdb = json!({"kind": "PodDisruptionBudget", "spec": {"selector": {"matchLabels": {"app": 1}}}});
    assert_eq!(
        native(&deployment(json!(2), json!({})), &[pdb], &settings),
        Err(Fallback)
    );
}
