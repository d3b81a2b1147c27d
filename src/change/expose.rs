//! `expose`: route a host (and path) to an existing workload's Service.
//!
//! An Ingress in the workload's directory that already routes to the Service
//! gets its first rule's host and path edited in place; otherwise a new
//! `ingress.yaml` is rendered from the same template a new component uses
//! and listed in the directory's `kustomization.yaml`.

use serde_json::{json, Value};

use super::inventory::{Doc, Workload};
use super::{Edits, Error};
use crate::finding::{Finding, Severity};
use crate::repo::parent;
use crate::spec::Exposure;
use crate::yaml_edit::{set_scalar, split_documents, Seg};

pub(super) fn apply(
    edits: &mut Edits<'_>,
    w: &Workload,
    exposure: &Exposure,
    findings: &mut Vec<Finding>,
) -> Result<(), Error> {
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
        return edit_ingress(edits, ingress, exposure, findings);
    }
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

fn edit_ingress(
    edits: &mut Edits<'_>,
    ingress: &Doc,
    exposure: &Exposure,
    findings: &mut Vec<Finding>,
) -> Result<(), Error> {
    let rule = |k: &str| {
        vec![
            Seg::Key("spec".into()),
            Seg::Key("rules".into()),
            Seg::Index(0),
            Seg::Key(k.into()),
        ]
    };
    let mut sets: Vec<(Vec<Seg>, Value)> = Vec::new();
    if let Some(host) = &exposure.host {
        sets.push((rule("host"), json!(host)));
    }
    if let Some(path) = &exposure.path {
        let mut at = rule("http");
        at.extend([Seg::Key("paths".into()), Seg::Index(0), Seg::Key("path".into())]);
        sets.push((at, json!(path)));
    }
    for (path, value) in sets {
        let not_editable = || Error::NotEditable {
            path: ingress.path.clone(),
            field: crate::yaml_edit::display(&path),
        };
        let text = edits.text(&ingress.path).ok_or_else(not_editable)?;
        let range = split_documents(&text)
            .get(ingress.document)
            .ok_or_else(not_editable)?
            .clone();
        let doc = set_scalar(&text[range.clone()], &path, &value).ok_or_else(not_editable)?;
        edits.write(
            &ingress.path,
            format!("{}{doc}{}", &text[..range.start], &text[range.end..]),
        );
    }
    if exposure.tls
        && ingress.value["spec"]["tls"]
            .as_array()
            .is_none_or(|t| t.is_empty())
    {
        findings.push(
            Finding::new(
                Severity::Warning,
                "ingress-tls-not-added",
                format!("Ingress/{}", ingress.name()),
                "/spec/tls",
                format!(
                    "TLS was asked for, but Ingress/{} has no tls section and this change does not add one; add it by hand (host {})",
                    ingress.name(),
                    exposure.host.as_deref().unwrap_or("*")
                ),
            )
            .in_file(&ingress.path),
        );
    }
    Ok(())
}
