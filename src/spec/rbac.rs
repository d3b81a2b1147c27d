//! RBAC rights of a component's ServiceAccount: a Role (or ClusterRole) with
//! the rules asked for, bound to the ServiceAccount every component already
//! gets. Null means no rights and no mounted token (the default).
//!
//! Types and checks only; `templates/rbac.yaml.j2` renders them, and a
//! finding reports the mounted token and any wildcard (`render/pod.rs`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::check::Checker;

/// The ServiceAccount's rights; null means none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rbac {
    /// A ClusterRole and ClusterRoleBinding instead of a namespaced Role and RoleBinding.
    pub cluster_wide: bool,
    /// What the role allows.
    pub rules: Vec<RbacRule>,
}

/// One rule of a Role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RbacRule {
    /// API groups, e.g. `""` for core, `apps`, `batch`.
    pub api_groups: Vec<String>,
    /// Resources, e.g. `pods`, `pods/log`, `deployments`.
    pub resources: Vec<String>,
    /// Verbs, e.g. `get`, `list`, `watch`.
    pub verbs: Vec<Verb>,
    /// Only these objects; empty means every object of the resources.
    pub resource_names: Vec<String>,
}

/// An RBAC verb (no wildcard).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verb {
    Get,
    List,
    Watch,
    Create,
    Update,
    Patch,
    Delete,
    Deletecollection,
}

impl Verb {
    /// The Kubernetes spelling.
    pub fn as_k8s(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::List => "list",
            Verb::Watch => "watch",
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
            Verb::Deletecollection => "deletecollection",
        }
    }

    /// Reads a Kubernetes verb.
    pub fn from_k8s(s: &str) -> Option<Verb> {
        [
            Verb::Get,
            Verb::List,
            Verb::Watch,
            Verb::Create,
            Verb::Update,
            Verb::Patch,
            Verb::Delete,
            Verb::Deletecollection,
        ]
        .into_iter()
        .find(|v| v.as_k8s() == s)
    }
}

/// Checks names in rules; wildcards are refused (verbs cannot be one by type).
pub(super) fn check(c: &mut Checker, at: &str, r: &Rbac) {
    if r.rules.is_empty() || r.rules.len() > 32 {
        c.fail(format!("{at}/rules"), "between 1 and 32 rules");
    }
    for (i, rule) in r.rules.iter().enumerate() {
        let here = format!("{at}/rules/{i}");
        if rule.verbs.is_empty() {
            c.fail(format!("{here}/verbs"), "at least one verb");
        }
        if rule.resources.is_empty() {
            c.fail(format!("{here}/resources"), "at least one resource");
        }
        for (key, list) in [
            ("api_groups", &rule.api_groups),
            ("resources", &rule.resources),
            ("resource_names", &rule.resource_names),
        ] {
            for (j, s) in list.iter().enumerate() {
                let ok = if key == "api_groups" {
                    s.is_empty() || super::values::is_dns_subdomain(s)
                } else {
                    !s.is_empty()
                        && s.len() <= 253
                        && s.chars()
                            .all(|ch| ch.is_ascii_alphanumeric() || "-./".contains(ch))
                };
                if !ok || s == "*" {
                    c.fail(
                        format!("{here}/{key}/{j}"),
                        format!("{s:?} is not allowed here (no wildcards)"),
                    );
                }
            }
        }
    }
}
