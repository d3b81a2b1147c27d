//! Surgical edits of block-style YAML text that keep every comment, key
//! order and blank line: split a file into documents, find the line holding
//! a scalar at a path, replace it, add an annotation.
//!
//! It understands block mappings and block sequences (indented or compact)
//! and plain, single- or double-quoted scalars on one line. Anything else
//! (flow collections, multi-line scalars, anchors) is not located, and the
//! caller reports the field as not editable rather than rewriting the file.

use std::borrow::Cow;
use std::ops::Range;

use super::scalar;
use serde_json::Value;

/// One step of a path into a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    /// A mapping key.
    Key(String),
    /// The item of a list whose `name` is this.
    Named(String),
    /// A list position.
    Index(usize),
}

/// Renders a path as `spec.template.spec.containers[name=app].image`;
/// keys that are not plain identifiers are quoted: `metadata.labels["app.kubernetes.io/name"]`.
pub(crate) fn display(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k)
                if !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
            {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Key(k) => {
                out.push('[');
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(']');
            }
            Seg::Named(n) => out.push_str(&format!("[name={n}]")),
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Byte ranges of the documents of a stream, blank ones included (see
/// `yaml::parse::ranges`), each starting past the rest of its `---` line
/// when that holds only a comment.
pub(crate) fn split_documents(text: &str) -> Vec<Range<usize>> {
    super::parse::ranges(text)
        .into_iter()
        .map(|range| {
            let after_marker = text[..range.start].ends_with("---");
            let first = &text[range.clone()];
            let line_end = first.find('\n').map_or(first.len(), |i| i + 1);
            let rest = first[..line_end].trim();
            if after_marker && (rest.is_empty() || rest.starts_with('#')) {
                range.start + line_end..range.end
            } else {
                range
            }
        })
        .collect()
}

struct Line<'a> {
    start: usize,
    text: &'a str,
    indent: usize,
}

impl Line<'_> {
    fn significant(&self) -> bool {
        let t = self.text.trim();
        !t.is_empty() && !t.starts_with('#')
    }
    fn is_item(&self) -> bool {
        let t = &self.text[self.indent..];
        t == "-" || t.starts_with("- ") || t.trim_end() == "-"
    }
    /// Column and text of the mapping key on this line, past one `- `.
    fn key_position(&self) -> (usize, &str) {
        let t = &self.text[self.indent..];
        match t.strip_prefix("- ") {
            Some(rest) => {
                let extra = rest.len() - rest.trim_start().len();
                (self.indent + 2 + extra, rest.trim_start())
            }
            None => (self.indent, t),
        }
    }
}

fn lines(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    for raw in text.split_inclusive('\n') {
        let text = raw.trim_end_matches(['\n', '\r']);
        let indent = text.len() - text.trim_start_matches(' ').len();
        out.push(Line { start, text, indent });
        start += raw.len();
    }
    out
}

/// If `rest` is `key: ...` (key plain or quoted), the byte offset just past the colon.
fn key_match(rest: &str, key: &str) -> Option<usize> {
    for quoted in [key.to_string(), format!("\"{key}\""), format!("'{key}'")] {
        if let Some(after) = rest.strip_prefix(quoted.as_str()) {
            if after == ":" || after.starts_with(": ") || after.starts_with(":\t") {
                return Some(quoted.len() + 1);
            }
        }
    }
    None
}

/// The range of a one-line scalar starting at `from` in `line`.
fn scalar_span(line: &str, from: usize) -> Option<Range<usize>> {
    let rest = &line[from..];
    let lead = rest.len() - rest.trim_start().len();
    let start = from + lead;
    let v = &line[start..];
    let end = match v.chars().next()? {
        '"' => {
            let mut escaped = false;
            let close = v[1..].char_indices().find(|&(_, c)| {
                let hit = c == '"' && !escaped;
                escaped = c == '\\' && !escaped;
                hit
            })?;
            start + 1 + close.0 + 1
        }
        '\'' => {
            let bytes = v.as_bytes();
            let mut i = 1;
            loop {
                match bytes.get(i) {
                    None => return None,
                    Some(b'\'') if bytes.get(i + 1) == Some(&b'\'') => i += 2,
                    Some(b'\'') => break start + i + 1,
                    Some(_) => i += 1,
                }
            }
        }
        '{' | '[' | '|' | '>' | '&' | '*' | '!' | '#' => return None,
        _ => start + v.find(" #").unwrap_or(v.len()),
    };
    let span = start..start + line[start..end].trim_end().len();
    (!span.is_empty()).then_some(span)
}

fn first_significant(lines: &[Line<'_>], range: &Range<usize>) -> Option<usize> {
    range.clone().find(|&i| lines[i].significant())
}

/// The lines below line `at` that belong to its value (key at column `col`).
fn child_block(lines: &[Line<'_>], at: usize, col: usize, end: usize) -> Range<usize> {
    let stop = (at + 1..end)
        .find(|&i| {
            let l = &lines[i];
            l.significant() && (l.indent < col || (l.indent == col && !l.is_item()))
        })
        .unwrap_or(end);
    at + 1..stop
}

/// The line and value span of the scalar at `path`, within `text`.
fn locate(text: &str, path: &[Seg]) -> Option<(usize, Range<usize>)> {
    let lines = lines(text);
    let mut range = 0..lines.len();
    let mut col = lines[first_significant(&lines, &range)?].indent;
    for (n, seg) in path.iter().enumerate() {
        let last = n + 1 == path.len();
        match seg {
            Seg::Key(key) => {
                let (at, after) = find_key(&lines, &range, col, key)?;
                if last {
                    let span = scalar_span(lines[at].text, after)?;
                    let base = lines[at].start;
                    return Some((at, base + span.start..base + span.end));
                }
                if !lines[at].text[after..].trim().is_empty()
                    && !lines[at].text[after..].trim_start().starts_with('#')
                {
                    return None;
                }
                range = child_block(&lines, at, col, range.end);
                col = lines[first_significant(&lines, &range)?].indent;
            }
            Seg::Named(_) | Seg::Index(_) if !last => {
                (range, col) = find_item(&lines, &range, seg)?;
            }
            _ => return None,
        }
    }
    None
}

fn text_of(lines: &[Line<'_>], range: Range<usize>) -> String {
    let mut s = String::new();
    for (n, i) in range.enumerate() {
        let l = &lines[i];
        if n == 0 {
            // Make the item's first line a plain mapping line.
            s.push_str(&" ".repeat(l.indent + 2));
            s.push_str(l.text[l.indent..].strip_prefix("- ").unwrap_or("").trim_start());
        } else {
            s.push_str(l.text);
        }
        s.push('\n');
    }
    s
}

/// Spells `value` as a YAML scalar, keeping the quoting style of `old`; a
/// plain `old` stays plain when [`scalar::is_plain_safe`] says it may.
pub(crate) fn render_scalar(value: &Value, old: &str) -> Option<String> {
    match value {
        Value::String(s) => Some(if old.starts_with('\'') && !s.contains('\n') {
            format!("'{}'", s.replace('\'', "''"))
        } else if old.starts_with('"') {
            scalar::double_quoted(s)
        } else {
            scalar::quote(s)
        }),
        Value::Number(_) | Value::Bool(_) => Some(value.to_string()),
        _ => None,
    }
}

/// The line of `key:` among the keys at column `col` in `range`, and the byte
/// offset just past its colon.
fn find_key(lines: &[Line<'_>], range: &Range<usize>, col: usize, key: &str) -> Option<(usize, usize)> {
    range.clone().find_map(|i| {
        let l = &lines[i];
        if !l.significant() {
            return None;
        }
        let (c, rest) = l.key_position();
        (c == col)
            .then(|| key_match(rest, key))
            .flatten()
            .map(|k| (i, l.text.len() - rest.len() + k))
    })
}

/// The lines of the list item `seg` (by position or by `name`) in `range`,
/// and the column of the item's keys.
fn find_item(lines: &[Line<'_>], range: &Range<usize>, seg: &Seg) -> Option<(Range<usize>, usize)> {
    let first = first_significant(lines, range)?;
    if !lines[first].is_item() {
        return None;
    }
    let list_col = lines[first].indent;
    let items: Vec<usize> = range
        .clone()
        .filter(|&i| lines[i].significant() && lines[i].indent == list_col && lines[i].is_item())
        .collect();
    let bounds = |k: usize| items[k]..items.get(k + 1).copied().unwrap_or(range.end);
    let k = match seg {
        Seg::Index(i) => (*i < items.len()).then_some(*i)?,
        Seg::Named(name) => (0..items.len()).find(|&k| {
            let sub = text_of(lines, bounds(k));
            locate(&sub, &[Seg::Key("name".into())])
                .and_then(|(_, span)| super::scalar::unquote(&sub[span]).map(Cow::into_owned))
                .is_some_and(|v| v == *name)
        })?,
        Seg::Key(_) => return None,
    };
    Some((bounds(k), list_col + 2))
}

/// The line (0-based) of the last `key:` of the block mapping at `pointer`
/// (a JSON pointer) in `text`: where a repeated key is repeated. `None` when
/// the way there is not block mappings and lists, or `key` is not found.
pub(crate) fn repeated_key_line(text: &str, pointer: &str, key: &str) -> Option<usize> {
    let lines = lines(text);
    let mut range = 0..lines.len();
    let mut col = lines[first_significant(&lines, &range)?].indent;
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        let in_list = lines[first_significant(&lines, &range)?].is_item();
        match segment.parse::<usize>() {
            Ok(i) if in_list => (range, col) = find_item(&lines, &range, &Seg::Index(i))?,
            _ => {
                let (at, _) = find_key(&lines, &range, col, &segment)?;
                range = child_block(&lines, at, col, range.end);
                col = lines[first_significant(&lines, &range)?].indent;
            }
        }
    }
    range.rev().find(|&i| {
        let (c, rest) = lines[i].key_position();
        lines[i].significant() && c == col && key_match(rest, key).is_some()
    })
}

/// Sets the scalar at `path` to `value`, creating the mapping keys on the way
/// that do not exist yet (list items are never created). An existing empty
/// flow mapping (`resources: {}`) becomes a block. `None` when the path runs
/// through something that is not a block mapping or list.
pub(crate) fn set_scalar(text: &str, path: &[Seg], value: &Value) -> Option<String> {
    if locate(text, path).is_some() {
        return replace_scalar(text, path, value);
    }
    let lines = lines(text);
    let walk = walk_existing(&lines, path)?;
    // What is left is keys to create under `range`, at `col`, with the file's line ending.
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let new = new_keys(&path[walk.depth..], walk.col, value, nl)?;
    let after_line = walk
        .range
        .clone()
        .rev()
        .find(|&i| lines[i].significant())
        .or(walk.anchor)
        .unwrap_or(lines.len() - 1);
    let mut out = String::with_capacity(text.len() + new.len());
    for (i, l) in lines.iter().enumerate() {
        let end = lines.get(i + 1).map_or(text.len(), |n| n.start);
        match &walk.rewrite {
            Some((at, line)) if *at == i => {
                out.push_str(line);
                out.push_str(&text[l.start + l.text.len()..end]);
            }
            _ => out.push_str(&text[l.start..end]),
        }
        if i == after_line {
            if !out.ends_with('\n') {
                out.push_str(nl);
            }
            out.push_str(&new);
        }
    }
    Some(out)
}

/// How far [`set_scalar`] got along a path through existing keys and items.
struct Walk {
    /// The lines of the deepest block reached, where new keys go.
    range: Range<usize>,
    /// The column of that block's keys.
    col: usize,
    /// How many segments of the path exist.
    depth: usize,
    /// The line of the last existing key.
    anchor: Option<usize>,
    /// A line to rewrite: an empty flow mapping `key: {}` as `key:`.
    rewrite: Option<(usize, String)>,
}

/// Follows `path` (but its last segment) through the existing block
/// mappings and lists of `lines`; `None` when it runs into anything else.
fn walk_existing(lines: &[Line<'_>], path: &[Seg]) -> Option<Walk> {
    let range = 0..lines.len();
    let col = lines[first_significant(lines, &range)?].indent;
    let mut walk = Walk {
        range,
        col,
        depth: 0,
        anchor: None,
        rewrite: None,
    };
    while walk.depth + 1 < path.len() {
        match &path[walk.depth] {
            Seg::Key(key) => {
                let Some((at, after)) = find_key(lines, &walk.range, walk.col, key) else {
                    break;
                };
                let line = lines[at].text;
                let rest = line[after..].trim();
                let (value_part, comment) = match rest.find('#') {
                    Some(h) if rest[..h].trim().is_empty() || rest[..h].ends_with(' ') => {
                        (rest[..h].trim(), Some(&rest[h..]))
                    }
                    _ => (rest, None),
                };
                walk.anchor = Some(at);
                match value_part {
                    "" => {
                        walk.range = child_block(lines, at, walk.col, walk.range.end);
                        walk.col =
                            first_significant(lines, &walk.range).map_or(walk.col + 2, |i| lines[i].indent);
                    }
                    "{}" => {
                        let kept = comment.map(|c| format!(" {c}")).unwrap_or_default();
                        walk.rewrite = Some((at, format!("{}{kept}", &line[..after])));
                        walk.range = at + 1..at + 1;
                        walk.col += 2;
                        walk.depth += 1;
                        break;
                    }
                    _ => return None,
                }
            }
            seg => (walk.range, walk.col) = find_item(lines, &walk.range, seg)?,
        }
        walk.depth += 1;
    }
    Some(walk)
}

/// The lines creating the keys of `rest` at column `col`, nested, the last
/// one set to `value`; `None` when `rest` holds a list item.
fn new_keys(rest: &[Seg], col: usize, value: &Value, nl: &str) -> Option<String> {
    let mut new = String::new();
    for (k, seg) in rest.iter().enumerate() {
        let Seg::Key(key) = seg else { return None };
        let pad = " ".repeat(col + 2 * k);
        let key = render_scalar(&Value::String(key.clone()), "")?;
        if k + 1 == rest.len() {
            new.push_str(&format!("{pad}{key}: {}{nl}", render_scalar(value, "")?));
        } else {
            new.push_str(&format!("{pad}{key}:{nl}"));
        }
    }
    Some(new)
}

/// Replaces the scalar at `path` in one document's text with `value`.
pub(crate) fn replace_scalar(text: &str, path: &[Seg], value: &Value) -> Option<String> {
    let (_, span) = locate(text, path)?;
    let new = render_scalar(value, &text[span.clone()])?;
    Some(format!("{}{}{}", &text[..span.start], new, &text[span.end..]))
}

/// Sets `metadata.annotations[key]` to a string, adding `annotations:` when
/// needed. `None` when the metadata is not in block style.
pub(crate) fn set_annotation(text: &str, key: &str, value: &str) -> Option<String> {
    let quoted = Value::String(value.to_string()).to_string();
    let path = |k: &str| {
        vec![
            Seg::Key("metadata".into()),
            Seg::Key("annotations".into()),
            Seg::Key(k.into()),
        ]
    };
    if locate(text, &path(key)).is_some() {
        return replace_scalar(text, &path(key), &Value::String(value.to_string()));
    }
    let lines = lines(text);
    let (meta, block) = metadata_block(&lines)?;
    let child_col = lines[first_significant(&lines, &block)?].indent;
    let annotations = block.clone().find(|&i| {
        let l = &lines[i];
        l.significant() && l.indent == child_col && key_match(&l.text[l.indent..], "annotations").is_some()
    });
    let Some(at) = annotations else {
        let pad = " ".repeat(child_col);
        let new_lines = format!("{pad}annotations:\n{pad}  {key}: {quoted}\n");
        return Some(insert_after(text, &lines, meta, &new_lines, None));
    };
    let l = &lines[at];
    let after = l.text[l.indent..].split_once(':')?.1.trim();
    let inner = child_block(&lines, at, child_col, block.end);
    let pad = first_significant(&lines, &inner)
        .map(|i| lines[i].indent)
        .unwrap_or(child_col + 2);
    let line = format!("{}{key}: {quoted}\n", " ".repeat(pad));
    match after {
        "" => Some(insert_after(text, &lines, at, &line, None)),
        "{}" => {
            let replace = format!("{}annotations:", " ".repeat(child_col));
            Some(insert_after(text, &lines, at, &line, Some(&replace)))
        }
        a if a.starts_with('#') => Some(insert_after(text, &lines, at, &line, None)),
        _ => None,
    }
}

/// The line of the top-level block `metadata:` key and the lines of its
/// block; `None` when there is none or its value is not a block.
fn metadata_block(lines: &[Line<'_>]) -> Option<(usize, Range<usize>)> {
    let top = lines[first_significant(lines, &(0..lines.len()))?].indent;
    let meta = (0..lines.len()).find(|&i| {
        let l = &lines[i];
        l.significant() && l.indent == top && key_match(&l.text[l.indent..], "metadata").is_some()
    })?;
    let meta_after = lines[meta].text[lines[meta].indent..].split_once(':')?.1.trim();
    if !meta_after.is_empty() && !meta_after.starts_with('#') {
        return None;
    }
    Some((meta, child_block(lines, meta, top, lines.len())))
}

/// `text` (as `lines`) with `new_lines` after line `at_line`, that line
/// replaced by `replace_line` when given; `\n` line endings, and no final
/// one when `text` had none.
fn insert_after(
    text: &str,
    lines: &[Line<'_>],
    at_line: usize,
    new_lines: &str,
    replace_line: Option<&str>,
) -> String {
    let mut out = String::new();
    for (i, l) in lines.iter().enumerate() {
        match (replace_line, i == at_line) {
            (Some(r), true) => out.push_str(r),
            _ => out.push_str(l.text),
        }
        out.push('\n');
        if i == at_line {
            out.push_str(new_lines);
        }
    }
    if !text.ends_with('\n') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests;
