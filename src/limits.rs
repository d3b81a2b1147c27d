//! Limits on the shape of untrusted YAML and JSON: nesting depth and alias expansion.
//!
//! Manifests come from API callers, from files anyone who can commit to a
//! configured repository adds, and from the command line. Parsers and the
//! walks over parsed trees recurse once per level, so a document nested
//! thousands deep overflows the stack and aborts the whole process; a few
//! hundred bytes of YAML aliases (a "billion laughs") expand into gigabytes.
//! Every path that turns such text into a tree goes through these limits:
//! `crate::yaml` (the fast parser, its serde-saphyr fallback and every other
//! read of YAML: policies, Kyverno, drift, lift, typed configuration) and
//! JSON input (serde_json's own recursion limit is the same 128). Trees built under them are at most
//! [`MAX_DEPTH`] deep, so the recursive walks afterwards (schema validation,
//! policy input, diffs, drift comparison) stay bounded too.
//!
//! The limits are applied by `crate::yaml` (its serde-saphyr options and its
//! fast parser). Past a limit the document is refused with [`TOO_DEEP`] or
//! [`ALIAS_BOMB`] as its parse error, which each caller reports like any other broken YAML.
//! It does not bound file or body sizes: the front ends do (`body-bytes`,
//! the repo index's blob limit).
//!
//! One rule for untrusted text lives here too, so that the intent and the
//! spec's secret scrubbing share it from below: [`is_bidi_control`].

/// Deepest nesting of mappings and sequences accepted in a document.
pub const MAX_DEPTH: usize = 128;

/// Most nodes YAML aliases may produce in one parse (serde-saphyr counts
/// every replayed event).
pub const MAX_ALIAS_NODES: usize = 10_000;

/// Most bytes of keys and strings a document may produce beyond its own
/// length: only aliases make a parse produce more text than it read.
pub const ALIAS_EXTRA_BYTES: usize = 1 << 20;

/// The message for a document nested deeper than [`MAX_DEPTH`].
pub const TOO_DEEP: &str = "nested deeper than 128 levels of mappings and sequences (the limit)";

/// The message for a document whose aliases expand past the limits.
pub const ALIAS_BOMB: &str =
    "YAML aliases expand past the limit (10000 nodes, or 1 MiB more text than the document holds)";

/// The bidirectional embedding, override and isolate controls
/// (U+202A–U+202E, U+2066–U+2069): invisible, and able to reorder what a
/// reader sees ("Trojan Source"). Intents refuse them; scrubbed text drops them.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}
