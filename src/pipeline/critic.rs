//! The repair loop's critics: [`Remembering`], the critic of one
//! [`run`](super::run), which keeps its last review so that `run` does not
//! review the final spec twice, and [`Context`] itself. Both show the model
//! the errors a user would see; neither writes anything.

use crate::change;
use crate::finding::{Finding, Severity};
use crate::plan::Critic;
use crate::spec::Spec;

use super::review::{review, review_in, Reviewed};
use super::Context;

/// The critic of one [`run`]: the same review as [`Context`]'s, remembering the
/// last one so that `run` does not render, validate and check policies a
/// second time when the planner's final spec is the one the critic saw.
/// [`review`] is deterministic for a given spec and context, so reusing it is
/// exact, not an approximation.
pub(super) struct Remembering<'a> {
    ctx: &'a Context,
    stated: bool,
    /// The intent's credentials ([`crate::spec::secrets::credentials`]).
    known: Vec<String>,
    /// Where the changes' targets are looked for (`--target`, paths in the
    /// intent), and whether an `expose` replaces an existing host.
    pub(super) aim: change::Aim,
    /// The intent's text, for the coverage check (empty: no check).
    intent: String,
    /// The spec as the critic received it, then as reviewed, with the review.
    last: std::sync::Mutex<Option<(Spec, Spec, Reviewed)>>,
}

impl<'a> Remembering<'a> {
    pub(super) fn new(ctx: &'a Context, stated: bool) -> Self {
        Remembering {
            ctx,
            stated,
            known: Vec::new(),
            aim: change::Aim::default(),
            intent: String::new(),
            last: std::sync::Mutex::new(None),
        }
    }

    /// The same critic, treating `known` as credentials wherever they appear.
    pub(super) fn knowing(mut self, known: Vec<String>) -> Self {
        self.known = known;
        self
    }

    /// The same critic, also checking that `spec.unsupported` lists every
    /// known concept `intent` asks for that the spec cannot express.
    pub(super) fn covering(mut self, intent: &str) -> Self {
        self.intent = intent.to_string();
        self
    }

    /// The remembered review of `spec`, if the critic's last input was `spec`.
    pub(super) fn take(&self, spec: &Spec) -> Option<(Spec, Reviewed)> {
        let last = self.last.lock().ok()?.take()?;
        (last.0 == *spec).then_some((last.1, last.2))
    }
}

impl Critic for Remembering<'_> {
    fn review(&self, spec: &Spec) -> Vec<Finding> {
        let mut reviewed = spec.clone();
        match review_in(&mut reviewed, self.ctx, self.stated, &self.known, &self.aim) {
            Ok(review) => {
                let mut errors: Vec<Finding> =
                    review.findings.iter().filter(|f| f.is_error()).cloned().collect();
                errors.extend(uncovered(&self.intent, spec));
                if let Ok(mut last) = self.last.lock() {
                    *last = Some((spec.clone(), reviewed, review));
                }
                errors
            }
            Err(e) => vec![critique(&e)],
        }
    }
}

/// What the intent asks for that the spec cannot express and
/// `spec.unsupported` does not list, as errors the repair loop shows the model.
fn uncovered(intent: &str, spec: &Spec) -> Vec<Finding> {
    crate::plan::coverage::uncovered(intent, spec)
        .into_iter()
        .map(|u| {
            Finding::new(
                Severity::Error,
                "not-listed",
                "spec",
                "/unsupported",
                format!(
                    "the intent asks for \"{}\", which the spec cannot express; add it to unsupported with the reason: {}",
                    u.phrase, u.reason
                ),
            )
        })
        .collect()
}

/// A review that failed, as the finding the repair loop shows the model.
fn critique(e: &crate::Error) -> Finding {
    match e {
        crate::Error::Change(c) => Finding::new(
            Severity::Error,
            "change-target",
            "spec",
            "/changes",
            c.to_string(),
        ),
        e => Finding::new(Severity::Error, "render", "spec", "", e.to_string()),
    }
}

/// The repair loop's critic: the same review a user gets, errors only.
impl Critic for Context {
    fn review(&self, spec: &Spec) -> Vec<Finding> {
        let mut spec = spec.clone();
        match review(&mut spec, self) {
            Ok(reviewed) => reviewed.findings.into_iter().filter(Finding::is_error).collect(),
            Err(e) => vec![critique(&e)],
        }
    }
}
