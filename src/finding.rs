//! Findings: what validation, policies and rendering have to say about a plan.
//!
//! Findings are data, not errors. A plan with error findings is still a plan;
//! the front ends decide what an error finding stops (exit 1, no proposal).

use serde::{Deserialize, Serialize};

/// How serious a finding is. Ordered: `Info < Warning < Error`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One observation about one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Finding {
    pub severity: Severity,
    /// Stable rule id, e.g. `schema`, `plaintext-secret`.
    pub rule: String,
    /// `Kind/name` of the resource, or the file when there is no resource.
    pub resource: String,
    /// JSON pointer inside the resource, e.g. `/spec/replicas`; empty for the whole.
    pub path: String,
    pub message: String,
    /// The file the resource came from, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

impl Finding {
    /// A finding without a file.
    pub fn new(
        severity: Severity,
        rule: impl Into<String>,
        resource: impl Into<String>,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Finding {
        Finding {
            severity,
            rule: rule.into(),
            resource: resource.into(),
            path: path.into(),
            message: message.into(),
            file: None,
        }
    }

    /// The same finding, attributed to `file`.
    pub fn in_file(mut self, file: impl Into<String>) -> Finding {
        self.file = Some(file.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} [{}] {}", self.severity, self.rule, self.resource)?;
        if !self.path.is_empty() {
            write!(f, " {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// True when any finding is an error.
/// Orders findings as every report shows them: errors first, then by resource.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.resource.cmp(&b.resource))
    });
}

pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(Finding::is_error)
}
