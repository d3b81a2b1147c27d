//! `gitintent validate` end to end, and conformance with kubeconform's
//! acceptance fixtures: one test per row of `EXPECTED.tsv` (strict column).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kubeconform-fixtures")
}

fn validate(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = crate::util::bin::gitintent()
        .arg("validate")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!("not JSON ({e}): {}", stdout(output));
    })
}

/// One row of `EXPECTED.tsv`.
struct Expected {
    resources: Option<usize>,
    strict: String,
}

fn expected(fixture: &str) -> Expected {
    let table = std::fs::read_to_string(fixtures().join("EXPECTED.tsv")).unwrap();
    let row = table
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .find(|cols| cols[0] == fixture)
        .unwrap_or_else(|| panic!("{fixture} is not in EXPECTED.tsv"));
    Expected {
        resources: row[1].parse().ok(),
        strict: row[3].to_owned(),
    }
}

/// `valid`, `invalid` or `error`, the way kubeconform's suite reads a run.
fn verdict(summary: &Value) -> &'static str {
    if summary["errors"].as_u64() > Some(0) {
        "error"
    } else if summary["invalid"].as_u64() > Some(0) {
        "invalid"
    } else {
        "valid"
    }
}

fn conforms(fixture: &str) -> Value {
    let want = expected(fixture);
    let path = fixtures().join(fixture);
    let output = validate(&[path.to_str().unwrap(), "--format", "json"], None);
    let report = json(&output);
    let summary = &report["summary"];
    assert_eq!(verdict(summary), want.strict, "{fixture}: {report:#}");
    if let Some(count) = want.resources {
        assert_eq!(summary["resources"], count, "{fixture}: {report:#}");
    }
    let code = if want.strict == "valid" { 0 } else { 1 };
    assert_eq!(output.status.code(), Some(code), "{fixture}");
    report
}

/// The first message of the first resource that failed.
fn first_error(report: &Value) -> String {
    report["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|r| r["errors"][0]["message"].as_str())
        .unwrap_or_default()
        .to_owned()
}

macro_rules! fixture_tests {
    ($($test:ident => $file:literal,)*) => {
        const FIXTURES: &[&str] = &[$($file),*];
        $(
            #[test]
            fn $test() {
                conforms($file);
            }
        )*
    };
}

fixture_tests! {
    fixture_valid_yaml => "valid.yaml",
    fixture_valid_json => "valid.json",
    fixture_folder => "folder",
    fixture_int_or_string => "int_or_string.yaml",
    fixture_generate_name => "generate_name.yaml",
    fixture_quantity => "quantity.yaml",
    fixture_null_string => "null_string.yaml",
    fixture_multi_valid => "multi_valid.yaml",
    fixture_multi_invalid => "multi_invalid.yaml",
    fixture_invalid => "invalid.yaml",
    fixture_blank => "blank.yaml",
    fixture_comment => "comment.yaml",
    fixture_missing_kind => "missing_kind.yaml",
    fixture_missing_apiversion => "missing_apiversion.yaml",
    fixture_missing_kind_value => "missing_kind_value.yaml",
    fixture_test_crd => "test_crd.yaml",
    fixture_extra_property => "extra_property.yaml",
    fixture_duplicate_property => "duplicate_property.yaml",
    fixture_list_valid => "list_valid.yaml",
    fixture_list_invalid => "list_invalid.yaml",
    fixture_list_empty_valid => "list_empty_valid.yaml",
    fixture_multi_with_list => "multi_with_list.yaml",
}

#[test]
fn every_fixture_in_the_table_has_a_test() {
    let table = std::fs::read_to_string(fixtures().join("EXPECTED.tsv")).unwrap();
    let mut listed: Vec<_> = table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    let mut tested = FIXTURES.to_vec();
    listed.sort_unstable();
    tested.sort_unstable();
    assert_eq!(listed, tested);
}

#[test]
fn missing_kind_messages_name_the_missing_key() {
    for fixture in ["missing_kind.yaml", "missing_kind_value.yaml"] {
        let message = first_error(&conforms(fixture));
        assert!(message.contains("'kind' key"), "{fixture}: {message}");
    }
    let message = first_error(&conforms("missing_apiversion.yaml"));
    assert!(message.contains("'apiVersion' key"), "{message}");
}

#[test]
fn list_items_are_reported_at_their_own_paths() {
    let report = conforms("list_invalid.yaml");
    let invalid: Vec<_> = report["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "invalid")
        .collect();
    assert_eq!(invalid.len(), 1);
    assert_eq!(invalid[0]["errors"][0]["path"], "/spec/replicas");
}

#[test]
fn unknown_kinds_are_skipped_when_missing_schemas_are_ignored() {
    let path = fixtures().join("test_crd.yaml");
    let output = validate(&[path.to_str().unwrap(), "--ignore-missing-schemas"], None);
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).contains("Skipped: 1"), "{}", stdout(&output));
}

#[test]
fn skipped_kinds_are_counted_as_skipped() {
    let manifest =
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [app.yaml]\n";
    let output = validate(&["-", "--skip", "Kustomization,Other"], Some(manifest));
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("Skipped: 1"), "{}", stdout(&output));
}

#[test]
fn text_output_has_one_line_per_failure_and_a_summary() {
    let path = fixtures().join("multi_invalid.yaml");
    let output = validate(&[path.to_str().unwrap()], None);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].ends_with(
            "multi_invalid.yaml - Service redis-master is invalid: /spec/ports/0/port: \"sds\" is not of type \"integer\""
        ),
        "{text}"
    );
    assert_eq!(
        lines[1],
        "Summary: 6 resources found in 1 file - Valid: 5, Invalid: 1, Errors: 0, Skipped: 0"
    );
}

#[test]
fn stdin_is_read_for_a_dash() {
    let manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n";
    let output = validate(&["-", "--format", "json"], Some(manifest));
    assert_eq!(output.status.code(), Some(0));
    let report = json(&output);
    assert_eq!(report["resources"][0]["file"], "stdin");
    assert_eq!(report["resources"][0]["status"], "valid");
}

#[test]
fn custom_resources_are_validated_against_crds_in_the_input() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("crd.yaml"),
        "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
              port: {x-kubernetes-int-or-string: true}
",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("widgets.yaml"),
        "apiVersion: example.com/v1
kind: Widget
metadata: {name: good}
spec: {size: 3, port: http}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: bad}
spec: {size: 3, colour: red}
",
    )
    .unwrap();
    let output = validate(&[dir.path().to_str().unwrap(), "--format", "json"], None);
    assert_eq!(output.status.code(), Some(1));
    let report = json(&output);
    let statuses: Vec<_> = report["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["name"].as_str().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("widgets.example.com", "valid"),
            ("good", "valid"),
            ("bad", "invalid")
        ]
    );
    assert_eq!(report["summary"]["files"], 2);
}

#[test]
fn an_unreadable_path_exits_2() {
    let output = validate(&["/no/such/manifest.yaml"], None);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("/no/such/manifest.yaml"), "{stderr}");
}

#[test]
fn no_paths_is_a_usage_error() {
    assert_eq!(validate(&[], None).status.code(), Some(2));
}

#[test]
fn the_library_agrees_with_the_binary() {
    let files = gitintent::validate::read(&[fixtures().join("folder")]).unwrap();
    let report = gitintent::validate::validate(&files, &Default::default());
    assert_eq!(report.summary().valid, 7);
    assert!(gitintent::validate::check(&files).is_empty());
}
