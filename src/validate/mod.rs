//! Validation: strict schema checks of Kubernetes manifests, as data.
//!
//! Input is files of YAML or JSON (multi-document streams, `kind: List`).
//! Each resource is checked against the Kubernetes schemas generated from
//! k8s-openapi for the pinned version (`schemas/kubernetes/`, embedded in the
//! binary), or against a CRD found in the same input. Strict: unknown fields
//! and duplicate keys are violations. Output is a [`Report`] with a
//! kubeconform-style [`Status`] per resource, or [`Finding`]s for the pipeline.
//!
//! Object names are checked as the API server checks them (`names.rs`).
//! It does not fetch schemas, validate `status`, check formats, or run CEL
//! (`x-kubernetes-validations`) and admission rules; policies are a separate stage.

#[cfg(test)]
mod fuzz;
mod generate;
mod input;
mod manifests;
mod names;
mod removed;
mod report;
mod run;
mod schema;
mod strict;

use std::path::{Path, PathBuf};

pub use input::read;
pub use manifests::Manifests;
pub use report::{Report, Resource, Status, Summary, Violation};
pub use run::{validate, Options};

use crate::finding::Finding;
use crate::manifest::File;

/// Faults of the validation stage; invalid manifests are not among them.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file, directory or stdin could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A generated schema file could not be written.
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Validates rendered files strictly against the pinned Kubernetes schemas:
/// one `schema` error finding per violation.
pub fn check(files: &[File]) -> Vec<Finding> {
    validate(files, &Options::default()).findings()
}

/// Writes the Kubernetes schema bundle into `dir` (normally
/// `schemas/kubernetes/`), creating it if needed; returns the files written.
pub fn generate_kubernetes_schemas(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let path = dir.join(generate::BUNDLE_FILE);
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&path, generate::render()))
        .map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
    Ok(vec![path])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regenerate with `UPDATE_SCHEMAS=1 cargo test --lib validate::tests::committed`.
    #[test]
    fn committed_kubernetes_schemas_match_generation() {
        let fresh = generate::render();
        if std::env::var_os("UPDATE_SCHEMAS").is_some() {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/kubernetes");
            generate_kubernetes_schemas(&dir).unwrap();
            return;
        }
        assert!(
            fresh == schema::BUNDLE,
            "schemas/kubernetes/{} is stale; regenerate it (see schemas/kubernetes/README.md)",
            generate::BUNDLE_FILE
        );
    }

    #[test]
    fn check_turns_violations_into_findings() {
        let file = File {
            path: "apps/web.yaml".into(),
            content: "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: http}]}\n"
                .into(),
        };
        let findings = check(&[file]);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].resource, "Service/web");
        assert_eq!(findings[0].path, "/spec/ports/0/port");
        assert_eq!(findings[0].file.as_deref(), Some("apps/web.yaml"));
    }
}
