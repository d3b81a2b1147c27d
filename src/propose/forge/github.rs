//! GitHub and GitHub Enterprise: `POST /repos/{owner}/{repo}/pulls`.

use serde_json::{json, Value};

use super::{
    answer_error, base_url, check_repo_path, client, encode, first_listed, send, Forge, ForgeFuture,
};
use super::{PullRequest, PullRequestRequest};
use crate::propose::Error;

/// A GitHub repository reached through the REST API.
pub struct GitHub {
    client: reqwest::Client,
    /// `https://api.github.com` or `https://HOST/api/v3`.
    api: String,
    owner: String,
    name: String,
    token: String,
}

impl GitHub {
    /// `url`: `None` for github.com; a GitHub Enterprise host (`https://ghe.example.com`,
    /// `/api/v3` is appended unless present). `repo`: `owner/name`.
    pub fn new(url: Option<&str>, repo: &str, token: String) -> Result<GitHub, Error> {
        let api = match url {
            None => "https://api.github.com".to_string(),
            Some(u) => {
                let u = base_url(u)?;
                if u == "https://github.com" || u == "https://api.github.com" {
                    "https://api.github.com".to_string()
                } else if u.ends_with("/api/v3") {
                    u
                } else {
                    format!("{u}/api/v3")
                }
            }
        };
        let segments = check_repo_path(repo, 2)?;
        if segments.len() != 2 {
            return Err(Error::ForgeConfig(format!(
                "GitHub repo {repo:?} must be owner/name"
            )));
        }
        Ok(GitHub {
            client: client()?,
            api,
            owner: segments[0].to_string(),
            name: segments[1].to_string(),
            token,
        })
    }

    fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, url)
            .bearer_auth(&self.token)
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
    }

    async fn create(&self, pr: &PullRequestRequest) -> Result<PullRequest, Error> {
        let url = format!("{}/repos/{}/{}/pulls", self.api, self.owner, self.name);
        let body = json!({"title": pr.title, "head": pr.head, "base": pr.base, "body": pr.body});
        let (status, answer) = send(&url, self.request(reqwest::Method::POST, &url).json(&body)).await?;
        match status {
            201 => parse(&answer, false).ok_or_else(|| answer_error("POST", &url, status, &answer)),
            422 if already_exists(&answer) => self.find(pr).await,
            _ => Err(answer_error("POST", &url, status, &answer)),
        }
    }

    /// The open pull request from `head` into `base`.
    async fn find(&self, pr: &PullRequestRequest) -> Result<PullRequest, Error> {
        let url = format!(
            "{}/repos/{}/{}/pulls?head={}&base={}&state=open",
            self.api,
            self.owner,
            self.name,
            encode(&format!("{}:{}", self.owner, pr.head)),
            encode(&pr.base)
        );
        let request = self.request(reqwest::Method::GET, &url);
        first_listed(url, request, parse, "GitHub said the pull request").await
    }
}

impl Forge for GitHub {
    fn open<'a>(&'a self, pr: &'a PullRequestRequest) -> ForgeFuture<'a> {
        Box::pin(self.create(pr))
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
    fn enterprise_urls_get_the_api_prefix() {
        let gh = GitHub::new(Some("https://ghe.example.com/"), "acme/gitops", "t".into()).unwrap();
        assert_eq!(gh.api, "https://ghe.example.com/api/v3");
        let gh = GitHub::new(Some("https://ghe.example.com/api/v3"), "acme/gitops", "t".into()).unwrap();
        assert_eq!(gh.api, "https://ghe.example.com/api/v3");
        let gh = GitHub::new(None, "acme/gitops", "t".into()).unwrap();
        assert_eq!(gh.api, "https://api.github.com");
        assert!(GitHub::new(None, "acme/a/b", "t".into()).is_err());
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
