//! Credentials: plaintext secrets in an intent, and where they go instead.
//!
//! [`credentials`] finds plaintext credentials (`with password hunter2`,
//! `API_KEY=sk-...`, `token xyz`, stray `ghp_...` tokens, passwords inside
//! URLs) and claims their values, so no other reader can copy them into the
//! spec. [`secret_refs`] (in `secrets`) turns what is left, the variable name, into Secret
//! references and tells the reviewer which Secret to create. [`env_vars`]
//! reads the remaining `NAME=value` pairs as plain environment variables.

use super::lexicon::Class;
use super::text::Words;

mod secrets;
pub(super) use secrets::secret_refs;

/// What a credential is, which decides its variable and key names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Kind {
    /// `password`, with an optional qualifier such as `database` or `admin`.
    Password(Option<String>),
    Token(Option<String>),
    ApiKey,
    Secret(Option<String>),
    /// An explicit `NAME=value` whose name or value looks like a credential.
    Named(String),
    /// A credential-looking value with no name (`ghp_...`).
    Stray,
}

/// A credential found in the intent. Its value is never kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Credential {
    pub(super) kind: Kind,
    /// Token index, to attach it to a component.
    pub(super) at: usize,
    /// A value was given in plain text (and dropped).
    pub(super) had_value: bool,
    /// An existing Secret named by the user (`from secret orders-db`).
    pub(super) secret: Option<String>,
}

/// A plain `NAME=value` environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Var {
    pub(super) name: String,
    pub(super) value: String,
    pub(super) at: usize,
}

/// Words between a credential keyword and its value ("password is x").
const FILLER: &[&str] = &[
    "is", "=", "of", "to", "be", "set", "as", "should", "must", "will", "equal", "equals", ":",
];
/// Words after a credential keyword that are not its value.
const NOT_A_VALUE: &[&str] = &[
    "from",
    "in",
    "stored",
    "kept",
    "managed",
    "via",
    "using",
    "that",
    "which",
    "and",
    "or",
    "for",
    "generated",
    "random",
    "auto-generated",
    "randomly",
    "rotation",
    "rotated",
    "auth",
    "authentication",
    "protection",
    "protected",
    "secret",
    "secrets",
    "vault",
    "a",
    "the",
    "an",
    "with",
    "on",
    "at",
    "replicas",
    "replica",
    "port",
    "service",
    "server",
    "api",
    "app",
    "worker",
    "store",
    "manager",
    "provider",
    "file",
    "env",
    "variable",
    "reference",
    "ref",
    "required",
    "enabled",
    "login",
    "access",
    "named",
    "called",
    "existing",
];
/// Nouns that make a credential word an adjective ("token service").
const NOUNS: &[&str] = &[
    "service",
    "server",
    "api",
    "app",
    "worker",
    "store",
    "manager",
    "provider",
    "generator",
    "endpoint",
    "exchange",
    "rotation",
    "operator",
    "controller",
    "job",
    "cache",
    "validator",
    "issuer",
];
/// Words before a credential keyword that say what it is for ("db password").
const QUALIFIERS: &[&str] = &[
    "database",
    "db",
    "admin",
    "root",
    "redis",
    "postgres",
    "mysql",
    "smtp",
    "app",
    "user",
    "master",
    "api",
    "access",
    "github",
    "slack",
    "stripe",
    "openai",
    "registry",
    "webhook",
    "jwt",
    "session",
    "signing",
    "encryption",
];

/// Finds credentials and claims their values.
///
/// Returns the credentials, and separately the plaintext values, which the
/// caller may use only to check that none reached the spec.
pub(super) fn credentials(w: &mut Words) -> (Vec<Credential>, Vec<String>) {
    let mut found = Found::default();
    for i in 0..w.len() {
        if !w.free(i) {
            continue;
        }
        let raw = w.raw(i).to_string();
        if let Some((name, value)) = assignment(&raw) {
            if is_credential_name(name) || looks_secret(value) || has_userinfo(value) {
                found.push(given(Kind::Named(name.to_string()), i), Some(value.to_string()));
                w.claim(i..i + 1);
            }
        } else if let Some(k) = keyword(w, i) {
            after_keyword(w, i, k, &mut found);
        } else if looks_secret(&raw) || has_userinfo(&raw) {
            found.push(given(Kind::Stray, i), Some(raw));
            w.claim(i..i + 1);
        }
    }
    (found.credentials, found.plaintext)
}

/// The credentials read so far and, apart, their plaintext values.
#[derive(Default)]
struct Found {
    credentials: Vec<Credential>,
    plaintext: Vec<String>,
}

impl Found {
    /// Records a credential and the plaintext value it was given, if any.
    fn push(&mut self, c: Credential, value: Option<String>) {
        self.plaintext.extend(value);
        self.credentials.push(c);
    }
}

/// A credential of `kind` at `i` whose value was given in plain text.
fn given(kind: Kind, at: usize) -> Credential {
    Credential {
        kind,
        at,
        had_value: true,
        secret: None,
    }
}

/// A credential keyword: what it names, how many words it takes, and
/// whether it is a weak one ("token", "secret") that may be a plain noun.
struct Keyword {
    kind: Kind,
    span: usize,
    weak: bool,
}

/// The credential keyword at `i` ("password", "db password", "api key").
fn keyword(w: &Words, i: usize) -> Option<Keyword> {
    let api_key =
        w.phrase(i, &["api", "key"]) || w.phrase(i, &["access", "key"]) || w.phrase(i, &["secret", "key"]);
    let strong = w.is(i, Class::PasswordWord);
    let weak = w.is(i, Class::SecretWord);
    if !(strong || weak || api_key) {
        return None;
    }
    let qualifier = i
        .checked_sub(1)
        .filter(|&q| w.is(q, QUALIFIERS) && !api_key)
        .map(|q| w.low(q).to_string());
    let kind = if api_key || w.is(i, &["apikey", "api-key", "api_key"]) {
        Kind::ApiKey
    } else if strong {
        Kind::Password(qualifier)
    } else if w.is(i, &["token", "bearer"]) {
        Kind::Token(qualifier)
    } else {
        Kind::Secret(qualifier)
    };
    Some(Keyword {
        kind,
        span: if api_key { 2 } else { 1 },
        weak: weak && !api_key,
    })
}

/// Reads what follows a credential keyword at `i`: a Secret it comes from,
/// a plaintext value (claimed, kept apart), or nothing. A weak keyword with
/// no value that reads as a noun ("the token service") is not a credential.
fn after_keyword(w: &mut Words, i: usize, k: Keyword, found: &mut Found) {
    if let Some((name_at, end)) = reference(w, i, k.span) {
        let secret = Some(w.raw(name_at).to_string());
        w.claim(i..end);
        let c = Credential {
            kind: k.kind,
            at: i,
            had_value: false,
            secret,
        };
        found.push(c, None);
        return;
    }
    let j = w.skip(i + k.span, FILLER, 4);
    let is_value =
        w.free(j) && !w.is(j, NOT_A_VALUE) && !w.is(j, Class::PasswordWord) && !w.is(j, Class::SecretWord);
    let announced = i > 0 && w.is(i - 1, &["a", "an", "the", "with", "and", "its", "new"]);
    // "the token service", "a secret manager": a noun, not a credential.
    let noun = w.is(i + k.span, NOUNS);
    if k.weak && !is_value && (!announced || noun) {
        return;
    }
    let end = if is_value { w.quoted(j) } else { i + k.span };
    let value = is_value.then(|| (j..end).map(|k| w.raw(k)).collect::<Vec<_>>().join(" "));
    w.claim(i..end);
    let c = Credential {
        kind: k.kind,
        at: i,
        had_value: is_value,
        secret: None,
    };
    found.push(c, value);
}

/// Finds a Secret named after a credential keyword at `i`: `password from
/// secret orders-db`, `token in the orders-db secret`, `from secret x`.
///
/// Returns the index of the name and the end of the phrase.
fn reference(w: &Words, i: usize, span: usize) -> Option<(usize, usize)> {
    let named = |k: usize| w.skip(k, &["named", "called"], 2);
    let ok = |n: usize| w.free(n) && !w.is(n, Class::Stop) && !w.is(n, NOT_A_VALUE);
    if w.is(i, &["secret"]) && i > 0 && w.is(i - 1, &["from", "in", "existing", "using", "via"]) {
        let n = named(i + 1);
        return ok(n).then_some((n, n + 1));
    }
    let k = i + span;
    if !w.is(k, &["from", "in", "via", "using"]) {
        return None;
    }
    let m = w.skip(k + 1, &["the", "an", "a", "existing", "kubernetes", "k8s"], 3);
    if w.is(m, &["secret"]) {
        let n = named(m + 1);
        return ok(n).then_some((n, n + 1));
    }
    (w.is(m + 1, &["secret"]) && ok(m)).then_some((m, m + 2))
}

/// Reads the remaining `NAME=value` pairs as plain variables.
pub(super) fn env_vars(w: &mut Words) -> Vec<Var> {
    let mut vars = Vec::new();
    for i in 0..w.len() {
        if !w.free(i) {
            continue;
        }
        if let Some((name, value)) = assignment(w.raw(i)) {
            vars.push(Var {
                name: name.to_string(),
                value: value.to_string(),
                at: i,
            });
            w.claim(i..i + 1);
        } else if w.phrase(i, &["set"])
            && is_env_name(w.raw(i + 1))
            && w.raw(i + 1).chars().any(|c| c.is_ascii_uppercase())
        {
            // "set LOG_LEVEL to debug"
            if w.is(i + 2, &["to"]) && w.free(i + 3) && w.free(i + 1) {
                let name = w.raw(i + 1).to_string();
                vars.push(Var {
                    name,
                    value: w.raw(i + 3).to_string(),
                    at: i,
                });
                w.claim(i..i + 4);
            }
        }
    }
    vars
}

/// Splits `NAME=value` when NAME is a variable name.
fn assignment(raw: &str) -> Option<(&str, &str)> {
    let (name, value) = raw.split_once('=')?;
    is_env_name(name).then_some((name, value))
}

fn is_env_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// True for variable names that conventionally hold credentials.
pub(super) fn is_credential_name(name: &str) -> bool {
    let up = name.to_ascii_uppercase();
    let parts: Vec<&str> = up.split('_').collect();
    [
        "PASSWORD",
        "PASSWD",
        "PWD",
        "PASS",
        "SECRET",
        "TOKEN",
        "CREDENTIAL",
        "CREDENTIALS",
        "APIKEY",
        "PASSPHRASE",
    ]
    .iter()
    .any(|p| parts.contains(p))
        || up.contains("API_KEY")
        || up.contains("ACCESS_KEY")
        || up.contains("PRIVATE_KEY")
        || up.contains("SECRET")
        || up.contains("PASSWORD")
        || up.contains("TOKEN")
}

/// True for values shaped like well-known credentials.
pub(super) fn looks_secret(v: &str) -> bool {
    /// Prefixes of well-known token formats.
    const PREFIXES: &[&str] = &[
        "sk-",
        "sk_live_",
        "sk_test_",
        "rk_live_",
        "pk_live_",
        "ghp_",
        "gho_",
        "ghs_",
        "ghu_",
        "github_pat_",
        "glpat-",
        "xoxb-",
        "xoxp-",
        "xoxa-",
        "xapp-",
        "AIza",
        "hf_",
        "npm_",
        "pypi-",
        "-----BEGIN",
    ];
    let aws = (v.starts_with("AKIA") || v.starts_with("ASIA"))
        && v.len() == 20
        && v.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    let jwt = v.starts_with("eyJ") && v.matches('.').count() == 2 && v.len() > 30;
    PREFIXES.iter().any(|p| v.starts_with(p) && v.len() > p.len() + 6) || aws || jwt
}

/// True for URLs with a password in them (`postgres://user:pass@host/db`).
fn has_userinfo(v: &str) -> bool {
    v.split_once("://")
        .and_then(|(_, rest)| rest.split('/').next())
        .and_then(|authority| authority.rsplit_once('@'))
        .is_some_and(|(userinfo, _)| userinfo.contains(':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(text: &str) -> (Vec<Credential>, Words) {
        let mut w = Words::new(text);
        (credentials(&mut w).0, w)
    }

    #[test]
    fn password_values_are_claimed_and_dropped() {
        let (c, w) = creds("postgres with password hunter2 in prod");
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].kind, Kind::Password(None));
        assert!(c[0].had_value);
        assert!(!w.free(3), "hunter2 must be claimed");
        assert!(w.free(4) && w.free(5));
    }

    #[test]
    fn qualified_passwords_keep_their_qualifier() {
        let (c, _) = creds("with the database password: s3cr3t!");
        assert_eq!(c[0].kind, Kind::Password(Some("database".into())));
        assert!(c[0].had_value);
    }

    #[test]
    fn credential_assignments_become_named_credentials() {
        let (c, w) = creds("API_KEY=sk-abcdef123456 LOG_LEVEL=debug");
        assert_eq!(c[0].kind, Kind::Named("API_KEY".into()));
        assert!(!w.free(0) && w.free(1));
    }

    #[test]
    fn stray_tokens_that_look_like_credentials_are_claimed() {
        let (c, w) = creds("deploy it with ghp_abcdefghijklmnopqrstuvwxyz0123456789 please");
        assert_eq!(c[0].kind, Kind::Stray);
        assert!(!w.free(3));
        let (c, _) = creds("DATABASE_URL=postgres://app:hunter2@db:5432/app");
        assert_eq!(c[0].kind, Kind::Named("DATABASE_URL".into()));
    }

    #[test]
    fn token_with_a_value_is_a_credential_but_the_token_service_is_not() {
        let (c, w) = creds("with token xyz");
        assert_eq!(c[0].kind, Kind::Token(None));
        assert!(!w.free(2));
        let (c, _) = creds("deploy the token service");
        assert!(c.is_empty(), "{c:?}");
    }

    #[test]
    fn an_existing_secret_is_referenced_by_name() {
        let (c, _) = creds("with the database password from secret orders-db");
        assert_eq!(c[0].secret.as_deref(), Some("orders-db"));
        assert!(!c[0].had_value);
    }

    #[test]
    fn a_password_without_a_value_still_asks_for_a_secret() {
        let (c, _) = creds("with a randomly generated password");
        assert_eq!(c.len(), 1);
        assert!(!c[0].had_value);
    }

    #[test]
    fn plain_assignments_are_environment_variables() {
        let mut w = Words::new("with LOG_LEVEL=debug and set FEATURE_X to on");
        let _ = credentials(&mut w);
        let vars = env_vars(&mut w);
        let pairs: Vec<(&str, &str)> = vars.iter().map(|v| (v.name.as_str(), v.value.as_str())).collect();
        assert_eq!(pairs, [("LOG_LEVEL", "debug"), ("FEATURE_X", "on")]);
    }
}
