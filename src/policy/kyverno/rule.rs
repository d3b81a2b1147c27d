//! One rule of a Kyverno policy read into the policy: its `match` and
//! `exclude` filters, its action and per-namespace overrides, its message
//! and its check ([`Reader`]); or, when it uses what gitintent does not
//! evaluate, listed as unsupported with the severity it would enforce.

use serde_json::Value;

use super::filter::{filter, Filter};
use super::read::Reader;
use super::vars::Queries;
use super::{action, overrides, Override, Policy, Rule};
use crate::finding::Severity;
use crate::policy::cel::Embedded;
use crate::policy::Error;

/// What a rule inherits from its policy.
pub(super) struct RuleContext<'a> {
    pub(super) name: &'a str,
    pub(super) default_action: Severity,
    pub(super) autogen: bool,
    pub(super) overrides: Vec<Override>,
    /// The policy's file and its text, to place errors in CEL.
    pub(super) file: &'a str,
    pub(super) text: &'a str,
}

/// Adds one rule to `out`: evaluated, or listed as unsupported.
pub(super) fn read_rule(
    rule: &Value,
    cx: &RuleContext<'_>,
    out: &mut Policy,
    invalid: &dyn Fn(&str, String) -> Error,
) -> Result<(), Error> {
    let rule_name = cx.name;
    let mut skip: Vec<String> = ["mutate", "generate", "verifyImages"]
        .into_iter()
        .filter(|k| rule.get(k).is_some())
        .map(str::to_string)
        .collect();
    let Some(validate) = rule.get("validate") else {
        unvalidated(rule, cx, out, skip);
        return Ok(());
    };
    let cel = validate
        .get("cel")
        .map(|block| embedded_cel(rule, validate, block, cx, out))
        .transpose()?;
    let mut queries = Queries::default();
    let check = Reader {
        queries: &mut queries,
        skip: &mut skip,
    }
    .rule(rule, validate, cel)
    .map_err(|m| invalid(&format!("name: {rule_name}"), format!("rule {rule_name:?}: {m}")))?;
    let mut user = false;
    let (matches, excludes) = filters(rule, rule_name, &mut skip, &mut user, invalid)?;
    let (severity, overrides) = actions(validate, cx, invalid)?;
    if !skip.is_empty() {
        // Enforced in some namespace: not evaluating it is an error.
        let severity = overrides.iter().map(|o| o.severity).fold(severity, Ord::max);
        out.unsupported_all(rule_name, skip, severity);
        return Ok(());
    }
    if user {
        out.notes.push(rule_name.to_string());
    }
    let (message, message_vars) = message(validate, rule_name, &mut queries);
    out.rules.push(Rule {
        name: rule_name.to_string(),
        severity,
        matches,
        excludes,
        message,
        message_vars,
        check,
        queries,
        autogen: cx.autogen,
        overrides,
    });
    Ok(())
}

/// A rule with no `validate` block, listed as unsupported: verifyImages
/// enforces like a validation; mutate and generate change or create
/// resources, which a gate of manifests cannot do.
fn unvalidated(rule: &Value, cx: &RuleContext<'_>, out: &mut Policy, skip: Vec<String>) {
    let enforces = rule.get("verifyImages").is_some();
    let severity = if enforces {
        cx.default_action
    } else {
        Severity::Warning
    };
    out.unsupported_all(cx.name, skip, severity);
}

/// The rule's `validate.cel` block compiled, placed in the policy's file.
fn embedded_cel(
    rule: &Value,
    validate: &Value,
    block: &Value,
    cx: &RuleContext<'_>,
    out: &Policy,
) -> Result<Embedded, Error> {
    let what = format!("rule {:?} of {} {:?}", cx.name, out.kind, out.name);
    let message = validate.get("message").and_then(Value::as_str);
    Embedded::kyverno(cx.file, cx.text, what, rule, block, message)
}

/// The rule's `match` (which must name resources) and `exclude`.
fn filters(
    rule: &Value,
    rule_name: &str,
    skip: &mut Vec<String>,
    user: &mut bool,
    invalid: &dyn Fn(&str, String) -> Error,
) -> Result<(Filter, Option<Filter>), Error> {
    let matches = filter(rule.get("match"), skip, user).ok_or_else(|| {
        invalid(
            rule_name,
            format!("rule {rule_name:?}: match must name resources"),
        )
    })?;
    let excludes = rule
        .get("exclude")
        .map(|e| filter(Some(e), skip, user).unwrap_or_default());
    Ok((matches, excludes))
}

/// `validate.message` (or a default), and whether its variables compile:
/// a message whose variables cannot be compiled is shown as written.
fn message(validate: &Value, rule_name: &str, queries: &mut Queries) -> (String, bool) {
    let message = validate
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| format!("validation rule {rule_name:?} failed"));
    let vars = queries.add_all(&Value::String(message.clone())).is_ok();
    (message, vars)
}

/// The rule's action and its per-namespace overrides.
fn actions(
    validate: &Value,
    cx: &RuleContext<'_>,
    invalid: &dyn Fn(&str, String) -> Error,
) -> Result<(Severity, Vec<Override>), Error> {
    let severity = match validate.get("failureAction") {
        None => cx.default_action,
        Some(v) => action(v).ok_or_else(|| invalid("failureAction", format!("unknown failureAction {v}")))?,
    };
    let overrides = match validate.get("failureActionOverrides") {
        Some(v) => overrides(Some(v)),
        None => cx.overrides.clone(),
    };
    Ok((severity, overrides))
}
