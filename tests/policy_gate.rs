//! The policy gate fails closed, end to end through `gitintent validate`:
//! policies it cannot evaluate fail the run when they enforce; Gatekeeper
//! templates and constraints are evaluated; `--policy` takes a file; and
//! `--rego-package` (old name `--namespace`) picks Rego packages.

use std::path::Path;

fn gitintent(args: &[&str]) -> (Option<i32>, String, String) {
    let out = crate::util::bin::gitintent()
        .args(args)
        .output()
        .expect("the binary runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostNetwork: true\n  containers:\n    - {name: c, image: 'nginx:1'}\n";

fn vpol(action: &str) -> String {
    format!("apiVersion: policies.kyverno.io/v1alpha1\nkind: ValidatingPolicy\nmetadata: {{name: no-host-network}}\nspec:\n  validationActions: [{action}]\n  matchConstraints:\n    resourceRules: [{{apiGroups: [''], apiVersions: [v1], operations: [CREATE], resources: [pods]}}]\n  validations:\n    - expression: '!has(object.spec.hostNetwork) || !object.spec.hostNetwork'\n")
}

#[test]
fn an_enforcing_cel_policy_fails_the_run_and_an_audit_one_warns() {
    let dir = tempfile::tempdir().unwrap();
    let pod = write(dir.path(), "pod.yaml", POD);
    let deny = write(dir.path(), "deny/vpol.yaml", &vpol("Deny"));
    let (code, stdout, stderr) = gitintent(&["validate", &pod, "--policy", &deny]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("error [no-host-network/validations[0]] Pod/p"),
        "{stdout}"
    );
    let audit = write(dir.path(), "audit/vpol.yaml", &vpol("Audit"));
    let (code, stdout, _) = gitintent(&["validate", &pod, "--policy", &audit]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains("warning [no-host-network/validations[0]]"),
        "{stdout}"
    );
}

#[test]
fn a_cel_policy_the_interpreter_cannot_evaluate_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let pod = write(dir.path(), "pod.yaml", POD);
    let policy = vpol("Deny").replace(
        "'!has(object.spec.hostNetwork) || !object.spec.hostNetwork'",
        "\"url('https://x').getHost() == 'x'\"",
    );
    let deny = write(dir.path(), "deny/vpol.yaml", &policy);
    let (code, stdout, stderr) = gitintent(&["validate", &pod, "--policy", &deny]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("error [policy-unsupported] ValidatingPolicy/no-host-network"),
        "{stdout}"
    );
    assert!(stdout.contains("getHost, url"), "{stdout}");
}

#[test]
fn a_cel_syntax_error_is_refused_with_file_and_position() {
    let dir = tempfile::tempdir().unwrap();
    let pod = write(dir.path(), "pod.yaml", POD);
    let policy = vpol("Deny").replace("|| !object", "|| || !object");
    let deny = write(dir.path(), "deny/vpol.yaml", &policy);
    let (code, stdout, stderr) = gitintent(&["validate", &pod, "--policy", &deny]);
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(stderr.contains("vpol.yaml:9:"), "{stderr}");
    assert!(stderr.contains("invalid CEL expression"), "{stderr}");
}

#[test]
fn gatekeeper_templates_and_constraints_are_evaluated_from_the_library() {
    let library = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/policy-suites/gatekeeper-library/library/general/httpsonly");
    let dir = tempfile::tempdir().unwrap();
    let read = |p: &str| std::fs::read_to_string(library.join(p)).unwrap();
    write(dir.path(), "policies/template.yaml", &read("template.yaml"));
    write(
        dir.path(),
        "policies/constraint.yaml",
        &read("samples/ingress-https-only/constraint.yaml"),
    );
    let policies = dir.path().join("policies");
    let bad = write(
        dir.path(),
        "bad.yaml",
        &read("samples/ingress-https-only/example_disallowed.yaml"),
    );
    let good = write(
        dir.path(),
        "good.yaml",
        &read("samples/ingress-https-only/example_allowed.yaml"),
    );
    let policies = policies.to_str().unwrap();
    let (code, stdout, stderr) = gitintent(&["validate", &bad, "--policy", policies]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("error [K8sHttpsOnly/ingress-https-only] Ingress/"),
        "{stdout}"
    );
    let (code, stdout, stderr) = gitintent(&["validate", &good, "--policy", policies]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
}

#[test]
fn a_constraint_without_its_template_fails_closed() {
    let dir = tempfile::tempdir().unwrap();
    let pod = write(dir.path(), "pod.yaml", POD);
    let constraint = write(
        dir.path(),
        "c.yaml",
        "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sRequiredLabels\nmetadata: {name: need-team}\nspec:\n  parameters: {labels: [{key: team}]}\n",
    );
    let (code, stdout, _) = gitintent(&["validate", &pod, "--policy", &constraint]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("error [gatekeeper-unsupported] K8sRequiredLabels/need-team"),
        "{stdout}"
    );
}

#[test]
fn rego_package_picks_packages_and_namespace_stays_an_alias() {
    let dir = tempfile::tempdir().unwrap();
    let pod = write(dir.path(), "pod.yaml", POD);
    let rego = write(
        dir.path(),
        "org.rego",
        "package org.k8s\n\ndeny contains msg if {\n  input.spec.hostNetwork\n  msg := \"no host network\"\n}\n",
    );
    let (code, stdout, _) = gitintent(&["validate", &pod, "--policy", &rego]);
    assert_eq!(code, Some(0), "package main only by default: {stdout}");
    for flag in ["--rego-package", "--namespace"] {
        let (code, stdout, stderr) = gitintent(&["validate", &pod, "--policy", &rego, flag, "org.k8s"]);
        assert_eq!(code, Some(1), "{flag}: {stdout}{stderr}");
        assert!(stdout.contains("no host network"), "{flag}: {stdout}");
    }
}
