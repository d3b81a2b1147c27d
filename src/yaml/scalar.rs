//! Scalars of the fast YAML parser: quoting, where plain scalars end, and
//! typing them the way serde-saphyr does.
//!
//! Everything here answers `None` when it is not sure, and the document then
//! goes to serde-saphyr.

use std::borrow::Cow;

use serde_json::Number;

use super::tree::Item;

/// A plain scalar in block context: the line up to a comment.
pub(crate) fn plain(rest: &str) -> Option<&str> {
    let bytes = rest.as_bytes();
    let mut end = bytes.len();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'\t' => return None,
            b':' if bytes.get(i + 1).is_none_or(|&n| n == b' ') => return None,
            b'#' if bytes[i - 1] == b' ' => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    Some(rest[..end].trim_end_matches(' '))
}

/// A one-line single- or double-quoted scalar at the start of `s`, and what
/// follows it; borrowed when nothing needs unescaping.
pub(crate) fn quoted(s: &str) -> Option<(Cow<'_, str>, &str)> {
    let bytes = s.as_bytes();
    let mut i = 1;
    if bytes[0] == b'\'' {
        let close = s[1..].find('\'')? + 1;
        if bytes.get(close + 1) != Some(&b'\'') {
            return Some((Cow::Borrowed(&s[1..close]), &s[close + 1..]));
        }
        let mut out = String::new();
        loop {
            let close = s[i..].find('\'')? + i;
            out.push_str(&s[i..close]);
            if bytes.get(close + 1) == Some(&b'\'') {
                out.push('\'');
                i = close + 2;
            } else {
                return Some((Cow::Owned(out), &s[close + 1..]));
            }
        }
    }
    let stop = s[1..].find(['"', '\\'])? + 1;
    if bytes[stop] == b'"' {
        return Some((Cow::Borrowed(&s[1..stop]), &s[stop + 1..]));
    }
    let mut out = String::new();
    loop {
        let stop = s[i..].find(['"', '\\'])? + i;
        out.push_str(&s[i..stop]);
        if bytes[stop] == b'"' {
            return Some((Cow::Owned(out), &s[stop + 1..]));
        }
        let escape = *bytes.get(stop + 1)?;
        i = stop + 2;
        let simple = match escape {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'n' => '\n',
            b't' => '\t',
            b'r' => '\r',
            b'0' => '\0',
            b'u' => {
                let code = u32::from_str_radix(s.get(i..i + 4)?, 16).ok()?;
                i += 4;
                char::from_u32(code)?
            }
            _ => return None,
        };
        out.push(simple);
    }
}

/// The text of a one-line scalar token: a quoted one unquoted and
/// unescaped as YAML reads it ([`quoted`]), a plain one as it is. `None`
/// for a quoted token with anything after its closing quote or an escape
/// [`quoted`] does not know. The one `unquote`: edits and wiring use it.
pub(crate) fn unquote(token: &str) -> Option<Cow<'_, str>> {
    if !token.starts_with(['"', '\'']) {
        return Some(Cow::Borrowed(token));
    }
    match quoted(token)? {
        (text, "") => Some(text),
        _ => None,
    }
}

/// `line` without a trailing ` # comment` (outside quotes).
pub(crate) fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '#') if prev.is_whitespace() => return &line[..i],
            _ => {}
        }
        prev = c;
    }
    line
}

/// Whether `text` can be written as a plain scalar that reads back as this
/// same string: safe characters only (letters, digits, `._/:@+-`), no
/// leading `-`, `:` or `@`, a leading `.` only as a relative path (`./x`,
/// `../x`: `.inf` is a float), no trailing `:`, and not a number, boolean
/// or null to Rust's float parser or to [`scalar`]. The one "needs quoting"
/// decision: [`quote`] and `edit::render_scalar` ask it.
pub(crate) fn is_plain_safe(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._/:@+-".contains(c))
        && !text.starts_with(['-', ':', '@'])
        && (!text.starts_with('.') || text.starts_with("./") || text.starts_with("../"))
        && !text.ends_with(':')
        && text.parse::<f64>().is_err()
        && !matches!(scalar(text), Some(Item::Null | Item::Bool(_) | Item::Number(_)))
}

/// `text` as a YAML scalar: plain when [`is_plain_safe`], else double-quoted.
pub(crate) fn quote(text: &str) -> String {
    if is_plain_safe(text) {
        text.to_string()
    } else {
        double_quoted(text)
    }
}

/// `text` as a double-quoted YAML scalar (JSON string escapes).
pub(crate) fn double_quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| format!("{text:?}"))
}

/// A plain scalar inside a flow collection: up to `,`, a bracket, or `: `.
pub(crate) fn flow_plain(s: &str) -> Option<(&str, &str)> {
    let bytes = s.as_bytes();
    let first = *bytes.first()?;
    let spaced = bytes.get(1).is_none_or(|b| b" ,[]{}".contains(b));
    if b"#&*!|>%@`,".contains(&first) || (b"?-:".contains(&first) && spaced) {
        return None;
    }
    let mut end = s.len();
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b',' | b'[' | b']' | b'{' | b'}' => {
                end = i;
                break;
            }
            b':' if matches!(bytes.get(i + 1), None | Some(b' ' | b',' | b']' | b'}')) => {
                end = i;
                break;
            }
            b'#' if bytes[i - 1] == b' ' => return None,
            _ => {}
        }
    }
    let text = s[..end].trim_end_matches(' ');
    (!text.is_empty()).then_some((text, &s[end..]))
}

pub(crate) fn is_nullish(s: &str) -> bool {
    s.is_empty() || s == "~" || s.eq_ignore_ascii_case("null")
}

/// Types a plain scalar as serde-saphyr does, or `None` when that is not obvious.
pub(crate) fn scalar(s: &str) -> Option<Item<'_>> {
    let Some(&first) = s.as_bytes().first() else {
        return Some(Item::Null);
    };
    match first {
        b'0'..=b'9' | b'+' | b'-' | b'.' => number(s),
        b'~' if s.len() == 1 => Some(Item::Null),
        b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'y' | b'Y' | b'o' | b'O' | b'i' | b'I' if s.len() <= 8 => {
            const WORDS: [(&str, Option<bool>); 9] = [
                ("null", None),
                ("true", Some(true)),
                ("yes", Some(true)),
                ("y", Some(true)),
                ("on", Some(true)),
                ("false", Some(false)),
                ("no", Some(false)),
                ("n", Some(false)),
                ("off", Some(false)),
            ];
            if let Some((_, b)) = WORDS.iter().find(|(w, _)| w.eq_ignore_ascii_case(s)) {
                return Some(b.map_or(Item::Null, Item::Bool));
            }
            if is_float_word(s) {
                return None;
            }
            Some(Item::String(Cow::Borrowed(s)))
        }
        _ => Some(Item::String(Cow::Borrowed(s))),
    }
}

/// `inf`, `infinity` or `nan` in any case: Rust's float parser takes them.
fn is_float_word(s: &str) -> bool {
    ["inf", "infinity", "nan"]
        .iter()
        .any(|w| w.eq_ignore_ascii_case(s))
}

/// A plain scalar starting like a number: decimal integers are typed here,
/// the rest (floats, radix and sexagesimal numbers, `.inf`) left to serde-saphyr.
fn number(s: &str) -> Option<Item<'_>> {
    let bytes = s.as_bytes();
    let digits = s.strip_prefix('-').unwrap_or(s);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if digits.len() > 1 && digits.starts_with('0') || digits.len() < s.len() && digits == "0" {
            return None;
        }
        return if bytes[0] == b'-' {
            s.parse::<i64>().ok().map(|n| Item::Number(Number::from(n)))
        } else {
            s.parse::<u64>().ok().map(|n| Item::Number(Number::from(n)))
        };
    }
    if is_float_word(s.trim_start_matches(['+', '-'])) {
        return None;
    }
    let numeric = |b: u8| b.is_ascii_hexdigit() || b"+-._:xXoOiInN".contains(&b);
    if bytes.iter().all(|&b| numeric(b)) {
        return None;
    }
    Some(Item::String(Cow::Borrowed(s)))
}

#[cfg(test)]
mod tests {
    use super::super::tree::Tree;
    use super::*;

    #[test]
    fn unquote_reads_both_quoting_styles_and_refuses_what_it_cannot() {
        assert_eq!(unquote("web").as_deref(), Some("web"));
        assert_eq!(unquote("'it''s'").as_deref(), Some("it's"));
        assert_eq!(unquote(r#""a\"b\u00e9""#).as_deref(), Some("a\"b\u{e9}"));
        assert_eq!(unquote(r#""a" b"#), None);
        assert_eq!(unquote(r#""open"#), None);
    }
    use serde_json::{json, Value};

    #[test]
    fn quote_keeps_plain_only_what_reads_back_as_the_same_string() {
        for plain in [
            "web", "apps/web", "../base", "./web", "web:2", "v1.2.3", "6.15.0", "a_b", "a@b+c",
        ] {
            assert_eq!(quote(plain), plain);
        }
        let quoted = [
            "", "true", "No", "null", "8080", "1.0", ".5", "inf", "-x", "@x", ".inf", "web:", "a b",
        ];
        for text in quoted {
            assert_eq!(quote(text), serde_json::to_string(text).unwrap(), "{text}");
        }
    }

    #[test]
    fn scalars_are_typed_like_serde_saphyr() {
        let value = |s| scalar(s).map(Tree::from_item);
        assert_eq!(value("80"), Some(json!(80)));
        assert_eq!(value("-3"), Some(json!(-3)));
        assert_eq!(value("Y"), Some(json!(true)));
        assert_eq!(value("NULL"), Some(Value::Null));
        assert_eq!(value("v1.2.3"), Some(json!("v1.2.3")));
        assert_eq!(value("1.2.3"), None);
        assert_eq!(value("99999999999999999999"), None);
    }
}
