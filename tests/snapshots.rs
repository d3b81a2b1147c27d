//! Snapshots of the manifests rendered for every example intent, and a strict
//! schema check of every file they produce.

use gitintent::pipeline::{self, Context};
use gitintent::plan::Planner;
use gitintent::Intent;
use std::path::Path;

fn example_context() -> Context {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/gitops");
    Context::load(&root).unwrap()
}

fn plan(text: &str) -> pipeline::Plan {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let intent = Intent::new(text, None).unwrap();
    runtime
        .block_on(pipeline::run(&intent, &Planner::Builtin, &example_context()))
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn slug(text: &str) -> String {
    let words: Vec<String> = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(6)
        .map(str::to_ascii_lowercase)
        .collect();
    words.join("-")
}

#[test]
fn every_example_intent_renders_the_snapshotted_manifests() {
    let intents = include_str!("../examples/intents.txt");
    for text in intents.lines().filter(|l| !l.trim().is_empty()) {
        let plan = plan(text);
        let errors: Vec<_> = plan.findings.iter().filter(|f| f.is_error()).collect();
        assert!(errors.is_empty(), "{text}: {errors:#?}");
        let mut manifests = String::new();
        for f in &plan.files {
            manifests.push_str(&format!("# {}\n{}", f.path, f.content));
        }
        insta::with_settings!({
            info => &plan.spec,
            description => text,
            omit_expression => true,
            snapshot_suffix => slug(text),
        }, {
            insta::assert_snapshot!("example", manifests);
        });
    }
}
