//! Two reports side by side: per case and in total.

use serde::Serialize;

use super::report::{CaseResult, Report, Totals};

/// One case in both reports (`None` where a report lacks it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub name: String,
    pub a: Option<Side>,
    pub b: Option<Side>,
}

/// One case's figures in one report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    pub passed: bool,
    pub latency_ms: f64,
    pub attempts: u32,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_usd: Option<f64>,
}

impl From<&CaseResult> for Side {
    fn from(c: &CaseResult) -> Side {
        Side {
            passed: c.passed,
            latency_ms: c.latency_ms,
            attempts: c.attempts,
            input_tokens: c.input_tokens,
            output_tokens: c.output_tokens,
            cost_usd: c.cost_usd,
        }
    }
}

/// A side-by-side comparison of report `a` and report `b`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub a: String,
    pub b: String,
    /// Cases in `a`'s order, then cases only `b` has.
    pub cases: Vec<Row>,
    /// Cases that pass in `b` but not in `a`.
    pub fixed: Vec<String>,
    /// Cases that pass in `a` but not in `b`.
    pub broken: Vec<String>,
    pub totals_a: Totals,
    pub totals_b: Totals,
}

/// Compares two reports case by case (matched by name).
pub fn compare(a: &Report, b: &Report) -> Comparison {
    let mut cases: Vec<Row> = a
        .cases
        .iter()
        .map(|ca| Row {
            name: ca.name.clone(),
            a: Some(ca.into()),
            b: b.cases.iter().find(|cb| cb.name == ca.name).map(Side::from),
        })
        .collect();
    cases.extend(
        b.cases
            .iter()
            .filter(|cb| !a.cases.iter().any(|ca| ca.name == cb.name))
            .map(|cb| Row {
                name: cb.name.clone(),
                a: None,
                b: Some(cb.into()),
            }),
    );
    let passes = |s: &Option<Side>| s.as_ref().is_some_and(|s| s.passed);
    let fixed = cases
        .iter()
        .filter(|r| r.a.is_some() && r.b.is_some() && !passes(&r.a) && passes(&r.b))
        .map(|r| r.name.clone())
        .collect();
    let broken = cases
        .iter()
        .filter(|r| r.a.is_some() && r.b.is_some() && passes(&r.a) && !passes(&r.b))
        .map(|r| r.name.clone())
        .collect();
    let (mut label_a, mut label_b) = (a.label(), b.label());
    if label_a == label_b {
        label_a.push_str(" (a)");
        label_b.push_str(" (b)");
    }
    Comparison {
        a: label_a,
        b: label_b,
        cases,
        fixed,
        broken,
        totals_a: a.totals.clone(),
        totals_b: b.totals.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::report::tests::result;

    #[test]
    fn cases_are_matched_by_name_and_changes_listed() {
        let a = Report::new(
            crate::plan::PlannerName::Builtin,
            None,
            None,
            vec![
                result("x", true, 1.0),
                result("y", false, 1.0),
                result("only-a", true, 1.0),
            ],
        );
        let b = Report::new(
            crate::plan::PlannerName::Openai,
            Some("m".into()),
            None,
            vec![
                result("y", true, 2.0),
                result("x", false, 2.0),
                result("only-b", true, 2.0),
            ],
        );
        let c = compare(&a, &b);
        let names: Vec<_> = c.cases.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["x", "y", "only-a", "only-b"]);
        assert_eq!(c.fixed, ["y"]);
        assert_eq!(c.broken, ["x"]);
        assert!(c.cases[2].b.is_none() && c.cases[3].a.is_none());
        assert_eq!((c.a.as_str(), c.b.as_str()), ("builtin", "openai m"));
        let same = compare(&a, &a);
        assert_eq!(same.a, "builtin (a)");
    }
}
