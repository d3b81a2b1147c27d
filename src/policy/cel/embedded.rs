//! CEL that lives inside other policies, compiled and evaluated with the
//! same environment as the CEL policies: a Kyverno `ClusterPolicy`/`Policy`
//! rule's `validate.cel` (`expressions`, `variables`, the rule's
//! `celPreconditions` as match conditions, `validate.message` for
//! expressions without one) and a Gatekeeper `ConstraintTemplate`'s
//! `K8sNativeValidation` code (`validations`, `variables`,
//! `matchCondition`, `failurePolicy`, with Gatekeeper's `anyObject` and
//! `params` variables bound first).
//!
//! Input is the block and, per check, the object; output is the messages
//! of the failed validations. Which resources a rule or constraint applies
//! to is its own module's business. Functions the interpreter lacks are
//! listed by [`Embedded::unsupported`] for the caller to report; syntax
//! errors are [`Error`]s with file, line and column.

use std::sync::Arc;

use serde_json::{json, Value};

use super::matching;
use super::policy::{compile_in, Compiled, Inputs, Layout, Source};
use crate::policy::Error;

/// A compiled block of embedded CEL.
#[derive(Debug, Clone)]
pub(crate) struct Embedded {
    compiled: Arc<Compiled>,
    /// Kyverno: the object's namespace is given as a Namespace carrying
    /// only its name (as the Kyverno CLI does); Gatekeeper: none.
    namespace_object: bool,
}

/// A Kyverno rule's lists, in the map [`Embedded::kyverno`] builds.
const KYVERNO: Layout = Layout {
    conditions: ("matchConditions", "celPreconditions"),
    variables: ("variables", "validate.cel.variables"),
    validations: ("validations", "validate.cel.expressions"),
};

/// A Gatekeeper `K8sNativeValidation` source.
const GATEKEEPER: Layout = Layout {
    conditions: ("matchCondition", "source.matchCondition"),
    variables: ("variables", "source.variables"),
    validations: ("validations", "source.validations"),
};

impl Embedded {
    /// A Kyverno rule's `validate.cel` block `cel`; `message` is the rule's
    /// `validate.message`, which expressions without a message give.
    pub(crate) fn kyverno(
        file: &str,
        text: &str,
        what: String,
        rule: &Value,
        cel: &Value,
        message: Option<&str>,
    ) -> Result<Embedded, Error> {
        let src = Source { file, text, what };
        let mut validations = cel.get("expressions").cloned().unwrap_or(Value::Null);
        if let (Some(message), Some(list)) = (message, validations.as_array_mut()) {
            for v in list.iter_mut().filter(|v| v.get("message").is_none()) {
                if let Some(v) = v.as_object_mut() {
                    v.insert("message".into(), Value::String(message.to_string()));
                }
            }
        }
        let spec = json!({
            "matchConditions": rule.get("celPreconditions"),
            "variables": cel.get("variables"),
            "validations": validations,
        });
        Ok(Embedded {
            compiled: Arc::new(compile_in(&spec, &src, &KYVERNO)?),
            namespace_object: true,
        })
    }

    /// A Gatekeeper template's `K8sNativeValidation` `source`.
    pub(crate) fn gatekeeper(
        file: &str,
        text: &str,
        what: String,
        source: &Value,
    ) -> Result<Embedded, Error> {
        let src = Source { file, text, what };
        Ok(Embedded {
            compiled: Arc::new(compile_in(source, &src, &GATEKEEPER)?),
            namespace_object: false,
        })
    }

    /// Functions the expressions call that gitintent's CEL interpreter
    /// does not provide (empty when everything can be evaluated).
    pub(crate) fn unsupported(&self) -> &[String] {
        &self.compiled.unsupported
    }

    /// The messages of the validations `object` fails (a failed match
    /// condition, or one that cannot be evaluated, included), in order.
    /// `bound` are variables set before the block's own.
    pub(crate) fn violations(&self, object: &Value, bound: &[(&str, &Value)]) -> Vec<String> {
        let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
        let namespace = (!matching::cluster_scoped(kind))
            .then(|| object.pointer("/metadata/namespace").and_then(Value::as_str))
            .flatten();
        let namespace_object = match namespace {
            Some(ns) if self.namespace_object => {
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
            }
            _ => Value::Null,
        };
        let target = matching::target(object, None);
        let request = super::request(object, &target, namespace);
        let inputs = Inputs {
            object,
            params: None,
            namespace: Some(&namespace_object),
            request: &request,
            bound,
        };
        self.compiled
            .evaluate(&inputs)
            .into_iter()
            .map(|v| v.message)
            .collect()
    }
}
