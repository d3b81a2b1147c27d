//! One validation run: parse every document, gather CRDs, check every resource.
//!
//! Parsing and checking are spread over the available cores; results keep
//! input order.

use std::num::NonZeroUsize;
use std::thread;

use serde_json::Value;

use super::parse::{self, Parsed};
use super::report::{Report, Resource, Status, Violation};
use super::schema::{self, Crds};
use crate::manifest::File;

/// How to validate.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Skip resources whose kind has no schema instead of failing them.
    pub ignore_missing_schemas: bool,
}

/// Validates every resource of `files` strictly; see the module docs.
pub fn validate(files: &[File], options: &Options) -> Report {
    let documents: Vec<(usize, parse::Document<'_>)> = files
        .iter()
        .enumerate()
        .flat_map(|(i, f)| parse::documents(&f.content).into_iter().map(move |d| (i, d)))
        .collect();
    let parsed: Vec<(usize, Parsed)> = par_map(&documents, |(file, doc)| {
        parse::resources(*doc)
            .into_iter()
            .map(|p| (*file, p))
            .collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect();
    let crds = Crds::collect(parsed.iter().filter_map(|(_, p)| match p {
        Parsed::Object { value, .. } => Some(value),
        Parsed::Broken(_) => None,
    }));
    let resources = par_map(&parsed, |(file, p)| check(&files[*file].path, p, &crds, options));
    Report {
        resources,
        files: files.len(),
    }
}

fn check(file: &str, parsed: &Parsed, crds: &Crds, options: &Options) -> Resource {
    let mut resource = Resource {
        file: file.to_owned(),
        api_version: String::new(),
        kind: String::new(),
        name: String::new(),
        status: Status::Error,
        errors: Vec::new(),
    };
    let (value, duplicates) = match parsed {
        Parsed::Object { value, duplicates } => (value, duplicates),
        Parsed::Broken(message) => return failed(resource, message.clone()),
    };
    let text = |key: &str| value.get(key).and_then(Value::as_str).filter(|s| !s.is_empty());
    resource.kind = text("kind").unwrap_or_default().to_owned();
    resource.api_version = text("apiVersion").unwrap_or_default().to_owned();
    resource.name = name(value).to_owned();
    if resource.kind.is_empty() {
        return failed(resource, "missing 'kind' key".into());
    }
    if resource.api_version.is_empty() {
        return failed(resource, "missing 'apiVersion' key".into());
    }

    let found = schema::builtin_schema(&resource.api_version, &resource.kind)
        .or_else(|| crds.schema(&resource.api_version, &resource.kind));
    let Some(found) = found else {
        if options.ignore_missing_schemas {
            resource.status = Status::Skipped;
            return resource;
        }
        let message = format!(
            "could not find schema for {} {}",
            resource.api_version, resource.kind
        );
        return failed(resource, message);
    };
    let validator = match found.validator() {
        Ok(validator) => validator,
        Err(message) => return failed(resource, message.to_owned()),
    };

    if duplicates.is_empty() && validator.is_valid(value) {
        resource.status = Status::Valid;
        return resource;
    }
    resource.status = Status::Invalid;
    resource.errors = duplicates
        .iter()
        .map(|(path, key)| Violation {
            path: path.clone(),
            message: format!("duplicate key {key:?}"),
        })
        .chain(validator.iter_errors(value).map(|e| Violation {
            path: e.instance_path().as_str().to_owned(),
            message: e.to_string(),
        }))
        .collect();
    resource
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
fn name(value: &Value) -> &str {
    let meta = value.get("metadata");
    ["name", "generateName"]
        .iter()
        .find_map(|k| meta?.get(k)?.as_str())
        .unwrap_or_default()
}

/// `items.iter().map(f)`, spread over the available cores when worth it.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    const MIN_PER_THREAD: usize = 32;
    let threads = thread::available_parallelism()
        .map_or(1, NonZeroUsize::get)
        .min(items.len() / MIN_PER_THREAD)
        .max(1);
    if threads == 1 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(|| part.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
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
        };
        let report = validate(&[file], &options);
        assert_eq!(report.resources[0].status, Status::Skipped);
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
