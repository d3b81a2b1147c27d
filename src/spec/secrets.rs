//! Plaintext credentials: found in a spec, moved to Secret references, dropped.
//!
//! A value that looks like a credential (by its variable name or by its
//! shape) is never written anywhere. [`extract`] turns each one into a
//! `secretKeyRef` to a named Secret, erases the value from the spec (also
//! from assumptions and questions that quote it), and returns a finding
//! telling the user how to create the Secret.

use super::{SecretRef, Spec};
use crate::finding::{Finding, Severity};

const SECRET_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
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

/// True when an environment variable name says it holds a credential.
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| SECRET_WORDS.contains(&word))
        || SECRET_WORDS.iter().any(|w| w.contains('_') && upper.contains(w))
}

/// True when a value looks like a credential whatever its name: a known
/// token prefix, a URL with a password, or a long random-looking string.
pub fn is_secret_value(value: &str) -> bool {
    let v = value.trim();
    if SECRET_PREFIXES.iter().any(|p| v.starts_with(p)) && v.len() >= 12 {
        return true;
    }
    if let Some((scheme, rest)) = v.split_once("://") {
        if !scheme.is_empty()
            && rest.split('@').next().is_some_and(|auth| auth.contains(':'))
            && rest.contains('@')
        {
            return true;
        }
    }
    let classes = [
        v.chars().any(|c| c.is_ascii_lowercase()),
        v.chars().any(|c| c.is_ascii_uppercase()),
        v.chars().any(|c| c.is_ascii_digit()),
    ];
    v.len() >= 24 && !v.contains(' ') && !v.contains('/') && classes.iter().filter(|b| **b).count() == 3
}

/// Moves credential-looking env values into Secret references and erases them.
pub fn extract(spec: &mut Spec) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut dropped: Vec<String> = Vec::new();
    for comp in &mut spec.components {
        let secret = format!("{}-credentials", comp.name);
        let (secrets, plain): (Vec<_>, Vec<_>) = std::mem::take(&mut comp.env)
            .into_iter()
            .partition(|e| !e.value.is_empty() && (is_secret_name(&e.name) || is_secret_value(&e.value)));
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
    if !dropped.is_empty() {
        for text in spec.assumptions.iter_mut().chain(spec.questions.iter_mut()) {
            for value in &dropped {
                if value.len() >= 4 && text.contains(value.as_str()) {
                    *text = text.replace(value.as_str(), "[redacted]");
                }
            }
        }
    }
    findings
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
        let findings = extract(&mut spec);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].rule, "plaintext-secret");
        let json = serde_json::to_string(&spec).unwrap();
        assert!(!json.contains("hunter2"), "{json}");
        let c = &spec.components[0];
        assert_eq!(c.env.len(), 1);
        assert_eq!(c.secret_refs[0].secret, "postgres-credentials");
        assert_eq!(c.secret_refs[0].key, "postgres-password");
    }
}

/// Redacts credential-looking values in free text (an intent echoed back):
/// values after words such as `password` or `token`, `NAME=value` pairs with
/// a secret name, and tokens shaped like credentials.
pub fn redact_text(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut redact_next = false;
    // The quote that closes a multi-word secret being skipped.
    let mut in_quote: Option<char> = None;
    for word in text.split(' ') {
        if let Some(q) = in_quote {
            if word.contains(q) {
                in_quote = None;
                let rest = &word[word.find(q).map_or(word.len(), |i| i + q.len_utf8())..];
                if !rest.is_empty() {
                    out.push(rest.to_string());
                }
            }
            continue;
        }
        let bare = word.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '_' && c != '-');
        if redact_next {
            // "password is X", "password: X": skip the filler, redact what follows.
            if bare.is_empty() || ["is", "of", "to", "as", "="].contains(&bare) {
                out.push(word.to_string());
                continue;
            }
            redact_next = false;
            if let Some(q) = opening_quote(word) {
                out.push(format!("{q}[redacted]{q}"));
                in_quote = Some(q);
                continue;
            }
            out.push(word.replace(bare, "[redacted]"));
            continue;
        }
        if let Some((name, value)) = word.split_once(['=', ':']) {
            let bare_name = name.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '_' && c != '-');
            if let Some(q) = opening_quote(value).filter(|_| is_secret_name(bare_name)) {
                out.push(format!(
                    "{name}{}{q}[redacted]{q}",
                    &word[name.len()..name.len() + 1]
                ));
                in_quote = Some(q);
                continue;
            }
        }
        if let Some((name, value)) = bare.split_once(['=', ':']) {
            if !value.is_empty() && (is_secret_name(name) || is_secret_value(value)) {
                out.push(word.replace(value, "[redacted]"));
                continue;
            }
        }
        if is_secret_value(bare) {
            out.push(word.replace(bare, "[redacted]"));
            continue;
        }
        redact_next = is_secret_name(bare) && !bare.contains(['=', ':']);
        out.push(word.to_string());
    }
    out.join(" ")
}

/// The quote a word opens and does not close: `"two` or `'two`, not `"one"`.
fn opening_quote(word: &str) -> Option<char> {
    let q = word.chars().next().filter(|c| matches!(c, '"' | '\'' | '`'))?;
    let closed = word[q.len_utf8()..].contains(q);
    (!closed).then_some(q)
}

#[cfg(test)]
mod redact_tests {
    use super::redact_text;

    #[test]
    fn intents_are_redacted_for_echo() {
        assert_eq!(
            redact_text("deploy postgres with password hunter2 in prod"),
            "deploy postgres with password [redacted] in prod"
        );
        assert_eq!(
            redact_text("run api with API_KEY=sk-abcdef1234567890"),
            "run api with API_KEY=[redacted]"
        );
        assert_eq!(
            redact_text("deploy mysql, the root password is Sup3rS3cret! in staging"),
            "deploy mysql, the root password is [redacted]! in staging"
        );
        assert_eq!(
            redact_text("deploy redis with 3 replicas"),
            "deploy redis with 3 replicas"
        );
    }

    #[test]
    fn quoted_multi_word_secrets_are_redacted_whole() {
        assert_eq!(
            redact_text("deploy postgres with password \"correct horse battery\" in prod"),
            "deploy postgres with password \"[redacted]\" in prod"
        );
        assert_eq!(
            redact_text("run api with DB_PASSWORD='two words' and 2 replicas"),
            "run api with DB_PASSWORD='[redacted]' and 2 replicas"
        );
        assert_eq!(
            redact_text("deploy app with password 'single' now"),
            "deploy app with password '[redacted]' now"
        );
        // An unclosed quote hides the rest rather than leaking it.
        assert_eq!(
            redact_text("set password \"never closed and more"),
            "set password \"[redacted]\""
        );
    }
}
