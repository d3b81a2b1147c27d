//! Plain-text tables for reports and comparisons (no colour, no terminal
//! codes: front ends add those).

use std::fmt::Write as _;

use super::compare::{Comparison, Side};
use super::report::{CaseResult, Report, Totals};

fn pct(rate: Option<f64>) -> String {
    rate.map_or_else(|| "-".into(), |r| format!("{:.1}%", r * 100.0))
}

fn usd(cost: Option<f64>) -> String {
    cost.map_or_else(|| "n/a".into(), |c| format!("${c:.4}"))
}

fn ms(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

fn efficiency(c: &CaseResult) -> String {
    match (c.spec_tokens, c.yaml_tokens) {
        (Some(s), Some(y)) if s > 0 => format!("{s}→{y} ({:.1}x)", y as f64 / s as f64),
        _ => "-".into(),
    }
}

/// One progress line: `[ 3/72] pass  name  12.3 ms`.
pub fn progress_line(index: usize, total: usize, case: &CaseResult) -> String {
    let width = total.to_string().len();
    format!(
        "[{index:>width$}/{total}] {}  {}  {} ms",
        if case.passed { "pass" } else { "FAIL" },
        case.name,
        ms(case.latency_ms)
    )
}

/// The per-case table, failed assertions under their case, then totals.
pub fn report_table(report: &Report) -> String {
    let width = report
        .cases
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = String::new();
    let _ = writeln!(out, "Eval report: {}", report.label());
    let _ = writeln!(
        out,
        "{:<width$}  {:<6} {:>8} {:>4} {:>13} {:>9}  spec→yaml tokens",
        "case", "result", "ms", "att", "tokens in/out", "cost"
    );
    for c in &report.cases {
        let result = match (c.passed, c.outcome) {
            (true, super::Outcome::Rejected) => "pass*",
            (true, _) => "pass",
            (false, _) => "FAIL",
        };
        let _ = writeln!(
            out,
            "{:<width$}  {:<6} {:>8} {:>4} {:>13} {:>9}  {}",
            c.name,
            result,
            ms(c.latency_ms),
            c.attempts,
            format!("{}/{}", c.input_tokens, c.output_tokens),
            usd(c.cost_usd),
            efficiency(c)
        );
        for f in &c.failures {
            let _ = writeln!(out, "{:<width$}    - {f}", "");
        }
    }
    let _ = writeln!(out, "(pass* = rejected as expected)\n");
    out.push_str(&totals_text(&report.totals));
    out
}

/// The totals block.
pub fn totals_text(t: &Totals) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "passed         {}/{} ({:.1}%)",
        t.passed,
        t.cases,
        t.pass_rate * 100.0
    );
    let _ = writeln!(
        out,
        "plans          {} · schema-valid {} · policy-clean {}",
        t.planned,
        pct(t.schema_valid_rate),
        pct(t.policy_clean_rate)
    );
    let _ = writeln!(
        out,
        "latency        p50 {} ms · p95 {} ms",
        ms(t.latency_p50_ms),
        ms(t.latency_p95_ms)
    );
    let _ = writeln!(
        out,
        "model tokens   {} in · {} out · cost {}",
        t.input_tokens,
        t.output_tokens,
        usd(t.cost_usd)
    );
    match t.yaml_per_spec_token {
        Some(ratio) => {
            let _ = writeln!(
                out,
                "token economy  specs {} tokens → YAML {} tokens: the YAML is {ratio:.1}x the spec \
                 (a model writing YAML would write {ratio:.1} tokens per spec token)",
                t.spec_tokens, t.yaml_tokens
            );
        }
        None => {
            let _ = writeln!(out, "token economy  -");
        }
    }
    out
}

fn side(s: &Option<Side>) -> String {
    match s {
        None => "-".into(),
        Some(s) => format!(
            "{} {}ms {}/{} {}",
            if s.passed { "pass" } else { "FAIL" },
            ms(s.latency_ms),
            s.input_tokens,
            s.output_tokens,
            usd(s.cost_usd)
        ),
    }
}

/// The side-by-side table and both totals.
pub fn comparison_table(c: &Comparison) -> String {
    let width = c
        .cases
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    let col = c
        .cases
        .iter()
        .flat_map(|r| [side(&r.a).chars().count(), side(&r.b).chars().count()])
        .chain([c.a.chars().count(), c.b.chars().count()])
        .max()
        .unwrap_or(1);
    let mut out = String::new();
    let _ = writeln!(out, "{:<width$}  {:<col$}  {:<col$}", "case", c.a, c.b);
    for r in &c.cases {
        let mark = if c.fixed.contains(&r.name) {
            "  fixed"
        } else if c.broken.contains(&r.name) {
            "  broken"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "{:<width$}  {:<col$}  {:<col$}{mark}",
            r.name,
            side(&r.a),
            side(&r.b)
        );
    }
    let _ = writeln!(
        out,
        "\n{} fixed, {} broken (fixed: passes in {} only; broken: passes in {} only)\n",
        c.fixed.len(),
        c.broken.len(),
        c.b,
        c.a
    );
    for (label, totals) in [(&c.a, &c.totals_a), (&c.b, &c.totals_b)] {
        let _ = writeln!(out, "{label}");
        for line in totals_text(totals).lines() {
            let _ = writeln!(out, "  {line}");
        }
    }
    out
}
