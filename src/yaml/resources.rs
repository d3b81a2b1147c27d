//! From documents to resources: each document parsed (by [`super::parse`])
//! into a tree, and a `kind: List` (or a typed `…List` such as
//! `RoleBindingList`, nested too) expanded into its items. Blank and
//! comment-only documents are not resources; a document that is not a
//! mapping is a broken one. This is the one Kubernetes notion in `yaml`,
//! kept here so that `validate` and the `repo` index read manifests the same
//! way from below; it does not look at schemas or at what a kind means.

use std::sync::Arc;

use super::parse::Document;
use super::tree::Tree;

/// A resource as parsed, before any schema is consulted.
#[derive(Debug)]
pub(crate) enum Parsed<'s> {
    /// A mapping at `root` of `tree` (the items of a `List` share theirs),
    /// with the duplicate keys found in it as `(pointer, key)`.
    Object {
        tree: Arc<Tree<'s>>,
        root: u32,
        duplicates: Vec<(String, String)>,
        origin: Origin<'s>,
    },
    /// Not a resource: a syntax error or a document that is not a mapping.
    Broken(String),
}

/// Where an object was read: its document (its text within the file) and
/// the object's pointer in the document (`/items/0` for an item of a `List`).
/// The document's line in the file is counted only when a message needs it:
/// counting it for every document would make a stream of many documents
/// quadratic.
#[derive(Debug, Clone)]
pub(crate) struct Origin<'s> {
    doc: Document<'s>,
    at: String,
}

impl Origin<'_> {
    /// The line of the file where `key` is repeated in the mapping at
    /// `pointer` of the object, when the YAML there is block style.
    pub(crate) fn repeated_key_line(&self, pointer: &str, key: &str) -> Option<usize> {
        let pointer = format!("{}{pointer}", self.at);
        super::edit::repeated_key_line(self.doc.text, &pointer, key).map(|i| self.doc.line() + i)
    }
}

/// Parses one document into the resources it holds (several for a `List`).
pub(crate) fn resources(doc: Document<'_>) -> Vec<Parsed<'_>> {
    read(doc).0
}

/// [`resources`], and whether the document is exact: read by the fast
/// parser into at most one resource whose tree is exact (see `Tree`), so
/// that serde-saphyr would read the same value from its text.
pub(crate) fn read(doc: Document<'_>) -> (Vec<Parsed<'_>>, bool) {
    let super::parse::Parsed {
        tree,
        root,
        duplicates,
    } = match super::parse::document(doc) {
        Ok(parsed) => parsed,
        Err(message) => return (vec![Parsed::Broken(message)], false),
    };
    let exact = tree.is_exact();
    if !tree.is_object(root) {
        if tree.describe(root) == "null" {
            return (Vec::new(), exact);
        }
        let message = format!(
            "not a Kubernetes resource: expected a mapping, found {}",
            tree.describe(root)
        );
        return (vec![Parsed::Broken(message)], false);
    }
    let tree = Arc::new(tree);
    let origin = Origin {
        doc,
        at: String::new(),
    };
    if !is_list(&tree, root) {
        let parsed = Parsed::Object {
            tree,
            root,
            duplicates,
            origin,
        };
        return (vec![parsed], exact);
    }
    let mut out = Vec::new();
    expand(&tree, root, &origin, &duplicates, &mut out);
    (out, false)
}

/// True for a `kind: List` or any `…List` kind (`RoleBindingList`,
/// `DeploymentList`) that holds `items`. kubectl flattens every object with
/// `items` (nested lists too, cli-runtime's `FlattenListVisitor`); kubeconform
/// expands only `kind: List`, one level, and looks a typed list's own schema
/// up. We follow kubectl, for `…List` kinds only, so a custom resource with a
/// top-level `items` field stays one resource.
fn is_list(tree: &Tree<'_>, node: u32) -> bool {
    let kind = tree.get(node, "kind").and_then(|k| tree.as_str(k));
    kind.is_some_and(|k| k.ends_with("List")) && (kind == Some("List") || tree.get(node, "items").is_some())
}

/// The resources at `node` (found at pointer `at`): the mapping itself, or
/// each item of a list, recursively for lists inside lists.
fn expand<'s>(
    tree: &Arc<Tree<'s>>,
    node: u32,
    origin: &Origin<'s>,
    duplicates: &[(String, String)],
    out: &mut Vec<Parsed<'s>>,
) {
    let at = origin.at.as_str();
    let own = |prefix: &str| -> Vec<(String, String)> {
        duplicates
            .iter()
            .filter_map(|(path, key)| {
                let rest = path.strip_prefix(prefix)?;
                (rest.is_empty() || rest.starts_with('/')).then(|| (rest.to_owned(), key.clone()))
            })
            .collect()
    };
    if !is_list(tree, node) {
        out.push(Parsed::Object {
            tree: Arc::clone(tree),
            root: node,
            duplicates: own(at),
            origin: origin.clone(),
        });
        return;
    }
    let items = match tree.get(node, "items") {
        None => &[][..],
        Some(items) => match tree.elements(items) {
            Some(items) => items,
            None => {
                out.push(Parsed::Broken(format!(
                    "List items must be a sequence, found {}",
                    tree.describe(items)
                )));
                return;
            }
        },
    };
    for (i, &item) in items.iter().enumerate() {
        if !tree.is_object(item) {
            out.push(Parsed::Broken(format!(
                "List item {i} is not a Kubernetes resource: expected a mapping, found {}",
                tree.describe(item)
            )));
            continue;
        }
        let origin = Origin {
            at: format!("{at}/items/{i}"),
            ..origin.clone()
        };
        expand(tree, item, &origin, duplicates, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn one(text: &str) -> Parsed<'_> {
        let mut all = resources(Document::whole(text));
        assert_eq!(all.len(), 1);
        all.remove(0)
    }

    /// The value and duplicates of a parsed object.
    fn object(parsed: &Parsed<'_>) -> (Value, Vec<(String, String)>) {
        match parsed {
            Parsed::Object {
                tree,
                root,
                duplicates,
                ..
            } => (tree.to_value(*root), duplicates.clone()),
            Parsed::Broken(message) => panic!("broken: {message}"),
        }
    }

    #[test]
    fn null_fields_are_dropped() {
        let (value, _) = object(&one("a: null\nb: ~\nc:\nd: [1, null]\n"));
        assert_eq!(value, json!({ "d": [1, null] }));
    }

    #[test]
    fn duplicate_keys_are_reported_with_their_path() {
        let text = "spec:\n  list:\n  - a: 1\n    a: 2\n  x: 1\n  x: null\n";
        let (value, duplicates) = object(&one(text));
        assert_eq!(value["spec"]["list"][0]["a"], json!(2));
        assert_eq!(
            duplicates,
            [
                ("/spec".to_owned(), "x".to_owned()),
                ("/spec/list/0".to_owned(), "a".to_owned())
            ]
        );
    }

    #[test]
    fn json_duplicates_are_found_too() {
        let (_, duplicates) = object(&one(r#"{"a": {"b/c": {"k": 1, "k": 2}}}"#));
        assert_eq!(duplicates, [("/a/b~1c".to_owned(), "k".to_owned())]);
    }

    #[test]
    fn yaml_flow_mappings_still_parse_as_yaml() {
        assert!(matches!(one("{a: 1, b: [x]}"), Parsed::Object { .. }));
    }

    #[test]
    fn syntax_errors_name_the_line_in_the_file() {
        let file = "\n\n\n\n\n\na: [1,\n";
        let Parsed::Broken(message) = resources(Document::within(&file[6..], file)).remove(0) else {
            panic!("parsed")
        };
        assert!(message.contains("line 8"), "{message}");
    }

    #[test]
    fn lists_expand_into_items_with_their_duplicates() {
        let text = "kind: List\nitems:\n- kind: A\n- kind: B\n  kind: C\n- 3\n";
        let items = resources(Document::whole(text));
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
