//! Validation results as data: one [`Resource`] per resource found, with a
//! kubeconform-style [`Status`] and its [`Violation`]s, gathered in a [`Report`].
//!
//! `--format json` prints a [`Report`] as serialised here; that shape is a
//! stable contract:
//!
//! ```json
//! {
//!   "resources": [
//!     { "file": "app.yaml", "apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
//!       "status": "invalid",
//!       "errors": [ { "path": "/spec/replicas", "message": "\"two\" is not of type \"integer\"" } ] }
//!   ],
//!   "summary": { "resources": 1, "files": 1, "valid": 0, "invalid": 1, "errors": 0, "skipped": 0 }
//! }
//! ```
//!
//! `status` is one of `valid`, `invalid`, `error`, `skipped`; `path` is a JSON
//! pointer into the resource (empty for the whole resource); `name` is
//! `metadata.name`, else `metadata.generateName`, else empty.

use std::fmt;

use serde::ser::SerializeStruct;
use serde::Serialize;

use crate::finding::{Finding, Severity};

/// What became of one resource (kubeconform's `Status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Matches its schema.
    Valid,
    /// Does not match its schema (or repeats a key).
    Invalid,
    /// Could not be validated: unparsable, no `kind`/`apiVersion`, or no schema.
    Error,
    /// No schema, and missing schemas were to be ignored.
    Skipped,
}

/// One reason a resource is invalid or could not be validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// JSON pointer inside the resource, e.g. `/spec/replicas`; empty for the whole.
    pub path: String,
    pub message: String,
}

/// The verdict on one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resource {
    /// The file it came from (`stdin` for standard input).
    pub file: String,
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub status: Status,
    pub errors: Vec<Violation>,
}

impl Resource {
    /// `Kind name`, or what is known of it.
    fn label(&self) -> String {
        match (self.kind.is_empty(), self.name.is_empty()) {
            (false, false) => format!("{} {}", self.kind, self.name),
            (false, true) => self.kind.clone(),
            (true, _) => "resource".to_owned(),
        }
    }

    /// `Kind/name` for findings.
    fn reference(&self) -> String {
        match (self.kind.is_empty(), self.name.is_empty()) {
            (false, false) => format!("{}/{}", self.kind, self.name),
            (false, true) => self.kind.clone(),
            (true, _) => self.file.clone(),
        }
    }
}

/// One line, as `gitintent validate` prints it:
/// `app.yaml - Deployment web is invalid: /spec/replicas: "two" is not of type "integer"`.
impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = match self.status {
            Status::Valid => "is valid",
            Status::Invalid => "is invalid",
            Status::Error => "failed validation",
            Status::Skipped => "skipped",
        };
        write!(f, "{} - {} {verdict}", self.file, self.label())?;
        for (i, error) in self.errors.iter().enumerate() {
            f.write_str(if i == 0 { ": " } else { "; " })?;
            if !error.path.is_empty() {
                write!(f, "{}: ", error.path)?;
            }
            f.write_str(&error.message)?;
        }
        Ok(())
    }
}

/// Counts over a [`Report`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub resources: usize,
    pub files: usize,
    pub valid: usize,
    pub invalid: usize,
    pub errors: usize,
    pub skipped: usize,
}

/// `Summary: 2 resources found in 1 file - Valid: 1, Invalid: 1, Errors: 0, Skipped: 0`.
impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        write!(
            f,
            "Summary: {} resource{} found in {} file{} - Valid: {}, Invalid: {}, Errors: {}, Skipped: {}",
            self.resources,
            plural(self.resources),
            self.files,
            plural(self.files),
            self.valid,
            self.invalid,
            self.errors,
            self.skipped
        )
    }
}

/// Every resource of a validation run, in input order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub resources: Vec<Resource>,
    /// How many files were read (blank ones included).
    pub files: usize,
}

impl Report {
    pub fn summary(&self) -> Summary {
        let mut summary = Summary {
            resources: self.resources.len(),
            files: self.files,
            ..Summary::default()
        };
        for resource in &self.resources {
            match resource.status {
                Status::Valid => summary.valid += 1,
                Status::Invalid => summary.invalid += 1,
                Status::Error => summary.errors += 1,
                Status::Skipped => summary.skipped += 1,
            }
        }
        summary
    }

    /// True when no resource is invalid or in error.
    pub fn is_valid(&self) -> bool {
        self.resources
            .iter()
            .all(|r| matches!(r.status, Status::Valid | Status::Skipped))
    }

    /// One `schema` error finding per violation of an invalid or failed resource.
    pub fn findings(&self) -> Vec<Finding> {
        self.resources
            .iter()
            .filter(|r| matches!(r.status, Status::Invalid | Status::Error))
            .flat_map(|r| {
                r.errors.iter().map(move |e| {
                    Finding::new(Severity::Error, "schema", r.reference(), &e.path, &e.message)
                        .in_file(&r.file)
                })
            })
            .collect()
    }
}

impl Serialize for Report {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut report = serializer.serialize_struct("Report", 2)?;
        report.serialize_field("resources", &self.resources)?;
        report.serialize_field("summary", &self.summary())?;
        report.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(status: Status, errors: &[(&str, &str)]) -> Resource {
        Resource {
            file: "app.yaml".into(),
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            name: "web".into(),
            status,
            errors: errors
                .iter()
                .map(|(path, message)| Violation {
                    path: (*path).into(),
                    message: (*message).into(),
                })
                .collect(),
        }
    }

    #[test]
    fn invalid_resources_print_on_one_line() {
        let r = resource(Status::Invalid, &[("/spec/replicas", "bad"), ("", "worse")]);
        assert_eq!(
            r.to_string(),
            "app.yaml - Deployment web is invalid: /spec/replicas: bad; worse"
        );
    }

    #[test]
    fn summary_counts_each_status_and_pluralises() {
        let report = Report {
            resources: vec![
                resource(Status::Valid, &[]),
                resource(Status::Error, &[("", "missing 'kind' key")]),
            ],
            files: 1,
        };
        assert_eq!(
            report.summary().to_string(),
            "Summary: 2 resources found in 1 file - Valid: 1, Invalid: 0, Errors: 1, Skipped: 0"
        );
        assert!(!report.is_valid());
        let findings = report.findings();
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].resource, "Deployment/web");
        assert_eq!(findings[0].rule, "schema");
    }

    #[test]
    fn json_shape_is_stable() {
        let report = Report {
            resources: vec![resource(Status::Invalid, &[("/spec", "bad")])],
            files: 1,
        };
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "resources": [{
                    "file": "app.yaml", "apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                    "status": "invalid", "errors": [{ "path": "/spec", "message": "bad" }]
                }],
                "summary": { "resources": 1, "files": 1, "valid": 0, "invalid": 1, "errors": 0, "skipped": 0 }
            })
        );
    }
}
