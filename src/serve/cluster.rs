//! Per-repository cluster settings for drift: the `cluster` table of a
//! `[[repository]]` in `gitintent.toml`.
//!
//! ```toml
//! [[repository]]
//! name = "platform"
//! path = "/srv/gitops"
//! [repository.cluster]
//! kubeconfig = "/etc/gitintent/kubeconfig"   # default: $KUBECONFIG, ~/.kube/config, then in-cluster
//! context = "staging-eu"                     # default context for every environment
//! contexts = { production = "prod-eu" }      # per environment, wins over `context`
//! timeout-secs = 20                          # bound on the whole cluster conversation
//! selector = "app.kubernetes.io/managed-by=gitintent"
//! ```
//!
//! A repository without a `cluster` table has drift turned off (the service
//! never contacts a cluster nobody configured). It does not connect to
//! anything: [`ClusterConfig::options`] only builds `drift::ClusterOptions`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::drift::{ClusterOptions, DEFAULT_SELECTOR};

/// Longest allowed `timeout-secs`.
pub const MAX_TIMEOUT_SECS: u64 = 120;

/// How the service reaches one repository's clusters.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ClusterConfig {
    /// The kubeconfig file; default `$KUBECONFIG` or `~/.kube/config`, then in-cluster.
    pub kubeconfig: Option<PathBuf>,
    /// The context for environments not listed in `contexts`; default the
    /// kubeconfig's current context.
    pub context: Option<String>,
    /// A context per environment (`production = "prod-eu"`).
    #[serde(default)]
    pub contexts: BTreeMap<String, String>,
    /// Bound on one drift read's cluster conversation, seconds (default 20, at most 120).
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Label selector of the objects Git tracks (extra detection).
    #[serde(default = "default_selector")]
    pub selector: String,
}

fn default_timeout() -> u64 {
    20
}

fn default_selector() -> String {
    DEFAULT_SELECTOR.to_string()
}

impl ClusterConfig {
    /// The drift options for `environment`.
    pub fn options(&self, environment: &str) -> ClusterOptions {
        ClusterOptions {
            kubeconfig: self.kubeconfig.clone(),
            context: self.contexts.get(environment).or(self.context.as_ref()).cloned(),
            selector: self.selector.clone(),
            timeout: Duration::from_secs(self.timeout_secs),
        }
    }

    /// The timeout as a duration.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }

    /// Checks the values; `Err((key suffix, message))`.
    pub(crate) fn check(&self, request_timeout_secs: u64) -> Result<(), (String, String)> {
        if self.timeout_secs == 0 || self.timeout_secs > MAX_TIMEOUT_SECS {
            return Err((
                "timeout-secs".into(),
                format!("must be between 1 and {MAX_TIMEOUT_SECS}"),
            ));
        }
        if self.timeout_secs >= request_timeout_secs {
            return Err((
                "timeout-secs".into(),
                format!(
                    "must be less than limits.request-timeout-secs ({request_timeout_secs}) so a slow cluster is reported as such"
                ),
            ));
        }
        let blank = |s: &str| s.trim().is_empty() || s.chars().any(char::is_control);
        if self.context.as_deref().is_some_and(blank) {
            return Err(("context".into(), "must not be empty".into()));
        }
        for (env, context) in &self.contexts {
            if blank(context) || blank(env) {
                return Err((
                    format!("contexts.{env}"),
                    "environment and context must not be empty".into(),
                ));
            }
        }
        if self.selector.trim().is_empty() {
            return Err(("selector".into(), "must not be empty".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_per_environment_win_over_the_default_context() {
        let c: ClusterConfig =
            toml::from_str("context = \"stage\"\ncontexts = { production = \"prod\" }\n").unwrap();
        assert_eq!(c.options("production").context.as_deref(), Some("prod"));
        assert_eq!(c.options("staging").context.as_deref(), Some("stage"));
        assert_eq!(c.options("staging").timeout, Duration::from_secs(20));
        assert_eq!(c.options("staging").selector, DEFAULT_SELECTOR);
        assert!(c.check(150).is_ok());
        let slow: ClusterConfig = toml::from_str("timeout-secs = 200\n").unwrap();
        assert_eq!(slow.check(150).unwrap_err().0, "timeout-secs");
        let near: ClusterConfig = toml::from_str("timeout-secs = 30\n").unwrap();
        assert!(near.check(30).is_err());
        assert!(toml::from_str::<ClusterConfig>("contxt = \"x\"\n").is_err());
    }
}
