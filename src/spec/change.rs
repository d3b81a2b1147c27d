//! Day-2 operations: changes to workloads the repository already holds.
//!
//! A spec's `components` are created; its `changes` update or delete
//! existing workloads, named by `target` (and `kind` when a name alone is
//! ambiguous). This module holds the types and the checks a schema cannot
//! express; finding the target and editing its files is `crate::change`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::check::{quantities, Checker};
use super::{Exposure, Resources};

/// What to do to an existing workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, utoipa::ToSchema)]
#[schema(as = OperationKind)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    /// Change fields of the workload; everything else in its files stays as written.
    Update,
    /// Remove the workload and the resources that belong to it.
    Delete,
    /// Copy values the workload runs with in another environment (`promote.from`)
    /// into the spec's environment.
    Promote,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Update => "update",
            Operation::Delete => "delete",
            Operation::Promote => "promote",
        }
    }
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One update, delete or promotion of an existing workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// `update`, `delete` or `promote`.
    pub operation: Operation,
    /// The existing workload's name, as listed in the repository context, e.g. `api-gateway`.
    /// For `promote` only, `*` means every workload both environments run.
    pub target: String,
    /// The workload's kind (`Deployment`, `StatefulSet`, …) when the name alone is ambiguous; null otherwise.
    pub kind: Option<String>,
    /// For `update`: the new values (null fields stay as they are). Null for `delete` and `promote`.
    pub set: Option<Update>,
    // Added by issue 14; absent in older replies reads as null (see `absent.rs`).
    /// For `promote`: where the values come from and which ones; null otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promote: Option<Promotion>,
}

/// What a `promote` copies, and from where; the spec's `environment` receives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Promotion {
    /// The environment whose running values are copied, e.g. `staging`.
    pub from: String,
    /// The values copied; `image` when the request says "the version" or names none.
    pub fields: Vec<Field>,
}

/// A value a promotion copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    /// The containers' images (the version).
    Image,
    /// The replica count.
    Replicas,
    /// The containers' CPU and memory requests and limits.
    Resources,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Image => "image",
            Field::Replicas => "replicas",
            Field::Resources => "resources",
        }
    }
}

/// What a promotion of every workload writes as its `target`.
pub const EVERY: &str = "*";

/// New values for an existing workload; null leaves a field as it is.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Update {
    /// Replica count.
    pub replicas: Option<u32>,
    /// Container image with a pinned tag, e.g. `acme/checkout:2.4.0`.
    pub image: Option<String>,
    /// The container to change when the workload has several; null picks the only one,
    /// the one named like the workload, or the one running the same image repository.
    pub container: Option<String>,
    /// CPU and memory; null quantities stay as they are.
    pub resources: Option<Resources>,
    /// Expose the workload through an Ingress (added, or its host and path changed).
    pub exposure: Option<Exposure>,
}

impl Update {
    /// True when nothing would change.
    pub fn is_empty(&self) -> bool {
        self.replicas.is_none()
            && self.image.is_none()
            && self.resources.as_ref().is_none_or(|r| {
                [&r.requests, &r.limits]
                    .iter()
                    .all(|q| q.cpu.is_none() && q.memory.is_none())
            })
            && self.exposure.is_none()
    }
}

/// Sanitises the names in `change` and records every problem at `at`.
pub(super) fn check(c: &mut Checker, at: &str, change: &mut Change) {
    if change.operation == Operation::Promote {
        promotion(c, at, change);
        return;
    }
    if change.promote.is_some() {
        c.fail(format!("{at}/promote"), "only a promote copies values; use null");
    }
    c.name(&format!("{at}/target"), &mut change.target);
    if let Some(kind) = &mut change.kind {
        // `deployment` and `statefulset` mean the kinds they spell.
        if let Some(known) = crate::manifest::WORKLOAD_KINDS
            .iter()
            .find(|k| k.eq_ignore_ascii_case(kind))
        {
            *kind = (*known).to_string();
        }
        let ok = !kind.is_empty()
            && kind.len() <= 63
            && kind.starts_with(|ch: char| ch.is_ascii_uppercase())
            && kind.chars().all(|ch| ch.is_ascii_alphanumeric());
        if !ok {
            c.fail(
                format!("{at}/kind"),
                format!("{kind:?} is not a Kubernetes kind such as Deployment"),
            );
        }
    }
    match (change.operation, &mut change.set) {
        (Operation::Promote, _) => {}
        (Operation::Delete, Some(_)) => c.fail(format!("{at}/set"), "a delete sets nothing; use null"),
        (Operation::Update, None) => c.fail(format!("{at}/set"), "an update needs the values to set"),
        (Operation::Update, Some(set)) if set.is_empty() => {
            c.fail(format!("{at}/set"), "an update must change at least one value")
        }
        (Operation::Update, Some(set)) => update(c, &format!("{at}/set"), set),
        (Operation::Delete, None) => {}
    }
}

/// A promotion: a workload name or `*`, a source environment other than
/// nothing, at least one field, and no `set`.
fn promotion(c: &mut Checker, at: &str, change: &mut Change) {
    if change.target.trim() != EVERY {
        c.name(&format!("{at}/target"), &mut change.target);
    } else {
        change.target = EVERY.to_string();
    }
    if change.set.is_some() {
        c.fail(format!("{at}/set"), "a promote copies values; set is null");
    }
    match &mut change.promote {
        None => c.fail(
            format!("{at}/promote"),
            "a promote needs the environment to copy from",
        ),
        Some(p) => {
            c.name(&format!("{at}/promote/from"), &mut p.from);
            p.fields.sort();
            p.fields.dedup();
            if p.fields.is_empty() {
                c.fail(
                    format!("{at}/promote/fields"),
                    "a promote copies at least one of image, replicas, resources",
                );
            }
        }
    }
}

fn update(c: &mut Checker, at: &str, set: &mut Update) {
    if let Some(r) = set.replicas {
        if r > 100 {
            c.fail(
                format!("{at}/replicas"),
                format!("{r} replicas is more than the limit of 100"),
            );
        }
    }
    if let Some(image) = &set.image {
        if let Err(m) = super::values::check_image(image) {
            c.fail(format!("{at}/image"), m);
        }
    }
    if let Some(container) = &mut set.container {
        c.name(&format!("{at}/container"), container);
    }
    if let Some(r) = &set.resources {
        quantities(c, &format!("{at}/resources/requests"), &r.requests);
        quantities(c, &format!("{at}/resources/limits"), &r.limits);
    }
    if let Some(e) = &set.exposure {
        super::check::exposure(c, &format!("{at}/exposure"), e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Quantities, Spec};

    fn spec(change: Change) -> Spec {
        let mut s = Spec::test(crate::spec::Archetype::Redis);
        s.components.clear();
        s.changes.push(change);
        s
    }

    fn update(target: &str, set: Update) -> Change {
        Change {
            operation: Operation::Update,
            promote: None,
            target: target.into(),
            kind: None,
            set: Some(set),
        }
    }

    fn problems(mut s: Spec) -> Vec<String> {
        match s.normalize() {
            Ok(()) => vec![],
            Err(crate::spec::Error::Invalid(p)) => p.iter().map(ToString::to_string).collect(),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn a_change_alone_is_a_whole_spec() {
        let s = spec(update(
            "API Gateway",
            Update {
                replicas: Some(5),
                ..Update::default()
            },
        ));
        let mut n = s.clone();
        n.normalize().unwrap();
        assert_eq!(n.changes[0].target, "api-gateway");
    }

    #[test]
    fn updates_must_change_something_and_deletes_set_nothing() {
        let p = problems(spec(update("api", Update::default())));
        assert_eq!(p, ["/changes/0/set: an update must change at least one value"]);
        let empty_resources = Update {
            resources: Some(Resources {
                requests: Quantities::default(),
                limits: Quantities::default(),
            }),
            ..Update::default()
        };
        assert_eq!(problems(spec(update("api", empty_resources))).len(), 1);
        let mut delete = update("api", Update::default());
        delete.operation = Operation::Delete;
        assert_eq!(
            problems(spec(delete)),
            ["/changes/0/set: a delete sets nothing; use null"]
        );
    }

    #[test]
    fn hostile_values_are_refused() {
        let mut c = update(
            "../../etc",
            Update {
                image: Some("acme/app:latest; rm -rf /".into()),
                replicas: Some(1000),
                ..Update::default()
            },
        );
        c.kind = Some("Deployment/../x".into());
        let mut lower = update(
            "api",
            Update {
                replicas: Some(2),
                ..Update::default()
            },
        );
        lower.kind = Some("statefulset".into());
        let mut s = spec(lower);
        s.normalize().unwrap();
        assert_eq!(s.changes[0].kind.as_deref(), Some("StatefulSet"));
        let p = problems(spec(c)).join("\n");
        for path in [
            "/changes/0/target",
            "/changes/0/kind",
            "/changes/0/set/image",
            "/changes/0/set/replicas",
        ] {
            assert!(p.contains(path), "{path} missing from:\n{p}");
        }
    }

    #[test]
    fn a_spec_with_neither_components_nor_changes_is_refused() {
        let mut s = Spec::test(crate::spec::Archetype::Redis);
        s.components.clear();
        assert_eq!(
            problems(s),
            ["/components: at least one component or change is required"]
        );
    }
}
