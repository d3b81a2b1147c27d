//! GitLab (gitlab.com or self-managed): `POST /api/v4/projects/{path}/merge_requests`.
//!
//! A branch pushed to a fork is proposed from the fork's project with
//! `target_project_id` (both ids read with `GET /projects/{path}`); looking for
//! an existing merge request keeps only those whose source project is ours,
//! so a fork's request with the same branch name is never taken for it.

use serde_json::{json, Value};

use super::http::{answer_error, base_url, check_repo_path, client, encode, first_listed, send};
use super::{Forge, ForgeAuth, ForgeFuture, PullRequest, PullRequestRequest};
use crate::propose::Error;

/// A GitLab project reached through the REST API v4.
pub struct GitLab {
    client: reqwest::Client,
    /// `https://gitlab.com/api/v4` or `https://HOST/api/v4`.
    api: String,
    /// The target project's path (`group/sub/name`).
    project: String,
    /// The fork's project path, when the branch is pushed there.
    fork: Option<String>,
    auth: ForgeAuth,
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
            project: repo.to_string(),
            fork: None,
            auth: ForgeAuth::PrivateToken,
            token,
        })
    }

    /// The same, proposing a branch pushed to the project `fork`.
    pub fn fork(mut self, fork: Option<&str>) -> Result<GitLab, Error> {
        if let Some(fork) = fork {
            check_repo_path(fork, 2)?;
        }
        self.fork = fork.map(str::to_string);
        Ok(self)
    }

    /// The same, presenting the token as `auth` says.
    pub fn auth(mut self, auth: ForgeAuth) -> GitLab {
        self.auth = auth;
        self
    }

    fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        let request = self.client.request(method, url);
        match self.auth {
            ForgeAuth::PrivateToken => request.header("PRIVATE-TOKEN", &self.token),
            ForgeAuth::Oauth => request.bearer_auth(&self.token),
        }
    }

    async fn create(&self, pr: &PullRequestRequest) -> Result<PullRequest, Error> {
        let mut body = json!({
            "source_branch": pr.head,
            "target_branch": pr.base,
            "title": pr.title,
            "description": pr.body,
            "remove_source_branch": true,
        });
        let source = match &self.fork {
            Some(fork) => {
                body["target_project_id"] = json!(self.project_id(&self.project).await?);
                fork
            }
            None => &self.project,
        };
        let url = format!("{}/projects/{}/merge_requests", self.api, encode(source));
        let (status, answer) = send(&url, self.request(reqwest::Method::POST, &url).json(&body)).await?;
        match status {
            201 => parse(&answer, false).ok_or_else(|| answer_error("POST", &url, status, &answer)),
            409 => self.find(pr).await,
            _ => Err(answer_error("POST", &url, status, &answer)),
        }
    }

    /// The open merge request from our `head` into `base`.
    async fn find(&self, pr: &PullRequestRequest) -> Result<PullRequest, Error> {
        let url = format!(
            "{}/projects/{}/merge_requests?source_branch={}&target_branch={}&state=opened",
            self.api,
            encode(&self.project),
            encode(&pr.head),
            encode(&pr.base)
        );
        let fork_id = match &self.fork {
            Some(fork) => Some(self.project_id(fork).await?),
            None => None,
        };
        let ours = move |mr: &Value| {
            let (source, target) = (
                mr.get("source_project_id").and_then(Value::as_u64),
                mr.get("target_project_id").and_then(Value::as_u64),
            );
            match (fork_id, source) {
                (Some(fork), Some(source)) => source == fork,
                (Some(_), None) => false,
                // Not from a fork: the source project is the target project.
                (None, Some(source)) => target.is_none_or(|t| t == source),
                (None, None) => true,
            }
        };
        let request = self.request(reqwest::Method::GET, &url);
        first_listed(url, request, parse, ours, "GitLab said the merge request").await
    }

    /// The numeric id of the project at `path`.
    async fn project_id(&self, path: &str) -> Result<u64, Error> {
        let url = format!("{}/projects/{}", self.api, encode(path));
        let (status, answer) = send(&url, self.request(reqwest::Method::GET, &url)).await?;
        match (status, answer.get("id").and_then(Value::as_u64)) {
            (200, Some(id)) => Ok(id),
            _ => Err(answer_error("GET", &url, status, &answer)),
        }
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
    fn project_paths_are_kept_and_hosts_checked() {
        let gl = GitLab::new(
            Some("https://git.example.com/"),
            "platform/infra/gitops",
            "t".into(),
        )
        .unwrap();
        assert_eq!(gl.api, "https://git.example.com/api/v4");
        assert_eq!(encode(&gl.project), "platform%2Finfra%2Fgitops");
        let gl = GitLab::new(None, "a/b", "t".into()).unwrap();
        assert_eq!(gl.api, "https://gitlab.com/api/v4");
        assert!(GitLab::new(Some("http://git.example.com"), "a/b", "t".into()).is_err());
        assert!(GitLab::new(None, "a/b", "t".into())
            .unwrap()
            .fork(Some("x"))
            .is_err());
    }
}
