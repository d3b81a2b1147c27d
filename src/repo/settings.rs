//! The `author:` and `forge:` settings of `.gitintent.yaml`, as plain data.
//!
//! They live here, beside [`super::RepoConfig`] that holds them, so the
//! repository layer needs nothing from `crate::propose`; `propose` gives them
//! their behaviour (`Author::from_env_or`, `ForgeConfig::ready`, …) and
//! re-exports them.

use serde::{Deserialize, Serialize};

/// A commit author, from `.gitintent.yaml` (`author: {name, email}`) or the environment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Author {
    pub name: String,
    pub email: String,
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
    /// `owner/name` (GitHub) or the project path `group/subgroup/name` (GitLab):
    /// where the pull request is opened.
    pub repo: String,
    /// The fork the branch is pushed to, when it is not `repo`: `owner/name`
    /// (GitHub) or `group/name` (GitLab).
    #[serde(default)]
    pub fork: Option<String>,
    /// How the token is sent to GitLab: `private-token` (default; personal,
    /// project and group access tokens) or `oauth` (`Authorization: Bearer`).
    /// GitHub always takes `Bearer`.
    #[serde(default)]
    pub auth: Option<ForgeAuth>,
}

/// How a GitLab token is presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForgeAuth {
    /// `PRIVATE-TOKEN: …`.
    PrivateToken,
    /// `Authorization: Bearer …` (OAuth 2 access tokens).
    Oauth,
}
