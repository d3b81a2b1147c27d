//! The schemas resources are checked against: the embedded Kubernetes bundle
//! (see `generate.rs`) and CRDs found in the input.
//!
//! The bundle is parsed on first use. Each kind's validator is compiled on
//! its first resource, from that kind's definition and the definitions it
//! references, and reused for the life of the process. CRD validators live as
//! long as the run that found them. Nothing is fetched over the network.

use std::collections::BTreeMap;
use std::sync::{LazyLock, OnceLock};

use jsonschema::{Draft, Validator};
use serde_json::{json, Map, Value};

use super::strict;
use crate::yaml::tree::TreeJson;

/// The committed bundle, embedded so validation works offline anywhere.
pub(crate) const BUNDLE: &str = include_str!("../../schemas/kubernetes/kubernetes.json");

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// A schema for one (apiVersion, kind), compiled on first use.
pub(crate) struct Schema {
    api_version: String,
    kind: String,
    source: Source,
    compiled: OnceLock<Result<Validator<TreeJson>, String>>,
}

enum Source {
    /// A definition of the embedded bundle.
    Builtin(String),
    /// A hardened CRD `openAPIV3Schema`, ready to compile.
    Crd(Value),
}

impl Schema {
    /// The validator, or why the schema does not compile.
    pub(crate) fn validator(&self) -> Result<&Validator<TreeJson>, &str> {
        self.compiled
            .get_or_init(|| {
                let schema = match &self.source {
                    Source::Builtin(definition) => builtin().rooted(definition),
                    Source::Crd(schema) => schema.clone(),
                };
                jsonschema::options_for::<TreeJson>()
                    .with_draft(Draft::Draft202012)
                    .should_validate_formats(false)
                    .build(&schema)
                    .map_err(|e| {
                        format!(
                            "the schema for {} {} does not compile: {e}",
                            self.api_version, self.kind
                        )
                    })
            })
            .as_ref()
            .map_err(String::as_str)
    }
}

/// The embedded bundle: definitions plus the sorted kind index.
struct Bundle {
    defs: Map<String, Value>,
    kinds: Vec<Schema>,
}

fn builtin() -> &'static Bundle {
    static PARSED: LazyLock<Bundle> = LazyLock::new(|| {
        let mut bundle: Value =
            serde_json::from_str(BUNDLE).expect("the embedded schema bundle is valid JSON");
        let defs = match bundle.get_mut("$defs").map(Value::take) {
            Some(Value::Object(defs)) => defs,
            _ => panic!("the embedded schema bundle has no $defs"),
        };
        let mut kinds: Vec<Schema> = bundle["kinds"]
            .as_array()
            .expect("the embedded schema bundle has a kind index")
            .iter()
            .map(|entry| Schema {
                api_version: entry["apiVersion"].as_str().unwrap_or_default().to_owned(),
                kind: entry["kind"].as_str().unwrap_or_default().to_owned(),
                source: Source::Builtin(entry["definition"].as_str().unwrap_or_default().into()),
                compiled: OnceLock::new(),
            })
            .collect();
        kinds.sort_by(|a, b| (&a.api_version, &a.kind).cmp(&(&b.api_version, &b.kind)));
        Bundle { defs, kinds }
    });
    &PARSED
}

impl Bundle {
    /// `{"$ref": "#/$defs/<definition>", "$defs": {<what it needs>}}`.
    fn rooted(&self, definition: &str) -> Value {
        json!({
            "$ref": format!("#/$defs/{definition}"),
            "$defs": self.closure(definition),
        })
    }

    /// `definition` and every definition it references, transitively.
    fn closure(&self, definition: &str) -> Map<String, Value> {
        let mut found = BTreeMap::new();
        let mut pending = vec![definition.to_owned()];
        while let Some(name) = pending.pop() {
            if found.contains_key(&name) {
                continue;
            }
            let Some(schema) = self.defs.get(&name) else {
                continue;
            };
            refs(schema, &mut pending);
            found.insert(name, schema.clone());
        }
        found.into_iter().collect()
    }
}

/// Pushes the definition names of every `#/$defs/…` reference in `value`.
fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, sub) in map {
                match (key.as_str(), sub) {
                    ("$ref", Value::String(r)) => {
                        if let Some(name) = r.strip_prefix("#/$defs/") {
                            out.push(name.to_owned());
                        }
                    }
                    _ => refs(sub, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

fn find<'s>(schemas: &'s [Schema], api_version: &str, kind: &str) -> Option<&'s Schema> {
    schemas
        .binary_search_by(|s| (s.api_version.as_str(), s.kind.as_str()).cmp(&(api_version, kind)))
        .ok()
        .map(|i| &schemas[i])
}

/// The schema of a built-in kind.
pub(crate) fn builtin_schema(api_version: &str, kind: &str) -> Option<&'static Schema> {
    find(&builtin().kinds, api_version, kind)
}

/// Schemas of custom resources, from the CRDs of one validation run.
#[derive(Default)]
pub(crate) struct Crds {
    schemas: Vec<Schema>,
}

impl Crds {
    /// Collects the served versions of every `apiextensions.k8s.io/v1` CRD
    /// among `resources`. The first CRD to define a version wins.
    pub(crate) fn collect<'a>(resources: impl IntoIterator<Item = &'a Value>) -> Crds {
        let mut schemas: Vec<Schema> = Vec::new();
        for crd in resources {
            if crd.get("apiVersion").and_then(Value::as_str) != Some("apiextensions.k8s.io/v1")
                || crd.get("kind").and_then(Value::as_str) != Some("CustomResourceDefinition")
            {
                continue;
            }
            let spec = &crd["spec"];
            let (Some(group), Some(kind)) = (spec["group"].as_str(), spec["names"]["kind"].as_str()) else {
                continue;
            };
            for version in spec["versions"].as_array().into_iter().flatten() {
                let Some(name) = version["name"].as_str() else {
                    continue;
                };
                let api_version = format!("{group}/{name}");
                if find_unsorted(&schemas, &api_version, kind) {
                    continue;
                }
                let schema = crd_schema(version["schema"]["openAPIV3Schema"].clone());
                schemas.push(Schema {
                    api_version,
                    kind: kind.to_owned(),
                    source: Source::Crd(schema),
                    compiled: OnceLock::new(),
                });
            }
        }
        schemas.sort_by(|a, b| (&a.api_version, &a.kind).cmp(&(&b.api_version, &b.kind)));
        Crds { schemas }
    }

    pub(crate) fn schema(&self, api_version: &str, kind: &str) -> Option<&Schema> {
        find(&self.schemas, api_version, kind)
    }
}

fn find_unsorted(schemas: &[Schema], api_version: &str, kind: &str) -> bool {
    schemas
        .iter()
        .any(|s| s.api_version == api_version && s.kind == kind)
}

/// A CRD version's schema in the form we validate against: strict, with the
/// type and object metadata every custom resource carries, status unchecked.
fn crd_schema(openapi: Value) -> Value {
    let mut schema = match openapi {
        Value::Object(map) => map,
        // v1 CRDs must have a schema; without one, accept any object.
        _ => return json!({ "type": "object" }),
    };
    let props = schema
        .entry("properties")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    if let Some(props) = props {
        props.insert("apiVersion".into(), json!({ "type": "string" }));
        props.insert("kind".into(), json!({ "type": "string" }));
        props.insert(
            "metadata".into(),
            json!({ "$ref": format!("#/$defs/{OBJECT_META}") }),
        );
        if let Some(status) = props.get_mut("status") {
            *status = json!({});
        }
    }
    let mut schema = Value::Object(schema);
    strict::harden(&mut schema);
    schema["$defs"] = Value::Object(builtin().closure(OBJECT_META));
    schema
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::tree::Tree;

    #[test]
    fn every_builtin_kind_compiles() {
        for schema in &builtin().kinds {
            if let Err(e) = schema.validator() {
                panic!("{e}");
            }
        }
    }

    #[test]
    fn builtin_lookup_is_by_api_version_and_kind() {
        assert!(builtin_schema("apps/v1", "Deployment").is_some());
        assert!(builtin_schema("autoscaling/v2", "HorizontalPodAutoscaler").is_some());
        assert!(builtin_schema("v1", "Deployment").is_none());
    }

    #[test]
    fn crd_versions_become_schemas() {
        let crd = json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "spec": {
                "group": "example.com",
                "names": { "kind": "Widget" },
                "versions": [{
                    "name": "v1",
                    "schema": { "openAPIV3Schema": {
                        "type": "object",
                        "properties": { "spec": { "type": "object", "properties": {
                            "size": { "x-kubernetes-int-or-string": true }
                        } } }
                    } }
                }]
            }
        });
        let crds = Crds::collect([&crd]);
        let validator = crds
            .schema("example.com/v1", "Widget")
            .unwrap()
            .validator()
            .unwrap();
        let valid = |value: Value| {
            let (tree, root) = Tree::from_value(value);
            validator.is_valid(tree.node(root))
        };
        assert!(valid(json!({ "apiVersion": "example.com/v1", "kind": "Widget",
                              "metadata": { "name": "w" }, "spec": { "size": "1" } })));
        assert!(!valid(
            json!({ "apiVersion": "example.com/v1", "kind": "Widget", "spec": { "colour": 1 } })
        ));
        assert!(!valid(json!({ "metadata": { "nmae": "w" } })));
    }
}
