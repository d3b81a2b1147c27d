//! The builtin planner: an offline, deterministic parser for common intents.

use super::Error;
use crate::intent::Intent;
use crate::spec::Spec;

/// Parses an intent into a spec without any network access.
pub(super) fn plan(intent: &Intent) -> Result<Spec, Error> {
    Err(Error::NotUnderstood { reason: format!("not implemented yet: {}", intent.text), understood: vec![] })
}
