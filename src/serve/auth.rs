//! Bearer-token authentication and per-repository, per-environment rights.
//!
//! The config holds only SHA-256 hashes of tokens. [`Auth::authenticate`]
//! hashes the presented token and compares it with every configured hash in
//! constant time (no early exit, so timing reveals neither which token nor
//! how much of it matched). A [`Caller`] then answers `may_plan` and
//! `may_propose` per repository and environment from its [`Grant`] (the one
//! authorization check, shared with Slack); the two rights are separate.
//!
//! It does not issue tokens at run time or expire them; `gitintent token
//! create` prints a new token and the config block holding its hash.

use sha2::{Digest, Sha256};

use super::config::TokenConfig;
use crate::grant::{Grant, Right};

/// Why a request is not authenticated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("missing bearer token: send `Authorization: Bearer <token>`")]
    Missing,
    #[error("the Authorization header is not `Bearer <token>`")]
    Malformed,
    #[error("unknown or revoked token")]
    Unknown,
}

/// Who is asking, and what they may do.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token name (or `anonymous`), recorded as the requester.
    pub name: String,
    grant: Grant,
}

impl Caller {
    /// A caller with every right, for `--insecure-no-auth`.
    pub fn anonymous() -> Caller {
        Caller::new("anonymous", Grant::everything(&[Right::Plan, Right::Propose]))
    }

    /// A caller holding `grant` (a token's, a Slack mapping's, the local MCP server's).
    pub fn new(name: &str, grant: Grant) -> Caller {
        Caller {
            name: name.to_string(),
            grant,
        }
    }

    /// May this caller use `repo` at all (for reading plans)?
    pub fn may_read(&self, repo: &str) -> bool {
        self.grant.may_read(repo)
    }

    /// May this caller plan for `repo`, and for `env` when it is known?
    pub fn may_plan(&self, repo: &str, env: Option<&str>) -> bool {
        self.grant.allows(Right::Plan, repo, env)
    }

    /// Has this caller the propose right at all (somewhere)?
    pub fn may_propose_somewhere(&self) -> bool {
        self.grant.has(Right::Propose)
    }

    /// May this caller propose a plan for `repo` in `env`?
    pub fn may_propose(&self, repo: &str, env: &str) -> bool {
        self.grant.allows(Right::Propose, repo, Some(env))
    }
}

/// The configured tokens.
#[derive(Debug, Clone)]
pub struct Auth {
    tokens: Vec<([u8; 32], TokenConfig)>,
    insecure: bool,
}

impl Auth {
    /// Tokens from the config; `insecure` lets requests *without* a token
    /// through. A presented token must always be valid: a wrong one is never
    /// taken for "no token" (with `--insecure-no-auth` and tokens configured,
    /// it would otherwise get every right).
    pub fn new(tokens: &[TokenConfig], insecure: bool) -> Auth {
        let tokens = tokens
            .iter()
            .filter_map(|t| {
                let bytes = hex::decode(&t.sha256).ok()?;
                let hash: [u8; 32] = bytes.try_into().ok()?;
                Some((hash, t.clone()))
            })
            .collect();
        Auth { tokens, insecure }
    }

    /// Checks an `Authorization` header value.
    pub fn authenticate(&self, header: Option<&str>) -> Result<Caller, Error> {
        let Some(header) = header else {
            return if self.insecure {
                Ok(Caller::anonymous())
            } else {
                Err(Error::Missing)
            };
        };
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(Error::Malformed)?;
        let presented: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut found = None;
        for (hash, config) in &self.tokens {
            if constant_time_eq(hash, &presented) {
                found = Some(config);
            }
        }
        found
            .map(|t| Caller::new(&t.name, t.grant()))
            .ok_or(Error::Unknown)
    }
}

/// Equal-length byte comparison whose time does not depend on the contents.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// SHA-256 of a token, lowercase hex: what the config stores.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new random token: `gi_` and 32 random bytes in hex.
pub fn generate() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("gi_{}", hex::encode(bytes)))
}

/// The `[[token]]` block for a new token.
pub fn config_block(name: &str, token: &str, repos: &[String], envs: &[String], propose: bool) -> String {
    let list = |items: &[String]| {
        let items: Vec<String> = if items.is_empty() {
            vec!["\"*\"".into()]
        } else {
            items.iter().map(|i| format!("{i:?}")).collect()
        };
        format!("[{}]", items.join(", "))
    };
    let rights = if propose {
        "[\"plan\", \"propose\"]"
    } else {
        "[\"plan\"]"
    };
    format!(
        "[[token]]\nname = {name:?}\nsha256 = \"{}\"\nrepos = {}\nenvs = {}\nrights = {rights}\n",
        hash(token),
        list(repos),
        list(envs)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(
        name: &str,
        secret: &str,
        envs: &[&str],
        rights: &[Right],
        propose_envs: Option<&[&str]>,
    ) -> TokenConfig {
        TokenConfig {
            name: name.into(),
            sha256: hash(secret),
            repos: vec!["platform".into()],
            envs: envs.iter().map(|s| s.to_string()).collect(),
            rights: rights.to_vec(),
            propose_envs: propose_envs.map(|e| e.iter().map(|s| s.to_string()).collect()),
        }
    }

    #[test]
    fn tokens_are_matched_by_hash_and_rights_are_separate() {
        let auth = Auth::new(
            &[token(
                "ci",
                "gi_one",
                &["staging", "production"],
                &[Right::Plan, Right::Propose],
                Some(&["staging"]),
            )],
            false,
        );
        let c = auth.authenticate(Some("Bearer gi_one")).unwrap();
        assert_eq!(c.name, "ci");
        assert!(c.may_plan("platform", Some("production")));
        assert!(c.may_propose("platform", "staging"));
        assert!(!c.may_propose("platform", "production"));
        assert!(!c.may_plan("other", None));
        assert_eq!(
            auth.authenticate(Some("Bearer gi_two")).unwrap_err(),
            Error::Unknown
        );
        assert_eq!(auth.authenticate(None).unwrap_err(), Error::Missing);
        assert_eq!(
            auth.authenticate(Some("Basic abc")).unwrap_err(),
            Error::Malformed
        );
    }

    #[test]
    fn insecure_mode_lets_no_token_through_but_never_a_wrong_one() {
        let auth = Auth::new(&[token("ci", "gi_one", &["staging"], &[Right::Plan], None)], true);
        assert_eq!(auth.authenticate(None).unwrap().name, "anonymous");
        assert_eq!(auth.authenticate(Some("Bearer gi_one")).unwrap().name, "ci");
        assert_eq!(
            auth.authenticate(Some("Bearer gi_wrong")).unwrap_err(),
            Error::Unknown
        );
        let tokenless = Auth::new(&[], true);
        assert_eq!(
            tokenless.authenticate(Some("Bearer anything")).unwrap_err(),
            Error::Unknown
        );
    }

    #[test]
    fn generated_tokens_are_random_and_their_block_holds_only_the_hash() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert!(a.starts_with("gi_") && a.len() == 67 && a != b);
        let block = config_block("alice", &a, &["platform".into()], &[], true);
        assert!(!block.contains(&a[3..]));
        assert!(block.contains(&hash(&a)));
        let parsed: std::collections::HashMap<String, Vec<TokenConfig>> = toml::from_str(&block).unwrap();
        assert_eq!(parsed["token"][0].rights, vec![Right::Plan, Right::Propose]);
    }

    #[test]
    fn comparison_needs_equal_bytes() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
