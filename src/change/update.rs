//! An update: new values written into the existing workload's document,
//! line by line, so every comment, key order and blank line it does not
//! change stays as written; `expose` adds or edits an Ingress next to it.

use serde_json::{json, Value};

use super::inventory::{Container, Workload};
use super::{Edits, Error};
use crate::finding::{Finding, Severity};
use crate::spec::Update;
use crate::yaml::edit::{set_scalar, Seg};

/// Kinds with a replica count.
const SCALABLE: [&str; 3] = ["Deployment", "StatefulSet", "ReplicaSet"];

fn key(k: &str) -> Seg {
    Seg::Key(k.to_string())
}

/// The path of a workload's pod spec.
pub(super) fn pod_path(kind: &str) -> Vec<Seg> {
    if kind == "CronJob" {
        ["spec", "jobTemplate", "spec", "template", "spec"]
            .map(key)
            .to_vec()
    } else {
        ["spec", "template", "spec"].map(key).to_vec()
    }
}

/// Applies `set` to `w`; `findings` gets warnings about what the update does not control.
pub(super) fn apply(
    edits: &mut Edits<'_>,
    w: &Workload,
    set: &Update,
    findings: &mut Vec<Finding>,
) -> Result<(), Error> {
    let resource = format!("{}/{}", w.kind, w.name);
    if let Some(n) = set.replicas {
        check_scalable(w, findings, edits)?;
        edit(edits, w, &[key("spec"), key("replicas")], json!(n))?;
    }
    if set.image.is_some() || set.resources.is_some() {
        let container = choose_container(w, set)?;
        let mut at = pod_path(&w.kind);
        at.extend([key("containers"), Seg::Named(container.name.clone())]);
        if let Some(image) = &set.image {
            edit(edits, w, &[at.clone(), vec![key("image")]].concat(), json!(image))?;
        }
        if let Some(r) = &set.resources {
            for (section, q) in [("requests", &r.requests), ("limits", &r.limits)] {
                for (name, value) in [("cpu", &q.cpu), ("memory", &q.memory)] {
                    if let Some(v) = value {
                        let path = [at.clone(), vec![key("resources"), key(section), key(name)]].concat();
                        edit(edits, w, &path, json!(v))?;
                    }
                }
            }
            check_requests(edits, w, &container.name, &resource, findings);
        }
    }
    if let Some(exposure) = &set.exposure {
        super::expose::apply(edits, w, exposure, findings)?;
    }
    Ok(())
}

/// Refuses a replica count for a kind without one, and warns when an HPA next
/// to the workload manages the count.
pub(super) fn check_scalable(
    w: &Workload,
    findings: &mut Vec<Finding>,
    edits: &Edits<'_>,
) -> Result<(), Error> {
    let resource = format!("{}/{}", w.kind, w.name);
    if !SCALABLE.contains(&w.kind.as_str()) {
        return Err(Error::NotApplicable {
            target: resource,
            message: format!("a {} has no replica count", w.kind),
        });
    }
    let hpa = edits.inv.docs().find(|d| {
        d.kind() == "HorizontalPodAutoscaler"
            && d.value["spec"]["scaleTargetRef"]["name"] == w.name.as_str()
            && d.value["spec"]["scaleTargetRef"]["kind"] == w.kind.as_str()
            && crate::repo::parent(&d.path) == crate::repo::parent(&w.path)
    });
    if let Some(hpa) = hpa {
        findings.push(
            Finding::new(
                Severity::Warning,
                "replicas-managed-by-hpa",
                &resource,
                "/spec/replicas",
                format!(
                    "HorizontalPodAutoscaler/{} ({}) sets the replica count between {} and {}; spec.replicas only applies until it acts",
                    hpa.name(),
                    hpa.path,
                    hpa.value["spec"]["minReplicas"].as_u64().unwrap_or(1),
                    hpa.value["spec"]["maxReplicas"]
                ),
            )
            .in_file(&w.path),
        );
    }
    Ok(())
}

/// Sets one scalar of `w`'s document.
fn edit(edits: &mut Edits<'_>, w: &Workload, path: &[Seg], value: Value) -> Result<(), Error> {
    let not_editable = || Error::NotEditable {
        path: w.path.clone(),
        field: crate::yaml::edit::display(path),
    };
    let text = edits.text(&w.path).ok_or_else(not_editable)?;
    let ranges = crate::yaml::edit::split_documents(&text);
    let range = ranges.get(w.document).ok_or_else(not_editable)?.clone();
    let doc = set_scalar(&text[range.clone()], path, &value).ok_or_else(not_editable)?;
    let new = format!("{}{}{}", &text[..range.start], doc, &text[range.end..]);
    edits.write(&w.path, new);
    Ok(())
}

/// The container an image or resources change applies to.
pub(super) fn choose_container<'w>(w: &'w Workload, set: &Update) -> Result<&'w Container, Error> {
    let resource = format!("{}/{}", w.kind, w.name);
    if let Some(name) = &set.container {
        return w
            .containers
            .iter()
            .find(|c| c.name == *name)
            .ok_or_else(|| Error::NotApplicable {
                target: resource.clone(),
                message: format!("it has no container {name:?}; its containers: {}", names(w)),
            });
    }
    match w.containers.as_slice() {
        [] => Err(Error::NotApplicable {
            target: resource,
            message: "it declares no containers".into(),
        }),
        [one] => Ok(one),
        many => {
            if let Some(c) = many.iter().find(|c| c.name == w.name) {
                return Ok(c);
            }
            let repo = |image: &str| image_repository(image).to_string();
            if let Some(image) = &set.image {
                let same: Vec<&Container> = many.iter().filter(|c| repo(&c.image) == repo(image)).collect();
                if let [one] = same.as_slice() {
                    return Ok(one);
                }
            }
            Err(Error::NotApplicable {
                target: resource,
                message: format!("it has several containers ({}); say which one", names(w)),
            })
        }
    }
}

fn names(w: &Workload) -> String {
    w.containers
        .iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `ghcr.io/acme/api:1.2@sha256:…` → `ghcr.io/acme/api`.
pub(super) fn image_repository(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => repo,
        _ => image,
    }
}

/// An error finding when a request ends up above its limit.
fn check_requests(
    edits: &Edits<'_>,
    w: &Workload,
    container: &str,
    resource: &str,
    findings: &mut Vec<Finding>,
) {
    let Some(text) = edits.text(&w.path) else { return };
    let ranges = crate::yaml::edit::split_documents(&text);
    let Some(doc) = ranges
        .get(w.document)
        .and_then(|r| crate::yaml::saphyr::typed::<Value>(&text[r.clone()]).ok())
    else {
        return;
    };
    let pod = if w.kind == "CronJob" {
        &doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    } else {
        &doc["spec"]["template"]["spec"]
    };
    let Some(c) = pod["containers"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == container))
    else {
        return;
    };
    for name in ["cpu", "memory"] {
        let quantity = |section: &str| {
            let v = &c["resources"][section][name];
            v.as_str()
                .map(String::from)
                .or_else(|| v.as_f64().map(|n| n.to_string()))
        };
        let (Some(req), Some(lim)) = (quantity("requests"), quantity("limits")) else {
            continue;
        };
        if let (Some(r), Some(l)) = (crate::manifest::quantity(&req), crate::manifest::quantity(&lim)) {
            if r > l {
                findings.push(
                    Finding::new(
                        Severity::Error,
                        "request-above-limit",
                        resource,
                        format!("/spec/template/spec/containers/{container}/resources/requests/{name}"),
                        format!("the {name} request {req} would be above the limit {lim}; change both"),
                    )
                    .in_file(&w.path),
                );
            }
        }
    }
}
