//! From file text to trees: documents, YAML/JSON parsing.
//!
//! A file is split into documents on `---` lines first, so one broken
//! document does not hide the others and documents can be parsed in
//! parallel. Each document becomes a [`Tree`]: by the fast parser of
//! `fast` when the YAML is of the common kind, else through serde-saphyr
//! (or serde_json for JSON) and the strict visitor below. Either way
//!
//! - duplicate keys are recorded with their JSON pointer (the last value
//!   wins, as with `kubectl`; validation makes them violations), and
//! - null-valued fields (`creationTimestamp: null`) are dropped, as the API
//!   server does, so schemas need no nullable types.
//!
//! Blank and comment-only documents are skipped. This module does not know
//! about Kubernetes resources (`kind: List` is `validate`'s) or schemas.

use std::fmt;
use std::ops::Range;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::tree::Tree;

/// One document of a file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Document<'a> {
    pub(crate) text: &'a str,
    /// The line of the file that `text` starts on (1-based), counted once by
    /// the splitter: counting it per document would make a stream of many
    /// documents quadratic.
    line: usize,
}

impl<'a> Document<'a> {
    /// `text`, a slice of `file`, with its line counted from the file's start.
    pub(crate) fn within(text: &'a str, file: &'a str) -> Document<'a> {
        let offset = (text.as_ptr() as usize).saturating_sub(file.as_ptr() as usize);
        let line = newlines(file.get(..offset).unwrap_or_default()) + 1;
        Document { text, line }
    }

    /// A whole file as one document.
    #[cfg(test)]
    pub(crate) fn whole(text: &'a str) -> Document<'a> {
        Document::within(text, text)
    }

    /// The line of the file the document starts on (1-based).
    pub(crate) fn line(&self) -> usize {
        self.line
    }
}

/// Splits `file` into about `n` runs of whole documents of at least
/// `min_chunk` bytes, cut at `---` lines, so that big streams can be parsed
/// in parallel.
pub(crate) fn chunks(file: &str, n: usize, min_chunk: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for k in 1..n.min(file.len() / min_chunk) {
        let mut target = (file.len() / n * k).max(start);
        while !file.is_char_boundary(target) {
            target += 1;
        }
        let Some(marker) = next_marker(file, target) else {
            break;
        };
        out.push(&file[start..marker]);
        start = marker;
    }
    out.push(&file[start..]);
    out
}

/// The start of the first `---` marker line at or after `from` (not at 0).
fn next_marker(content: &str, mut from: usize) -> Option<usize> {
    loop {
        let marker = content[from..].find("\n---")? + from + 1;
        from = marker + 3;
        if content[from..].chars().next().is_none_or(char::is_whitespace) {
            return Some(marker);
        }
    }
}

/// Splits `chunk` (all of `file`, or a run of its documents) into its
/// non-blank documents.
pub(crate) fn documents<'a>(chunk: &'a str, file: &'a str) -> Vec<Document<'a>> {
    let mut line = Document::within(chunk, file).line;
    let mut counted = 0;
    let mut out = Vec::new();
    for range in ranges(chunk) {
        line += newlines(&chunk[counted..range.start]);
        counted = range.start;
        let text = &chunk[range];
        if !is_blank(text) {
            out.push(Document { text, line });
        }
    }
    out
}

/// Byte ranges of every document of `text`, blank ones included: the text
/// between `---` marker lines and `...` end markers (a marker needs
/// whitespace or the line's end after it). What follows `---` on its line
/// belongs to the next document; a leading byte order mark to none. The one
/// document splitter: [`documents`] and `edit::split_documents` are views of it.
pub(crate) fn ranges(text: &str) -> Vec<Range<usize>> {
    let skip = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let content = &text[skip..];
    let mut out = Vec::new();
    let mut push = |range: Range<usize>| out.push(range.start + skip..range.end + skip);
    if content.starts_with("...") || content.contains("\n...") {
        // End markers too: line by line.
        let (mut start, mut offset) = (0, 0);
        for line in content.split_inclusive('\n') {
            let bare = line.trim_end_matches(['\n', '\r']);
            if bare == "..." {
                push(start..offset);
                start = offset + line.len();
            } else if bare.starts_with("---") && bare[3..].chars().next().is_none_or(char::is_whitespace) {
                push(start..offset);
                start = offset + 3;
            }
            offset += line.len();
        }
        push(start..content.len());
        return out;
    }
    // Only `---` markers: jump from one to the next.
    let is_marker_at_start =
        content.starts_with("---") && content[3..].chars().next().is_none_or(char::is_whitespace);
    let mut start = if is_marker_at_start { 3 } else { 0 };
    while let Some(marker) = next_marker(content, start) {
        push(start..marker);
        // Anything after `--- ` on the marker line belongs to the next document.
        start = marker + 3;
    }
    push(start..content.len());
    out
}

fn newlines(text: &str) -> usize {
    text.bytes().filter(|&b| b == b'\n').count()
}

/// True when a document holds no YAML nodes: only blank lines and comments.
fn is_blank(text: &str) -> bool {
    text.lines().all(|l| {
        let l = l.trim_start();
        l.is_empty() || l.starts_with('#')
    })
}

/// A document parsed into a tree.
pub(crate) struct Parsed<'s> {
    pub(crate) tree: Tree<'s>,
    pub(crate) root: u32,
    /// The duplicate keys found in it as `(pointer, key)`, in pointer order.
    pub(crate) duplicates: Vec<(String, String)>,
}

/// Parses one document into a tree. A syntax error names the line in the
/// whole file.
pub(crate) fn document(doc: Document<'_>) -> Result<Parsed<'_>, String> {
    let mut duplicates = Vec::new();
    match parse(doc.text, &mut duplicates) {
        Ok((tree, root)) => {
            // The order in which parsers find duplicates is theirs; report them by path.
            duplicates.sort();
            Ok(Parsed {
                tree,
                root,
                duplicates,
            })
        }
        // The parsers count lines from the document's start; the message names the file's.
        Err(message) => Err(shift_lines(&message, doc.line() - 1)),
    }
}

/// `message` with the line numbers the parsers write (`at line N, column`,
/// and `(line N)` of the limits) moved down by `by` lines. Parsing the
/// document again behind `by` blank lines would say the same, at a cost that
/// grows with the document's place in the file: a stream of many broken
/// documents would be quadratic.
fn shift_lines(message: &str, by: usize) -> String {
    if by == 0 {
        return message.to_string();
    }
    let mut out = String::with_capacity(message.len() + 8);
    let mut rest = message;
    while let Some(at) = rest.find("line ") {
        let (before, after) = rest.split_at(at + "line ".len());
        out.push_str(before);
        let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let tail = &after[digits..];
        let numbered = before.ends_with("at line ") && tail.starts_with(", column")
            || before.ends_with("(line ") && tail.starts_with(')');
        match after[..digits].parse::<usize>() {
            Ok(n) if numbered => out.push_str(&(n + by).to_string()),
            _ => out.push_str(&after[..digits]),
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// JSON when it looks like JSON and parses as JSON, YAML otherwise.
fn parse<'s>(text: &'s str, duplicates: &mut Vec<(String, String)>) -> Result<(Tree<'s>, u32), String> {
    let mut found = Vec::new();
    let json_like = text.trim_start().starts_with(['{', '[']);
    let json = json_like
        .then(|| {
            let mut de = serde_json::Deserializer::from_str(text);
            Strict(&mut found)
                .deserialize(&mut de)
                .and_then(|v| de.end().map(|()| v))
                .ok()
        })
        .flatten();
    let parsed = match json {
        Some(value) => Ok(Tree::from_value(value)),
        None => {
            found.clear();
            yaml(text, &mut found)
        }
    };
    duplicates.extend(found.into_iter().map(Duplicate::into_pointer));
    parsed
}

fn yaml<'s>(text: &'s str, found: &mut Vec<Duplicate>) -> Result<(Tree<'s>, u32), String> {
    if let Some((tree, root, duplicates)) = super::fast::parse(text) {
        found.extend(duplicates);
        return Ok((tree, root));
    }
    saphyr(text, found).map(Tree::from_value)
}

/// The full YAML parser, for whatever the fast one declines.
fn saphyr(text: &str, found: &mut Vec<Duplicate>) -> Result<Value, String> {
    let options = serde_saphyr::Options {
        // The visitor sees every pair and reports duplicates itself, with paths.
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::LastWins,
        // Depth and alias expansion bounded (crate::limits), as every read of YAML.
        ..super::saphyr::options(text)
    };
    let value: StrictValue = match serde_saphyr::from_str_with_options(text, options.clone()) {
        Ok(value) => value,
        // libyaml's leniency: a flow collection closed at its key's column.
        Err(error) => super::flow::relax_flow_indentation(text)
            .and_then(|relaxed| serde_saphyr::from_str_with_options(&relaxed, options).ok())
            .ok_or_else(|| format!("cannot parse YAML: {}", super::saphyr::message(&error)))?,
    };
    found.extend(value.duplicates);
    Ok(value.value)
}

/// The serde-saphyr path alone, as `(value, duplicates)`.
#[cfg(test)]
pub(crate) fn slow(text: &str) -> Result<(Value, Vec<(String, String)>), String> {
    let mut found = Vec::new();
    let value = saphyr(text, &mut found)?;
    let mut found: Vec<_> = found.into_iter().map(Duplicate::into_pointer).collect();
    found.sort();
    Ok((value, found))
}

/// A duplicate key; `path` holds segments innermost first while unwinding.
pub(crate) struct Duplicate {
    pub(crate) path: Vec<String>,
    pub(crate) key: String,
}

/// Adds `key: value` to a mapping being built the strict way: segments for
/// duplicates found inside `value` (those from `before` on), a duplicate if
/// `key` was seen, and null values dropped.
pub(crate) fn insert(
    map: &mut Map<String, Value>,
    null_keys: &mut Vec<String>,
    dups: &mut Vec<Duplicate>,
    before: usize,
    key: String,
    value: Value,
) {
    for dup in &mut dups[before..] {
        dup.path.push(key.clone());
    }
    let duplicate = |key: &String| Duplicate {
        path: Vec::new(),
        key: key.clone(),
    };
    match map.entry(key) {
        serde_json::map::Entry::Occupied(mut seen) => {
            dups.push(duplicate(seen.key()));
            if value.is_null() {
                null_keys.push(seen.key().clone());
                seen.remove();
            } else {
                seen.insert(value);
            }
        }
        serde_json::map::Entry::Vacant(new) => {
            if null_keys.contains(new.key()) {
                dups.push(duplicate(new.key()));
            }
            if value.is_null() {
                null_keys.push(new.key().clone());
            } else {
                new.insert(value);
            }
        }
    }
}

impl Duplicate {
    pub(crate) fn into_pointer(self) -> (String, String) {
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
            insert(&mut map, &mut null_keys, self.0, before, key, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_split_on_markers_and_skip_blank_ones() {
        let text = "---\n# only a comment\n---\na: 1\n--- # trailing\nb: 2\n...\n---\n\n";
        let docs = documents(text, text);
        let texts: Vec<_> = docs.iter().map(|d| (d.line(), d.text)).collect();
        assert_eq!(texts, [(3, "\na: 1\n"), (5, " # trailing\nb: 2\n")]);
    }

    #[test]
    fn documents_split_the_same_with_or_without_end_markers() {
        let text = "a: 1\n---\nb: 2\n--- # c\n\n---x: 1\n---\n---\nc: |\n  ---\n";
        let with_end = format!("{text}...\n");
        let fast: Vec<_> = documents(text, text).iter().map(|d| (d.line(), d.text)).collect();
        let slow: Vec<_> = documents(&with_end, &with_end)
            .iter()
            .map(|d| (d.line(), d.text))
            .collect();
        assert_eq!(fast, slow);
        assert_eq!(fast.len(), 4);
        assert_eq!(fast[2], (4, " # c\n\n---x: 1\n"));
    }

    #[test]
    fn chunks_cut_at_markers_and_cover_the_file() {
        let doc = "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: ---not a marker\n";
        let file: String = (0..5000).map(|_| format!("---\n{doc}")).collect();
        let parts = chunks(&file, 3, 64 * 1024);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts.concat(), file);
        assert!(parts.iter().all(|p| p.starts_with("---\n")));
        let docs: usize = parts.iter().map(|p| documents(p, &file).len()).sum();
        assert_eq!(docs, 5000);
        let last = documents(parts[2], &file).pop().unwrap();
        assert_eq!(last.line(), 5 * 4999 + 1);
    }

    #[test]
    fn a_marker_needs_whitespace_after_the_dashes() {
        let text = "a: ---x\n----\n";
        assert_eq!(documents(text, text).len(), 1);
    }

    #[test]
    fn error_lines_are_the_files_without_parsing_again() {
        assert_eq!(
            shift_lines("did not find expected node content at line 2, column 1", 10),
            "did not find expected node content at line 12, column 1"
        );
        assert_eq!(
            shift_lines("nested too deeply (line 3)", 4),
            "nested too deeply (line 7)"
        );
        // Numbers that are not a parser's line stay as they are.
        assert_eq!(
            shift_lines("the line 5 of a value, line 6", 1),
            "the line 5 of a value, line 6"
        );
        assert_eq!(shift_lines("at line 2, column 1", 0), "at line 2, column 1");
    }

    #[test]
    fn a_stream_of_broken_documents_names_each_line() {
        let file = "a: [1,\n---\n".repeat(3);
        let lines: Vec<String> = documents(&file, &file)
            .into_iter()
            .map(|d| document(d).err().unwrap())
            .collect();
        for (i, message) in lines.iter().enumerate() {
            assert!(
                message.contains(&format!("at line {}, column", 2 * i + 2)),
                "{message}"
            );
        }
    }
}
