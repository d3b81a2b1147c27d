//! `expose`: route a host (and path) to an existing workload's Service.
//!
//! An Ingress in the workload's directory that already routes to the Service
//! keeps its hosts: a new host is added as another rule routing to the same
//! Service port, and an assumption says the old host still serves; only when
//! the intent asks to move or replace it ([`super::Aim::replace_host`]) is the
//! first rule's host edited in place (also said). A path alone edits the
//! first rule's path. Without such an Ingress a new `ingress.yaml` is
//! rendered from the same template a new component uses and listed in the
//! directory's `kustomization.yaml`.

use serde_json::{json, Value};

use super::inventory::{Doc, Workload};
use super::{Edits, Error};
use crate::finding::{Finding, Severity};
use crate::repo::parent;
use crate::spec::Exposure;
use crate::yaml::edit::{set_scalar, split_documents, Seg};

/// Routes `exposure`'s host and path to `w`'s Service: through the Ingress
/// of its directory that routes to the Service, else a new one.
pub(super) fn apply(
    edits: &mut Edits<'_>,
    w: &Workload,
    exposure: &Exposure,
    findings: &mut Vec<Finding>,
) -> Result<(), Error> {
    let dir = parent(&w.path);
    let (service, port) = service_of(edits, w)?;
    let existing = edits.inv.docs().find(|d| {
        d.kind() == "Ingress"
            && parent(&d.path) == dir
            && d.value["spec"]["rules"].as_array().is_some_and(|rules| {
                rules.iter().any(|r| {
                    r["http"]["paths"].as_array().is_some_and(|ps| {
                        ps.iter()
                            .any(|p| p["backend"]["service"]["name"] == service.name())
                    })
                })
            })
    });
    if let Some(ingress) = existing {
        return edit_ingress(edits, ingress, service.name(), exposure, findings);
    }
    add_ingress(edits, w, service, exposure, port)
}

/// `w`'s Service in its directory (named after it, else selecting its pods)
/// and the port to route to (its first port's name, else number).
fn service_of<'i>(edits: &Edits<'i>, w: &Workload) -> Result<(&'i Doc, Value), Error> {
    let dir = parent(&w.path);
    let resource = format!("{}/{}", w.kind, w.name);
    let services: Vec<&Doc> = edits
        .inv
        .docs()
        .filter(|d| d.kind() == "Service" && parent(&d.path) == dir)
        .collect();
    let service = services
        .iter()
        .find(|d| d.name() == w.name)
        .or_else(|| services.iter().find(|d| selects(d, w, edits)))
        .ok_or_else(|| Error::NotApplicable {
            target: resource.clone(),
            message: format!("there is no Service for it in {dir}/ to route to; add one first"),
        })?;
    let port: Value = match &service.value["spec"]["ports"][0] {
        p if p["name"].is_string() => p["name"].clone(),
        p if p["port"].is_u64() => p["port"].clone(),
        _ => {
            return Err(Error::NotApplicable {
                target: resource,
                message: format!("Service/{} has no port to route to", service.name()),
            })
        }
    };
    Ok((*service, port))
}

/// Renders a new Ingress to `service` in `w`'s directory (`ingress.yaml`,
/// or `<name>-ingress.yaml` when that is taken), listed in the directory's
/// kustomization.
fn add_ingress(
    edits: &mut Edits<'_>,
    w: &Workload,
    service: &Doc,
    exposure: &Exposure,
    port: Value,
) -> Result<(), Error> {
    let dir = parent(&w.path);
    let file = if edits.exists(&format!("{dir}/ingress.yaml")) {
        format!("{dir}/{}-ingress.yaml", w.name)
    } else {
        format!("{dir}/ingress.yaml")
    };
    let mut labels = edits.labels.clone();
    labels.insert("app.kubernetes.io/name".into(), w.name.clone());
    labels.insert("app.kubernetes.io/managed-by".into(), "gitintent".into());
    let namespace = service.value["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default();
    let text = crate::render::ingress(service.name(), namespace, &labels, exposure, port)?;
    edits.create(&file, text);
    let name = file.rsplit('/').next().unwrap_or(&file).to_string();
    if let Some(k) = edits.kustomization_of(dir) {
        edits.edit_kustomization(&k, "resources", |text| {
            crate::repo::wire::add_resource(text, &name)
        })?;
    }
    Ok(())
}

/// True when `service`'s selector picks `w`'s pods.
fn selects(service: &Doc, w: &Workload, edits: &Edits<'_>) -> bool {
    let Some(selector) = service.value["spec"]["selector"]
        .as_object()
        .filter(|s| !s.is_empty())
    else {
        return false;
    };
    let Some(doc) = edits
        .inv
        .docs()
        .find(|d| d.path == w.path && d.document == w.document)
    else {
        return false;
    };
    let labels = if w.kind == "CronJob" {
        &doc.value["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    } else {
        &doc.value["spec"]["template"]["metadata"]["labels"]
    };
    selector.iter().all(|(k, v)| labels[k] == *v)
}

/// Edits the existing `ingress` (routing to `service`) in place as
/// `exposure` asks, keeping the rest of its file as written.
fn edit_ingress(
    edits: &mut Edits<'_>,
    ingress: &Doc,
    service: &str,
    exposure: &Exposure,
    findings: &mut Vec<Finding>,
) -> Result<(), Error> {
    let text = edits
        .text(&ingress.path)
        .ok_or_else(|| not_editable(ingress, "spec.rules"))?;
    let range = split_documents(&text)
        .get(ingress.document)
        .ok_or_else(|| not_editable(ingress, "spec.rules"))?
        .clone();
    let doc = edit_rules(edits, ingress, &text[range.clone()], service, exposure)?;
    edits.write(
        &ingress.path,
        format!("{}{doc}{}", &text[..range.start], &text[range.end..]),
    );
    tls_warning(ingress, exposure, findings);
    Ok(())
}

/// The Ingress document `doc` with `exposure`'s host and path: a host it
/// serves is kept; a new host is another rule unless the intent replaces
/// the old one (then the first rule's host, and path, are edited). What it
/// did is said in `edits.notes`.
fn edit_rules(
    edits: &mut Edits<'_>,
    ingress: &Doc,
    doc: &str,
    service: &str,
    exposure: &Exposure,
) -> Result<String, Error> {
    let rules = ingress.value["spec"]["rules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let hosts: Vec<&str> = rules.iter().filter_map(|r| r["host"].as_str()).collect();
    let resource = format!("Ingress/{}", ingress.name());
    let mut doc = doc.to_string();
    match exposure.host.as_deref() {
        Some(host) if hosts.contains(&host) => {
            edits
                .notes
                .push(format!("{resource} already serves {host}; its rules are kept"));
        }
        Some(host) if !hosts.is_empty() && !edits.replace_host => {
            let port = rules
                .iter()
                .flat_map(|r| r["http"]["paths"].as_array().cloned().unwrap_or_default())
                .find(|p| p["backend"]["service"]["name"] == service)
                .map(|p| p["backend"]["service"]["port"].clone())
                .unwrap_or(Value::Null);
            let path = exposure.path.as_deref().unwrap_or("/");
            doc = add_rule(&doc, host, path, service, &port)
                .ok_or_else(|| not_editable(ingress, "spec.rules"))?;
            edits.notes.push(format!(
                "{resource} keeps {} and now also serves {host} (say \"move\" or \"instead of\" to replace the old host)",
                hosts.join(", ")
            ));
        }
        Some(host) => {
            doc = set_in(&doc, rule_at("host"), json!(host))
                .ok_or_else(|| not_editable(ingress, "spec.rules[0].host"))?;
            if let Some(old) = hosts.first() {
                edits
                    .notes
                    .push(format!("{resource}: host {old} replaced by {host}, as asked"));
            }
            doc = with_path(ingress, doc, exposure)?;
        }
        None => doc = with_path(ingress, doc, exposure)?,
    }
    Ok(doc)
}

/// `doc` with the first rule's first path set to `exposure`'s path, if any.
fn with_path(ingress: &Doc, doc: String, exposure: &Exposure) -> Result<String, Error> {
    match &exposure.path {
        Some(path) => {
            set_in(&doc, first_path(), json!(path)).ok_or_else(|| not_editable(ingress, "paths[0].path"))
        }
        None => Ok(doc),
    }
}

/// `field` of `ingress` could not be edited in place.
fn not_editable(ingress: &Doc, field: &str) -> Error {
    Error::NotEditable {
        path: ingress.path.clone(),
        field: field.to_string(),
    }
}

/// `spec.rules[0].<k>`.
fn rule_at(k: &str) -> Vec<Seg> {
    vec![
        Seg::Key("spec".into()),
        Seg::Key("rules".into()),
        Seg::Index(0),
        Seg::Key(k.into()),
    ]
}

/// `spec.rules[0].http.paths[0].path`.
fn first_path() -> Vec<Seg> {
    let mut at = rule_at("http");
    at.extend([Seg::Key("paths".into()), Seg::Index(0), Seg::Key("path".into())]);
    at
}

fn set_in(doc: &str, path: Vec<Seg>, value: Value) -> Option<String> {
    set_scalar(doc, &path, &value)
}

/// `doc` with one more item at the end of its block sequence `spec.rules`,
/// routing `host` and `path` to `service`'s `port`, indented as the items
/// already there; `None` when `rules` is not a block sequence under `spec`.
pub(super) fn add_rule(doc: &str, host: &str, path: &str, service: &str, port: &Value) -> Option<String> {
    let lines: Vec<&str> = doc.split_inclusive('\n').collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    let spec = lines
        .iter()
        .position(|l| l.trim_end() == "spec:" && indent(l) == 0)?;
    let rules = (spec + 1..lines.len()).find(|&i| lines[i].trim_end().trim_start() == "rules:")?;
    let key_indent = indent(lines[rules]);
    let first_item = (rules + 1..lines.len())
        .find(|&i| !lines[i].trim().is_empty() && !lines[i].trim_start().starts_with('#'))?;
    let item_indent = indent(lines[first_item]);
    if !lines[first_item].trim_start().starts_with("- ") || item_indent < key_indent {
        return None;
    }
    // The rules end at the first later line indented less than an item (or,
    // for items at the key's own indentation, at a line there that is no item).
    let end = (first_item + 1..lines.len())
        .find(|&i| {
            let l = lines[i];
            let t = l.trim_start();
            !t.is_empty()
                && !t.starts_with('#')
                && (indent(l) < item_indent || (indent(l) == item_indent && !t.starts_with("- ")))
        })
        .unwrap_or(lines.len());
    // `port` is the existing backend's `{name: …}` or `{number: …}`.
    let port = match (&port["name"], &port["number"]) {
        (Value::String(name), _) => format!("name: {}", serde_json::to_string(name).ok()?),
        (_, Value::Number(n)) => format!("number: {n}"),
        _ => return None,
    };
    let pad = " ".repeat(item_indent);
    let q = |s: &str| serde_json::to_string(s).ok();
    let rule = format!(
        "{pad}- host: {}\n{pad}  http:\n{pad}    paths:\n{pad}      - path: {}\n{pad}        pathType: Prefix\n{pad}        backend:\n{pad}          service:\n{pad}            name: {}\n{pad}            port:\n{pad}              {port}\n",
        q(host)?,
        q(path)?,
        q(service)?
    );
    let mut out: String = lines[..end].concat();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&rule);
    out.push_str(&lines[end..].concat());
    Some(out)
}

/// A warning when TLS was asked for and the Ingress does not cover the host.
fn tls_warning(ingress: &Doc, exposure: &Exposure, findings: &mut Vec<Finding>) {
    let tls = ingress.value["spec"]["tls"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let covered = match exposure.host.as_deref() {
        Some(h) => tls
            .iter()
            .any(|t| t["hosts"].as_array().is_some_and(|hs| hs.iter().any(|x| x == h))),
        None => !tls.is_empty(),
    };
    if exposure.tls && !covered {
        findings.push(
            Finding::new(
                Severity::Warning,
                "ingress-tls-not-added",
                format!("Ingress/{}", ingress.name()),
                "/spec/tls",
                format!(
                    "TLS was asked for, but Ingress/{} has no tls entry for the host and this change does not add one; add it by hand (host {})",
                    ingress.name(),
                    exposure.host.as_deref().unwrap_or("*")
                ),
            )
            .in_file(&ingress.path),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_is_added_at_the_end_of_the_rules() {
        let doc = "spec:\n  rules:\n  - host: a\n    http: {}\n  tls: []\n";
        let out = add_rule(doc, "b", "/", "svc", &json!({"number": 80})).unwrap();
        assert!(out.contains("  - host: \"b\"\n"), "{out}");
        assert!(out.ends_with("  tls: []\n"), "{out}");
    }
}
