//! Pull requests through a [`Forge`]: GitHub (REST) and GitLab (merge requests).
//!
//! Both accept a self-hosted base URL (GitHub Enterprise, self-managed GitLab). Opening
//! a request that already exists (GitHub 422, GitLab 409) finds and returns the open
//! one instead, so re-proposing never piles up duplicates. The token is never logged
//! and never part of an error message; it is trimmed and checked (a trailing
//! newline is the usual culprit) before anything is written. The whole
//! configuration is checked by [`ForgeConfig::ready`] before the first write.
//! A branch pushed to a fork (`fork:`) is proposed to `repo`: GitHub's
//! `owner:branch` head with `head_repo`, GitLab's `target_project_id`.
//! Rate limits are waited out within a bound, then reported with a time
//! (`http.rs`).
//!
//! It does not push: the branch must already be on the forge's repository.

mod describe;
mod github;
mod gitlab;
mod http;

pub use describe::{body, describe_change, summary};
pub use github::GitHub;
pub use gitlab::GitLab;

use std::future::Future;
use std::pin::Pin;

use serde::Serialize;

use super::Error;
pub use crate::repo::{ForgeAuth, ForgeConfig, ForgeKind};

/// A forge's future, boxed so that `dyn Forge` works.
pub type ForgeFuture<'a> = Pin<Box<dyn Future<Output = Result<PullRequest, Error>> + Send + 'a>>;

/// Something that opens pull requests.
pub trait Forge: Send + Sync {
    /// Opens `pr`, or returns the open one for the same head and base.
    fn open<'a>(&'a self, pr: &'a PullRequestRequest) -> ForgeFuture<'a>;
}

/// What to open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PullRequestRequest {
    /// The summary line.
    pub title: String,
    /// Markdown; see [`body`].
    pub body: String,
    /// The proposal branch (already pushed).
    pub head: String,
    /// The branch to merge into.
    pub base: String,
}

/// An opened (or found) pull request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PullRequest {
    /// GitHub's number or GitLab's `iid`.
    pub number: u64,
    /// The web page of the request.
    pub url: String,
    /// True when it already existed.
    pub existing: bool,
}

impl ForgeConfig {
    /// `GITINTENT_FORGE_TOKEN`, else `GITHUB_TOKEN` or `GITLAB_TOKEN` by kind.
    pub fn token_from_env(&self) -> Result<String, Error> {
        let fallback = match self.kind {
            ForgeKind::Github => "GITHUB_TOKEN",
            ForgeKind::Gitlab => "GITLAB_TOKEN",
        };
        let (name, value) = ["GITINTENT_FORGE_TOKEN", fallback]
            .iter()
            .find_map(|k| {
                std::env::var(k)
                    .ok()
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| (*k, v))
            })
            .ok_or_else(|| {
                Error::ForgeConfig(format!(
                    "no token to open a pull request: set GITINTENT_FORGE_TOKEN (or {fallback})"
                ))
            })?;
        check_token(name, &value)
    }

    /// The checked token, once everything a pull request needs is known to
    /// be well-formed (URL, repository paths, token): call it before the
    /// first write, so a configuration error never leaves a pushed branch.
    pub fn ready(&self) -> Result<String, Error> {
        let token = self.token_from_env()?;
        self.build(token.clone())?;
        Ok(token)
    }

    /// The forge client for this config.
    pub fn build(&self, token: String) -> Result<Box<dyn Forge>, Error> {
        let token = check_token("the forge token", &token)?;
        Ok(match self.kind {
            ForgeKind::Github => {
                Box::new(GitHub::new(self.url.as_deref(), &self.repo, token)?.fork(self.fork.as_deref())?)
            }
            ForgeKind::Gitlab => Box::new(
                GitLab::new(self.url.as_deref(), &self.repo, token)?
                    .fork(self.fork.as_deref())?
                    .auth(self.auth.unwrap_or(ForgeAuth::PrivateToken)),
            ),
        })
    }
}

/// `value` trimmed (a trailing newline from `$(cat file)` or a secret mount),
/// refused when what is left cannot be an HTTP header value.
fn check_token(name: &str, value: &str) -> Result<String, Error> {
    let token = value.trim();
    if token.is_empty() {
        return Err(Error::ForgeConfig(format!("{name} is empty")));
    }
    if let Some(c) = token
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || !c.is_ascii())
    {
        let what = if c.is_whitespace() {
            "whitespace"
        } else {
            "a character"
        };
        return Err(Error::ForgeConfig(format!(
            "{name} contains {what} (U+{:04X}) inside it, which no forge token has; check how it was set",
            c as u32
        )));
    }
    Ok(token.to_string())
}

/// Opens a pull request on the configured forge (or returns the existing one).
pub async fn open_pull_request(
    forge: &ForgeConfig,
    token: &str,
    pr: &PullRequestRequest,
) -> Result<PullRequest, Error> {
    forge.build(token.to_string())?.open(pr).await
}

/// Infers the forge from a remote URL: github.com → GitHub, gitlab.com → GitLab, and
/// hosts named `github.*` / `gitlab.*` as self-hosted ones. `None` for anything else.
pub fn infer_forge(remote_url: &str) -> Option<ForgeConfig> {
    let (host, path) = if let Some((_, rest)) = remote_url.split_once("://") {
        let (authority, path) = rest.split_once('/')?;
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        (host.split(':').next()?, path)
    } else {
        // scp-like: git@github.com:owner/repo.git
        let (userhost, path) = remote_url.split_once(':')?;
        (userhost.rsplit_once('@').map_or(userhost, |(_, h)| h), path)
    };
    let repo = path.trim_matches('/').trim_end_matches(".git").to_string();
    if repo.split('/').filter(|s| !s.is_empty()).count() < 2 {
        return None;
    }
    let host = host.to_ascii_lowercase();
    let (kind, url) = match host.as_str() {
        "github.com" => (ForgeKind::Github, None),
        "gitlab.com" => (ForgeKind::Gitlab, None),
        h if h.starts_with("github.") => (ForgeKind::Github, Some(format!("https://{h}"))),
        h if h.starts_with("gitlab.") => (ForgeKind::Gitlab, Some(format!("https://{h}"))),
        _ => return None,
    };
    Some(ForgeConfig {
        kind,
        url,
        repo,
        fork: None,
        auth: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forges_are_inferred_from_remote_urls() {
        let gh = infer_forge("https://github.com/acme/gitops.git").unwrap();
        assert_eq!(
            (gh.kind, gh.url, gh.repo.as_str()),
            (ForgeKind::Github, None, "acme/gitops")
        );
        let gh = infer_forge("git@github.com:acme/gitops.git").unwrap();
        assert_eq!(gh.repo, "acme/gitops");
        let gl = infer_forge("ssh://git@gitlab.example.com:2222/platform/infra/gitops.git").unwrap();
        assert_eq!(gl.kind, ForgeKind::Gitlab);
        assert_eq!(gl.url.as_deref(), Some("https://gitlab.example.com"));
        assert_eq!(gl.repo, "platform/infra/gitops");
        assert!(infer_forge("file:///srv/gitops.git").is_none());
        assert!(infer_forge("https://github.com/acme").is_none());
    }

    #[test]
    fn tokens_are_trimmed_and_broken_ones_named() {
        assert_eq!(check_token("T", "ghp_abc\n").unwrap(), "ghp_abc");
        assert_eq!(check_token("T", "  glpat-x \r\n").unwrap(), "glpat-x");
        let err = check_token("GITINTENT_FORGE_TOKEN", "ghp_a\nghp_b")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("GITINTENT_FORGE_TOKEN") && err.contains("U+000A"),
            "{err}"
        );
        assert!(check_token("T", " \n").is_err());
        assert!(!err.contains("ghp_a"), "the token is never shown: {err}");
    }
}
