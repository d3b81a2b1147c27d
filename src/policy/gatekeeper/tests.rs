//! Unit tests of Gatekeeper templates with a K8sNativeValidation (CEL) code
//! block: which engine is chosen, and what it sees.

use crate::finding::Severity;
use crate::policy::{Error, PolicySet, Settings};

/// A template of kind `K8sRequiredLabels` whose targets are `code`.
fn template(code: &str) -> String {
    format!("apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata: {{name: k8srequiredlabels}}\nspec:\n  crd: {{spec: {{names: {{kind: K8sRequiredLabels}}}}}}\n  targets:\n    - target: admission.k8s.gatekeeper.sh\n      code:\n{code}")
}

const CEL: &str = "      - engine: K8sNativeValidation
        source:
          variables:
            - name: labels
              expression: \"has(variables.anyObject.metadata.labels) ? variables.anyObject.metadata.labels : {}\"
          validations:
            - expression: \"variables.params.labels.all(k, k in variables.labels)\"
              messageExpression: \"'cel: missing one of ' + variables.params.labels.join(', ')\"
";

const REGO: &str = "      - engine: Rego
        source:
          rego: |
            package k8srequiredlabels
            violation[{\"msg\": msg}] {
              key := input.parameters.labels[_]
              not input.review.object.metadata.labels[key]
              msg := sprintf(\"rego: missing %v\", [key])
            }
";

const CONSTRAINT: &str = "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sRequiredLabels\nmetadata: {name: need-team}\nspec:\n  match:\n    kinds: [{apiGroups: [''], kinds: [Pod]}]\n  parameters: {labels: [team]}\n";

fn set(template: &str) -> Result<PolicySet, Error> {
    PolicySet::empty()
        .with_source("t.yaml", template)?
        .with_source("c.yaml", CONSTRAINT)
}

fn pod(labels: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop", "labels": labels}})
}

fn messages(set: &PolicySet, doc: &serde_json::Value) -> Vec<(Severity, String, String)> {
    set.check_documents(&[(None, doc)], &Settings::default())
        .into_iter()
        .map(|f| (f.severity, f.rule, f.message))
        .collect()
}

#[test]
fn the_cel_code_is_evaluated_before_the_rego_as_gatekeeper_prefers() {
    let set = set(&template(&format!("{CEL}{REGO}"))).unwrap();
    assert_eq!(
        messages(&set, &pod(serde_json::json!({"app": "x"}))),
        vec![(
            Severity::Error,
            "K8sRequiredLabels/need-team".to_string(),
            "cel: missing one of team".to_string()
        )]
    );
    assert!(messages(&set, &pod(serde_json::json!({"team": "a"}))).is_empty());
    // CEL alone works the same.
    let cel_only = self::set(&template(CEL)).unwrap();
    assert_eq!(messages(&cel_only, &pod(serde_json::json!({}))).len(), 1);
}

#[test]
fn cel_gitintent_cannot_evaluate_falls_back_to_rego_or_is_reported() {
    let unknown = CEL.replace(
        "variables.params.labels.all",
        "url('https://x').getHost() == 'x' && variables.params.labels.all",
    );
    let set = set(&template(&format!("{unknown}{REGO}"))).unwrap();
    let found = messages(&set, &pod(serde_json::json!({})));
    assert!(
        found.contains(&(
            Severity::Error,
            "K8sRequiredLabels/need-team".into(),
            "rego: missing team".into()
        )),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|(s, r, m)| *s == Severity::Info && r == "gatekeeper-offline" && m.contains("url")),
        "{found:?}"
    );
    let reported = self::set(&template(&unknown)).unwrap();
    let found = messages(&reported, &pod(serde_json::json!({})));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].0, found[0].1.as_str()),
        (Severity::Error, "gatekeeper-unsupported")
    );
}

#[test]
fn a_cel_syntax_error_in_a_template_names_file_line_and_column() {
    let broken = CEL.replace("k in variables.labels)", "k in variables.labels");
    let err = set(&template(&broken)).unwrap_err().to_string();
    assert!(err.starts_with("t.yaml:15:81:"), "{err}");
    assert!(err.contains("source.validations[0].expression"), "{err}");
}
