//! The checks [`Config::load`] runs once everything is merged: each refusal
//! is an [`Error::Invalid`] naming the key (`repository[1].base-branch`,
//! `token[0].sha256`, …). Only the configuration is looked at: repositories,
//! the store and clusters are not contacted here.

use std::collections::HashSet;

use super::{invalid, Config, Error, Limits, RepositoryConfig, TokenConfig};

impl Config {
    /// Refuses a configuration the service cannot run with, naming the key.
    pub(super) fn check(&self) -> Result<(), Error> {
        if self.provider.max_completion_tokens.is_some() && self.provider.max_tokens.is_some() {
            return Err(invalid(
                "provider.max-tokens",
                "set max-completion-tokens or max-tokens, not both",
            ));
        }
        self.check_access()?;
        let names = self.check_repositories()?;
        check_tokens(&self.tokens)?;
        self.check_slack(&names)?;
        check_limits(&self.limits)
    }

    /// The listen address and store parse, and the service is not left open:
    /// tokens, or `--insecure-no-auth` on loopback only.
    fn check_access(&self) -> Result<(), Error> {
        let addr = self.listen_addr()?;
        if self.store.is_some() {
            self.store_location()?;
        }
        if self.insecure_no_auth && !addr.ip().is_loopback() {
            return Err(invalid(
                "listen",
                format!("--insecure-no-auth serves without authentication, so it only binds to loopback; {addr} is not a loopback address"),
            ));
        }
        if self.tokens.is_empty() && !self.insecure_no_auth {
            return Err(invalid(
                "token",
                "no tokens configured: add [[token]] entries (see `gitintent token create`) or pass --insecure-no-auth for a loopback-only trial",
            ));
        }
        Ok(())
    }

    /// Every repository is usable and named once; the names.
    fn check_repositories(&self) -> Result<HashSet<&str>, Error> {
        let mut names = HashSet::new();
        for (i, repo) in self.repositories.iter().enumerate() {
            let key = format!("repository[{i}]");
            if !is_dns_label(&repo.name) {
                return Err(invalid(
                    format!("{key}.name"),
                    format!("{:?} must be a lowercase DNS-1123 label", repo.name),
                ));
            }
            if !names.insert(repo.name.as_str()) {
                return Err(invalid(
                    format!("{key}.name"),
                    format!("repository {:?} is configured twice", repo.name),
                ));
            }
            self.check_repository(&key, repo)?;
        }
        Ok(names)
    }

    /// One repository's target: exactly one of url and path, a usable base
    /// branch and cluster settings.
    fn check_repository(&self, key: &str, repo: &RepositoryConfig) -> Result<(), Error> {
        if repo.url.is_some() == repo.path.is_some() {
            return Err(invalid(
                key,
                format!("repository {:?} needs exactly one of url or path", repo.name),
            ));
        }
        if repo.base_branch.is_empty() || git_ref_unsafe(&repo.base_branch) {
            return Err(invalid(
                format!("{key}.base-branch"),
                format!("{:?} is not a usable branch name", repo.base_branch),
            ));
        }
        if let Some(cluster) = &repo.cluster {
            cluster
                .check(self.limits.request_timeout_secs)
                .map_err(|(k, m)| invalid(format!("{key}.cluster.{k}"), m))?;
        }
        Ok(())
    }

    /// The Slack settings, when Slack is on, and its default repository.
    fn check_slack(&self, repositories: &HashSet<&str>) -> Result<(), Error> {
        if !self.slack.signing_secret.is_empty() {
            self.slack.check().map_err(|e| invalid("slack", e.to_string()))?;
        }
        if let Some(repo) = &self.slack.default_repo {
            if !repositories.contains(repo.as_str()) {
                return Err(invalid(
                    "slack.default-repo",
                    format!("{repo:?} is not a configured repository"),
                ));
            }
        }
        Ok(())
    }
}

/// Every token has a printable name used once and a SHA-256 in lowercase hex.
fn check_tokens(tokens: &[TokenConfig]) -> Result<(), Error> {
    let mut token_names = HashSet::new();
    for (i, token) in tokens.iter().enumerate() {
        let key = format!("token[{i}]");
        if token.name.trim().is_empty() || token.name.chars().any(char::is_control) {
            return Err(invalid(format!("{key}.name"), "a token needs a printable name"));
        }
        if !token_names.insert(token.name.as_str()) {
            return Err(invalid(
                format!("{key}.name"),
                format!("token name {:?} is used twice", token.name),
            ));
        }
        let hex_ok = token.sha256.len() == 64
            && token
                .sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !hex_ok {
            return Err(invalid(
                format!("{key}.sha256"),
                "must be the SHA-256 of the token as 64 lowercase hex digits (never the token itself)",
            ));
        }
    }
    Ok(())
}

/// No limit that must be positive is zero.
fn check_limits(l: &Limits) -> Result<(), Error> {
    if l.body_bytes == 0
        || l.request_timeout_secs == 0
        || l.max_model_calls == 0
        || l.store_connections == 0
        || l.plan_lease_secs == 0
    {
        return Err(invalid(
            "limits",
            "body-bytes, request-timeout-secs, max-model-calls, store-connections and plan-lease-secs must be more than zero",
        ));
    }
    if l.max_validations == 0
        || l.max_connections == 0
        || l.header_read_timeout_secs == 0
        || l.idle_timeout_secs == 0
    {
        return Err(invalid(
            "limits",
            "max-validations, max-connections, header-read-timeout-secs and idle-timeout-secs must be more than zero",
        ));
    }
    Ok(())
}

/// `name` is what [`crate::spec::sanitize_name`] leaves unchanged.
fn is_dns_label(name: &str) -> bool {
    crate::spec::sanitize_name(name).ok().as_deref() == Some(name)
}

/// A branch name git would refuse or read as an option or a revision range.
fn git_ref_unsafe(name: &str) -> bool {
    name.starts_with('-')
        || name.contains("..")
        || name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "~^:?*[\\".contains(c))
}
