//! Grant: what one holder — a service token, a Slack user or channel, the
//! local MCP server — may do: which repositories, which environments, which
//! rights. The authorization check is written here once; the service's
//! `Caller` and the Slack router both ask a [`Grant`].
//!
//! `"*"` in `repos` or `envs` means any. Plan and propose are separate rights;
//! proposals may be limited to fewer environments than plans
//! (`propose_envs`). With the environment not known yet (a plan not yet
//! made), any environment in the grant will do; callers check again once the
//! plan names one.
//!
//! It does not authenticate (tokens: `serve::auth`; Slack: request signatures)
//! and does not read configuration files: each front end maps its own
//! configuration shape onto a `Grant`.

use serde::Deserialize;

/// A separate right of a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Right {
    /// Plan (and read plans and drift).
    Plan,
    /// Propose: branch, push, pull request.
    Propose,
}

/// Repositories, environments and rights.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grant {
    /// Repository names (as in the service's `[[repos]]`) this grant covers.
    pub repos: Vec<String>,
    /// Environments this grant covers.
    pub envs: Vec<String>,
    pub rights: Vec<Right>,
    /// Environments proposals are limited to, when narrower than `envs`.
    pub propose_envs: Option<Vec<String>>,
}

fn covers(list: &[String], item: &str) -> bool {
    list.iter().any(|x| x == "*" || x == item)
}

impl Grant {
    /// `rights` on every repository and environment.
    pub fn everything(rights: &[Right]) -> Grant {
        Grant {
            repos: vec!["*".into()],
            envs: vec!["*".into()],
            rights: rights.to_vec(),
            propose_envs: None,
        }
    }

    /// Does the grant cover `repo` at all (reading its plans)?
    pub fn may_read(&self, repo: &str) -> bool {
        covers(&self.repos, repo)
    }

    /// Does the grant hold `right` somewhere?
    pub fn has(&self, right: Right) -> bool {
        self.rights.contains(&right)
    }

    /// Does the grant allow `right` on `repo` in `env`? With `env` unknown,
    /// any environment the grant covers for that right will do.
    pub fn allows(&self, right: Right, repo: &str, env: Option<&str>) -> bool {
        let envs = match (right, &self.propose_envs) {
            (Right::Propose, Some(narrower)) => narrower,
            _ => &self.envs,
        };
        self.has(right)
            && self.may_read(repo)
            && match env {
                Some(env) => covers(envs, env),
                None => !envs.is_empty(),
            }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(repos: &[&str], envs: &[&str], rights: &[Right]) -> Grant {
        Grant {
            repos: repos.iter().map(|s| s.to_string()).collect(),
            envs: envs.iter().map(|s| s.to_string()).collect(),
            rights: rights.to_vec(),
            propose_envs: None,
        }
    }

    #[test]
    fn repository_environment_and_right_must_all_be_covered() {
        let g = grant(&["platform"], &["staging", "dev"], &[Right::Plan]);
        assert!(g.allows(Right::Plan, "platform", Some("staging")));
        assert!(!g.allows(Right::Propose, "platform", Some("staging")));
        assert!(!g.allows(Right::Plan, "payments", Some("staging")));
        assert!(!g.allows(Right::Plan, "platform", Some("production")));
        assert!(g.allows(Right::Plan, "platform", None));
        assert!(g.may_read("platform") && !g.may_read("payments"));
        let nowhere = grant(&["*"], &[], &[Right::Plan]);
        assert!(!nowhere.allows(Right::Plan, "platform", None));
        assert!(nowhere.may_read("anything"));
    }

    #[test]
    fn proposals_may_be_narrower_than_plans() {
        let g = Grant {
            propose_envs: Some(vec!["staging".into()]),
            ..grant(&["*"], &["*"], &[Right::Plan, Right::Propose])
        };
        assert!(g.allows(Right::Plan, "x", Some("production")));
        assert!(!g.allows(Right::Propose, "x", Some("production")));
        assert!(g.allows(Right::Propose, "x", Some("staging")));
        let none = Grant {
            propose_envs: Some(Vec::new()),
            ..g
        };
        assert!(!none.allows(Right::Propose, "x", None));
        assert!(none.has(Right::Propose));
        assert!(Grant::everything(&[Right::Plan]).allows(Right::Plan, "x", Some("y")));
    }
}
