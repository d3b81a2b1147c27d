//! Dispatch: which Kyverno policies can apply to a resource of a given
//! kind, and the views of a resource they share.
//!
//! [`Index`] is worked out from each rule's `match` once per check, so that
//! a resource is only given to the policies whose rules name its kind (pod
//! controllers too, for rules auto-generated from Pod rules). It
//! over-approximates: a policy it keeps may still find no matching rule
//! ([`Policy::check_target`] decides), but a policy it drops has no rule
//! that could match. [`Target`] builds a controller's pod view once for
//! every policy instead of once per rule, and the variables JMESPath sees
//! once per view. Neither evaluates anything.

use std::cell::OnceCell;

use super::jmes::Scope;
use super::pattern::wildcard;
use serde_json::Value;

use super::{pod_of, Policy, POD_CONTROLLERS};

/// A resource being checked, with the pod view of a controller (what rules
/// auto-generated from Pod rules see) built on first use.
pub(crate) struct Target<'a> {
    pub(super) doc: &'a Value,
    pod: OnceCell<Option<(Value, &'static str)>>,
    /// The variables (`request`, `images`) of the resource and of its pod
    /// view, converted for JMESPath on first use.
    scopes: [OnceCell<Scope>; 2],
}

/// Which view of a [`Target`] a rule applies to.
#[derive(Clone, Copy)]
pub(super) enum View {
    Resource,
    Pod,
}

impl<'a> Target<'a> {
    pub(crate) fn new(doc: &'a Value) -> Target<'a> {
        Target {
            doc,
            pod: OnceCell::new(),
            scopes: [OnceCell::new(), OnceCell::new()],
        }
    }

    /// The variables of `object`, which is the `view` of this target:
    /// built once for every rule of every policy.
    pub(super) fn scope(&self, view: View, object: &Value) -> Scope {
        self.scopes[view as usize]
            .get_or_init(|| Scope::for_object(object))
            .clone()
    }

    /// The pod template as a Pod and its JSON pointer prefix; `kind` is the
    /// resource's own.
    pub(super) fn pod(&self, kind: &str) -> Option<(&Value, &'static str)> {
        self.pod
            .get_or_init(|| pod_of(self.doc, kind))
            .as_ref()
            .map(|(pod, prefix)| (pod, *prefix))
    }
}

/// Per policy, the kind patterns its rules can match; `None` for any kind.
#[derive(Debug)]
pub(crate) struct Index {
    kinds: Vec<Option<Vec<String>>>,
}

impl Index {
    pub(crate) fn new(policies: &[Policy]) -> Index {
        Index {
            kinds: policies.iter().map(Policy::kinds).collect(),
        }
    }

    /// Whether policy `i` may have a rule for resources of `kind`.
    pub(crate) fn may_apply(&self, i: usize, kind: &str) -> bool {
        match self.kinds.get(i) {
            Some(Some(patterns)) => patterns.iter().any(|p| wildcard(p, kind)),
            Some(None) | None => true,
        }
    }
}

impl Policy {
    /// The kinds its rules can match, as patterns; `None` when one can match any.
    fn kinds(&self) -> Option<Vec<String>> {
        let mut out = Vec::new();
        for rule in &self.rules {
            let kinds = rule.matches.kinds()?;
            if rule.autogen && kinds.iter().any(|k| wildcard(k, "Pod")) {
                out.extend(POD_CONTROLLERS.iter().map(|k| (*k).to_string()));
            }
            out.extend(kinds);
        }
        // Every Pod rule adds the controllers again.
        out.sort_unstable();
        out.dedup();
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policies(yaml: &str) -> Vec<Policy> {
        super::super::parse("p.yaml", yaml).unwrap()
    }

    const POLICY: &str = "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\nspec:\n  rules:\n  - name: r\n    match: {any: [{resources: {kinds: [MATCH]}}]}\n    validate: {pattern: {metadata: {name: '?*'}}}\n";

    #[test]
    fn pod_rules_also_apply_to_pod_controllers() {
        let index = Index::new(&policies(&POLICY.replace("MATCH", "Pod")));
        for kind in ["Pod", "Deployment", "CronJob", "Job"] {
            assert!(index.may_apply(0, kind), "{kind}");
        }
        assert!(!index.may_apply(0, "Service"));
    }

    #[test]
    fn kinds_with_groups_and_wildcards_are_matched_as_match_does() {
        let index = Index::new(&policies(
            &POLICY.replace("MATCH", "apps/v1/Deployment, 'Ingress*'"),
        ));
        assert!(index.may_apply(0, "Deployment"));
        assert!(index.may_apply(0, "IngressClass"));
        assert!(!index.may_apply(0, "Pod"));
    }

    #[test]
    fn a_rule_without_kinds_applies_to_every_kind() {
        let any = POLICY.replace(
            "{any: [{resources: {kinds: [MATCH]}}]}",
            "{any: [{resources: {names: [x]}}]}",
        );
        let index = Index::new(&policies(&any));
        assert!(index.may_apply(0, "Service"));
        let all = POLICY.replace(
            "any: [{resources: {kinds: [MATCH]}}]",
            "all: [{resources: {names: [x]}}, {resources: {kinds: [Service]}}]",
        );
        let index = Index::new(&policies(&all));
        assert!(index.may_apply(0, "Service"));
        assert!(!index.may_apply(0, "Pod"));
    }
}
