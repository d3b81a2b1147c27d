//! The spec's JSON schema, in the dialect OpenAI strict structured outputs accept.
//!
//! schemars generates the schema from the Rust types; [`schema`] then makes it
//! strict: every property required, `additionalProperties: false` on every
//! object, nullable values as type unions, no keyword outside the subset
//! strict mode supports (`format`, `default`, `oneOf`, `$schema`, ...), and no
//! keyword beside a `$ref` (OpenAI answers `$ref cannot have keywords
//! {'description'}`): such a reference is replaced by its definition.

use serde_json::{json, Map, Value};
use std::sync::LazyLock;

use super::Spec;

/// The strict spec schema as a JSON value.
pub fn schema() -> Value {
    let mut value = schemars::schema_for!(Spec).to_value();
    strictify(&mut value);
    inline_refs_with_siblings(&mut value);
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

/// Replaces every `{"$ref": …, "description": …}` (a `$ref` with any other
/// keyword) by a copy of the definition with those keywords on top, then
/// drops definitions nothing refers to any more.
fn inline_refs_with_siblings(root: &mut Value) {
    let defs = root.get("$defs").cloned().unwrap_or_else(|| json!({}));
    fn walk(value: &mut Value, defs: &Value) {
        match value {
            Value::Object(obj) => {
                if obj.len() > 1 {
                    let target = obj
                        .get("$ref")
                        .and_then(Value::as_str)
                        .and_then(|r| r.strip_prefix("#/$defs/"))
                        .and_then(|name| defs.get(name));
                    if let Some(Value::Object(def)) = target {
                        let mut inlined = def.clone();
                        for (key, sibling) in obj.iter().filter(|(k, _)| *k != "$ref") {
                            inlined.insert(key.clone(), sibling.clone());
                        }
                        *obj = inlined;
                    }
                }
                obj.values_mut().for_each(|v| walk(v, defs));
            }
            Value::Array(items) => items.iter_mut().for_each(|v| walk(v, defs)),
            _ => {}
        }
    }
    walk(root, &defs);
    // Definitions may refer to each other: prune until nothing changes.
    loop {
        let text = root.to_string();
        let Some(Value::Object(defs)) = root.get_mut("$defs") else {
            return;
        };
        let before = defs.len();
        defs.retain(|name, _| text.contains(&format!("\"#/$defs/{name}\"")));
        if defs.len() == before {
            return;
        }
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

    /// Keywords OpenAI strict structured outputs accept ("Supported
    /// schemas"), with the types each one applies to (`None`: any type).
    const ALLOWED: &[(&str, Option<&[&str]>)] = &[
        ("type", None),
        ("description", None),
        ("enum", None),
        ("const", None),
        ("anyOf", None),
        ("$ref", None),
        ("$defs", None),
        ("properties", Some(&["object"])),
        ("required", Some(&["object"])),
        ("additionalProperties", Some(&["object"])),
        ("items", Some(&["array"])),
        ("minItems", Some(&["array"])),
        ("maxItems", Some(&["array"])),
        ("pattern", Some(&["string"])),
        ("format", Some(&["string"])),
        ("minimum", Some(&["number", "integer"])),
        ("maximum", Some(&["number", "integer"])),
        ("exclusiveMinimum", Some(&["number", "integer"])),
        ("exclusiveMaximum", Some(&["number", "integer"])),
        ("multipleOf", Some(&["number", "integer"])),
    ];
    const TYPES: &[&str] = &[
        "string", "number", "integer", "boolean", "object", "array", "null",
    ];
    /// OpenAI's documented size limits.
    const MAX_DEPTH: usize = 10;
    const MAX_PROPERTIES: usize = 5_000;
    const MAX_STRING_CHARS: usize = 120_000;
    const MAX_ENUM_VALUES: usize = 1_000;
    const LARGE_ENUM: usize = 250;
    const MAX_LARGE_ENUM_CHARS: usize = 15_000;

    /// Everything the rules count, over the whole schema.
    #[derive(Default, Debug)]
    struct Tally {
        properties: usize,
        string_chars: usize,
        enum_values: usize,
        problems: Vec<String>,
    }

    fn types_of(obj: &Map<String, Value>) -> Vec<&str> {
        match obj.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    fn walk(value: &Value, at: &str, tally: &mut Tally) {
        let Value::Object(obj) = value else {
            tally.problems.push(format!("{at}: a schema must be an object"));
            return;
        };
        let problems = &mut tally.problems;
        if obj.contains_key("$ref") && obj.len() > 1 {
            let keys: Vec<&String> = obj.keys().filter(|k| *k != "$ref").collect();
            problems.push(format!("{at}: $ref cannot have keywords {keys:?}"));
        }
        let types = types_of(obj);
        for t in &types {
            if !TYPES.contains(t) {
                problems.push(format!("{at}: type {t} is not supported"));
            }
        }
        for key in obj.keys() {
            match ALLOWED.iter().find(|(k, _)| k == key) {
                None => problems.push(format!("{at}: keyword {key} is not allowed in strict mode")),
                Some((_, Some(applies))) if !types.iter().any(|t| applies.contains(t)) => problems.push(
                    format!("{at}: keyword {key} needs type {applies:?}, not {types:?}"),
                ),
                _ => {}
            }
        }
        if types.contains(&"object") || obj.contains_key("properties") {
            check_object(obj, at, tally);
        }
        for (key, child) in obj {
            match (key.as_str(), child) {
                ("properties" | "$defs", Value::Object(map)) => {
                    for (name, sub) in map {
                        tally.string_chars += name.chars().count();
                        walk(sub, &format!("{at}/{key}/{name}"), tally);
                    }
                }
                ("anyOf", Value::Array(alts)) => {
                    for (i, sub) in alts.iter().enumerate() {
                        walk(sub, &format!("{at}/anyOf/{i}"), tally);
                    }
                }
                ("items", _) => walk(child, &format!("{at}/items"), tally),
                ("enum", Value::Array(values)) => count_enum(values, at, tally),
                ("const", Value::String(c)) => tally.string_chars += c.chars().count(),
                _ => {}
            }
        }
    }

    fn check_object(obj: &Map<String, Value>, at: &str, tally: &mut Tally) {
        let empty = Map::new();
        let props = obj.get("properties").and_then(Value::as_object).unwrap_or(&empty);
        tally.properties += props.len();
        let required: Vec<&str> = obj
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for name in props.keys() {
            if !required.contains(&name.as_str()) {
                tally
                    .problems
                    .push(format!("{at}: property {name} is not required"));
            }
        }
        if obj.get("additionalProperties") != Some(&Value::Bool(false)) {
            tally
                .problems
                .push(format!("{at}: additionalProperties is not false"));
        }
    }

    fn count_enum(values: &[Value], at: &str, tally: &mut Tally) {
        tally.enum_values += values.len();
        let chars: usize = values
            .iter()
            .filter_map(Value::as_str)
            .map(|v| v.chars().count())
            .sum();
        tally.string_chars += chars;
        if values.len() > LARGE_ENUM && chars > MAX_LARGE_ENUM_CHARS {
            tally.problems.push(format!(
                "{at}: an enum of {} values has {chars} characters",
                values.len()
            ));
        }
    }

    /// Object nesting depth, following references (a cycle counts as too deep).
    fn depth(value: &Value, root: &Value, seen: usize) -> usize {
        if seen > MAX_DEPTH + 1 {
            return seen;
        }
        let Value::Object(obj) = value else { return 0 };
        if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
            let target = r.strip_prefix("#/$defs/").and_then(|n| root["$defs"].get(n));
            return target.map_or(0, |t| depth(t, root, seen));
        }
        let own = usize::from(obj.contains_key("properties"));
        let children = obj
            .iter()
            .filter(|(k, _)| *k != "$defs")
            .flat_map(|(k, v)| match (k.as_str(), v) {
                ("properties", Value::Object(m)) => m.values().collect::<Vec<_>>(),
                ("anyOf", Value::Array(a)) => a.iter().collect(),
                ("items", v) => vec![v],
                _ => Vec::new(),
            })
            .map(|child| depth(child, root, seen + own))
            .max()
            .unwrap_or(0);
        own + children
    }

    #[test]
    fn schema_is_accepted_by_openai_strict_mode() {
        let schema = schema();
        let mut tally = Tally::default();
        walk(&schema, "#", &mut tally);
        assert!(tally.problems.is_empty(), "{:#?}", tally.problems);
        assert_eq!(schema["type"], "object", "the root is an object");
        assert!(schema.get("anyOf").is_none(), "the root is not an anyOf");
        for reference in schema.to_string().split("\"$ref\":\"").skip(1) {
            let target = reference.split('"').next().unwrap();
            let name = target
                .strip_prefix("#/$defs/")
                .unwrap_or_else(|| panic!("{target}"));
            assert!(schema["$defs"].get(name).is_some(), "{target} is not defined");
        }
        let depth = depth(&schema, &schema, 0);
        // Measured, for the record (`--nocapture`): how close the schema is to each limit.
        eprintln!(
            "spec schema: {depth}/{MAX_DEPTH} levels, {}/{MAX_PROPERTIES} properties, {}/{MAX_ENUM_VALUES} enum values, {}/{MAX_STRING_CHARS} characters",
            tally.properties, tally.enum_values, tally.string_chars
        );
        assert!(depth <= MAX_DEPTH, "{depth} levels of nesting");
        assert!(tally.properties <= MAX_PROPERTIES, "{tally:?}");
        assert!(tally.string_chars <= MAX_STRING_CHARS, "{tally:?}");
        assert!(tally.enum_values <= MAX_ENUM_VALUES, "{tally:?}");
    }

    #[test]
    fn the_strict_mode_check_finds_what_openai_refuses() {
        let bad = json!({
            "type": "object",
            "properties": {
                "a": {"$ref": "#/$defs/A", "description": "x"},
                "b": {"type": "string", "minLength": 1},
                "c": {"type": "integer", "pattern": "^1$"},
                "d": {"type": "object", "properties": {}}
            },
            "required": ["a", "b"],
            "additionalProperties": false,
            "$defs": {"A": {"type": "string"}}
        });
        let mut tally = Tally::default();
        walk(&bad, "#", &mut tally);
        let problems = tally.problems.join("\n");
        for expected in [
            "#/properties/a: $ref cannot have keywords [\"description\"]",
            "#/properties/b: keyword minLength is not allowed",
            "#/properties/c: keyword pattern needs type",
            "#: property c is not required",
            "#/properties/d: additionalProperties is not false",
        ] {
            assert!(problems.contains(expected), "{expected} in\n{problems}");
        }
    }

    #[test]
    fn a_ref_with_a_description_is_inlined_and_unused_definitions_dropped() {
        let s = schema();
        let archetype = &s["$defs"]["Component"]["properties"]["archetype"];
        assert_eq!(archetype["type"], "string");
        assert!(archetype["description"]
            .as_str()
            .unwrap()
            .starts_with("What kind of thing"));
        assert!(archetype["enum"].as_array().unwrap().contains(&json!("redis")));
        let limits = &s["$defs"]["Resources"]["properties"]["limits"];
        assert_eq!(limits["description"], "The ceiling.");
        assert_eq!(limits["additionalProperties"], false);
        assert!(s["$defs"].get("Quantities").is_none(), "{:?}", s["$defs"]);
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
}
