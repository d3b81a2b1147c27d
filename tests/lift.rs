//! `gitintent lift` over every real manifest the project vendors: the round
//! trip (lift → render → every key-value of the original back) is measured
//! per corpus, every loss must be listed in `unsupported`, and the covered
//! count may only rise (the floors below).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gitintent::lift::{self, Coverage, Lifted, Source};

/// Covered resources per corpus: raise when lift learns more, never lower.
const FLOORS: &[(&str, usize)] = &[
    ("kubeconform-fixtures", 22),
    ("gitops-repos/podinfo-deploy", 22),
    ("gitops-repos/flux2-kustomize-helm-example", 0),
    ("gitops-repos/kustomize-examples", 14),
    ("polaris-checks", 36),
];

/// Corpora of independent examples, lifted file by file (the GitOps
/// repositories are lifted directory by directory: a workload's Service
/// usually sits in a file next to it).
const PER_FILE: &[&str] = &["kubeconform-fixtures", "polaris-checks"];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Manifest files grouped by directory (or one group per file); files that
/// are not YAML are left out.
fn groups(root: &Path, per_file: bool) -> BTreeMap<PathBuf, Vec<Source>> {
    fn walk(dir: &Path, per_file: bool, out: &mut BTreeMap<PathBuf, Vec<Source>>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, per_file, out);
            } else if let Ok(docs) = lift::read_paths(std::slice::from_ref(&p)) {
                let key = if per_file { p.clone() } else { dir.to_path_buf() };
                out.entry(key).or_default().extend(docs);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, per_file, &mut out);
    out
}

/// Lift and round trip of one corpus, group by group.
fn measure(corpus: &str) -> Vec<(Lifted, Coverage)> {
    groups(&fixtures().join(corpus), PER_FILE.contains(&corpus))
        .values()
        .map(|docs| {
            let lifted = lift::lift(docs, "production");
            let coverage = lift::coverage(&lifted);
            (lifted, coverage)
        })
        .collect()
}

/// A loss path with list indices folded: `/spec/template/spec/containers/*/livenessProbe`.
fn field(resource: &str, path: &str) -> String {
    let kind = resource.split('/').next().unwrap_or("");
    let folded: Vec<&str> = path
        .split('/')
        .map(|s| {
            if s.chars().all(|c| c.is_ascii_digit()) && !s.is_empty() {
                "*"
            } else {
                s
            }
        })
        .collect();
    let path = folded.join("/");
    if path.is_empty() {
        format!("{kind} (whole)")
    } else {
        format!("{kind} {path}")
    }
}

#[test]
fn every_vendored_manifest_round_trips_or_says_what_it_lost() {
    let mut report = Vec::new();
    for (corpus, floor) in FLOORS {
        let runs = measure(corpus);
        let total: usize = runs.iter().map(|(_, c)| c.resources.len()).sum();
        let covered: usize = runs.iter().map(|(_, c)| c.covered()).sum();
        let unlisted: Vec<String> = runs
            .iter()
            .flat_map(|(_, c)| c.unlisted())
            .map(|l| format!("{} {}", l.resource, l.path))
            .collect();
        assert!(
            unlisted.is_empty(),
            "{corpus}: losses not in `unsupported`:\n{}",
            unlisted.join("\n")
        );
        assert!(
            covered >= *floor,
            "{corpus}: {covered} covered, below the floor of {floor}"
        );
        let mut lost: BTreeMap<String, usize> = BTreeMap::new();
        for (lifted, _) in &runs {
            for u in &lifted.unsupported {
                *lost.entry(field(&u.resource, &u.path)).or_default() += 1;
            }
        }
        let mut lost: Vec<(String, usize)> = lost.into_iter().collect();
        lost.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let top: Vec<String> = lost
            .iter()
            .take(8)
            .map(|(f, n)| format!("    {n:>3} {f}"))
            .collect();
        report.push(format!("{corpus}: {covered}/{total} covered\n{}", top.join("\n")));
    }
    println!("{}", report.join("\n"));
}

#[test]
fn what_each_addition_brings_is_measured_by_leaving_it_out() {
    let mut lines = Vec::new();
    for (corpus, _) in FLOORS {
        let runs = measure(corpus);
        let with: usize = runs.iter().map(|(_, c)| c.covered()).sum();
        let mut row = format!("{corpus}: {with} with all");
        for (group, strip) in STRIPS {
            let without: usize = runs
                .iter()
                .map(|(lifted, _)| {
                    let mut l = lifted.clone();
                    l.spec.components.iter_mut().for_each(strip);
                    lift::coverage(&l).covered()
                })
                .sum();
            assert!(without <= with, "{corpus}: leaving out {group} covers more");
            row.push_str(&format!(", {without} without {group}"));
        }
        lines.push(row);
    }
    println!("{}", lines.join("\n"));
}

type Strip = fn(&mut gitintent::spec::Component);

const STRIPS: &[(&str, Strip)] = &[
    ("service options", |c| c.service = None),
    ("job options", |c| c.batch = None),
    ("pod options", |c| c.pod = None),
    ("command/args", |c| {
        if let Some(p) = &mut c.pod {
            p.command.clear();
            p.args.clear();
        }
    }),
    ("scheduling", |c| {
        if let Some(p) = &mut c.pod {
            p.node_selector.clear();
            p.node_affinity.clear();
            p.tolerations.clear();
            p.priority_class_name = None;
        }
    }),
    ("volumes and ConfigMap refs", |c| {
        if let Some(p) = &mut c.pod {
            p.volumes.clear();
            p.config_map_refs.clear();
            p.env_from.clear();
        }
    }),
    ("probes", |c| c.probes = None),
    ("rollout", |c| {
        if let Some(w) = &mut c.workload {
            *w = gitintent::spec::WorkloadOptions {
                kind: w.kind,
                restart_policy: w.restart_policy,
                ..Default::default()
            };
        }
    }),
    ("affinity and spread", |c| {
        if let Some(p) = &mut c.pod {
            p.pod_affinity.clear();
            p.topology_spread.clear();
        }
    }),
    ("objects", |c| c.objects = None),
];

#[test]
fn lift_prints_a_spec_that_plan_renders_back() {
    let dir = tempfile::tempdir().unwrap();
    let source = fixtures().join("gitops-repos/kustomize-examples/helloWorld");
    let out = crate::util::bin::gitintent()
        .args(["lift", "--format", "json", "--env", "staging"])
        .arg(&source)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["spec"]["environment"], "staging");
    let config_maps: Vec<&serde_json::Value> = json["spec"]["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["objects"]["config_maps"].as_array())
        .flatten()
        .collect();
    assert_eq!(config_maps.len(), 1, "{json}");
    assert_eq!(config_maps[0]["name"], "the-map");
    assert!(json["coverage"]["total"].as_u64().unwrap() >= 3);
    let file = dir.path().join("lifted.json");
    std::fs::write(&file, &out.stdout).unwrap();
    let plan = crate::util::bin::gitintent()
        .args(["plan", "--format", "json", "--spec"])
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&plan.stdout);
    let plan: serde_json::Value =
        serde_json::from_slice(&plan.stdout).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(plan["planner"], "spec");
    assert_eq!(plan["spec"], json["spec"]);
    let files: Vec<&str> = plan["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(files.iter().any(|f| f.ends_with("/deployment.yaml")), "{files:?}");
}

#[test]
fn bad_input_to_lift_and_plan_spec_exits_2_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let missing = crate::util::bin::gitintent()
        .args(["lift", "/nonexistent/x.yaml"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read /nonexistent/x.yaml"));
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "a: [\n").unwrap();
    let out = crate::util::bin::gitintent()
        .arg("lift")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not YAML"));
    let spec = dir.path().join("spec.json");
    std::fs::write(&spec, r#"{"environment": "prod", "namespace": "default", "components": [], "changes": [], "assumptions": [], "questions": []}"#).unwrap();
    let out = crate::util::bin::gitintent()
        .args(["plan", "--spec"])
        .arg(&spec)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("at least one component"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
