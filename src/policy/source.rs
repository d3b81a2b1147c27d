//! Policy files as YAML documents: one parse per file, with errors as
//! [`Error::Invalid`] naming file, line and column.
//!
//! One leniency, because policy libraries rely on it and libyaml, go-yaml
//! and PyYAML all accept it: a multi-line quoted scalar whose continuation
//! lines are indented no deeper than its key (Gatekeeper's
//! `httpsonly/template.yaml`). Such a scalar is re-indented and the file
//! parsed again; the value does not change, because a quoted scalar folds
//! the leading spaces of its continuation lines away.

use serde_json::Value;

use super::Error;

/// Most quoted scalars re-indented in one file before giving up.
const MAX_FIXES: usize = 64;

/// Every document of a policy file.
pub(super) fn documents(file: &str, text: &str) -> Result<Vec<Value>, Error> {
    let mut fixed: Option<String> = None;
    for _ in 0..=MAX_FIXES {
        let current = fixed.as_deref().unwrap_or(text);
        let err = match crate::yaml::values(current) {
            Ok(docs) => return Ok(docs),
            Err(e) => e,
        };
        let location = err.location().map(|l| (l.line() as usize, l.column() as usize));
        let retry = match location {
            Some((line, column)) if err.to_string().contains("indentation in quoted scalar") => {
                reindent_quoted(current, line, column)
            }
            _ => None,
        };
        match retry {
            Some(next) => fixed = Some(next),
            None => return Err(invalid(file, location, &crate::yaml::saphyr::message(&err))),
        }
    }
    Err(invalid(file, None, "too many badly indented quoted scalars"))
}

fn invalid(file: &str, location: Option<(usize, usize)>, message: &str) -> Error {
    let (line, column) = location.unwrap_or((0, 0));
    Error::Invalid {
        file: file.to_string(),
        line,
        column,
        what: "policy YAML".to_string(),
        message: message.lines().next().unwrap_or("invalid YAML").to_string(),
    }
}

/// `text` with the continuation lines of the quoted scalar opening at
/// `line`:`column` (1-based) indented to that column; `None` when there is
/// no quote there.
fn reindent_quoted(text: &str, line: usize, column: usize) -> Option<String> {
    let lines: Vec<&str> = text.split('\n').collect();
    let first = lines.get(line.checked_sub(1)?)?;
    let (start, quote) = first.char_indices().nth(column.checked_sub(1)?)?;
    if quote != '"' && quote != '\'' {
        return None;
    }
    let mut out: Vec<String> = lines[..line].iter().map(|l| l.to_string()).collect();
    let mut open = !closes(&first[start + 1..], quote);
    let mut changed = false;
    for l in &lines[line..] {
        if !open {
            out.push(l.to_string());
            continue;
        }
        let indent = l.len() - l.trim_start_matches(' ').len();
        if !l.trim().is_empty() && indent < column {
            out.push(format!("{}{l}", " ".repeat(column - indent)));
            changed = true;
        } else {
            out.push(l.to_string());
        }
        open = !closes(l, quote);
    }
    changed.then(|| out.join("\n"))
}

/// True when `rest` holds the closing `quote` (escapes skipped).
fn closes(rest: &str, quote: char) -> bool {
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if quote == '"' => {
                chars.next();
            }
            '\'' if quote == '\'' && chars.peek() == Some(&'\'') => {
                chars.next();
            }
            c if c == quote => return true,
            _ => {}
        }
    }
    false
}

/// Line and column (1-based) of the first occurrence of `needle`, or 0:0.
pub(super) fn locate(text: &str, needle: &str) -> (usize, usize) {
    text.lines()
        .enumerate()
        .find_map(|(i, l)| l.find(needle).map(|c| (i + 1, c + 1)))
        .unwrap_or((0, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shallow_quoted_continuations_parse_as_other_parsers_read_them() {
        let text = "a:\n  b:\n    description: \"When set the TLS {} is optional,\n    to false.\"\n    type: boolean\n";
        let docs = documents("t.yaml", text).unwrap();
        assert_eq!(
            docs[0]["a"]["b"]["description"],
            "When set the TLS {} is optional, to false."
        );
        assert_eq!(docs[0]["a"]["b"]["type"], "boolean");
    }

    #[test]
    fn broken_yaml_names_file_line_and_column() {
        let err = documents("p.yaml", "a: 1\nb: [x, y\n").unwrap_err();
        let Error::Invalid {
            file, line, column, ..
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(file, "p.yaml");
        assert!(*line >= 2 && *column > 0, "{err}");
    }
}
