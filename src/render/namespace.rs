//! The Namespace a plan creates when the repository does not use it yet.
//!
//! Pod Security Admission labels: `enforce: restricted` in production,
//! `baseline` elsewhere, and `warn`/`audit` at `restricted` everywhere, so
//! what would fail in production shows up in staging first. A namespace
//! holding a log shipper (which mounts the node's `/var/log`, see
//! `context::is_log_shipper`) is `privileged`: no lower level admits a
//! hostPath volume. The rendered pods meet `restricted` otherwise.
//! This module does not decide whether a namespace is new (the pipeline
//! does, from the repository's conventions).

use std::collections::BTreeMap;

use crate::finding::{Finding, Severity};
use crate::spec::Spec;

/// Namespaces a plan never creates.
const SYSTEM_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

/// The template context of the spec's Namespace, with the finding that says
/// it is created; `None` for a system namespace.
pub(super) fn context(
    spec: &Spec,
    extra: &BTreeMap<String, String>,
    findings: &mut Vec<Finding>,
) -> Option<minijinja::Value> {
    if SYSTEM_NAMESPACES.contains(&spec.namespace.as_str()) {
        return None;
    }
    let (level, why) = level(spec);
    findings.push(note(spec, level, why));
    Some(minijinja::context! {
        namespace => &spec.namespace,
        labels => labels(spec, extra, level),
    })
}

/// The Pod Security level to enforce, and why.
pub(super) fn level(spec: &Spec) -> (&'static str, &'static str) {
    if spec.components.iter().any(super::context::is_log_shipper) {
        (
            "privileged",
            "it runs a log shipper that mounts the node's /var/log (hostPath), which lower levels refuse",
        )
    } else if spec.environment == "production" {
        (
            "restricted",
            "production namespaces enforce the restricted Pod Security level",
        )
    } else {
        (
            "baseline",
            "outside production the baseline level is enforced and restricted is only warned about",
        )
    }
}

/// Labels of the Namespace: the plan's own and Pod Security's.
pub(super) fn labels(spec: &Spec, extra: &BTreeMap<String, String>, level: &str) -> BTreeMap<String, String> {
    let mut labels = extra.clone();
    labels.insert("app.kubernetes.io/managed-by".into(), "gitintent".into());
    labels.insert("gitintent.io/environment".into(), spec.environment.clone());
    labels.insert("kubernetes.io/metadata.name".into(), spec.namespace.clone());
    labels.insert("pod-security.kubernetes.io/enforce".into(), level.into());
    for mode in ["warn", "audit"] {
        let shown = if level == "privileged" {
            "baseline"
        } else {
            "restricted"
        };
        labels.insert(format!("pod-security.kubernetes.io/{mode}"), shown.into());
    }
    labels
}

/// The finding that tells the reviewer the namespace is created, and how.
pub(super) fn note(spec: &Spec, level: &str, why: &str) -> Finding {
    Finding::new(
        Severity::Info,
        "namespace-created",
        format!("Namespace/{}", spec.namespace),
        "",
        format!(
            "namespace {} is new to the repository, so the plan creates it with Pod Security level {level}: {why}",
            spec.namespace
        ),
    )
}
