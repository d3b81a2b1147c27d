//! GitLab (gitlab.com or self-managed): `POST /api/v4/projects/{path}/merge_requests`.

use serde_json::{json, Value};

use super::{
    answer_error, base_url, check_repo_path, client, encode, first_listed, send, Forge, ForgeFuture,
};
use super::{PullRequest, PullRequestRequest};
use crate::propose::Error;

/// A GitLab project reached through the REST API v4.
pub struct GitLab {
    client: reqwest::Client,
    /// `https://gitlab.com/api/v4` or `https://HOST/api/v4`.
    api: String,
    /// The URL-encoded project path (`group%2Fsub%2Fname`).
    project: String,
    token: String,
}

impl GitLab {
    /// `url`: `None` for gitlab.com, else the instance's base URL. `repo`: the project
    /// path with its groups (`platform/infra/gitops`).
    pub fn new(url: Option<&str>, repo: &str, token: String) -> Result<GitLab, Error> {
        let base = base_url(url.unwrap_or("https://gitlab.com"))?;
        check_repo_path(repo, 2)?;
        Ok(GitLab {
            client: client()?,
            api: format!("{}/api/v4", base.trim_end_matches("/api/v4")),
            project: encode(repo),
            token,
        })
    }

    fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, url)
            .header("PRIVATE-TOKEN", &self.token)
    }

    async fn create(&self, pr: &PullRequestRequest) -> Result<PullRequest, Error> {
        let url = format!("{}/projects/{}/merge_requests", self.api, self.project);
        let body = json!({
            "source_branch": pr.head,
            "target_branch": pr.base,
            "title": pr.title,
            "description": pr.body,
            "remove_source_branch": true,
        });
        let (status, answer) = send(&url, self.request(reqwest::Method::POST, &url).json(&body)).await?;
        match status {
            201 => parse(&answer, false).ok_or_else(|| answer_error("POST", &url, status, &answer)),
            409 => self.find(pr).await,
            _ => Err(answer_error("POST", &url, status, &answer)),
        }
    }

    /// The open merge request from `head` into `base`.
    async fn find(&self, pr: &PullRequestRequest) -> Result<PullRequest, Error> {
        let url = format!(
            "{}/projects/{}/merge_requests?source_branch={}&target_branch={}&state=opened",
            self.api,
            self.project,
            encode(&pr.head),
            encode(&pr.base)
        );
        let request = self.request(reqwest::Method::GET, &url);
        first_listed(url, request, parse, "GitLab said the merge request").await
    }
}

impl Forge for GitLab {
    fn open<'a>(&'a self, pr: &'a PullRequestRequest) -> ForgeFuture<'a> {
        Box::pin(self.create(pr))
    }
}

fn parse(v: &Value, existing: bool) -> Option<PullRequest> {
    Some(PullRequest {
        number: v.get("iid")?.as_u64()?,
        url: v.get("web_url")?.as_str()?.to_string(),
        existing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_paths_are_encoded_and_hosts_kept() {
        let gl = GitLab::new(
            Some("https://git.example.com/"),
            "platform/infra/gitops",
            "t".into(),
        )
        .unwrap();
        assert_eq!(gl.api, "https://git.example.com/api/v4");
        assert_eq!(gl.project, "platform%2Finfra%2Fgitops");
        let gl = GitLab::new(None, "a/b", "t".into()).unwrap();
        assert_eq!(gl.api, "https://gitlab.com/api/v4");
    }
}
