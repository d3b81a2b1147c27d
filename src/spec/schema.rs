//! The spec's JSON schema, in the dialect OpenAI strict structured outputs accept.
//!
//! schemars generates the schema from the Rust types; [`schema`] then makes it
//! strict: every property required, `additionalProperties: false` on every
//! object, nullable values as type unions, and no keyword outside the subset
//! strict mode supports (`format`, `default`, `oneOf`, `$schema`, ...).

use serde_json::{json, Map, Value};
use std::sync::LazyLock;

use super::Spec;

/// The strict spec schema as a JSON value.
pub fn schema() -> Value {
    let mut value = schemars::schema_for!(Spec).to_value();
    strictify(&mut value);
    if let Some(obj) = value.as_object_mut() {
        obj.remove("$schema");
        obj.insert(
            "description".into(),
            json!("gitintent spec: what to deploy. Fill every field; use null where a value is not known."),
        );
    }
    value
}

/// The strict spec schema, pretty-printed with a trailing newline, exactly
/// as committed in `schemas/spec.schema.json`.
pub fn schema_json() -> String {
    let mut text = serde_json::to_string_pretty(&schema()).expect("schema serialises");
    text.push('\n');
    text
}

static VALIDATOR: LazyLock<jsonschema::Validator> =
    LazyLock::new(|| jsonschema::validator_for(&schema()).expect("the spec schema compiles"));

/// Every way `value` violates the spec schema, as `path: message` lines.
pub(super) fn violations(value: &Value) -> Vec<String> {
    VALIDATOR
        .iter_errors(value)
        .map(|e| {
            let path = e.instance_path().to_string();
            let path = if path.is_empty() { "/".to_string() } else { path };
            format!("{path}: {}", e.masked())
        })
        .collect()
}

/// Keywords OpenAI strict mode rejects or ignores; removed everywhere.
const DROPPED: &[&str] = &["format", "default", "title", "examples", "$comment"];

fn strictify(value: &mut Value) {
    match value {
        Value::Object(obj) => {
            for key in DROPPED {
                // `title` and `format` may also be property names; only drop
                // them where they are keywords (string or non-schema values).
                if obj.get(*key).is_some_and(|v| !v.is_object()) {
                    obj.remove(*key);
                }
            }
            if let Some(one_of) = obj.remove("oneOf") {
                obj.insert("anyOf".into(), one_of);
            }
            collapse_const_alternatives(obj);
            if let Some(Value::Object(props)) = obj.get("properties") {
                let required: Vec<Value> = props.keys().map(|k| Value::String(k.clone())).collect();
                obj.insert("required".into(), Value::Array(required));
                obj.insert("additionalProperties".into(), Value::Bool(false));
            }
            for (key, child) in obj.iter_mut() {
                if key == "properties" || key == "$defs" {
                    if let Value::Object(map) = child {
                        map.values_mut().for_each(strictify);
                    }
                } else {
                    strictify(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strictify),
        _ => {}
    }
}

/// `anyOf: [{type: string, const: a}, {type: string, const: b}]` becomes
/// `type: string, enum: [a, b]` (also when some alternatives are already
/// enums), the form every strict-mode model handles.
fn collapse_const_alternatives(obj: &mut Map<String, Value>) {
    let Some(Value::Array(alts)) = obj.get("anyOf") else {
        return;
    };
    let consts: Option<Vec<Vec<Value>>> = alts
        .iter()
        .map(|alt| {
            let string = alt.get("type") == Some(&json!("string"));
            match (string, alt.get("const"), alt.get("enum")) {
                (true, Some(c), _) => Some(vec![c.clone()]),
                (true, None, Some(Value::Array(e))) => Some(e.clone()),
                _ => None,
            }
        })
        .collect();
    if let Some(consts) = consts.map(|c| c.concat()) {
        obj.remove("anyOf");
        obj.insert("type".into(), json!("string"));
        obj.insert("enum".into(), Value::Array(consts));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keywords OpenAI strict structured outputs accept.
    const ALLOWED: &[&str] = &[
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "enum",
        "const",
        "anyOf",
        "$ref",
        "$defs",
        "description",
        "minimum",
        "maximum",
        "minItems",
        "maxItems",
        "pattern",
    ];

    fn walk(value: &Value, at: &str, problems: &mut Vec<String>) {
        let Value::Object(obj) = value else { return };
        for (key, child) in obj {
            if !ALLOWED.contains(&key.as_str()) {
                problems.push(format!("{at}: keyword {key} is not allowed in strict mode"));
            }
            match key.as_str() {
                "properties" | "$defs" => {
                    for (name, sub) in child.as_object().unwrap() {
                        walk(sub, &format!("{at}/{key}/{name}"), problems);
                    }
                }
                "anyOf" => {
                    for (i, sub) in child.as_array().unwrap().iter().enumerate() {
                        walk(sub, &format!("{at}/anyOf/{i}"), problems);
                    }
                }
                "items" => walk(child, &format!("{at}/items"), problems),
                _ => {}
            }
        }
        if let Some(props) = obj.get("properties").and_then(Value::as_object) {
            let required: Vec<&str> = obj["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            for name in props.keys() {
                if !required.contains(&name.as_str()) {
                    problems.push(format!("{at}: property {name} is not required"));
                }
            }
            if obj.get("additionalProperties") != Some(&Value::Bool(false)) {
                problems.push(format!("{at}: additionalProperties is not false"));
            }
        }
    }

    #[test]
    fn schema_is_accepted_by_openai_strict_mode() {
        let mut problems = Vec::new();
        walk(&schema(), "#", &mut problems);
        assert!(problems.is_empty(), "{problems:#?}");
    }

    #[test]
    fn committed_schema_matches_the_types() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/spec.schema.json");
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == schema_json(),
            "schemas/spec.schema.json is stale: run `cargo run -- schemas --write`"
        );
    }

    #[test]
    fn archetype_is_a_string_enum() {
        let s = schema();
        let arch = &s["$defs"]["Archetype"];
        assert_eq!(arch["type"], "string");
        assert!(arch["enum"].as_array().unwrap().contains(&json!("redis")));
    }
}
