//! One validation run: check every parsed resource, gather CRDs, check the
//! custom resources against them.
//!
//! Checking is spread over the available cores (parsing too, in
//! `manifests.rs`); results keep input order.

use std::sync::Arc;

use serde_json::Value;

use super::manifests::Manifests;
use super::names;
use super::report::{Report, Resource, Status, Violation};
use super::schema::{self, Crds};
use crate::manifest::File;
use crate::par;
use crate::yaml::resources::{Origin, Parsed};
use crate::yaml::tree::Tree;

/// How to validate.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Skip resources whose kind has no schema instead of failing them.
    pub ignore_missing_schemas: bool,
    /// Kinds not to validate, as `Kind` or `apiVersion/Kind`
    /// (e.g. `Kustomization`, `kustomize.config.k8s.io/v1beta1/Kustomization`).
    pub skip: Vec<String>,
}

impl Options {
    fn skips(&self, resource: &Resource) -> bool {
        self.skip.iter().any(|s| {
            s == &resource.kind
                || s.strip_suffix(resource.kind.as_str())
                    .and_then(|p| p.strip_suffix('/'))
                    .is_some_and(|p| p == resource.api_version)
        })
    }
}

/// Validates every resource of `files` strictly; see the module docs.
pub fn validate(files: &[File], options: &Options) -> Report {
    Manifests::parse(files).validate(options)
}

/// [`validate`] over files already parsed.
pub(crate) fn run(manifests: &Manifests<'_>, options: &Options) -> Report {
    let resources: Vec<_> = manifests.resources().collect();
    // Pass 1 checks built-in kinds. CRDs and resources of unknown kinds are kept.
    let mut checked: Vec<Checked<'_>> = par::map(&resources, 32, |&(path, parsed)| {
        first_pass(path, parsed, options)
    });
    // Pass 2: custom resources, against the CRDs of the whole input.
    let definitions: Vec<Value> = checked
        .iter()
        .filter(|c| !c.pending)
        .filter_map(|c| c.kept.as_ref())
        .map(|kept| kept.tree.to_value(kept.root))
        .collect();
    let crds = Crds::collect(&definitions);
    let pending: Vec<&mut Checked<'_>> = checked.iter_mut().filter(|c| c.pending).collect();
    let resolved = par::map(&pending, 32, |c| {
        let kept = c.kept.as_ref().expect("pending resources are kept");
        second_pass(c.resource.clone(), kept, &crds, options)
    });
    for (c, resource) in pending.into_iter().zip(resolved) {
        c.resource = resource;
    }
    Report {
        resources: checked.into_iter().map(|c| c.resource).collect(),
        files: manifests.files().len(),
    }
}

/// A resource after the first pass.
struct Checked<'s> {
    resource: Resource,
    /// The parsed resource, for CRDs and for `pending` ones.
    kept: Option<Kept<'s>>,
    /// No built-in schema: to be checked against the CRDs.
    pending: bool,
}

/// A parsed resource: `root` of `tree`, and its duplicate keys.
struct Kept<'s> {
    tree: Arc<Tree<'s>>,
    root: u32,
    duplicates: Vec<(String, String)>,
    origin: Origin<'s>,
}

fn first_pass<'s>(file: &str, parsed: &Parsed<'s>, options: &Options) -> Checked<'s> {
    let kept = match parsed {
        Parsed::Object {
            tree,
            root,
            duplicates,
            origin,
        } => Kept {
            tree: Arc::clone(tree),
            root: *root,
            duplicates: duplicates.clone(),
            origin: origin.clone(),
        },
        Parsed::Broken(message) => {
            return Checked {
                resource: failed(resource(file, None), message.clone()),
                kept: None,
                pending: false,
            }
        }
    };
    let mut resource = resource(file, Some(&kept));
    if resource.kind.is_empty() {
        resource = failed(resource, "missing 'kind' key".into());
    } else if resource.api_version.is_empty() {
        resource = failed(resource, "missing 'apiVersion' key".into());
    } else if options.skips(&resource) {
        resource.status = Status::Skipped;
    } else if let Some(found) = schema::builtin_schema(&resource.api_version, &resource.kind) {
        resource = apply(resource, found, &kept);
        let is_crd =
            resource.api_version == "apiextensions.k8s.io/v1" && resource.kind == "CustomResourceDefinition";
        return Checked {
            resource,
            kept: is_crd.then_some(kept),
            pending: false,
        };
    } else {
        return Checked {
            resource,
            kept: Some(kept),
            pending: true,
        };
    }
    Checked {
        resource,
        kept: None,
        pending: false,
    }
}

fn second_pass(resource: Resource, kept: &Kept<'_>, crds: &Crds, options: &Options) -> Resource {
    match crds.schema(&resource.api_version, &resource.kind) {
        Some(found) => apply(resource, found, kept),
        None => match super::removed::removed(&resource.api_version, &resource.kind) {
            Some(message) => failed(resource, message),
            None => missing(resource, options),
        },
    }
}

/// A resource with no schema that is not a removed built-in: skipped when asked.
fn missing(resource: Resource, options: &Options) -> Resource {
    if options.ignore_missing_schemas {
        return Resource {
            status: Status::Skipped,
            ..resource
        };
    }
    let message = format!(
        "could not find schema for {} {}",
        resource.api_version, resource.kind
    );
    failed(resource, message)
}

/// A resource from `file` named after what it says, not yet checked.
fn resource(file: &str, kept: Option<&Kept<'_>>) -> Resource {
    let text = |key: &str| {
        kept.and_then(|k| k.tree.get(k.root, key).and_then(|v| k.tree.as_str(v)))
            .unwrap_or_default()
            .to_owned()
    };
    Resource {
        file: file.to_owned(),
        api_version: text("apiVersion"),
        kind: text("kind"),
        name: kept.map(name).unwrap_or_default().to_owned(),
        status: Status::Error,
        errors: Vec::new(),
    }
}

fn apply(mut resource: Resource, schema: &schema::Schema, kept: &Kept<'_>) -> Resource {
    let (node, duplicates) = (kept.tree.node(kept.root), &kept.duplicates);
    let validator = match schema.validator() {
        Ok(validator) => validator,
        Err(message) => return failed(resource, message.to_owned()),
    };
    let names = metadata_names(&resource.kind, kept);
    if duplicates.is_empty() && names.is_empty() && validator.is_valid(node) {
        resource.status = Status::Valid;
        return resource;
    }
    resource.status = Status::Invalid;
    resource.errors = duplicates
        .iter()
        .map(|(path, key)| Violation {
            path: path.clone(),
            message: match kept.origin.repeated_key_line(path, key) {
                Some(line) => format!("duplicate key {key:?} (line {line}; the last value wins)"),
                None => format!("duplicate key {key:?} (the last value wins)"),
            },
        })
        .chain(names)
        .chain(validator.iter_errors(node).map(|e| Violation {
            path: e.instance_path().as_str().to_owned(),
            message: e.to_string(),
        }))
        .collect();
    resource
}

/// [`names::check`] on the resource's metadata strings.
fn metadata_names(kind: &str, kept: &Kept<'_>) -> Vec<Violation> {
    let tree = &kept.tree;
    let Some(meta) = tree.get(kept.root, "metadata") else {
        return Vec::new();
    };
    let text = |key: &str| tree.get(meta, key).and_then(|v| tree.as_str(v));
    names::check(kind, text("name"), text("generateName"), text("namespace"))
}

fn failed(mut resource: Resource, message: String) -> Resource {
    resource.status = Status::Error;
    resource.errors = vec![Violation {
        path: String::new(),
        message,
    }];
    resource
}

/// `metadata.name`, else `metadata.generateName`, else empty.
fn name<'k>(kept: &'k Kept<'_>) -> &'k str {
    let tree = &kept.tree;
    let meta = tree.get(kept.root, "metadata");
    ["name", "generateName"]
        .iter()
        .find_map(|k| tree.as_str(tree.get(meta?, k)?))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(content: &str) -> Report {
        let file = File {
            path: "test.yaml".into(),
            content: content.into(),
        };
        validate(&[file], &Options::default())
    }

    #[test]
    fn a_valid_deployment_is_valid() {
        let report = run(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: nginx, resources: {limits: {cpu: 0.5, memory: 1Gi}}}]\n",
        );
        assert_eq!(report.resources[0].status, Status::Valid, "{report:?}");
    }

    #[test]
    fn a_wrong_type_is_reported_at_its_path() {
        let report =
            run("apiVersion: v1\nkind: ReplicationController\nmetadata: {name: x}\nspec: {replicas: two}\n");
        let r = &report.resources[0];
        assert_eq!(r.status, Status::Invalid);
        assert_eq!(r.errors[0].path, "/spec/replicas");
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let report = run("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, nmae: y}\ndata: {a: b}\n");
        let r = &report.resources[0];
        assert_eq!(r.status, Status::Invalid);
        assert_eq!(r.errors[0].path, "/metadata");
        assert!(r.errors[0].message.contains("nmae"), "{}", r.errors[0].message);
    }

    #[test]
    fn missing_keys_are_errors_that_name_the_key() {
        let report = run("kind: Pod\n---\napiVersion: v1\n");
        assert_eq!(report.resources[0].errors[0].message, "missing 'apiVersion' key");
        assert_eq!(report.resources[1].errors[0].message, "missing 'kind' key");
        assert!(report.resources.iter().all(|r| r.status == Status::Error));
    }

    #[test]
    fn unknown_kinds_fail_unless_ignored() {
        let file = File {
            path: "cr.yaml".into(),
            content: "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n".into(),
        };
        let report = validate(std::slice::from_ref(&file), &Options::default());
        assert_eq!(report.resources[0].status, Status::Error);
        let options = Options {
            ignore_missing_schemas: true,
            ..Options::default()
        };
        let report = validate(&[file], &options);
        assert_eq!(report.resources[0].status, Status::Skipped);
    }

    #[test]
    fn removed_built_in_versions_are_errors_even_when_missing_schemas_are_ignored() {
        let file = File {
            path: "old.yaml".into(),
            content: "apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: old}\nspec: {}\n"
                .into(),
        };
        let options = Options {
            ignore_missing_schemas: true,
            ..Options::default()
        };
        let report = validate(&[file], &options);
        assert_eq!(report.resources[0].status, Status::Error);
        assert_eq!(
            report.resources[0].errors[0].message,
            "extensions/v1beta1 Deployment was removed in Kubernetes 1.16: use apps/v1"
        );
    }

    #[test]
    fn repeated_keys_are_errors_naming_their_line() {
        let report = run(concat!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n",
            "apiVersion: v1\nkind: List\nitems:\n",
            "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: b\n  data:\n    k: x\n    k: y\n",
        ));
        let r = &report.resources[1];
        assert_eq!(r.status, Status::Invalid);
        assert_eq!(r.errors[0].path, "/data");
        assert_eq!(
            r.errors[0].message,
            "duplicate key \"k\" (line 14; the last value wins)"
        );
    }

    #[test]
    fn a_flow_sequence_closed_at_its_key_column_parses_as_libyaml_reads_it() {
        // istio's spire-quickstart.yaml shape; libyaml and kubectl accept it.
        let report = run(concat!(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n",
            "  - name: c\n    image: x\n    args: [\n      \"-config\",\n      \"/run/c.conf\"\n    ]\n",
            "    command: [\"/bin/agent\",\n    \"run\"]\n",
        ));
        let r = &report.resources[0];
        assert_eq!(r.status, Status::Valid, "{r:?}");
    }

    #[test]
    fn typed_and_nested_lists_are_expanded_like_kind_list() {
        let report = run(concat!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBindingList\nitems:\n",
            "- apiVersion: rbac.authorization.k8s.io/v1\n  kind: RoleBinding\n  metadata: {name: rb}\n",
            "  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r, bogus: 1}\n",
            "- apiVersion: v1\n  kind: List\n  items:\n",
            "  - {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n",
            "  - {apiVersion: v1, kind: ConfigMap, metadata: {name: b}, data: {k: 1}}\n",
        ));
        let seen: Vec<_> = report
            .resources
            .iter()
            .map(|r| (r.kind.as_str(), r.name.as_str(), r.status))
            .collect();
        assert_eq!(
            seen,
            [
                ("RoleBinding", "rb", Status::Invalid),
                ("ConfigMap", "a", Status::Valid),
                ("ConfigMap", "b", Status::Invalid),
            ]
        );
    }

    #[test]
    fn skipped_kinds_are_not_validated() {
        let content = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, bad: 1}\n";
        let file = File {
            path: "k.yaml".into(),
            content: content.into(),
        };
        let statuses = |skip: &[&str]| {
            let options = Options {
                skip: skip.iter().map(|s| (*s).to_owned()).collect(),
                ..Options::default()
            };
            let report = validate(std::slice::from_ref(&file), &options);
            report.resources.iter().map(|r| r.status).collect::<Vec<_>>()
        };
        assert_eq!(statuses(&[]), [Status::Error, Status::Invalid]);
        assert_eq!(statuses(&["Kustomization"]), [Status::Skipped, Status::Invalid]);
        assert_eq!(
            statuses(&["kustomize.config.k8s.io/v1beta1/Kustomization", "v1/ConfigMap"]),
            [Status::Skipped, Status::Skipped]
        );
        assert_eq!(statuses(&["v2/ConfigMap"])[1], Status::Invalid);
    }

    #[test]
    fn custom_resources_are_checked_against_crds_in_the_same_input() {
        let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\nspec:\n  group: example.com\n  scope: Namespaced\n  names: {kind: Widget, plural: widgets}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          spec:\n            type: object\n            properties: {size: {type: integer}}\n";
        let report = run(&format!(
            "apiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: a}}\nspec: {{size: 1}}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: b}}\nspec: {{size: big}}\n---\n{crd}"
        ));
        let statuses: Vec<_> = report.resources.iter().map(|r| r.status).collect();
        assert_eq!(
            statuses,
            [Status::Valid, Status::Invalid, Status::Valid],
            "{report:?}"
        );
    }

    #[test]
    fn many_documents_keep_their_order() {
        let doc = |i: usize| format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\n");
        let content: Vec<String> = (0..200).map(doc).collect();
        let report = run(&content.join("---\n"));
        let names: Vec<_> = report.resources.iter().map(|r| r.name.clone()).collect();
        let expected: Vec<_> = (0..200).map(|i| format!("c{i}")).collect();
        assert_eq!(names, expected);
    }
}
