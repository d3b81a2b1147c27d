//! From file text to resources: documents, YAML/JSON parsing, `kind: List`.
//!
//! A file is split into documents on `---` lines first, so one broken
//! document does not hide the others and documents can be parsed in
//! parallel. Each document is parsed straight into a `serde_json::Value`
//! (no re-serialisation) by a visitor that
//!
//! - records duplicate keys with their JSON pointer (strict mode makes them
//!   violations; the last value wins, as with `kubectl`), and
//! - drops null-valued fields (`creationTimestamp: null`), as the API server
//!   does, so schemas need no nullable types.
//!
//! Blank and comment-only documents are not resources. A `kind: List` is
//! expanded into its items. This module does not look at schemas.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// One document of a file: its text and the line it starts on (1-based).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Document<'a> {
    pub(crate) text: &'a str,
    pub(crate) line: usize,
}

/// A resource as parsed, before any schema is consulted.
#[derive(Debug)]
pub(crate) enum Parsed {
    /// A mapping (always `Value::Object`), with the duplicate keys found in
    /// it as `(pointer, key)`.
    Object {
        value: Value,
        duplicates: Vec<(String, String)>,
    },
    /// Not a resource: a syntax error or a document that is not a mapping.
    Broken(String),
}

/// Splits `content` into its non-blank documents.
pub(crate) fn documents(content: &str) -> Vec<Document<'_>> {
    let content = content.strip_prefix('\u{feff}').unwrap_or(content);
    let mut docs = Vec::new();
    let (mut start, mut start_line, mut offset) = (0, 1, 0);
    for (number, line) in content.split_inclusive('\n').enumerate() {
        let bare = line.trim_end_matches(['\n', '\r']);
        let marker = bare.starts_with("---") && bare[3..].chars().next().is_none_or(char::is_whitespace)
            || bare == "...";
        if marker {
            push(&mut docs, &content[start..offset], start_line);
            if bare == "..." {
                (start, start_line) = (offset + line.len(), number + 2);
            } else {
                // Anything after `--- ` on the marker line belongs to the next document.
                (start, start_line) = (offset + 3, number + 1);
            }
        }
        offset += line.len();
    }
    push(&mut docs, &content[start..], start_line);
    docs
}

fn push<'a>(docs: &mut Vec<Document<'a>>, text: &'a str, line: usize) {
    if !is_blank(text) {
        docs.push(Document { text, line });
    }
}

/// True when a document holds no YAML nodes: only blank lines and comments.
fn is_blank(text: &str) -> bool {
    text.lines().all(|l| {
        let l = l.trim_start();
        l.is_empty() || l.starts_with('#')
    })
}

/// Parses one document into the resources it holds (several for a `List`).
pub(crate) fn resources(doc: Document<'_>) -> Vec<Parsed> {
    let mut duplicates = Vec::new();
    let value = match parse(doc.text, &mut duplicates) {
        Ok(value) => value,
        Err(first) => {
            // Parse again with the document at its real line, for the message.
            let padded = format!("{}{}", "\n".repeat(doc.line - 1), doc.text);
            let message = parse(&padded, &mut Vec::new()).err().unwrap_or(first);
            return vec![Parsed::Broken(message)];
        }
    };
    let mut value = match value {
        Value::Object(map) => map,
        Value::Null => return Vec::new(),
        other => {
            return vec![Parsed::Broken(format!(
                "not a Kubernetes resource: expected a mapping, found {}",
                type_name(&other)
            ))]
        }
    };
    if value.get("kind").and_then(Value::as_str) != Some("List") {
        return vec![Parsed::Object {
            value: Value::Object(value),
            duplicates,
        }];
    }
    let items = match value.remove("items") {
        Some(Value::Array(items)) => items,
        None => Vec::new(),
        Some(other) => {
            return vec![Parsed::Broken(format!(
                "List items must be a sequence, found {}",
                type_name(&other)
            ))]
        }
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::Object(value) => {
                let prefix = format!("/items/{i}");
                let duplicates = duplicates
                    .iter()
                    .filter_map(|(path, key)| {
                        let rest = path.strip_prefix(&prefix)?;
                        (rest.is_empty() || rest.starts_with('/')).then(|| (rest.to_owned(), key.clone()))
                    })
                    .collect();
                Parsed::Object {
                    value: Value::Object(value),
                    duplicates,
                }
            }
            other => Parsed::Broken(format!(
                "List item {i} is not a Kubernetes resource: expected a mapping, found {}",
                type_name(&other)
            )),
        })
        .collect()
}

/// JSON when it looks like JSON and parses as JSON, YAML otherwise.
fn parse(text: &str, duplicates: &mut Vec<(String, String)>) -> Result<Value, String> {
    let mut found = Vec::new();
    let json_like = text.trim_start().starts_with(['{', '[']);
    let parsed = if json_like {
        let mut de = serde_json::Deserializer::from_str(text);
        match Strict(&mut found)
            .deserialize(&mut de)
            .and_then(|v| de.end().map(|()| v))
        {
            Ok(value) => Ok(value),
            Err(_) => {
                found.clear();
                yaml(text, &mut found)
            }
        }
    } else {
        yaml(text, &mut found)
    };
    duplicates.extend(found.into_iter().map(Duplicate::into_pointer));
    parsed
}

fn yaml(text: &str, found: &mut Vec<Duplicate>) -> Result<Value, String> {
    let options = serde_saphyr::Options {
        // The visitor sees every pair and reports duplicates itself, with paths.
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::LastWins,
        with_snippet: false,
        ..serde_saphyr::Options::default()
    };
    let value: StrictValue =
        serde_saphyr::from_str_with_options(text, options).map_err(|e| format!("cannot parse YAML: {e}"))?;
    found.extend(value.duplicates);
    Ok(value.value)
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a sequence",
        Value::Object(_) => "a mapping",
    }
}

/// A duplicate key; `path` holds segments innermost first while unwinding.
struct Duplicate {
    path: Vec<String>,
    key: String,
}

impl Duplicate {
    fn into_pointer(self) -> (String, String) {
        let mut pointer = String::new();
        for segment in self.path.iter().rev() {
            pointer.push('/');
            pointer.push_str(&segment.replace('~', "~0").replace('/', "~1"));
        }
        (pointer, self.key)
    }
}

/// A value parsed by [`Strict`]: serde-saphyr needs an owned `Deserialize` type.
struct StrictValue {
    value: Value,
    duplicates: Vec<Duplicate>,
}

impl<'de> de::Deserialize<'de> for StrictValue {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut duplicates = Vec::new();
        let value = Strict(&mut duplicates).deserialize(deserializer)?;
        Ok(StrictValue { value, duplicates })
    }
}

/// Builds a `Value`, recording duplicate keys and dropping null fields.
struct Strict<'a>(&'a mut Vec<Duplicate>);

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML or JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // `.nan` and `.inf` have no JSON form; keep them visible as text.
        Ok(Number::from_f64(v).map_or_else(|| Value::String(v.to_string()), Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
    fn visit_newtype_struct<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        loop {
            let before = self.0.len();
            let Some(item) = seq.next_element_seed(Strict(&mut *self.0))? else {
                break;
            };
            for dup in &mut self.0[before..] {
                dup.path.push(items.len().to_string());
            }
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        let mut null_keys: Vec<String> = Vec::new();
        while let Some(key) = access.next_key::<String>()? {
            let before = self.0.len();
            let value = access.next_value_seed(Strict(&mut *self.0))?;
            for dup in &mut self.0[before..] {
                dup.path.push(key.clone());
            }
            if map.contains_key(&key) || null_keys.contains(&key) {
                self.0.push(Duplicate {
                    path: Vec::new(),
                    key: key.clone(),
                });
            }
            if value.is_null() {
                map.remove(&key);
                null_keys.push(key);
            } else {
                map.insert(key, value);
            }
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(text: &str) -> Parsed {
        let mut all = resources(Document { text, line: 1 });
        assert_eq!(all.len(), 1);
        all.remove(0)
    }

    #[test]
    fn documents_split_on_markers_and_skip_blank_ones() {
        let text = "---\n# only a comment\n---\na: 1\n--- # trailing\nb: 2\n...\n---\n\n";
        let docs = documents(text);
        let texts: Vec<_> = docs.iter().map(|d| (d.line, d.text)).collect();
        assert_eq!(texts, [(3, "\na: 1\n"), (5, " # trailing\nb: 2\n")]);
    }

    #[test]
    fn a_marker_needs_whitespace_after_the_dashes() {
        assert_eq!(documents("a: ---x\n----\n").len(), 1);
    }

    #[test]
    fn null_fields_are_dropped() {
        let Parsed::Object { value, .. } = one("a: null\nb: ~\nc:\nd: [1, null]\n") else {
            panic!("not an object")
        };
        assert_eq!(value, json!({ "d": [1, null] }));
    }

    #[test]
    fn duplicate_keys_are_reported_with_their_path() {
        let text = "spec:\n  list:\n  - a: 1\n    a: 2\n  x: 1\n  x: null\n";
        let Parsed::Object { value, duplicates } = one(text) else {
            panic!("not an object")
        };
        assert_eq!(value["spec"]["list"][0]["a"], json!(2));
        assert_eq!(
            duplicates,
            [
                ("/spec/list/0".to_owned(), "a".to_owned()),
                ("/spec".to_owned(), "x".to_owned())
            ]
        );
    }

    #[test]
    fn json_duplicates_are_found_too() {
        let Parsed::Object { duplicates, .. } = one(r#"{"a": {"b/c": {"k": 1, "k": 2}}}"#) else {
            panic!("not an object")
        };
        assert_eq!(duplicates, [("/a/b~1c".to_owned(), "k".to_owned())]);
    }

    #[test]
    fn yaml_flow_mappings_still_parse_as_yaml() {
        assert!(matches!(one("{a: 1, b: [x]}"), Parsed::Object { .. }));
    }

    #[test]
    fn syntax_errors_name_the_line_in_the_file() {
        let Parsed::Broken(message) = resources(Document {
            text: "a: [1,\n",
            line: 7,
        })
        .remove(0) else {
            panic!("parsed")
        };
        assert!(message.contains("line 8"), "{message}");
    }

    #[test]
    fn lists_expand_into_items_with_their_duplicates() {
        let text = "kind: List\nitems:\n- kind: A\n- kind: B\n  kind: C\n- 3\n";
        let items = resources(Document { text, line: 1 });
        assert_eq!(items.len(), 3);
        assert!(
            matches!(&items[1], Parsed::Object { duplicates, .. } if duplicates == &[(String::new(), "kind".to_owned())])
        );
        assert!(matches!(&items[2], Parsed::Broken(m) if m.contains("List item 2")));
    }

    #[test]
    fn scalars_are_not_resources() {
        assert!(matches!(one("just text"), Parsed::Broken(m) if m.contains("found a string")));
    }
}
