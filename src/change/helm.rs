//! Workloads a Helm chart renders: found by release or chart name, changed
//! through the chart's values.
//!
//! A release is a Flux `HelmRelease` (its name, `releaseName` or chart), an
//! Argo CD `Application` with `source.helm` (its name, `releaseName` or
//! chart), or a chart directory of the repository (`Chart.yaml` `name`). An
//! update sets the conventional values in place, comments kept
//! (`crate::yaml::edit`): `replicaCount`, `image.repository` and `image.tag`
//! (`image.registry` too when the chart has one), `resources.requests|limits`.
//! Where they are written:
//! - a HelmRelease only the asked environment builds: its `spec.values`;
//!   one a base shares: the environment overlay's patch of that release
//!   (edited in place, or `<name>-values.yaml` created and listed);
//! - an Application: `helm.valuesObject`, or the `helm.parameters` entry of
//!   that name; values written as a string (`helm.values`) are refused with
//!   the file and key to edit by hand;
//! - a chart directory: `values-<environment>.yaml` next to `Chart.yaml`
//!   when there is one, else `values.yaml`.
//!
//! When the chart is in the repository, a key its `values.yaml` does not
//! have is an error naming the values file and key, never a guess; for a
//! chart from elsewhere, a warning says which conventional key was set.
//! It does not render templates, expose, or delete releases.

use serde_json::{json, Value};

use super::{overlay, Applied, Edits, Error, Outcome};
use crate::finding::{Finding, Severity};
use crate::repo::{join_relative, parent};
use crate::spec::{Change, Operation, Update};
use crate::yaml::edit::{set_scalar, split_documents, Seg};

/// Where a chart is deployed from.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Source {
    /// A Flux HelmRelease document.
    Release { path: String, document: usize },
    /// An Argo CD Application document with `source.helm`.
    Application { path: String, document: usize },
    /// A chart directory (`Chart.yaml`).
    Chart { dir: String },
}

/// A Helm-rendered workload the intent can name.
#[derive(Debug, Clone)]
pub(super) struct Found {
    pub(super) kind: &'static str,
    pub(super) name: String,
    pub(super) source: Source,
    /// The chart's own directory in the repository, when it is here.
    chart_dir: Option<String>,
    /// The chart's name, for messages.
    chart: String,
}

/// Every release or chart named `target`.
pub(super) fn find(edits: &Edits<'_>, target: &str) -> Vec<Found> {
    let mut out = Vec::new();
    for d in edits.inv.docs() {
        let v = &d.value;
        let (kind, chart, release, helm) = match d.kind() {
            "HelmRelease" => (
                "HelmRelease",
                v["spec"]["chart"]["spec"]["chart"].as_str(),
                v["spec"]["releaseName"].as_str(),
                true,
            ),
            "Application" => {
                let s = &v["spec"]["source"];
                (
                    "Application",
                    s["chart"].as_str().or_else(|| s["path"].as_str().map(last)),
                    s["helm"]["releaseName"].as_str(),
                    s["helm"].is_object(),
                )
            }
            _ => continue,
        };
        if !helm || ![Some(d.name()), chart, release].contains(&Some(target)) {
            continue;
        }
        let chart = chart.unwrap_or(target).to_string();
        let chart_dir = match kind {
            "HelmRelease" => v["spec"]["chart"]["spec"]["chart"]
                .as_str()
                .filter(|c| c.contains('/'))
                .map(|c| c.trim_start_matches("./").trim_end_matches('/').to_string()),
            _ => v["spec"]["source"]["path"]
                .as_str()
                .map(|p| p.trim_end_matches('/').to_string()),
        }
        .filter(|dir| edits.inv.text(&format!("{dir}/Chart.yaml")).is_some());
        let source = if kind == "HelmRelease" {
            Source::Release {
                path: d.path.clone(),
                document: d.document,
            }
        } else {
            Source::Application {
                path: d.path.clone(),
                document: d.document,
            }
        };
        out.push(Found {
            kind,
            name: d.name().to_string(),
            source,
            chart_dir,
            chart,
        });
    }
    charts(edits, target, &mut out);
    out
}

/// Chart directories named `target` that no release found already deploys.
fn charts(edits: &Edits<'_>, target: &str, out: &mut Vec<Found>) {
    for (path, text) in &edits.inv.texts {
        if !(path == "Chart.yaml" || path.ends_with("/Chart.yaml")) {
            continue;
        }
        let dir = parent(path).to_string();
        let name = crate::repo::parse_values(text)
            .into_iter()
            .next()
            .and_then(|v| v["name"].as_str().map(String::from));
        let claimed = out.iter().any(|f| f.chart_dir.as_deref() == Some(dir.as_str()));
        if name.as_deref() == Some(target) && !claimed {
            out.push(Found {
                kind: "Chart",
                name: target.to_string(),
                source: Source::Chart { dir: dir.clone() },
                chart_dir: Some(dir),
                chart: target.to_string(),
            });
        }
    }
}

/// The one release of `target` that `environment` deploys; `None` when
/// there is none, an ambiguity error when there are several.
pub(super) fn pick(edits: &Edits<'_>, target: &str, environment: &str) -> Result<Option<Found>, Error> {
    let all = find(edits, target);
    let path = |f: &Found| match &f.source {
        Source::Release { path, .. } | Source::Application { path, .. } => path.clone(),
        Source::Chart { dir } => format!("{dir}/Chart.yaml"),
    };
    let here: Vec<Found> = all
        .iter()
        .filter(|f| {
            let reach = edits.inv.reach(&path(f));
            reach.is_empty() || reach.iter().any(|e| e == environment)
        })
        .cloned()
        .collect();
    match here.len() {
        0 if all.is_empty() => Ok(None),
        0 => Err(Error::WrongEnvironment {
            target: target.to_string(),
            environment: environment.to_string(),
            found_in: all.iter().flat_map(|f| edits.inv.reach(&path(f))).collect(),
        }),
        1 => Ok(here.into_iter().next()),
        _ => Err(Error::Ambiguous {
            target: target.to_string(),
            candidates: here
                .iter()
                .map(|f| format!("{} {} ({})", f.kind, f.name, path(f)))
                .collect(),
            hint: "several Helm releases render it; pick the path of the one to change".into(),
            picks: here.iter().map(path).collect(),
        }),
    }
}

fn last(path: &str) -> &str {
    path.trim_end_matches('/').rsplit('/').next().unwrap_or(path)
}

/// The values an update sets, as key paths under the values root.
fn wanted(
    found: &Found,
    set: &Update,
    chart_values: Option<&Value>,
) -> Result<Vec<(Vec<String>, Value)>, Error> {
    let target = format!("{}/{}", found.kind, found.name);
    if set.exposure.is_some() || set.container.is_some() {
        return Err(Error::NotApplicable {
            target,
            message: "a Helm chart's Ingress and containers are set by its own values; edit them in the values by hand"
                .into(),
        });
    }
    let key = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut out = Vec::new();
    if let Some(n) = set.replicas {
        out.push((key(&["replicaCount"]), json!(n)));
    }
    if let Some(image) = &set.image {
        out.extend(image_values(image, chart_values));
    }
    if let Some(r) = &set.resources {
        for (section, q) in [("requests", &r.requests), ("limits", &r.limits)] {
            for (name, value) in [("cpu", &q.cpu), ("memory", &q.memory)] {
                if let Some(v) = value {
                    out.push((key(&["resources", section, name]), json!(v)));
                }
            }
        }
    }
    // A chart of the repository must read every key (resources may be empty there).
    if let (Some(values), Some(dir)) = (chart_values, &found.chart_dir) {
        if let Some(path) = out.iter().map(|(path, _)| path).find(|path| {
            let top_ok = path[0] == "resources" && values.get("resources").is_some();
            !top_ok && values.pointer(&format!("/{}", path.join("/"))).is_none()
        }) {
            return Err(Error::NotApplicable {
                target,
                message: format!(
                    "the chart at {dir} has no value {} in {dir}/values.yaml; say which of its values sets this, or edit {dir}/values.yaml (or the release's values) by hand",
                    path.join(".")
                ),
            });
        }
    }
    Ok(out)
}

/// The image values of `image`: `image.repository` (with `image.registry`
/// split off when the chart has one and the image names a registry), and
/// `image.digest` or `image.tag`.
fn image_values(image: &str, chart_values: Option<&Value>) -> Vec<(Vec<String>, Value)> {
    let key = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut out = Vec::new();
    let i = super::effective::Image::parse(image);
    let registry = chart_values.is_some_and(|v| v["image"]["registry"].is_string());
    match (registry, i.name.split_once('/')) {
        (true, Some((reg, repo))) if reg.contains(['.', ':']) => {
            out.push((key(&["image", "registry"]), json!(reg)));
            out.push((key(&["image", "repository"]), json!(repo)));
        }
        _ => out.push((key(&["image", "repository"]), json!(i.name))),
    }
    match (i.tag, i.digest) {
        (_, Some(d)) => out.push((key(&["image", "digest"]), json!(d))),
        (Some(t), None) => out.push((key(&["image", "tag"]), json!(t))),
        (None, None) => {}
    }
    out
}

/// Applies an update of a Helm-rendered workload in `environment`.
pub(super) fn apply(
    edits: &mut Edits<'_>,
    out: &mut Outcome,
    change: &Change,
    found: &Found,
    environment: &str,
) -> Result<(), Error> {
    let target = format!("{}/{}", found.kind, found.name);
    let set = change.set.clone().unwrap_or_default();
    let chart_values = found.chart_dir.as_ref().and_then(|dir| {
        let text = edits.text(&format!("{dir}/values.yaml"))?;
        crate::repo::parse_values(&text).into_iter().next()
    });
    let values = wanted(found, &set, chart_values.as_ref())?;
    let before = edits.written.clone();
    let (file, document, root) = destination(edits, found, environment, &target)?;
    write_values(edits, &file, document, &root, &values)?;
    if found.chart_dir.is_none() {
        let keys: Vec<String> = values.iter().map(|(p, _)| p.join(".")).collect();
        out.findings.push(
            Finding::new(
                Severity::Warning,
                "helm-values-unchecked",
                &target,
                "",
                format!(
                    "the chart {} is not in this repository, so {} (the conventional keys) could not be checked against its values.yaml",
                    found.chart,
                    keys.join(", ")
                ),
            )
            .in_file(&file),
        );
    }
    let paths: Vec<String> = edits
        .written
        .iter()
        .filter(|(p, t)| before.get(*p) != Some(*t))
        .map(|(p, _)| p.clone())
        .collect();
    let mut reach: Vec<String> = paths.iter().flat_map(|p| edits.inv.reach(p)).collect();
    reach.sort();
    reach.dedup();
    out.applied.push(Applied {
        operation: Operation::Update,
        target,
        namespace: String::new(),
        paths,
        reach,
    });
    Ok(())
}

/// Sets `values` under `root` in document `document` of `file`, in place.
fn write_values(
    edits: &mut Edits<'_>,
    file: &str,
    document: usize,
    root: &[String],
    values: &[(Vec<String>, Value)],
) -> Result<(), Error> {
    let text = edits.text(file).unwrap_or_default();
    let ranges = split_documents(&text);
    let range = ranges.get(document).cloned().unwrap_or(0..text.len());
    let mut doc = text[range.clone()].to_string();
    for (path, value) in values {
        let at: Vec<Seg> = root.iter().chain(path).map(|k| Seg::Key(k.clone())).collect();
        doc = set_scalar(&doc, &at, value).ok_or_else(|| Error::NotEditable {
            path: file.to_string(),
            field: crate::yaml::edit::display(&at),
        })?;
    }
    let text = format!("{}{}{}", &text[..range.start], doc, &text[range.end..]);
    if edits.exists(file) {
        edits.write(file, text);
    } else {
        edits.create(file, text);
    }
    Ok(())
}

/// The file, document and key path under which the values are written.
fn destination(
    edits: &mut Edits<'_>,
    found: &Found,
    environment: &str,
    target: &str,
) -> Result<(String, usize, Vec<String>), Error> {
    let values_root = || vec!["spec".to_string(), "values".to_string()];
    match &found.source {
        Source::Chart { dir } => {
            let own = format!("{dir}/values-{environment}.yaml");
            let file = if edits.exists(&own) {
                own
            } else {
                format!("{dir}/values.yaml")
            };
            Ok((file, 0, Vec::new()))
        }
        Source::Release { path, document } => {
            let reach = edits.inv.reach(path);
            if !reach.iter().any(|e| e != environment) {
                return Ok((path.clone(), *document, values_root()));
            }
            let Some(k) = overlay::overlay_for(edits, path, environment) else {
                return Err(Error::Shared {
                    target: target.to_string(),
                    path: path.clone(),
                    environments: reach,
                    why: format!("{environment} has no overlay kustomization to patch it in"),
                });
            };
            Ok((release_patch(edits, found, &k)?, 0, values_root()))
        }
        Source::Application { path, document } => application_values(edits, path, *document, target),
    }
}

/// Where an Argo CD Application's Helm values are written:
/// `spec.source.helm.valuesObject`; values as one string or as parameters
/// are not edited.
fn application_values(
    edits: &Edits<'_>,
    path: &str,
    document: usize,
    target: &str,
) -> Result<(String, usize, Vec<String>), Error> {
    let app = edits
        .inv
        .docs()
        .find(|d| d.path == path && d.document == document)
        .map(|d| d.value.clone())
        .unwrap_or(Value::Null);
    let helm = &app["spec"]["source"]["helm"];
    if helm["values"].is_string() {
        return Err(Error::NotApplicable {
            target: target.to_string(),
            message: format!(
                "its Helm values are one string (spec.source.helm.values in {path}); edit that string by hand, or move it to spec.source.helm.valuesObject"
            ),
        });
    }
    if helm["parameters"].is_array() && !helm["valuesObject"].is_object() {
        return Err(Error::NotApplicable {
            target: target.to_string(),
            message: format!(
                "its Helm values are spec.source.helm.parameters in {path}; add or edit the parameter by hand (e.g. name: replicaCount)"
            ),
        });
    }
    let root = ["spec", "source", "helm", "valuesObject"];
    Ok((
        path.to_string(),
        document,
        root.iter().map(|k| k.to_string()).collect(),
    ))
}

/// The overlay patch of the HelmRelease in kustomization `k`: an existing
/// patch file about it, else `<name>-values.yaml`, created and listed.
fn release_patch(edits: &mut Edits<'_>, found: &Found, k: &str) -> Result<String, Error> {
    let dir = parent(k).to_string();
    let kust = edits
        .text(k)
        .and_then(|t| crate::repo::parse_values(&t).into_iter().next())
        .unwrap_or(Value::Null);
    for entry in kust["patches"].as_array().into_iter().flatten() {
        let Some(file) = entry["path"].as_str().and_then(|p| join_relative(&dir, p)) else {
            continue;
        };
        let target_ok = entry["target"]["kind"]
            .as_str()
            .is_none_or(|k| k == "HelmRelease")
            && entry["target"]["name"].as_str().is_none_or(|n| n == found.name);
        let about = edits
            .text(&file)
            .and_then(|t| crate::repo::parse_values(&t).into_iter().next())
            .is_some_and(|v| v["kind"] == "HelmRelease" && v["metadata"]["name"] == found.name.as_str());
        if target_ok && about {
            return Ok(file);
        }
    }
    let file = format!("{dir}/{}-values.yaml", found.name);
    if !edits.exists(&file) {
        let (api, ns) = match &found.source {
            Source::Release { path, document } => {
                let doc = edits
                    .inv
                    .docs()
                    .find(|d| d.path == *path && d.document == *document);
                (
                    doc.and_then(|d| d.value["apiVersion"].as_str().map(String::from))
                        .unwrap_or_else(|| "helm.toolkit.fluxcd.io/v2".into()),
                    doc.and_then(|d| d.value["metadata"]["namespace"].as_str().map(String::from)),
                )
            }
            _ => ("helm.toolkit.fluxcd.io/v2".into(), None),
        };
        let ns = ns.map(|n| format!("  namespace: {n}\n")).unwrap_or_default();
        edits.create(
            &file,
            format!(
                "# Values for this environment only.\napiVersion: {api}\nkind: HelmRelease\nmetadata:\n  name: {}\n{ns}spec:\n  values: {{}}\n",
                found.name
            ),
        );
    }
    let name = file.rsplit('/').next().unwrap_or(&file).to_string();
    edits.edit_kustomization(k, "patches", |text| crate::repo::wire::add_patch(text, &name))?;
    Ok(file)
}
