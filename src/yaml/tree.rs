//! Parsed documents as an arena tree, and its representation for `jsonschema`.
//!
//! A resource is validated once and thrown away, so building a
//! `serde_json::Value` (an allocation per key, string and container, a hash
//! table per object) costs more than validating it. A [`Tree`] holds a whole
//! document in three vectors, and its strings borrow from the input text
//! wherever the YAML needs no unescaping. `jsonschema` validates it directly
//! through [`TreeJson`]; a `Value` is only built for error reports and CRDs.
//!
//! The [`Builder`] applies the strict rules as objects close: a repeated key
//! is recorded as a duplicate (the last value wins, in the first key's
//! place), and null-valued fields are dropped.

use std::borrow::Cow;
use std::collections::HashMap;

use jsonschema::json::{Array, Json, Node, NodeIdentity, Object};
use jsonschema::types::JsonType;
use serde_json::{Map, Number, Value};

use super::parse::Duplicate;

/// One node of a [`Tree`]; containers point at runs of `elements`/`members`.
#[derive(Debug, Clone)]
pub(crate) enum Item<'s> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'s, str>),
    Array { start: u32, len: u32 },
    Object { start: u32, len: u32 },
}

/// A parsed document.
#[derive(Debug, Default)]
pub(crate) struct Tree<'s> {
    items: Vec<Item<'s>>,
    elements: Vec<u32>,
    members: Vec<(Cow<'s, str>, u32)>,
    /// Read by the fast parser with no null field dropped and no key
    /// repeated: [`Tree::to_value`] of the root is then the very value
    /// serde-saphyr reads from the text (`Manifests` relies on it).
    exact: bool,
}

impl<'s> Tree<'s> {
    /// The tree of `value`, and its root.
    pub(crate) fn from_value(value: Value) -> (Tree<'s>, u32) {
        let mut builder = Builder::default();
        let root = builder.value(value);
        (builder.finish(), root)
    }

    /// A one-item tree's value, for tests.
    #[cfg(test)]
    pub(crate) fn from_item(item: Item<'s>) -> Value {
        let mut builder = Builder::default();
        let root = builder.scalar(item);
        builder.finish().to_value(root)
    }

    fn members_of(&self, object: u32) -> &[(Cow<'s, str>, u32)] {
        match self.items[object as usize] {
            Item::Object { start, len } => &self.members[start as usize..(start + len) as usize],
            _ => &[],
        }
    }

    /// The elements of `array`, if it is one.
    pub(crate) fn elements(&self, array: u32) -> Option<&[u32]> {
        match self.items[array as usize] {
            Item::Array { start, len } => Some(&self.elements[start as usize..(start + len) as usize]),
            _ => None,
        }
    }

    /// Member `key` of `object`.
    pub(crate) fn get(&self, object: u32, key: &str) -> Option<u32> {
        self.members_of(object)
            .iter()
            .find(|(k, _)| same_key(k, key))
            .map(|&(_, v)| v)
    }

    /// See the `exact` field.
    pub(crate) fn is_exact(&self) -> bool {
        self.exact
    }

    pub(crate) fn is_object(&self, node: u32) -> bool {
        matches!(self.items[node as usize], Item::Object { .. })
    }

    pub(crate) fn as_str(&self, node: u32) -> Option<&str> {
        match &self.items[node as usize] {
            Item::String(s) => Some(s),
            _ => None,
        }
    }

    /// What `node` is, for messages: `a mapping`, `a string`, ….
    pub(crate) fn describe(&self, node: u32) -> &'static str {
        match self.items[node as usize] {
            Item::Null => "null",
            Item::Bool(_) => "a boolean",
            Item::Number(_) => "a number",
            Item::String(_) => "a string",
            Item::Array { .. } => "a sequence",
            Item::Object { .. } => "a mapping",
        }
    }

    /// `node` as a `serde_json::Value`, for reports and CRD schemas.
    pub(crate) fn to_value(&self, node: u32) -> Value {
        match &self.items[node as usize] {
            Item::Null => Value::Null,
            Item::Bool(b) => Value::Bool(*b),
            Item::Number(n) => Value::Number(n.clone()),
            Item::String(s) => Value::String(s.to_string()),
            Item::Array { .. } => Value::Array(
                self.elements(node)
                    .unwrap_or_default()
                    .iter()
                    .map(|&e| self.to_value(e))
                    .collect(),
            ),
            Item::Object { .. } => Value::Object(
                self.members_of(node)
                    .iter()
                    .map(|(k, v)| (k.to_string(), self.to_value(*v)))
                    .collect::<Map<_, _>>(),
            ),
        }
    }

    /// `node`, ready for a `jsonschema` validator.
    pub(crate) fn node(&self, node: u32) -> TreeNode<'_> {
        TreeNode {
            tree: self,
            idx: node,
        }
    }
}

/// Builds a [`Tree`] bottom-up: children first, then the container that holds them.
#[derive(Default)]
pub(crate) struct Builder<'s> {
    tree: Tree<'s>,
    /// Members of the objects being built, innermost last.
    open_members: Vec<(Cow<'s, str>, u32)>,
    /// Elements of the arrays being built, innermost last.
    open_elements: Vec<u32>,
    /// Scratch for `end_object`: kept members (indices into the open run), in order.
    slots: Vec<Option<usize>>,
    /// `end_object` dropped a null-valued field.
    dropped_null: bool,
}

/// Key equality, with cheap checks before the comparison proper.
pub(crate) fn same_key(a: &str, b: &str) -> bool {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    x.len() == y.len() && x.first() == y.first() && x.last() == y.last() && x == y
}

/// Above this many members, `end_object` finds repeated keys by hashing.
const LINEAR_KEYS: usize = 32;

/// Which members of an object (`open`, whose values are in `items`)
/// survive: in `slots`, in first-seen key order, the position of each key's
/// last non-null value. A repeated key goes to `dups`. True when a null
/// value was dropped.
#[inline]
fn keep_last(
    items: &[Item<'_>],
    open: &[(Cow<'_, str>, u32)],
    slots: &mut Vec<Option<usize>>,
    dups: &mut Vec<Duplicate>,
) -> bool {
    slots.clear();
    let mut nulls: Vec<usize> = Vec::new();
    // For large objects: key -> position in `slots`, or `None` when last seen null.
    let mut index: Option<HashMap<&str, Option<usize>>> = (open.len() > LINEAR_KEYS).then(HashMap::new);
    for (i, (key, value)) in open.iter().enumerate() {
        let is_null = matches!(items[*value as usize], Item::Null);
        let (slot, was_null) = match &index {
            Some(index) => match index.get(key.as_ref()) {
                Some(Some(p)) => (Some(*p), false),
                Some(None) => (None, true),
                None => (None, false),
            },
            None => (
                slots
                    .iter()
                    .position(|s| s.is_some_and(|j| same_key(&open[j].0, key))),
                !nulls.is_empty() && nulls.iter().any(|&j| same_key(&open[j].0, key)),
            ),
        };
        if slot.is_some() || was_null {
            dups.push(Duplicate {
                path: Vec::new(),
                key: key.to_string(),
            });
        }
        match (slot, is_null) {
            (Some(p), true) => {
                slots[p] = None;
                nulls.push(i);
            }
            (Some(p), false) => slots[p] = Some(i),
            (None, true) => nulls.push(i),
            (None, false) => slots.push(Some(i)),
        }
        if let Some(index) = &mut index {
            let state = if is_null {
                None
            } else {
                Some(slot.unwrap_or(slots.len() - 1))
            };
            index.insert(key.as_ref(), state);
        }
    }
    !nulls.is_empty()
}

impl<'s> Builder<'s> {
    pub(crate) fn with_capacity(items: usize) -> Builder<'s> {
        let mut builder = Builder::default();
        builder.tree.items.reserve(items);
        builder.tree.members.reserve(items);
        builder
    }

    pub(crate) fn finish(self) -> Tree<'s> {
        self.tree
    }

    /// The fast parser's [`Builder::finish`]: the tree is exact unless a
    /// null field was dropped or `duplicates` were found.
    pub(crate) fn finish_read(self, duplicates: bool) -> Tree<'s> {
        let exact = !self.dropped_null && !duplicates;
        Tree { exact, ..self.tree }
    }

    pub(crate) fn scalar(&mut self, item: Item<'s>) -> u32 {
        self.tree.items.push(item);
        (self.tree.items.len() - 1) as u32
    }

    /// Where the members of a new object start; pass it to [`Builder::end_object`].
    pub(crate) fn open_object(&self) -> usize {
        self.open_members.len()
    }

    pub(crate) fn member(&mut self, key: Cow<'s, str>, value: u32) {
        self.open_members.push((key, value));
    }

    /// Closes the object opened at `start`: repeated keys go to `dups`,
    /// null values are dropped.
    pub(crate) fn end_object(&mut self, start: usize, dups: &mut Vec<Duplicate>) -> u32 {
        let Builder {
            tree,
            open_members,
            slots,
            dropped_null,
            ..
        } = self;
        *dropped_null |= keep_last(&tree.items, &open_members[start..], slots, dups);
        let member_start = tree.members.len() as u32;
        for &j in slots.iter().flatten() {
            let (key, value) = &mut open_members[start + j];
            tree.members.push((std::mem::take(key), *value));
        }
        open_members.truncate(start);
        let len = tree.members.len() as u32 - member_start;
        self.scalar(Item::Object {
            start: member_start,
            len,
        })
    }

    /// Where the elements of a new array start; pass it to [`Builder::end_array`].
    pub(crate) fn open_array(&self) -> usize {
        self.open_elements.len()
    }

    pub(crate) fn element(&mut self, value: u32) {
        self.open_elements.push(value);
    }

    pub(crate) fn end_array(&mut self, start: usize) -> u32 {
        let element_start = self.tree.elements.len() as u32;
        self.tree.elements.extend(self.open_elements.drain(start..));
        let len = self.tree.elements.len() as u32 - element_start;
        self.scalar(Item::Array {
            start: element_start,
            len,
        })
    }

    /// Adds `value` (already strict: no duplicates, nulls dropped by its parser).
    pub(crate) fn value(&mut self, value: Value) -> u32 {
        match value {
            Value::Null => self.scalar(Item::Null),
            Value::Bool(b) => self.scalar(Item::Bool(b)),
            Value::Number(n) => self.scalar(Item::Number(n)),
            Value::String(s) => self.scalar(Item::String(Cow::Owned(s))),
            Value::Array(items) => {
                let start = self.open_array();
                for item in items {
                    let item = self.value(item);
                    self.element(item);
                }
                self.end_array(start)
            }
            Value::Object(map) => {
                let start = self.open_object();
                for (key, item) in map {
                    let item = self.value(item);
                    self.member(Cow::Owned(key), item);
                }
                self.end_object(start, &mut Vec::new())
            }
        }
    }
}

/// The [`Tree`] representation for `jsonschema` validators.
pub(crate) struct TreeJson;

/// A node of a [`Tree`].
#[derive(Clone, Copy)]
pub(crate) struct TreeNode<'a> {
    tree: &'a Tree<'a>,
    idx: u32,
}

impl Json for TreeJson {
    type Node<'a> = TreeNode<'a>;
    type PreparedKey = Box<str>;
    // Lookups scan the members, so a pass over them never costs more.
    const KEYS_PER_LOOKUP: usize = 1 << 20;
    type StringBuffer = Tree<'static>;

    fn prepare_key(key: &str) -> Box<str> {
        key.into()
    }

    fn with_string_node<T>(buffer: &mut Tree<'static>, string: &str, f: impl FnOnce(TreeNode<'_>) -> T) -> T {
        buffer.items.clear();
        buffer.items.push(Item::String(Cow::Owned(string.to_owned())));
        f(TreeNode { tree: buffer, idx: 0 })
    }
}

impl<'a> TreeNode<'a> {
    fn item(&self) -> &'a Item<'a> {
        &self.tree.items[self.idx as usize]
    }
}

impl<'a> Node<'a, TreeJson> for TreeNode<'a> {
    type Object = Members<'a>;
    type Array = Elements<'a>;
    type Number = &'a Number;

    fn as_object(&self) -> Option<Members<'a>> {
        matches!(self.item(), Item::Object { .. }).then(|| Members {
            tree: self.tree,
            members: self.tree.members_of(self.idx),
        })
    }

    fn as_array(&self) -> Option<Elements<'a>> {
        self.tree.elements(self.idx).map(|elements| Elements {
            tree: self.tree,
            elements,
        })
    }

    fn as_string(&self) -> Option<Cow<'a, str>> {
        match self.item() {
            Item::String(s) => Some(Cow::Borrowed(s.as_ref())),
            _ => None,
        }
    }

    fn as_number(&self) -> Option<&'a Number> {
        match self.item() {
            Item::Number(n) => Some(n),
            _ => None,
        }
    }

    fn as_boolean(&self) -> Option<bool> {
        match self.item() {
            Item::Bool(b) => Some(*b),
            _ => None,
        }
    }

    fn is_null(&self) -> bool {
        matches!(self.item(), Item::Null)
    }

    fn json_type(&self) -> JsonType {
        match self.item() {
            Item::Null => JsonType::Null,
            Item::Bool(_) => JsonType::Boolean,
            Item::Number(_) => JsonType::Number,
            Item::String(_) => JsonType::String,
            Item::Array { .. } => JsonType::Array,
            Item::Object { .. } => JsonType::Object,
        }
    }

    fn to_value(&self) -> Cow<'a, Value> {
        Cow::Owned(self.tree.to_value(self.idx))
    }

    fn identity(&self) -> Option<NodeIdentity> {
        Some(NodeIdentity::tagged(
            std::ptr::from_ref(self.tree) as usize,
            self.idx,
        ))
    }
}

/// An object of a [`Tree`].
pub(crate) struct Members<'a> {
    tree: &'a Tree<'a>,
    members: &'a [(Cow<'a, str>, u32)],
}

pub(crate) struct MembersIter<'a> {
    tree: &'a Tree<'a>,
    iter: std::slice::Iter<'a, (Cow<'a, str>, u32)>,
}

impl<'a> Iterator for MembersIter<'a> {
    type Item = (&'a str, TreeNode<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        self.iter
            .next()
            .map(|(key, idx)| (key.as_ref(), self.tree.node(*idx)))
    }
}

impl<'a> Object<'a, TreeJson> for Members<'a> {
    type Node = TreeNode<'a>;
    type MemberName = &'a str;
    type MembersIter = MembersIter<'a>;

    fn len(&self) -> usize {
        self.members.len()
    }

    fn get(&self, key: &Box<str>) -> Option<TreeNode<'a>> {
        self.members
            .iter()
            .find(|(k, _)| same_key(k, key))
            .map(|(_, idx)| self.tree.node(*idx))
    }

    fn members(&self) -> MembersIter<'a> {
        MembersIter {
            tree: self.tree,
            iter: self.members.iter(),
        }
    }
}

/// An array of a [`Tree`].
pub(crate) struct Elements<'a> {
    tree: &'a Tree<'a>,
    elements: &'a [u32],
}

pub(crate) struct ElementsIter<'a> {
    tree: &'a Tree<'a>,
    iter: std::slice::Iter<'a, u32>,
}

impl<'a> Iterator for ElementsIter<'a> {
    type Item = TreeNode<'a>;

    fn next(&mut self) -> Option<TreeNode<'a>> {
        self.iter.next().map(|idx| self.tree.node(*idx))
    }
}

impl<'a> Array<'a, TreeJson> for Elements<'a> {
    type Node = TreeNode<'a>;
    type ElementsIter = ElementsIter<'a>;

    fn len(&self) -> usize {
        self.elements.len()
    }

    fn elements(&self) -> ElementsIter<'a> {
        ElementsIter {
            tree: self.tree,
            iter: self.elements.iter(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_round_trip() {
        let value = json!({ "a": [1, "x", true, { "b": -2.5 }], "c": {} });
        let (tree, root) = Tree::from_value(value.clone());
        assert_eq!(tree.to_value(root), value);
        assert_eq!(tree.get(root, "c").map(|c| tree.is_object(c)), Some(true));
    }

    fn object(entries: &[(&str, Value)]) -> (Value, Vec<String>) {
        let mut builder = Builder::default();
        let start = builder.open_object();
        for (key, value) in entries {
            let value = builder.value(value.clone());
            builder.member(Cow::Owned((*key).to_owned()), value);
        }
        let mut dups = Vec::new();
        let root = builder.end_object(start, &mut dups);
        let tree = builder.finish();
        (tree.to_value(root), dups.into_iter().map(|d| d.key).collect())
    }

    #[test]
    fn repeated_keys_are_duplicates_and_the_last_value_wins() {
        let (value, dups) = object(&[
            ("a", json!(1)),
            ("b", json!(2)),
            ("a", json!(3)),
            ("c", Value::Null),
            ("c", json!(4)),
            ("b", Value::Null),
        ]);
        assert_eq!(value, json!({ "a": 3, "c": 4 }));
        assert_eq!(dups, ["a", "c", "b"]);
    }

    #[test]
    fn large_objects_find_duplicates_too() {
        let mut entries: Vec<(String, Value)> = (0..100).map(|i| (format!("k{i}"), json!(i))).collect();
        entries.push(("k7".into(), json!("again")));
        entries.push(("k8".into(), Value::Null));
        entries.push(("k8".into(), json!("back")));
        let borrowed: Vec<(&str, Value)> = entries.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        let (value, dups) = object(&borrowed);
        assert_eq!(dups, ["k7", "k8", "k8"]);
        assert_eq!(value["k7"], json!("again"));
        assert_eq!(value["k8"], json!("back"));
        assert_eq!(value.as_object().unwrap().len(), 100);
    }

    #[test]
    fn validators_read_trees() {
        let schema = json!({
            "type": "object",
            "properties": { "port": { "type": "integer" }, "tags": { "type": "array", "items": { "type": "string" } } },
            "required": ["port"],
            "additionalProperties": false
        });
        let validator = jsonschema::options_for::<TreeJson>().build(&schema).unwrap();
        let (good, root) = Tree::from_value(json!({ "port": 80, "tags": ["a"] }));
        assert!(validator.is_valid(good.node(root)));
        let (bad, root) = Tree::from_value(json!({ "port": "x", "tags": [1], "extra": 1 }));
        let errors: Vec<String> = validator
            .iter_errors(bad.node(root))
            .map(|e| e.instance_path().as_str().to_owned())
            .collect();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors.contains(&"/port".to_owned()));
    }
}
