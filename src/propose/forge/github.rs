//! GitHub and GitHub Enterprise: `POST /repos/{owner}/{repo}/pulls`.

use serde_json::{json, Value};

use super::http::{answer_error, base_url, check_repo_path, client, encode, first_listed, send};
use super::{Forge, ForgeFuture, PullRequest, PullRequestRequest};
use crate::propose::Error;

/// A GitHub repository reached through the REST API.
pub struct GitHub {
    client: reqwest::Client,
    /// `https://api.github.com`, `https://HOST/api/v3` or `https://api.SUB.ghe.com`.
    api: String,
    owner: String,
    name: String,
    /// The fork holding the branch (`owner`, `owner/name`), when not this repository.
    fork: Option<(String, String)>,
    token: String,
}

impl GitHub {
    /// `url`: `None` for github.com. A GitHub Enterprise Server host
    /// (`https://ghe.example.com`) gets `/api/v3` appended unless present; an
    /// API host (`https://api.acme.ghe.com`, GitHub Enterprise Cloud with data
    /// residency) is used as it is. `repo`: `owner/name`.
    pub fn new(url: Option<&str>, repo: &str, token: String) -> Result<GitHub, Error> {
        let api = match url {
            None => "https://api.github.com".to_string(),
            Some(u) => api_url(&base_url(u)?),
        };
        let (owner, name) = owner_name(repo)?;
        Ok(GitHub {
            client: client()?,
            api,
            owner,
            name,
            fork: None,
            token,
        })
    }

    /// The same, proposing a branch pushed to `fork` (`owner/name`).
    pub fn fork(mut self, fork: Option<&str>) -> Result<GitHub, Error> {
        self.fork = fork.map(owner_name).transpose()?;
        Ok(self)
    }

    fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, url)
            .bearer_auth(&self.token)
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
    }

    /// `head` as GitHub reads it: the branch, or `owner:branch` from a fork.
    fn head(&self, branch: &str) -> String {
        match &self.fork {
            Some((owner, _)) => format!("{owner}:{branch}"),
            None => branch.to_string(),
        }
    }

    async fn create(&self, pr: &PullRequestRequest) -> Result<PullRequest, Error> {
        let url = format!("{}/repos/{}/{}/pulls", self.api, self.owner, self.name);
        let mut body =
            json!({"title": pr.title, "head": self.head(&pr.head), "base": pr.base, "body": pr.body});
        if let Some((owner, name)) = &self.fork {
            // Required when the fork belongs to the same organisation.
            body["head_repo"] = json!(format!("{owner}/{name}"));
        }
        let (status, answer) = send(&url, self.request(reqwest::Method::POST, &url).json(&body)).await?;
        match status {
            201 => parse(&answer, false).ok_or_else(|| answer_error("POST", &url, status, &answer)),
            422 if already_exists(&answer) => self.find(pr).await,
            _ => Err(answer_error("POST", &url, status, &answer)),
        }
    }

    /// The open pull request from `head` into `base`.
    async fn find(&self, pr: &PullRequestRequest) -> Result<PullRequest, Error> {
        let owner = self.fork.as_ref().map_or(&self.owner, |(owner, _)| owner);
        let url = format!(
            "{}/repos/{}/{}/pulls?head={}&base={}&state=open",
            self.api,
            self.owner,
            self.name,
            encode(&format!("{owner}:{}", pr.head)),
            encode(&pr.base)
        );
        let request = self.request(reqwest::Method::GET, &url);
        first_listed(url, request, parse, |_| true, "GitHub said the pull request").await
    }
}

impl Forge for GitHub {
    fn open<'a>(&'a self, pr: &'a PullRequestRequest) -> ForgeFuture<'a> {
        Box::pin(self.create(pr))
    }
}

/// The REST API root for a configured base URL.
fn api_url(base: &str) -> String {
    let host = base
        .split_once("://")
        .map_or(base, |(_, rest)| rest)
        .split(['/', ':'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if host == "github.com" || host == "api.github.com" {
        "https://api.github.com".to_string()
    } else if base.ends_with("/api/v3") || host.starts_with("api.") {
        base.to_string()
    } else {
        format!("{base}/api/v3")
    }
}

fn owner_name(repo: &str) -> Result<(String, String), Error> {
    let segments = check_repo_path(repo, 2)?;
    match segments[..] {
        [owner, name] => Ok((owner.to_string(), name.to_string())),
        _ => Err(Error::ForgeConfig(format!(
            "GitHub repo {repo:?} must be owner/name"
        ))),
    }
}

fn parse(v: &Value, existing: bool) -> Option<PullRequest> {
    Some(PullRequest {
        number: v.get("number")?.as_u64()?,
        url: v.get("html_url")?.as_str()?.to_string(),
        existing,
    })
}

/// GitHub's 422 for a duplicate: `errors: [{message: "A pull request already exists for …"}]`.
fn already_exists(v: &Value) -> bool {
    v.get("errors").and_then(Value::as_array).is_some_and(|errors| {
        errors.iter().any(|e| {
            e.get("message")
                .and_then(Value::as_str)
                .is_some_and(|m| m.contains("already exists"))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enterprise_urls_get_the_api_prefix_and_api_hosts_do_not() {
        let api = |url: Option<&str>| GitHub::new(url, "acme/gitops", "t".into()).unwrap().api;
        assert_eq!(
            api(Some("https://ghe.example.com/")),
            "https://ghe.example.com/api/v3"
        );
        assert_eq!(
            api(Some("https://ghe.example.com/api/v3")),
            "https://ghe.example.com/api/v3"
        );
        assert_eq!(api(Some("https://api.acme.ghe.com")), "https://api.acme.ghe.com");
        assert_eq!(api(Some("https://github.com")), "https://api.github.com");
        assert_eq!(api(None), "https://api.github.com");
        assert!(GitHub::new(None, "acme/a/b", "t".into()).is_err());
        assert!(GitHub::new(Some("http://ghe.example.com"), "acme/gitops", "t".into()).is_err());
    }

    #[test]
    fn duplicate_answers_are_recognised() {
        let dup = json!({"message": "Validation Failed", "errors": [{"resource": "PullRequest", "code": "custom", "message": "A pull request already exists for acme:gitintent/x."}]});
        assert!(already_exists(&dup));
        assert!(!already_exists(
            &json!({"message": "Validation Failed", "errors": [{"code": "invalid", "field": "base"}]})
        ));
    }
}
