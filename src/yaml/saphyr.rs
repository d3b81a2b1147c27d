//! The one serde-saphyr entry point: every YAML read that is not the fast
//! parser's goes through these functions, with one set of options — the
//! depth and alias limits of [`crate::limits`], no snippets in messages
//! unless asked, and serde-saphyr's own budget for everything else.
//!
//! One rule for a repeated key: in a manifest the last value wins (as with
//! kubectl) and validation reports it as an error naming its line; in a
//! policy file or configuration it is a parse error naming line and column.
//! It does not type scalars itself, nor drop nulls or record duplicate keys
//! (the strict visitor of `parse.rs` does that for manifests).

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::limits::{ALIAS_BOMB, ALIAS_EXTRA_BYTES, MAX_ALIAS_NODES, MAX_DEPTH, TOO_DEEP};

/// serde-saphyr's error when writing YAML.
pub use serde_saphyr::ser::Error as WriteError;
/// serde-saphyr's error, with its location.
pub use serde_saphyr::Error;

/// Most documents one stream may hold.
pub(crate) const MAX_DOCUMENTS: usize = 1_000_000;

/// The one set of serde-saphyr options, for `text`: the depth and alias
/// limits, streams of many thousand documents (serde-saphyr's default
/// budget stops at 1,024), a duplicate key refused (the strict visitor of
/// `parse.rs` alone asks for the last value to win, and records the key),
/// and messages without a snippet.
///
/// serde-saphyr checks its budget on every event, replayed ones included,
/// so aliases count towards the depth, the nodes and the scalar bytes.
pub(crate) fn options(text: &str) -> serde_saphyr::Options {
    let budget = serde_saphyr::Budget {
        max_depth: MAX_DEPTH,
        max_documents: MAX_DOCUMENTS,
        max_nodes: 50_000_000,
        // A stream's own scalars are at most its length; only aliases add more.
        max_total_scalar_bytes: serde_saphyr::Budget::default()
            .max_total_scalar_bytes
            .min(text.len().saturating_add(ALIAS_EXTRA_BYTES)),
        ..serde_saphyr::Budget::default()
    };
    serde_saphyr::Options {
        budget: Some(budget),
        alias_limits: serde_saphyr::options::AliasLimits {
            max_total_replayed_events: MAX_ALIAS_NODES,
            max_replay_stack_depth: 16,
            max_alias_expansions_per_anchor: usize::MAX,
        },
        with_snippet: false,
        ..serde_saphyr::Options::default()
    }
}

/// serde-saphyr's error as a message: the limits' own words for a breach.
pub(crate) fn message(error: &serde_saphyr::Error) -> String {
    let inner = match error {
        serde_saphyr::Error::WithSnippet { error, .. } => error,
        _ => error,
    };
    breach(inner).unwrap_or_else(|| error.to_string())
}

/// [`TOO_DEEP`] or [`ALIAS_BOMB`] with the line, when `error` is a breach of the limits.
fn breach(error: &serde_saphyr::Error) -> Option<String> {
    use serde_saphyr::budget::BudgetBreach;
    let message = match error {
        serde_saphyr::Error::Budget {
            breach: BudgetBreach::Depth { .. },
            ..
        } => TOO_DEEP,
        serde_saphyr::Error::Budget {
            breach:
                BudgetBreach::Aliases { .. }
                | BudgetBreach::AliasAnchorRatio { .. }
                | BudgetBreach::ScalarBytes { .. },
            ..
        } => ALIAS_BOMB,
        serde_saphyr::Error::Message { msg, .. } if msg.starts_with("alias replay") => ALIAS_BOMB,
        // saphyr's scanner counts flow levels in a u8: past 255 it stops first.
        serde_saphyr::Error::Message { msg, .. } if msg.starts_with("recursion limit exceeded") => TOO_DEEP,
        _ => return None,
    };
    let line = error.location().map_or(0, |l| l.line());
    Some(if line > 0 {
        format!("{message} (line {line})")
    } else {
        message.to_owned()
    })
}

/// Every document of a YAML stream as a JSON value, under [`options`].
///
/// One leniency, libyaml's (and so kubectl's): only when serde-saphyr
/// refuses the text, it is read again with flow-collection continuation
/// lines indented past their opener (`flow.rs`), so a `]` at its key's
/// column parses; an input that still fails reports the first error.
pub fn values(text: &str) -> Result<Vec<Value>, Error> {
    stream(text, serde_saphyr::DuplicateKeyPolicy::Error)
}

/// [`values`] for Kubernetes manifests: a repeated key takes its last value,
/// as kubectl reads it and as `parse.rs` builds trees, and validation
/// reports it as an error with its line. The policies, drift, lift and eval
/// read manifests so, so a repeated key never hides a file from them.
/// Policy files and configuration are read with [`values`]/[`typed`], where
/// a repeated key is an error naming its line and column.
pub fn manifest_values(text: &str) -> Result<Vec<Value>, Error> {
    stream(text, serde_saphyr::DuplicateKeyPolicy::LastWins)
}

fn stream(text: &str, duplicate_keys: serde_saphyr::DuplicateKeyPolicy) -> Result<Vec<Value>, Error> {
    let read = |text: &str| {
        let options = serde_saphyr::Options {
            duplicate_keys,
            ..options(text)
        };
        serde_saphyr::from_multiple_with_options(text, options)
    };
    read(text).or_else(|error| {
        super::flow::relax_flow_indentation(text)
            .and_then(|relaxed| read(&relaxed).ok())
            .ok_or(error)
    })
}

/// One YAML document as a JSON value under [`options`], or the error's message.
pub fn value(text: &str) -> Result<Value, String> {
    serde_saphyr::from_str_with_options(text, options(text)).map_err(|e| message(&e))
}

/// A typed value read from one YAML document under [`options`] (errors keep
/// their snippet).
pub fn typed<T: DeserializeOwned>(text: &str) -> Result<T, Error> {
    let options = serde_saphyr::Options {
        with_snippet: true,
        ..options(text)
    };
    serde_saphyr::from_str_with_options(text, options)
}

/// `value` written as YAML, serde-saphyr's default style.
pub fn to_string<T: Serialize>(value: &T) -> Result<String, WriteError> {
    serde_saphyr::to_string(value)
}

/// `value` written as the block YAML of rendered manifests: multi-line
/// strings as block scalars, ambiguous strings (`yes`, `0755`) quoted.
pub(crate) fn to_block_string<T: Serialize>(value: &T) -> Result<String, WriteError> {
    let options = serde_saphyr::SerializerOptions {
        prefer_block_scalars: true,
        ..Default::default()
    };
    serde_saphyr::to_string_with_options(value, options)
}

#[cfg(test)]
/// The nesting depth serde-saphyr's own scanner sees in `text`; `None`
/// when it is not YAML.
pub(crate) fn depth_of(text: &str) -> Option<usize> {
    let budget = serde_saphyr::Budget {
        max_depth: usize::MAX,
        ..serde_saphyr::Budget::default()
    };
    match serde_saphyr::budget::check_yaml_budget(
        text,
        budget,
        serde_saphyr::budget::EnforcingPolicy::AllContent,
    ) {
        Ok(report) => Some(report.max_depth),
        // The scanner's own flow limit (255 levels).
        Err(e) if e.to_string().starts_with("recursion limit exceeded") => Some(usize::MAX),
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `data: {a: [[[…]]]}` nested `depth` levels in all.
    pub(crate) fn deep_flow(depth: usize) -> String {
        format!(
            "data: {{a: {}{}}}\n",
            "[".repeat(depth - 2),
            "]".repeat(depth - 2)
        )
    }

    /// The classic nine-level "billion laughs".
    pub(crate) fn billion_laughs() -> String {
        let mut text =
            String::from("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (name, prev) in ["b", "c", "d", "e", "f", "g", "h", "i"]
            .iter()
            .zip(["a", "b", "c", "d", "e", "f", "g", "h"])
        {
            let refs = vec![format!("*{prev}"); 9].join(",");
            text.push_str(&format!("{name}: &{name} [{refs}]\n"));
        }
        text
    }

    #[test]
    fn a_repeated_key_takes_its_last_value_in_manifests_and_is_an_error_elsewhere() {
        let text = "kind: ConfigMap\ndata:\n  a: 1\n  a: 2\n";
        assert_eq!(manifest_values(text).unwrap()[0]["data"]["a"], 2);
        let err = values(text).unwrap_err();
        assert_eq!(err.location().map(|l| l.line()), Some(4), "{err}");
    }

    #[test]
    fn values_at_the_limit_parse_and_deeper_ones_are_refused() {
        let ok = values(&deep_flow(MAX_DEPTH)).unwrap();
        assert_eq!(ok.len(), 1);
        let err = values(&deep_flow(MAX_DEPTH + 1)).unwrap_err();
        assert!(message(&err).starts_with(TOO_DEEP), "{}", message(&err));
        let err = values(&deep_flow(30_000)).unwrap_err();
        assert!(message(&err).starts_with(TOO_DEEP), "{}", message(&err));
    }

    #[test]
    fn a_billion_laughs_is_refused_as_an_alias_bomb() {
        let text = billion_laughs();
        let err = values(&text).unwrap_err();
        assert!(message(&err).starts_with(ALIAS_BOMB), "{}", message(&err));
    }

    #[test]
    fn aliases_cannot_stack_depth_past_the_limit() {
        // Each anchor is 100 deep and holds the previous one: 100 × 4 levels once expanded.
        let mut text = String::new();
        let mut prev: Option<String> = None;
        for i in 0..4 {
            let inner = prev.map_or_else(|| "x".to_owned(), |p| format!("*{p}"));
            text.push_str(&format!(
                "k{i}: &k{i} {}{inner}{}\n",
                "[".repeat(100),
                "]".repeat(100)
            ));
            prev = Some(format!("k{i}"));
        }
        let err = values(&text).unwrap_err();
        assert!(message(&err).contains(TOO_DEEP), "{}", message(&err));
    }

    #[test]
    fn a_big_string_repeated_by_aliases_is_refused() {
        let big = "x".repeat(300 * 1024);
        let text = format!("a: &a {big}\nb: [*a, *a, *a, *a, *a]\n");
        let err = values(&text).unwrap_err();
        assert!(
            message(&err).contains(ALIAS_BOMB) || message(&err).contains("budget"),
            "{}",
            message(&err)
        );
    }

    #[test]
    fn streams_refuse_deep_yaml_too() {
        // `values` reads policy files, Kyverno patterns and drift's declared files.
        let err = values(&deep_flow(5_000)).unwrap_err();
        assert!(message(&err).starts_with(TOO_DEEP), "{}", message(&err));
        let err = values(&billion_laughs()).unwrap_err();
        assert!(message(&err).starts_with(ALIAS_BOMB), "{}", message(&err));
    }
}
