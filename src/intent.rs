//! The raw request: a plain-language intent plus what the caller says about it.
//!
//! [`Intent::new`] is the first gate for untrusted text from any front end:
//! it refuses empty, oversized and control-character input before a planner
//! sees it, including the bidirectional controls that make text display
//! differently from what it says (they would reach commit messages and pull
//! request titles). It does not interpret the text; planners do that.

pub use crate::limits::is_bidi_control;

/// The longest intent accepted, in bytes. Real intents are a sentence or two.
pub const MAX_BYTES: usize = 4096;

/// Why an intent was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// Nothing but whitespace.
    #[error(
        "the intent is empty: describe what to deploy, e.g. \"Deploy redis with 3 replicas in staging\""
    )]
    Empty,
    /// Longer than [`MAX_BYTES`].
    #[error("the intent is {len} bytes; the limit is {MAX_BYTES}. Describe one change at a time")]
    TooLong { len: usize },
    /// Contains control characters other than newlines and tabs.
    #[error("the intent contains a control character (U+{0:04X}); send plain text")]
    ControlCharacter(u32),
    /// Contains a bidirectional control character ([`is_bidi_control`]).
    #[error(
        "the intent contains a bidirectional control character (U+{0:04X}), which makes text display differently from what it says; send plain text"
    )]
    BidiControl(u32),
    /// The environment given alongside the intent is not a valid name.
    #[error("environment {0}")]
    Environment(String),
    /// The target path given alongside the intent (`--target`) is not a
    /// relative path inside the repository.
    #[error("target path {0:?} is not a path inside the repository: give it relative to the repository root, without `..`, e.g. deploy/webapp")]
    Target(String),
}

/// A request to plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    /// The user's words, trimmed.
    pub text: String,
    /// The environment chosen outside the text (`--env`), if any.
    pub environment: Option<String>,
    /// A file or directory of the repository that narrows which workload a
    /// change targets (`--target`, `target_path`), if any; relative, normalised.
    pub target: Option<String>,
}

impl Intent {
    /// Checks untrusted text and an optional environment.
    pub fn new(text: &str, environment: Option<&str>) -> Result<Intent, Error> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(Error::Empty);
        }
        if trimmed.len() > MAX_BYTES {
            return Err(Error::TooLong { len: trimmed.len() });
        }
        if let Some(c) = trimmed
            .chars()
            .find(|c| c.is_control() && *c != '\n' && *c != '\t')
        {
            return Err(Error::ControlCharacter(c as u32));
        }
        if let Some(c) = trimmed.chars().find(|c| is_bidi_control(*c)) {
            return Err(Error::BidiControl(c as u32));
        }
        let environment = environment
            .map(|e| crate::spec::sanitize_name(e).map_err(Error::Environment))
            .transpose()?;
        Ok(Intent {
            text: trimmed.to_string(),
            environment,
            target: None,
        })
    }

    /// The same intent, narrowed to the workloads under `path` (a file or
    /// directory relative to the repository root; `./` and a trailing `/`
    /// are dropped). Whether it exists is checked against the repository
    /// when the plan is made.
    pub fn with_target(mut self, path: Option<&str>) -> Result<Intent, Error> {
        self.target = path.map(target_path).transpose()?;
        Ok(self)
    }
}

/// `path` normalised: relative, no `.`/`..`/empty segments, no control characters.
fn target_path(path: &str) -> Result<String, Error> {
    let bad = || Error::Target(path.chars().filter(|c| !c.is_control()).take(200).collect());
    let trimmed = path.trim().trim_start_matches("./").trim_end_matches('/');
    if trimmed.is_empty()
        || trimmed.len() > 1024
        || trimmed.starts_with('/')
        || trimmed.contains('\\')
        || trimmed.chars().any(|c| c.is_control() || is_bidi_control(c))
        || trimmed
            .split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == "..")
    {
        return Err(bad());
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_blank_intents_are_refused() {
        assert_eq!(Intent::new("", None), Err(Error::Empty));
        assert_eq!(Intent::new(" \n\t ", None), Err(Error::Empty));
    }

    #[test]
    fn a_100_kb_intent_is_refused() {
        let big = "deploy redis ".repeat(8000);
        assert!(matches!(Intent::new(&big, None), Err(Error::TooLong { .. })));
    }

    #[test]
    fn control_characters_are_refused() {
        assert_eq!(
            Intent::new("deploy\u{1b}[31m redis", None),
            Err(Error::ControlCharacter(0x1b))
        );
    }

    #[test]
    fn bidi_controls_are_refused_with_their_code_point() {
        for c in ['\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}'] {
            let text = format!("deploy redis {c}in prod");
            assert_eq!(Intent::new(&text, None), Err(Error::BidiControl(c as u32)));
        }
        let message = Error::BidiControl(0x202E).to_string();
        assert!(
            message.contains("U+202E") && message.contains("bidirectional"),
            "{message}"
        );
        // Right-to-left text itself is fine.
        assert!(Intent::new("deploy redis שלום in prod", None).is_ok());
    }

    #[test]
    fn environment_is_sanitised() {
        let i = Intent::new(" deploy redis ", Some("Production")).unwrap();
        assert_eq!(i.text, "deploy redis");
        assert_eq!(i.environment.as_deref(), Some("production"));
        assert!(Intent::new("deploy redis", Some("../prod")).is_err());
    }

    #[test]
    fn a_target_path_is_relative_and_normalised() {
        let i = Intent::new("scale backend to 3", None).unwrap();
        let t = |p: &str| {
            i.clone()
                .with_target(Some(p))
                .map(|i| i.target.unwrap_or_default())
        };
        assert_eq!(t("./deploy/webapp/").unwrap(), "deploy/webapp");
        assert_eq!(
            t("release/kubernetes-manifests.yaml").unwrap(),
            "release/kubernetes-manifests.yaml"
        );
        for bad in ["/etc", "../x", "a/../b", "a//b", "", "a\\b"] {
            assert!(matches!(t(bad), Err(Error::Target(_))), "{bad:?}");
        }
        assert_eq!(i.with_target(None).unwrap().target, None);
    }
}
