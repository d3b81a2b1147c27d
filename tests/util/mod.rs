//! Helpers shared by the integration tests.

pub(crate) mod bin;
pub(crate) mod fake_forge;
pub(crate) mod fake_llm;
pub(crate) mod kube_api;
pub(crate) mod service;
pub(crate) mod slack;
pub(crate) mod slack_hooks;
pub(crate) mod tree;
