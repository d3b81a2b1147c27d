//! The built-in pack evaluated natively: the same rules as `policies/*.rego`,
//! in Rust, for the documents whose shape it models exactly.
//!
//! The Rego files stay the pack's source and documentation; every rule here
//! is a transcription of one rule there, with the same id, path and message,
//! and `kind_findings`' order (deny then warn, each sorted as regorus sorts
//! `{msg, path, rule}` objects, duplicates merged). A document this module
//! cannot answer exactly (a field of an unexpected type, a name that `%q`
//! would escape beyond `\"` and `\\`, a non-integer replica count, a
//! PodDisruptionBudget selector of an odd shape, …) is a [`Fallback`]: the
//! caller evaluates it with the Rego pack, so verdicts never depend on which
//! path ran. `tests/policy_batch.rs` holds the two paths to identical
//! findings over generated and real manifests, and unit tests check every
//! native answer against regorus.
//!
//! It does not evaluate repo Rego, and has no rule of its own: a rule added to
//! the pack without its transcription here would be missed, so the
//! differential tests compare the whole pack, not rule by rule.

mod workload;

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde_json::Value as Json;

use super::rego::{self, Hit};
use super::Settings;
use crate::finding::Severity;

/// The document needs the Rego pack: the native rules would not be exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fallback;

type Exact<T> = Result<T, Fallback>;

/// `data.gitintent` as the native rules read it (see `batch_data` in the
/// parent module, which builds the JSON the Rego pack reads).
pub(crate) struct Facts<'a> {
    production: bool,
    required_labels: &'a [String],
    allowed_registries: &'a [String],
    /// namespace → `key=value` (or `*`) → [PDB selector].
    pdbs: Option<&'a serde_json::Map<String, Json>>,
    /// Every PDB selector has a shape [`workload`] models exactly.
    pdbs_exact: bool,
}

impl<'a> Facts<'a> {
    /// `facts` is the JSON of `data.gitintent` built from `settings`.
    pub(crate) fn new(settings: &'a Settings, facts: &'a Json) -> Facts<'a> {
        let pdbs = facts.get("pdbs").and_then(Json::as_object);
        let pdbs_exact = pdbs.is_some_and(|by_ns| {
            by_ns.values().all(|by_label| {
                by_label.as_object().is_some_and(|m| {
                    m.values().all(|list| {
                        list.as_array()
                            .is_some_and(|l| l.iter().all(workload::exact_selector))
                    })
                })
            })
        });
        Facts {
            production: settings.is_production(),
            required_labels: &settings.required_labels,
            allowed_registries: &settings.allowed_registries,
            pdbs,
            pdbs_exact,
        }
    }
}

/// The pack's findings on one resource, or [`Fallback`].
pub(crate) fn eval(doc: &Json, facts: &Facts<'_>) -> Exact<Vec<Hit>> {
    let mut out = Out::default();
    let Some(Json::String(kind)) = doc.get("kind") else {
        return Err(Fallback);
    };
    labels(doc, facts, &mut out)?;
    match kind.as_str() {
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job"
        | "Pod"
        | "CronJob" => workload::check(doc, kind, facts, &mut out)?,
        "Ingress" => ingress(doc, facts, &mut out)?,
        "ConfigMap" => configmap(doc, &mut out)?,
        _ => {}
    }
    Ok(out.hits())
}

/// Findings as the Rego sets hold them: `(msg, path, rule)` is the order of
/// `{"msg", "path", "rule"}` objects in regorus, and a set merges equals.
#[derive(Default)]
pub(super) struct Out {
    deny: BTreeSet<(String, String, &'static str)>,
    warn: BTreeSet<(String, String, &'static str)>,
}

impl Out {
    pub(super) fn deny(&mut self, rule: &'static str, path: String, msg: String) {
        self.deny.insert((msg, path, rule));
    }

    pub(super) fn warn(&mut self, rule: &'static str, path: String, msg: String) {
        self.warn.insert((msg, path, rule));
    }

    fn hits(self) -> Vec<Hit> {
        let hit = |severity| {
            move |(message, path, rule): (String, String, &str)| Hit {
                severity,
                rule: rule.to_string(),
                path,
                message,
            }
        };
        let deny = self.deny.into_iter().map(hit(Severity::Error));
        deny.chain(self.warn.into_iter().map(hit(Severity::Warning)))
            .collect()
    }
}

/// `v.key` where `v` may be absent; a present non-object is [`Fallback`].
pub(super) fn field<'a>(v: Option<&'a Json>, key: &str) -> Exact<Option<&'a Json>> {
    match v {
        None => Ok(None),
        Some(Json::Object(o)) => Ok(o.get(key)),
        Some(_) => Err(Fallback),
    }
}

/// `v` as an array to iterate; absent is empty, any other type [`Fallback`].
pub(super) fn items(v: Option<&Json>) -> Exact<&[Json]> {
    match v {
        None => Ok(&[]),
        Some(Json::Array(a)) => Ok(a),
        Some(_) => Err(Fallback),
    }
}

/// The pack's `present(x)`: defined, not null, not `""`.
pub(super) fn present(v: Option<&Json>) -> bool {
    !matches!(v, None | Some(Json::Null)) && v.and_then(Json::as_str) != Some("")
}

/// `sprintf("%q", [s])` as regorus writes it, for printable ASCII; anything
/// else (Go escapes) is [`Fallback`].
pub(super) fn quote(s: &str) -> Exact<String> {
    if !s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(Fallback);
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Ok(out)
}

/// The pack's `escape(s)`: one JSON pointer segment.
pub(super) fn escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// `labels_deny` (hygiene.rego): required labels and system namespaces.
fn labels(doc: &Json, facts: &Facts<'_>, out: &mut Out) -> Exact<()> {
    let metadata = field(Some(doc), "metadata")?;
    let labels = field(metadata, "labels")?;
    for label in facts.required_labels {
        if !present(field(labels, label)?) {
            let msg = format!(
                "missing required label {}; add it to metadata.labels",
                quote(label)?
            );
            out.deny(
                "required-labels",
                format!("/metadata/labels/{}", escape(label)),
                msg,
            );
        }
    }
    if let Some(Json::String(ns)) = field(metadata, "namespace")? {
        if matches!(ns.as_str(), "kube-system" | "kube-public" | "kube-node-lease") {
            let msg = format!("namespace {} is reserved for the cluster's own components; deploy apps into a namespace of their own (or waive this rule for a cluster add-on)", quote(ns)?);
            out.deny("system-namespace", "/metadata/namespace".to_string(), msg);
        }
    }
    Ok(())
}

/// `ingress_deny` (availability.rego): TLS in production.
fn ingress(doc: &Json, facts: &Facts<'_>, out: &mut Out) -> Exact<()> {
    // `object.get(input.spec, …)` is undefined without a spec: no finding.
    let Some(spec) = field(Some(doc), "spec")? else {
        return Ok(());
    };
    if !facts.production {
        return Ok(());
    }
    let tls = items(field(Some(spec), "tls")?)?;
    if tls.is_empty() {
        let msg = "the Ingress has no TLS in production; add spec.tls with a certificate secret";
        out.deny("ingress-tls", "/spec/tls".to_string(), msg.to_string());
        return Ok(());
    }
    let mut hosts = Vec::new();
    for t in tls.iter().filter(|t| t.is_object()) {
        hosts.extend(items(t.get("hosts"))?.iter().filter_map(Json::as_str));
    }
    for (i, rule) in items(field(Some(spec), "rules")?)?.iter().enumerate() {
        let Some(Json::String(host)) = rule.as_object().and_then(|r| r.get("host")) else {
            continue;
        };
        if !hosts.contains(&host.as_str()) {
            let msg = format!(
                "host {} is not covered by spec.tls in production; add it to a tls entry's hosts",
                quote(host)?
            );
            out.deny("ingress-tls", format!("/spec/rules/{i}/host"), msg);
        }
    }
    Ok(())
}

/// `configmap_deny` (hygiene.rego): credentials in ConfigMap data.
fn configmap(doc: &Json, out: &mut Out) -> Exact<()> {
    let data = match field(Some(doc), "data")? {
        None => return Ok(()),
        Some(Json::Object(data)) => data,
        Some(_) => return Err(Fallback),
    };
    for (key, value) in data {
        let Json::String(value) = value else { continue };
        let sensitive = sensitive_name(key);
        if !value.is_empty() && sensitive {
            let msg = format!(
                "ConfigMap key {} looks like a credential; keep it in a Secret",
                quote(key)?
            );
            out.deny("plaintext-credential", format!("/data/{}", escape(key)), msg);
        }
        if !sensitive && credential_value(value)? {
            let msg = format!(
                "ConfigMap key {} holds a value that looks like a credential; keep it in a Secret",
                quote(key)?
            );
            out.deny("plaintext-credential", format!("/data/{}", escape(key)), msg);
        }
    }
    Ok(())
}

/// The pack's `sensitive_name(n)` (hygiene.rego).
pub(super) fn sensitive_name(name: &str) -> bool {
    const HINTS: [&str; 7] = ["key", "pass", "secret", "token", "pwd", "credential", "pat"];
    const WORDS: [&str; 12] = [
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "secret",
        "token",
        "apikey",
        "key",
        "credential",
        "credentials",
        "privatekey",
        "pat",
    ];
    const HARMLESS: [&str; 17] = [
        "file", "path", "dir", "url", "uri", "id", "name", "prefix", "header", "type", "length", "size",
        "ttl", "timeout", "enabled", "expiry", "ref",
    ];
    const SUBSTRINGS: [&str; 7] = [
        "password",
        "secret",
        "apikey",
        "api_key",
        "access_key",
        "private_key",
        "credential",
    ];
    let lowered = name.to_lowercase();
    if !HINTS.iter().any(|h| lowered.contains(h)) {
        return false;
    }
    // regex.split("[^a-z0-9]+") without the empty tokens: the runs of [a-z0-9].
    let tokens: Vec<&str> = lowered
        .split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
        .filter(|t| !t.is_empty())
        .collect();
    let Some(last) = tokens.last() else {
        return false;
    };
    !HARMLESS.contains(last)
        && (tokens.iter().any(|t| WORDS.contains(t)) || SUBSTRINGS.iter().any(|s| lowered.contains(s)))
}

/// The pack's `credential_value(v)`: `[literal, pattern]` pairs, the regex
/// only tried on values holding the literal, as in hygiene.rego.
pub(super) fn credential_value(value: &str) -> Exact<bool> {
    const PATTERNS: [(&str, &str); 5] = [
        ("PRIVATE KEY", r"BEGIN[A-Z ]* PRIVATE KEY"),
        ("AKIA", r"AKIA[0-9A-Z]{16}"),
        ("gh", r"gh[pousr]_[A-Za-z0-9]{36}"),
        ("xox", r"xox[abposr]-[A-Za-z0-9-]{10,}"),
        ("@", r"[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:[^/\s@]+@"),
    ];
    // The same `regex` crate regorus uses, compiled once per process.
    static COMPILED: OnceLock<Vec<Option<regex::Regex>>> = OnceLock::new();
    let compiled = COMPILED.get_or_init(|| PATTERNS.iter().map(|(_, p)| regex::Regex::new(p).ok()).collect());
    for ((literal, _), re) in PATTERNS.iter().zip(compiled) {
        if value.contains(literal) {
            // A pattern that does not compile is an evaluation error in Rego.
            if re.as_ref().ok_or(Fallback)?.is_match(value) {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// The built-in pack for one run of resources: natively where that is
/// exact, otherwise by a Rego session made on first need (making one costs
/// about 0.7 ms: regorus analyses the pack again after `add_data`).
pub(crate) struct Pack<'a> {
    rego: &'a rego::Rego,
    data: &'a regorus::Value,
    native: Option<&'a Facts<'a>>,
    session: Option<rego::Session>,
}

impl<'a> Pack<'a> {
    /// `data` is the batch's Rego data; `native` its facts, or `None` for
    /// the interpreter only.
    pub(crate) fn new(
        rego: &'a rego::Rego,
        data: &'a regorus::Value,
        native: Option<&'a Facts<'a>>,
    ) -> Pack<'a> {
        Pack {
            rego,
            data,
            native,
            session: None,
        }
    }

    pub(crate) fn eval(&mut self, doc: &serde_json::Value) -> Vec<rego::Hit> {
        if let Some(Ok(hits)) = self.native.map(|facts| eval(doc, facts)) {
            // In unit tests, every native answer must be the interpreter's.
            #[cfg(test)]
            assert_eq!(hits, self.interpreted(doc), "native and Rego differ on {doc}");
            return hits;
        }
        self.interpreted(doc)
    }

    fn interpreted(&mut self, doc: &serde_json::Value) -> Vec<rego::Hit> {
        let (rego, data) = (self.rego, self.data);
        let session = self.session.get_or_insert_with(|| rego.session(data));
        session.eval(rego::input(doc), rego.packages())
    }
}

#[cfg(test)]
mod tests;
