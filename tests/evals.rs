//! The eval floor: every case in `evals/*.yaml` through the builtin planner,
//! scored by the library (`gitintent::eval`), exactly as `gitintent eval` does.
//!
//! The case format is documented in `evals/README.md`. The floor starts at the
//! builtin planner's current pass rate and is only ever raised.

use std::path::Path;

use gitintent::eval::{self, Prices};
use gitintent::pipeline::Context;
use gitintent::plan::Planner;

/// Minimum share of cases that must pass. Never lower it; raise it when the planner improves.
const FLOOR: f64 = 1.0;

/// Minimum number of cases, so the floor cannot be met by deleting cases.
const MIN_CASES: usize = 212;

#[tokio::test]
async fn builtin_planner_stays_above_the_eval_floor() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("evals");
    let cases = eval::load(&[dir]).expect("the committed eval cases load");
    assert!(cases.len() >= MIN_CASES, "only {} eval cases", cases.len());
    let report = eval::run(
        &cases,
        &Planner::Builtin,
        &Context::default(),
        &Prices::default(),
        |_, _| {},
    )
    .await;
    let t = &report.totals;
    eprintln!(
        "eval pass rate: {}/{} = {:.1}%; YAML/spec tokens {:.2}",
        t.passed,
        t.cases,
        t.pass_rate * 100.0,
        t.yaml_per_spec_token.unwrap_or(0.0)
    );
    let failed: Vec<String> = report
        .cases
        .iter()
        .filter(|c| !c.passed)
        .map(|c| format!("{}:\n    {}", c.name, c.failures.join("\n    ")))
        .collect();
    assert!(
        t.pass_rate >= FLOOR,
        "pass rate {:.3} is under the floor {FLOOR}; failures:\n{}",
        t.pass_rate,
        failed.join("\n")
    );
    // The builtin planner never calls a model and costs nothing.
    assert_eq!((t.input_tokens, t.output_tokens, t.cost_usd), (0, 0, Some(0.0)));
    assert!(t.yaml_per_spec_token.is_some_and(|r| r > 1.0));
}
