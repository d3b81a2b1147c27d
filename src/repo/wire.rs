//! Wiring: adding a new app directory to its parent's `kustomization.yaml`.
//!
//! Flux and Argo CD deploy what a kustomization lists, so an app directory
//! nobody lists is never applied. [`add_resource`] edits the kustomization's
//! text surgically: one line (or one flow-list item) is inserted, and every
//! other byte — comments, order, quoting, indentation, line endings — stays
//! as it was. It handles block lists at any indentation (including
//! zero-indented `- item` lists), flow lists (`[a, b]`, also over several
//! lines), an empty or missing `resources:` key, and an entry that is already
//! there (`web`, `./web` and `web/` are the same entry).
//!
//! It does not re-serialise YAML, and refuses (with a message) a `resources:`
//! it cannot read with confidence, such as an alias or a scalar; a file with
//! the key twice or a merge key `<<:` is [`ambiguous`], which callers report
//! as an error.

use crate::yaml::scalar::{self, strip_comment};

/// `text` with `entry` added to its top-level `resources:` list; `Ok(None)`
/// when the entry is already listed.
pub(crate) fn add_resource(text: &str, entry: &str) -> Result<Option<String>, String> {
    let item = scalar::quote(entry);
    add_to_list(text, "resources", entry, &item, &item)
}

/// `text` with a strategic-merge patch file listed under its top-level
/// `patches:` (`- path: FILE`); `Ok(None)` when it is already listed.
pub(crate) fn add_patch(text: &str, file: &str) -> Result<Option<String>, String> {
    let file = scalar::quote(file);
    add_to_list(
        text,
        "patches",
        &format!("path: {file}"),
        &format!("path: {file}"),
        &format!("{{path: {file}}}"),
    )
}

/// `text` with `item` (one line, e.g. `{name: "acme/api", newTag: "2.0"}`)
/// added to its top-level `images:` list, which is created when missing.
pub(crate) fn add_image(text: &str, item: &str) -> Result<Option<String>, String> {
    add_to_list(text, "images", item, item, item)
}

/// Why `text` cannot be edited with confidence at all: the top-level `key`
/// appears more than once (YAML parsers disagree on which wins, so a line
/// added to one may be ignored), or a merge key `<<:` may bring in another
/// copy of it. `None` when neither is there. Such a file must be fixed by a
/// person; callers report an error, never a silent success.
pub(crate) fn ambiguous(text: &str, key: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().map(strip_comment).collect();
    let count = lines
        .iter()
        .filter(|l| {
            let l = l.trim_end();
            [format!("{key}:"), format!("\"{key}\":"), format!("'{key}':")]
                .iter()
                .any(|head| {
                    l.strip_prefix(head.as_str())
                        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
                })
        })
        .count();
    if count > 1 {
        return Some(format!(
            "it has {count} top-level `{key}:` keys; YAML tools disagree on which one counts. Merge them into one"
        ));
    }
    let merge = lines.iter().any(|l| {
        let compact: String = l.chars().filter(|c| !c.is_whitespace()).collect();
        ["<<:", "\"<<\":", "'<<':"].iter().any(|m| compact.contains(m))
    });
    merge.then(|| {
        "it uses a YAML merge key (`<<:`), which may bring in another list than the one an edit would change. Expand the merge by hand".to_string()
    })
}

/// Adds `item` (block style) or `flow_item` (flow style) to the top-level
/// list `key`, unless an item reading `entry` is there.
fn add_to_list(
    text: &str,
    key: &str,
    entry: &str,
    item: &str,
    flow_item: &str,
) -> Result<Option<String>, String> {
    if let Some(reason) = ambiguous(text, key) {
        return Err(reason);
    }
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let head = format!("{key}:");
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let Some(key) = key_line(&lines, &head) else {
        // No `resources:` at all: append one.
        let mut out = text.to_string();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push_str(nl);
        }
        out.push_str(&format!("{head}{nl}{}- {item}{nl}", guess_indent(&lines)));
        return Ok(Some(out));
    };
    let offset: usize = lines[..key].iter().map(|l| l.len()).sum();
    let value = strip_comment(lines[key][head.len()..].trim_end_matches(['\r', '\n'])).trim();
    if value.starts_with('[') {
        return flow(text, offset + head.len(), entry, flow_item, nl);
    }
    if !(value.is_empty() || value == "null" || value == "~") {
        return Err(format!("{head} is {value:?}, not a list this edit can extend"));
    }
    let list = block_list(&lines, key, entry);
    if list.present {
        return Ok(None);
    }
    Ok(Some(match list.last_item {
        Some(i) => {
            let indent = " ".repeat(list.item_indent.unwrap_or(2));
            let end: usize = lines[..=i].iter().map(|l| l.len()).sum();
            insert_line(text, end, &format!("{indent}- {item}"), nl)
        }
        None => under_key(text, &lines, (key, offset), head.len(), item, nl),
    }))
}

/// The line of the top-level `head` (`resources:`) key, if any.
fn key_line(lines: &[&str], head: &str) -> Option<usize> {
    lines.iter().position(|l| {
        l.strip_prefix(head)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n', '#']))
    })
}

/// What the block list under the key on line `key` holds, as far as adding
/// to it goes.
struct BlockList {
    /// The last line that belongs to the list (item, continuation or comment).
    last_item: Option<usize>,
    /// The column of its `- `.
    item_indent: Option<usize>,
    /// An item reads as the entry being added.
    present: bool,
}

/// Reads the block list (or nothing yet) under the key on line `key`.
fn block_list(lines: &[&str], key: usize, entry: &str) -> BlockList {
    let mut list = BlockList {
        last_item: None,
        item_indent: None,
        present: false,
    };
    for (i, line) in lines.iter().enumerate().skip(key + 1) {
        let body = line.trim_end_matches(['\r', '\n']);
        let trimmed = body.trim_start();
        let indent = body.len() - trimmed.len();
        if trimmed.is_empty() {
            continue;
        }
        if trimmed.starts_with('#') {
            // A comment indented like the items (e.g. a commented-out entry)
            // belongs to the list; one further left introduces what follows.
            if list.item_indent.is_some_and(|at| at > 0 && indent >= at) {
                list.last_item = Some(i);
            }
            continue;
        }
        let is_item = trimmed == "-" || trimmed.starts_with("- ");
        match list.item_indent {
            None if is_item => list.item_indent = Some(indent),
            None => break,
            Some(at) if is_item && indent == at => {}
            // A continuation of the previous item.
            Some(at) if indent > at => {
                list.last_item = Some(i);
                continue;
            }
            Some(_) => break,
        }
        let listed = unquote(strip_comment(trimmed.trim_start_matches('-')).trim());
        list.present |= same_entry(&listed, entry);
        list.last_item = Some(i);
    }
    list
}

/// `text` with `line` inserted at byte `end` (the end of a line, or of the
/// text), line endings kept as `nl`.
fn insert_line(text: &str, end: usize, line: &str, nl: &str) -> String {
    let mut out = String::with_capacity(text.len() + line.len() + 8);
    out.push_str(&text[..end]);
    if !text[..end].ends_with('\n') {
        out.push_str(nl);
    }
    out.push_str(line);
    if end < text.len() {
        out.push_str(nl);
    }
    out.push_str(&text[end..]);
    if end == text.len() {
        out.push_str(nl);
    }
    out
}

/// `text` with a first item right under the key on line `key` (at byte
/// `offset`, `head_len` bytes long) that has no items (or `null`): the value
/// goes, a comment after it stays.
fn under_key(
    text: &str,
    lines: &[&str],
    (key, offset): (usize, usize),
    head_len: usize,
    item: &str,
    nl: &str,
) -> String {
    let key_end = offset + lines[key].len();
    let mut out = String::with_capacity(text.len() + item.len() + 8);
    out.push_str(&text[..offset + head_len]);
    let after_head = &lines[key][head_len..];
    let comment = after_head
        .trim_end_matches(['\r', '\n'])
        .find('#')
        .map(|at| format!(" {}", after_head[at..].trim_end_matches(['\r', '\n'])))
        .unwrap_or_default();
    out.push_str(&comment);
    out.push_str(nl);
    out.push_str(&format!("{}- {item}{nl}", guess_indent(lines)));
    out.push_str(&text[key_end..]);
    out
}

/// `text` with `entry` (or an equivalent spelling: `web`, `./web`, `web/`)
/// taken out of its top-level `resources:` list, the inverse of
/// [`add_resource`]: the item's line (or flow item) goes, every other byte
/// stays. `Ok(None)` when the entry is not listed.
pub(crate) fn remove_resource(text: &str, entry: &str) -> Result<Option<String>, String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let Some(key) = key_line(&lines, "resources:") else {
        return Ok(None);
    };
    let offset: usize = lines[..key].iter().map(|l| l.len()).sum();
    let value = strip_comment(lines[key]["resources:".len()..].trim_end_matches(['\r', '\n'])).trim();
    if value.starts_with('[') {
        let open = offset + lines[key].find('[').ok_or("no [")?;
        return remove_from_flow(text, open, entry);
    }
    let (hit, items) = find_block_item(&lines[key + 1..], offset + lines[key].len(), entry);
    let Some((start, len)) = hit else {
        return Ok(None);
    };
    let mut out = format!("{}{}", &text[..start], &text[start + len..]);
    if items == 1 {
        // The list is now empty: say so, rather than leave `resources:` null.
        let key_end = offset + "resources:".len();
        out.insert_str(key_end, " []");
    }
    Ok(Some(out))
}

/// `text` without `entry` in the flow list opening at byte `open`.
fn remove_from_flow(text: &str, open: usize, entry: &str) -> Result<Option<String>, String> {
    let close = open
        + text[open..]
            .find(']')
            .ok_or("resources: has an unclosed flow list")?;
    let inner = &text[open + 1..close];
    let parts = split_flow(inner);
    let kept: Vec<&str> = parts
        .iter()
        .copied()
        .filter(|p| !same_entry(&unquote(strip_comment(p).trim()), entry))
        .collect();
    if kept.len() == parts.len() {
        return Ok(None);
    }
    let joined = kept
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    Ok(Some(format!("{}{joined}{}", &text[..open + 1], &text[close..])))
}

/// In the block list on `lines` (starting at byte `at` of the text): the
/// byte range `(start, len)` of the first item that reads as `entry`, and
/// how many items the list has.
fn find_block_item(lines: &[&str], mut at: usize, entry: &str) -> (Option<(usize, usize)>, usize) {
    let mut item_indent: Option<usize> = None;
    let mut items = 0;
    let mut hit: Option<(usize, usize)> = None;
    for line in lines {
        let body = line.trim_end_matches(['\r', '\n']);
        let trimmed = body.trim_start();
        let indent = body.len() - trimmed.len();
        let is_item = trimmed == "-" || trimmed.starts_with("- ");
        if !trimmed.is_empty() && !trimmed.starts_with('#') {
            match item_indent {
                None if is_item => item_indent = Some(indent),
                Some(i) if is_item && indent == i => {}
                Some(i) if indent > i => {
                    at += line.len();
                    continue;
                }
                _ => break,
            }
            items += 1;
            let listed = unquote(strip_comment(trimmed.trim_start_matches('-')).trim());
            if hit.is_none() && same_entry(&listed, entry) {
                hit = Some((at, line.len()));
            }
        }
        at += line.len();
    }
    (hit, items)
}

/// Adds to a flow list starting at or after `from` (`[a, b]`, maybe over lines).
fn flow(text: &str, from: usize, entry: &str, item: &str, nl: &str) -> Result<Option<String>, String> {
    let open = from + text[from..].find('[').ok_or("no [")?;
    let mut quote: Option<char> = None;
    let mut close = None;
    for (i, c) in text[open + 1..].char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '{') => return Err("resources: holds a nested flow collection".into()),
            (None, ']') => {
                close = Some(open + 1 + i);
                break;
            }
            _ => {}
        }
    }
    let close = close.ok_or("resources: has an unclosed flow list")?;
    let inner = &text[open + 1..close];
    let items: Vec<String> = split_flow(inner)
        .into_iter()
        .map(|s| unquote(strip_comment(s).trim()))
        .filter(|s| !s.is_empty())
        .collect();
    if items.iter().any(|s| same_entry(s, entry)) {
        return Ok(None);
    }
    let mut out = String::with_capacity(text.len() + item.len() + 4);
    if items.is_empty() {
        out.push_str(&text[..open + 1]);
        out.push_str(item);
        out.push_str(&text[close..]);
        return Ok(Some(out));
    }
    // After the last item's last character, keeping whatever follows it.
    let last = open + 1 + inner.trim_end().trim_end_matches(',').trim_end().len();
    out.push_str(&text[..last]);
    if text[last..close].contains('\n') {
        let line_start = text[..last].rfind('\n').map_or(0, |i| i + 1);
        let indent: String = text[line_start..].chars().take_while(|c| *c == ' ').collect();
        out.push_str(&format!(",{nl}{indent}{item}"));
    } else {
        out.push_str(&format!(", {item}"));
    }
    out.push_str(&text[last..]);
    Ok(Some(out))
}

/// Splits flow-list content at top-level commas.
fn split_flow(inner: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut quote = None;
    let mut start = 0;
    for (i, c) in inner.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, ',') => {
                out.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&inner[start..]);
    out
}

/// The indentation of the file's first block-list item, or two spaces.
fn guess_indent(lines: &[&str]) -> String {
    lines
        .iter()
        .find_map(|l| {
            let trimmed = l.trim_start_matches(' ');
            (trimmed.starts_with("- ") && !l.starts_with("- ")).then(|| " ".repeat(l.len() - trimmed.len()))
        })
        .unwrap_or_else(|| "  ".to_string())
}

/// A listed entry as its text; a token [`scalar::unquote`] refuses is taken as written.
fn unquote(s: &str) -> String {
    let s = s.trim();
    scalar::unquote(s).map_or_else(|| s.to_string(), |t| t.into_owned())
}

fn same_entry(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.trim_start_matches("./").trim_end_matches('/').to_string();
    norm(a) == norm(b)
}

#[cfg(test)]
mod tests {
    #[test]
    fn duplicate_keys_and_merge_keys_are_refused() {
        for text in [
            "resources:\n- a\nresources:\n- b\n",
            "resources: [a]\n\"resources\": [b]\n",
            "base: &b\n  resources: [a]\n<<: *b\n",
            "kind: Kustomization\n<< : *b\nresources:\n- a\n",
        ] {
            let err = add_resource(text, "web").unwrap_err();
            assert!(
                err.contains("resources") || err.contains("<<:"),
                "{text:?}: {err}"
            );
            assert!(ambiguous(text, "resources").is_some(), "{text:?}");
        }
        // A comment or a nested key of the same name is not a second key.
        assert!(ambiguous(
            "resources:\n- a\n# resources:\nnested:\n  resources: []\n",
            "resources"
        )
        .is_none());
    }

    use super::*;

    #[test]
    fn entries_are_removed_keeping_everything_else() {
        let text = "# apps\nresources:\n  - web # the shop\n  - ./cache\n  - api\nnamespace: shop\n";
        assert_eq!(
            remove_resource(text, "cache").unwrap().unwrap(),
            "# apps\nresources:\n  - web # the shop\n  - api\nnamespace: shop\n"
        );
        assert_eq!(remove_resource(text, "db").unwrap(), None);
        let flow = "resources: [web, \"cache/\", api] # all\n";
        assert_eq!(
            remove_resource(flow, "cache").unwrap().unwrap(),
            "resources: [web, api] # all\n"
        );
        assert_eq!(remove_resource("kind: Kustomization\n", "x").unwrap(), None);
        assert_eq!(
            remove_resource("resources: # apps\n  - web\nnamespace: a\n", "web")
                .unwrap()
                .unwrap(),
            "resources: [] # apps\nnamespace: a\n"
        );
    }

    fn add(text: &str) -> String {
        add_resource(text, "redis").unwrap().unwrap()
    }

    #[test]
    fn block_lists_keep_comments_and_indentation() {
        let text = "# apps\nresources:\n    - web # the shop\n    # - old\n    - ../base/x\n    # - retired\n\n# patches\npatches: []\n";
        assert_eq!(
            add(text),
            "# apps\nresources:\n    - web # the shop\n    # - old\n    - ../base/x\n    # - retired\n    - redis\n\n# patches\npatches: []\n"
        );
        let zero = "resources:\n- a\n- b\nnamespace: x\n";
        assert_eq!(add(zero), "resources:\n- a\n- b\n- redis\nnamespace: x\n");
        assert_eq!(add("resources:\n  - a"), "resources:\n  - a\n  - redis\n");
    }

    #[test]
    fn crlf_files_stay_crlf() {
        assert_eq!(
            add("resources:\r\n  - a\r\nkind: K\r\n"),
            "resources:\r\n  - a\r\n  - redis\r\nkind: K\r\n"
        );
    }

    #[test]
    fn flow_lists_get_one_more_item() {
        assert_eq!(
            add("resources: [a, \"b\"] # x\n"),
            "resources: [a, \"b\", redis] # x\n"
        );
        assert_eq!(add("resources: []\n"), "resources: [redis]\n");
        assert_eq!(
            add("resources: [\n  a,\n  b,\n]\n"),
            "resources: [\n  a,\n  b,\n  redis,\n]\n"
        );
    }

    #[test]
    fn missing_or_empty_key_is_added() {
        assert_eq!(
            add("kind: Kustomization\n"),
            "kind: Kustomization\nresources:\n  - redis\n"
        );
        assert_eq!(
            add("kind: Kustomization"),
            "kind: Kustomization\nresources:\n  - redis\n"
        );
        assert_eq!(
            add("resources: # none yet\nkind: K\n"),
            "resources: # none yet\n  - redis\nkind: K\n"
        );
        assert_eq!(add("resources:\n"), "resources:\n  - redis\n");
    }

    #[test]
    fn an_empty_key_after_other_keys_keeps_its_comment() {
        assert_eq!(
            add("kind: Kustomization\nresources: # none yet\nnamespace: x\n"),
            "kind: Kustomization\nresources: # none yet\n  - redis\nnamespace: x\n"
        );
    }

    #[test]
    fn listed_entries_are_left_alone() {
        for text in [
            "resources:\n  - ./redis/\n",
            "resources: ['redis']\n",
            "resources:\n  - \"redis\" # c\n",
        ] {
            assert_eq!(add_resource(text, "redis").unwrap(), None, "{text}");
        }
    }

    #[test]
    fn unreadable_resources_are_refused() {
        assert!(add_resource("resources: *list\n", "redis").is_err());
        assert!(add_resource("resources: [a, [b]]\n", "redis").is_err());
    }
}
