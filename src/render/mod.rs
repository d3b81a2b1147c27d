//! Render: a checked [`Spec`] to manifest files through minijinja templates.
//!
//! Input is a spec that has passed [`Spec::normalize`]; output is one
//! directory of YAML files per component, at the path the repo's [`Layout`]
//! gives. Decisions live in `context.rs`; the templates under `templates/`
//! (embedded at build time) only lay values out. Every rendered document is
//! parsed back and re-emitted, so a template bug becomes a render error, not
//! a broken file, and output formatting is uniform.
//!
//! This stage does not validate against Kubernetes schemas (see
//! [`crate::validate`]) and never takes a path from the spec.

mod context;
mod endpoints;
mod namespace;
mod objects;
mod pod;
mod probe;
mod spread;
mod start;
pub mod stores;
mod templates;
mod workload;

use std::collections::BTreeMap;

use crate::finding::Finding;
use crate::manifest::File;
use crate::repo::Layout;
use crate::spec::Spec;
use stores::Members;

/// Rendering faults. These are bugs in templates, not user errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A template failed to render.
    #[error("template {name} failed to render")]
    Template {
        name: String,
        #[source]
        source: minijinja::Error,
    },
    /// A template produced text that is not YAML.
    #[error("template {name} produced invalid YAML: {message}")]
    Yaml { name: String, message: String },
}

/// Rendered files plus the findings raised while rendering.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    pub files: Vec<File>,
    pub findings: Vec<Finding>,
}

/// Renders every component of `spec` into files under `layout`.
///
/// `labels` are extra labels (from `.gitintent.yaml`) put on every resource.
pub fn render(spec: &Spec, layout: &Layout, labels: &BTreeMap<String, String>) -> Result<Rendered, Error> {
    render_in(spec, layout, labels, &[], false)
}

/// [`render`], where `operators` are the API groups of the data-store
/// operators the repository already uses (`Conventions::operators`): a data
/// store they run becomes the operator's resource (see `stores.rs`).
pub fn render_with(
    spec: &Spec,
    layout: &Layout,
    labels: &BTreeMap<String, String>,
    operators: &[String],
) -> Result<Rendered, Error> {
    render_in(spec, layout, labels, operators, false)
}

/// [`render_with`], also creating the spec's namespace when `new_namespace`
/// (the repository does not use it yet): a `Namespace` with Pod Security
/// labels in the first component's directory (see [`namespace`]).
pub fn render_in(
    spec: &Spec,
    layout: &Layout,
    labels: &BTreeMap<String, String>,
    operators: &[String],
    new_namespace: bool,
) -> Result<Rendered, Error> {
    let mut out = Rendered::default();
    let rewired = endpoints::rewire(spec, operators, &mut out.findings);
    let spec = rewired.as_ref().unwrap_or(spec);
    for (n, comp) in spec.components.iter().enumerate() {
        let members = stores::members(comp, context::replicas(comp), operators, &mut out.findings);
        let app = context::app(spec, comp, labels, members, &mut out.findings);
        let dir = layout.directory(&spec.environment, &spec.namespace, &comp.name);
        let mut docs = Vec::new();
        if let Some(nctx) = (n == 0 && new_namespace)
            .then(|| namespace::context(spec, labels, &mut out.findings))
            .flatten()
        {
            docs.push((
                "namespace.yaml".to_string(),
                templates::render("namespace.yaml.j2", &nctx)?,
            ));
        }
        docs.extend(match members {
            Members::Operator(op) => operator_docs(&app, op)?,
            _ => component_docs(&app, comp)?,
        });
        let names: Vec<&str> = docs.iter().map(|(file, _)| file.as_str()).collect();
        let app_value = minijinja::Value::from(minijinja::value::Serde(&app));
        let kctx = minijinja::context! { app => app_value, files => minijinja::value::Serde(&names) };
        let kustomization = templates::render("kustomization.yaml.j2", &kctx)?;
        for (file, text) in docs
            .iter()
            .map(|(f, t)| (f.as_str(), t))
            .chain([("kustomization.yaml", &kustomization)])
        {
            out.files.push(File {
                path: format!("{dir}/{file}"),
                content: templates::reformat(file, text)?,
            });
        }
    }
    Ok(out)
}

/// The files of a component we run ourselves: (file name, rendered text).
fn component_docs(app: &context::App, comp: &crate::spec::Component) -> Result<Vec<(String, String)>, Error> {
    let mut docs: Vec<(String, String)> = Vec::new();
    let app_value = minijinja::Value::from(minijinja::value::Serde(app));
    let ctx = minijinja::context! { app => app_value.clone() };
    let mut emit = |file: &str, template: &str, ctx: &minijinja::Value| -> Result<(), Error> {
        docs.push((file.to_string(), templates::render(template, ctx)?));
        Ok(())
    };
    let Some(kind) = comp.workload_kind() else {
        // No workload of ours: the Service over existing pods and the objects.
        if app.service {
            emit("service.yaml", "service.yaml.j2", &ctx)?;
        }
        if app.exposure.is_some() && app.service {
            emit("ingress.yaml", "ingress.yaml.j2", &ctx)?;
        }
        object_docs(app, &mut emit, &ctx)?;
        return Ok(docs);
    };
    emit("serviceaccount.yaml", "serviceaccount.yaml.j2", &ctx)?;
    if !app.rbac.is_null() {
        emit("rbac.yaml", "rbac.yaml.j2", &ctx)?;
    }
    if app.sentinel {
        let headless = format!("{}-headless", app.name);
        let quorum = context::replicas(comp) / 2 + 1;
        let vars = minijinja::context! { app => app_value.clone(), headless => headless, quorum => quorum };
        let scripts = minijinja::context! {
            redis => templates::render("archetypes/redis/start-redis.sh.j2", &vars)? + "\n",
            sentinel => templates::render("archetypes/redis/start-sentinel.sh.j2", &vars)? + "\n",
        };
        let ctx = minijinja::context! { app => app_value.clone(), scripts => scripts };
        emit("configmap.yaml", "archetypes/redis/configmap.yaml.j2", &ctx)?;
    }
    if app.config.is_some() {
        emit("configmap.yaml", "archetypes/config.yaml.j2", &ctx)?;
    }
    if app.storage_needs_claim(kind) {
        emit("pvc.yaml", "pvc.yaml.j2", &ctx)?;
    }
    let workload_file = format!("{}.yaml", workload::name(Some(kind)));
    emit(&workload_file, &format!("{workload_file}.j2"), &ctx)?;
    if app.service {
        emit("service.yaml", "service.yaml.j2", &ctx)?;
    }
    if app.exposure.is_some() && app.service {
        emit("ingress.yaml", "ingress.yaml.j2", &ctx)?;
    }
    if app.autoscaling.is_some() {
        emit("hpa.yaml", "hpa.yaml.j2", &ctx)?;
    }
    if app.pdb {
        emit("pdb.yaml", "pdb.yaml.j2", &ctx)?;
    }
    if !app.allow_from.is_empty() {
        emit("networkpolicy.yaml", "networkpolicy.yaml.j2", &ctx)?;
    }
    object_docs(app, &mut emit, &ctx)?;
    Ok(docs)
}

/// The component's ConfigMaps, PersistentVolumes and StorageClasses, a file per kind.
fn object_docs(
    app: &context::App,
    emit: &mut impl FnMut(&str, &str, &minijinja::Value) -> Result<(), Error>,
    ctx: &minijinja::Value,
) -> Result<(), Error> {
    for (key, file) in [
        ("config_maps", "configmaps.yaml"),
        ("persistent_volumes", "persistentvolumes.yaml"),
        ("storage_classes", "storageclasses.yaml"),
    ] {
        if app.objects[key].as_array().is_some_and(|l| !l.is_empty()) {
            emit(file, &format!("{file}.j2"), ctx)?;
        }
    }
    Ok(())
}

/// The operator's resource for a data store the repository's operator runs.
fn operator_docs(app: &context::App, op: &stores::Operator) -> Result<Vec<(String, String)>, Error> {
    let Some(template) = op.template else {
        return Ok(Vec::new());
    };
    let version = app.image_tag().unwrap_or_default();
    let mut pool_labels = app.labels().clone();
    pool_labels.insert("strimzi.io/cluster".into(), app.name.clone());
    let rf = app.replicas().min(3);
    let ctx = minijinja::context! {
        app => minijinja::value::Serde(app),
        version => version,
        pool_labels => minijinja::value::Serde(&pool_labels),
        rf => rf,
        isr => rf.saturating_sub(1).max(1),
    };
    let file = format!("{}.yaml", op.kind.to_ascii_lowercase());
    Ok(vec![(file, templates::render(template, &ctx)?)])
}

/// An Ingress routing `exposure` to the Service `service` (port `port`: a
/// name, or a number), for a workload that already exists (a day-2
/// `expose`); the same template as a new component's Ingress. An empty
/// `namespace` is left out (the kustomization above sets it).
pub fn ingress(
    service: &str,
    namespace: &str,
    labels: &BTreeMap<String, String>,
    exposure: &crate::spec::Exposure,
    port: serde_json::Value,
) -> Result<String, Error> {
    let app = serde_json::json!({
        "name": service,
        "namespace": namespace,
        "labels": labels,
        "exposure": {
            "tls": exposure.tls,
            "host": exposure.host,
            "path": exposure.path.as_deref().unwrap_or("/"),
            "port": port,
        },
    });
    let ctx = minijinja::context! { app => minijinja::value::Serde(&app) };
    templates::reformat("ingress.yaml", &templates::render("ingress.yaml.j2", &ctx)?)
}

#[cfg(test)]
mod kinds_tests;
#[cfg(test)]
mod options_tests;
#[cfg(test)]
mod tests;
