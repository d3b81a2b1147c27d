//! Evals: score a planner on declarative cases (`evals/*.yaml`).
//!
//! [`load`] reads and checks case files (format in `evals/README.md`);
//! [`run`] sends each case through [`pipeline::run`] with a given
//! [`Planner`] and checks its assertions, measuring latency, model calls,
//! tokens, estimated cost ([`Prices`]) and token economy (o200k tokens of
//! the spec against the YAML it renders to); [`Report`] is the stable JSON
//! report and [`compare`] sets two reports side by side.
//!
//! It does not talk to a model itself: the planner does, live or through a
//! [`crate::cassette::Cassette`] for record and replay. It runs cases one at a
//! time, so latencies are not skewed by each other and each case's tokens are
//! the planner's spending during that case (failed plans included).

mod case;
mod check;
mod compare;
mod fixture;
mod prices;
mod report;
mod text;
pub mod tokens;

pub use case::{files, load, Case, Expect, Field};
pub use compare::{compare, Comparison, Row, Side};
pub use prices::{Price, Prices};
pub use report::{CaseResult, Outcome, Report, Totals, VERSION};
pub use text::{comparison_table, progress_line, report_table, totals_text};

use std::path::PathBuf;
use std::time::Instant;

use crate::intent::Intent;
use crate::pipeline::{self, Context, Plan};
use crate::plan::{Planner, Usage};

/// Why cases, prices or reports could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file cannot be read.
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A case file is not a YAML list of cases.
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    /// A case is unusable.
    #[error("{path}: case {case:?}: {message}")]
    Case {
        path: PathBuf,
        case: String,
        message: String,
    },
    /// No cases under the given paths.
    #[error("no eval cases found in {}", display_paths(.0))]
    NoCases(Vec<PathBuf>),
    /// The price table is unusable.
    #[error("price table {path}: {message}")]
    Prices { path: PathBuf, message: String },
    /// A report file is not an eval report.
    #[error("{path}: {message}")]
    Report { path: PathBuf, message: String },
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads a JSON report written by `gitintent eval --format json`.
pub fn read_report(path: &std::path::Path) -> Result<Report, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Report::from_json(&text).map_err(|message| Error::Report {
        path: path.to_path_buf(),
        message,
    })
}

/// Runs every case in order, calling `progress` after each, and totals them.
pub async fn run(
    cases: &[Case],
    planner: &Planner,
    ctx: &Context,
    prices: &Prices,
    mut progress: impl FnMut(usize, &CaseResult),
) -> Report {
    let mut results = Vec::with_capacity(cases.len());
    let mut fixtures: std::collections::HashMap<PathBuf, Result<Context, String>> = Default::default();
    for (i, case) in cases.iter().enumerate() {
        let result = match &case.repo {
            None => run_case(case, planner, ctx, prices).await,
            Some(dir) => match fixtures
                .entry(dir.clone())
                .or_insert_with(|| fixture::context(dir))
            {
                Ok(repo_ctx) => run_case(case, planner, repo_ctx, prices).await,
                Err(message) => {
                    let mut failed = run_case(case, planner, ctx, prices).await;
                    failed.passed = false;
                    failed.failures = vec![message.clone()];
                    failed
                }
            },
        };
        progress(i + 1, &result);
        results.push(result);
    }
    let (model, prompt_version) = match planner {
        Planner::Builtin => (None, None),
        Planner::OpenAi(p) => (
            Some(p.model().to_string()),
            Some(crate::plan::prompt_version().to_string()),
        ),
    };
    Report::new(planner.name(), model, prompt_version, results)
}

/// Runs one case: plan, render, validate, then its assertions.
pub async fn run_case(case: &Case, planner: &Planner, ctx: &Context, prices: &Prices) -> CaseResult {
    let spent_before = spent(planner);
    let start = Instant::now();
    let result: Result<Plan, String> = match Intent::new(&case.intent_text(), case.environment.as_deref()) {
        Ok(intent) => pipeline::run(&intent, planner, ctx)
            .await
            .map_err(|e| error_chain(&e)),
        Err(e) => Err(e.to_string()),
    };
    let latency_ms = start.elapsed().as_secs_f64() * 1000.0;
    // Calls and tokens of this case, also when planning failed after calls.
    let (calls, usage) = spent_since(spent_before, planner);
    let failures = check::check(&case.expect, &result);
    let mut out = CaseResult {
        name: case.name.clone(),
        file: case.file.display().to_string(),
        passed: failures.is_empty(),
        failures,
        outcome: Outcome::Rejected,
        error: None,
        latency_ms,
        attempts: calls,
        repairs: calls.saturating_sub(1),
        input_tokens: usage.input_tokens,
        output_tokens: usage.output_tokens,
        cost_usd: cost(planner, usage, prices, None),
        model: None,
        error_findings: 0,
        schema_valid: None,
        policy_clean: None,
        spec_tokens: None,
        yaml_tokens: None,
    };
    let plan = match result {
        Ok(plan) => plan,
        Err(message) => {
            out.error = Some(message);
            return out;
        }
    };
    let errors = || plan.findings.iter().filter(|f| f.is_error());
    let spec_json = serde_json::to_string(&plan.spec).unwrap_or_default();
    let yaml: String = plan.files.iter().map(|f| f.content.as_str()).collect();
    out.cost_usd = cost(planner, usage, prices, plan.model.as_deref());
    CaseResult {
        outcome: Outcome::Planned,
        error_findings: errors().count(),
        schema_valid: Some(!errors().any(|f| f.rule == "schema")),
        policy_clean: Some(!errors().any(|f| f.rule != "schema")),
        spec_tokens: tokens::count(&spec_json),
        yaml_tokens: tokens::count(&yaml),
        model: plan.model.clone(),
        ..out
    }
}

/// What a case cost: nothing for builtin; for a model, at the price of the
/// model the plan `reported`, else the planner's. Tokens the endpoint did
/// not report make the cost unknown, not lower.
fn cost(planner: &Planner, usage: Usage, prices: &Prices, reported: Option<&str>) -> Option<f64> {
    match planner {
        Planner::Builtin => Some(0.0),
        Planner::OpenAi(p) => {
            let models = reported.into_iter().chain([p.model()]);
            prices
                .find(models)
                .filter(|_| usage.is_known())
                .map(|price| Prices::cost(price, usage))
        }
    }
}

/// The calls and tokens the planner spent since it had spent `before`
/// ([`spent`]); none for builtin.
fn spent_since(before: Option<(u32, Usage)>, planner: &Planner) -> (u32, Usage) {
    match (before, spent(planner)) {
        (Some((c0, u0)), Some((c1, u1))) => (
            c1.saturating_sub(c0),
            Usage {
                input_tokens: u1.input_tokens.saturating_sub(u0.input_tokens),
                output_tokens: u1.output_tokens.saturating_sub(u0.output_tokens),
                unreported_calls: u1.unreported_calls.saturating_sub(u0.unreported_calls),
            },
        ),
        _ => (0, Usage::default()),
    }
}

/// What the planner has spent so far (`None` for builtin, which spends nothing).
fn spent(planner: &Planner) -> Option<(u32, Usage)> {
    match planner {
        Planner::Builtin => None,
        Planner::OpenAi(p) => Some(p.spent()),
    }
}

/// An error with its sources, as `outer: inner`.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}
