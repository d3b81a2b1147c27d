//! Edits of real-looking manifests: what changes, and what must not.
use super::*;
use serde_json::json;

const DEPLOY: &str = "\
# The web front end.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web   # keep in sync with the Service
  labels:
    app: web
spec:
  replicas: 3 # scaled for Black Friday
  template:
    spec:
      containers:
      - name: sidecar
        image: 'envoy:1'
      - name: web
        # pinned by release
        image: \"ghcr.io/acme/web:1.2.0\"
        ports:
          - name: http
            containerPort: 8080
";

fn keys(path: &str) -> Vec<Seg> {
    path.split('.')
        .map(|p| match p.strip_prefix('=') {
            Some(name) => Seg::Named(name.into()),
            None => Seg::Key(p.into()),
        })
        .collect()
}

#[test]
fn missing_keys_are_inserted_at_the_end_of_their_mapping() {
    let text = "kind: Deployment\nspec:\n  # how many\n  selector:\n    matchLabels: {app: web}\n  template:\n    spec:\n      containers:\n        - name: web\n          image: web:1\n          resources: {} # none yet\n# trailing\n";
    let out = set_scalar(text, &keys("spec.replicas"), &json!(3)).unwrap();
    assert_eq!(
        out,
        text.replace(
            "          resources: {} # none yet\n",
            "          resources: {} # none yet\n  replicas: 3\n"
        )
    );
    let path = [
        keys("spec.template.spec.containers"),
        vec![Seg::Named("web".into())],
        keys("resources.limits.memory"),
    ]
    .concat();
    let out = set_scalar(text, &path, &json!("1Gi")).unwrap();
    assert!(
        out.contains(
            "          resources: # none yet\n            limits:\n              memory: 1Gi\n# trailing\n"
        ),
        "{out}"
    );
    // An existing value is replaced, not duplicated.
    let again = set_scalar(&out, &path, &json!("2Gi")).unwrap();
    assert_eq!(again, out.replace("memory: 1Gi", "memory: 2Gi"));
    // A list item is never created, and a flow mapping with content is not rewritten.
    let missing = [
        keys("spec.template.spec.containers"),
        vec![Seg::Named("db".into())],
        keys("image"),
    ]
    .concat();
    assert_eq!(set_scalar(text, &missing, &json!("db:1")), None);
    assert_eq!(
        set_scalar(text, &keys("spec.selector.matchLabels.tier"), &json!("x")),
        None
    );
}

#[test]
fn inserted_lines_keep_crlf_line_endings() {
    let text = "spec:\r\n  paused: false\r\n";
    assert_eq!(
        set_scalar(text, &keys("spec.replicas"), &json!(2)).unwrap(),
        "spec:\r\n  paused: false\r\n  replicas: 2\r\n"
    );
}

#[test]
fn scalars_are_replaced_in_place_keeping_comments() {
    let out = replace_scalar(DEPLOY, &keys("spec.replicas"), &json!(5)).unwrap();
    assert!(out.contains("  replicas: 5 # scaled for Black Friday\n"));
    let out = replace_scalar(
        &out,
        &keys("spec.template.spec.containers.=web.image"),
        &json!("ghcr.io/acme/web:1.3.0"),
    )
    .unwrap();
    assert!(out.contains("        image: \"ghcr.io/acme/web:1.3.0\"\n"));
    assert!(
        out.contains("        image: 'envoy:1'\n"),
        "the sidecar is untouched"
    );
    let out = replace_scalar(
        &out,
        &keys("spec.template.spec.containers.=web.ports.=http.containerPort"),
        &json!(9090),
    )
    .unwrap();
    assert!(out.contains("            containerPort: 9090\n"));
    let changed: Vec<_> = DEPLOY.lines().zip(out.lines()).filter(|(a, b)| a != b).collect();
    assert_eq!(changed.len(), 3);
    assert!(replace_scalar(DEPLOY, &keys("spec.template"), &json!(1)).is_none());
    assert!(replace_scalar(DEPLOY, &keys("spec.nope"), &json!(1)).is_none());
}

#[test]
fn annotations_are_added_or_updated() {
    let out = set_annotation(DEPLOY, "gitintent.io/drift", "spec.replicas: live 5").unwrap();
    assert!(out.contains(
        "metadata:\n  annotations:\n    gitintent.io/drift: \"spec.replicas: live 5\"\n  name: web"
    ));
    let again = set_annotation(&out, "gitintent.io/drift", "other").unwrap();
    assert!(again.contains("    gitintent.io/drift: \"other\"\n"));
    let flow = "metadata: {name: x}\n";
    assert!(set_annotation(flow, "a", "b").is_none());
    let empty = "metadata:\n  name: x\n  annotations: {}\n";
    assert_eq!(
        set_annotation(empty, "a", "b").unwrap(),
        "metadata:\n  name: x\n  annotations:\n    a: \"b\"\n"
    );
}

#[test]
fn documents_split_on_separator_lines() {
    let text = "a: 1\n---\nb: 2\n--- # c\nc: 3";
    let docs: Vec<&str> = split_documents(text).into_iter().map(|r| &text[r]).collect();
    assert_eq!(docs, ["a: 1\n", "b: 2\n", "c: 3"]);
}

#[test]
fn strings_are_quoted_when_plain_would_change_their_type() {
    assert_eq!(render_scalar(&json!("web:2"), "web:1").unwrap(), "web:2");
    assert_eq!(render_scalar(&json!("true"), "x").unwrap(), "\"true\"");
    assert_eq!(render_scalar(&json!("1.0"), "x").unwrap(), "\"1.0\"");
    assert_eq!(render_scalar(&json!("it's"), "'x'").unwrap(), "'it''s'");
}

#[test]
fn repeated_keys_are_found_on_their_second_line() {
    let text = "a: 1\nspec:\n  list:\n  - a: 1\n    a: 2\n  x: 1\n  # x: 0\n  x: null\n";
    assert_eq!(repeated_key_line(text, "/spec", "x"), Some(7));
    assert_eq!(repeated_key_line(text, "/spec/list/0", "a"), Some(4));
    assert_eq!(repeated_key_line(text, "", "a"), Some(0));
    assert_eq!(repeated_key_line("a: {b: 1, b: 2}\n", "/a", "b"), None);
}
