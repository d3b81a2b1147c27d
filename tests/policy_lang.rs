//! The policy languages added to the gate, through the binary: Kyverno
//! `validate.podSecurity` and `validate.cel`, and Gatekeeper templates with
//! a K8sNativeValidation (CEL) code block, on a repository's files.

use std::path::{Path, PathBuf};

fn gitintent(args: &[&str]) -> std::process::Output {
    crate::util::bin::gitintent()
        .args(args)
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn write(dir: &Path, name: &str, content: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path.display().to_string()
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.2.0
          securityContext: {allowPrivilegeEscalation: false, runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}, capabilities: {drop: [ALL], add: [NET_ADMIN]}}
";

const RESTRICTED: &str = "apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: psa}
spec:
  validationFailureAction: Enforce
  rules:
    - name: restricted
      match: {any: [{resources: {kinds: [Pod]}}]}
      validate:
        podSecurity:
          level: restricted
          version: latest
";

#[test]
fn pod_security_rules_fail_the_gate_on_a_controller_and_exclusions_exempt() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = write(dir.path(), "web.yaml", DEPLOYMENT);
    let policy = write(dir.path(), "psa.yaml", RESTRICTED);
    let out = gitintent(&["validate", &manifest, "--policy", &policy]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("error [psa/restricted] Deployment/web /spec/template/spec/containers/0/securityContext/capabilities/add"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "it violates PodSecurity \"restricted:latest\": (Forbidden reason: non-default capabilities"
        ),
        "{stdout}"
    );
    let exempt = RESTRICTED.replace(
        "          version: latest\n",
        "          version: latest\n          exclude: [{controlName: Capabilities, images: ['ghcr.io/acme/*'], restrictedField: 'spec.containers[*].securityContext.capabilities.add', values: [NET_ADMIN]}]\n",
    );
    let policy = write(dir.path(), "psa.yaml", &exempt);
    let out = gitintent(&["validate", &manifest, "--policy", &policy]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

const CEL_RULE: &str = "apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: tags}
spec:
  validationFailureAction: Enforce
  rules:
    - name: pinned
      match: {any: [{resources: {kinds: [Pod]}}]}
      validate:
        message: images must be pinned to a version
        cel:
          expressions:
            - expression: \"object.spec.containers.all(c, c.image.contains(':') && !c.image.endsWith(':latest'))\"
";

#[test]
fn kyverno_cel_rules_are_evaluated_and_their_syntax_errors_located() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = write(
        dir.path(),
        "web.yaml",
        &DEPLOYMENT.replace("web:1.2.0", "web:latest"),
    );
    let policy = write(dir.path(), "tags.yaml", CEL_RULE);
    let out = gitintent(&["validate", &manifest, "--policy", &policy]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("error [tags/pinned] Deployment/web")
            && stdout.contains("images must be pinned to a version"),
        "{stdout}"
    );
    let policy = write(
        dir.path(),
        "tags.yaml",
        &CEL_RULE.replace("c.image.endsWith(':latest'))", "c.image.endsWith(':latest')"),
    );
    let out = gitintent(&["validate", &manifest, "--policy", &policy]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("tags.yaml:13:"), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing is validated with a broken policy");
}

fn requiredlabels() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/policy-suites/gatekeeper-library/library/general/requiredlabels")
}

#[test]
fn gatekeeper_templates_with_cel_code_are_evaluated_with_the_cel() {
    let dir = requiredlabels();
    let template = dir.join("template.yaml");
    let sample = dir.join("samples/all-must-have-owner");
    let (constraint, bad) = (
        sample.join("constraint.yaml"),
        sample.join("example_disallowed.yaml"),
    );
    let out = gitintent(&[
        "validate",
        bad.to_str().unwrap(),
        "--policy",
        template.to_str().unwrap(),
        "--policy",
        constraint.to_str().unwrap(),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    // The template's CEL messageExpression, not its Rego's message.
    assert!(
        stdout.contains("error [K8sRequiredLabels/all-must-have-owner] Namespace/disallowed-namespace")
            && stdout.contains("missing required label, requires all of: owner"),
        "{stdout}"
    );
    let good = sample.join("example_allowed.yaml");
    let out = gitintent(&[
        "validate",
        good.to_str().unwrap(),
        "--policy",
        template.to_str().unwrap(),
        "--policy",
        constraint.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}
