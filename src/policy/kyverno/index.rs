//! Which Kyverno policies can apply to a resource of a given kind.
//!
//! Worked out from each rule's `match` once per check, so that a resource is
//! only given to the policies whose rules name its kind (pod controllers
//! too, for rules auto-generated from Pod rules). It over-approximates: a
//! policy it keeps may still find no matching rule ([`Policy::check`] decides),
//! but a policy it drops has no rule that could match. It does not evaluate
//! anything.

use super::pattern::wildcard;
use super::{Policy, POD_CONTROLLERS};

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
        Some(out)
    }
}
