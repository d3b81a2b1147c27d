//! Hardening of Kubernetes schemas into the strict form we validate against.
//!
//! Used on the built-in schemas when they are generated and on CRD schemas
//! when they are found in the input, so both follow the same rules:
//!
//! - an object schema with `properties` rejects unknown fields
//!   (`additionalProperties: false`) unless it already says what extra
//!   fields may hold (a map) or carries `x-kubernetes-preserve-unknown-fields`;
//! - `x-kubernetes-int-or-string` means an integer or a string;
//! - `x-kubernetes-embedded-resource` objects may carry `apiVersion`, `kind`
//!   and `metadata` even when their schema does not list them;
//! - OpenAPI 3.0's boolean `exclusiveMinimum`/`exclusiveMaximum` become the
//!   numeric form of JSON Schema 2020-12;
//! - `description` is dropped: it is documentation, and the schemas are
//!   embedded in the binary.
//!
//! Null values need no schema change: the parser drops null-valued fields
//! before validation, as the API server does (see `yaml::parse`).

use serde_json::{Map, Value};

/// Applies the strict rules to `schema` and every schema nested in it.
pub(crate) fn harden(schema: &mut Value) {
    let Value::Object(node) = schema else { return };
    node.remove("description");
    if node.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
        node.insert("type".into(), serde_json::json!(["integer", "string"]));
    }
    if node.get("x-kubernetes-embedded-resource") == Some(&Value::Bool(true)) {
        if let Some(Value::Object(props)) = node.get_mut("properties") {
            for (key, ty) in [
                ("apiVersion", "string"),
                ("kind", "string"),
                ("metadata", "object"),
            ] {
                props
                    .entry(key)
                    .or_insert_with(|| serde_json::json!({ "type": ty }));
            }
        }
    }
    let preserves_unknown = node.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
    if node.contains_key("properties") && !node.contains_key("additionalProperties") && !preserves_unknown {
        node.insert("additionalProperties".into(), Value::Bool(false));
    }
    exclusive_bound(node, "exclusiveMinimum", "minimum");
    exclusive_bound(node, "exclusiveMaximum", "maximum");

    for (keyword, sub) in node.iter_mut() {
        match keyword.as_str() {
            "properties" | "patternProperties" | "$defs" | "definitions" | "dependentSchemas"
            | "dependencies" => {
                if let Value::Object(map) = sub {
                    map.values_mut().for_each(harden);
                }
            }
            "additionalProperties"
            | "items"
            | "not"
            | "contains"
            | "propertyNames"
            | "if"
            | "then"
            | "else"
            | "additionalItems"
            | "unevaluatedProperties"
            | "unevaluatedItems" => match sub {
                Value::Array(items) => items.iter_mut().for_each(harden),
                other => harden(other),
            },
            "allOf" | "anyOf" | "oneOf" | "prefixItems" => {
                if let Value::Array(items) = sub {
                    items.iter_mut().for_each(harden);
                }
            }
            _ => {}
        }
    }
}

/// OpenAPI 3.0 `exclusiveMaximum: true` (next to `maximum`) to 2020-12's numeric form.
fn exclusive_bound(node: &mut Map<String, Value>, exclusive: &str, inclusive: &str) {
    match node.get(exclusive) {
        Some(Value::Bool(true)) => match node.remove(inclusive) {
            Some(bound) => {
                node.insert(exclusive.into(), bound);
            }
            None => {
                node.remove(exclusive);
            }
        },
        Some(Value::Bool(false)) => {
            node.remove(exclusive);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_with_properties_reject_unknown_fields() {
        let mut schema = json!({
            "type": "object",
            "description": "gone",
            "properties": {
                "description": { "type": "string", "description": "kept as a property" },
                "labels": { "type": "object", "additionalProperties": { "type": "string" } },
                "open": { "type": "object", "properties": {}, "x-kubernetes-preserve-unknown-fields": true }
            }
        });
        harden(&mut schema);
        assert_eq!(
            schema,
            json!({
                "type": "object",
                "properties": {
                    "description": { "type": "string" },
                    "labels": { "type": "object", "additionalProperties": { "type": "string" } },
                    "open": { "type": "object", "properties": {}, "x-kubernetes-preserve-unknown-fields": true }
                },
                "additionalProperties": false
            })
        );
    }

    #[test]
    fn int_or_string_and_exclusive_bounds_are_translated() {
        let mut schema = json!({
            "items": { "x-kubernetes-int-or-string": true },
            "anyOf": [{ "type": "integer", "maximum": 5, "exclusiveMaximum": true, "exclusiveMinimum": false }]
        });
        harden(&mut schema);
        assert_eq!(
            schema,
            json!({
                "items": { "x-kubernetes-int-or-string": true, "type": ["integer", "string"] },
                "anyOf": [{ "type": "integer", "exclusiveMaximum": 5 }]
            })
        );
    }

    #[test]
    fn embedded_resources_may_carry_type_meta() {
        let mut schema = json!({
            "type": "object",
            "x-kubernetes-embedded-resource": true,
            "properties": { "spec": { "type": "object" } }
        });
        harden(&mut schema);
        let props = &schema["properties"];
        assert_eq!(props["kind"], json!({ "type": "string" }));
        assert_eq!(props["metadata"], json!({ "type": "object" }));
        assert_eq!(schema["additionalProperties"], json!(false));
    }
}
