//! Slack configuration and access rights: who may plan and propose where.
//!
//! [`SlackConfig`] is the `[slack]` table of the service config. Rights are
//! [`Grant`]s keyed by Slack user id (`U…`) and by channel id (`C…`/`G…`). A
//! request is allowed when **one** grant — the user's or the channel's —
//! covers the repository, the environment and the action together; a user's
//! repo is never combined with a channel's environment. Channel grants give
//! everyone in a private team channel the same rights; user grants follow a
//! person everywhere. Nobody has rights unless listed. The check itself is
//! [`Grant::allows`], the one the service's tokens use.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use super::verify::Clock;
use crate::grant::{Grant, Right};

/// The default and only production prefix for `response_url`s.
pub const SLACK_HOOKS: &str = "https://hooks.slack.com/";

/// The Slack front end's configuration (TOML `[slack]` table, kebab-case keys).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SlackConfig {
    /// The Slack app's signing secret (Basic Information → App Credentials).
    /// Usually set through `GITINTENT_SLACK_SIGNING_SECRET` rather than the file.
    /// Empty means every request is refused.
    #[serde(default)]
    pub signing_secret: String,
    /// The repository used when a command names none (`repo:NAME`).
    #[serde(default)]
    pub default_repo: Option<String>,
    /// Only `response_url`s starting with this are ever posted to. Slack's are
    /// always on `https://hooks.slack.com/`; anything else in a (signed) request
    /// would make the service post to an address of the sender's choosing
    /// (server-side request forgery), so the default is Slack's and only tests
    /// point it at loopback. Must end with `/`.
    #[serde(default = "default_prefix")]
    pub response_url_prefix: String,
    /// Rights per Slack user id.
    #[serde(default, deserialize_with = "grants")]
    pub users: BTreeMap<String, Grant>,
    /// Rights per Slack channel id, for everyone posting in that channel.
    #[serde(default, deserialize_with = "grants")]
    pub channels: BTreeMap<String, Grant>,
    /// The clock request timestamps are checked against (not configurable in TOML).
    #[serde(skip)]
    pub clock: Clock,
}

fn default_prefix() -> String {
    SLACK_HOOKS.to_string()
}

impl Default for SlackConfig {
    fn default() -> Self {
        SlackConfig {
            signing_secret: String::new(),
            default_repo: None,
            response_url_prefix: default_prefix(),
            users: BTreeMap::new(),
            channels: BTreeMap::new(),
            clock: Clock::system(),
        }
    }
}

impl fmt::Debug for SlackConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlackConfig")
            .field(
                "signing_secret",
                &if self.signing_secret.is_empty() {
                    ""
                } else {
                    "[redacted]"
                },
            )
            .field("default_repo", &self.default_repo)
            .field("response_url_prefix", &self.response_url_prefix)
            .field("users", &self.users)
            .field("channels", &self.channels)
            .finish()
    }
}

/// What one user or channel may do, as the `[slack]` table writes it:
/// `repos`, `envs` (`"*"` means any) and `propose` (plans are always allowed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct GrantConfig {
    #[serde(default)]
    repos: Vec<String>,
    #[serde(default)]
    envs: Vec<String>,
    #[serde(default)]
    propose: bool,
}

impl From<GrantConfig> for Grant {
    fn from(c: GrantConfig) -> Grant {
        let mut rights = vec![Right::Plan];
        if c.propose {
            rights.push(Right::Propose);
        }
        Grant {
            repos: c.repos,
            envs: c.envs,
            rights,
            propose_envs: None,
        }
    }
}

/// The `[slack.users]` / `[slack.channels]` tables as [`Grant`]s.
fn grants<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Grant>, D::Error> {
    let configs = BTreeMap::<String, GrantConfig>::deserialize(d)?;
    Ok(configs.into_iter().map(|(k, c)| (k, c.into())).collect())
}

/// A configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("slack.signing-secret is empty; set it or GITINTENT_SLACK_SIGNING_SECRET")]
    NoSecret,
    #[error("slack.response-url-prefix {0:?} must be an http(s) URL ending with '/'")]
    Prefix(String),
}

/// What a request wants to do: a right of a [`Grant`].
pub(crate) use crate::grant::Right as Action;

impl SlackConfig {
    /// Checks what [`router`](super::router) cannot: call it at startup.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.signing_secret.is_empty() {
            return Err(ConfigError::NoSecret);
        }
        let p = &self.response_url_prefix;
        if !(p.starts_with("https://") || p.starts_with("http://")) || !p.ends_with('/') {
            return Err(ConfigError::Prefix(p.clone()));
        }
        Ok(())
    }

    /// True when the user's or the channel's grant covers the request. With
    /// `env` unknown (not yet planned), any environment in the grant will do;
    /// callers check again once the plan has one.
    pub(crate) fn allows(
        &self,
        user: &str,
        channel: &str,
        repo: &str,
        env: Option<&str>,
        action: Action,
    ) -> bool {
        [self.users.get(user), self.channels.get(channel)]
            .into_iter()
            .flatten()
            .any(|g| g.allows(action, repo, env))
    }

    /// Whether `url` may be posted to: it parses, and starts with the prefix.
    pub(crate) fn response_url_allowed(&self, url: &str) -> bool {
        let (Ok(url), Ok(prefix)) = (
            reqwest::Url::parse(url),
            reqwest::Url::parse(&self.response_url_prefix),
        ) else {
            return false;
        };
        url.username().is_empty()
            && url.password().is_none()
            && prefix.as_str().ends_with('/')
            && url.as_str().starts_with(prefix.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> SlackConfig {
        toml::from_str(
            r#"
            signing-secret = "s3cret"
            default-repo = "platform"
            [users.U1]
            repos = ["platform"]
            envs = ["staging", "dev"]
            propose = true
            [users.U2]
            repos = ["*"]
            envs = ["production"]
            [channels.C9]
            repos = ["payments"]
            envs = ["*"]
            "#,
        )
        .unwrap()
    }

    #[test]
    fn one_grant_must_cover_repo_env_and_action_together() {
        let c = config();
        assert!(c.allows("U1", "C0", "platform", Some("staging"), Action::Propose));
        assert!(!c.allows("U1", "C0", "platform", Some("production"), Action::Plan));
        assert!(!c.allows("U1", "C0", "payments", Some("staging"), Action::Plan));
        assert!(c.allows("U2", "C0", "anything", Some("production"), Action::Plan));
        assert!(!c.allows("U2", "C0", "anything", Some("production"), Action::Propose));
        // The channel grants payments anywhere, but not U1's staging on platform x payments.
        assert!(c.allows("U1", "C9", "payments", Some("qa"), Action::Plan));
        assert!(!c.allows("U1", "C9", "payments", Some("qa"), Action::Propose));
        assert!(!c.allows("U3", "C0", "platform", None, Action::Plan));
        assert!(c.allows("U1", "C0", "platform", None, Action::Plan));
    }

    #[test]
    fn response_urls_must_sit_under_the_prefix() {
        let c = config();
        assert_eq!(c.response_url_prefix, SLACK_HOOKS);
        assert!(c.response_url_allowed("https://hooks.slack.com/commands/T1/2/x"));
        assert!(c.response_url_allowed("HTTPS://HOOKS.SLACK.COM/actions/T1/2/x"));
        for bad in [
            "https://hooks.slack.com.evil.test/commands",
            "https://evil.test/https://hooks.slack.com/",
            "http://hooks.slack.com/commands/T1",
            "https://user@hooks.slack.com/commands/T1",
            "https://hooks.slack.com:8443/commands/T1",
            "http://127.0.0.1:9/",
            "not a url",
        ] {
            assert!(!c.response_url_allowed(bad), "{bad}");
        }
    }

    #[test]
    fn unknown_keys_and_bad_prefixes_are_refused() {
        assert!(toml::from_str::<SlackConfig>("signing_secret = 'x'").is_err());
        let mut c = config();
        assert_eq!(c.check(), Ok(()));
        c.response_url_prefix = "https://hooks.slack.com".into();
        assert!(matches!(c.check(), Err(ConfigError::Prefix(_))));
        c.signing_secret.clear();
        assert_eq!(c.check(), Err(ConfigError::NoSecret));
    }

    #[test]
    fn debug_never_prints_the_secret() {
        assert!(!format!("{:?}", config()).contains("s3cret"));
    }
}
