//! Prometheus metrics in the text exposition format, written by hand.
//!
//! Counters and histograms live behind one mutex; updates are a few map
//! operations per request, far below the cost of a request. Labels come from
//! a fixed vocabulary (route templates, methods, statuses, outcomes), never
//! from user input, so cardinality stays bounded: a method outside
//! [`METHODS`] is counted as `other`, and the server passes only route
//! templates (or `unmatched`) as routes.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

const LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

#[derive(Debug, Clone)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn new() -> Histogram {
        Histogram {
            counts: vec![0; LATENCY_BUCKETS.len()],
            sum: 0.0,
            count: 0,
        }
    }

    fn observe(&mut self, seconds: f64) {
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                self.counts[i] += 1;
            }
        }
        self.sum += seconds;
        self.count += 1;
    }

    fn write(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (bound, count) in LATENCY_BUCKETS.iter().zip(&self.counts) {
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {count}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}", self.count);
        let braces = |s: &str| {
            if s.is_empty() {
                String::new()
            } else {
                format!("{{{s}}}")
            }
        };
        let _ = writeln!(out, "{name}_sum{} {}", braces(labels), self.sum);
        let _ = writeln!(out, "{name}_count{} {}", braces(labels), self.count);
    }
}

/// HTTP methods counted under their own name; any other is `other`.
pub(super) const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// The label for `method`: itself when known, else `other`.
pub(super) fn method_label(method: &str) -> &'static str {
    METHODS.iter().find(|m| **m == method).copied().unwrap_or("other")
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(&'static str, &'static str, u16), u64>,
    latency: BTreeMap<(&'static str, &'static str), Histogram>,
    plans: BTreeMap<&'static str, u64>,
    proposals: BTreeMap<&'static str, u64>,
    tokens: BTreeMap<&'static str, u64>,
    model_latency: Option<Histogram>,
    repairs: u64,
    rejected: u64,
    validations_rejected: u64,
}

/// The service's metrics.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One HTTP request: `route` is the route template, not the raw path;
    /// `method` is labelled by [`method_label`].
    pub fn request(&self, route: &'static str, method: &str, status: u16, elapsed: Duration) {
        let method = method_label(method);
        let mut m = self.inner();
        *m.requests.entry((route, method, status)).or_default() += 1;
        m.latency
            .entry((route, method))
            .or_insert_with(Histogram::new)
            .observe(elapsed.as_secs_f64());
    }

    /// A finished plan: `outcome` is `valid`, `invalid` (error findings) or `failed`.
    pub fn plan(&self, outcome: &'static str) {
        *self.inner().plans.entry(outcome).or_default() += 1;
    }

    /// Model usage of one openai plan.
    pub fn model(&self, input_tokens: u64, output_tokens: u64, attempts: u32, elapsed: Duration) {
        let mut m = self.inner();
        *m.tokens.entry("input").or_default() += input_tokens;
        *m.tokens.entry("output").or_default() += output_tokens;
        m.repairs += u64::from(attempts.saturating_sub(1));
        m.model_latency
            .get_or_insert_with(Histogram::new)
            .observe(elapsed.as_secs_f64());
    }

    /// A proposal attempt: `created`, `refused` or `failed`.
    pub fn proposal(&self, outcome: &'static str) {
        *self.inner().proposals.entry(outcome).or_default() += 1;
    }

    /// A plan refused with 429.
    pub fn rejected(&self) {
        self.inner().rejected += 1;
    }

    /// A validation refused with 429.
    pub fn validation_rejected(&self) {
        self.inner().validations_rejected += 1;
    }

    /// The exposition text; `running` and `queued` are gauges read at scrape time.
    pub fn render(&self, running: usize, queued: usize) -> String {
        let m = self.inner();
        let mut out = String::new();
        m.write_http(&mut out);
        m.write_outcomes(&mut out);
        m.write_model(&mut out);
        m.write_admission(&mut out, running, queued);
        out
    }
}

/// The `# HELP` and `# TYPE` lines of metric `name`.
fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A counter with one label, a line for each of `values` (0 when not counted).
fn labelled(
    out: &mut String,
    name: &str,
    label: &str,
    values: &[&str],
    counts: &BTreeMap<&'static str, u64>,
) {
    for value in values {
        let n = counts.get(value).copied().unwrap_or(0);
        let _ = writeln!(out, "{name}{{{label}=\"{value}\"}} {n}");
    }
}

impl Inner {
    /// Requests by route, method and status, and their latency.
    fn write_http(&self, out: &mut String) {
        let name = "gitintent_http_requests_total";
        header(out, name, "counter", "HTTP requests by route, method and status.");
        for ((route, method, status), n) in &self.requests {
            let _ = writeln!(
                out,
                "{name}{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {n}"
            );
        }
        let name = "gitintent_http_request_duration_seconds";
        header(out, name, "histogram", "HTTP request latency.");
        for ((route, method), h) in &self.latency {
            h.write(out, name, &format!("route=\"{route}\",method=\"{method}\""));
        }
    }

    /// Finished plans and proposal attempts by outcome.
    fn write_outcomes(&self, out: &mut String) {
        let name = "gitintent_plans_total";
        header(
            out,
            name,
            "counter",
            "Finished plans by outcome (valid, invalid, failed).",
        );
        labelled(out, name, "outcome", &["valid", "invalid", "failed"], &self.plans);
        let name = "gitintent_proposals_total";
        header(out, name, "counter", "Proposal attempts by outcome.");
        labelled(
            out,
            name,
            "outcome",
            &["created", "refused", "failed"],
            &self.proposals,
        );
    }

    /// Model tokens, time and repairs.
    fn write_model(&self, out: &mut String) {
        let name = "gitintent_model_tokens_total";
        header(out, name, "counter", "Model tokens by direction.");
        labelled(out, name, "direction", &["input", "output"], &self.tokens);
        let name = "gitintent_model_duration_seconds";
        header(
            out,
            name,
            "histogram",
            "Time spent planning with the model, repairs included.",
        );
        self.model_latency
            .clone()
            .unwrap_or_else(Histogram::new)
            .write(out, name, "");
        let name = "gitintent_model_repair_attempts_total";
        header(
            out,
            name,
            "counter",
            "Model calls made to repair an invalid spec.",
        );
        let _ = writeln!(out, "{name} {}", self.repairs);
    }

    /// Requests refused at capacity, and the plans running and queued now.
    fn write_admission(&self, out: &mut String, running: usize, queued: usize) {
        for (name, kind, help, value) in [
            (
                "gitintent_plans_rejected_total",
                "counter",
                "Plans refused with 429 (queue full).",
                self.rejected,
            ),
            (
                "gitintent_validations_rejected_total",
                "counter",
                "Validations refused with 429 (queue full).",
                self.validations_rejected,
            ),
            (
                "gitintent_plans_running",
                "gauge",
                "Plans holding a model slot.",
                running as u64,
            ),
            (
                "gitintent_plans_queued",
                "gauge",
                "Plans waiting for a model slot.",
                queued as u64,
            ),
        ] {
            header(out, name, kind, help);
            let _ = writeln!(out, "{name} {value}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_and_counters_render() {
        let m = Metrics::default();
        m.request("/v1/plans", "POST", 201, Duration::from_millis(30));
        m.request("/v1/plans", "POST", 201, Duration::from_millis(700));
        m.plan("valid");
        m.model(100, 50, 3, Duration::from_millis(600));
        let text = m.render(1, 2);
        assert!(text
            .contains("gitintent_http_requests_total{route=\"/v1/plans\",method=\"POST\",status=\"201\"} 2"));
        assert!(text.contains(
            "gitintent_http_request_duration_seconds_bucket{route=\"/v1/plans\",method=\"POST\",le=\"0.05\"} 1"
        ));
        assert!(text.contains(
            "gitintent_http_request_duration_seconds_bucket{route=\"/v1/plans\",method=\"POST\",le=\"+Inf\"} 2"
        ));
        assert!(text.contains("gitintent_plans_total{outcome=\"valid\"} 1"));
        assert!(text.contains("gitintent_model_repair_attempts_total 2"));
        assert!(text.contains("gitintent_model_duration_seconds_count 1"));
        assert!(text.contains("gitintent_plans_queued 2"));
    }

    #[test]
    fn made_up_methods_share_one_label() {
        let m = Metrics::default();
        for i in 0..500 {
            m.request("unmatched", &format!("X{i}"), 404, Duration::from_millis(1));
        }
        m.request("unmatched", "GET", 404, Duration::from_millis(1));
        let text = m.render(0, 0);
        assert!(text.contains(
            "gitintent_http_requests_total{route=\"unmatched\",method=\"other\",status=\"404\"} 500"
        ));
        assert_eq!(
            text.matches("gitintent_http_requests_total{").count(),
            2,
            "{text}"
        );
        assert!(!text.contains("X1"));
    }
}
