//! The builtin planner: an offline, deterministic parser for common intents.
//!
//! Input is an [`Intent`]; output is a normalised [`Spec`] or an error that
//! says what was understood. No network, no model, no randomness: the same
//! text always gives the same spec, which makes it the eval baseline.
//!
//! An intent that starts with a day-2 verb ("scale api-gateway to 5",
//! "bump checkout to acme/checkout:2.4.0", "give the orders worker 1Gi of
//! memory", "expose grafana at grafana.example.com", "remove the memcached
//! app") is read by [`day2`] into the spec's `changes` (update or delete of
//! a named workload; [`verbs`] finds the verbs and clauses, [`update`] the
//! values, [`target`] the workload's name). Everything else is a create,
//! read into `components`. A create that also changes something ("deploy
//! redis and scale api to 3") is refused as two requests.
//!
//! Reading happens in layers over one token stream ([`text`]); each reader
//! claims the words it used so no word is read twice. Readers match words by
//! their class in one table, the [`lexicon`] (memory and CPU nouns, replica
//! nouns, environment aliases, stop words, …), so a synonym is added once
//! and means the same to every reader. The per-clause readers run in the
//! order of one explicit table (`parse::CLAUSE_READERS`). The phrasing tests
//! are data (`phrasings/*.yaml`: intent → spec fragment or refusal):
//! 1. [`guard`] refuses prompt injection, forbidden privileges and
//!    operations on running pods (kill, restart, shut down);
//!    [`credentials`] claims credential values (they never reach the spec)
//!    and reads `NAME=value` variables;
//!    [`spell`] first corrects close misspellings out loud ("replcias");
//! 2. [`scope`] reads the environment and namespace;
//! 3. [`kind`] finds workload words and cuts the text into one clause per
//!    component ("a web app and a postgres database");
//! 4. per clause: image, [`schedule`], archetype, name, health check,
//!    [`scaling`], [`sizing`] and [`network`] fill a [`draft::Draft`];
//! 5. [`draft::build`] fills defaults, recording each as an assumption;
//! 6. [`leftover`] reports every meaningful word no reader claimed as
//!    `unsupported` (with the reason for a known concept such as a canary).
//!
//! Before all of this, [`options`] reads and cuts out the plain phrasings of
//! pod, Service and RBAC options ("running `python manage.py migrate`", "on
//! nodes labelled gpu=true", "a NodePort service on 30080", "a Role that can
//! get and list pods"). It does not understand free-form configuration
//! (config files, sidecars); those need the model planner or a hand edit.

mod access;
mod credentials;
mod day2;
mod draft;
mod guard;
mod kind;
mod kinds;
mod leftover;
mod lexicon;
mod naming;
mod network;
mod options;
mod parse;
mod promote;
mod scaling;
mod schedule;
mod scope;
mod sizing;
mod spell;
mod target;
mod text;
mod update;
mod verbs;
mod wiring;

#[cfg(test)]
mod day2_tests;
#[cfg(test)]
mod phrasings;
#[cfg(test)]
mod tests;

#[cfg(test)]
pub(super) use parse::plan;
pub(super) use parse::plan_knowing;
pub(crate) use scope::{mentions_environment, paths_in, replaces_host};
