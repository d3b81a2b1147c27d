//! Server-side dry run (`plan --cluster`): send each planned manifest to the
//! API server as a server-side apply with `dryRun=All` and turn its verdict
//! (schema, admission webhooks, CRDs, quotas) into findings.
//!
//! Call: `PATCH …/PLURAL/NAME?dryRun=All&fieldManager=gitintent&fieldValidation=Strict`
//! with `Content-Type: application/apply-patch+yaml`, after discovery of the
//! group-version. Nothing is persisted (`dryRun=All`). A refusal of the
//! manifest (400, 409, 422, or a kind the server does not serve) is an error
//! finding; a refusal that is not about the manifest (403 from RBAC, 404 for
//! a namespace the plan creates) is a warning; accepted resources get an info
//! finding. An unreachable server is an [`Error`], not a finding.

use std::collections::HashMap;

use kube::api::{Patch, PatchParams, ValidationDirective};
use serde_json::Value;

use super::cluster::Cluster;
use super::declared::str_at;
use super::Error;
use crate::finding::{Finding, Severity};
use crate::manifest::File;

/// Rule id of the findings.
pub const RULE: &str = "server-dry-run";

impl Cluster {
    /// Dry-runs every resource of `files` on the API server, within the
    /// configured timeout.
    pub async fn dry_run(&self, files: &[File]) -> Result<Vec<Finding>, Error> {
        match tokio::time::timeout(self.timeout, self.dry_run_all(files)).await {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout {
                server: self.server().to_string(),
                seconds: self.timeout.as_secs(),
            }),
        }
    }

    async fn dry_run_all(&self, files: &[File]) -> Result<Vec<Finding>, Error> {
        let mut groups = HashMap::new();
        let mut findings = Vec::new();
        for file in files {
            let Ok(docs) = crate::yaml::manifest_values(&file.content) else {
                continue; // validation already reports unparsable files
            };
            for doc in docs {
                let found = self.dry_run_one(&mut groups, file, &doc).await?;
                findings.extend(found);
            }
        }
        Ok(findings)
    }

    /// Dry-runs one document of `file`: its finding, or `None` for a
    /// document without apiVersion, kind and name, or a kustomization.
    async fn dry_run_one(
        &self,
        groups: &mut HashMap<String, Result<kube::discovery::ApiGroup, String>>,
        file: &File,
        doc: &Value,
    ) -> Result<Option<Finding>, Error> {
        let (Some(api_version), Some(kind), Some(name)) = (
            str_at(doc, &["apiVersion"]),
            str_at(doc, &["kind"]),
            str_at(doc, &["metadata", "name"]),
        ) else {
            return Ok(None);
        };
        if api_version.starts_with("kustomize.config.k8s.io/") {
            return Ok(None);
        }
        let finding = |severity, message: String| {
            Finding::new(severity, RULE, format!("{kind}/{name}"), "", message).in_file(file.path.clone())
        };
        let (ar, namespaced) = match self.resolve(groups, api_version, kind).await? {
            Ok(found) => found,
            Err(reason) => {
                return Ok(Some(finding(
                    Severity::Error,
                    format!("{reason} (is its CustomResourceDefinition installed?)"),
                )))
            }
        };
        let namespace =
            namespaced.then(|| str_at(doc, &["metadata", "namespace"]).unwrap_or(&self.default_namespace));
        let params = PatchParams::apply("gitintent")
            .dry_run()
            .validation(ValidationDirective::Strict);
        match self
            .api(&ar, namespace)
            .patch(name, &params, &Patch::Apply(doc))
            .await
        {
            Ok(_) => Ok(Some(finding(
                Severity::Info,
                "accepted by the API server (dry run)".into(),
            ))),
            Err(kube::Error::Api(status)) => {
                let (severity, message) = refusal(&status);
                Ok(Some(finding(severity, message)))
            }
            Err(e) => Err(self.transport(&e)),
        }
    }
}

/// A refused dry run: an error when it is about the manifest (400, 409,
/// 422), else a warning; the message has the server's causes when it gave any.
fn refusal(status: &kube::core::Status) -> (Severity, String) {
    let severity = match status.code {
        400 | 409 | 422 => Severity::Error,
        _ => Severity::Warning,
    };
    let causes = status_causes(status);
    let message = if causes.is_empty() {
        format!("{} {}: {}", status.code, status.reason, status.message)
    } else {
        format!("{} {}: {}", status.code, status.reason, causes.join("; "))
    };
    (severity, message)
}

/// `field: message` for each cause the server gave.
fn status_causes(status: &kube::core::Status) -> Vec<String> {
    let Ok(value) = serde_json::to_value(status) else {
        return Vec::new();
    };
    value
        .pointer("/details/causes")
        .and_then(Value::as_array)
        .map(|causes| {
            causes
                .iter()
                .filter_map(|c| {
                    let message = c.get("message").and_then(Value::as_str)?;
                    Some(match c.get("field").and_then(Value::as_str) {
                        Some(field) if !field.is_empty() => format!("{field}: {message}"),
                        _ => message.to_string(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}
