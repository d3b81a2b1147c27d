//! A fast parser for the block-YAML subset manifests are written in.
//!
//! serde-saphyr is a full YAML parser, and the slowest part of validation by
//! far. Almost every manifest uses a small subset of YAML: block mappings and
//! sequences, one-line plain, quoted and flow scalars, literal block scalars.
//! This parser reads that subset about ten times faster and gives up
//! (`None`) on anything else: anchors, tags, folded or multi-line scalars,
//! scalars whose type is not obvious (floats, `0x1F`, `007`), and anything
//! malformed. The caller then falls back to serde-saphyr, so results and error
//! messages are serde-saphyr's in every case this parser does not fully own.
//!
//! It builds a [`Tree`] that borrows plain and simply quoted strings from
//! the input. What it produces follows the serde-saphyr path exactly:
//! null-valued fields dropped, duplicate keys recorded, scalars typed as
//! serde-saphyr types them (YAML 1.1 booleans included). A differential test
//! holds it to that. Nesting past `crate::limits::MAX_DEPTH` is declined too,
//! so its recursion is bounded and serde-saphyr's budget gives the error.

use std::borrow::Cow;

use super::parse::Duplicate;
use super::scalar::{flow_plain, is_nullish, plain, quoted, scalar};
use super::tree::{Builder, Item, Tree};
use crate::limits::MAX_DEPTH;

/// Parses `text` as one document into a tree and its root, or `None` when
/// it is outside the subset.
pub(crate) fn parse(text: &str) -> Option<(Tree<'_>, u32, Vec<Duplicate>)> {
    let bytes = text.as_bytes();
    let mut lines = Vec::with_capacity(text.len() / 24);
    let mut start = 0;
    while start <= bytes.len() {
        let end = bytes[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| start + i);
        let mut raw_end = end;
        if raw_end > start && bytes[raw_end - 1] == b'\r' {
            raw_end -= 1;
        }
        let mut body = start;
        while body < raw_end && bytes[body] == b' ' {
            body += 1;
        }
        if bytes.get(body) == Some(&b'\t') && body < raw_end {
            return None;
        }
        // Marker-like lines (`---x`, `...`) are left to serde-saphyr.
        if bytes[body..raw_end].starts_with(b"---") || bytes[body..raw_end].starts_with(b"...") {
            return None;
        }
        let mut body_end = raw_end;
        while body_end > body && matches!(bytes[body_end - 1], b' ' | b'\t') {
            body_end -= 1;
        }
        lines.push(Line {
            indent: body - start,
            text: &text[body..body_end],
            raw: &text[start..raw_end],
        });
        start = end + 1;
    }
    let mut parser = Parser {
        builder: Builder::with_capacity(lines.len() * 2),
        lines,
        pos: 0,
        dups: Vec::new(),
        depth: 0,
    };
    let root = match parser.peek() {
        None => parser.builder.scalar(Item::Null),
        Some(line) if is_item(line.text) || entry(line.text)?.is_some() => parser.block(-1)?,
        Some(line) => {
            parser.pos += 1;
            parser.inline(line.text, line.indent as isize - 1)?
        }
    };
    // Everything must have been consumed.
    if parser.peek().is_some() {
        return None;
    }
    let tree = parser.builder.finish_read(!parser.dups.is_empty());
    Some((tree, root, parser.dups))
}

#[derive(Clone, Copy)]
struct Line<'a> {
    indent: usize,
    /// After the indentation, trailing whitespace trimmed.
    text: &'a str,
    /// The whole line, for block scalars.
    raw: &'a str,
}

struct Parser<'a> {
    lines: Vec<Line<'a>>,
    pos: usize,
    dups: Vec<Duplicate>,
    builder: Builder<'a>,
    /// Mappings and sequences open now; past `MAX_DEPTH` the parser declines
    /// and serde-saphyr's budget refuses the document.
    depth: usize,
}

/// `- item` or a lone `-`.
fn is_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// Splits `key: rest` into its key and rest; `Some(None)` when `text` is not
/// a mapping entry, `None` when it is beyond this parser.
fn entry(text: &str) -> Option<Option<(Cow<'_, str>, &str)>> {
    let bytes = text.as_bytes();
    match bytes.first()? {
        b'"' | b'\'' => {
            let (key, rest) = quoted(text)?;
            let rest = rest.trim_start_matches(' ');
            match rest.strip_prefix(':') {
                Some(value) if value.is_empty() || value.starts_with(' ') => {
                    Some(Some((key, value.trim_start_matches(' '))))
                }
                _ if rest.is_empty() || rest.starts_with('#') => Some(None),
                _ => None,
            }
        }
        b'[' | b'{' => Some(None),
        b'?' | b':' | b',' | b']' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'%' | b'@' | b'`'
        | b'-' | b'<' => None,
        _ => {
            let mut end = None;
            for (i, b) in bytes.iter().enumerate() {
                match b {
                    b':' if bytes.get(i + 1).is_none_or(|&n| n == b' ') => {
                        end = Some(i);
                        break;
                    }
                    b'#' if bytes[i - 1] == b' ' => return None,
                    b'\t' => return None,
                    _ => {}
                }
            }
            let Some(end) = end else {
                return Some(None);
            };
            let key = text[..end].trim_end_matches(' ');
            if is_nullish(key) {
                return None;
            }
            let rest = text[end + 1..].trim_start_matches(' ');
            Some(Some((Cow::Borrowed(key), rest)))
        }
    }
}

fn blank_or_comment(rest: &str) -> bool {
    rest.is_empty() || rest.starts_with('#')
}

impl<'a> Parser<'a> {
    /// The next line with content, skipping blank and comment lines.
    fn peek(&mut self) -> Option<Line<'a>> {
        while let Some(line) = self.lines.get(self.pos) {
            if !blank_or_comment(line.text) {
                return Some(*line);
            }
            self.pos += 1;
        }
        None
    }

    /// The block node nested under a parent at `parent` indentation.
    fn block(&mut self, parent: isize) -> Option<u32> {
        let line = match self.peek() {
            Some(line) if line.indent as isize > parent => line,
            _ => return Some(self.builder.scalar(Item::Null)),
        };
        if is_item(line.text) {
            self.sequence(line.indent)
        } else {
            self.mapping(line.indent, None)
        }
    }

    /// Opens a mapping or sequence, or declines past `MAX_DEPTH`. Paths
    /// that decline never close it: the whole parse is abandoned.
    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    fn sequence(&mut self, n: usize) -> Option<u32> {
        self.enter()?;
        let start = self.builder.open_array();
        let mut count = 0usize;
        while let Some(line) = self.peek() {
            if line.indent < n || (line.indent == n && !is_item(line.text)) {
                break;
            }
            if line.indent > n {
                return None;
            }
            let after = &line.text[1..];
            let rest = after.trim_start_matches(' ');
            let before = self.dups.len();
            let item = if blank_or_comment(rest) {
                self.pos += 1;
                self.block(n as isize)?
            } else if is_item(rest) {
                // A compact nested node: re-read the rest as a line of its own.
                self.lines[self.pos] = Line {
                    indent: n + 1 + (after.len() - rest.len()),
                    text: rest,
                    raw: line.raw,
                };
                self.block(n as isize)?
            } else if let Some(first) = entry(rest)? {
                let column = n + 1 + (after.len() - rest.len());
                self.lines[self.pos] = Line {
                    indent: column,
                    text: rest,
                    raw: line.raw,
                };
                self.mapping(column, Some(first))?
            } else {
                self.pos += 1;
                self.inline(rest, n as isize)?
            };
            for dup in &mut self.dups[before..] {
                dup.path.push(count.to_string());
            }
            self.builder.element(item);
            count += 1;
        }
        self.depth -= 1;
        Some(self.builder.end_array(start))
    }

    /// A block mapping at indentation `n`; `first` is its first entry when
    /// the caller has already split it.
    fn mapping(&mut self, n: usize, mut first: Option<(Cow<'a, str>, &'a str)>) -> Option<u32> {
        self.enter()?;
        let start = self.builder.open_object();
        while let Some(line) = self.peek() {
            if line.indent < n {
                break;
            }
            if line.indent > n || is_item(line.text) {
                return None;
            }
            let (key, rest) = match first.take() {
                Some(first) => first,
                None => entry(line.text)??,
            };
            self.pos += 1;
            let before = self.dups.len();
            let value = if blank_or_comment(rest) {
                match self.peek() {
                    Some(next) if next.indent == n && is_item(next.text) => self.sequence(n)?,
                    _ => self.block(n as isize)?,
                }
            } else {
                self.inline(rest, n as isize)?
            };
            for dup in &mut self.dups[before..] {
                dup.path.push(key.to_string());
            }
            self.builder.member(key, value);
        }
        self.depth -= 1;
        Some(self.builder.end_object(start, &mut self.dups))
    }

    /// A value written on its line after `key:` or `- `; `parent` is the
    /// indentation of the node holding it.
    fn inline(&mut self, rest: &'a str, parent: isize) -> Option<u32> {
        let (value, after) = match rest.as_bytes()[0] {
            b'|' => return self.literal(rest, parent),
            b'"' | b'\'' => {
                let (text, after) = quoted(rest)?;
                (self.builder.scalar(Item::String(text)), after)
            }
            b'[' | b'{' => self.flow(rest)?,
            b'>' | b'&' | b'*' | b'!' | b'%' | b'@' | b'`' | b'?' | b':' | b',' | b']' | b'}' => return None,
            b'-' if is_item(rest) => return None,
            _ => (self.builder.scalar(scalar(plain(rest)?)?), ""),
        };
        // After a quoted or flow scalar: nothing, or a comment set off by a space.
        let tail = after.trim_start_matches(' ');
        if !(tail.is_empty() || tail.starts_with('#') && tail.len() < after.len()) {
            return None;
        }
        // A more indented line next would continue a multi-line scalar.
        match self.peek() {
            Some(next) if next.indent as isize > parent => None,
            _ => Some(value),
        }
    }

    /// A literal block scalar (`|`, `|-`); keep (`|+`) and folded ones fall back.
    fn literal(&mut self, header: &str, parent: isize) -> Option<u32> {
        let strip = match header.split(" #").next()?.trim_end() {
            "|" => false,
            "|-" => true,
            _ => return None,
        };
        let start = self.pos;
        let mut end = start;
        let mut indent = None;
        while let Some(line) = self.lines.get(end) {
            if line.text.is_empty() {
                // Blank lines belong to the scalar. Spaces past its indentation
                // would be content, and before its first line they are subtle: left out.
                if line.raw.len() > indent.unwrap_or(0) || line.raw.contains('\t') {
                    return None;
                }
                end += 1;
                continue;
            }
            match indent {
                None if line.indent as isize > parent => indent = Some(line.indent),
                None => break,
                Some(i) if line.indent >= i => {}
                Some(_) => break,
            }
            end += 1;
        }
        // No content: parsers differ on what that is; serde-saphyr decides.
        let indent = indent?;
        let mut lines: Vec<&str> = self.lines[start..end]
            .iter()
            .map(|l| l.raw.get(indent..).unwrap_or(""))
            .collect();
        while lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        self.pos = end;
        let mut text = lines.join("\n");
        if !strip {
            text.push('\n');
        }
        Some(self.builder.scalar(Item::String(Cow::Owned(text))))
    }
}

impl<'a> Parser<'a> {
    /// A one-line flow collection at the start of `s`, and what follows it.
    fn flow(&mut self, s: &'a str) -> Option<(u32, &'a str)> {
        if s.contains('\t') {
            return None;
        }
        self.enter()?;
        let is_array = s.starts_with('[');
        let close = if is_array { ']' } else { '}' };
        let mut rest = s[1..].trim_start_matches(' ');
        let start = if is_array {
            self.builder.open_array()
        } else {
            self.builder.open_object()
        };
        let mut count = 0usize;
        loop {
            if let Some(after) = rest.strip_prefix(close) {
                let node = if is_array {
                    self.builder.end_array(start)
                } else {
                    self.builder.end_object(start, &mut self.dups)
                };
                self.depth -= 1;
                return Some((node, after));
            }
            if is_array {
                rest = self.flow_element(rest, count)?;
                count += 1;
            } else {
                rest = self.flow_member(rest)?;
            }
            rest = rest.trim_start_matches(' ');
            if let Some(after) = rest.strip_prefix(',') {
                rest = after.trim_start_matches(' ');
            } else if !rest.starts_with(close) {
                return None;
            }
        }
    }

    /// The element number `index` of a flow sequence at the start of `s`,
    /// added to the open array; what follows it.
    #[inline]
    fn flow_element(&mut self, s: &'a str, index: usize) -> Option<&'a str> {
        let before = self.dups.len();
        let (item, after) = self.flow_node(s)?;
        for dup in &mut self.dups[before..] {
            dup.path.push(index.to_string());
        }
        self.builder.element(item);
        Some(after)
    }

    /// The `key: value` of a flow mapping at the start of `s` (a missing
    /// value is null), added to the open object; what follows it.
    #[inline]
    fn flow_member(&mut self, s: &'a str) -> Option<&'a str> {
        let before = self.dups.len();
        let (key, after) = match s.as_bytes().first()? {
            b'"' | b'\'' => quoted(s)?,
            _ => {
                let (text, after) = flow_plain(s)?;
                if is_nullish(text) {
                    return None;
                }
                (Cow::Borrowed(text), after)
            }
        };
        let after = after.trim_start_matches(' ').strip_prefix(':')?;
        let after = after.trim_start_matches(' ');
        let (value, after) = if after.starts_with([',', '}']) {
            (self.builder.scalar(Item::Null), after)
        } else {
            self.flow_node(after)?
        };
        for dup in &mut self.dups[before..] {
            dup.path.push(key.to_string());
        }
        self.builder.member(key, value);
        Some(after)
    }

    fn flow_node(&mut self, s: &'a str) -> Option<(u32, &'a str)> {
        match s.as_bytes().first()? {
            b'[' | b'{' => self.flow(s),
            b'"' | b'\'' => {
                let (text, after) = quoted(s)?;
                Some((self.builder.scalar(Item::String(text)), after))
            }
            _ => {
                let (text, after) = flow_plain(s)?;
                Some((self.builder.scalar(scalar(text)?), after))
            }
        }
    }
}

#[cfg(test)]
mod tests;
