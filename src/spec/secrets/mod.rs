//! Plaintext credentials: found in a spec, moved to Secret references, dropped.
//!
//! A value that looks like a credential (by its variable name or by its
//! shape) is never written anywhere. [`extract`] turns each one into a
//! `secretKeyRef` to a named Secret, erases the value from the spec (also
//! from assumptions and questions that quote it), and returns a finding
//! telling the user how to create the Secret. A value the intent gave as a
//! credential is one wherever the planner puts it (an env var named `CONFIG`
//! holding the database password is still the password), and [`scrub`]
//! redacts every other string of the spec: a model may echo a secret into
//! its assumptions, questions or any field.
//!
//! `text.rs` redacts free text (intents, messages).

mod text;

pub use text::{credentials, redact_known, redact_text};

use super::{SecretRef, Spec};
use crate::finding::{Finding, Severity};

const SECRET_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "PASS",
    "PWD",
    "SECRET",
    "TOKEN",
    "APIKEY",
    "API_KEY",
    "ACCESS_KEY",
    "PRIVATE_KEY",
    "CREDENTIAL",
    "AUTH",
    "DSN",
    "CONNECTION_STRING",
];

const SECRET_PREFIXES: &[&str] = &[
    "sk-",
    "sk_live_",
    "sk_test_",
    "ghp_",
    "gho_",
    "github_pat_",
    "glpat-",
    "xoxb-",
    "xoxp-",
    "AKIA",
    "ASIA",
    "AIza",
    "-----BEGIN",
    "eyJ",
];

/// True when an environment variable name says it holds a credential
/// (`DB_PASSWORD`, `passphrase`, `APP_KEY`, `SECRET_KEY_BASE`).
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| SECRET_WORDS.contains(&word))
        || SECRET_WORDS.iter().any(|w| w.contains('_') && upper.contains(w))
        || upper.ends_with("_KEY")
        || upper.contains("_KEY_")
}

/// True when a value looks like a credential whatever its name: a known
/// token prefix, a URL with a password, or a long random-looking string.
pub fn is_secret_value(value: &str) -> bool {
    let v = value.trim();
    if SECRET_PREFIXES.iter().any(|p| v.starts_with(p)) && v.len() >= 12 {
        return true;
    }
    if let Some((scheme, rest)) = v.split_once("://") {
        // Userinfo: `user:password@` anywhere; in http(s) URLs any userinfo,
        // which is how tokens ride in clone URLs (`https://TOKEN@host/x`).
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if let Some((userinfo, _)) = authority.rsplit_once('@') {
            let http = scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https");
            if !scheme.is_empty() && !userinfo.is_empty() && (http || userinfo.contains(':')) {
                return true;
            }
        }
    }
    let classes = [
        v.chars().any(|c| c.is_ascii_lowercase()),
        v.chars().any(|c| c.is_ascii_uppercase()),
        v.chars().any(|c| c.is_ascii_digit()),
    ];
    v.len() >= 24 && !v.contains(' ') && !v.contains('/') && classes.iter().filter(|b| **b).count() == 3
}

/// True when `value` holds one of `known` (credentials the intent gave).
fn holds_known(value: &str, known: &[String]) -> bool {
    known
        .iter()
        .any(|k| k.chars().count() >= 4 && value.contains(k.as_str()))
}

/// Moves credential-looking env values into Secret references and erases
/// them: by name, by shape (whatever the name), or because the value holds
/// one of `known`, the credentials the intent gave ([`credentials`]).
pub fn extract(spec: &mut Spec, known: &[String]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut dropped: Vec<String> = known.to_vec();
    for comp in &mut spec.components {
        let secret = format!("{}-credentials", comp.name);
        let (secrets, plain): (Vec<_>, Vec<_>) = std::mem::take(&mut comp.env).into_iter().partition(|e| {
            !e.value.is_empty()
                && (is_secret_name(&e.name) || is_secret_value(&e.value) || holds_known(&e.value, known))
        });
        comp.env = plain;
        for var in secrets {
            let key = var.name.to_ascii_lowercase().replace('_', "-");
            findings.push(Finding::new(
                Severity::Warning,
                "plaintext-secret",
                format!("Secret/{secret}"),
                format!("/components/{}/env/{}", comp.name, var.name),
                format!(
                    "the value of {} looks like a credential and was not written; it is read from Secret {secret} key {key}. \
                     Create it outside Git or as a SealedSecret/ExternalSecret, e.g. \
                     `kubectl create secret generic {secret} -n {} --from-literal={key}=... --dry-run=client -o yaml | kubeseal`",
                    var.name, spec.namespace
                ),
            ));
            dropped.push(var.value);
            if !comp.secret_refs.iter().any(|r| r.env == var.name) {
                comp.secret_refs.push(SecretRef {
                    env: var.name,
                    secret: secret.clone(),
                    key,
                });
            }
        }
    }
    findings.extend(scrub(spec, &dropped));
    findings
}

/// Redacts every string of `spec` that holds a credential: free text
/// (assumptions, questions) as [`redact_text`] does, every other string when
/// it is credential-shaped; and everywhere, the `known` values. One warning
/// per string changed, naming where: the model put a secret there.
pub fn scrub(spec: &mut Spec, known: &[String]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let Ok(mut value) = serde_json::to_value(&*spec) else {
        return findings;
    };
    let mut changed = Vec::new();
    if !walk(&mut value, String::new(), known, &mut changed) {
        return findings;
    }
    if let Ok(scrubbed) = serde_json::from_value::<Spec>(value) {
        *spec = scrubbed;
    }
    for path in changed {
        findings.push(Finding::new(
            Severity::Warning,
            "plaintext-secret",
            "spec".to_string(),
            path.clone(),
            format!("the planner wrote a credential-looking value into {path}; it was redacted. Never put secrets in an intent: reference a Secret instead"),
        ));
    }
    findings
}

/// Redacts the strings under `v` (at JSON pointer `at`), recording the
/// pointers of redacted ones; true when anything changed.
fn walk(v: &mut serde_json::Value, at: String, known: &[String], changed: &mut Vec<String>) -> bool {
    use serde_json::Value;
    match v {
        Value::Object(map) => map
            .iter_mut()
            .map(|(key, item)| walk(item, format!("{at}/{key}"), known, changed))
            .fold(false, |a, b| a | b),
        Value::Array(items) => items
            .iter_mut()
            .enumerate()
            .map(|(i, item)| walk(item, format!("{at}/{i}"), known, changed))
            .fold(false, |a, b| a | b),
        Value::String(s) => {
            // Direction controls could disguise what a reviewer reads.
            let bidi = s.chars().any(crate::limits::is_bidi_control);
            if bidi {
                s.retain(|c| !crate::limits::is_bidi_control(c));
            }
            let prose = at.starts_with("/assumptions/")
                || at.starts_with("/questions/")
                || at.starts_with("/unsupported/");
            let redacted = if prose {
                redact_known(&redact_text(s), known)
            } else if is_secret_value(s) {
                "[redacted]".to_string()
            } else {
                redact_known(s, known)
            };
            if redacted != *s {
                *s = redacted;
                changed.push(at);
                return true;
            }
            bidi
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Archetype, EnvVar};

    #[test]
    fn credential_names_and_shapes_are_recognised() {
        assert!(is_secret_name("DB_PASSWORD") && is_secret_name("api_key") && is_secret_name("GITHUB_TOKEN"));
        assert!(
            !is_secret_name("LOG_LEVEL") && !is_secret_name("PASSTHROUGH_MODE") && !is_secret_name("PORT")
        );
        assert!(is_secret_value("sk-abcdefghijklmnop1234"));
        assert!(is_secret_value("postgres://app:hunter2@db:5432/app"));
        assert!(is_secret_value("Zx8qP2mN7vB4kL9wR3tY6uI1"));
        assert!(!is_secret_value("debug") && !is_secret_value("https://example.com/path"));
    }

    #[test]
    fn a_plaintext_password_becomes_a_secret_ref_and_disappears() {
        let mut spec = Spec::test(Archetype::Postgres).with(|c| {
            c.env = vec![
                EnvVar {
                    name: "POSTGRES_PASSWORD".into(),
                    value: "hunter2".into(),
                },
                EnvVar {
                    name: "LOG_LEVEL".into(),
                    value: "info".into(),
                },
            ];
        });
        spec.assumptions
            .push("password set to hunter2 as requested".into());
        let findings = extract(&mut spec, &[]);
        // The env var, and the assumption that quoted it.
        assert_eq!(findings.len(), 2, "{findings:?}");
        assert!(findings.iter().all(|f| f.rule == "plaintext-secret"));
        assert_eq!(findings[1].path, "/assumptions/0");
        let json = serde_json::to_string(&spec).unwrap();
        assert!(!json.contains("hunter2"), "{json}");
        let c = &spec.components[0];
        assert_eq!(c.env.len(), 1);
        assert_eq!(c.secret_refs[0].secret, "postgres-credentials");
        assert_eq!(c.secret_refs[0].key, "postgres-password");
    }

    #[test]
    fn a_credential_of_the_intent_is_one_under_any_name() {
        // Issue 13: the model moved DB_PASSWORD's value into CONFIG.
        let known = credentials("deploy api with DB_PASSWORD=hunter2xy in prod");
        assert_eq!(known, ["hunter2xy"]);
        let mut spec = Spec::test(Archetype::WebService).with(|c| {
            c.env = vec![EnvVar {
                name: "CONFIG".into(),
                value: "db=postgres;pw=hunter2xy".into(),
            }];
        });
        let findings = extract(&mut spec, &known);
        assert!(
            findings.iter().any(|f| f.path.ends_with("/env/CONFIG")),
            "{findings:?}"
        );
        let c = &spec.components[0];
        assert!(c.env.is_empty());
        assert_eq!(c.secret_refs[0].env, "CONFIG");
        assert!(!serde_json::to_string(&spec).unwrap().contains("hunter2xy"));
    }

    #[test]
    fn every_string_the_model_wrote_is_scrubbed() {
        let mut spec = Spec::test(Archetype::WebService).with(|c| {
            c.env = vec![EnvVar {
                name: "GREETING".into(),
                value: "hello".into(),
            }];
        });
        spec.assumptions = vec![
            "used key sk-proj0123456789abcdefXYZ as given".into(),
            "the admin password is hunter2 \u{202E}txt.exe".into(),
            "3 replicas".into(),
        ];
        spec.questions = vec!["is opensesame9 still the passphrase?".into()];
        let findings = extract(&mut spec, &["opensesame9".to_string()]);
        let json = serde_json::to_string(&spec).unwrap();
        for leaked in ["sk-proj0123456789", "hunter2", "opensesame9", "\u{202E}"] {
            assert!(!json.contains(leaked), "{leaked} in {json}");
        }
        let paths: Vec<&str> = findings.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["/assumptions/0", "/assumptions/1", "/questions/0"]);
        assert_eq!(spec.assumptions[2], "3 replicas");
        assert_eq!(spec.components[0].env[0].value, "hello");
    }

    #[test]
    fn app_keys_passphrases_and_url_userinfo_are_credentials() {
        assert!(
            is_secret_name("APP_KEY")
                && is_secret_name("SECRET_KEY_BASE")
                && is_secret_name("gpg_passphrase")
        );
        assert!(!is_secret_name("KEYCLOAK_URL") && !is_secret_name("key-value"));
        assert!(is_secret_value("https://secret@host/x"));
        assert!(is_secret_value("https://x-access-token:abc@github.com/a/b"));
        assert!(!is_secret_value("ssh://git@github.com/a/b.git"));
        assert!(!is_secret_value("https://example.com/a@b"));
    }
}
