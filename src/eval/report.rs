//! Per-case results, totals, and the stable JSON report (`version` 1).

use serde::{Deserialize, Serialize};

/// The report format version; bumped on any incompatible change.
pub const VERSION: u32 = 1;

/// The result of one case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    pub name: String,
    /// The case file, as given on the command line.
    pub file: String,
    pub passed: bool,
    /// Failed assertions; empty when passed.
    pub failures: Vec<String>,
    /// `planned` or `rejected` (planning returned an error).
    pub outcome: Outcome,
    /// The planning error, when rejected.
    pub error: Option<String>,
    /// Wall time of planning, rendering and validating, in milliseconds.
    pub latency_ms: f64,
    /// Model calls made (0 for builtin or a rejection).
    pub attempts: u32,
    /// Repair calls: attempts after the first.
    pub repairs: u32,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Estimated USD; `null` when the model has no price.
    pub cost_usd: Option<f64>,
    /// The model that answered, if any.
    pub model: Option<String>,
    /// Error findings in the plan.
    pub error_findings: usize,
    /// No `schema` error finding; `null` when rejected.
    pub schema_valid: Option<bool>,
    /// No error finding other than `schema`; `null` when rejected.
    pub policy_clean: Option<bool>,
    /// o200k tokens of the spec JSON (what a model writes).
    pub spec_tokens: Option<u64>,
    /// o200k tokens of the rendered YAML (what a YAML-writing tool writes).
    pub yaml_tokens: Option<u64>,
}

/// Whether planning produced a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Planned,
    Rejected,
}

/// Totals over a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub cases: usize,
    pub passed: usize,
    pub failed: usize,
    /// passed / cases.
    pub pass_rate: f64,
    /// Cases that produced a plan.
    pub planned: usize,
    /// Share of plans without schema errors (`null` with no plans).
    pub schema_valid_rate: Option<f64>,
    /// Share of plans without other error findings (`null` with no plans).
    pub policy_clean_rate: Option<f64>,
    pub latency_p50_ms: f64,
    pub latency_p95_ms: f64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Sum of case costs; `null` when any case has no cost.
    pub cost_usd: Option<f64>,
    /// Spec and YAML tokens summed over the plans that have both.
    pub spec_tokens: u64,
    pub yaml_tokens: u64,
    /// yaml_tokens / spec_tokens: how many times more tokens the YAML takes.
    pub yaml_per_spec_token: Option<f64>,
}

/// A whole run: the stable `gitintent eval --format json` contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`VERSION`].
    pub version: u32,
    /// `builtin` or `openai`.
    pub planner: crate::plan::PlannerName,
    /// The configured model (openai planner).
    pub model: Option<String>,
    /// The prompt version (openai planner).
    pub prompt_version: Option<String>,
    pub cases: Vec<CaseResult>,
    pub totals: Totals,
}

impl Report {
    /// A report over `cases`, with totals computed.
    pub fn new(
        planner: crate::plan::PlannerName,
        model: Option<String>,
        prompt_version: Option<String>,
        cases: Vec<CaseResult>,
    ) -> Report {
        Report {
            version: VERSION,
            planner,
            model,
            prompt_version,
            totals: Totals::of(&cases),
            cases,
        }
    }

    /// A short label: `builtin`, or `openai gpt-4o-mini`.
    pub fn label(&self) -> String {
        match &self.model {
            Some(m) => format!("{} {m}", self.planner),
            None => self.planner.to_string(),
        }
    }

    /// Parses a JSON report, refusing other versions.
    pub fn from_json(text: &str) -> Result<Report, String> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        match value.get("version").and_then(serde_json::Value::as_u64) {
            Some(v) if v == u64::from(VERSION) => {}
            Some(v) => return Err(format!("report version {v} is not {VERSION}")),
            None => return Err("not an eval report: no `version`".into()),
        }
        serde_json::from_value(value).map_err(|e| e.to_string())
    }
}

impl Totals {
    pub fn of(cases: &[CaseResult]) -> Totals {
        let passed = cases.iter().filter(|c| c.passed).count();
        let plans: Vec<&CaseResult> = cases.iter().filter(|c| c.outcome == Outcome::Planned).collect();
        let rate = |n: usize, of: usize| (of > 0).then(|| n as f64 / of as f64);
        let mut latencies: Vec<f64> = cases.iter().map(|c| c.latency_ms).collect();
        latencies.sort_by(f64::total_cmp);
        let (spec_tokens, yaml_tokens) = plans
            .iter()
            .filter_map(|c| Some((c.spec_tokens?, c.yaml_tokens?)))
            .fold((0, 0), |(s, y), (a, b)| (s + a, y + b));
        Totals {
            cases: cases.len(),
            passed,
            failed: cases.len() - passed,
            pass_rate: rate(passed, cases.len()).unwrap_or(0.0),
            planned: plans.len(),
            schema_valid_rate: rate(
                plans.iter().filter(|c| c.schema_valid == Some(true)).count(),
                plans.len(),
            ),
            policy_clean_rate: rate(
                plans.iter().filter(|c| c.policy_clean == Some(true)).count(),
                plans.len(),
            ),
            latency_p50_ms: percentile(&latencies, 0.50),
            latency_p95_ms: percentile(&latencies, 0.95),
            input_tokens: cases.iter().map(|c| c.input_tokens).sum(),
            output_tokens: cases.iter().map(|c| c.output_tokens).sum(),
            cost_usd: cases.iter().map(|c| c.cost_usd).sum(),
            spec_tokens,
            yaml_tokens,
            yaml_per_spec_token: (spec_tokens > 0).then(|| yaml_tokens as f64 / spec_tokens as f64),
        }
    }
}

/// Nearest-rank percentile of sorted values; 0 for none.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(crate) fn result(name: &str, passed: bool, latency_ms: f64) -> CaseResult {
        CaseResult {
            name: name.into(),
            file: "evals/x.yaml".into(),
            passed,
            failures: if passed {
                vec![]
            } else {
                vec!["missing Service/x".into()]
            },
            outcome: Outcome::Planned,
            error: None,
            latency_ms,
            attempts: 1,
            repairs: 0,
            input_tokens: 100,
            output_tokens: 50,
            cost_usd: Some(0.001),
            model: Some("m".into()),
            error_findings: 0,
            schema_valid: Some(true),
            policy_clean: Some(passed),
            spec_tokens: Some(100),
            yaml_tokens: Some(800),
        }
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), 10.0);
        assert_eq!(percentile(&v, 0.95), 19.0);
        assert_eq!(percentile(&[7.0], 0.95), 7.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }

    #[test]
    fn totals_sum_and_an_unknown_cost_makes_the_total_unknown() {
        let mut cases = vec![result("a", true, 1.0), result("b", false, 3.0)];
        let t = Totals::of(&cases);
        assert_eq!((t.passed, t.failed, t.planned), (1, 1, 2));
        assert_eq!(t.pass_rate, 0.5);
        assert_eq!(t.policy_clean_rate, Some(0.5));
        assert_eq!((t.input_tokens, t.output_tokens), (200, 100));
        assert!((t.cost_usd.unwrap() - 0.002).abs() < 1e-12);
        assert_eq!(t.yaml_per_spec_token, Some(8.0));
        cases[1].cost_usd = None;
        assert_eq!(Totals::of(&cases).cost_usd, None);
    }

    #[test]
    fn a_report_round_trips_and_other_versions_are_refused() {
        let report = Report::new(
            crate::plan::PlannerName::Openai,
            Some("m".into()),
            None,
            vec![result("a", true, 1.0)],
        );
        let text = serde_json::to_string(&report).unwrap();
        assert_eq!(Report::from_json(&text).unwrap(), report);
        let v2 = text.replacen("\"version\":1", "\"version\":2", 1);
        assert!(Report::from_json(&v2).unwrap_err().contains("version 2"));
        assert!(Report::from_json("{}").is_err());
    }
}
