//! Pull requests through a [`Forge`]: GitHub (REST) and GitLab (merge requests).
//!
//! Both accept a self-hosted base URL (GitHub Enterprise, self-managed GitLab). Opening
//! a request that already exists (GitHub 422, GitLab 409) finds and returns the open
//! one instead, so re-proposing never piles up duplicates. The token is never logged
//! and never part of an error message.
//!
//! It does not push: the branch must already be on the forge's repository.

mod describe;
mod github;
mod gitlab;

pub use describe::{body, describe_change, summary};
pub use github::GitHub;
pub use gitlab::GitLab;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Error;

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

/// Which forge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ForgeKind {
    Github,
    Gitlab,
}

/// `forge:` in `.gitintent.yaml`; the token comes from the environment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ForgeConfig {
    pub kind: ForgeKind,
    /// Base URL: `https://github.example.com` (GitHub Enterprise; `/api/v3` is added) or
    /// `https://gitlab.example.com`. Default: github.com's API or gitlab.com.
    #[serde(default)]
    pub url: Option<String>,
    /// `owner/name` (GitHub) or the project path `group/subgroup/name` (GitLab).
    pub repo: String,
}

impl ForgeConfig {
    /// `GITINTENT_FORGE_TOKEN`, else `GITHUB_TOKEN` or `GITLAB_TOKEN` by kind.
    pub fn token_from_env(&self) -> Result<String, Error> {
        let fallback = match self.kind {
            ForgeKind::Github => "GITHUB_TOKEN",
            ForgeKind::Gitlab => "GITLAB_TOKEN",
        };
        ["GITINTENT_FORGE_TOKEN", fallback]
            .iter()
            .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
            .ok_or_else(|| {
                Error::ForgeConfig(format!(
                    "no token to open a pull request: set GITINTENT_FORGE_TOKEN (or {fallback})"
                ))
            })
    }

    /// The forge client for this config.
    pub fn build(&self, token: String) -> Result<Box<dyn Forge>, Error> {
        Ok(match self.kind {
            ForgeKind::Github => Box::new(GitHub::new(self.url.as_deref(), &self.repo, token)?),
            ForgeKind::Gitlab => Box::new(GitLab::new(self.url.as_deref(), &self.repo, token)?),
        })
    }
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
    Some(ForgeConfig { kind, url, repo })
}

/// The HTTP client every forge uses.
fn client() -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .user_agent(concat!("gitintent/", env!("CARGO_PKG_VERSION")))
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|source| Error::ForgeHttp {
            url: String::new(),
            source,
        })
}

/// Checks an `owner/name` style path: non-empty segments of safe characters.
fn check_repo_path(repo: &str, min_segments: usize) -> Result<Vec<&str>, Error> {
    let segments: Vec<&str> = repo.split('/').collect();
    let ok = segments.len() >= min_segments
        && segments.iter().all(|s| {
            !s.is_empty()
                && *s != "."
                && *s != ".."
                && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        });
    if ok {
        Ok(segments)
    } else {
        Err(Error::ForgeConfig(format!(
            "repo {repo:?} is not an owner/name path"
        )))
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A base URL without a trailing slash, http(s) only.
fn base_url(url: &str) -> Result<String, Error> {
    let url = url.trim_end_matches('/');
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(Error::ForgeConfig(format!(
            "forge url {url:?} must start with https://"
        )));
    }
    Ok(url.to_string())
}

/// Sends one request and returns status and JSON body (`Null` when not JSON).
async fn send(url: &str, request: reqwest::RequestBuilder) -> Result<(u16, serde_json::Value), Error> {
    let http = |source| Error::ForgeHttp {
        url: url.to_string(),
        source,
    };
    let response = request.send().await.map_err(http)?;
    let status = response.status().as_u16();
    let bytes = response.bytes().await.map_err(http)?;
    Ok((
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    ))
}

/// The first item a forge lists at `url` (GET), parsed; `what` names it in the
/// message ("GitHub said the pull request") when the forge said it exists but lists none.
async fn first_listed(
    url: String,
    request: reqwest::RequestBuilder,
    parse: fn(&serde_json::Value, bool) -> Option<PullRequest>,
    what: &str,
) -> Result<PullRequest, Error> {
    let (status, answer) = send(&url, request).await?;
    if status != 200 {
        return Err(answer_error("GET", &url, status, &answer));
    }
    answer
        .as_array()
        .and_then(|list| list.first())
        .and_then(|first| parse(first, true))
        .ok_or_else(|| Error::Forge {
            method: "GET",
            url,
            status,
            message: format!("{what} exists but did not list it"),
        })
}

/// An error answer, with the forge's own message when it sent one.
fn answer_error(method: &'static str, url: &str, status: u16, body: &serde_json::Value) -> Error {
    let message = body
        .get("message")
        .map(|m| match m {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .or_else(|| body.get("error").map(|e| e.to_string()))
        .unwrap_or_else(|| "no details".to_string());
    Error::Forge {
        method,
        url: url.to_string(),
        status,
        message,
    }
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
    fn encoding_and_repo_paths() {
        assert_eq!(encode("group/sub/proj"), "group%2Fsub%2Fproj");
        assert_eq!(encode("gitintent/a-1"), "gitintent%2Fa-1");
        assert!(check_repo_path("acme/gitops", 2).is_ok());
        for bad in ["acme", "acme/../x", "acme//x", "acme/x?y"] {
            assert!(check_repo_path(bad, 2).is_err(), "{bad}");
        }
        assert!(base_url("ftp://x").is_err());
    }
}
