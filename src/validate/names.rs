//! Object names, checked as the API server checks them (the OpenAPI schemas
//! only say "string").
//!
//! Every name must be a valid path segment: no control character (a NUL in
//! `metadata.name` once passed), no `/` or `%`, not `.` or `..`, at most 253
//! bytes. Kinds whose names Kubernetes requires to be DNS-1123 subdomains
//! (Deployments, ConfigMaps, Secrets, …) or labels (Services, Namespaces) are
//! held to that; RBAC objects and custom resources keep the path-segment rule
//! (`system:controller` is a valid ClusterRole name). `metadata.namespace`
//! is always a DNS-1123 label. It does not check label or annotation keys.

use super::report::Violation;

/// Kinds whose `metadata.name` must be a DNS-1123 subdomain.
const SUBDOMAIN_KINDS: &[&str] = &[
    "ConfigMap",
    "CronJob",
    "DaemonSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "Ingress",
    "Job",
    "NetworkPolicy",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Pod",
    "PodDisruptionBudget",
    "ReplicaSet",
    "Secret",
    "ServiceAccount",
    "StatefulSet",
];

/// Kinds whose `metadata.name` must be a DNS-1123 label.
const LABEL_KINDS: &[&str] = &["Namespace", "Service"];

/// The problems of one resource's `name`, `generateName` and `namespace`.
pub(crate) fn check(
    kind: &str,
    name: Option<&str>,
    generate: Option<&str>,
    namespace: Option<&str>,
) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut push = |path: &str, message: String| {
        out.push(Violation {
            path: path.to_string(),
            message,
        })
    };
    if let Some(name) = name {
        if let Some(problem) = path_segment(name).or_else(|| by_kind(kind, name)) {
            push("/metadata/name", format!("metadata.name {}", problem));
        }
    }
    if let Some(prefix) = generate {
        if let Some(problem) = path_segment(prefix) {
            push(
                "/metadata/generateName",
                format!("metadata.generateName {}", problem),
            );
        }
    }
    if let Some(ns) = namespace {
        if let Some(problem) = path_segment(ns).or_else(|| dns_label(ns)) {
            push("/metadata/namespace", format!("metadata.namespace {}", problem));
        }
    }
    out
}

/// What makes `name` an invalid path segment, if anything.
fn path_segment(name: &str) -> Option<String> {
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Some(format!(
            "contains the control character U+{:04X}; names are plain text (DNS-1123 for most kinds)",
            c as u32
        ));
    }
    if name == "." || name == ".." {
        return Some(format!("may not be {name:?}"));
    }
    if let Some(c) = name.chars().find(|c| matches!(c, '/' | '%')) {
        return Some(format!("{name:?} may not contain {c:?}"));
    }
    (name.len() > 253).then(|| format!("is {} bytes long; the limit is 253", name.len()))
}

fn by_kind(kind: &str, name: &str) -> Option<String> {
    if SUBDOMAIN_KINDS.contains(&kind) {
        dns_subdomain(name)
    } else if LABEL_KINDS.contains(&kind) {
        dns_label(name)
    } else {
        None
    }
}

/// Lower-case alphanumerics and `-`, starting and ending alphanumeric, ≤ 63.
fn dns_label(name: &str) -> Option<String> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    (!ok).then(|| {
        format!("{name:?} must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters")
    })
}

/// Dot-separated DNS-1123 labels, ≤ 253.
fn dns_subdomain(name: &str) -> Option<String> {
    let ok = !name.is_empty() && name.split('.').all(|label| dns_label(label).is_none());
    (!ok).then(|| {
        format!("{name:?} must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', each part starting and ending with a letter or digit")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(kind: &str, name: &str) -> Vec<String> {
        check(kind, Some(name), None, None)
            .into_iter()
            .map(|v| v.message)
            .collect()
    }

    #[test]
    fn control_characters_are_refused_in_every_kind() {
        for kind in ["Deployment", "ClusterRole", "Widget"] {
            let m = messages(kind, "web\0evil");
            assert_eq!(m.len(), 1, "{kind}");
            assert!(m[0].contains("U+0000"), "{m:?}");
        }
        assert!(!check("Pod", None, Some("web-\u{1b}"), Some("prod")).is_empty());
    }

    #[test]
    fn names_follow_their_kinds_rules() {
        assert!(messages("Deployment", "web.v2").is_empty());
        assert!(messages("Deployment", "Web")[0].contains("DNS-1123 subdomain"));
        assert!(messages("Service", "web.v2")[0].contains("DNS-1123 label"));
        assert!(messages("ClusterRole", "system:controller:web").is_empty());
        assert!(messages("ClusterRole", "a/b")[0].contains("'/'"));
        assert!(messages("Widget", "..")[0].contains("may not be"));
        let v = check("Deployment", Some("web"), None, Some("Prod_1"));
        assert_eq!(v[0].path, "/metadata/namespace");
    }
}
