//! Built-in Kubernetes API versions that the API server no longer serves.
//!
//! A resource at one of these versions has no schema, like a custom
//! resource whose CRD we have not seen, but it is not the same thing:
//! `--ignore-missing-schemas` may skip the second and must never skip the
//! first, because no cluster of a supported version accepts it. This table
//! names the release that removed each version and what replaces it, from
//! the Kubernetes deprecated API migration guide. It does not know about
//! versions removed from custom resources.

/// `(apiVersion, kind or "*" for every kind, removed in, replacement apiVersion)`.
const REMOVED: &[(&str, &str, &str, &str)] = &[
    ("extensions/v1beta1", "Ingress", "1.22", "networking.k8s.io/v1"),
    (
        "extensions/v1beta1",
        "NetworkPolicy",
        "1.16",
        "networking.k8s.io/v1",
    ),
    (
        "extensions/v1beta1",
        "PodSecurityPolicy",
        "1.16",
        "Pod Security admission",
    ),
    ("extensions/v1beta1", "*", "1.16", "apps/v1"),
    ("apps/v1beta1", "*", "1.16", "apps/v1"),
    ("apps/v1beta2", "*", "1.16", "apps/v1"),
    ("networking.k8s.io/v1beta1", "*", "1.22", "networking.k8s.io/v1"),
    (
        "rbac.authorization.k8s.io/v1beta1",
        "*",
        "1.22",
        "rbac.authorization.k8s.io/v1",
    ),
    (
        "rbac.authorization.k8s.io/v1alpha1",
        "*",
        "1.22",
        "rbac.authorization.k8s.io/v1",
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "*",
        "1.22",
        "admissionregistration.k8s.io/v1",
    ),
    (
        "apiextensions.k8s.io/v1beta1",
        "*",
        "1.22",
        "apiextensions.k8s.io/v1",
    ),
    (
        "apiregistration.k8s.io/v1beta1",
        "*",
        "1.22",
        "apiregistration.k8s.io/v1",
    ),
    (
        "authentication.k8s.io/v1beta1",
        "*",
        "1.22",
        "authentication.k8s.io/v1",
    ),
    (
        "authorization.k8s.io/v1beta1",
        "*",
        "1.22",
        "authorization.k8s.io/v1",
    ),
    (
        "certificates.k8s.io/v1beta1",
        "*",
        "1.22",
        "certificates.k8s.io/v1",
    ),
    (
        "coordination.k8s.io/v1beta1",
        "*",
        "1.22",
        "coordination.k8s.io/v1",
    ),
    ("scheduling.k8s.io/v1beta1", "*", "1.22", "scheduling.k8s.io/v1"),
    (
        "storage.k8s.io/v1beta1",
        "CSIStorageCapacity",
        "1.27",
        "storage.k8s.io/v1",
    ),
    ("storage.k8s.io/v1beta1", "*", "1.22", "storage.k8s.io/v1"),
    ("batch/v1beta1", "*", "1.25", "batch/v1"),
    ("discovery.k8s.io/v1beta1", "*", "1.25", "discovery.k8s.io/v1"),
    ("events.k8s.io/v1beta1", "*", "1.25", "events.k8s.io/v1"),
    ("node.k8s.io/v1beta1", "*", "1.25", "node.k8s.io/v1"),
    (
        "policy/v1beta1",
        "PodSecurityPolicy",
        "1.25",
        "Pod Security admission",
    ),
    ("policy/v1beta1", "*", "1.25", "policy/v1"),
    ("autoscaling/v2beta1", "*", "1.25", "autoscaling/v2"),
    ("autoscaling/v2beta2", "*", "1.26", "autoscaling/v2"),
    (
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "*",
        "1.26",
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta2",
        "*",
        "1.29",
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta3",
        "*",
        "1.32",
        "flowcontrol.apiserver.k8s.io/v1",
    ),
];

/// The error for a resource at a removed built-in API version, if it is one:
/// `extensions/v1beta1 Deployment was removed in Kubernetes 1.16: use apps/v1`.
pub(crate) fn removed(api_version: &str, kind: &str) -> Option<String> {
    let (_, _, release, replacement) = REMOVED
        .iter()
        .find(|(version, k, ..)| *version == api_version && (*k == kind || *k == "*"))?;
    let instead = if replacement.contains('/') {
        format!("use {replacement}")
    } else {
        format!("replaced by {replacement}")
    };
    Some(format!(
        "{api_version} {kind} was removed in Kubernetes {release}: {instead}"
    ))
}

#[cfg(test)]
mod tests {
    use super::removed;

    #[test]
    fn removed_versions_name_the_release_and_the_replacement() {
        assert_eq!(
            removed("extensions/v1beta1", "Deployment").as_deref(),
            Some("extensions/v1beta1 Deployment was removed in Kubernetes 1.16: use apps/v1")
        );
        assert_eq!(
            removed("extensions/v1beta1", "Ingress").as_deref(),
            Some("extensions/v1beta1 Ingress was removed in Kubernetes 1.22: use networking.k8s.io/v1")
        );
        assert_eq!(
            removed("policy/v1beta1", "PodSecurityPolicy").as_deref(),
            Some("policy/v1beta1 PodSecurityPolicy was removed in Kubernetes 1.25: replaced by Pod Security admission")
        );
        // Served versions and custom resources are not in the table.
        assert_eq!(removed("apps/v1", "Deployment"), None);
        assert_eq!(removed("gateway.networking.k8s.io/v1beta1", "HTTPRoute"), None);
    }
}
