//! Secret references: how the credentials an intent names reach a
//! component, as `secretKeyRef` variables and the notes saying which Secret
//! must exist. It never sees a credential's value (the reader dropped it);
//! it does not create Secrets.

use super::{Credential, Kind};
use crate::plan::builtin::draft::Draft;
use crate::plan::Error;
use crate::spec::{sanitize_name, Archetype, Component, SecretRef};

/// Turns credentials into Secret references; values were dropped when read.
pub(in crate::plan::builtin) fn secret_refs(d: &mut Draft, c: &mut Component) -> Result<(), Error> {
    let default_secret = format!("{}-credentials", c.name);
    for cred in d.credentials.clone() {
        match (wired_key(c.archetype), &cred.kind) {
            (_, Kind::Stray) => stray(d, c),
            (Some(key), Kind::Password(_)) => wired(d, c, &cred, key, &default_secret),
            _ => secret_ref(d, c, &cred, &default_secret)?,
        }
    }
    Ok(())
}

/// The Secret key an archetype's template reads its password from, when it
/// wires one itself.
fn wired_key(a: Archetype) -> Option<&'static str> {
    match a {
        Archetype::Postgres => Some("password"),
        Archetype::Mysql => Some("root-password"),
        Archetype::Mongodb => Some("password"),
        Archetype::Minio => Some("root-password"),
        Archetype::Grafana => Some("admin-password"),
        _ => None,
    }
}

/// Notes a credential-looking value that was removed and asks what it is for.
fn stray(d: &mut Draft, c: &Component) {
    d.assumptions.push(
        "a credential-looking value was removed from the intent and is not in the plan; it must never be \
         committed to Git"
            .into(),
    );
    d.questions.push(format!(
        "what is the removed credential for? if {} needs it, say e.g. \"API_KEY from secret NAME\"",
        c.name
    ));
}

/// Notes where a template that wires its own password reads it from.
fn wired(d: &mut Draft, c: &Component, cred: &Credential, key: &str, default_secret: &str) {
    if cred.had_value {
        d.assumptions.push(format!(
            "the password given in the intent was removed from the plan; create Secret {default_secret} with \
             key {key} (as a SealedSecret or ExternalSecret) before merging"
        ));
    }
    if let Some(s) = &cred.secret {
        d.questions.push(format!(
            "the {a} template reads its password from Secret {default_secret} (key {key}); the Secret {s:?} \
             named in the intent was not used",
            a = c.archetype
        ));
    }
}

/// The variable a credential is passed in.
fn env_name(kind: &Kind, a: Archetype) -> String {
    match kind {
        Kind::Password(_) if a == Archetype::Redis => "REDIS_PASSWORD".to_string(),
        Kind::Password(_) if a == Archetype::Rabbitmq => "RABBITMQ_DEFAULT_PASS".to_string(),
        Kind::Password(q) => qualified(q, "PASSWORD"),
        Kind::Token(q) => q
            .as_ref()
            .map_or("API_TOKEN".to_string(), |q| format!("{}_TOKEN", upper(q))),
        Kind::Secret(q) => q
            .as_ref()
            .map_or("APP_SECRET".to_string(), |q| format!("{}_SECRET", upper(q))),
        Kind::ApiKey => "API_KEY".to_string(),
        Kind::Named(n) => n.clone(),
        Kind::Stray => unreachable!("a stray value is noted, not passed"),
    }
}

/// Adds a Secret reference for one credential (unless its variable is set
/// already), saying which Secret must exist.
fn secret_ref(
    d: &mut Draft,
    c: &mut Component,
    cred: &Credential,
    default_secret: &str,
) -> Result<(), Error> {
    let what = match &cred.kind {
        Kind::Password(_) => "password",
        Kind::Token(_) => "token",
        Kind::ApiKey => "API key",
        Kind::Secret(_) => "secret",
        Kind::Named(_) => "value",
        Kind::Stray => "credential-looking value",
    };
    let env = env_name(&cred.kind, c.archetype);
    let key = env.to_ascii_lowercase().replace('_', "-");
    let secret = match &cred.secret {
        Some(s) => sanitize_name(s).map_err(|m| Error::Refused(format!("the Secret name {m}")))?,
        None => default_secret.to_string(),
    };
    if c.secret_refs.iter().any(|r| r.env == env) {
        return Ok(());
    }
    if cred.had_value {
        d.assumptions.push(format!(
            "the {what} for {env} given in the intent was removed from the plan; create Secret {secret} with key \
             {key} (as a SealedSecret or ExternalSecret) before merging"
        ));
    } else {
        d.assumptions.push(format!(
            "{env} is read from Secret {secret} (key {key}), which must exist before merging"
        ));
    }
    if c.archetype == Archetype::Redis && env == "REDIS_PASSWORD" {
        d.questions.push(format!(
            "the redis template does not enable AUTH; {} only receives the password as REDIS_PASSWORD",
            c.name
        ));
    }
    c.secret_refs.push(SecretRef { env, secret, key });
    Ok(())
}

fn upper(q: &str) -> String {
    q.to_ascii_uppercase().replace('-', "_")
}

fn qualified(q: &Option<String>, base: &str) -> String {
    q.as_ref()
        .map_or(base.to_string(), |q| format!("{}_{base}", upper(q)))
}
