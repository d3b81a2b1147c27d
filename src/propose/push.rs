//! Push a proposal branch with git2: `file://`, `git://`, HTTPS and SSH.
//!
//! Credentials come from [`Credentials`] (config or environment), chosen per what the
//! server allows ([`select_credential`]): a token as HTTPS basic auth, an SSH key file,
//! ssh-agent, then git's credential helpers. Each is tried once, so a wrong credential
//! fails instead of looping. A remote's refusal (non-fast-forward, hooks, protected
//! branch) arrives through `push_update_reference` and becomes [`Error::Rejected`].
//!
//! It pushes exactly one branch and never fetches, merges or touches a working tree.

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};

use git2::{Cred, CredentialType, Oid, RemoteCallbacks};

use super::Error;

/// Where and how to push.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// A configured remote (`origin`) or a URL (`file:///srv/gitops.git`, `https://…`).
    pub remote: String,
    pub credentials: Credentials,
    /// Replace the remote branch even when the push is not a fast-forward (`--rebase`).
    pub force: bool,
    /// With `force`: replace it only while it is at this commit (or absent), like
    /// `git push --force-with-lease`; someone else's commits are never overwritten.
    pub lease: Option<String>,
}

/// Credentials for pushing. Secrets never appear in `Debug` output.
#[derive(Clone, Default)]
pub struct Credentials {
    /// HTTPS token (GitHub, GitLab, Gitea…), sent as the password.
    pub token: Option<String>,
    /// Username for the token (default `x-access-token`) or for SSH (default from the URL, else `git`).
    pub username: Option<String>,
    /// A private key file for SSH; without it ssh-agent is used.
    pub ssh_key: Option<PathBuf>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("username", &self.username)
            .field("ssh_key", &self.ssh_key)
            .finish()
    }
}

impl Credentials {
    /// `GITINTENT_GIT_TOKEN`, `GITINTENT_GIT_USERNAME`, `GITINTENT_SSH_KEY`.
    pub fn from_env() -> Credentials {
        let var = |k| std::env::var(k).ok().filter(|v: &String| !v.is_empty());
        Credentials {
            token: var("GITINTENT_GIT_TOKEN"),
            username: var("GITINTENT_GIT_USERNAME"),
            ssh_key: var("GITINTENT_SSH_KEY").map(PathBuf::from),
        }
    }
}

/// Which credential to offer for one request of the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialChoice {
    /// HTTPS basic auth with a token as the password.
    Token { username: String },
    /// An SSH key file.
    SshKey { username: String, path: PathBuf },
    /// Keys held by ssh-agent.
    SshAgent { username: String },
    /// Only a username (SSH asks for it before the key).
    Username(String),
    /// git's configured credential helpers.
    Helper,
    /// Negotiated (NTLM/Kerberos) credentials.
    Default,
    /// Nothing (left) to offer.
    Nothing,
}

/// Picks the credential for the `attempt`-th request (from 0) the server makes for `url`.
///
/// Every candidate is offered once; when they run out the push fails with a clear
/// error instead of libgit2 asking forever.
pub fn select_credential(
    creds: &Credentials,
    username_from_url: Option<&str>,
    allowed: CredentialType,
    attempt: usize,
) -> CredentialChoice {
    let mut candidates = Vec::new();
    if allowed.contains(CredentialType::USERNAME) {
        let user = username_from_url.or(creds.username.as_deref()).unwrap_or("git");
        candidates.push(CredentialChoice::Username(user.to_string()));
    } else if allowed.contains(CredentialType::SSH_KEY) {
        let username = username_from_url
            .or(creds.username.as_deref())
            .unwrap_or("git")
            .to_string();
        if let Some(path) = &creds.ssh_key {
            candidates.push(CredentialChoice::SshKey {
                username: username.clone(),
                path: path.clone(),
            });
        }
        candidates.push(CredentialChoice::SshAgent { username });
    } else if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
        if creds.token.is_some() {
            let username = creds.username.as_deref().unwrap_or("x-access-token").to_string();
            candidates.push(CredentialChoice::Token { username });
        }
        candidates.push(CredentialChoice::Helper);
    } else if allowed.contains(CredentialType::DEFAULT) {
        candidates.push(CredentialChoice::Default);
    }
    candidates
        .into_iter()
        .nth(attempt)
        .unwrap_or(CredentialChoice::Nothing)
}

/// Pushes `refs/heads/<branch>` to the same name on `opts.remote` (blocking; git2).
///
/// A refused update is [`Error::Rejected`] (with `non_fast_forward` set when the remote
/// branch has commits we lack); an unreachable remote or failed authentication is
/// [`Error::Push`]. Nothing changes locally except the remote-tracking ref of a named
/// remote after a successful push.
pub fn push(repo: &Path, branch: &str, opts: &PushOptions) -> Result<(), Error> {
    let repo = super::commit::open(repo)?;
    let refname = format!("refs/heads/{branch}");
    repo.find_reference(&refname)
        .map_err(Error::git(format!("find {refname} to push")))?;
    let mut remote = find_remote(&repo, &opts.remote)?;
    let attempts = Cell::new(0usize);
    let rejected: RefCell<Option<String>> = RefCell::new(None);
    let mut callbacks = RemoteCallbacks::new();
    callbacks.credentials(|url, username, allowed| {
        let attempt = attempts.get();
        attempts.set(attempt + 1);
        let choice = select_credential(&opts.credentials, username, allowed, attempt);
        offer(choice, &opts.credentials, &repo, url)
    });
    callbacks.push_update_reference(|_, status| {
        if let Some(reason) = status {
            *rejected.borrow_mut() = Some(reason.to_string());
        }
        Ok(())
    });
    // The lease: the remote's current value is checked after negotiation, before anything is sent.
    let expected = match opts.lease.as_deref().filter(|_| opts.force) {
        Some(hex) => Some(Oid::from_str(hex).map_err(Error::git(format!("read the lease {hex}")))?),
        None => None,
    };
    let stale: RefCell<Option<Oid>> = RefCell::new(None);
    if let Some(expected) = expected {
        guard_lease(&mut callbacks, &refname, expected, &stale);
    }
    let mut push_options = git2::PushOptions::new();
    push_options.remote_callbacks(callbacks);
    let force = if opts.force { "+" } else { "" };
    let refspec = format!("{force}{refname}:{refname}");
    let result = remote.push(&[refspec.as_str()], Some(&mut push_options));
    let display = redact_url(&opts.remote);
    if let (Some(found), Some(expected)) = (stale.borrow_mut().take(), expected) {
        return Err(Error::Rejected {
            branch: branch.to_string(),
            remote: display,
            reason: format!(
                "the remote branch is at {found}, not at {expected} where gitintent left it: someone pushed to it since; review those commits before replacing the branch"
            ),
            non_fast_forward: false,
        });
    }
    if let Some(reason) = rejected.borrow_mut().take() {
        return Err(rejection(branch, &display, reason));
    }
    result.map_err(|e| push_error(branch, display, e))
}

/// The remote named `name`, or an anonymous one when `name` is a URL.
fn find_remote<'r>(repo: &'r git2::Repository, name: &str) -> Result<git2::Remote<'r>, Error> {
    match repo.find_remote(name) {
        Ok(r) => Ok(r),
        Err(_) if looks_like_url(name) => repo
            .remote_anonymous(name)
            .map_err(Error::git(format!("use {name} as a remote"))),
        Err(_) => Err(Error::RemoteNotFound(name.to_string())),
    }
}

/// Makes the push fail, before anything is sent, when the remote `refname`
/// exists and is not at `expected`; records where it is in `stale`.
fn guard_lease<'a>(
    callbacks: &mut RemoteCallbacks<'a>,
    refname: &'a str,
    expected: Oid,
    stale: &'a RefCell<Option<Oid>>,
) {
    callbacks.push_negotiation(move |updates| {
        for update in updates {
            let found = update.src();
            if update.dst_refname().is_ok_and(|name| name == refname) && !found.is_zero() && found != expected
            {
                *stale.borrow_mut() = Some(found);
                return Err(git2::Error::from_str("the remote branch moved"));
            }
        }
        Ok(())
    });
}

/// A failed push as [`Error::Rejected`] when it was refused as a
/// non-fast-forward, else [`Error::Push`].
fn push_error(branch: &str, display: String, e: git2::Error) -> Error {
    // The local transport refuses a non-fast-forward before any callback runs.
    if e.code() == git2::ErrorCode::NotFastForward || e.message().contains("fastforward") {
        return rejection(branch, &display, e.message().to_string());
    }
    Error::Push {
        branch: branch.to_string(),
        remote: display,
        source: e.into(),
    }
}

fn rejection(branch: &str, remote: &str, reason: String) -> Error {
    let lower = reason.to_ascii_lowercase().replace('-', "");
    let non_fast_forward = lower.contains("fastforward") || lower.contains("fetch first");
    Error::Rejected {
        branch: branch.to_string(),
        remote: remote.to_string(),
        reason,
        non_fast_forward,
    }
}

fn offer(
    choice: CredentialChoice,
    creds: &Credentials,
    repo: &git2::Repository,
    url: &str,
) -> Result<Cred, git2::Error> {
    match choice {
        CredentialChoice::Token { username } => {
            Cred::userpass_plaintext(&username, creds.token.as_deref().unwrap_or_default())
        }
        CredentialChoice::SshKey { username, path } => Cred::ssh_key(&username, None, &path, None),
        CredentialChoice::SshAgent { username } => Cred::ssh_key_from_agent(&username),
        CredentialChoice::Username(user) => Cred::username(&user),
        CredentialChoice::Helper => repo
            .config()
            .and_then(|config| Cred::credential_helper(&config, url, None))
            .map_err(|_| no_credentials(url)),
        CredentialChoice::Default => Cred::default(),
        CredentialChoice::Nothing => Err(no_credentials(url)),
    }
}

fn no_credentials(url: &str) -> git2::Error {
    git2::Error::from_str(&format!(
        "no (more) credentials for {}: set GITINTENT_GIT_TOKEN for HTTPS, or GITINTENT_SSH_KEY / ssh-agent for SSH",
        redact_url(url)
    ))
}

/// A remote argument that is a URL or path rather than a remote's name.
fn looks_like_url(remote: &str) -> bool {
    remote.contains("://") || remote.starts_with('/') || remote.contains('@') && remote.contains(':')
}

/// A URL without its userinfo (`https://user:token@host/x` → `https://host/x`).
pub(crate) fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            if path.is_empty() && !rest.contains('/') {
                format!("{scheme}://{host}")
            } else {
                format!("{scheme}://{host}/{path}")
            }
        }
        None => url.to_string(),
    }
}

/// Bounds libgit2's network waits for the whole process: establishing a
/// connection (`connect`) and each read or write on one (`io`), so a remote
/// that accepts and then never answers fails a push or fetch instead of
/// hanging it (and, in the service, the repository's lock with it). Call it
/// once, first thing in `main`, before any other thread exists.
#[allow(unsafe_code)]
pub fn bound_network_waits(connect: std::time::Duration, io: std::time::Duration) -> Result<(), git2::Error> {
    let ms =
        |d: std::time::Duration| std::ffi::c_int::try_from(d.as_millis()).unwrap_or(std::ffi::c_int::MAX);
    // SAFETY: these set process-wide libgit2 options without synchronisation.
    // The caller runs this before any thread is spawned (the binary does it
    // before parsing arguments), so nothing reads them concurrently.
    unsafe {
        git2::opts::set_server_connect_timeout_in_milliseconds(ms(connect))?;
        git2::opts::set_server_timeout_in_milliseconds(ms(io))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(token: Option<&str>, key: Option<&str>) -> Credentials {
        Credentials {
            token: token.map(String::from),
            username: None,
            ssh_key: key.map(PathBuf::from),
        }
    }

    #[test]
    fn https_offers_the_token_once_then_the_helper_then_gives_up() {
        let c = creds(Some("t0k"), None);
        let allowed = CredentialType::USER_PASS_PLAINTEXT;
        assert_eq!(
            select_credential(&c, None, allowed, 0),
            CredentialChoice::Token {
                username: "x-access-token".into()
            }
        );
        assert_eq!(select_credential(&c, None, allowed, 1), CredentialChoice::Helper);
        assert_eq!(select_credential(&c, None, allowed, 2), CredentialChoice::Nothing);
        let no_token = creds(None, None);
        assert_eq!(
            select_credential(&no_token, None, allowed, 0),
            CredentialChoice::Helper
        );
        let oauth = Credentials {
            username: Some("oauth2".into()),
            ..c
        };
        assert_eq!(
            select_credential(&oauth, None, allowed, 0),
            CredentialChoice::Token {
                username: "oauth2".into()
            }
        );
    }

    #[test]
    fn ssh_offers_the_key_file_then_the_agent() {
        let allowed = CredentialType::SSH_KEY | CredentialType::SSH_CUSTOM;
        let c = creds(Some("ignored-for-ssh"), Some("/keys/id_ed25519"));
        assert_eq!(
            select_credential(&c, Some("git"), allowed, 0),
            CredentialChoice::SshKey {
                username: "git".into(),
                path: "/keys/id_ed25519".into()
            }
        );
        assert_eq!(
            select_credential(&c, Some("git"), allowed, 1),
            CredentialChoice::SshAgent {
                username: "git".into()
            }
        );
        assert_eq!(
            select_credential(&c, Some("git"), allowed, 2),
            CredentialChoice::Nothing
        );
        let agent_only = creds(None, None);
        assert_eq!(
            select_credential(&agent_only, None, allowed, 0),
            CredentialChoice::SshAgent {
                username: "git".into()
            }
        );
        assert_eq!(
            select_credential(&agent_only, None, CredentialType::USERNAME, 0),
            CredentialChoice::Username("git".into())
        );
    }

    #[test]
    fn tokens_never_show_in_debug_or_urls() {
        let c = creds(Some("s3cret"), None);
        assert!(!format!("{c:?}").contains("s3cret"));
        assert_eq!(
            redact_url("https://x-access-token:s3cret@github.com/o/r.git"),
            "https://github.com/o/r.git"
        );
        assert_eq!(redact_url("file:///srv/repo.git"), "file:///srv/repo.git");
        assert_eq!(redact_url("origin"), "origin");
    }

    #[test]
    fn remote_names_and_urls_are_told_apart() {
        assert!(looks_like_url("file:///srv/x.git"));
        assert!(looks_like_url("git@github.com:o/r.git"));
        assert!(looks_like_url("/srv/x.git"));
        assert!(!looks_like_url("origin"));
    }
}
